//! The working tree of a repository target: which files on disk its history does not already
//! hold byte for byte (untracked, gitignored, modified). A secret in a gitignored `.env` never
//! reaches history, so a history scan alone misses exactly where local secrets live.
//!
//! A file is *held* when its git blob id (SHA-1 of `blob <len>\0` + content) is a blob of the
//! history just scanned (a blob only staged, or unreachable, is not held): its matches are
//! already reported. As `git status` does, a tracked file whose size and modification time
//! equal its index entry's (older than the index itself) is taken to hold the entry's blob
//! without being read. Anything else is
//! scanned as a file and says why it was: untracked (not in the index, not ignored),
//! gitignored, or modified (in the index, content differs).
//!
//! Dependency and build directories (`node_modules` except its `.cache`, virtualenvs with
//! `pyvenv.cfg`, directories tagged `CACHEDIR.TAG` such as Cargo's `target/`, `__pycache__`)
//! hold third-party code in the hundreds of thousands of files: they are not descended unless
//! `--no-ignore` is given, and the report counts them.

pub use crate::fs::is_dependency_dir;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::WorkTreeState;

/// Files larger than this are not hashed: they are scanned (history rarely holds them).
const MAX_HASHED: u64 = 64 << 20;

/// Size, mtime seconds and nanoseconds of an index entry, when its stat data can be trusted.
type StatKey = (u64, u32, u32);

/// What is known about one repository's working tree.
pub struct WorkTree {
    root: PathBuf,
    /// Every blob of the history scanned.
    history: HashSet<gix::ObjectId>,
    /// Paths (as the walker from the root yields them) that no ignore rule excludes.
    visible: HashSet<PathBuf>,
    /// Paths in the index (relative, `/`-separated bytes) with the entry's blob and, when the
    /// entry's stat data can be trusted, its size and modification time.
    tracked: HashMap<Vec<u8>, (gix::ObjectId, Option<StatKey>)>,
    held: AtomicU64,
    counts: [AtomicU64; 3],
}

impl WorkTree {
    /// Reads the index and the ignore rules of the work tree at `root` (a repository's top).
    pub fn open(
        root: &Path,
        repo: &gix::ThreadSafeRepository,
        history: HashSet<gix::ObjectId>,
    ) -> Result<WorkTree, String> {
        let local = repo.to_thread_local();
        let mut tracked = HashMap::new();
        // Entries written in the index's own second may be "racily clean": never trust those.
        let index_mtime = std::fs::metadata(local.index_path())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        match local.index_or_empty() {
            Ok(index) => {
                for e in index.entries() {
                    let trusted = (u64::from(e.stat.mtime.secs) < index_mtime).then_some((
                        u64::from(e.stat.size),
                        e.stat.mtime.secs,
                        e.stat.mtime.nsecs,
                    ));
                    tracked.insert(e.path(&index).to_vec(), (e.id, trusted));
                }
            }
            Err(e) => {
                return Err(format!(
                    "{}: the index cannot be read ({e}): working tree not scanned",
                    root.display()
                ));
            }
        }
        // A repository's own ignore rules only: none from directories above it.
        let visible = crate::fs::visible_files(&[root.to_path_buf()], false);
        Ok(WorkTree {
            root: root.to_path_buf(),
            history,
            visible,
            tracked,
            held: AtomicU64::new(0),
            counts: Default::default(),
        })
    }

    /// Why the file at `path` (under the root) must be scanned, or `None` when history holds
    /// these exact bytes.
    pub fn classify(&self, path: &Path) -> Option<WorkTreeState> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let entry = self.tracked.get(rel.as_os_str().as_bytes());
        let meta = std::fs::metadata(path).ok();
        // Unchanged since it was staged (git's own shortcut): the index says which blob it is.
        let unchanged = match (entry, &meta) {
            (Some((id, Some((size, secs, nsecs)))), Some(m))
                if m.len() & 0xFFFF_FFFF == *size
                    && m.mtime() == i64::from(*secs)
                    && m.mtime_nsec() == i64::from(*nsecs) =>
            {
                Some(*id)
            }
            _ => None,
        };
        let id = unchanged.or_else(|| {
            let m = meta.as_ref()?;
            if m.len() > MAX_HASHED {
                return None;
            }
            let bytes = sprawl_core::bounded::read_regular(path, MAX_HASHED).ok()?;
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes).ok()
        });
        if id.is_some_and(|id| self.history.contains(&id)) {
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let state = if entry.is_some() {
            WorkTreeState::Modified
        } else if self.visible.contains(path) {
            WorkTreeState::Untracked
        } else {
            WorkTreeState::Gitignored
        };
        self.counts[state as usize].fetch_add(1, Ordering::Relaxed);
        Some(state)
    }

    /// The note that says what the working-tree pass did; `skipped` are the dependency and
    /// build directories and nested repositories the walk did not descend.
    pub fn summary(&self, shown: &str, skipped: &[String]) -> String {
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
        if !skipped.is_empty() {
            text.push_str(&format!(
                "; {} or nested repositories not scanned ({}): --no-ignore scans dependency directories",
                count_dirs(skipped.len()),
                list_dirs(skipped)
            ));
        }
        text
    }
}

/// `1 dependency/build directory`, `3 dependency/build directories`.
pub fn count_dirs(n: usize) -> String {
    format!(
        "{n} dependency/build director{}",
        if n == 1 { "y" } else { "ies" }
    )
}

/// The first five directories, then `…`.
pub fn list_dirs(dirs: &[String]) -> String {
    let mut shown: Vec<&str> = dirs.iter().map(String::as_str).take(5).collect();
    if dirs.len() > 5 {
        shown.push("…");
    }
    shown.join(", ")
}
