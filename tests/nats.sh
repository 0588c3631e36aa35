#!/usr/bin/env bash
# Starts a throwaway NATS server for tests and prints its nats:// URL on stdout.
#
#   tests/nats.sh          start (or reuse) the server, print the URL
#   tests/nats.sh stop     stop the server and delete its directory
#
# Idempotent and non-interactive: installs Debian's nats-server package when no nats-server
# is found (as root), keeps its pid, port and log in $LIVEWASM_NATS_DIR (default
# ${TMPDIR:-/tmp}/livewasm-nats), listens on 127.0.0.1 only, on a free port. Everything but
# the URL goes to stderr.
#
# Typical use:
#   LIVEWASM_TEST_NATS_URL=$(tests/nats.sh) cargo test -p livewasm-integration-tests --test cluster_pubsub
set -euo pipefail

DIR="${LIVEWASM_NATS_DIR:-${TMPDIR:-/tmp}/livewasm-nats}"
log() { echo "nats.sh: $*" >&2; }

running() {
    [ -f "$DIR/pid" ] && [ -f "$DIR/port" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null
}

if [ "${1:-start}" = stop ]; then
    if running; then
        pid=$(cat "$DIR/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$DIR"
    log "stopped"
    exit 0
fi

BIN=$(command -v nats-server || true)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" != 0 ]; then
        log "nats-server is not installed and installing it needs root (apt-get install nats-server)"
        exit 1
    fi
    log "installing nats-server from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq nats-server >&2
    BIN=$(command -v nats-server || true)
    [ -n "$BIN" ] || { log "nats-server still not found after installing it"; exit 1; }
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! running; then
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    PORT=""
    for _ in $(seq 1 100); do
        candidate=$((20000 + RANDOM % 20000))
        if port_free "$candidate"; then PORT=$candidate; break; fi
    done
    [ -n "$PORT" ] || { log "no free port found"; exit 1; }
    log "starting on 127.0.0.1:$PORT"
    # Detached from this shell (its own session), so it outlives the caller.
    setsid "$BIN" --addr 127.0.0.1 --port "$PORT" --log "$DIR/server.log" \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/pid"
    echo "$PORT" >"$DIR/port"
    for _ in $(seq 1 100); do
        if ! port_free "$PORT"; then break; fi
        if ! kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
            log "nats-server exited at start:"
            cat "$DIR/server.log" >&2 || true
            rm -f "$DIR/pid"
            exit 1
        fi
        sleep 0.1
    done
    if port_free "$PORT"; then
        log "nats-server does not listen on 127.0.0.1:$PORT"
        cat "$DIR/server.log" >&2 || true
        exit 1
    fi
fi

echo "nats://127.0.0.1:$(cat "$DIR/port")"
