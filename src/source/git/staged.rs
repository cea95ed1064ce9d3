//! Staged changes, for the pre-commit hook: index entries whose content differs from HEAD.

use std::collections::HashMap;

use gix::ObjectId;
use gix::bstr::BString;

/// (path, blob) of every stage-0 index entry that HEAD does not have with the same content.
/// Works on an unborn HEAD (a repository with no commits yet): then everything staged counts.
pub fn staged_blobs(repo: &gix::Repository) -> Result<Vec<(BString, ObjectId)>, String> {
    if !repo.index_path().exists() {
        return Ok(Vec::new()); // nothing staged yet
    }
    let index = repo
        .open_index()
        .map_err(|e| format!("cannot read the index: {e}"))?;
    let head: HashMap<BString, ObjectId> = match repo.head_tree_id() {
        Ok(tree) => {
            let head_index = repo
                .index_from_tree(&tree)
                .map_err(|e| format!("cannot read HEAD's tree: {e}"))?;
            head_index
                .entries()
                .iter()
                .map(|e| (e.path(&head_index).to_owned(), e.id))
                .collect()
        }
        Err(_) => HashMap::new(), // unborn HEAD
    };
    let mut out = Vec::new();
    for e in index.entries() {
        if e.stage_raw() != 0 || e.mode.is_submodule() || e.mode.is_sparse() {
            continue;
        }
        let path = e.path(&index);
        if head.get(path) != Some(&e.id) {
            out.push((path.to_owned(), e.id));
        }
    }
    Ok(out)
}
