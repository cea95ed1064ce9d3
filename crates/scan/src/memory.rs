//! An audit target's memory between scans, and its codec. What `seen_objects` keeps of a blob: its matches as compact JSON, so an incremental
//! re-audit reuses them instead of reading the blob again. The secret itself is kept only with
//! `--store-secrets`; otherwise only its public mode prefix (which decides the environment) is,
//! and the reused match is withheld ([`Secret::Withheld`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::BlobMatch;
use sprawl_ci::CiContext;
use sprawl_core::finding::Secret;
use sprawl_core::rules::Rule;

/// One remembered match.
#[derive(Serialize, Deserialize)]
struct Cached {
    rule: String,
    line: usize,
    column: usize,
    end_line: usize,
    preview: String,
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<CiContext>,
}

/// A digest of sprawl's version and every rule as loaded (computed once per engine: it
/// formats every rule).
pub fn rules_digest(rules: &[Rule]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for r in rules {
        h.update(format!("{:?}\n", r.spec).as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// A digest of everything that decides what a blob yields: the rules ([`rules_digest`]) and
/// the scan settings given as text. Remembered matches count only under an equal digest.
pub fn scan_digest(rules_digest: &str, settings: &str) -> String {
    blake3::hash(format!("{rules_digest}\n{settings}").as_bytes())
        .to_hex()
        .to_string()
}

/// The text kept for a blob's matches; `None` for a blob without any.
pub fn encode(rules: &[Rule], matches: &[BlobMatch], keep_secrets: bool) -> Option<String> {
    if matches.is_empty() {
        return None;
    }
    let cached: Vec<Cached> = matches
        .iter()
        .map(|m| Cached {
            rule: rules
                .get(m.rule)
                .map_or_else(String::new, |r| r.spec.id.clone()),
            line: m.line,
            column: m.column,
            end_line: m.end_line,
            preview: m.preview.clone(),
            fingerprint: m.fingerprint.clone(),
            secret: m
                .secret
                .plain()
                .filter(|_| keep_secrets)
                .map(str::to_string),
            mode: sprawl_core::environment::mode_prefix(&m.secret).to_string(),
            context: m.context.as_deref().cloned(),
        })
        .collect();
    serde_json::to_string(&cached).ok()
}

/// Reads back what [`encode`] wrote; rule ids resolve through `rule_index`. Fails on text it
/// cannot read or a rule that is no longer loaded (the caller then reads the blob again).
pub fn decode(rule_index: &HashMap<&str, usize>, text: &str) -> Result<Vec<BlobMatch>, String> {
    let cached: Vec<Cached> =
        serde_json::from_str(text).map_err(|e| format!("unreadable remembered matches: {e}"))?;
    cached
        .into_iter()
        .map(|c| {
            let rule = *rule_index
                .get(c.rule.as_str())
                .ok_or_else(|| format!("remembered match of unknown rule {}", c.rule))?;
            Ok(BlobMatch {
                rule,
                line: c.line,
                column: c.column,
                end_line: c.end_line,
                preview: c.preview,
                fingerprint: c.fingerprint,
                secret: match c.secret {
                    Some(s) => Secret::Plain(s),
                    None => Secret::Withheld { prefix: c.mode },
                },
                context: c.context.map(Box::new),
            })
        })
        .collect()
}

pub use sprawl_core::remembered::Remembered;

/// Where an incremental scan's memory comes from (an inventory). The scanner asks with the
/// digest of the rules and settings it runs with; memory under any other digest is not used.
pub trait Recall {
    /// What is remembered of `target` under `digest`.
    fn recall(&mut self, target: &str, digest: &str) -> Result<Remembered, String>;
}

/// How an audit target relates to what its store remembers: what the caller records with the
/// scan so the next one can be incremental.
#[derive(Debug, Clone)]
pub struct Incremental {
    /// The target (the key of its memory).
    pub target: String,
    /// Digest of the rules and detection settings ([`scan_digest`]).
    pub rules_digest: String,
    /// The target's latest scan in the store.
    pub last_scan: Option<i64>,
    /// Remembered tips (the scan is "unchanged" when they still hold).
    pub tips: Option<String>,
}

/// Turns what a store remembers into the scan's view of it: the tips, and every object whose
/// matches can be read back under today's rules (an object whose memory cannot be read is
/// simply read again).
pub fn known_from(remembered: &Remembered, rules: &[Rule]) -> crate::git::Known {
    let index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.spec.id.as_str(), i))
        .collect();
    let mut known = crate::git::Known {
        tips: remembered.tips.clone(),
        blobs: HashMap::with_capacity(remembered.objects.len()),
        others: HashMap::new(),
    };
    for (object, matches) in &remembered.objects {
        let decoded = match matches {
            None => Ok(Vec::new()),
            Some(text) => decode(&index, text),
        };
        let Ok(ms) = decoded else { continue };
        match gix::ObjectId::from_hex(object.as_bytes()) {
            Ok(id) => {
                known.blobs.insert(id, ms);
            }
            Err(_) => {
                known.others.insert(object.clone(), ms);
            }
        }
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_everything_but_the_withheld_secret() {
        let rules = sprawl_core::rules::load::builtin().rules;
        let index: HashMap<&str, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.spec.id.as_str(), i))
            .collect();
        let m = BlobMatch {
            rule: 0,
            line: 3,
            column: 7,
            end_line: 3,
            preview: "key = sk_live_…".into(),
            fingerprint: "abc".into(),
            secret: "sk_live_0123456789".into(),
            context: None,
        };
        assert_eq!(encode(&rules, &[], false), None);
        let kept = decode(
            &index,
            &encode(&rules, std::slice::from_ref(&m), true).unwrap(),
        )
        .unwrap();
        assert_eq!(kept[0].secret, m.secret);
        let withheld = decode(
            &index,
            &encode(&rules, std::slice::from_ref(&m), false).unwrap(),
        )
        .unwrap();
        assert_eq!(
            withheld[0].secret,
            Secret::Withheld {
                prefix: "sk_live_".into()
            }
        );
        assert!(withheld[0].secret.is_withheld());
        assert_eq!(
            (withheld[0].rule, withheld[0].line, &withheld[0].fingerprint),
            (0, 3, &m.fingerprint)
        );
        assert!(decode(&index, "[{\"rule\":\"no.such\",\"line\":1,\"column\":1,\"end_line\":1,\"preview\":\"\",\"fingerprint\":\"x\"}]").is_err());
    }
}
