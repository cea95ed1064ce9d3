//! Staged changes, for the pre-commit hook: index entries whose content differs from HEAD.

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
    let head_index = match repo.head_tree_id() {
        Ok(tree) => Some(
            repo.index_from_tree(&tree)
                .map_err(|e| format!("cannot read HEAD's tree: {e}"))?,
        ),
        Err(_) => None, // unborn HEAD: everything staged is new
    };
    // Both lists are sorted by path: walk them side by side instead of hashing 100k paths.
    let head: Vec<(&gix::bstr::BStr, ObjectId)> = match &head_index {
        Some(h) => h.entries().iter().map(|e| (e.path(h), e.id)).collect(),
        None => Vec::new(),
    };
    let mut out = Vec::new();
    let mut j = 0;
    for e in index.entries() {
        if e.stage_raw() != 0 || e.mode.is_submodule() || e.mode.is_sparse() {
            continue;
        }
        let path = e.path(&index);
        while j < head.len() && head[j].0 < path {
            j += 1;
        }
        let same = j < head.len() && head[j].0 == path && head[j].1 == e.id;
        if !same {
            out.push((path.to_owned(), e.id));
        }
    }
    Ok(out)
}
