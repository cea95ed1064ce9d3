//! `sprawl baseline create`.

use super::{BaselineCommand, EXIT_CLEAN, EXIT_ERROR};
use crate::baseline::Baseline;

/// Runs a `baseline` subcommand.
pub fn run(cmd: BaselineCommand) -> i32 {
    match cmd {
        BaselineCommand::Create { output, scan } => {
            let mut report = super::scan::scan_with(&scan, None).report;
            report.policy.drop_companions(&mut report.outcome.findings);
            for e in &report.outcome.errors {
                eprintln!("error: {e}");
            }
            if !report.outcome.errors.is_empty() {
                eprintln!("error: baseline not written: the scan was incomplete");
                return EXIT_ERROR;
            }
            let b = Baseline::from_findings(&report.outcome.findings);
            if let Err(e) = std::fs::write(&output, b.to_json()) {
                eprintln!("error: {}: cannot write baseline: {e}", output.display());
                return EXIT_ERROR;
            }
            eprintln!("wrote {} entries to {}", b.entries.len(), output.display());
            EXIT_CLEAN
        }
    }
}
