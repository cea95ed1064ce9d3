//! Live verification (`--verify`, off by default): each distinct secret (rule + fingerprint) is
//! checked once against its provider, as the rule's `[rule.verify]` data says, and the outcome
//! goes to every finding of that secret: **live**, **dead** (the provider says invalid or
//! revoked), **unknown** (timeouts, 429, 5xx, TLS errors, HTML answers, redirects elsewhere —
//! never counted as live or dead) or **skipped** (no verifier, not allowed, canary).
//!
//! Safety: the secret goes only to the host written in the rule (a host built from a capture
//! only where the rule declares `host_capture`), over verified TLS, never to internal
//! addresses (unless `--allow-internal`), with bounded concurrency, per-provider rates,
//! timeouts, and retries that honour `Retry-After`.

pub mod access;
pub mod aws;
pub mod gcp;
pub mod http;
pub mod keys;
pub mod revoke;

use sprawl_core::rules::Builtin;
use sprawl_core::time::{now_iso, now_secs};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use http::{Answer, Client, Request};
use sprawl_core::finding::Finding;
use sprawl_core::rules::{Rule, VerifyCheck, VerifySpec};

pub use sprawl_core::finding::{Status, Verification};

/// Verification settings.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// `PROVIDER=URL` overrides of a rule's scheme and host (tests), by rule-id prefix.
    pub endpoints: HashMap<String, String>,
    /// Allow internal addresses (tests, self-hosted providers on a private network).
    pub allow_internal: bool,
    /// PEM certificates to trust instead of the public roots (tests).
    pub ca_pem: Option<Vec<u8>>,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// AWS account ids never verified (canary/honeytoken accounts).
    pub skip_aws_accounts: Vec<String>,
    /// Default requests per second per provider.
    pub default_rps: f64,
    /// File of earlier live/dead outcomes by (rule, fingerprint); no secret is stored in it.
    pub cache: Option<std::path::PathBuf>,
    /// Outcomes in the cache younger than this are reused instead of asking again.
    pub max_age: Duration,
    /// For each secret verified live, ask its provider what it can reach (read-only calls;
    /// see [`access`]).
    pub blast_radius: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            allow_internal: false,
            ca_pem: None,
            timeout: Duration::from_secs(10),
            concurrency: 8,
            skip_aws_accounts: Vec::new(),
            default_rps: 4.0,
            cache: None,
            max_age: Duration::from_secs(24 * 3600),
            blast_radius: false,
        }
    }
}

/// Counters of a verification pass.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyStats {
    /// Distinct secrets considered.
    pub secrets: u64,
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Outcomes per status.
    pub live: u64,
    /// Dead.
    pub dead: u64,
    /// Unknown.
    pub unknown: u64,
    /// Skipped.
    pub skipped: u64,
    /// Outcomes reused from the cache.
    pub cached: u64,
    /// Live secrets whose blast radius was established (`--blast-radius`).
    pub analysed: u64,
    /// Why the `--verify-cache` file could not be used (it is then rewritten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_problem: Option<String>,
}

/// One distinct secret to check.
struct Job<'a> {
    rule: &'a Rule,
    spec: &'a VerifySpec,
    secret: String,
    vars: BTreeMap<String, String>,
    /// The variables with other companions of the same file (the next nearest), tried only
    /// when the nearest makes the secret look dead: a username or key id that belongs to
    /// another credential would otherwise report a live secret dead.
    alternatives: Vec<BTreeMap<String, String>>,
    findings: Vec<usize>,
}

/// Other companions tried after a dead answer, at most.
const MAX_COMPANION_ALTERNATIVES: usize = 3;

