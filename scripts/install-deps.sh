#!/usr/bin/env bash
# Installs what `make run` (`install-deps.sh run`) or `make test` (`install-deps.sh test`) needs and is
# missing: Debian/Ubuntu packages with apt-get, and tauri-driver with cargo. Elsewhere it prints the list.
set -euo pipefail

purpose=${1:-run}

# Building and opening the window.
run_packages=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev file curl)
# The test stack: engines (dockerd 20.10 with the classic image store, Podman; Docker 26 with the
# containerd image store comes from tests/stack/fetch-docker-26.sh), registry, keyring, display, WebDriver.
test_packages=(docker.io docker-registry skopeo bc gh apache2-utils openssl python3 dbus dbus-x11 gnome-keyring libsecret-tools
  xvfb webkit2gtk-driver podman uidmap fuse-overlayfs debian-archive-keyring)

packages=("${run_packages[@]}")
if [ "$purpose" = test ]; then
  packages+=("${test_packages[@]}")
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
else
  echo "This is not a Debian/Ubuntu system: install the equivalents of these packages yourself:" >&2
  printf '  %s\n' "${packages[@]}" >&2
  if [ "$purpose" = test ]; then
    echo "and tauri-driver: cargo install --locked tauri-driver --version '^2'" >&2
  fi
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "Need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$purpose" = test ]; then
  "$(dirname "${BASH_SOURCE[0]}")/../tests/stack/fetch-docker-26.sh"
fi

if [ "$purpose" = test ] && ! command -v tauri-driver >/dev/null 2>&1 \
  && ! [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "Installing tauri-driver (cargo install)"
  cargo install --locked tauri-driver --version '^2'
fi
