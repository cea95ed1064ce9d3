//! `sprawl rules check`: every rule compiles, has examples and negatives, each example gives a
//! finding of the rule through the whole detection chain and no negative does. It lives with
//! the engine because it runs the rules through it (the rules layer cannot).

use crate::{Engine, Scratch};
use sprawl_core::rules::Rule;
use sprawl_core::rules::load::LoadedRules;

/// The result of checking a rule set.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Rules checked.
    pub rules: usize,
    /// Positive examples run.
    pub examples: usize,
    /// Negative examples run.
    pub negatives: usize,
    /// Every problem found.
    pub failures: Vec<String>,
}

/// Checks every rule: it compiles, has examples and negatives, each example gives a finding of
/// the rule and no negative does. Each rule runs alone, through the whole filter chain.
pub fn check_rules(loaded: &LoadedRules) -> CheckReport {
    let mut report = CheckReport {
        failures: loaded.errors.clone(),
        ..Default::default()
    };
    let mut ids = std::collections::HashSet::new();
    let known: std::collections::HashSet<&str> =
        loaded.rules.iter().map(|r| r.spec.id.as_str()).collect();
    for rule in &loaded.rules {
        report.rules += 1;
        let s = &rule.spec;
        // A verifier's companion must be a rule that exists, or it can never be filled.
        for companion in s.verify.iter().flat_map(|v| v.companions.values()) {
            if !known.contains(companion.as_str()) {
                report.failures.push(format!(
                    "{}: rule `{}`: verify companion `{companion}` is not a loaded rule",
                    rule.source, s.id
                ));
            }
        }
        if !ids.insert(s.id.clone()) {
            report
                .failures
                .push(format!("{}: duplicate rule id `{}`", rule.source, s.id));
        }
        if s.examples.is_empty() {
            report
                .failures
                .push(format!("{}: rule `{}` has no examples", rule.source, s.id));
        }
        if s.negatives.is_empty() {
            report.failures.push(format!(
                "{}: rule `{}` has no negative examples",
                rule.source, s.id
            ));
        }
        if let Some(e) = rule.compile_error() {
            report.failures.push(e);
            continue;
        }
        let engine = Engine::new(vec![Rule::clone(rule)]);
        let mut scratch = Scratch::default();
        for (i, ex) in s.examples.iter().enumerate() {
            report.examples += 1;
            if engine.find(ex.as_bytes(), &mut scratch).is_empty() {
                report.failures.push(format!(
                    "{}: rule `{}`: example {} gives no finding: {ex:?}",
                    rule.source,
                    s.id,
                    i + 1
                ));
            }
        }
        for (i, neg) in s.negatives.iter().enumerate() {
            report.negatives += 1;
            let found = engine.find(neg.as_bytes(), &mut scratch);
            if let Some(m) = found.first() {
                report.failures.push(format!(
                    "{}: rule `{}`: negative example {} gives a finding ({:?}): {neg:?}",
                    rule.source,
                    s.id,
                    i + 1,
                    String::from_utf8_lossy(&m.secret)
                ));
            }
        }
    }
    report
}
