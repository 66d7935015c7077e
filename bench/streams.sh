#!/usr/bin/env bash
# The WebSocket benchmark: starts a platform of its own on a temporary data directory and a free port (as run.sh),
# runs com.ecloud.compute.bench.StreamsBench from bench/target/bench.jar against it and the raw Docker Engine API,
# prints the figures, and stops the platform and removes everything it created, also when interrupted.
#
#   bench/streams.sh                                  # 100 status changes, 200 keystrokes each way
#   CHANGES=20 KEYSTROKES=40 bench/streams.sh         # a quick look
#
# 1. status event latency: a running BusyBox container stopped (t=0) and started through the raw Engine API,
#    behind the platform's back; engine event timeNano -> the benchmark's direct /events subscriber, and -> the
#    matching container_status on /compute/ws.
# 2. keystroke echo: single bytes typed into /compute/containers/:id/terminal against a docker exec with a TTY
#    (same login shell) hijacked straight from the engine's socket.
#
# Environment: CHANGES (100, at most 200), MAX_SECONDS (120, at most 120: the bound of the status loop),
# KEYSTROKES (200), KEYSTROKE_GAP_MS (3), PORT, KEEP_DATA=1, JAVA_OPTS (see platform.sh).
# Exit status 2: some status change never reached /compute/ws (a bug of the platform).
# Needs root (mount, mkfs), the Docker engine, the builtin images (scripts/build-images.sh), Java 17 and Maven.
set -euo pipefail

. "$(dirname "$0")/platform.sh"

platform_check ecloud/busybox:latest-amd64
platform_build
platform_prepare
USER_STREAMS=bench-$RUN_ID-streams
BENCH_OWNERS=("$USER_STREAMS")
platform_start

TOKEN=$(platform_token "$USER_STREAMS")
ssh-keygen -q -t ed25519 -N '' -C bench -f "$DATA/bench-key"

# in the background, so that INT/TERM reach the trap at once (bash defers traps while a foreground child runs)
java -cp "$BENCH_JAR" com.ecloud.compute.bench.StreamsBench \
  --api "http://127.0.0.1:$PORT" --token "$TOKEN" \
  --ssh-public-key "$DATA/bench-key.pub" \
  --changes "${CHANGES:-100}" --max-seconds "${MAX_SECONDS:-120}" \
  --keystrokes "${KEYSTROKES:-200}" --keystroke-gap-ms "${KEYSTROKE_GAP_MS:-3}" &
BENCH_PID=$!
wait "$BENCH_PID"
