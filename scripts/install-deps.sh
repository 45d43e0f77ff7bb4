#!/usr/bin/env bash
# Installs what `make run` (`install-deps.sh run`), `make package` (`install-deps.sh package`) or
# `make test` (`install-deps.sh test`, which also builds and install-tests the packages) needs and is
# missing: Debian/Ubuntu packages with apt-get, tauri-driver with cargo, and Tauri's CLI (the bundler)
# from npm's prebuilt binaries (`cargo install tauri-cli` compiles ~600 crates: minutes of a 2-core
# machine). `install-deps.sh tauri-cli` prints the path of Tauri's CLI, installing it first if needed.
set -euo pipefail

purpose=${1:-run}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Tauri's CLI at the version of the tauri crate in Cargo.lock, under target/tools (its logs to stderr).
tauri_cli() {
  local version dir
  version=$(awk '/^name = "tauri"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$repo/Cargo.lock")
  dir="$repo/target/tools/tauri-cli-$version"
  if ! [ -x "$dir/node_modules/.bin/tauri" ]; then
    if command -v npm >/dev/null 2>&1; then
      echo "Installing Tauri's CLI $version (npm, prebuilt) into $dir" >&2
      npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "@tauri-apps/cli@$version" >&2
    else
      echo "Installing Tauri's CLI $version (cargo install: npm is missing)" >&2
      cargo install --locked --root "$dir" tauri-cli --version "=$version" >&2
      mkdir -p "$dir/node_modules/.bin" && ln -sf "$dir/bin/cargo-tauri" "$dir/node_modules/.bin/tauri"
    fi
  fi
  echo "$dir/node_modules/.bin/tauri"
}
if [ "$purpose" = tauri-cli ]; then
  tauri_cli
  exit 0
fi

# Building and opening the window.
run_packages=(build-essential pkg-config libssl-dev libzstd-dev libwebkit2gtk-4.1-dev file curl)
# The test stack: engines (dockerd 20.10 with the classic image store, Podman; Docker 26 with the
# containerd image store comes from tests/stack/fetch-docker-26.sh), registry, keyring, display, WebDriver,
# and a font with Chinese glyphs (the window in 简体中文).
test_packages=(docker.io docker-registry skopeo bc gh apache2-utils openssl python3 dbus dbus-x11 gnome-keyring libsecret-tools busybox-static
  xvfb webkit2gtk-driver podman uidmap fuse-overlayfs debian-archive-keyring fonts-wqy-microhei)
# Packaging (the .deb's dependencies from dpkg-shlibdeps, the .rpm listed by rpm) and its install test
# (a clean Debian root, the window found by title and photographed).
package_packages=(dpkg-dev rpm)
install_test_packages=(debootstrap xdotool imagemagick)

packages=("${run_packages[@]}")
case $purpose in
  package) packages+=("${package_packages[@]}") ;;
  test) packages+=("${test_packages[@]}" "${package_packages[@]}" "${install_test_packages[@]}") ;;
esac

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
  "$repo/tests/stack/fetch-docker-26.sh"
fi
if [ "$purpose" = test ] || [ "$purpose" = package ]; then
  tauri_cli >/dev/null
fi

if [ "$purpose" = test ] && ! command -v tauri-driver >/dev/null 2>&1 \
  && ! [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "Installing tauri-driver (cargo install)"
  cargo install --locked tauri-driver --version '^2'
fi
