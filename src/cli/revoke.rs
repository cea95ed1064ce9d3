//! `sprawl revoke`: revoke chosen secrets of an inventory at their provider, after showing
//! what will be revoked and getting an explicit yes; every attempt goes into the inventory.

use std::io::{BufRead, IsTerminal, Write};

use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, PurgeLogsArgs, RevokeArgs};
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
            || crate::verify::revoke::REVOCABLE
                .iter()
                .any(|(id, _)| id.split('.').next() == Some(p.as_str()));
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
        // An AWS key id chosen with --provider aws is revoked with its secret, not alone.
        if !args.fingerprints.contains(&s.fingerprint)
            && crate::verify::revoke::REVOCABLE.iter().any(|(id, _)| {
                crate::verify::revoke::companion_for(id)
                    .is_some_and(|prefix| s.rule_id.starts_with(prefix))
            })
        {
            println!(
                "  {} {} ({}) — the id half of a key: revoked with its secret",
                s.fingerprint, s.rule_id, s.preview
            );
            continue;
        }
        let how = crate::verify::revoke::method_for(&s.rule_id);
        let line = format!(
            "  {} {} ({}, {} cop(ies)) {}",
            s.fingerprint,
            s.rule_id,
            s.preview,
            s.occurrences.len(),
            s.verification.as_deref().unwrap_or("not verified")
        );
        let companion = crate::verify::revoke::companion_for(&s.rule_id)
            .map(|prefix| companion_value(s, prefix, &secrets));
        match (how, &s.secret) {
            (Some(_), Some(_)) if companion == Some(None) => {
                println!(
                    "{line} — its access key id is not stored beside it (record with --store-secrets): not revocable here"
                );
                not_revoked += 1;
            }
            (Some((_, method)), Some(_)) => {
                println!("{line} — via {method}");
                todo.push((*s, companion.flatten()));
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
    for (s, companion) in todo {
        let Some(secret) = &s.secret else { continue };
        let Some(a) = crate::verify::revoke::revoke(&s.rule_id, secret, companion, &opts) else {
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

/// The stored value of a secret whose rule id starts with `prefix` (a companion such as an
/// AWS access key id) found beside a copy of `s`: same target and file, the nearest line.
fn companion_value<'a>(
    s: &inventory::SecretRecord,
    prefix: &str,
    all: &'a [inventory::SecretRecord],
) -> Option<&'a str> {
    let mut best: Option<(u64, &str)> = None;
    for c in all.iter().filter(|c| c.rule_id.starts_with(prefix)) {
        let Some(value) = c.secret.as_deref() else {
            continue;
        };
        for o in &s.occurrences {
            for co in c
                .occurrences
                .iter()
                .filter(|co| co.target == o.target && co.path == o.path)
            {
                let distance = o.line.abs_diff(co.line);
                if best.is_none_or(|(d, _)| distance < d) {
                    best = Some((distance, value));
                }
            }
        }
    }
    best.map(|(_, v)| v)
}

/// Asks at a terminal; never when stdin is not one.
fn confirmed(n: usize) -> bool {
    confirmed_word(n, "revoke")
}

/// A place that printed secrets and can be deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// Every job log of a GitHub Actions run, or one of its artifacts.
    Gha {
        target: String,
        run: u64,
        artifact: Option<String>,
    },
    /// A GitLab job: erasing it removes its trace and artifacts.
    GitLab { target: String, job: u64 },
}

impl Place {
    /// Where a stored `ci-log` copy is.
    fn of(path: &str) -> Option<Place> {
        if let Some((t, run, artifact)) = crate::source::cilogs::parse_copy_path(path) {
            return Some(Place::Gha {
                target: t.shown(),
                run,
                artifact,
            });
        }
        crate::source::gitlab_ci::parse_copy_path(path).map(|(t, job)| Place::GitLab {
            target: t.shown(),
            job,
        })
    }

    fn describe(&self) -> String {
        match self {
            Place::Gha {
                target,
                run,
                artifact: Some(a),
            } => format!("{target} run {run}: artifact {a}"),
            Place::Gha { target, run, .. } => format!("{target} run {run}: every job log"),
            Place::GitLab { target, job } => format!("{target} job {job}: trace and artifacts"),
        }
    }
}

/// Runs `sprawl purge-logs`: the places whose logs printed the chosen secrets (GitHub Actions
/// runs and artifacts, GitLab jobs) are listed, then deleted after an explicit yes; each
/// attempt is recorded with the secret. Exit 0 when everything was deleted, 1 when something
/// was not, 2 on errors or without consent.
pub fn purge_logs(args: PurgeLogsArgs) -> i32 {
    let (mut store, secrets) = match super::report::open_with_secrets(&args.store) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    for fp in &args.fingerprints {
        if !secrets.iter().any(|s| &s.fingerprint == fp) {
            eprintln!("error: no secret with fingerprint {fp} in the inventory");
            return EXIT_ERROR;
        }
    }
    let mut places: std::collections::BTreeMap<Place, Vec<String>> = Default::default();
    for s in &secrets {
        if !args.fingerprints.is_empty() && !args.fingerprints.contains(&s.fingerprint) {
            continue;
        }
        for o in s.occurrences.iter().filter(|o| o.source == "ci-log") {
            let Some(place) = Place::of(&o.path) else {
                continue;
            };
            let fps = places.entry(place).or_default();
            if !fps.contains(&s.fingerprint) {
                fps.push(s.fingerprint.clone());
            }
        }
    }
    if places.is_empty() {
        eprintln!("nothing to delete: no secret of the inventory was printed in a CI log");
        return EXIT_CLEAN;
    }
    println!("To delete:");
    for (place, fps) in &places {
        println!("  {} ({} secret(s))", place.describe(), fps.len());
    }
    if !args.yes && !confirmed_word(places.len(), "delete") {
        eprintln!("not deleted: no confirmation (--yes, or answer 'delete' at a terminal)");
        return EXIT_ERROR;
    }
    let ca_pem = match &args.ci_api_ca {
        Some(p) => match std::fs::read(p) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let opts = crate::source::cilogs::CiLogOptions {
        api: args.ci_api.clone(),
        ca_pem,
        gitlab_url: args.ci_gitlab_url.clone(),
        ..Default::default()
    };
    let clients = crate::source::cilogs::Client::new(&opts).and_then(|gh| {
        Ok((
            gh,
            crate::source::gitlab_ci::GitLabClient::new(&opts.gitlab_url, &opts)?,
        ))
    });
    let (github, gitlab) = match clients {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let (mut not_done, mut errors) = (0, 0);
    for (place, fps) in &places {
        let (provider, method, done_status, result) = match place {
            Place::Gha {
                target,
                run,
                artifact,
            } => {
                let Some(t) = crate::source::cilogs::GhaTarget::parse(target) else {
                    continue;
                };
                // A target that names its GitHub Enterprise host carries its own API.
                let own;
                let github = match &t.host {
                    None => &github,
                    Some(_) => match crate::source::cilogs::Client::new(&t.options(&opts)) {
                        Ok(c) => {
                            own = c;
                            &own
                        }
                        Err(e) => {
                            eprintln!("error: {target}: {e}");
                            errors += 1;
                            continue;
                        }
                    },
                };
                match artifact {
                    Some(a) => (
                        "GitHub Actions",
                        "GitHub Actions: delete the run's artifact",
                        204,
                        github
                            .delete_artifact(&t, *run, a)
                            .map(|s| s.unwrap_or(404)),
                    ),
                    None => (
                        "GitHub Actions",
                        "GitHub Actions: delete the run's logs",
                        204,
                        github.delete_run_logs(&t, *run),
                    ),
                }
            }
            Place::GitLab { target, job } => {
                let Some(t) = crate::source::gitlab_ci::GitLabTarget::parse(target) else {
                    continue;
                };
                (
                    "GitLab CI",
                    "GitLab CI: erase the job (trace and artifacts)",
                    201,
                    gitlab.erase(&t, *job),
                )
            }
        };
        let (outcome, http, detail) = match result {
            Ok(s) if s == done_status => ("deleted", Some(s), String::new()),
            // Already gone (deleted before, or expired): nothing left to delete.
            Ok(s @ (404 | 410)) => ("deleted", Some(s), "already gone".to_string()),
            Ok(s @ 400..=499) => (
                "failed",
                Some(s),
                "refused (the token needs write access to the pipelines)".into(),
            ),
            Ok(s) => ("unknown", Some(s), String::new()),
            Err(e) => ("unknown", None, e),
        };
        println!(
            "{}: {outcome}{}",
            place.describe(),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        );
        if outcome != "deleted" {
            not_done += 1;
        }
        for fp in fps {
            let record = inventory::Revocation {
                fingerprint: fp.clone(),
                attempted_at: crate::time::now_iso(),
                provider: provider.into(),
                method: format!("{method} ({})", place.describe()),
                outcome: outcome.to_string(),
                http_status: http,
                detail: detail.clone(),
            };
            if let Err(e) = store.record_revocation(&record) {
                eprintln!("error: {e}");
                errors += 1;
            }
        }
    }
    if errors > 0 {
        EXIT_ERROR
    } else if not_done > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Asks at a terminal for `word`; never when stdin is not one.
fn confirmed_word(n: usize, word: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("Go ahead with {n} item(s) listed above? This cannot be undone. Type '{word}': ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == word
}
