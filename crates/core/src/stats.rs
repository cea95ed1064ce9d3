//! The counters every scan reports.

use serde::Serialize;

/// Counters reported with every scan.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Text blobs scanned.
    pub blobs_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped for size.
    pub skipped_too_large: u64,
    /// Files scanned that .gitignore excludes (directory scans; see `--respect-gitignore`).
    #[serde(skip_serializing_if = "is_zero")]
    pub gitignored_scanned: u64,
    /// Distinct image layers read (each once per run, however many images share it).
    #[serde(skip_serializing_if = "is_zero")]
    pub layers_read: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
