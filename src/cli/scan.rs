//! `sprawl scan`: load rules and config, scan, filter, report, choose the exit code.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use regex::bytes::RegexBuilder;

use std::path::Path;

use super::{CommonScanArgs, EXIT_CLEAN, EXIT_ERROR, GitHistory, ScanArgs};
use crate::baseline::Baseline;
use crate::config::Config;
use crate::detect::Engine;
use crate::fingerprint::Fingerprinter;
use crate::report::{self, Format, ReportInput};
use crate::rules::Rule;
use crate::rules::load;
use crate::scan::git::{GitMode, GitOptions, Known, scan_repo};
use crate::scan::image::{ImageOptions, ImageTarget, scan_images};
use crate::scan::{ScanOptions, ScanOutcome, scan_paths, sort_findings};
use crate::source::fs::{WalkOptions, Windowing};
use crate::source::image::layer::Limits;
use crate::source::image::registry::RegistryOptions;

/// A finished scan with the rules it used.
pub struct Scanned {
    /// False when `--store` was given but its fingerprint key could not be read: findings
    /// then carry other fingerprints and must not go into that inventory.
    pub store_key_ok: bool,
    /// Findings, errors and counters (errors include rule and config problems).
    pub outcome: ScanOutcome,
    /// The rules in force.
    pub rules: Arc<Vec<Rule>>,
    /// Set for an audit target scanned incrementally against its inventory.
    pub incremental: Option<Incremental>,
}

/// How an audit target relates to what its inventory remembers.
pub struct Incremental {
    /// The target (the key of its memory).
    pub target: String,
    /// Digest of rules and settings ([`crate::inventory::cache::rules_digest`]).
    pub rules_digest: String,
    /// The target's latest scan in the inventory.
    pub last_scan: Option<i64>,
    /// Remembered tips (the scan is "unchanged" when they still hold).
    pub tips: Option<String>,
}

/// Loads what the inventory remembers of `target` under `digest`: tips and every blob read
/// before with its matches (a blob whose memory cannot be read is simply read again).
fn remembered(
    store: &mut dyn crate::inventory::Store,
    target: &str,
    digest: &str,
    rules: &[Rule],
    errors: &mut Vec<String>,
) -> (Incremental, Option<Arc<Known>>) {
    let mut inc = Incremental {
        target: target.to_string(),
        rules_digest: digest.to_string(),
        last_scan: None,
        tips: None,
    };
    let mem = match store.memory(target, digest) {
        Ok(m) => m,
        Err(e) => {
            errors.push(e);
            return (inc, None);
        }
    };
    let index: std::collections::HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.spec.id.as_str(), i))
        .collect();
    let mut known = Known {
        tips: mem.tips.clone(),
        blobs: std::collections::HashMap::with_capacity(mem.objects.len()),
    };
    for (object, matches) in &mem.objects {
        let Ok(id) = gix::ObjectId::from_hex(object.as_bytes()) else {
            continue;
        };
        let decoded = match matches {
            None => Ok(Vec::new()),
            Some(text) => crate::inventory::cache::decode(&index, text),
        };
        if let Ok(ms) = decoded {
            known.blobs.insert(id, ms);
        }
    }
    inc.last_scan = mem.last_scan;
    inc.tips = mem.tips;
    (inc, Some(Arc::new(known)))
}

/// Loads config and rules, scans the targets, applies config allowlists.
pub fn scan_with(common: &CommonScanArgs) -> Scanned {
    scan_audit_target(common, None)
}

/// An engine's rules digest, computed the first time an inventory needs it.
type Digest = Arc<std::sync::OnceLock<String>>;

