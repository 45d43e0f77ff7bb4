#!/usr/bin/env bash
# Push benchmark (`make bench`; a script, not a timed test). Two images:
#   (a) random:    5 × 100 MiB of random bytes (incompressible)
#   (b) realistic: 350 MB of /usr/lib/x86_64-linux-gnu + 250 MB of /usr/share (compressible)
# on each engine of the stack (ENGINES, default "classic containerd podman"): dockerd 20.10 with the
# classic store (images loaded from a `docker save` archive), Docker 26 with the containerd image store
# (loaded as an OCI layout of gzip layers, so stored compressed as pulled images are), and Podman.
# Each is pushed to fresh storage of a plain distribution registry on loopback (restarted empty before
# every run: it caches blob info in memory) by
#   docker push (through that engine: Podman's own push for Podman) · ghcr push --via engine ·
#   ghcr push --via direct (from the engine) · and on the classic engine skopeo copy docker-archive:
#   and ghcr push ARCHIVE (direct, from the same docker save file skopeo reads)
# alternating, RUNS times each (default 3); prints the median MB/s (MB = 10^6 bytes of layer tar) and the
# ratio to docker push, then the time of an unchanged re-push. `ghcr` is a release build of the CLI.
# Then over shaped links (PROFILES, default "20/60 100/20 1000/5": Mbit/s / one-way delay in ms; the
# project's link-shaper between the pusher and the registry, one shared link), on each engine
# (SHAPED_ENGINES, default ENGINES), the images SHAPED_IMAGES (default "link libs": link is
# /usr/share/doc + /usr/lib/python3, ~190 MB, half of it already compressed; libs is 350 MB of
# /usr/lib/x86_64-linux-gnu):
#   classic:            docker push · skopeo copy docker-daemon: (the engine's export, as ghcr's) ·
#                       ghcr push IMAGE (the default way: gzip, method chosen) · ghcr push IMAGE
#                       --compression zstd
#   containerd, Podman: the engine's push · ghcr push IMAGE (the default way) · ghcr push --compression zstd
# with the MB the link carried up for each. Before a profile's runs, one untimed direct push of a
# 16 MiB image measures the link, as a person's earlier push to that registry would have: the default
# way reads that (push::link_memory), each timed push starting from an empty blob cache with it.
# LOOPBACK=no skips the first part, PROFILES= the second.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-3}
read -r -a engines <<<"${ENGINES:-classic containerd podman}"
read -r -a shaped_engines <<<"${SHAPED_ENGINES:-${engines[*]}}"
read -r -a shaped_images <<<"${SHAPED_IMAGES:-link libs}"

say() { printf '%s\n' "$*" >&2; }
cargo build --release -p ghcr --bin ghcr >&2
cargo build --workspace >&2
ghcr="$repo/target/release/ghcr"
shaper="$repo/target/debug/link-shaper"
read -r -a profiles <<<"${PROFILES-20/60 100/20 1000/5}"

# shellcheck source=scripts/use-stack.sh
. scripts/use-stack.sh
[ -n "${GHCR_TEST_REGISTRY_BENCH:-}" ] ||
  { say "the running stack is older than this script: tests/stack/stack.sh stop, then run make bench again"; exit 1; }

work=$(mktemp -d /var/tmp/ghcr-bench.XXXXXX)
# The stack reserved this port for it: Podman must know a plain-http registry as insecure from its start.
port=${GHCR_TEST_REGISTRY_BENCH##*:}
registry_pid= shaper_pid=
stop_registry() {
  local pid
  for pid in $registry_pid $shaper_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  registry_pid= shaper_pid=
}
cleanup() {
  stop_registry
  for engine in "${shaped_engines[@]}"; do
    on "$engine" docker rmi -f bench-push/random:1 bench-push/realistic:1 bench-push/link:1 bench-push/libs:1 bench-push/warmup:1 >/dev/null 2>&1 || true
    on "$engine" docker images --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$port/" | xargs -r env DOCKER_HOST="$(host_of "$engine")" docker rmi >/dev/null 2>&1 || true
  done
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
# The shaped runs: the registry on a port of its own, the link-shaper on the bench port in front of it.
upstream_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s/addr: 127.0.0.1:$port/addr: 127.0.0.1:$upstream_port/" "$work/registry.yml" >"$work/registry-shaped.yml"
fresh_registry() { # [MBIT/DELAY_MS]: behind the link-shaper
  stop_registry
  rm -rf "$work/registry-data" "$work/link.json"
  local config=$work/registry.yml
  if [ -n "${1:-}" ]; then
    config=$work/registry-shaped.yml
    "$shaper" --listen "127.0.0.1:$port" --upstream "127.0.0.1:$upstream_port" --mbit "${1%/*}" --delay-ms "${1#*/}" --stats "$work/link.json" &
    shaper_pid=$!
  fi
  docker-registry serve "$config" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return; sleep 0.1; done
  say "the benchmark registry did not start"; exit 1
}
uploaded_mb() { sleep 0.3; python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["uploaded"] / 1e6, 1))' "$work/link.json"; }

# ghcr needs a token for GitHub's /user (the emulator's); the plain registry asks for none.
login=bench-$$
curl -sf -XPOST "$GHCR_TEST_EMULATOR/_emulator/users" -d "{\"login\":\"$login\"}" >/dev/null
token=$(curl -sf -XPOST "$GHCR_TEST_EMULATOR/_emulator/tokens" \
  -d "{\"login\":\"$login\",\"kind\":\"classic\",\"scopes\":[\"write:packages\"]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export GHCR_API_URL=$GHCR_TEST_EMULATOR GHCR_WEB_URL=$GHCR_TEST_EMULATOR GHCR_REGISTRY=127.0.0.1:$port GHCR_TOKEN=$token

seconds() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>"$work/last-error" || { cat "$work/last-error" >&2; exit 1; }; end=$(date +%s%N); echo "scale=3; ($end - $start) / 1000000000" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

host_of() { # ENGINE: its DOCKER_HOST
  case $1 in
    classic) echo "$GHCR_TEST_ENGINE_CLASSIC" ;;
    containerd) echo "$GHCR_TEST_ENGINE_CONTAINERD" ;;
    podman) echo "$GHCR_TEST_ENGINE_PODMAN" ;;
    *) say "unknown engine $1 (classic, containerd, podman)"; exit 2 ;;
  esac
}
on() { local engine=$1; shift; DOCKER_HOST=$(host_of "$engine") "$@"; }

