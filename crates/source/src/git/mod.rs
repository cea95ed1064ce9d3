//! The git source: opens a repository with gix (never the `git` binary for reading objects),
//! lists ref tips, walks every commit, attributes each blob to the commits and paths that
//! introduced it (`history`), and reads blobs in pack order (`blobs`). It never detects.

pub mod blobs;
pub mod head;
pub mod history;
pub mod packwalk;
pub mod staged;
pub mod worktree;

use std::collections::HashSet;
use std::path::Path;

use gix::ObjectId;
use gix::prelude::*;

/// Opens the repository at `path` without reading user or system git configuration (the repo
/// may be untrusted) and without refusing one owned by another user: a scan that silently reads
/// nothing because of "dubious ownership" is the failure we exist to prevent.
pub fn open(path: &Path) -> Result<gix::ThreadSafeRepository, String> {
    let isolated = || gix::open::Options::isolated().bail_if_untrusted(false);
    let repo = gix::open_opts(path, isolated())
        .map_err(|e| format!("{}: not a git repository: {e}", path.display()))?;
    let limit = alloc_limit(&repo.common_dir().join("objects/pack"));
    let opts = isolated().config_overrides([format!("gitoxide.objects.allocLimit={limit}")]);
    gix::open_opts(path, opts)
        .map(gix::Repository::into_sync)
        .map_err(|e| format!("{}: not a git repository: {e}", path.display()))
}

/// The largest allocation one object may cause: zlib inflates at most ~1032:1, so no object
/// of a repository whose packs hold N bytes can legitimately need much more than 1032 × N;
/// at least [`MIN_OBJECT_BYTES`] (loose objects are not counted), at most [`MAX_OBJECT_BYTES`].
fn alloc_limit(pack_dir: &Path) -> u64 {
    let packed: u64 = std::fs::read_dir(pack_dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    packed
        .saturating_mul(1032)
        .clamp(MIN_OBJECT_BYTES, MAX_OBJECT_BYTES)
}

/// Largest object read from a repository. A corrupt or hostile pack can claim any size for an
/// entry and gix allocates (and zero-fills) what it claims before inflating: a fuzzed 49 KB
/// pack made a scan take 2.5 GB, a 104-byte one 1 GB. Past the limit, reading the object is an
/// error naming it. (Without
/// an explicit limit gix also applies 16 MiB to repositories owned by another user, which
/// would refuse ordinary large blobs there.)
pub const MAX_OBJECT_BYTES: u64 = 1 << 30;

/// The allocation limit of a repository with small packs (see `alloc_limit`).
pub const MIN_OBJECT_BYTES: u64 = 256 << 20;

/// True when `path` holds a repository (a work tree with `.git`, or a bare repository).
pub fn is_repository(path: &Path) -> bool {
    path.join(".git").exists() || (path.join("HEAD").is_file() && path.join("objects").is_dir())
}

/// Bytes of delta bases each worker keeps decompressed. CRATES.md measured 256 MB as the best
/// single setting on gitoxide (1.4-1.6x over the default, one worker). On the 20k-commit
/// benchmark history with 2 workers, 64 MB ran as fast as 128 MB and 256 MB and kept peak RSS
/// below Kingfisher's (545 MB against 630 MB and 865 MB; see BENCHMARKS.md).
pub const PACK_CACHE: usize = 64 << 20;

/// Gives a per-thread repository handle a pack cache big enough for delta-heavy history.
pub fn thread_local(repo: &gix::ThreadSafeRepository) -> gix::Repository {
    with_pack_cache(repo, PACK_CACHE)
}

/// A per-thread repository handle with a delta-base cache of `bytes`.
pub fn with_pack_cache(repo: &gix::ThreadSafeRepository, bytes: usize) -> gix::Repository {
    let mut r = repo.to_thread_local();
    r.objects.set_pack_cache(move || {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(bytes))
    });
    r
}

/// A ref and the commit it points to.
#[derive(Debug, Clone)]
pub struct RefTip {
    /// Full ref name (`refs/heads/main`, `HEAD`, `refs/stash`, ...).
    pub name: String,
    /// The commit it peels to.
    pub commit: ObjectId,
}

