//! `sprawl revoke`: revoke chosen secrets of an inventory at their provider, after showing
//! what will be revoked and getting an explicit yes; every attempt goes into the inventory.

use std::io::{BufRead, IsTerminal, Write};

use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, RevokeArgs};
use crate::inventory;

/// Runs `sprawl revoke`. Exit 0 when every chosen secret was revoked, 1 when some were not
/// (refused, unknown, no revocation API, no stored value), 2 on errors or without consent.
pub fn run(args: RevokeArgs) -> i32 {
    if args.fingerprints.is_empty() && args.provider.is_empty() {
        eprintln!(
            "error: name the secrets to revoke: fingerprints, or --provider (with --live for live ones)"
        );
        return EXIT_ERROR;
    }
    let opts = match super::lower::verify_options(&args.verify_flags) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let (mut store, secrets) = match super::report::open_with_secrets(&args.store) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let providers: Vec<String> = args
        .provider
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect();
    for p in &providers {
        let known = crate::verify::access::ANALYSED
            .iter()
            .any(|(id, _)| id.split('.').next() == Some(p.as_str()))
            || crate::verify::revoke::method_for(&format!("{p}.pat")).is_some();
        if !known {
            eprintln!(
                "error: --provider {p}: sprawl knows no such provider (a rule-id prefix: github, gitlab, slack, …)"
            );
            return EXIT_ERROR;
        }
    }
    for fp in &args.fingerprints {
        if !secrets.iter().any(|s| &s.fingerprint == fp) {
            eprintln!("error: no secret with fingerprint {fp} in the inventory");
            return EXIT_ERROR;
        }
    }
    let chosen: Vec<&inventory::SecretRecord> = secrets
        .iter()
        .filter(|s| {
            args.fingerprints.contains(&s.fingerprint)
                || providers
                    .iter()
                    .any(|p| s.rule_id.split('.').next() == Some(p.as_str()))
        })
        .filter(|s| !args.live || s.verification.as_deref() == Some("live"))
        .collect();
    if chosen.is_empty() {
        eprintln!("nothing to revoke: no secret matches");
        return EXIT_CLEAN;
    }
    let mut not_revoked = 0;
    let mut todo = Vec::new();
    println!("To revoke:");
    for s in &chosen {
        let how = crate::verify::revoke::method_for(&s.rule_id);
        let line = format!(
            "  {} {} ({}, {} cop(ies)) {}",
            s.fingerprint,
            s.rule_id,
            s.preview,
            s.occurrences.len(),
            s.verification.as_deref().unwrap_or("not verified")
        );
        match (how, &s.secret) {
            (Some((_, method)), Some(_)) => {
                println!("{line} — via {method}");
                todo.push(*s);
            }
            (None, _) => {
                println!("{line} — no revocation API for the holder: rotate it at the provider");
                not_revoked += 1;
            }
            (Some(_), None) => {
                println!(
                    "{line} — value not in the inventory (record with --store-secrets): not revocable here"
                );
                not_revoked += 1;
            }
        }
    }
    if todo.is_empty() {
        return EXIT_FINDINGS;
    }
    if !args.yes && !confirmed(todo.len()) {
        eprintln!("not revoked: no confirmation (--yes, or answer 'revoke' at a terminal)");
        return EXIT_ERROR;
    }
    let mut errors = 0;
    for s in todo {
        let Some(secret) = &s.secret else { continue };
        let Some(a) = crate::verify::revoke::revoke(&s.rule_id, secret, &opts) else {
            continue;
        };
        println!(
            "{} {}{}{}",
            s.fingerprint,
            a.outcome.name(),
            a.http_status
                .map(|h| format!(" (HTTP {h})"))
                .unwrap_or_default(),
            if a.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", crate::redact::control_chars(&a.detail))
            }
        );
        if !matches!(
            a.outcome,
            crate::verify::revoke::Outcome::Revoked | crate::verify::revoke::Outcome::Accepted
        ) {
            not_revoked += 1;
        }
        let record = inventory::Revocation {
            fingerprint: s.fingerprint.clone(),
            attempted_at: crate::time::now_iso(),
            provider: a.provider,
            method: a.method,
            outcome: a.outcome.name().to_string(),
            http_status: a.http_status,
            detail: a.detail,
        };
        if let Err(e) = store.record_revocation(&record) {
            eprintln!("error: {e}");
            errors += 1;
        }
    }
    if errors > 0 {
        EXIT_ERROR
    } else if not_revoked > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Asks at a terminal; never when stdin is not one.
fn confirmed(n: usize) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("Revoke {n} secret(s) at their providers? This cannot be undone. Type 'revoke': ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "revoke"
}
