//! Temporary data on disk. Spills of decompressed archives hold plaintext file contents and a
//! clone holds a whole repository, so neither may outlive the scan: spills are unnamed files
//! (gone with the process, however it ends) and clone directories are registered here and
//! removed when SIGINT, SIGTERM or SIGHUP ends the process.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Directories to remove if a signal ends the process.
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file with no name in the file system (`O_TMPFILE` on Linux), in `TMPDIR`.
pub fn anonymous_file() -> io::Result<File> {
    tempfile::tempfile()
}

/// A temporary directory that is removed when dropped and also when a signal ends the process
/// (after [`install_signal_cleanup`]).
pub struct TempDir {
    inner: Option<tempfile::TempDir>,
}

impl TempDir {
    /// Creates a directory in `TMPDIR` named `prefix` + random characters.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        let inner = tempfile::Builder::new().prefix(prefix).tempdir()?;
        lock().push(inner.path().to_path_buf());
        Ok(TempDir { inner: Some(inner) })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.inner.as_ref().map_or(Path::new(""), |t| t.path())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(t) = self.inner.take() {
            let p = t.path().to_path_buf();
            let _ = t.close();
            lock().retain(|r| *r != p);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    REGISTERED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts a thread that, on SIGINT, SIGTERM or SIGHUP, removes every registered temporary
/// directory and exits with 128 + the signal number, as a shell reports it. Call once, early.
pub fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            for dir in lock().drain(..) {
                let _ = std::fs::remove_dir_all(&dir);
            }
            std::process::exit(128 + sig);
        }
    });
}
