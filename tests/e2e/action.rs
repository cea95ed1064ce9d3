//! The composite GitHub Action: `action.yml` validated against the published action-metadata
//! schema (check-jsonschema's vendored SchemaStore copy, installed from PyPI by
//! scripts/test.sh) plus the inputs the issue names; and its scan step (`action/scan.sh`) run
//! locally with the GITHUB_* variables set the way Actions sets them, on repositories built
//! here: a pull request adding a token fails with SARIF, job summary and outputs; a baseline
//! lets it pass; a push with `full: true` scans the whole history; `fail-on: never` reports
//! without failing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{fake_github, git, sprawl, venv_tool};
use tempfile::TempDir;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn action_metadata_is_valid_and_declares_the_inputs() {
    let out = Command::new(venv_tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    // Declared inputs: the two-space-indented keys under `inputs:`.
    let mut declared = BTreeSet::new();
    let mut in_inputs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_inputs = line.starts_with("inputs:");
        } else if in_inputs
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && let Some(k) = line.trim().strip_suffix(':')
        {
            declared.insert(k.to_string());
        }
    }
    let expected: BTreeSet<String> = [
        "path",
        "baseline",
        "config",
        "fail-on",
        "sarif-file",
        "verify",
        "full",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(declared, expected);
    // Every `inputs.X` used is declared, and every declared input reaches the scan step.
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(declared.contains(&name), "undeclared input {name}");
    }
    for name in &expected {
        assert!(
            text.contains(&format!("${{{{ inputs.{name} }}}}")),
            "{name} unused"
        );
    }
    for script in ["action/install.sh", "action/scan.sh"] {
        assert!(
            text.contains(script) && root().join(script).exists(),
            "{script}"
        );
    }
}

/// A workspace like actions/checkout leaves it: main with an old token committed long ago,
/// and a pull-request branch whose one commit adds a new token.
struct Workspace {
    dir: TempDir,
    base: String,
    head: String,
    old_token: String,
}

fn workspace() -> Workspace {
    let dir = TempDir::new().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    git(&ws, &["init", "-q", "-b", "main"]);
    let old_token = fake_github("ghp_", 5100);
    std::fs::write(ws.join("legacy.env"), format!("OLD_TOKEN={old_token}\n")).unwrap();
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "legacy"]);
    std::fs::write(ws.join("legacy.env"), "OLD_TOKEN=${OLD_TOKEN}\n").unwrap();
    git(&ws, &["commit", "-q", "-am", "use a reference"]);
    let base = git(&ws, &["rev-parse", "HEAD"]);
    git(&ws, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        ws.join("deploy.yml"),
        format!("env:\n  GITHUB_TOKEN: {}\n", fake_github("ghp_", 5200)),
    )
    .unwrap();
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "deploy"]);
    let head = git(&ws, &["rev-parse", "HEAD"]);
    Workspace {
        dir,
        base,
        head,
        old_token,
    }
}

struct Run {
    out: Output,
    summary: String,
    outputs: String,
    sarif: Option<serde_json::Value>,
}

/// Runs action/scan.sh as the composite step would: inputs as INPUT_* variables, GITHUB_*
/// variables pointing into a fake runner directory.
fn run_step(
    w: &Workspace,
    event_name: &str,
    event: serde_json::Value,
    inputs: &[(&str, &str)],
) -> Run {
    let runner = w.dir.path().join("runner");
    let _ = std::fs::remove_dir_all(&runner);
    std::fs::create_dir_all(runner.join("temp")).unwrap();
    let event_path = runner.join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let (summary, outputs) = (runner.join("summary.md"), runner.join("output.txt"));
    let ws = w.dir.path().join("ws");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("action/scan.sh"))
        .current_dir(&runner)
        .env("SPRAWL_BIN", assert_cmd::cargo::cargo_bin("sprawl"))
        .env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_WORKSPACE", &ws)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_REPOSITORY", "example/app")
        .env("GITHUB_SHA", &w.head)
        .env("RUNNER_TEMP", runner.join("temp"))
        .env("INPUT_PATH", ".")
        .env("INPUT_BASELINE", "")
        .env("INPUT_CONFIG", "")
        .env("INPUT_FAIL_ON", "findings")
        .env("INPUT_SARIF_FILE", "sprawl.sarif")
        .env("INPUT_VERIFY", "false")
        .env("INPUT_FULL", "false");
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let sarif_path: PathBuf = ws.join("sprawl.sarif");
    let sarif = std::fs::read(&sarif_path)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    let _ = std::fs::remove_file(&sarif_path);
    Run {
        out,
        summary: std::fs::read_to_string(summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(outputs).unwrap_or_default(),
        sarif,
    }
}

