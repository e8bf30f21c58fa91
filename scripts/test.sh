#!/usr/bin/env bash
# The project's test command: PC/SC packages, all binaries (hardware-tests spawn
# ecard-sim from target/<profile>/), then every test of the workspace.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -- --nocapture`).
# --no-fail-fast: one failing test binary does not hide the others; the exit status
# is still non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
cargo build --workspace --bins
status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
# The registry's suite once more on its PostgreSQL back end (#15), in a cluster
# of its own that is gone afterwards.
scripts/test-registry-postgres.sh "$@" || status=$?
exit "$status"
