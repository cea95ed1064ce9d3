//! Git history scanning on repositories built by each test with the `git` CLI and fixed dates.
//! Every case asserts the exact provenance: commit, path, line, history-only or not.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fake_github, sprawl};
use tempfile::TempDir;

/// A repository under construction with deterministic authors and dates.
struct Repo {
    dir: TempDir,
    clock: u32,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: TempDir::new().expect("tempdir"),
            clock: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        let date = format!("2024-01-{:02}T12:00:00Z", 1 + self.clock.min(27));
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "Dev One")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "Dev One")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(&self, path: &str, body: &str) {
        let p = self.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, body).expect("write");
    }

    /// The loose object file of `HEAD:<path>` (made writable) and the blob id.
    fn loose_object(&self, path: &str) -> (PathBuf, String) {
        let id = self.git(&["rev-parse", &format!("HEAD:{path}")]);
        let obj = self
            .path()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..]);
        let mut perms = std::fs::metadata(&obj).expect("loose object").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&obj, perms).expect("chmod");
        (obj, id)
    }

    /// Commits everything with `msg`; returns the commit id. Each commit is one day later.
    fn commit(&mut self, msg: &str) -> String {
        self.clock += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }
}

fn scan(target: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = sprawl()
        .arg("scan")
        .arg(target)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn findings(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["findings"].as_array().cloned().unwrap_or_default()
}

fn commits_of(f: &serde_json::Value) -> Vec<String> {
    f["git"]["commits"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["commit"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn added_then_deleted_is_history_only() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 301);
    r.write("README.md", "# app\n");
    r.commit("init");
    r.write("config/.env", &format!("# settings\nGITHUB_TOKEN={tok}\n"));
    let added = r.commit("add env");
    std::fs::remove_file(r.path().join("config/.env")).expect("rm");
    let removed = r.commit("remove env");
    let (code, doc, _) = scan(r.path(), &[]);
    assert_eq!(code, 1);
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["path"], "config/.env");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(commits_of(&f[0]), std::slice::from_ref(&added));
    assert_eq!(
        f[0]["git"]["commits"][0]["author"],
        "Dev One <dev@example.org>"
    );
    assert_eq!(f[0]["git"]["commits"][0]["date"], "2024-01-03T12:00:00Z");
    assert_eq!(f[0]["git"]["history_only"], true);
    assert_eq!(f[0]["git"]["removed_in"]["commit"], removed.as_str());
}

#[test]
fn still_present_at_head() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 302);
    r.write("app.py", &format!("import os\nTOKEN = \"{tok}\"\n"));
    let c = r.commit("add app");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(commits_of(&f[0]), [c]);
    assert_eq!(f[0]["git"]["history_only"], false);
    let present: Vec<&str> = f[0]["git"]["present_in"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(present, ["HEAD", "refs/heads/main"]);
}

#[test]
fn non_default_branch_only() {
    let mut r = Repo::new();
    r.write("README.md", "# app\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature/x"]);
    let tok = fake_github("gho_", 303);
    r.write("feature.txt", &format!("tok: {tok}\n"));
    let c = r.commit("feature work");
    r.git(&["checkout", "-q", "main"]);
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(commits_of(&f[0]), [c]);
    assert_eq!(
        f[0]["git"]["present_in"],
        serde_json::json!(["refs/heads/feature/x"])
    );
}

#[test]
fn secret_brought_in_by_a_merge_is_attributed_to_its_branch_commit() {
    let mut r = Repo::new();
    r.write("README.md", "# app\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "topic"]);
    let tok = fake_github("ghp_", 304);
    r.write("deploy.sh", &format!("#!/bin/sh\nexport GH={tok}\n"));
    let on_branch = r.commit("deploy script");
    r.git(&["checkout", "-q", "main"]);
    r.write("other.txt", "x\n");
    r.commit("main work");
    r.clock += 1;
    r.git(&["merge", "-q", "--no-ff", "-m", "merge topic", "topic"]);
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(commits_of(&f[0]), [on_branch]);
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["git"]["history_only"], false);
}

