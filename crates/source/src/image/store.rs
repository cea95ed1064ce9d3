//! Where image blobs come from: a tar archive on disk (indexed once, then read by seeking, so
//! `manifest.json` may come after the layers as `docker save` writes it), a directory (an OCI
//! layout or an extracted archive), or a registry (see `registry`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::archive::normalize_path;

/// A source of blobs addressed by a path (archive, directory) or a digest (registry).
pub trait Store: Sync {
    /// Opens the blob at `path` for streaming.
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>>;
    /// True when the store holds `path`.
    fn contains(&self, path: &str) -> bool;
}

/// Reads a whole (small) blob: manifests and configs, bounded by `limit` bytes.
pub fn read_small(store: &dyn Store, path: &str, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    store.open(path)?.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path}: larger than {limit} bytes, not a manifest or config"),
        ));
    }
    Ok(out)
}

/// A tar archive on disk with an index of its members.
pub struct TarStore {
    file: PathBuf,
    members: HashMap<String, (u64, u64)>,
    /// Symlinks and hard links between members: name to target.
    links: HashMap<String, String>,
    /// Keeps the unnamed decompressed copy of a `.tar.gz` open while the store is used.
    _keep: Option<File>,
}

impl TarStore {
    /// Indexes the members of the tar at `file` (headers only; member data is skipped).
    pub fn index(file: &Path) -> io::Result<TarStore> {
        Self::index_inner(file.to_path_buf(), None)
    }

    fn index_inner(path: PathBuf, keep: Option<File>) -> io::Result<TarStore> {
        let f = File::open(&path)?;
        let mut archive = tar::Archive::new(BufReader::new(f));
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            let kind = entry.header().entry_type();
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let (name, _) = normalize_path(&raw);
            if kind.is_file() || kind == tar::EntryType::Continuous {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() || kind.is_hard_link() {
                // Older `docker save` links a layer shared by two images to its first copy
                // (`../<id>/layer.tar`). Links are resolved inside the index, never on disk.
                let Some(target) = entry.link_name_bytes() else {
                    continue;
                };
                let target = String::from_utf8_lossy(&target).into_owned();
                let joined = match name.rsplit_once('/') {
                    Some((dir, _)) if kind.is_symlink() && !target.starts_with('/') => {
                        format!("{dir}/{target}")
                    }
                    _ => target,
                };
                links.insert(name, normalize_path(&joined).0);
            }
        }
        Ok(TarStore {
            file: path,
            members,
            links,
            _keep: keep,
        })
    }

    /// Decompresses a gzip or zstd compressed tar into a temporary file, then indexes it.
    /// The spill is bounded by `limits` (size, and ratio to the compressed size), and is an
    /// unnamed file where the system allows it: it holds plaintext contents, so it must not
    /// outlive the process, even one killed by a signal.
    pub fn index_compressed(file: &Path, limits: &crate::archive::Limits) -> io::Result<TarStore> {
        let f = File::open(file)?;
        let stored = f.metadata()?.len();
        let input = BufReader::new(f);
        let decoder = crate::archive::decompressor(input)?;
        let mut bounded = BoundedInflate::new(decoder, stored, limits);
        let spill = crate::spill::anonymous_file()?;
        let mut writer = io::BufWriter::with_capacity(1 << 20, &spill);
        io::copy(&mut bounded, &mut writer)?;
        drop(writer);
        Self::index_spill(spill)
    }

    /// Indexes a spill file that has no name: members are read through `/proc/self/fd`.
    fn index_spill(spill: File) -> io::Result<TarStore> {
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(format!("/proc/self/fd/{}", spill.as_raw_fd()));
        let mut store = Self::index_inner(path, None)?;
        store._keep = Some(spill);
        Ok(store)
    }
}

/// A decompressor that fails once it has produced more than the limits allow: a tarball given
/// as a target must not fill the disk through its spill.
pub struct BoundedInflate<R> {
    inner: R,
    produced: u64,
    stored: u64,
    limits: crate::archive::Limits,
}

impl<R: Read> BoundedInflate<R> {
    /// Wraps `inner`, the decompression of `stored` compressed bytes.
    pub fn new(inner: R, stored: u64, limits: &crate::archive::Limits) -> Self {
        BoundedInflate {
            inner,
            produced: 0,
            stored,
            limits: *limits,
        }
    }
}

impl<R: Read> Read for BoundedInflate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.limits.max_bytes {
            return Err(io::Error::other(format!(
                "decompresses to more than {} bytes (--max-layer-size): not read further",
                self.limits.max_bytes
            )));
        }
        if self.produced > crate::archive::RATIO_FLOOR
            && self.produced > self.stored.saturating_mul(self.limits.max_ratio)
        {
            return Err(io::Error::other(format!(
                "decompresses more than {}x (--max-layer-ratio): a decompression bomb? not read further",
                self.limits.max_ratio
            )));
        }
        Ok(n)
    }
}

impl TarStore {
    /// Offset and size of `path`, following links between members (at most 8 hops).
    fn member(&self, path: &str) -> Option<(u64, u64)> {
        let mut name = normalize_path(path).0;
        for _ in 0..8 {
            if let Some(&m) = self.members.get(&name) {
                return Some(m);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }
}

impl Store for TarStore {
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        let (offset, size) = self.member(path).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{path}: not in the archive"),
            )
        })?;
        let mut f = File::open(&self.file)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(BufReader::with_capacity(256 << 10, f.take(size))))
    }

    fn contains(&self, path: &str) -> bool {
        self.member(path).is_some()
    }
}