/// Engines built in this process, keyed by everything that decides their rules: an audit of
/// many targets compiles its rules once, not once per target.
fn engine_for(
    config: &Config,
    common: &CommonScanArgs,
) -> (Arc<Engine>, Vec<String>, Vec<String>, Digest) {
    type Cached = (String, Arc<Engine>, Vec<String>, Vec<String>, Digest);
    static BUILT: std::sync::Mutex<Vec<Cached>> = std::sync::Mutex::new(Vec::new());
    let key = format!(
        "{:?}|{:?}|{:?}|{}|{:?}|{}|{}",
        config.rules,
        config.rule,
        config.base_dir,
        config.source,
        common.rules,
        config.trusted,
        common.trust_config
    );
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, engine, errors, notes, digest)) = built.iter().find(|(k, ..)| *k == key) {
        return (
            Arc::clone(engine),
            errors.clone(),
            notes.clone(),
            Arc::clone(digest),
        );
    }
    let mut loaded = load::builtin();
    // Explicit --rules first: a repository's config cannot pre-empt them.
    loaded.set_trust(load::Trust::User);
    for p in &common.rules {
        loaded.add_path(p);
    }
    loaded.set_trust(if config.trusted || common.trust_config {
        load::Trust::User
    } else {
        load::Trust::Untrusted
    });
    for p in &config.rules.paths {
        loaded.add_path(&config.base_dir.join(p));
    }
    if !config.rule.is_empty() {
        loaded.add_rule_values(&config.source, &config.rule);
    }
    loaded.disable(&config.rules.disable, &config.source);
    let engine = Arc::new(Engine::new(loaded.rules));
    let digest = Digest::default();
    built.push((
        key,
        Arc::clone(&engine),
        loaded.errors.clone(),
        loaded.notes.clone(),
        Arc::clone(&digest),
    ));
    (engine, loaded.errors, loaded.notes, digest)
}

/// [`scan_with`] for one audit target recorded into `store` (open for the whole audit): the
/// scan is incremental: blobs the inventory remembers under the same rules are not read
/// again, and a repository whose ref tips have not moved is not read at all.
pub fn scan_audit_target(
    common: &CommonScanArgs,
    mut audit: Option<(&str, &mut dyn crate::inventory::Store)>,
) -> Scanned {
    let targets = if common.targets.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        common.targets.clone()
    };
    let mut errors = Vec::new();
    let config = match Config::discover(common.config.as_deref(), &targets) {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            errors.push(e);
            Config::default()
        }
    };
    let (engine, rule_errors, rule_notes, rules_digest) = engine_for(&config, common);
    errors.extend(rule_errors);

    let mut allow_secrets = Vec::new();
    for pat in &config.allow.secrets {
        match RegexBuilder::new(pat).unicode(false).build() {
            Ok(re) => allow_secrets.push(re),
            Err(e) => errors.push(format!(
                "{}: [allow] secrets: invalid regex {pat:?}: {e}",
                config.source
            )),
        }
    }

    // An inventory's own key makes every scan into it compute the same fingerprints.
    let mut store_key_ok = true;
    let store_key = match (&common.store, &common.fingerprint_key) {
        (Some(loc), None) => {
            let key = match audit.as_mut() {
                Some((_, store)) => store.fingerprint_key(),
                None => crate::inventory::open(loc).and_then(|mut s| s.fingerprint_key()),
            };
            match key {
                Ok(k) => Some(k),
                Err(e) => {
                    errors.push(e);
                    store_key_ok = false;
                    None
                }
            }
        }
        _ => None,
    };
    let fp = Fingerprinter::new(
        common
            .fingerprint_key
            .as_deref()
            .or(store_key.as_deref())
            .unwrap_or("")
            .as_bytes(),
    );
    let mut excludes = config.scan.exclude.clone();
    excludes.extend(common.exclude.iter().cloned());
    let opts = ScanOptions {
        targets,
        walk: WalkOptions {
            // Gitignored files are scanned unless --respect-gitignore; dependency and build
            // directories are skipped (and counted) unless --no-ignore.
            no_ignore: !common.respect_gitignore,
            follow_symlinks: common.follow_symlinks,
            excludes,
            threads: common
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            skip_dependency_dirs: (!common.no_ignore && !common.respect_gitignore)
                .then(|| Arc::new(std::sync::Mutex::new(Vec::new()))),
            dependencies_too: false,
            skip_nested_repos: false,
        },
        max_file_size: common.max_file_size,
        windowing: Windowing::default(),
        progress: !common.no_progress,
        archives: (common.archive_depth > 0).then(|| crate::source::image::layer::Limits {
            max_bytes: common.max_layer_size,
            max_ratio: common.max_layer_ratio.max(1),
            max_depth: common.archive_depth,
            ..Default::default()
        }),
        work_tree: None,
        gitignored: None,
    };
    let (incremental, known) = match audit {
        Some((target, store)) if store_key_ok => {
            // Everything that changes what a blob yields invalidates the memory.
            let settings = format!(
                "{:?}|{:?}|{}|{}|{}|{}",
                config,
                common.max_file_size,
                common.all_objects,
                common.recurse_submodules,
                common.archive_depth,
                // The key in force: matches carry fingerprints made with it.
                blake3::hash(
                    common
                        .fingerprint_key
                        .as_deref()
                        .or(store_key.as_deref())
                        .unwrap_or("")
                        .as_bytes()
                ),
            );
            let rules_digest =
                rules_digest.get_or_init(|| crate::inventory::cache::rules_digest(engine.rules()));
            let digest = crate::inventory::cache::scan_digest(rules_digest, &settings);
            let (inc, known) = remembered(store, target, &digest, engine.rules(), &mut errors);
            (Some(inc), known)
        }
        _ => (None, None),
    };
    // Audits record what repositories hold (and remember it between runs); a working tree
    // is a local scan's business.
    let work_trees = incremental.is_none();
    let mut outcome = scan_targets(&engine, &fp, common, opts, known, work_trees, &mut errors);
    outcome.errors.splice(0..0, errors);
    outcome.notes.splice(0..0, rule_notes);
    // User rules that blew their time budget during this scan.
    outcome.errors.extend(
        engine
            .rules()
            .iter()
            .filter_map(|r| r.exhausted.get().cloned()),
    );
    let allowed = |fingerprint: &str, secret: &str| {
        config.allow.fingerprints.iter().any(|a| a == fingerprint)
            || allow_secrets
                .iter()
                .any(|re| re.is_match(secret.as_bytes()))
    };
    outcome
        .findings
        .retain(|f| !allowed(&f.fingerprint, &f.secret));
    // Remembered matches must be the ones reported, so allowlists apply to them too.
    for (_, ms) in &mut outcome.objects {
        ms.retain(|m| !allowed(&m.fingerprint, &m.secret));
    }
    if outcome.stats.blobs_scanned == 0 && !outcome.empty_ok {
        outcome.errors.push(format!(
            "nothing was scanned: no readable text file under the target(s) ({} binary, {} oversized skipped)",
            outcome.stats.skipped_binary, outcome.stats.skipped_too_large
        ));
    }
    Scanned {
        store_key_ok,
        outcome,
        rules: Arc::clone(engine.rules()),
        incremental,
    }
}

