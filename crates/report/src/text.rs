//! The human report: one block per finding, coloured on a terminal, secrets redacted unless
//! `--show-secrets`.

use std::io::{self, Write};

use super::ReportInput;
use sprawl_core::origin::{GitOrigin, ImageOrigin, Origin};
use sprawl_core::rules::Severity;

/// Provenance lines for a finding in a git repository: the introducing commit, then every
/// later commit that brought the secret back (`verbose`) or how many there were and the latest.
fn write_git(out: &mut dyn Write, c: bool, g: &GitOrigin, verbose: bool) -> io::Result<()> {
    if g.staged {
        return writeln!(
            out,
            "  staged, not committed yet (blob {})",
            sprawl_core::origin::short_id(&g.blob, 12)
        );
    }
    let shown = if verbose { g.commits.len() } else { 1 };
    for (i, commit) in g.commits.iter().take(shown).enumerate() {
        let what = if i == 0 { "introduced" } else { "again" };
        writeln!(
            out,
            "  {what} in {} by {} on {}: {}",
            sprawl_core::origin::short_id(&commit.commit, 12),
            commit.author,
            commit.date,
            commit.summary
        )?;
    }
    if let Some(latest) = g.commits.last().filter(|_| g.commits.len() > shown) {
        let more = g.commits.len() - shown;
        writeln!(
            out,
            "  again in {more} later version(s) of the file, latest {} on {} (-v lists them)",
            sprawl_core::origin::short_id(&latest.commit, 12),
            latest.date
        )?;
    }
    if g.history_only {
        let removed = g
            .removed_in
            .as_ref()
            .map(|r| {
                format!(
                    " (removed in {} on {})",
                    sprawl_core::origin::short_id(&r.commit, 12),
                    r.date
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "  {}{removed}",
            paint(
                c,
                "33",
                "history-only: no ref tip holds it, but every clone does"
            )
        )
    } else {
        writeln!(out, "  still present at: {}", g.present_in.join(", "))
    }
}

/// Provenance lines for a finding in a container image.
fn write_image(out: &mut dyn Write, c: bool, i: &ImageOrigin) -> io::Result<()> {
    let platform = i
        .platform
        .as_ref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    writeln!(out, "  image: {}{platform}", i.image)?;
    if let Some(k) = i.layer_index {
        let digest = i.layer_digest.as_deref().unwrap_or("");
        writeln!(
            out,
            "  layer {k} {}",
            sprawl_core::origin::short_id(digest, 19)
        )?;
    }
    if let Some(cb) = &i.created_by {
        let cb = cb.replace('\n', " ");
        let short: String = cb.chars().take(120).collect();
        let more = if short.len() < cb.len() { "…" } else { "" };
        writeln!(out, "  created by: {short}{more}")?;
    }
    let vis = i.visibility.describe();
    match i.visibility {
        sprawl_core::origin::Visibility::Hidden { .. } => {
            writeln!(out, "  {}", paint(c, "33", &vis))
        }
        _ => writeln!(out, "  {vis}"),
    }
}

/// Where a finding sits in a CI config or GitOps file, and the risk notes.
fn write_ci(out: &mut dyn Write, c: bool, ctx: &sprawl_core::finding::CiContext) -> io::Result<()> {
    let mut parts = vec![ctx.kind.name().to_string()];
    if let Some(j) = &ctx.job {
        parts.push(format!("job {j}"));
    }
    if let Some(s) = &ctx.step {
        parts.push(format!("step {s}"));
    }
    if let Some(k) = &ctx.key {
        parts.push(format!("key {k}"));
    }
    writeln!(out, "  ci: {}", parts.join(", "))?;
    for n in &ctx.notes {
        writeln!(out, "  {}", paint(c, "33", &format!("note: {n}")))?;
    }
    Ok(())
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// Folds image findings that are one copy seen through several images (the same rule,
/// secret, path, line, column, layer and visibility) into the first of them: for each finding,
/// `Some(others)` when it is printed (with the indexes of the findings folded into it), `None`
/// when it is folded.
fn image_groups(findings: &[sprawl_core::finding::Finding]) -> Vec<Option<Vec<usize>>> {
    type Key<'a> = (
        &'a str,
        &'a str,
        &'a str,
        usize,
        usize,
        Option<&'a str>,
        String,
    );
    let mut first: std::collections::HashMap<Key<'_>, usize> = std::collections::HashMap::new();
    let mut out: Vec<Option<Vec<usize>>> = vec![Some(Vec::new()); findings.len()];
    for (i, f) in findings.iter().enumerate() {
        let Origin::Image(img) = &f.origin else {
            continue;
        };
        let key = (
            f.rule_id.as_str(),
            f.fingerprint.as_str(),
            f.origin.display_path(),
            f.line,
            f.column,
            img.layer_digest.as_deref(),
            img.visibility.describe(),
        );
        match first.get(&key) {
            Some(&head) if img.layer_digest.is_some() => {
                out[i] = None;
                if let Some(others) = out[head].as_mut() {
                    others.push(i);
                }
            }
            _ => {
                first.insert(key, i);
            }
        }
    }
    out
}

/// Writes the findings, then a one-line summary. Without `verbose`, a layer copy that several
/// images share is printed once with the other images counted.
pub fn write(input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = input.color;
    let groups = if input.verbose {
        vec![Some(Vec::new()); input.findings.len()]
    } else {
        image_groups(input.findings)
    };
    for (index, f) in input.findings.iter().enumerate() {
        let Some(others) = &groups[index] else {
            continue;
        };
        let sev = format!("{:?}", f.severity).to_lowercase();
        writeln!(
            out,
            "{} {} ({})",
            paint(c, severity_code(f.severity), &format!("[{sev}]")),
            paint(c, "1", &f.rule_name),
            f.rule_id
        )?;
        writeln!(
            out,
            "  {}:{}:{}",
            paint(c, "35", f.origin.display_path()),
            f.line,
            f.column
        )?;
        writeln!(out, "  {}", f.preview)?;
        if f.environment != sprawl_core::environment::Environment::Unknown {
            writeln!(out, "  environment: {}", f.environment.name())?;
        }
        if let Some(ctx) = &f.context {
            write_ci(out, c, ctx)?;
        }
        if let Some(v) = &f.verification {
            let status = format!("{:?}", v.status).to_lowercase();
            let http = v
                .http_status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default();
            let why = v
                .reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let code = match v.status {
                sprawl_core::finding::Status::Live => "1;31",
                sprawl_core::finding::Status::Dead => "32",
                _ => "2",
            };
            writeln!(out, "  verified: {}{http}{why}", paint(c, code, &status))?;
        }
        match &f.origin {
            Origin::CiLog(l) => {
                writeln!(
                    out,
                    "  printed in the log of job {}, run {} attempt {} ({}, {}){}",
                    l.job,
                    l.run,
                    l.attempt,
                    l.workflow,
                    l.date,
                    l.step
                        .as_ref()
                        .map(|s| format!(", step {s}"))
                        .unwrap_or_default()
                )?;
                writeln!(out, "  {}", l.url)?;
            }
            Origin::Git(g) => write_git(out, c, g, input.verbose)?,
            Origin::Image(i) => {
                write_image(out, c, i)?;
                if !others.is_empty() {
                    let names: Vec<&str> = others
                        .iter()
                        .filter_map(|&k| match &input.findings[k].origin {
                            Origin::Image(o) => Some(o.image.as_str()),
                            _ => None,
                        })
                        .collect();
                    let listed: Vec<&str> = names.iter().take(3).copied().collect();
                    let rest = if names.len() > 3 {
                        format!(" and {} more", names.len() - 3)
                    } else {
                        String::new()
                    };
                    writeln!(
                        out,
                        "  same layer copy in {} more image(s): {}{rest} (-v lists each)",
                        names.len(),
                        listed.join(", ")
                    )?;
                }
            }
            Origin::File {
                work_tree: Some(state),
                ..
            } => writeln!(out, "  {}", paint(c, "33", state.describe()))?,
            _ => {}
        }
        if input.show_secrets {
            match f.secret.plain() {
                Some(secret) => writeln!(out, "  secret: {secret}")?,
                None => writeln!(out, "  secret: (not kept by the inventory)")?,
            }
        }
        writeln!(out, "  fingerprint: {}", paint(c, "2", &f.fingerprint))?;
        writeln!(out)?;
    }
    let distinct: std::collections::BTreeSet<&str> = input
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    writeln!(
        out,
        "{} finding(s), {} distinct secret(s); {} file(s){}, {:.1} MB scanned; {} binary and {} oversized skipped; {} error(s)",
        input.findings.len(),
        distinct.len(),
        input.stats.blobs_scanned,
        match input.stats.gitignored_scanned {
            0 => String::new(),
            n => format!(" ({n} gitignored)"),
        },
        input.stats.bytes_scanned as f64 / 1e6,
        input.stats.skipped_binary,
        input.stats.skipped_too_large,
        input.errors.len()
    )
}
