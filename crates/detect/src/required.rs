//! The longest run of literal text every match of a pattern contains and its keywords do not
//! (`://` in a connection URI whose keywords are scheme names): a window around a keyword hit
//! that does not hold it cannot hold a match, so its regex search is skipped. Exact: only text
//! that cannot be part of a match is ruled out.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Shortest literal worth a pre-check (a byte or two occurs everywhere).
const MIN_LEN: usize = 3;

/// Text every match contains, searched case-insensitively when the pattern matches it so.
pub(crate) struct Required(AhoCorasick);

impl Required {
    /// The requirement of `pattern` (parsed as the engine compiles it: bytes, no Unicode):
    /// the longest run of literal text in its top-level concatenation, of at least [`MIN_LEN`]
    /// bytes, leaving out runs a hit of one of the rule's `keywords` already satisfies (windows
    /// are cut around keyword hits). `None` when there is none.
    pub(crate) fn of(pattern: &str, keywords: &[String]) -> Option<Required> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        // A text that holds a keyword, or is part of one, is next to most keyword hits: checking
        // for it costs a pass and rarely skips a window.
        let contains = |hay: &[u8], needle: &[u8]| {
            hay.windows(needle.len().max(1))
                .any(|w| w.eq_ignore_ascii_case(needle))
        };
        let implied = |text: &[u8]| {
            keywords.iter().any(|k| {
                let k = k.as_bytes();
                (k.len() >= text.len() && contains(k, text))
                    || (text.len() >= k.len() && contains(text, k))
            })
        };
        let (text, ci) = literal_runs(&hir)
            .into_iter()
            .filter(|(t, _)| t.len() >= MIN_LEN && !implied(t))
            .max_by_key(|(t, _)| t.len())?;
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(ci)
            .build([text])
            .ok()
            .map(Required)
    }

    /// Whether `hay` holds the text.
    pub(crate) fn is_in(&self, hay: &[u8]) -> bool {
        self.0.is_match(hay)
    }
}

/// The runs of literal text in a pattern's top-level concatenation, each with whether it is
/// matched case-insensitively.
fn literal_runs(hir: &Hir) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut run: (Vec<u8>, bool) = (Vec::new(), false);
    for part in top_level(hir) {
        match piece(part) {
            Some((bytes, ci)) => {
                run.0.extend_from_slice(&bytes);
                run.1 |= ci;
            }
            None if !run.0.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.0.is_empty() {
        out.push(run);
    }
    out
}

/// The elements of the top-level concatenation (captures and nested concatenations
/// flattened): every match holds each in turn.
fn top_level(hir: &Hir) -> Vec<&Hir> {
    match hir.kind() {
        HirKind::Concat(parts) => parts.iter().flat_map(top_level).collect(),
        HirKind::Capture(c) => top_level(&c.sub),
        _ => vec![hir],
    }
}

/// The text an element always matches: a literal, or one ASCII letter in either case (how
/// `(?i)` parses), with whether case is ignored. `None` for anything else.
fn piece(hir: &Hir) -> Option<(Vec<u8>, bool)> {
    match hir.kind() {
        HirKind::Literal(l) => Some((l.0.to_vec(), false)),
        HirKind::Class(Class::Bytes(c)) => {
            let ranges: Vec<(u8, u8)> = c.ranges().iter().map(|r| (r.start(), r.end())).collect();
            match ranges[..] {
                [(a, a2), (b, b2)]
                    if a == a2
                        && b == b2
                        && a.is_ascii_uppercase()
                        && b == a.to_ascii_lowercase() =>
                {
                    Some((vec![b], true))
                }
                [(a, a2)] if a == a2 => Some((vec![a], false)),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_literal_every_match_holds() {
        let uri = Required::of(
            r"(?:\A|[^a-z])(?i:(?:postgres|mysql))://[^:]{1,64}:(?P<secret>[^@]{1,63})@",
            &[],
        )
        .expect("://");
        // A text the rule's keywords hold is no requirement: every window has one.
        assert!(Required::of(r"(?i)password=(?P<secret>[0-9]{8})", &["password".into()]).is_none());
        assert!(uri.is_in(b"see postgres://u:p@h"));
        assert!(!uri.is_in(b"postgres adapter, mysql: u:p@h"));
        // Case-insensitive text is matched in any case.
        let cs = Required::of(
            r"(?i:server=[^;]{1,20};\s*password\s*=)(?P<secret>[^;]{3,})",
            &[],
        )
        .expect("password");
        assert!(cs.is_in(b"Server=db;PassWord=x"));
        assert!(!cs.is_in(b"Server=db;pwd=x"));
        // Inside an alternation: not required.
        assert!(Required::of(r"(?:abcd|efgh)(?P<secret>[0-9]{8})", &[]).is_none());
        // Optional or too short: nothing required.
        assert!(Required::of(r"(?:abcd)?(?P<secret>[0-9]{8})", &[]).is_none());
        assert!(Required::of(r"x=(?P<secret>[0-9]{8})", &[]).is_none());
    }
}
