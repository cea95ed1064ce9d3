//! `sprawl rules list` and `sprawl rules check`.

use std::path::PathBuf;

use super::{EXIT_CLEAN, EXIT_ERROR, RulesCommand};
use crate::detect::{Engine, Scratch};
use crate::rules::Rule;
use crate::rules::load::{self, LoadedRules};

/// Runs a `rules` subcommand.
pub fn run(cmd: RulesCommand) -> i32 {
    match cmd {
        RulesCommand::List {
            rules,
            json,
            verifiable,
        } => list(&rules, json, verifiable),
        RulesCommand::Check { dir } => check(dir),
    }
}

/// `GET https://api.github.com/user`, or the built-in's name.
fn verifier_summary(v: &crate::rules::VerifySpec) -> String {
    match &v.builtin {
        Some(b) => format!("built-in {b}"),
        None => {
            let method = v.method.clone().unwrap_or_else(|| {
                if v.form.is_empty() && v.json.is_none() {
                    "GET".into()
                } else {
                    "POST".into()
                }
            });
            format!("{method} {}", v.url)
        }
    }
}

fn list(extra: &[PathBuf], json: bool, verifiable: bool) -> i32 {
    let mut loaded = load::builtin();
    for p in extra {
        loaded.add_path(p);
    }
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    if verifiable {
        loaded.rules.retain(|r| r.spec.verify.is_some());
        if !json {
            let mut providers = std::collections::BTreeSet::new();
            for r in &loaded.rules {
                let s = &r.spec;
                let v = s.verify.as_ref().map(verifier_summary).unwrap_or_default();
                providers.insert(s.provider.as_str());
                println!("{:<40} {:<18} {v}", s.id, s.provider);
            }
            eprintln!(
                "{} verifiable rules, {} providers",
                loaded.rules.len(),
                providers.len()
            );
            return if loaded.errors.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_ERROR
            };
        }
    }
    if json {
        let specs: Vec<_> = loaded.rules.iter().map(|r| &r.spec).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&specs).unwrap_or_default()
        );
    } else {
        for r in &loaded.rules {
            let s = &r.spec;
            println!(
                "{:<40} {:<8} {:<8} {}",
                s.id,
                format!("{:?}", s.severity).to_lowercase(),
                format!("{:?}", s.confidence).to_lowercase(),
                s.name
            );
        }
        eprintln!("{} rules", loaded.rules.len());
    }
    if loaded.errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    }
}

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

fn check(dir: Option<PathBuf>) -> i32 {
    let loaded = match &dir {
        Some(d) => {
            let mut l = LoadedRules::default();
            l.add_path(d);
            l
        }
        None => load::builtin(),
    };
    let report = check_rules(&loaded);
    for f in &report.failures {
        eprintln!("FAIL {f}");
    }
    println!(
        "{} rules, {} examples, {} negative examples: {}",
        report.rules,
        report.examples,
        report.negatives,
        if report.failures.is_empty() {
            "all pass".to_string()
        } else {
            format!("{} failure(s)", report.failures.len())
        }
    );
    if report.failures.is_empty() && report.rules > 0 {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    }
}
