//! `sprawl report --store FILE`: the rotation report. Each distinct secret, most urgent first
//! (live > unknown > dead; prod > staging > unknown > dev > test; still present somewhere >
//! history only; more copies first), with every copy grouped by target and what to do.

use std::io::Write;

use super::{
    EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, ReportArgs, ReportFormat, RotationCommand, VerifyArgs,
};
use crate::inventory;

/// Runs `sprawl report`.
pub fn run(args: ReportArgs) -> i32 {
    let secrets = match inventory::open_existing(&args.store).and_then(|mut s| s.secrets()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut ordered = crate::report::rotation::by_urgency(secrets);
    let loaded = super::rules::builtin_and(&args.rules);
    crate::report::rotation::attach_next_steps(&mut ordered, &loaded.rules);
    if !args.show_secrets {
        // An inventory recorded with --store-secrets still prints them only on request.
        for s in &mut ordered {
            s.secret = None;
        }
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return EXIT_ERROR;
            }
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    // Markdown and CSV are read in terminals too: paths and previews from scanned content go
    // out with their control characters escaped.
    let safe = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>,
                out: &mut Box<dyn Write>|
     -> std::io::Result<()> {
        let mut buf = Vec::new();
        render(&mut buf)?;
        out.write_all(&crate::report::terminal_safe(&buf))
    };
    let written = match args.format {
        ReportFormat::Md => safe(
            &|b| crate::report::rotation::markdown::markdown(&ordered, b),
            &mut out,
        ),
        ReportFormat::Html => crate::report::rotation::html::write(&ordered, &mut out),
        ReportFormat::Csv => safe(
            &|b| crate::report::rotation::csv::write(&ordered, b),
            &mut out,
        ),
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "secrets": ordered }))
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
    }
    .and_then(|_| out.flush());
    match written {
        Ok(()) => EXIT_CLEAN,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        Err(e) => {
            eprintln!("error: cannot write report: {e}");
            EXIT_ERROR
        }
    }
}

/// An existing inventory and every secret in it (for commands that act on stored secrets).
pub fn open_with_secrets(
    location: &str,
) -> Result<(Box<dyn inventory::Store>, Vec<inventory::SecretRecord>), inventory::StoreError> {
    let mut store = inventory::open_existing(location)?;
    let secrets = store.secrets()?;
    Ok((store, secrets))
}

/// Runs `sprawl verify --store`: every stored secret with its plaintext is checked again (one
/// request per secret, the same engine and safety as `scan --verify`) and the outcome recorded.
pub fn verify(args: VerifyArgs) -> i32 {
    let (mut store, secrets) = match open_with_secrets(&args.store) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let loaded = super::rules::builtin_and(&args.rules);
    let rules = loaded.rules;
    let by_id: std::collections::HashMap<&str, &crate::rules::Rule> =
        rules.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let mut without_plaintext = 0;
    let mut findings = Vec::new();
    for s in &secrets {
        let Some(secret) = &s.secret else {
            without_plaintext += 1;
            continue;
        };
        let Some(rule) = by_id.get(s.rule_id.as_str()) else {
            continue;
        };
        // One finding per copy, so companions (an AWS key id) are found beside it.
        for o in &s.occurrences {
            findings.push(crate::finding::Finding {
                rule_id: s.rule_id.clone(),
                rule_name: rule.spec.name.clone(),
                provider: s.provider.clone(),
                severity: rule.spec.severity,
                environment: crate::environment::Environment::Unknown,
                context: None,
                verification: None,
                confidence: rule.spec.confidence,
                origin: crate::source::Origin::File {
                    path: format!("{}:{}", o.target, o.path),
                    work_tree: None,
                },
                line: o.line as usize,
                column: 1,
                end_line: o.line as usize,
                preview: s.preview.clone(),
                fingerprint: s.fingerprint.clone(),
                secret: secret.clone().into(),
                generic: rule.spec.generic,
                owners: Vec::new(),
            });
        }
    }
    let opts = match super::lower::verify_options(&args.verify_flags) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let st = crate::verify::verify_findings(&mut findings, &rules, &opts);
    let mut errors = 0;
    let mut done = std::collections::HashSet::new();
    for f in &findings {
        if let Some(v) = &f.verification
            && done.insert((f.rule_id.clone(), f.fingerprint.clone()))
            && let Err(e) = store.record_verification(&f.rule_id, &f.fingerprint, v)
        {
            eprintln!("error: {e}");
            errors += 1;
        }
    }
    eprintln!(
        "verified {} secret(s) with {} request(s): {} live, {} dead, {} unknown, {} skipped; {without_plaintext} stored without plaintext (scan with --store-secrets to re-verify them)",
        st.secrets, st.requests, st.live, st.dead, st.unknown, st.skipped
    );
    if errors > 0 { EXIT_ERROR } else { EXIT_CLEAN }
}

/// Runs `sprawl rotation start|status`. `status` exits 1 while any rotation is incomplete.
pub fn rotation(cmd: RotationCommand) -> i32 {
    match cmd {
        RotationCommand::Start { fingerprint, store } => {
            match inventory::open_existing(&store).and_then(|mut s| s.start_rotation(&fingerprint))
            {
                Ok(_) => {
                    eprintln!(
                        "rotation of {fingerprint} started: later audits report what still holds it"
                    );
                    EXIT_CLEAN
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_ERROR
                }
            }
        }
        RotationCommand::Status { store, json } => {
            let rotations = match inventory::open_existing(&store).and_then(|mut s| s.rotations()) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rotations).unwrap_or_default()
                );
            } else {
                for r in &rotations {
                    match &r.completed_at {
                        Some(at) => println!(
                            "{}: complete ({at}; started {}); old value: {}",
                            r.fingerprint, r.started_at, r.old_value
                        ),
                        None => {
                            println!("{}: in progress (started {})", r.fingerprint, r.started_at);
                            println!("  old value: {}", r.old_value);
                            if !r.audited_since {
                                println!("  no audit since it started: scan the targets again");
                            }
                            if r.still_live {
                                println!(
                                    "  the old credential still verifies as live: revoke it at the provider"
                                );
                            }
                            for c in &r.remaining {
                                println!("  still at: {c}");
                            }
                        }
                    }
                }
            }
            if rotations.iter().any(|r| r.completed_at.is_none()) {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            }
        }
    }
}
