#!/usr/bin/env bash
# Release profiles compared (a script that prints a table, not a test): each one is a clean `make package`
# (scripts/package.sh) in its own target directory, with the profile given through Cargo's
# CARGO_PROFILE_RELEASE_* variables; prints the wall time of the build, the size of each binary and of
# the two packages. PROFILES picks some of: default thin fat fat-s (default: all four). Takes ~10 minutes
# a profile on 2 cores and ~3 GB of disk each (removed afterwards; KEEP=1 keeps them).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
read -r -a profiles <<<"${PROFILES:-default thin fat fat-s}"

settings() { # PROFILE: the CARGO_PROFILE_RELEASE_* assignments (all four, whatever Cargo.toml says)
  local lto cgu strip opt=3
  case $1 in
    default) lto=false cgu=16 strip=none ;; # Cargo's own release profile
    thin) lto=thin cgu=16 strip=symbols ;;
    fat) lto=fat cgu=1 strip=symbols ;;
    fat-s) lto=fat cgu=1 strip=symbols opt=s ;;
    *) echo "unknown profile $1" >&2; exit 2 ;;
  esac
  echo "CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$cgu CARGO_PROFILE_RELEASE_STRIP=$strip CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt"
}
mb() { echo "scale=1; $(stat -c %s "$1") / 1000000" | bc; }

printf '%-8s %9s %13s %7s %8s %7s %7s  %s\n' profile build ghcr-desktop ghcr helper .deb .rpm settings
for profile in "${profiles[@]}"; do
  dir=/var/tmp/ghcr-release-$profile
  rm -rf "$dir"
  start=$(date +%s)
  env CARGO_TARGET_DIR="$dir" $(settings "$profile") "$repo/scripts/package.sh" >"$dir.log" 2>&1 ||
    { echo "$profile: the build failed, see $dir.log" >&2; exit 1; }
  seconds=$(($(date +%s) - start))
  release=$dir/release
  printf '%-8s %6d:%02d %10s MB %4s MB %5s MB %4s MB %4s MB  %s\n' "$profile" $((seconds / 60)) $((seconds % 60)) \
    "$(mb "$release/ghcr-desktop")" "$(mb "$release/ghcr")" "$(mb "$release/docker-credential-ghcr-desktop")" \
    "$(mb "$(ls "$release"/bundle/deb/*.deb)")" "$(mb "$(ls "$release"/bundle/rpm/*.rpm)")" "$(settings "$profile")"
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
done
