//! The git pipeline: enumerate commits and blobs (source::git), scan each distinct blob once in
//! parallel (rayon), then fan findings out to every (secret, path) with all the commits that
//! introduced it, and say whether a ref tip still holds it or it is history-only.

use sprawl_core::time::iso8601;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::*;
use rayon::prelude::*;

use super::{BlobMatch, ScanOutcome, detect_stream, to_finding};
use crate::seen::SeenFile;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_detect::stream::detect_window_with_hits;
use sprawl_detect::{Engine, KeywordHit, Scratch, incremental};
use sprawl_source::fs::{self, ReadOutcome, Windowing};
use sprawl_source::git::history::{Provenance, order_key};
use sprawl_source::git::{self, CommitMeta};
use sprawl_source::{GitCommit, GitOrigin, Origin};

/// What part of a repository to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GitMode {
    /// Every blob reachable from every ref.
    #[default]
    Full,
    /// Only blobs introduced by commits reachable from `include` and not from `exclude`.
    Range {
        /// Revisions whose history is excluded (`A` in `A..B`).
        exclude: Vec<String>,
        /// Revisions whose history is included (`B` in `A..B`).
        include: Vec<String>,
    },
    /// Only what the index adds relative to HEAD (pre-commit hook).
    Staged,
}

/// Options of a repository scan.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// Which part to scan.
    pub mode: GitMode,
    /// Also scan blobs no ref reaches (dangling objects, dropped stashes).
    pub all_objects: bool,
    /// Blob ids scanned in earlier runs: skipped, and new ids appended.
    pub seen_file: Option<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// Window sizes for gigantic blobs.
    pub windowing: Windowing,
    /// Also scan the history of submodules that are checked out or cloned under `.git/modules`.
    pub recurse_submodules: bool,
    /// Only paths under this prefix (`src/app/`): a directory inside a work tree was given.
    pub path_prefix: Option<String>,
    /// Skip blobs larger than this many bytes (`--max-file-size`).
    pub max_blob_size: Option<u64>,
    /// What an inventory already knows of this repository (incremental re-audits): set, the
    /// scan also returns the blobs it read in [`ScanOutcome::objects`].
    pub known: Option<std::sync::Arc<Known>>,
    /// Keep the ids of every blob in history ([`crate::ScanOutcome::history_blobs`]) for
    /// a working-tree pass.
    pub collect_blobs: bool,
    /// How blobs are read (the result is the same either way).
    pub read: GitRead,
}

/// How a history scan reads its blobs. Both give the same findings; the second exists to
/// check the first against and to measure it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GitRead {
    /// Each pack's delta forest walked once (`git::packwalk`): every object inflated once, and
    /// a delta's keyword search limited to what it changed; what the packs do not hold is
    /// read one by one.
    #[default]
    Packs,
    /// Every blob read on its own and searched whole.
    OneByOne,
}

/// An inventory's memory of one repository, from its earlier scans with the same rules.
#[derive(Debug, Default)]
pub struct Known {
    /// Signature of the ref tips at the last complete scan ([`tips_signature`]).
    pub tips: Option<String>,
    /// Blobs already read, with the matches they gave (empty for most).
    pub blobs: HashMap<ObjectId, Vec<BlobMatch>>,
    /// Other things already read, by key (CI job logs and artifacts: `gha-job 3001 1 …`).
    pub others: HashMap<String, Vec<BlobMatch>>,
}

/// A digest of every ref name and the commit it points to: equal signatures, same history.
pub fn tips_signature(tips: &[git::RefTip]) -> String {
    let mut lines: Vec<String> = tips
        .iter()
        .map(|t| format!("{} {}", t.name, t.commit))
        .collect();
    lines.sort();
    blake3::hash(lines.join("\n").as_bytes())
        .to_hex()
        .to_string()
}

impl GitOptions {
    /// True when `path` is inside the scanned part of the repository.
    fn wants_path(&self, path: &[u8]) -> bool {
        self.path_prefix
            .as_ref()
            .is_none_or(|p| path.starts_with(p.as_bytes()))
    }
}

/// How deep `--recurse-submodules` follows submodules of submodules.
const MAX_SUBMODULE_DEPTH: usize = 4;

/// Scans the repository at `path` (shown as `display`) and adds to `out`.
pub fn scan_repo(
    engine: &Engine,
    fp: &Fingerprinter,
    path: &Path,
    display: &str,
    opts: &GitOptions,
    out: &mut ScanOutcome,
) {
    let repo = match git::open(path) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(e);
            return;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            out.errors.push(format!("cannot start worker threads: {e}"));
            return;
        }
    };
    pool.install(|| match &opts.mode {
        GitMode::Staged => scan_staged(engine, fp, &repo, display, opts, out),
        mode => scan_history(Detector { engine, fp }, &repo, display, mode, opts, out, 0),
    });
}

fn prefixed(display: &str, errors: Vec<String>) -> impl Iterator<Item = String> + '_ {
    errors.into_iter().map(move |e| format!("{display}: {e}"))
}

/// Scans one blob's bytes; `None` when it was binary.
fn scan_blob(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    data: &[u8],
    w: Windowing,
) -> Result<Option<Vec<BlobMatch>>, String> {
    // Reading from memory fails only for content sprawl refuses (oversized UTF-16).
    let (outcome, matches) = detect_stream(engine, fp, scratch, |f| fs::read_stream(data, w, f))
        .map_err(|e| e.to_string())?;
    Ok(match outcome {
        ReadOutcome::Text(_) => Some(matches),
        _ => None,
    })
}

