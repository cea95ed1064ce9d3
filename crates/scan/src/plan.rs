//! A scan's settings, lowered once from wherever they came from (the command line, an embedding
//! program), and the classification of its targets. Nothing here knows about argument parsing:
//! the binary lowers its flags into a [`ScanPlan`], a library user fills one in directly.

use std::path::{Path, PathBuf};

use crate::git::{GitMode, GitRead};
use crate::image::ImageTarget;
use sprawl_source::archive::Limits;
use sprawl_source::image::registry::RegistryOptions;

/// What to do with a repository's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitHistory {
    /// Every blob of every ref (and the working tree's own files).
    Full,
    /// Only the files on disk.
    None,
}

/// Everything that changes what a blob yields. The incremental-audit digest is derived from
/// this struct as a whole ([`DetectSettings::digest`]), so a setting added here invalidates
/// remembered matches without anyone having to remember to list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectSettings {
    /// Skip files and blobs larger than this many bytes.
    pub max_file_size: Option<u64>,
    /// Also scan git objects no ref reaches.
    pub all_objects: bool,
    /// Also scan the history of submodules.
    pub recurse_submodules: bool,
    /// Open archives this deep (0: archives are plain files).
    pub archive_depth: usize,
    /// Stop reading a layer or nested archive past this many decompressed bytes.
    pub max_layer_size: u64,
    /// Stop reading a layer whose decompressed size passes this multiple of its stored size.
    pub max_layer_ratio: u64,
}

impl Default for DetectSettings {
    fn default() -> DetectSettings {
        DetectSettings {
            max_file_size: None,
            all_objects: false,
            recurse_submodules: false,
            archive_depth: 3,
            max_layer_size: 64 << 30,
            max_layer_ratio: 100,
        }
    }
}

impl DetectSettings {
    /// A digest of these settings, the config in force (its `Debug` form: allowlists, rules,
    /// excludes) and the fingerprint key (hashed: matches carry fingerprints made with it).
    pub fn digest(&self, config: &sprawl_core::config::Config, fingerprint_key: &str) -> String {
        let text = format!(
            "{self:?}|{config:?}|{}",
            blake3::hash(fingerprint_key.as_bytes())
        );
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }

    /// Archive limits for a directory scan (`None` when archives are plain files).
    pub fn archives(&self) -> Option<Limits> {
        (self.archive_depth > 0).then(|| Limits {
            max_bytes: self.max_layer_size,
            max_ratio: self.max_layer_ratio.max(1),
            max_depth: self.archive_depth,
            ..Limits::default()
        })
    }

    /// Limits for image layers (depth 0 still reads the layer itself).
    pub fn layers(&self) -> Limits {
        Limits {
            max_bytes: self.max_layer_size,
            max_ratio: self.max_layer_ratio.max(1),
            max_depth: self.archive_depth,
            ..Limits::default()
        }
    }

    /// Limits for sniffing a tarball target (at least one level deep).
    pub fn sniff(&self) -> Limits {
        Limits {
            max_depth: self.archive_depth.max(1),
            ..self.layers()
        }
    }
}

