#!/usr/bin/env python3
"""Writes a docker-archive (`docker save` format) holding N distinct images that share one tiny layer,
named PREFIX/img-NNNN:v1, so that `docker load` fills an engine with N images in one go.
Usage: many-images.py N PREFIX OUT.tar"""
import hashlib, io, json, sys, tarfile, time

count, prefix, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    data = b"hello from the image benchmark\n"
    info = tarfile.TarInfo("hello.txt")
    info.size, info.mtime = len(data), 0
    t.addfile(info, io.BytesIO(data))
layer_bytes = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()


def add(archive, name, payload):
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(payload), 0
    archive.addfile(info, io.BytesIO(payload))


now = time.time()
manifest = []
with tarfile.open(out, "w") as archive:
    add(archive, "layer/layer.tar", layer_bytes)
    for i in range(count):
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - i * 3600))
        config = json.dumps({
            "architecture": "amd64", "os": "linux", "created": created,
            "config": {"Labels": {"bench.index": str(i)}},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "created_by": "many-images.py"}],
        }, separators=(",", ":")).encode()
        name = hashlib.sha256(config).hexdigest() + ".json"
        add(archive, name, config)
        manifest.append({"Config": name, "RepoTags": [f"{prefix}/img-{i:04d}:v1"], "Layers": ["layer/layer.tar"]})
    add(archive, "manifest.json", json.dumps(manifest).encode())
