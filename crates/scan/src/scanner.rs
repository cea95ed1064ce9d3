//! The library's scan entry point: a [`Scanner`] is built once from a [`ScanPlan`], compiles
//! its rules once (per distinct config), and scans targets with the pipeline that fits each
//! one — files and directories, repositories (history, then the working tree), remote
//! repositories (cloned), images — merging the outcomes. It applies the [`FindingPolicy`]'s
//! allowlists and baseline; verification, companion removal, recording and printing are the
//! caller's.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::git::{GitMode, GitOptions, Known, scan_repo};
use crate::image::{ImageOptions, ImageTarget, scan_images};
use crate::memory::{Incremental, Recall};
use crate::plan::{ScanPlan, Target, classify};
use crate::policy::FindingPolicy;
use crate::{Observer, ScanOptions, ScanOutcome, scan_paths, sort_findings};
use sprawl_core::config::Config;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::rules::Rule;
use sprawl_core::rules::load;
use sprawl_detect::Engine;
use sprawl_source::fs::{WalkOptions, Windowing};

/// Rules compiled for one config, with what loading them said.
struct Compiled {
    engine: Arc<Engine>,
    errors: Vec<String>,
    notes: Vec<String>,
    /// Digest of the rules ([`crate::memory::rules_digest`]), computed the first time an
    /// incremental scan needs it (it formats every rule).
    digest: OnceLock<String>,
}

/// Scans targets under one plan. Build it once; an audit of many targets reuses it, so rules
/// are compiled once per distinct config rather than once per target.
pub struct Scanner {
    plan: ScanPlan,
    /// Engines by the config fields that decide rules (a discovered `.sprawl.toml` may add or
    /// disable rules, so targets with different configs need different engines).
    compiled: Mutex<Vec<(String, Arc<Compiled>)>>,
}

/// A finished scan: what was found, the rules it used, and what it means for memory.
pub struct ScanReport {
    /// Findings (after allowlists and baseline), errors, notes and counters.
    pub outcome: ScanOutcome,
    /// The rules in force.
    pub rules: Arc<Vec<Rule>>,
    /// The policy in force; [`FindingPolicy::drop_companions`] is for after verification.
    pub policy: FindingPolicy,
    /// Set for a target scanned incrementally against remembered memory.
    pub incremental: Option<Incremental>,
}

impl Scanner {
    /// A scanner for `plan`.
    pub fn new(plan: ScanPlan) -> Scanner {
        Scanner {
            plan,
            compiled: Mutex::new(Vec::new()),
        }
    }

    /// The plan this scanner runs.
    pub fn plan(&self) -> &ScanPlan {
        &self.plan
    }

    /// Scans the plan's targets (`.` when none).
    pub fn scan(&self, observer: Option<Arc<dyn Observer>>) -> ScanReport {
        self.run(&self.plan.targets_or_cwd(), None, observer)
    }

    /// Scans `targets` instead of the plan's (an audit's targets, one at a time), remembering
    /// nothing.
    pub fn scan_targets_of(
        &self,
        targets: &[PathBuf],
        observer: Option<Arc<dyn Observer>>,
    ) -> ScanReport {
        self.run(targets, None, observer)
    }

    /// Scans one audit target incrementally: blobs `recall` remembers of `key` (the target as
    /// the store names it, credentials masked) under the same rules and settings are not read
    /// again, and a repository whose ref tips have not moved is not read at all. The report
    /// says what to remember ([`ScanOutcome::objects`], `tips`).
    pub fn scan_remembering(
        &self,
        target: &Path,
        key: &str,
        recall: &mut dyn Recall,
        observer: Option<Arc<dyn Observer>>,
    ) -> ScanReport {
        self.run(&[target.to_path_buf()], Some((key, recall)), observer)
    }

