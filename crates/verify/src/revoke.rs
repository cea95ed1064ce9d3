//! `sprawl revoke`: the revocation APIs providers offer to whoever holds a secret, one call
//! per secret, through the verifier's client (the provider's documented host, verified TLS, no
//! internal addresses, the provider's rate). Outcomes are honest: **revoked** only when the
//! provider confirms it, **accepted** when it took the request and revokes later (GitHub),
//! **failed** when it refuses (the secret is already invalid, or not this kind), **unknown** on
//! 429/5xx (and GitHub's rate-limit 403 or 422) that does not clear, network errors or odd
//! answers.
//!
//! GitHub: `POST /credentials/revoke` (no authentication: anyone holding a leaked token may
//! revoke it; 202 Accepted). GitLab: `DELETE /personal_access_tokens/self` (204). Slack:
//! `auth.revoke` (`{"ok": true, "revoked": true}`). Buildkite: `DELETE /v2/access-token`
//! (204). Dropbox: `POST /2/auth/token/revoke` (200). Doppler: `POST /v3/auth/revoke` with the
//! token (200). Google OAuth access and refresh tokens: `POST oauth2.googleapis.com/revoke`
//! (200; revoking a refresh token ends the whole grant). AWS access keys: IAM
//! `UpdateAccessKey` with `Status=Inactive`, signed by the key itself (IAM takes the user from
//! the signing key; 200 means deactivated — the key still exists, inactive, until deleted).

use serde::Serialize;

use crate::access::Session;
use crate::http::Client;
use crate::{RateLimiter, VerifyOptions, provider_key};

const GITHUB: (&str, &str) = ("GitHub", "GitHub credential revocation API");
const GITLAB: (&str, &str) = ("GitLab", "GitLab personal access token self-revocation");
const SLACK: (&str, &str) = ("Slack", "Slack auth.revoke");
const DOPPLER: (&str, &str) = ("Doppler", "Doppler auth/revoke");
const GOOGLE: (&str, &str) = ("Google", "Google OAuth 2.0 token revocation");
const AWS: (&str, &str) = ("AWS", "IAM UpdateAccessKey (deactivate the key)");

/// The rules whose secrets their holder can revoke: rule id, then provider and method.
pub const REVOCABLE: &[(&str, (&str, &str))] = &[
    ("github.pat.classic", GITHUB),
    ("github.pat.fine-grained", GITHUB),
    ("github.oauth-token", GITHUB),
    ("github.user-to-server-token", GITHUB),
    ("github.refresh-token", GITHUB),
    ("github.refresh-token.long", GITHUB),
    ("gitlab.pat", GITLAB),
    ("gitlab.pat.routable", GITLAB),
    ("slack.bot-token", SLACK),
    ("slack.user-token", SLACK),
    ("slack.workspace-token", SLACK),
    ("slack.legacy-token", SLACK),
    (
        "buildkite.api-token",
        ("Buildkite", "Buildkite DELETE /v2/access-token"),
    ),
    (
        "dropbox.access-token",
        ("Dropbox", "Dropbox auth/token/revoke"),
    ),
    ("doppler.personal-token", DOPPLER),
    ("doppler.service-token", DOPPLER),
    ("doppler.service-account-token", DOPPLER),
    ("doppler.cli-token", DOPPLER),
    ("gcp.oauth.refresh-token", GOOGLE),
    ("gcp.oauth.access-token", GOOGLE),
    ("aws.secret-access-key", AWS),
    ("aws.secret-access-key.near-key-id", AWS),
];

/// What a rule's revocation needs beside the secret: the rule-id prefix of the companion the
/// inventory must hold next to it (AWS: the access key id), if any.
pub fn companion_for(rule_id: &str) -> Option<&'static str> {
    // Long-term keys only: a temporary (ASIA…) key cannot be deactivated, it expires.
    rule_id
        .starts_with("aws.secret-access-key")
        .then_some("aws.access-key-id.long-term")
}

/// How a rule's secrets are revoked (provider, method), if their provider offers it to the
/// holder.
pub fn method_for(rule_id: &str) -> Option<(&'static str, &'static str)> {
    REVOCABLE
        .iter()
        .find(|(id, _)| *id == rule_id)
        .map(|(_, how)| *how)
}

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The provider confirmed the revocation.
    Revoked,
    /// The provider accepted the request and revokes asynchronously (GitHub: 202, it then
    /// notifies the owner); not confirmed.
    Accepted,
    /// The provider refused (already invalid, not this kind of credential).
    Failed,
    /// No clear answer.
    Unknown,
}

impl Outcome {
    /// The name stored and printed.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Revoked => "revoked",
            Outcome::Accepted => "accepted",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }
}

/// One attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Provider.
    pub provider: String,
    /// How.
    pub method: String,
    /// What came of it.
    pub outcome: Outcome,
    /// HTTP status of the answer.
    pub http_status: Option<u16>,
    /// What the provider said, or why there was no answer.
    pub detail: String,
}

