//! The keyword prefilter: one Aho-Corasick DFA over every rule's keywords tells which rules can
//! match a blob at all, and where the generic assignment rules should look.
//!
//! Kept behind [`Prefilter`] so that another multi-pattern engine (vectorscan) can replace it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use sprawl_core::rules::{Matcher, Rule};

/// What a prefilter pass reports about one blob.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Rule indexes whose keywords occur, each once, ascending.
    pub rules: Vec<u32>,
    /// Per rule index: keyword hit spans, kept for assignment-matcher rules and rules searched
    /// in windows around their hits.
    pub hits: Vec<Vec<(usize, usize)>>,
    seen: Vec<bool>,
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
    fn candidates(&self, hay: &[u8], out: &mut Candidates);
}

/// Aho-Corasick keyword gate (pure Rust, the default).
pub struct KeywordPrefilter {
    ac: AhoCorasick,
    /// Keyword pattern id → rules that list it.
    pattern_rules: Vec<Vec<u32>>,
    /// Rule index → whether the rule wants hit positions.
    wants_hits: Vec<bool>,
}

impl KeywordPrefilter {
    /// Builds the automaton over every keyword of `rules`.
    pub fn new(rules: &[Rule]) -> KeywordPrefilter {
        let mut keywords: Vec<String> = Vec::new();
        let mut ids: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            for kw in &rule.spec.keywords {
                let kw = kw.to_ascii_lowercase();
                let pid = *ids.entry(kw.clone()).or_insert_with(|| {
                    keywords.push(kw);
                    pattern_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if !pattern_rules[pid].contains(&(ri as u32)) {
                    pattern_rules[pid].push(ri as u32);
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .expect("keywords are plain literals");
        let wants_hits = rules
            .iter()
            .map(|r| r.spec.matcher == Matcher::Assignment || (r.window.is_some() && !r.user))
            .collect();
        KeywordPrefilter {
            ac,
            pattern_rules,
            wants_hits,
        }
    }
}

impl Prefilter for KeywordPrefilter {
    fn candidates(&self, hay: &[u8], out: &mut Candidates) {
        out.reset(self.wants_hits.len());
        for m in self.ac.find_overlapping_iter(hay) {
            for &ri in &self.pattern_rules[m.pattern().as_usize()] {
                let r = ri as usize;
                if !out.seen[r] {
                    out.seen[r] = true;
                    out.rules.push(ri);
                }
                if self.wants_hits[r] {
                    out.hits[r].push((m.start(), m.end()));
                }
            }
        }
        out.rules.sort_unstable();
        for h in &mut out.hits {
            if h.len() > 1 {
                h.sort_unstable();
            }
        }
    }
}
