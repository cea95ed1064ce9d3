//! Registry images: a real registry (Debian's `docker-registry`, distribution 2.8) on
//! 127.0.0.1, once with bearer-token auth (tests/support/token_server.py, JWTs signed by a
//! key the registry trusts) and once anonymous; images pushed by a real `skopeo` from OCI
//! layouts written by the test. `scripts/test.sh` installs both packages.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::oci::{self, Comp, E, Img};
use crate::common::{fake_github, sprawl};
use serde_json::Value;
use tempfile::TempDir;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-registry-pw";

/// Kills a child process when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True when the registry and skopeo are installed; under CI their absence is a failure.
fn tools_present() -> bool {
    let ok =
        Path::new("/usr/bin/docker-registry").exists() && Path::new("/usr/bin/skopeo").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-registry and skopeo must be installed (scripts/test.sh does it)"
        );
        eprintln!("skipped: docker-registry or skopeo not installed");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running registry, with its token server when it uses token auth.
struct Registry {
    port: u16,
    _registry: Proc,
    _token: Option<Proc>,
}

fn start_registry(work: &Path, name: &str, token_auth: bool) -> Registry {
    let mut token = None;
    let mut auth = String::new();
    if token_auth {
        let key = work.join("token.key");
        let cert = work.join("token.crt");
        let st = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=sprawl-test", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(st.success());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/token_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                "0",
                "--issuer",
                "sprawl-test",
                "--service",
                "sprawl-registry",
            ])
            .args(["--user", USER, "--password", PASSWORD, "--quiet", "--key"])
            .arg(&key)
            .arg("--cert")
            .arg(&cert)
            .stdout(Stdio::piped())
            .spawn()
            .expect("token server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("PORT line");
        let tport: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("token server said {line:?}"));
        token = Some(Proc(child));
        auth = format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{tport}/token\n    service: sprawl-registry\n    issuer: sprawl-test\n    rootcertbundle: {}\n",
            cert.display()
        );
    }
    let port = free_port();
    let cfg = work.join(format!("{name}.yml"));
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: sprawl-test\n{auth}",
            work.join(format!("{name}-data")).display()
        ),
    )
    .expect("config");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry");
    let registry = Proc(child);
    let started = Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        let status = agent
            .get(format!("http://127.0.0.1:{port}/v2/"))
            .call()
            .map(|r| r.status().as_u16());
        if matches!(status, Ok(200) | Ok(401)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "registry did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Registry {
        port,
        _registry: registry,
        _token: token,
    }
}

/// Pushes the OCI layout `layout` (tag `tag`) to `dest` with skopeo.
fn push(layout: &Path, tag: &str, dest: &str, creds: bool) {
    let mut c = Command::new("skopeo");
    c.args(["--insecure-policy", "copy", "-q", "--dest-tls-verify=false"]);
    if creds {
        c.arg(format!("--dest-creds={USER}:{PASSWORD}"));
    } else {
        c.arg("--dest-no-creds");
    }
    let out = c
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan(target: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut c = sprawl();
    c.arg("scan")
        .arg(target)
        .args(["--format", "json", "--show-secrets", "--no-progress"])
        .args(extra)
        .env("DOCKER_CONFIG", "/nonexistent-sprawl-test");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn images_of(doc: &Value, secret: &str) -> Vec<Value> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["secret"].as_str() == Some(secret))
        .map(|f| f["image"].clone())
        .collect()
}

/// An image with a deleted secret in layer 0 and one in the config.
fn build_layout(dir: &Path, seed: u64) -> (PathBuf, oci::Built, String, String) {
    let deleted = fake_github("ghp_", seed);
    let in_env = fake_github("ghp_", seed + 1);
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File(
                    "app/.env",
                    format!("GITHUB_TOKEN={deleted}\n").into_bytes(),
                )]),
                Comp::Gzip,
                "COPY .env /app/".into(),
            ),
            (
                oci::layer_tar(&[E::File("app/.wh..env", Vec::new())]),
                Comp::Zstd,
                "RUN rm /app/.env".into(),
            ),
        ],
        env: vec![format!("GH_TOKEN={in_env}")],
        ..Img::default()
    };
    let built = oci::build(&img);
    let layout = dir.join(format!("layout-{seed}"));
    oci::write_oci_dir(&layout, &[("v1", &built)], false);
    (layout, built, deleted, in_env)
}

