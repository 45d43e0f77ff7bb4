#!/usr/bin/env bash
# The test world of `make test`, all real parts on loopback but GitHub: three engines on their own sockets
# (dockerd 20.10 with the classic image store — DOCKER_HOST, the one most tests use — Docker 26 with the
# containerd image store, and Podman's Docker-compatible service), the CNCF distribution registry twice (htpasswd basic auth, and token auth trusting the GHCR
# emulator's signing key and posting push notifications to it), the GHCR emulator (GitHub's API and web
# pages, ghcr.io's token service), a Secret Service (gnome-keyring in its own D-Bus session) and Xvfb.
#
#   stack.sh start        start everything (idempotent: a running, ready stack is left alone)
#   stack.sh stop         stop everything; logs stay in target/stack/logs
#   stack.sh stop-engine  stop only dockerd (for the engine-down tests)
#   stack.sh restart-engine [ENGINE]  stop an engine and start it again (the engine-restart test):
#                         classic (dockerd 20.10), containerd or podman; default GHCR_TEST_ENGINE or classic
#   stack.sh stop-registry / start-registry  stop the token registry, start it again keeping its
#                         storage (the registry-restart test)
#   stack.sh fill-engine-tmp / free-engine-tmp  put a full 1 MiB tmpfs over dockerd's temporary
#                         directory, where it stages exports, and take it away (the disk-full test; root)
#   stack.sh status       say what runs
#
# `start` writes target/stack/env, to be sourced by the tests: DOCKER_HOST, DOCKER_CONFIG, DISPLAY,
# DBUS_SESSION_BUS_ADDRESS and GHCR_TEST_* (GHCR_TEST_ENGINE_{CLASSIC,CONTAINERD,PODMAN}: the engines). Ports are free ones chosen at start, sockets live in a /tmp dir
# named after this checkout, so two checkouts can run their stacks side by side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state="$repo/target/stack"
logs="$state/logs"
pids="$state/pids"
run="/tmp/ghcr-stack-$(printf %s "$repo" | sha256sum | cut -c1-10)"
env_file="$state/env"

say() { printf 'stack: %s\n' "$*" >&2; }

