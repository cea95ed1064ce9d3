//! Where a finding was found: a file, stdin, a path in git history, a file in an image layer.

use serde::Serialize;

/// Where a blob was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A file on disk (path as given on the command line, joined with the walk).
    File {
        /// The file's path.
        path: String,
        /// Set for a file of a repository's working tree that its history does not hold
        /// byte for byte (untracked, gitignored or modified).
        #[serde(skip_serializing_if = "Option::is_none")]
        work_tree: Option<WorkTreeState>,
    },
    /// Standard input (`-`).
    Stdin,
    /// A path in a git repository, with every commit that brought the secret there.
    Git(Box<GitOrigin>),
    /// A file in an image layer, or a field of an image config.
    Image(Box<ImageOrigin>),
    /// A line of a CI job's log.
    CiLog(Box<CiLogOrigin>),
}

/// Where a secret was printed: a CI job's log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CiLogOrigin {
    /// The target as given (`gha://OWNER/REPO`).
    pub target: String,
    /// Workflow run id.
    pub run: u64,
    /// Attempt of the run (re-runs are attempts).
    pub attempt: u64,
    /// The workflow's name.
    pub workflow: String,
    /// The job's name.
    pub job: String,
    /// The step whose output holds the line, when the log's timestamps place it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the job started (ISO 8601).
    pub date: String,
    /// The job's page (the run's, for an artifact).
    pub url: String,
    /// For a file of a run's artifact: `NAME.zip!/member`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// `gha://OWNER/REPO run 1234 job build` as paths show it.
    pub path: String,
}

/// Why a working-tree file of a repository target was scanned beside its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkTreeState {
    /// Not in the index and not ignored.
    Untracked,
    /// Excluded by `.gitignore` (or `.git/info/exclude`): never committed by design.
    Gitignored,
    /// Tracked, but its content on disk differs from every committed version.
    Modified,
}

impl WorkTreeState {
    /// How reports say it: `working tree, untracked`.
    pub fn describe(self) -> &'static str {
        match self {
            WorkTreeState::Untracked => "working tree, untracked",
            WorkTreeState::Gitignored => "working tree, gitignored",
            WorkTreeState::Modified => "working tree, modified, not committed",
        }
    }
}

/// Where a secret lives in a git repository: one path, all the commits that introduced it there,
/// and whether it is still at a ref tip or only in history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GitOrigin {
    /// The repository as given on the command line.
    pub repo: String,
    /// Path inside the repository.
    pub path: String,
    /// Every commit that introduced the secret at this path, oldest first (empty when staged).
    pub commits: Vec<GitCommit>,
    /// Refs whose tip still holds the secret at this path.
    pub present_in: Vec<std::sync::Arc<str>>,
    /// True when no ref tip holds it: rotate it all the same, it is in every clone.
    pub history_only: bool,
    /// The commit that removed or replaced the last copy at this path, when known.
    pub removed_in: Option<GitCommit>,
    /// Staged in the index, not committed yet (`--staged`).
    pub staged: bool,
    /// Blob holding the secret (the first one, when several did).
    pub blob: String,
}

/// A commit as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GitCommit {
    /// Commit id (hex).
    pub commit: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author date, ISO 8601 UTC.
    pub date: String,
    /// First line of the message.
    pub summary: String,
    /// Line of the secret in the file as of this commit.
    pub line: usize,
}

impl Origin {
    /// The path shown in reports.
    pub fn display_path(&self) -> &str {
        match self {
            Origin::File { path, .. } => path,
            Origin::Stdin => "<stdin>",
            Origin::Git(g) => &g.path,
            Origin::Image(i) => &i.path,
            Origin::CiLog(c) => &c.path,
        }
    }

    /// Reports sort by this: image and layer first (empty for files and repositories), then
    /// the path.
    pub fn sort_key(&self) -> (&str, usize, &str) {
        match self {
            Origin::Image(i) => (&i.image, i.layer_index.map_or(0, |l| l + 1), &i.path),
            o => ("", 0, o.display_path()),
        }
    }
}

/// Where a secret lives in an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImageOrigin {
    /// The image as reports name it.
    pub image: String,
    /// `os/arch[/variant]`, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// 0-based layer index (base layer is 0); absent for the image config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// Digest of the layer as the manifest lists it (compressed), or its diff id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    /// The build instruction that created the layer (`history[].created_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Path inside the layer (`a.jar!/b.properties` inside nested archives), or the config
    /// field (`config:Env[2]`).
    pub path: String,
    /// Whether the file can still be seen in the image's final filesystem.
    pub visibility: Visibility,
}

/// Whether a layer's file is part of the image's final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Visibility {
    /// The final filesystem has this very file.
    Visible,
    /// A later layer hides it; it is still in the image for anyone who pulls it.
    Hidden {
        /// Index of the first layer that hides it.
        by_layer: usize,
        /// How that layer hides it.
        how: HiddenBy,
    },
    /// Found in the image config (environment, command, labels, history).
    Config,
}

/// How a later layer hides a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenBy {
    /// A whiteout `.wh.NAME` for the file or one of its parent directories.
    Whiteout,
    /// An opaque directory marker `.wh..wh..opq` in a parent directory.
    OpaqueDirectory,
    /// The same path written again with other content.
    Overwritten,
    /// A parent directory replaced by a file or symlink.
    ParentReplaced,
}

impl Visibility {
    /// A short phrase for the text report.
    pub fn describe(&self) -> String {
        match self {
            Visibility::Visible => "visible in the final filesystem".to_string(),
            Visibility::Config => "in the image config".to_string(),
            Visibility::Hidden { by_layer, how } => {
                let how = match how {
                    HiddenBy::Whiteout => "deleted (whiteout)",
                    HiddenBy::OpaqueDirectory => "hidden (opaque directory)",
                    HiddenBy::Overwritten => "overwritten",
                    HiddenBy::ParentReplaced => "hidden (parent directory replaced)",
                };
                format!(
                    "{how} by layer {by_layer}, but still in the image: anyone who pulls it has the secret"
                )
            }
        }
    }
}

/// The first `len` characters of an object id or digest as reports show it (`a1b2c3d4e5f6`,
/// `sha256:0123456789ab`); the whole id when shorter or when `len` is not a character boundary.
pub fn short_id(id: &str, len: usize) -> &str {
    id.get(..len).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_ids_never_split_a_character() {
        assert_eq!(super::short_id("0123456789abcdef", 12), "0123456789ab");
        assert_eq!(super::short_id("abc", 12), "abc");
        assert_eq!(super::short_id("ééééééé", 3), "ééééééé");
    }
}
