# What the benchmark scripts (run.sh, streams.sh, ssh.sh) share, sourced by them: checks, building the benchmark, a
# platform of their own on a temporary data directory and free ports, tokens, and cleaning up everything on exit
# (also when interrupted). Not meant to run on its own.
#
# Use: platform_check IMAGES..., platform_build, platform_prepare, then set BENCH_OWNERS (the uids whose containers
# are removed at exit), platform_start, platform_token UID; optional hooks the sourcing script may define:
# platform_configure ETC_DIR (called by platform_start before the platform starts) and platform_cleanup_extra
# (called at exit, after the platform stopped); set BENCH_PID when the Java benchmark runs in the
# background (so that INT/TERM reach the trap at once: bash defers traps while a foreground child runs).
# Environment: PORT (first free from 19280), KEEP_DATA=1 keeps the data dir, JAVA_OPTS (for the platform's JVM).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=$ROOT/launcher/target/ecloud-compute.jar
BENCH_JAR=$ROOT/bench/target/bench.jar
SCRIPT_NAME=$(basename "$0")
log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { log "$*"; exit 1; }

# root, the engine and the images given as arguments
platform_check() {
  [ "$(id -u)" = 0 ] || die "needs root: the volumes are loop mounts, as the platform's"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer (scripts/host-services.sh starts it)"
  local image
  for image in "$@"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing (scripts/build-images.sh builds it)"
  done
}

mvn_build() { # offline first (dependencies are usually in ~/.m2), then online
  mvn -B -ntp -q -o "$@" || mvn -B -ntp -q "$@"
}

# the platform when it was never built, and the benchmark
platform_build() {
  if [ ! -f "$JAR" ]; then
    log "building the platform ($JAR is missing)"
    (cd "$ROOT" && mvn_build install -DskipTests)
  fi
  log "building the benchmark"
  mvn_build -f "$ROOT/bench/pom.xml" package
  [ -f "$BENCH_JAR" ] || die "no $BENCH_JAR"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

first_free_port() { # FROM TO
  local p
  for p in $(seq "$1" "$2"); do
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free port in $1-$2"
}

# PORT (unless set), DATA, RUN_ID (this run's names only, so that cleaning up never touches another run's or
# another platform's containers), and the exit trap
platform_prepare() {
  PORT=${PORT:-$(first_free_port 19280 19380)}
  DATA=$(mktemp -d /tmp/ecloud-bench.XXXXXX)
  RUN_ID=$(basename "$DATA" | sed 's/^ecloud-bench\.//' | tr 'A-Z' 'a-z')
  BENCH_OWNERS=()
  PLATFORM_PID=
  BENCH_PID=
  trap platform_cleanup EXIT
  trap 'exit 130' INT TERM
}

platform_cleanup() {
  local status=$?
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
  local owner ids mnt
  for owner in "${BENCH_OWNERS[@]}"; do
    ids=$(docker ps -aq --filter "label=ecloud.owner=$owner")
    [ -n "$ids" ] && docker rm -f $ids >/dev/null
  done
  ids=$(docker ps -aq --filter "label=ecloud.bench.run=$RUN_ID")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null
  # a hook of the sourcing script for what it made elsewhere (e.g. LXD instances), after the platform stopped
  if declare -F platform_cleanup_extra >/dev/null; then platform_cleanup_extra; fi
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

# starts the platform on 127.0.0.1:PORT (its SSH gateway on SSH_PORT, its ingress gateway at GATEWAY_OFFSET) with DATA and waits until it is ready; it
# runs a copy of the jar in DATA, so that a rebuild of the original meanwhile does not disturb it
platform_start() {
  mkdir -p "$DATA/etc"
  cp "$JAR" "$DATA/ecloud-compute.jar"
  PLATFORM_JAR=$DATA/ecloud-compute.jar
  # the SSH gateway (SSH_PORT, also in the API's ssh_command) and the operators' shell on free ports, out of the
  # way of any other platform on this host
  SSH_PORT=$(first_free_port 19400 19500)
  local operator_port
  operator_port=$(first_free_port $((SSH_PORT + 1)) 19500)
  echo "port=$SSH_PORT" >"$DATA/etc/com.ecloud.compute.ssh.cfg"
  echo "port=$operator_port" >"$DATA/etc/com.ecloud.compute.ssh.operator.cfg"
  # the ingress gateway: external port P on P + GATEWAY_OFFSET, with 80 and 443 free there
  GATEWAY_OFFSET=
  local offset
  for offset in $(seq 11000 1000 23000); do # every gateway port below the ephemeral range (32768-)
    if port_free $((80 + offset)) && port_free $((443 + offset)); then GATEWAY_OFFSET=$offset; break; fi
  done
  [ -n "$GATEWAY_OFFSET" ] || die "no free ports for the ingress gateway"
  echo "port.offset=$GATEWAY_OFFSET" >"$DATA/etc/com.ecloud.compute.gateway.cfg"
  # explicit values of what the figures depend on (the defaults, written down)
  cat >"$DATA/etc/com.ecloud.compute.platform.cfg" <<EOF
max.containers.per.user=3
provisioning.deadline.seconds=300
usage.interval.seconds=15
reconcile.interval.seconds=60
ssh.public.port=$SSH_PORT
EOF
  # a hook of the sourcing script for more configuration (e.g. another runtime): platform_configure ETC_DIR
  if declare -F platform_configure >/dev/null; then platform_configure "$DATA/etc"; fi
  log "starting the platform on 127.0.0.1:$PORT (data $DATA)"
  java ${JAVA_OPTS:-} -jar "$PLATFORM_JAR" serve --data "$DATA" --port "$PORT" </dev/null >"$DATA/ecloud.log" 2>&1 &
  PLATFORM_PID=$!
  local ready=
  for _ in $(seq 1 360); do
    kill -0 "$PLATFORM_PID" 2>/dev/null || { tail -n 40 "$DATA/ecloud.log" >&2; die "the platform exited"; }
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]; then ready=1; break; fi
    sleep 0.5
  done
  [ -n "$ready" ] || { tail -n 40 "$DATA/ecloud.log" >&2; die "the platform is not ready after 180 s"; }
}

# a token of uid (full scope, 2 h) on stdout; list the uid in BENCH_OWNERS (in the sourcing shell, not in the
# $(...) that reads the token) so that its containers are removed at exit
platform_token() {
  java -jar "$PLATFORM_JAR" token "$1" --ttl 2h --data "$DATA"
}
