//! Builds container images from the test itself: layer tars (with whiteouts, opaque markers,
//! raw hostile paths), gzip/zstd compression, configs, manifests, and writes them as a
//! `docker save` archive (Docker 25+ or the older `<id>/layer.tar` form), an OCI layout
//! directory, or a tar of one. No Docker engine involved.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

/// One tar entry.
pub(crate) enum E {
    /// A regular file.
    File(&'static str, Vec<u8>),
    /// A file with an owned name.
    Named(String, Vec<u8>),
    /// A directory.
    Dir(&'static str),
    /// A symlink to a target.
    Symlink(&'static str, &'static str),
    /// A file whose header name is written verbatim (`../x`, `/abs`): tar builders refuse those.
    Raw(&'static str, Vec<u8>),
}

/// Layer compression.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comp {
    None,
    Gzip,
    Zstd,
}

/// `sha256:<hex>`.
pub(crate) fn digest(b: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(b))
}

fn header(size: u64, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    h.set_mtime(1_700_000_000);
    h.set_entry_type(kind);
    h
}

/// A tar of `entries`.
pub(crate) fn layer_tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data) => {
                let mut h = header(data.len() as u64, tar::EntryType::Regular);
                b.append_data(&mut h, p, &data[..]).expect("tar file");
            }
            E::Named(p, data) => {
                let mut h = header(data.len() as u64, tar::EntryType::Regular);
                b.append_data(&mut h, p, &data[..]).expect("tar file");
            }
            E::Dir(p) => {
                let mut h = header(0, tar::EntryType::Directory);
                b.append_data(&mut h, p, &[][..]).expect("tar dir");
            }
            E::Symlink(p, target) => {
                let mut h = header(0, tar::EntryType::Symlink);
                b.append_link(&mut h, p, target).expect("tar symlink");
            }
            E::Raw(name, data) => {
                let mut h = header(data.len() as u64, tar::EntryType::Regular);
                let raw = &mut h.as_old_mut().name;
                raw.fill(0);
                raw[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, &data[..]).expect("tar raw");
            }
        }
    }
    b.into_inner().expect("tar done")
}

/// Compresses a tar.
pub(crate) fn compress(tar: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::None => tar.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).expect("gzip");
            e.finish().expect("gzip")
        }
        Comp::Zstd => zstd::encode_all(tar, 1).expect("zstd"),
    }
}

/// An image to build.
pub(crate) struct Img {
    /// Layers: tar, compression, the build step that made it.
    pub(crate) layers: Vec<(Vec<u8>, Comp, String)>,
    /// `config.Env`.
    pub(crate) env: Vec<String>,
    /// History entries without a layer (`ENV`, `ARG`), appended after the layers'.
    pub(crate) empty_history: Vec<String>,
    /// `os`, `architecture`.
    pub(crate) platform: (&'static str, &'static str),
    /// `config.Labels`.
    pub(crate) labels: Vec<(&'static str, String)>,
}

impl Default for Img {
    fn default() -> Self {
        Img {
            layers: Vec::new(),
            env: vec!["PATH=/usr/local/bin:/usr/bin".to_string()],
            empty_history: Vec::new(),
            platform: ("linux", "amd64"),
            labels: vec![("org.example.team", "platform".to_string())],
        }
    }
}

/// A built image: blobs with digests.
pub(crate) struct Built {
    pub(crate) config: Vec<u8>,
    /// (stored bytes, digest, diff id, media type) per layer.
    pub(crate) layers: Vec<(Vec<u8>, String, String, String)>,
    pub(crate) manifest: Vec<u8>,
    pub(crate) platform: (&'static str, &'static str),
}

/// Builds blobs, config and OCI manifest.
pub(crate) fn build(img: &Img) -> Built {
    let mut layers = Vec::new();
    let mut history = Vec::new();
    for (tar, comp, created_by) in &img.layers {
        let stored = compress(tar, *comp);
        let media = match comp {
            Comp::None => "application/vnd.oci.image.layer.v1.tar",
            Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        layers.push((
            stored.clone(),
            digest(&stored),
            digest(tar),
            media.to_string(),
        ));
        history.push(json!({"created": "2024-01-01T00:00:00Z", "created_by": created_by}));
    }
    for h in &img.empty_history {
        history
            .push(json!({"created": "2024-01-01T00:00:00Z", "created_by": h, "empty_layer": true}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": img.platform.1,
        "os": img.platform.0,
        "config": {"Env": img.env, "Cmd": ["/bin/sh"],
                   "Labels": img.labels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.2.clone()).collect::<Vec<_>>()},
        "history": history,
    }))
    .expect("config json");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": layers.iter().map(|l| json!({"mediaType": l.3, "digest": l.1, "size": l.0.len()})).collect::<Vec<_>>(),
    }))
    .expect("manifest json");
    Built {
        config,
        layers,
        manifest,
        platform: img.platform,
    }
}