fn scan_staged(
    engine: &Engine,
    fp: &Fingerprinter,
    repo: &gix::ThreadSafeRepository,
    display: &str,
    opts: &GitOptions,
    out: &mut ScanOutcome,
) {
    let r = git::thread_local(repo);
    if r.is_bare() {
        out.errors.push(format!(
            "{display}: a bare repository has no index: --staged needs a work tree"
        ));
        return;
    }
    let staged = match git::staged::staged_blobs(&r) {
        Ok(s) => s,
        Err(e) => {
            out.errors.push(format!("{display}: {e}"));
            return;
        }
    };
    let staged: Vec<_> = staged
        .into_iter()
        .filter(|(p, _)| opts.wants_path(p))
        .collect();
    if staged.is_empty() {
        out.notes.push(format!("{display}: nothing staged"));
        out.empty_ok = true;
    }
    let mut scratch = Scratch::default();
    let mut buf = Vec::new();
    for (path, id) in staged {
        let blob = match r.objects.find_blob(&id, &mut buf) {
            Ok(b) => b,
            Err(e) => {
                out.errors
                    .push(format!("{display}: staged {path} (blob {id}): {e}"));
                continue;
            }
        };
        out.stats.bytes_scanned += blob.data.len() as u64;
        let matches = match scan_blob(engine, fp, &mut scratch, blob.data, opts.windowing) {
            Ok(Some(m)) => m,
            Ok(None) => {
                out.stats.skipped_binary += 1;
                continue;
            }
            Err(e) => {
                out.errors
                    .push(format!("{display}: staged {path} (blob {id}): {e}"));
                continue;
            }
        };
        out.stats.blobs_scanned += 1;
        for m in matches {
            let origin = GitOrigin {
                repo: display.to_string(),
                path: path.to_string(),
                commits: Vec::new(),
                present_in: Vec::new(),
                history_only: false,
                removed_in: None,
                staged: true,
                blob: id.to_string(),
            };
            out.findings
                .push(to_finding(engine, m, Origin::Git(Box::new(origin))));
        }
    }
}

fn resolve_all(r: &gix::Repository, revs: &[String], errors: &mut Vec<String>) -> Vec<ObjectId> {
    revs.iter()
        .filter_map(|rev| git::resolve(r, rev).map_err(|e| errors.push(e)).ok())
        .collect()
}

/// The rules and the fingerprinter: what turns bytes into matches.
#[derive(Clone, Copy)]
struct Detector<'a> {
    engine: &'a Engine,
    fp: &'a Fingerprinter,
}

/// One repository's history scan, in named phases: [`Self::shortcut`] (unchanged tips),
/// [`Self::select_commits`], attribution (`git::history::attribute`),
/// [`Self::follow_submodules`], [`Self::blobs_to_read`], [`Self::read_blobs`] (parallel),
/// [`Self::account`], [`Self::remember`], then fan-out.
struct HistoryScan<'a> {
    detector: Detector<'a>,
    repo: &'a gix::ThreadSafeRepository,
    /// Metadata work (refs, commits, tip trees); with a pack cache, as tip trees are deltas of
    /// each other and fan-out reads hundreds of them.
    r: gix::Repository,
    display: &'a str,
    opts: &'a GitOptions,
    /// 0 for the target, 1+ for submodules.
    depth: usize,
    /// Problems of this repository (prefixed with its name at the end).
    errors: Vec<String>,
    started: std::time::Instant,
}

/// What reading the planned blobs produced.
struct BlobsRead {
    results: Vec<(ObjectId, BlobResult)>,
    too_large: Vec<ObjectId>,
    bytes: u64,
    binary: u64,
    ci_messages: Vec<sprawl_ci::Message>,
}

/// One blob's outcome: its matches (`None`: binary) or why it could not be read.
type BlobResult = Result<Option<Vec<BlobMatch>>, String>;

/// CPU time (user and system) of this process so far, from `/proc/self/stat` (Linux), for
/// `SPRAWL_TIMINGS`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, so split after its `)`).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    // Clock ticks: 100 per second on every Linux configuration in use.
    Some((user + system) / 100.0)
}

/// Resident memory now and at its peak (`VmRSS`, `VmHWM` of `/proc/self/status`), for
/// `SPRAWL_TIMINGS`.
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some(format!(
        "RSS {} (anonymous {}, file {}), peak {}",
        field("VmRSS:")?,
        field("RssAnon:")?,
        field("RssFile:")?,
        field("VmHWM:")?
    ))
}

/// Counters the blob readers share.
#[derive(Default)]
struct Tally {
    too_large: std::sync::Mutex<Vec<ObjectId>>,
    bytes: AtomicU64,
    binary: AtomicU64,
    ci_messages: std::sync::Mutex<Vec<sprawl_ci::Message>>,
}

/// Largest object the pack walk inflates; larger ones are read one by one.
const WALK_MAX_OBJECT: u64 = 1 << 30;

