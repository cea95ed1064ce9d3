//! `sprawl rules list` and `sprawl rules check`.

use std::path::PathBuf;

use super::{EXIT_CLEAN, EXIT_ERROR, ListFormat, RulesCommand};
use crate::rules::load::{self, LoadedRules};

/// Runs a `rules` subcommand.
pub fn run(cmd: RulesCommand) -> i32 {
    match cmd {
        RulesCommand::List {
            rules,
            json,
            format,
            verifiable,
        } => {
            let format = if json { ListFormat::Json } else { format };
            list(&rules, format, verifiable)
        }
        RulesCommand::Check { dir } => check(dir),
    }
}

/// The built-in rules and the user's rule files or directories `extra` (trusted as the user's
/// own); load errors are printed, the rules that loaded are kept.
pub(crate) fn builtin_and(extra: &[PathBuf]) -> load::LoadedRules {
    let mut loaded = load::builtin();
    loaded.set_trust(crate::rules::load::Trust::User);
    for p in extra {
        loaded.add_path(p);
    }
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    loaded
}

/// `sprawl rules list`: every rule (`--verifiable`: those with a verifier, and the request
/// each makes) as a table, Markdown or JSON.
fn list(extra: &[PathBuf], format: ListFormat, verifiable: bool) -> i32 {
    let json = format == ListFormat::Json;
    let mut loaded = builtin_and(extra);
    if verifiable {
        loaded.rules.retain(|r| r.spec.verify.is_some());
        if !json {
            let mut providers = std::collections::BTreeSet::new();
            for r in &loaded.rules {
                let s = &r.spec;
                let v = s
                    .verify
                    .as_ref()
                    .map(crate::report::rules_md::verifier_summary)
                    .unwrap_or_default();
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
    if format == ListFormat::Md {
        print!(
            "{}",
            crate::report::rules_md::markdown(
                &loaded.rules,
                &crate::verify::access::ANALYSED
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
            )
        );
    } else if json {
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

fn check(dir: Option<PathBuf>) -> i32 {
    let loaded = match &dir {
        Some(d) => {
            let mut l = LoadedRules::default();
            l.add_path(d);
            l
        }
        None => load::builtin(),
    };
    let report = crate::detect::check::check_rules(&loaded);
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
