//! JSON and JSON Lines reports.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportInput;
use sprawl_core::environment::Environment;
use sprawl_core::finding::CiContext;
use sprawl_core::finding::Finding;
use sprawl_core::origin::{GitOrigin, ImageOrigin, Origin};
use sprawl_core::rules::{Confidence, Severity};
use sprawl_core::stats::Stats;

/// The JSON shape of one finding.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    provider: &'a str,
    severity: Severity,
    confidence: Confidence,
    environment: Environment,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    preview: String,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    /// Provenance in a git repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<&'a GitOrigin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a ImageOrigin>,
    /// Where in a CI job's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_log: Option<&'a sprawl_core::origin::CiLogOrigin>,
    /// Why a file of a repository's working tree was scanned (`untracked`, `gitignored`,
    /// `modified`).
    #[serde(skip_serializing_if = "Option::is_none")]
    work_tree: Option<sprawl_core::origin::WorkTreeState>,
    /// CI/GitOps context.
    #[serde(skip_serializing_if = "Option::is_none")]
    ci: Option<&'a CiContext>,
    /// Outcome of `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a sprawl_core::finding::Verification>,
    /// Owners of the path from the target's CODEOWNERS.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    owners: &'a [String],
}

impl<'a> JsonFinding<'a> {
    /// Projects a finding; the secret is included only when `show_secrets`.
    pub fn new(f: &'a Finding, show_secrets: bool) -> JsonFinding<'a> {
        JsonFinding {
            rule_id: &f.rule_id,
            rule_name: &f.rule_name,
            provider: &f.provider,
            severity: f.severity,
            confidence: f.confidence,
            environment: f.environment,
            path: f.origin.display_path(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            preview: f.preview.clone(),
            fingerprint: &f.fingerprint,
            secret: f.secret.plain().filter(|_| show_secrets),
            git: match &f.origin {
                Origin::Git(g) => Some(g),
                _ => None,
            },
            image: match &f.origin {
                Origin::Image(i) => Some(i),
                _ => None,
            },
            ci_log: match &f.origin {
                Origin::CiLog(c) => Some(c),
                _ => None,
            },
            work_tree: match &f.origin {
                Origin::File { work_tree, .. } => *work_tree,
                _ => None,
            },
            ci: f.context.as_deref(),
            verification: f.verification.as_ref(),
            owners: &f.owners,
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [String],
    notes: &'a [String],
    stats: &'a Stats,
}

/// One JSON document: `{version, findings, errors, stats}`.
pub fn write(input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    let report = JsonReport {
        version: 1,
        findings: input
            .findings
            .iter()
            .map(|f| JsonFinding::new(f, input.show_secrets))
            .collect(),
        errors: input.errors,
        notes: input.notes,
        stats: input.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// One finding per line; errors go to stderr only.
pub fn write_lines(input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in input.findings {
        serde_json::to_writer(&mut *out, &JsonFinding::new(f, input.show_secrets))?;
        writeln!(out)?;
    }
    Ok(())
}
