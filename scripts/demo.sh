#!/usr/bin/env bash
# `make demo`: GHCR Desktop offline against the test world. Starts the stack (private dockerd, the real
# registry behind the GHCR emulator, a test keyring), puts a few sample images in the dockerd, prints a
# ready token, and opens the app pointed at all of it. Closing the window stops the stack.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

user_display=${DISPLAY:-}
user_wayland=${WAYLAND_DISPLAY:-}
samples=$(mktemp -d)
trap 'rm -rf "$samples"; tests/stack/stack.sh stop' EXIT
tests/stack/stack.sh start
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a

# Sample images: small, made here (no network), with names that show the app's rules.
make_image() {
  local name=$1 text=$2
  shift 2
  mkdir -p "$samples/$name"
  printf '%s\n' "$text" >"$samples/$name/README"
  head -c 2000000 /dev/urandom >"$samples/$name/data.bin"
  tar -C "$samples/$name" -cf - . | docker import "$@" - "$name" >/dev/null
}
make_image hello-app:1.0 "Hello from GHCR Desktop" \
  --change 'LABEL org.opencontainers.image.source=https://github.com/Octo-Cat/hello-app'
make_image tools/cli:latest "A command line tool"
make_image website:2026-11 "A static site"
docker tag hello-app:1.0 docker.pkg.github.com/octo-cat/hello-app/hello-app:0.9

token=ghp_DemoTokenForGhcrDesktopOffline0000a1
printf '\nGHCR Desktop demo: everything runs on this machine.\n'
printf '  GitHub (emulated)  %s  (token page: %s/settings/tokens/new)\n' "$GHCR_TEST_EMULATOR" "$GHCR_TEST_EMULATOR"
printf '  registry           %s  (in ghcr.io'"'"'s role)\n' "$GHCR_TEST_REGISTRY_TOKEN"
printf '  engine             %s\n' "$DOCKER_HOST"
printf '  a ready token      %s  (user Octo-Cat: write, read and delete:packages)\n\n' "$token"

export GHCR_API_URL=$GHCR_TEST_EMULATOR GHCR_WEB_URL=$GHCR_TEST_EMULATOR GHCR_REGISTRY=$GHCR_TEST_REGISTRY_TOKEN
if [ -n "$user_display$user_wayland" ]; then
  export DISPLAY=$user_display WAYLAND_DISPLAY=$user_wayland
else
  echo "No display of yours: the window opens on the stack's Xvfb ($DISPLAY)."
fi
target/debug/ghcr-desktop