#[test]
fn renamed_file_reports_both_paths() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 305);
    r.write("old/name.cfg", &format!("token={tok}\n"));
    let c1 = r.commit("add");
    std::fs::create_dir_all(r.path().join("new")).expect("mkdir");
    r.git(&["mv", "old/name.cfg", "new/name.cfg"]);
    let c2 = r.commit("rename");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 2, "{f:#?}");
    let by_path = |p: &str| {
        f.iter()
            .find(|x| x["path"] == p)
            .cloned()
            .expect("finding at path")
    };
    assert_eq!(commits_of(&by_path("new/name.cfg")), [c2]);
    assert_eq!(by_path("new/name.cfg")["git"]["history_only"], false);
    assert_eq!(commits_of(&by_path("old/name.cfg")), [c1]);
    assert_eq!(by_path("old/name.cfg")["git"]["history_only"], true);
    // One distinct secret, one blob, scanned once.
    assert_eq!(
        by_path("new/name.cfg")["fingerprint"],
        by_path("old/name.cfg")["fingerprint"]
    );
    assert_eq!(doc["stats"]["blobs_scanned"], 1);
}

#[test]
fn identical_blob_at_many_paths_is_scanned_once() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 306);
    for i in 0..20 {
        r.write(&format!("svc{i}/.env"), &format!("GH={tok}\n"));
    }
    r.commit("copy env everywhere");
    let (_, doc, _) = scan(r.path(), &[]);
    assert_eq!(doc["stats"]["blobs_scanned"], 1);
    assert_eq!(findings(&doc).len(), 20);
}

#[test]
fn rotated_secret_old_in_history_new_at_head() {
    let mut r = Repo::new();
    let old = fake_github("ghp_", 307);
    let new = fake_github("ghp_", 308);
    r.write("settings.ini", &format!("[gh]\ntoken = {old}\n"));
    let c_old = r.commit("add token");
    r.write("settings.ini", &format!("[gh]\n; rotated\ntoken = {new}\n"));
    let c_new = r.commit("rotate token");
    let (_, doc, _) = scan(r.path(), &["--show-secrets"]);
    let f = findings(&doc);
    assert_eq!(f.len(), 2);
    let old_f = f.iter().find(|x| x["secret"] == old.as_str()).expect("old");
    let new_f = f.iter().find(|x| x["secret"] == new.as_str()).expect("new");
    assert_eq!(commits_of(old_f), [c_old]);
    assert_eq!(old_f["git"]["history_only"], true);
    assert_eq!(old_f["git"]["removed_in"]["commit"], c_new.as_str());
    assert_eq!(old_f["line"], 2);
    assert_eq!(commits_of(new_f), [c_new]);
    assert_eq!(new_f["git"]["history_only"], false);
    assert_eq!(new_f["line"], 3);
}

#[test]
fn same_secret_moved_within_a_file_lists_every_commit() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 309);
    r.write("a.env", &format!("T={tok}\n"));
    let c1 = r.commit("one");
    r.write("a.env", &format!("# header\nT={tok}\n"));
    let c2 = r.commit("two");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "one finding per (secret, path)");
    assert_eq!(commits_of(&f[0]), [c1, c2]);
    assert_eq!(f[0]["git"]["commits"][1]["line"], 2);
    assert_eq!(f[0]["git"]["history_only"], false);
}

#[test]
fn staged_changes_only() {
    let mut r = Repo::new();
    let committed = fake_github("ghp_", 310);
    r.write("old.txt", &format!("{committed}\n"));
    r.commit("old");
    let staged = fake_github("ghp_", 311);
    r.write("new.txt", &format!("x\n{staged}\n"));
    r.git(&["add", "new.txt"]);
    let (code, doc, _) = scan(r.path(), &["--staged", "--show-secrets"]);
    assert_eq!(code, 1);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["secret"], staged.as_str());
    assert_eq!(f[0]["path"], "new.txt");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["git"]["staged"], true);
    // Nothing staged: clean, not an error.
    r.commit("commit it");
    let (code, _, _) = scan(r.path(), &["--staged"]);
    assert_eq!(code, 0);
}

