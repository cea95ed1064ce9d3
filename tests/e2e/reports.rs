//! Golden tests of every output format (insta snapshots) on a tree built by the test, and SARIF
//! validation against the official 2.1.0 schema.

use std::fs;

use crate::common::{fake_github, sprawl};
use tempfile::TempDir;

/// A small fixed tree: a GitHub token, a generic password, two secrets on one line.
fn fixture() -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    let files = [
        (
            "config/app.env",
            format!(
                "# app settings\nGITHUB_TOKEN={}\nDB_PASSWORD=Vq8#zL2mKp9xR\n",
                fake_github("ghp_", 101)
            ),
        ),
        (
            "src/main.py",
            format!(
                "import os\n\nA, B = \"{}\", \"{}\"\n",
                fake_github("gho_", 102),
                fake_github("ghs_", 103)
            ),
        ),
    ];
    for (p, body) in files {
        let path = dir.path().join(p);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, body).expect("write");
    }
    dir
}

/// A validator for the official SARIF 2.1.0 schema (vendored in tests/fixtures).
fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/sarif-2.1.0-schema.json")).expect("schema");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Every schema violation of `doc`, with where it is.
fn schema_errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

fn run(format: &str) -> String {
    let dir = fixture();
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", ".", "-j", "1", "--format", format])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    // SARIF names the source root (a temporary directory) in originalUriBaseIds.
    let root = dir.path().canonicalize().expect("root");
    String::from_utf8(out)
        .expect("utf-8 report")
        .replace(&format!("file://{}/", root.display()), "file:///ROOT/")
}

#[test]
fn text_report() {
    insta::assert_snapshot!(run("text"));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(run("json"));
}

#[test]
fn jsonl_report() {
    insta::assert_snapshot!(run("jsonl"));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(run("md"));
}

#[test]
fn sarif_report() {
    insta::assert_snapshot!(run("sarif"));
}

#[test]
fn sarif_is_valid_and_secret_free() {
    let dir = fixture();
    let secrets: Vec<String> = vec![
        fake_github("ghp_", 101),
        fake_github("gho_", 102),
        fake_github("ghs_", 103),
        "Vq8#zL2mKp9xR".into(),
    ];
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", ".", "--show-secrets", "--format", "sarif"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "SARIF must never carry a secret, even with --show-secrets"
        );
    }
    let validator = sarif_validator();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("SARIF is JSON");
    let errors = schema_errors(&validator, &doc);
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    for r in results {
        assert!(r["partialFingerprints"]["sprawlSecretFingerprint/v1"].is_string());
    }
    // A broken copy is rejected, so the check above has teeth.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        serde_json::json!(0);
    assert!(validator.iter_errors(&broken).next().is_some());
}

#[test]
fn sarif_fingerprint_is_stable_when_lines_move() {
    let dir = fixture();
    let fp = |d: &std::path::Path| {
        let out = sprawl()
            .current_dir(d)
            .args(["scan", "config", "--format", "sarif"])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("json");
        doc["runs"][0]["results"][0]["partialFingerprints"].clone()
    };
    let before = fp(dir.path());
    let env = dir.path().join("config/app.env");
    let body = fs::read_to_string(&env).expect("read");
    fs::write(&env, format!("\n\n\n{body}")).expect("write");
    assert_eq!(before, fp(dir.path()));
}

/// A two-layer image archive (a token deleted by a whiteout, one visible, one in Env) in a
/// temporary directory, scanned as `app.tar` from there so reports carry no temporary path.
fn image_run(format: &str) -> Vec<u8> {
    use crate::common::oci::{self, Comp, E, Img};
    let dir = TempDir::new().expect("tempdir");
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File(
                    "app/.env",
                    format!("GITHUB_TOKEN={}\n", fake_github("ghp_", 121)).into_bytes(),
                )]),
                Comp::Gzip,
                "COPY .env /app/".into(),
            ),
            (
                oci::layer_tar(&[
                    E::File("app/.wh..env", Vec::new()),
                    E::File(
                        "etc/app.conf",
                        format!("token = \"{}\"\n", fake_github("ghp_", 122)).into_bytes(),
                    ),
                ]),
                Comp::Zstd,
                "RUN rm /app/.env".into(),
            ),
        ],
        env: vec![format!("GH_TOKEN={}", fake_github("ghp_", 123))],
        ..Img::default()
    };
    oci::docker_save(
        &dir.path().join("app.tar"),
        &[("example/app:1.0", &oci::build(&img))],
    );
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", "app.tar", "-j", "1", "--format", format])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let root = dir.path().canonicalize().expect("root");
    String::from_utf8(out)
        .expect("utf-8")
        .replace(&format!("file://{}/", root.display()), "file:///ROOT/")
        .into_bytes()
}

