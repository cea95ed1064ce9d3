//! The directory source: walks targets with the `ignore` crate (gitignore rules, excludes, no
//! symlink loops) and reads files as text windows in bounded memory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkParallel};

/// How to walk the targets.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Scan files that .gitignore / .ignore would skip.
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_symlinks: bool,
    /// Glob patterns of paths to skip (gitignore syntax).
    pub excludes: Vec<String>,
    /// Walker threads.
    pub threads: usize,
    /// Do not descend into dependency and build directories
    /// ([`is_dependency_dir`]); each one skipped is recorded here.
    pub skip_dependency_dirs: Option<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
    /// With `skip_dependency_dirs`: skip only nested repositories, not dependency directories.
    pub dependencies_too: bool,
    /// With `skip_dependency_dirs`: also skip nested repositories (a working-tree pass; in a
    /// plain directory scan their files are content like any other).
    pub skip_nested_repos: bool,
}

/// Builds the parallel walker over `targets`.
pub fn walker(targets: &[PathBuf], opts: &WalkOptions) -> Result<WalkParallel, String> {
    let (first, rest) = targets.split_first().ok_or("no targets")?;
    let mut b = WalkBuilder::new(first);
    for t in rest {
        b.add(t);
    }
    let respect = !opts.no_ignore;
    b.hidden(false)
        .parents(respect)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(false)
        .git_exclude(respect)
        .require_git(false)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads.max(1))
        // A repository's object store is the git source's business, not the directory scan's.
        .filter_entry(|e| e.file_name() != ".git");
    if let Some(skipped) = opts.skip_dependency_dirs.clone() {
        let root = first.clone();
        let dependencies_too = opts.dependencies_too;
        let skip_nested_repos = opts.skip_nested_repos;
        b.filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            if e.depth() == 0 {
                return true;
            }
            // A submodule or nested repository is its own target (--recurse-submodules).
            if skip_nested_repos
                && e.file_type().is_some_and(|t| t.is_dir())
                && e.path().join(".git").exists()
            {
                let rel = e.path().strip_prefix(&root).unwrap_or(e.path());
                if let Ok(mut v) = skipped.lock() {
                    v.push(format!("{} (a repository of its own)", rel.display()));
                }
                return false;
            }
            if dependencies_too || !is_dependency_dir(e.path()) {
                return true;
            }
            // `node_modules/*` is one skipped directory, not one per package.
            let dir = match e.path().parent() {
                Some(p) if p.file_name().is_some_and(|n| n == "node_modules") => p,
                _ => e.path(),
            };
            let rel = dir.strip_prefix(&root).unwrap_or(dir).display().to_string();
            if let Ok(mut v) = skipped.lock()
                && !v.contains(&rel)
            {
                v.push(rel);
            }
            false
        });
    }
    if !opts.excludes.is_empty() {
        let mut ob = OverrideBuilder::new(first);
        for g in &opts.excludes {
            ob.add(&format!("!{g}"))
                .map_err(|e| format!("invalid --exclude glob {g:?}: {e}"))?;
        }
        b.overrides(
            ob.build()
                .map_err(|e| format!("invalid exclude globs: {e}"))?,
        );
    }
    Ok(b.build_parallel())
}

/// Every regular file under `targets` that a gitignore-respecting walk visits (paths as the
/// walker yields them): the files a default scan reads beyond these are gitignored. `parents`
/// also applies ignore files of the directories above the targets.
pub fn visible_files(targets: &[PathBuf], parents: bool) -> std::collections::HashSet<PathBuf> {
    let mut out = std::collections::HashSet::new();
    let Some((first, rest)) = targets.split_first() else {
        return out;
    };
    let mut b = WalkBuilder::new(first);
    for t in rest {
        b.add(t);
    }
    b.hidden(false)
        .parents(parents)
        .git_global(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git");
    for entry in b.build().flatten() {
        if entry.file_type().is_some_and(|t| t.is_file()) {
            out.insert(entry.into_path());
        }
    }
    out
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

pub use sprawl_core::read::{
    ReadOutcome, SNIFF, Window, Windowing, looks_binary, read_file, read_stream,
};