/// How one target is scanned.
enum Target {
    /// Files, directories, stdin.
    Files(PathBuf),
    /// A local repository.
    Repo(PathBuf),
    /// A directory inside a repository's work tree: the repository, limited to that path.
    RepoPath(PathBuf, String),
    /// A remote repository to clone.
    Remote(String),
    /// A container image on disk or in a registry.
    Image(ImageTarget),
}

/// True for `https://`, `ssh://`, `git://`, `file://` URLs and scp-like `user@host:path`.
fn is_remote(t: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|p| t.starts_with(p))
        || (t.contains('@')
            && t.find(':').is_some_and(|c| !t[..c].contains('/'))
            && !Path::new(t).exists())
}

fn classify(
    common: &CommonScanArgs,
    targets: &[PathBuf],
    errors: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Vec<Target> {
    let git_only = common.staged || common.range.is_some() || common.since.is_some();
    let limits = archive_limits(common);
    let mut out = Vec::new();
    let mut given = std::collections::HashSet::new();
    for t in targets {
        let text = t.to_string_lossy();
        // The same target twice (`d d`, `d ./d`) would report every finding twice.
        let key = std::fs::canonicalize(t).unwrap_or_else(|_| t.clone());
        if !given.insert(key) {
            notes.push(format!(
                "{}: given more than once, scanned once",
                crate::redact::url(&text)
            ));
            continue;
        }
        if text == "-" {
            out.push(Target::Files(t.clone()));
        } else if text.starts_with("oci://") {
            out.push(Target::Image(ImageTarget::Registry(text.into_owned())));
        } else if let Some(kind) = (!git_only && !crate::source::git::is_repository(t))
            .then(|| crate::source::image::store::sniff(t))
            .flatten()
        {
            // A tarball that is not an image (no manifest.json or index.json) is an archive:
            // its members are scanned like those of an archive inside a directory.
            match crate::source::image::store::is_image_archive(t, kind, &limits) {
                Ok(true) => out.push(Target::Image(ImageTarget::Disk(t.clone(), kind))),
                Ok(false) => {
                    if kind == crate::source::image::store::DiskImage::Tar
                        && !crate::source::image::store::has_tar_trailer(t)
                    {
                        errors.push(format!(
                            "{}: the tar archive ends without its end-of-archive blocks: truncated? (what it holds is scanned)",
                            t.display()
                        ));
                    }
                    out.push(Target::Files(t.clone()))
                }
                Err(e) => errors.push(format!("{}: cannot read archive: {e}", t.display())),
            }
        } else if is_remote(&text) {
            out.push(Target::Remote(text.into_owned()));
        } else if crate::source::git::is_repository(t)
            && common.git_history != Some(GitHistory::None)
        {
            match crate::source::git::open(t) {
                Ok(_) => out.push(Target::Repo(t.clone())),
                // A work tree whose `.git` is broken (a gitdir file pointing nowhere, garbage)
                // still has files: scan them, and say the history could not be read.
                Err(e) if t.join(".git").exists() && t.is_dir() && !git_only => {
                    errors.push(format!("{e}; its files are scanned without history"));
                    out.push(Target::Files(t.clone()));
                }
                Err(e) => errors.push(e),
            }
        } else if common.git_history == Some(GitHistory::Full) || git_only {
            match enclosing_repository(t) {
                Some((root, prefix)) => out.push(Target::RepoPath(root, prefix)),
                None => errors.push(format!(
                    "{}: not a git repository (needed for --git-history full, --staged, --range, --since)",
                    t.display()
                )),
            }
        } else {
            out.push(Target::Files(t.clone()));
        }
    }
    out
}

/// Archive limits from the command line (also bound a tarball target's sniff and spill).
fn archive_limits(common: &CommonScanArgs) -> Limits {
    Limits {
        max_bytes: common.max_layer_size,
        max_ratio: common.max_layer_ratio.max(1),
        max_depth: common.archive_depth.max(1),
        ..Limits::default()
    }
}

/// The repository whose work tree holds `dir`, and `dir`'s path inside it (`src/app/`).
fn enclosing_repository(dir: &Path) -> Option<(PathBuf, String)> {
    let abs = std::fs::canonicalize(dir).ok()?;
    let mut cur = abs.parent();
    while let Some(c) = cur {
        if c.join(".git").exists() {
            let rel = abs
                .strip_prefix(c)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            return Some((c.to_path_buf(), format!("{rel}/")));
        }
        cur = c.parent();
    }
    None
}

fn git_mode(common: &CommonScanArgs) -> GitMode {
    if common.staged {
        GitMode::Staged
    } else if let Some(range) = &common.range {
        let (a, b) = range.split_once("..").unwrap_or((range.as_str(), "HEAD"));
        let b = if b.is_empty() { "HEAD" } else { b };
        GitMode::Range {
            exclude: vec![a.to_string()],
            include: vec![b.to_string()],
        }
    } else if let Some(since) = &common.since {
        GitMode::Range {
            exclude: vec![since.clone()],
            include: vec!["HEAD".to_string()],
        }
    } else {
        GitMode::Full
    }
}

/// Clones `url` bare (into `keep` or a temporary directory that is removed afterwards, also
/// when a signal ends the run). Messages show the URL with its credentials masked; git's own
/// error output is passed through the same mask.
fn clone(
    url: &str,
    keep: Option<&Path>,
) -> Result<(PathBuf, Option<crate::source::spill::TempDir>), String> {
    let shown = crate::redact::url(url);
    let (dir, guard) = match keep {
        Some(k) => (k.to_path_buf(), None),
        None => {
            let t = crate::source::spill::TempDir::new("sprawl-clone-")
                .map_err(|e| format!("{shown}: cannot create a temporary directory: {e}"))?;
            (t.path().join("repo.git"), Some(t))
        }
    };
    let out = std::process::Command::new("git")
        .args(["clone", "--bare", "--quiet", "--", url])
        .arg(&dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("{shown}: cannot run git to clone: {e}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = crate::redact::line(said.trim());
        let said: String = said.chars().take(500).collect();
        return Err(format!(
            "{shown}: git clone failed ({}): {said}",
            out.status
        ));
    }
    Ok((dir, guard))
}

/// Scans every target with the pipeline that fits it and merges the outcomes.
fn scan_targets(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    common: &CommonScanArgs,
    mut opts: ScanOptions,
    known: Option<Arc<Known>>,
    work_trees: bool,
    errors: &mut Vec<String>,
) -> ScanOutcome {
    let mut notes = Vec::new();
    let targets = classify(common, &opts.targets, errors, &mut notes);
    let base_opts = opts.clone();
    let started = std::time::Instant::now();
    let files: Vec<PathBuf> = targets
        .iter()
        .filter_map(|t| {
            if let Target::Files(p) = t {
                Some(p.clone())
            } else {
                None
            }
        })
        .collect();
    let mut outcome = if files.is_empty() {
        ScanOutcome::default()
    } else {
        opts.targets = files;
        if !common.respect_gitignore && !common.no_ignore {
            // Which scanned files a gitignore-respecting walk would have skipped (counted in
            // the summary line).
            opts.gitignored = Some(Arc::new(crate::source::fs::visible_files(
                &opts.targets,
                true,
            )));
        }
        let mut o = scan_paths(Arc::clone(engine), fp.clone(), &opts);
        let skipped: Vec<String> = opts
            .walk
            .skip_dependency_dirs
            .as_ref()
            .and_then(|s| s.lock().ok().map(|v| v.clone()))
            .unwrap_or_default();
        if !skipped.is_empty() {
            use crate::source::git::worktree::{count_dirs, list_dirs};
            o.notes.push(format!(
                "{} not scanned ({}): --no-ignore scans them",
                count_dirs(skipped.len()),
                list_dirs(&skipped)
            ));
        }
        o
    };
    outcome.notes.splice(0..0, notes);
    let git_opts = GitOptions {
        mode: git_mode(common),
        all_objects: common.all_objects,
        seen_file: common.seen_file.clone(),
        threads: opts.walk.threads,
        windowing: opts.windowing,
        recurse_submodules: common.recurse_submodules,
        path_prefix: None,
        max_blob_size: common.max_file_size,
        known: known.clone(),
        // A repository's working tree is compared with its history's blobs.
        collect_blobs: work_trees,
    };
    let images: Vec<ImageTarget> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Image(i) => Some(i.clone()),
            _ => None,
        })
        .collect();
    if !images.is_empty() {
        let image_opts = ImageOptions {
            threads: opts.walk.threads,
            platform: common.platform.clone(),
            limits: Limits {
                max_bytes: common.max_layer_size,
                max_ratio: common.max_layer_ratio.max(1),
                max_depth: common.archive_depth,
                ..Limits::default()
            },
            max_file_size: common.max_file_size,
            windowing: opts.windowing,
            seen_file: common.seen_file.clone(),
            registry: RegistryOptions {
                insecure: common.insecure,
                username: common.registry_username.clone(),
                password: common.registry_password.clone(),
                docker_config: None,
            },
            known_signature: known.as_ref().and_then(|k| k.tips.clone()),
        };
        scan_images(engine, fp, &images, &image_opts, &mut outcome);
    }
    for t in targets {
        match t {
            Target::Files(_) | Target::Image(_) => {}
            Target::Repo(p) => {
                scan_repo(
                    engine,
                    fp,
                    &p,
                    &p.display().to_string(),
                    &git_opts,
                    &mut outcome,
                );
                if work_trees && matches!(git_opts.mode, GitMode::Full) && p.join(".git").exists() {
                    scan_work_tree(engine, fp, common, &base_opts, &p, &mut outcome);
                }
            }
            Target::RepoPath(root, prefix) => {
                let opts = GitOptions {
                    path_prefix: Some(prefix.clone()),
                    ..git_opts.clone()
                };
                scan_repo(
                    engine,
                    fp,
                    &root,
                    &format!("{}:{prefix}", root.display()),
                    &opts,
                    &mut outcome,
                )
            }
            Target::Remote(url) => match clone(&url, common.keep_clone.as_deref()) {
                // Everything downstream (reports, inventory, errors) sees the masked URL.
                Ok((dir, _guard)) => scan_repo(
                    engine,
                    fp,
                    &dir,
                    &crate::redact::url(&url),
                    &git_opts,
                    &mut outcome,
                ),
                Err(e) => outcome.errors.push(e),
            },
        }
    }
    sort_findings(&mut outcome.findings);
    outcome.elapsed = started.elapsed();
    outcome
}

