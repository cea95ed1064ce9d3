//! `sprawl audit`: scan a list of targets into one inventory, one target at a time, each
//! recorded as its own scan. `--shard I/N` keeps the targets whose stable hash falls in shard I,
//! so a Kubernetes Indexed Job or a CI matrix runs N workers with no coordination; re-running a
//! shard only refreshes `last_seen`. A target that fails is recorded with its error and the
//! others go on.

use super::{AuditArgs, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use std::path::PathBuf;

use super::record::InventoryRecall;
use super::scan::Scanned;
use crate::scan::Scanner;

/// Parses `I/N` (0 ≤ I < N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s:?}: expected I/N"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: bad I"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: bad N"))?;
    if n == 0 || i >= n {
        return Err(format!("--shard {s:?}: need 0 <= I < N"));
    }
    Ok((i, n))
}

/// The shard of a target: BLAKE3 of its text, first 8 bytes, modulo N (stable across runs,
/// machines and versions).
pub fn shard_of(target: &str, n: u64) -> u64 {
    let h = blake3::hash(target.trim().as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b) % n
}

/// The targets of an audit: `--targets FILE` lines and enumerated organisations, sorted and
/// deduplicated, with the enumeration errors (the audit goes on with the rest). `Err` is a
/// problem that stops the audit before it starts, already printed.
fn collect_targets(args: &AuditArgs) -> Result<(Vec<String>, Vec<String>), ()> {
    let mut all: Vec<String> = Vec::new();
    if let Some(file) = &args.targets_file {
        match crate::bounded::read_regular_text(file, crate::bounded::MAX_CONFIG_BYTES) {
            Ok(t) => all.extend(
                t.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            ),
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return Err(());
            }
        }
    }
    let mut enum_errors = Vec::new();
    if let Some(org) = &args.github_org {
        match crate::source::forge::github_org(&args.github_api, org) {
            Ok(urls) => all.extend(urls),
            Err(e) => enum_errors.push(e),
        }
    }
    if let Some(group) = &args.gitlab_group {
        match crate::source::forge::gitlab_group(&args.gitlab_url, group) {
            Ok(urls) => all.extend(urls),
            Err(e) => enum_errors.push(e),
        }
    }
    for e in &enum_errors {
        eprintln!("error: {e}");
    }
    if all.is_empty() && enum_errors.is_empty() {
        eprintln!("error: nothing to audit: give --targets FILE, --github-org or --gitlab-group");
        return Err(());
    }
    all.sort();
    all.dedup();
    Ok((all, enum_errors))
}

/// What one audit worker holds for the whole run: the scanner (rules compiled once), the
/// inventory connection and its key, verification settings.
struct Auditor<'a> {
    args: &'a AuditArgs,
    store: &'a str,
    scanner: Scanner,
    inventory: Box<dyn crate::inventory::Store>,
    /// Set when the inventory's fingerprint key could not be read: targets are then scanned
    /// (and the error reported) but never recorded.
    key_error: Option<String>,
    verify: Option<crate::verify::VerifyOptions>,
}

