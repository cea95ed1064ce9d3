//! GitHub Actions job logs (`gha://OWNER/REPO`) against a local HTTPS server playing the REST
//! API (tests/support/gha_api.py): runs paged by `Link`, jobs with steps, logs behind a redirect
//! to blob storage that must not receive the token, an expired log (410), a rate limit (429
//! with Retry-After), masked values, timestamps and colour codes stripped with line numbers
//! kept, a 64 MiB log streamed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{fake_github, sprawl};
use crate::verify::{Proc, certs};

struct Api {
    port: u16,
    ca: std::path::PathBuf,
    log: std::path::PathBuf,
    _p: Proc,
}

fn start(dir: &Path, plan: &Value) -> Api {
    start_script(dir, plan, "gha_api.py")
}

fn start_script(dir: &Path, plan: &Value, script: &str) -> Api {
    let (ca, cert, key) = certs(dir);
    let plan_file = dir.join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let log = dir.join("requests.jsonl");
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script);
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("--plan")
        .arg(&plan_file)
        .arg("--log")
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().trim_start_matches("PORT ").parse().unwrap();
    Api {
        port,
        ca,
        log,
        _p: Proc::new(child),
    }
}

/// Runs `cmd` against the local API with its CA and token.
fn on_api(cmd: &mut assert_cmd::Command, api: &Api) -> std::process::Output {
    cmd.args(["--ci-api", &format!("https://127.0.0.1:{}", api.port)])
        .arg("--ci-api-ca")
        .arg(&api.ca)
        .env("GITHUB_TOKEN", "test-token")
        .output()
        .unwrap()
}

/// Runs `cmd` against the local GitLab API with its CA and token.
fn on_gitlab(cmd: &mut assert_cmd::Command, api: &Api) -> std::process::Output {
    cmd.args([
        "--ci-gitlab-url",
        &format!("https://127.0.0.1:{}", api.port),
    ])
    .arg("--ci-api-ca")
    .arg(&api.ca)
    .env("GITLAB_TOKEN", "gl-token")
    .output()
    .unwrap()
}

/// `sprawl scan TARGET --format json --show-secrets` against the local API.
fn scan_gha(api: &Api, target: &str) -> std::process::Output {
    on_api(
        sprawl().args([
            "scan",
            target,
            "--format",
            "json",
            "--no-progress",
            "--show-secrets",
        ]),
        api,
    )
}

/// A zip archive holding one member `name` with `text` (an artifact).
fn zip_with(name: &str, text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    z.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(text.as_bytes()).unwrap();
    z.finish().unwrap();
    buf.into_inner()
}

const STEP1: &str = "2026-10-02T10:00:00Z";
const STEP2: &str = "2026-10-02T10:00:05Z";

