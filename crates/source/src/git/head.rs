//! Chosen files of HEAD's tree, read whole: the files that describe a repository rather than
//! hold its content (CODEOWNERS, CI configs), for owners and consumers.

/// `(path, bytes)` of every regular file of HEAD's tree whose path `want` accepts, up to
/// `max_size` bytes each (larger files are skipped). An unborn HEAD has no files.
pub fn head_files(
    repo: &gix::Repository,
    want: &dyn Fn(&str) -> bool,
    max_size: usize,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let Ok(tree) = repo.head_tree_id() else {
        return Ok(Vec::new());
    };
    let index = repo
        .index_from_tree(&tree)
        .map_err(|e| format!("cannot read HEAD's tree: {e}"))?;
    let mut out = Vec::new();
    for e in index.entries() {
        if e.mode != gix::index::entry::Mode::FILE
            && e.mode != gix::index::entry::Mode::FILE_EXECUTABLE
        {
            continue;
        }
        let path = e.path(&index).to_string();
        if !want(&path) {
            continue;
        }
        let object = repo
            .find_object(e.id)
            .map_err(|err| format!("{path} at HEAD ({}): {err}", e.id))?;
        if object.data.len() <= max_size {
            out.push((path, object.data.clone()));
        }
    }
    Ok(out)
}