/// A fully lowered scan: targets, rules, walk, git, image and registry settings.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Files, directories, repositories (paths or URLs), images; `-` is stdin; empty means `.`.
    pub targets: Vec<PathBuf>,
    /// A config file given by the user (trusted); `None` looks for `.sprawl.toml` in the first
    /// directory target (untrusted unless [`ScanPlan::trust_config`]).
    pub config: Option<PathBuf>,
    /// Trust a discovered `.sprawl.toml` as if it had been given.
    pub trust_config: bool,
    /// Extra rule files or directories.
    pub rules: Vec<PathBuf>,
    /// Globs of paths to skip (gitignore syntax).
    pub excludes: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// Scan dependency and build directories too.
    pub no_ignore: bool,
    /// Skip what `.gitignore` excludes in directory scans.
    pub respect_gitignore: bool,
    /// Follow symbolic links.
    pub follow_symlinks: bool,
    /// Organisation key for fingerprints (an inventory's own key, resolved by the caller).
    pub fingerprint_key: Option<String>,
    /// What to do with repositories' history (`None`: full for repositories, files otherwise).
    pub git_history: Option<GitHistory>,
    /// Which part of a repository's history to scan.
    pub git_mode: GitMode,
    /// How history blobs are read (same findings either way).
    pub git_read: GitRead,
    /// Skip git blobs and image layers listed in this file, and append the ones scanned.
    pub seen_file: Option<PathBuf>,
    /// Keep a remote repository's clone here instead of a temporary directory.
    pub keep_clone: Option<PathBuf>,
    /// Images: only this platform of multi-platform images.
    pub platform: Option<String>,
    /// How registries are reached.
    pub registry: RegistryOptions,
    /// Settings that change what a blob yields.
    pub detect: DetectSettings,
    /// Accepted secrets: only findings not in this baseline are reported.
    pub baseline: Option<PathBuf>,
    /// Read each repository's and directory's CI consumers map (for an inventory).
    pub consumers: bool,
    /// How CI logs (`gha://` targets) are read.
    pub ci_logs: sprawl_source::cilogs::CiLogOptions,
}

impl Default for ScanPlan {
    fn default() -> ScanPlan {
        ScanPlan {
            targets: Vec::new(),
            config: None,
            trust_config: false,
            rules: Vec::new(),
            excludes: Vec::new(),
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            no_ignore: false,
            respect_gitignore: false,
            follow_symlinks: false,
            fingerprint_key: None,
            git_history: None,
            git_mode: GitMode::Full,
            git_read: GitRead::Packs,
            seen_file: None,
            keep_clone: None,
            platform: None,
            registry: RegistryOptions::default(),
            detect: DetectSettings::default(),
            baseline: None,
            consumers: false,
            ci_logs: sprawl_source::cilogs::CiLogOptions::default(),
        }
    }
}

impl ScanPlan {
    /// The targets, `.` when none were given.
    pub fn targets_or_cwd(&self) -> Vec<PathBuf> {
        if self.targets.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.targets.clone()
        }
    }

    /// True when only part of a history is asked for (staged, a range): such a scan needs a
    /// repository.
    pub fn git_only(&self) -> bool {
        !matches!(self.git_mode, GitMode::Full)
    }

    /// The fingerprint key in force (empty when none).
    pub fn key(&self) -> &str {
        self.fingerprint_key.as_deref().unwrap_or("")
    }
}

/// Lowers `--range A..B` (`A..` means `A..HEAD`).
pub fn range_mode(range: &str) -> GitMode {
    let (a, b) = range.split_once("..").unwrap_or((range, "HEAD"));
    let b = if b.is_empty() { "HEAD" } else { b };
    GitMode::Range {
        exclude: vec![a.to_string()],
        include: vec![b.to_string()],
    }
}

/// Lowers `--since REV` (`REV..HEAD`).
pub fn since_mode(rev: &str) -> GitMode {
    GitMode::Range {
        exclude: vec![rev.to_string()],
        include: vec!["HEAD".to_string()],
    }
}

/// How one target is scanned.
#[derive(Debug, Clone)]
pub enum Target {
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
    /// The job logs of a repository's GitHub Actions runs (`gha://OWNER/REPO`).
    CiLogs(sprawl_source::cilogs::GhaTarget),
    /// The job traces of a GitLab project's pipelines (`gitlab-ci://GROUP/PROJECT`).
    GitLabCi(sprawl_source::gitlab_ci::GitLabTarget),
}

/// True for `https://`, `ssh://`, `git://`, `file://` URLs and scp-like `user@host:path`.
pub fn is_remote(t: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|p| t.starts_with(p))
        || (t.contains('@')
            && t.find(':').is_some_and(|c| !t[..c].contains('/'))
            && !Path::new(t).exists())
}

