//! What is reported once detection is done: the one place that drops findings for reasons
//! other than their content. In order:
//!
//! 1. **Allowlists** of the config in force (`[allow] fingerprints` and `secrets` regexes), on
//!    findings and on the matches an incremental scan remembers (a remembered match must be the
//!    one that would be reported);
//! 2. the **baseline** (secrets a team has accepted, keyed on rule and fingerprint);
//! 3. after verification, **companion-only** rules (identifiers such as a client id that
//!    verifiers pair with a secret, never findings of their own).

use std::collections::HashSet;

use regex::bytes::{Regex, RegexBuilder};

use crate::BlobMatch;
use sprawl_core::baseline::Baseline;
use sprawl_core::config::Config;
use sprawl_core::finding::Finding;
use sprawl_core::rules::Rule;

/// Allowlists, baseline and companion rules in force for one scan.
#[derive(Debug, Default)]
pub struct FindingPolicy {
    allow_fingerprints: Vec<String>,
    allow_secrets: Vec<Regex>,
    baseline: Option<Baseline>,
    companions: HashSet<String>,
}

impl FindingPolicy {
    /// The policy of `config` (invalid allowlist regexes are reported in `errors`, naming the
    /// config file), `baseline` and the companion-only rules among `rules`.
    pub fn new(
        config: &Config,
        baseline: Option<Baseline>,
        rules: &[Rule],
        errors: &mut Vec<String>,
    ) -> FindingPolicy {
        let mut allow_secrets = Vec::new();
        for pat in &config.allow.secrets {
            match RegexBuilder::new(pat).unicode(false).build() {
                Ok(re) => allow_secrets.push(re),
                Err(e) => errors.push(format!(
                    "{}: [allow] secrets: invalid regex {pat:?}: {e}",
                    config.source
                )),
            }
        }
        FindingPolicy {
            allow_fingerprints: config.allow.fingerprints.clone(),
            allow_secrets,
            baseline,
            companions: rules
                .iter()
                .filter(|r| r.spec.companion_only)
                .map(|r| r.spec.id.clone())
                .collect(),
        }
    }

    /// True when the config allowlists this secret.
    fn allowed(&self, fingerprint: &str, secret: &str) -> bool {
        self.allow_fingerprints.iter().any(|a| a == fingerprint)
            || self
                .allow_secrets
                .iter()
                .any(|re| re.is_match(secret.as_bytes()))
    }

    /// Steps 1 and 2: drops allowlisted and baselined findings.
    pub fn admit(&self, findings: &mut Vec<Finding>) {
        findings.retain(|f| {
            !self.allowed(&f.fingerprint, &f.secret)
                && !self.baseline.as_ref().is_some_and(|b| b.contains(f))
        });
    }

    /// Step 1 for the matches of blobs an incremental scan hands back for remembering.
    pub fn admit_remembered(&self, objects: &mut [(String, Vec<BlobMatch>)]) {
        for (_, matches) in objects {
            matches.retain(|m| !self.allowed(&m.fingerprint, &m.secret));
        }
    }

    /// Step 3, after verification: drops matches of companion-only rules.
    pub fn drop_companions(&self, findings: &mut Vec<Finding>) {
        if !self.companions.is_empty() {
            findings.retain(|f| !self.companions.contains(f.rule_id.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, fingerprint: &str, secret: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            provider: "test".into(),
            severity: sprawl_core::rules::Severity::High,
            environment: Default::default(),
            context: None,
            verification: None,
            confidence: sprawl_core::rules::Confidence::High,
            origin: sprawl_source::Origin::Stdin,
            line: 1,
            column: 1,
            end_line: 1,
            preview: String::new(),
            fingerprint: fingerprint.into(),
            secret: secret.into(),
            generic: false,
            owners: Vec::new(),
        }
    }

    #[test]
    fn allowlists_then_baseline_then_companions() {
        let mut config = Config::default();
        config.allow.fingerprints = vec!["f-allowed".into()];
        config.allow.secrets = vec!["^sk_test_".into(), "(".into()];
        let baseline = Baseline::from_findings(&[finding("r.known", "f-known", "x")]);
        let mut errors = Vec::new();
        let mut policy = FindingPolicy::new(&config, Some(baseline), &[], &mut errors);
        assert_eq!(errors.len(), 1, "the invalid regex is reported: {errors:?}");
        assert!(errors[0].contains("invalid regex"));
        policy.companions.insert("r.client-id".into());
        let mut found = vec![
            finding("r.a", "f-allowed", "s1"),
            finding("r.a", "f2", "sk_test_123"),
            finding("r.known", "f-known", "x"),
            finding("r.known", "f-other", "y"),
            finding("r.client-id", "f3", "id"),
            finding("r.a", "f4", "keep"),
        ];
        policy.admit(&mut found);
        let ids: Vec<&str> = found.iter().map(|f| f.fingerprint.as_str()).collect();
        assert_eq!(ids, ["f-other", "f3", "f4"]);
        policy.drop_companions(&mut found);
        let ids: Vec<&str> = found.iter().map(|f| f.fingerprint.as_str()).collect();
        assert_eq!(ids, ["f-other", "f4"]);
    }

    #[test]
    fn remembered_matches_follow_the_allowlist() {
        let mut config = Config::default();
        config.allow.fingerprints = vec!["gone".into()];
        let policy = FindingPolicy::new(&config, None, &[], &mut Vec::new());
        let m = |fp: &str| BlobMatch {
            rule: 0,
            line: 1,
            column: 1,
            end_line: 1,
            preview: String::new(),
            fingerprint: fp.into(),
            secret: "s".into(),
            context: None,
        };
        let mut objects = vec![("blob".to_string(), vec![m("gone"), m("kept")])];
        policy.admit_remembered(&mut objects);
        assert_eq!(objects[0].1.len(), 1);
        assert_eq!(objects[0].1[0].fingerprint, "kept");
    }
}
