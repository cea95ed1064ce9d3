//! Rendering scan results. Reports never decide what is a finding; they only print them, and
//! print a secret only when the user asked with `--show-secrets` (never in SARIF).

pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use clap::ValueEnum;

use crate::finding::Finding;
use crate::rules::Rule;
use crate::scan::Stats;

/// Output formats of `sprawl scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable, coloured on a terminal.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown table (job summaries, pull-request comments); always redacted.
    Md,
}

/// What a report is made from.
pub struct ReportInput<'a> {
    /// Findings to print, sorted.
    pub findings: &'a [Finding],
    /// Errors met while scanning.
    pub errors: &'a [String],
    /// Informational notes (shallow clone, submodules, skipped blobs).
    pub notes: &'a [String],
    /// Counters.
    pub stats: &'a Stats,
    /// All loaded rules (SARIF lists the ones with results).
    pub rules: &'a [Rule],
    /// Print secrets in clear (never honoured by SARIF).
    pub show_secrets: bool,
    /// Colour (text only).
    pub color: bool,
    /// The directory SARIF artifact URIs are relative to (`%SRCROOT%`), absolute.
    pub srcroot: Option<&'a std::path::Path>,
}

/// Writes the report in `format` to `out`.
pub fn write(format: Format, input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(input, out),
        Format::Json => json::write(input, out),
        Format::Jsonl => json::write_lines(input, out),
        Format::Sarif => sarif::write(input, out),
        Format::Md => markdown::write(input, out),
    }
}
