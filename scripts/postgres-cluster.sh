#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the registry's tests and benchmarks (issue
# #15): made with Debian's postgresql binaries in a directory of its own, owned
# and run by the `postgres` user (the server refuses root), listening on loopback
# only, trust authentication for local connections (nothing else can reach it),
# byte-wise text ordering (--locale=C, what the registry requires). No service is
# installed or left running: `stop` ends it and removes the directory.
#
#   scripts/postgres-cluster.sh start DIR [PORT]   # prints the admin URL
#   scripts/postgres-cluster.sh stop DIR
#   scripts/postgres-cluster.sh restart DIR        # (fast shutdown, start again)
#   scripts/postgres-cluster.sh crash-restart DIR  # (immediate stop — no shutdown
#       checkpoint, as a crash or a failover looks — then start: WAL recovery)
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bin/initdb" ]] || { echo "postgres-cluster: PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:?start|stop|restart}
dir=${2:?cluster directory}
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# fsync stays on: the restart test means what it says. Small shared buffers: a test
# cluster beside the build. The port is kept in DIR/port for the restarts.
pg_start() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 180 \
        -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/port") -k $dir -c max_connections=300 -c shared_buffers=64MB" start >/dev/null
}

case "$cmd" in
start)
    port=${3:-55432}
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        as_pg "$bin/initdb" -D "$dir/data" --locale=C --encoding=UTF8 --auth=trust -U postgres >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    echo "$port" >"$dir/port"
    pg_start
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
restart)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 180 stop >/dev/null
    pg_start
    ;;
crash-restart)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 180 stop >/dev/null
    pg_start
    ;;
*)
    echo "usage: $0 start|stop|restart DIR [PORT]" >&2
    exit 2
    ;;
esac
