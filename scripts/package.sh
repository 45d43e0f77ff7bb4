#!/usr/bin/env bash
# `make package`: a release build of the app, the `ghcr` CLI and the docker credential helper, bundled by
# Tauri's bundler into a .deb and an .rpm under target/release/bundle/ (CARGO_TARGET_DIR is honoured).
# The three binaries go to /usr/bin. The .deb's dependencies are what dpkg-shlibdeps reads from the
# binaries themselves (as Debian's own packaging does), so a build on a newer system asks for its newer
# libraries; the .rpm names the Fedora packages of the same libraries. Prints the packages, their sizes
# and contents.
#
# PACKAGE_FROM=debug (what `make test` does): the same packages from the debug build `make test` has
# just made, its binaries stripped, under target/package-test/debug/bundle/ — the packaging and its
# install test are what is tested there, and a release build of the whole tree would take ~10 of make
# test's minutes. The packages people install come from `make package`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
target=${CARGO_TARGET_DIR:-$repo/target}
tauri=$("$repo/scripts/install-deps.sh" tauri-cli)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '\n==> %s\n' "$*"; }
names=(ghcr-desktop ghcr docker-credential-ghcr-desktop)

if [ "${PACKAGE_FROM:-release}" = debug ]; then
  say "the debug build's app, CLI and credential helper, stripped (PACKAGE_FROM=debug)"
  # The bundler takes the binaries from TARGET/debug: a target folder of the packages' own.
  bundle_target=$target/package-test
  built=$bundle_target/debug
  mkdir -p "$built"
  for name in "${names[@]}"; do
    [ -x "$target/debug/$name" ] || { echo "$target/debug/$name is missing: cargo build --workspace first" >&2; exit 1; }
    strip -o "$built/$name" "$target/debug/$name"
  done
  bundle_flags=(--debug)
else
  # One cargo invocation for the app and the core's binaries: built apart, the crates they share would be
  # built twice (cargo resolves features per invocation).
  say "release build of the app, the CLI and the credential helper (tauri build --no-bundle)"
  (cd src-tauri && "$tauri" build --no-bundle --ci -- -p ghcr-desktop -p ghcr)
  bundle_target=$target
  built=$target/release
  bundle_flags=()
fi
binaries=("$built/ghcr-desktop" "$built/ghcr" "$built/docker-credential-ghcr-desktop")

say "dependencies of the binaries (dpkg-shlibdeps)"
mkdir -p "$work/debian"
printf 'Source: ghcr-desktop\n\nPackage: ghcr-desktop\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O "${binaries[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "dpkg-shlibdeps found no dependencies" >&2; exit 1; }
echo "$shlibs"

# What the bundler adds to tauri.conf.json for this build: the two other binaries and the licence as
# files of both packages, the .deb's computed dependencies, the .rpm's by their Fedora names.
python3 - "$work/package.json" "$shlibs" "${binaries[@]}" "$repo/LICENSE" <<'PY'
import json, sys
out, shlibs, app, cli, helper, licence = sys.argv[1:]
files = {"/usr/bin/ghcr": cli, "/usr/bin/docker-credential-ghcr-desktop": helper}
rpm_depends = ["webkit2gtk4.1", "gtk3", "libsoup3", "openssl-libs", "dbus-libs"]
json.dump({"bundle": {"linux": {
    "deb": {"files": {**files, "/usr/share/doc/ghcr-desktop/copyright": licence},
            "depends": [d.strip() for d in shlibs.split(",")]},
    "rpm": {"files": {**files, "/usr/share/licenses/ghcr-desktop/LICENSE": licence},
            "depends": rpm_depends},
}}}, open(out, "w"), indent=2)
PY

say "bundle (.deb, .rpm)"
(cd src-tauri && CARGO_TARGET_DIR=$bundle_target "$tauri" bundle "${bundle_flags[@]}" --bundles deb,rpm --ci --config "$work/package.json")

# The bundler names the files after the product ("GHCR Desktop_0.1.0_amd64.deb"); give them the names
# of the packages inside, as Debian and Fedora name theirs.
bundles=$built/bundle
version=$(dpkg-deb -f "$(ls -t "$bundles"/deb/*.deb | head -1)" Version)
deb=$bundles/deb/ghcr-desktop_${version}_amd64.deb
rpm=$bundles/rpm/ghcr-desktop-$version-1.x86_64.rpm
mv -f "$bundles/deb/GHCR Desktop_${version}_amd64.deb" "$deb"
mv -f "$bundles/rpm/GHCR Desktop-$version-1.x86_64.rpm" "$rpm"
say "packages"
for file in "${binaries[@]}" "$deb" "$rpm"; do
  printf '  %-60s %6.1f MB\n' "${file#"$repo"/}" "$(echo "scale=1; $(stat -c %s "$file") / 1000000" | bc)"
done
echo
dpkg-deb -f "$deb" Package Version Depends Recommends
echo
deb_files=$(dpkg-deb -c "$deb" | grep -v '^d' | sed -E 's|^([^ ]+ +){5}(\./\|/)?|/|')
sed 's/^/  /' <<<"$deb_files"
rpm_files=$(rpm -qpl "$rpm" 2>/dev/null)
echo
rpm -qpR "$rpm" 2>/dev/null | grep -v '^rpmlib' | sed 's/^/  requires: /'

# What both packages must hold: the three programs, the desktop entry, the icon at every size.
expected=(/usr/bin/ghcr-desktop /usr/bin/ghcr /usr/bin/docker-credential-ghcr-desktop "/usr/share/applications/GHCR Desktop.desktop")
for size in 16 24 32 48 64 128 256 512; do expected+=("/usr/share/icons/hicolor/${size}x$size/apps/ghcr-desktop.png"); done
for path in "${expected[@]}"; do
  grep -qxF "$path" <<<"$deb_files" || { echo "the .deb lacks $path" >&2; exit 1; }
  grep -qxF "$path" <<<"$rpm_files" || { echo "the .rpm lacks $path" >&2; exit 1; }
done
grep -qxF /usr/share/doc/ghcr-desktop/copyright <<<"$deb_files" || { echo "the .deb lacks the licence" >&2; exit 1; }
grep -qxF /usr/share/licenses/ghcr-desktop/LICENSE <<<"$rpm_files" || { echo "the .rpm lacks the licence" >&2; exit 1; }
echo
echo "both packages hold the three programs in /usr/bin, the desktop entry, the icon at 8 sizes and the licence"
