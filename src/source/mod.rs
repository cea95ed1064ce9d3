//! Sources enumerate content and say where it came from. A source never runs detection.

pub mod fs;

use serde::Serialize;

/// Where a blob was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A file on disk (path as given on the command line, joined with the walk).
    File {
        /// The file's path.
        path: String,
    },
    /// Standard input (`-`).
    Stdin,
}

impl Origin {
    /// The path shown in reports.
    pub fn display_path(&self) -> &str {
        match self {
            Origin::File { path } => path,
            Origin::Stdin => "<stdin>",
        }
    }
}
