#!/usr/bin/env bash
# Start-up time and idle memory of the release build (`make startup`; a script that prints medians, not a
# test). Builds the app as `make package` does (tauri build --no-bundle), starts the test stack if it
# isn't running, and an engine of its own (dockerd 20.10, private socket and storage) holding first 10
# images, then 2,000. On each, RUNS times (default 5): the window through WebDriver
# (tests/webdriver/examples/startup.rs) — from exec to the first frame with the Images list's rows, and
# the memory of the app and its WebKit processes after IDLE_SECONDS (30) idle — and then the memory
# alone with WebKit's compositing turned off (WEBKIT_DISABLE_COMPOSITING_MODE=1), started without
# WebDriver: under WebDriver with compositing off the page's animation frames stop coming here.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# GHCR_APP: measure that build instead (e.g. the one a .deb installed) and build nothing of the app.
if [ -z "${GHCR_APP:-}" ]; then
  tauri=$(scripts/install-deps.sh tauri-cli)
  (cd src-tauri && "$tauri" build --no-bundle --ci -- -p ghcr-desktop -p ghcr) >&2
fi
export GHCR_APP=${GHCR_APP:-$repo/target/release/ghcr-desktop}
cargo build -p ghcr-webdriver-tests --examples >&2

# shellcheck source=scripts/use-stack.sh
. scripts/use-stack.sh

work=$(mktemp -d /var/tmp/ghcr-startup.XXXXXX)
dockerd_pid=
cleanup() {
  if [ -n "$dockerd_pid" ]; then kill "$dockerd_pid" 2>/dev/null || true; wait "$dockerd_pid" 2>/dev/null || true; fi
  grep -o " $work[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
  [ "$started_stack" = no ] || tests/stack/stack.sh stop
}
trap cleanup EXIT
dockerd --host "unix://$work/docker.sock" --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/pid" \
  --storage-driver overlay2 --iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
export DOCKER_HOST=unix://$work/docker.sock
for _ in $(seq 1 100); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
docker version --format 'engine: dockerd {{.Server.Version}} at {{.Server.Os}}' || { cat "$work/dockerd.log" >&2; exit 1; }

load() { # COUNT PREFIX
  python3 scripts/bench/many-images.py "$1" "$2" "$work/images.tar"
  docker load -q -i "$work/images.tar" >/dev/null
  rm -f "$work/images.tar"
}
# The PSS (and RSS) in MB of process PID and its descendants.
memory_of() {
  local pid=$1 pss=0 rss=0 child
  for child in $pid $(pgrep -P "$pid"); do
    pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$child/smaps_rollup" 2>/dev/null || echo 0)))
    rss=$((rss + $(awk '/^Rss:/ { print $2 }' "/proc/$child/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "$((pss * 1024 / 1000000)) $((rss * 1024 / 1000000))"
}
idle_memory() { # LABEL: the app started RUNS times with compositing off, its memory after the idle wait
  local run pid pss=() rss=() home
  for run in $(seq 1 "${RUNS:-5}"); do
    home=$(mktemp -d "$work/home.XXXX")
    HOME=$home WEBKIT_DISABLE_COMPOSITING_MODE=1 "$GHCR_APP" >"$work/app.log" 2>&1 &
    pid=$!
    sleep "${IDLE_SECONDS:-30}"
    read -r p r < <(memory_of "$pid")
    pss+=("$p") rss+=("$r")
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  echo "$1: idle memory over ${#pss[@]} runs: PSS ${pss[*]} MB (median $(printf '%s\n' "${pss[@]}" | sort -n | sed -n "$(((${#pss[@]} + 1) / 2))p")), RSS ${rss[*]} MB"
}
measure() { # LABEL
  echo
  LABEL="$1, WebKit defaults: " target/debug/examples/startup
  idle_memory "$1, compositing off"
}
echo "app: $GHCR_APP ($(stat -c %s "$GHCR_APP" | awk '{ printf "%.1f MB", $1 / 1e6 }')), $(nproc) cores, display $DISPLAY (Xvfb)"
load 10 startup
measure "$(docker images -q | wc -l) images"
load 1990 startup-more
measure "$(docker images -q | wc -l) images"
