#!/usr/bin/env bash
# The suite again, with the clock of every test process moved far from the day it
# was written (issue: "the suite passes on any date"). Cargo itself runs on the real
# clock (its freshness checks compare file times); only the already-built test
# binaries — and every process they start: ecardd, ecard-registry, ecard-sim, pcscd,
# chromedriver and chromium — run under libfaketime, through cargo's target runner
# (scripts/moved-clock-run). Doc-tests are not run here: rustdoc does not use the
# runner; they run on the real clock in scripts/test.sh.
#
#   ECARD_MOVED_CLOCK="2029-04-01 09:00:00" scripts/test-moved-clock.sh
#
# The default date sits on a boundary: 1 April, the first day a missing annual
# review counts as overdue, of a year three years ahead.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
moved_to="${ECARD_MOVED_CLOCK:-2029-04-01 09:00:00}"
# One offset for every process (libfaketime's relative form "+N" seconds): processes
# started at different moments still agree on the time, as signed requests need.
offset=$(( $(date -d "$moved_to" +%s) - $(date +%s) ))
export ECARD_FAKETIME_OFFSET="+${offset}"
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
export "$runner_var=$PWD/scripts/moved-clock-run"
echo "moved clock: test processes start at $moved_to (offset ${offset} s from $(date '+%F %T'))" >&2
cargo build --workspace --bins
cargo test --workspace --no-fail-fast --lib --bins --tests "$@"
