# shellcheck shell=bash
# Shared helpers for the ecloud host scripts. Source it; do not execute it.
#   log / warn / die  print one line prefixed with the calling script's name.
#   docker_env        exports DOCKER_API_VERSION=1.41 when the docker client on PATH
#                     is newer than the daemon and refuses to talk to it.

ECLOUD_SCRIPT_NAME="${ECLOUD_SCRIPT_NAME:-$(basename "$0" .sh)}"

log()  { printf '[%s] %s\n' "$ECLOUD_SCRIPT_NAME" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$ECLOUD_SCRIPT_NAME" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$ECLOUD_SCRIPT_NAME" "$*" >&2; exit 1; }

# now_s: seconds since the epoch with millisecond precision
now_s() { date +%s.%3N; }
# elapsed START: seconds since START, one decimal
elapsed() { awk -v s="$1" -v e="$(now_s)" 'BEGIN { printf "%.1f", e - s }'; }

export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"

# docker_answers: true when the daemon answers `docker info`.
docker_answers() { docker info >/dev/null 2>&1; }

# docker_env: pin the API version when the client is newer than the daemon and complains.
docker_env() {
  [ -n "${DOCKER_API_VERSION:-}" ] && return 0
  local out
  if out=$(docker version --format '{{.Server.APIVersion}}' 2>&1); then
    return 0
  fi
  if grep -qiE 'too new|too old|API version|api version' <<<"$out"; then
    export DOCKER_API_VERSION=1.41
  fi
}

# install_packages NAME...: installs with apt-get those of the Debian packages named that are not installed.
# No init system here: the packages' maintainer scripts are kept from starting services (the scripts start
# what they need themselves), unless a policy is already in place.
install_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "packages: all present"
    return 0
  fi
  log "packages: installing ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 0755 "$policy"; own_policy=true
  fi
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}" >/dev/null; } || rc=$?
  if $own_policy; then rm -f "$policy"; fi
  [ "$rc" = 0 ] || die "apt-get failed (exit $rc) installing ${missing[*]}"
  log "packages: installed ${missing[*]}"
}

# one_run_at_a_time NAME SECONDS: root only, and one run of scripts/NAME.sh at a time: an exclusive lock held on
# fd 9 for the script's life (daemons it starts must get `9>&-`, or they would keep holding it). apt-get asks nothing.
one_run_at_a_time() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  exec 9>"/run/lock/ecloud-$1.flock"
  flock -w "$2" 9 || die "another $1.sh is still running (lock /run/lock/ecloud-$1.flock)"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
}
