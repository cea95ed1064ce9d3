//! Detection: a pure function from bytes to [`Match`]es. The same code serves every source.
//!
//! keyword prefilter → candidate rules' regexes (or the assignment fast path) → entropy →
//! checksum → placeholder filter → inline allow comments → overlap resolution.

pub mod allow;
pub mod assignment;
pub mod check;
pub mod checksum;
pub mod decode;
pub use sprawl_core::entropy;
pub mod host;
pub mod incremental;
pub mod nested;
pub mod placeholder;
pub mod prefilter;
mod required;
pub mod stream;

use std::sync::Arc;

pub use prefilter::KeywordHit;
use prefilter::{Candidates, KeywordPrefilter, Prefilter};
use sprawl_core::rules::{Matcher, Rule};

/// One secret found in a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in [`Engine::rules`].
    pub rule: usize,
    /// Byte span of the secret.
    pub start: usize,
    /// End of the secret span.
    pub end: usize,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (Unicode code points) of the secret's first byte.
    pub column: usize,
    /// 1-based line of the secret's last byte.
    pub end_line: usize,
    /// The secret bytes.
    pub secret: Vec<u8>,
}

/// Per-thread reusable buffers for [`Engine::find`].
#[derive(Default)]
pub struct Scratch {
    candidates: Candidates,
    assignment: Vec<assignment::Candidate>,
}

/// The compiled rule set plus its prefilter.
pub struct Engine {
    rules: Arc<Vec<Rule>>,
    prefilter: Box<dyn Prefilter>,
    /// Normalized keyword names per rule, for the assignment matcher.
    names: Vec<Vec<String>>,
    /// Keyword pattern ids of words that decide whether a pass runs at all, for texts whose
    /// keyword hits are known: `\/` (the unescaped copy) and the base64 contexts
    /// ([`decode::markers`]).
    escaped_slash: u32,
    encoding: Vec<u32>,
    /// Per rule: a literal every match holds, to skip windows without it.
    required: Vec<std::sync::OnceLock<Option<required::Required>>>,
}

