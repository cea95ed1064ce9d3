//! The seen-file (`--seen-file FILE`): ids of what earlier runs scanned — git blob ids, image
//! layer digests (`sha256:…`) — one per line, appended after each run, so a scheduled scan
//! reads only what is new. Ids are content addresses, never secrets. A missing file is an
//! empty one; an unreadable or unwritable one is an error naming it (the scan still runs).

use std::collections::HashSet;
use std::fmt::Display;
use std::hash::Hash;
use std::io::Write;
use std::path::Path;

/// A seen-file, or none (`--seen-file` not given).
#[derive(Debug, Clone, Copy)]
pub struct SeenFile<'a>(pub Option<&'a Path>);

impl SeenFile<'_> {
    /// Every id `parse` accepts (other lines belong to other sources sharing the file).
    pub fn load<T: Eq + Hash>(
        self,
        parse: impl Fn(&str) -> Option<T>,
        errors: &mut Vec<String>,
    ) -> HashSet<T> {
        let Some(path) = self.0 else {
            return HashSet::new();
        };
        match std::fs::read_to_string(path) {
            Ok(text) => text.lines().filter_map(|l| parse(l.trim())).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => {
                errors.push(format!("{}: cannot read seen-file: {e}", path.display()));
                HashSet::new()
            }
        }
    }

    /// Appends `ids` (only what was actually read: a failed read is tried again next run).
    pub fn append<T: Display>(self, ids: &[T], errors: &mut Vec<String>) {
        let Some(path) = self.0 else { return };
        if ids.is_empty() {
            return;
        }
        let res = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                for id in ids {
                    writeln!(w, "{id}")?;
                }
                w.flush()
            });
        if let Err(e) = res {
            errors.push(format!("{}: cannot write seen-file: {e}", path.display()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_other_sources_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen");
        let seen = SeenFile(Some(&path));
        let mut errors = Vec::new();
        assert!(seen.load(|l| Some(l.to_string()), &mut errors).is_empty());
        seen.append(&["sha256:aa", "0123abcd"], &mut errors);
        seen.append(&["sha256:bb"], &mut errors);
        let layers = seen.load(
            |l| l.starts_with("sha256:").then(|| l.to_string()),
            &mut errors,
        );
        assert_eq!(layers.len(), 2);
        assert!(layers.contains("sha256:bb"));
        assert!(errors.is_empty(), "{errors:?}");
        let unreadable = SeenFile(Some(dir.path()));
        unreadable.load(|l| Some(l.to_string()), &mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("cannot read seen-file"));
    }
}
