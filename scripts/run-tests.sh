#!/usr/bin/env bash
# scripts/run-tests.sh — the one test command (README): sets up what the tests need on a fresh machine,
# runs them all, prints "N passed, N failed". CI runs it through .ci/run (fresh clone, no stdin, 90 min).
#   1. scripts/host-services.sh   dockerd, binfmt (arm64 via qemu), registry 127.0.0.1:5000, PostgreSQL 15
#   2. scripts/build-images.sh    ecloud/debian:bookworm-{amd64,arm64}, ecloud/busybox:latest-{amd64,arm64}
#   2b. scripts/lxd-host.sh       LXD 5.0 (pool ecloud, bridge lxdbr0) with those images imported
#   3. scripts/test.sh            mvn -B -ntp verify with the test environment
#   4. one line "N passed, N failed, N skipped" summed over every TEST-*.xml under
#      **/target/{surefire,failsafe,test}-reports/ written by this run
# Exits non-zero when a step or Maven failed, when a test failed, or when no test ran.
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$(pwd)
BUDGET=${ECLOUD_CI_BUDGET:-5400}          # seconds for the whole run
SUMMARY_MARGIN=120                        # kept for the summary after Maven
T0=$SECONDS
export CI="${CI:-true}" DEBIAN_FRONTEND=noninteractive
exec </dev/null

log() { printf '[ci] %s\n' "$*"; }

summary() {
  # Prints the summary line (last line of the output) and returns its status.
  python3 "$ROOT/scripts/test-summary.py" --newer-than "$1" "$ROOT"
}

fail_setup() {
  log "FAILED: $1 (exit $2) after $((SECONDS - T0)) s"
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
}

log "host services"
t=$SECONDS
bash scripts/host-services.sh || fail_setup "scripts/host-services.sh" $?
log "host services: $((SECONDS - t)) s"

log "images"
t=$SECONDS
bash scripts/build-images.sh || fail_setup "scripts/build-images.sh" $?
log "images: $((SECONDS - t)) s"

log "LXD"
t=$SECONDS
bash scripts/lxd-host.sh || fail_setup "scripts/lxd-host.sh" $?
log "LXD: $((SECONDS - t)) s"

# Only reports written from now on count (a reused workspace may hold older ones).
tests_start=$(date +%s)
remaining=$((BUDGET - (SECONDS - T0) - SUMMARY_MARGIN))
[ "$remaining" -gt 300 ] || remaining=300
export ECLOUD_TEST_TIMEOUT="${ECLOUD_TEST_TIMEOUT:-$remaining}"

log "tests (Maven timeout ${ECLOUD_TEST_TIMEOUT} s)"
t=$SECONDS
mvn_rc=0
bash scripts/test.sh || mvn_rc=$?
log "tests: $((SECONDS - t)) s, Maven exit $mvn_rc; total $((SECONDS - T0)) s"

sum_rc=0
line=$(summary "$tests_start") || sum_rc=$?
case "$sum_rc" in
  0) ;;
  1) log "FAILED: some tests failed" ;;
  2) log "FAILED: no test ran" ;;
  *) log "FAILED: the test summary failed (exit $sum_rc)" ;;
esac
[ -n "$line" ] || { line="0 passed, 0 failed, 0 skipped"; [ "$sum_rc" != 0 ] || sum_rc=3; }
[ "$mvn_rc" = 0 ] || log "FAILED: Maven exited with $mvn_rc"
echo "$line"
if [ "$mvn_rc" != 0 ] || [ "$sum_rc" != 0 ]; then
  exit 1
fi
exit 0
