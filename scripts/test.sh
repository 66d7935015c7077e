#!/usr/bin/env bash
# test.sh — run the project's tests: `mvn -B -ntp verify` at the repository root, against the
# services that scripts/host-services.sh provides (PostgreSQL 15 on 127.0.0.1:5432, dockerd) and the
# images of scripts/build-images.sh. Maven's output is kept as is; extra arguments go to Maven.
#
# Environment given to the tests:
#   ECLOUD_TEST_POSTGRES_URL=jdbc:postgresql://127.0.0.1:5432/ecloud_test
#   ECLOUD_TEST_POSTGRES_USER=ecloud  ECLOUD_TEST_POSTGRES_PASSWORD=ecloud
#   ECLOUD_REQUIRE_ENGINES=true       (engine tests fail instead of skipping when no engine answers)
# Optional: ECLOUD_TEST_TIMEOUT=SECONDS stops Maven after that long (exit 124).
#
# Usage: scripts/test.sh [maven arguments...]
set -euo pipefail

ECLOUD_SCRIPT_NAME=test
# shellcheck source=scripts/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$ROOT"
[ -f pom.xml ] || die "no pom.xml in $ROOT"
command -v mvn >/dev/null || die "mvn is not installed"

export ECLOUD_TEST_POSTGRES_URL="${ECLOUD_TEST_POSTGRES_URL:-jdbc:postgresql://127.0.0.1:5432/ecloud_test}"
export ECLOUD_TEST_POSTGRES_USER="${ECLOUD_TEST_POSTGRES_USER:-ecloud}"
export ECLOUD_TEST_POSTGRES_PASSWORD="${ECLOUD_TEST_POSTGRES_PASSWORD:-ecloud}"
export ECLOUD_REQUIRE_ENGINES="${ECLOUD_REQUIRE_ENGINES:-true}"
# The docker client on PATH may be newer than Debian's daemon; tests that shell out to it need this.
if docker_answers; then docker_env; fi

timeout_args=()
if [ -n "${ECLOUD_TEST_TIMEOUT:-}" ] && [ "${ECLOUD_TEST_TIMEOUT}" -gt 0 ]; then
  timeout_args=(timeout --kill-after=60 "$ECLOUD_TEST_TIMEOUT")
fi

log "mvn -B -ntp verify${*:+ $*} (postgres $ECLOUD_TEST_POSTGRES_URL, ECLOUD_REQUIRE_ENGINES=$ECLOUD_REQUIRE_ENGINES${DOCKER_API_VERSION:+, DOCKER_API_VERSION=$DOCKER_API_VERSION}${ECLOUD_TEST_TIMEOUT:+, timeout ${ECLOUD_TEST_TIMEOUT}s})"
t0=$(now_s)
rc=0
"${timeout_args[@]}" mvn -B -ntp verify "$@" || rc=$?
if [ "$rc" = 124 ] && [ "${#timeout_args[@]}" -gt 0 ]; then
  log "Maven stopped after the ${ECLOUD_TEST_TIMEOUT}s timeout"
fi
log "mvn exited with $rc after $(elapsed "$t0") s"
exit "$rc"
