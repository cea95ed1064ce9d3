//! The working tree of a repository target: which files on disk its history does not already
//! hold byte for byte (untracked, gitignored, modified). A secret in a gitignored `.env` never
//! reaches history, so a history scan alone misses exactly where local secrets live.
//!
//! A file is *held* when its git blob id (SHA-1 of `blob <len>\0` + content) is an object of
//! the repository: history was scanned, so its matches are already reported. Anything else is
//! scanned as a file and says why it was: untracked (not in the index, not ignored),
//! gitignored, or modified (in the index, content differs).
//!
//! Dependency and build directories (`node_modules` except its `.cache`, virtualenvs with
//! `pyvenv.cfg`, directories tagged `CACHEDIR.TAG` such as Cargo's `target/`, `__pycache__`)
//! hold third-party code in the hundreds of thousands of files: they are not descended unless
//! `--no-ignore` is given, and the report counts them.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::source::WorkTreeState;

/// Files larger than this are not hashed: they are scanned (history rarely holds them).
const MAX_HASHED: u64 = 64 << 20;

/// What is known about one repository's working tree.
pub struct WorkTree {
    root: PathBuf,
    repo: gix::ThreadSafeRepository,
    /// Paths (relative to the root) that no ignore rule excludes.
    visible: HashSet<PathBuf>,
    /// Paths in the index (relative, `/`-separated bytes).
    tracked: HashSet<Vec<u8>>,
    held: AtomicU64,
    counts: [AtomicU64; 3],
    /// Dependency and build directories not descended (relative paths).
    pub skipped_dirs: Mutex<Vec<String>>,
}

impl WorkTree {
    /// Reads the index and the ignore rules of the work tree at `root` (a repository's top).
    pub fn open(root: &Path, repo: gix::ThreadSafeRepository) -> Result<WorkTree, String> {
        let local = repo.to_thread_local();
        let mut tracked = HashSet::new();
        match local.index_or_empty() {
            Ok(index) => {
                for e in index.entries() {
                    tracked.insert(e.path(&index).to_vec());
                }
            }
            Err(e) => {
                return Err(format!(
                    "{}: the index cannot be read ({e}): working tree not scanned",
                    root.display()
                ));
            }
        }
        let mut visible = HashSet::new();
        let walk = ignore::WalkBuilder::new(root)
            .hidden(false)
            .parents(false)
            .git_global(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walk.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file())
                && let Ok(rel) = entry.path().strip_prefix(root)
            {
                visible.insert(rel.to_path_buf());
            }
        }
        Ok(WorkTree {
            root: root.to_path_buf(),
            repo,
            visible,
            tracked,
            held: AtomicU64::new(0),
            counts: Default::default(),
            skipped_dirs: Mutex::new(Vec::new()),
        })
    }

    /// Why the file at `path` (under the root) must be scanned, or `None` when history holds
    /// these exact bytes.
    pub fn classify(&self, path: &Path) -> Option<WorkTreeState> {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        if let Ok(meta) = std::fs::metadata(path)
            && meta.len() <= MAX_HASHED
            && let Ok(bytes) = crate::bounded::read_regular(path, MAX_HASHED)
            && let Ok(id) =
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes)
            && self.repo.to_thread_local().has_object(id)
        {
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        use std::os::unix::ffi::OsStrExt;
        let state = if self.tracked.contains(rel.as_os_str().as_bytes()) {
            WorkTreeState::Modified
        } else if self.visible.contains(rel) {
            WorkTreeState::Untracked
        } else {
            WorkTreeState::Gitignored
        };
        self.counts[state as usize].fetch_add(1, Ordering::Relaxed);
        Some(state)
    }

    /// The note that says what the working-tree pass did.
    pub fn summary(&self, shown: &str) -> String {
        let n = |s: WorkTreeState| self.counts[s as usize].load(Ordering::Relaxed);
        let (u, g, m) = (
            n(WorkTreeState::Untracked),
            n(WorkTreeState::Gitignored),
            n(WorkTreeState::Modified),
        );
        let mut text = format!(
            "{shown}: working tree: {} file(s) not in history scanned ({u} untracked, {g} gitignored, {m} modified); {} already in history",
            u + g + m,
            self.held.load(Ordering::Relaxed)
        );
        let skipped = self
            .skipped_dirs
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        if !skipped.is_empty() {
            let mut shown_dirs: Vec<&str> = skipped.iter().map(String::as_str).take(5).collect();
            if skipped.len() > 5 {
                shown_dirs.push("…");
            }
            text.push_str(&format!(
                "; {} dependency/build director{} or nested repositories not scanned ({}): --no-ignore scans dependency directories",
                skipped.len(),
                if skipped.len() == 1 { "y" } else { "ies" },
                shown_dirs.join(", ")
            ));
        }
        text
    }
}

/// True for a directory of third-party or generated files: `node_modules` contents other
/// than its `.cache`, a virtualenv (`pyvenv.cfg`), a directory tagged `CACHEDIR.TAG` (the
/// cache-directory convention Cargo's `target/` and many tools follow), `__pycache__`.
pub fn is_dependency_dir(path: &Path) -> bool {
    let name = path.file_name().unwrap_or(OsStr::new(""));
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .unwrap_or(OsStr::new(""));
    (parent == "node_modules" && name != ".cache")
        || name == "__pycache__"
        || path.join("pyvenv.cfg").is_file()
        || path.join("CACHEDIR.TAG").is_file()
}