# A fresh blob cache for one ghcr run, holding what the warm-up learnt of the link (if any).
cache_for() { # RUN METHOD
  local dir=$work/cache-$1-$2
  mkdir -p "$dir"
  [ ! -f "$work/links.json" ] || cp "$work/links.json" "$dir/links.json"
  echo "$dir"
}

push() { # METHOD IMAGE ARCHIVE RUN (DOCKER_HOST set to the engine)
  local method=$1 image=$2 archive=$3 run=$4 target="127.0.0.1:$port/bench/$2-$1-$4:1"
  case $method in
    docker) docker tag "bench-push/$image:1" "$target"; seconds docker push -q "$target" ;;
    skopeo) seconds skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" "docker://$target" ;;
    skopeo-daemon) seconds skopeo copy -q --dest-tls-verify=false --src-daemon-host "$DOCKER_HOST" "docker-daemon:bench-push/$image:1" "docker://$target" ;;
    ghcr-engine) docker tag "bench-push/$image:1" "$target"; GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "$target" --via engine --json ;;
    ghcr) GHCR_CACHE_DIR=$(cache_for "$run" "$method") seconds "$ghcr" push "bench-push/$image:1" "$target" --json ;;
    ghcr-zstd) GHCR_CACHE_DIR=$(cache_for "$run" "$method") seconds "$ghcr" push "bench-push/$image:1" "$target" --compression zstd --json ;;
    ghcr-direct) GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "bench-push/$image:1" "$target" --via direct --json ;;
    ghcr-archive) GHCR_CACHE_DIR=$work/cache-$run-$method seconds "$ghcr" push "$archive" "$target" --json ;;
  esac
}

