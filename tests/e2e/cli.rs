//! End-to-end tests of the `sprawl` binary on trees built by each test: exit codes, bad input,
//! baselines, allow comments, stdin.

use std::fs;

use crate::common::{fake_github, sprawl, tree};
use predicates::prelude::*;
use tempfile::TempDir;

/// Runs `sprawl scan ARGS TARGET` and returns the assertion handle.
fn scan_in(target: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    sprawl().arg("scan").args(args).arg(target).assert()
}

fn json_findings(out: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(out).expect("JSON report");
    v["findings"].as_array().expect("findings array").clone()
}

#[test]
fn finds_a_token_and_exits_1() {
    let tok = fake_github("ghp_", 1);
    let dir = tree(&[("app/config.env", &format!("GITHUB_TOKEN={tok}\n"))]);
    let out = scan_in(dir.path(), &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["rule_id"], "github.pat.classic");
    assert_eq!(f[0]["line"], 1);
    assert_eq!(f[0]["column"], 14);
    assert!(
        f[0].get("secret").is_none(),
        "secret only with --show-secrets"
    );
    assert!(
        !String::from_utf8_lossy(&out).contains(&tok),
        "no plaintext secret in the default report"
    );
}

#[test]
fn show_secrets_reveals() {
    let tok = fake_github("ghp_", 2);
    let dir = tree(&[("a.txt", &format!("token: {tok}\n"))]);
    scan_in(dir.path(), &["--show-secrets", "--format", "json"])
        .code(1)
        .stdout(predicate::str::contains(tok.as_str()));
}

#[test]
fn bad_checksum_is_not_reported() {
    let mut tok = fake_github("ghp_", 3);
    let last = tok.pop().expect("char");
    tok.push(if last == 'A' { 'B' } else { 'A' });
    let dir = tree(&[("a.txt", &format!("token: {tok}\n"))]);
    scan_in(dir.path(), &[]).code(0);
}

#[test]
fn clean_tree_exits_0() {
    let dir = tree(&[("README.md", "# hello\nnothing to see\n")]);
    scan_in(dir.path(), &[])
        .code(0)
        .stdout(predicate::str::contains("0 finding(s)"));
}

#[test]
fn empty_directory_fails_closed() {
    let dir = TempDir::new().expect("tempdir");
    scan_in(dir.path(), &[])
        .code(2)
        .stderr(predicate::str::contains("nothing was scanned"));
}

#[test]
fn missing_target_is_an_error_but_others_are_scanned() {
    let tok = fake_github("gho_", 4);
    let dir = tree(&[("a.txt", &format!("{tok}\n"))]);
    let missing = dir.path().join("does-not-exist");
    let out = sprawl()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .arg(&missing)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist"));
    assert_eq!(json_findings(&out.stdout).len(), 1);
}

#[test]
fn unreadable_file_is_reported_by_name() {
    use std::os::unix::fs::PermissionsExt;
    let tok = fake_github("ghp_", 5);
    let dir = tree(&[("ok.txt", &format!("{tok}\n")), ("locked.txt", "secret\n")]);
    let locked = dir.path().join("locked.txt");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    if fs::read(&locked).is_ok() {
        eprintln!(
            "running as root: permissions do not stop reads; checking a broken symlink instead"
        );
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("dangling"))
            .expect("symlink");
        scan_in(dir.path(), &["--follow-symlinks"])
            .code(2)
            .stderr(predicate::str::contains("dangling"));
        return;
    }
    scan_in(dir.path(), &[])
        .code(2)
        .stderr(predicate::str::contains("locked.txt"));
}

#[test]
fn invalid_utf8_is_scanned() {
    let tok = fake_github("ghp_", 6);
    let dir = TempDir::new().expect("tempdir");
    let mut body = b"caf\xe9 \xff\xfe garbage\n".to_vec();
    body.extend_from_slice(format!("x = \"{tok}\"\n").as_bytes());
    fs::write(dir.path().join("latin1.txt"), body).expect("write");
    let out = scan_in(dir.path(), &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 2);
}