/// What workers shared (a poisoned lock still holds good data).
fn unlock<T>(shared: std::sync::Mutex<Vec<T>>) -> Vec<T> {
    shared.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Appends to a vector shared by workers (a poisoned lock still holds good data).
fn push<T>(shared: &std::sync::Mutex<Vec<T>>, item: impl IntoIterator<Item = T>) {
    shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(item);
}

/// Counts a blob that was read and gives its matches the shared detection stage: the first
/// CI/GitOps path the blob was introduced at gives it that file's structure; a blob held only
/// by documentation gets the documentation filter.
fn refined(
    detector: Detector<'_>,
    prov: &Provenance,
    scratch: &mut Scratch,
    id: &ObjectId,
    data: &[u8],
    found: Result<Option<Vec<BlobMatch>>, String>,
    tally: &Tally,
) -> BlobResult {
    let Detector { engine, fp } = detector;
    tally.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
    let mut found = found.map_err(|e| format!("blob {id}: {e}"))?;
    match found.as_mut() {
        None => {
            tally.binary.fetch_add(1, Ordering::Relaxed);
        }
        Some(m) => {
            let n = super::refine_found(
                engine,
                fp,
                scratch,
                ci_path(prov, id).as_deref(),
                only_doc_path(prov, id).as_deref(),
                data,
                m,
            );
            if !n.is_empty() {
                push(&tally.ci_messages, n);
            }
        }
    }
    Ok(found.filter(|m| !m.is_empty()))
}

fn scan_history(
    detector: Detector<'_>,
    repo: &gix::ThreadSafeRepository,
    display: &str,
    mode: &GitMode,
    opts: &GitOptions,
    out: &mut ScanOutcome,
    depth: usize,
) {
    let scan = HistoryScan {
        detector,
        repo,
        r: git::thread_local(repo),
        display,
        opts,
        depth,
        errors: Vec::new(),
        started: std::time::Instant::now(),
    };
    scan.run(mode, out);
}

impl HistoryScan<'_> {
    /// `SPRAWL_TIMINGS=1` prints how long each phase took (for benchmarking by hand).
    fn phase(&self, name: &str) {
        if std::env::var_os("SPRAWL_TIMINGS").is_some() {
            eprintln!(
                "timing: {name}: {:.2?} (CPU {}, {})",
                self.started.elapsed(),
                cpu_seconds().map_or("?".into(), |s| format!("{s:.2}s")),
                memory().unwrap_or_default()
            )
        }
    }

    fn run(mut self, mode: &GitMode, out: &mut ScanOutcome) {
        let display = self.display;
        if self.r.is_shallow().unwrap_or(false) {
            out.notes.push(format!("{display}: shallow clone: history before the shallow boundary is not available and was not scanned"));
        }
        let mut ref_notes = Vec::new();
        let all_tips = git::ref_tips(&self.r, &mut self.errors, &mut ref_notes);
        out.notes.extend(prefixed(display, ref_notes));
        let known = self.opts.known.as_deref().filter(|_| self.depth == 0);
        if self.shortcut(mode, &all_tips, known, out) {
            return;
        }
        let (commits, tips) = self.select_commits(mode, all_tips, out);
        self.phase("walk");
        let commits_empty = commits.is_empty();
        let in_range = matches!(mode, GitMode::Range { .. });
        let prov = git::history::attribute(self.repo, commits, in_range, &mut self.errors);
        self.phase("attribute");
        if self.opts.collect_blobs && self.depth == 0 {
            out.history_blobs.push((
                display.to_string(),
                prov.introduced.keys().copied().collect(),
            ));
        }
        self.follow_submodules(&prov, out);
        let (in_scope, plan) = self.blobs_to_read(&prov, known, mode, out);
        self.phase("plan");
        let read = self.read_blobs(&prov, &plan.ids);
        self.phase("scan blobs");
        let (mut matches, read_ok) = self.account(read, out);
        if !commits_empty && plan.ids.is_empty() {
            // Commits that bring no new blob (deletions only, empty commits, all seen before).
            out.notes.push(format!("{display}: no new blobs to scan"));
            out.empty_ok = true;
        }
        SeenFile(self.opts.seen_file.as_deref()).append(&read_ok, &mut self.errors);
        if let Some(k) = known {
            remember(k, &in_scope, &read_ok, &mut matches, out);
        }
        fan_out(
            self.detector.engine,
            &self.r,
            display,
            (&prov, &tips),
            &matches,
            self.opts,
            out,
        );
        self.phase("fan out");
        out.errors.extend(prefixed(display, self.errors));
    }

    /// An incremental audit whose repository's tips have not moved has nothing new to read:
    /// true when the scan can stop here. Otherwise records the tips' signature.
    fn shortcut(
        &self,
        mode: &GitMode,
        all_tips: &[git::RefTip],
        known: Option<&Known>,
        out: &mut ScanOutcome,
    ) -> bool {
        if self.depth != 0 || !matches!(mode, GitMode::Full) {
            return false;
        }
        let sig = tips_signature(all_tips);
        // Same tips, same history: unless unreachable objects or submodules (which move
        // without the tips) are in scope, there is nothing new to read.
        if known.is_some_and(|k| k.tips.as_deref() == Some(sig.as_str()))
            && self.errors.is_empty()
            && !self.opts.all_objects
            && !self.opts.recurse_submodules
        {
            out.unchanged.push(self.display.to_string());
            out.empty_ok = true;
            return true;
        }
        out.tips.push((self.display.to_string(), sig));
        false
    }

    /// The commits to attribute and the tips that decide "still present": a range's ends, or
    /// every ref with only branch-like refs as tips (tags are snapshots of the past).
    fn select_commits(
        &mut self,
        mode: &GitMode,
        all_tips: Vec<git::RefTip>,
        out: &mut ScanOutcome,
    ) -> (Vec<CommitMeta>, Vec<git::RefTip>) {
        let r = &self.r;
        let errors = &mut self.errors;
        let (commits, tips): (Vec<CommitMeta>, Vec<git::RefTip>) = match mode {
            GitMode::Range { exclude, include } => {
                let ex = resolve_all(r, exclude, errors);
                let inc = resolve_all(r, include, errors);
                let tips = include
                    .iter()
                    .zip(&inc)
                    .map(|(n, c)| git::RefTip {
                        name: n.clone(),
                        commit: *c,
                    })
                    .collect();
                (git::walk_range(r, &ex, &inc, errors), tips)
            }
            _ => {
                let ids: Vec<ObjectId> = all_tips.iter().map(|t| t.commit).collect();
                let branches = all_tips
                    .into_iter()
                    .filter(|t| is_branch_like(&t.name))
                    .collect();
                (git::walk_commits(r, &ids, errors), branches)
            }
        };
        if commits.is_empty() {
            let display = self.display;
            match mode {
                GitMode::Range { .. } => {
                    out.notes
                        .push(format!("{display}: the range holds no commits"));
                    out.empty_ok = true;
                }
                _ => out
                    .notes
                    .push(format!("{display}: the repository has no commits")),
            }
        }
        (commits, tips)
    }

    /// Scans the history of submodules (`--recurse-submodules`, bounded depth), or notes each
    /// one that is not followed.
    fn follow_submodules(&mut self, prov: &Provenance, out: &mut ScanOutcome) {
        let display = self.display;
        for sub in &prov.submodules {
            if !self.opts.recurse_submodules || self.depth >= MAX_SUBMODULE_DEPTH {
                out.notes.push(format!(
                    "{display}: submodule {sub} not followed (--recurse-submodules follows it)"
                ));
                continue;
            }
            match submodule_repo(&self.r, sub) {
                Some(dir) => match git::open(&dir) {
                    Ok(sub_repo) => scan_history(
                        self.detector,
                        &sub_repo,
                        &format!("{display}/{sub}"),
                        &GitMode::Full,
                        self.opts,
                        out,
                        self.depth + 1,
                    ),
                    Err(e) => self.errors.push(e),
                },
                None => out.notes.push(format!(
                    "{display}: submodule {sub} is not checked out or cloned: not scanned"
                )),
            }
        }
    }

    /// The blobs in scope (under the path prefix) and the plan of those to read: not in the
    /// seen-file, not remembered by the inventory, in pack order. Missing blobs are errors
    /// naming where history put them.
    fn blobs_to_read(
        &mut self,
        prov: &Provenance,
        known: Option<&Known>,
        mode: &GitMode,
        out: &mut ScanOutcome,
    ) -> (Vec<ObjectId>, git::blobs::BlobPlan) {
        let opts = self.opts;
        let seen_before = SeenFile(opts.seen_file.as_deref())
            .load(|l| ObjectId::from_hex(l.as_bytes()).ok(), &mut self.errors);
        let in_scope: Vec<ObjectId> = prov
            .introduced
            .iter()
            .filter(|(_, places)| {
                places
                    .iter()
                    .any(|&(p, _)| opts.wants_path(&prov.paths[p as usize]))
            })
            .map(|(id, _)| *id)
            .collect();
        let wanted: HashSet<ObjectId> = in_scope
            .iter()
            .filter(|id| {
                !seen_before.contains(*id) && known.is_none_or(|k| !k.blobs.contains_key(*id))
            })
            .copied()
            .collect();
        let skipped_seen = in_scope.len() - wanted.len();
        if skipped_seen > 0 {
            out.notes.push(format!(
                "{}: {skipped_seen} blob(s) scanned in an earlier run were skipped",
                self.display
            ));
        }
        let plan = git::blobs::plan(
            &self.r,
            &wanted,
            opts.all_objects && matches!(mode, GitMode::Full),
            &mut self.errors,
        );
        for id in &plan.missing {
            let place = prov
                .introduced
                .get(id)
                .and_then(|v| v.first())
                .map(|&(p, c)| {
                    format!(
                        " (at {} in commit {})",
                        prov.paths[p as usize], prov.commits[c as usize].id
                    )
                });
            self.errors.push(format!(
                "blob {id} is missing from the object database{}",
                place.unwrap_or_default()
            ));
        }
        (in_scope, plan)
    }

    /// Reads and scans `ids` on the rayon pool: those the packs hold by walking their delta
    /// forests ([`GitRead::Packs`]), the rest one by one, each worker with its own repository
    /// handle, scratch and buffer. Results come back in the order of `ids`.
    fn read_blobs(&self, prov: &Provenance, ids: &[ObjectId]) -> BlobsRead {
        let tally = Tally::default();
        let mut results = Vec::with_capacity(ids.len());
        let rest = match self.opts.read {
            GitRead::Packs => {
                let walked = self.walk_packs(prov, ids, &tally);
                results = walked.0;
                walked.1
            }
            GitRead::OneByOne => ids.to_vec(),
        };
        results.extend(self.read_one_by_one(prov, &rest, &tally));
        let order: HashMap<ObjectId, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        results.sort_by_key(|(id, _)| order.get(id).copied().unwrap_or(usize::MAX));
        BlobsRead {
            results,
            too_large: unlock(tally.too_large),
            bytes: tally.bytes.into_inner(),
            binary: tally.binary.into_inner(),
            ci_messages: unlock(tally.ci_messages),
        }
    }

    /// The blobs of `ids` the packs hold, each pack's delta forest walked once; a delta whose
    /// base is a one-window text gets its keyword hits from the base's
    /// ([`sprawl_detect::incremental::hits_after_delta`]). Returns the results and the ids
    /// left to read one by one.
    fn walk_packs(
        &self,
        prov: &Provenance,
        ids: &[ObjectId],
        tally: &Tally,
    ) -> (Vec<(ObjectId, BlobResult)>, Vec<ObjectId>) {
        let detector = self.detector;
        let Detector { engine, fp } = detector;
        let opts = self.opts;
        let wanted: HashSet<ObjectId> = ids.iter().copied().collect();
        let results = std::sync::Mutex::new(Vec::with_capacity(ids.len()));
        let walked = git::packwalk::walk_blobs(
            &self.r.common_dir().join("objects"),
            self.r.object_hash(),
            &wanted,
            // Larger blobs are left to the one-by-one reader, which skips them unread.
            opts.max_blob_size.unwrap_or(u64::MAX).min(WALK_MAX_OBJECT),
            Scratch::default,
            |scratch, v: git::packwalk::Version<'_, Vec<KeywordHit>>| {
                let Some(win) = sprawl_core::read::single_window(v.data, opts.windowing) else {
                    if v.wanted {
                        let res = scan_blob(engine, fp, scratch, v.data, opts.windowing);
                        let res = refined(detector, prov, scratch, &v.id, v.data, res, tally);
                        push(&results, [(v.id, res)]);
                    }
                    return None;
                };
                let hits = v
                    .base
                    .and_then(|(base_hits, copies)| {
                        incremental::hits_after_delta(engine, base_hits, copies, v.data)
                    })
                    .unwrap_or_else(|| {
                        let mut hits = Vec::new();
                        engine.keyword_hits(v.data, &mut hits);
                        hits
                    });
                if v.wanted {
                    let found = detect_window_with_hits(engine, fp, scratch, &win, &hits);
                    let res = refined(
                        detector,
                        prov,
                        scratch,
                        &v.id,
                        v.data,
                        Ok(Some(found)),
                        tally,
                    );
                    push(&results, [(v.id, res)]);
                }
                Some(hits)
            },
        );
        (unlock(results), walked.rest)
    }

    /// Reads and scans `ids` one by one (random access through each worker's pack cache).
    fn read_one_by_one(
        &self,
        prov: &Provenance,
        ids: &[ObjectId],
        tally: &Tally,
    ) -> Vec<(ObjectId, BlobResult)> {
        let detector = self.detector;
        let Detector { engine, fp } = detector;
        let (opts, repo) = (self.opts, self.repo);
        let workers = git::PerThread::new();
        ids.par_iter()
            .map(|id| {
                workers.with(
                    || (git::thread_local(repo), Scratch::default(), Vec::new()),
                    |(tr, scratch, buf)| {
                        // gix inflates a whole object into memory: honour --max-file-size
                        // first.
                        if let Some(max) = opts.max_blob_size
                            && let Ok(h) = tr.objects.header(id)
                            && h.size() > max
                        {
                            push(&tally.too_large, [*id]);
                            return (*id, Ok(None));
                        }
                        let blob = match tr.objects.find_blob(id, buf) {
                            Ok(blob) => blob,
                            Err(e) => return (*id, Err(format!("blob {id}: {e}"))),
                        };
                        let res = scan_blob(engine, fp, scratch, blob.data, opts.windowing);
                        (
                            *id,
                            refined(detector, prov, scratch, id, blob.data, res, tally),
                        )
                    },
                )
            })
            .collect()
    }

    /// Counts what was read, reports CI messages and read errors, and returns the matches by
    /// blob and the blobs actually read. Only those count as scanned and go to the seen-file:
    /// a blob that failed to read (or was too large) must be tried again next run.
    fn account(
        &mut self,
        read: BlobsRead,
        out: &mut ScanOutcome,
    ) -> (HashMap<ObjectId, Vec<BlobMatch>>, Vec<ObjectId>) {
        let (ci_errors, ci_notes) = sprawl_ci::split_messages(read.ci_messages);
        out.errors.extend(prefixed(self.display, ci_errors));
        out.notes.extend(prefixed(self.display, ci_notes));
        let mut matches: HashMap<ObjectId, Vec<BlobMatch>> = HashMap::new();
        let mut read_ok: Vec<ObjectId> = Vec::with_capacity(read.results.len());
        for (id, res) in read.results {
            match res {
                Ok(found) => {
                    read_ok.push(id);
                    if let Some(m) = found {
                        matches.insert(id, m);
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
        let too_large: HashSet<ObjectId> = read.too_large.into_iter().collect();
        out.stats.skipped_too_large += too_large.len() as u64;
        read_ok.retain(|id| !too_large.contains(id));
        out.stats.bytes_scanned += read.bytes;
        out.stats.skipped_binary += read.binary;
        out.stats.blobs_scanned += read_ok.len() as u64 - read.binary;
        (matches, read_ok)
    }
}

/// Incremental audits: blobs read now go back to the inventory; blobs it already knew bring
/// their matches, so fan-out sees the whole history as a full scan would.
fn remember(
    known: &Known,
    in_scope: &[ObjectId],
    read_ok: &[ObjectId],
    matches: &mut HashMap<ObjectId, Vec<BlobMatch>>,
    out: &mut ScanOutcome,
) {
    out.objects.extend(
        read_ok
            .iter()
            .map(|id| (id.to_string(), matches.get(id).cloned().unwrap_or_default())),
    );
    for id in in_scope {
        if let Some(ms) = known.blobs.get(id).filter(|ms| !ms.is_empty()) {
            matches.insert(*id, ms.clone());
        }
    }
}

/// Where a submodule's repository lives: checked out in the work tree, or cloned under
/// `.git/modules/<path>` (git names module directories after their path by default).
fn submodule_repo(r: &gix::Repository, sub: &str) -> Option<PathBuf> {
    let in_tree = r
        .workdir()
        .map(|w| w.join(sub))
        .filter(|p| git::is_repository(p));
    in_tree
        .or_else(|| Some(r.git_dir().join("modules").join(sub)).filter(|p| git::is_repository(p)))
}

/// One (secret, rule, path) with every commit that brought it there.
struct Group<'a> {
    first: &'a BlobMatch,
    first_blob: ObjectId,
    commits: Vec<(u32, ObjectId, usize)>, // (commit index, blob, line)
}

fn fan_out(
    engine: &Engine,
    r: &gix::Repository,
    display: &str,
    (prov, tips): (&Provenance, &[git::RefTip]),
    matches: &HashMap<ObjectId, Vec<BlobMatch>>,
    opts: &GitOptions,
    out: &mut ScanOutcome,
) {
    let mut groups: BTreeMap<(u32, String, usize), Group<'_>> = BTreeMap::new();
    for (blob, ms) in matches {
        let Some(places) = prov.introduced.get(blob) else {
            // Unreachable blob (--all-objects): no path, no commit.
            for m in ms {
                let origin = GitOrigin {
                    repo: display.to_string(),
                    path: format!("<unreachable blob {blob}>"),
                    commits: Vec::new(),
                    present_in: Vec::new(),
                    history_only: true,
                    removed_in: None,
                    staged: false,
                    blob: blob.to_string(),
                };
                out.findings
                    .push(to_finding(engine, m.clone(), Origin::Git(Box::new(origin))));
            }
            continue;
        };
        for &(path, commit) in places
            .iter()
            .filter(|&&(p, _)| opts.wants_path(&prov.paths[p as usize]))
        {
            for m in ms {
                let g = groups
                    .entry((path, m.fingerprint.clone(), m.rule))
                    .or_insert_with(|| Group {
                        first: m,
                        first_blob: *blob,
                        commits: Vec::new(),
                    });
                g.commits.push((commit, *blob, m.line));
            }
        }
    }
    let tip_index = TipIndex::new(r, tips, prov, groups.keys().map(|(p, _, _)| *p));
    for ((path, fingerprint, _), mut g) in groups {
        g.commits
            .sort_by_key(|&(c, _, _)| order_key(&prov.commits, c));
        g.commits.dedup_by_key(|x| x.0);
        let (_, b0, _) = g.commits[0];
        let (first, first_blob) = if b0 == g.first_blob {
            (g.first, g.first_blob)
        } else {
            (
                matches
                    .get(&b0)
                    .and_then(|ms| ms.iter().find(|m| m.fingerprint == fingerprint))
                    .unwrap_or(g.first),
                b0,
            )
        };
        let path_str = prov.paths[path as usize].to_string();
        let present_in = tip_index.present(path, &fingerprint, matches);
        let history_only = present_in.is_empty();
        let removed_in = if history_only {
            g.commits
                .iter()
                .rev()
                .find_map(|&(_, blob, _)| prov.removed.get(&(blob, path)))
                .map(|&c| commit_view(&prov.commits[c as usize], 0))
        } else {
            None
        };
        let origin = GitOrigin {
            repo: display.to_string(),
            path: path_str,
            commits: g
                .commits
                .iter()
                .map(|&(c, _, line)| commit_view(&prov.commits[c as usize], line))
                .collect(),
            present_in,
            history_only,
            removed_in,
            staged: false,
            blob: first_blob.to_string(),
        };
        out.findings.push(to_finding(
            engine,
            first.clone(),
            Origin::Git(Box::new(origin)),
        ));
    }
}

/// Whether a ref's tip is checked for "still present": HEAD, branches and remote-tracking
/// branches. Tags are snapshots of the past (a secret in an old release tag is history), and
/// checking thousands of them per finding made fan-out the slowest phase on tag-heavy repos.
fn is_branch_like(name: &str) -> bool {
    name == "HEAD"
        || name.starts_with("refs/heads/")
        || name.starts_with("refs/remotes/")
        || name == "refs/stash"
}

/// A hash map with a fast non-cryptographic hasher for object ids and paths.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The directories of the paths fan-out asks about, as a trie: each node lists the files
/// (name, path index) and subdirectories (name, node) it needs.
#[derive(Default)]
struct PathTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    files: Vec<(Vec<u8>, u32)>,
    dirs: Vec<(Vec<u8>, usize)>,
}

impl PathTrie {
    fn new(prov: &Provenance, paths: impl IntoIterator<Item = u32>) -> PathTrie {
        let mut trie = PathTrie {
            nodes: vec![TrieNode::default()],
        };
        for p in paths {
            let full = prov.paths[p as usize].as_slice();
            let mut parts: Vec<&[u8]> = full.split(|&b| b == b'/').collect();
            let Some(file) = parts.pop() else { continue };
            let mut node = 0;
            for dir in parts {
                node = match trie.nodes[node].dirs.iter().find(|(n, _)| n == dir) {
                    Some(&(_, child)) => child,
                    None => {
                        trie.nodes.push(TrieNode::default());
                        let child = trie.nodes.len() - 1;
                        trie.nodes[node].dirs.push((dir.to_vec(), child));
                        child
                    }
                };
            }
            trie.nodes[node].files.push((file.to_vec(), p));
        }
        trie
    }
}

/// Which tips hold a secret at a path, answered from the scan's results: the blob at every
/// asked path in every tip comes from parsed trees — each distinct tree object decoded once,
/// each (directory, subtree) resolved once, so tips sharing a directory share its work — and
/// whether that blob holds the secret is a lookup in the matches already computed. No blob is
/// read again.
struct TipIndex {
    /// Ref names of the tips (shared: a secret present at hundreds of branches lists them all).
    names: Vec<std::sync::Arc<str>>,
    /// For each asked path: the distinct blobs found there across tips, each with the tips
    /// (indexes into `names`) holding it.
    by_path: FastMap<u32, Vec<(ObjectId, Vec<u32>)>>,
}

impl TipIndex {
    fn new(
        r: &gix::Repository,
        tips: &[git::RefTip],
        prov: &Provenance,
        paths: impl IntoIterator<Item = u32>,
    ) -> TipIndex {
        let mut buf = Vec::new();
        // The caller chose the tips: branch-like refs of a full scan, or the revisions a
        // range ends at (`A..B`: B is where the user looks).
        let mut tips: Vec<(String, ObjectId)> = tips
            .iter()
            .filter_map(|t| {
                git::read_commit(r, &t.commit, &mut buf)
                    .ok()
                    .map(|c| (t.name.clone(), c.tree))
            })
            .collect();
        // By name, so that a secret's tips come out sorted without sorting them per finding;
        // a name listed twice (a range naming one revision twice) is kept once.
        tips.sort();
        tips.dedup_by(|a, b| a.0 == b.0);
        let trie = PathTrie::new(prov, paths);
        let mut resolver = Resolver {
            r,
            trie: &trie,
            trees: FastMap::default(),
            resolved: FastMap::default(),
        };
        let mut by_path: FastMap<u32, Vec<(ObjectId, Vec<u32>)>> = FastMap::default();
        for (i, (_, root)) in tips.iter().enumerate() {
            let found = resolver.resolve(0, *root);
            for &(path, blob) in found.iter() {
                let Some(blob) = blob else { continue };
                let holders = by_path.entry(path).or_default();
                match holders.iter_mut().find(|(b, _)| *b == blob) {
                    Some((_, t)) => t.push(i as u32),
                    None => holders.push((blob, vec![i as u32])),
                }
            }
        }
        TipIndex {
            names: tips.into_iter().map(|(n, _)| n.into()).collect(),
            by_path,
        }
    }

    /// Refs whose tip holds the secret `fingerprint` at `path` (by fingerprint, so a file
    /// edited around the secret still counts).
    fn present(
        &self,
        path: u32,
        fingerprint: &str,
        matches: &HashMap<ObjectId, Vec<BlobMatch>>,
    ) -> Vec<std::sync::Arc<str>> {
        // Tips are sorted by name and each holds one blob at a path: the indexes of the
        // matching blobs' tips, in order, are the names in order, without duplicates.
        let mut tips: Vec<u32> = Vec::new();
        let mut matched = 0;
        for (blob, holders) in self.by_path.get(&path).into_iter().flatten() {
            if matches
                .get(blob)
                .is_some_and(|ms| ms.iter().any(|m| m.fingerprint == fingerprint))
            {
                tips.extend_from_slice(holders);
                matched += 1;
            }
        }
        if matched > 1 {
            tips.sort_unstable();
        }
        tips.iter()
            .map(|&t| std::sync::Arc::clone(&self.names[t as usize]))
            .collect()
    }
}

/// The blob (or none) at each path below a trie node: (path index, blob).
type Resolved = std::rc::Rc<Vec<(u32, Option<ObjectId>)>>;

/// Resolves the trie's paths under tree objects, remembering each (node, tree) answer.
struct Resolver<'a, 'r> {
    r: &'r gix::Repository,
    trie: &'a PathTrie,
    /// Raw tree objects, read once each (`None`: unreadable); entries are found by walking
    /// them, which costs less than building a map of every entry.
    trees: FastMap<ObjectId, Option<Vec<u8>>>,
    resolved: FastMap<(usize, ObjectId), Resolved>,
}

impl Resolver<'_, '_> {
    /// The data of tree `id`, read the first time (`None`: unreadable).
    fn tree(&mut self, id: ObjectId) -> Option<&[u8]> {
        let r = self.r;
        self.trees
            .entry(id)
            .or_insert_with(|| r.find_tree(id).ok().map(|mut t| t.take_data()))
            .as_deref()
    }

    /// Looks up `names` in one tree's data: for each, its id and whether it is a subtree.
    fn lookup(data: &[u8], names: &[&[u8]]) -> Vec<Option<(ObjectId, bool)>> {
        let mut found = vec![None; names.len()];
        let mut left = names.len();
        for entry in gix::objs::TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1) {
            let Ok(entry) = entry else { break };
            if let Some(i) = names.iter().position(|n| *n == entry.filename[..]) {
                if found[i].is_none() {
                    found[i] = Some((entry.oid.to_owned(), entry.mode.is_tree()));
                    left -= 1;
                }
                if left == 0 {
                    break;
                }
            }
        }
        found
    }

    /// The blob (or none) at every path below trie node `node`, when that directory is the
    /// tree object `tree`.
    fn resolve(&mut self, node: usize, tree: ObjectId) -> Resolved {
        if let Some(done) = self.resolved.get(&(node, tree)) {
            return std::rc::Rc::clone(done);
        }
        let trie = self.trie;
        let node_ref = &trie.nodes[node];
        let names: Vec<&[u8]> = node_ref
            .files
            .iter()
            .map(|(n, _)| n.as_slice())
            .chain(node_ref.dirs.iter().map(|(n, _)| n.as_slice()))
            .collect();
        let found = match self.tree(tree) {
            Some(data) => Self::lookup(data, &names),
            None => vec![None; names.len()],
        };
        let (files, dirs) = found.split_at(node_ref.files.len());
        let mut out: Vec<(u32, Option<ObjectId>)> = node_ref
            .files
            .iter()
            .zip(files)
            .map(|((_, path), f)| (*path, f.and_then(|(id, is_tree)| (!is_tree).then_some(id))))
            .collect();
        let subdirs: Vec<(usize, Option<ObjectId>)> = node_ref
            .dirs
            .iter()
            .zip(dirs)
            .map(|((_, child), f)| (*child, f.and_then(|(id, is_tree)| is_tree.then_some(id))))
            .collect();
        for (child, sub) in subdirs {
            match sub {
                Some(id) => out.extend(self.resolve(child, id).iter().copied()),
                None => self.absent(child, &mut out),
            }
        }
        let done = std::rc::Rc::new(out);
        self.resolved
            .insert((node, tree), std::rc::Rc::clone(&done));
        done
    }

    /// Every path below `node`, absent (its directory is not in the tree).
    fn absent(&self, node: usize, out: &mut Vec<(u32, Option<ObjectId>)>) {
        out.extend(self.trie.nodes[node].files.iter().map(|(_, p)| (*p, None)));
        for &(_, child) in &self.trie.nodes[node].dirs {
            self.absent(child, out);
        }
    }
}

