//! Archives in bounded memory: detects compression (none, gzip, zstd) from the first bytes,
//! walks tar and zip members, hands each regular file to a [`Visitor`], and descends into
//! nested archives (`.tar`, `.tar.gz`, `.tgz`, `.tar.zst`, `.zip`, `.jar`, `.war`, `.ear`) up
//! to a depth limit. Used for archives found in directories ([`walk_archive`]) and for image
//! layers (`image::layer::walk_layer`, which adds the digest check and whiteouts). Nothing is
//! ever written to disk and no path from an entry is ever followed.
//!
//! Guards: a cap on decompressed bytes and on the decompression ratio (bombs), CRC checks of
//! zip members, and truncation reported as an error naming the member.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use sha2::{Digest, Sha256};

/// How a layer or nested archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// Judges from the first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Wraps `r` in the decompressor its first bytes call for.
pub fn decompressor<'a>(mut r: impl BufRead + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let kind = Compression::sniff(r.fill_buf()?);
    Ok(match kind {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// Size limits against decompression bombs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most decompressed bytes one layer or nested archive may produce.
    pub max_bytes: u64,
    /// Most decompressed bytes per stored byte, checked once past [`RATIO_FLOOR`].
    pub max_ratio: u64,
    /// How deep nested archives are opened (1: archives in a layer, not archives in those).
    pub max_depth: usize,
    /// Largest zip/jar read into memory to be opened.
    pub max_zip_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 30,
            max_ratio: 100,
            max_depth: 3,
            max_zip_bytes: 512 << 20,
        }
    }
}

/// Below this many decompressed bytes the ratio is not checked: small, very compressible files
/// (a megabyte of zeros) are normal.
pub const RATIO_FLOOR: u64 = 256 << 20;

/// What a layer adds and deletes, for working out the final filesystem.
#[derive(Debug, Default, Clone)]
pub struct LayerListing {
    /// Every path the layer writes: `true` for directories.
    pub entries: HashMap<String, bool>,
    /// Paths deleted by whiteouts (`dir/.wh.name` deletes `dir/name`).
    pub whiteouts: HashSet<String>,
    /// Directories made opaque (`dir/.wh..wh..opq`): lower layers' content there is hidden.
    pub opaque: HashSet<String>,
}

/// Receives the regular files of a layer.
pub trait Visitor {
    /// A file: `top` is its path in the layer (the outermost archive member for nested
    /// files), `shown` the path reports use (`app.jar!/BOOT-INF/application.yml`).
    fn file(&mut self, top: &str, shown: &str, size: u64, content: &mut dyn Read)
    -> io::Result<()>;
    /// Something worth telling the user (path traversal, a skipped nested archive).
    fn note(&mut self, message: String);
    /// Something that may hide a secret (a member or nested archive that could not be read
    /// to its end): reported as an error, so the exit code says so.
    fn error(&mut self, message: String) {
        self.note(message);
    }
}

/// Counts of what a layer walk saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct LayerSummary {
    /// Bytes of the stored (possibly compressed) blob.
    pub stored_bytes: u64,
    /// Bytes of the decompressed tar stream.
    pub tar_bytes: u64,
    /// Regular files handed to the visitor (nested ones included).
    pub files: u64,
}

/// Shared counters of one stream: stored bytes read, decompressed bytes produced, and the
/// reason the stream was cut off, if it was.
#[derive(Default)]
pub(crate) struct Meter {
    pub(crate) stored: Cell<u64>,
    pub(crate) produced: Cell<u64>,
    pub(crate) tripped: RefCell<Option<String>>,
    pub(crate) hash: RefCell<Option<Sha256>>,
}

/// Hashes and counts the stored bytes.
pub(crate) struct StoredReader<R> {
    pub(crate) inner: R,
    pub(crate) meter: Rc<Meter>,
}

impl<R: Read> Read for StoredReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.stored.set(self.meter.stored.get() + n as u64);
        if let Some(h) = self.meter.hash.borrow_mut().as_mut() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Counts decompressed bytes and stops the stream when a limit is passed.