#[test]
fn job_logs_are_scanned_with_run_job_and_step() {
    let work = TempDir::new().unwrap();
    let leaked = fake_github("ghp_", 7701);
    let big = fake_github("ghp_", 7702);
    // Printed by the run's failed first attempt, then re-run: the first attempt's log stays.
    let first_try = fake_github("ghp_", 7704);
    let log = format!(
        "2026-10-02T10:00:00.1000000Z ##[group]Run actions/checkout@v4\n\
         2026-10-02T10:00:01.0000000Z Fetching the repository\n\
         2026-10-02T10:00:05.2000000Z ##[group]Run ./publish.sh\n\
         2026-10-02T10:00:05.3000000Z \x1b[36;1mexport NPM_TOKEN=***\x1b[0m\n\
         2026-10-02T10:00:06.0000000Z \x1b[33mGITHUB_TOKEN={leaked}\x1b[0m\n"
    );
    // An artifact whose report carries a .env file.
    let in_artifact = fake_github("ghp_", 7703);
    let zip = zip_with(
        "reports/.env",
        &format!("# test env\nGH_TOKEN={in_artifact}\n"),
    );
    let job = |id: u64, name: &str| {
        json!({"id": id, "name": name, "run_attempt": 2, "started_at": STEP1,
               "html_url": format!("https://github.com/acme/app/actions/runs/101/job/{id}"),
               "steps": [{"name": "Checkout", "number": 1, "started_at": STEP1},
                         {"name": "Publish", "number": 2, "started_at": STEP2}]})
    };
    let plan = json!({
        "token": "test-token",
        "runs": [[{"id": 101, "run_attempt": 2, "name": "release"}],
                 [{"id": 102, "run_attempt": 1, "name": "nightly"}]],
        "jobs": {"101": [job(1001, "publish"), job(1002, "old"),
                         {"id": 1000, "name": "publish", "run_attempt": 1, "started_at": STEP1,
                          "html_url": "https://github.com/acme/app/actions/runs/101/job/1000",
                          "steps": [{"name": "Publish", "number": 1, "started_at": STEP1}]}],
                 "102": [job(1003, "big")]},
        "logs": {"1000": {"text": format!("2026-10-02T09:00:00.0000000Z + echo {first_try}\n")},
                 "1001": {"first": 429, "text": log}, "1002": {"status": 410},
                 "1003": {"generate_mb": 64, "secret": big}},
        "artifacts": {"101": [
            {"id": 501, "name": "test-results", "size_in_bytes": zip.len(), "expired": false},
            {"id": 502, "name": "broken", "size_in_bytes": 40, "expired": false},
            {"id": 503, "name": "old", "size_in_bytes": 10, "expired": true}]},
        "zips": {"501": base64::engine::general_purpose::STANDARD.encode(&zip),
                 "502": base64::engine::general_purpose::STANDARD.encode(b"PK\x03\x04 not really a zip archive at all")}
    });
    let api = start(work.path(), &plan);
    let out = scan_gha(&api, "gha://acme/app");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the corrupt artifact is an error: {err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4, "{doc:#}");
    let earlier = findings
        .iter()
        .find(|f| f["secret"] == first_try.as_str())
        .expect("the first attempt's log is read too");
    assert_eq!(earlier["ci_log"]["attempt"], 1);
    assert_eq!(earlier["ci_log"]["run"], 101);
    let a = findings
        .iter()
        .find(|f| f["secret"] == in_artifact.as_str())
        .expect("the artifact's .env");
    assert_eq!(a["ci_log"]["artifact"], "test-results.zip!/reports/.env");
    assert_eq!(a["line"], 2);
    assert!(
        err.contains("artifact broken.zip"),
        "a corrupt zip is an error naming it: {err}"
    );
    let f = findings
        .iter()
        .find(|f| f["secret"] == leaked.as_str())
        .expect("the leak");
    let c = &f["ci_log"];
    assert_eq!(c["run"], 101);
    assert_eq!(c["attempt"], 2);
    assert_eq!(c["job"], "publish");
    assert_eq!(c["step"], "Publish", "placed by the log's timestamps");
    assert_eq!(c["workflow"], "release");
    assert_eq!(f["line"], 5, "line numbers of the log kept");
    assert_eq!(
        f["column"], 14,
        "timestamp and colour codes stripped before matching"
    );
    let b = findings
        .iter()
        .find(|f| f["secret"] == big.as_str())
        .expect("end of the 64 MiB log");
    assert_eq!(b["ci_log"]["run"], 102);
    assert!(
        err.contains("2 run(s), 3 job log(s) and 1 artifact(s) read, 1 expired"),
        "{err}"
    );
    // The token went to the API only, never to blob storage.
    let requests: Vec<Value> = std::fs::read_to_string(&api.log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let blobs: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/blob/"))
        .collect();
    assert_eq!(blobs.len(), 5, "three logs, two artifacts");
    assert!(blobs.iter().all(|r| r["auth"] == false), "{blobs:?}");
    assert!(
        requests
            .iter()
            .filter(|r| !r["path"].as_str().unwrap().starts_with("/blob/"))
            .all(|r| r["auth"] == true)
    );
}

#[test]
fn bad_gha_targets_and_tokens_are_clear_errors() {
    let work = TempDir::new().unwrap();
    let plan = json!({"token": "right", "runs": [[]], "jobs": {}, "logs": {}});
    let api = start(work.path(), &plan);
    let run = |target: &str, token: &str| {
        sprawl()
            .args(["scan", target, "--no-progress"])
            .args(["--ci-api", &format!("https://127.0.0.1:{}", api.port)])
            .arg("--ci-api-ca")
            .arg(&api.ca)
            .env("GITHUB_TOKEN", token)
            .output()
            .unwrap()
    };
    let bad = run("gha://acme", "right");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected gha://OWNER/REPO"));
    let denied = run("gha://acme/app", "wrong");
    assert_eq!(denied.status.code(), Some(2));
    let err = String::from_utf8_lossy(&denied.stderr);
    assert!(err.contains("HTTP 401 Bad credentials"), "{err}");
    assert!(!err.contains("wrong"), "the token is never printed");
}

/// A renamed repository: every API call under the old name answers 301 to
/// `/repositories/ID/…`; sprawl follows with the token (it stays on the API) and reads the logs.
#[test]
fn a_renamed_repository_is_followed_on_the_api() {
    let work = TempDir::new().unwrap();
    let leaked = fake_github("ghp_", 7711);
    let plan = json!({
        "token": "test-token",
        "moved": {"from": "acme/old-app", "to": "acme/app", "id": 4242},
        "runs": [[{"id": 201, "run_attempt": 1, "name": "ci"}]],
        "jobs": {"201": [{"id": 2001, "name": "build", "run_attempt": 1, "started_at": STEP1,
                          "html_url": "https://github.com/acme/app/actions/runs/201/job/2001",
                          "steps": [{"name": "Build", "number": 1, "started_at": STEP1}]}]},
        "logs": {"2001": {"text": format!("2026-10-02T10:00:01.0000000Z + curl -H 'token {leaked}'\n")}}
    });
    let api = start(work.path(), &plan);
    let out = scan_gha(&api, "gha://acme/old-app");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["secret"], leaked.as_str(), "{doc:#}");
    assert_eq!(f["ci_log"]["job"], "build");
    let requests: Vec<Value> = std::fs::read_to_string(&api.log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(requests.iter().any(|r| {
        r["path"]
            .as_str()
            .unwrap()
            .starts_with("/repositories/4242/actions/runs")
    }));
    for r in &requests {
        let blob = r["path"].as_str().unwrap().starts_with("/blob/");
        assert_eq!(r["auth"], !blob, "the token on the API only: {r}");
    }
}

/// GitHub Enterprise Server: `gha://HOST/OWNER/REPO` reaches `https://HOST/api/v3` with no
/// `--ci-api` and with `GH_ENTERPRISE_TOKEN`, never `GITHUB_TOKEN`; the inventory keeps the host with the copy, so `purge-logs` finds the same API
/// later without being told, and the artifact's run link points at the host.
#[test]
fn a_github_enterprise_target_carries_its_host() {
    let work = TempDir::new().unwrap();
    let leaked = fake_github("ghp_", 7721);
    let zip = zip_with(
        "dist/.npmrc",
        &format!("//npm.pkg.github.com/:_authToken={leaked}\n"),
    );
    let plan = json!({
        "token": "test-token",
        "runs": [[{"id": 401, "run_attempt": 1, "name": "release"}]],
        "jobs": {"401": []},
        "logs": {},
        "artifacts": {"401": [{"id": 601, "name": "dist", "size_in_bytes": zip.len(), "expired": false}]},
        "zips": {"601": base64::engine::general_purpose::STANDARD.encode(&zip)}
    });
    let api = start(work.path(), &plan);
    let target = format!("gha://127.0.0.1:{}/acme/app", api.port);
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, format!("{target}\n")).unwrap();
    let store = work.path().join("inv.db");
    let run = |args: &[&str]| {
        sprawl()
            .args(args)
            .arg("--store")
            .arg(&store)
            .arg("--ci-api-ca")
            .arg(&api.ca)
            // The enterprise host gets the enterprise token; GITHUB_TOKEN (github.com's)
            // would be refused by it.
            .env("GH_ENTERPRISE_TOKEN", "test-token")
            .env("GITHUB_TOKEN", "a-github-com-token")
            .write_stdin("")
            .output()
            .unwrap()
    };
    let out = run(&[
        "audit",
        "--no-progress",
        "--targets",
        targets.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let o = &doc["secrets"][0]["occurrences"][0];
    assert_eq!(o["target"], target.as_str(), "{doc:#}");
    assert!(
        o["ci"].as_str().unwrap().contains(&format!(
            "https://127.0.0.1:{}/acme/app/actions/runs/401",
            api.port
        )),
        "{o:#}"
    );
    let done = run(&["purge-logs", "--yes"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stdout)
    );
    let log = std::fs::read_to_string(&api.log).unwrap();
    assert!(
        log.contains("\"DELETE\", \"path\": \"/api/v3/repos/acme/app/actions/artifacts/601\""),
        "{log}"
    );
    assert!(
        log.lines()
            .filter(|l| !l.contains("/blob/"))
            .all(|l| l.contains("\"path\": \"/api/v3/")),
        "every API call under /api/v3: {log}"
    );
}

/// `sprawl audit` takes `gha://` targets: log copies go into the inventory as `ci-log` copies
/// ("printed in the log of job …"), and the rotation report says to delete the logs.
#[test]
fn audit_records_log_copies_in_the_inventory() {
    let work = TempDir::new().unwrap();
    let leaked = fake_github("ghp_", 7711);
    let log = format!("2026-10-02T10:00:06.0000000Z echo GITHUB_TOKEN={leaked}\n");
    let plan = json!({
        "token": "test-token",
        "runs": [[{"id": 301, "run_attempt": 1, "name": "deploy"}]],
        "jobs": {"301": [{"id": 3001, "name": "ship", "run_attempt": 1, "started_at": STEP1,
                          "html_url": "https://github.com/acme/app/actions/runs/301/job/3001",
                          "steps": [{"name": "Ship it", "number": 1, "started_at": STEP1}]}]},
        "logs": {"3001": {"text": log}}
    });
    let api = start(work.path(), &plan);
    let targets = work.path().join("targets.txt");
    std::fs::write(&targets, "gha://acme/app\n").unwrap();
    let store = work.path().join("inv.db");
    let audit = || {
        on_api(
            sprawl()
                .args(["audit", "--no-progress", "--targets"])
                .arg(&targets)
                .arg("--store")
                .arg(&store),
            &api,
        )
    };
    let blob_reads = || {
        std::fs::read_to_string(&api.log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("/blob/"))
            .count()
    };
    let out = audit();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(blob_reads(), 1);
    let first: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    // Incremental: a job log read once is never downloaded again; its copies stay current.
    let again = audit();
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert_eq!(blob_reads(), 1, "the second audit read no log");
    let second: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    assert_eq!(
        first["secrets"][0]["occurrences"], second["secrets"][0]["occurrences"],
        "the same copy, step included"
    );
    let doc: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let o = &doc["secrets"][0]["occurrences"][0];
    assert_eq!(o["source"], "ci-log", "{doc:#}");
    assert_eq!(o["target"], "gha://acme/app");
    let ci = o["ci"].as_str().unwrap();
    assert!(
        ci.starts_with("printed in the log of job ship, run 301 attempt 1 (deploy)"),
        "{ci}"
    );
    assert!(ci.contains("step Ship it"), "{ci}");
    let md = String::from_utf8(crate::common::report(&store, "md")).unwrap();
    assert!(md.contains("Delete the CI logs that printed it"), "{md}");

    // purge-logs: nothing deleted without consent; with --yes the run's logs go, and the
    // attempt is recorded with the secret.
    let purge = |extra: &[&str]| {
        sprawl()
            .args(["purge-logs", "--store"])
            .arg(&store)
            .args(["--ci-api", &format!("https://127.0.0.1:{}", api.port)])
            .arg("--ci-api-ca")
            .arg(&api.ca)
            .env("GITHUB_TOKEN", "test-token")
            .args(extra)
            .write_stdin("")
            .output()
            .unwrap()
    };
    let deletes = || {
        std::fs::read_to_string(&api.log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"DELETE\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(purge(&[]).status.code(), Some(2));
    assert!(deletes().is_empty(), "nothing deleted without consent");
    let done = purge(&["--yes"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stdout)
    );
    let d = deletes();
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].contains("/repos/acme/app/actions/runs/301/logs"),
        "{d:?}"
    );
    let md = String::from_utf8(crate::common::report(&store, "md")).unwrap();
    assert!(
        md.contains("deleted via GitHub Actions: delete the run's logs"),
        "{md}"
    );

    // After the purge, the next audit no longer finds the copy (memory is not trusted for a
    // deleted log), so a rotation started before it can complete.
    let fp = first["secrets"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let rotation = |cmd: &str| {
        let mut c = sprawl();
        c.arg("rotation").arg(cmd);
        if cmd == "start" {
            c.arg(&fp);
        }
        c.arg("--store").arg(&store).output().unwrap()
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(rotation("start").status.code(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let after = audit();
    assert_eq!(
        after.status.code(),
        Some(0),
        "nothing left: {}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(blob_reads(), 1, "still no download");
    let status = rotation("status");
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

/// GitLab job traces (`gitlab-ci://GROUP/PROJECT`): jobs paged by `X-Next-Page`, traces with
/// section markers (the finding names its section), one trace behind a redirect to object
/// storage that gets no token, an erased trace, a job's artifacts archive.
#[test]
fn gitlab_job_traces_and_artifacts() {
    let work = TempDir::new().unwrap();
    let in_trace = fake_github("ghp_", 7721);
    let in_redirected = fake_github("ghp_", 7722);
    let in_artifact = fake_github("ghp_", 7723);
    let trace = format!(
        "\x1b[0Ksection_start:1700000000:prepare_script\r\x1b[0KPreparing environment\n\
         \x1b[0Ksection_end:1700000001:prepare_script\r\x1b[0K\x1b[0Ksection_start:1700000002:step_script\r\x1b[0K$ ./deploy.sh\n\
         \x1b[32;1mGH_TOKEN={in_trace}\x1b[0;m\n"
    );
    let zip = zip_with("coverage/env.txt", &format!("GH_TOKEN={in_artifact}\n"));
    let job = |id: u64, name: &str, pipeline: u64, archive: bool| {
        json!({"id": id, "name": name, "stage": "deploy", "status": "success",
               "started_at": "2026-10-02T10:00:00Z", "pipeline": {"id": pipeline},
               "web_url": format!("https://gitlab.example/acme/api/-/jobs/{id}"),
               "artifacts": if archive { json!([{"file_type": "archive", "size": 200, "filename": "artifacts.zip"}]) } else { json!([]) }})
    };
    let plan = json!({
        "token": "gl-token",
        "project": "acme%2Fapi",
        "pages": [[job(11, "deploy", 5, true), job(12, "notify", 5, false)],
                  [job(13, "old", 4, false)]],
        "traces": {"11": {"text": trace},
                   "12": {"text": format!("echo ok\nSLACK_TOKEN_OLD={in_redirected}\n"), "redirect": true},
                   "13": {"status": 410}},
        "zips": {"11": base64::engine::general_purpose::STANDARD.encode(&zip)}
    });
    let api = start_script(work.path(), &plan, "gitlab_ci_api.py");
    let store = work.path().join("inv.db");
    let out = on_gitlab(
        sprawl()
            .args([
                "scan",
                "gitlab-ci://acme/api",
                "--format",
                "json",
                "--no-progress",
                "--show-secrets",
            ])
            .arg("--store")
            .arg(&store),
        &api,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("2 pipeline(s), 2 job trace(s) and 1 artifact archive(s) read, 1 expired"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by = |secret: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["secret"] == secret)
            .unwrap_or_else(|| panic!("{secret}: {doc:#}"))
            .clone()
    };
    let t = by(&in_trace);
    assert_eq!(t["ci_log"]["step"], "step_script");
    assert_eq!(t["ci_log"]["job"], "deploy");
    assert_eq!(t["ci_log"]["run"], 5);
    assert_eq!(t["line"], 3);
    assert_eq!(t["column"], 10, "colour codes and section markers stripped");
    assert_eq!(by(&in_redirected)["ci_log"]["job"], "notify");
    assert_eq!(
        by(&in_artifact)["ci_log"]["artifact"],
        "deploy-artifacts.zip!/coverage/env.txt"
    );
    let requests: Vec<Value> = std::fs::read_to_string(&api.log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &requests {
        let blob = r["path"].as_str().unwrap().starts_with("/blob/");
        assert_eq!(r["token"], !blob, "the token goes to the API only: {r}");
    }
    // purge-logs erases the two jobs that printed secrets (trace and artifacts).
    let purged = on_gitlab(
        sprawl()
            .args(["purge-logs", "--yes", "--store"])
            .arg(&store),
        &api,
    );
    assert_eq!(
        purged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&purged.stdout)
    );
    let erased: Vec<String> = std::fs::read_to_string(&api.log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("/erase"))
        .map(str::to_string)
        .collect();
    assert_eq!(erased.len(), 2, "{erased:?}");
    assert!(erased.iter().any(|l| l.contains("/jobs/11/erase")));
    assert!(erased.iter().any(|l| l.contains("/jobs/12/erase")));
}