/// Revokes `secret` (found by `rule_id`, with the companion [`companion_for`] names, if any);
/// `None` when its provider offers no revocation to the holder.
pub fn revoke(
    rule_id: &str,
    secret: &str,
    companion: Option<&str>,
    opts: &VerifyOptions,
) -> Option<Attempt> {
    let (provider, method) = method_for(rule_id)?;
    let attempt = |outcome, http_status, detail: String| Attempt {
        provider: provider.to_string(),
        method: method.to_string(),
        outcome,
        http_status,
        detail,
    };
    let client = match Client::new(opts.allow_internal, opts.timeout, opts.ca_pem.as_deref()) {
        Ok(c) => c,
        Err(e) => return Some(attempt(Outcome::Unknown, None, e)),
    };
    let limiter = RateLimiter::default();
    let mut s = Session::new(&client, &limiter, opts, provider_key(rule_id), 1.0);
    let answer = match provider {
        "GitHub" => {
            let body = serde_json::json!({ "credentials": [secret] }).to_string();
            s.send(
                "POST",
                "https://api.github.com/credentials/revoke",
                &[
                    ("Accept", "application/vnd.github+json"),
                    ("X-GitHub-Api-Version", "2022-11-28"),
                    ("Content-Type", "application/json"),
                ],
                Some(&body),
            )
        }
        "GitLab" => s.send(
            "DELETE",
            "https://gitlab.com/api/v4/personal_access_tokens/self",
            &[("PRIVATE-TOKEN", secret)],
            None,
        ),
        "Slack" => s.send(
            "GET",
            "https://slack.com/api/auth.revoke",
            &[("Authorization", &format!("Bearer {secret}"))],
            None,
        ),
        "Buildkite" => s.send(
            "DELETE",
            "https://api.buildkite.com/v2/access-token",
            &[("Authorization", &format!("Bearer {secret}"))],
            None,
        ),
        "Dropbox" => s.send(
            "POST",
            "https://api.dropboxapi.com/2/auth/token/revoke",
            &[("Authorization", &format!("Bearer {secret}"))],
            None,
        ),
        "AWS" => {
            let Some(key_id) = companion.filter(|k| {
                k.len() == 20
                    && k.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }) else {
                return Some(attempt(
                    Outcome::Unknown,
                    None,
                    "no access key id beside it: not sent".into(),
                ));
            };
            let body = format!(
                "Action=UpdateAccessKey&AccessKeyId={key_id}&Status=Inactive&Version=2010-05-08"
            );
            crate::access::aws_query(
                &mut s,
                "https://iam.amazonaws.com/",
                "iam",
                &body,
                key_id,
                secret,
            )
        }
        "Doppler" => {
            let body = serde_json::json!({ "token": secret }).to_string();
            s.send(
                "POST",
                "https://api.doppler.com/v3/auth/revoke",
                &[
                    ("Authorization", &format!("Bearer {secret}")),
                    ("Accept", "application/json"),
                    ("Content-Type", "application/json"),
                ],
                Some(&body),
            )
        }
        "Google" => {
            let body = format!("token={}", crate::url_encode(secret));
            s.send(
                "POST",
                "https://oauth2.googleapis.com/revoke",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                Some(&body),
            )
        }
        // A provider listed without a request of its own: nothing is sent anywhere.
        other => Err(format!("{other}: no revocation request defined")),
    };
    let a = match answer {
        Ok(a) => a,
        Err(e) => return Some(attempt(Outcome::Unknown, None, e)),
    };
    let status = Some(a.status);
    // What the provider said, without the value should it echo it.
    let short: String = a
        .body
        .replace(secret, sprawl_core::redact::MASK)
        .chars()
        .take(200)
        .collect();
    Some(match (provider, a.status) {
        ("GitHub", 202) => attempt(
            Outcome::Accepted,
            status,
            "accepted: GitHub revokes asynchronously and notifies the owner".into(),
        ),
        // Validation failed or the endpoint is throttled: no conclusion.
        ("GitHub", 422) => attempt(Outcome::Unknown, status, short),
        ("GitLab" | "Buildkite", 204) | ("Dropbox" | "Doppler" | "Google", 200) => {
            attempt(Outcome::Revoked, status, String::new())
        }
        ("AWS", 200) if a.body.contains("UpdateAccessKeyResponse") => attempt(
            Outcome::Revoked,
            status,
            "deactivated: delete it in IAM once nothing uses it".into(),
        ),
        ("AWS", 403) if a.body.contains("AccessDenied") => attempt(
            Outcome::Failed,
            status,
            "the key may not deactivate itself (iam:UpdateAccessKey): deactivate it in the IAM console".into(),
        ),
        ("Slack", 200) => match serde_json::from_str::<serde_json::Value>(&a.body) {
            Ok(v) if v["ok"].as_bool() == Some(true) && v["revoked"].as_bool() == Some(true) => {
                attempt(Outcome::Revoked, status, String::new())
            }
            Ok(v) if v["ok"].as_bool() == Some(false) => attempt(
                Outcome::Failed,
                status,
                v["error"].as_str().unwrap_or("not ok").to_string(),
            ),
            _ => attempt(Outcome::Unknown, status, short),
        },
        (_, 400..=499) => attempt(Outcome::Failed, status, short),
        _ => attempt(Outcome::Unknown, status, short),
    })
}