/// Scans the files of a repository's working tree that its history does not hold byte for
/// byte (untracked, gitignored, modified), as files with that reason in their origin, and
/// merges them into `outcome`.
fn scan_work_tree(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    common: &CommonScanArgs,
    base: &ScanOptions,
    root: &Path,
    outcome: &mut ScanOutcome,
) {
    let shown = root.display().to_string();
    let Some(history) = outcome
        .history_blobs
        .iter()
        .position(|(t, _)| *t == shown)
        .map(|i| outcome.history_blobs.swap_remove(i).1)
    else {
        // History could not be walked (the error is reported): without its blobs every
        // committed file would look modified.
        outcome.errors.push(format!(
            "{shown}: working tree not scanned: the repository's history could not be read"
        ));
        return;
    };
    let tree = match crate::source::git::open(root)
        .and_then(|repo| crate::source::git::worktree::WorkTree::open(root, &repo, history))
    {
        Ok(t) => Arc::new(t),
        Err(e) => {
            outcome.errors.push(e);
            return;
        }
    };
    let skipped = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut opts = base.clone();
    opts.targets = vec![root.to_path_buf()];
    // Gitignored files are exactly where local secrets live: walk everything, but leave
    // dependency and build directories alone unless --no-ignore.
    opts.walk.no_ignore = true;
    opts.walk.skip_dependency_dirs = Some(Arc::clone(&skipped));
    opts.walk.dependencies_too = common.no_ignore;
    opts.walk.skip_nested_repos = true;
    opts.gitignored = None;
    opts.work_tree = Some(Arc::clone(&tree));
    let sub = scan_paths(Arc::clone(engine), fp.clone(), &opts);
    let skipped = skipped.lock().map(|v| v.clone()).unwrap_or_default();
    // A modified file still holds the secrets of its committed version: those are reported
    // by history (present at HEAD), not a second time.
    let in_history: std::collections::HashSet<(&str, &str)> = outcome
        .findings
        .iter()
        .filter_map(|f| match &f.origin {
            crate::source::Origin::Git(g) if g.repo == shown => {
                Some((g.path.as_str(), f.fingerprint.as_str()))
            }
            _ => None,
        })
        .collect();
    let prefix = format!("{}/", shown.trim_end_matches('/'));
    let fresh: Vec<_> = sub
        .findings
        .into_iter()
        .filter(|f| {
            let path = f.origin.display_path();
            let rel = path.strip_prefix(&prefix).unwrap_or(path);
            !in_history.contains(&(rel, f.fingerprint.as_str()))
        })
        .collect();
    outcome.findings.extend(fresh);
    outcome.errors.extend(sub.errors);
    outcome.notes.extend(sub.notes);
    outcome.notes.push(tree.summary(&shown, &skipped));
    outcome.stats.blobs_scanned += sub.stats.blobs_scanned;
    outcome.stats.bytes_scanned += sub.stats.bytes_scanned;
    outcome.stats.skipped_binary += sub.stats.skipped_binary;
    outcome.stats.skipped_too_large += sub.stats.skipped_too_large;
}

