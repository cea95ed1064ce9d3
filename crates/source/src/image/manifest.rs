//! Turns the manifests of an archive, layout or registry into [`ImageSpec`]s: `docker save`'s
//! `manifest.json`, OCI `index.json` and image indexes (every platform, or the one asked for),
//! OCI and Docker v2 image manifests. Manifests fetched by digest are checked against it.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::store::{Store, read_small};
use super::{BlobRef, ImageSpec};

/// Manifests, indexes and configs larger than this are refused (they are small JSON files).
pub const MAX_JSON: u64 = 16 << 20;
/// Indexes nested deeper than this are not followed.
const MAX_INDEX_DEPTH: usize = 4;

/// The images found in one target, with notes on what was left out.
#[derive(Debug, Default)]
pub struct Listing {
    /// Images to scan.
    pub images: Vec<ImageSpec>,
    /// What was skipped and why (attestations, other platforms, non-image artifacts).
    pub notes: Vec<String>,
    /// Entries of an index that could not be read (missing or corrupt manifests): the other
    /// entries are still listed.
    pub errors: Vec<String>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Checks `bytes` against `digest` (only sha256 is checked; other algorithms pass with a note
/// left to the caller).
pub fn verify_digest(bytes: &[u8], digest: &str, what: &str) -> Result<(), String> {
    if digest.starts_with("sha256:") && sha256_digest(bytes) != digest {
        return Err(format!(
            "{what}: content does not match its digest {digest} (tampered or corrupt image)"
        ));
    }
    Ok(())
}

/// The archive path of a blob in an OCI layout: `blobs/<alg>/<hex>`.
pub fn layout_path(digest: &str) -> Result<String, String> {
    match digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && !hex.is_empty()
                && alg.bytes().all(|b| b.is_ascii_alphanumeric())
                && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(format!("blobs/{alg}/{hex}"))
        }
        _ => Err(format!("invalid digest {digest:?}")),
    }
}

/// Lists the images of a `docker save` archive or an OCI layout (tar or directory) named
/// `name` in reports. `platform` (`linux/amd64`) keeps only matching images of an index.
pub fn list_disk(store: &dyn Store, name: &str, platform: Option<&str>) -> Result<Listing, String> {
    let mut out = Listing::default();
    if store.contains("manifest.json") {
        let bytes = read_small(store, "manifest.json", MAX_JSON)
            .map_err(|e| format!("{name}: manifest.json: {e}"))?;
        docker_save(&bytes, name, &mut out)?;
        if let Some(p) = platform {
            out.notes.push(format!(
                "{name}: --platform {p} ignored: a docker-save archive holds one platform per image"
            ));
        }
        return Ok(out);
    }
    if !store.contains("index.json") {
        return Err(format!(
            "{name}: neither manifest.json (docker save) nor index.json (OCI layout) found: not a container image"
        ));
    }
    let bytes = read_small(store, "index.json", MAX_JSON)
        .map_err(|e| format!("{name}: index.json: {e}"))?;
    let mut fetch = |digest: &str| -> Result<Vec<u8>, String> {
        let path = layout_path(digest)?;
        let bytes =
            read_small(store, &path, MAX_JSON).map_err(|e| format!("{name}: {path}: {e}"))?;
        verify_digest(&bytes, digest, &format!("{name}: manifest {digest}"))?;
        Ok(bytes)
    };
    let mut walk = Walk {
        fetch: &mut fetch,
        platform,
        out: &mut out,
        layout: true,
    };
    walk.document(&bytes, name, None, 0)?;
    Ok(out)
}