/// Verifies every distinct secret of `findings` and records the outcome on each finding.
pub fn verify_findings(
    findings: &mut [Finding],
    rules: &[Rule],
    opts: &VerifyOptions,
) -> VerifyStats {
    let by_id: HashMap<&str, &Rule> = rules.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let mut stats = VerifyStats::default();
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        groups
            .entry((f.rule_id.clone(), f.fingerprint.clone()))
            .or_default()
            .push(i);
    }
    let now = now_iso();
    let skipped = |why: &str| Verification {
        status: Status::Skipped,
        http_status: None,
        checked_at: now.clone(),
        reason: Some(why.to_string()),
        public_key: None,
        access: None,
    };
    let mut jobs = Vec::new();
    let mut results: Vec<(Vec<usize>, Verification)> = Vec::new();
    let (mut cache, cache_problem) = Cache::load(opts);
    stats.cache_problem = cache_problem;
    for ((rule_id, fingerprint), idx) in groups {
        stats.secrets += 1;
        // The cache keeps outcomes, not access: a blast-radius run asks again.
        if let Some(v) = cache
            .fresh(&rule_id, &fingerprint, opts.max_age)
            .filter(|_| !opts.blast_radius)
        {
            stats.cached += 1;
            results.push((idx, v));
            continue;
        }
        let Some(rule) = by_id.get(rule_id.as_str()) else {
            results.push((idx, skipped("rule not loaded")));
            continue;
        };
        let Some(spec) = rule.spec.verify.as_ref() else {
            results.push((idx, skipped("no verifier for this rule")));
            continue;
        };
        // A copy whose value the inventory withheld cannot be checked; any fresh copy can.
        let Some(&at) = idx.iter().find(|&&i| !findings[i].secret.is_withheld()) else {
            results.push((
                idx,
                skipped("value not kept by the inventory (record with --store-secrets)"),
            ));
            continue;
        };
        let first = &findings[at];
        match variables(spec, first, findings) {
            Ok(vars) => jobs.push(Job {
                rule,
                spec,
                secret: first.secret.to_string(),
                alternatives: alternatives(spec, first, findings, &vars),
                vars,
                findings: idx,
            }),
            Err(why) => results.push((idx, skipped(&why))),
        }
    }
    let client = match Client::new(opts.allow_internal, opts.timeout, opts.ca_pem.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            for j in jobs {
                results.push((j.findings, skipped(&e)));
            }
            return finish(findings, results, stats);
        }
    };
    let limiter = RateLimiter::default();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(Vec<usize>, Verification)>> = Mutex::default();
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.clamp(1, 64).min(jobs.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let v = check(job, &client, &limiter, opts);
                    done.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((job.findings.clone(), v));
                }
            });
        }
    });
    results.extend(done.into_inner().unwrap_or_default());
    stats.requests = client.sent.load(Ordering::Relaxed);
    for (idx, v) in &results {
        if let Some(&i) = idx.first() {
            cache.record(&findings[i].rule_id, &findings[i].fingerprint, v);
        }
    }
    cache.save();
    finish(findings, results, stats)
}

fn finish(
    findings: &mut [Finding],
    results: Vec<(Vec<usize>, Verification)>,
    mut stats: VerifyStats,
) -> VerifyStats {
    for (idx, v) in results {
        stats.analysed += u64::from(v.access.is_some());
        match v.status {
            Status::Live => stats.live += 1,
            Status::Dead => stats.dead += 1,
            Status::Unknown => stats.unknown += 1,
            Status::Skipped => stats.skipped += 1,
        }
        for i in idx {
            findings[i].verification = Some(v.clone());
        }
    }
    stats
}

/// Template variables: the secret, captures from `secret_captures`, and companions (the nearest
/// finding of the companion rule in the same file).
fn variables(
    spec: &VerifySpec,
    f: &Finding,
    all: &[Finding],
) -> Result<BTreeMap<String, String>, String> {
    let mut vars = BTreeMap::new();
    vars.insert("secret".to_string(), f.secret.to_string());
    if let Some(pat) = &spec.secret_captures {
        let re =
            regex::Regex::new(pat).map_err(|e| format!("verifier: bad secret_captures: {e}"))?;
        let caps = re
            .captures(&f.secret)
            .ok_or("the secret does not have the shape the verifier needs")?;
        for name in re.capture_names().flatten() {
            if let Some(m) = caps.name(name) {
                vars.insert(name.to_string(), m.as_str().to_string());
            }
        }
    }
    for (name, rule_id) in &spec.companions {
        let path = f.origin.display_path();
        let companion = all
            .iter()
            .filter(|c| {
                &c.rule_id == rule_id && c.origin.display_path() == path && !c.secret.is_withheld()
            })
            .min_by_key(|c| c.line.abs_diff(f.line))
            .ok_or_else(|| format!("needs a {rule_id} from the same file, none found"))?;
        vars.insert(name.clone(), companion.secret.to_string());
    }
    Ok(vars)
}

