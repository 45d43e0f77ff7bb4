# Sourced by make test and make flaky: cargo builds the workspace's own crates with clippy-driver and
# clippy's lints as errors (`cargo clippy -- -D warnings`, which is a `cargo check` with these two
# variables) while building them for real, so linting costs no second pass over the dependencies. The
# dependencies are compiled by rustc as usual. A cargo command run without these settings builds the
# workspace's crates again (cargo keeps the compiler in their fingerprint).
clippy_driver=$(command -v clippy-driver || true)
if [ -z "$clippy_driver" ] && command -v rustup >/dev/null 2>&1; then
  clippy_driver=$(rustup which clippy-driver 2>/dev/null || true)
fi
if [ -z "$clippy_driver" ]; then
  echo "clippy-driver is missing: rustup component add clippy" >&2
  exit 1
fi
export RUSTC_WORKSPACE_WRAPPER=$clippy_driver
# cargo-clippy's own encoding of `-- ARGS`: each argument followed by __CLIPPY_HACKERY__.
export CLIPPY_ARGS=-Dwarnings__CLIPPY_HACKERY__
