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

use serde::Serialize;

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

/// Where a secret lives in an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImageOrigin {
    /// The image as reports name it.
    pub image: String,
    /// `os/arch[/variant]`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// 0-based layer index (base layer is 0); absent for the image config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// Digest of the layer as the manifest lists it (compressed), or its diff id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    /// The build instruction that created the layer (`history[].created_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Path inside the layer (`a.jar!/b.properties` inside nested archives), or the config
    /// field (`config:Env[2]`).
    pub path: String,
    /// Whether the file can still be seen in the image's final filesystem.
    pub visibility: Visibility,
}

/// Whether a layer's file is part of the image's final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Visibility {
    /// The final filesystem has this very file.
    Visible,
    /// A later layer hides it; it is still in the image for anyone who pulls it.
    Hidden {
        /// Index of the first layer that hides it.
        by_layer: usize,
        /// How that layer hides it.
        how: HiddenBy,
    },
    /// Found in the image config (environment, command, labels, history).
    Config,
}

/// How a later layer hides a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenBy {
    /// A whiteout `.wh.NAME` for the file or one of its parent directories.
    Whiteout,
    /// An opaque directory marker `.wh..wh..opq` in a parent directory.
    OpaqueDirectory,
    /// The same path written again with other content.
    Overwritten,
    /// A parent directory replaced by a file or symlink.
    ParentReplaced,
}

impl Visibility {
    /// A short phrase for the text report.
    pub fn describe(&self) -> String {
        match self {
            Visibility::Visible => "visible in the final filesystem".to_string(),
            Visibility::Config => "in the image config".to_string(),
            Visibility::Hidden { by_layer, how } => {
                let how = match how {
                    HiddenBy::Whiteout => "deleted (whiteout)",
                    HiddenBy::OpaqueDirectory => "hidden (opaque directory)",
                    HiddenBy::Overwritten => "overwritten",
                    HiddenBy::ParentReplaced => "hidden (parent directory replaced)",
                };
                format!(
                    "{how} by layer {by_layer}, but still in the image: anyone who pulls it has the secret"
                )
            }
        }
    }
}

/// Normalises a path from a tar header: no leading `./` or `/`, no empty or `.` components,
/// no trailing slash. Returns the path and whether it tried to leave the root (`..`).
pub fn normalize_path(raw: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut escapes = raw.starts_with('/');
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                escapes = true;
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    (parts.join("/"), escapes)
}

#[cfg(test)]
mod tests {
    use super::normalize_path;

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
