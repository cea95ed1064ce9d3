//! Regression tests for hostile and unlucky input (issue 13, `../shared/REDTEAM.md`): one test
//! per defect the red team found, each building its own input. Network tests stay on loopback.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{fake_github, git, oci, sprawl, tree};
use tempfile::TempDir;

/// Runs sprawl with `args` (at most two minutes) and returns exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    run_in(None, args, &[])
}

fn run_in(cwd: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = sprawl();
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run sprawl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_findings(stdout: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    v["findings"].as_array().expect("findings").clone()
}

fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(st.success());
}

/// A repository with one commit holding `a.env` with a fake token made from `seed`.
fn one_commit_repo(seed: u64) -> TempDir {
    let d = tree(&[("a.env", &format!("T={}\n", fake_github("ghp_", seed)))]);
    git(d.path(), &["init", "-q", "-b", "main"]);
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-qm", "c1"]);
    d
}

/// A listener on loopback that records whether anything connected.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// A loopback port nothing listens on: verification in these tests goes there, never to a
/// real provider.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind")
}

fn connected(l: &TcpListener) -> bool {
    l.accept().is_ok()
}

const RULE_HEAD: &str = "[[rule]]\nname = 'n'\nprovider = 'P'\ndescription = 'd'\nconfidence = 'high'\nseverity = 'high'\n";