    /// The rules for `config`, compiled the first time they are asked for.
    fn compiled(&self, config: &Config) -> Arc<Compiled> {
        let key = format!(
            "{:?}|{:?}|{:?}|{}|{}",
            config.rules, config.rule, config.base_dir, config.source, config.trusted
        );
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = compiled.iter().find(|(k, _)| *k == key) {
            return Arc::clone(c);
        }
        let mut loaded = load::builtin();
        // Explicit --rules first: a repository's config cannot pre-empt them.
        loaded.set_trust(load::Trust::User);
        for p in &self.plan.rules {
            loaded.add_path(p);
        }
        loaded.set_trust(if config.trusted || self.plan.trust_config {
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
        let c = Arc::new(Compiled {
            engine: Arc::new(Engine::new(loaded.rules)),
            errors: loaded.errors,
            notes: loaded.notes,
            digest: OnceLock::new(),
        });
        compiled.push((key, Arc::clone(&c)));
        c
    }

    fn run(
        &self,
        targets: &[PathBuf],
        recall: Option<(&str, &mut dyn Recall)>,
        observer: Option<Arc<dyn Observer>>,
    ) -> ScanReport {
        let plan = &self.plan;
        let mut errors = Vec::new();
        let config = match Config::discover(plan.config.as_deref(), targets) {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                Config::default()
            }
        };
        let compiled = self.compiled(&config);
        let engine = &compiled.engine;
        errors.extend(compiled.errors.iter().cloned());
        let baseline =
            plan.baseline
                .as_deref()
                .and_then(|p| match sprawl_core::baseline::Baseline::load(p) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                });
        let policy = FindingPolicy::new(&config, baseline, engine.rules(), &mut errors);
        let fp = Fingerprinter::new(plan.key().as_bytes());

        let (incremental, known) = match recall {
            Some((target, recall)) => {
                let rules_digest = compiled
                    .digest
                    .get_or_init(|| crate::memory::rules_digest(engine.rules()));
                let digest = crate::memory::scan_digest(
                    rules_digest,
                    &plan.detect.digest(&config, plan.key()),
                );
                let mut inc = Incremental {
                    target: target.to_string(),
                    rules_digest: digest.clone(),
                    last_scan: None,
                    tips: None,
                };
                match recall.recall(target, &digest) {
                    Ok(mem) => {
                        let known = crate::memory::known_from(&mem, engine.rules());
                        inc.last_scan = mem.last_scan;
                        inc.tips = mem.tips;
                        (Some(inc), Some(Arc::new(known)))
                    }
                    Err(e) => {
                        errors.push(e);
                        (Some(inc), None)
                    }
                }
            }
            None => (None, None),
        };
        let mut excludes = config.scan.exclude.clone();
        excludes.extend(plan.excludes.iter().cloned());
        let opts = ScanOptions {
            targets: targets.to_vec(),
            walk: WalkOptions {
                // Gitignored files are scanned unless --respect-gitignore; dependency and
                // build directories are skipped (and counted) unless --no-ignore.
                no_ignore: !plan.respect_gitignore,
                follow_symlinks: plan.follow_symlinks,
                excludes,
                threads: plan.threads.max(1),
                skip_dependency_dirs: (!plan.no_ignore && !plan.respect_gitignore)
                    .then(|| Arc::new(Mutex::new(Vec::new()))),
                dependencies_too: false,
                skip_nested_repos: false,
            },
            max_file_size: plan.detect.max_file_size,
            windowing: Windowing::default(),
            observer,
            archives: plan.detect.archives(),
            work_tree: None,
            gitignored: None,
        };
        // Audits record what repositories hold (and remember it between runs); a working
        // tree is a local scan's business.
        let work_trees = incremental.is_none();
        let mut outcome = self.scan_targets(engine, &fp, opts, known, work_trees, &mut errors);
        outcome.errors.splice(0..0, errors);
        outcome.notes.splice(0..0, compiled.notes.iter().cloned());
        // User rules that blew their time budget during this scan.
        outcome.errors.extend(
            engine
                .rules()
                .iter()
                .filter_map(|r| r.exhausted.get().cloned()),
        );
        policy.admit(&mut outcome.findings);
        policy.admit_remembered(&mut outcome.objects);
        if outcome.stats.blobs_scanned == 0 && !outcome.empty_ok {
            outcome.errors.push(format!(
                "nothing was scanned: no readable text file under the target(s) ({} binary, {} oversized skipped)",
                outcome.stats.skipped_binary, outcome.stats.skipped_too_large
            ));
        }
        ScanReport {
            outcome,
            rules: Arc::clone(engine.rules()),
            policy,
            incremental,
        }
    }