impl Engine {
    /// Builds an engine over `rules`.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let mut extra = vec![stream::ESCAPED_SLASH];
        extra.extend(decode::markers());
        let (prefilter, extra_ids) = KeywordPrefilter::new(&rules, &extra);
        let prefilter = Box::new(prefilter);
        // Worked out when a rule is first searched: parsing every pattern again up front
        // would cost each scan's start (a pre-commit hook's most of all).
        let required = rules.iter().map(|_| std::sync::OnceLock::new()).collect();
        let names = rules
            .iter()
            .map(|r| {
                r.spec
                    .keywords
                    .iter()
                    .map(|k| assignment::normalize_name(k))
                    .collect()
            })
            .collect();
        Engine {
            rules: Arc::new(rules),
            prefilter,
            names,
            escaped_slash: extra_ids[0],
            encoding: extra_ids[1..].to_vec(),
            required,
        }
    }

    /// The literal every match of rule `ri` holds ([`required::Required`]), if any.
    fn required(&self, ri: usize) -> Option<&required::Required> {
        self.required[ri]
            .get_or_init(|| {
                let rule = &self.rules[ri];
                match rule.spec.matcher {
                    Matcher::Regex => required::Required::of(&rule.pattern, &rule.spec.keywords),
                    Matcher::Assignment => None,
                }
            })
            .as_ref()
    }

    /// Whether a text with these keyword hits may hold `\/` (then the unescaped copy is
    /// searched too).
    fn may_escape_slashes(&self, hits: &[KeywordHit]) -> bool {
        hits.iter().any(|h| h.pattern == self.escaped_slash)
    }

    /// [`decode::encoded_values`] of `hay` from its keyword hits: each marker's occurrences
    /// are the hits of its (lowercase) keyword where the exact marker is, taken leftmost
    /// first without overlap as `memmem` finds them; no pass over `hay` per marker.
    fn encoded_values_from_hits(&self, hay: &[u8], hits: &[KeywordHit]) -> Vec<decode::Encoded> {
        if !hits.iter().any(|h| self.encoding.contains(&h.pattern)) {
            return Vec::new();
        }
        decode::encoded_values_at(hay, &|i| {
            let marker = decode::marker(i).as_bytes();
            let mut found = Vec::new();
            let mut free_from = 0;
            for h in hits.iter().filter(|h| h.pattern == self.encoding[i]) {
                if h.start >= free_from && hay[h.start..].starts_with(marker) {
                    found.push(h.start);
                    free_from = h.start + marker.len();
                }
            }
            found
        })
    }

    /// The rules, indexed as in [`Match::rule`].
    pub fn rules(&self) -> &Arc<Vec<Rule>> {
        &self.rules
    }

    /// Finds every secret in `hay`, sorted by position. Lines and columns are relative to `hay`.
    pub fn find(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        self.prefilter.candidates(hay, &mut scratch.candidates);
        self.find_candidates(hay, scratch)
    }

    /// [`Self::find`] given the keyword hits of `hay` (from [`Self::keyword_hits`], or
    /// [`incremental::hits_after_delta`] for a new version of a text): the same matches
    /// without searching `hay` for keywords.
    pub fn find_with_hits(
        &self,
        hay: &[u8],
        hits: &[KeywordHit],
        scratch: &mut Scratch,
    ) -> Vec<Match> {
        self.prefilter
            .candidates_from_hits(hay, hits, &mut scratch.candidates);
        self.find_candidates(hay, scratch)
    }

    /// Appends every keyword occurrence in `hay` to `out`, sorted by position.
    pub fn keyword_hits(&self, hay: &[u8], out: &mut Vec<KeywordHit>) {
        self.prefilter.keyword_hits(hay, out);
    }

    /// The rules' regexes and filters over the candidates the prefilter left in `scratch`.
    fn find_candidates(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        let mut raw: Vec<(usize, usize, usize)> = Vec::new(); // (rule, start, end)
        // Spans a provider rule recognised but rejected (bad checksum, placeholder, low entropy):
        // the generic rules must not report them either.
        let mut vetoed: Vec<(usize, usize)> = Vec::new();
        for &ri in &scratch.candidates.rules {
            let ri = ri as usize;
            let rule = &self.rules[ri];
            match rule.spec.matcher {
                Matcher::Regex => {
                    let Some(re) = rule.regex() else { continue };
                    if rule.exhausted.get().is_some() {
                        continue;
                    }
                    let mut locs = re.capture_locations();
                    let mut found = |s: usize, e: usize, locs: &regex::bytes::CaptureLocations| {
                        if let Some(g) = rule.host_group
                            && let Some((hs, he)) = locs.get(g)
                            && !host::is_remote(&hay[hs..he])
                        {
                            return; // a password for localhost or a documentation host
                        }
                        if self.keep(rule, hay, s, e) {
                            raw.push((ri, s, e));
                        } else if !rule.spec.generic {
                            vetoed.push((s, e));
                        }
                    };
                    match rule.window {
                        Some(w) if !rule.user => search_around(
                            self.required(ri),
                            re,
                            rule.secret_group,
                            &mut locs,
                            hay,
                            &scratch.candidates.hits[ri],
                            w,
                            &mut found,
                        ),
                        _ if self.required(ri).is_some_and(|q| !q.is_in(hay)) => {}
                        _ => search(rule, re, &mut locs, hay, &mut found),
                    }
                }
                Matcher::Assignment => {
                    scratch.assignment.clear();
                    assignment::find(
                        hay,
                        &scratch.candidates.hits[ri],
                        &self.names[ri],
                        &mut scratch.assignment,
                    );
                    for c in &scratch.assignment {
                        if self.keep(rule, hay, c.start, c.end) {
                            raw.push((ri, c.start, c.end));
                        }
                    }
                }
            }
        }
        if !vetoed.is_empty() {
            raw.retain(|m| {
                let spec = &self.rules[m.0].spec;
                !spec.generic || spec.weak || !vetoed.iter().any(|&(s, e)| s < m.2 && m.1 < e)
            });
        }
        let kept = resolve_overlaps(&self.rules, hay, raw);
        locate(hay, kept)
    }

    /// The filters every candidate passes: entropy, checksum, placeholder, allow comment.
    fn keep(&self, rule: &Rule, hay: &[u8], s: usize, e: usize) -> bool {
        let secret = &hay[s..e];
        if let Some(min) = rule.spec.min_entropy
            && entropy::shannon_entropy(secret) < min
        {
            return false;
        }
        if let Some(c) = rule.checksum
            && !checksum::is_valid(c, secret)
        {
            return false;
        }
        if rule.spec.weak && placeholder::is_template_password(secret) {
            return false;
        }
        !placeholder::is_placeholder(secret) && !allow::is_allowed(hay, s, e)
    }
}

