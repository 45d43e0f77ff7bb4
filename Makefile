# The two commands: `make run` opens GHCR Desktop, `make test` runs every check. Both install what they
# need first (Debian/Ubuntu: apt-get; elsewhere they print what to install). `make run` builds the whole
# workspace, as `make test` does, so that the two share one set of build artifacts (`cargo run` alone
# resolves features for the app only and compiles ~60 crates a second time).
.PHONY: run test flaky package startup demo bench load deps deps-test deps-package

run: deps
	cargo build --workspace
	target/debug/ghcr-desktop

test: deps-test
	tests/run.sh

# Flaky tests found on purpose: the WebDriver suite and the engine matrix RUNS times (default 5) on one
# stack, every failure listed with its log and screenshots; nothing is run again.
flaky: deps-test
	RUNS=$(RUNS) scripts/flaky.sh

# The installers: a release build bundled as .deb and .rpm under target/release/bundle/ (make test builds
# them too and installs the .deb in a clean Debian root).
package: deps-package
	scripts/package.sh

# Start-up time and idle memory of the release build, with 10 and 2,000 images (a script, not a test).
startup: deps-test
	scripts/startup-memory.sh

# The app offline against the test world (GitHub emulated, everything else real).
demo: deps-test
	cargo build --workspace
	scripts/demo.sh

# Push throughput against docker push and skopeo (a script that prints ratios, not a test).
bench: deps-test
	scripts/bench-push.sh

# The window under load: 5,000 images and 10 pushes at once (make test runs it once; RUNS=N repeats it);
# prints how long the page's own work held its event loop, how late its timers ran, IPC times, memory.
load: deps-test
	scripts/load.sh

deps:
	scripts/install-deps.sh run

deps-test:
	scripts/install-deps.sh test

deps-package:
	scripts/install-deps.sh package
