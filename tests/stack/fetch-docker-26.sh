#!/usr/bin/env bash
# Puts Docker Engine 26 with containerd 1.7 (the engine of the containerd image store, which new Docker
# installs default to) under target/engines/docker-26, for the test stack's second engine: Debian 13's
# `docker.io` and `containerd` packages, fetched with apt against a private sources list (the system's
# sources are never touched) and unpacked, not installed. Both binaries need only glibc 2.34, so they run
# on Debian 12; the system's runc is kept (Debian 13's needs glibc 2.38). Idempotent.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
engines="$repo/target/engines"
dir="$engines/docker-26"

if [ -x "$dir/usr/sbin/dockerd" ] && [ -x "$dir/usr/bin/containerd" ]; then
  exit 0
fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
  { echo "fetch-docker-26: needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "fetch-docker-26: needs $keyring (package debian-archive-keyring)" >&2; exit 1; }

apt="$engines/apt"
rm -rf "$apt" "$dir.partial"
mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/archives/partial" "$dir.partial"
cat >"$apt/sources/trixie.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: $keyring
EOF
private=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$apt/sources"
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::archives=$apt/archives"
  -o "APT::Sandbox::User=root")
echo "fetch-docker-26: downloading Debian 13's docker.io and containerd into $dir"
apt-get -q "${private[@]}" update >/dev/null
(cd "$apt/archives" && apt-get -q "${private[@]}" download docker.io containerd >/dev/null)
for deb in "$apt/archives"/*.deb; do dpkg-deb -x "$deb" "$dir.partial"; done
rm -rf "$dir"
mv "$dir.partial" "$dir"
rm -rf "$apt"
"$dir/usr/sbin/dockerd" --version