/// Runs `sprawl scan`.
pub fn run(args: ScanArgs) -> i32 {
    let started = now_iso();
    let mut scanned = scan_with(&args.common);
    if let Some(path) = &args.baseline {
        match Baseline::load(path) {
            Ok(b) => scanned.outcome.findings.retain(|f| !b.contains(f)),
            Err(e) => scanned.outcome.errors.push(e),
        }
    }
    if args.verify {
        match verify_options(&args.verify_flags) {
            Ok(opts) => {
                let st = crate::verify::verify_findings(
                    &mut scanned.outcome.findings,
                    &scanned.rules,
                    &opts,
                );
                scanned.outcome.notes.extend(st.cache_problem.clone());
                scanned.outcome.notes.push(format!(
                    "verification: {} distinct secret(s), {} request(s), {} cached: {} live, {} dead, {} unknown, {} skipped",
                    st.secrets, st.requests, st.cached, st.live, st.dead, st.unknown, st.skipped
                ));
            }
            Err(e) => scanned.outcome.errors.push(e),
        }
    }
    drop_companions(&mut scanned);
    if let Some(loc) = &args.common.store {
        record(loc, &args.common, &mut scanned, started);
    }
    let outcome = &scanned.outcome;
    for n in &outcome.notes {
        eprintln!("note: {}", crate::redact::control_chars(n));
    }
    for e in &outcome.errors {
        eprintln!("error: {}", crate::redact::control_chars(e));
    }
    if outcome.stats.skipped_too_large > 0 {
        eprintln!(
            "note: {} file(s) larger than --max-file-size were not scanned",
            outcome.stats.skipped_too_large
        );
    }
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let srcroot = source_root(&args.common);
    let mut input = ReportInput {
        findings: &outcome.findings,
        errors: &outcome.errors,
        notes: &outcome.notes,
        stats: &outcome.stats,
        rules: &scanned.rules,
        show_secrets: args.show_secrets && args.format != Format::Sarif,
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        srcroot: srcroot.as_deref(),
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| {
                let mut w = io::BufWriter::new(f);
                report::write(args.format, &input, &mut w)?;
                w.flush()
            })
            .map_err(|e| format!("{}: cannot write report: {e}", path.display())),
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            match report::write(args.format, &input, &mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write report: {e}"))
                }
                _ => Ok(()),
            }
        }
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return EXIT_ERROR;
    }
    if args.common.staged && !outcome.findings.is_empty() {
        eprintln!(
            "commit blocked: remove the secret from the staged files (and rotate it if it was ever pushed), or mark a reviewed line with a `sprawl:allow` comment"
        );
    }
    // Extra reports of the same scan: never with secrets, never coloured.
    input.show_secrets = false;
    input.color = false;
    for spec in &args.write {
        if let Err(e) = write_extra(spec, &input) {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    exit_code(outcome, args.exit_code)
}

/// Writes one `--write FORMAT=FILE` report.
fn write_extra(spec: &str, input: &ReportInput<'_>) -> Result<(), String> {
    use clap::ValueEnum;
    let (format, path) = spec
        .split_once('=')
        .ok_or_else(|| format!("--write {spec:?}: expected FORMAT=FILE"))?;
    let format = Format::from_str(format, true)
        .map_err(|_| format!("--write {spec:?}: unknown format {format:?}"))?;
    std::fs::File::create(path)
        .and_then(|f| {
            let mut w = io::BufWriter::new(f);
            report::write(format, input, &mut w)?;
            w.flush()
        })
        .map_err(|e| format!("{path}: cannot write report: {e}"))
}

/// The directory SARIF paths are relative to (`%SRCROOT%`): the work tree holding the first
/// target, else the first target directory (or its parent for a file), else the current
/// directory. Absolute.
fn source_root(common: &CommonScanArgs) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    // Remote and registry targets are not directories here (and a URL may carry
    // credentials): SARIF paths are then relative to the current directory.
    let first = common
        .targets
        .first()
        .filter(|t| {
            let text = t.to_string_lossy();
            text != "-" && !text.starts_with("oci://") && !is_remote(&text)
        })
        .map_or_else(|| cwd.clone(), |t| cwd.join(t));
    let first = first.canonicalize().unwrap_or(first);
    let dir = if first.is_file() {
        first.parent().map(Path::to_path_buf).unwrap_or(first)
    } else {
        first
    };
    let repo = dir
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf);
    Some(repo.unwrap_or(dir))
}

