//! The pre-commit hook with the real `pre-commit` tool (installed from PyPI by
//! scripts/test.sh): a repository whose `.pre-commit-config.yaml` uses this repository's
//! `sprawl-system` hook (the built binary on PATH). A commit adding a fake token is blocked
//! with file, line and rule; a clean commit passes; an inline `sprawl:allow` lets a reviewed
//! line through. The output is printed (`--nocapture`) for the record.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{fake_github, git, venv_tool};
use tempfile::TempDir;

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// PATH with the built sprawl first.
fn path_with_sprawl() -> String {
    let bin: PathBuf = assert_cmd::cargo::cargo_bin("sprawl");
    format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A hook repository holding this checkout's `.pre-commit-hooks.yaml` (pre-commit clones
/// hook repositories at a rev), and a project that uses its `sprawl-system` hook.
fn setup(work: &Path) -> PathBuf {
    let hooks = work.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&hooks, &["init", "-q", "-b", "main"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = git(&hooks, &["rev-parse", "HEAD"]);

    let project = work.join("project");
    std::fs::create_dir_all(&project).unwrap();
    git(&project, &["init", "-q", "-b", "main"]);
    std::fs::write(
        project.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: sprawl-system\n",
            hooks.display()
        ),
    )
    .unwrap();
    std::fs::write(project.join("README.md"), "# project\n").unwrap();
    git(&project, &["add", "."]);
    git(&project, &["commit", "-q", "-m", "init"]);
    let install = Command::new(venv_tool("pre-commit"))
        .arg("install")
        .current_dir(&project)
        .env("PRE_COMMIT_HOME", work.join("cache"))
        .output()
        .unwrap();
    ok(install);
    project
}

/// `git commit` through the installed hook.
fn commit(project: &Path, work: &Path, msg: &str) -> Output {
    let out = Command::new("git")
        .args(["commit", "-q", "-m", msg])
        .current_dir(project)
        .env("PATH", path_with_sprawl())
        .env("PRE_COMMIT_HOME", work.join("cache"))
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    println!(
        "$ git commit -m {msg:?}  (exit {:?})\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_hook_blocks_a_token_passes_clean_commits_and_honours_sprawl_allow() {
    let work = TempDir::new().unwrap();
    let project = setup(work.path());

    // A fake token staged: blocked, naming file, line and rule; nothing committed.
    let token = fake_github("ghp_", 4242);
    std::fs::create_dir_all(project.join("config")).unwrap();
    std::fs::write(
        project.join("config/deploy.env"),
        format!("REGION=eu-west-1\nGITHUB_TOKEN={token}\n"),
    )
    .unwrap();
    git(&project, &["add", "config/deploy.env"]);
    let blocked = commit(&project, work.path(), "add deploy config");
    assert!(!blocked.status.success(), "the commit must be blocked");
    let text = String::from_utf8_lossy(&blocked.stdout).into_owned()
        + &String::from_utf8_lossy(&blocked.stderr);
    assert!(
        text.contains("sprawl (credentials in staged changes"),
        "{text}"
    );
    assert!(text.contains("Failed"), "{text}");
    assert!(
        text.contains("config/deploy.env:2"),
        "file and line: {text}"
    );
    assert!(text.contains("github.pat.classic"), "rule: {text}");
    assert!(
        !text.contains(&token),
        "the token itself is never printed: {text}"
    );
    assert!(
        text.contains("sprawl:allow"),
        "says how to accept a reviewed line: {text}"
    );
    assert_eq!(
        git(&project, &["rev-list", "--count", "HEAD"]),
        "1",
        "nothing was committed"
    );

    // The token replaced by a reference: the commit goes through.
    std::fs::write(
        project.join("config/deploy.env"),
        "REGION=eu-west-1\nGITHUB_TOKEN=${GITHUB_TOKEN}\n",
    )
    .unwrap();
    git(&project, &["add", "config/deploy.env"]);
    let clean = commit(&project, work.path(), "add deploy config");
    assert!(clean.status.success());
    let text = String::from_utf8_lossy(&clean.stdout).into_owned()
        + &String::from_utf8_lossy(&clean.stderr);
    assert!(text.contains("Passed"), "{text}");

    // A reviewed test fixture marked inline: allowed through.
    std::fs::write(
        project.join("fixture.py"),
        format!(
            "FAKE = \"{}\"  # sprawl:allow test fixture\n",
            fake_github("ghp_", 4343)
        ),
    )
    .unwrap();
    git(&project, &["add", "fixture.py"]);
    let allowed = commit(&project, work.path(), "add fixture");
    assert!(
        allowed.status.success(),
        "sprawl:allow lets the line through"
    );
    assert_eq!(git(&project, &["rev-list", "--count", "HEAD"]), "3");
}