#[test]
fn token_auth_registry_by_tag_and_digest_with_flags_and_docker_config() {
    if !tools_present() {
        return;
    }
    let work = TempDir::new().unwrap();
    let reg = start_registry(work.path(), "auth", true);
    let (layout, built, deleted, in_env) = build_layout(work.path(), 1001);
    let dest = format!("127.0.0.1:{}/team/app:v1", reg.port);
    push(&layout, "v1", &dest, true);
    let target = format!("oci://{dest}");

    // Credentials from the flag and the environment variable.
    let (code, doc) = scan(
        &target,
        &["--insecure", "--registry-username", USER],
        &[("SPRAWL_REGISTRY_PASSWORD", PASSWORD)],
    );
    assert_eq!(code, 1, "{doc:#}");
    let d = images_of(&doc, &deleted);
    assert_eq!(d.len(), 1, "{doc:#}");
    assert_eq!(d[0]["image"], target);
    assert_eq!(d[0]["layer_digest"], built.layers[0].1);
    assert_eq!(d[0]["visibility"]["how"], "whiteout");
    assert_eq!(images_of(&doc, &in_env)[0]["path"], "config:Env[0]");

    // By digest, credentials from a docker config.json.
    let cfg_dir = work.path().join("docker");
    std::fs::create_dir_all(&cfg_dir).unwrap();
    let auth = base64_encode(&format!("{USER}:{PASSWORD}"));
    std::fs::write(
        cfg_dir.join("config.json"),
        format!(
            r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"{auth}"}}}}}}"#,
            reg.port
        ),
    )
    .unwrap();
    let by_digest = format!(
        "oci://127.0.0.1:{}/team/app@{}",
        reg.port,
        oci::digest(&built.manifest)
    );
    let mut c = sprawl();
    let out = c
        .args([
            "scan",
            &by_digest,
            "--insecure",
            "--format",
            "json",
            "--show-secrets",
        ])
        .env("DOCKER_CONFIG", &cfg_dir)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(images_of(&doc, &deleted).len(), 1);

    // No credentials, then wrong ones: refused, exit 2, clear message.
    let (code, doc) = scan(&target, &["--insecure"], &[]);
    assert_eq!(code, 2);
    assert!(doc["errors"].to_string().contains("refused"), "{doc:#}");
    let (code, doc) = scan(
        &target,
        &["--insecure", "--registry-username", USER],
        &[("SPRAWL_REGISTRY_PASSWORD", "wrong")],
    );
    assert_eq!(code, 2);
    assert!(
        doc["errors"]
            .to_string()
            .contains("wrong user name or password"),
        "{doc:#}"
    );

    // A tag that does not exist.
    let (code, doc) = scan(
        &format!("oci://127.0.0.1:{}/team/app:nope", reg.port),
        &["--insecure", "--registry-username", USER],
        &[("SPRAWL_REGISTRY_PASSWORD", PASSWORD)],
    );
    assert_eq!(code, 2);
    assert!(doc["errors"].to_string().contains("not found"), "{doc:#}");
}

#[test]
fn anonymous_registry_and_a_registry_that_is_down() {
    if !tools_present() {
        return;
    }
    let work = TempDir::new().unwrap();
    let reg = start_registry(work.path(), "anon", false);
    let (layout, _, deleted, _) = build_layout(work.path(), 1011);
    let dest = format!("127.0.0.1:{}/app:v1", reg.port);
    push(&layout, "v1", &dest, false);
    let (code, doc) = scan(&format!("oci://{dest}"), &["--insecure"], &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(images_of(&doc, &deleted).len(), 1);

    // HTTPS is the default: a plain-HTTP registry without --insecure fails clearly.
    let (code, doc) = scan(&format!("oci://{dest}"), &[], &[]);
    assert_eq!(code, 2);
    assert!(
        doc["errors"].to_string().contains("cannot reach registry"),
        "{doc:#}"
    );

    let down = format!("oci://127.0.0.1:{}/app:v1", free_port());
    let (code, doc) = scan(&down, &["--insecure"], &[]);
    assert_eq!(code, 2);
    assert!(
        doc["errors"].to_string().contains("cannot reach registry"),
        "{doc:#}"
    );
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
