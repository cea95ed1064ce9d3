//! Blast radius (`--verify --blast-radius`) against a local HTTPS server on 127.0.0.1 playing
//! the providers' APIs (tests/support/provider.py `api:` scenarios) with response shapes from
//! their documentation: admin and read-only identities, paging by `Link`, throttling that
//! leaves the access unknown, and `--fail-on-access`.

use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{fake_aws_key, fake_github, sprawl};
use crate::verify::Provider;

/// A generated value of `n` characters from `alphabet` (fake).
fn fake(alphabet: &[u8], n: usize, seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

/// The providers' API routes, per scenario.
fn routes() -> Value {
    let memberships = "/user/memberships/orgs?state=active&per_page=100";
    json!({
        "gh-admin": [
            {"match": "GET /user", "headers": {"X-OAuth-Scopes": "admin:org, repo, workflow"},
             "json": {"login": "octo-admin", "type": "User", "site_admin": false,
                      "public_repos": 12, "total_private_repos": 30}},
            {"match": format!("GET {memberships}"),
             "headers": {"Link": format!("<https://api.github.com{memberships}&page=2>; rel=\"next\"")},
             "json": [{"organization": {"login": "acme"}, "role": "member"}]},
            {"match": format!("GET {memberships}&page=2"),
             "json": [{"organization": {"login": "acme-infra"}, "role": "admin"}]}
        ],
        "gh-read": [
            {"match": "GET /user", "headers": {"X-OAuth-Scopes": "read:user"},
             "json": {"login": "octo-reader", "type": "User", "public_repos": 3}},
            {"match": "GET /user/memberships/orgs", "status": 403,
             "json": {"message": "Resource not accessible by personal access token"}}
        ],
        "gh-link-elsewhere": [
            {"match": "GET /user", "headers": {"X-OAuth-Scopes": "repo"},
             "json": {"login": "octo-lured", "type": "User", "public_repos": 1}},
            {"match": format!("GET {memberships}"),
             "headers": {"Link": "<https://api.github.com@collector.example/steal?page=2>; rel=\"next\""},
             "json": [{"organization": {"login": "acme"}, "role": "member"}]}
        ],
        "gh-throttled": [
            {"match": "GET /user", "headers": {"X-OAuth-Scopes": "repo"},
             "json": {"login": "octo-busy", "type": "User", "public_repos": 1}},
            {"match": "GET /user/memberships/orgs", "status": 429, "headers": {"Retry-After": "1"},
             "json": {"message": "API rate limit exceeded"}}
        ],
        "aws-admin": [
            {"match": "POST /", "body": "Action=GetCallerIdentity", "text":
             "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci/deploy-bot</Arn><UserId>AIDAEXAMPLEUSERID</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"},
            {"match": "POST /", "body": "Action=ListAttachedUserPolicies", "text":
             "<ListAttachedUserPoliciesResponse><ListAttachedUserPoliciesResult><AttachedPolicies><member><PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn><PolicyName>AdministratorAccess</PolicyName></member></AttachedPolicies><IsTruncated>false</IsTruncated></ListAttachedUserPoliciesResult></ListAttachedUserPoliciesResponse>"},
            {"match": "POST /", "body": "Action=ListUserPolicies", "text":
             "<ListUserPoliciesResponse><ListUserPoliciesResult><PolicyNames><member>inline-s3-deploy</member></PolicyNames><IsTruncated>false</IsTruncated></ListUserPoliciesResult></ListUserPoliciesResponse>"},
            {"match": "POST /", "body": "Action=ListGroupsForUser", "status": 403, "text":
             "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>"},
            {"match": "POST /", "body": "Action=SimulatePrincipalPolicy", "text":
             "<SimulatePrincipalPolicyResponse><SimulatePrincipalPolicyResult><EvaluationResults><member><EvalActionName>iam:CreateUser</EvalActionName><EvalDecision>allowed</EvalDecision></member><member><EvalActionName>s3:PutObject</EvalActionName><EvalDecision>allowed</EvalDecision></member><member><EvalActionName>s3:GetObject</EvalActionName><EvalDecision>allowed</EvalDecision></member></EvaluationResults><IsTruncated>false</IsTruncated></SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>"}
        ],
        "slack-bot": [
            {"match": "ANY /api/auth.test", "headers": {"X-OAuth-Scopes": "chat:write,channels:read,files:write"},
             "json": {"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "deploybot",
                      "team_id": "T0ACME", "user_id": "U0BOT", "bot_id": "B0BOT"}}
        ],
        "hf-read": [
            {"match": "GET /api/whoami-v2", "json": {"type": "user", "name": "ml-dev",
             "orgs": [{"name": "acme-ml", "roleInOrg": "admin"}],
             "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "read"}}}}
        ],
        "gitlab-read": [
            {"match": "GET /api/v4/personal_access_tokens/self", "json": {"id": 7, "name": "ci",
             "active": true, "revoked": false, "scopes": ["read_api", "read_repository"],
             "user_id": 42, "expires_at": "2027-01-01"}},
            {"match": "GET /api/v4/user", "json": {"id": 42, "username": "gl-dev"}},
            {"match": "GET /api/v4/groups", "headers": {"X-Total": "0"}, "json": []}
        ],
        "stripe-rk": [
            {"match": "GET /v1/account", "json": {"id": "acct_1Acme", "object": "account",
             "business_profile": {"name": "Acme Shop"}}},
            {"match": "GET /v1/balance", "json": {"object": "balance", "available": []}},
            {"match": "GET /v1/customers", "status": 403, "json": {"error": {"type": "invalid_request_error"}}},
            {"match": "GET /v1/charges", "json": {"object": "list", "data": []}}
        ],
        "sendgrid": [
            {"match": "GET /v3/scopes", "json": {"scopes": ["mail.send", "alerts.read"]}},
            {"match": "GET /v3/user/username", "status": 403, "json": {"errors": [{"message": "access forbidden"}]}}
        ],
        "npm": [
            {"match": "GET /-/whoami", "json": {"username": "pkg-owner"}}
        ],
        "public": [
            {"match": "GET /-/v1/search", "json": {"objects": [{"package": {"name": "acme-utils"}}], "total": 1}}
        ],
        "twilio": [
            {"match": "GET /2010-04-01/Accounts.json", "json": {"accounts": [
                {"sid": "SELF", "friendly_name": "Acme main"},
                {"sid": "ACsub", "friendly_name": "Acme EU"}]}},
            {"match": "GET /2010-04-01/Accounts/*", "json": {"friendly_name": "Acme main",
             "status": "active", "type": "Full"}}
        ]
    })
}

struct Planted {
    gh_admin: String,
    gh_lured: String,
    gh_read: String,
    gh_throttled: String,
    aws_secret: String,
    slack: String,
    hf: String,
    gitlab: String,
    stripe: String,
    sendgrid: String,
    npm: String,
    twilio: String,
}

/// `sprawl scan TREE --verify --blast-radius` with every provider pointed at the local server.
fn scan(provider: &Provider, tree: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut with_blast = vec!["--blast-radius"];
    with_blast.extend_from_slice(extra);
    verify_scan(provider, tree, &with_blast)
}

/// `sprawl scan TREE --verify` (JSON, values shown) with every provider pointed at the local
/// server.
fn verify_scan(provider: &Provider, tree: &Path, extra: &[&str]) -> (i32, Value, String) {
    let base = format!("https://127.0.0.1:{}", provider.port);
    let mut cmd = sprawl();
    cmd.arg("scan")
        .arg(tree)
        .args([
            "--format",
            "json",
            "--show-secrets",
            "--no-progress",
            "--verify",
        ])
        .arg("--allow-internal")
        .arg("--verify-ca")
        .arg(&provider.ca);
    for p in [
        "github",
        "gitlab",
        "aws",
        "slack",
        "huggingface",
        "stripe",
        "sendgrid",
        "npm",
        "twilio",
        "pypi",
        "dockerhub",
        "azure",
        "openai",
        "anthropic",
        "discord",
        "telegram",
        "mapbox",
        "buildkite",
        "datadog",
        "heroku",
        "circleci",
    ] {
        cmd.args(["--verify-endpoint", &format!("{p}={base}")]);
    }
    let out = cmd.args(extra).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn access_of<'a>(doc: &'a Value, secret: &str) -> &'a Value {
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == secret)
        .unwrap_or_else(|| panic!("no finding for {secret}: {doc:#}"));
    &f["verification"]
}

fn setup(work: &Path) -> (Planted, Provider, std::path::PathBuf) {
    let key_id = fake_aws_key(9901);
    let p = Planted {
        gh_admin: fake_github("ghp_", 9902),
        gh_lured: fake_github("ghp_", 9917),
        gh_read: fake_github("ghp_", 9903),
        gh_throttled: fake_github("ghp_", 9904),
        aws_secret: fake(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            40,
            9905,
        ),
        slack: format!(
            "xoxb-{}-{}-{}",
            fake(b"123456789", 12, 9906),
            fake(b"123456789", 13, 9907),
            fake(ALNUM, 24, 9908)
        ),
        hf: format!("hf_{}", fake(LETTERS, 34, 9909)),
        gitlab: format!("glpat-{}", fake(ALNUM, 20, 9910)),
        stripe: format!("rk_live_{}", fake(ALNUM, 40, 9911)),
        sendgrid: format!("SG.{}.{}", fake(ALNUM, 22, 9912), fake(ALNUM, 43, 9913)),
        npm: fake_github("npm_", 9914),
        twilio: fake(HEX, 32, 9915),
    };
    let sid = format!("AC{}", fake(HEX, 32, 9916));
    let tree = work.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let files = [
        ("admin.env", format!("GITHUB_TOKEN={}\n", p.gh_admin)),
        ("lured.env", format!("GITHUB_TOKEN={}\n", p.gh_lured)),
        ("reader.env", format!("GITHUB_TOKEN={}\n", p.gh_read)),
        ("busy.env", format!("GITHUB_TOKEN={}\n", p.gh_throttled)),
        (
            "aws.env",
            format!(
                "AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={}\n",
                p.aws_secret
            ),
        ),
        ("slack.env", format!("SLACK_BOT_TOKEN={}\n", p.slack)),
        ("hf.env", format!("HF_TOKEN={}\n", p.hf)),
        ("gitlab.env", format!("GITLAB_TOKEN={}\n", p.gitlab)),
        ("stripe.env", format!("STRIPE_SECRET_KEY={}\n", p.stripe)),
        ("sendgrid.env", format!("SENDGRID_API_KEY={}\n", p.sendgrid)),
        (
            ".npmrc",
            format!("//registry.npmjs.org/:_authToken={}\n", p.npm),
        ),
        (
            "twilio.env",
            format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={}\n", p.twilio),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(tree.join(name), text).unwrap();
    }
    let twilio_auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{}", p.twilio));
    let mut table = routes();
    // Twilio lists the account itself among its accounts.
    table["twilio"][0]["json"]["accounts"][0]["sid"] = Value::String(sid.clone());
    let scenarios = [
        (p.gh_admin.as_str(), "api:gh-admin"),
        (p.gh_lured.as_str(), "api:gh-link-elsewhere"),
        (p.gh_read.as_str(), "api:gh-read"),
        (p.gh_throttled.as_str(), "api:gh-throttled"),
        (key_id.as_str(), "api:aws-admin"),
        (p.slack.as_str(), "api:slack-bot"),
        (p.hf.as_str(), "api:hf-read"),
        (p.gitlab.as_str(), "api:gitlab-read"),
        (p.stripe.as_str(), "api:stripe-rk"),
        (p.sendgrid.as_str(), "api:sendgrid"),
        (p.npm.as_str(), "api:npm"),
        (twilio_auth.as_str(), "api:twilio"),
    ];
    let provider = Provider::start_api(work, &scenarios, &key_id, Some("api:public"), Some(&table));
    (p, provider, tree)
}

#[test]
fn blast_radius_of_live_secrets_from_read_only_calls() {
    let work = TempDir::new().unwrap();
    let (p, provider, tree) = setup(work.path());
    let store = work.path().join("inv.db");
    let store_arg = store.display().to_string();
    let (code, doc, err) = scan(&provider, &tree, &["--store", &store_arg]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("blast radius of 11 live secret(s)"), "{err}");
    let a = &access_of(&doc, &p.gh_lured)["access"];
    assert_eq!(
        a["calls"], 2,
        "a next page on another host is not followed (the token would go with it): {a}"
    );

    let v = access_of(&doc, &p.gh_admin);
    assert_eq!(v["status"], "live");
    let a = &v["access"];
    assert_eq!(a["level"], "admin", "{v:#}");
    assert_eq!(a["identity"], "user octo-admin");
    assert!(
        a["reach"]
            .to_string()
            .contains("42 repositories (12 public, 30 private)"),
        "{a}"
    );
    assert!(
        a["reach"]
            .to_string()
            .contains("organisations it administers: acme-infra"),
        "{a}"
    );
    assert_eq!(a["calls"], 3, "user, then two pages of memberships");
    assert_eq!(a["exact"], true);

    let a = &access_of(&doc, &p.gh_read)["access"];
    assert_eq!(a["level"], "read-only", "{a}");
    assert!(
        a["reach"].to_string().contains("memberships not readable"),
        "{a}"
    );

    let v = access_of(&doc, &p.gh_throttled);
    assert_eq!(v["status"], "live");
    assert!(
        v["access"].is_null(),
        "throttled: unknown, never a lower level: {v}"
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("blast radius unknown: rate limited (429)")
    );

    let a = &access_of(&doc, &p.aws_secret)["access"];
    assert_eq!(a["level"], "admin", "{a}");
    assert_eq!(
        a["identity"],
        "arn:aws:iam::123456789012:user/ci/deploy-bot"
    );
    let perms = a["permissions"].to_string();
    for want in [
        "attached policy AdministratorAccess",
        "inline policy inline-s3-deploy",
        "allowed: iam:CreateUser",
    ] {
        assert!(perms.contains(want), "{want}: {a}");
    }
    assert!(
        a["reach"].to_string().contains("ListGroupsForUser denied"),
        "{a}"
    );
    assert_eq!(a["calls"], 5);

    let a = &access_of(&doc, &p.slack)["access"];
    assert_eq!(a["level"], "can-write", "{a}");
    assert_eq!(a["identity"], "bot deploybot (B0BOT) in workspace Acme");

    let a = &access_of(&doc, &p.hf)["access"];
    assert_eq!(a["level"], "read-only", "a read token of an org admin: {a}");
    let a = &access_of(&doc, &p.gitlab)["access"];
    assert_eq!(a["level"], "read-only", "{a}");
    assert_eq!(a["identity"], "user gl-dev");
    let a = &access_of(&doc, &p.stripe)["access"];
    assert_eq!(a["level"], "read-only", "{a}");
    assert_eq!(
        a["exact"], false,
        "a restricted key's write permissions are unseen: a floor"
    );
    assert_eq!(a["permissions"], json!(["read balance", "read charges"]));
    let a = &access_of(&doc, &p.sendgrid)["access"];
    assert_eq!(a["level"], "can-write", "{a}");
    let a = &access_of(&doc, &p.npm)["access"];
    assert_eq!(a["level"], "can-write", "maintains a package: {a}");
    assert!(a["reach"].to_string().contains("acme-utils"));
    let a = &access_of(&doc, &p.twilio)["access"];
    assert_eq!(a["level"], "admin", "{a}");
    assert!(
        a["reach"].to_string().contains("1 subaccounts: Acme EU"),
        "{a}"
    );

    // The inventory keeps the access; the rotation report ranks admin first and shows it.
    let report: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let first = &report["secrets"][0];
    assert_eq!(first["access"]["level"], "admin", "{first:#}");
    let md = String::from_utf8(crate::common::report(&store, "md")).unwrap();
    assert!(
        md.contains("- blast radius: `admin — user octo-admin"),
        "{md}"
    );
    let html = crate::common::report(&store, "html");
    let page = work.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<h3>Blast radius</h3>") && html.contains("data-filter=\"access\""));
    if let Some(chromium) = crate::common::chromium() {
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        for (name, fragment) in [
            ("blast-radius-list.png", ""),
            ("blast-radius-page.png", "#s-1"),
        ] {
            let shot = artifacts.join(name);
            crate::common::headless(
                chromium,
                &page,
                fragment,
                &[
                    "--window-size=1366,900",
                    &format!("--screenshot={}", shot.display()),
                ],
            );
            assert!(
                std::fs::metadata(&shot)
                    .map(|m| m.len() > 10_000)
                    .unwrap_or(false),
                "{name}"
            );
        }
    }

    // Read-only: every request the analyses made was a GET, or an AWS query-API read.
    for r in provider.requests() {
        let body = r["body"].as_str().unwrap_or("");
        assert!(
            r["method"] == "GET"
                || body.starts_with("Action=GetCallerIdentity")
                || body.starts_with("Action=List")
                || body.starts_with("Action=SimulatePrincipalPolicy")
                || r["path"].as_str().unwrap_or("").ends_with("auth.test"),
            "{r}"
        );
    }
}

