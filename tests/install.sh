#!/usr/bin/env bash
# The install test (a phase of `make test`, after the packages of the debug build, or after `make
# package`; root): the newest .deb installed in a clean Debian 12 root the way a person installs it,
# with every dependency resolved by apt from the package's own metadata, then used there — the CLI and
# the credential helper answer, `ghcr engine` reaches the stack's dockerd through its bind-mounted
# socket, the app opens its window on the stack's Xvfb (found by its title with xdotool, photographed
# to target/install-test/window.png) — and removed, leaving no file of ours and naming a docker config
# that still hands ghcr.io to the helper (the package's prerm). The minbase root
# (debootstrap) and apt's downloads are cached in target/install-test/.
# Needs the stack's environment (target/stack/env sourced).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$repo/target/install-test"
base="$dir/bookworm-minbase"
root="$dir/root"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
: "${DISPLAY:?needs the test stack environment: . target/stack/env}" "${GHCR_TEST_ENGINE_CLASSIC:?}" "${GHCR_TEST_STACK:?}"
[ "$(id -u)" = 0 ] || { echo "install test: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }

# The newest .deb made: `make package`'s (release) or make test's (PACKAGE_FROM=debug).
target=${CARGO_TARGET_DIR:-$repo/target}
deb=$(ls -t "$target"/release/bundle/deb/*.deb "$target"/package-test/debug/bundle/deb/*.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || { echo "install test: no .deb under target/release/bundle/deb: run make package" >&2; exit 1; }
echo "install test: $deb"
step() { printf '\n--> %s\n' "$*"; }
fail() { printf '\ninstall test FAILED: %s\n' "$*" >&2; exit 1; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

app_pid=
cleanup() {
  [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
  # Every mount under the root, deepest first (the recursive binds of /dev and /sys included).
  grep -o " $root/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$dir"
if ! [ -f "$base/.complete" ]; then
  step "a minimal Debian 12 root (debootstrap --variant=minbase bookworm, once; cached in $base)"
  rm -rf "$base.partial"
  debootstrap --variant=minbase bookworm "$base.partial" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    { tail -20 "$dir/debootstrap.log" >&2; fail "debootstrap failed (log: $dir/debootstrap.log)"; }
  rm -rf "$base" && mv "$base.partial" "$base" && touch "$base/.complete"
fi

step "a fresh copy of it, with /proc, /sys, /dev, the X socket and the stack's sockets mounted"
rm -rf "$root"
cp -a "$base" "$root"
mkdir -p "$dir/apt-archives/partial"
mount -t proc proc "$root/proc"
for tree in /sys /dev; do mount --rbind "$tree" "$root$tree" && mount --make-rslave "$root$tree"; done
mount --bind "$dir/apt-archives" "$root/var/cache/apt/archives"
# The stack's run directory holds the engines' sockets and the D-Bus session of its keyring.
stack_run=$(dirname "${GHCR_TEST_ENGINE_CLASSIC#unix://}")
for shared in /tmp/.X11-unix "$stack_run"; do mkdir -p "$root$shared" && mount --bind "$shared" "$root$shared"; done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The sources of a Debian 12 as installed (debootstrap writes only the release): the security and point
# updates, which a package built on an up-to-date system may need (its WebKitGTK is from them).
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
SOURCES
cp "$deb" "$root/tmp/"
package_file=/tmp/$(basename "$deb")

step "apt-get install ./$(basename "$deb") (dependencies from the package's metadata; no recommends)"
in_root apt-get -q update >"$dir/apt.log" 2>&1 || { tail -20 "$dir/apt.log" >&2; fail "apt-get update failed"; }
# A desktop has fonts; a minbase root has none (the window would draw boxes for letters).
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$package_file" fonts-dejavu-core >>"$dir/apt.log" 2>&1 ||
  { tail -30 "$dir/apt.log" >&2; fail "apt-get install of the .deb failed (log: $dir/apt.log)"; }
grep -E '^(Setting up|Unpacking) ghcr-desktop' "$dir/apt.log" | head -1
echo "$(grep -c '^Setting up' "$dir/apt.log") packages set up"

step "the command line and the credential helper answer"
in_root ghcr --version || fail "ghcr --version"
in_root docker-credential-ghcr-desktop version || fail "docker-credential-ghcr-desktop version"
in_root env DOCKER_HOST="$GHCR_TEST_ENGINE_CLASSIC" ghcr engine || fail "ghcr engine against $GHCR_TEST_ENGINE_CLASSIC"

step "the installed app opens its window on $DISPLAY"
[ -f "$root/usr/share/applications/GHCR Desktop.desktop" ] || fail "no desktop entry"
exec_line=$(sed -n 's/^Exec=//p' "$root/usr/share/applications/GHCR Desktop.desktop")
[ "${exec_line%% *}" = ghcr-desktop ] || fail "the desktop entry runs '$exec_line', not ghcr-desktop"
entry="$root/usr/share/applications/GHCR Desktop.desktop"
grep -qxF 'Name[zh_CN]=GHCR 桌面版' "$entry" || fail "the desktop entry has no Simplified Chinese name"
grep -qx 'Comment\[zh_CN\]=.*GitHub Container Registry' "$entry" || fail "the desktop entry has no Simplified Chinese comment"
grep -qx 'Comment=Publish container images.*' "$entry" || fail "the desktop entry lost its English comment"
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 DISPLAY="$DISPLAY" \
  DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" DOCKER_HOST="$GHCR_TEST_ENGINE_CLASSIC" \
  ghcr-desktop >"$dir/app.log" 2>&1 &
app_pid=$!
window=$(timeout 60 xdotool search --sync --onlyvisible --name '^GHCR Desktop$' | head -1) ||
  { cat "$dir/app.log" >&2; fail "no window titled 'GHCR Desktop' within 60 s"; }
title=$(xdotool getwindowname "$window")
echo "window $window: \"$title\""
# The screen, not the window xdotool found first (GTK may map more than one window by that name);
# nothing else is on the stack's display now. WebKit's first frame comes a second or more after the
# window under Xvfb (more on a first start): photograph until the page shows, for up to 30 s.
colours=0
for _ in $(seq 1 30); do
  sleep 1
  kill -0 "$app_pid" 2>/dev/null || { cat "$dir/app.log" >&2; fail "the app exited"; }
  import -display "$DISPLAY" -window root "$dir/window.png"
  colours=$(convert "$dir/window.png" -format '%k' info:)
  [ "$colours" -le 50 ] || break
done
# Then what a person sees once it has settled (the Images list with the engine's images).
sleep 3
import -display "$DISPLAY" -window root "$dir/window.png"
colours=$(convert "$dir/window.png" -format '%k' info:)
echo "screenshot: $dir/window.png ($colours colours)"
[ "$colours" -gt 50 ] || { cat "$dir/app.log" >&2; fail "the window stayed blank for 30 s ($colours colours)"; }
kill "$app_pid" && wait "$app_pid" 2>/dev/null || true
app_pid=

step "apt-get remove leaves no file of ours (outside the user's own data under /root), and says which docker config still names the helper"
# As `ghcr docker-setup` leaves it: docker would fail on ghcr.io once the helper is gone.
mkdir -p "$root/root/.docker"
printf '{\n  "credHelpers": {\n    "ghcr.io": "ghcr-desktop"\n  }\n}\n' >"$root/root/.docker/config.json"
in_root dpkg -L ghcr-desktop >"$dir/files.txt"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ghcr-desktop >"$dir/remove.log" 2>&1 ||
  { cat "$dir/remove.log" >&2; fail "apt-get remove"; }
grep -F '/root/.docker/config.json hands ghcr.io to docker-credential-ghcr-desktop' "$dir/remove.log" ||
  { cat "$dir/remove.log" >&2; fail "the removal did not say that /root/.docker/config.json still names the helper"; }
rm -r "$root/root/.docker"
left=$(while read -r path; do [ -d "$root$path" ] || [ ! -e "$root$path" ] || echo "$path"; done <"$dir/files.txt")
left+=$(find "$root" -xdev \( -path "$root/root" -o -path "$root/tmp" -o -path "$root/proc" -o -path "$root/var/cache/apt" \) -prune \
  -o -iname '*ghcr*' -print | sed "s|^$root||")
[ -z "$left" ] || fail "left behind: $left"
echo "removed: $(grep -vc '/$' "$dir/files.txt") paths listed by dpkg -L, none left; user data: $(cd "$root/root" && find . -mindepth 1 -maxdepth 3 -type d | grep -i ghcr | tr '\n' ' ')"

cleanup
trap - EXIT
rm -rf "$root"
echo
echo "install test passed"