// Defect 1 (and 26): a scanned directory's config may neither replace a built-in rule nor say
// where secrets are sent; the user's own --config or --trust-config may, visibly.
#[test]
fn d01_scanned_config_cannot_redirect_verification() {
    let (l, port) = listener();
    let evil_tok = fake_github("ghp_", 101);
    let victim_tok = fake_github("ghp_", 102);
    let config = format!(
        "[[rule]]\nid = 'github.pat.classic'\nname = 'x'\nprovider = 'GitHub'\npattern = '''\\b(?P<secret>ghp_[0-9A-Za-z]{{36}})\\b'''\nkeywords = ['ghp_']\nconfidence = 'high'\nseverity = 'critical'\n[rule.verify]\nurl = 'https://127.0.0.1:{port}/collect'\nheaders = {{ Authorization = 'Bearer {{{{secret}}}}' }}\nlive = {{ status = [200] }}\n"
    );
    let evil = tree(&[
        ("deploy.env", &format!("GITHUB_TOKEN={evil_tok}\n")),
        (".sprawl.toml", &config),
    ]);
    let victim = tree(&[("ci.env", &format!("GITHUB_TOKEN={victim_tok}\n"))]);
    let github = format!("github=https://127.0.0.1:{}", closed_port());
    let (code, out, err) = run(&[
        "scan",
        evil.path().to_str().unwrap(),
        victim.path().to_str().unwrap(),
        "--verify",
        "--verify-endpoint",
        &github,
        "--allow-internal",
        "--verify-timeout",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "refused rules are errors: {err}");
    assert!(err.contains("[rule.verify] ignored"), "{err}");
    assert!(err.contains("would replace the built-in rule"), "{err}");
    assert_eq!(
        json_findings(&out).len(),
        2,
        "the built-in rule still finds both"
    );
    assert!(
        !connected(&l),
        "no request may reach the host a scanned config names"
    );

    // The same file given explicitly is the user's choice: the replacement is a visible note.
    let (_, _, err) = run(&[
        "scan",
        victim.path().to_str().unwrap(),
        "--config",
        evil.path().join(".sprawl.toml").to_str().unwrap(),
    ]);
    assert!(
        err.contains("replaces the built-in rule of that id"),
        "{err}"
    );
    let (_, _, err) = run(&["scan", evil.path().to_str().unwrap(), "--trust-config"]);
    assert!(err.contains("replaces the built-in rule"), "{err}");
}

// Defect 26: a built-in rule replaced from --rules is a note; a user id defined twice is an error.
#[test]
fn d26_rule_replacement_and_duplicates_are_visible() {
    let rules = tree(&[
        (
            "a.toml",
            &format!(
                "{RULE_HEAD}id = 'github.pat.classic'\npattern = '''(?P<secret>never_matches_zz)'''\nkeywords = ['never_matches']\n"
            ),
        ),
        (
            "b.toml",
            &format!(
                "{RULE_HEAD}id = 'team.token'\npattern = '''(?P<secret>teamtok_[a-z]{{8}})'''\nkeywords = ['teamtok_']\n{RULE_HEAD}id = 'team.token'\npattern = '''(?P<secret>teamtok_[a-z]{{9}})'''\nkeywords = ['teamtok_']\n"
            ),
        ),
    ]);
    let d = tree(&[("a.txt", "nothing here\n")]);
    let (code, _, err) = run(&[
        "scan",
        d.path().to_str().unwrap(),
        "--rules",
        rules.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`github.pat.classic` replaces the built-in rule"),
        "{err}"
    );
    assert!(err.contains("`team.token` is also defined in"), "{err}");
}

// Defect 2: credentials in a remote target URL never reach reports, the inventory or errors.
#[test]
fn d02_url_credentials_are_masked_everywhere() {
    let dir = TempDir::new().unwrap();
    let url_tok = fake_github("ghp_", 201);
    let file_tok = fake_github("ghp_", 202);
    // A bare repository served over dumb HTTP by python's http.server.
    let work = dir.path().join("work");
    fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    fs::write(work.join("a.env"), format!("TOKEN={file_tok}\n")).unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "c1"]);
    let www = dir.path().join("www");
    fs::create_dir_all(&www).unwrap();
    git(
        dir.path(),
        &["clone", "-q", "--bare", "work", "www/repo.git"],
    );
    git(&www.join("repo.git"), &["update-server-info"]);
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&www)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://x-access-token:{url_tok}@127.0.0.1:{port}/repo.git");
    let store = dir.path().join("inv.db");
    let sarif = dir.path().join("r.sarif");
    let (code, out, err) = run(&[
        "scan",
        &url,
        "--format",
        "json",
        "--store",
        store.to_str().unwrap(),
        "--write",
        &format!("sarif={}", sarif.display()),
    ]);
    let (_, md, _) = run(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "md",
    ]);
    let (_, csv, _) = run(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    // A clone that fails names the URL masked too.
    let bad = format!("http://x-access-token:{url_tok}@127.0.0.1:1/none.git");
    let (bad_code, _, bad_err) = run(&["scan", &bad]);
    // Outside any work tree (SARIF's %SRCROOT% once came from the target text).
    let (_, bad_sarif, _) = run_in(Some(dir.path()), &["scan", &bad, "--format", "sarif"], &[]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 1, "{err}");
    let f = json_findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert!(
        f[0]["git"]["repo"]
            .as_str()
            .unwrap()
            .contains("x-access-token:****@"),
        "{out}"
    );
    let db = fs::read(&store).unwrap();
    for (what, text) in [
        ("json", out.as_str()),
        ("stderr", err.as_str()),
        ("sarif", &fs::read_to_string(&sarif).unwrap()),
        ("md", md.as_str()),
        ("csv", csv.as_str()),
        ("clone error", bad_err.as_str()),
        ("sarif of a failed clone", bad_sarif.as_str()),
        ("inventory", &String::from_utf8_lossy(&db)),
    ] {
        assert!(!text.contains(&url_tok), "{what} holds the URL's token");
    }
    assert_eq!(bad_code, 2);
    assert!(bad_err.contains("git clone failed"), "{bad_err}");
}

// Defect 3: a Kubernetes Secret in a YAML file over 4 MiB is decoded.
#[test]
fn d03_secret_in_big_multi_document_yaml_is_decoded() {
    use base64::Engine as _;
    let tok = fake_github("ghp_", 301);
    let mut yaml = String::new();
    for i in 0..2600 {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n"
        ));
        for j in 0..50 {
            yaml.push_str(&format!(
                "  key{j}: \"value number {j} of config map {i}\"\n"
            ));
        }
    }
    let secret_line = yaml.lines().count() + 8;
    yaml.push_str(&format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ntype: Opaque\ndata:\n  GH: {}\n",
        base64::engine::general_purpose::STANDARD.encode(&tok)
    ));
    assert!(yaml.len() > 4 << 20);
    let d = tree(&[("deploy/all.yaml", &yaml)]);
    let (code, out, err) = run(&["scan", d.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let f = json_findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["rule_id"], "github.pat.classic");
    assert_eq!(f[0]["line"], secret_line, "reported at the value's line");
}