#[test]
fn staged_in_a_repo_without_commits() {
    let r = Repo::new();
    let tok = fake_github("ghp_", 312);
    r.write("first.txt", &format!("{tok}\n"));
    r.git(&["add", "first.txt"]);
    let (code, doc, _) = scan(r.path(), &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn range_and_since_scan_only_new_commits() {
    let mut r = Repo::new();
    let a = fake_github("ghp_", 313);
    r.write("a.txt", &format!("{a}\n"));
    let base = r.commit("base");
    let b = fake_github("ghp_", 314);
    r.write("b.txt", &format!("{b}\n"));
    let head = r.commit("pr change");
    for args in [
        vec!["--range".to_string(), format!("{base}..{head}")],
        vec!["--since".to_string(), base.clone()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, doc, err) = scan(r.path(), &args);
        assert_eq!(code, 1, "{err}");
        let f = findings(&doc);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0]["path"], "b.txt");
        assert_eq!(commits_of(&f[0]), std::slice::from_ref(&head));
    }
    // An empty range is clean, not "nothing scanned".
    let (code, _, err) = scan(r.path(), &["--range", &format!("{head}..{head}")]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn empty_repository_fails_closed_with_a_message() {
    let r = Repo::new();
    let (code, _, err) = scan(r.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no commits"), "{err}");
}

#[test]
fn not_a_repository_with_git_history_full() {
    let dir = TempDir::new().expect("tempdir");
    std::fs::write(dir.path().join("a.txt"), "hello\n").expect("write");
    let (code, _, err) = scan(dir.path(), &["--git-history", "full"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a git repository"), "{err}");
    // Without the flag it is a directory scan.
    let (code, _, _) = scan(dir.path(), &[]);
    assert_eq!(code, 0);
}

#[test]
fn git_history_none_scans_the_work_tree_only() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 315);
    r.write("x.env", &format!("T={tok}\n"));
    r.commit("add");
    std::fs::remove_file(r.path().join("x.env")).expect("rm");
    r.commit("rm");
    r.write("README.md", "hi\n");
    let (code, doc, _) = scan(r.path(), &["--git-history", "none"]);
    assert_eq!(code, 0, "{doc}");
}

#[test]
fn remote_url_is_cloned_and_scanned() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 316);
    r.write("s.txt", &format!("{tok}\n"));
    let c = r.commit("add");
    let url = format!("file://{}", r.path().display());
    let keep = TempDir::new().expect("tempdir");
    let clone_dir = keep.path().join("clone.git");
    let (code, doc, err) = scan(
        Path::new(&url),
        &["--keep-clone", clone_dir.to_str().expect("utf-8")],
    );
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    assert_eq!(commits_of(&f[0]), [c]);
    assert_eq!(f[0]["git"]["repo"], url.as_str());
    assert!(
        clone_dir.join("HEAD").exists(),
        "--keep-clone keeps the clone"
    );
}

#[test]
fn seen_file_skips_blobs_from_earlier_runs() {
    let mut r = Repo::new();
    let a = fake_github("ghp_", 317);
    r.write("a.txt", &format!("{a}\n"));
    r.commit("a");
    let seen = r.path().join("../seen-blobs.txt");
    let seen_arg = seen.to_str().expect("utf-8").to_string();
    let (code, doc, _) = scan(r.path(), &["--seen-file", &seen_arg]);
    assert_eq!((code, findings(&doc).len()), (1, 1));
    let b = fake_github("ghp_", 318);
    r.write("b.txt", &format!("{b}\n"));
    r.commit("b");
    let (code, doc, err) = scan(r.path(), &["--seen-file", &seen_arg]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "b.txt");
    assert_eq!(doc["stats"]["blobs_scanned"], 1);
    let _ = std::fs::remove_file(seen);
}

#[test]
fn unreachable_blobs_with_all_objects() {
    let mut r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    let tok = fake_github("ghp_", 319);
    let blob_path = r.path().join("dangling.txt");
    std::fs::write(&blob_path, format!("{tok}\n")).expect("write");
    r.git(&["hash-object", "-w", "dangling.txt"]);
    std::fs::remove_file(&blob_path).expect("rm");
    let (code, _, _) = scan(r.path(), &[]);
    assert_eq!(code, 0, "unreachable blobs are not scanned by default");
    let (code, doc, _) = scan(r.path(), &["--all-objects"]);
    assert_eq!(code, 1);
    assert!(
        findings(&doc)[0]["path"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<unreachable blob")
    );
}

#[test]
fn missing_object_is_named_and_the_rest_is_scanned() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 320);
    r.write("keep.txt", &format!("{tok}\n"));
    r.write("lost.txt", "this blob will vanish\n");
    r.commit("two files");
    let (obj, lost) = r.loose_object("lost.txt");
    std::fs::remove_file(obj).expect("remove loose object");
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&lost), "{err}");
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn corrupt_loose_object_is_named() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 321);
    r.write("keep.txt", &format!("{tok}\n"));
    r.write("bad.txt", "will be corrupted\n");
    r.commit("two files");
    let (obj, bad) = r.loose_object("bad.txt");
    std::fs::write(&obj, b"not zlib at all").expect("corrupt");
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&bad), "{err}");
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn shallow_clone_is_scanned_and_said_to_be_shallow() {
    let mut r = Repo::new();
    let old = fake_github("ghp_", 322);
    r.write("old.txt", &format!("{old}\n"));
    r.commit("old");
    std::fs::remove_file(r.path().join("old.txt")).expect("rm");
    r.commit("rm old");
    let new = fake_github("ghp_", 323);
    r.write("new.txt", &format!("{new}\n"));
    r.commit("new");
    let dest = TempDir::new().expect("tempdir");
    let clone = dest.path().join("shallow");
    let out = Command::new("git")
        .args([
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", r.path().display()),
        ])
        .arg(&clone)
        .output()
        .expect("git clone");
    assert!(out.status.success());
    let (code, doc, err) = scan(&clone, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("shallow"), "{err}");
    assert_eq!(findings(&doc).len(), 1, "only what the shallow clone holds");
}

