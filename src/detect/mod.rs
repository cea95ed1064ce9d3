//! Detection: a pure function from bytes to [`Match`]es. The same code serves every source.
//!
//! keyword prefilter → candidate rules' regexes (or the assignment fast path) → entropy →
//! checksum → placeholder filter → inline allow comments → overlap resolution.

pub mod allow;
pub mod assignment;
pub mod checksum;
pub mod entropy;
pub mod placeholder;
pub mod prefilter;

use std::sync::Arc;

use crate::rules::{Matcher, Rule};
use prefilter::{Candidates, KeywordPrefilter, Prefilter};

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
}

impl Engine {
    /// Builds an engine over `rules`.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let prefilter = Box::new(KeywordPrefilter::new(&rules));
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
        }
    }

    /// The rules, indexed as in [`Match::rule`].
    pub fn rules(&self) -> &Arc<Vec<Rule>> {
        &self.rules
    }

    /// Finds every secret in `hay`, sorted by position. Lines and columns are relative to `hay`.
    pub fn find(&self, hay: &[u8], scratch: &mut Scratch) -> Vec<Match> {
        let mut raw: Vec<(usize, usize, usize)> = Vec::new(); // (rule, start, end)
        // Spans a provider rule recognised but rejected (bad checksum, placeholder, low entropy):
        // the generic rules must not report them either.
        let mut vetoed: Vec<(usize, usize)> = Vec::new();
        self.prefilter.candidates(hay, &mut scratch.candidates);
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
                    let mut at = 0;
                    let started = rule.user.then(std::time::Instant::now);
                    while at <= hay.len() {
                        // A user rule runs under a time budget per window: a pattern that
                        // is slow on this input is reported and switched off, not waited on.
                        if let Some(t) = started
                            && t.elapsed() > crate::rules::USER_RULE_BUDGET
                        {
                            let _ = rule.exhausted.set(format!(
                                "{}: rule `{}` took over {} s on one {} KiB blob window and was switched off for the rest of the scan: simplify its pattern",
                                rule.source,
                                rule.spec.id,
                                crate::rules::USER_RULE_BUDGET.as_secs(),
                                hay.len() >> 10
                            ));
                            break;
                        }
                        let Some(m) = re.captures_read_at(&mut locs, hay, at) else {
                            break;
                        };
                        at = if m.end() > m.start() {
                            m.end()
                        } else {
                            m.end() + 1
                        };
                        if let Some((s, e)) = locs.get(rule.secret_group)
                            && e > s
                        {
                            if self.keep(rule, hay, s, e) {
                                raw.push((ri, s, e));
                            } else if !rule.spec.generic {
                                vetoed.push((s, e));
                            }
                        }
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
                !self.rules[m.0].spec.generic || !vetoed.iter().any(|&(s, e)| s < m.2 && m.1 < e)
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
            && !c.is_valid(secret)
        {
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
