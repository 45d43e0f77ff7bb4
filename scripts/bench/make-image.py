#!/usr/bin/env python3
"""Writes a docker-archive (what `docker save` makes) for the push benchmark, for `docker load`:
  random       5 layers of 100 MiB of random bytes (incompressible: image (a))
  realistic    2 layers of this machine's files: 350 MB of /usr/lib/x86_64-linux-gnu and 250 MB of
               /usr/share (compressible like real base images: image (b))
  link         2 layers: /usr/share/doc and /usr/lib/python3 (~200 MB, half of it already compressed;
               the image of the shaped-link benchmark)
  dropped      3 layers of 100 MiB of random bytes (the push over a link that drops every 50 MB)
  libs         1 layer: 350 MB of /usr/lib/x86_64-linux-gnu (shared libraries: the second shaped image)
  warmup       1 layer of 16 MiB of random bytes (a push that measures a link before the timed ones)
With --oci-gzip it writes an OCI image layout of gzip layers instead (level 6, as `docker push`
compresses), which Docker's containerd image store loads and keeps compressed, as it keeps pulled images.
Usage: make-image.py random|realistic|link|dropped|libs|warmup ARCHIVE NAME:TAG [--oci-gzip]"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MIB = 1 << 20


def random_layer(index, size=100 * MIB):
    data = os.urandom(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(f"random-{index}.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def files_layer(root, budget):
    buffer = io.BytesIO()
    used = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                size = os.path.getsize(path)
                if used + size > budget:
                    continue
                tar.add(path, arcname=path.lstrip("/"), recursive=False)
                used += size
    return buffer.getvalue()


def qualified(reference):
    """The name as containerd stores it (Docker finds `app:1` only as `docker.io/library/app:1`)."""
    first = reference.split("/")[0]
    if "/" not in reference:
        return "docker.io/library/" + reference
    if "." in first or ":" in first or first == "localhost":
        return reference
    return "docker.io/" + reference


def oci_layout(layers, config, reference):
    """The files of an OCI layout holding the image with its layers gzip-compressed."""
    def blob(data):
        return "sha256:" + hashlib.sha256(data).hexdigest(), data

    compressed = [blob(gzip.compress(layer, compresslevel=6, mtime=0)) for layer in layers]
    config_blob = blob(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_blob[0], "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(b)} for d, b in compressed],
    }).encode()
    manifest_blob = blob(manifest)
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_blob[0],
                       "size": len(manifest), "annotations": {"io.containerd.image.name": qualified(reference),
                                                              "org.opencontainers.image.ref.name": reference.rsplit(":", 1)[1]}}],
    }).encode()
    blobs = [*compressed, config_blob, manifest_blob]
    return [*((f"blobs/sha256/{d[7:]}", b) for d, b in blobs), ("index.json", index),
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]


def main():
    kind, archive, reference = sys.argv[1:4]
    if kind == "random":
        layers = [random_layer(i) for i in range(5)]
    elif kind == "realistic":
        layers = [files_layer("/usr/lib/x86_64-linux-gnu", 350_000_000), files_layer("/usr/share", 250_000_000)]
    elif kind == "link":
        layers = [files_layer("/usr/share/doc", 10**10), files_layer("/usr/lib/python3", 10**10)]
    elif kind == "dropped":
        layers = [random_layer(i) for i in range(3)]
    elif kind == "libs":
        layers = [files_layer("/usr/lib/x86_64-linux-gnu", 350_000_000)]
    elif kind == "warmup":
        layers = [random_layer(0, 16 * MIB)]
    else:
        sys.exit(__doc__)
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {"Labels": {"bench": kind}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    paths = [f"{d[7:]}/layer.tar" for d in diff_ids]
    manifest = json.dumps([{"Config": config_name, "RepoTags": [reference], "Layers": paths}]).encode()
    files = [*zip(paths, layers), (config_name, config), ("manifest.json", manifest)]
    if "--oci-gzip" in sys.argv[4:]:
        files = oci_layout(layers, config, reference)
    with tarfile.open(archive, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    print(sum(len(layer) for layer in layers))


if __name__ == "__main__":
    main()
