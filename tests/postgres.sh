#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests and prints its postgres:// URL on stdout.
#
#   tests/postgres.sh          start (or reuse) the server, create the database, print the URL
#   tests/postgres.sh stop     stop the server and delete its directory
#
# Idempotent and non-interactive: installs Debian's postgresql package when no initdb is
# found, keeps the cluster in $LIVEWASM_PG_DIR (default ${TMPDIR:-/tmp}/livewasm-postgres),
# listens on 127.0.0.1 only, on a free port, with trust authentication. As root the server
# runs as the `postgres` user (initdb refuses root). Everything but the URL goes to stderr.
#
# Typical use:
#   LIVEWASM_TEST_DATABASE_URL=$(tests/postgres.sh) cargo test -p livewasm-registry
set -euo pipefail

DIR="${LIVEWASM_PG_DIR:-${TMPDIR:-/tmp}/livewasm-postgres}"
DATA="$DIR/data"
DB="${LIVEWASM_PG_DATABASE:-livewasm}"
log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
        echo "$d"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

BIN=$(find_bindir)
if [ -z "$BIN" ]; then
    if [ "${1:-start}" = stop ]; then exit 0; fi
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL is not installed and installing it needs root"
        exit 1
    fi
    log "installing postgresql from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN=$(find_bindir)
    [ -n "$BIN" ] || { log "initdb still not found after installing postgresql"; exit 1; }
fi

if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
    OWNER=postgres
else
    as_pg() { "$@"; }
    OWNER=$(id -un)
fi

running() { [ -f "$DATA/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

if [ "${1:-start}" = stop ]; then
    if running; then
        as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    fi
    rm -rf "$DIR"
    log "stopped"
    exit 0
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! running; then
    mkdir -p "$DIR"
    chown "$OWNER" "$DIR"
    chmod 700 "$DIR"
    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$DATA"
        log "initdb in $DATA"
        as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
    fi
    PORT=""
    if [ -f "$DIR/port" ] && port_free "$(cat "$DIR/port")"; then
        PORT=$(cat "$DIR/port")
    else
        for _ in $(seq 1 100); do
            candidate=$((20000 + RANDOM % 20000))
            if port_free "$candidate"; then PORT=$candidate; break; fi
        done
    fi
    [ -n "$PORT" ] || { log "no free port found"; exit 1; }
    echo "$PORT" >"$DIR/port"
    log "starting on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
fi

PORT=$(cat "$DIR/port")
PSQL=("$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
if [ "$("${PSQL[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    "${PSQL[@]}" -c "CREATE DATABASE \"$DB\"" >&2
fi
echo "postgres://postgres@127.0.0.1:$PORT/$DB"
