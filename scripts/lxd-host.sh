#!/usr/bin/env bash
# lxd-host.sh — prepare this host for ecloud's LXD runtime (idempotent; a second run changes nothing).
#
# Installs what is missing (apt-get: Debian's lxd 5.0, dnsmasq-base, btrfs-progs, ...), then:
#   * lxd daemon   started in the background (`lxd --group root`, setsid) only when its socket
#                  /var/lib/lxd/unix.socket does not answer; log /var/log/ecloud-lxd.log
#   * lxd init     once, with `lxd init --preseed` (`lxd init --auto` fails here):
#                    storage pool `ecloud`, driver btrfs on a loop file of $ECLOUD_LXD_POOL_SIZE
#                    (default 20GiB; btrfs quotas make root disk `size` limits real),
#                    bridge `lxdbr0` at $ECLOUD_LXD_BRIDGE_ADDR (default 10.212.0.1/24, NAT, no IPv6),
#                    profile `default` with a root disk on `ecloud` and eth0 on lxdbr0
#   * https        LXD's REST API also on $ECLOUD_LXD_HTTPS_ADDR (default 127.0.0.1:8443), the way
#                  a remote LXD server is reached (client certificates; tests use it on loopback)
#   * images       the builtin Docker images (scripts/build-images.sh) as local LXD images with the
#                  same names as aliases: ecloud/busybox:latest-amd64, ecloud/busybox:latest-arm64,
#                  ecloud/debian:bookworm-amd64, ecloud/debian:bookworm-arm64 (re-imported when the
#                  Docker image changed; the Docker image id is kept in the property ecloud.docker_id)
#
# Foreign architectures: LXD refuses to create an instance whose image architecture the host
# kernel cannot run natively ("Requested architecture isn't supported by this host"), so arm64
# images are recorded with the host's architecture (x86_64) and run through qemu-user-static
# (binfmt F flag, set up by scripts/host-services.sh); their real architecture is in the image
# properties ecloud.architecture (arm64) and ecloud.uname_m (aarch64).
# Every image gets a tiny idle /sbin/init (LXD always starts
# /sbin/init; workloads run through exec); /etc/hostname and /etc/hosts come from LXD templates.
#
# Usage: scripts/lxd-host.sh [--no-images]
set -euo pipefail

ECLOUD_SCRIPT_NAME=lxd-host
# shellcheck source=scripts/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"
SCRIPTS_DIR=$(dirname "$(readlink -f "$0")")

WITH_IMAGES=true
for arg in "$@"; do
  case "$arg" in
    --no-images) WITH_IMAGES=false ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown option: $arg (known: --no-images)" ;;
  esac
done

# One run at a time; the daemon started below gets `9>&-` so that it does not hold the lock.
one_run_at_a_time lxd-host 600

LXD_DIR=/var/lib/lxd                       # Debian's lxd (not the snap's /var/snap/lxd/common/lxd)
LXD_SOCKET=$LXD_DIR/unix.socket
LXD_LOG=/var/log/ecloud-lxd.log
LXD_PIDFILE=/var/run/ecloud-lxd.pid
POOL=ecloud
POOL_SIZE=${ECLOUD_LXD_POOL_SIZE:-20GiB}
BRIDGE=lxdbr0
BRIDGE_ADDR=${ECLOUD_LXD_BRIDGE_ADDR:-10.212.0.1/24}
HTTPS_ADDR=${ECLOUD_LXD_HTTPS_ADDR:-127.0.0.1:8443}
IMAGES=(ecloud/busybox:latest-amd64 ecloud/busybox:latest-arm64
        ecloud/debian:bookworm-amd64 ecloud/debian:bookworm-arm64)
WORK=/var/cache/ecloud-images/lxd-work

wait_for() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
# A killed daemon can linger as a zombie until its parent reaps it: kill -0 still succeeds then.
not_zombie() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ] && [ -e "/proc/$1/stat" ]; }

# ---------------------------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------------------------
# lxd pulls lxcfs, uidmap, squashfs-tools, xz-utils, rsync; dnsmasq-base (DHCP/DNS on lxdbr0) and
# btrfs-progs (the pool driver) are only recommended/suggested, so name them.
PACKAGES=(lxd lxd-client dnsmasq-base btrfs-progs squashfs-tools xz-utils iptables curl jq tar)