#[test]
fn fail_on_access_gates_on_the_level_reached() {
    let work = TempDir::new().unwrap();
    let (_p, provider, tree) = setup(work.path());
    let (code, _, err) = scan(&provider, &tree, &["--fail-on-access", "admin"]);
    assert_eq!(code, 1, "an admin key is live: {err}");
    // The read-only and the throttled GitHub tokens: the throttled one's access is unknown,
    // so it fails the gate (closed); alone, the read-only one passes a can-write gate.
    let keep = |names: &[&str]| {
        for f in std::fs::read_dir(&tree).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if !names.contains(&name.as_str()) {
                std::fs::remove_file(f).unwrap();
            }
        }
    };
    keep(&["reader.env", "busy.env"]);
    let (code, _, err) = scan(&provider, &tree, &["--fail-on-access", "can-write"]);
    assert_eq!(code, 1, "unknown access fails closed: {err}");
    keep(&["reader.env"]);
    let (code, doc, err) = scan(&provider, &tree, &["--fail-on-access", "can-write"]);
    assert_eq!(code, 0, "{err} {doc:#}");
    let (code, _, _) = scan(&provider, &tree, &["--fail-on-access", "nonsense"]);
    assert_eq!(code, 2, "a bad level is a usage error");
}

/// `sprawl revoke`: nothing without consent; with `--yes`, GitHub's credential revocation API
/// (no authentication), GitLab's self-revocation and Slack's `auth.revoke`, each outcome
/// honest (a refusal is failed, a 429 that stays is unknown) and recorded in the inventory.
/// Writes `files` (name, text) under `work/tree` and records the tree's findings into `store`
/// with their values (what `sprawl revoke` needs).
fn store_with_values(work: &Path, store: &Path, files: &[(&str, &str)]) {
    let tree = work.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for (name, text) in files {
        std::fs::write(tree.join(name), text).unwrap();
    }
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args([
            "--no-progress",
            "--store-secrets",
            "-o",
            "/dev/null",
            "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn revoke_asks_first_then_records_every_attempt() {
    let work = TempDir::new().unwrap();
    let gh = fake_github("ghp_", 9931);
    let gl = format!("glpat-{}", fake(ALNUM, 20, 9932));
    let gl_busy = format!("glpat-{}", fake(ALNUM, 20, 9933));
    let slack = format!(
        "xoxb-{}-{}-{}",
        fake(b"123456789", 12, 9934),
        fake(b"123456789", 13, 9935),
        fake(ALNUM, 24, 9936)
    );
    let slack_dead = format!(
        "xoxb-{}-{}-{}",
        fake(b"123456789", 12, 9937),
        fake(b"123456789", 13, 9938),
        fake(ALNUM, 24, 9939)
    );
    let hf = format!("hf_{}", fake(LETTERS, 34, 9940));
    let store = work.path().join("inv.db");
    store_with_values(
        work.path(),
        &store,
        &[(
            "ci.env",
            &format!(
                "GITHUB_TOKEN={gh}\nGITLAB_TOKEN={gl}\nGL_BACKUP_TOKEN={gl_busy}\nSLACK_BOT_TOKEN={slack}\nSLACK_OLD_TOKEN={slack_dead}\nHF_TOKEN={hf}\n"
            ),
        )],
    );
    let routes = json!({
        "gh": [{"match": "POST /credentials/revoke", "status": 202, "json": {}}],
        "gl": [{"match": "DELETE /api/v4/personal_access_tokens/self", "status": 204, "text": ""}],
        "gl-busy": [{"match": "DELETE /api/v4/personal_access_tokens/self", "status": 429,
                     "headers": {"Retry-After": "1"}, "json": {"message": "429 Too Many Requests"}}],
        "slack": [{"match": "GET /api/auth.revoke", "json": {"ok": true, "revoked": true}}],
        "slack-dead": [{"match": "GET /api/auth.revoke", "json": {"ok": false, "error": "invalid_auth"}}]
    });
    let scenarios = [
        (gh.as_str(), "api:gh"),
        (gl.as_str(), "api:gl"),
        (gl_busy.as_str(), "api:gl-busy"),
        (slack.as_str(), "api:slack"),
        (slack_dead.as_str(), "api:slack-dead"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let base = format!("https://127.0.0.1:{}", provider.port);
    let revoke = |extra: &[&str]| {
        let mut cmd = sprawl();
        cmd.arg("revoke")
            .arg("--store")
            .arg(&store)
            .args([
                "--provider",
                "github",
                "--provider",
                "gitlab",
                "--provider",
                "slack",
            ])
            .args(["--allow-internal", "--verify-ca"])
            .arg(&provider.ca)
            .write_stdin("");
        for p in ["github", "gitlab", "slack"] {
            cmd.args(["--verify-endpoint", &format!("{p}={base}")]);
        }
        cmd.args(extra).output().unwrap()
    };
    let refused = revoke(&[]);
    assert_eq!(refused.status.code(), Some(2), "no consent, not a terminal");
    assert!(
        provider.requests().is_empty(),
        "nothing sent without consent"
    );

    let done = revoke(&["--yes"]);
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(
        done.status.code(),
        Some(1),
        "two were not revoked: {stdout}"
    );
    let requests = provider.requests();
    let github = requests
        .iter()
        .find(|r| r["path"] == "/credentials/revoke")
        .expect("GitHub revocation");
    assert_eq!(github["method"], "POST");
    assert!(github["body"].as_str().unwrap().contains(&gh));
    assert!(
        github["headers"].get("Authorization").is_none(),
        "GitHub's revocation API needs no authentication"
    );
    let doc: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let outcome = |secret_prefix: &str| -> Vec<String> {
        doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["occurrences"][0]["name"].as_str() == Some(secret_prefix))
            .map(|s| {
                s["revocations"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .map(|x| x["outcome"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        outcome("GITHUB_TOKEN"),
        ["accepted"],
        "GitHub revokes asynchronously: accepted, not confirmed"
    );
    assert_eq!(outcome("GITLAB_TOKEN"), ["revoked"]);
    assert_eq!(
        outcome("GL_BACKUP_TOKEN"),
        ["unknown"],
        "429 that stays: unknown"
    );
    assert_eq!(outcome("SLACK_BOT_TOKEN"), ["revoked"]);
    assert_eq!(
        outcome("SLACK_OLD_TOKEN"),
        ["failed"],
        "invalid_auth: failed"
    );
    assert!(outcome("HF_TOKEN").is_empty());
    let md = String::from_utf8(crate::common::report(&store, "md")).unwrap();
    assert!(
        md.contains("revocation: `"),
        "the rotation report shows attempts: {md}"
    );
    for text in [&stdout, &md] {
        assert!(
            !text.contains(&gh) && !text.contains(&slack),
            "no value printed"
        );
    }
}

/// Revocation beyond the first three: Buildkite (`DELETE /v2/access-token`), Dropbox
/// (`auth/token/revoke`), Doppler (`auth/revoke`) and Google OAuth tokens (`/revoke`; an
/// already-invalid token is refused: failed). Each call carries only the secret it revokes.
#[test]
fn revoke_buildkite_dropbox_doppler_and_google_tokens() {
    let work = TempDir::new().unwrap();
    let buildkite = format!("bkua_{}", fake(HEX, 40, 9971));
    let dropbox = format!("sl.u.{}", fake(ALNUM, 140, 9972));
    let doppler = format!("dp.pt.{}", fake(ALNUM, 43, 9973));
    let google = format!("1//0{}", fake(ALNUM, 60, 9974));
    let google_gone = format!("ya29.{}", fake(ALNUM, 80, 9975));
    let store = work.path().join("inv.db");
    store_with_values(
        work.path(),
        &store,
        &[(
            "ops.env",
            &format!(
                "BUILDKITE_API_TOKEN={buildkite}\nDROPBOX_TOKEN={dropbox}\nDOPPLER_TOKEN={doppler}\nrefresh_token={google}\nGOOGLE_ACCESS={google_gone}\n"
            ),
        )],
    );
    let routes = json!({
        "buildkite": [{"match": "DELETE /v2/access-token", "status": 204, "text": ""}],
        "dropbox": [{"match": "POST /2/auth/token/revoke", "text": "null", "type": "application/json"}],
        "doppler": [{"match": "POST /v3/auth/revoke", "json": {"success": true}}],
        "google": [{"match": "POST /revoke", "text": "", "type": "application/json"}],
        "google-gone": [{"match": "POST /revoke", "status": 400, "json": {"error": "invalid_token", "error_description": "Token expired or revoked"}}]
    });
    let google_form = google.replace('/', "%2F");
    let scenarios = [
        (buildkite.as_str(), "api:buildkite"),
        (dropbox.as_str(), "api:dropbox"),
        (doppler.as_str(), "api:doppler"),
        (google_form.as_str(), "api:google"),
        (google_gone.as_str(), "api:google-gone"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let base = format!("https://127.0.0.1:{}", provider.port);
    let mut cmd = sprawl();
    cmd.args(["revoke", "--yes", "--allow-internal", "--store"])
        .arg(&store)
        .arg("--verify-ca")
        .arg(&provider.ca);
    for p in ["buildkite", "dropbox", "doppler", "gcp"] {
        cmd.args(["--provider", p, "--verify-endpoint", &format!("{p}={base}")]);
    }
    let done = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(done.status.code(), Some(1), "one was not revoked: {stdout}");
    let doc: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let outcome = |name: &str| -> String {
        doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["occurrences"][0]["name"].as_str() == Some(name))
            .and_then(|s| s["revocations"][0]["outcome"].as_str())
            .unwrap_or("none")
            .to_string()
    };
    assert_eq!(outcome("BUILDKITE_API_TOKEN"), "revoked", "{doc:#}");
    assert_eq!(outcome("DROPBOX_TOKEN"), "revoked");
    assert_eq!(outcome("DOPPLER_TOKEN"), "revoked");
    assert_eq!(outcome("refresh_token"), "revoked");
    assert_eq!(outcome("GOOGLE_ACCESS"), "failed", "invalid_token: failed");
    let requests = provider.requests();
    assert_eq!(requests.len(), 5, "one call per secret");
    let google_call = requests
        .iter()
        .find(|r| r["body"].as_str().unwrap_or("").contains(&google_form))
        .expect("Google revocation");
    assert_eq!(google_call["body"], format!("token={google_form}"));
    assert!(google_call["headers"].get("Authorization").is_none());
    assert!(!stdout.contains(&doppler) && !stdout.contains(&google));
}

/// AWS keys are deactivated with IAM `UpdateAccessKey`, signed by the key itself with the key
/// id stored beside it; a key that may not do so is refused (failed), and a secret whose key id
/// the inventory lacks is not sent anywhere.
#[test]
fn revoke_deactivates_aws_keys_signed_with_their_key_id() {
    let work = TempDir::new().unwrap();
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (id_ok, id_denied) = (fake_aws_key(9981), fake_aws_key(9982));
    let (ok, denied, alone) = (
        fake(b64, 40, 9983),
        fake(b64, 40, 9984),
        fake(b64, 40, 9985),
    );
    let store = work.path().join("inv.db");
    let pairs = format!(
        "[deploy]\naws_access_key_id = {id_ok}\naws_secret_access_key = {ok}\n\n[ci]\naws_access_key_id = {id_denied}\naws_secret_access_key = {denied}\n"
    );
    let lone = format!("AWS_SECRET_ACCESS_KEY={alone}\n");
    store_with_values(
        work.path(),
        &store,
        &[("aws.env", pairs.as_str()), ("other.env", lone.as_str())],
    );
    let routes = json!({
        "aws-ok": [{"match": "POST /", "body": "Action=UpdateAccessKey", "type": "text/xml",
            "text": "<UpdateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>7a62c49f</RequestId></ResponseMetadata></UpdateAccessKeyResponse>"}],
        "aws-denied": [{"match": "POST /", "status": 403, "type": "text/xml",
            "text": "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:UpdateAccessKey</Message></Error></ErrorResponse>"}]
    });
    let scenarios = [
        (id_ok.as_str(), "api:aws-ok"),
        (id_denied.as_str(), "api:aws-denied"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let done = sprawl()
        .args([
            "revoke",
            "--yes",
            "--allow-internal",
            "--provider",
            "aws",
            "--store",
        ])
        .arg(&store)
        .arg("--verify-ca")
        .arg(&provider.ca)
        .args([
            "--verify-endpoint",
            &format!("aws=https://127.0.0.1:{}", provider.port),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(done.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("its access key id is not stored beside it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the id half of a key: revoked with its secret"),
        "key ids are not counted as unrevocable secrets: {stdout}"
    );
    let requests = provider.requests();
    assert_eq!(
        requests.len(),
        2,
        "one call per key with its id: {requests:#?}"
    );
    for r in &requests {
        let auth = r["headers"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIA"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/iam/aws4_request"), "{auth}");
        assert!(
            r["body"]
                .as_str()
                .unwrap()
                .ends_with("&Status=Inactive&Version=2010-05-08")
        );
        assert!(
            !r["body"].as_str().unwrap().contains(&ok),
            "the secret signs, it is never sent"
        );
    }
    let doc: Value = serde_json::from_slice(&crate::common::report(&store, "json")).unwrap();
    let outcome = |secret_id: &str| -> String {
        doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["rule_id"]
                    .as_str()
                    .unwrap()
                    .starts_with("aws.secret-access-key")
            })
            .find(|s| {
                s["revocations"][0]["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains(secret_id))
            })
            .map(|s| s["revocations"][0]["outcome"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(outcome("deactivated"), "revoked", "{doc:#}");
    assert_eq!(outcome("may not deactivate itself"), "failed");
}

/// The second group of providers: OpenAI and Anthropic (admin keys and plain keys), Discord,
/// Telegram, Mapbox, Buildkite, Datadog, Heroku and CircleCI.
#[test]
fn blast_radius_of_ai_chat_ci_and_platform_keys() {
    let work = TempDir::new().unwrap();
    let t = |prefix: &str, n: usize, seed: u64| format!("{prefix}{}", fake(ALNUM, n, seed));
    let openai = format!(
        "sk-proj-{}T3BlbkFJ{}",
        fake(ALNUM, 40, 9951),
        fake(ALNUM, 40, 9952)
    );
    let openai_admin = format!(
        "sk-admin-{}T3BlbkFJ{}",
        fake(ALNUM, 40, 9953),
        fake(ALNUM, 40, 9954)
    );
    let anthropic = format!("sk-ant-api03-{}AA", fake(ALNUM, 93, 9955));
    let anthropic_admin = format!("sk-ant-admin01-{}AA", fake(ALNUM, 93, 9956));
    let discord = format!(
        "M{}.{}.{}",
        fake(ALNUM, 23, 9957),
        fake(ALNUM, 6, 9958),
        fake(ALNUM, 30, 9959)
    );
    let telegram = format!(
        "{}:AA{}",
        fake(b"123456789", 10, 9960),
        fake(ALNUM, 33, 9961)
    );
    let mapbox = format!("sk.eyJ{}.{}", fake(ALNUM, 60, 9962), fake(ALNUM, 22, 9963));
    let buildkite = format!("bkua_{}", fake(HEX, 40, 9964));
    let datadog = fake(HEX, 32, 9965);
    let datadog_app = fake(HEX, 40, 9969);
    let app_last4 = &datadog_app[36..];
    let heroku = t("HRKU-AA", 58, 9966);
    let circleci = format!("CCIPAT_{}_{}", fake(ALNUM, 22, 9967), fake(HEX, 40, 9968));
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(
        tree.join("keys.env"),
        [
            format!("OPENAI_API_KEY={openai}"),
            format!("OPENAI_ADMIN_KEY={openai_admin}"),
            format!("ANTHROPIC_API_KEY={anthropic}"),
            format!("ANTHROPIC_ADMIN_KEY={anthropic_admin}"),
            format!("DISCORD_BOT_TOKEN={discord}"),
            format!("TELEGRAM_BOT_TOKEN={telegram}"),
            format!("MAPBOX_SECRET_TOKEN={mapbox}"),
            format!("BUILDKITE_API_TOKEN={buildkite}"),
            format!("DD_API_KEY={datadog}"),
            format!("DD_APP_KEY={datadog_app}"),
            format!("HEROKU_API_KEY={heroku}"),
            format!("CIRCLE_TOKEN={circleci}"),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let telegram_encoded = telegram.replace(':', "%3A");
    let routes = json!({
        "openai": [{"match": "GET /v1/models", "headers": {"openai-organization": "org-acme", "openai-project": "proj_web"},
                    "json": {"object": "list", "data": [{"id": "model-a"}, {"id": "model-b"}]}}],
        "openai-admin": [
            {"match": "GET /v1/organization/users", "json": {"object": "list", "data": [{"email": "a@acme.example", "role": "owner"}]}},
            {"match": "GET /v1/organization/projects", "headers": {"openai-organization": "org-acme"},
             "json": {"object": "list", "data": [{"id": "proj_1", "name": "web"}, {"id": "proj_2", "name": "batch"}]}}],
        "anthropic": [{"match": "GET /v1/models", "headers": {"anthropic-organization-id": "org-uuid-1"},
                       "json": {"data": [{"id": "model-x", "type": "model"}], "has_more": false}}],
        "anthropic-admin": [
            {"match": "GET /v1/organizations/me", "json": {"id": "org-uuid-1", "type": "organization", "name": "Acme"}},
            {"match": "GET /v1/organizations/users", "json": {"data": [{"id": "user_1"}, {"id": "user_2"}], "has_more": false}},
            {"match": "GET /v1/organizations/workspaces", "json": {"data": [{"id": "wrkspc_1", "name": "prod"}], "has_more": false}}],
        "discord": [
            {"match": "GET /api/v10/users/@me/guilds", "json": [
                {"id": "1", "name": "Acme HQ", "owner": false, "permissions": "2147483647"},
                {"id": "2", "name": "Community", "owner": false, "permissions": "3072"}]},
            {"match": "GET /api/v10/users/@me", "json": {"id": "42", "username": "deploy-bot", "bot": true}}],
        "telegram": [{"match": "GET /bot*", "json": {"ok": true, "result": {"id": 1, "is_bot": true,
                      "first_name": "Acme", "username": "acme_alerts_bot", "can_join_groups": true,
                      "can_read_all_group_messages": false}}}],
        "mapbox": [
            {"match": "GET /tokens/v2", "json": {"code": "TokenValid", "token": {"usage": "sk",
             "user": "acme-maps", "authorization": "cktok123", "client": "api"}}},
            {"match": "GET /tokens/v2/acme-maps", "json": [
                {"id": "other", "usage": "pk", "scopes": ["styles:read"]},
                {"id": "cktok123", "usage": "sk", "scopes": ["styles:read", "styles:write", "tokens:read"]}]}],
        "buildkite": [
            {"match": "GET /v2/access-token", "json": {"uuid": "b1", "scopes": ["read_builds", "read_job_env", "read_user"]}},
            {"match": "GET /v2/user", "json": {"id": "u1", "name": "CI Robot", "email": "ci@acme.example"}}],
        "datadog": [
            {"match": "GET /api/v1/validate", "json": {"valid": true}},
            {"match": "GET /api/v2/validate_keys", "json": {"status": "ok"}},
            {"match": "GET /api/v2/current_user/application_keys", "json": {"data": [
                {"id": "k1", "type": "application_keys", "attributes": {"name": "other", "last4": "zzzz", "scopes": null}},
                {"id": "k2", "type": "application_keys", "attributes": {"name": "ci-dashboards", "last4": app_last4,
                 "scopes": ["dashboards_read", "monitors_write"]}}]}}],
        "heroku": [
            {"match": "GET /account", "json": {"email": "ops@acme.example", "id": "h1"}},
            {"match": "GET /apps", "json": [{"name": "acme-api"}, {"name": "acme-web"}]}],
        "circleci": [
            {"match": "GET /api/v2/me/collaborations", "json": [{"name": "acme", "vcs-type": "github"}]},
            {"match": "GET /api/v2/me", "json": {"id": "c1", "login": "octo", "name": "Octo"}}]
    });
    let scenarios = [
        (openai.as_str(), "api:openai"),
        (openai_admin.as_str(), "api:openai-admin"),
        (anthropic.as_str(), "api:anthropic"),
        (anthropic_admin.as_str(), "api:anthropic-admin"),
        (discord.as_str(), "api:discord"),
        (telegram.as_str(), "api:telegram"),
        // The verifier's URL template percent-encodes the token's colon.
        (telegram_encoded.as_str(), "api:telegram"),
        (mapbox.as_str(), "api:mapbox"),
        (buildkite.as_str(), "api:buildkite"),
        (datadog.as_str(), "api:datadog"),
        (datadog_app.as_str(), "api:datadog"),
        (heroku.as_str(), "api:heroku"),
        (circleci.as_str(), "api:circleci"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let (_, doc, err) = scan(&provider, &tree, &[]);
    assert!(
        err.contains("blast radius of 12 live secret(s)"),
        "{err} {doc:#}"
    );
    let level = |s: &str| {
        access_of(&doc, s)["access"]["level"]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    let identity = |s: &str| {
        access_of(&doc, s)["access"]["identity"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(level(&openai), "can-write");
    assert_eq!(
        identity(&openai),
        "project key of project proj_web in org-acme"
    );
    assert_eq!(level(&openai_admin), "admin");
    assert!(
        access_of(&doc, &openai_admin)["access"]["reach"]
            .to_string()
            .contains("2 projects: web, batch")
    );
    assert_eq!(level(&anthropic), "can-write");
    assert_eq!(identity(&anthropic), "API key of organisation org-uuid-1");
    assert_eq!(level(&anthropic_admin), "admin");
    assert_eq!(
        identity(&anthropic_admin),
        "admin key of organisation Acme (org-uuid-1)"
    );
    assert_eq!(level(&discord), "admin", "ADMINISTRATOR in one server");
    assert_eq!(level(&telegram), "can-write");
    assert_eq!(identity(&telegram), "bot @acme_alerts_bot");
    assert_eq!(level(&mapbox), "can-write");
    assert_eq!(level(&buildkite), "read-only");
    assert!(
        access_of(&doc, &buildkite)["access"]["reach"]
            .to_string()
            .contains("job environments")
    );
    assert_eq!(identity(&buildkite), "user CI Robot");
    assert_eq!(level(&datadog), "can-write");
    assert_eq!(level(&datadog_app), "can-write", "monitors_write");
    assert_eq!(
        identity(&datadog_app),
        format!("application key ci-dashboards (…{app_last4}) of a Datadog user (US1 site)")
    );
    assert_eq!(level(&heroku), "admin");
    assert_eq!(level(&circleci), "can-write");
}

/// Every rule the blast radius covers exists and is verified (analysis follows a live answer).
#[test]
fn analysed_rules_exist_and_have_verifiers() {
    let rules = sprawl::rules::load::builtin().rules;
    let mut providers = std::collections::BTreeSet::new();
    for (id, provider) in sprawl::verify::access::ANALYSED {
        let rule = rules
            .iter()
            .find(|r| r.spec.id == *id)
            .unwrap_or_else(|| panic!("{id}: no such rule"));
        assert!(rule.spec.verify.is_some(), "{id}: not verified");
        providers.insert(*provider);
    }
    assert!(providers.len() >= 15, "{providers:?}");
    for (id, _) in sprawl::verify::revoke::REVOCABLE {
        assert!(
            rules.iter().any(|r| r.spec.id == *id),
            "{id}: revocable but no such rule"
        );
    }
}

/// A Google Cloud service-account key: the JWT-bearer exchange, then `testIamPermissions` on
/// its project (read-only scope) says what IAM grants it.
#[test]
fn blast_radius_of_a_gcp_service_account_key() {
    let work = TempDir::new().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let key = work.path().join("sa.pem");
    let st = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let pem = std::fs::read_to_string(&key).unwrap();
    std::fs::write(
        tree.join("sa.json"),
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"orbit-ledger-48213\",\n  \"private_key_id\": \"0c4f1a9d2b7e6c5a8f3d1e0b9a7c6d5e4f3a2b1c\",\n  \"private_key\": {},\n  \"client_email\": \"deployer@orbit-ledger-48213.iam.gserviceaccount.com\",\n  \"client_id\": \"107291340272330812237\"\n}}\n",
            serde_json::to_string(&pem).unwrap()
        ),
    )
    .unwrap();
    let routes = json!({"gcp": [{"match": "POST /v1/projects/orbit-ledger-48213:testIamPermissions",
        "json": {"permissions": ["storage.objects.get", "storage.objects.create"]}}]});
    let provider = Provider::start_api(
        work.path(),
        &[("ya29.stand-in", "api:gcp")],
        "",
        None,
        Some(&routes),
    );
    let out = sprawl()
        .arg("scan")
        .arg(&tree)
        .args([
            "--format",
            "json",
            "--no-progress",
            "--verify",
            "--allow-internal",
            "--blast-radius",
        ])
        .arg("--verify-ca")
        .arg(&provider.ca)
        .args([
            "--verify-endpoint",
            &format!("gcp=https://127.0.0.1:{}", provider.port),
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "gcp.service-account.private-key")
        .expect("the key");
    let a = &f["verification"]["access"];
    assert_eq!(a["level"], "can-write", "{f:#}");
    assert_eq!(
        a["identity"],
        "service account deployer@orbit-ledger-48213.iam.gserviceaccount.com"
    );
    assert_eq!(a["calls"], 2, "token exchange, then one permission test");
    let asked = provider
        .requests()
        .into_iter()
        .find(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .contains("testIamPermissions")
        })
        .expect("permission test");
    assert!(
        asked["body"]
            .as_str()
            .unwrap()
            .contains("resourcemanager.projects.setIamPolicy")
    );
}

/// Generated PyPI tokens (V2 macaroons with a random signature; PyPI would refuse them): a
/// user-wide token (`[3, user_id]`), a TestPyPI token limited to `acme-utils` by name and id and
/// expiring 2027-01-01 (`[1, …]`, `[2, …]`, `[0, exp, nbf]`), and a token with the first
/// tokens' `{"version": 1, "permissions": "user"}` caveat.
const PYPI_USER: &str = "pypi-AgEIcHlwaS5vcmcCJDZjMGQyZjdlLTFhNGItNGMzZC05ZThmLTdhNmI1YzRkM2UyZgACK1szLCAiMGYxZTJkM2MtNGI1YS00Njk3LTg4NzctNjY1NTQ0MzMyMjExIl0AAAYgBPiZbadjt6lpsQKO4wB1aerzpjVIbdqyEdUSyFud-Ps";
const PYPI_PROJECT: &str = "pypi-AgENdGVzdC5weXBpLm9yZwIkN2QxZTNhOGYtMmI1Yy00ZDRlLThmOWEtOGI3YzZkNWU0ZjNhAAITWzEsIFsiYWNtZS11dGlscyJdXQACLVsyLCBbIjNhMmIxYzBkLTVlNGYtNGE2Yi05YzhkLTdlNmY1YTRiM2MyZCJdXQACG1swLCAxNzk4NzYxNjAwLCAxNzY3MjI1NjAwXQAABiAkQhDkhDe2VWmApwJJqZNpk0o1JCkDTO-de9JTs78sAQ";
const PYPI_LEGACY: &str = "pypi-AgEIcHlwaS5vcmcCJDhlMmY0YjlhLTNjNmQtNGU1Zi05YTBiLTljOGQ3ZTZmNWE0YgACJXsidmVyc2lvbiI6IDEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgKKOl6B0eifDvxwtjv3F7khNz_H-scLwbfk1GZ5nAxrA";

/// A JWT with these claims and a stand-in signature (nobody checks it: sprawl reads claims).
fn fake_jwt(claims: &Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        b64(claims),
        fake(ALNUM, 43, 77)
    )
}

/// A registry token (JWT) granting `actions` on `repository`.
fn fake_registry_jwt(repository: &str, actions: &[&str]) -> String {
    fake_jwt(
        &json!({"iss": "auth.docker.io", "aud": "registry.docker.io",
                     "access": [{"type": "repository", "name": repository, "actions": actions}]}),
    )
}

/// A file with two Docker IDs: the nearest belongs to another login, the token's own is
/// further up. Dead with the nearest, the token is tried with the other before it is called
/// dead — and is live; a token dead with every companion stays dead.
#[test]
fn a_dead_answer_with_the_nearest_companion_tries_the_others() {
    let work = TempDir::new().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let token = format!("dckr_pat_{}", fake(ALNUM, 27, 801));
    let gone = format!("dckr_pat_{}", fake(ALNUM, 27, 802));
    std::fs::write(
        tree.join("publish.sh"),
        format!(
            "docker login -u acmebuild --password-stdin < token.txt\n\n\n\n\n\nDOCKERHUB_USERNAME=mirror-bot\nDOCKERHUB_TOKEN={token}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        tree.join("old.sh"),
        format!(
            "docker login -u retiredci --password-stdin\nDOCKERHUB_USERNAME=olduser\nDOCKERHUB_TOKEN={gone}\n"
        ),
    )
    .unwrap();
    let routes = json!({
        "hub": [
            {"match": "POST /v2/auth/token", "body": "\"identifier\": \"acmebuild\"", "json": {"access_token": "hub-jwt"}},
            {"match": "POST /v2/auth/token", "status": 401, "json": {"message": "incorrect username or password"}}]
    });
    let provider = Provider::start_api(
        work.path(),
        &[(token.as_str(), "api:hub"), (gone.as_str(), "api:hub")],
        "",
        None,
        Some(&routes),
    );
    let (_, doc, _) = verify_scan(&provider, &tree, &[]);
    let v = access_of(&doc, &token);
    assert_eq!(v["status"], "live", "{doc:#}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap_or("")
            .contains("another companion")
    );
    assert_eq!(
        access_of(&doc, &gone)["status"],
        "dead",
        "dead with both names"
    );
    let asked: Vec<String> = provider
        .requests()
        .iter()
        .map(|r| r["body"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        asked.len(),
        4,
        "nearest then the other, for each token: {asked:#?}"
    );
}

/// Package and image registries: PyPI tokens (verified by the upload endpoint's 400-vs-403,
/// analysed from their caveats with no further call) and Docker Hub tokens with the Docker ID
/// beside them (verified by the token exchange; scope from the registry token's `access` claim,
/// reach from the repository list).
#[test]
fn blast_radius_of_package_and_image_registry_tokens() {
    let work = TempDir::new().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let (pypi_user, pypi_project, pypi_dead) = (PYPI_USER, PYPI_PROJECT, PYPI_LEGACY);
    let docker_admin = format!("dckr_pat_{}", fake(ALNUM, 27, 501));
    let docker_oat = format!("dckr_oat_{}", fake(ALNUM, 32, 502));
    let docker_dead = format!("dckr_pat_{}", fake(ALNUM, 27, 503));
    for (name, text) in [
        (
            ".pypirc",
            format!(
                "[pypi]\n  username = __token__\n  password = {pypi_user}\n\n[testpypi]\n  username = __token__\n  password = {pypi_project}\n"
            ),
        ),
        ("old-release.env", format!("TWINE_PASSWORD={pypi_dead}\n")),
        (
            "push.sh",
            format!("echo \"{docker_admin}\" | docker login -u acmebuild --password-stdin\n"),
        ),
        (
            "org.env",
            format!("DOCKERHUB_ORG=acmeorg\nDOCKERHUB_TOKEN={docker_oat}\n"),
        ),
        (
            "stale.env",
            format!("DOCKERHUB_USERNAME=gone-user\nDOCKERHUB_TOKEN={docker_dead}\n"),
        ),
    ] {
        std::fs::write(tree.join(name), text).unwrap();
    }
    let basic = |user: &str, secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    };
    let upload_400 = json!({"message": "Invalid value for metadata_version.", "code": "400 Bad Request", "title": "Bad Request"});
    let upload_403 = json!({"message": "Invalid or non-existent authentication information. See https://pypi.org/help/#invalid-auth for more information.",
                            "code": "403 Forbidden", "title": "Forbidden"});
    let routes = json!({
        "pypi": [{"match": "POST /legacy/", "body": "%3Aaction=file_upload", "status": 400, "json": upload_400}],
        "pypi-dead": [{"match": "POST /legacy/", "status": 403, "json": upload_403}],
        "docker-admin": [
            {"match": "POST /v2/auth/token", "json": {"access_token": "hubjwt-acmebuild"}},
            {"match": "GET /token", "json": {"token": fake_registry_jwt("acmebuild/api", &["pull", "push", "delete"]),
                                             "expires_in": 300}},
            {"match": "GET /v2/namespaces/acmebuild/repositories", "json": {"count": 3, "next": null,
             "results": [{"name": "api", "namespace": "acmebuild", "is_private": true},
                         {"name": "web", "namespace": "acmebuild", "is_private": false},
                         {"name": "worker", "namespace": "acmebuild", "is_private": true}]}}],
        "docker-oat": [
            {"match": "POST /v2/auth/token", "json": {"access_token": "hubjwt-acmeorg"}},
            {"match": "GET /token", "json": {"token": fake_registry_jwt("acmeorg/base", &["pull"])}},
            {"match": "GET /v2/namespaces/acmeorg/repositories", "json": {"count": 1, "results": [{"name": "base", "is_private": false}]}}],
        "docker-dead": [{"match": "POST /v2/auth/token", "status": 401, "json": {"message": "incorrect username or password"}}]
    });
    let docker_admin_basic = basic("acmebuild", &docker_admin);
    let docker_oat_basic = basic("acmeorg", &docker_oat);
    let pypi_user_basic = basic("__token__", pypi_user);
    let pypi_project_basic = basic("__token__", pypi_project);
    let pypi_dead_basic = basic("__token__", pypi_dead);
    let scenarios = [
        (pypi_user_basic.as_str(), "api:pypi"),
        (pypi_project_basic.as_str(), "api:pypi"),
        (pypi_dead_basic.as_str(), "api:pypi-dead"),
        (docker_admin.as_str(), "api:docker-admin"),
        (docker_admin_basic.as_str(), "api:docker-admin"),
        ("hubjwt-acmebuild", "api:docker-admin"),
        (docker_oat.as_str(), "api:docker-oat"),
        (docker_oat_basic.as_str(), "api:docker-oat"),
        ("hubjwt-acmeorg", "api:docker-oat"),
        (docker_dead.as_str(), "api:docker-dead"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let (_, doc, err) = scan(&provider, &tree, &[]);
    let status = |s: &str| {
        access_of(&doc, s)["status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let access = |s: &str| access_of(&doc, s)["access"].clone();
    assert_eq!(status(pypi_user), "live", "{err} {doc:#}");
    assert_eq!(status(pypi_project), "live");
    assert_eq!(status(pypi_dead), "dead");
    assert_eq!(status(&docker_admin), "live");
    assert_eq!(status(&docker_oat), "live");
    assert_eq!(status(&docker_dead), "dead");

    let a = access(pypi_user);
    assert_eq!(a["level"], "can-write");
    assert_eq!(a["calls"], 0, "caveats are read offline");
    assert!(
        a["identity"]
            .as_str()
            .unwrap()
            .starts_with("API token 6c0d2f7e… on pypi.org (user 0f1e2d3c-"),
        "{a:#}"
    );
    assert!(a["reach"].to_string().contains("every project the account"));
    let a = access(pypi_project);
    assert_eq!(a["reach"], json!(["1 projects: acme-utils"]), "{a:#}");
    assert!(a["permissions"].to_string().contains("expires 2027-01-01"));
    assert!(
        a["identity"]
            .as_str()
            .unwrap()
            .ends_with("on test.pypi.org")
    );

    let a = access(&docker_admin);
    assert_eq!(
        a["level"], "can-write",
        "deleting images is writing, not administering the account: {a:#}"
    );
    assert_eq!(a["identity"], "Docker ID acmebuild");
    assert!(
        a["permissions"]
            .to_string()
            .contains("Read, Write & Delete")
    );
    assert!(
        a["reach"]
            .to_string()
            .contains("3 repositories (2 private on the first page): acmebuild/api"),
        "{a:#}"
    );
    assert_eq!(a["calls"], 3);
    let a = access(&docker_oat);
    assert_eq!(a["level"], "read-only", "{a:#}");
    assert_eq!(
        a["exact"], false,
        "an organization token's probe is a floor"
    );
    assert_eq!(a["identity"], "organization acmeorg");

    // The companion username is never a finding of its own; no request carried a token
    // anywhere but to the provider's endpoints; the probe asked only for a token.
    assert!(
        !doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "dockerhub.username")
    );
    let reqs = provider.requests();
    let registry = reqs
        .iter()
        .find(|r| r["path"].as_str().unwrap_or("").starts_with("/token?"))
        .expect("registry token request");
    assert_eq!(registry["method"], "GET");
    assert!(
        registry["path"]
            .as_str()
            .unwrap()
            .contains("scope=repository:acmebuild/api:pull,push,delete")
            || registry["path"]
                .as_str()
                .unwrap()
                .contains("scope=repository:acmeorg/base:pull,push,delete"),
        "the probe asks about the namespace's first listed repository"
    );
    let upload = reqs
        .iter()
        .find(|r| r["path"] == "/legacy/")
        .expect("upload probe");
    assert_eq!(upload["method"], "POST");
    assert!(
        !upload["body"].as_str().unwrap().contains("content="),
        "the probe uploads nothing"
    );
}

/// Microsoft Entra client secrets with their tenant and client IDs: verified by the
/// client-credentials grant (a wrong secret is `invalid_client`, dead; an unknown app stays
/// unknown), analysed from the Graph token's `roles` claim and the service principal's Azure
/// role assignments (a subscription whose assignments it may not read makes a floor).
#[test]
fn blast_radius_of_azure_client_secrets() {
    let work = TempDir::new().unwrap();
    let tenant = "3f2b8c4e-9d1a-4e6f-8b7c-2a1d0e9f8c7b";
    let secret = |seed: u64| {
        format!(
            "{}8Q~{}",
            fake(ALNUM, 3, seed),
            fake(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.",
                34,
                seed + 1
            )
        )
    };
    let (admin, reader, dead, unknown) = (secret(601), secret(611), secret(621), secret(631));
    let apps = [
        ("deploy", "7c1e5a9b-2d4f-4b8e-a6c3-9f0e1d2c3b4a", &admin),
        ("reporting", "8d2f6b0c-3e5a-4c9f-b7d4-0a1f2e3d4c5b", &reader),
        ("retired", "9e3a7c1d-4f6b-4dab-88e5-1b2a3f4e5d6c", &dead),
        (
            "unknown-app",
            "0f4b8d2e-5a7c-4ebc-99f6-2c3b4a5f6e7d",
            &unknown,
        ),
    ];
    for (dir, client, secret) in apps {
        let d = work.path().join("tree").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join(".env"),
            format!(
                "AZURE_TENANT_ID={tenant}\nAZURE_CLIENT_ID={client}\nAZURE_CLIENT_SECRET={secret}\n"
            ),
        )
        .unwrap();
    }
    let (sub1, sub2) = (
        "11111111-2222-4333-8444-555555555555",
        "66666666-7777-4888-9999-aaaaaaaaaaaa",
    );
    let contributor = format!(
        "/subscriptions/{sub1}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    );
    let reader_role = format!(
        "/subscriptions/{sub1}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3d6f-4e99-b9a8-9a2b3c4d5e6f"
    );
    let graph_admin = fake_jwt(&json!({"aud": "https://graph.microsoft.com", "tid": tenant,
        "app_displayname": "deploy-pipeline", "appid": apps[0].1, "idtyp": "app",
        "roles": ["Application.ReadWrite.All", "Mail.Send"]}));
    let arm_admin = fake_jwt(
        &json!({"aud": "https://management.azure.com", "tid": tenant,
        "oid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "idtyp": "app"}),
    );
    let graph_reader = fake_jwt(&json!({"aud": "https://graph.microsoft.com", "tid": tenant,
        "app_displayname": "reporting", "roles": ["User.Read.All"]}));
    let arm_reader = fake_jwt(
        &json!({"aud": "https://management.azure.com", "tid": tenant,
        "oid": "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}),
    );
    let token_path = format!("POST /{tenant}/oauth2/v2.0/token");
    let roles_path = |sub: &str| {
        format!("GET /subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments")
    };
    let routes = json!({
        "az-admin": [
            {"match": token_path, "body": "graph.microsoft.com", "json": {"token_type": "Bearer", "access_token": graph_admin}},
            {"match": token_path, "body": "management.azure.com", "json": {"token_type": "Bearer", "access_token": arm_admin}},
            {"match": "GET /subscriptions", "json": {"value": [
                {"subscriptionId": sub1, "displayName": "prod"}, {"subscriptionId": sub2, "displayName": "shared"}]}},
            {"match": roles_path(sub1), "json": {"value": [{"properties": {"roleDefinitionId": contributor, "scope": format!("/subscriptions/{sub1}")}}]}},
            {"match": format!("GET {contributor}"), "json": {"properties": {"roleName": "Contributor", "type": "BuiltInRole"}}},
            {"match": roles_path(sub2), "status": 403, "json": {"error": {"code": "AuthorizationFailed"}}}],
        "az-reader": [
            {"match": token_path, "body": "graph.microsoft.com", "json": {"access_token": graph_reader}},
            {"match": token_path, "body": "management.azure.com", "json": {"access_token": arm_reader}},
            {"match": "GET /subscriptions", "json": {"value": [{"subscriptionId": sub1, "displayName": "prod"}]}},
            {"match": roles_path(sub1), "json": {"value": [{"properties": {"roleDefinitionId": reader_role,
                "scope": format!("/subscriptions/{sub1}/resourceGroups/reports")}}]}},
            {"match": format!("GET {reader_role}"), "json": {"properties": {"roleName": "Reader"}}}],
        "az-dead": [{"match": token_path, "status": 401, "json": {"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}}],
        "az-unknown": [{"match": token_path, "status": 400, "json": {"error": "unauthorized_client",
            "error_description": "AADSTS700016: Application not found in the directory.", "error_codes": [700016]}}]
    });
    let scenarios = [
        (admin.as_str(), "api:az-admin"),
        (arm_admin.as_str(), "api:az-admin"),
        (reader.as_str(), "api:az-reader"),
        (arm_reader.as_str(), "api:az-reader"),
        (dead.as_str(), "api:az-dead"),
        (unknown.as_str(), "api:az-unknown"),
    ];
    let provider = Provider::start_api(work.path(), &scenarios, "", None, Some(&routes));
    let (_, doc, err) = scan(&provider, &work.path().join("tree"), &[]);
    let v = |s: &str| access_of(&doc, s).clone();
    assert_eq!(v(&admin)["status"], "live", "{err} {doc:#}");
    assert_eq!(v(&reader)["status"], "live");
    assert_eq!(
        v(&dead)["status"],
        "dead",
        "invalid_client: the secret is wrong"
    );
    assert_eq!(
        v(&unknown)["status"],
        "unknown",
        "an unknown app says nothing of the secret"
    );
    let a = &v(&admin)["access"];
    assert_eq!(a["level"], "admin", "{a:#}");
    assert_eq!(
        a["exact"], false,
        "one subscription's assignments unreadable"
    );
    assert_eq!(
        a["identity"],
        format!(
            "application deploy-pipeline ({}) in tenant {tenant}",
            apps[0].1
        )
    );
    let text = a.to_string();
    assert!(text.contains("Application.ReadWrite.All"), "{text}");
    assert!(text.contains("Contributor on subscription prod"), "{text}");
    assert!(
        text.contains("2 Azure subscriptions: prod, shared"),
        "{text}"
    );
    assert_eq!(a["calls"], 6);
    let a = &v(&reader)["access"];
    assert_eq!(a["level"], "read-only", "{a:#}");
    assert_eq!(a["exact"], true);
    assert!(
        a.to_string().contains("Reader on resourceGroups/reports"),
        "{a:#}"
    );
    // The tenant and client ids are companions, never findings; the secret went only to the
    // token endpoint (in the form body), never into a URL.
    let findings = doc["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["rule_id"] == "azure.entra.client-secret"),
        "{doc:#}"
    );
    for r in provider.requests() {
        let path = r["path"].as_str().unwrap();
        assert!(
            !path.contains(admin.as_str()) && !path.contains(reader.as_str()),
            "{path}"
        );
    }
}