fn blob_name(d: &str) -> String {
    format!("blobs/sha256/{}", d.trim_start_matches("sha256:"))
}

/// Writes an OCI layout directory. With `multi_platform`, one top index entry points to an
/// image index listing every image by platform; otherwise each image is a tagged entry.
pub(crate) fn write_oci_dir(dir: &Path, images: &[(&str, &Built)], multi_platform: bool) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    let put = |b: &[u8]| {
        std::fs::write(dir.join(blob_name(&digest(b))), b).expect("blob");
    };
    let mut entries = Vec::new();
    for (tag, img) in images {
        put(&img.config);
        put(&img.manifest);
        for l in &img.layers {
            put(&l.0);
        }
        entries.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(&img.manifest),
            "size": img.manifest.len(),
            "platform": {"os": img.platform.0, "architecture": img.platform.1},
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    }
    let top = if multi_platform {
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }))
        .expect("index");
        put(&index);
        vec![json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest(&index),
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": images[0].0},
        })]
    } else {
        entries
    };
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": top})).expect("index"),
    )
    .expect("index.json");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
}

/// Tars a directory (an OCI layout) into `out`.
pub(crate) fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).expect("create"));
    b.append_dir_all(".", dir).expect("tar dir");
    b.finish().expect("finish");
}

/// Writes a `docker save` archive like Docker 25+: blobs first, `manifest.json` last.
pub(crate) fn docker_save(out: &Path, images: &[(&str, &Built)]) {
    let mut b = tar::Builder::new(std::fs::File::create(out).expect("create"));
    let mut add = |name: &str, data: &[u8]| {
        let mut h = header(data.len() as u64, tar::EntryType::Regular);
        b.append_data(&mut h, name, data).expect("append");
    };
    let mut manifest = Vec::new();
    for (tag, img) in images {
        add(&blob_name(&digest(&img.config)), &img.config);
        for l in &img.layers {
            add(&blob_name(&l.1), &l.0);
        }
        manifest.push(json!({
            "Config": blob_name(&digest(&img.config)),
            "RepoTags": [tag],
            "Layers": img.layers.iter().map(|l| blob_name(&l.1)).collect::<Vec<_>>(),
        }));
    }
    add(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    b.into_inner().expect("finish");
}

/// Writes a `docker save` archive in the pre-25 form: `<id>/layer.tar` (uncompressed, so the
/// file digest is the diff id) and `<hex>.json` configs; layers with a wrong diff id can be
/// simulated by passing tampered bytes.
pub(crate) fn docker_save_legacy(out: &Path, tag: &str, img: &Built, layer_bytes: &[Vec<u8>]) {
    let mut b = tar::Builder::new(std::fs::File::create(out).expect("create"));
    let mut add = |name: &str, data: &[u8]| {
        let mut h = header(data.len() as u64, tar::EntryType::Regular);
        b.append_data(&mut h, name, data).expect("append");
    };
    let cfg_name = format!("{}.json", digest(&img.config).trim_start_matches("sha256:"));
    add(&cfg_name, &img.config);
    let mut paths = Vec::new();
    for (i, bytes) in layer_bytes.iter().enumerate() {
        let p = format!("layer{i:02}/layer.tar");
        add(&p, bytes);
        paths.push(p);
    }
    add(
        "manifest.json",
        &serde_json::to_vec(&json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": paths}]))
            .expect("json"),
    );
    b.into_inner().expect("finish");
}