#[test]
fn submodules_are_listed_not_followed() {
    let mut sub = Repo::new();
    let tok = fake_github("ghp_", 324);
    sub.write("secret.txt", &format!("{tok}\n"));
    sub.commit("sub");
    let mut r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    r.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &format!("file://{}", sub.path().display()),
        "vendor/sub",
    ]);
    r.commit("add submodule");
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 0, "{err} {doc}");
    assert!(err.contains("submodule vendor/sub not followed"), "{err}");
    let (code, doc, err) = scan(r.path(), &["--recurse-submodules"]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "secret.txt");
    assert!(
        f[0]["git"]["repo"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/vendor/sub"),
        "{}",
        f[0]["git"]["repo"]
    );
}

#[test]
fn repository_owned_by_another_user_is_scanned() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 325);
    r.write("a.txt", &format!("{tok}\n"));
    r.commit("a");
    // Only root can give files away; elsewhere this case cannot be built.
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(r.path())
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        eprintln!("cannot chown (not root): skipping the foreign-owner case");
        return;
    }
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn commits_in_the_same_second_are_ordered_by_ancestry() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 330);
    r.write("s.txt", &format!("k={tok}\n"));
    let c1 = r.commit("add");
    r.clock -= 1; // same timestamp as the first commit
    r.write("s.txt", &format!("header\nk={tok}\n"));
    let c2 = r.commit("edit");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(commits_of(&f[0]), [c1, c2]);
    assert_eq!(f[0]["line"], 1);
}

#[test]
fn removed_in_is_the_last_removal_and_chmod_is_no_removal() {
    let mut r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    let tok = fake_github("ghp_", 331);
    r.write("s.txt", &format!("k={tok}\n"));
    r.commit("add");
    r.git(&["update-index", "--chmod=+x", "s.txt"]);
    r.clock += 1;
    r.git(&["commit", "-q", "-m", "chmod"]);
    r.git(&["rm", "-q", "-f", "s.txt"]);
    r.commit("rm");
    r.clock += 1;
    r.git(&["revert", "--no-edit", "HEAD"]);
    r.git(&["rm", "-q", "-f", "s.txt"]);
    let last = r.commit("rm again");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["git"]["history_only"], true);
    assert_eq!(f[0]["git"]["removed_in"]["commit"], last.as_str());
}

