# Sourced by the measurement scripts (bench-images, bench-push, load, startup-memory) from the repo's
# root: starts the test stack unless it runs, exports its environment (target/stack/env), and sets
# started_stack=yes when it started it, for the script to stop it again at its end.
started_stack=no
# Read whole first: `grep -q` stops reading at a match, and under pipefail the writer's SIGPIPE would
# make a running stack look stopped.
stack_status=$(tests/stack/stack.sh status)
if ! grep -q '^dockerd: running' <<<"$stack_status"; then
  tests/stack/stack.sh start
  started_stack=yes
fi
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a
