#!/usr/bin/env bash
# The LXD benchmark: prepares LXD (scripts/lxd-host.sh), starts a platform of its own on a temporary data directory
# and free ports (as run.sh) with an LXD runtime (host lxd-bench) that new containers prefer, runs
# com.ecloud.compute.bench.LxdBench from bench/target/bench.jar against it and LXD's REST API, prints the figures,
# and stops the platform and removes everything it created (containers, LXD instances and volumes), also when
# interrupted.
#
#   bench/lxd.sh                        # 10 runs after 2 warm-ups, each way
#   RUNS=3 WARMUPS=1 bench/lxd.sh       # a quick look
#
# create -> running, BusyBox on tiny (amd64): POST /compute/containers, then GET every 10 ms until running (each
# container checked to be the LXD instance ecloud-<id>), against POST /1.0/instances + wait, PUT state start + wait
# on LXD's unix socket (same image, limits, raw.lxc and root disk as the runtime gives), and that plus the runtime's
# own extra LXD work (RAW_EXTRAS); interleaved; p50 / p90 / mean and the ratio platform/raw (goal <= 1.10).
#
# Environment: RUNS (10), WARMUPS (2), RAW_EXTRAS (true), PORT, KEEP_DATA=1, JAVA_OPTS (see platform.sh).
# Exit status 2: no platform container got running on LXD (the platform log is kept: <data>/ecloud.log).
# Needs root, LXD (set up by scripts/lxd-host.sh, which imports the builtin images from Docker the first time),
# curl, jq, Java 17 and Maven. The platform's default Docker runtime stays configured; it is not used.
set -euo pipefail

. "$(dirname "$0")/platform.sh"

LXD_SOCKET=/var/lib/lxd/unix.socket
LXD_HOST_NAME=lxd-bench

# not platform_check: nothing here needs the Docker engine (the platform's Docker runtime may be down meanwhile)
[ "$(id -u)" = 0 ] || die "needs root: LXD's socket is root's only"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
log "preparing LXD (scripts/lxd-host.sh)"
"$ROOT/scripts/lxd-host.sh" >&2 || die "scripts/lxd-host.sh failed"
for tool in curl jq; do command -v "$tool" >/dev/null || die "$tool is missing"; done
platform_build

# one LXD request; an async answer is waited for (bounded). Prints the sync metadata (or the operation's).
lxd_request() { # METHOD PATH [JSON]
  local reply operation body=()
  [ $# -ge 3 ] && body=(-H 'Content-Type: application/json' -d "$3")
  reply=$(curl -s --max-time 60 --unix-socket "$LXD_SOCKET" -X "$1" "${body[@]}" "http://lxd$2") || return 1
  operation=$(jq -r 'if .type == "async" then .operation else "" end' <<<"$reply")
  if [ -n "$operation" ]; then
    reply=$(curl -s --max-time 90 --unix-socket "$LXD_SOCKET" "http://lxd$operation/wait?timeout=60") || return 1
  fi
  jq -c '.metadata' <<<"$reply"
}

# names of the LXD instances and custom volumes this run made: the platform's (its platform id) and the raw ones
lxd_ours() { # instances|volumes
  local platform_id='' path
  [ -f "$DATA/state/platform-id" ] && platform_id=$(cat "$DATA/state/platform-id")
  case "$1" in
    instances) path=/1.0/instances?recursion=1 ;;
    volumes) path=/1.0/storage-pools/ecloud/volumes/custom?recursion=1 ;;
  esac
  lxd_request GET "$path" | jq -r --arg p "$platform_id" --arg r "$RUN_ID" \
    '.[]? | select(($p != "" and .config["user.ecloud.platform"] == $p) or .config["user.ecloud.bench.run"] == $r)
     | .name'
}

# the platform never removes containers when it stops: whatever an interrupted run left on LXD goes here
platform_cleanup_extra() {
  local name
  for name in $(lxd_ours instances); do
    lxd_request PUT "/1.0/instances/$name/state" '{"action":"stop","force":true,"timeout":30}' >/dev/null
    lxd_request DELETE "/1.0/instances/$name" >/dev/null
    log "removed LXD instance $name (left by an interrupted run)"
  done
  for name in $(lxd_ours volumes); do
    lxd_request DELETE "/1.0/storage-pools/ecloud/volumes/custom/$name" >/dev/null
    log "removed LXD volume $name"
  done
}

# the LXD runtime (a factory configuration) and the preference that puts new containers on it; the plain
# properties syntax of every other .cfg here (FileInstall reads a file with one untyped line as strings only, and
# the platform splits runtime.preference on commas, as a .cfg line gives it)
platform_configure() { # ETC_DIR
  cat >"$1/com.ecloud.compute.runtime.lxd-bench.cfg" <<EOF
host.name=$LXD_HOST_NAME
socket.path=$LXD_SOCKET
storage.pool=ecloud
EOF
  echo "runtime.preference=lxd" >>"$1/com.ecloud.compute.platform.cfg"
}

platform_prepare
USER_LXD=bench-$RUN_ID-lxd
BENCH_OWNERS=("$USER_LXD")
platform_start

# the LXD runtime must be up, under its configured name, before the first create (or it would land on Docker)
for _ in $(seq 1 60); do grep -q "LXD $LXD_HOST_NAME reached" "$DATA/ecloud.log" && break; sleep 0.5; done
grep -q "LXD $LXD_HOST_NAME reached" "$DATA/ecloud.log" \
  || { tail -n 40 "$DATA/ecloud.log" >&2; die "the LXD runtime $LXD_HOST_NAME did not report LXD reached"; }
log "$(grep -m1 "LXD $LXD_HOST_NAME reached" "$DATA/ecloud.log" | sed 's/^.*\(LXD \)/\1/')"

TOKEN=$(platform_token "$USER_LXD")
ssh-keygen -q -t ed25519 -N '' -C bench -f "$DATA/bench-key"

# in the background, so that INT/TERM reach the trap at once (bash defers traps while a foreground child runs)
java -cp "$BENCH_JAR" com.ecloud.compute.bench.LxdBench \
  --api "http://127.0.0.1:$PORT" --token "$TOKEN" \
  --ssh-public-key "$DATA/bench-key.pub" --run-id "$RUN_ID" \
  --socket "$LXD_SOCKET" --alias ecloud/busybox:latest-amd64 --pool ecloud \
  --runs "${RUNS:-10}" --warmups "${WARMUPS:-2}" --raw-extras "${RAW_EXTRAS:-true}" &
BENCH_PID=$!
wait "$BENCH_PID"

# nothing of this run may be left on LXD (the benchmark deletes as it goes; the exit trap would catch the rest)
left=$(lxd_ours instances; lxd_ours volumes)
[ -z "$left" ] || log "still on LXD after the benchmark (removed at exit): $left"