#[test]
fn non_utf8_path_still_counts_as_present() {
    use std::os::unix::ffi::OsStrExt;
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 332);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(r.path().join(name), format!("k={tok}\n")).expect("write");
    r.commit("add");
    let (_, doc, _) = scan(r.path(), &[]);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["git"]["history_only"], false);
}

#[test]
fn range_with_a_merge_of_the_base_reports_nothing_old() {
    let mut r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("f.txt", "feature work\n");
    r.commit("feat1");
    r.git(&["checkout", "-q", "main"]);
    let tok = fake_github("ghp_", 333);
    r.write("s.txt", &format!("k={tok}\n"));
    r.commit("secret on main");
    r.git(&["checkout", "-q", "feature"]);
    r.clock += 1;
    r.git(&["merge", "-q", "--no-ff", "-m", "merge main", "main"]);
    let (code, doc, err) = scan(r.path(), &["--range", "main..feature"]);
    assert_eq!(code, 0, "{err} {doc}");
}

#[test]
fn range_of_deletions_only_is_clean() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.write("b.txt", "b\n");
    r.commit("two");
    std::fs::remove_file(r.path().join("b.txt")).expect("rm");
    r.commit("delete b");
    let (code, _, err) = scan(r.path(), &["--since", "HEAD~1"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn unreadable_blob_is_not_recorded_as_seen() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 334);
    r.write("bad.txt", &format!("k={tok}\n"));
    r.commit("add");
    let (obj, _) = r.loose_object("bad.txt");
    let saved = std::fs::read(&obj).expect("read object");
    std::fs::write(&obj, b"not zlib").expect("corrupt");
    let seen = TempDir::new().expect("tempdir");
    let seen_file = seen.path().join("seen");
    let seen_arg = seen_file.to_str().expect("utf-8");
    let (code, _, _) = scan(r.path(), &["--seen-file", seen_arg]);
    assert_eq!(code, 2);
    std::fs::write(&obj, saved).expect("repair");
    let (code, doc, err) = scan(r.path(), &["--seen-file", seen_arg]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn dangling_symbolic_ref_is_a_note_not_an_error() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("a");
    r.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/gone",
    ]);
    let (code, _, err) = scan(r.path(), &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn older_stash_entries_are_scanned() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("a");
    let tok = fake_github("ghp_", 335);
    r.write("a.txt", &format!("k={tok}\n"));
    r.git(&["stash", "-q"]);
    r.write("a.txt", "z\n");
    r.git(&["stash", "-q"]);
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "a.txt");
}

#[test]
fn commits_in_other_worktrees_are_scanned() {
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("a");
    let wt = TempDir::new().expect("tempdir");
    let wt_path = wt.path().join("wt");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        wt_path.to_str().expect("utf-8"),
    ]);
    let tok = fake_github("ghp_", 336);
    std::fs::write(wt_path.join("w.txt"), format!("k={tok}\n")).expect("write");
    for args in [
        &["add", "-A"][..],
        &["commit", "-q", "-m", "in worktree"][..],
    ] {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&wt_path)
            .env("GIT_AUTHOR_NAME", "Dev One")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "Dev One")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .status()
            .expect("git");
        assert!(ok.success());
    }
    let (code, doc, err) = scan(r.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&doc)[0]["path"], "w.txt");
}

