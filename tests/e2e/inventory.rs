//! The inventory: scans recorded into a SQLite store, one record per distinct secret with every
//! copy (files, git history, image layers), idempotent re-recording, no plaintext unless asked,
//! and the rotation report built from it.

use std::path::Path;

use crate::common::oci::{self, Comp, E, Img};
use crate::common::{
    audit_four_shards_at_once, fake_github, git, inventory_shape as shape, sprawl,
};
use serde_json::Value;
use tempfile::TempDir;

fn scan_into(store: &Path, target: &Path, extra: &[&str]) -> (i32, String) {
    let out = sprawl()
        .arg("scan")
        .arg(target)
        .args(["--format", "json", "--no-progress", "--store"])
        .arg(store)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(store: &Path, format: &str) -> String {
    String::from_utf8(crate::common::report(store, format)).unwrap()
}

#[test]
fn one_record_per_secret_with_every_copy_across_sources() {
    let work = TempDir::new().unwrap();
    let store = work.path().join("inventory.db");
    let shared = fake_github("ghp_", 6001);
    let other = fake_github("ghp_", 6002);

    // The same token in two files of a tree...
    let tree = work.path().join("tree");
    std::fs::create_dir_all(tree.join("deploy")).unwrap();
    std::fs::write(tree.join("app.env"), format!("GITHUB_TOKEN={shared}\n")).unwrap();
    std::fs::write(
        tree.join("deploy/prod.env"),
        format!("GH={shared}\nOTHER={other}\n"),
    )
    .unwrap();
    // ...and in an image layer that a later layer deletes.
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File(
                    "app/.env",
                    format!("GITHUB_TOKEN={shared}\n").into_bytes(),
                )]),
                Comp::Gzip,
                "COPY .env".into(),
            ),
            (
                oci::layer_tar(&[E::File("app/.wh..env", Vec::new())]),
                Comp::Gzip,
                "RUN rm".into(),
            ),
        ],
        ..Img::default()
    };
    let archive = work.path().join("app.tar");
    oci::docker_save(&archive, &[("app:1", &oci::build(&img))]);

    assert_eq!(scan_into(&store, &tree, &[]).0, 1);
    assert_eq!(scan_into(&store, &archive, &[]).0, 1);
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2, "{doc:#}");
    let rec = secrets
        .iter()
        .find(|s| s["occurrences"].as_array().unwrap().len() == 3)
        .unwrap_or_else(|| panic!("{doc:#}"));
    let occ = rec["occurrences"].as_array().unwrap();
    let sources: Vec<&str> = occ.iter().map(|o| o["source"].as_str().unwrap()).collect();
    assert_eq!(sources.iter().filter(|s| **s == "file").count(), 2);
    let image = occ.iter().find(|o| o["source"] == "image").unwrap();
    assert_eq!(image["present"], false, "hidden by a whiteout");
    assert!(
        image["image"]
            .as_str()
            .unwrap()
            .starts_with("app:1 layer 0 sha256:")
    );
    // Most copies first; the environment comes from the deploy/prod path.
    assert_eq!(secrets[0]["fingerprint"], rec["fingerprint"]);
    assert!(secrets.iter().any(|s| s["environment"] == "prod"));

    // Re-recording the same scans changes nothing but last_seen.
    scan_into(&store, &tree, &[]);
    scan_into(&store, &archive, &[]);
    let again: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    let strip = |v: &Value| -> Vec<(String, usize)> {
        v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["fingerprint"].as_str().unwrap().to_string(),
                    s["occurrences"].as_array().unwrap().len(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&doc), strip(&again));

    // No plaintext in the store by default; fingerprints are the store's own, stable ones.
    let bytes = std::fs::read(&store).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains(&shared) && !hay.contains(&other));

    let md = report(&store, "md");
    assert!(md.starts_with("# Rotation report"), "{md}");
    assert!(
        md.contains("history-only") || md.contains("History-only"),
        "{md}"
    );
    let csv = report(&store, "csv");
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
}

#[test]
fn store_secrets_keeps_plaintext_only_when_asked() {
    let work = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 6011);
    let tree = work.path().join("t");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("T={tok}\n")).unwrap();
    let store = work.path().join("s.db");
    scan_into(&store, &tree, &["--store-secrets"]);
    // Printed only on request, even from an inventory that keeps them.
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    assert!(doc["secrets"][0].get("secret").is_none(), "{doc:#}");
    let out = sprawl()
        .args(["report", "--format", "json", "--show-secrets", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["secrets"][0]["secret"], tok.as_str());
}