pub(crate) struct LimitedReader<R> {
    pub(crate) inner: R,
    pub(crate) meter: Rc<Meter>,
    pub(crate) limits: Limits,
    /// Stored size when it is known up front (nested archives); else the meter's count.
    pub(crate) stored_hint: Option<u64>,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let produced = self.meter.produced.get() + n as u64;
        self.meter.produced.set(produced);
        let stored = self.stored_hint.unwrap_or(self.meter.stored.get()).max(1);
        let why = if produced > self.limits.max_bytes {
            Some(format!(
                "decompressed size passed {} bytes (limit --max-layer-size)",
                self.limits.max_bytes
            ))
        } else if produced > RATIO_FLOOR && produced / stored > self.limits.max_ratio {
            Some(format!(
                "decompression bomb? {produced} bytes out of {stored} stored (ratio over {}, limit --max-layer-ratio)",
                self.limits.max_ratio
            ))
        } else {
            None
        };
        if let Some(why) = why {
            *self.meter.tripped.borrow_mut() = Some(why.clone());
            return Err(io::Error::other(why));
        }
        Ok(n)
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

/// True when a file name is an archive sprawl opens (`.tar`, `.tar.gz`, `.tgz`, `.tar.zst`,
/// `.zip`, `.jar`, `.war`, `.ear`).
pub fn is_archive_name(name: &str) -> bool {
    nested_kind(name).is_some()
}

/// Walks an archive file found outside an image (a directory scan): every member is handed to
/// `visitor` as `shown!/member`, nested archives are opened up to `limits.max_depth`, and the
/// same size, ratio and traversal guards as for layers apply.
pub fn walk_archive(
    shown: &str,
    content: &mut dyn Read,
    size: u64,
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> Result<u64, String> {
    let base = shown.rsplit('/').next().unwrap_or(shown);
    let kind = nested_kind(base).ok_or_else(|| format!("{shown}: not an archive"))?;
    let mut summary = LayerSummary::default();
    open_nested(
        kind,
        content,
        size,
        shown,
        shown,
        1,
        limits,
        visitor,
        &mut summary,
    )?;
    Ok(summary.files)
}

/// True for names of archives that are opened: tarballs and zip-family files.
fn nested_kind(name: &str) -> Option<NestedKind> {
    let lower = name.to_ascii_lowercase();
    if [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        Some(NestedKind::Tar)
    } else if [".zip", ".jar", ".war", ".ear"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        Some(NestedKind::Zip)
    } else {
        None
    }
}

#[derive(Clone, Copy)]
enum NestedKind {
    Tar,
    Zip,
}

/// Walks a tar stream. `prefix` is the shown path of the enclosing archive (`a.tar!/`), `top`
/// the layer path of the outermost archive (None for the layer itself). `listing` is only
/// given for the layer, whose entries make up the image filesystem.
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk_tar<R: Read>(
    archive: &mut tar::Archive<R>,
    prefix: &str,
    top: Option<&str>,
    depth: usize,
    limits: &Limits,
    mut listing: Option<&mut LayerListing>,
    visitor: &mut dyn Visitor,
    summary: &mut LayerSummary,
) -> Result<(), String> {
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("corrupt or truncated tar: {e}"))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let (path, escapes) = normalize_path(&raw);
        if escapes {
            visitor.note(format!(
                "{prefix}{raw}: entry path leaves the root (absolute or `..`): scanned as {path}, never extracted or followed"
            ));
        }
        if path.is_empty() {
            continue;
        }
        let kind = entry.header().entry_type();
        let (dir, base) = match path.rsplit_once('/') {
            Some((d, b)) => (d, b),
            None => ("", path.as_str()),
        };
        if let Some(l) = listing.as_deref_mut() {
            if base == ".wh..wh..opq" {
                l.opaque.insert(dir.to_string());
                continue;
            }
            if let Some(target) = base.strip_prefix(".wh.") {
                let full = if dir.is_empty() {
                    target.to_string()
                } else {
                    format!("{dir}/{target}")
                };
                l.whiteouts.insert(full);
                continue;
            }
            l.entries.insert(path.clone(), kind.is_dir());
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let size = entry.size();
        let shown = format!("{prefix}{path}");
        let top_path = top.unwrap_or(&path).to_string();
        summary.files += 1;
        let member = Member {
            base,
            shown: &shown,
            top: &top_path,
            size,
        };
        dispatch(&member, &mut entry, depth, limits, visitor, summary)
            .map_err(|e| format!("{shown}: {e}"))?;
    }
    Ok(())
}

/// A file inside a layer or archive, as the walkers hand it on.
struct Member<'a> {
    /// File name (last path component).
    base: &'a str,
    /// Path reports show.
    shown: &'a str,
    /// Layer path of the outermost archive.
    top: &'a str,
    /// Declared size.
    size: u64,
}

/// Hands a member to the visitor, or opens it when it is an archive within the depth limit
/// (a nested archive that cannot be read is a note, not an error of the enclosing one).
fn dispatch(
    m: &Member<'_>,
    content: &mut dyn Read,
    depth: usize,
    limits: &Limits,
    visitor: &mut dyn Visitor,
    summary: &mut LayerSummary,
) -> io::Result<()> {
    match nested_kind(m.base) {
        Some(kind) if depth < limits.max_depth => {
            if let Err(e) = open_nested(
                kind,
                content,
                m.size,
                m.shown,
                m.top,
                depth + 1,
                limits,
                visitor,
                summary,
            ) {
                visitor.error(format!("{}: nested archive not fully read: {e}", m.shown));
            }
            Ok(())
        }
        Some(_) => {
            visitor.note(format!(
                "{}: nested archive deeper than {} level(s) not opened",
                m.shown, limits.max_depth
            ));
            Ok(())
        }
        None => visitor.file(m.top, m.shown, m.size, content),
    }
}