/// `vars` with one companion swapped for another value of the same rule in the same file,
/// nearest first (each companion in turn, at most [`MAX_COMPANION_ALTERNATIVES`] in all).
fn alternatives(
    spec: &VerifySpec,
    f: &Finding,
    all: &[Finding],
    vars: &BTreeMap<String, String>,
) -> Vec<BTreeMap<String, String>> {
    let path = f.origin.display_path();
    let mut out = Vec::new();
    for (name, rule_id) in &spec.companions {
        let mut candidates: Vec<&Finding> = all
            .iter()
            .filter(|c| {
                &c.rule_id == rule_id && c.origin.display_path() == path && !c.secret.is_withheld()
            })
            .collect();
        candidates.sort_by_key(|c| c.line.abs_diff(f.line));
        let mut seen: Vec<&str> = vars.get(name).map(String::as_str).into_iter().collect();
        for c in candidates {
            let value: &str = &c.secret;
            if seen.contains(&value) {
                continue;
            }
            seen.push(value);
            if out.len() >= MAX_COMPANION_ALTERNATIVES {
                return out;
            }
            let mut alt = vars.clone();
            alt.insert(name.clone(), value.to_string());
            out.push(alt);
        }
    }
    out
}

/// Fills `{{name}}` placeholders; `escape` transforms each value (JSON bodies).
fn render(
    template: &str,
    vars: &BTreeMap<String, String>,
    escape: impl Fn(&str) -> String,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed {{ in verifier template")?;
        let name = after[..end].trim();
        let value = vars
            .get(name)
            .ok_or_else(|| format!("verifier template uses unknown {{{{{name}}}}}"))?;
        out.push_str(&escape(value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_string()
}

/// The rule-id prefix used for endpoint overrides and rate limits (`github` of `github.pat`).
fn provider_key(rule_id: &str) -> &str {
    rule_id.split('.').next().unwrap_or(rule_id)
}

/// Builds the request for a template verifier, enforcing the host rule.
/// Why a verification request could not be built.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    /// The secret is key material that cannot sign anything: it is dead, no request needed.
    #[error("{0}")]
    UnusableKey(String),
    /// The request cannot be made (a companion or variable is missing, a template or URL is
    /// invalid, a built-in is unknown): verification is skipped.
    #[error("{0}")]
    CannotVerify(String),
}

impl From<String> for RequestError {
    fn from(why: String) -> RequestError {
        RequestError::CannotVerify(why)
    }
}

impl From<&str> for RequestError {
    fn from(why: &str) -> RequestError {
        RequestError::CannotVerify(why.to_string())
    }
}

impl From<gcp::AssertionError> for RequestError {
    fn from(e: gcp::AssertionError) -> RequestError {
        match e {
            gcp::AssertionError::UnusableKey(why) => RequestError::UnusableKey(why),
            other => RequestError::CannotVerify(other.to_string()),
        }
    }
}

fn build_request(job: &Job<'_>, opts: &VerifyOptions) -> Result<Request, RequestError> {
    let spec = job.spec;
    let (scheme_host, _) = split_url(&spec.url)?;
    if scheme_host.contains("{{") {
        let Some(cap) = &spec.host_capture else {
            return Err(
                "the verifier's URL host is not fixed text and the rule declares no host_capture"
                    .into(),
            );
        };
        let value = job.vars.get(cap).ok_or("host capture missing")?;
        if value.is_empty()
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(format!("captured host part {value:?} is not a host name").into());
        }
    }
    let mut url = render(&spec.url, &job.vars, url_encode)?;
    if let Some(base) = opts.endpoints.get(provider_key(&job.rule.spec.id)) {
        let (_, path) = split_url(&url)?;
        url = format!("{}{path}", base.trim_end_matches('/'));
    }
    if !spec.query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&url_encoded_pairs(&spec.query, &job.vars)?);
    }
    let mut headers = Vec::new();
    for (k, v) in &spec.headers {
        headers.push((k.clone(), render(v, &job.vars, |x| x.to_string())?));
    }
    if let Some((u, p)) = &spec.basic {
        use base64::Engine as _;
        let pair = format!(
            "{}:{}",
            render(u, &job.vars, |x| x.to_string())?,
            render(p, &job.vars, |x| x.to_string())?
        );
        headers.push((
            "Authorization".into(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ),
        ));
    }
    let mut body = None;
    if !spec.form.is_empty() {
        let f = url_encoded_pairs(&spec.form, &job.vars)?;
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        body = Some(f.into_bytes());
    } else if let Some(j) = &spec.json {
        headers.push(("Content-Type".into(), "application/json".into()));
        body = Some(render(j, &job.vars, json_escape)?.into_bytes());
    }
    let method = spec.method.clone().unwrap_or_else(|| {
        if body.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    if !matches!(method.as_str(), "GET" | "POST" | "HEAD") {
        return Err(format!("verifier method {method} is not allowed").into());
    }
    Ok(Request {
        method,
        url,
        headers,
        body,
    })
}

/// `k=v&k2=v2` with rendered, URL-encoded values (query strings and form bodies).
fn url_encoded_pairs(
    pairs: &BTreeMap<String, String>,
    vars: &BTreeMap<String, String>,
) -> Result<String, String> {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            Ok(format!(
                "{}={}",
                url_encode(k),
                url_encode(&render(v, vars, |x| x.to_string())?)
            ))
        })
        .collect::<Result<_, String>>()?;
    Ok(parts.join("&"))
}