/// Applies "more specific rule wins". A generic rule's match overlapping a provider rule's match
/// is dropped. Of two overlapping provider matches (the Azure key inside its connection string,
/// an npm token in `.npmrc`) one secret is reported once: the more confident rule wins, then the
/// one that verified a checksum, then the one whose secret starts with its keyword (a format
/// rule such as `pypi-…` beats a context rule such as `.pypirc` `password =`), then the more
/// severe, then the longer span (it carries the context), then the earlier rule.
fn resolve_overlaps(
    rules: &[Rule],
    hay: &[u8],
    mut raw: Vec<(usize, usize, usize)>,
) -> Vec<(usize, usize, usize)> {
    let rank = |m: &(usize, usize, usize)| {
        let r = &rules[m.0];
        let s = &r.spec;
        let secret = &hay[m.1..m.2];
        let anchored = s.keywords.iter().any(|k| {
            secret.len() >= k.len() && secret[..k.len()].eq_ignore_ascii_case(k.as_bytes())
        });
        (
            !s.generic,
            s.confidence,
            r.checksum.is_some(),
            anchored,
            s.severity,
            m.2 - m.1,
            std::cmp::Reverse(m.0),
        )
    };
    // Best first; then keep each match unless it overlaps one already kept.
    raw.sort_by(|a, b| rank(b).cmp(&rank(a)).then((a.1, a.2).cmp(&(b.1, b.2))));
    // Kept spans never overlap, so the one starting last before `m` ends is the only candidate.
    let mut kept: std::collections::BTreeMap<usize, (usize, usize)> =
        std::collections::BTreeMap::new();
    for m in raw {
        let clash = kept
            .range(..m.2)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > m.1);
        if !clash {
            kept.insert(m.1, (m.2, m.0));
        }
    }
    kept.into_iter()
        .map(|(start, (end, rule))| (rule, start, end))
        .collect()
}

/// Turns byte spans into matches with line and column numbers (one pass over the newlines).
fn locate(hay: &[u8], kept: Vec<(usize, usize, usize)>) -> Vec<Match> {
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut pos = 0usize;
    let mut out = Vec::with_capacity(kept.len());
    for (rule, start, end) in kept {
        for nl in memchr::memchr_iter(b'\n', &hay[pos..start]) {
            line += 1;
            line_start = pos + nl + 1;
        }
        pos = start;
        let column = 1 + hay[line_start..start]
            .iter()
            .filter(|&&b| (b as i8) >= -0x40)
            .count();
        let end_line = line + memchr::memchr_iter(b'\n', &hay[start..end]).count();
        out.push(Match {
            rule,
            start,
            end,
            line,
            column,
            end_line,
            secret: hay[start..end].to_vec(),
        });
    }
    out
}

/// Runs a rule whose matches are at most `max_len` bytes long only where it can match: within
/// `max_len` of one of its keyword `hits` (every match holds a keyword). Windows that touch are
/// merged; each search sees the blob before its window, so `\b` and `^` behave as on the whole
/// blob, and one byte after it for a trailing boundary. A window without the pattern's
/// `required` literal is not searched.
#[allow(clippy::too_many_arguments)]
fn search_around(
    required: Option<&required::Required>,
    re: &regex::bytes::Regex,
    secret_group: usize,
    locs: &mut regex::bytes::CaptureLocations,
    hay: &[u8],
    hits: &[(usize, usize)],
    max_len: usize,
    found: &mut dyn FnMut(usize, usize, &regex::bytes::CaptureLocations),
) {
    let mut i = 0;
    let mut at = 0;
    while i < hits.len() {
        let start = hits[i].0.saturating_sub(max_len);
        let mut end = hits[i].1 + max_len;
        i += 1;
        while i < hits.len() && hits[i].0.saturating_sub(max_len) <= end {
            end = end.max(hits[i].1 + max_len);
            i += 1;
        }
        let end = (end + 1).min(hay.len());
        at = at.max(start);
        if required.is_some_and(|q| !q.is_in(hay.get(at..end).unwrap_or_default())) {
            continue;
        }
        while at <= end {
            let Some(m) = re.captures_read_at(locs, &hay[..end], at) else {
                break;
            };
            at = resume_at(&m, locs.get(secret_group));
            if let Some((s, e)) = locs.get(secret_group)
                && e > s
            {
                found(s, e, locs);
            }
        }
    }
}

