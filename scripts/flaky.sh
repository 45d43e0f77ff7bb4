#!/usr/bin/env bash
# `make flaky RUNS=N`: looks for flaky tests on purpose. Builds, starts the test stack once (or uses the
# running one), then RUNS times: the WebDriver suite, and the engine-facing tests on each engine of the
# matrix (dockerd 20.10's classic store; Docker 26's containerd store with the drag-to-push window
# test; Podman). Never runs a failure again: every failure is printed at the end with its test, the
# log that holds it and the screenshots of its run (target/flaky/RUN-PART/). Exits 1 if any failed.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-5}
# The same build as make test's (clippy-driver for the workspace's crates), so one after the other
# compiles nothing twice.
# shellcheck source=scripts/clippy-build-env.sh
. scripts/clippy-build-env.sh
cargo build --workspace --all-targets >&2 || exit 1
# shellcheck source=scripts/use-stack.sh
. scripts/use-stack.sh
work=target/flaky
rm -rf "$work"
mkdir -p "$work"
failures="$work/failures.txt"
: >"$failures"
engine_tests=(--test engine --test images --test cli --test push_engine --test push_direct --test push_zstd --test push_cancel --test packages)

# part RUN NAME ENGINE CARGO-TEST-ARGS…: one cargo test run against ENGINE (classic, containerd or
# podman), its failures noted.
part() {
  local run=$1 name=$2 engine=$3 host
  shift 3
  case $engine in
    classic) host=$GHCR_TEST_ENGINE_CLASSIC ;;
    containerd) host=$GHCR_TEST_ENGINE_CONTAINERD ;;
    podman) host=$GHCR_TEST_ENGINE_PODMAN ;;
  esac
  local dir="$work/$run-$name" started=$SECONDS
  mkdir -p "$dir"
  rm -f target/webdriver/*.png
  DOCKER_HOST=$host GHCR_TEST_ENGINE=$engine cargo test "$@" >"$dir/log" 2>&1
  local status=$?
  local names
  names=$(awk '/^failures:$/ { listing = 1; next } listing && /^    [^ ]/ { print $1; next } listing && !/^$/ { listing = 0 }' "$dir/log" | sort -u)
  cp target/webdriver/*.png "$dir/" 2>/dev/null || true
  local counted
  counted=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i - 1); if ($(i) ~ /^failed;?$/) f += $(i - 1) } } END { printf "%d passed, %d failed", p, f }' "$dir/log")
  printf 'run %s, %-10s %s (%d s)\n' "$run" "$name:" "$counted" $((SECONDS - started))
  if [ "$status" != 0 ] && [ -z "$names" ]; then names="(no test named: the run itself failed, exit $status)"; fi
  while IFS= read -r test; do
    [ -n "$test" ] && printf '%s\t%s\t%s\n' "$run-$name" "$test" "$dir" >>"$failures"
  done <<<"$names"
}

for run in $(seq 1 "$runs"); do
  part "$run" webdriver classic -p ghcr-webdriver-tests --no-fail-fast
  part "$run" classic classic --workspace --no-fail-fast "${engine_tests[@]}"
  part "$run" containerd containerd --workspace --no-fail-fast "${engine_tests[@]}" --test pushes_view
  part "$run" podman podman --workspace --no-fail-fast "${engine_tests[@]}"
done

[ "$started_stack" = no ] || tests/stack/stack.sh stop >/dev/null
count=$(wc -l <"$failures")
echo
echo "make flaky: $runs runs, $count failures"
while IFS=$'\t' read -r part test dir; do
  echo "  $part: $test"
  echo "    log: $dir/log"
  echo "    screenshots: $(cd "$dir" && ls -- *.png 2>/dev/null | tr '\n' ' ')"
done <"$failures"
[ "$count" = 0 ]
