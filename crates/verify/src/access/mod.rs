//! Blast radius (`--blast-radius`, with `--verify`): for a secret verified live, who it acts as
//! and what it can reach, from **read-only** calls to its provider's documented API, reduced to
//! an [`AccessLevel`] (admin / can write / read-only / identity only) that reports rank by and
//! `--fail-on-access` gates on. One module per provider; each call goes through a [`Session`]
//! with the verifier's safety: the provider's documented hosts, written in each module (a URL
//! taken from an answer, GitHub's `Link`, is followed only on the same API host; everything
//! is moved only by `--verify-endpoint`), verified TLS, no internal addresses, the provider's
//! rate, timeouts, and a 429 (or GitHub's rate-limit 403) or 5xx that will not clear makes the
//! analysis unknown, never a lower level. Where the provider hides part of the answer the level
//! is a floor (`exact: false`).

mod anthropic;
mod aws;
pub(crate) use aws::call as aws_query;
mod azure;
mod buildkite;
mod circleci;
mod datadog;
mod discord;
mod dockerhub;
mod gcp;
mod github;
mod gitlab;
mod heroku;
mod huggingface;
mod mapbox;
mod npm;
mod openai;
mod pypi;
mod sendgrid;
mod slack;
mod stripe;
mod telegram;
mod twilio;

use std::collections::BTreeMap;
use std::time::Duration;

use sprawl_core::finding::{Access, AccessLevel};

use super::http::{self, Answer, Client, Request};
use super::{RateLimiter, VerifyOptions, provider_key};

/// The rules whose live secrets this module can analyse, with their provider.
pub const ANALYSED: &[(&str, &str)] = &[
    ("aws.secret-access-key", "AWS"),
    ("aws.secret-access-key.near-key-id", "AWS"),
    ("github.pat.classic", "GitHub"),
    ("github.pat.fine-grained", "GitHub"),
    ("github.oauth-token", "GitHub"),
    ("github.user-to-server-token", "GitHub"),
    ("gitlab.pat", "GitLab"),
    ("gitlab.pat.routable", "GitLab"),
    ("slack.bot-token", "Slack"),
    ("slack.user-token", "Slack"),
    ("slack.workspace-token", "Slack"),
    ("slack.legacy-token", "Slack"),
    ("stripe.secret-key.live", "Stripe"),
    ("stripe.secret-key.test", "Stripe"),
    ("stripe.restricted-key.live", "Stripe"),
    ("stripe.restricted-key.test", "Stripe"),
    ("huggingface.access-token", "Hugging Face"),
    ("huggingface.org-token", "Hugging Face"),
    ("sendgrid.api-key", "SendGrid"),
    ("npm.access-token", "npm"),
    ("twilio.auth-token", "Twilio"),
    ("gcp.service-account.private-key", "Google Cloud"),
    ("openai.api-key.project", "OpenAI"),
    ("openai.api-key.service-account", "OpenAI"),
    ("openai.api-key.admin", "OpenAI"),
    ("openai.api-key.legacy", "OpenAI"),
    ("anthropic.api-key", "Anthropic"),
    ("anthropic.admin-key", "Anthropic"),
    ("discord.bot-token", "Discord"),
    ("telegram.bot-token", "Telegram"),
    ("mapbox.secret-token", "Mapbox"),
    ("buildkite.api-token", "Buildkite"),
    ("datadog.api-key", "Datadog"),
    ("datadog.app-key", "Datadog"),
    ("heroku.api-key", "Heroku"),
    ("heroku.api-key.legacy", "Heroku"),
    ("circleci.personal-token", "CircleCI"),
    ("circleci.api-token.legacy", "CircleCI"),
    ("pypi.upload-token", "PyPI"),
    ("pypi.upload-token.test", "PyPI"),
    ("dockerhub.pat", "Docker Hub"),
    ("dockerhub.oat", "Docker Hub"),
    ("azure.entra.client-secret", "Microsoft Azure"),
];

/// Calls to one provider for one secret, counted: read-only for blast radius; `revoke` sends
/// the one documented revocation call through it.
pub(crate) struct Session<'a> {
    client: &'a Client,
    limiter: &'a RateLimiter,
    opts: &'a VerifyOptions,
    provider: &'a str,
    rps: f64,
    /// Calls made (retries included).
    pub(crate) calls: u32,
}

/// The most calls one analysis may make (pagination included).
const MAX_CALLS: u32 = 12;

