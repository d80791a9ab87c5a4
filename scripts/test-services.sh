#!/usr/bin/env bash
# Real backing services for tests, load tests and drills, on loopback and free ports:
# a Postgres primary, a streaming replica of it, and Redis.
#
#   scripts/test-services.sh up     start them (installing what is missing) and print the env to use
#   scripts/test-services.sh down   stop them and remove their data
#   scripts/test-services.sh env    print the env of the running set
#
# The env (DATABASE_URL, DATABASE_REPLICA_URLS, REDIS_URL, ...) uses the service's own config names,
# so `set -a; . "$TEST_SERVICES_DIR/env"; set +a` points the app, k6 runs or drills at them.
set -euo pipefail

STATE_DIR=${TEST_SERVICES_DIR:-/tmp/rag-platform-test-services}
ENV_FILE="$STATE_DIR/env"
cd "$(dirname "$0")/.."

log() { echo "test-services: $*" >&2; }

# Distinct free loopback ports below the kernel's ephemeral range (test-support/free-port.ts says
# why: a port from that range can be taken by any outgoing connection before the server binds it).
free_ports() {
  node -r ts-node/register/transpile-only test-support/free-port.ts "$1"
}

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Postgres refuses to run as root: as root, run it as the unprivileged `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Polls the command until it succeeds, for up to 60 s (a busy machine is slow); gives up at once
# when the process it waits for has exited, since waiting longer cannot help then.
wait_for() {
  local what=$1 pid=$2
  shift 2
  local deadline=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$what exited"
      return 1
    fi
    sleep 0.1
  done
  log "$what did not come up within 60 s"
  return 1
}

# Redis on a free port. It runs in the foreground of its own session rather than daemonized, so
# its pid is known at once and a failed bind shows as an exit, not as a long wait. A port taken
# between the pick and the bind (by a server some other process started meanwhile) costs one more
# try on another port, not the run.
# Called from up(): bash's dynamic scope lends it up's locals (bin, pg_port).
replica_streaming() {
  [ "$(as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -Atc \
    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" postgres)" = 1 ]
}

redis_is() {
  redis-cli -p "$1" info server 2>/dev/null | grep -q "^process_id:$2"$'\r'
}

start_redis() {
  local port pid
  for _ in 1 2 3; do
    port=$(free_ports 1)
    : >"$STATE_DIR/redis.log"
    setsid redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
      --logfile "$STATE_DIR/redis.log" --dir "$STATE_DIR" \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$STATE_DIR/redis.pid"
    # The probe asks for the server's pid: on a taken port, someone else's server would answer.
    if wait_for "redis on :$port" "$pid" redis_is "$port" "$pid"; then
      redis_port=$port
      return 0
    fi
    tail -n 5 "$STATE_DIR/redis.log" >&2 || true
    grep -q "Address already in use" "$STATE_DIR/redis.log" 2>/dev/null || return 1
  done
  return 1
}

up() {
  if [ -f "$ENV_FILE" ] && status >/dev/null 2>&1; then
    cat "$ENV_FILE"
    return 0
  fi
  down >/dev/null 2>&1 || true
  bash scripts/tools/debian-packages.sh
  local bin
  bin=$(pg_bin_dir)
  [ -n "$bin" ] || { log "no Postgres server binaries found; install the Debian package 'postgresql'"; exit 1; }

  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
  local primary="$STATE_DIR/pg-primary" replica="$STATE_DIR/pg-replica" sockets="$STATE_DIR/sockets" logs="$STATE_DIR/logs"
  mkdir -p "$primary" "$replica" "$sockets" "$logs"
  [ "$(id -u)" = 0 ] && chown postgres: "$primary" "$replica" "$sockets" "$logs"
  chmod 700 "$primary" "$replica"

  local pg_port replica_port redis_port
  { read -r pg_port && read -r replica_port; } < <(free_ports 2)

  as_pg "$bin/initdb" -D "$primary" -U postgres --auth=trust --no-sync -E UTF8 >"$logs/initdb.log"
  # The superuser (the bootstrap, the tests' admin connections) and replication are trusted on
  # loopback; every other user proves its password, so the service's credentials are real secrets
  # and a revoked or rotated one really stops working. The replica copies this file.
  cat >"$primary/pg_hba.conf" <<EOF
local all all trust
host all postgres 127.0.0.1/32 trust
host replication postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
EOF
  cat >>"$primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$sockets'
wal_level = replica
max_wal_senders = 5
hot_standby = on
max_connections = 200
fsync = off
full_page_writes = off
EOF
  as_pg "$bin/pg_ctl" -D "$primary" -l "$logs/pg-primary.log" -w start >/dev/null
  as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE rag" postgres
  # Least-privilege roles as the platform's bootstrap makes them (catalog/database-roles.ts): the
  # service logs in with DML only, migrations with the schema owner's role. Roles replicate.
  # One process for all of it: each node process from TypeScript sources costs a second or more.
  local roles="node -r ts-node/register/transpile-only scripts/database-roles.ts"
  local service_password migrator_password vault_password exporter_password
  { read -r service_password && read -r migrator_password && read -r vault_password &&
    read -r exporter_password; } < <($roles password password password password)
  $roles bootstrap rag \
    static "$vault_password" "$exporter_password" \
    login service rag_app "$service_password" \
    login migrator rag_migrate "$migrator_password" |
    as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -v ON_ERROR_STOP=1 rag >"$logs/roles.log" 2>&1 ||
    { log "creating the database roles failed; see $logs/roles.log"; exit 1; }

  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres -D "$replica" -R -X stream -c fast
  cat >>"$replica/postgresql.conf" <<EOF
port = $replica_port
EOF
  as_pg "$bin/pg_ctl" -D "$replica" -l "$logs/pg-replica.log" -w start >/dev/null
  wait_for "the replica's streaming" "$(head -n 1 "$replica/postmaster.pid")" replica_streaming ||
    { log "replica is not streaming; see $logs/pg-replica.log"; exit 1; }

  start_redis || { log "redis did not come up; see $STATE_DIR/redis.log"; exit 1; }

  cat >"$ENV_FILE" <<EOF
DATABASE_URL=postgres://rag_app:$service_password@127.0.0.1:$pg_port/rag
DATABASE_REPLICA_URLS=postgres://rag_app:$service_password@127.0.0.1:$replica_port/rag
MIGRATION_DATABASE_URL=postgres://rag_migrate:$migrator_password@127.0.0.1:$pg_port/rag
TEST_DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:$pg_port/rag
TEST_DATABASE_REPLICA_ADMIN_URL=postgres://postgres@127.0.0.1:$replica_port/rag
TEST_VAULT_DATABASE_URL=postgres://vault_admin:$vault_password@127.0.0.1:$pg_port/rag
TEST_EXPORTER_DATABASE_URL=postgres://rag_exporter:$exporter_password@127.0.0.1:$pg_port/rag
REDIS_URL=redis://127.0.0.1:$redis_port
TEST_SERVICES_DIR=$STATE_DIR
TEST_PG_BIN=$bin
TEST_PG_PRIMARY_DIR=$primary
TEST_PG_REPLICA_DIR=$replica
TEST_PG_PORT=$pg_port
TEST_PG_REPLICA_PORT=$replica_port
TEST_REDIS_PORT=$redis_port
EOF
  log "Postgres primary :$pg_port, streaming replica :$replica_port, Redis :$redis_port"
  cat "$ENV_FILE"
}

status() {
  [ -f "$ENV_FILE" ] || return 1
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  "$TEST_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$TEST_PG_PORT" &&
    "$TEST_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$TEST_PG_REPLICA_PORT" &&
    redis-cli -p "$TEST_REDIS_PORT" ping >/dev/null
}

down() {
  local bin
  bin=$(pg_bin_dir)
  for dir in "$STATE_DIR/pg-replica" "$STATE_DIR/pg-primary"; do
    if [ -f "$dir/postmaster.pid" ] && [ -n "$bin" ]; then
      as_pg "$bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
  if [ -f "$STATE_DIR/redis.pid" ]; then
    kill "$(cat "$STATE_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$STATE_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) cat "$ENV_FILE" ;;
  status) status && echo running ;;
  *)
    echo "usage: $0 up|down|env|status" >&2
    exit 2
    ;;
esac