/// Opens an archive found inside a layer (or inside another archive).
#[allow(clippy::too_many_arguments)]
fn open_nested(
    kind: NestedKind,
    content: &mut dyn Read,
    size: u64,
    shown: &str,
    top: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut dyn Visitor,
    summary: &mut LayerSummary,
) -> Result<(), String> {
    let prefix = format!("{shown}!/");
    let meter = Rc::new(Meter::default());
    match kind {
        NestedKind::Tar => {
            let decoded = decompressor(BufReader::new(content)).map_err(|e| e.to_string())?;
            let limited = LimitedReader {
                inner: decoded,
                meter: Rc::clone(&meter),
                limits: *limits,
                stored_hint: Some(size),
            };
            let mut archive = tar::Archive::new(limited);
            walk_tar(
                &mut archive,
                &prefix,
                Some(top),
                depth,
                limits,
                None,
                visitor,
                summary,
            )
            .map_err(|e| meter.tripped.borrow().clone().unwrap_or(e))
        }
        NestedKind::Zip => {
            if size > limits.max_zip_bytes {
                return Err(format!(
                    "{size} bytes, larger than the {} bytes a zip may take in memory",
                    limits.max_zip_bytes
                ));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            content.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            walk_zip(bytes, &prefix, top, depth, limits, visitor, summary)
        }
    }
}

/// Walks the members of a zip-family archive held in memory.
fn walk_zip(
    bytes: Vec<u8>,
    prefix: &str,
    top: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut dyn Visitor,
    summary: &mut LayerSummary,
) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut produced: u64 = 0;
    for i in 0..zip.len() {
        let (name, size, stored, method, crc) = match zip.by_index(i) {
            Ok(m) if !m.is_file() => continue,
            Ok(m) => (
                String::from_utf8_lossy(m.name_raw()).into_owned(),
                m.size(),
                m.compressed_size(),
                m.compression(),
                m.crc32(),
            ),
            Err(e) => {
                visitor.error(format!("{prefix}: member {i} unreadable: {e}"));
                continue;
            }
        };
        // Stored and deflated members are inflated here from their raw data rather than by
        // the zip reader, which stops with an error at the size the header declares: a
        // member whose data is longer than declared is extracted in full by unzip, so it
        // is scanned in full here (its CRC is checked over everything read).
        let raw: Box<dyn Read + '_> = match method {
            zip::CompressionMethod::Stored => match zip.by_index_raw(i) {
                Ok(r) => Box::new(r),
                Err(e) => {
                    visitor.error(format!("{prefix}{name}: unreadable: {e}"));
                    continue;
                }
            },
            zip::CompressionMethod::Deflated => match zip.by_index_raw(i) {
                Ok(r) => Box::new(flate2::read::DeflateDecoder::new(r)),
                Err(e) => {
                    visitor.error(format!("{prefix}{name}: unreadable: {e}"));
                    continue;
                }
            },
            _ => match zip.by_index(i) {
                Ok(r) => Box::new(r),
                Err(e) => {
                    visitor.error(format!("{prefix}{name}: unreadable: {e}"));
                    continue;
                }
            },
        };
        let mut member = CrcReader {
            inner: raw,
            hasher: crc32fast::Hasher::new(),
        };
        let (path, escapes) = normalize_path(&name);
        if escapes {
            visitor.note(format!(
                "{prefix}{name}: member path leaves the root: scanned as {path}, never extracted"
            ));
        }
        let stored = stored.max(1);
        produced = produced.saturating_add(size);
        if produced > limits.max_bytes || (size > RATIO_FLOOR && size / stored > limits.max_ratio) {
            return Err(format!(
                "{prefix}{path}: decompression bomb? {size} bytes out of {stored} stored"
            ));
        }
        let shown = format!("{prefix}{path}");
        summary.files += 1;
        let base = path.rsplit('/').next().unwrap_or(&path);
        // A member can claim a small size and inflate to more. Its data is what unzip
        // extracts, so it is read in full (a secret after the declared size is still found),
        // bounded by what the archive as a whole may still produce.
        let room = limits.max_bytes.saturating_sub(produced - size);
        let mut counted = Counting {
            inner: (&mut member).take(room),
            read: 0,
        };
        let m = Member {
            base,
            shown: &shown,
            top,
            size,
        };
        if let Err(e) = dispatch(&m, &mut counted, depth, limits, visitor, summary) {
            visitor.error(format!("{shown}: unreadable: {e}"));
        }
        // Only a member read to its end has a CRC to compare (binary ones stop early).
        let mut rest = [0u8; 1];
        let whole = counted.read >= size && matches!(counted.read(&mut rest), Ok(0));
        let read = counted.read;
        let actual = member.hasher.clone().finalize();
        if whole && actual != crc {
            visitor.note(format!(
                "{shown}: CRC mismatch (declared {crc:08x}, data {actual:08x}): the member is corrupt or was altered"
            ));
        }
        if read > size {
            produced = produced.saturating_add(read - size);
            visitor.note(format!(
                "{shown}: data longer than the size its header declares ({size} bytes declared, {read} read): scanned in full"
            ));
            if read >= room {
                return Err(format!(
                    "{shown}: inflates past the archive's limit of {} bytes: not read further",
                    limits.max_bytes
                ));
            }
        }
    }
    Ok(())
}