#[test]
fn an_unwritable_store_is_an_error_and_the_report_still_prints() {
    let work = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 6021);
    let tree = work.path().join("t");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("T={tok}\n")).unwrap();
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args([
            "--format",
            "json",
            "--store",
            "/nonexistent-dir/x/inventory.db",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert!(
        doc["errors"].to_string().contains("inventory.db"),
        "{doc:#}"
    );
}

/// Twelve repositories (one of them missing) audited once unsharded and once as four shards
/// running at the same time against one store: the same inventory, and re-running a shard
/// changes nothing; the missing target is an error and the others go on.
#[test]
fn sharded_audit_equals_one_worker_and_reruns_change_nothing() {
    let work = TempDir::new().unwrap();
    let shared = fake_github("ghp_", 7000);
    let mut list = String::from("# targets\n");
    for i in 0..12 {
        let repo = work.path().join(format!("repo{i:02}"));
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(
            repo.join("config.env"),
            format!("TOKEN={}\nSHARED={shared}\n", fake_github("ghp_", 7001 + i)),
        )
        .unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "add config"]);
        if i % 3 == 0 {
            std::fs::remove_file(repo.join("config.env")).unwrap();
            git(&repo, &["commit", "-q", "-am", "remove config"]);
        }
        list.push_str(&format!("{}\n", repo.display()));
    }
    list.push_str(&format!("{}\n", work.path().join("missing-repo").display()));
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, list).unwrap();

    let one = work.path().join("one.db");
    let out = sprawl()
        .args(["audit", "--no-progress", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&one)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the missing target fails the run"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing-repo"), "{err}");
    assert!(err.contains("13 target(s)"), "{err}");

    let four = work.path().join("four.db");
    // All four run at once; a shard may hold no target at all (the hash decides), hence 0.
    for (code, err) in audit_four_shards_at_once(&targets, &four, &[]) {
        assert!(matches!(code, Some(0) | Some(1) | Some(2)), "{err}");
    }
    let a = shape(&one);
    assert_eq!(a.len(), 13, "12 own tokens + 1 shared");
    let shared_rec = a
        .iter()
        .find(|s| s["occurrences"].as_array().unwrap().len() == 12)
        .expect("shared token in 12 repos");
    let present = shared_rec["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["present"] == true)
        .count();
    assert_eq!(present, 8, "removed from the tip in 4 repos");
    // Fingerprint keys differ between the two stores, so compare per-secret shapes.
    let summary = |v: &[Value]| -> Vec<(usize, usize)> {
        let mut x: Vec<(usize, usize)> = v
            .iter()
            .map(|s| {
                let o = s["occurrences"].as_array().unwrap();
                (o.len(), o.iter().filter(|o| o["present"] == true).count())
            })
            .collect();
        x.sort();
        x
    };
    let b = shape(&four);
    assert_eq!(summary(&a), summary(&b));

    let before = shape(&four);
    let again = sprawl()
        .args(["audit", "--no-progress", "--shard", "2/4", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&four)
        .output()
        .unwrap();
    assert!(matches!(again.status.code(), Some(0) | Some(1) | Some(2)));
    assert_eq!(shape(&four), before, "re-running a shard changes nothing");
}

/// The HTML report is one self-contained page (no external fetch) that headless Chromium renders
/// with every secret's row, most urgent first; a screenshot is kept in target/test-artifacts.
#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(chromium) = crate::common::chromium() else {
        return;
    };
    let work = TempDir::new().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(tree.join("deploy/prod")).unwrap();
    std::fs::write(
        tree.join("deploy/prod/app.env"),
        format!("GITHUB_TOKEN={}\n", fake_github("ghp_", 8001)),
    )
    .unwrap();
    std::fs::write(
        tree.join("dev.env"),
        format!(
            "A={}\nB={}\n",
            fake_github("ghp_", 8002),
            fake_github("gho_", 8003)
        ),
    )
    .unwrap();
    let store = work.path().join("inv.db");
    scan_into(&store, &tree, &[]);
    let html = report(&store, "html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Links to the providers' consoles are anchors; nothing is fetched.
    assert!(
        !html.contains("src=\"http") && !html.contains("url(http") && !html.contains("@import"),
        "no external fetch"
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );
    let page = work.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let base = |extra: &[&str]| crate::common::headless(chromium, &page, "", extra);
    let dom = base(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<tbody class=\"secret\">").count(), 3, "{dom}");
    let first_row = dom.split("<tbody class=\"secret\">").nth(1).unwrap();
    assert!(
        first_row.contains("data-env=\"prod\""),
        "prod first: {first_row}"
    );
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("rotation-report.png");
    base(&[
        "--window-size=1280,900",
        &format!("--screenshot={}", shot.display()),
    ]);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot written"
    );
}