/// A directory holding an OCI layout or an extracted `docker save` archive.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// A store rooted at `root`.
    pub fn new(root: &Path) -> DirStore {
        DirStore {
            root: root.to_path_buf(),
        }
    }

    fn resolve(&self, path: &str) -> io::Result<PathBuf> {
        // Paths come from manifests inside the image: never let them leave the directory.
        let (clean, escapes) = normalize_path(path);
        if escapes || clean.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{path}: refers outside the image directory"),
            ));
        }
        Ok(self.root.join(clean))
    }
}

impl Store for DirStore {
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        let p = self.resolve(path)?;
        let meta = std::fs::symlink_metadata(&p)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{path}: not a regular file"),
            ));
        }
        Ok(Box::new(BufReader::with_capacity(
            256 << 10,
            File::open(p)?,
        )))
    }

    fn contains(&self, path: &str) -> bool {
        self.resolve(path).is_ok_and(|p| p.is_file())
    }
}

/// What a target on disk looks like, judged from its first bytes or files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskImage {
    /// A tar archive (maybe an image; the index tells).
    Tar,
    /// A gzip or zstd compressed tar archive.
    CompressedTar,
    /// A directory with `oci-layout` or a docker-save `manifest.json`.
    Directory,
}

/// Tells whether `path` may be an image: a directory with `oci-layout`/`manifest.json`, or a
/// file that is a (possibly compressed) tar archive.
pub fn sniff(path: &Path) -> Option<DiskImage> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        let oci = path.join("oci-layout").is_file() && path.join("index.json").is_file();
        // Many projects have a manifest.json: only docker-save's list of {Config, Layers}.
        // Bounded, regular files only: a FIFO or a link to /dev/zero named manifest.json
        // must not hang or exhaust the scan (it is then simply not an image).
        let docker = sprawl_core::bounded::read_regular(&path.join("manifest.json"), 16 << 20)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| {
                v.as_array().is_some_and(|a| {
                    !a.is_empty()
                        && a.iter()
                            .all(|i| i["Config"].is_string() && i["Layers"].is_array())
                })
            });
        return (oci || docker).then_some(DiskImage::Directory);
    }
    if !meta.is_file() {
        // FIFOs, process substitutions and devices are streams: opening one to sniff it would
        // block (no writer) or eat the bytes the scan needs.
        return None;
    }
    let mut head = [0u8; 512];
    let mut f = File::open(path).ok()?;
    let n = read_full(&mut f, &mut head).ok()?;
    if n == 512 && is_tar_header(&head) {
        return Some(DiskImage::Tar);
    }
    if crate::archive::Compression::sniff(&head[..n]) != crate::archive::Compression::None {
        let input = BufReader::new(File::open(path).ok()?);
        let mut dec = crate::archive::decompressor(input).ok()?;
        let m = read_full(&mut dec, &mut head).ok()?;
        if m == 512 && is_tar_header(&head) {
            return Some(DiskImage::CompressedTar);
        }
    }
    None
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A POSIX/GNU tar header: "ustar" magic and a valid checksum.
fn is_tar_header(h: &[u8; 512]) -> bool {
    if &h[257..262] != b"ustar" {
        return false;
    }
    let text = String::from_utf8_lossy(&h[148..156]);
    let Ok(stored) = u32::from_str_radix(text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    sum == stored
}

/// Opens a target on disk as a store, or says it is not an image.
pub fn open_disk(
    path: &Path,
    kind: DiskImage,
    limits: &crate::archive::Limits,
) -> io::Result<Box<dyn Store>> {
    Ok(match kind {
        DiskImage::Directory => Box::new(DirStore::new(path)),
        DiskImage::Tar => Box::new(TarStore::index(path)?),
        DiskImage::CompressedTar => Box::new(TarStore::index_compressed(path, limits)?),
    })
}

/// True when the tar archive at `path` has the two zero blocks every tar writer puts after
/// its last entry: one cut at an entry boundary reads as a shorter, valid archive otherwise.
pub fn has_tar_trailer(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let Ok(len) = f.metadata().map(|m| m.len()) else {
        return false;
    };
    let mut archive = tar::Archive::new(BufReader::new(f));
    let Ok(entries) = archive.entries_with_seek() else {
        return false;
    };
    // End of the last entry's data, rounded up to a block.
    let mut end = 0u64;
    for entry in entries {
        let Ok(entry) = entry else {
            return false;
        };
        let data_end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
        end = end.max(data_end);
    }
    if len < end + 1024 {
        return false;
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut trailer = [0u8; 1024];
    f.seek(SeekFrom::Start(end)).is_ok()
        && f.read_exact(&mut trailer).is_ok()
        && trailer.iter().all(|&b| b == 0)
}

/// True when a tar archive (`kind` from [`sniff`]) is a container image: it holds
/// `manifest.json` (docker save) or `index.json` (OCI layout). Any other tarball given as a
/// target is an archive to scan member by member. A compressed one is read through once
/// (headers only kept), bounded by `limits`.
pub fn is_image_archive(
    path: &Path,
    kind: DiskImage,
    limits: &crate::archive::Limits,
) -> io::Result<bool> {
    let image_member = |name: &str| {
        let (n, _) = normalize_path(name);
        n == "manifest.json" || n == "index.json"
    };
    match kind {
        DiskImage::Directory => Ok(true),
        DiskImage::Tar => {
            let store = TarStore::index(path)?;
            Ok(store.members.keys().any(|k| image_member(k)))
        }
        DiskImage::CompressedTar => {
            let f = File::open(path)?;
            let stored = f.metadata()?.len();
            let dec = crate::archive::decompressor(BufReader::new(f))?;
            let mut archive = tar::Archive::new(BoundedInflate::new(dec, stored, limits));
            for entry in archive.entries()? {
                let entry = entry?;
                if image_member(&String::from_utf8_lossy(&entry.path_bytes())) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}
