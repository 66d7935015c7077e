#!/usr/bin/env bash
# The SSH gateway benchmark: starts a platform of its own on a temporary data directory and free ports (HTTP and
# SSH gateway, as run.sh), runs com.ecloud.compute.bench.SshBench from bench/target/bench.jar on one BusyBox
# container with SSH enabled and an ECDSA key, prints the figures, and stops the platform and removes everything it
# created, also when interrupted.
#
#   bench/ssh.sh                                     # 5 runs of 256 MiB each way after 1 warm-up, 30 connections
#   RUNS=2 BYTES=67108864 CONNECTS=5 bench/ssh.sh    # a quick look
#
# 1. bulk throughput: ssh <id>@127.0.0.1 'cat /dev/zero' | head -c 256M > /dev/null against docker exec
#    ecloud-<id> cat /dev/zero | head -c 256M > /dev/null on the same container, interleaved, wall time of the
#    pipeline (goal: platform/direct >= 0.8); after each run no cat may be left in the container.
# 2. connection set-up: ssh <id>@127.0.0.1 true against docker exec ecloud-<id> true (p50/p99), ssh with -F
#    /dev/null, BatchMode, IdentitiesOnly, no ControlMaster, a known_hosts of this run.
#
# A diagnostic after 1.: the same transfer with the client held to each cipher of CIPHERS, to tell how much of the
# difference is the cipher the client and the gateway agree on.
#
# Environment: RUNS (5), WARMUPS (1), BYTES (268435456), CIPHERS ("aes128-gcm@openssh.com aes128-ctr", empty: none),
# CIPHER_RUNS (3), CONNECTS (30), CONNECT_WARMUPS (3), PORT, KEEP_DATA=1, JAVA_OPTS (see platform.sh).
# Exit status 2: a run failed, an ssh client did not end once head closed the pipe, or an SSH run left its process
# in the container (bugs of the platform).
# Needs root (mount, mkfs), the Docker engine and its CLI, OpenSSH's ssh and ssh-keygen, the builtin images
# (scripts/build-images.sh), Java 17 and Maven.
set -euo pipefail

. "$(dirname "$0")/platform.sh"

platform_check ecloud/busybox:latest-amd64
for tool in ssh ssh-keygen docker; do command -v "$tool" >/dev/null || die "$tool is missing"; done
platform_build
platform_prepare
USER_SSH=bench-$RUN_ID-ssh
BENCH_OWNERS=("$USER_SSH")
platform_start

TOKEN=$(platform_token "$USER_SSH")
ssh-keygen -q -t ecdsa -N '' -C bench -f "$DATA/bench-key"
for _ in $(seq 1 100); do port_free "$SSH_PORT" || break; sleep 0.2; done
port_free "$SSH_PORT" && die "the SSH gateway does not listen on 127.0.0.1:$SSH_PORT"

# in the background, so that INT/TERM reach the trap at once (bash defers traps while a foreground child runs)
java -cp "$BENCH_JAR" com.ecloud.compute.bench.SshBench \
  --api "http://127.0.0.1:$PORT" --token "$TOKEN" \
  --ssh-port "$SSH_PORT" --ssh-key "$DATA/bench-key" --work-dir "$DATA" \
  --platform-pid "$PLATFORM_PID" --dockerd-pid "$(pidof dockerd || echo 0)" \
  --runs "${RUNS:-5}" --warmups "${WARMUPS:-1}" --bytes "${BYTES:-268435456}" \
  --ciphers "${CIPHERS-aes128-gcm@openssh.com aes128-ctr}" --cipher-runs "${CIPHER_RUNS:-3}" \
  --connects "${CONNECTS:-30}" --connect-warmups "${CONNECT_WARMUPS:-3}" &
BENCH_PID=$!
wait "$BENCH_PID"