/// Every ref that peels to a commit (branches, tags, remote-tracking refs, stash) plus HEAD.
/// Refs that cannot be peeled are reported in `errors` and skipped.
pub fn ref_tips(
    repo: &gix::Repository,
    errors: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Vec<RefTip> {
    let mut tips = Vec::new();
    match repo.head() {
        // A repository without commits yet: nothing to scan, nothing lost.
        Ok(h) if h.is_unborn() => {}
        Ok(_) => match repo.head_id() {
            Ok(id) => tips.push(RefTip {
                name: "HEAD".into(),
                commit: id.detach(),
            }),
            Err(e) => errors.push(format!("HEAD cannot be resolved to a commit: {e}")),
        },
        // git itself calls such a repository broken; the history behind HEAD is not read.
        Err(e) => errors.push(format!("HEAD is unreadable: {e}")),
    }
    let platform = match repo.references() {
        Ok(p) => p,
        Err(e) => {
            errors.push(format!("cannot list refs: {e}"));
            return tips;
        }
    };
    let all = match platform.all() {
        Ok(a) => a,
        Err(e) => {
            errors.push(format!("cannot list refs: {e}"));
            return tips;
        }
    };
    for r in all {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("unreadable ref: {e}"));
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        match r.peel_to_kind(gix::object::Kind::Commit) {
            Ok(obj) => tips.push(RefTip {
                name,
                commit: obj.id,
            }),
            // A tag of a tree or blob, or a symbolic ref left dangling (a stale
            // origin/HEAD): git ignores these too; say so, the content of a tagged tree or
            // blob is still reached with --all-objects.
            // A ref to an object the repository does not hold has lost its history: an
            // error, not a note.
            Err(e) if r.target().try_id().is_some_and(|id| !repo.has_object(id)) => errors.push(
                format!("ref {name} points to a missing object, its history is not scanned: {e}"),
            ),
            Err(e) => notes.push(format!(
                "ref {name} does not point to a commit, skipped: {e}"
            )),
        }
    }
    // Older stash entries live only in the stash's reflog; git counts them as reachable.
    if let Ok(stash) = repo.find_reference("refs/stash") {
        let mut platform = stash.log_iter();
        if let Ok(Some(entries)) = platform.all() {
            let ids: Vec<ObjectId> = entries
                .filter_map(Result::ok)
                .map(|line| line.new_oid())
                .collect();
            let n = ids.len();
            for (i, id) in ids.into_iter().enumerate() {
                tips.push(RefTip {
                    name: format!("stash@{{{}}}", n - 1 - i),
                    commit: id,
                });
            }
        }
    }
    // Commits made in other worktrees (a detached HEAD there) are reachable too.
    if let Ok(worktrees) = repo.worktrees() {
        for wt in worktrees {
            let name = wt
                .id()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into());
            match wt
                .into_repo_with_possibly_inaccessible_worktree()
                .and_then(|w| Ok(w.head_id()?.detach()))
            {
                Ok(id) => tips.push(RefTip {
                    name: format!("worktree {name}: HEAD"),
                    commit: id,
                }),
                Err(e) => notes.push(format!("worktree {name}: HEAD not readable, skipped: {e}")),
            }
        }
    }
    tips
}

/// What is known about one commit.
#[derive(Debug, Clone)]
pub struct CommitMeta {
    /// Commit id.
    pub id: ObjectId,
    /// Root tree.
    pub tree: ObjectId,
    /// Parents that exist in the repository (shallow boundaries have none).
    pub parents: Vec<ObjectId>,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author time, seconds since the epoch.
    pub time: i64,
    /// First line of the message.
    pub summary: String,
    /// 1 + the largest generation of its parents (roots are 1): orders commits by ancestry,
    /// which author dates do not (rebases keep them, and many commits share a second).
    pub generation: u32,
}

/// Reads the commit `id`.
pub fn read_commit(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Result<CommitMeta, String> {
    let c = repo
        .objects
        .find_commit(id, buf)
        .map_err(|e| format!("commit {id}: {e}"))?;
    Ok(commit_meta(*id, &c))
}

/// What the scan keeps of a parsed commit.
fn commit_meta(id: ObjectId, c: &gix::objs::CommitRef<'_>) -> CommitMeta {
    // A malformed author line must not drop the commit (and with it all its ancestors).
    let (author, time) = match c.author() {
        Ok(a) => (format!("{} <{}>", a.name, a.email), a.seconds()),
        Err(_) => ("<unparseable author>".to_string(), 0),
    };
    CommitMeta {
        id,
        tree: c.tree(),
        parents: c.parents().collect(),
        author,
        time,
        summary: c.message().summary().to_string(),
        generation: 0,
    }
}

/// Every commit the repository's packs hold, parsed, decoded in parallel by walking the packs
/// (`packwalk::walk_commits`): reading them one by one is the one serial part of a history
/// scan. Commits that do not parse are left out (the walk reads them itself and reports them).
fn packed_commits(repo: &gix::Repository) -> std::collections::HashMap<ObjectId, CommitMeta> {
    let found = std::sync::Mutex::new(std::collections::HashMap::new());
    let hash = repo.object_hash();
    packwalk::walk_commits(&repo.common_dir().join("objects"), hash, |id, data| {
        if let Ok(c) = gix::objs::CommitRef::from_bytes(data, hash) {
            let meta = commit_meta(id, &c);
            found
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, meta);
        }
    });
    found.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Walks every commit reachable from `tips`, once each. Missing or corrupt commits are named in
/// `errors` and the walk continues with the rest; parents beyond a shallow boundary are not
/// followed.
pub fn walk_commits(
    repo: &gix::Repository,
    tips: &[ObjectId],
    errors: &mut Vec<String>,
) -> Vec<CommitMeta> {
    let shallow: HashSet<ObjectId> = repo
        .shallow_commits()
        .ok()
        .flatten()
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut packed = if tips.is_empty() {
        Default::default()
    } else {
        packed_commits(repo)
    };
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let read = match packed.remove(&id) {
            Some(meta) => Ok(meta),
            None => read_commit(repo, &id, &mut buf),
        };
        match read {
            Ok(mut meta) => {
                if shallow.contains(&id) {
                    meta.parents.clear();
                }
                stack.extend(meta.parents.iter().copied().filter(|p| !seen.contains(p)));
                out.push(meta);
            }
            Err(e) => errors.push(e),
        }
    }
    assign_generations(&mut out);
    out
}

