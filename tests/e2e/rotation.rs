//! The rotation worklist end to end: a repository, a CI tree and two images that share secrets,
//! audited into one inventory. Each planted value is one row with all its copies (whatever rule
//! found each copy), the owners CODEOWNERS names, the introducing authors, the pipelines that
//! consume it and the rule's next step; the HTML report renders it in headless Chromium.

use std::path::Path;

use crate::common::oci::{self, Comp, E, Img};
use crate::common::{chromium, fake_aws_key, fake_github, git, headless, report, sprawl};
use serde_json::Value;
use tempfile::TempDir;

/// A generated 40-character AWS-style secret access key (fake).
fn fake_aws_secret(seed: u64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..40)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 64) as usize] as char
        })
        .collect()
}

const WORKFLOW: &str = "on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - name: Publish
        run: ./publish.sh
        env:
          DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}
";

struct Org {
    _work: TempDir,
    store: std::path::PathBuf,
    token: String,
    aws_secret: String,
}

/// Builds the repository, the CI tree and the two images, and audits them into one store.
fn audited_org() -> Org {
    let work = TempDir::new().unwrap();
    let token = fake_github("ghp_", 7101);
    let key_id = fake_aws_key(7102);
    let aws_secret = fake_aws_secret(7103);

    // The repository: CODEOWNERS, a token present at the tip, an AWS pair only in history.
    let repo = work.path().join("repo");
    std::fs::create_dir_all(repo.join(".github")).unwrap();
    std::fs::create_dir_all(repo.join("config")).unwrap();
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.join(".github/CODEOWNERS"),
        "*          @acme/platform\n/scripts/  @acme/payments\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("config/ci.env"),
        format!("DEPLOY_TOKEN={token}\n"),
    )
    .unwrap();
    std::fs::write(
        repo.join("scripts/deploy.sh"),
        format!("export AWS_ACCESS_KEY_ID={key_id}\nexport AWS_SECRET_ACCESS_KEY={aws_secret}\n"),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "deploy"]);
    git(&repo, &["rm", "-q", "scripts/deploy.sh"]);
    git(&repo, &["commit", "-qm", "remove the keys"]);

    // The CI tree: a workflow consuming DEPLOY_TOKEN, the literal beside it, Terraform holding
    // the AWS secret (found there by the generic rule), its own CODEOWNERS.
    let ci = work.path().join("ci");
    std::fs::create_dir_all(ci.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(ci.join("infra")).unwrap();
    std::fs::write(ci.join(".github/workflows/deploy.yml"), WORKFLOW).unwrap();
    std::fs::write(ci.join(".env"), format!("DEPLOY_TOKEN={token}\n")).unwrap();
    std::fs::write(
        ci.join("infra/main.tf"),
        format!("provider \"aws\" {{\n  region = \"eu-west-1\"\n  secret = \"{aws_secret}\"\n}}\n"),
    )
    .unwrap();
    std::fs::write(ci.join("CODEOWNERS"), "infra/ @acme/infra\n").unwrap();

    // Two images: the token in a layer file of one and in the config of the other, which
    // also had the AWS pair in a layer that a later one deletes.
    let a = Img {
        layers: vec![(
            oci::layer_tar(&[E::File(
                "app/.env",
                format!("DEPLOY_TOKEN={token}\n").into_bytes(),
            )]),
            Comp::Gzip,
            "COPY .env /app/".into(),
        )],
        ..Img::default()
    };
    let b = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File(
                    "root/.aws/credentials",
                    format!(
                        "[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {aws_secret}\n"
                    )
                    .into_bytes(),
                )]),
                Comp::Gzip,
                "COPY credentials /root/.aws/".into(),
            ),
            (
                oci::layer_tar(&[E::File("root/.aws/.wh.credentials", Vec::new())]),
                Comp::Gzip,
                "RUN rm /root/.aws/credentials".into(),
            ),
        ],
        env: vec![
            "PATH=/usr/bin".to_string(),
            format!("DEPLOY_TOKEN={token}"),
        ],
        ..Img::default()
    };
    let image_a = work.path().join("a.tar");
    let image_b = work.path().join("b.tar");
    oci::docker_save(&image_a, &[("app-a:1", &oci::build(&a))]);
    oci::docker_save(&image_b, &[("app-b:1", &oci::build(&b))]);

    let targets = work.path().join("targets.txt");
    std::fs::write(
        &targets,
        [&repo, &ci, &image_a, &image_b]
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let store = work.path().join("inventory.db");
    let out = sprawl()
        .args(["audit", "--no-progress", "--targets"])
        .arg(&targets)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Org {
        _work: work,
        store,
        token,
        aws_secret,
    }
}

