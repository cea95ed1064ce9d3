//! From a blob to its matches: the engine run window by window, with the passes that see
//! what a plain search cannot — JSON-escaped slashes, base64 values in context
//! (decode-through) and names spread over nested settings — each mapped back to the blob's
//! own lines and columns. Every source calls [`detect_stream`]; the CI stage re-enters it for
//! decoded Kubernetes data.

use super::{Engine, KeywordHit, Scratch};
use sprawl_core::finding::preview;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::read::{ReadOutcome, Window};

/// A secret found in one blob, before it is tied to the places the blob appears.
#[derive(Debug, Clone)]
pub struct BlobMatch {
    /// Rule index in the engine.
    pub rule: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// Redacted line.
    pub preview: String,
    /// Keyed fingerprint.
    pub fingerprint: String,
    /// The secret.
    pub secret: sprawl_core::finding::Secret,
    /// CI/GitOps context, for matches in pipelines and manifests.
    pub context: Option<Box<sprawl_core::finding::CiContext>>,
}

/// Runs the detector over a blob delivered window by window by `read`.
pub fn detect_stream(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    read: impl FnOnce(&mut dyn FnMut(Window<'_>)) -> std::io::Result<ReadOutcome>,
) -> std::io::Result<(ReadOutcome, Vec<BlobMatch>)> {
    let mut found = Vec::new();
    let outcome =
        read(&mut |win: Window<'_>| detect_window(engine, fp, scratch, &win, None, &mut found))?;
    Ok((outcome, found))
}

/// [`detect_stream`] for a content that is one window (`sprawl_core::read::single_window`)
/// whose keyword hits are known (a new version of a text, its hits worked out from the
/// earlier version's by [`crate::incremental::hits_after_delta`]): the same matches.
pub fn detect_window_with_hits(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    win: &Window<'_>,
    hits: &[KeywordHit],
) -> Vec<BlobMatch> {
    let mut found = Vec::new();
    detect_window(engine, fp, scratch, win, Some(hits), &mut found);
    found
}

/// The escape JSON writers put before slashes.
pub const ESCAPED_SLASH: &str = "\\/";

/// Every pass over one window; `hits` are the window's keyword hits when already known.
fn detect_window(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    win: &Window<'_>,
    hits: Option<&[KeywordHit]>,
    found: &mut Vec<BlobMatch>,
) {
    let first = found.len();
    // One keyword pass serves the rules, the base64 contexts and the `\/` test.
    let searched;
    let hits = match hits {
        Some(h) => h,
        None => {
            searched = keyword_hits(engine, win.bytes);
            &searched
        }
    };
    collect_matches(engine, fp, scratch, win, win.bytes, hits, |u| u, found);
    // JSON writers that escape slashes (`https:\/\/hooks.slack.com\/services\/...`) hide
    // URL-shaped secrets: scan a copy without the escapes too. Deleting bytes keeps every
    // line number; offsets are mapped back for the window boundary.
    if engine.may_escape_slashes(hits)
        && memchr::memmem::find(win.bytes, ESCAPED_SLASH.as_bytes()).is_some()
    {
        let (plain, shifts) = unescape_slashes(win.bytes);
        let plain_hits = crate::incremental::hits_after_unescape(engine, hits, &shifts, &plain)
            .unwrap_or_else(|| keyword_hits(engine, &plain));
        let mut extra = Vec::new();
        collect_matches(
            engine,
            fp,
            scratch,
            win,
            &plain,
            &plain_hits,
            |u| u + shifts.partition_point(|&x| x <= u),
            &mut extra,
        );
        for m in extra {
            if !found[first..]
                .iter()
                .any(|f| f.line == m.line && f.fingerprint == m.fingerprint)
            {
                found.push(m);
            }
        }
    }
}

/// The keyword hits of `hay`.
fn keyword_hits(engine: &Engine, hay: &[u8]) -> Vec<KeywordHit> {
    let mut hits = Vec::new();
    engine.keyword_hits(hay, &mut hits);
    hits
}

/// Runs the engine over `hay` (the window's bytes or a transformed copy with the same lines),
/// whose keyword hits are `hits`, and keeps the matches that start before the window's
/// boundary (`to_window` maps an offset of `hay` back to the window).
#[allow(clippy::too_many_arguments)]
fn collect_matches(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    win: &Window<'_>,
    hay: &[u8],
    hits: &[KeywordHit],
    to_window: impl Fn(usize) -> usize,
    out: &mut Vec<BlobMatch>,
) {
    let matches = engine.find_with_hits(hay, hits, scratch);
    let encoded = engine.encoded_values_from_hits(hay, hits);
    let mut spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.start, m.end)).collect();
    spans.extend(encoded.iter().map(|e| (e.start, e.end)));
    let first = out.len();
    for m in matches
        .into_iter()
        .filter(|m| to_window(m.start) < win.report_before)
    {
        let (line, column) = in_blob(win, m.line, m.column);
        out.push(BlobMatch {
            rule: m.rule,
            line,
            column,
            end_line: win.lines_before + m.end_line,
            preview: preview(hay, m.start, &spans, false),
            fingerprint: fp.fingerprint(&m.secret),
            secret: String::from_utf8_lossy(&m.secret).into_owned().into(),
            context: None,
        });
    }
    decoded_matches(
        engine, fp, scratch, win, hay, &encoded, &spans, &to_window, first, out,
    );
    nested_matches(
        engine, fp, scratch, win, hay, &spans, &to_window, first, out,
    );
}

/// Scans the leaves of nested settings again under their joined names (`sendgrid:` /
/// `api_key:` read as `sendgrid_api_key: "…"`), so provider rules that need their provider's
/// name next to the key see it. Only provider rules count here (the generic ones already saw
/// the key as written); a secret already reported on that line is not repeated, but a generic
/// rule's finding of it is renamed to the provider rule.
#[allow(clippy::too_many_arguments)]
fn nested_matches(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    win: &Window<'_>,
    hay: &[u8],
    spans: &[(usize, usize)],
    to_window: &impl Fn(usize) -> usize,
    first: usize,
    out: &mut Vec<BlobMatch>,
) {
    let leaves = crate::nested::nested_leaves(hay);
    if leaves.is_empty() {
        return;
    }
    // One `name: "value"` line per leaf; `offsets[i]` is where leaf i's value starts in it.
    let mut doc = Vec::new();
    let mut offsets = Vec::with_capacity(leaves.len());
    for leaf in &leaves {
        doc.extend_from_slice(leaf.name.as_bytes());
        doc.extend_from_slice(b": \"");
        offsets.push(doc.len());
        doc.extend_from_slice(&hay[leaf.start..leaf.end]);
        doc.extend_from_slice(b"\"\n");
    }
    for m in engine.find(&doc, scratch) {
        if engine.rules()[m.rule].spec.generic {
            continue;
        }
        let i = m.line - 1;
        let (Some(leaf), Some(&value_at)) = (leaves.get(i), offsets.get(i)) else {
            continue;
        };
        if m.start < value_at || m.end > value_at + (leaf.end - leaf.start) {
            continue; // the match reaches into the made-up name
        }
        let start = leaf.start + (m.start - value_at);
        if to_window(start) >= win.report_before {
            continue;
        }
        let (line, column) = line_column(hay, start);
        let (line, column) = in_blob(win, line, column);
        let fingerprint = fp.fingerprint(&m.secret);
        if let Some(x) = out[first..]
            .iter_mut()
            .find(|x| x.line == line && x.fingerprint == fingerprint)
        {
            // The generic rule saw `api_key: …`; the provider rule, with the parent's name,
            // says whose key it is: the more specific rule names the finding.
            if engine.rules()[x.rule].spec.generic {
                x.rule = m.rule;
            }
            continue;
        }
        let mut all_spans = spans.to_vec();
        all_spans.push((start, start + m.secret.len()));
        out.push(BlobMatch {
            rule: m.rule,
            line,
            column,
            end_line: line,
            preview: preview(hay, start, &all_spans, false),
            fingerprint,
            secret: String::from_utf8_lossy(&m.secret).into_owned().into(),
            context: None,
        });
    }
}

/// Line and column (1-based, in the blob) of a match found at `line`/`column` of a window: a
/// match on the window's first line continues a line begun before the window.
fn in_blob(win: &Window<'_>, line: usize, column: usize) -> (usize, usize) {
    let column = if line == 1 {
        column + win.columns_before
    } else {
        column
    };
    (win.lines_before + line, column)
}

/// Line and column (1-based, in `hay`, columns in code points) of the byte at `at`.
fn line_column(hay: &[u8], at: usize) -> (usize, usize) {
    let line_start = memchr::memrchr(b'\n', &hay[..at]).map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', &hay[..line_start]).count();
    let column = 1 + hay[line_start..at]
        .iter()
        .filter(|&&b| (b as i8) >= -0x40)
        .count();
    (line, column)
}

/// How deep decode-through goes: a `.dockerconfigjson` holds an `auth` that holds a
/// `_json_key` service account — two levels; a third would only be a crafted blob.
const DECODE_DEPTH: usize = 2;

/// Scans the decoded text of each base64 value found in context and reports its matches at
/// the encoded value's position (line, column, preview of the encoded line, masked). A secret
/// already reported on that line (the Basic header itself) is not reported twice.
#[allow(clippy::too_many_arguments)]
fn decoded_matches(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    win: &Window<'_>,
    hay: &[u8],
    encoded: &[crate::decode::Encoded],
    spans: &[(usize, usize)],
    to_window: &impl Fn(usize) -> usize,
    first: usize,
    out: &mut Vec<BlobMatch>,
) {
    for e in encoded
        .iter()
        .filter(|e| to_window(e.start) < win.report_before)
    {
        let mut secrets = Vec::new();
        decoded_secrets(engine, scratch, &e.text(), DECODE_DEPTH, &mut secrets);
        if secrets.is_empty() {
            continue;
        }
        let (line, column) = line_column(hay, e.start);
        let (line, column) = in_blob(win, line, column);
        for (rule, secret) in secrets {
            let fingerprint = fp.fingerprint(&secret);
            if out[first..]
                .iter()
                .any(|m| m.line == line && m.fingerprint == fingerprint)
            {
                continue;
            }
            out.push(BlobMatch {
                rule,
                line,
                column,
                end_line: line,
                preview: format!("{} (base64-decoded)", preview(hay, e.start, spans, false)),
                fingerprint,
                secret: String::from_utf8_lossy(&secret).into_owned().into(),
                context: None,
            });
        }
    }
}

/// The (rule, secret) pairs found in `decoded`, and in base64 values inside it down to `depth`.
fn decoded_secrets(
    engine: &Engine,
    scratch: &mut Scratch,
    decoded: &[u8],
    depth: usize,
    out: &mut Vec<(usize, Vec<u8>)>,
) {
    if depth == 0 {
        return;
    }
    for m in engine.find(decoded, scratch) {
        out.push((m.rule, m.secret));
    }
    for inner in crate::decode::encoded_values(decoded) {
        decoded_secrets(engine, scratch, &inner.decoded, depth - 1, out);
    }
}

/// `hay` with every `\/` turned into `/`, and for each removed backslash its offset in the
/// result (non-decreasing), so an offset `u` of the result is `u + (removals at or before u)`
/// in `hay`.
fn unescape_slashes(hay: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(hay.len());
    let mut shifts = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i] == b'\\' && hay.get(i + 1) == Some(&b'/') {
            shifts.push(out.len());
            i += 1;
            continue;
        }
        out.push(hay[i]);
        i += 1;
    }
    (out, shifts)
}
