//! Orders blobs for reading: in pack order (sequential pack access, warm delta caches), with
//! any wanted blob the object database does not hold reported as missing.

use std::collections::HashSet;

use gix::ObjectId;
use gix::odb::store::iter::Ordering;
use gix::prelude::*;

/// Blobs to read, in pack order, and the wanted ids that are not in the repository.
pub struct BlobPlan {
    /// Ids to read.
    pub ids: Vec<ObjectId>,
    /// Wanted but absent (partial or corrupt repositories).
    pub missing: Vec<ObjectId>,
}

/// Orders `wanted` by pack position; with `all_objects`, adds every other blob in the database
/// (unreachable ones included).
pub fn plan(
    repo: &gix::Repository,
    wanted: &HashSet<ObjectId>,
    all_objects: bool,
    errors: &mut Vec<String>,
) -> BlobPlan {
    let mut ids = Vec::with_capacity(wanted.len());
    let mut found: HashSet<ObjectId> = HashSet::with_capacity(wanted.len());
    match repo.objects.iter() {
        Ok(iter) => {
            for oid in iter.with_ordering(Ordering::PackAscendingOffsetThenLooseLexicographical) {
                let oid = match oid {
                    Ok(o) => o,
                    Err(e) => {
                        errors.push(format!("object database: {e}"));
                        continue;
                    }
                };
                if wanted.contains(&oid) {
                    if found.insert(oid) {
                        ids.push(oid);
                    }
                } else if all_objects {
                    match repo.objects.header(oid) {
                        Ok(h) if h.kind() == gix::object::Kind::Blob => {
                            if found.insert(oid) {
                                ids.push(oid);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(format!("object {oid}: {e}")),
                    }
                }
            }
        }
        Err(e) => errors.push(format!("cannot list objects: {e}")),
    }
    let mut missing: Vec<ObjectId> = wanted
        .iter()
        .filter(|id| !found.contains(*id))
        .copied()
        .collect();
    missing.sort();
    BlobPlan { ids, missing }
}
