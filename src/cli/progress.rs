//! The terminal spinner: an [`Observer`] that draws the directory pipeline's running totals,
//! from the first second on (short scans draw nothing).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::scan::{Observer, Stats};

/// A spinner on stderr.
pub struct Spinner {
    bar: ProgressBar,
    started: Instant,
    shown: Mutex<bool>,
}

impl Spinner {
    /// A hidden spinner; it appears once a scan has run for a second.
    pub fn new() -> Spinner {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Spinner {
            bar,
            started: Instant::now(),
            shown: Mutex::new(false),
        }
    }
}

impl Default for Spinner {
    fn default() -> Spinner {
        Spinner::new()
    }
}

impl Observer for Spinner {
    fn progress(&self, stats: &Stats, findings: usize) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if !*shown && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
            *shown = true;
        }
        if *shown {
            self.bar.set_message(format!(
                "{} files, {:.1} MB, {findings} findings",
                stats.blobs_scanned,
                stats.bytes_scanned as f64 / 1e6,
            ));
        }
    }

    fn finished(&self) {
        self.bar.finish_and_clear();
    }
}
