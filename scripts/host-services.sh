#!/usr/bin/env bash
# host-services.sh — prepare this host for ecloud compute (idempotent).
#
# Installs what is missing (apt-get), then starts, each only when not already answering:
#   * dockerd              (/var/run/docker.sock, log /var/log/ecloud-dockerd.log)
#   * binfmt qemu-aarch64  (arm64 images run here under qemu-user-static, F flag)
#   * image registry       (Debian's docker-registry on 127.0.0.1:5000, data /var/lib/ecloud-registry,
#                           config /etc/ecloud/registry.yml, log /var/log/ecloud-registry.log)
#   * PostgreSQL 15        (cluster 15/main on 127.0.0.1:5432, role ecloud/ecloud, database ecloud_test)
#
# There is no systemd here: daemons are started in the background with setsid and keep running
# after this script exits.
#
# Usage: scripts/host-services.sh [--no-postgres] [--no-registry]
set -euo pipefail

ECLOUD_SCRIPT_NAME=host-services
# shellcheck source=scripts/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

WITH_POSTGRES=true
WITH_REGISTRY=true
for arg in "$@"; do
  case "$arg" in
    --no-postgres) WITH_POSTGRES=false ;;
    --no-registry) WITH_REGISTRY=false ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown option: $arg (known: --no-postgres --no-registry)" ;;
  esac
done

# One run at a time (two engineers or CI steps may call this concurrently); daemons below get `9>&-`.
one_run_at_a_time host-services 300

DOCKERD_LOG=/var/log/ecloud-dockerd.log
DOCKERD_PIDFILE=/var/run/docker.pid     # dockerd's default --pidfile
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR=/var/lib/ecloud-registry
REGISTRY_CONF=/etc/ecloud/registry.yml
REGISTRY_LOG=/var/log/ecloud-registry.log
REGISTRY_PID=/var/run/ecloud-registry.pid
PG_VERSION=15
PG_CLUSTER=main
PG_PORT=5432
PG_DB=ecloud_test
PG_USER=ecloud
PG_PASSWORD=ecloud

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s until it succeeds.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.5
  done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------------------------
PACKAGES=(docker.io postgresql debootstrap qemu-user-static binfmt-support busybox-static
          docker-registry e2fsprogs openssh-client curl jq util-linux python3)

# ---------------------------------------------------------------------------------------------
# 2. dockerd
# ---------------------------------------------------------------------------------------------
start_dockerd() {
  if docker_answers; then
    docker_env
    log "dockerd: already answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    return 0
  fi
  local pidfile=$DOCKERD_PIDFILE pid
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if pid_alive "$pid"; then
      # A dockerd exists but does not answer yet (starting up, or stuck): give it time.
      log "dockerd: pid $pid exists but does not answer yet; waiting"
      if wait_for 60 dockerd docker_answers; then
        docker_env
        log "dockerd: answering"
        return 0
      fi
      die "dockerd (pid $pid) does not answer after 60 s; see $DOCKERD_LOG"
    fi
    log "dockerd: removing stale $pidfile (pid ${pid:-?} is gone)"
    rm -f "$pidfile"
  fi
  # (a containerd left behind by a dead dockerd is adopted or replaced by dockerd itself)
  log "dockerd: starting (log $DOCKERD_LOG)"
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  local start=$SECONDS
  if ! wait_for 60 dockerd docker_answers; then
    tail -n 20 "$DOCKERD_LOG" >&2 || true
    die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
  fi
  docker_env
  log "dockerd: answering after $((SECONDS - start)) s ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
}

# ---------------------------------------------------------------------------------------------
# 3. binfmt for arm64 (qemu-user-static)
# ---------------------------------------------------------------------------------------------
BINFMT_DIR=/proc/sys/fs/binfmt_misc
BINFMT_ENTRY=$BINFMT_DIR/qemu-aarch64

binfmt_ok() {
  [ -f "$BINFMT_ENTRY" ] && head -n1 "$BINFMT_ENTRY" | grep -qx enabled
}

setup_binfmt() {
  if [ ! -f "$BINFMT_DIR/register" ]; then
    log "binfmt: mounting binfmt_misc on $BINFMT_DIR"
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" || die "cannot mount binfmt_misc (needs a privileged host)"
  fi
  if [ "$(cat "$BINFMT_DIR/status" 2>/dev/null)" != enabled ]; then
    echo 1 >"$BINFMT_DIR/status"
  fi
  if ! binfmt_ok; then
    # binfmt-support knows the format once qemu-user-static's postinst imported it;
    # import it ourselves when that did not happen (e.g. installed without binfmt-support).
    if ! update-binfmts --display qemu-aarch64 >/dev/null 2>&1; then
      log "binfmt: importing /usr/share/binfmts/qemu-aarch64"
      update-binfmts --importdir /usr/share/binfmts --import qemu-aarch64 >/dev/null
    fi
    log "binfmt: enabling qemu-aarch64"
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
  if ! binfmt_ok; then
    # Last resort: register directly through the kernel interface (F = fix binary, so the
    # interpreter is opened now and also works inside containers and chroots).
    log "binfmt: registering qemu-aarch64 directly"
    [ -f "$BINFMT_ENTRY" ] && echo -1 >"$BINFMT_ENTRY"
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:FP' \
      >"$BINFMT_DIR/register"
  fi
  binfmt_ok || die "binfmt: qemu-aarch64 is not enabled"
  local flags interp
  flags=$(sed -n 's/^flags: *//p' "$BINFMT_ENTRY")
  interp=$(sed -n 's/^interpreter *//p' "$BINFMT_ENTRY")
  case "$flags" in
    *F*) log "binfmt: qemu-aarch64 enabled (interpreter $interp, flags $flags)" ;;
    *)   warn "binfmt: qemu-aarch64 enabled without the F flag (flags '$flags'): arm64 binaries will not run inside containers" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# 4. internal image registry (Docker Distribution v2) on 127.0.0.1:5000
