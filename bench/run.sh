#!/usr/bin/env bash
# The benchmark of issue 2 in one run: builds what it needs, starts a platform of its own on a temporary data
# directory and a free port, runs bench/target/bench.jar against it and the raw Docker Engine API, prints the
# figures, and stops the platform and removes everything it created.
#
#   bench/run.sh                     # 20 runs busybox/tiny and Debian/nano (arm64) each, 10 s loads
#   RUNS=5 ARM_RUNS=0 SECONDS_LOAD=3 bench/run.sh   # a quick look
#
# Environment: RUNS (20, 0 skips amd64), WARMUPS (2), ARM_RUNS (20, 0 skips arm64), ARM_WARMUPS (2), SECONDS_LOAD (10),
# WARM_SECONDS (3), THREADS (2), CONNECTIONS (8), PORT (first free from 19280), KEEP_DATA=1 keeps the data dir,
# POLL (engine: docker inspect every 10 ms, then GET every 10 ms once it runs; api: GET every 10 ms throughout),
# RAW_EXTRAS (true: a third column, raw plus the platform's extra engine work, to attribute the difference),
# JAVA_OPTS (for the platform's JVM, e.g. a flight recording).
# Needs root (mount, mkfs), the Docker engine, the builtin images (scripts/build-images.sh), Java 17 and Maven.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/launcher/target/ecloud-compute.jar
BENCH_JAR=$ROOT/bench/target/bench.jar
log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: the volumes are loop mounts, as the platform's"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (scripts/host-services.sh starts it)"
for image in ecloud/busybox:latest-amd64 ecloud/debian:bookworm-arm64; do
  docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing (scripts/build-images.sh builds it)"
done

mvn_build() { # offline first (dependencies are usually in ~/.m2), then online
  mvn -B -ntp -q -o "$@" || mvn -B -ntp -q "$@"
}
if [ ! -f "$JAR" ]; then
  log "building the platform ($JAR is missing)"
  (cd "$ROOT" && mvn_build install -DskipTests)
fi
log "building the benchmark"
mvn_build -f "$ROOT/bench/pom.xml" package
[ -f "$BENCH_JAR" ] || die "no $BENCH_JAR"

WRK=$(command -v wrk || true)
if [ -z "$WRK" ]; then
  log "installing wrk (Debian package)"
  { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; }; } || true
  WRK=$(command -v wrk || true)
  [ -n "$WRK" ] || log "wrk is unavailable: the Java load generator is used instead"
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${PORT:-}
if [ -z "$PORT" ]; then
  for p in $(seq 19280 19380); do
    if port_free "$p"; then PORT=$p; break; fi
  done
  [ -n "$PORT" ] || die "no free port in 19280-19380"
fi

DATA=$(mktemp -d /tmp/ecloud-bench.XXXXXX)
# names of this run only, so that cleaning up never touches another run's or another platform's containers
RUN_ID=$(basename "$DATA" | sed 's/^ecloud-bench\.//' | tr 'A-Z' 'a-z')
USER_CREATE=bench-$RUN_ID-create
USER_LIST=bench-$RUN_ID-list
PLATFORM_PID=
BENCH_PID=
cleanup() {
  status=$?
  set +e
  if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill "$BENCH_PID"
    wait "$BENCH_PID" 2>/dev/null
  fi
  if [ -n "$PLATFORM_PID" ] && kill -0 "$PLATFORM_PID" 2>/dev/null; then
    kill "$PLATFORM_PID"
    for _ in $(seq 1 100); do kill -0 "$PLATFORM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PLATFORM_PID" 2>/dev/null && kill -9 "$PLATFORM_PID"
  fi
  # whatever an interrupted run left: the platform never removes containers when it stops
  for owner in "$USER_CREATE" "$USER_LIST"; do
    ids=$(docker ps -aq --filter "label=ecloud.owner=$owner")
    [ -n "$ids" ] && docker rm -f $ids >/dev/null
  done
  ids=$(docker ps -aq --filter "label=ecloud.bench.run=$RUN_ID")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done < <(awk -v d="$DATA/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
  # kept when asked, or when something failed (not when interrupted): the platform log tells what happened
  if [ "${KEEP_DATA:-0}" = 1 ] || { [ "$status" != 0 ] && [ "$status" != 130 ] && [ "$status" != 143 ]; }; then
    log "data directory kept: $DATA (platform log: $DATA/ecloud.log)"
  else
    rm -rf "$DATA"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DATA/etc"
# explicit values of what the figures depend on (the defaults, written down)
cat >"$DATA/etc/com.ecloud.compute.platform.cfg" <<EOF
max.containers.per.user=3
provisioning.deadline.seconds=300
usage.interval.seconds=15
reconcile.interval.seconds=60
EOF

log "starting the platform on 127.0.0.1:$PORT (data $DATA)"
java ${JAVA_OPTS:-} -jar "$JAR" serve --data "$DATA" --port "$PORT" </dev/null >"$DATA/ecloud.log" 2>&1 &
PLATFORM_PID=$!
ready=
for _ in $(seq 1 360); do
  kill -0 "$PLATFORM_PID" 2>/dev/null || { tail -n 40 "$DATA/ecloud.log" >&2; die "the platform exited"; }
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { tail -n 40 "$DATA/ecloud.log" >&2; die "the platform is not ready after 180 s"; }

TOKEN_CREATE=$(java -jar "$JAR" token "$USER_CREATE" --ttl 2h --data "$DATA")
TOKEN_LIST=$(java -jar "$JAR" token "$USER_LIST" --ttl 2h --data "$DATA")
ssh-keygen -q -t ed25519 -N '' -C bench -f "$DATA/bench-key"

# in the background, so that INT/TERM reach the trap at once (bash defers traps while a foreground child runs)
java -jar "$BENCH_JAR" \
  --api "http://127.0.0.1:$PORT" \
  --token-create "$TOKEN_CREATE" --token-list "$TOKEN_LIST" \
  --ssh-public-key "$DATA/bench-key.pub" \
  --raw-dir "$DATA/raw" --run-id "$RUN_ID" \
  --wrk "$WRK" \
  --runs "${RUNS:-20}" --warmups "${WARMUPS:-2}" \
  --arm-runs "${ARM_RUNS:-20}" --arm-warmups "${ARM_WARMUPS:-2}" \
  --seconds "${SECONDS_LOAD:-10}" --warm-seconds "${WARM_SECONDS:-3}" \
  --threads "${THREADS:-2}" --connections "${CONNECTIONS:-8}" \
  --poll "${POLL:-engine}" --raw-extras "${RAW_EXTRAS:-true}" &
BENCH_PID=$!
wait "$BENCH_PID"