/// Rotation tracking: started, still in progress while an audit after the start finds a copy
/// at the tip, complete once the next audit finds none.
#[test]
fn rotation_completes_only_when_no_copy_remains() {
    let work = TempDir::new().unwrap();
    let store = work.path().join("inv.db");
    let tok = fake_github("ghp_", 9001);
    let tree = work.path().join("t");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("T={tok}\n")).unwrap();
    std::fs::write(tree.join("b.env"), format!("T={tok}\n")).unwrap();
    scan_into(&store, &tree, &[]);
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    let fp = doc["secrets"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let rot = |args: &[&str]| {
        sprawl()
            .arg("rotation")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap()
    };
    assert_eq!(rot(&["start", &fp]).status.code(), Some(0));
    assert_eq!(
        rot(&["start", "0000"]).status.code(),
        Some(2),
        "unknown fingerprint"
    );
    let s = rot(&["status"]);
    assert_eq!(s.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&s.stdout).contains("no audit since it started"));
    assert!(
        String::from_utf8_lossy(&s.stdout)
            .contains("old value: not checked since the rotation started"),
        "status says what is known of the old value"
    );

    // One copy removed, one left: still in progress, naming the copy.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(tree.join("a.env"), "T=rotated-elsewhere\n").unwrap();
    scan_into(&store, &tree, &[]);
    let s = rot(&["status"]);
    let text = String::from_utf8_lossy(&s.stdout).into_owned();
    assert_eq!(s.status.code(), Some(1), "{text}");
    assert!(text.contains("b.env") && !text.contains("a.env"), "{text}");

    // Last copy removed: complete.
    std::fs::remove_file(tree.join("b.env")).unwrap();
    std::fs::write(tree.join("c.txt"), "nothing\n").unwrap();
    scan_into(&store, &tree, &[]);
    let s = rot(&["status", "--json"]);
    assert_eq!(
        s.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&s.stdout)
    );
    let v: Value = serde_json::from_slice(&s.stdout).unwrap();
    assert!(v[0]["completed_at"].is_string());
    // Every report tells the rotation's dates (the HTML page in its timeline).
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    assert_eq!(
        doc["secrets"][0]["rotation_completed"],
        v[0]["completed_at"]
    );
    assert!(doc["secrets"][0]["rotation_started"].is_string());
    assert!(report(&store, "md").contains("- rotation: started "));
    assert!(report(&store, "html").contains(" — rotation completed: no copy left"));
}

/// `sprawl audit --github-org/--gitlab-group` enumerates repositories through a local server
/// answering like the APIs (pagination, a rate limit to wait out, 401 for a bad token), then
/// clones and audits each into the store.
#[test]
fn audit_enumerates_github_orgs_and_gitlab_groups() {
    use std::io::BufRead;
    let work = TempDir::new().unwrap();
    let mut urls = Vec::new();
    for i in 0..3 {
        let repo = work.path().join(format!("src{i}"));
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(
            repo.join(".env"),
            format!("GITHUB_TOKEN={}\n", fake_github("ghp_", 9100 + i)),
        )
        .unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "env"]);
        urls.push(format!("file://{}", repo.display()));
    }
    let repos = work.path().join("repos.json");
    std::fs::write(
        &repos,
        serde_json::json!({"github": [urls[0], urls[1]], "gitlab": [urls[2]]}).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/forge_api.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg("--repos")
        .arg(&repos)
        .args(["--token", "good-token"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().trim_start_matches("PORT ").parse().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let store = work.path().join("org.db");
    let run = |token: &str| {
        sprawl()
            .args([
                "audit",
                "--no-progress",
                "--github-org",
                "acme",
                "--github-api",
                &base,
            ])
            .args([
                "--gitlab-group",
                "acme/platform",
                "--gitlab-url",
                &base,
                "--store",
            ])
            .arg(&store)
            .env("GITHUB_TOKEN", token)
            .env("GITLAB_TOKEN", token)
            .output()
            .unwrap()
    };
    let out = run("good-token");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("rate limited, waiting"), "{err}");
    assert!(err.contains("audit: 3 target(s)"), "{err}");
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    assert_eq!(doc["secrets"].as_array().unwrap().len(), 3);

    let out = run("bad-token");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("token was refused (401)"), "{err}");
    let _ = child.kill();
    let _ = child.wait();
}

