//! The Markdown report: a summary line and one table row per finding, secrets always
//! redacted (it is written where many people read it: a CI job summary, a pull request).

use std::io::{self, Write};

use super::ReportInput;
use sprawl_core::origin::Origin;

/// Most rows a table shows; a job summary is limited in size (GitHub: 1 MiB per step).
const MAX_ROWS: usize = 500;

/// Escapes text for a table cell: pipes, newlines, and backticks that would open code spans.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// Where a finding is: path and line, then commit or image layer.
fn place(f: &sprawl_core::finding::Finding) -> (String, String) {
    let at = format!("`{}:{}`", cell(f.origin.display_path()), f.line);
    let detail = match &f.origin {
        Origin::Git(g) if g.staged => "staged".to_string(),
        Origin::Git(g) => {
            let first = g
                .commits
                .first()
                .map(|c| format!("`{}`", sprawl_core::origin::short_id(&c.commit, 12)))
                .unwrap_or_default();
            if g.history_only {
                format!("{first} (history only)")
            } else {
                first
            }
        }
        Origin::Image(i) => format!(
            "{} layer {}",
            cell(&i.image),
            i.layer_index
                .map_or_else(|| "config".to_string(), |k| k.to_string())
        ),
        Origin::File {
            work_tree: Some(state),
            ..
        } => state.describe().to_string(),
        Origin::CiLog(c) => format!(
            "log of job {}, run {} attempt {}{}",
            cell(&c.job),
            c.run,
            c.attempt,
            c.step
                .as_ref()
                .map(|s| format!(", step {}", cell(s)))
                .unwrap_or_default()
        ),
        Origin::File { .. } | Origin::Stdin => String::new(),
    };
    (at, detail)
}

/// Writes the Markdown report.
pub fn write(input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    let n = input.findings.len();
    if n == 0 {
        writeln!(out, "No secrets found.")?;
    } else {
        writeln!(
            out,
            "| Severity | Rule | Location | Commit / layer | Preview | Verified |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for f in input.findings.iter().take(MAX_ROWS) {
            let (at, detail) = place(f);
            let verified = f
                .verification
                .as_ref()
                .map_or_else(String::new, |v| format!("{:?}", v.status).to_lowercase());
            writeln!(
                out,
                "| {} | {} (`{}`) | {at} | {detail} | `{}` | {verified} |",
                format!("{:?}", f.severity).to_lowercase(),
                cell(&f.rule_name),
                f.rule_id,
                cell(&f.preview),
            )?;
        }
        if n > MAX_ROWS {
            writeln!(
                out,
                "\n{} more finding(s) not shown; see the full report.",
                n - MAX_ROWS
            )?;
        }
    }
    if !input.errors.is_empty() {
        writeln!(out, "\n**{} error(s):**\n", input.errors.len())?;
        for e in input.errors.iter().take(50) {
            writeln!(out, "- {}", cell(e))?;
        }
    }
    Ok(())
}
