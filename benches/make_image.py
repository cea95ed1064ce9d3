#!/usr/bin/env python3
"""Builds a large, deterministic `docker save` tarball for benchmarks, without Docker.

The archive has the layout Docker 25+ writes: `blobs/sha256/<hex>` for every layer, the image
config and the OCI image manifest, then `index.json`, `manifest.json`, `oci-layout` and
`repositories` at the end (so a reader meets the layers before it meets `manifest.json`).

Content: the files of SRC (sorted walk) under PREFIX, split by size into N layers of roughly equal
bytes. Planted fake secrets, so scanners have something to find and we can tell which places they
look at:

  * layer 1 also holds `opt/app/old-credentials.env` (fake GitHub PAT + AWS key pair), which the
    last layer deletes with a whiteout `opt/app/.wh.old-credentials.env`: only a scanner that looks
    at every layer, not just the final filesystem, reports it;
  * the last, small layer adds `opt/app/config/secrets.env` (GitHub PAT, AWS key pair, Slack bot
    token): visible in the final filesystem;
  * the image config's `Env` carries one more GitHub PAT.

Every token is generated at run time (none is written in this file). By default they come from a
PRNG seeded with --seed, so the whole archive is byte-for-byte reproducible; --fresh-secrets draws
them from `secrets` instead (the archive then differs in the last layer, the config and the blobs
that name them). What was planted where is written to OUT.planted.json.

Everything is streamed: each layer is written once to a temporary file beside OUT while its
digests are computed, then copied into the archive, so memory stays small whatever SRC's size.

    python3 benches/make_image.py [--src DIR] [--out FILE] [--layers 8] [--gzip] [--seed 1]
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import secrets
import string
import sys
import tarfile
import tempfile
import zlib

# 2024-01-01T00:00:00Z: fixed so that layers and configs do not depend on when they were built.
EPOCH = 1704067200
CREATED = "2024-01-01T00:00:00Z"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
AWS_ID_CHARS = string.ascii_uppercase + "234567"
AWS_SECRET_CHARS = ALNUM + "+/"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


class Tokens:
    """Makes structurally valid fake tokens from a seeded PRNG, or from `secrets`."""

    def __init__(self, seed, fresh):
        self.choice = secrets.choice if fresh else random.Random(f"make_image:{seed}").choice

    def _draw(self, alphabet, n):
        return "".join(self.choice(alphabet) for _ in range(n))

    def github_pat(self):
        # 30 random base62 characters, then their CRC32 in base62 padded to 6: the checksum GitHub
        # puts in new-format tokens, so scanners that verify it still accept ours.
        body = self._draw(B62, 30)
        n, check = zlib.crc32(body.encode()), ""
        while n:
            n, r = divmod(n, 62)
            check = B62[r] + check
        return "ghp_" + body + check.rjust(6, "0")

    def aws_key_id(self):
        return "AKIA" + self._draw(AWS_ID_CHARS, 16)

    def aws_secret(self):
        return self._draw(AWS_SECRET_CHARS, 40)

    def slack_bot(self):
        return f"xoxb-{self._draw(string.digits, 12)}-{self._draw(string.digits, 13)}-{self._draw(ALNUM, 24)}"


class HashingWriter:
    """A write-only file that forwards to `inner` (if any) while counting and hashing the bytes."""

    def __init__(self, inner=None):
        self.inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        if self.inner is not None:
            self.inner.write(data)
        return len(data)

    def flush(self):
        if self.inner is not None:
            self.inner.flush()

    def digest(self):
        return "sha256:" + self.sha.hexdigest()


def walk_files(src):
    """Regular files under src as (relative posix path, absolute path, size), in sorted order."""
    out = []
    for root, dirs, names in os.walk(src):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            out.append((rel, path, os.path.getsize(path)))
    return out


def split_by_size(files, n):
    """Cuts the sorted file list into n contiguous chunks of roughly equal total size."""
    total = sum(size for _, _, size in files) or 1
    chunks = [[] for _ in range(n)]
    acc = 0
    for f in files:
        # Place each file by its midpoint, so one big file cannot leave a chunk empty.
        idx = min(n - 1, (2 * acc + f[2]) * n // (2 * total))
        chunks[idx].append(f)
        acc += f[2]
    return chunks


def tar_info(name, kind, size=0, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = size
    ti.mode = mode
    ti.mtime = EPOCH
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


class LayerWriter:
    """Writes one layer tar, adding the parent directory entries each file needs."""

    def __init__(self, tar):
        self.tar = tar
        self.dirs = set()

    def _parents(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                self.tar.addfile(tar_info(d + "/", tarfile.DIRTYPE, mode=0o755))

    def add_bytes(self, name, data, mode=0o644):
        self._parents(name)
        self.tar.addfile(tar_info(name, tarfile.REGTYPE, len(data), mode), io.BytesIO(data))

    def add_file(self, name, path, size):
        self._parents(name)
        mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
        with open(path, "rb") as f:
            self.tar.addfile(tar_info(name, tarfile.REGTYPE, size, mode), f)


def build_layer(tmp_dir, use_gzip, fill):
    """Writes a layer to a temporary file; returns (path, blob digest, blob size, diff_id)."""
    fd, path = tempfile.mkstemp(prefix="layer-", suffix=".tar", dir=tmp_dir)
    with os.fdopen(fd, "wb") as raw:
        blob = HashingWriter(raw)
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=blob, compresslevel=6, mtime=0) if use_gzip else None
        plain = HashingWriter(gz if gz is not None else blob)
        with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            fill(LayerWriter(tar))
        if gz is not None:
            gz.close()
    return path, blob.digest(), blob.size, plain.digest()


def add_blob_file(outer, path, digest):
    with open(path, "rb") as f:
        outer.addfile(tar_info("blobs/sha256/" + digest.split(":", 1)[1], tarfile.REGTYPE, os.path.getsize(path)), f)


def add_json(outer, name, obj):
    data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    outer.addfile(tar_info(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))


def json_blob(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default="/work/benchdata/cargo/registry/src")
    ap.add_argument("--out", default="/work/benchdata/image.tar")
    ap.add_argument("--layers", type=int, default=8, help="layers of SRC content (a small last layer is added)")
    ap.add_argument("--gzip", action="store_true", help="gzip-compress layer blobs (as a containerd-backed docker save does)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prefix", default="usr/local/cargo/registry/src", help="where SRC goes in the image")
    ap.add_argument("--tag", default="sprawl-bench:latest")
    ap.add_argument("--fresh-secrets", action="store_true", help="draw planted tokens from `secrets` (not reproducible)")
    args = ap.parse_args()
    if args.layers < 1:
        sys.exit("--layers must be at least 1")

    tokens = Tokens(args.seed, args.fresh_secrets)
    prefix = args.prefix.strip("/")
    files = walk_files(args.src)
    if not files:
        sys.exit(f"no files under {args.src}")
    chunks = split_by_size(files, args.layers)

    deleted_path = "opt/app/old-credentials.env"
    deleted_whiteout = "opt/app/.wh.old-credentials.env"
    live_path = "opt/app/config/secrets.env"
    old = {"github_pat": tokens.github_pat(), "aws_key_id": tokens.aws_key_id(), "aws_secret": tokens.aws_secret()}
    live = {"github_pat": tokens.github_pat(), "aws_key_id": tokens.aws_key_id(),
            "aws_secret": tokens.aws_secret(), "slack_bot": tokens.slack_bot()}
    env_token = tokens.github_pat()
    old_text = (f"# removed in a later layer\nGITHUB_TOKEN={old['github_pat']}\n"
                f"AWS_ACCESS_KEY_ID={old['aws_key_id']}\nAWS_SECRET_ACCESS_KEY={old['aws_secret']}\n").encode()
    live_text = (f"GITHUB_TOKEN={live['github_pat']}\nAWS_ACCESS_KEY_ID={live['aws_key_id']}\n"
                 f"AWS_SECRET_ACCESS_KEY={live['aws_secret']}\nSLACK_BOT_TOKEN={live['slack_bot']}\n").encode()

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp_out = args.out + ".partial"
    layers = []  # (blob digest, blob size, diff_id, created_by)
    with open(tmp_out, "wb") as out_f, tarfile.open(fileobj=out_f, mode="w|", format=tarfile.PAX_FORMAT) as outer:
        outer.addfile(tar_info("blobs/", tarfile.DIRTYPE, mode=0o755))
        outer.addfile(tar_info("blobs/sha256/", tarfile.DIRTYPE, mode=0o755))

        def emit(fill, created_by):
            path, digest, size, diff_id = build_layer(out_dir, args.gzip, fill)
            try:
                add_blob_file(outer, path, digest)
            finally:
                os.unlink(path)
            layers.append((digest, size, diff_id, created_by))
            print(f"layer {len(layers)}: {size / 1e6:.1f} MB {digest[7:19]} ({created_by[:60]})", file=sys.stderr)

        for i, chunk in enumerate(chunks):
            def fill(w, chunk=chunk, first=(i == 0)):
                if first:
                    w.add_bytes(deleted_path, old_text, 0o600)
                for rel, path, size in chunk:
                    w.add_file(f"{prefix}/{rel}", path, size)
            emit(fill, f"COPY part {i + 1}/{len(chunks)} of registry/src /{prefix}/ # buildkit")

        def fill_last(w):
            w.add_bytes(deleted_whiteout, b"")
            w.add_bytes(live_path, live_text, 0o600)
        emit(fill_last, f"RUN /bin/sh -c rm /{deleted_path} && install -m600 secrets.env /{live_path} # buildkit")

        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": CREATED,
            "config": {
                "Env": ["PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "CARGO_HOME=/usr/local/cargo", f"GITHUB_TOKEN={env_token}"],
                "Cmd": ["/bin/sh"],
                "WorkingDir": "/opt/app",
            },
            "rootfs": {"type": "layers", "diff_ids": [d for _, _, d, _ in layers]},
            "history": [{"created": CREATED, "created_by": cb, "comment": "buildkit.dockerfile.v0"}
                        for _, _, _, cb in layers]
                       + [{"created": CREATED, "created_by": f"ENV GITHUB_TOKEN={env_token}", "comment": "buildkit.dockerfile.v0",
                           "empty_layer": True}],
        }
        config_bytes, config_digest = json_blob(config)
        layer_mt = OCI_LAYER_GZIP if args.gzip else OCI_LAYER
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": layer_mt, "digest": d, "size": s} for d, s, _, _ in layers],
        }
        manifest_bytes, manifest_digest = json_blob(manifest)
        for data, digest in ((config_bytes, config_digest), (manifest_bytes, manifest_digest)):
            outer.addfile(tar_info("blobs/sha256/" + digest[7:], tarfile.REGTYPE, len(data)), io.BytesIO(data))

        repo, _, tag = args.tag.rpartition(":")
        add_json(outer, "index.json", {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{
                "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
                "annotations": {"io.containerd.image.name": f"docker.io/library/{args.tag}",
                                "org.opencontainers.image.ref.name": tag},
            }],
        })
        add_json(outer, "manifest.json", [{
            "Config": "blobs/sha256/" + config_digest[7:],
            "RepoTags": [args.tag],
            "Layers": ["blobs/sha256/" + d[7:] for d, _, _, _ in layers],
        }])
        add_json(outer, "oci-layout", {"imageLayoutVersion": "1.0.0"})
        add_json(outer, "repositories", {repo: {tag: layers[-1][0][7:]}})
    os.replace(tmp_out, args.out)

    planted = {
        "archive": os.path.abspath(args.out),
        "seed": None if args.fresh_secrets else args.seed,
        "config_digest": config_digest,
        "layers": [{"digest": d, "diff_id": di, "size": s} for d, s, di, _ in layers],
        "secrets": (
            [{"where": "layer", "layer": 1, "path": deleted_path, "deleted_by_layer": len(layers), "kind": k, "value": v}
             for k, v in old.items()]
            + [{"where": "layer", "layer": len(layers), "path": live_path, "kind": k, "value": v} for k, v in live.items()]
            + [{"where": "config", "field": "config.Env", "kind": "github_pat", "value": env_token}]
        ),
    }
    with open(args.out + ".planted.json", "w") as f:
        json.dump(planted, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {os.path.getsize(args.out) / 1e6:.1f} MB, {len(layers)} layers, "
          f"{len(files)} files; planted secrets in {args.out}.planted.json", file=sys.stderr)


if __name__ == "__main__":
    main()