# ---------------------------------------------------------------------------------------------
registry_answers() { curl -sf -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/"; }

write_registry_config() {
  # Prints "changed" when the file was (re)written.
  mkdir -p "$(dirname "$REGISTRY_CONF")" "$REGISTRY_DIR"
  local tmp
  tmp=$(mktemp "$REGISTRY_CONF.XXXXXX")
  cat >"$tmp" <<EOF
# Written by scripts/host-services.sh — ecloud's internal image registry (Docker Distribution v2).
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 30s
    threshold: 3
EOF
  chmod 0644 "$tmp"
  if [ -f "$REGISTRY_CONF" ] && cmp -s "$tmp" "$REGISTRY_CONF"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$REGISTRY_CONF"
    echo changed
  fi
}

start_registry() {
  local changed pid
  changed=$(write_registry_config)
  pid=$(cat "$REGISTRY_PID" 2>/dev/null || true)
  if registry_answers; then
    if [ -n "$changed" ] && pid_alive "$pid"; then
      log "registry: $REGISTRY_CONF changed; restarting pid $pid"
      kill "$pid"
      wait_for 15 "registry stop" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    else
      log "registry: already answering on http://$REGISTRY_ADDR/v2/"
      return 0
    fi
  fi
  if pid_alive "$pid"; then
    log "registry: pid $pid does not answer; stopping it"
    kill "$pid" 2>/dev/null || true
    sleep 1
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$REGISTRY_PID"
  log "registry: starting docker-registry serve $REGISTRY_CONF (log $REGISTRY_LOG)"
  setsid nohup docker-registry serve "$REGISTRY_CONF" >>"$REGISTRY_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$REGISTRY_PID"
  if ! wait_for 30 registry registry_answers; then
    tail -n 20 "$REGISTRY_LOG" >&2 || true
    die "registry did not answer on http://$REGISTRY_ADDR/v2/ within 30 s; see $REGISTRY_LOG"
  fi
  log "registry: answering on http://$REGISTRY_ADDR/v2/ (data $REGISTRY_DIR)"
}

# ---------------------------------------------------------------------------------------------
# 5. PostgreSQL 15
# ---------------------------------------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
psql_admin() ( cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@" )

start_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    log "postgres: creating cluster $PG_VERSION/$PG_CLUSTER"
    pg_createcluster --port "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER" >/dev/null
  fi
  local port
  port=$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c { print $3 }')
  [ "$port" = "$PG_PORT" ] || die "postgres: cluster $PG_VERSION/$PG_CLUSTER is configured for port $port, expected $PG_PORT"
  if pg_ready; then
    log "postgres: $PG_VERSION/$PG_CLUSTER already answering on 127.0.0.1:$PG_PORT"
  else
    log "postgres: starting $PG_VERSION/$PG_CLUSTER"
    # A stale postmaster.pid (after an unclean stop) is handled by pg_ctl itself.
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >/dev/null 2>&1 9>&- \
      || pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1 \
      || { tail -n 20 "/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log" >&2 || true; die "postgres: pg_ctlcluster start failed"; }
    wait_for 60 postgres pg_ready || die "postgres: not answering on 127.0.0.1:$PG_PORT after 60 s"
    log "postgres: answering on 127.0.0.1:$PG_PORT"
  fi
  # Role and database (idempotent; the password is reset every time so it is known).
  psql_admin -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
SQL
  if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
    log "postgres: creating database $PG_DB owned by $PG_USER"
    psql_admin -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_USER"
  else
    psql_admin -d postgres -c "ALTER DATABASE $PG_DB OWNER TO $PG_USER"
  fi
  # Check the password login over TCP, as the tests will do it.
  PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -tAc 'SELECT 1' >/dev/null \
    || die "postgres: cannot log in as $PG_USER to $PG_DB over 127.0.0.1:$PG_PORT"
  log "postgres: ready — jdbc:postgresql://127.0.0.1:$PG_PORT/$PG_DB (user $PG_USER, password $PG_PASSWORD)"
}

# ---------------------------------------------------------------------------------------------
t0=$(now_s)
install_packages "${PACKAGES[@]}"
start_dockerd
setup_binfmt
if $WITH_REGISTRY; then start_registry; else log "registry: skipped (--no-registry)"; fi
if $WITH_POSTGRES; then start_postgres; else log "postgres: skipped (--no-postgres)"; fi
if [ -n "${DOCKER_API_VERSION:-}" ]; then
  log "note: the docker client needs DOCKER_API_VERSION=$DOCKER_API_VERSION with this daemon"
fi
log "done in $(elapsed "$t0") s"