/// `https://host:port` and the rest of a URL.
fn split_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("verifier URL {url:?} is not https"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Ok((&url[..8 + end], &rest[end..]))
}

/// Runs one job to an outcome and, with `--blast-radius`, a live secret's access.
fn check(
    job: &Job<'_>,
    client: &Client,
    limiter: &RateLimiter,
    opts: &VerifyOptions,
) -> Verification {
    let mut v = check_status(job, client, limiter, opts);
    let mut vars = &job.vars;
    // Dead with the nearest companion: another companion of the file may be the right one.
    let mut unknown_with_another = None;
    if v.status == Status::Dead {
        for alt in &job.alternatives {
            let other = Job {
                rule: job.rule,
                spec: job.spec,
                secret: job.secret.clone(),
                vars: alt.clone(),
                alternatives: Vec::new(),
                findings: Vec::new(),
            };
            let w = check_status(&other, client, limiter, opts);
            match w.status {
                Status::Live => {
                    v = Verification {
                        reason: Some(
                            "live with another companion of the file than the nearest".into(),
                        ),
                        ..w
                    };
                    vars = alt;
                    break;
                }
                Status::Unknown => unknown_with_another = Some(w),
                _ => {}
            }
        }
        if v.status == Status::Dead
            && let Some(w) = unknown_with_another
        {
            // Dead with one companion, no answer with another: not known to be dead.
            v = Verification {
                reason: Some(
                    "dead with the nearest companion, no clear answer with another".into(),
                ),
                ..w
            };
        }
    }
    if opts.blast_radius && v.status == Status::Live {
        let rps = job.spec.rps.unwrap_or(opts.default_rps);
        match access::analyse(
            &job.rule.spec.id,
            &job.secret,
            vars,
            rps,
            client,
            limiter,
            opts,
        ) {
            Some(Ok(a)) => v.access = Some(a),
            Some(Err(why)) => v.reason = Some(format!("blast radius unknown: {why}")),
            None => {}
        }
    }
    v
}

