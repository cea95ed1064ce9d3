//! GitHub Actions job logs (`gha://OWNER/REPO`) against a local HTTPS server playing the REST
//! API (tests/support/gha_api.py): runs paged by `Link`, jobs with steps, logs behind a redirect
//! to blob storage that must not receive the token, an expired log (410), a rate limit (429
//! with Retry-After), masked values, timestamps and colour codes stripped with line numbers
//! kept, a 64 MiB log streamed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

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
    let (ca, cert, key) = certs(dir);
    let plan_file = dir.join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let log = dir.join("requests.jsonl");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gha_api.py");
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

const STEP1: &str = "2026-10-02T10:00:00Z";
const STEP2: &str = "2026-10-02T10:00:05Z";

#[test]
fn job_logs_are_scanned_with_run_job_and_step() {
    let work = TempDir::new().unwrap();
    let leaked = fake_github("ghp_", 7701);
    let big = fake_github("ghp_", 7702);
    let log = format!(
        "2026-10-02T10:00:00.1000000Z ##[group]Run actions/checkout@v4\n\
         2026-10-02T10:00:01.0000000Z Fetching the repository\n\
         2026-10-02T10:00:05.2000000Z ##[group]Run ./publish.sh\n\
         2026-10-02T10:00:05.3000000Z \x1b[36;1mexport NPM_TOKEN=***\x1b[0m\n\
         2026-10-02T10:00:06.0000000Z \x1b[33mGITHUB_TOKEN={leaked}\x1b[0m\n"
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
        "jobs": {"101": [job(1001, "publish"), job(1002, "old")], "102": [job(1003, "big")]},
        "logs": {"1001": {"first": 429, "text": log}, "1002": {"status": 410},
                 "1003": {"generate_mb": 64, "secret": big}}
    });
    let api = start(work.path(), &plan);
    let out = sprawl()
        .args([
            "scan",
            "gha://acme/app",
            "--format",
            "json",
            "--no-progress",
            "--show-secrets",
        ])
        .args(["--ci-api", &format!("https://127.0.0.1:{}", api.port)])
        .arg("--ci-api-ca")
        .arg(&api.ca)
        .env("GITHUB_TOKEN", "test-token")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc:#}");
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
        err.contains("2 run(s), 2 job log(s) read, 1 expired"),
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
    assert_eq!(blobs.len(), 2);
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
