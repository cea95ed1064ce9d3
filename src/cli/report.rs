//! `sprawl report --store FILE`: the rotation report. Each distinct secret, most urgent first
//! (live > unknown > dead; prod > staging > unknown > dev > test; still present somewhere >
//! history only; more copies first), with every copy grouped by target and what to do.

use std::io::Write;

use super::{
    EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, ReportArgs, ReportFormat, RotationCommand, VerifyArgs,
};
use crate::inventory::{self, SecretRecord};

/// Runs `sprawl report`.
pub fn run(args: ReportArgs) -> i32 {
    let secrets = match inventory::open_existing(&args.store).and_then(|mut s| s.secrets()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut ordered = by_urgency(secrets);
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
        ReportFormat::Md => safe(&|b| markdown(&ordered, b), &mut out),
        ReportFormat::Html => super::html::write(&ordered, &mut out),
        ReportFormat::Csv => safe(&|b| csv(&ordered, b), &mut out),
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

fn status_rank(s: &SecretRecord) -> u8 {
    match s.verification.as_deref() {
        Some("live") => 0,
        Some("dead") => 2,
        _ => 1,
    }
}

fn env_rank(s: &SecretRecord) -> u8 {
    match s.environment.as_str() {
        "prod" => 0,
        "staging" => 1,
        "dev" => 3,
        "test" => 4,
        _ => 2,
    }
}

/// Secrets sorted most urgent first.
pub fn by_urgency(mut secrets: Vec<SecretRecord>) -> Vec<SecretRecord> {
    secrets.sort_by(|a, b| {
        let key = |s: &SecretRecord| {
            (
                status_rank(s),
                env_rank(s),
                !s.occurrences.iter().any(|o| o.present),
                std::cmp::Reverse(s.occurrences.len()),
                s.first_seen.clone(),
                s.fingerprint.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    secrets
}

fn markdown(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Rotation report\n")?;
    writeln!(
        out,
        "{} distinct secret(s), {} cop(ies). Most urgent first: live before unknown before dead, production first, secrets still present before history-only ones, more copies first.\n",
        secrets.len(),
        secrets.iter().map(|s| s.occurrences.len()).sum::<usize>()
    )?;
    for (i, s) in secrets.iter().enumerate() {
        let status = s.verification.as_deref().unwrap_or("not verified");
        let present = s.occurrences.iter().filter(|o| o.present).count();
        writeln!(
            out,
            "## {}. {} — `{}` ({}, {})\n",
            i + 1,
            s.provider,
            s.rule_id,
            s.environment,
            status
        )?;
        writeln!(
            out,
            "- fingerprint `{}`; first seen {}, last seen {}{}",
            s.fingerprint,
            s.first_seen,
            s.last_seen,
            s.verified_at
                .as_ref()
                .map(|t| format!("; verified {t}"))
                .unwrap_or_default()
        )?;
        writeln!(out, "- preview: `{}`", s.preview.replace('`', "'"))?;
        writeln!(
            out,
            "- {} cop(ies), {present} still present\n",
            s.occurrences.len()
        )?;
        writeln!(out, "| target | where | commit / layer | CI | present |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for o in &s.occurrences {
            let cell = |x: &str| x.replace('|', "\\|");
            writeln!(
                out,
                "| {} ({}) | {}:{} | {} | {} | {} |",
                cell(&o.target),
                o.source,
                cell(&o.path),
                o.line,
                cell(o.commit.as_deref().or(o.image.as_deref()).unwrap_or("")),
                cell(o.ci.as_deref().unwrap_or("")),
                if o.present { "yes" } else { "history/hidden" }
            )?;
        }
        writeln!(out, "\n**What to do**\n")?;
        let mut step = 1;
        let mut say = |out: &mut dyn Write, text: String| {
            let r = writeln!(out, "{step}. {text}");
            step += 1;
            r
        };
        if status != "dead" {
            say(
                out,
                format!(
                    "Rotate it at {}: issue a new credential, then revoke this one.",
                    s.provider
                ),
            )?;
        }
        if present > 0 {
            say(
                out,
                format!(
                    "Remove the {present} cop(ies) still present (files, branch tips, final image layers)."
                ),
            )?;
        }
        if s.occurrences.iter().any(|o| !o.present) {
            say(out, "History-only and hidden-layer copies stay in every clone and pulled image: treat the secret as exposed; purge history or rebuild the images if the repository or image is shared.".to_string())?;
        }
        if s.occurrences.iter().any(|o| o.ci.is_some()) {
            say(
                out,
                "Update the pipelines that use it to read the new value from the CI secret store."
                    .to_string(),
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "rank,fingerprint,rule_id,provider,environment,verification,first_seen,source,target,path,line,commit,image,ci,present"
    )?;
    for (i, s) in secrets.iter().enumerate() {
        for o in &s.occurrences {
            let row = [
                (i + 1).to_string(),
                s.fingerprint.clone(),
                s.rule_id.clone(),
                s.provider.clone(),
                s.environment.clone(),
                s.verification.clone().unwrap_or_default(),
                s.first_seen.clone(),
                o.source.clone(),
                o.target.clone(),
                o.path.clone(),
                o.line.to_string(),
                o.commit.clone().unwrap_or_default(),
                o.image.clone().unwrap_or_default(),
                o.ci.clone().unwrap_or_default(),
                o.present.to_string(),
            ];
            let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            writeln!(out, "{}", fields.join(","))?;
        }
    }
    Ok(())
}

/// Runs `sprawl verify --store`: every stored secret with its plaintext is checked again (one
/// request per secret, the same engine and safety as `scan --verify`) and the outcome recorded.
pub fn verify(args: VerifyArgs) -> i32 {
    let mut store = match inventory::open_existing(&args.store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let secrets = match store.secrets() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut loaded = crate::rules::load::builtin();
    loaded.set_trust(crate::rules::load::Trust::User);
    for p in &args.rules {
        loaded.add_path(p);
    }
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
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
                secret: secret.clone(),
            });
        }
    }
    let opts = match super::scan::verify_options(&args.verify_flags) {
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
                            "{}: complete ({at}; started {})",
                            r.fingerprint, r.started_at
                        ),
                        None => {
                            println!("{}: in progress (started {})", r.fingerprint, r.started_at);
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
