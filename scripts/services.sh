#!/usr/bin/env bash
# A throwaway PostgreSQL cluster and Redis server for the integration tests, bound to 127.0.0.1.
#   scripts/services.sh start   initdb + start both (free ports from 55432 / 56379), wait, print URLs
#   scripts/services.sh env     print `export MINSHENG_TEST_*=...` lines for the running services
#   scripts/services.sh stop    stop both and delete their data
# State lives in $MINSHENG_SERVICES_DIR (default: .services/ in the repository). PostgreSQL refuses
# to run as root, so as root the cluster belongs to the `postgres` user (created by the Debian
# package) and lives in a folder that user can reach.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
state="${MINSHENG_SERVICES_DIR:-$root/.services}"
env_file="$state/env"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin;" \
      "run: make system-deps" >&2
    exit 1
  fi
  echo "$dir"
}

# Run a PostgreSQL command as the cluster owner (ourselves, or `postgres` when we are root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port="$1"
  while ! port_free "$port"; do
    port=$((port + 1))
  done
  echo "$port"
}

# Start redis-server on $1 and wait until *this* server answers there (not another one that
# took the port first); on failure leave no pid file behind.
start_redis() {
  local port="$1" pid
  rm -f "$state/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$state/redis.pid" --logfile "$state/redis.log" \
    --dir "$state/redis" || return 1
  for _ in $(seq 1 50); do
    if [ -s "$state/redis.pid" ]; then
      pid="$(cat "$state/redis.pid")"
      if redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
        grep -q "^process_id:$pid"; then
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
    fi
    sleep 0.1
  done
  [ -s "$state/redis.pid" ] && kill "$(cat "$state/redis.pid")" 2>/dev/null
  rm -f "$state/redis.pid"
  return 1
}

print_env() {
  cat "$env_file"
}

start() {
  if [ -f "$env_file" ]; then
    echo "services already running (run '$0 stop' first); their settings:" >&2
    print_env
    return 0
  fi
  local bin pg_port redis_port pgdata
  bin="$(pg_bin)"
  command -v redis-server >/dev/null 2>&1 || {
    echo "redis-server not found; run: make system-deps" >&2
    exit 1
  }
  mkdir -p "$state"
  pg_port="$(free_port 55432)"
  redis_port="$(free_port 56379)"

  pgdata="$state/pg"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || {
      echo "running as root needs the 'postgres' user (Debian package postgresql)" >&2
      exit 1
    }
    # The postgres user must be able to reach the data folder; a repository under /root is not.
    if ! runuser -u postgres -- test -x "$state"; then
      pgdata="$(mktemp -d /tmp/minsheng-pg.XXXXXX)"
    fi
    mkdir -p "$pgdata"
    chown postgres "$pgdata"
  fi
  echo "$pgdata" >"$state/pgdata"
  mkdir -p "$pgdata"
  chmod 700 "$pgdata"

  as_owner "$bin/initdb" -D "$pgdata" -U minsheng --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
    as_owner "$bin/initdb" -D "$pgdata" -U minsheng --auth=trust --encoding=UTF8 \
      --no-locale >"$state/initdb.log" 2>&1 || {
    cat "$state/initdb.log" >&2
    exit 1
  }
  # Throwaway data: durability off makes migrations and tests several times faster.
  # Another program may take a port between the check and the bind (parallel runs, benchmarks):
  # then the server fails to start and the next free port is tried.
  for _ in $(seq 1 20); do
    if as_owner "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pgdata -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null; then
      break
    fi
    pg_port="$(free_port $((pg_port + 1)))"
  done
  as_owner "$bin/pg_ctl" -D "$pgdata" status >/dev/null || {
    cat "$pgdata/server.log" >&2
    exit 1
  }
  as_owner "$bin/createdb" -h "$pgdata" -p "$pg_port" -U minsheng minsheng_test

  mkdir -p "$state/redis"
  for _ in $(seq 1 20); do
    if start_redis "$redis_port"; then
      break
    fi
    redis_port="$(free_port $((redis_port + 1)))"
  done
  [ -f "$state/redis.pid" ] || {
    cat "$state/redis.log" >&2
    exit 1
  }

  cat >"$env_file" <<VARS
export MINSHENG_TEST_DATABASE_URL=postgresql+psycopg://minsheng@127.0.0.1:$pg_port/minsheng_test
export MINSHENG_TEST_BROKER_URL=redis://127.0.0.1:$redis_port/0
VARS
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port" >&2
  print_env
}

stop() {
  local bin pgdata
  if [ -f "$state/redis.pid" ]; then
    kill "$(cat "$state/redis.pid")" 2>/dev/null || true
    rm -f "$state/redis.pid"
  fi
  if [ -f "$state/pgdata" ]; then
    pgdata="$(cat "$state/pgdata")"
    bin="$(pg_bin)"
    if [ -f "$pgdata/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$pgdata"
    rm -f "$state/pgdata"
  fi
  rm -rf "$state/redis" "$env_file"
  echo "services stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env)
    if [ ! -f "$env_file" ]; then
      echo "services are not running; run: $0 start" >&2
      exit 1
    fi
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
