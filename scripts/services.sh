#!/usr/bin/env bash
# Start or stop the real services the test suite needs, all on 127.0.0.1:
#   PostgreSQL (Debian's postgresql package) and an S3-compatible server (moto, from PyPI);
#   `start` also installs Debian's Chromium for the browser tests when it is missing.
# Usage: scripts/services.sh start|stop|env
# `start` installs what is missing, starts both, and writes .services/env with the URLs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.services"
PG_PORT="${LOOPML_TEST_PG_PORT:-55432}"
S3_PORT="${LOOPML_TEST_S3_PORT:-55900}"
PG_DATA="$STATE/pgdata"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  echo "$found"
}

install_postgres() {
  if [ -z "$(pg_bin)" ]; then
    echo "services: installing PostgreSQL from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  fi
}

install_chromium() {
  # The browser tests (tests/ui) drive Debian's Chromium through Playwright; they never
  # download a browser of their own (no `playwright install`).
  if [ ! -x /usr/bin/chromium ]; then
    echo "services: installing Chromium from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  fi
}

start_postgres() {
  install_postgres
  local bin; bin="$(pg_bin)"
  mkdir -p "$STATE"
  if [ "$(id -u)" = "0" ]; then RUN=(runuser -u postgres --); chown postgres "$STATE"; else RUN=(); fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    "${RUN[@]}" "$bin/initdb" -D "$PG_DATA" -U loopml --auth=trust -E UTF8 >/dev/null
  fi
  if ! "${RUN[@]}" "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    "${RUN[@]}" "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  fi
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U loopml -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='loopml_test'" | grep -q 1 ||
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U loopml -d postgres -qc "CREATE DATABASE loopml_test" >/dev/null
}

start_s3() {
  mkdir -p "$STATE"
  if ! "$PY" -c "import moto.server" 2>/dev/null; then
    "$PY" -m pip install -q "moto[server]>=5.0"
  fi
  if [ -f "$STATE/moto.pid" ] && kill -0 "$(cat "$STATE/moto.pid")" 2>/dev/null; then return; fi
  nohup "$PY" -m moto.server -H 127.0.0.1 -p "$S3_PORT" >"$STATE/moto.log" 2>&1 &
  echo $! >"$STATE/moto.pid"
  for _ in $(seq 1 100); do
    if "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$S3_PORT/moto-api/')" 2>/dev/null; then return; fi
    sleep 0.2
  done
  echo "services: the S3 server did not start; see $STATE/moto.log" >&2
  exit 1
}

write_env() {
  cat >"$STATE/env" <<ENV
export LOOPML_TEST_POSTGRES_URL="postgresql+psycopg://loopml@127.0.0.1:$PG_PORT/loopml_test"
export LOOPML_TEST_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1
ENV
}

stop_all() {
  local bin; bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -f "$PG_DATA/PG_VERSION" ]; then
    if [ "$(id -u)" = "0" ]; then RUN=(runuser -u postgres --); else RUN=(); fi
    "${RUN[@]}" "$bin/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
  fi
  if [ -f "$STATE/moto.pid" ]; then kill "$(cat "$STATE/moto.pid")" 2>/dev/null || true; rm -f "$STATE/moto.pid"; fi
}

case "${1:-}" in
  start) install_chromium; start_postgres; start_s3; write_env; echo "services: PostgreSQL on 127.0.0.1:$PG_PORT, S3 on 127.0.0.1:$S3_PORT" >&2 ;;
  stop) stop_all ;;
  env) write_env; cat "$STATE/env" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