fail() {
  say "$1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    say "last lines of $2:"
    tail -n 30 "$2" >&2
  fi
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

alive() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

# spawn NAME COMMAND...: runs COMMAND in its own session, output to logs/NAME.log, pid to pids/NAME.pid.
spawn() {
  local name=$1
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}

stop_one() {
  local name=$1 pid
  [ -f "$pids/$name.pid" ] || return 0
  pid=$(cat "$pids/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pids/$name.pid"
}

# --- components -------------------------------------------------------------------------------------

start_dockerd() {
  local driver=$1
  mkdir -p "$run/docker-exec" "$state/docker-data-$driver"
  echo '{}' >"$state/daemon.json"
  spawn dockerd dockerd --config-file "$state/daemon.json" \
    --host "unix://$run/docker.sock" --data-root "$state/docker-data-$driver" --exec-root "$run/docker-exec" \
    --pidfile "$run/dockerd.pid" --storage-driver "$driver" \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false
  wait_for 20 dockerd curl -sf --max-time 1 --unix-socket "$run/docker.sock" http://docker/_ping
}

engine() {
  if start_dockerd overlay2; then
    say "dockerd ready (overlay2) at unix://$run/docker.sock"
    return
  fi
  say "dockerd did not start with overlay2; trying vfs"
  cp "$logs/dockerd.log" "$logs/dockerd-overlay2.log" 2>/dev/null || true
  stop_one dockerd
  start_dockerd vfs || fail "dockerd did not become ready" "$logs/dockerd.log"
  say "dockerd ready (vfs) at unix://$run/docker.sock"
}

# Docker 26 (tests/stack/fetch-docker-26.sh) with the containerd image store, managing its own
# containerd 1.7 in a namespace of its own. Its binaries come first on PATH; runc is the system's.
engine_containerd() {
  local bin="$repo/target/engines/docker-26"
  [ -x "$bin/usr/sbin/dockerd" ] || fail "Docker 26 is missing: run tests/stack/fetch-docker-26.sh (make test does)"
  mkdir -p "$run/docker26-exec" "$state/docker26-data"
  echo '{"features":{"containerd-snapshotter":true}}' >"$state/daemon-26.json"
  PATH="$bin/usr/sbin:$bin/usr/bin:$PATH" spawn dockerd-containerd dockerd --config-file "$state/daemon-26.json" \
    --host "unix://$run/docker26.sock" --data-root "$state/docker26-data" --exec-root "$run/docker26-exec" \
    --pidfile "$run/dockerd26.pid" --containerd-namespace ghcr-test-26 --containerd-plugins-namespace ghcr-test-26-plugins \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false
  wait_for 30 dockerd-containerd curl -sf --max-time 1 --unix-socket "$run/docker26.sock" http://docker/_ping ||
    fail "Docker 26 did not become ready" "$logs/dockerd-containerd.log"
  DOCKER_HOST="unix://$run/docker26.sock" docker info --format '{{json .DriverStatus}}' | grep -q io.containerd.snapshotter ||
    fail "Docker 26 runs without the containerd image store" "$logs/dockerd-containerd.log"
  say "Docker 26 ready (containerd image store) at unix://$run/docker26.sock"
}

# Podman's Docker-compatible service, as root, with its storage, events and registries of its own:
# the stack's registries are plain http on loopback, which Podman uses only when told they are insecure.
engine_podman() {
  local registries=("$@") dir="$state/podman"
  command -v podman >/dev/null || fail "podman is missing (package podman)"
  rm -rf "$dir"
  mkdir -p "$dir/root" "$run/podman-run" "$dir/tmp"
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$dir/root" "$run/podman-run" >"$dir/storage.conf"
  # Containers get limits under this machine's hard ones (Podman's defaults, 1048576 open files and
  # 4194304 processes, are refused by runc here: "error setting rlimit").
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s"\ntmp_dir = "%s"\n' \
    "$dir/events.log" "$dir/tmp" >"$dir/containers.conf"
  {
    echo 'unqualified-search-registries = []'
    local registry
    for registry in "${registries[@]}"; do printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry"; done
  } >"$dir/registries.conf"
  podman_service
}

# Podman's service on the configuration engine_podman wrote (also to restart it, keeping its images).
podman_service() {
  local dir="$state/podman"
  CONTAINERS_STORAGE_CONF="$dir/storage.conf" CONTAINERS_CONF="$dir/containers.conf" \
    CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" TMPDIR="$dir/tmp" \
    spawn podman podman system service --time=0 "unix://$run/podman.sock"
  wait_for 30 podman curl -sf --max-time 1 --unix-socket "$run/podman.sock" http://docker/_ping ||
    fail "Podman's service did not become ready" "$logs/podman.log"
  say "Podman $(podman --version | awk '{print $3}') ready at unix://$run/podman.sock"
}

# restart-engine [classic|containerd|podman]: the engine named (default: GHCR_TEST_ENGINE, else
# classic) stopped and started again, its images kept.
restart_engine() {
  case ${1:-${GHCR_TEST_ENGINE:-classic}} in
    classic) stop_one dockerd; engine ;;
    containerd) stop_one dockerd-containerd; engine_containerd ;;
    podman) stop_one podman; podman_service ;;
    *) fail "restart-engine: which engine? classic, containerd or podman" ;;
  esac
}

# registry NAME PORT AUTH_YAML: a distribution registry on 127.0.0.1:PORT with its own storage.
registry() {
  local name=$1 port=$2 auth=$3 expect=$4
  rm -rf "$state/$name/data"
  mkdir -p "$state/$name"
  cat >"$state/$name/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $state/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 24 /dev/urandom | base64)
$auth
EOF
  spawn "$name" docker-registry serve "$state/$name/config.yml"
  wait_for 15 "$name" sh -c "curl -s -o /dev/null -D - --max-time 1 http://127.0.0.1:$port/v2/ | grep -qi '$expect'" ||
    fail "$name did not become ready on 127.0.0.1:$port" "$logs/$name.log"
  say "$name ready on 127.0.0.1:$port"
}