fn targets(s: &Value) -> Vec<String> {
    let mut t: Vec<String> = s["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            Path::new(o["target"].as_str().unwrap())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    t.sort();
    t.dedup();
    t
}

#[test]
fn each_planted_value_is_one_row_with_every_copy_owner_and_consumer() {
    let org = audited_org();
    let doc: Value = serde_json::from_slice(&report(&org.store, "json")).unwrap();
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(
        secrets.len(),
        3,
        "three planted values (token, AWS key id, AWS secret): {doc:#}"
    );
    let by_rule = |rule: &str| {
        secrets
            .iter()
            .find(|s| s["rule_id"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {doc:#}"))
    };

    let token = by_rule("github.pat.classic");
    assert_eq!(
        targets(token),
        ["app-a:1", "app-b:1", "ci", "repo"],
        "{token:#}"
    );
    assert_eq!(token["occurrences"].as_array().unwrap().len(), 4);
    assert_eq!(token["owners"], serde_json::json!(["@acme/platform"]));
    assert!(
        token["authors"][0].as_str().unwrap().starts_with("Dev "),
        "{token:#}"
    );
    let consumers = token["consumers"].as_array().unwrap();
    assert_eq!(consumers.len(), 1, "{token:#}");
    assert_eq!(consumers[0]["file"], ".github/workflows/deploy.yml");
    assert_eq!(consumers[0]["job"], "deploy");
    assert_eq!(consumers[0]["name"], "DEPLOY_TOKEN");
    let next = &token["next_step"];
    assert!(
        next["console"]
            .as_str()
            .unwrap()
            .starts_with("https://github.com/")
    );
    assert!(next["dual_window"].is_boolean());

    // The AWS secret: the provider rule names it although the generic rule found two copies.
    let secret = by_rule("aws.secret-access-key");
    assert_eq!(targets(secret), ["app-b:1", "ci", "repo"], "{secret:#}");
    let rules: Vec<&str> = secret["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["rule_id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"generic.secret"), "{secret:#}");
    assert_eq!(secret["rules"][0], "aws.secret-access-key");
    let mut owners: Vec<&str> = secret["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    owners.sort_unstable();
    assert_eq!(owners, ["@acme/infra", "@acme/payments"]);
    assert!(
        secret["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["present"] == false || o["target"].as_str().unwrap().ends_with("ci")),
        "history-only in the repository, hidden in the image: {secret:#}"
    );
    assert!(
        by_rule("aws.access-key-id.long-term")["owners"] == serde_json::json!(["@acme/payments"])
    );

    // Markdown: the owners' share and the next step; no report carries a plaintext value.
    let md = String::from_utf8(report(&org.store, "md")).unwrap();
    assert!(md.contains("## Who rotates what"), "{md}");
    assert!(
        md.contains("- `@acme/platform`: 1 secret(s) to rotate, 0 live"),
        "{md}"
    );
    assert!(md.contains("What breaks when it is rotated"), "{md}");
    for format in ["md", "csv", "json", "html"] {
        let text = String::from_utf8(report(&org.store, format)).unwrap();
        assert!(
            !text.contains(&org.token) && !text.contains(&org.aws_secret),
            "{format} leaks a secret"
        );
    }
}

/// The HTML report in headless Chromium: the list with its filters, and one secret's page
/// (`#s-N`, shown by `:target`) with copies by target, owners, consumers and next step;
/// screenshots of both are kept in target/test-artifacts.
#[test]
fn html_report_has_a_page_per_secret_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let org = audited_org();
    let html = report(&org.store, "html");
    let page = org.store.with_file_name("report.html");
    std::fs::write(&page, &html).unwrap();
    let html = String::from_utf8(html).unwrap();
    let token_rank = html
        .split("<tbody class=\"secret\">")
        .skip(1)
        .position(|row| row.contains("github.pat.classic"))
        .expect("token row")
        + 1;
    let chrome = |fragment: &str, extra: &[&str]| headless(chromium, &page, fragment, extra);
    let dom = String::from_utf8_lossy(&chrome("", &["--dump-dom"]).stdout).into_owned();
    assert_eq!(dom.matches("<tbody class=\"secret\">").count(), 3);
    assert_eq!(dom.matches("<section class=\"page\"").count(), 3);
    for filter in ["provider", "env", "owner", "status", "where", "text"] {
        assert!(
            dom.contains(&format!("data-filter=\"{filter}\"")),
            "{filter}"
        );
    }
    let section = dom
        .split(&format!("id=\"s-{token_rank}\""))
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the token's page");
    for part in [
        "Copies by target",
        "What breaks when it is rotated",
        "deploy.yml",
        "@acme/platform",
        "Next step",
        "Timeline",
    ] {
        assert!(section.contains(part), "{part}: {section}");
    }
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for (name, fragment) in [
        ("rotation-report.png", String::new()),
        ("rotation-secret-page.png", format!("#s-{token_rank}")),
    ] {
        let shot = artifacts.join(name);
        let _ = std::fs::remove_file(&shot);
        chrome(
            &fragment,
            &[
                "--window-size=1366,900",
                &format!("--screenshot={}", shot.display()),
            ],
        );
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
    }
}