/// Live, dead, unknown or skipped for one job.
fn check_status(
    job: &Job<'_>,
    client: &Client,
    limiter: &RateLimiter,
    opts: &VerifyOptions,
) -> Verification {
    let outcome = |status, http_status, reason: Option<String>| Verification {
        status,
        http_status,
        checked_at: now_iso(),
        reason,
        public_key: None,
        access: None,
    };
    let request = match job.spec.builtin {
        Some(Builtin::PrivateKey) => return private_key(&job.secret),
        None => build_request(job, opts),
        Some(Builtin::AwsSts) => aws_request(job, opts),
        Some(Builtin::GcpServiceAccount) => gcp_request(job, opts),
    };
    let request = match request {
        Ok(r) => r,
        // Key material that cannot sign anything is not a usable credential.
        Err(RequestError::UnusableKey(why)) => return outcome(Status::Dead, None, Some(why)),
        Err(RequestError::CannotVerify(why)) => {
            return outcome(Status::Skipped, None, Some(why));
        }
    };
    let Some((host, port)) = http::host_port(&request.url) else {
        return outcome(
            Status::Skipped,
            None,
            Some("verifier URL is not https".into()),
        );
    };
    if let Err(why) = client.check_host(&host, port) {
        return outcome(Status::Skipped, None, Some(why));
    }
    let rps = job.spec.rps.unwrap_or(opts.default_rps);
    let mut req = request;
    let mut retries = 0;
    let mut redirects = 0;
    loop {
        limiter.wait(provider_key(&job.rule.spec.id), rps);
        let answer = match client.send(&req) {
            Ok(a) => a,
            Err(e) => return outcome(Status::Unknown, None, Some(e)),
        };
        match answer.status {
            429 | 500..=599 if retries < 2 => {
                retries += 1;
                let wait = answer
                    .retry_after
                    .map_or(Duration::from_millis(500 * retries), Duration::from_secs);
                http::backoff(wait);
                continue;
            }
            429 => {
                return outcome(
                    Status::Unknown,
                    Some(429),
                    Some("rate limited (429)".into()),
                );
            }
            500..=599 => {
                return outcome(
                    Status::Unknown,
                    Some(answer.status),
                    Some(format!("server error {}", answer.status)),
                );
            }
            300..=399 => {
                let Some(loc) = answer.location.clone() else {
                    return outcome(
                        Status::Unknown,
                        Some(answer.status),
                        Some("redirect without Location".into()),
                    );
                };
                let target = if loc.starts_with('/') {
                    let (base, _) = split_url(&req.url).unwrap_or(("", ""));
                    format!("{base}{loc}")
                } else {
                    loc
                };
                if http::host_port(&target) != http::host_port(&req.url) {
                    return outcome(
                        Status::Unknown,
                        Some(answer.status),
                        Some("redirect to another host not followed".into()),
                    );
                }
                if redirects >= 3 {
                    return outcome(
                        Status::Unknown,
                        Some(answer.status),
                        Some("more than 3 redirects: not followed further".into()),
                    );
                }
                redirects += 1;
                req.url = target;
                continue;
            }
            _ => {}
        }
        return decide(job, &answer);
    }
}

/// Live, dead or unknown from an answer.
fn decide(job: &Job<'_>, a: &Answer) -> Verification {
    let v = |status, reason: Option<String>| Verification {
        status,
        http_status: Some(a.status),
        checked_at: now_iso(),
        reason,
        public_key: None,
        access: None,
    };
    let head = a
        .body
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    if a.content_type.contains("text/html")
        || head.starts_with("<!doctype html")
        || head.starts_with("<html")
    {
        return v(
            Status::Unknown,
            Some("HTML answer (WAF or login page)".into()),
        );
    }
    if job.spec.builtin == Some(Builtin::AwsSts) {
        return match a.status {
            200 if a.body.contains("<Account>") => v(Status::Live, None),
            403 if [
                "InvalidClientTokenId",
                "SignatureDoesNotMatch",
                "ExpiredToken",
            ]
            .iter()
            .any(|c| a.body.contains(c)) =>
            {
                v(Status::Dead, None)
            }
            _ => v(
                Status::Unknown,
                Some(format!("unexpected answer {}", a.status)),
            ),
        };
    }
    if job.spec.builtin == Some(Builtin::GcpServiceAccount) {
        let dead_words = [
            "Invalid JWT Signature",
            "account not found",
            "invalid_client",
        ];
        return match a.status {
            200 if a.body.contains("access_token") => v(Status::Live, None),
            400 | 401 if dead_words.iter().any(|w| a.body.contains(w)) => v(Status::Dead, None),
            _ => v(
                Status::Unknown,
                Some(format!("unexpected answer {}", a.status)),
            ),
        };
    }
    let json: Option<serde_json::Value> = serde_json::from_str(&a.body).ok();
    if job
        .spec
        .live
        .as_ref()
        .is_some_and(|c| matches(c, a, json.as_ref()))
    {
        return v(Status::Live, None);
    }
    if job
        .spec
        .dead
        .as_ref()
        .is_some_and(|c| matches(c, a, json.as_ref()))
    {
        return v(Status::Dead, None);
    }
    v(
        Status::Unknown,
        Some(format!("answer {} matches neither live nor dead", a.status)),
    )
}

