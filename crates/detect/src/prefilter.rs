//! The keyword prefilter: one Aho-Corasick DFA over every rule's keywords tells which rules can
//! match a blob at all, and where the generic assignment rules should look.
//!
//! Kept behind [`Prefilter`] so that another multi-pattern engine (vectorscan) can replace it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use sprawl_core::rules::{Matcher, Rule};

/// One keyword occurrence: where it starts and which keyword (pattern id of the prefilter).
/// A keyword longer than [`PREFIX`] bytes is a hit where its first [`PREFIX`] bytes occur, and
/// is checked whole when the hits are turned into candidates: so every hit is a fact about at
/// most [`PREFIX`] bytes, and the hits of a new version of a content are its earlier version's
/// hits inside the copied runs plus those found within [`PREFIX`] bytes of what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeywordHit {
    /// Offset of the keyword's first byte.
    pub start: usize,
    /// The keyword.
    pub pattern: u32,
}

/// What a prefilter pass reports about one blob.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Rule indexes whose keywords occur, each once, ascending.
    pub rules: Vec<u32>,
    /// Per rule index: keyword hit spans, kept for assignment-matcher rules and rules searched
    /// in windows around their hits.
    pub hits: Vec<Vec<(usize, usize)>>,
    seen: Vec<bool>,
    /// Scratch for the keyword hits of the text being looked at.
    keyword_hits: Vec<KeywordHit>,
}

impl Candidates {
    fn reset(&mut self, n_rules: usize) {
        self.rules.clear();
        self.seen.clear();
        self.seen.resize(n_rules, false);
        if self.hits.len() != n_rules {
            self.hits = vec![Vec::new(); n_rules];
        } else {
            self.hits.iter_mut().for_each(Vec::clear);
        }
    }
}

/// Selects candidate rules for a blob.
pub trait Prefilter: Send + Sync {
    /// Fills `out` with the rules that may match `hay`.
    fn candidates(&self, hay: &[u8], out: &mut Candidates) {
        let mut hits = std::mem::take(&mut out.keyword_hits);
        hits.clear();
        self.keyword_hits(hay, &mut hits);
        self.candidates_from_hits(hay, &hits, out);
        out.keyword_hits = hits;
    }
    /// Appends every keyword hit in `hay` (overlapping ones included) to `out`, sorted by
    /// position.
    fn keyword_hits(&self, hay: &[u8], out: &mut Vec<KeywordHit>);
    /// Fills `out` from the keyword hits of `hay`: the same as [`Self::candidates`] on it.
    fn candidates_from_hits(&self, hay: &[u8], hits: &[KeywordHit], out: &mut Candidates);
    /// How many bytes a hit of this keyword covers.
    fn hit_len(&self, pattern: u32) -> usize;
    /// The longest [`Self::hit_len`], when a search of a part of a text finds exactly the
    /// hits of a search of the whole that lie in that part (an automaton's overlapping
    /// search); `None` otherwise.
    fn local_reach(&self) -> Option<usize>;
}

/// Aho-Corasick keyword gate (pure Rust, the default).
pub struct KeywordPrefilter {
    ac: Option<AhoCorasick>,
    /// The lowercase keywords, by pattern id (for the search without an automaton).
    keywords: Vec<String>,
    /// Keyword pattern id → rules that list it.
    pattern_rules: Vec<Vec<u32>>,
    /// Rule index → whether the rule wants hit positions.
    wants_hits: Vec<bool>,
}

/// Bytes of a keyword the automaton searches for (see [`KeywordHit`]).
pub const PREFIX: usize = 16;