/// Where the next search starts after match `m` with secret span `secret`: at the secret's
/// end, not the match's. A pattern's trailing boundary (`(?:[^A-Za-z0-9]|$)`) consumes the
/// newline after a secret; resuming past it would hide a secret whose leading boundary is that
/// newline (`(?:^|[^…])` at the start of the next line: one key per line, `NAME=` lines read
/// for companions). Always past the match's start, so the search moves on.
fn resume_at(m: &regex::bytes::Match<'_>, secret: Option<(usize, usize)>) -> usize {
    match secret {
        Some((s, e)) if e > s && e > m.start() => e,
        _ if m.end() > m.start() => m.end(),
        _ => m.end() + 1,
    }
}

/// Bytes of a blob window one search of a user rule covers: bounds the time of a single
/// regex call, so the time budget is checked often even for a pathological pattern.
const USER_CHUNK: usize = 16 << 10;

/// How far a user rule's match may run past its chunk (a secret longer than this that starts
/// near a chunk's end is cut).
const USER_OVERLAP: usize = 8 << 10;

/// Runs a rule's regex over `hay` and hands every secret span to `found`. A built-in rule
/// searches the window in one pass; a user rule chunk by chunk under
/// [`sprawl_core::rules::USER_RULE_BUDGET`] (a rule that exceeds it is reported through
/// [`sprawl_core::rules::Rule::exhausted`] and stops). Matches that start in a chunk are reported by
/// that chunk; searches see the whole blob before the chunk (look-behind and `\b` behave as on
/// the whole window).
fn search(
    rule: &sprawl_core::rules::Rule,
    re: &regex::bytes::Regex,
    locs: &mut regex::bytes::CaptureLocations,
    hay: &[u8],
    found: &mut dyn FnMut(usize, usize, &regex::bytes::CaptureLocations),
) {
    let started = std::time::Instant::now();
    let (chunk, overlap) = if rule.user {
        (USER_CHUNK, USER_OVERLAP)
    } else {
        (hay.len().max(1), 0)
    };
    let mut chunk_start = 0;
    loop {
        let report_end = (chunk_start + chunk).min(hay.len());
        let search_end = (report_end + overlap).min(hay.len());
        let mut at = chunk_start;
        while at <= search_end {
            if rule.user && started.elapsed() > sprawl_core::rules::USER_RULE_BUDGET {
                let _ = rule.exhausted.set(format!(
                    "{}: rule `{}` took over {} s on one {} KiB blob window and was switched off for the rest of the scan: simplify its pattern",
                    rule.source,
                    rule.spec.id,
                    sprawl_core::rules::USER_RULE_BUDGET.as_secs(),
                    hay.len() >> 10
                ));
                return;
            }
            let Some(m) = re.captures_read_at(locs, &hay[..search_end], at) else {
                break;
            };
            if m.start() >= report_end && report_end < hay.len() {
                break;
            }
            at = resume_at(&m, locs.get(rule.secret_group));
            if let Some((s, e)) = locs.get(rule.secret_group)
                && e > s
            {
                found(s, e, locs);
            }
        }
        if report_end >= hay.len() {
            return;
        }
        chunk_start = at.max(report_end);
        if rule.exhausted.get().is_some() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pseudo-random token characters from the xorshift state `x`.
    fn push_random(hay: &mut Vec<u8>, x: &mut u64, n: usize) {
        for _ in 0..n {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            hay.push(b"abcdefghijKLMNOPQR0123456789"[(*x % 28) as usize]);
        }
    }

    /// The secret spans one search of the whole blob finds.
    fn whole_search(re: &regex::bytes::Regex, hay: &[u8]) -> Vec<(usize, usize)> {
        re.captures_iter(hay)
            .filter_map(|c| c.name("secret").map(|m| (m.start(), m.end())))
            .collect()
    }

    /// A user rule searched chunk by chunk finds exactly what one search of the whole window
    /// finds, including matches that straddle chunk boundaries.
    #[test]
    fn budgeted_search_matches_a_whole_search() {
        let mut loaded = sprawl_core::rules::load::LoadedRules::default();
        loaded.set_trust(sprawl_core::rules::load::Trust::User);
        loaded.add_toml(
            "t.toml",
            "[[rule]]\nid = 't.tok'\nname = 'n'\nprovider = 'p'\npattern = '''\\b(?P<secret>kaa_[A-Za-z0-9]{20})\\b'''\nkeywords = ['kaa_']\nconfidence = 'high'\nseverity = 'high'\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let rule = &loaded.rules[0];
        let re = rule.regex().unwrap();
        let mut hay = Vec::new();
        let mut x: u64 = 7;
        for i in 0..3000 {
            // Tokens at positions that fall on and around every chunk boundary.
            hay.extend(std::iter::repeat_n(b' ', (i * 37) % 23 + 1));
            hay.extend_from_slice(b"kaa_");
            push_random(&mut hay, &mut x, 20);
        }
        let whole = whole_search(re, &hay);
        let mut chunked = Vec::new();
        let mut locs = re.capture_locations();
        search(rule, re, &mut locs, &hay, &mut |s, e, _| {
            chunked.push((s, e))
        });
        assert!(hay.len() > 4 * USER_CHUNK);
        assert_eq!(chunked, whole);
    }

    /// A trailing boundary consumes the newline after a secret; the next line's secret, whose
    /// leading boundary is that newline, is still found (one key per line).
    #[test]
    fn a_consumed_line_end_does_not_hide_the_next_line() {
        let mut loaded = sprawl_core::rules::load::LoadedRules::default();
        loaded.set_trust(sprawl_core::rules::load::Trust::User);
        loaded.add_toml(
            "t.toml",
            "[[rule]]\nid = 't.line'\nname = 'n'\nprovider = 'p'\npattern = '''(?:^|[^A-Za-z0-9])(?P<secret>zk_[0-9]{6})(?:[^0-9]|$)'''\nkeywords = ['zk_']\nconfidence = 'high'\nseverity = 'high'\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let rule = &loaded.rules[0];
        let re = rule.regex().unwrap();
        let hay = b"zk_123456\nzk_234567\nzk_345678";
        let mut found = Vec::new();
        let mut locs = re.capture_locations();
        search(rule, re, &mut locs, hay, &mut |s, e, _| found.push((s, e)));
        assert_eq!(found, [(0, 9), (10, 19), (20, 29)]);
    }

    /// A built-in rule with bounded matches, searched only around its keyword hits, finds what
    /// a search of the whole blob finds.
    #[test]
    fn windowed_search_matches_a_whole_search() {
        let mut loaded = sprawl_core::rules::load::LoadedRules::default();
        loaded.add_toml(
            "t.toml",
            "[[rule]]\nid = 't.tok'\nname = 'n'\nprovider = 'p'\npattern = '''\\b(?P<secret>kaa_[A-Za-z0-9]{20,24})\\b'''\nkeywords = ['kaa_']\nconfidence = 'high'\nseverity = 'high'\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let rule = &loaded.rules[0];
        let max = rule.window.expect("bounded pattern");
        let re = rule.regex().unwrap();
        let mut hay = Vec::new();
        let mut hits = Vec::new();
        let mut x: u64 = 11;
        for i in 0..2000 {
            hay.extend(std::iter::repeat_n(b'.', (i * 53) % 97));
            if i % 3 == 0 {
                hits.push((hay.len() + 1, hay.len() + 5));
                hay.extend_from_slice(b"xkaa_"); // glued to a word: no boundary, no match
            }
            hits.push((hay.len(), hay.len() + 4));
            hay.extend_from_slice(b"kaa_");
            push_random(&mut hay, &mut x, 20 + i % 7);
        }
        let whole = whole_search(re, &hay);
        assert!(!whole.is_empty());
        // Windows without the required literal (`kaa_` glued to a word still holds it; a
        // window of dots does not) are skipped with the same result.
        let required = required::Required::of(&rule.pattern, &[]).expect("kaa_ is required");
        let mut locs = re.capture_locations();
        for skip in [None, Some(&required)] {
            let mut windowed = Vec::new();
            search_around(
                skip,
                re,
                rule.secret_group,
                &mut locs,
                &hay,
                &hits,
                max,
                &mut |s, e, _| windowed.push((s, e)),
            );
            assert_eq!(windowed, whole);
        }
    }
}
