#!/usr/bin/env bash
# Push benchmark (`make bench`; a script, not a timed test). Two images, loaded into the stack's dockerd:
#   (a) random:    5 × 100 MiB of random bytes (incompressible)
#   (b) realistic: 350 MB of /usr/lib/x86_64-linux-gnu + 250 MB of /usr/share (compressible)
# Each is pushed to fresh storage of a plain distribution registry on loopback (restarted empty before
# every run: it caches blob info in memory) by
#   docker push · skopeo copy docker-archive: · ghcr push --via engine · ghcr push --via direct (from
#   the engine) · ghcr push ARCHIVE (direct, from the same docker save file skopeo reads)
# alternating, RUNS times each (default 3); prints the median MB/s (MB = 10^6 bytes of layer tar) and the
# ratio to docker push, then the time of an unchanged re-push. `ghcr` is a release build of the CLI.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-3}

say() { printf '%s\n' "$*" >&2; }
cargo build --release -p ghcr --bin ghcr >&2
cargo build --workspace >&2
ghcr="$repo/target/release/ghcr"

started_stack=no
stack_status=$(tests/stack/stack.sh status)
if ! grep -q '^dockerd: running' <<<"$stack_status"; then
  tests/stack/stack.sh start
  started_stack=yes
fi
set -a
# shellcheck disable=SC1091
. target/stack/env
set +a

work=$(mktemp -d /var/tmp/ghcr-bench.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry_pid=
stop_registry() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  registry_pid=
}
cleanup() {
  stop_registry
  docker rmi -f bench-push/random:1 bench-push/realistic:1 >/dev/null 2>&1 || true
  docker images --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$port/" | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$started_stack" = yes ]; then tests/stack/stack.sh stop; fi
}
trap cleanup EXIT

cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry-data
http:
  addr: 127.0.0.1:$port
  secret: bench-$$
YAML
fresh_registry() {
  stop_registry
  rm -rf "$work/registry-data"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return; sleep 0.1; done
  say "the benchmark registry did not start"; exit 1
}

# ghcr needs a token for GitHub's /user (the emulator's); the plain registry asks for none.
login=bench-$$
curl -sf -XPOST "$GHCR_TEST_EMULATOR/_emulator/users" -d "{\"login\":\"$login\"}" >/dev/null
token=$(curl -sf -XPOST "$GHCR_TEST_EMULATOR/_emulator/tokens" \
  -d "{\"login\":\"$login\",\"kind\":\"classic\",\"scopes\":[\"write:packages\"]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export GHCR_API_URL=$GHCR_TEST_EMULATOR GHCR_WEB_URL=$GHCR_TEST_EMULATOR GHCR_REGISTRY=127.0.0.1:$port GHCR_TOKEN=$token

seconds() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>"$work/last-error" || { cat "$work/last-error" >&2; exit 1; }; end=$(date +%s%N); echo "scale=3; ($end - $start) / 1000000000" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

methods=(docker skopeo ghcr-engine ghcr-direct ghcr-archive)
push() { # METHOD IMAGE ARCHIVE RUN
  local method=$1 image=$2 archive=$3 run=$4 target="127.0.0.1:$port/bench/$2-$1-$4:1"
  case $method in
    docker) docker tag "bench-push/$image:1" "$target"; seconds docker push -q "$target" ;;
    skopeo) seconds skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" "docker://$target" ;;
    ghcr-engine) docker tag "bench-push/$image:1" "$target"; GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "$target" --via engine --json ;;
    ghcr-direct) GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "bench-push/$image:1" "$target" --json ;;
    ghcr-archive) GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "$archive" "$target" --json ;;
  esac
}

echo "push benchmark, $(nproc) cores, $runs runs each, fresh registry storage per run; MB/s of layer tar bytes"
for image in random realistic; do
  archive="$work/$image.tar"
  bytes=$(python3 scripts/bench/make-image.py "$image" "$archive" "bench-push/$image:1")
  docker load -q -i "$archive" >/dev/null
  declare -A times=()
  for run in $(seq 1 "$runs"); do
    for method in "${methods[@]}"; do
      fresh_registry
      times[$method]+="$(push "$method" "$image" "$archive" "$run") "
    done
  done
  echo
  echo "image ($([ $image = random ] && echo a || echo b)) $image: $((bytes / 1000000)) MB in $(python3 -c "import json; print(len(json.load(open('/dev/stdin'))[0]['Layers']))" < <(tar -xOf "$archive" manifest.json)) layers"
  docker_mbs=
  for method in "${methods[@]}"; do
    median_s=$(tr ' ' '\n' <<<"${times[$method]}" | grep . | median)
    mbs=$(echo "scale=1; $bytes / 1000000 / $median_s" | bc)
    [ -n "$docker_mbs" ] || docker_mbs=$mbs
    ratio=$(echo "scale=2; $mbs / $docker_mbs" | bc)
    printf '  %-13s %7.2f s  %7.1f MB/s  %5.2f× docker push   (runs: %s)\n' "$method" "$median_s" "$mbs" "$ratio" "${times[$method]% }"
  done
  # Unchanged re-push: the same image to the same place again (blob cache and registry warm).
  fresh_registry
  target="127.0.0.1:$port/bench/$image-again:1"
  GHCR_CACHE_DIR=$work/cache-again-$image seconds "$ghcr" push "bench-push/$image:1" "$target" --json >/dev/null
  again=$(GHCR_CACHE_DIR=$work/cache-again-$image seconds "$ghcr" push "bench-push/$image:1" "$target" --json)
  printf '  %-13s %7.2f s   unchanged re-push (ghcr push --via direct, second time)\n' "re-push" "$again"
  unset times
done