pub fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::time::iso8601(secs)
}

/// Writes the scan's findings to the inventory in one transaction; a store that cannot be
/// written is an error (exit 2), the report is still printed.
pub fn record(
    location: &str,
    common: &CommonScanArgs,
    scanned: &mut Scanned,
    started: String,
) -> u64 {
    if !scanned.store_key_ok {
        // Opening the store already failed and was reported: say once that nothing was
        // recorded instead of repeating the same error.
        scanned.outcome.errors.push(format!(
            "inventory {}: nothing recorded",
            crate::inventory::display_location(location)
        ));
        return 0;
    }
    match crate::inventory::open(location) {
        Ok(mut store) => record_in(store.as_mut(), location, common, scanned, started),
        Err(e) => {
            scanned.outcome.errors.push(e);
            0
        }
    }
}

/// [`record`] into an open store; returns the copies the scan holds.
pub fn record_in(
    store: &mut dyn crate::inventory::Store,
    location: &str,
    common: &CommonScanArgs,
    scanned: &mut Scanned,
    started: String,
) -> u64 {
    if !scanned.store_key_ok {
        scanned.outcome.errors.push(format!(
            "inventory {}: not recorded: its fingerprint key could not be read",
            crate::inventory::display_location(location)
        ));
        return 0;
    }
    let outcome = &mut scanned.outcome;
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
        finished: now_iso(),
        findings: outcome.findings.len() as u64,
        errors: outcome.errors.clone(),
        ..Default::default()
    };
    if let Some(inc) = &scanned.incremental {
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
                let text =
                    crate::inventory::cache::encode(&scanned.rules, &ms, common.store_secrets);
                (id, text)
            })
            .collect();
    }
    let written = store.record_scan(&scan, &outcome.findings, common.store_secrets);
    match written {
        Ok(n) => {
            outcome.notes.push(format!(
                "inventory {}: {n} finding(s) recorded",
                crate::inventory::display_location(location)
            ));
            n
        }
        Err(e) => {
            outcome.errors.push(e);
            0
        }
    }
}