registries() {
  local basic_port=$1 token_port=$2 emulator_port=$3
  htpasswd -Bbn "$basic_user" "$basic_password" >"$state/htpasswd"
  registry registry-basic "$basic_port" "auth:
  htpasswd:
    realm: ghcr-test-basic
    path: $state/htpasswd" 'www-authenticate: basic'

  # The token service (the GHCR emulator) signs RS256 JWTs with this key; the registry trusts its cert.
  mkdir -p "$state/token"
  if [ ! -f "$state/token/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=ghcr-emulator \
      -keyout "$state/token/key.pem" -out "$state/token/cert.pem" 2>"$logs/openssl.log" ||
      fail "could not make the token signing key" "$logs/openssl.log"
  fi
  registry registry-token "$token_port" "auth:
  token:
    realm: http://127.0.0.1:$emulator_port/token
    service: ghcr-test
    issuer: ghcr-emulator
    rootcertbundle: $state/token/cert.pem
notifications:
  endpoints:
    - name: emulator
      url: http://127.0.0.1:$emulator_port/_emulator/registry-events
      timeout: 3s
      threshold: 10
      backoff: 1s" 'www-authenticate: bearer'
}

# The GHCR emulator: GitHub's API and web pages and ghcr.io's token service, for the token registry.
emulator() {
  local port=$1 registry_port=$2
  local binary="$repo/target/debug/ghcr-emulator"
  [ -x "$binary" ] || fail "$binary is missing: build it first (cargo build --workspace)"
  spawn emulator "$binary" --listen "127.0.0.1:$port" --world "$repo/tests/emulator/world.toml" \
    --registry "127.0.0.1:$registry_port" --key "$state/token/key.pem" --cert "$state/token/cert.pem" \
    --service ghcr-test --issuer ghcr-emulator
  wait_for 15 emulator curl -sf --max-time 1 "http://127.0.0.1:$port/_emulator/health" ||
    fail "the emulator did not become ready on 127.0.0.1:$port" "$logs/emulator.log"
  say "emulator ready on http://127.0.0.1:$port"
}

keyring() {
  # A new keyring with every stack: accounts a run saved must not greet the next run (the device-flow
  # test signs in on the emulator's web host, which every stack of this checkout shares).
  rm -rf "$state/keyring-home"
  mkdir -p "$state/keyring-home"
  spawn dbus dbus-daemon --session --nofork --address="unix:path=$run/bus"
  wait_for 10 dbus test -S "$run/bus" || fail "dbus-daemon did not start" "$logs/dbus.log"
  export DBUS_SESSION_BUS_ADDRESS="unix:path=$run/bus"
  # gnome-keyring reads the login keyring's password from stdin; the keyring files go under keyring-home.
  printf 'ghcr-test-keyring' | HOME="$state/keyring-home" XDG_DATA_HOME="$state/keyring-home/data" \
    setsid gnome-keyring-daemon --foreground --unlock --components=secrets >"$logs/keyring.log" 2>&1 &
  echo $! >"$pids/keyring.pid"
  # Nothing may ask for the Secret Service before our daemon owns its name: the bus would start a second,
  # locked gnome-keyring from its service file, ours would find the name taken ("another secret service is
  # running") and exit. NameHasOwner asks the bus itself, which starts nothing.
  wait_for 10 keyring-name sh -c 'dbus-send --session --print-reply \
    --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets | grep -q "boolean true"' ||
    fail "gnome-keyring did not take the Secret Service's name on our bus" "$logs/keyring.log"
  wait_for 10 keyring sh -c 'printf ready | secret-tool store --label="stack probe" ghcr-stack probe' ||
    fail "the Secret Service did not accept a secret" "$logs/keyring.log"
  [ "$(secret-tool lookup ghcr-stack probe)" = ready ] || fail "the Secret Service did not give the secret back"
  secret-tool clear ghcr-stack probe
  say "Secret Service ready on $DBUS_SESSION_BUS_ADDRESS"
}

display() {
  local n
  for n in $(seq 90 189); do
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || break
  done
  spawn xvfb Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp
  wait_for 10 xvfb test -S "/tmp/.X11-unix/X$n" || fail "Xvfb did not start on :$n" "$logs/xvfb.log"
  display_number=$n
  say "Xvfb ready on :$n"
}

webdriver_tools() {
  command -v WebKitWebDriver >/dev/null || fail "WebKitWebDriver is missing (package webkit2gtk-driver)"
  tauri_driver=$(command -v tauri-driver || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver")
  [ -x "$tauri_driver" ] || fail "tauri-driver is missing (cargo install --locked tauri-driver --version '^2')"
}

# --- commands ---------------------------------------------------------------------------------------

components=(dockerd dockerd-containerd podman registry-basic registry-token emulator dbus keyring xvfb)

all_alive() {
  [ -f "$env_file" ] || return 1
  local name
  for name in "${components[@]}"; do alive "$name" || return 1; done
  # A rebuilt emulator replaces the running one.
  [ "$repo/target/debug/ghcr-emulator" -ot "$pids/emulator.pid" ] || return 1
  # shellcheck disable=SC1090
  (. "$env_file" && curl -sf --max-time 2 --unix-socket "${DOCKER_HOST#unix://}" http://docker/_ping)
}

start() {
  if all_alive >/dev/null 2>&1; then
    say "already running; environment in $env_file"
    return
  fi
  stop quiet
  mkdir -p "$logs" "$pids" "$run"
  webdriver_tools
  basic_user=tester
  basic_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  local basic_port token_port emulator_port
  basic_port=$(free_port)
  token_port=$(free_port)
  emulator_port=$(free_port)
  engine
  engine_containerd
  bench_port=$(free_port) # make bench's own registry (Podman must know it as insecure from the start)
  engine_podman "127.0.0.1:$basic_port" "127.0.0.1:$token_port" "127.0.0.1:$bench_port"
  registries "$basic_port" "$token_port" "$emulator_port"
  emulator "$emulator_port" "$token_port"
  keyring
  display
  mkdir -p "$state/docker-config"
  cat >"$env_file" <<EOF
export DOCKER_HOST=unix://$run/docker.sock
export GHCR_TEST_ENGINE_CLASSIC=unix://$run/docker.sock
export GHCR_TEST_ENGINE_CONTAINERD=unix://$run/docker26.sock
export GHCR_TEST_ENGINE_PODMAN=unix://$run/podman.sock
export DOCKER_CONFIG=$state/docker-config
export DBUS_SESSION_BUS_ADDRESS=unix:path=$run/bus
export DISPLAY=:$display_number
export TAURI_DRIVER=$tauri_driver
export GHCR_TEST_STACK=$state
export GHCR_TEST_REGISTRY_BASIC=127.0.0.1:$basic_port
export GHCR_TEST_REGISTRY_BASIC_USER=$basic_user
export GHCR_TEST_REGISTRY_BASIC_PASSWORD=$basic_password
export GHCR_TEST_REGISTRY_TOKEN=127.0.0.1:$token_port
export GHCR_TEST_EMULATOR=http://127.0.0.1:$emulator_port
export GHCR_TEST_REGISTRY_BENCH=127.0.0.1:$bench_port
EOF
  say "ready; environment in $env_file"
}

stop() {
  local name
  for name in xvfb keyring dbus emulator registry-token registry-basic podman dockerd-containerd dockerd; do stop_one "$name"; done
  # dockerd unmounts its layers on a clean stop; after a kill, lift what it left.
  if [ -d "$run" ]; then
    grep -o " $run[^ ]*\| $state/docker-data[^ ]*\| $state/docker26-data[^ ]*\| $state/podman[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$run"
  fi
  rm -f "$env_file"
  [ "${1:-}" = quiet ] || say "stopped; logs in $logs"
}

# The token registry again, on its port, config and storage (what it stored before stays).
start_registry_again() {
  alive registry-token && return 0
  local port
  port=$(sed -n 's/^  addr: 127.0.0.1:\([0-9]*\)$/\1/p' "$state/registry-token/config.yml")
  spawn registry-token docker-registry serve "$state/registry-token/config.yml"
  wait_for 15 registry-token sh -c "curl -s -o /dev/null -D - --max-time 1 http://127.0.0.1:$port/v2/ | grep -qi 'www-authenticate: bearer'" ||
    fail "registry-token did not come back on 127.0.0.1:$port" "$logs/registry-token.log"
  say "registry-token ready again on 127.0.0.1:$port"
}

# dockerd stages `docker save`/export in DATA_ROOT/tmp (its TMPDIR): a full tmpfs there is a full disk
# for exactly that, and nothing else the stack does. `stop` lifts it too (it is under docker-data).
engine_tmp() {
  DOCKER_HOST="unix://$run/docker.sock" docker info --format '{{.DockerRootDir}}/tmp'
}

fill_engine_tmp() {
  local tmp
  tmp=$(engine_tmp)
  mountpoint -q "$tmp" || mount -t tmpfs -o size=1m ghcr-engine-tmp "$tmp"
  head -c 2000000 /dev/zero >"$tmp/filler" 2>/dev/null || true
  say "dockerd's temporary directory $tmp is full ($(df --output=avail -h "$tmp" | tail -1 | tr -d ' ') free)"
}

free_engine_tmp() {
  local tmp
  tmp=$(engine_tmp)
  if mountpoint -q "$tmp"; then umount "$tmp"; fi
  say "dockerd's temporary directory $tmp is back on its disk"
}

status() {
  local name
  for name in "${components[@]}"; do
    if alive "$name"; then echo "$name: running (pid $(cat "$pids/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  stop-engine) stop_one dockerd; say "dockerd stopped" ;;
  restart-engine) restart_engine "${2:-}" ;;
  stop-registry) stop_one registry-token; say "registry-token stopped" ;;
  start-registry) start_registry_again ;;
  fill-engine-tmp) fill_engine_tmp ;;
  free-engine-tmp) free_engine_tmp ;;
  status) status ;;
  *) echo "usage: $0 start|stop|stop-engine|restart-engine|stop-registry|start-registry|fill-engine-tmp|free-engine-tmp|status" >&2; exit 2 ;;
esac