/// Fills in [`CommitMeta::generation`] for a set of walked commits (parents outside the set,
/// as beyond a shallow boundary or a range, count as generation 0).
pub fn assign_generations(commits: &mut [CommitMeta]) {
    let index: std::collections::HashMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut gens = vec![0u32; commits.len()];
    // Iterative post-order: a commit is finished once all its parents are.
    for start in 0..commits.len() {
        if gens[start] != 0 {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            let mut pending = false;
            for p in &commits[i].parents {
                if let Some(&pi) = index.get(p)
                    && gens[pi] == 0
                {
                    stack.push(pi);
                    pending = true;
                }
            }
            if pending {
                continue;
            }
            stack.pop();
            if gens[i] == 0 {
                let max_parent = commits[i]
                    .parents
                    .iter()
                    .filter_map(|p| index.get(p))
                    .map(|&pi| gens[pi])
                    .max()
                    .unwrap_or(0);
                gens[i] = max_parent + 1;
            }
        }
    }
    for (c, g) in commits.iter_mut().zip(gens) {
        c.generation = g;
    }
}

/// Commits reachable from `include` but not from `exclude` (for `A..B` ranges).
pub fn walk_range(
    repo: &gix::Repository,
    exclude: &[ObjectId],
    include: &[ObjectId],
    errors: &mut Vec<String>,
) -> Vec<CommitMeta> {
    let hidden: HashSet<ObjectId> = walk_commits(repo, exclude, &mut Vec::new())
        .into_iter()
        .map(|c| c.id)
        .collect();
    walk_commits(repo, include, errors)
        .into_iter()
        .filter(|c| !hidden.contains(&c.id))
        .collect()
}

/// Resolves a revision (`main`, `v1.2`, a hex id, `HEAD~3`) to a commit.
pub fn resolve(repo: &gix::Repository, rev: &str) -> Result<ObjectId, String> {
    repo.rev_parse_single(rev)
        .map_err(|e| format!("cannot resolve revision {rev:?}: {e}"))
        .and_then(|id| {
            id.object()
                .and_then(|o| o.peel_to_kind(gix::object::Kind::Commit))
                .map(|o| o.id)
                .map_err(|e| format!("revision {rev:?} is not a commit: {e}"))
        })
}

/// One value per rayon worker thread, created on first use and kept for the whole pass.
///
/// `map_init` would be the obvious tool, but rayon calls its init closure once per split job,
/// not once per thread: each call would open a fresh repository handle with a cold 256 MB pack
/// cache, and a history scan measured 2x slower for it.
pub struct PerThread<T> {
    slots: Vec<std::sync::Mutex<Option<T>>>,
}

impl<T> PerThread<T> {
    /// Slots for the current rayon pool.
    pub fn new() -> PerThread<T> {
        let n = rayon::current_num_threads().max(1);
        PerThread {
            slots: (0..n).map(|_| std::sync::Mutex::new(None)).collect(),
        }
    }

    /// Runs `f` with this thread's value, creating it with `init` the first time.
    pub fn with<R>(&self, init: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        // Each slot is only ever used by its own thread, so the lock is never contended.
        let mut slot = self.slots[i].lock().unwrap_or_else(|p| p.into_inner());
        let value = slot.get_or_insert_with(init);
        f(value)
    }
}

impl<T> Default for PerThread<T> {
    fn default() -> Self {
        PerThread::new()
    }
}
