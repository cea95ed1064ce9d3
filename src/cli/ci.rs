//! `sprawl ci consumers`: walk a tree, find CI and GitOps files, and print which jobs and steps
//! use each named secret.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::{CiCommand, ConsumersFormat, EXIT_CLEAN, EXIT_ERROR};
use crate::ci::consumers::Consumer;

/// Runs `sprawl ci ...`.
pub fn run(cmd: CiCommand) -> i32 {
    match cmd {
        CiCommand::Consumers { path, format } => {
            let root = path.unwrap_or_else(|| PathBuf::from("."));
            let (found, errors) = crate::ci::consumers::collect(&root);
            let written = match format {
                ConsumersFormat::Text => write_text(&found, &errors),
                ConsumersFormat::Json => write_json(&found, &errors),
            };
            for e in &errors {
                eprintln!("error: {e}");
            }
            if written.is_err() || !errors.is_empty() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            }
        }
    }
}

fn grouped(found: &[Consumer]) -> BTreeMap<&str, Vec<&Consumer>> {
    let mut by: BTreeMap<&str, Vec<&Consumer>> = BTreeMap::new();
    for c in found {
        by.entry(c.secret.as_str()).or_default().push(c);
    }
    by
}

fn write_text(found: &[Consumer], errors: &[String]) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let by = grouped(found);
    for (secret, uses) in &by {
        writeln!(w, "{secret}")?;
        for c in uses {
            let mut place = format!("{}:{} ({})", c.file, c.line, c.kind.name());
            if let Some(j) = &c.job {
                place.push_str(&format!(" job {j}"));
            }
            if let Some(s) = &c.step {
                place.push_str(&format!(", step {s}"));
            }
            if c.leaks_to_logs {
                place.push_str("  [echoed or written to $GITHUB_ENV/$GITHUB_OUTPUT]");
            }
            writeln!(w, "  {place}")?;
        }
    }
    writeln!(
        w,
        "{} secret(s), {} use(s); {} error(s)",
        by.len(),
        found.len(),
        errors.len()
    )?;
    w.flush()
}

#[derive(Serialize)]
struct JsonSecret<'a> {
    name: &'a str,
    consumers: Vec<&'a Consumer>,
}

#[derive(Serialize)]
struct JsonConsumers<'a> {
    secrets: Vec<JsonSecret<'a>>,
    errors: &'a [String],
}

fn write_json(found: &[Consumer], errors: &[String]) -> std::io::Result<()> {
    let doc = JsonConsumers {
        secrets: grouped(found)
            .into_iter()
            .map(|(name, consumers)| JsonSecret { name, consumers })
            .collect(),
        errors,
    };
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    serde_json::to_writer_pretty(&mut w, &doc)?;
    writeln!(w)?;
    w.flush()
}
