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