echo "push benchmark, $(nproc) cores, $runs runs each, fresh registry storage per run; MB/s of layer tar bytes"
[ "${LOOPBACK:-yes}" = yes ] || engines=()
for engine in "${engines[@]}"; do
  export DOCKER_HOST
  DOCKER_HOST=$(host_of "$engine")
  case $engine in
    classic) methods=(docker skopeo ghcr-engine ghcr-direct ghcr-archive); anchor="docker push" ;;
    containerd) methods=(docker ghcr-engine ghcr-direct); anchor="docker push" ;;
    podman) methods=(docker ghcr-engine ghcr-direct); anchor="podman push" ;;
  esac
  echo
  echo "== $engine: $(docker version --format '{{.Server.Platform.Name}} {{.Server.Version}}' 2>/dev/null | sed 's/^ *//'), anchor: $anchor"
  for image in random realistic; do
    archive="$work/$image.tar"
    if [ "$engine" = containerd ]; then
      bytes=$(python3 scripts/bench/make-image.py "$image" "$work/$image-oci.tar" "bench-push/$image:1" --oci-gzip)
      docker load -q -i "$work/$image-oci.tar" >/dev/null
      rm -f "$work/$image-oci.tar"
    else
      [ -f "$archive" ] || python3 scripts/bench/make-image.py "$image" "$archive" "bench-push/$image:1" >"$archive.bytes"
      bytes=$(cat "$archive.bytes")
      docker load -q -i "$archive" >/dev/null
    fi
    declare -A times=()
    for run in $(seq 1 "$runs"); do
      for method in "${methods[@]}"; do
        fresh_registry
        times[$method]+="$(push "$method" "$image" "$archive" "$run") "
      done
    done
    echo "image ($([ $image = random ] && echo a || echo b)) $image: $((bytes / 1000000)) MB of layers"
    docker_mbs=
    for method in "${methods[@]}"; do
      median_s=$(tr ' ' '\n' <<<"${times[$method]}" | grep . | median)
      mbs=$(echo "scale=1; $bytes / 1000000 / $median_s" | bc)
      [ -n "$docker_mbs" ] || docker_mbs=$mbs
      ratio=$(echo "scale=2; $mbs / $docker_mbs" | bc)
      label=$method
      [ "$method" != docker ] || label=${anchor// /-}
      printf '  %-13s %7.2f s  %7.1f MB/s  %5.2f× %s   (runs: %s)\n' "$label" "$median_s" "$mbs" "$ratio" "$anchor" "${times[$method]% }"
    done
    # Unchanged re-push: the same image to the same place again (blob cache and registry warm).
    fresh_registry
    target="127.0.0.1:$port/bench/$image-again:1"
    GHCR_CACHE_DIR=$work/cache-again-$engine-$image seconds "$ghcr" push "bench-push/$image:1" "$target" --json >/dev/null
    again=$(GHCR_CACHE_DIR=$work/cache-again-$engine-$image seconds "$ghcr" push "bench-push/$image:1" "$target" --json)
    printf '  %-13s %7.2f s   unchanged re-push (ghcr push --via direct, second time)\n' "re-push" "$again"
    docker rmi -f "bench-push/$image:1" >/dev/null 2>&1 || true
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$port/" | xargs -r docker rmi >/dev/null 2>&1 || true
    unset times
  done
done

# Over shaped links: each engine, each image (on the containerd store loaded as gzip layers).
if [ "${#profiles[@]}" -gt 0 ]; then
  python3 scripts/bench/make-image.py warmup "$work/warmup.tar" "bench-push/warmup:1" >/dev/null
  for image in "${shaped_images[@]}"; do
    archive=$work/$image.tar
    bytes=$(python3 scripts/bench/make-image.py "$image" "$archive" "bench-push/$image:1")
    echo
    echo "== over shaped links (link-shaper), image $image: $((bytes / 1000000)) MB of layers; medians of $runs"
    for engine in "${shaped_engines[@]}"; do
      export DOCKER_HOST
      DOCKER_HOST=$(host_of "$engine")
      case $engine in
        classic) methods=(docker skopeo-daemon ghcr ghcr-zstd) ;;
        *) methods=(docker ghcr ghcr-zstd) ;;
      esac
      if [ "$engine" = containerd ]; then
        python3 scripts/bench/make-image.py "$image" "$work/$image-oci.tar" "bench-push/$image:1" --oci-gzip >/dev/null
        docker load -q -i "$work/$image-oci.tar" >/dev/null
        rm -f "$work/$image-oci.tar"
      else
        docker load -q -i "$archive" >/dev/null
      fi
      docker load -q -i "$work/warmup.tar" >/dev/null
      echo "-- $engine: $(docker version --format '{{.Server.Platform.Name}} {{.Server.Version}}' 2>/dev/null | sed 's/^ *//')"
      for profile in "${profiles[@]}"; do
        # The link measured by an earlier direct push (untimed), as a person's would have.
        fresh_registry "$profile"
        rm -rf "$work/warm" "$work/links.json"
        GHCR_CACHE_DIR=$work/warm seconds "$ghcr" push "bench-push/warmup:1" "127.0.0.1:$port/bench/warmup:1" --via direct --json >/dev/null
        cp "$work/warm/links.json" "$work/links.json" 2>/dev/null || true
        link_rate=$(python3 -c 'import json,sys; print(round(list(json.load(open(sys.argv[1])).values())[0]["bytes_per_second"] / 1e6, 1))' "$work/links.json" 2>/dev/null || echo "?")
        declare -A times=() sent=()
        for run in $(seq 1 "$runs"); do
          for method in "${methods[@]}"; do
            fresh_registry "$profile"
            times[$method]+="$(push "$method" "$image" "$archive" "$engine-${profile//\//-}-$run") "
            sent[$method]+="$(uploaded_mb) "
          done
        done
        echo "${profile%/*} Mbit/s, ${profile#*/} ms each way (the warm-up measured $link_rate MB/s):"
        best=
        for method in docker skopeo-daemon; do
          [ -n "${times[$method]:-}" ] || continue
          m=$(tr ' ' '\n' <<<"${times[$method]}" | grep . | median)
          if [ -z "$best" ] || [ "$(echo "$m < $best" | bc)" = 1 ]; then best=$m; fi
        done
        for method in "${methods[@]}"; do
          median_s=$(tr ' ' '\n' <<<"${times[$method]}" | grep . | median)
          mb=$(tr ' ' '\n' <<<"${sent[$method]}" | grep . | median)
          label=$method
          [ "$method" != docker ] || [ "$engine" != podman ] || label=podman-push
          printf '  %-13s %7.2f s  %6.1f MB up  %5.2f× the faster of the engine push and skopeo (engine)   (runs: %s)\n' \
            "$label" "$median_s" "$mb" "$(echo "scale=2; $best / $median_s" | bc)" "${times[$method]% }"
        done
        unset times sent
      done
      docker rmi -f "bench-push/$image:1" bench-push/warmup:1 >/dev/null 2>&1 || true
      docker images --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$port/" | xargs -r docker rmi >/dev/null 2>&1 || true
    done
    rm -f "$archive"
  done
fi