fn matches(c: &VerifyCheck, a: &Answer, json: Option<&serde_json::Value>) -> bool {
    if !c.status.is_empty() && !c.status.contains(&a.status) {
        return false;
    }
    for (path, want) in &c.json {
        let Some(mut cur) = json else { return false };
        for part in path.split('.') {
            match cur.get(part) {
                Some(x) => cur = x,
                None => return false,
            }
        }
        let want = serde_json::to_value(want).unwrap_or_default();
        if *cur != want {
            return false;
        }
    }
    c.body.iter().all(|w| a.body.contains(w.as_str()))
}

/// The signed STS request for an AWS key pair (`{{id}}` companion + the secret access key).
fn aws_request(job: &Job<'_>, opts: &VerifyOptions) -> Result<Request, RequestError> {
    let id = job
        .vars
        .get("id")
        .ok_or("needs the access key id from the same file")?;
    if let Some(account) = aws::account_of_key_id(id)
        && opts.skip_aws_accounts.contains(&account)
    {
        return Err(format!("AWS account {account} is on the canary list: not verified").into());
    }
    let base = opts
        .endpoints
        .get(provider_key(&job.rule.spec.id))
        .map(|b| b.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "https://sts.amazonaws.com".to_string());
    let (host, port) = http::host_port(&format!("{base}/")).ok_or("STS endpoint is not https")?;
    let host_header = if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    };
    let amz_date = now_amz();
    let mut headers = aws::sts_headers(&host_header, &amz_date, id, &job.secret);
    headers.push(("Host".into(), host_header));
    Ok(Request {
        method: "POST".into(),
        url: format!("{base}/"),
        headers,
        body: Some(aws::STS_BODY.as_bytes().to_vec()),
    })
}

/// The offline check of a private key: valid key material is reported with its public-key
/// fingerprint (status unknown: whether any server still trusts the key is not knowable
/// offline); key material that does not parse is dead.
fn private_key(secret: &str) -> Verification {
    let (status, reason, public_key) = match keys::check(secret) {
        keys::KeyCheck::Valid { kind, fingerprint } => (
            Status::Unknown,
            "valid private key (offline check): find where this public key is authorized and remove it there".to_string(),
            Some(format!("{kind} {fingerprint}")),
        ),
        keys::KeyCheck::Encrypted => (
            Status::Skipped,
            "encrypted private key: the public key needs the passphrase".to_string(),
            None,
        ),
        keys::KeyCheck::Unsupported(why) => (Status::Skipped, why, None),
        keys::KeyCheck::Invalid(why) => (Status::Dead, why, None),
    };
    Verification {
        status,
        http_status: None,
        checked_at: now_iso(),
        reason: Some(reason),
        public_key,
        access: None,
    }
}

/// The token request for a GCP service-account key (`{{email}}` companion + the key).
fn gcp_request(job: &Job<'_>, opts: &VerifyOptions) -> Result<Request, RequestError> {
    let email = job
        .vars
        .get("email")
        .ok_or("needs the client_email from the same file")?;
    let url = match opts.endpoints.get(provider_key(&job.rule.spec.id)) {
        Some(b) => format!("{}/token", b.trim_end_matches('/')),
        None => gcp::TOKEN_URL.to_string(),
    };
    // The audience is always Google's endpoint: a stand-in server checks the same claims.
    let jwt = gcp::assertion(&job.secret, email, gcp::TOKEN_URL, now_secs())?;
    Ok(Request {
        method: "POST".into(),
        url,
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(gcp::token_body(&jwt).into_bytes()),
    })
}

