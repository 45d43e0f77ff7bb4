#!/usr/bin/env bash
# The window under load (`make load`; make test runs it once too): builds the app, starts the test
# stack if it isn't running, and runs tests/webdriver/tests/load.rs — 5,000 images in the engine, 10
# pushes at once — printing how long the page's own work held its event loop, how late its timers ran
# and why, IPC answer times and resident memory per stage, and fails past the README's bounds (make
# test prints the same figures and holds them only to bounds ten times wider). RUNS (default 1) repeats it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --workspace >&2
# shellcheck source=scripts/use-stack.sh
. scripts/use-stack.sh
status=0
for _ in $(seq 1 "${RUNS:-1}"); do
  set +e
  GHCR_LOAD_BOUNDS=1 cargo test -p ghcr-webdriver-tests --test load -- --ignored --nocapture 2>&1 | grep -E '^load:|^test |panicked|failed'
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  set -e
done
[ "$started_stack" = no ] || tests/stack/stack.sh stop
exit "$status"
