#!/usr/bin/env bash
# The registry's test suite again, on PostgreSQL (issue #15): a throwaway cluster
# (scripts/postgres-cluster.sh) on a free loopback port, a fresh database per test
# (test-support/src/postgres.rs), the two-process and restart tests that need it
# (registry/tests/postgres*.rs); the cluster is stopped and removed at the end,
# whatever happened. Part of scripts/test.sh; extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
dir=$(mktemp -d /tmp/ecard-pg.XXXXXX)
trap 'scripts/postgres-cluster.sh stop "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$(scripts/postgres-cluster.sh start "$dir" "$port")
echo "registry tests on PostgreSQL: $url (cluster in $dir)" >&2
ECARD_TEST_POSTGRES="$url" ECARD_TEST_POSTGRES_CLUSTER="$dir" \
    cargo test -p ecard-registry --no-fail-fast "$@"