impl<'a> Session<'a> {
    /// A session for `provider` (a rule-id prefix: endpoint overrides and rates).
    pub(crate) fn new(
        client: &'a Client,
        limiter: &'a RateLimiter,
        opts: &'a VerifyOptions,
        provider: &'a str,
        rps: f64,
    ) -> Session<'a> {
        Session {
            client,
            limiter,
            opts,
            provider,
            rps,
            calls: 0,
        }
    }

    /// `url` on the provider's host, or on the `--verify-endpoint` base for this provider.
    fn route(&self, url: &str) -> Result<String, String> {
        // Messages never carry the URL: some providers put the secret in it.
        let rest = url.strip_prefix("https://").ok_or("not an https URL")?;
        let path = &rest[rest.find('/').unwrap_or(rest.len())..];
        Ok(match self.opts.endpoints.get(self.provider) {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => url.to_string(),
        })
    }

    /// The host header value a request to `url` (after [`Session::route`]) carries.
    fn host_of(url: &str) -> Result<String, String> {
        let (host, port) = http::host_port(url).ok_or("not an https URL")?;
        Ok(if port == 443 {
            host
        } else {
            format!("{host}:{port}")
        })
    }

    /// Sends one read-only request: retried twice on 429/5xx (honouring `Retry-After`); a
    /// 429 or 5xx that stays, a redirect or a network error is an error (the analysis is then
    /// unknown). Any other status is the caller's to read.
    pub(crate) fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Answer, String> {
        let url = self.route(url)?;
        let (host, port) = http::host_port(&url).ok_or("not https")?;
        self.client.check_host(&host, port)?;
        let request = Request {
            method: method.to_string(),
            url: url.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.map(|b| b.as_bytes().to_vec()),
        };
        let mut retries = 0u64;
        loop {
            if self.calls >= MAX_CALLS {
                return Err(format!("more than {MAX_CALLS} calls needed: stopped"));
            }
            self.calls += 1;
            self.limiter.wait(self.provider, self.rps);
            let a = self.client.send(&request)?;
            // GitHub answers its rate limits with 403 and says so in headers.
            let limited = a.status == 403
                && (a.retry_after.is_some() || a.header("x-ratelimit-remaining") == Some("0"));
            let status = if limited { 429 } else { a.status };
            match status {
                429 | 500..=599 if retries < 2 => {
                    retries += 1;
                    let wait = a
                        .retry_after
                        .map_or(Duration::from_millis(500 * retries), Duration::from_secs);
                    http::backoff(wait);
                }
                429 => return Err("rate limited (429)".into()),
                500..=599 => return Err(format!("server error {}", a.status)),
                300..=399 => return Err(format!("redirect ({}) not followed", a.status)),
                _ => return Ok(a),
            }
        }
    }

    /// GET with headers.
    pub(crate) fn get(&mut self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
        self.send("GET", url, headers, None)
    }

    /// GET that must answer 200 with JSON.
    pub(crate) fn get_json(
        &mut self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(serde_json::Value, Answer), String> {
        let a = self.get(url, headers)?;
        json_of(a)
    }
}

/// The JSON body of a 200 answer.
pub(crate) fn json_of(a: Answer) -> Result<(serde_json::Value, Answer), String> {
    if a.status != 200 {
        return Err(format!("answered {}", a.status));
    }
    let v = serde_json::from_str(&a.body).map_err(|e| format!("not JSON: {e}"))?;
    Ok((v, a))
}

/// The strings of the JSON array `v` (other items, or a `v` that is no array, give none).
pub(crate) fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// `field` of each object of the JSON array `v`, where it is a string.
pub(crate) fn field_strings(v: &serde_json::Value, field: &str) -> Vec<String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x[field].as_str().map(str::to_string))
        .collect()
}

/// A comma-separated scope header as a list.
pub(crate) fn scope_list(header: Option<&str>) -> Vec<String> {
    header
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every `<tag>text</tag>` in an XML answer, in order (the AWS query APIs).
pub(crate) fn xml_all(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].trim().to_string());
        rest = &after[j + close.len()..];
    }
    out
}

/// Names listed after `what`: `3 organisations: a, b, c` (at most 8 named).
pub(crate) fn counted(n: usize, what: &str, names: &[String]) -> String {
    if names.is_empty() {
        return format!("{n} {what}");
    }
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    let more = if names.len() > 8 {
        format!(", and {} more", names.len() - 8)
    } else {
        String::new()
    };
    format!("{n} {what}: {}{more}", shown.join(", "))
}