// Defect 4: the preview never publishes another credential on the same line.
#[test]
fn d04_preview_masks_undetected_credentials() {
    let tok = fake_github("ghp_", 401);
    let pw = "Zq8#vR2!mK9$wL4pX7";
    let d = tree(&[(
        "run.sh",
        &format!(
            "mysql -h db -u root -p'{pw}' --token {tok} --url https://deploy:Hunter2Hunter2@example.com/x\n"
        ),
    )]);
    for format in ["sarif", "md", "json", "text", "jsonl"] {
        let (code, out, _) = run(&["scan", d.path().to_str().unwrap(), "--format", format]);
        assert_eq!(code, 1);
        assert!(!out.contains("Zq8#vR2"), "{format}: {out}");
        assert!(!out.contains("Hunter2Hunter2"), "{format}: {out}");
        assert!(!out.contains(&tok[8..]), "{format}");
    }
    // The inventory keeps the same redacted preview.
    let store = d.path().join("s.db");
    run(&[
        "scan",
        d.path().join("run.sh").to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    let db = String::from_utf8_lossy(&fs::read(&store).unwrap()).into_owned();
    assert!(!db.contains("Zq8#vR2"));
}

// Defect 5: a zip member whose data is longer than its declared size is scanned in full.
#[test]
fn d05_zip_member_longer_than_declared_is_scanned() {
    let tok = fake_github("ghp_", 501);
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("a.env", opts).unwrap();
        z.write_all(format!("{}\nTOKEN={tok}\n", "x".repeat(300)).as_bytes())
            .unwrap();
        z.finish().unwrap();
    }
    let mut b = buf.into_inner();
    // Declared uncompressed size 100 in the local header and the central directory.
    b[22..26].copy_from_slice(&100u32.to_le_bytes());
    let cd = b.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    b[cd + 24..cd + 28].copy_from_slice(&100u32.to_le_bytes());
    let d = TempDir::new().unwrap();
    fs::write(d.path().join("lie.zip"), &b).unwrap();
    let (code, out, err) = run(&["scan", d.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(json_findings(&out).len(), 1);
    assert!(
        err.contains("longer than the size its header declares"),
        "{err}"
    );
}

// Defects 6 and 7: a user regex too big to compile, or catastrophic, is reported.
#[test]
fn d06_d07_oversized_user_regexes_are_errors() {
    let d = tree(&[("div.txt", &format!("kaa{}x\n", "b".repeat(20_000)))]);
    for pattern in [
        r"(?P<secret>kaa(?:[a-z0-9]{1,1000}){1,1000}x)",
        r"(?P<secret>kaa(?:\w{1,300}){1,300}x)",
    ] {
        let rules = tree(&[(
            "r.toml",
            &format!("{RULE_HEAD}id = 'x.huge'\npattern = '''{pattern}'''\nkeywords = ['kaa']\n"),
        )]);
        let (code, _, err) = run(&[
            "scan",
            d.path().to_str().unwrap(),
            "--rules",
            rules.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{pattern}: {err}");
        assert!(
            err.contains("x.huge") && err.contains("size limit"),
            "{err}"
        );
    }
}

// Defect 7: a user regex under the size limit that is slow on its input is switched off
// after its time budget and reported; the scan ends.
#[test]
fn d07_slow_user_regex_is_switched_off() {
    let d = tree(&[("b.txt", &format!("kaa{}\n", "b".repeat(400_000)))]);
    let rules = tree(&[(
        "r.toml",
        &format!(
            "{RULE_HEAD}id = 'x.slow'\npattern = '''(?P<secret>kaa(?:\\w{{1,100}}){{1,100}}x)'''\nkeywords = ['kaa']\n"
        ),
    )]);
    let (code, _, err) = run(&[
        "scan",
        d.path().to_str().unwrap(),
        "--rules",
        rules.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rule `x.slow` took over 2 s"), "{err}");
}

// Defect 8: a FIFO or a link to /dev/zero named manifest.json does not hang or exhaust memory.
#[test]
fn d08_special_manifest_json_is_not_read() {
    let tok = fake_github("ghp_", 801);
    for special in ["fifo", "zero"] {
        let d = tree(&[("a.env", &format!("T={tok}\n"))]);
        let m = d.path().join("manifest.json");
        if special == "fifo" {
            mkfifo(&m);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &m).unwrap();
        }
        let (code, out, err) = run(&["scan", d.path().to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 1, "{special}: {err}");
        assert_eq!(json_findings(&out).len(), 1);
    }
}

// Defect 9: rule files that are FIFOs or links to /dev/zero are refused, not read.
#[test]
fn d09_special_rule_files_are_refused() {
    let tok = fake_github("ghp_", 901);
    let d = tree(&[
        (".sprawl.toml", "[rules]\npaths = [\"rules\"]\n"),
        ("a.env", &format!("T={tok}\n")),
    ]);
    fs::create_dir_all(d.path().join("rules")).unwrap();
    mkfifo(&d.path().join("rules/p.toml"));
    std::os::unix::fs::symlink("/dev/zero", d.path().join("rules/z.toml")).unwrap();
    let (code, _, err) = run(&["scan", d.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("p.toml: cannot read rule file: not a regular file (a FIFO)"),
        "{err}"
    );
    assert!(
        err.contains("z.toml: cannot read rule file: not a regular file (a character device)"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "scan",
        d.path().join("a.env").to_str().unwrap(),
        "--rules",
        d.path().join("rules/p.toml").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file (a FIFO)"), "{err}");
}

// Defect 10: a store path that does not exist is an error for commands that read it.
#[test]
fn d10_missing_store_is_an_error() {
    let d = TempDir::new().unwrap();
    let typo = d.path().join("typo.db");
    let t = typo.to_str().unwrap();
    for args in [
        vec!["report", "--store", t],
        vec!["rotation", "status", "--store", t],
        vec!["verify", "--store", t],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("no inventory there"), "{err}");
        assert!(!typo.exists(), "{args:?} created the file");
    }
}

// Defect 11: a missing parent tree does not hide blobs still at HEAD.
#[test]
fn d11_missing_parent_tree_keeps_tip_blobs() {
    let d = TempDir::new().unwrap();
    let r = d.path();
    git(r, &["init", "-q", "-b", "main"]);
    for i in 1..=3u64 {
        fs::write(
            r.join(format!("f{i}.env")),
            format!("TOKEN{i}={}\n", fake_github("ghp_", 1100 + i)),
        )
        .unwrap();
        git(r, &["add", "."]);
        git(r, &["commit", "-qm", &format!("c{i}")]);
    }
    let tree = git(r, &["rev-parse", "HEAD~1^{tree}"]);
    let tree = tree.trim();
    fs::remove_file(r.join(".git/objects").join(&tree[..2]).join(&tree[2..])).unwrap();
    let (code, out, err) = run(&["scan", r.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2, "the lost tree is an error: {err}");
    assert!(err.contains(tree), "{err}");
    let paths: Vec<String> = json_findings(&out)
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    for p in ["f1.env", "f2.env", "f3.env"] {
        assert!(paths.iter().any(|x| x == p), "{p} missing: {paths:?}");
    }
}

// Defect 12: verification never goes through a proxy from the environment.
#[test]
fn d12_verification_ignores_proxy_environment() {
    let (proxy, port) = listener();
    let tok = fake_github("ghp_", 1201);
    let d = tree(&[("a.env", &format!("T={tok}\n"))]);
    let proxy_url = format!("http://127.0.0.1:{port}");
    let github = format!("github=https://127.0.0.1:{}", closed_port());
    let (code, _, err) = run_in(
        None,
        &[
            "scan",
            d.path().to_str().unwrap(),
            "--verify",
            "--verify-endpoint",
            &github,
            "--allow-internal",
            "--verify-timeout",
            "3",
        ],
        &[
            ("HTTPS_PROXY", &proxy_url),
            ("ALL_PROXY", &proxy_url),
            ("https_proxy", &proxy_url),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(!connected(&proxy), "the proxy was used");
}

// Defects 13 and 14: a tarball target is scanned as an archive, within limits, and leaves no
// spill behind.
#[test]
fn d13_tarball_target_is_an_archive() {
    let tok = fake_github("ghp_", 1301);
    let d = TempDir::new().unwrap();
    let tar = oci::layer_tar(&[oci::E::File("a.env", format!("T={tok}\n").into_bytes())]);
    fs::write(d.path().join("p.tar"), &tar).unwrap();
    fs::write(
        d.path().join("p.tar.gz"),
        oci::compress(&tar, oci::Comp::Gzip),
    )
    .unwrap();
    let tmp = d.path().join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    for name in ["p.tar", "p.tar.gz"] {
        let (code, out, err) = run_in(
            None,
            &[
                "scan",
                d.path().join(name).to_str().unwrap(),
                "--format",
                "json",
            ],
            &[("TMPDIR", tmp.to_str().unwrap())],
        );
        assert_eq!(code, 1, "{name}: {err}");
        let f = json_findings(&out);
        assert_eq!(f.len(), 1);
        assert!(f[0]["path"].as_str().unwrap().ends_with("!/a.env"), "{out}");
    }
    // A bomb: 40 MB of zeros in a small .tar.gz, with a 10 MB limit.
    let big = oci::layer_tar(&[oci::E::File("z.txt", vec![b'a'; 40 << 20])]);
    fs::write(
        d.path().join("bomb.tar.gz"),
        oci::compress(&big, oci::Comp::Gzip),
    )
    .unwrap();
    let (code, _, err) = run_in(
        None,
        &[
            "scan",
            d.path().join("bomb.tar.gz").to_str().unwrap(),
            "--max-layer-size",
            "10000000",
        ],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bomb.tar.gz"), "{err}");
    assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0, "nothing spilled");
}

// Defect 14: SIGINT removes the temporary clone directory.
#[test]
fn d14_signal_removes_temporary_clone() {
    let d = TempDir::new().unwrap();
    let tmp = d.path().join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    // A server that accepts and never answers keeps git clone waiting.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let bin = assert_cmd::cargo::cargo_bin("sprawl");
    let mut child = std::process::Command::new(bin)
        .args(["scan", &format!("http://127.0.0.1:{port}/r.git")])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = false;
    for _ in 0..200 {
        if fs::read_dir(&tmp).unwrap().count() > 0 {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(seen, "the clone directory appears");
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        fs::read_dir(&tmp).unwrap().count(),
        0,
        "no clone left behind"
    );
}

// Defect 15: one missing manifest of an OCI index does not hide the other images, and the
// error names the target.
#[test]
fn d15_missing_manifest_keeps_other_images() {
    let tok = fake_github("ghp_", 1501);
    let img = oci::Img {
        layers: vec![(
            oci::layer_tar(&[oci::E::File("app/a.env", format!("T={tok}\n").into_bytes())]),
            oci::Comp::Gzip,
            "COPY a.env /app/".into(),
        )],
        ..oci::Img::default()
    };
    let d = TempDir::new().unwrap();
    let layout = d.path().join("layout");
    oci::write_oci_dir(&layout, &[("v1", &oci::build(&img))], false);
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut manifests = index["manifests"].as_array().unwrap().clone();
    manifests.insert(
        0,
        serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "1".repeat(64)), "size": 10,
            "annotations": {"org.opencontainers.image.ref.name": "gone"}}),
    );
    fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": manifests}))
            .unwrap(),
    )
    .unwrap();
    let (code, out, err) = run(&["scan", layout.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(json_findings(&out).len(), 1, "{out}");
    assert!(
        err.contains(&format!("{}: blobs/sha256/111", layout.display())),
        "{err}"
    );
}

// Defect 16: `report --format json` prints stored secrets only with --show-secrets.
#[test]
fn d16_report_json_needs_show_secrets() {
    let tok = fake_github("ghp_", 1601);
    let d = tree(&[("a.env", &format!("T={tok}\n"))]);
    let store = d.path().join("s.db");
    let s = store.to_str().unwrap();
    run(&[
        "scan",
        d.path().join("a.env").to_str().unwrap(),
        "--store",
        s,
        "--store-secrets",
    ]);
    let (code, out, _) = run(&["report", "--store", s, "--format", "json"]);
    assert_eq!(code, 0);
    assert!(out.contains("github.pat.classic"), "{out}");
    assert!(!out.contains(&tok));
    let (_, out, _) = run(&["report", "--store", s, "--format", "json", "--show-secrets"]);
    assert!(out.contains(&tok));
}

// Defect 17: columns of a line that crosses a 32 MiB window boundary count from its start.
#[test]
fn d17_column_across_window_boundary() {
    let tok = fake_github("ghp_", 1701);
    let window_two = (32usize << 20) - (64 << 10);
    let line_start = window_two - 500_000;
    let mut text = vec![b'\n'; 0];
    // Short lines up to the long line's start.
    while text.len() + 20 < line_start {
        text.extend_from_slice(b"0123456789abcdefghi\n");
    }
    text.extend(std::iter::repeat_n(b'.', line_start - text.len()));
    let lines_before = text.iter().filter(|b| **b == b'\n').count();
    let col0 = text.len() - text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    text.extend(std::iter::repeat_n(b'a', 600_000 - col0));
    text.extend_from_slice(format!(" {tok} ").as_bytes());
    text.extend(std::iter::repeat_n(b'b', 400_000));
    text.push(b'\n');
    let d = TempDir::new().unwrap();
    fs::write(d.path().join("big.txt"), &text).unwrap();
    let (code, out, err) = run(&["scan", d.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], lines_before + 1);
    assert_eq!(f[0]["column"], 600_000 + 2);
}

// Defect 18: a TOML error neither echoes the line nor grows with the file.
#[test]
fn d18_toml_errors_are_bounded() {
    let tok = fake_github("ghp_", 1801);
    let d = TempDir::new().unwrap();
    let mut cfg = format!("[scan]\nexclude = [{tok} {}\n", "x".repeat(2 << 20));
    cfg.push('\n');
    fs::write(d.path().join(".sprawl.toml"), cfg).unwrap();
    fs::write(d.path().join("a.txt"), "nothing\n").unwrap();
    let (code, _, err) = run(&["scan", d.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.len() < 4096, "stderr is {} bytes", err.len());
    assert!(!err.contains(&tok));
    assert!(err.contains("invalid config: line 2, column"), "{err}");
    // Over 16 MiB: refused before parsing.
    let f = fs::File::create(d.path().join(".sprawl.toml")).unwrap();
    f.set_len(100 << 20).unwrap();
    let (code, _, err) = run(&["scan", d.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("larger than"), "{err}");
    assert!(err.len() < 4096);
}

// Defect 19: control characters from names and contents are escaped in the text report.
#[test]
fn d19_terminal_escapes_are_neutralised() {
    let tok = fake_github("ghp_", 1901);
    let d = TempDir::new().unwrap();
    fs::write(
        d.path().join("a\x1b[2Kb.env"),
        format!("T={tok} \x1b[2K\x1b[1A\r\n"),
    )
    .unwrap();
    let (code, out, err) = run(&["scan", d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
    assert!(out.contains("a\\x1b[2Kb.env"), "{out}");
}

// Defect 21: a ref to a missing object and a garbage HEAD are errors.
#[test]
fn d21_broken_refs_are_errors() {
    let d = one_commit_repo(2101);
    let r = d.path();
    fs::write(
        r.join(".git/refs/heads/bad"),
        "0123456789012345678901234567890123456789\n",
    )
    .unwrap();
    let (code, out, err) = run(&["scan", r.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("refs/heads/bad points to a missing object"),
        "{err}"
    );
    assert_eq!(json_findings(&out).len(), 1);
    fs::remove_file(r.join(".git/refs/heads/bad")).unwrap();
    fs::write(r.join(".git/HEAD"), "garbage\n").unwrap();
    let (code, _, err) = run(&["scan", r.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

// A pack entry that claims a huge size (a corrupt or hostile pack) is refused before gix
// allocates what it claims (found by benches/fuzz.rs: 49 KB of pack made a scan take 2.5 GB).
#[test]
fn pack_entry_claiming_a_huge_size_is_refused_cheaply() {
    let d = one_commit_repo(2801);
    let r = d.path();
    git(r, &["repack", "-adq"]);
    let pack = fs::read_dir(r.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let mut b = fs::read(&pack).unwrap();
    // The first entry (the commit, at offset 12): keep its type, claim 2 GiB.
    let kind = (b[12] >> 4) & 7;
    let mut end = 12;
    while b[end] & 0x80 != 0 {
        end += 1;
    }
    let mut size: u64 = 2 << 30;
    let mut header = vec![0x80 | (kind << 4) | (size & 15) as u8];
    size >>= 4;
    while size > 0 {
        let mut byte = (size & 0x7f) as u8;
        size >>= 7;
        if size > 0 {
            byte |= 0x80;
        }
        header.push(byte);
    }
    b.splice(12..=end, header);
    fs::write(&pack, &b).unwrap();
    // Python runs the scan and reports the child's peak RSS (getrusage of its children).
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import resource,subprocess,sys\n\
             p=subprocess.run(sys.argv[1:],capture_output=True,text=True)\n\
             sys.stderr.write(p.stderr)\n\
             print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        ])
        .arg(assert_cmd::cargo::cargo_bin("sprawl"))
        .args(["scan", r.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let said = String::from_utf8_lossy(&out.stdout);
    let mut said = said.split_whitespace();
    let code: i32 = said.next().unwrap().parse().unwrap();
    let maxrss_kb: u64 = said.next().unwrap().parse().unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("too large"), "{err}");
    assert!(maxrss_kb < 1 << 20, "a child used {maxrss_kb} KB");
}

// Defect 22: a work tree whose .git file points nowhere still has its files scanned.
#[test]
fn d22_broken_gitfile_still_scans_files() {
    let tok = fake_github("ghp_", 2201);
    for gitfile in ["gitdir: /nonexistent\n", "garbage\n"] {
        let d = tree(&[(".git", gitfile), ("a.env", &format!("T={tok}\n"))]);
        let (code, out, err) = run(&["scan", d.path().to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("scanned without history"), "{err}");
        assert_eq!(json_findings(&out).len(), 1, "{out}");
    }
}

// Defect 23: libpq connection strings and upper-case URLs are PostgreSQL, never a file.
#[test]
fn d23_postgres_locations_are_not_sqlite_paths() {
    let d = tree(&[("a.txt", "nothing\n")]);
    for store in [
        "host=127.0.0.1 port=1 password=pw-secret-123 dbname=x",
        "POSTGRES://u:pw-secret-123@127.0.0.1:1/x",
    ] {
        let (code, _, err) = run_in(
            Some(d.path()),
            &["scan", ".", "--store", store, "--git-history", "none"],
            &[],
        );
        assert_eq!(code, 2, "{err}");
        assert!(!err.contains("pw-secret-123"), "{err}");
        let names: Vec<String> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt"], "a SQLite file was created");
    }
}

// Defect 24: a FIFO target is read as a stream: no hang without a writer, no lost bytes.
#[test]
fn d24_fifo_targets_are_streams() {
    let d = TempDir::new().unwrap();
    let p = d.path().join("p.env");
    mkfifo(&p);
    let (code, _, err) = run(&["scan", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("p.env: no data could be read"), "{err}");
    // With a writer (as in `sprawl scan <(cmd)`), everything arrives, the first bytes too.
    let tok = fake_github("ghp_", 2401);
    let bin = assert_cmd::cargo::cargo_bin("sprawl");
    let child = std::process::Command::new(bin)
        .args(["scan", p.to_str().unwrap(), "--format", "json"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut w = fs::OpenOptions::new().write(true).open(&p).unwrap();
    w.write_all(format!("T={tok}\n").as_bytes()).unwrap();
    drop(w);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_findings(&stdout).len(), 1);
}

// Defect 25: counts from the command line are bounded.
#[test]
fn d25_cli_counts_are_bounded() {
    let d = tree(&[("a.txt", "x\n")]);
    for args in [
        ["--exit-code", "256"],
        ["-j", "100000"],
        ["--verify-concurrency", "0"],
        ["--archive-depth", "1000"],
    ] {
        let (code, _, err) = run(&["scan", d.path().to_str().unwrap(), args[0], args[1]]);
        assert_eq!(code, 2, "{args:?}: {err}");
    }
}

// Defect 27: the same target twice is scanned once.
#[test]
fn d27_same_target_twice_is_scanned_once() {
    let tok = fake_github("ghp_", 2701);
    let d = tree(&[("a.env", &format!("T={tok}\n"))]);
    let p = d.path().to_str().unwrap();
    let dot = format!("{p}/.");
    let (code, out, err) = run(&["scan", p, &dot, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(json_findings(&out).len(), 1);
    assert!(err.contains("given more than once"), "{err}");
}