/// An audit killed with SIGKILL mid-run leaves a consistent store (every recorded target is
/// whole, nothing half-written) and the next run completes the same inventory a clean run has.
#[test]
fn killed_audit_leaves_a_consistent_store_and_the_next_run_completes_it() {
    let work = TempDir::new().unwrap();
    let mut list = String::new();
    for i in 0..16 {
        let dir = work.path().join(format!("tree{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.env"),
            format!("T={}\n", fake_github("ghp_", 9300 + i)),
        )
        .unwrap();
        // Bulk so each target takes a moment.
        let filler: String = (0..150_000)
            .map(|n| format!("line {n} nothing to see\n"))
            .collect();
        std::fs::write(dir.join("bulk.txt"), filler).unwrap();
        list.push_str(&format!("{}\n", dir.display()));
    }
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, list).unwrap();
    let store = work.path().join("killed.db");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sprawl"))
        .args(["audit", "--no-progress", "-j", "1", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&store)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as at least one target is recorded.
    let started = std::time::Instant::now();
    loop {
        let n = rusqlite_count(&store);
        if n >= 1 || started.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    let recorded = rusqlite_count(&store);
    assert!(
        (1..16).contains(&recorded),
        "killed mid-run: {recorded} of 16 recorded"
    );
    // Consistent: the report reads, each recorded target whole.
    let doc: Value = serde_json::from_str(&report(&store, "json")).unwrap();
    assert_eq!(doc["secrets"].as_array().unwrap().len() as i64, recorded);

    let out = sprawl()
        .args(["audit", "--no-progress", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let clean = work.path().join("clean.db");
    sprawl()
        .args(["audit", "--no-progress", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&clean)
        .output()
        .unwrap();
    let count = |s: &Path| {
        let d: Value = serde_json::from_str(&report(s, "json")).unwrap();
        d["secrets"].as_array().unwrap().len()
    };
    assert_eq!(count(&store), 16);
    assert_eq!(count(&store), count(&clean));
}

/// Scans recorded so far (0 when the store does not exist yet or is locked).
fn rusqlite_count(store: &Path) -> i64 {
    if !store.exists() {
        return 0;
    }
    rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0)))
        .unwrap_or(0)
}

/// An image in an audit is read once: re-auditing the same image reads nothing and keeps its
/// copies (so a rotation still sees them); a rebuilt image with other content is read again.
#[test]
fn reaudit_of_an_unchanged_image_reads_nothing() {
    let work = TempDir::new().unwrap();
    let store = work.path().join("inv.db");
    let archive = work.path().join("app.tar");
    let build = |seed: u64| {
        let img = Img {
            layers: vec![(
                oci::layer_tar(&[E::File(
                    "app/.env",
                    format!("GITHUB_TOKEN={}\n", fake_github("ghp_", seed)).into_bytes(),
                )]),
                Comp::Gzip,
                "COPY .env".into(),
            )],
            ..Img::default()
        };
        oci::docker_save(&archive, &[("app:1", &oci::build(&img))]);
    };
    build(9500);
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, format!("{}\n", archive.display())).unwrap();
    let audit = || {
        let out = sprawl()
            .args(["audit", "--no-progress", "--targets"])
            .arg(&targets)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = audit();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 finding(s)"), "{err}");
    let before = shape(&store);
    let (code, err) = audit();
    assert_eq!(code, Some(1), "the copy is still held: {err}");
    assert!(err.contains("unchanged since the last audit"), "{err}");
    assert_eq!(shape(&store), before);

    build(9501);
    let (code, err) = audit();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        !err.contains("unchanged"),
        "a rebuilt image is read again: {err}"
    );
    assert_eq!(shape(&store).len(), 2, "the new token is recorded too");
}

/// The fixtures written by the previous version's binary (`sprawl scan --store` of a tree
/// where `aws.secret-access-key` found a value in a script and `generic.secret` the same value
/// in Terraform and Python): after migration one row per value, named by the provider rule,
/// with every copy and the rule that found it, and the first sighting kept.
pub(crate) fn assert_migrated_fixture(store: &str) {
    let doc: Value = serde_json::from_slice(&crate::common::report(store, "json")).unwrap();
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2, "{doc:#}");
    let shared = secrets
        .iter()
        .find(|s| s["occurrences"].as_array().unwrap().len() == 3)
        .expect("the value three rules found is one row");
    assert_eq!(shared["rule_id"], "aws.secret-access-key");
    assert_eq!(shared["provider"], "Amazon Web Services");
    assert_eq!(
        shared["rules"],
        serde_json::json!(["aws.secret-access-key", "generic.secret"])
    );
    let rules: Vec<(&str, &str)> = shared["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["path"].as_str().unwrap(), o["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("deploy.sh", "aws.secret-access-key"),
            ("main.tf", "generic.secret"),
            ("settings.py", "generic.secret")
        ]
    );
    assert_eq!(
        shared["first_seen"], "2026-11-01T00:00:00Z",
        "the earliest sighting"
    );
    assert_eq!(shared["verification"], "dead", "the latest verification");
    assert!(
        shared["next_step"]["console"]
            .as_str()
            .unwrap()
            .starts_with("https://"),
        "guidance from the rule"
    );
}

#[test]
fn a_sqlite_store_of_the_previous_version_migrates_to_one_row_per_value() {
    let work = TempDir::new().unwrap();
    let store = work.path().join("v3.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory-v3.db"),
        &store,
    )
    .unwrap();
    assert_migrated_fixture(store.to_str().unwrap());
    // Migrated once: opening it again changes nothing.
    assert_migrated_fixture(store.to_str().unwrap());
}
