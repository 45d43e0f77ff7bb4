#!/usr/bin/env bash
# `make test`: the quality gates (fmt, clippy), a build of the app, then every test against the real test
# stack — unit, integration, WebDriver, time-boxed fuzzing, the engine-restart, registry-restart,
# disk-full and load (5,000 images and 10 pushes in the window) checks, the engine matrix, `make package`
# and the install test of the .deb in a clean Debian root, the engine-down checks — and a count of each.
# The stack is stopped at the end, also on failure; its logs stay in target/stack/logs.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out="$repo/target/test-output"
mkdir -p "$out"

# Each step says when it began (minutes:seconds since this script started), so a slow run shows where.
step() { printf '\n==> [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
die() { printf '\nmake test: %s\n' "$*" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all --check || die "formatting differs: run cargo fmt --all"

# One build of every target (the app, the CLI, the emulator, each test binary) with clippy's lints as
# errors: clippy-driver compiles the workspace's own crates (what `cargo clippy` does, through
# scripts/clippy-build-env.sh), so the dependencies are built once, not checked by clippy and then
# built again (5 minutes of a 2-core machine). Every cargo command below runs with the same settings,
# so none of them compiles anything again.
# shellcheck source=scripts/clippy-build-env.sh
. scripts/clippy-build-env.sh
step "build everything, clippy's lints as errors (cargo clippy --all-targets -- -D warnings, as a build)"
cargo build --workspace --all-targets || die "the build failed or clippy found problems"

step "start the test stack"
trap 'step "stop the test stack"; tests/stack/stack.sh stop' EXIT
tests/stack/stack.sh start || die "the test stack did not start; logs in target/stack/logs"
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a

# A failed test is run once more, alone. If it passes then, it is a flaky test — a defect of the suite,
# reported by name on the summary's FLAKY line (never hidden), with its first failure kept in
# target/test-output/first-failures/; if it fails again, the run fails. A failure with no test name (a
# crashed test binary, a build error) fails the run at once.
: >"$out/flaky.txt"
rm -rf "$out/first-failures"
failed=0
# tests LOG CARGO-TEST-ARGS…: runs `cargo test ARGS`, output in $out/LOG.log (what the summary counts),
# and a failed test's second run in $out/LOG.rerun.log.
tests() {
  local log=$1
  shift
  cargo test "$@" 2>&1 | tee "$out/$log.log"
  [ "${PIPESTATUS[0]}" = 0 ] && return 0
  # The names under each binary's "failures:" list (four spaces, then the test's path).
  local names
  names=$(awk '/^failures:$/ { listing = 1; next } listing && /^    [^ ]/ { print $1; next } listing && !/^$/ { listing = 0 }' \
    "$out/$log.log" | sort -u)
  if [ -z "$names" ]; then
    failed=1
    return 1
  fi
  mkdir -p "$out/first-failures/$log"
  cp -r target/webdriver "$out/first-failures/$log/" 2>/dev/null || true
  cp "$out/$log.log" "$out/first-failures/$log/"
  local args=("$@")
  case " ${args[*]} " in *" -- "*) ;; *) args+=(--) ;; esac
  # shellcheck disable=SC2086
  step "running the failed tests once more: $(echo $names)"
  # shellcheck disable=SC2046
  cargo test "${args[@]}" --exact $(echo $names) 2>&1 | tee "$out/$log.rerun.log"
  local status=${PIPESTATUS[0]} passed
  passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i) ~ /^passed;?$/) n += $(i - 1) } END { print n + 0 }' \
    "$out/$log.rerun.log")
  if [ "$status" = 0 ] && [ "$passed" -ge "$(wc -l <<<"$names")" ]; then
    echo "$names" >>"$out/flaky.txt"
    echo "FLAKY (failed, then passed alone): $(echo $names) — first failure in $out/first-failures/$log/"
  else
    failed=1
    return 1
  fi
}

step "unit, integration and WebDriver tests"
tests tests --workspace --no-fail-fast

# The engines people run: the engine-facing tests again on Docker 26 with the containerd image store
# and on Podman (the run above used dockerd 20.10 with the classic store), and the drag-to-push window
# test on the containerd store. GHCR_TEST_ENGINE tells the tests which identity rules hold.
engine_tests=(--test engine --test images --test cli --test push_engine --test push_direct --test push_zstd --test push_cancel --test packages)
engine_matrix() {
  local engine=$1 host window=()
  case $engine in
    containerd) host=$GHCR_TEST_ENGINE_CONTAINERD; window=(--test pushes_view) ;;
    podman) host=$GHCR_TEST_ENGINE_PODMAN ;;
  esac
  step "engine-facing tests on $engine ($host)"
  DOCKER_HOST=$host GHCR_TEST_ENGINE=$engine tests "engine-$engine" --workspace "${engine_tests[@]}" "${window[@]}"
  DOCKER_HOST=$host GHCR_TEST_ENGINE=$engine tests "engine-$engine-restart" --workspace --test engine_restart -- --ignored
}

# The fuzzing runs on one core (one test at a time) for a fixed time: the Podman matrix runs beside it,
# on the other. Its output is printed once it is done.
step "fuzzing the parsers (${GHCR_FUZZ_SECONDS:=60} s for references, a quarter of it each for push lines, archive manifests, headers and GitHub/engine JSON), and beside it:"
export GHCR_FUZZ_SECONDS
(
  tests fuzz --workspace --test fuzz -- --ignored --nocapture --test-threads 1 >"$out/fuzz.console" 2>&1
  echo "$failed" >"$out/fuzz.failed"
) &
fuzzing=$!
engine_matrix podman
wait "$fuzzing"
step "fuzzing, as it ended (all of it in target/test-output/fuzz.log)"
grep -E 'cases|^test |^FLAKY|panicked' "$out/fuzz.console" || true
[ "$(cat "$out/fuzz.failed" 2>/dev/null)" = 0 ] || failed=1