/// Classifies each target once; problems go to `errors`, repeats to `notes`.
pub fn classify(
    plan: &ScanPlan,
    targets: &[PathBuf],
    errors: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Vec<Target> {
    use sprawl_source::image::store;
    let git_only = plan.git_only();
    let limits = plan.detect.sniff();
    let mut out = Vec::new();
    let mut given = std::collections::HashSet::new();
    for t in targets {
        let text = t.to_string_lossy();
        // The same target twice (`d d`, `d ./d`) would report every finding twice.
        let key = std::fs::canonicalize(t).unwrap_or_else(|_| t.clone());
        if !given.insert(key) {
            notes.push(format!(
                "{}: given more than once, scanned once",
                sprawl_core::redact::url(&text)
            ));
            continue;
        }
        if text == "-" {
            out.push(Target::Files(t.clone()));
        } else if text.starts_with("oci://") {
            out.push(Target::Image(ImageTarget::Registry(text.into_owned())));
        } else if text.starts_with("gitlab-ci://") {
            match sprawl_source::gitlab_ci::GitLabTarget::parse(&text) {
                Some(g) => out.push(Target::GitLabCi(g)),
                None => errors.push(format!("{text}: expected gitlab-ci://GROUP/PROJECT")),
            }
        } else if text.starts_with("gha://") {
            match sprawl_source::cilogs::GhaTarget::parse(&text) {
                Some(g) => out.push(Target::CiLogs(g)),
                None => errors.push(format!(
                    "{text}: expected gha://OWNER/REPO or gha://HOST/OWNER/REPO"
                )),
            }
        } else if let Some(kind) = (!git_only && !sprawl_source::git::is_repository(t))
            .then(|| store::sniff(t))
            .flatten()
        {
            // A tarball that is not an image (no manifest.json or index.json) is an archive:
            // its members are scanned like those of an archive inside a directory.
            match store::is_image_archive(t, kind, &limits) {
                Ok(true) => out.push(Target::Image(ImageTarget::Disk(t.clone(), kind))),
                Ok(false) => {
                    if kind == store::DiskImage::Tar && !store::has_tar_trailer(t) {
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
        } else if sprawl_source::git::is_repository(t) && plan.git_history != Some(GitHistory::None)
        {
            match sprawl_source::git::open(t) {
                Ok(_) => out.push(Target::Repo(t.clone())),
                // A work tree whose `.git` is broken (a gitdir file pointing nowhere, garbage)
                // still has files: scan them, and say the history could not be read.
                Err(e) if t.join(".git").exists() && t.is_dir() && !git_only => {
                    errors.push(format!("{e}; its files are scanned without history"));
                    out.push(Target::Files(t.clone()));
                }
                Err(e) => errors.push(e),
            }
        } else if plan.git_history == Some(GitHistory::Full) || git_only {
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

/// The directory SARIF paths are relative to (`%SRCROOT%`): the work tree holding the first
/// target, else the first target directory (or its parent for a file), else the current
/// directory. Absolute.
pub fn source_root(targets: &[PathBuf]) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    // Remote and registry targets are not directories here (and a URL may carry
    // credentials): SARIF paths are then relative to the current directory.
    let first = targets
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_follows_every_detection_setting() {
        let config = sprawl_core::config::Config::default();
        let base = DetectSettings::default();
        let d = base.digest(&config, "");
        assert_eq!(d, DetectSettings::default().digest(&config, ""));
        for changed in [
            DetectSettings {
                max_file_size: Some(1),
                ..base.clone()
            },
            DetectSettings {
                all_objects: true,
                ..base.clone()
            },
            DetectSettings {
                archive_depth: 0,
                ..base.clone()
            },
        ] {
            assert_ne!(changed.digest(&config, ""), d);
        }
        assert_ne!(base.digest(&config, "org key"), d);
    }

    #[test]
    fn ranges_lower_to_exclude_and_include() {
        assert_eq!(
            range_mode("main.."),
            GitMode::Range {
                exclude: vec!["main".into()],
                include: vec!["HEAD".into()]
            }
        );
        assert_eq!(range_mode("a..b"), range_mode("a..b"));
        assert!(is_remote("git@github.com:o/r.git") && !is_remote("./dir"));
    }
}