# ---------------------------------------------------------------------------------------------
# 2. lxd daemon
# ---------------------------------------------------------------------------------------------
# lxd_answers: GET /1.0 over the unix socket answers with a JSON document.
lxd_answers() {
  [ -S "$LXD_SOCKET" ] && curl -sf --max-time 5 --unix-socket "$LXD_SOCKET" http://lxd/1.0 -o /dev/null
}

# The pid of a running lxd daemon on $LXD_DIR: ours (pid file) or one started by someone else.
lxd_pid() {
  local pid
  pid=$(cat "$LXD_PIDFILE" 2>/dev/null || true)
  if pid_alive "$pid" && not_zombie "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lxd ]; then
    echo "$pid"; return 0
  fi
  # exact command name and an exact argv[1] of "--group": a daemon, not `lxd init` or `lxd waitready`
  for pid in $(pgrep -x lxd 2>/dev/null || true); do
    not_zombie "$pid" || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE '^lxd( --group [^ ]+)?( --logfile [^ ]+)? ?$'; then
      echo "$pid"; return 0
    fi
  done
  return 1
}

start_lxd() {
  if lxd_answers; then
    log "lxd: already answering on $LXD_SOCKET ($(lxd --version))"
    return 0
  fi
  local pid
  if pid=$(lxd_pid); then
    log "lxd: pid $pid exists but does not answer yet; waiting"
    wait_for 120 lxd_answers && { log "lxd: answering"; return 0; }
    die "lxd (pid $pid) does not answer after 120 s; see $LXD_LOG"
  fi
  # Stale state of a killed daemon: its sockets stay behind and make the next start fail or hang.
  # (Instances it ran keep running under their `[lxc monitor]` processes; the new daemon adopts
  # them. dnsmasq and forkproxy helpers are restarted by the daemon from their own pid files.)
  local s
  for s in "$LXD_SOCKET" "$LXD_DIR/devlxd/sock" "$LXD_DIR/seccomp.socket"; do
    if [ -S "$s" ]; then log "lxd: removing stale socket $s"; rm -f "$s"; fi
  done
  rm -f "$LXD_PIDFILE"
  mkdir -p "$LXD_DIR"
  log "lxd: starting (log $LXD_LOG)"
  # --group root: only root may use the socket (there is no `lxd` group membership to rely on).
  setsid nohup lxd --group root >>"$LXD_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$LXD_PIDFILE"
  local start=$SECONDS
  if ! wait_for 120 lxd_answers; then
    tail -n 20 "$LXD_LOG" >&2 || true
    die "lxd did not answer within 120 s; see $LXD_LOG"
  fi
  lxd waitready --timeout 60 || die "lxd waitready failed; see $LXD_LOG"
  log "lxd: answering after $((SECONDS - start)) s ($(lxd --version), pid $(cat "$LXD_PIDFILE"))"
}

# ---------------------------------------------------------------------------------------------
# 3. lxd init (preseed)
# ---------------------------------------------------------------------------------------------
lxd_get() { curl -sf --max-time 10 --unix-socket "$LXD_SOCKET" "http://lxd$1"; }

init_lxd() {
  local have_pool=false have_net=false profile_ok=false
  lxd_get "/1.0/storage-pools/$POOL" >/dev/null && have_pool=true
  lxd_get "/1.0/networks/$BRIDGE" | jq -e '.metadata.managed == true' >/dev/null 2>&1 && have_net=true
  lxd_get /1.0/profiles/default | jq -e --arg p "$POOL" --arg n "$BRIDGE" \
    '.metadata.devices.root.pool == $p and .metadata.devices.eth0.network == $n' >/dev/null 2>&1 && profile_ok=true
  if $have_pool && $have_net && $profile_ok; then
    log "init: pool $POOL, network $BRIDGE and profile default present"
    return 0
  fi
  # Only what is missing goes into the preseed (a preseed re-creating an existing pool fails).
  local preseed
  preseed=$(mktemp)
  {
    echo "config: {}"
    if ! $have_pool; then
      cat <<EOF
storage_pools:
- name: $POOL
  driver: btrfs
  description: ecloud instances (btrfs on a loop file; root disk size limits are quotas)
  config:
    size: $POOL_SIZE
EOF
    fi
    if ! $have_net; then
      cat <<EOF
networks:
- name: $BRIDGE
  type: bridge
  description: ecloud instances' bridge
  config:
    ipv4.address: $BRIDGE_ADDR
    ipv4.nat: "true"
    ipv6.address: none
EOF
    fi
    cat <<EOF
profiles:
- name: default
  description: ecloud default profile
  devices:
    root:
      type: disk
      path: /
      pool: $POOL
    eth0:
      type: nic
      name: eth0
      network: $BRIDGE
EOF
  } >"$preseed"
  log "init: lxd init --preseed (pool $POOL: $($have_pool && echo present || echo "btrfs $POOL_SIZE"), network $BRIDGE: $($have_net && echo present || echo "$BRIDGE_ADDR"))"
  if ! lxd init --preseed <"$preseed"; then
    cat "$preseed" >&2; rm -f "$preseed"
    die "lxd init --preseed failed; see $LXD_LOG"
  fi
  rm -f "$preseed"
  log "init: done"
}