/// `manifest.json` of `docker save`: `[{Config, RepoTags, Layers}]`.
fn docker_save(bytes: &[u8], name: &str, out: &mut Listing) -> Result<(), String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{name}: manifest.json is not valid JSON: {e}"))?;
    let items = v
        .as_array()
        .ok_or_else(|| format!("{name}: manifest.json is not a list of images"))?;
    for (i, item) in items.iter().enumerate() {
        let config = item["Config"]
            .as_str()
            .ok_or_else(|| format!("{name}: manifest.json image {i} has no Config"))?;
        let layers = item["Layers"]
            .as_array()
            .ok_or_else(|| format!("{name}: manifest.json image {i} has no Layers"))?;
        let tag = item["RepoTags"]
            .as_array()
            .and_then(|t| t.first())
            .and_then(Value::as_str);
        let reference = match tag {
            Some(t) => t.to_string(),
            None if items.len() == 1 => name.to_string(),
            None => format!("{name}#{i}"),
        };
        let mut specs = Vec::new();
        for l in layers {
            let path = l
                .as_str()
                .ok_or_else(|| format!("{name}: manifest.json image {i}: a layer is not a path"))?;
            specs.push(BlobRef {
                path: path.to_string(),
                digest: digest_from_path(path),
                size: None,
                foreign: false,
            });
        }
        out.images.push(ImageSpec {
            reference,
            platform: None,
            config: BlobRef {
                path: config.to_string(),
                digest: digest_from_path(config),
                size: None,
                foreign: false,
            },
            layers: specs,
        });
    }
    Ok(())
}

/// `blobs/sha256/<hex>` (Docker 25+) and `<hex>.json` (older config names) carry the digest.
fn digest_from_path(path: &str) -> Option<String> {
    let hex_ok = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(hex) = path.strip_prefix("blobs/sha256/")
        && hex_ok(hex)
    {
        return Some(format!("sha256:{hex}"));
    }
    if let Some(hex) = path.strip_suffix(".json")
        && hex_ok(hex)
    {
        return Some(format!("sha256:{hex}"));
    }
    None
}

/// Walks indexes down to image manifests.
struct Walk<'a> {
    fetch: &'a mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
    platform: Option<&'a str>,
    out: &'a mut Listing,
    /// Blobs live at `blobs/<alg>/<hex>` (OCI layout) rather than by digest (registry).
    layout: bool,
}

