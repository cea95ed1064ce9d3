//! Container images as a source: `docker save` archives, OCI image layouts (a directory or a
//! tar of one) and images in a registry (OCI distribution API). This module describes images
//! (which config, which layers, in which order) and reads layers; it never runs detection.
//!
//! - [`store`]: where blobs come from (an indexed tar file, a directory, a registry).
//! - [`manifest`]: `manifest.json` / `index.json` / OCI manifests into [`ImageSpec`]s.
//! - [`config`]: the image config (diff ids, history, and the fields that hold secrets).
//! - [`layer`]: decompress and walk one layer's tar with size, ratio and digest checks,
//!   descending into nested archives.
//! - [`visibility`]: whether a file of a layer is still in the final filesystem.
//! - [`registry`]: the registry client (anonymous, basic and bearer-token auth).

pub mod config;
pub mod layer;
pub mod manifest;
pub mod registry;
pub mod store;
pub mod visibility;

pub use sprawl_core::origin::{HiddenBy, ImageOrigin, Visibility};

/// One image to scan: its name, platform, config blob and layers (base first).
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// How reports name the image (`repo:tag`, `archive.tar#1`, `oci://host/repo@sha256:…`).
    pub reference: String,
    /// `os/arch[/variant]` when the index or config says.
    pub platform: Option<String>,
    /// The config blob.
    pub config: BlobRef,
    /// Layer blobs, base layer first.
    pub layers: Vec<BlobRef>,
}

/// A blob inside a store: a path in an archive or directory, or a digest in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// Location in the store (archive path, or the digest for a registry).
    pub path: String,
    /// Content digest (`sha256:…`) of the stored bytes, when the manifest gives it.
    pub digest: Option<String>,
    /// Size in bytes when the manifest gives it.
    pub size: Option<u64>,
    /// Foreign layers (`urls` set): not in the store, never fetched.
    pub foreign: bool,
}

#[cfg(test)]
mod tests {
    use crate::archive::normalize_path;

    #[test]
    fn paths_are_normalised_and_escapes_flagged() {
        assert_eq!(
            normalize_path("./etc/app.env"),
            ("etc/app.env".into(), false)
        );
        assert_eq!(normalize_path("usr/lib/"), ("usr/lib".into(), false));
        assert_eq!(normalize_path("/etc/passwd"), ("etc/passwd".into(), true));
        assert_eq!(normalize_path("../../x/y"), ("x/y".into(), true));
        assert_eq!(normalize_path("a/../../b"), ("b".into(), true));
    }
}
