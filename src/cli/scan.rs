//! `sprawl scan`: lower the flags, scan, verify, record, print, choose the exit code.

use std::io::{self, IsTerminal, Write};

use super::{CommonScanArgs, EXIT_CLEAN, EXIT_ERROR, ScanArgs, lower};
use crate::report::{self, Format, ReportInput};
use crate::scan::{ScanOutcome, ScanReport, Scanner};

/// A finished scan, and whether it may go into `--store`.
pub struct Scanned {
    /// What the scanner reported.
    pub report: ScanReport,
    /// False when `--store` was given but its fingerprint key could not be read: findings
    /// then carry other fingerprints and must not go into that inventory.
    pub recordable: bool,
}

/// Lowers `common` (with a baseline, for `scan`) and scans its targets.
pub fn scan_with(common: &CommonScanArgs, baseline: Option<std::path::PathBuf>) -> Scanned {
    let (key, key_error) = match lower::fingerprint_key(common, None) {
        Ok(k) => (k, None),
        Err(e) => (None, Some(e)),
    };
    let mut plan = lower::plan(common, key);
    plan.baseline = baseline;
    let mut report = Scanner::new(plan).scan(lower::observer(common));
    let recordable = key_error.is_none();
    if let Some(e) = key_error {
        report.outcome.errors.insert(0, e);
    }
    Scanned { report, recordable }
}

/// Runs `sprawl scan`.
pub fn run(args: ScanArgs) -> i32 {
    let started = crate::time::now_iso();
    if args.verify_flags.blast_radius && !args.verify {
        eprintln!("error: --blast-radius needs --verify (only live secrets are analysed)");
        return EXIT_ERROR;
    }
    let mut scanned = scan_with(&args.common, args.baseline.clone());
    let report = &mut scanned.report;
    if args.verify {
        match lower::verify_options(&args.verify_flags) {
            Ok(opts) => {
                let st = crate::verify::verify_findings(
                    &mut report.outcome.findings,
                    &report.rules,
                    &opts,
                );
                report.outcome.notes.extend(st.cache_problem.clone());
                report.outcome.notes.push(format!(
                    "verification: {} distinct secret(s), {} request(s), {} cached: {} live, {} dead, {} unknown, {} skipped{}",
                    st.secrets,
                    st.requests,
                    st.cached,
                    st.live,
                    st.dead,
                    st.unknown,
                    st.skipped,
                    if opts.blast_radius {
                        format!("; blast radius of {} live secret(s)", st.analysed)
                    } else {
                        String::new()
                    }
                ));
            }
            Err(e) => report.outcome.errors.push(e),
        }
    }
    report.policy.drop_companions(&mut report.outcome.findings);
    if let Some(loc) = &args.common.store {
        super::record::record(loc, &args.common, &mut scanned, started);
    }
    let report = &scanned.report;
    let outcome = &report.outcome;
    for n in &outcome.notes {
        eprintln!("note: {}", crate::redact::control_chars(n));
    }
    for e in &outcome.errors {
        eprintln!("error: {}", crate::redact::control_chars(e));
    }
    if outcome.stats.skipped_too_large > 0 {
        eprintln!(
            "note: {} file(s) larger than --max-file-size were not scanned",
            outcome.stats.skipped_too_large
        );
    }
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let srcroot = crate::scan::plan::source_root(&args.common.targets);
    let format = Format::from(args.format);
    let mut input = ReportInput {
        findings: &outcome.findings,
        errors: &outcome.errors,
        notes: &outcome.notes,
        stats: &outcome.stats,
        rules: &report.rules,
        show_secrets: args.show_secrets && format != Format::Sarif,
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        srcroot: srcroot.as_deref(),
        verbose: args.verbose,
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| {
                let mut w = io::BufWriter::new(f);
                report::write(format, &input, &mut w)?;
                w.flush()
            })
            .map_err(|e| format!("{}: cannot write report: {e}", path.display())),
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            match report::write(format, &input, &mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write report: {e}"))
                }
                _ => Ok(()),
            }
        }
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return EXIT_ERROR;
    }
    if args.common.staged && !outcome.findings.is_empty() {
        eprintln!(
            "commit blocked: remove the secret from the staged files (and rotate it if it was ever pushed), or mark a reviewed line with a `sprawl:allow` comment"
        );
    }
    // Extra reports of the same scan: never with secrets, never coloured.
    input.show_secrets = false;
    input.color = false;
    for spec in &args.write {
        if let Err(e) = write_extra(spec, &input) {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    match args.fail_on_access {
        Some(level) => exit_code_at_access(outcome, level, args.exit_code),
        None => exit_code(outcome, args.exit_code),
    }
}

/// Writes one `--write FORMAT=FILE` report.
fn write_extra(spec: &str, input: &ReportInput<'_>) -> Result<(), String> {
    use clap::ValueEnum;
    let (format, path) = spec
        .split_once('=')
        .ok_or_else(|| format!("--write {spec:?}: expected FORMAT=FILE"))?;
    let format = super::FormatArg::from_str(format, true)
        .map_err(|_| format!("--write {spec:?}: unknown format {format:?}"))?;
    std::fs::File::create(path)
        .and_then(|f| {
            let mut w = io::BufWriter::new(f);
            report::write(format.into(), input, &mut w)?;
            w.flush()
        })
        .map_err(|e| format!("{path}: cannot write report: {e}"))
}

/// [`exit_code`] counting only findings of live secrets whose access reaches `level`.
pub fn exit_code_at_access(
    outcome: &ScanOutcome,
    level: crate::finding::AccessLevel,
    findings_code: i32,
) -> i32 {
    if !outcome.errors.is_empty() {
        return EXIT_ERROR;
    }
    // Fail closed: a live secret whose access is only a floor, or whose analysis did not
    // finish (throttled, denied), counts as reaching the gate.
    let analysed: std::collections::HashSet<&str> = crate::verify::access::ANALYSED
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let reaches = outcome.findings.iter().any(|f| {
        let Some(v) = f.verification.as_ref() else {
            return false;
        };
        match &v.access {
            Some(a) => a.level >= level || !a.exact,
            None => {
                v.status == crate::finding::Status::Live && analysed.contains(f.rule_id.as_str())
            }
        }
    });
    if reaches { findings_code } else { EXIT_CLEAN }
}

/// 2 on any error (fail closed), else `findings_code` when there are findings, else 0.
pub fn exit_code(outcome: &ScanOutcome, findings_code: i32) -> i32 {
    if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if !outcome.findings.is_empty() {
        findings_code
    } else {
        EXIT_CLEAN
    }
}