/// Lists the images a registry manifest (image or index) describes; `fetch` gets manifests by
/// digest.
pub fn list_registry(
    doc: &[u8],
    name: &str,
    platform: Option<&str>,
    fetch: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Listing, String> {
    let mut out = Listing::default();
    let mut walk = Walk {
        fetch,
        platform,
        out: &mut out,
        layout: false,
    };
    walk.document(doc, name, None, 0)?;
    Ok(out)
}

impl Walk<'_> {
    fn blob(&self, d: &Value, what: &str) -> Result<BlobRef, String> {
        let digest = d["digest"]
            .as_str()
            .ok_or_else(|| format!("{what} has no digest"))?;
        let path = if self.layout {
            layout_path(digest)?
        } else {
            layout_path(digest)?;
            digest.to_string()
        };
        Ok(BlobRef {
            path,
            digest: Some(digest.to_string()),
            size: d["size"].as_u64(),
            foreign: d["urls"].as_array().is_some_and(|u| !u.is_empty())
                || d["mediaType"]
                    .as_str()
                    .is_some_and(|m| m.contains("nondistributable") || m.contains("foreign")),
        })
    }

    fn document(
        &mut self,
        bytes: &[u8],
        name: &str,
        platform: Option<String>,
        depth: usize,
    ) -> Result<(), String> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("{name}: manifest is not valid JSON: {e}"))?;
        if v["schemaVersion"].as_u64() == Some(1) {
            return Err(format!(
                "{name}: Docker schema 1 manifests are not supported (deprecated since 2017)"
            ));
        }
        if let Some(children) = v["manifests"].as_array() {
            if depth >= MAX_INDEX_DEPTH {
                return Err(format!(
                    "{name}: image indexes nested deeper than {MAX_INDEX_DEPTH}"
                ));
            }
            return self.index(children, name, depth);
        }
        if v["layers"].is_array() && v["config"].is_object() {
            let config_type = v["config"]["mediaType"].as_str().unwrap_or("");
            if !config_type.is_empty()
                && !config_type.contains("image.config")
                && !config_type.contains("container.image")
            {
                self.out.notes.push(format!(
                    "{name}: an artifact, not a container image (config type {config_type}); skipped"
                ));
                return Ok(());
            }
            let config = self.blob(&v["config"], &format!("{name}: config"))?;
            let mut layers = Vec::new();
            for (i, l) in v["layers"].as_array().into_iter().flatten().enumerate() {
                layers.push(self.blob(l, &format!("{name}: layer {i}"))?);
            }
            self.out.images.push(ImageSpec {
                reference: name.to_string(),
                platform,
                config,
                layers,
            });
            return Ok(());
        }
        Err(format!(
            "{name}: not an image manifest or index (no layers, no manifests)"
        ))
    }

    fn index(&mut self, children: &[Value], name: &str, depth: usize) -> Result<(), String> {
        let mut attestations = 0;
        let mut other_platforms = Vec::new();
        let several = children.len() > 1;
        for (i, d) in children.iter().enumerate() {
            let ann = &d["annotations"];
            if ann["vnd.docker.reference.type"].as_str() == Some("attestation-manifest") {
                attestations += 1;
                continue;
            }
            let platform = platform_of(&d["platform"]);
            if let (Some(want), Some(have)) = (self.platform, platform.as_deref())
                && !platform_matches(want, have)
            {
                other_platforms.push(have.to_string());
                continue;
            }
            // In an OCI layout's top index the tag is an annotation; below it, images are
            // named after their parent and told apart by platform.
            let child_name = if depth == 0 && self.layout {
                match (
                    ann["io.containerd.image.name"].as_str(),
                    ann["org.opencontainers.image.ref.name"].as_str(),
                ) {
                    (Some(full), _) => full.to_string(),
                    (None, Some(tag)) => format!("{name}:{tag}"),
                    (None, None) if several => format!("{name}#{i}"),
                    (None, None) => name.to_string(),
                }
            } else {
                name.to_string()
            };
            // One missing or corrupt manifest must not hide the index's other images.
            let listed = d["digest"]
                .as_str()
                .ok_or_else(|| format!("{name}: index entry {i} has no digest"))
                .and_then(|digest| (self.fetch)(digest))
                .and_then(|bytes| self.document(&bytes, &child_name, platform, depth + 1));
            if let Err(e) = listed {
                self.out.errors.push(e);
            }
        }
        if attestations > 0 {
            self.out.notes.push(format!(
                "{name}: {attestations} attestation manifest(s) (SBOM/provenance) not scanned"
            ));
        }
        if !other_platforms.is_empty() {
            self.out.notes.push(format!(
                "{name}: platforms not matching --platform skipped: {}",
                other_platforms.join(", ")
            ));
        }
        Ok(())
    }
}

/// `os/arch[/variant]` of an index entry's platform object.
pub fn platform_of(p: &Value) -> Option<String> {
    let os = p["os"].as_str()?;
    let arch = p["architecture"].as_str()?;
    Some(match p["variant"].as_str() {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    })
}

/// `linux/arm64` matches `linux/arm64/v8`; `linux/arm/v7` needs the variant.
pub fn platform_matches(want: &str, have: &str) -> bool {
    have == want || have.starts_with(&format!("{want}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        assert!(platform_matches("linux/amd64", "linux/amd64"));
        assert!(platform_matches("linux/arm64", "linux/arm64/v8"));
        assert!(!platform_matches("linux/arm/v7", "linux/arm/v6"));
        assert!(!platform_matches("linux/amd64", "windows/amd64"));
    }

    #[test]
    fn layout_paths_reject_traversal() {
        assert_eq!(layout_path("sha256:ab12").unwrap(), "blobs/sha256/ab12");
        assert!(layout_path("sha256:../../etc/passwd").is_err());
        assert!(layout_path("nocolon").is_err());
    }
}
