#!/usr/bin/env bash
# The ingress gateway benchmark: starts a platform of its own on a temporary data directory and free ports (as
# run.sh), runs one BusyBox container of instance type small (2 cores) with bench/backend/fast-http on port 8080
# (an epoll server: BusyBox httpd forks per request and would measure itself), and prints:
#
# 1. rule added -> first routed request (com.ecloud.compute.bench.GatewayBench): POST a rule, GET through the
#    gateway until the container answers; on port 80 and on a port of 8000-8999 whose listener opens for it.
#    Goal: < 100 ms.
# 2. wrk (2 threads, CONNECTIONS connections, DURATION s, ROUNDS interleaved rounds) against the same backend:
#    directly (the container's bridge address), through the runtime's expose endpoint that the gateway uses
#    (relay: a loopback relay on Docker), through nginx configured as a reverse proxy to that same endpoint
#    (keep-alive upstream pool, X-Forwarded-* headers, as the gateway does), and through the gateway
#    (Host: <id>.compute.localhost). Requests/s and p99 of each, and the ratio gateway/nginx (goal >= 0.9).
#
#   bench/gateway.sh                               # ROUNDS=2 DURATION=10 CONNECTIONS=32 RUNS=20
#   ROUNDS=1 DURATION=5 RUNS=5 bench/gateway.sh    # a quick look
#
# Needs root (mount, mkfs), the Docker engine, the builtin images, gcc (static), wrk and nginx (installed with
# apt-get when missing), Java 17 and Maven.
set -euo pipefail

. "$(dirname "$0")/platform.sh"

platform_check ecloud/busybox:latest-amd64
# the host scripts' installer (it keeps the packaged nginx service from starting: the benchmark runs its own),
# in a subshell so that its log/die do not replace this script's
(ECLOUD_SCRIPT_NAME=gateway-bench; . "$ROOT/scripts/lib.sh"; install_packages wrk nginx gcc libc6-dev)
platform_build
platform_prepare
NGINX_PID_FILE=
nginx_stop() {
  if [ -n "$NGINX_PID_FILE" ] && [ -f "$NGINX_PID_FILE" ]; then
    kill "$(cat "$NGINX_PID_FILE")" 2>/dev/null || true
  fi
}
trap 'status=$?; nginx_stop; (exit $status); platform_cleanup' EXIT

gcc -O2 -static -o "$DATA/fast-http" "$ROOT/bench/backend/fast-http.c"
USER_GW=bench-$RUN_ID-gw
BENCH_OWNERS=("$USER_GW")
platform_start
TOKEN=$(platform_token "$USER_GW")
API=http://127.0.0.1:$PORT

