//! Helpers shared by the integration tests: the binary, and generated fake credentials.
#![allow(dead_code)]

pub(crate) mod oci;
pub(crate) mod pg;

use assert_cmd::Command;

/// The `sprawl` binary with colour and progress off.
pub(crate) fn sprawl() -> Command {
    let mut c = Command::cargo_bin("sprawl").expect("binary builds");
    c.env("NO_COLOR", "1").env_remove("SPRAWL_FINGERPRINT_KEY");
    c
}

/// A structurally valid fake GitHub-style token (correct CRC32-base62 checksum) from a seed.
pub(crate) fn fake_github(prefix: &str, seed: u64) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let random: String = (0..30)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 62) as usize] as char
        })
        .collect();
    let check = sprawl::detect::checksum::base62_padded(crc32fast::hash(random.as_bytes()), 6);
    format!(
        "{prefix}{random}{}",
        String::from_utf8(check).expect("ascii")
    )
}

/// A structurally valid fake AWS access key id (`AKIA` + 16 base32 characters) from a seed.
pub(crate) fn fake_aws_key(seed: u32) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let tail: String = (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            B32[(x % 32) as usize] as char
        })
        .collect();
    format!("AKIA{tail}")
}

/// A tool from the test virtualenv (pre-commit, check-jsonschema) that scripts/test.sh
/// installs from PyPI into `$SPRAWL_TEST_VENV` (default `target/test-venv`).
pub(crate) fn venv_tool(name: &str) -> std::path::PathBuf {
    let venv = std::env::var_os("SPRAWL_TEST_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv")
        });
    let tool = venv.join("bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run `bash scripts/test.sh` (it installs {name} from PyPI)",
        tool.display()
    );
    tool
}

/// Runs git in `dir` as a fixed author at a fixed date; panics with git's message when it
/// fails; returns its standard output, trimmed.
pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An inventory's secrets (`sprawl report --format json`) without their timestamps, sorted
/// by fingerprint: what two inventories are compared by.
pub(crate) fn inventory_shape(store: impl AsRef<std::ffi::OsStr>) -> Vec<serde_json::Value> {
    let out = sprawl()
        .args(["report", "--format", "json", "--store"])
        .arg(store)
        .output()
        .expect("sprawl runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut secrets: Vec<serde_json::Value> = doc["secrets"]
        .as_array()
        .expect("secrets")
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(o) = s.as_object_mut() {
                o.remove("first_seen");
                o.remove("last_seen");
            }
            s
        })
        .collect();
    secrets.sort_by_key(|s| s["fingerprint"].as_str().unwrap_or_default().to_string());
    secrets
}

/// Starts `sprawl audit --shard i/4` for i in 0..4 all at once on `targets` into `store` (with
/// `extra` arguments) and waits for them; returns each worker's exit code and stderr.
pub(crate) fn audit_four_shards_at_once(
    targets: &std::path::Path,
    store: impl AsRef<std::ffi::OsStr>,
    extra: &[&str],
) -> Vec<(Option<i32>, String)> {
    let children: Vec<_> = (0..4)
        .map(|i| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("sprawl"))
                .args(["audit", "--no-progress", "--shard", &format!("{i}/4")])
                .args(extra)
                .arg("--targets")
                .arg(targets)
                .arg("--store")
                .arg(store.as_ref())
                .env_remove("SPRAWL_FINGERPRINT_KEY")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("sprawl starts")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("worker ends");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

/// A temporary directory holding `files` (path, content), parents created.
pub(crate) fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::TempDir::new().expect("tempdir");
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, body).expect("write");
    }
    dir
}

/// `sprawl report --format FORMAT --store STORE`, which must succeed; its output.
pub(crate) fn report(store: impl AsRef<std::ffi::OsStr>, format: &str) -> Vec<u8> {
    let out = sprawl()
        .args(["report", "--format", format, "--store"])
        .arg(store)
        .output()
        .expect("sprawl runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Headless Chromium (`/usr/bin/chromium`, installed by scripts/test.sh), or `None` with a
/// note when it is missing outside CI (in CI a missing browser fails the test).
pub(crate) fn chromium() -> Option<&'static std::path::Path> {
    let path = std::path::Path::new("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium must be installed (scripts/test.sh)"
    );
    eprintln!("skipped: chromium not installed");
    None
}

/// Opens `page` (with `fragment`, e.g. `#s-1`) in headless Chromium with a private profile
/// beside it and no network services; `extra` says what to do (`--dump-dom`, `--screenshot=`).
pub(crate) fn headless(
    chromium: &std::path::Path,
    page: &std::path::Path,
    fragment: &str,
    extra: &[&str],
) -> std::process::Output {
    let profile = page.with_file_name("chromium-profile");
    std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .expect("chromium runs")
}
