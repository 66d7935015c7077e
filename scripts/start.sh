#!/usr/bin/env bash
# scripts/start.sh — the first command on a fresh machine: installs what is missing, starts the Docker engine
# and the internal registry, builds the builtin images and the platform, starts it on its embedded defaults
# (H2 in ./data, the local Docker engine) and prints the API URL and a token.
#
# Usage: scripts/start.sh [--data DIR] [--port N] [--user UID] [--skip-build]
#   --data DIR     data directory (default ./data): database, signing key, volumes, configuration (DIR/etc)
#   --port N       API port on 127.0.0.1 (default 9080)
#   --user UID     user id of the printed token (default demo)
#   --skip-build   reuse launcher/target/ecloud-compute.jar
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
source scripts/lib.sh

DATA=./data PORT=9080 USER_ID=demo BUILD=true
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift ;;
    --port) PORT=$2; shift ;;
    --user) USER_ID=$2; shift ;;
    --skip-build) BUILD=false ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done
mkdir -p "$DATA"
DATA=$(readlink -f "$DATA")
JAR=launcher/target/ecloud-compute.jar

command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless; }
command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven; }
bash scripts/host-services.sh --no-postgres
bash scripts/build-images.sh
if $BUILD || [ ! -f "$JAR" ]; then
  log "building the platform (mvn install, tests skipped: scripts/run-tests.sh runs them)"
  t=$(now_s)
  mvn -B -ntp -q install -DskipTests
  log "built in $(elapsed "$t") s"
fi

PIDFILE="$DATA/ecloud.pid"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "stopping the running platform (pid $(cat "$PIDFILE"))"
  kill "$(cat "$PIDFILE")"
  for _ in $(seq 1 50); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.2; done
fi
log "starting: java -jar $JAR serve --data $DATA --port $PORT (log: $DATA/ecloud.log)"
nohup java -jar "$JAR" serve --data "$DATA" --port "$PORT" </dev/null >>"$DATA/ecloud.log" 2>&1 &
echo $! >"$PIDFILE"

URL="http://127.0.0.1:$PORT"
t=$(now_s)
until curl -sf "$URL/readyz" >/dev/null 2>&1; do
  kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -n 40 "$DATA/ecloud.log" >&2; die "the platform exited; see $DATA/ecloud.log"; }
  [ "$(awk -v s="$t" -v e="$(now_s)" 'BEGIN{print (e-s>180)}')" = 1 ] && die "not ready after 180 s; see $DATA/ecloud.log"
  sleep 0.5
done
log "ready in $(elapsed "$t") s"
TOKEN=$(java -jar "$JAR" token "$USER_ID" --ttl 24h --data "$DATA" 2>>"$DATA/ecloud.log")
echo
echo "API:   $URL/compute"
echo "SSH:   each container's ssh_command (ssh -p 2222 <id>@localhost by default), once its ssh_enabled is true"
echo "Web:   rules of <id> on port P at http://<id>.compute.localhost:<P + 10000>/ (the ingress gateway; HTTPS on"
echo "       10443 with the CA in $DATA/secrets/gateway/ca.pem; curl --resolve <id>.compute.localhost:10080:127.0.0.1 ...)"
echo "Token: $TOKEN"
echo
echo "Try:   export TOKEN=$TOKEN"
echo "       curl -H \"Authorization: Bearer \$TOKEN\" $URL/compute/images"
echo "Stop:  kill \$(cat $PIDFILE)"