/// Earlier live and dead outcomes by "rule<TAB>fingerprint" (unknown and skipped are never
/// cached: they say nothing about the secret). The file holds no secret.
struct Cache {
    path: Option<std::path::PathBuf>,
    entries: BTreeMap<String, Verification>,
    changed: bool,
}

impl Cache {
    /// Loads the cache file; a file that exists but cannot be used is reported (and then
    /// rewritten from this run's outcomes).
    fn load(opts: &VerifyOptions) -> (Cache, Option<String>) {
        let mut problem = None;
        let entries = match opts.cache.as_ref() {
            None => BTreeMap::new(),
            Some(p) => match sprawl_core::bounded::read_regular(p, 256 << 20) {
                Err(e) if e.is_not_found() => BTreeMap::new(),
                Err(e) => {
                    problem = Some(format!(
                        "{}: verify cache not read ({e}): ignored",
                        p.display()
                    ));
                    BTreeMap::new()
                }
                Ok(b) => match serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&b) {
                    Ok(m) => m
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, verification_from_json(&v)?)))
                        .collect(),
                    Err(e) => {
                        problem = Some(format!(
                            "{}: verify cache is not valid JSON ({e}): ignored and rewritten",
                            p.display()
                        ));
                        BTreeMap::new()
                    }
                },
            },
        };
        let cache = Cache {
            path: opts.cache.clone(),
            entries,
            changed: false,
        };
        (cache, problem)
    }

    fn fresh(&self, rule: &str, fingerprint: &str, max_age: Duration) -> Option<Verification> {
        let v = self.entries.get(&format!("{rule}\t{fingerprint}"))?;
        let at = sprawl_core::time::parse_iso8601(&v.checked_at)?;
        (now_secs() - at < max_age.as_secs() as i64).then(|| v.clone())
    }

    fn record(&mut self, rule: &str, fingerprint: &str, v: &Verification) {
        if matches!(v.status, Status::Live | Status::Dead) && self.path.is_some() {
            self.entries
                .insert(format!("{rule}\t{fingerprint}"), v.clone());
            self.changed = true;
        }
    }

    fn save(&self) {
        if let (Some(p), true) = (&self.path, self.changed)
            && let Ok(text) = serde_json::to_vec_pretty(&self.entries)
        {
            let _ = std::fs::write(p, text);
        }
    }
}

fn verification_from_json(v: &serde_json::Value) -> Option<Verification> {
    let status = match v["status"].as_str()? {
        "live" => Status::Live,
        "dead" => Status::Dead,
        _ => return None,
    };
    Some(Verification {
        status,
        http_status: v["http_status"].as_u64().map(|s| s as u16),
        checked_at: v["checked_at"].as_str()?.to_string(),
        reason: Some("cached outcome (--verify-max-age)".to_string()),
        public_key: v["public_key"].as_str().map(str::to_string),
        access: None,
    })
}

/// Spaces requests to one provider by `1/rps` seconds.
#[derive(Default)]
struct RateLimiter {
    next: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    fn wait(&self, provider: &str, rps: f64) {
        let gap = Duration::from_secs_f64(1.0 / rps.clamp(0.01, 1000.0));
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let at = next.get(provider).copied().unwrap_or(now).max(now);
            next.insert(provider.to_string(), at + gap);
            at
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

fn now_amz() -> String {
    now_iso().replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let mut v = BTreeMap::new();
        v.insert("secret".to_string(), "a\"b c".to_string());
        assert_eq!(
            render("x {{secret}} y", &v, |s| s.to_string()).unwrap(),
            "x a\"b c y"
        );
        assert_eq!(render("{{ secret }}", &v, json_escape).unwrap(), "a\\\"b c");
        assert_eq!(render("{{secret}}", &v, url_encode).unwrap(), "a%22b%20c");
        assert!(render("{{nope}}", &v, |s| s.to_string()).is_err());
        assert_eq!(
            split_url("https://h:1/p?q").unwrap(),
            ("https://h:1", "/p?q")
        );
        assert_eq!(now_amz().len(), 16);
    }
}
