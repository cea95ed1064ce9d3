//! Baselines: the secrets a team has already seen, so a scan reports only new ones.
//!
//! Entries are keyed on (rule id, secret fingerprint), never on paths or line numbers: moving a
//! line does not churn the file, and a new secret on an old line is still reported. A secret
//! is accepted by its fingerprint whichever rule finds it: a value accepted where a generic
//! rule found it is the same secret where a provider's rule finds it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// One accepted secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// Rule that found it.
    pub rule_id: String,
    /// Keyed fingerprint of the secret.
    pub fingerprint: String,
}

/// The baseline file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// Sorted, unique entries.
    pub entries: BTreeSet<Entry>,
    /// The entries' fingerprints, built on first lookup.
    #[serde(skip)]
    fingerprints: std::sync::OnceLock<std::collections::HashSet<String>>,
}

impl Baseline {
    /// A baseline holding every finding's (rule, fingerprint).
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let entries = findings
            .iter()
            .map(|f| Entry {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
            })
            .collect();
        Baseline {
            version: 1,
            entries,
            fingerprints: Default::default(),
        }
    }

    /// Parses the text of a baseline file.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid baseline: {e}"))
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = crate::bounded::read_regular_text(path, 256 << 20)
            .map_err(|e| format!("{}: cannot read baseline: {e}", path.display()))?;
        let b = Baseline::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if b.version != 1 {
            return Err(format!(
                "{}: unsupported baseline version {}",
                path.display(),
                b.version
            ));
        }
        Ok(b)
    }

    /// Serialized form (stable: sorted entries, pretty JSON, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// True when the finding's secret is already in the baseline (under any rule).
    pub fn contains(&self, f: &Finding) -> bool {
        self.fingerprints
            .get_or_init(|| self.entries.iter().map(|e| e.fingerprint.clone()).collect())
            .contains(&f.fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_accepted_whichever_rule_finds_it() {
        let text =
            r#"{"version": 1, "entries": [{"rule_id": "generic.secret", "fingerprint": "f1"}]}"#;
        let b = Baseline::parse(text).unwrap();
        let finding = |rule: &str, fingerprint: &str| Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            provider: "p".into(),
            severity: crate::rules::Severity::High,
            environment: Default::default(),
            context: None,
            verification: None,
            confidence: crate::rules::Confidence::High,
            origin: crate::origin::Origin::Stdin,
            line: 1,
            column: 1,
            end_line: 1,
            preview: String::new(),
            fingerprint: fingerprint.into(),
            secret: "s".into(),
            generic: false,
            owners: Vec::new(),
        };
        assert!(b.contains(&finding("aws.secret-access-key", "f1")));
        assert!(!b.contains(&finding("generic.secret", "f2")));
    }
}