fn pull_request(w: &Workspace) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {"base": {"sha": w.base, "ref": "main"}, "head": {"sha": w.head, "ref": "feature"}}
    })
}

fn sarif_schema_errors(doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/sarif-2.1.0-schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[test]
fn pull_request_with_a_new_token_fails_with_sarif_and_summary() {
    let w = workspace();
    let r = run_step(&w, "pull_request", pull_request(&w), &[]);
    let log = String::from_utf8_lossy(&r.out.stdout).into_owned()
        + &String::from_utf8_lossy(&r.out.stderr);
    println!(
        "{log}\n--- job summary ---\n{}\n--- outputs ---\n{}",
        r.summary, r.outputs
    );
    assert_eq!(r.out.status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("--range {}..{}", w.base, w.head)),
        "{log}"
    );
    assert!(
        log.contains("::error file=deploy.yml,line=2,title=sprawl::"),
        "annotation: {log}"
    );
    // Only the pull request's commit: the old token of main is not reported.
    assert!(
        r.summary.contains("## sprawl: 1 new finding(s)"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("| critical | GitHub classic personal access token (`github.pat.classic`) | `deploy.yml:2` |"), "{}", r.summary);
    assert!(
        !r.summary.contains(&w.old_token[..12]),
        "redacted, and main's history not scanned"
    );
    assert!(
        r.outputs.contains("findings=1\n") && r.outputs.contains("failing=1\n"),
        "{}",
        r.outputs
    );
    assert!(r.outputs.contains("sarif-file=sprawl.sarif"));
    let sarif = r.sarif.expect("SARIF written");
    assert_eq!(sarif_schema_errors(&sarif), Vec::<String>::new());
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy.yml"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "%SRCROOT%"
    );
    assert!(result["partialFingerprints"]["sprawlSecretFingerprint/v1"].is_string());
}

#[test]
fn a_baseline_accepts_known_findings_and_fail_on_never_only_reports() {
    let w = workspace();
    let ws = w.dir.path().join("ws");
    // Accept what the branch holds today.
    let created = sprawl()
        .args([
            "baseline",
            "create",
            "--output",
            "sprawl-baseline.json",
            ".",
        ])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(
        created.status.success() || created.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let r = run_step(
        &w,
        "pull_request",
        pull_request(&w),
        &[("INPUT_BASELINE", "sprawl-baseline.json")],
    );
    assert_eq!(
        r.out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.out.stderr)
    );
    assert!(
        r.summary.contains("## sprawl: 0 new finding(s)")
            && r.summary.contains("No secrets found."),
        "{}",
        r.summary
    );
    assert!(r.outputs.contains("findings=0\n"));

    let r = run_step(
        &w,
        "pull_request",
        pull_request(&w),
        &[("INPUT_FAIL_ON", "never")],
    );
    assert_eq!(r.out.status.code(), Some(0));
    assert!(
        r.outputs.contains("findings=1\n") && r.outputs.contains("failing=0\n"),
        "{}",
        r.outputs
    );

    let r = run_step(
        &w,
        "pull_request",
        pull_request(&w),
        &[("INPUT_FAIL_ON", "sometimes")],
    );
    assert_eq!(r.out.status.code(), Some(2), "a bad fail-on is an error");
}

#[test]
fn push_scans_the_pushed_commits_or_the_whole_history_with_full() {
    let w = workspace();
    let push = serde_json::json!({"ref": "refs/heads/feature", "before": w.base, "after": w.head});
    let r = run_step(&w, "push", push.clone(), &[]);
    assert_eq!(r.out.status.code(), Some(1));
    assert!(r.outputs.contains("findings=1\n"), "{}", r.outputs);

    let r = run_step(&w, "push", push, &[("INPUT_FULL", "true")]);
    assert_eq!(r.out.status.code(), Some(1));
    assert!(
        r.summary.contains("Scanned the whole history"),
        "{}",
        r.summary
    );
    assert!(
        r.outputs.contains("findings=2\n"),
        "the old token too: {}",
        r.outputs
    );
    // A new branch (before = zeros) also scans everything.
    let new_branch =
        serde_json::json!({"before": "0000000000000000000000000000000000000000", "after": w.head});
    let r = run_step(&w, "push", new_branch, &[]);
    assert!(r.outputs.contains("findings=2\n"), "{}", r.outputs);
}