api() { # METHOD PATH [JSON] -> body on stdout, fails on a status of 300 or more
  local out status
  out=$(curl -sS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} -w '\n%{http_code}' "$API$2")
  status=${out##*$'\n'}
  [ "$status" -lt 300 ] || die "$1 $2 answered $status: ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

ssh-keygen -q -t ed25519 -N '' -C bench -f "$DATA/bench-key"
KEY_ID=$(api POST /compute/ssh-keys "{\"name\":\"bench\",\"public_key\":\"$(cat "$DATA/bench-key.pub")\"}" | json "['id']")
ID=$(api POST /compute/containers "{\"name\":\"backend\",\"instance_type\":\"small\",\"image\":\"ecloud/busybox:latest\",\"ssh_key_ids\":[$KEY_ID]}" | json "['id']")
for _ in $(seq 1 360); do
  [ "$(api GET "/compute/containers/$ID" | json "['status']")" = running ] && break
  sleep 0.5
done
NAME=ecloud-$ID
docker cp "$DATA/fast-http" "$NAME:/fast-http" >/dev/null
docker exec -d "$NAME" /fast-http 8080
BACKEND_IP=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME")
for _ in $(seq 1 50); do curl -s -o /dev/null "http://$BACKEND_IP:8080/" && break; sleep 0.1; done
HOST=$ID.compute.localhost
RULE_PORT=
for p in $(seq 8500 8999); do port_free $((p + GATEWAY_OFFSET)) && { RULE_PORT=$p; break; }; done

echo "== 1. rule added -> first routed request (${RUNS:-20} runs each after 3 warm-ups)"
java -cp "$BENCH_JAR" com.ecloud.compute.bench.GatewayBench --api "$API" --token "$TOKEN" --container "$ID" \
  --domain localhost --offset "$GATEWAY_OFFSET" --rule-port "$RULE_PORT" --target-port 8080 --runs "${RUNS:-20}" &
BENCH_PID=$!
wait "$BENCH_PID"
BENCH_PID=

api POST "/compute/containers/$ID/ingress" '{"port":80,"target_port":8080}' >/dev/null
# the endpoint the gateway reaches the container's port through (the runtime's expose: a loopback relay on
# Docker); nginx is given the same one, so that both proxies pay for the same path behind them
RELAY=$(grep -o "ingress: port 8080 of $ID is reached at [0-9.]*:[0-9]*" "$DATA/ecloud.log" | tail -n 1 | awk '{print $NF}')
[ -n "$RELAY" ] || die "the platform log does not say where port 8080 of $ID is reached"
NGINX_PORT=$(first_free_port 19600 19700)
mkdir -p "$DATA/nginx"
cat >"$DATA/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $DATA/nginx/nginx.pid;
error_log $DATA/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $DATA/nginx/body;
  proxy_temp_path $DATA/nginx/proxy;
  fastcgi_temp_path $DATA/nginx/fastcgi;
  uwsgi_temp_path $DATA/nginx/uwsgi;
  scgi_temp_path $DATA/nginx/scgi;
  upstream backend { server $RELAY; keepalive 32; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
    }
  }
}
CONF
NGINX_PID_FILE=$DATA/nginx/nginx.pid
nginx -c "$DATA/nginx/nginx.conf" -p "$DATA/nginx"
for _ in $(seq 1 50); do port_free "$NGINX_PORT" || break; sleep 0.1; done

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
declare -A RPS P99
run_wrk() { # LABEL URL [HOST]
  local out rps p99
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${3:+-H "Host: $3"} "$2")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '   %-8s %12s req/s  p99 %10s\n' "$1" "$rps" "$p99"
  RPS[$1]+="$rps "
  P99[$1]+="$p99 "
}
echo "== 2. wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ROUNDS interleaved rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
# a warm-up of each path (the JIT of the gateway, the pools)
wrk -t2 -c"$CONNECTIONS" -d3s -H "Host: $HOST" "http://127.0.0.1:$((80 + GATEWAY_OFFSET))/" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$NGINX_PORT/" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="direct relay nginx gateway"; else order="gateway nginx relay direct"; fi
  for which in $order; do
    case $which in
      direct) run_wrk direct "http://$BACKEND_IP:8080/" ;;
      relay) run_wrk relay "http://$RELAY/" ;;
      nginx) run_wrk nginx "http://127.0.0.1:$NGINX_PORT/" "$HOST" ;;
      gateway) run_wrk gateway "http://127.0.0.1:$((80 + GATEWAY_OFFSET))/" "$HOST" ;;
    esac
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "== Summary (median of $ROUNDS rounds; load average at end $(cut -d' ' -f1-3 /proc/loadavg))"
for which in direct relay nginx gateway; do
  printf '%-8s %12s req/s   p99 (each round) %s\n' "$which" "$(median <<<"${RPS[$which]}")" "${P99[$which]}"
done
G=$(median <<<"${RPS[gateway]}")
N=$(median <<<"${RPS[nginx]}")
printf 'ratio gateway/nginx %.2f (goal >= 0.90)\n' "$(echo "$G / $N" | bc -l)"
