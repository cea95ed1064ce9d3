//! Sources enumerate content and say where it came from. A source never runs detection.

pub mod fs;
pub mod forge;
pub mod git;
pub mod image;
pub mod spill;

use serde::Serialize;

pub use image::ImageOrigin;

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
    pub present_in: Vec<String>,
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