# ---------------------------------------------------------------------------------------------
# 4. builtin images
# ---------------------------------------------------------------------------------------------
urlenc() { jq -rn --arg s "$1" '$s|@uri'; }
uname_of() { case "$1" in amd64) echo x86_64 ;; arm64) echo aarch64 ;; *) echo "$1" ;; esac; }

# Print the Docker image id behind the LXD alias, or nothing when the alias is missing.
lxd_image_docker_id() {
  local fp
  fp=$(lxd_get "/1.0/images/aliases/$(urlenc "$1")" | jq -r '.metadata.target // empty') || return 0
  [ -n "$fp" ] || return 0
  lxd_get "/1.0/images/$fp" \
    | jq -r '(.metadata.properties["ecloud.docker_id"] // "unknown") + "/" + (.metadata.properties["ecloud.lxd_format"] // "1")'
}

# Bumped when the way an image is made changes, so that images imported earlier are made again.
# 2: every image's /sbin/init is the idle init (its console, the container's log, stays the workload's).
LXD_IMAGE_FORMAT=2

ensure_docker_images() {
  local tag missing=false
  if ! docker_answers; then
    log "images: docker does not answer; running scripts/host-services.sh --no-postgres"
    "$SCRIPTS_DIR/host-services.sh" --no-postgres 9>&-
  fi
  docker_env
  for tag in "${IMAGES[@]}"; do
    docker image inspect "$tag" >/dev/null 2>&1 || missing=true
  done
  if $missing; then
    log "images: some Docker images are missing; running scripts/build-images.sh"
    "$SCRIPTS_DIR/build-images.sh" 9>&-
  fi
}

