//! Recording a scan into an inventory: the one place that knows both the scanner's report and
//! the store, and the adapter that lets the scanner recall what a store remembers.

use super::CommonScanArgs;
use super::scan::Scanned;
use crate::inventory::Store;
use crate::scan::memory::{Recall, Remembered};

/// An inventory as the scanner's memory of audit targets.
pub struct InventoryRecall<'a>(pub &'a mut dyn Store);

impl Recall for InventoryRecall<'_> {
    fn recall(&mut self, target: &str, digest: &str) -> Result<Remembered, String> {
        self.0.memory(target, digest).map_err(String::from)
    }
}

/// Writes the scan's findings to the inventory in one transaction; a store that cannot be
/// written is an error (exit 2), the report is still printed.
pub fn record(
    location: &str,
    common: &CommonScanArgs,
    scanned: &mut Scanned,
    started: String,
) -> u64 {
    if !scanned.recordable {
        // Opening the store already failed and was reported: say once that nothing was
        // recorded instead of repeating the same error.
        scanned.report.outcome.errors.push(format!(
            "inventory {}: nothing recorded",
            crate::inventory::display_location(location)
        ));
        return 0;
    }
    match crate::inventory::open(location) {
        Ok(mut store) => record_in(store.as_mut(), location, common, scanned, started),
        Err(e) => {
            scanned.report.outcome.errors.push(e.into());
            0
        }
    }
}

/// [`record`] into an open store; returns the copies the scan holds.
pub fn record_in(
    store: &mut dyn Store,
    location: &str,
    common: &CommonScanArgs,
    scanned: &mut Scanned,
    started: String,
) -> u64 {
    if !scanned.recordable {
        scanned.report.outcome.errors.push(format!(
            "inventory {}: not recorded: its fingerprint key could not be read",
            crate::inventory::display_location(location)
        ));
        return 0;
    }
    let report = &mut scanned.report;
    let outcome = &mut report.outcome;
    let targets: Vec<String> = if common.targets.is_empty() {
        vec![".".to_string()]
    } else {
        common
            .targets
            .iter()
            .map(|t| crate::redact::url(&t.display().to_string()))
            .collect()
    };
    let mut scan = crate::inventory::ScanRecord {
        targets,
        started,
        finished: crate::time::now_iso(),
        findings: outcome.findings.len() as u64,
        errors: outcome.errors.clone(),
        ..Default::default()
    };
    if common.store.is_some() {
        // The directory targets' consumers belong to the target the inventory names them by.
        let files_target = scan.targets.join(", ");
        let name = |t: Option<String>| t.unwrap_or_else(|| files_target.clone());
        scan.consumers = std::mem::take(&mut outcome.consumers)
            .into_iter()
            .map(|(target, c)| crate::inventory::ConsumerRow {
                target: name(target),
                name: c.secret,
                file: c.file,
                line: c.line as u64,
                kind: c.kind.name().to_string(),
                job: c.job.unwrap_or_default(),
                step: c.step.unwrap_or_default(),
                leaks_to_logs: c.leaks_to_logs,
            })
            .collect();
        scan.consumers_read = std::mem::take(&mut outcome.consumers_read)
            .into_iter()
            .map(name)
            .collect();
    }
    if let Some(inc) = &report.incremental {
        scan.target_key = Some(inc.target.clone());
        scan.rules_digest = Some(inc.rules_digest.clone());
        if outcome.unchanged.is_empty() {
            scan.tips = outcome.tips.first().map(|(_, t)| t.clone());
        } else {
            scan.tips = inc.tips.clone();
            scan.unchanged_since = inc.last_scan;
        }
        scan.objects = std::mem::take(&mut outcome.objects)
            .into_iter()
            .map(|(id, ms)| {
                let text = crate::scan::memory::encode(&report.rules, &ms, common.store_secrets);
                (id, text)
            })
            .collect();
    }
    match store.record_scan(&scan, &outcome.findings, common.store_secrets) {
        Ok(n) => {
            outcome.notes.push(format!(
                "inventory {}: {n} finding(s) recorded",
                crate::inventory::display_location(location)
            ));
            n
        }
        Err(e) => {
            outcome.errors.push(e.into());
            0
        }
    }
}