/// What an analyser found, before the call count is added.
pub(crate) struct Found {
    pub(crate) level: AccessLevel,
    pub(crate) identity: String,
    pub(crate) permissions: Vec<String>,
    pub(crate) reach: Vec<String>,
    /// See [`Access::exact`].
    pub(crate) exact: bool,
}

/// The blast radius of the live secret `secret` found by `rule_id` (with the verifier's
/// template variables: companions such as an AWS key id or a Twilio account SID); `None` when
/// no analyser covers the rule.
pub(crate) fn analyse(
    rule_id: &str,
    secret: &str,
    vars: &BTreeMap<String, String>,
    rps: f64,
    client: &Client,
    limiter: &RateLimiter,
    opts: &VerifyOptions,
) -> Option<Result<Access, String>> {
    let mut s = Session::new(client, limiter, opts, provider_key(rule_id), rps);
    let found = match rule_id {
        id if id.starts_with("aws.secret-access-key") => {
            let key_id = vars.get("id")?;
            aws::analyse(&mut s, key_id, secret)
        }
        "github.pat.classic"
        | "github.pat.fine-grained"
        | "github.oauth-token"
        | "github.user-to-server-token" => github::analyse(&mut s, secret),
        "gitlab.pat" | "gitlab.pat.routable" => gitlab::analyse(&mut s, secret),
        "slack.bot-token" | "slack.user-token" | "slack.workspace-token" | "slack.legacy-token" => {
            slack::analyse(&mut s, secret)
        }
        id if id.starts_with("stripe.secret-key") || id.starts_with("stripe.restricted-key") => {
            stripe::analyse(&mut s, secret)
        }
        "huggingface.access-token" | "huggingface.org-token" => {
            huggingface::analyse(&mut s, secret)
        }
        "sendgrid.api-key" => sendgrid::analyse(&mut s, secret),
        "npm.access-token" => npm::analyse(&mut s, secret),
        "twilio.auth-token" => {
            let sid = vars.get("sid")?;
            twilio::analyse(&mut s, sid, secret)
        }
        "gcp.service-account.private-key" => {
            let email = vars.get("email")?;
            gcp::analyse(&mut s, secret, email)
        }
        id if id.starts_with("openai.api-key") => openai::analyse(&mut s, id, secret),
        "anthropic.api-key" | "anthropic.admin-key" => anthropic::analyse(&mut s, rule_id, secret),
        "discord.bot-token" => discord::analyse(&mut s, secret),
        "telegram.bot-token" => telegram::analyse(&mut s, secret),
        "mapbox.secret-token" => mapbox::analyse(&mut s, secret),
        "buildkite.api-token" => buildkite::analyse(&mut s, secret),
        "datadog.api-key" => datadog::analyse(&mut s, secret),
        "datadog.app-key" => {
            let api = vars.get("api")?;
            datadog::analyse_app_key(&mut s, api, secret)
        }
        "heroku.api-key" | "heroku.api-key.legacy" => heroku::analyse(&mut s, secret),
        "circleci.personal-token" | "circleci.api-token.legacy" => {
            circleci::analyse(&mut s, secret)
        }
        "azure.entra.client-secret" => {
            let (tenant, client) = (vars.get("tenant")?, vars.get("client")?);
            azure::analyse(&mut s, tenant, client, secret)
        }
        "dockerhub.pat" | "dockerhub.oat" => {
            let user = vars.get("user")?;
            dockerhub::analyse(&mut s, user, secret, rule_id == "dockerhub.oat")
        }
        // Offline: the token's caveats are the whole answer.
        "pypi.upload-token" | "pypi.upload-token.test" => pypi::analyse(secret),
        _ => return None,
    };
    Some(found.map(|f| Access {
        level: f.level,
        identity: f.identity,
        permissions: f.permissions,
        reach: f.reach,
        calls: s.calls,
        exact: f.exact,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_and_scope_helpers() {
        let xml = "<a><PolicyName>AdministratorAccess</PolicyName><PolicyName> ReadOnly </PolicyName></a>";
        assert_eq!(
            super::xml_all(xml, "PolicyName"),
            ["AdministratorAccess", "ReadOnly"]
        );
        assert_eq!(
            super::scope_list(Some("repo, read:org,")),
            ["repo", "read:org"]
        );
        assert_eq!(
            super::counted(
                10,
                "repositories",
                &(0..10).map(|i| i.to_string()).collect::<Vec<_>>()
            ),
            "10 repositories: 0, 1, 2, 3, 4, 5, 6, 7, and 2 more"
        );
    }
}