/// Drops matches of companion-only rules (identifiers kept for verifiers, never findings).
pub fn drop_companions(scanned: &mut Scanned) {
    let companion: std::collections::HashSet<&str> = scanned
        .rules
        .iter()
        .filter(|r| r.spec.companion_only)
        .map(|r| r.spec.id.as_str())
        .collect();
    if !companion.is_empty() {
        scanned
            .outcome
            .findings
            .retain(|f| !companion.contains(f.rule_id.as_str()));
    }
}

/// Verification settings from the command line.
pub fn verify_options(args: &super::VerifyFlags) -> Result<crate::verify::VerifyOptions, String> {
    let mut endpoints = std::collections::HashMap::new();
    for e in &args.verify_endpoint {
        let (k, v) = e
            .split_once('=')
            .ok_or_else(|| format!("--verify-endpoint {e:?}: expected PROVIDER=URL"))?;
        if !v.starts_with("https://") {
            return Err(format!("--verify-endpoint {e:?}: the URL must be https"));
        }
        endpoints.insert(k.to_string(), v.to_string());
    }
    let ca_pem = match &args.verify_ca {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    Ok(crate::verify::VerifyOptions {
        endpoints,
        allow_internal: args.allow_internal,
        ca_pem,
        timeout: std::time::Duration::from_secs(args.verify_timeout.max(1)),
        concurrency: args.verify_concurrency.max(1),
        skip_aws_accounts: args.skip_aws_account.clone(),
        cache: args.verify_cache.clone(),
        max_age: std::time::Duration::from_secs(args.verify_max_age),
        ..crate::verify::VerifyOptions::default()
    })
}

/// 2 on any error (fail closed), else `findings_code` when there are findings, else 0.
pub fn exit_code(outcome: &ScanOutcome, findings_code: i32) -> i32 {
    if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if !outcome.findings.is_empty() {
        findings_code
    } else {
        EXIT_CLEAN
    }
}
