//! Sources enumerate content and say where it came from. A source never runs detection.

pub mod archive;
pub mod cilogs;
pub mod forge;
pub mod fs;
pub mod git;
pub mod gitlab_ci;
pub mod image;
pub mod spill;

pub use sprawl_core::origin::{GitCommit, GitOrigin, ImageOrigin, Origin, WorkTreeState};
