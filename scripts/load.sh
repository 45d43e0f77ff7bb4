#!/usr/bin/env bash
# The window under load (`make load`; make test runs it once too): builds the app, starts the test
# stack if it isn't running, and runs tests/webdriver/tests/load.rs — 5,000 images in the engine, 10
# pushes at once — printing how long the page's own work held its event loop, how late its timers ran
# and why, IPC answer times and resident memory per stage. RUNS (default 1) repeats it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --workspace >&2
started_stack=no
# (Read whole first: `grep -q` stops reading at a match, and under pipefail the writer's SIGPIPE would
# make a running stack look stopped.)
stack_status=$(tests/stack/stack.sh status)
if ! grep -q '^dockerd: running' <<<"$stack_status"; then
  tests/stack/stack.sh start
  started_stack=yes
fi
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a
status=0
for _ in $(seq 1 "${RUNS:-1}"); do
  set +e
  cargo test -p ghcr-webdriver-tests --test load -- --ignored --nocapture 2>&1 | grep -E '^load:|^test |panicked|failed'
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  set -e
done
[ "$started_stack" = no ] || tests/stack/stack.sh stop
exit "$status"
