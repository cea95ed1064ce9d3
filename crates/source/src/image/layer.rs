//! Reads one image layer: its compression from the first bytes, every tar entry through the
//! shared archive walker ([`crate::archive`]) with what the layer adds and deletes recorded
//! for visibility, and the digest of the stored bytes checked once the whole blob has been read
//! (truncated, corrupt or tampered layers).

use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use sha2::{Digest, Sha256};

pub use crate::archive::{
    Compression, LayerListing, LayerSummary, Limits, RATIO_FLOOR, Visitor, decompressor,
    is_archive_name, walk_archive,
};
use crate::archive::{LimitedReader, Meter, StoredReader, walk_tar};

/// Walks the layer whose stored bytes `raw` yields. `expected` is the digest the stored bytes
/// must have; `diff_id` the digest of the uncompressed tar, checked when the layer is stored
/// uncompressed and no other digest is known (`docker save` before Docker 25).
pub fn walk_layer(
    raw: Box<dyn Read + '_>,
    expected: Option<&str>,
    diff_id: Option<&str>,
    limits: &Limits,
    listing: &mut LayerListing,
    visitor: &mut dyn Visitor,
) -> Result<LayerSummary, String> {
    let meter = Rc::new(Meter::default());
    *meter.hash.borrow_mut() = Some(Sha256::new());
    let stored = StoredReader {
        inner: raw,
        meter: Rc::clone(&meter),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, stored);
    let head = buffered
        .fill_buf()
        .map_err(|e| format!("cannot read: {e}"))?;
    let compression = Compression::sniff(head);
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) || head.starts_with(b"BZh") {
        return Err("xz/bzip2 compressed layers are not part of the OCI spec".to_string());
    }
    let want = expected
        .map(str::to_string)
        .or_else(|| (compression == Compression::None).then(|| diff_id.map(str::to_string))?);
    let decoded = decompressor(buffered).map_err(|e| format!("cannot decompress: {e}"))?;
    let limited = LimitedReader {
        inner: decoded,
        meter: Rc::clone(&meter),
        limits: *limits,
        stored_hint: None,
    };
    let mut summary = LayerSummary::default();
    let mut archive = tar::Archive::new(limited);
    let walked = walk_tar(
        &mut archive,
        "",
        None,
        0,
        limits,
        Some(listing),
        visitor,
        &mut summary,
    );
    let failure = |e: String| match meter.tripped.borrow().as_ref() {
        Some(why) => why.clone(),
        None => e,
    };
    walked.map_err(failure)?;
    // Read to the end (tar padding, trailing gzip members) so the digest covers every byte.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| failure(format!("cannot read to the end: {e}")))?;
    summary.stored_bytes = meter.stored.get();
    summary.tar_bytes = meter.produced.get();
    let actual = meter
        .hash
        .borrow_mut()
        .take()
        .map(|h| format!("sha256:{:x}", h.finalize()));
    if let (Some(want), Some(actual)) = (want, actual)
        && want.starts_with("sha256:")
        && want != actual
    {
        return Err(format!(
            "content does not match its digest (got {actual}): tampered or corrupt image"
        ));
    }
    Ok(summary)
}