step "engine-restart test (restarts the stack's dockerd)"
tests engine-restart --workspace --test engine_restart -- --ignored

step "registry-restart test (stops and restarts the stack's token registry)"
tests registry-restart --workspace --test registry_restart -- --ignored

step "disk-full tests (a full tmpfs over dockerd's temporary directory, and under the cache)"
tests disk-full --workspace --test engine_disk_full -- --ignored --test-threads 1

step "load test (the window with 5,000 images and 10 pushes at once; what it measured is printed)"
tests load --workspace --test load -- --ignored --nocapture

engine_matrix containerd

# The installers, from the debug build above (`make package` makes them from a release build: ~10
# minutes more, and nothing more tested), and the .deb installed in a clean Debian 12 root while the
# stack's dockerd still runs.
step "the packages (.deb and .rpm) of the debug build, stripped, as make package makes them of the release build"
package=failed
PACKAGE_FROM=debug scripts/package.sh 2>&1 | tee "$out/package.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then package=built; else failed=1; fi
step "install test (the .deb in a clean Debian 12 root: apt-get install, CLI, helper, window, removal)"
install=failed
if [ "$package" = built ]; then
  tests/install.sh 2>&1 | tee "$out/install.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then install=passed; else failed=1; fi
fi

step "engine-down tests (the stack's dockerd stopped)"
tests/stack/stack.sh stop-engine
tests engine-down --workspace --test engine_down -- --ignored

# Count results per kind from cargo's "Running …" headers: unit test binaries are "unittests", the
# WebDriver ones are the files in tests/webdriver/tests/, the other test files are integration tests.
webdriver_files=$(cd tests/webdriver/tests && ls -- *.rs | tr '\n' ' ')
for file in $webdriver_files; do
  # cargo names both "tests/FILE": a WebDriver test file must not share a name with a core test file.
  [ ! -e "tests/$file" ] || die "tests/webdriver/tests/$file and tests/$file share a name; rename one"
done
summary=$(cat "$out/tests.log" "$out/fuzz.log" "$out/engine-restart.log" "$out/registry-restart.log" "$out/disk-full.log" "$out/load.log" "$out/engine-down.log" "$out/engine-containerd.log" "$out/engine-containerd-restart.log" "$out/engine-podman.log" "$out/engine-podman-restart.log" | awk -v webdriver="$webdriver_files" '
  BEGIN { n = split(webdriver, files, " "); for (i = 1; i <= n; i++) is_webdriver["tests/" files[i]] = 1 }
  /^ *Running unittests/ { kind = "unit"; next }
  /^ *Doc-tests/ { kind = "unit"; next }
  /^ *Running tests\// { kind = ($2 in is_webdriver) ? "webdriver" : "integration"; next }
  /^test result:/ {
    for (i = 1; i <= NF; i++) {
      if ($(i) ~ /^passed;?$/) passed[kind] += $(i - 1)
      if ($(i) ~ /^failed;?$/) failed[kind] += $(i - 1)
    }
  }
  END {
    split("unit integration webdriver", kinds, " ")
    for (k = 1; k <= 3; k++) {
      printf "%-12s %d passed, %d failed\n", kinds[k] ":", passed[kinds[k]], failed[kinds[k]]
      all_passed += passed[kinds[k]]; all_failed += failed[kinds[k]]
    }
    printf "%d passed, %d failed\n", all_passed, all_failed
  }')

# The engine-facing test files' results in LOG (the sections cargo headed "Running tests/FILE.rs").
engine_counts() {
  awk -v files="${engine_tests[*]} ${window[*]:-}" '
    BEGIN { n = split(files, f, " "); for (i = 1; i <= n; i++) if (f[i] != "--test") wanted["tests/" f[i] ".rs"] = 1 }
    /^ *Running / { counting = ($2 in wanted); next }
    /^test result:/ && counting {
      for (i = 1; i <= NF; i++) {
        if ($(i) ~ /^passed;?$/) passed += $(i - 1)
        if ($(i) ~ /^failed;?$/) failed += $(i - 1)
      }
    }
    END { printf "%d passed, %d failed", passed, failed }' "$1"
}
window=(--test pushes_view --test engine_restart)

step "summary"
echo "$summary"
echo "engine-facing tests per engine (in the totals above):"
echo "  dockerd 20.10, classic store:    $(engine_counts <(cat "$out/tests.log" "$out/engine-restart.log"))"
echo "  Docker 26, containerd store:     $(engine_counts <(cat "$out/engine-containerd.log" "$out/engine-containerd-restart.log"))"
echo "  Podman 4.3:                      $(engine_counts <(cat "$out/engine-podman.log" "$out/engine-podman-restart.log"))"
echo "packages: $package ($(cd target/package-test/debug/bundle 2>/dev/null && ls deb/*.deb rpm/*.rpm 2>/dev/null | tr '\n' ' '))"
echo "install test in a clean Debian 12 root: $install (window: target/install-test/window.png)"
echo "screenshots: target/webdriver/*.png"
flaky=$(sort -u "$out/flaky.txt" | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$flaky" ]; then
  echo "FLAKY: $flaky (failed, then passed when run alone: counted failed above; first failures in target/test-output/first-failures/)"
fi
if [ "$failed" != 0 ]; then
  echo "stack logs: target/stack/logs; WebDriver logs: target/webdriver/*.log" >&2
  exit 1
fi