#[test]
fn subdirectory_of_a_work_tree_scans_that_part_of_history() {
    let mut r = Repo::new();
    let inside = fake_github("ghp_", 337);
    let outside = fake_github("ghp_", 338);
    r.write("sub/old.env", &format!("T={inside}\n"));
    r.write("other/x.env", &format!("T={outside}\n"));
    r.commit("both");
    std::fs::remove_file(r.path().join("sub/old.env")).expect("rm");
    r.write("sub/keep.txt", "k\n");
    r.commit("rm sub secret");
    let (code, doc, err) = scan(
        &r.path().join("sub"),
        &["--git-history", "full", "--show-secrets"],
    );
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["secret"], inside.as_str());
    assert_eq!(f[0]["git"]["history_only"], true);
    // Staged changes outside the subdirectory are not this scan's business.
    let staged = fake_github("ghp_", 339);
    r.write("other/new.env", &format!("T={staged}\n"));
    r.git(&["add", "-A"]);
    let (code, _, err) = scan(&r.path().join("sub"), &["--staged"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn max_file_size_skips_big_blobs_and_says_so() {
    let mut r = Repo::new();
    let tok = fake_github("ghp_", 340);
    r.write("small.txt", &format!("{tok}\n"));
    r.write("big.txt", &format!("{}\n{tok}\n", "x".repeat(10_000)));
    r.commit("two");
    let (code, doc, err) = scan(r.path(), &["--max-file-size", "1000"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["stats"]["skipped_too_large"], 1);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "small.txt");
    assert!(err.contains("larger than --max-file-size"), "{err}");
}

/// `sprawl scan REPO` covers the working tree: a gitignored `.env`, an untracked file and a
/// modified one are reported with their reason beside a history-only secret; files history
/// holds byte for byte are not scanned twice; dependency directories (but `node_modules/.cache`)
/// are skipped unless `--no-ignore`; the inventory records the working-tree copies.
#[test]
fn repository_target_covers_its_working_tree() {
    let mut r = Repo::new();
    let [hist, committed, ignored, untracked, modified, dep, cache] =
        [1401, 1402, 1403, 1404, 1405, 1406, 1407].map(|s: u64| fake_github("ghp_", s));
    r.write(".gitignore", ".env\nnode_modules/\n");
    r.write("old.env", &format!("T={hist}\n"));
    r.write("app/config.env", &format!("T={committed}\n"));
    r.commit("init");
    std::fs::remove_file(r.path().join("old.env")).unwrap();
    r.commit("remove old.env");
    r.write(".env", &format!("GITHUB_TOKEN={ignored}\n"));
    r.write("notes.txt", &format!("token {untracked}\n"));
    r.write("app/config.env", &format!("T={committed}\nU={modified}\n"));
    r.write("node_modules/pkg/index.js", &format!("t='{dep}'\n"));
    r.write(
        "node_modules/.cache/build.json",
        &format!("{{\"t\":\"{cache}\"}}\n"),
    );
    // Staged, never committed: the object exists, but history does not hold it.
    let staged = fake_github("ghp_", 1408);
    r.write("staged.env", &format!("S={staged}\n"));
    r.git(&["add", "staged.env"]);
    let elsewhere = tempfile::TempDir::new().unwrap();
    let store = elsewhere.path().join("inventory.db");
    let (code, doc, err) = scan(r.path(), &["--store", store.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&doc);
    let by_path = |suffix: &str| -> Vec<&serde_json::Value> {
        f.iter()
            .filter(|x| x["path"].as_str().unwrap_or("").ends_with(suffix))
            .collect()
    };
    // History: the removed secret (history only) and the committed one (at HEAD), once.
    assert_eq!(by_path("old.env").len(), 1, "{f:#?}");
    assert_eq!(by_path("old.env")[0]["git"]["history_only"], true);
    let config = by_path("app/config.env");
    assert_eq!(config.len(), 2, "{config:#?}");
    assert!(
        config
            .iter()
            .any(|x| x["git"].is_object() && x["line"] == 1)
    );
    assert!(
        config
            .iter()
            .any(|x| x["work_tree"] == "modified" && x["line"] == 2),
        "{config:#?}"
    );
    assert_eq!(by_path(".env")[0]["work_tree"], "gitignored");
    assert_eq!(by_path("notes.txt")[0]["work_tree"], "untracked");
    assert_eq!(by_path("staged.env")[0]["work_tree"], "modified");
    assert_eq!(
        by_path("node_modules/.cache/build.json")[0]["work_tree"],
        "gitignored"
    );
    assert!(
        by_path("index.js").is_empty(),
        "dependency directories are skipped"
    );
    assert!(
        err.contains(
            "working tree: 5 file(s) not in history scanned (1 untracked, 2 gitignored, 2 modified)"
        ),
        "{err}"
    );
    assert!(err.contains("not scanned (node_modules)"), "{err}");
    assert!(
        !err.contains(".gitignore"),
        "committed files are not rescanned: {err}"
    );
    // The inventory keeps each working-tree copy with its reason.
    let out = sprawl()
        .args(["report", "--format", "csv", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains("working tree, gitignored"), "{csv}");
    assert!(
        csv.contains("working tree, modified, not committed"),
        "{csv}"
    );
    // --no-ignore also opens dependency directories.
    let (_, doc, _) = scan(r.path(), &["--no-ignore"]);
    assert!(findings(&doc).iter().any(|x| {
        x["path"]
            .as_str()
            .unwrap_or("")
            .ends_with("node_modules/pkg/index.js")
    }));
}

/// The pack walk (each object decoded once, a delta's keyword search limited to what it
/// changed) finds exactly what reading and searching every blob whole finds: a history of
/// many small edits around secrets — tokens added, cut in half, moved, duplicated, escaped
/// JSON, Basic credentials in base64, a Kubernetes Secret, a CI workflow, documentation —
/// repacked with deep delta chains, then more commits as loose objects and a second pack.
#[test]
fn the_pack_walk_finds_what_reading_blob_by_blob_finds() {
    let mut r = Repo::new();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let filler =
        |i: usize| format!("setting_{i} = \"value number {i} of the service configuration\"\n");
    let mut lines: Vec<String> = (0..300).map(filler).collect();
    let mut secrets = 0;
    for round in 0..60u64 {
        let at = (next() as usize) % lines.len();
        let token = fake_github("ghp_", 5000 + round);
        let edit = next() % 8;
        match edit {
            0 => lines.insert(at, format!("GITHUB_TOKEN={token}\n")),
            1 => lines.insert(at, format!("    password = \"Zq8r{round}LmN5vBc7XkP1s\"\n")),
            2 => lines.insert(
                at,
                format!(
                    "{{\"webhook\":\"https:\\/\\/hooks.slack.com\\/services\\/T01AB{round:04}\\/B03FG{round:04}\\/Zq8vN2kLm4Pz7Rt1Xc5W{round:04}\"}}\n"
                ),
            ),
            3 => {
                use base64::Engine as _;
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("deploy:{token}"));
                lines.insert(at, format!("Authorization: Basic {basic}\n"));
            }
            4 => {
                // Cut a line in two: a token split across lines is no longer a token.
                let line = lines[at].clone();
                let mid = line.len() / 2;
                lines[at] = format!("{}\n{}", &line[..mid], &line[mid..]);
            }
            5 => {
                let line = lines.remove(at);
                let to = (next() as usize) % lines.len();
                lines.insert(to, line.clone());
                lines.insert((to + 7) % lines.len(), line);
            }
            6 => {
                lines.remove(at);
            }
            _ => lines[at] = filler(at + 1000),
        }
        secrets += usize::from(edit < 4);
        r.write("config/app.conf", &lines.concat());
        r.write(
            "deploy/secret.yaml",
            &format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app{}\ndata:\n  token: {}\n",
                round % 3,
                {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .encode(fake_github("ghp_", 9000 + round / 10))
                }
            ),
        );
        r.write(
            ".github/workflows/ci.yml",
            &format!(
                "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    env:\n      API_TOKEN: {}\n    steps:\n      - run: make test # round {round}\n",
                fake_github("ghp_", 7000 + round / 20)
            ),
        );
        r.write(
            "README.md",
            &format!("# app\n\nRound {round}.\n\n    db_password = \"summerpicnic{round}\"\n"),
        );
        r.commit(&format!("round {round}"));
        if round == 40 {
            r.git(&[
                "repack",
                "-a",
                "-d",
                "-f",
                "--depth=50",
                "--window=50",
                "-q",
            ]);
        }
        if round == 50 {
            r.git(&["repack", "-d", "-q"]); // a second pack for rounds 41-50
        }
    }
    assert!(secrets > 10);
    let (_, walked, err) = scan(r.path(), &["--git-history", "full"]);
    let (_, one_by_one, _) = scan(
        r.path(),
        &["--git-history", "full", "--git-read", "one-by-one"],
    );
    let found = findings(&walked);
    assert!(found.len() > 30, "{err}\n{found:#?}");
    assert_eq!(walked, one_by_one);
}