#[test]
fn image_text_report() {
    insta::assert_snapshot!(String::from_utf8(image_run("text")).expect("utf-8"));
}

#[test]
fn image_json_report() {
    insta::assert_snapshot!(String::from_utf8(image_run("json")).expect("utf-8"));
}

#[test]
fn image_sarif_report_is_valid() {
    let out = image_run("sarif");
    let validator = sarif_validator();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("SARIF is JSON");
    let errors = schema_errors(&validator, &doc);
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    insta::assert_snapshot!(String::from_utf8(out).expect("utf-8"));
}

/// The text report of a history condenses a secret's later versions: the introducing commit,
/// then a count and the latest (`-v` lists every commit); JSON keeps them all.
#[test]
fn text_report_condenses_later_versions_of_a_file() {
    let dir = TempDir::new().unwrap();
    let repo = dir.path();
    crate::common::git(repo, &["init", "-q", "-b", "main"]);
    let token = crate::common::fake_github("ghp_", 4401);
    for i in 0..6 {
        std::fs::write(
            repo.join("settings.env"),
            format!("# revision {i}\nGITHUB_TOKEN={token}\n"),
        )
        .unwrap();
        crate::common::git(repo, &["add", "-A"]);
        crate::common::git(repo, &["commit", "-qm", &format!("revision {i}")]);
    }
    let run = |extra: &[&str]| {
        let out = sprawl()
            .arg("scan")
            .arg(repo)
            .arg("--no-progress")
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let short = run(&[]);
    assert_eq!(short.matches("introduced in ").count(), 1, "{short}");
    assert_eq!(short.matches("  again in ").count(), 1, "{short}");
    assert!(
        short.contains("again in 5 later version(s) of the file, latest "),
        "{short}"
    );
    let long = run(&["-v"]);
    assert_eq!(long.matches("  again in ").count(), 5, "{long}");
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    assert_eq!(
        json["findings"][0]["git"]["commits"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

/// One layer copy seen through three images is printed once in the text report, with the other
/// images named; `-v` prints each.
#[test]
fn text_report_prints_a_shared_layer_copy_once() {
    use crate::common::oci::{self, Comp, E, Img};
    let dir = TempDir::new().unwrap();
    let token = fake_github("ghp_", 4402);
    let base = oci::layer_tar(&[E::File(
        "etc/app.env",
        format!("GITHUB_TOKEN={token}\n").into_bytes(),
    )]);
    let images: Vec<oci::Built> = (0..3)
        .map(|i| {
            oci::build(&Img {
                layers: vec![
                    (base.clone(), Comp::Gzip, "COPY app.env /etc/".into()),
                    (
                        oci::layer_tar(&[E::File("srv/version", format!("{i}\n").into_bytes())]),
                        Comp::Gzip,
                        format!("RUN echo {i}"),
                    ),
                ],
                ..Img::default()
            })
        })
        .collect();
    let archive = dir.path().join("three.tar");
    oci::docker_save(
        &archive,
        &[
            ("svc-a:1", &images[0]),
            ("svc-b:1", &images[1]),
            ("svc-c:1", &images[2]),
        ],
    );
    let run = |extra: &[&str]| {
        let out = sprawl()
            .arg("scan")
            .arg(&archive)
            .arg("--no-progress")
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let short = run(&[]);
    assert_eq!(short.matches("  image: ").count(), 1, "{short}");
    assert!(
        short.contains("same layer copy in 2 more image(s): svc-b:1, svc-c:1"),
        "{short}"
    );
    assert!(
        short.contains("3 finding(s), 1 distinct secret(s)"),
        "{short}"
    );
    assert_eq!(run(&["-v"]).matches("  image: ").count(), 3);
}
