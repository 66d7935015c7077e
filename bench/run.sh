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

. "$(dirname "$0")/platform.sh"

platform_check ecloud/busybox:latest-amd64 ecloud/debian:bookworm-arm64
platform_build

WRK=$(command -v wrk || true)
if [ -z "$WRK" ]; then
  log "installing wrk (Debian package)"
  { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; }; } || true
  WRK=$(command -v wrk || true)
  [ -n "$WRK" ] || log "wrk is unavailable: the Java load generator is used instead"
fi

platform_prepare
USER_CREATE=bench-$RUN_ID-create
USER_LIST=bench-$RUN_ID-list
BENCH_OWNERS=("$USER_CREATE" "$USER_LIST")
platform_start

TOKEN_CREATE=$(platform_token "$USER_CREATE")
TOKEN_LIST=$(platform_token "$USER_LIST")
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