impl KeywordPrefilter {
    /// Builds the automaton over every keyword of `rules` and the `extra` words (which wake no
    /// rule: the engine asks whether a text holds them). Returns the extra words' pattern ids.
    pub fn new(rules: &[Rule], extra: &[&str]) -> (KeywordPrefilter, Vec<u32>) {
        let mut keywords: Vec<String> = Vec::new();
        let mut ids: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut id_of = |kw: &str| {
            let kw = kw.to_ascii_lowercase();
            *ids.entry(kw.clone()).or_insert_with(|| {
                keywords.push(kw);
                pattern_rules.push(Vec::new());
                keywords.len() - 1
            })
        };
        let mut wakes: Vec<(usize, u32)> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            for kw in &rule.spec.keywords {
                wakes.push((id_of(kw), ri as u32));
            }
        }
        let extra_ids: Vec<u32> = extra.iter().map(|w| id_of(w) as u32).collect();
        for (pid, ri) in wakes {
            if !pattern_rules[pid].contains(&ri) {
                pattern_rules[pid].push(ri);
            }
        }
        let searched: Vec<&[u8]> = keywords
            .iter()
            .map(|k| &k.as_bytes()[..k.len().min(PREFIX)])
            .collect();
        // A DFA is the fastest automaton here, but its size is bounded: user rule files can
        // bring enough keywords to exceed it, and then the automaton of aho-corasick's own
        // choice is built instead of failing.
        let builder = |kind| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&searched)
        };
        // Should even that fail (more states than the automaton can number), each keyword is
        // searched on its own: slower, never blind.
        let ac = builder(Some(AhoCorasickKind::DFA))
            .or_else(|_| builder(None))
            .ok();
        let wants_hits = rules
            .iter()
            .map(|r| r.spec.matcher == Matcher::Assignment || (r.window.is_some() && !r.user))
            .collect();
        (
            KeywordPrefilter {
                ac,
                keywords,
                pattern_rules,
                wants_hits,
            },
            extra_ids,
        )
    }
}

impl KeywordPrefilter {
    /// Records one keyword hit: wakes its rules and keeps the span for those that want it.
    fn record(&self, pattern: usize, start: usize, end: usize, out: &mut Candidates) {
        for &ri in &self.pattern_rules[pattern] {
            let r = ri as usize;
            if !out.seen[r] {
                out.seen[r] = true;
                out.rules.push(ri);
            }
            if self.wants_hits[r] {
                out.hits[r].push((start, end));
            }
        }
    }
}

impl Prefilter for KeywordPrefilter {
    fn keyword_hits(&self, hay: &[u8], out: &mut Vec<KeywordHit>) {
        let first = out.len();
        match &self.ac {
            Some(ac) => out.extend(ac.find_overlapping_iter(hay).map(|m| KeywordHit {
                start: m.start(),
                pattern: m.pattern().as_u32(),
            })),
            None => {
                let lower = hay.to_ascii_lowercase();
                for (pattern, kw) in self.keywords.iter().enumerate() {
                    out.extend(
                        memchr::memmem::find_iter(&lower, kw.as_bytes()).map(|start| KeywordHit {
                            start,
                            pattern: pattern as u32,
                        }),
                    );
                }
            }
        }
        out[first..].sort_unstable();
    }

    fn candidates_from_hits(&self, hay: &[u8], hits: &[KeywordHit], out: &mut Candidates) {
        out.reset(self.wants_hits.len());
        for h in hits {
            let p = h.pattern as usize;
            let kw = self.keywords[p].as_bytes();
            let end = h.start + kw.len();
            // A long keyword was found by its prefix: the rest must follow.
            if kw.len() > PREFIX
                && !hay
                    .get(h.start..end)
                    .is_some_and(|b| b.eq_ignore_ascii_case(kw))
            {
                continue;
            }
            self.record(p, h.start, end, out);
        }
        out.rules.sort_unstable();
        for h in &mut out.hits {
            if h.len() > 1 {
                h.sort_unstable();
            }
        }
    }

    fn hit_len(&self, pattern: u32) -> usize {
        self.keywords[pattern as usize].len().min(PREFIX)
    }

    fn local_reach(&self) -> Option<usize> {
        // memmem finds a keyword's non-overlapping occurrences only, which a search of a part
        // can find differently: no reuse without an automaton.
        self.ac.as_ref()?;
        Some(
            self.keywords
                .iter()
                .map(|k| k.len().min(PREFIX))
                .max()
                .unwrap_or(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without an automaton (one too big to build), the keyword-by-keyword search wakes the
    /// same rules at the same places.
    #[test]
    fn the_search_without_an_automaton_finds_the_same_hits() {
        let rules = sprawl_core::rules::load::builtin().rules;
        let (with, _) = KeywordPrefilter::new(&rules, &[]);
        let without = KeywordPrefilter {
            ac: None,
            keywords: with.keywords.clone(),
            pattern_rules: with.pattern_rules.clone(),
            wants_hits: with.wants_hits.clone(),
        };
        let hay = b"export GITHUB_TOKEN=ghp_x\\nAWS_SECRET_ACCESS_KEY = abc\\npassword: hunter2\\nxoxb-1\\n";
        let (mut a, mut b) = (Candidates::default(), Candidates::default());
        with.candidates(hay, &mut a);
        without.candidates(hay, &mut b);
        // The automaton reports a long keyword's prefix; the other search whole keywords.
        assert!(!a.rules.is_empty());
        assert_eq!(a.rules, b.rules);
        assert_eq!(a.hits, b.hits);
    }
}