fn commit_view(c: &CommitMeta, line: usize) -> GitCommit {
    GitCommit {
        commit: c.id.to_string(),
        author: c.author.clone(),
        date: iso8601(c.time),
        summary: c.summary.clone(),
        line,
    }
}

/// The first CI or GitOps path a blob was introduced at, if any.
fn ci_path(prov: &Provenance, id: &ObjectId) -> Option<String> {
    prov.introduced.get(id)?.iter().find_map(|&(p, _)| {
        let path = prov.paths[p as usize].to_str_lossy();
        sprawl_ci::candidate(&path).then(|| path.into_owned())
    })
}

/// A path of the blob when every path it was introduced at is documentation.
fn only_doc_path(prov: &Provenance, id: &ObjectId) -> Option<String> {
    let places = prov.introduced.get(id)?;
    let paths: Vec<_> = places
        .iter()
        .map(|&(p, _)| prov.paths[p as usize].to_str_lossy())
        .collect();
    (!paths.is_empty() && paths.iter().all(|p| super::is_doc(p))).then(|| paths[0].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// Fan-out: one secret committed once, copied to a second path later, removed from main
    /// but kept by a branch — one finding per path, each with the commit that brought it
    /// there, present at the branch that still holds it and not at main.
    #[test]
    fn fan_out_gives_each_path_its_commit_and_the_tips_that_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        git(r, &["init", "-q", "-b", "main"]);
        let token = crate::tests::fake_token("Yq8r2LmN5vBc7XkP1sDf4GhJ6tYw9E");
        std::fs::write(r.join("a.env"), format!("TOKEN={token}\n")).unwrap();
        git(r, &["add", "."]);
        git(r, &["commit", "-qm", "a"]);
        std::fs::write(r.join("b.env"), format!("TOKEN={token}\n")).unwrap();
        git(r, &["add", "."]);
        git(r, &["commit", "-qm", "b"]);
        git(r, &["branch", "keep"]);
        git(r, &["rm", "-q", "a.env", "b.env"]);
        git(r, &["commit", "-qm", "remove"]);
        let engine = Engine::new(sprawl_core::rules::load::builtin().rules);
        let fp = Fingerprinter::new(b"");
        let opts = GitOptions {
            threads: 2,
            ..GitOptions::default()
        };
        let mut out = ScanOutcome::default();
        scan_repo(&engine, &fp, r, "repo", &opts, &mut out);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let mut found: Vec<&GitOrigin> = out
            .findings
            .iter()
            .filter_map(|f| match &f.origin {
                Origin::Git(g) => Some(g.as_ref()),
                _ => None,
            })
            .collect();
        found.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            (found[0].path.as_str(), found[1].path.as_str()),
            ("a.env", "b.env")
        );
        assert_ne!(
            found[0].commits[0].commit, found[1].commits[0].commit,
            "each path names the commit that brought the secret there"
        );
        for g in &found {
            assert_eq!(
                g.present_in,
                [std::sync::Arc::from("refs/heads/keep")],
                "{g:?}"
            );
            assert!(!g.history_only);
        }
        assert_eq!(out.stats.blobs_scanned, 1, "one distinct blob, read once");
    }
}
