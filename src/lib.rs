//! sprawl: a parallel scanner that finds leaked credentials wherever they have sprawled and
//! reports every place each secret lives. This crate is the command line; the work is done by
//! the workspace's crates, re-exported here under their module names so one path reaches
//! everything (`sprawl::scan::Scanner`, `sprawl::rules::load`). See ARCHITECTURE.md.

pub mod cli;

pub use sprawl_ci as ci;
pub use sprawl_core::{
    baseline, bounded, config, entropy, environment, finding, fingerprint, origin, read, redact,
    remembered, rules, stats, time,
};
pub use sprawl_detect as detect;
pub use sprawl_inventory as inventory;
pub use sprawl_report as report;
pub use sprawl_scan as scan;
pub use sprawl_source as source;
pub use sprawl_verify as verify;
