#!/usr/bin/env bash
# Benchmark (a script, not a timed test): 2,000 images in the stack's dockerd, then
#  - the app window: time from the image-list command to rendered rows (median of RUNS starts), and
#  - the CLI: `ghcr images --json` against `docker images` on the same engine.
# Starts the test stack if it is not running (and stops it again), and removes the images it loaded.
# Usage: scripts/bench-images.sh [COUNT]   (COUNT defaults to 2000; RUNS=5)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
count=${1:-2000}
prefix=bench-images-$$

cargo build --workspace --bins --examples >/dev/null
# shellcheck source=scripts/use-stack.sh
. scripts/use-stack.sh
archive=$(mktemp --suffix=.tar)
cleanup() {
  rm -f "$archive"
  docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$prefix/" | xargs -r docker rmi >/dev/null || true
  if [ "$started_stack" = yes ]; then tests/stack/stack.sh stop; fi
}
trap cleanup EXIT

python3 scripts/bench/many-images.py "$count" "$prefix" "$archive"
docker load -i "$archive" >/dev/null
total=$(docker images -q | wc -l)
echo "engine: $total images ($count loaded for the benchmark)"

ms() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); echo $(((end - start) / 1000000)); }
ghcr_ms=$(ms target/debug/ghcr images --json)
docker_ms=$(ms docker images --format '{{json .}}')
echo "CLI: ghcr images --json ${ghcr_ms} ms, docker images ${docker_ms} ms (debug build of ghcr)"

target/debug/examples/bench_images
