//! The PostgreSQL inventory against a real server on 127.0.0.1 (initdb + pg_ctl into a
//! temporary directory): four concurrent `audit --shard i/4` workers build exactly the
//! inventory of one unsharded run, re-running a shard changes nothing, re-audits read only new
//! blobs and still equal a full audit, and an unreachable database is a clear error.

use std::path::{Path, PathBuf};

use crate::common::pg::Postgres;
use crate::common::{
    audit_four_shards_at_once, fake_github, git, inventory_shape as shape, sprawl,
};
use serde_json::Value;
use tempfile::TempDir;

/// One key for every store here, so inventories of different stores compare exactly.
const KEY: &str = "postgres-test-fingerprint-key";

/// `n` repositories, each with its own token and a shared one; every third removes its config
/// again (history-only copies). Returns the targets file.
fn repos(work: &Path, n: usize) -> PathBuf {
    let shared = fake_github("ghp_", 8000);
    let mut list = String::new();
    for i in 0..n {
        let repo = work.join(format!("repo{i:02}"));
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(
            repo.join("config.env"),
            format!(
                "TOKEN={}\nSHARED={shared}\n",
                fake_github("ghp_", 8001 + i as u64)
            ),
        )
        .unwrap();
        std::fs::write(repo.join("README.md"), format!("repo {i}\n")).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "add config"]);
        if i % 3 == 0 {
            std::fs::remove_file(repo.join("config.env")).unwrap();
            git(&repo, &["commit", "-q", "-am", "remove config"]);
        }
        list.push_str(&format!("{}\n", repo.display()));
    }
    let targets = work.join("targets.txt");
    std::fs::write(&targets, list).unwrap();
    targets
}

fn audit(store: &str, targets: &Path, extra: &[&str]) -> (i32, String) {
    let out = sprawl()
        .args([
            "audit",
            "--no-progress",
            "--fingerprint-key",
            KEY,
            "--targets",
        ])
        .arg(targets)
        .args(["--store", store])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn four_shards_into_postgres_equal_one_worker_and_reruns_change_nothing() {
    let pg = Postgres::start();
    let work = TempDir::new().unwrap();
    let targets = repos(work.path(), 16);
    let one = pg.database("one");
    let (code, err) = audit(&one, &targets, &[]);
    assert_eq!(code, 1, "findings: {err}");
    assert!(err.contains("16 target(s)"), "{err}");

    // Four workers start at once on an empty database: migrations and the fingerprint key
    // race, and every upsert of the shared token contends for the same row.
    let four = pg.database("four");
    for (code, err) in audit_four_shards_at_once(&targets, &four, &["--fingerprint-key", KEY]) {
        assert!(matches!(code, Some(0) | Some(1)), "{err}");
    }
    let a = shape(&one);
    assert_eq!(a.len(), 17, "16 own tokens + 1 shared");
    let shared = a
        .iter()
        .find(|s| s["occurrences"].as_array().unwrap().len() == 16)
        .expect("the shared token in 16 repositories");
    let at_tip = shared["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["present"] == true)
        .count();
    assert_eq!(at_tip, 10, "removed from the tip in 6 repositories");
    assert_eq!(shape(&four), a, "four shards build the same inventory");

    for shard in ["0/4", "3/4"] {
        let (code, err) = audit(&four, &targets, &["--shard", shard]);
        assert!(matches!(code, 0 | 1), "{err}");
        assert_eq!(shape(&four), a, "re-running shard {shard} changes nothing");
    }
}

#[test]
fn reaudit_reads_only_new_blobs_and_equals_a_full_audit() {
    let pg = Postgres::start();
    let work = TempDir::new().unwrap();
    let targets = repos(work.path(), 4);
    let store = pg.database("inc");
    let (code, first) = audit(&store, &targets, &[]);
    assert_eq!(code, 1, "{first}");

    // Nothing moved: no repository is read again, and the copies are all still recorded.
    let before = shape(&store);
    let (code, err) = audit(&store, &targets, &[]);
    assert_eq!(code, 1, "findings are still held: {err}");
    assert_eq!(
        err.matches("unchanged since the last audit").count(),
        4,
        "{err}"
    );
    assert_eq!(shape(&store), before);

    // One new commit in one repository: a new token in a new file, and the old config gone.
    let repo = work.path().join("repo01");
    let fresh = fake_github("ghp_", 8500);
    std::fs::write(repo.join("deploy.env"), format!("DEPLOY_TOKEN={fresh}\n")).unwrap();
    std::fs::remove_file(repo.join("config.env")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "rotate"]);
    let (code, err) = audit(&store, &targets, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.matches("unchanged since the last audit").count(),
        3,
        "{err}"
    );
    let line = err
        .lines()
        .find(|l| l.contains("repo01") && !l.ends_with(": scanning"))
        .expect("repo01 reported");
    assert!(
        line.ends_with("1 blob(s) read"),
        "only the new file is read: {err}"
    );

    // The same inventory as a full audit of the same repositories into a new database.
    let full = pg.database("full");
    audit(&full, &targets, &[]);
    let inc = shape(&store);
    assert_eq!(inc, shape(&full), "incremental = full");
    let old = inc
        .iter()
        .flat_map(|s| s["occurrences"].as_array().unwrap().iter())
        .filter(|o| o["target"].as_str().unwrap().ends_with("repo01"))
        .filter(|o| o["path"] == "config.env")
        .collect::<Vec<_>>();
    assert_eq!(old.len(), 2);
    assert!(
        old.iter().all(|o| o["present"] == false),
        "history-only now: {old:?}"
    );
    assert!(
        inc.iter()
            .any(|s| s["preview"].as_str().unwrap().contains("DEPLOY_TOKEN"))
    );

    // Reports and rotations work from PostgreSQL as from SQLite.
    let md = sprawl()
        .args(["report", "--format", "md", "--store", &store])
        .output()
        .unwrap();
    assert_eq!(md.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&md.stdout).contains("config.env"));
    let fp = inc[0]["fingerprint"].as_str().unwrap();
    let start = sprawl()
        .args(["rotation", "start", fp, "--store", &store])
        .output()
        .unwrap();
    assert_eq!(
        start.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
}

#[test]
fn an_unreachable_database_is_an_error_naming_it_and_the_report_still_prints() {
    let work = TempDir::new().unwrap();
    std::fs::write(
        work.path().join("app.env"),
        format!("TOKEN={}\n", fake_github("ghp_", 8900)),
    )
    .unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://sprawl:s3cret@127.0.0.1:{port}/inv");
    let out = sprawl()
        .arg("scan")
        .arg(work.path())
        .args(["--no-progress", "--format", "json", "--store", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "postgres://sprawl:****@127.0.0.1:{port}/inv: cannot connect"
        )),
        "{err}"
    );
    assert!(
        !err.contains("s3cret"),
        "the password is never printed: {err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}

/// A PostgreSQL store written by the previous version (schema v1: one row per secret and
/// rule; `pg_dump` of an inventory where `aws.secret-access-key` and `generic.secret` found one
/// value) migrates to one row per value, each copy keeping its rule.
#[test]
fn a_store_of_the_previous_version_migrates_to_one_row_per_value() {
    let pg = Postgres::start();
    let url = pg.database("old");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory-pg-v1.sql");
    pg.load("old", &fixture);
    crate::inventory::assert_migrated_fixture(&url);
}
