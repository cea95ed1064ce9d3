//! What a target says about who owns and who uses its secrets: its CODEOWNERS (the owners of
//! each path) and its CI consumers map (which jobs and deployments use which named secret).
//! Read from HEAD's tree for a repository and from disk for a directory; attached to the
//! target's findings (owners) and handed to the inventory (consumers).

use std::path::Path;

use sprawl_ci::consumers::Consumer;
use sprawl_core::codeowners::{CodeOwners, LOCATIONS};
use sprawl_core::finding::Finding;
use sprawl_core::origin::Origin;

/// CI files and CODEOWNERS larger than this are not read for facts.
const MAX_FACT_FILE: usize = 4 << 20;

/// One target's owners and consumers.
#[derive(Default)]
pub struct TargetFacts {
    /// The target as findings and the inventory name it.
    pub target: String,
    /// The CODEOWNERS file GitHub or GitLab would use, if the target has one.
    pub owners: Option<CodeOwners>,
    /// Every named secret the target's pipelines and manifests consume.
    pub consumers: Vec<Consumer>,
    /// The consumers map was read (a target whose HEAD could not be read keeps the map an
    /// inventory has of it).
    pub consumers_read: bool,
}

/// The first CODEOWNERS of `files` in the order the forges look for it.
fn first_codeowners(files: &[(String, Vec<u8>)]) -> Option<CodeOwners> {
    LOCATIONS.iter().find_map(|loc| {
        files
            .iter()
            .find(|(p, _)| p == loc)
            .map(|(_, bytes)| CodeOwners::parse(&String::from_utf8_lossy(bytes)))
    })
}

/// Consumers of every CI file among `files`; parse failures go to `errors`.
fn consumers_of(files: &[(String, Vec<u8>)], errors: &mut Vec<String>) -> Vec<Consumer> {
    let mut out = Vec::new();
    for (path, bytes) in files {
        if !sprawl_ci::candidate(path) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let Some(kind) = sprawl_ci::kinds::classify(path, &text) else {
            continue;
        };
        match sprawl_ci::consumers::consumers(kind, path, &text) {
            Ok(c) => out.extend(c),
            Err(e) => errors.push(e),
        }
    }
    out
}

/// The facts of the repository at `dir` from HEAD's tree (`label` as findings name it).
pub fn of_repo(dir: &Path, label: &str, consumers: bool, errors: &mut Vec<String>) -> TargetFacts {
    let want = |p: &str| LOCATIONS.contains(&p) || (consumers && sprawl_ci::candidate(p));
    let files = match sprawl_source::git::open(dir).and_then(|r| {
        sprawl_source::git::head::head_files(&r.to_thread_local(), &want, MAX_FACT_FILE)
    }) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!("{label}: owners and consumers not read: {e}"));
            return TargetFacts {
                target: label.to_string(),
                ..TargetFacts::default()
            };
        }
    };
    TargetFacts {
        target: label.to_string(),
        owners: first_codeowners(&files),
        consumers: if consumers {
            consumers_of(&files, errors)
        } else {
            Vec::new()
        },
        consumers_read: consumers,
    }
}

/// The facts of the directory `root` from disk (`label` as the inventory names the target).
pub fn of_dir(root: &Path, label: &str, consumers: bool, errors: &mut Vec<String>) -> TargetFacts {
    let files: Vec<(String, Vec<u8>)> = LOCATIONS
        .iter()
        .filter_map(|loc| {
            sprawl_core::bounded::read_regular(&root.join(loc), MAX_FACT_FILE as u64)
                .ok()
                .map(|b| (loc.to_string(), b))
        })
        .collect();
    let mut found = Vec::new();
    if consumers {
        let (c, errs) = sprawl_ci::consumers::collect(root);
        found = c;
        errors.extend(errs);
    }
    TargetFacts {
        target: label.to_string(),
        owners: first_codeowners(&files),
        consumers: found,
        consumers_read: consumers,
    }
}

/// The path of `f` relative to the root of the repository `repo` or the directory `dir` the
/// facts describe, when the finding belongs to it.
fn relative<'a>(f: &'a Finding, repo: Option<&str>, dir: Option<&Path>) -> Option<&'a str> {
    match (&f.origin, repo, dir) {
        (Origin::Git(g), Some(r), _) if g.repo == r => Some(g.path.as_str()),
        (Origin::File { path, .. }, _, Some(d)) => {
            let prefix = format!("{}/", d.display().to_string().trim_end_matches('/'));
            path.strip_prefix(&prefix)
        }
        _ => None,
    }
}

/// Gives every finding of the repository named `repo` (git origins) or found under `dir`
/// (files, a work tree's included) the owners CODEOWNERS names for its path.
pub fn attach_owners(
    findings: &mut [Finding],
    owners: &CodeOwners,
    repo: Option<&str>,
    dir: Option<&Path>,
) {
    for f in findings.iter_mut() {
        if let Some(rel) = relative(f, repo, dir) {
            f.owners = owners.owners(rel);
        }
    }
}