impl Auditor<'_> {
    /// Scans, verifies and records one target; returns the copies it holds and whether it
    /// had errors. Every line printed names the target with its URL credentials masked.
    fn audit(&mut self, target: &str, position: usize, total: usize) -> (usize, bool) {
        let started = crate::time::now_iso();
        let mut common = self.args.common.clone();
        common.targets = vec![PathBuf::from(target)];
        let shown = crate::redact::url(target);
        let t = &shown;
        // Before the scan, unbuffered: a killed audit shows the target it was on.
        eprintln!("[{position}/{total}] {t}: scanning");
        let observer = super::lower::observer(&common);
        let mut scanned = match &self.key_error {
            Some(e) => {
                let mut report = self.scanner.scan_targets_of(&common.targets, observer);
                report.outcome.errors.insert(0, e.clone());
                Scanned {
                    report,
                    recordable: false,
                }
            }
            None => Scanned {
                report: self.scanner.scan_remembering(
                    &common.targets[0],
                    t,
                    &mut InventoryRecall(self.inventory.as_mut()),
                    observer,
                ),
                recordable: true,
            },
        };
        let report = &mut scanned.report;
        if let Some(opts) = &self.verify {
            crate::verify::verify_findings(&mut report.outcome.findings, &report.rules, opts);
        }
        report.policy.drop_companions(&mut report.outcome.findings);
        let held = super::record::record_in(
            self.inventory.as_mut(),
            self.store,
            &common,
            &mut scanned,
            started,
        );
        let o = &scanned.report.outcome;
        if o.errors.is_empty() && !o.unchanged.is_empty() {
            eprintln!("{t}: unchanged since the last audit");
        } else if o.errors.is_empty() {
            eprintln!(
                "{t}: {} finding(s); {} blob(s) read",
                o.findings.len(),
                o.stats.blobs_scanned + o.stats.skipped_binary
            );
        } else {
            for e in &o.errors {
                eprintln!("error: {t}: {e}");
            }
        }
        ((held as usize).max(o.findings.len()), !o.errors.is_empty())
    }
}

/// Runs `sprawl audit`.
pub fn run(args: AuditArgs) -> i32 {
    if !args.common.targets.is_empty() {
        eprintln!(
            "error: sprawl audit reads its targets from --targets FILE, not the command line"
        );
        return EXIT_ERROR;
    }
    let Some(store) = args.common.store.clone() else {
        eprintln!("error: sprawl audit needs --store FILE");
        return EXIT_ERROR;
    };
    let Ok((all, enum_errors)) = collect_targets(&args) else {
        return EXIT_ERROR;
    };
    let shard = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let targets: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|t| shard.is_none_or(|(i, n)| shard_of(t, n) == i))
        .collect();
    let verify = if args.verify {
        match super::lower::verify_options(&args.verify_flags) {
            Ok(o) => Some(o),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    } else {
        None
    };
    // One connection for the whole audit (a PostgreSQL session, or the SQLite file).
    let mut inventory = match crate::inventory::open(&store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    // One key and one scanner for the whole audit: rules are compiled once.
    let (key, key_error) =
        match super::lower::fingerprint_key(&args.common, Some(inventory.as_mut())) {
            Ok(k) => (k, None),
            Err(e) => (None, Some(e)),
        };
    let mut auditor = Auditor {
        args: &args,
        store: &store,
        scanner: Scanner::new(super::lower::plan(&args.common, key)),
        inventory,
        key_error,
        verify,
    };
    let (mut failed, mut findings) = (0usize, 0usize);
    for (i, t) in targets.iter().enumerate() {
        let (held, had_errors) = auditor.audit(t, i + 1, targets.len());
        findings += held;
        failed += usize::from(had_errors);
    }
    eprintln!(
        "audit: {} target(s){}, {findings} finding(s), {failed} target(s) with errors; inventory {}",
        targets.len(),
        shard
            .map(|(i, n)| format!(" in shard {i}/{n}"))
            .unwrap_or_default(),
        crate::inventory::display_location(&store)
    );
    if failed > 0 || !enum_errors.is_empty() {
        EXIT_ERROR
    } else if findings > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_cover_everything() {
        assert_eq!(parse_shard("1/4").unwrap(), (1, 4));
        assert!(parse_shard("4/4").is_err() && parse_shard("x").is_err());
        let targets: Vec<String> = (0..200)
            .map(|i| format!("https://git.example/r{i}.git"))
            .collect();
        let mut counts = [0; 4];
        for t in &targets {
            counts[shard_of(t, 4) as usize] += 1;
            assert_eq!(shard_of(t, 4), shard_of(&format!("  {t}  "), 4));
        }
        assert_eq!(counts.iter().sum::<i32>(), 200);
        assert!(counts.iter().all(|&c| c > 25), "{counts:?}");
    }
}
