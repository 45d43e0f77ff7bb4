#!/usr/bin/env bash
# Retakes the README's screenshots: empties the test stack's engine (it is the test world's, not yours),
# loads the demo's sample images, and drives the real window through WebDriver (tests/webdriver/examples/
# readme_screenshots.rs). Writes docs/screenshot*.png.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --workspace --bins --examples >/dev/null
tests/stack/stack.sh start
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a
docker images -q | sort -u | xargs -r docker rmi -f >/dev/null
samples=$(mktemp -d)
trap 'rm -rf "$samples"' EXIT
make_image() {
  local name=$1 text=$2
  shift 2
  mkdir -p "$samples/$name"
  printf '%s\n' "$text" >"$samples/$name/README"
  head -c "$((RANDOM * 300))" /dev/urandom >"$samples/$name/data.bin"
  tar -C "$samples/$name" -cf - . | docker import "$@" - "$name" >/dev/null
}
make_image hello-app:1.0 "Hello from GHCR Desktop"
make_image tools/cli:latest "A command line tool"
make_image website:2026-11 "A static site"
make_image api-server:2.3.1 "An API server"
make_image worker:edge "A queue worker"
docker tag hello-app:1.0 docker.pkg.github.com/octo-cat/hello-app/hello-app:0.9
docker tag api-server:2.3.1 "$GHCR_TEST_REGISTRY_TOKEN/octo-cat/api-server:2.3.1"
tar -C "$samples/worker:edge" -cf - . | docker import - >/dev/null # one untagged image
target/debug/examples/readme_screenshots
cp target/webdriver/readme-images.png docs/screenshot.png
cp target/webdriver/readme-tag-dialog.png docs/screenshot-tag.png
cp target/webdriver/readme-images-dark.png docs/screenshot-dark.png
cp target/webdriver/readme-pushes.png docs/screenshot-pushes.png
cp target/webdriver/readme-push-dialog.png docs/screenshot-push-dialog.png
# Every view at the window's minimum size and at 1440×900, and the states the WebDriver tests check
# (the hand-off address, the replace warning, a failed watch…) at both sizes: the tests save them as
# they check them (view-*.png, state-*.png); the drag-to-push test once more on the containerd store.
rm -f target/webdriver/view-*.png target/webdriver/state-*.png
cargo test -q -p ghcr-webdriver-tests >/dev/null
DOCKER_HOST=$GHCR_TEST_ENGINE_CONTAINERD GHCR_TEST_ENGINE=containerd \
  cargo test -q -p ghcr-webdriver-tests --test pushes_view images_dragged >/dev/null
mkdir -p docs/views
rm -f docs/views/*.png
cp target/webdriver/view-*.png target/webdriver/state-*.png docs/views/
echo "docs/screenshot.png, docs/screenshot-tag.png, docs/screenshot-dark.png, docs/screenshot-pushes.png, docs/screenshot-push-dialog.png and docs/views/ updated"