    /// Scans every target with the pipeline that fits it and merges the outcomes.
    fn scan_targets(
        &self,
        engine: &Arc<Engine>,
        fp: &Fingerprinter,
        mut opts: ScanOptions,
        known: Option<Arc<Known>>,
        work_trees: bool,
        errors: &mut Vec<String>,
    ) -> ScanOutcome {
        let plan = &self.plan;
        let mut notes = Vec::new();
        let targets = classify(plan, &opts.targets, errors, &mut notes);
        let base_opts = opts.clone();
        let started = std::time::Instant::now();
        let files: Vec<PathBuf> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Files(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        let mut outcome = if files.is_empty() {
            ScanOutcome::default()
        } else {
            opts.targets = files.clone();
            if !plan.respect_gitignore && !plan.no_ignore {
                // Which scanned files a gitignore-respecting walk would have skipped
                // (counted in the summary line).
                opts.gitignored = Some(Arc::new(sprawl_source::fs::visible_files(
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
                use sprawl_source::git::worktree::{count_dirs, list_dirs};
                o.notes.push(format!(
                    "{} not scanned ({}): --no-ignore scans them",
                    count_dirs(skipped.len()),
                    list_dirs(&skipped)
                ));
            }
            o
        };
        outcome.notes.splice(0..0, notes);
        for dir in files.iter().filter(|p| p.is_dir()) {
            let facts = crate::facts::of_dir(
                dir,
                &dir.display().to_string(),
                plan.consumers,
                &mut outcome.errors,
            );
            self.take_facts(facts, None, Some(dir), true, &mut outcome);
        }
        let git_opts = GitOptions {
            mode: plan.git_mode.clone(),
            all_objects: plan.detect.all_objects,
            seen_file: plan.seen_file.clone(),
            threads: opts.walk.threads,
            windowing: opts.windowing,
            recurse_submodules: plan.detect.recurse_submodules,
            path_prefix: None,
            max_blob_size: plan.detect.max_file_size,
            known: known.clone(),
            // A repository's working tree is compared with its history's blobs.
            collect_blobs: work_trees,
            read: plan.git_read,
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
                platform: plan.platform.clone(),
                limits: plan.detect.layers(),
                max_file_size: plan.detect.max_file_size,
                windowing: opts.windowing,
                seen_file: plan.seen_file.clone(),
                registry: plan.registry.clone(),
                known_signature: known.as_ref().and_then(|k| k.tips.clone()),
            };
            scan_images(engine, fp, &images, &image_opts, &mut outcome);
        }
        for t in targets {
            match t {
                Target::Files(_) | Target::Image(_) => {}
                Target::GitLabCi(g) => crate::cilogs::scan_gitlab(
                    engine,
                    fp,
                    &g,
                    &plan.ci_logs,
                    opts.windowing,
                    &plan.detect.layers(),
                    known.as_deref().map(|k| &k.others),
                    &mut outcome,
                ),
                Target::CiLogs(g) => crate::cilogs::scan_gha(
                    engine,
                    fp,
                    &g,
                    &plan.ci_logs,
                    opts.windowing,
                    &plan.detect.layers(),
                    known.as_deref().map(|k| &k.others),
                    &mut outcome,
                ),
                Target::Repo(p) => {
                    let label = p.display().to_string();
                    scan_repo(engine, fp, &p, &label, &git_opts, &mut outcome);
                    let work_tree = work_trees
                        && matches!(git_opts.mode, GitMode::Full)
                        && p.join(".git").exists();
                    if work_tree {
                        self.scan_work_tree(engine, fp, &base_opts, &p, &mut outcome);
                    }
                    // An unchanged repository yields no findings and keeps the inventory's
                    // consumers map: nothing to read.
                    if !outcome.unchanged.contains(&label) {
                        let facts =
                            crate::facts::of_repo(&p, &label, plan.consumers, &mut outcome.errors);
                        let dir = work_tree.then_some(p.as_path());
                        self.take_facts(facts, Some(&label), dir, false, &mut outcome);
                    }
                }
                Target::RepoPath(root, prefix) => {
                    let opts = GitOptions {
                        path_prefix: Some(prefix.clone()),
                        ..git_opts.clone()
                    };
                    let label = format!("{}:{prefix}", root.display());
                    scan_repo(engine, fp, &root, &label, &opts, &mut outcome);
                    let facts =
                        crate::facts::of_repo(&root, &label, plan.consumers, &mut outcome.errors);
                    self.take_facts(facts, Some(&label), None, false, &mut outcome);
                }
                Target::Remote(url) => match clone(&url, plan.keep_clone.as_deref()) {
                    // Everything downstream (reports, inventory, errors) sees the masked URL.
                    Ok((dir, _guard)) => {
                        let label = sprawl_core::redact::url(&url);
                        scan_repo(engine, fp, &dir, &label, &git_opts, &mut outcome);
                        if !outcome.unchanged.contains(&label) {
                            let facts = crate::facts::of_repo(
                                &dir,
                                &label,
                                plan.consumers,
                                &mut outcome.errors,
                            );
                            self.take_facts(facts, Some(&label), None, false, &mut outcome);
                        }
                    }
                    Err(e) => outcome.errors.push(e),
                },
            }
        }
        sort_findings(&mut outcome.findings);
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Gives the findings of one target their owners and keeps its consumers for the
    /// inventory (`files`: the directory targets, which the inventory names together).
    fn take_facts(
        &self,
        facts: crate::facts::TargetFacts,
        repo: Option<&str>,
        dir: Option<&Path>,
        files: bool,
        outcome: &mut ScanOutcome,
    ) {
        if let Some(owners) = &facts.owners {
            crate::facts::attach_owners(&mut outcome.findings, owners, repo, dir);
        }
        let target = (!files).then(|| facts.target.clone());
        if facts.consumers_read && !outcome.consumers_read.contains(&target) {
            outcome.consumers_read.push(target.clone());
        }
        outcome
            .consumers
            .extend(facts.consumers.into_iter().map(|c| (target.clone(), c)));
    }

    /// Scans the files of a repository's working tree that its history does not hold byte for
    /// byte (untracked, gitignored, modified), as files with that reason in their origin, and
    /// merges them into `outcome`.
    fn scan_work_tree(
        &self,
        engine: &Arc<Engine>,
        fp: &Fingerprinter,
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
        let tree = match sprawl_source::git::open(root)
            .and_then(|repo| sprawl_source::git::worktree::WorkTree::open(root, &repo, history))
        {
            Ok(t) => Arc::new(t),
            Err(e) => {
                outcome.errors.push(e);
                return;
            }
        };
        let skipped = Arc::new(Mutex::new(Vec::new()));
        let mut opts = base.clone();
        opts.targets = vec![root.to_path_buf()];
        // Gitignored files are exactly where local secrets live: walk everything, but leave
        // dependency and build directories alone unless --no-ignore.
        opts.walk.no_ignore = true;
        opts.walk.skip_dependency_dirs = Some(Arc::clone(&skipped));
        opts.walk.dependencies_too = self.plan.no_ignore;
        opts.walk.skip_nested_repos = true;
        opts.gitignored = None;
        opts.work_tree = Some(Arc::clone(&tree));
        let sub = scan_paths(Arc::clone(engine), fp.clone(), &opts);
        let skipped = skipped.lock().map(|v| v.clone()).unwrap_or_default();
        // A modified file still holds the secrets of its committed version: those are
        // reported by history (present at HEAD), not a second time.
        let in_history: std::collections::HashSet<(&str, &str)> = outcome
            .findings
            .iter()
            .filter_map(|f| match &f.origin {
                sprawl_source::Origin::Git(g) if g.repo == shown => {
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
}

/// Clones `url` bare (into `keep` or a temporary directory that is removed afterwards, also
/// when a signal ends the run). Messages show the URL with its credentials masked; git's own
/// error output is passed through the same mask.
fn clone(
    url: &str,
    keep: Option<&Path>,
) -> Result<(PathBuf, Option<sprawl_source::spill::TempDir>), String> {
    let shown = sprawl_core::redact::url(url);
    let (dir, guard) = match keep {
        Some(k) => (k.to_path_buf(), None),
        None => {
            let t = sprawl_source::spill::TempDir::new("sprawl-clone-")
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
        let said = sprawl_core::redact::line(said.trim());
        let said: String = said.chars().take(500).collect();
        return Err(format!(
            "{shown}: git clone failed ({}): {said}",
            out.status
        ));
    }
    Ok((dir, guard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stats;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Counts what the directory pipeline reports.
    #[derive(Default)]
    struct Counting {
        finished: AtomicU64,
    }

    impl Observer for Counting {
        fn progress(&self, _: &Stats, _: usize) {}
        fn finished(&self) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A program embedding sprawl: a plan, a scanner, a scan — no binary, no argument parser.
    #[test]
    fn an_embedding_program_scans_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        // A structurally valid fake (GitHub classic PAT shape with a CRC32 checksum).
        let random = "q8Zr2LmN5vBc7XkP1sDf4GhJ6tYw9E";
        let check = sprawl_detect::checksum::base62_padded(crc32fast::hash(random.as_bytes()), 6);
        let token = format!("ghp_{random}{}", String::from_utf8(check).unwrap());
        std::fs::write(
            dir.path().join("deploy.sh"),
            format!("export GH_TOKEN={token}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "nothing here\n").unwrap();
        std::fs::write(
            dir.path().join(".sprawl.toml"),
            "[allow]\nsecrets = ['^never$']\n",
        )
        .unwrap();
        let plan = ScanPlan {
            targets: vec![dir.path().to_path_buf()],
            threads: 2,
            ..ScanPlan::default()
        };
        let scanner = Scanner::new(plan);
        let observer = Arc::new(Counting::default());
        let report = scanner.scan(Some(observer.clone() as Arc<dyn Observer>));
        assert!(
            report.outcome.errors.is_empty(),
            "{:?}",
            report.outcome.errors
        );
        assert_eq!(
            report.outcome.findings.len(),
            1,
            "{:?}",
            report.outcome.findings
        );
        let f = &report.outcome.findings[0];
        assert!(f.rule_id.starts_with("github."), "{}", f.rule_id);
        assert!(f.origin.display_path().ends_with("deploy.sh"));
        assert!(!f.preview.contains(&token), "previews are redacted");
        assert_eq!(report.outcome.stats.blobs_scanned, 3);
        assert_eq!(observer.finished.load(Ordering::Relaxed), 1);
        // The same scanner scans again without compiling its rules again.
        let again = scanner.scan(None);
        assert_eq!(again.outcome.findings.len(), 1);
        assert!(Arc::ptr_eq(&report.rules, &again.rules));
    }
}