/// Computes the CRC32 of what is read through it.
struct CrcReader<R> {
    inner: R,
    hasher: crc32fast::Hasher,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what a walk hands out.
    #[derive(Default)]
    struct Collect {
        files: Vec<(String, String, String)>,
        notes: Vec<String>,
        errors: Vec<String>,
    }

    impl Visitor for Collect {
        fn file(
            &mut self,
            top: &str,
            shown: &str,
            _size: u64,
            content: &mut dyn Read,
        ) -> io::Result<()> {
            let mut text = String::new();
            content.read_to_string(&mut text)?;
            self.files.push((top.into(), shown.into(), text));
            Ok(())
        }
        fn note(&mut self, message: String) {
            self.notes.push(message);
        }
        fn error(&mut self, message: String) {
            self.errors.push(message);
        }
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in members {
            w.start_file(*name, opts).unwrap();
            io::Write::write_all(&mut w, data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// The archive walker on in-memory archives: members of a tarball and of a zip inside it
    /// are handed out with `!/` paths; depth 1 leaves the nested zip closed (with a note).
    #[test]
    fn nested_archives_are_walked_to_the_depth_allowed() {
        let inner = zip_of(&[("conf/app.env", b"TOKEN=inner\n")]);
        let outer = tar_of(&[("README", b"hello\n"), ("lib/app.jar", &inner)]);
        let mut seen = Collect::default();
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        let n = walk_archive(
            "dist/bundle.tar",
            &mut outer.as_slice(),
            outer.len() as u64,
            &limits,
            &mut seen,
        )
        .unwrap();
        let shown: Vec<&str> = seen.files.iter().map(|(_, s, _)| s.as_str()).collect();
        assert!(shown.contains(&"dist/bundle.tar!/README"), "{shown:?}");
        assert!(
            shown.contains(&"dist/bundle.tar!/lib/app.jar!/conf/app.env"),
            "{shown:?}"
        );
        let inner_file = seen
            .files
            .iter()
            .find(|(_, s, _)| s.ends_with("app.env"))
            .unwrap();
        assert_eq!(inner_file.2, "TOKEN=inner\n");
        assert!(n >= 2);
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);

        let mut shallow = Collect::default();
        let limits = Limits {
            max_depth: 1,
            ..Limits::default()
        };
        walk_archive(
            "bundle.tar",
            &mut outer.as_slice(),
            outer.len() as u64,
            &limits,
            &mut shallow,
        )
        .unwrap();
        assert!(
            !shallow
                .files
                .iter()
                .any(|(_, s, _)| s.ends_with("conf/app.env")),
            "depth 1 does not open the nested zip"
        );
    }

    /// A truncated tarball hands out what it holds and reports the cut as an error; a name
    /// that is not an archive is refused.
    #[test]
    fn truncated_archives_are_errors_and_non_archives_are_refused() {
        let whole = tar_of(&[("a.txt", b"first\n"), ("b.txt", &[b'x'; 4096])]);
        let cut = &whole[..512 + 512 + 1024];
        let mut seen = Collect::default();
        let res = walk_archive(
            "cut.tar",
            &mut &cut[..],
            cut.len() as u64,
            &Limits::default(),
            &mut seen,
        );
        assert!(seen.files.iter().any(|(_, s, _)| s == "cut.tar!/a.txt"));
        assert!(
            res.is_err() || !seen.errors.is_empty(),
            "the cut is reported: {res:?} {:?}",
            seen.errors
        );
        assert!(walk_archive("x.txt", &mut &b""[..], 0, &Limits::default(), &mut seen).is_err());
    }
}