#[test]
fn sparse_2gb_file_is_skipped_quickly() {
    let tok = fake_github("ghp_", 7);
    let dir = tree(&[("ok.txt", &format!("{tok}\n"))]);
    let f = fs::File::create(dir.path().join("disk.img")).expect("create");
    f.set_len(2 << 30).expect("sparse 2 GB");
    let out = scan_in(dir.path(), &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["stats"]["skipped_binary"], 1);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn large_text_file_is_scanned_in_windows() {
    // 40 MB of text with secrets near the start, across the first window boundary and at the end.
    let toks: Vec<String> = (10..13).map(|i| fake_github("ghp_", i)).collect();
    let line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n";
    let mut body = String::with_capacity(41 << 20);
    body.push_str(&format!("a = {}\n", toks[0]));
    while body.len() < (32 << 20) - 30 {
        body.push_str(line);
    }
    body.push_str(&format!("b = {}\n", toks[1]));
    while body.len() < (40 << 20) {
        body.push_str(line);
    }
    body.push_str(&format!("c = {}\n", toks[2]));
    let lines = body.lines().count();
    let dir = tree(&[("big.log", &body)]);
    let out = scan_in(dir.path(), &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let f = json_findings(&out);
    assert_eq!(f.len(), 3, "{f:?}");
    assert_eq!(f[0]["line"], 1);
    assert_eq!(f[2]["line"], lines);
}

#[test]
fn symlink_loop_terminates() {
    let tok = fake_github("ghp_", 8);
    let dir = tree(&[("sub/a.txt", &format!("{tok}\n"))]);
    std::os::unix::fs::symlink("..", dir.path().join("sub/loop")).expect("symlink");
    // Default: links are not followed, so the loop is harmless.
    scan_in(dir.path(), &[]).code(1);
    // Following links: the loop is detected, named, the rest is still scanned, exit code 2.
    let out = scan_in(dir.path(), &["--follow-symlinks", "--format", "json"])
        .code(2)
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("loop"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!json_findings(&out.stdout).is_empty());
}

#[test]
fn malformed_rule_file_names_file_and_rule() {
    let tok = fake_github("ghp_", 9);
    let dir = tree(&[
        ("scan/a.txt", &format!("{tok}\n")),
        (
            "rules/broken.toml",
            "[[rule]]\nid = \"acme.token\"\nname = \"Acme\"\nprovider = \"Acme\"\npattern = '''(?P<secret>acme_[a-z'''\nkeywords = [\"acme_\"]\nconfidence = \"high\"\nseverity = \"high\"\n",
        ),
    ]);
    let out = sprawl()
        .args(["scan", "--format", "json", "--rules"])
        .arg(dir.path().join("rules"))
        .arg(dir.path().join("scan"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml") && err.contains("acme.token"),
        "{err}"
    );
    assert_eq!(
        json_findings(&out.stdout).len(),
        1,
        "built-in rules still ran"
    );
    sprawl()
        .args(["rules", "check"])
        .arg(dir.path().join("rules"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("acme.token"));
}

#[test]
fn stdin_is_scanned() {
    let tok = fake_github("ghu_", 11);
    sprawl()
        .args(["scan", "-", "--format", "jsonl"])
        .write_stdin(format!("export T={tok}\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\":\"<stdin>\""));
}

#[test]
fn allow_comments_suppress() {
    let a = fake_github("ghp_", 12);
    let b = fake_github("ghp_", 13);
    let c = fake_github("ghp_", 14);
    let body = format!(
        "x = \"{a}\" # sprawl:allow\ny = \"{b}\" # gitleaks:allow\n# pragma: allowlist nextline secret\nz = \"{c}\"\n"
    );
    let dir = tree(&[("a.py", &body)]);
    scan_in(dir.path(), &[]).code(0);
}

#[test]
fn baseline_follows_the_secret_not_the_line() {
    let old = fake_github("ghp_", 15);
    let dir = tree(&[("app.env", &format!("A={old}\n"))]);
    let base = dir.path().join("baseline.json");
    sprawl()
        .args(["baseline", "create", "-o"])
        .arg(&base)
        .arg(dir.path().join("app.env"))
        .assert()
        .code(0);
    let text = fs::read_to_string(&base).expect("baseline");
    assert!(!text.contains("line") && !text.contains(&old), "{text}");
    // Moving the secret keeps it baselined.
    fs::write(
        dir.path().join("app.env"),
        format!("\n\n# moved\nA={old}\n"),
    )
    .expect("write");
    sprawl()
        .args(["scan", "--baseline"])
        .arg(&base)
        .arg(dir.path().join("app.env"))
        .assert()
        .code(0);
    // A new secret on the old line is reported.
    let new = fake_github("ghp_", 16);
    fs::write(dir.path().join("app.env"), format!("A={new}\n")).expect("write");
    sprawl()
        .args(["scan", "--baseline"])
        .arg(&base)
        .arg(dir.path().join("app.env"))
        .assert()
        .code(1);
}

/// Gitignored files are where local secrets live: scanned by default and counted in the
/// summary; `--respect-gitignore` skips them. Dependency directories are skipped (and named)
/// unless `--no-ignore`; nested repositories are scanned like any directory.
#[test]
fn gitignored_files_scanned_unless_respect_gitignore() {
    let tok = fake_github("ghp_", 17);
    let dep = fake_github("ghp_", 170);
    let nested = fake_github("ghp_", 171);
    let dir = tree(&[
        (".gitignore", "secret.env\nnode_modules/\n"),
        ("secret.env", &format!("T={tok}\n")),
        ("ok.txt", "hi\n"),
        ("node_modules/pkg/index.js", &format!("t='{dep}'\n")),
        ("other/.git/HEAD", "ref: refs/heads/main\n"),
        ("other/a.env", &format!("T={nested}\n")),
    ]);
    let out = scan_in(dir.path(), &["--git-history", "none"])
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("secret.env:1:3"), "{stdout}");
    assert!(stdout.contains("other/a.env"), "{stdout}");
    assert!(!stdout.contains("index.js"), "{stdout}");
    assert!(stdout.contains("4 file(s) (1 gitignored)"), "{stdout}");
    assert!(stderr.contains("not scanned (node_modules)"), "{stderr}");
    scan_in(
        dir.path(),
        &["--git-history", "none", "--respect-gitignore"],
    )
    .code(1);
    let out = scan_in(
        dir.path(),
        &["--git-history", "none", "--respect-gitignore"],
    )
    .get_output()
    .clone();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret.env"));
    let out = scan_in(
        dir.path(),
        &["--git-history", "none", "--no-ignore", "--format", "json"],
    )
    .code(1)
    .get_output()
    .clone();
    assert_eq!(json_findings(&out.stdout).len(), 3);
}

#[test]
fn excludes_and_config() {
    let tok = fake_github("ghp_", 18);
    let tok2 = fake_github("ghp_", 19);
    let dir = tree(&[
        ("vendor/lib.js", &format!("t='{tok}'\n")),
        ("src/app.js", &format!("t='{tok2}'\n")),
        (".sprawl.toml", "[scan]\nexclude = [\"src/**\"]\n"),
    ]);
    scan_in(dir.path(), &["--exclude", "vendor/**"]).code(0);
}

#[test]
fn exit_code_flag() {
    let tok = fake_github("ghp_", 20);
    let dir = tree(&[("a.txt", &format!("{tok}\n"))]);
    scan_in(dir.path(), &["--exit-code", "42"]).code(42);
}

#[test]
fn json_escaped_slashes_and_newline_escapes() {
    let tok = fake_github("ghp_", 21);
    let body = format!(
        "{{\"webhook\":\"https:\\/\\/hooks.slack.com\\/services\\/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\"}}\n{{\"notes\":\"rotate\\n{tok}\"}}\n"
    );
    let dir = tree(&[("dump.json", &body)]);
    let out = scan_in(dir.path(), &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let f = json_findings(&out);
    let rules: Vec<&str> = f.iter().filter_map(|x| x["rule_id"].as_str()).collect();
    assert_eq!(rules, ["slack.webhook", "github.pat.classic"], "{f:#?}");
    assert_eq!(f[1]["line"], 2);
}

/// Archives in a directory are opened (zip, jar, tar.gz, archives inside archives), members
/// reported as `archive!/member`; a corrupt archive is named and the rest scanned (exit 2);
/// `--archive-depth 0` leaves archives alone.
#[test]
fn archives_in_directories_are_opened() {
    use crate::common::oci::{self, Comp, E};
    let dir = tempfile::TempDir::new().unwrap();
    let in_zip = crate::common::fake_github("ghp_", 5001);
    let in_tgz_jar = crate::common::fake_github("ghp_", 5002);
    let plain = crate::common::fake_github("ghp_", 5003);
    let zip_of = |files: &[(&str, String)]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut w, body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    std::fs::write(
        dir.path().join("backup.zip"),
        zip_of(&[("config/.env", format!("GITHUB_TOKEN={in_zip}\n"))]),
    )
    .unwrap();
    let jar = zip_of(&[(
        "application.properties",
        format!("github.token={in_tgz_jar}\n"),
    )]);
    let tgz = oci::compress(&oci::layer_tar(&[E::File("lib/app.jar", jar)]), Comp::Gzip);
    std::fs::write(dir.path().join("release.tar.gz"), tgz).unwrap();
    std::fs::write(
        dir.path().join("broken.zip"),
        b"PK\x03\x04 not really a zip",
    )
    .unwrap();
    std::fs::write(dir.path().join("plain.env"), format!("T={plain}\n")).unwrap();

    let out = crate::common::sprawl()
        .current_dir(dir.path())
        .args([
            "scan",
            ".",
            "--format",
            "json",
            "--show-secrets",
            "--no-progress",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "broken.zip is an error");
    let path_of = |s: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["secret"] == s)
            .map(|f| f["path"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{s} not found: {doc:#}"))
    };
    assert_eq!(path_of(&in_zip), "backup.zip!/config/.env");
    assert_eq!(
        path_of(&in_tgz_jar),
        "release.tar.gz!/lib/app.jar!/application.properties"
    );
    assert_eq!(path_of(&plain), "plain.env");
    assert!(doc["errors"].to_string().contains("broken.zip"), "{doc:#}");

    let out = crate::common::sprawl()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--archive-depth", "0"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}

/// A provider rule that needs its provider's name next to the key finds the key under a
/// parent (`datadog:` / `api_key:`, `"Datadog": { "ApiKey": … }`, `[datadog]`), reported at
/// the value's own line; a base64 Docker `auth` holding a token is decoded and the token
/// reported at the encoded value's line.
#[test]
fn nested_and_encoded_settings_are_found() {
    let hex = "3f9a0c1e7b5d2f4a8c6e0b9d1a3c5e7f";
    let tok = fake_github("ghp_", 23);
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("bot:{tok}"))
    };
    let dir = tree(&[
        (
            "config/app.yml",
            &format!("service: web\ndatadog:\n  site: datadoghq.eu\n  api_key: {hex}\n"),
        ),
        (
            "appsettings.json",
            &format!("{{\n  \"Datadog\": {{\n    \"ApiKey\": \"{hex}\"\n  }}\n}}\n"),
        ),
        ("settings.ini", &format!("[datadog]\napi_key = {hex}\n")),
        (
            "docker/config.json",
            &format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{auth}\"}}}}}}\n"),
        ),
    ]);
    let out = scan_in(dir.path(), &["--git-history", "none", "-f", "json"])
        .code(1)
        .get_output()
        .clone();
    let found: Vec<(String, u64, String)> = json_findings(&out.stdout)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for want in [
        ("config/app.yml", 4, "datadog.api-key"),
        ("appsettings.json", 3, "datadog.api-key"),
        ("settings.ini", 2, "datadog.api-key"),
        ("docker/config.json", 1, "github.pat.classic"),
    ] {
        assert!(
            found
                .iter()
                .any(|(p, l, r)| p.ends_with(want.0) && *l == want.1 && r == want.2),
            "{want:?} not in {found:?}"
        );
    }
}

/// A Kubernetes Secret manifest inside an archive in a scanned directory goes through the same
/// stage as one on disk: its `data:` is decoded.
#[test]
fn kubernetes_secret_inside_an_archive_is_decoded() {
    use base64::Engine as _;
    let tok = fake_github("ghp_", 24);
    let data = base64::engine::general_purpose::STANDARD.encode(format!("GITHUB_TOKEN={tok}"));
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  config: {data}\n"
    );
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("bundle.tar"),
        crate::common::oci::layer_tar(&[crate::common::oci::E::File(
            "k8s/secret.yaml",
            manifest.into_bytes(),
        )]),
    )
    .unwrap();
    let out = scan_in(dir.path(), &["--git-history", "none", "-f", "json"])
        .code(1)
        .get_output()
        .clone();
    let found = json_findings(&out.stdout);
    assert!(
        found.iter().any(|f| f["rule_id"] == "github.pat.classic"
            && f["ci"]["kind"] == "kubernetes"
            && f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("bundle.tar!/k8s/secret.yaml"))),
        "{found:#?}"
    );
}