# import_image TAG: docker export of a created container -> split LXD image (metadata + rootfs).
import_image() {
  local tag=$1 docker_id=$2 arch lxd_arch real_uname dir old_fp fp
  arch=$(docker image inspect -f '{{.Architecture}}' "$tag")
  real_uname=$(uname_of "$arch")
  lxd_arch=$real_uname
  if [ "$real_uname" != "$(uname -m)" ]; then
    # see the header: LXD only creates instances of architectures the host runs natively
    lxd_arch=$(uname -m)
  fi
  dir="$WORK/$(echo "$tag" | tr '/:' '__')"
  rm -rf --one-file-system "$dir"
  mkdir -p "$dir/rootfs" "$dir/meta/templates"
  local cid
  cid=$(docker create --pull never --platform "linux/$arch" "$tag" /bin/sh)
  # tar straight into the tree: runs as root, so owners, modes and device nodes survive
  if ! docker export "$cid" | tar -C "$dir/rootfs" --numeric-owner --xattrs --xattrs-include='*' -xf -; then
    docker rm "$cid" >/dev/null 2>&1 || true
    die "images: docker export of $tag failed"
  fi
  docker rm "$cid" >/dev/null
  # Docker's traces: its marker file and the empty bind-mount targets it created
  rm -f "$dir/rootfs/.dockerenv"
  # LXD starts /sbin/init as pid 1, and its console output is the container's log. Every image gets
  # the idle init that the Docker runtime runs for images without a command (BusyBox's own init would
  # fill the log with its console prompts; Debian minbase has none): it keeps the instance alive and
  # ends cleanly on SIGPWR (what a stop sends) or SIGTERM; workloads are started through exec.
  mkdir -p "$dir/rootfs/sbin"
  rm -f "$dir/rootfs/sbin/init"
  cat >"$dir/rootfs/sbin/init" <<'EOF'
#!/bin/sh
# ecloud idle init for LXD (added by scripts/lxd-host.sh): keeps the instance alive; workloads
# are started with exec. Ends on SIGPWR (LXD's clean stop), SIGTERM, SIGINT or SIGHUP.
trap 'exit 0' PWR TERM INT HUP
while :; do
  sleep 2147483647 &
  wait $!
done
EOF
  chmod 0755 "$dir/rootfs/sbin/init"
  local init_note="ecloud idle /sbin/init"
  cat >"$dir/meta/templates/hostname.tpl" <<'EOF'
{{ container.name }}
EOF
  cat >"$dir/meta/templates/hosts.tpl" <<'EOF'
127.0.0.1	localhost
127.0.1.1	{{ container.name }}
::1	localhost ip6-localhost ip6-loopback
EOF
  local os=${tag#ecloud/}; os=${os%%:*}
  local release=${tag#*:}; release=${release%-*}
  cat >"$dir/meta/metadata.yaml" <<EOF
architecture: $lxd_arch
creation_date: $(date +%s)
properties:
  description: "$tag ($arch) from the Docker image, $init_note"
  os: $os
  release: $release
  architecture: $arch
  ecloud.architecture: $arch
  ecloud.uname_m: $real_uname
  ecloud.docker_tag: "$tag"
  ecloud.docker_id: "$docker_id"
  ecloud.lxd_format: "$LXD_IMAGE_FORMAT"
templates:
  /etc/hostname:
    when: [create, copy, rename]
    template: hostname.tpl
  /etc/hosts:
    when: [create, copy, rename]
    template: hosts.tpl
EOF
  tar -C "$dir/meta" -cf "$dir/meta.tar" metadata.yaml templates
  tar -C "$dir/rootfs" --numeric-owner --xattrs --xattrs-include='*' -cf "$dir/rootfs.tar" .
  old_fp=$(lxd_get "/1.0/images/aliases/$(urlenc "$tag")" | jq -r '.metadata.target // empty' || true)
  if [ -n "$old_fp" ]; then
    lxc image alias delete "local:$tag" >/dev/null
  fi
  # `local:` first: the lxc client otherwise reads "ecloud/busybox" as a remote's name
  local out
  out=$(lxc image import "$dir/meta.tar" "$dir/rootfs.tar" "local:" --alias "$tag" 2>&1) \
    || { printf '%s\n' "$out" >&2; die "images: lxc image import of $tag failed"; }
  fp=$(lxd_get "/1.0/images/aliases/$(urlenc "$tag")" | jq -r '.metadata.target')
  if [ -n "$old_fp" ] && [ "$old_fp" != "$fp" ]; then
    # the replaced image: gone unless an instance still needs it (LXD keeps it then)
    lxc image delete "local:$old_fp" >/dev/null 2>&1 || true
  fi
  rm -rf --one-file-system "$dir"
  log "images: $tag imported as ${fp:0:12} (LXD architecture $lxd_arch, runs as $real_uname)"
}

import_images() {
  local tag want have todo=()
  for tag in "${IMAGES[@]}"; do
    have=$(lxd_image_docker_id "$tag")
    if [ -n "$have" ] && docker_answers && want=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null) \
        && [ "$have" = "$want/$LXD_IMAGE_FORMAT" ]; then
      continue
    fi
    if [ -n "$have" ] && ! docker_answers; then
      continue   # present, and nothing to compare with: keep it
    fi
    todo+=("$tag")
  done
  if [ "${#todo[@]}" -eq 0 ]; then
    log "images: all ${#IMAGES[@]} present and current"
    return 0
  fi
  ensure_docker_images
  mkdir -p "$WORK"
  for tag in "${todo[@]}"; do
    want=$(docker image inspect -f '{{.Id}}' "$tag")
    import_image "$tag" "$want"
  done
}

# LXD's API over HTTPS as well (remote servers are reached so; only trusted client certificates get in)
https_lxd() {
  local current
  current=$(lxd_get /1.0 | jq -r '.metadata.config["core.https_address"] // ""')
  if [ "$current" = "$HTTPS_ADDR" ]; then
    log "https: listening on $HTTPS_ADDR"
    return 0
  fi
  curl -sf --max-time 10 --unix-socket "$LXD_SOCKET" -X PATCH -H 'Content-Type: application/json' \
    -d "{\"config\":{\"core.https_address\":\"$HTTPS_ADDR\"}}" http://lxd/1.0 >/dev/null \
    || die "https: setting core.https_address=$HTTPS_ADDR failed"
  log "https: now listening on $HTTPS_ADDR (was '${current}')"
}

# ---------------------------------------------------------------------------------------------
t0=$(now_s)
install_packages "${PACKAGES[@]}"
start_lxd
init_lxd
https_lxd
if $WITH_IMAGES; then import_images; else log "images: skipped (--no-images)"; fi
log "done in $(elapsed "$t0") s"
