//! CI logs as a source: GitHub Actions workflow runs → jobs → job logs, through the REST API
//! (`GET /repos/{owner}/{repo}/actions/runs`, `…/runs/{id}/jobs`, `…/jobs/{id}/logs`), paged by
//! `Link`, with the token from `GITHUB_TOKEN` and the base URL configurable (GitHub
//! Enterprise: `https://HOST/api/v3`). A job's log is answered with a redirect to blob storage:
//! the redirect is followed by hand, **without** the Authorization header. Logs are streamed
//! through [`LogCleaner`] (timestamps and ANSI colour codes removed, one output line per input
//! line, so line numbers hold), never written to disk. Rate limits (429, or 403 with
//! `x-ratelimit-remaining: 0`) are waited out a bounded number of times; an expired log (410)
//! is its own error, not a failure of the scan.

use std::io::{BufRead, Read};
use std::time::Duration;

use serde_json::Value;

/// A `gha://OWNER/REPO` target (github.com, or the API `--ci-api` names), or
/// `gha://HOST/OWNER/REPO` (GitHub Enterprise Server at HOST: its API is
/// `https://HOST/api/v3`). Naming the host in the target keeps it with every copy the inventory
/// records, so `purge-logs` and report links need no `--ci-api` later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhaTarget {
    /// GitHub Enterprise Server host (`ghe.example.com`, `ghe.example.com:8443`).
    pub host: Option<String>,
    /// Owner (user or organisation).
    pub owner: String,
    /// Repository.
    pub repo: String,
}

impl GhaTarget {
    /// Parses `gha://OWNER/REPO` or `gha://HOST/OWNER/REPO` (a host has a dot or a port:
    /// GitHub owner names have neither).
    pub fn parse(text: &str) -> Option<GhaTarget> {
        let rest = text.strip_prefix("gha://")?;
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        let host_ok = |h: &str| {
            let (name, port) = h.split_once(':').unwrap_or((h, "443"));
            (h.contains('.') || h.contains(':'))
                && !name.is_empty()
                && !name.starts_with(['.', '-'])
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        };
        let (host, owner, repo) = match parts.as_slice() {
            [owner, repo] => (None, *owner, *repo),
            [host, owner, repo] if host_ok(host) => {
                (Some(host.to_ascii_lowercase()), *owner, *repo)
            }
            _ => return None,
        };
        (ok(owner) && ok(repo)).then(|| GhaTarget {
            host,
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    /// `gha://OWNER/REPO` or `gha://HOST/OWNER/REPO`.
    pub fn shown(&self) -> String {
        match &self.host {
            Some(h) => format!("gha://{h}/{}/{}", self.owner, self.repo),
            None => format!("gha://{}/{}", self.owner, self.repo),
        }
    }

    /// `opts` with this target's API and token: for a named host, GitHub Enterprise Cloud's
    /// `https://api.SUB.ghe.com` or Server's `https://HOST/api/v3` with the enterprise token
    /// (`github.com` itself: `api.github.com` with `GITHUB_TOKEN`); `opts.api` (`--ci-api`)
    /// otherwise.
    pub fn options(&self, opts: &CiLogOptions) -> CiLogOptions {
        let mut o = opts.clone();
        match self.host.as_deref() {
            None => {}
            Some("github.com") => o.api = "https://api.github.com".into(),
            Some(h) => {
                o.api = if h.ends_with(".ghe.com") {
                    format!("https://api.{h}")
                } else {
                    format!("https://{h}/api/v3")
                };
                o.token = opts.enterprise_token.clone();
            }
        }
        o
    }

    /// The web page of run `run`, on the site the API `api` belongs to (`api.github.com` →
    /// `github.com`, `HOST/api/v3` → `HOST`, `api.SUB.ghe.com` → `SUB.ghe.com`).
    pub fn run_url(&self, api: &str, run: u64) -> String {
        let api = api.trim_end_matches('/');
        let web = match api.strip_suffix("/api/v3") {
            Some(w) => w.to_string(),
            None => api.replacen("://api.", "://", 1),
        };
        format!("{web}/{}/{}/actions/runs/{run}", self.owner, self.repo)
    }
}

/// How the API is reached.
#[derive(Debug, Clone)]
pub struct CiLogOptions {
    /// API base (`https://api.github.com`).
    pub api: String,
    /// Token (`GITHUB_TOKEN`).
    pub token: Option<String>,
    /// Token for GitHub Enterprise hosts named in targets (`GH_ENTERPRISE_TOKEN`, else
    /// `GITHUB_ENTERPRISE_TOKEN`, as the gh CLI reads them): `GITHUB_TOKEN` never goes to a
    /// host a target (or an inventory row) names.
    pub enterprise_token: Option<String>,
    /// The newest N runs.
    pub runs: usize,
    /// Only runs created on or after this date (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Trust only these PEM certificates (tests).
    pub ca_pem: Option<Vec<u8>>,
    /// Per-request time limit (a log download is one request).
    pub timeout: Duration,
    /// GitLab's base URL (`gitlab-ci://` targets; self-managed: `https://HOST`).
    pub gitlab_url: String,
}

impl Default for CiLogOptions {
    fn default() -> Self {
        CiLogOptions {
            api: "https://api.github.com".into(),
            token: std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()),
            enterprise_token: ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|t| !t.is_empty())),
            runs: 20,
            since: None,
            ca_pem: None,
            timeout: Duration::from_secs(600),
            gitlab_url: "https://gitlab.com".into(),
        }
    }
}

/// One step of a job, with the times that place log lines in it.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its name.
    pub name: String,
    /// When it started (ISO 8601), if it ran.
    pub started_at: Option<String>,
}

/// One job of a run.
#[derive(Debug, Clone)]
pub struct Job {
    /// Run id.
    pub run: u64,
    /// Run attempt.
    pub attempt: u64,
    /// Workflow name.
    pub workflow: String,
    /// Job id.
    pub id: u64,
    /// Job name.
    pub name: String,
    /// When it started.
    pub started_at: String,
    /// Its page.
    pub url: String,
    /// Its steps.
    pub steps: Vec<Step>,
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// GitHub no longer keeps it (retention).
    #[error("log expired (410)")]
    Expired,
    /// Anything else, with the reason.
    #[error("{0}")]
    Other(String),
}

/// Pages of one listing followed at most.
const MAX_PAGES: usize = 1000;

/// Artifacts larger than this are not downloaded (zips are read in memory to be walked).
pub const MAX_ARTIFACT: u64 = 512 << 20;

/// The GitHub Actions API client.
pub struct Client {
    agent: ureq::Agent,
    api: String,
    token: Option<String>,
    waits: WaitBudget,
}

/// Seconds one client may spend waiting out rate limits over all its requests; past it a
/// throttled request is an error at once, so an API that throttles for hours cannot hold a
/// scan for hours (each wait is also at most 60 s, at most 3 per request).
pub(crate) const WAIT_BUDGET_SECS: u64 = 900;

/// A client's rate-limit waits, counted against a budget.
#[derive(Debug)]
pub(crate) struct WaitBudget {
    spent: std::sync::atomic::AtomicU64,
    limit: u64,
}

impl Default for WaitBudget {
    fn default() -> Self {
        WaitBudget {
            spent: std::sync::atomic::AtomicU64::new(0),
            limit: WAIT_BUDGET_SECS,
        }
    }
}

impl WaitBudget {
    /// Counts `secs` of waiting; false (nothing counted) when that would pass the budget.
    fn take(&self, secs: u64) -> bool {
        use std::sync::atomic::Ordering;
        self.spent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                (s + secs <= self.limit).then_some(s + secs)
            })
            .is_ok()
    }

    /// Waits out the rate-limited answer `resp` to `url`: its `Retry-After` (else 5 s, at most
    /// 60 s) if the budget allows, else an error naming the URL.
    pub(crate) fn wait_out(
        &self,
        resp: &ureq::http::Response<ureq::Body>,
        url: &str,
    ) -> Result<(), String> {
        let secs = header(resp, "retry-after")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(5)
            .min(60);
        if !self.take(secs) {
            return Err(format!(
                "{}: rate limited, and {WAIT_BUDGET_SECS} s of waiting already spent by this client: gave up",
                shown(url)
            ));
        }
        std::thread::sleep(Duration::from_secs(secs));
        Ok(())
    }
}

pub(crate) fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: Option<&str>) -> Option<String> {
    crate::forge::next_link(link?)
}

impl Client {
    /// A client for `opts.api`.
    pub fn new(opts: &CiLogOptions) -> Result<Client, String> {
        Ok(Client {
            agent: agent(opts)?,
            api: opts.api.trim_end_matches('/').to_string(),
            token: opts.token.clone(),
            waits: WaitBudget::default(),
        })
    }
}

/// The HTTP agent of the CI clients: no automatic redirects (blob storage must not get the
/// token), statuses as answers, the test CA when given.
pub(crate) fn agent(opts: &CiLogOptions) -> Result<ureq::Agent, String> {
    {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = &opts.ca_pem {
            let certs: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err("CA bundle: no certificate".into());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(opts.timeout))
            .user_agent(concat!("sprawl/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        Ok(config.into())
    }
}

impl Client {
    /// GET `url` with the token (only on the API's own host), waiting out rate limits (at
    /// most 3 times, 60 s each).
    fn get(&self, url: &str, with_token: bool) -> Result<ureq::http::Response<ureq::Body>, String> {
        self.call("GET", url, with_token)
    }

    /// `method` (GET or DELETE) on `url`, the token only when `with_token`; 429 and GitHub's
    /// rate-limit 403 are waited out (at most 3 times, 60 s each).
    fn call(
        &self,
        method: &str,
        url: &str,
        with_token: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        for _ in 0..4 {
            let mut req = match method {
                "DELETE" => self.agent.delete(url),
                _ => self.agent.get(url),
            }
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
            if with_token && let Some(t) = &self.token {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            let resp = req
                .call()
                .map_err(|e| format!("{}: {}", shown(url), without_queries(&e.to_string())))?;
            let status = resp.status().as_u16();
            let limited = status == 429
                || (status == 403
                    && header(&resp, "x-ratelimit-remaining").as_deref() == Some("0"));
            if !limited {
                return Ok(resp);
            }
            self.waits.wait_out(&resp, url)?;
        }
        Err(format!("{}: rate limited, gave up", shown(url)))
    }

    /// GET an API URL with the token. A renamed or transferred repository answers 301 to
    /// `{api}/repositories/ID/…`; such redirects (and only those: the token never leaves the
    /// API) are followed with the token, at most 3. Any other answer, redirects to blob
    /// storage included, is the caller's, with the URL that gave it.
    fn get_api(&self, url: &str) -> Result<(ureq::http::Response<ureq::Body>, String), String> {
        let moved_base = format!("{}/repositories/", self.api);
        let mut url = url.to_string();
        for _ in 0..=3 {
            let resp = self.get(&url, true)?;
            let status = resp.status().as_u16();
            let moved = matches!(status, 301 | 302 | 307 | 308)
                .then(|| header(&resp, "location"))
                .flatten()
                .map(|l| absolute(&l, &url))
                .filter(|t| t.starts_with(&moved_base));
            match moved {
                Some(t) => url = t,
                None => return Ok((resp, url)),
            }
        }
        Err(format!("{}: more than 3 redirects", shown(&url)))
    }

    fn get_json(&self, url: &str) -> Result<(Value, Option<String>), String> {
        let (mut resp, url) = self.get_api(url)?;
        let url = url.as_str();
        let status = resp.status().as_u16();
        let link = header(&resp, "link");
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| format!("{}: {e}", shown(url)))?;
        if status != 200 {
            let message: String = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Err(format!("{}: HTTP {status} {message}", shown(url)));
        }
        let v =
            serde_json::from_str(&body).map_err(|e| format!("{}: not JSON: {e}", shown(url)))?;
        Ok((v, next_link(link.as_deref())))
    }

    /// Every item of the list `field` of `first` and its next pages (followed only under the
    /// API base, at most [`MAX_PAGES`]), in order, until `visit` answers false.
    fn paged(
        &self,
        first: String,
        field: &str,
        mut visit: impl FnMut(&Value) -> bool,
    ) -> Result<(), String> {
        let mut url = Some(first);
        let mut pages = 0;
        while let Some(u) = url.take() {
            // At most 1,000 pages: a hostile server cannot loop us.
            pages += 1;
            if pages > MAX_PAGES {
                return Err(format!("{}: more than {MAX_PAGES} pages", shown(&u)));
            }
            let (v, next) = self.get_json(&u)?;
            for item in v[field].as_array().map(Vec::as_slice).unwrap_or_default() {
                if !visit(item) {
                    return Ok(());
                }
            }
            url = next.filter(|n| n.starts_with(&format!("{}/", self.api)));
        }
        Ok(())
    }

    /// The newest `limit` runs (created on or after `since`), newest first: (id, attempt,
    /// workflow name).
    pub fn runs(
        &self,
        t: &GhaTarget,
        limit: usize,
        since: Option<&str>,
    ) -> Result<Vec<(u64, u64, String)>, String> {
        if let Some(d) = since
            && !(d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        {
            return Err(format!("--ci-since {d:?}: expected YYYY-MM-DD"));
        }
        let first = format!(
            "{}/repos/{}/{}/actions/runs?per_page=100{}",
            self.api,
            t.owner,
            t.repo,
            since
                .map(|d| format!("&created=%3E%3D{d}"))
                .unwrap_or_default()
        );
        let mut out = Vec::new();
        self.paged(first, "workflow_runs", |r| {
            if out.len() >= limit {
                return false;
            }
            if let Some(id) = r["id"].as_u64() {
                out.push((
                    id,
                    r["run_attempt"].as_u64().unwrap_or(1),
                    r["name"].as_str().unwrap_or("").to_string(),
                ));
            }
            true
        })?;
        Ok(out)
    }

    /// Every job of run `run`, of every attempt: a re-run keeps the earlier attempts' logs,
    /// and a secret printed by a failed first attempt is still there (`filter=all`; the
    /// default lists the latest attempt only).
    pub fn jobs(&self, t: &GhaTarget, run: u64, workflow: &str) -> Result<Vec<Job>, String> {
        let first = format!(
            "{}/repos/{}/{}/actions/runs/{run}/jobs?per_page=100&filter=all",
            self.api, t.owner, t.repo
        );
        let mut out = Vec::new();
        self.paged(first, "jobs", |j| {
            let Some(id) = j["id"].as_u64() else {
                return true;
            };
            let steps = j["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|s| Step {
                    name: s["name"].as_str().unwrap_or("?").to_string(),
                    started_at: s["started_at"].as_str().map(str::to_string),
                })
                .collect();
            out.push(Job {
                run,
                attempt: j["run_attempt"].as_u64().unwrap_or(1),
                workflow: workflow.to_string(),
                id,
                name: j["name"].as_str().unwrap_or("?").to_string(),
                started_at: j["started_at"].as_str().unwrap_or("").to_string(),
                url: j["html_url"].as_str().unwrap_or("").to_string(),
                steps,
            });
            true
        })?;
        Ok(out)
    }

    /// The run's artifacts that are still kept: (id, name, size in bytes).
    pub fn artifacts(&self, t: &GhaTarget, run: u64) -> Result<Vec<(u64, String, u64)>, String> {
        let first = format!(
            "{}/repos/{}/{}/actions/runs/{run}/artifacts?per_page=100",
            self.api, t.owner, t.repo
        );
        let mut out = Vec::new();
        self.paged(first, "artifacts", |a| {
            if a["expired"].as_bool() != Some(true)
                && let Some(id) = a["id"].as_u64()
            {
                out.push((
                    id,
                    a["name"].as_str().unwrap_or("artifact").to_string(),
                    a["size_in_bytes"].as_u64().unwrap_or(0),
                ));
            }
            true
        })?;
        Ok(out)
    }

    /// An artifact's zip as a stream (redirect to blob storage, fetched without the token).
    pub fn artifact(&self, t: &GhaTarget, id: u64) -> Result<Box<dyn Read + Send>, LogError> {
        self.download(&format!(
            "{}/repos/{}/{}/actions/artifacts/{id}/zip",
            self.api, t.owner, t.repo
        ))
    }

    /// Whether the job's log is still kept: the API answers its redirect (or the log) when it
    /// is, 404 or 410 once deleted or expired. Nothing is downloaded.
    pub fn log_exists(&self, t: &GhaTarget, job: u64) -> Result<bool, String> {
        let url = format!(
            "{}/repos/{}/{}/actions/jobs/{job}/logs",
            self.api, t.owner, t.repo
        );
        match self.get_api(&url)?.0.status().as_u16() {
            200 | 301 | 302 | 303 | 307 | 308 => Ok(true),
            404 | 410 => Ok(false),
            s => Err(format!("{}: HTTP {s}", shown(&url))),
        }
    }

    /// The job's log as a stream: the API answers with a redirect to blob storage, which is
    /// fetched without the token.
    pub fn log(&self, t: &GhaTarget, job: u64) -> Result<Box<dyn Read + Send>, LogError> {
        self.download(&format!(
            "{}/repos/{}/{}/actions/jobs/{job}/logs",
            self.api, t.owner, t.repo
        ))
    }

    /// GET `url` with the token, then its redirect to blob storage without it; the body as a
    /// stream.
    fn download(&self, url: &str) -> Result<Box<dyn Read + Send>, LogError> {
        let (mut resp, url) = self.get_api(url).map_err(LogError::Other)?;
        let mut hops = 0;
        loop {
            let status = resp.status().as_u16();
            match status {
                200 => {
                    let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
                    return Ok(Box::new(reader));
                }
                301 | 302 | 303 | 307 | 308 if hops < 3 => {
                    let loc = header(&resp, "location").ok_or_else(|| {
                        LogError::Other(format!("{}: redirect without Location", shown(&url)))
                    })?;
                    hops += 1;
                    let loc = absolute(&loc, &url);
                    // Blob storage gets no Authorization header: the URL is signed.
                    resp = self.get(&loc, false).map_err(LogError::Other)?;
                }
                410 => return Err(LogError::Expired),
                _ => {
                    return Err(LogError::Other(format!("{}: HTTP {status}", shown(&url))));
                }
            }
        }
    }
}

impl Client {
    /// DELETE `url` with the token: the HTTP status (a rate limit that stays is an error).
    fn delete(&self, url: &str) -> Result<u16, String> {
        self.call("DELETE", url, true).map(|r| r.status().as_u16())
    }

    /// Deletes every log of run `run` (`DELETE …/actions/runs/{run}/logs`; 204 when done).
    pub fn delete_run_logs(&self, t: &GhaTarget, run: u64) -> Result<u16, String> {
        self.delete(&format!(
            "{}/repos/{}/{}/actions/runs/{run}/logs",
            self.api, t.owner, t.repo
        ))
    }

    /// Deletes run `run`'s artifact named `name` (found in the run's list); `Ok(None)` when
    /// the run no longer has it.
    pub fn delete_artifact(
        &self,
        t: &GhaTarget,
        run: u64,
        name: &str,
    ) -> Result<Option<u16>, String> {
        let Some((id, _, _)) = self
            .artifacts(t, run)?
            .into_iter()
            .find(|(_, n, _)| n == name)
        else {
            return Ok(None);
        };
        self.delete(&format!(
            "{}/repos/{}/{}/actions/artifacts/{id}",
            self.api, t.owner, t.repo
        ))
        .map(Some)
    }
}

/// Where a `ci-log` copy is, from its stored path (`gha://O/R run N job J` or
/// `gha://O/R run N artifact NAME.zip!/member`): the target, the run, and the artifact's name.
pub fn parse_copy_path(path: &str) -> Option<(GhaTarget, u64, Option<String>)> {
    let (target, rest) = path.split_once(" run ")?;
    let t = GhaTarget::parse(target)?;
    let (run, rest) = rest.split_once(' ')?;
    let run = run.parse().ok()?;
    let artifact = rest
        .strip_prefix("artifact ")
        .and_then(|a| a.split_once(".zip!/").map(|(name, _)| name.to_string()));
    Some((t, run, artifact))
}

/// An error text without URL queries (blob storage signs its URLs there).
pub(crate) fn without_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for c in text.chars() {
        if c == '?' {
            skipping = true;
            out.push_str("?…");
        } else if skipping && (c.is_whitespace() || c == '"' || c == ')') {
            skipping = false;
            out.push(c);
        } else if !skipping {
            out.push(c);
        }
    }
    out
}

/// `location` as an absolute URL: a relative one (`/blob/…`) is on the host of `from`.
pub(crate) fn absolute(location: &str, from: &str) -> String {
    if location.starts_with("https://") || location.starts_with("http://") {
        return location.to_string();
    }
    let scheme_end = from.find("://").map_or(0, |i| i + 3);
    let host_end = from[scheme_end..]
        .find('/')
        .map_or(from.len(), |i| scheme_end + i);
    format!("{}/{}", &from[..host_end], location.trim_start_matches('/'))
}

/// A URL as messages show it: without its query (blob storage signs URLs there).
pub(crate) fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Reads a job log as text without the timestamp each line starts with and without ANSI
/// escape sequences, one output line per input line; records, for each step start time, the
/// first line at or after it (so a line can be placed in its step).
pub struct LogCleaner<R: BufRead> {
    inner: R,
    line: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    lines: u64,
    step_starts: Vec<String>,
    /// For each step start, the 1-based first line at or after it.
    pub step_lines: Vec<Option<u64>>,
    /// GitLab sections (`section_start:TS:NAME`): the 1-based line each one starts on.
    pub sections: Vec<(u64, String)>,
    /// Strip and record GitLab section markers (GitLab traces only).
    gitlab: bool,
    /// The next piece read starts a line (lines over 1 MiB come in several pieces).
    at_line_start: bool,
    /// GitLab: the last cleaned line, held back until the next shows whether it continues it
    /// (`+`), when the two are joined (a secret split at the runner's write is whole again).
    held: Vec<u8>,
    /// Empty lines owed after `held`: one per line joined into it, so line numbers hold.
    held_blanks: usize,
}

impl<R: BufRead> LogCleaner<R> {
    /// Cleans `inner`; `step_starts` are the steps' start times (ISO 8601, sortable).
    pub fn new(inner: R, step_starts: Vec<String>) -> LogCleaner<R> {
        let n = step_starts.len();
        LogCleaner {
            inner,
            line: Vec::new(),
            out: Vec::new(),
            pos: 0,
            lines: 0,
            step_starts,
            step_lines: vec![None; n],
            sections: Vec::new(),
            gitlab: false,
            at_line_start: true,
            held: Vec::new(),
            held_blanks: 0,
        }
    }

    /// Also strips GitLab's section markers and records where each section starts.
    pub fn gitlab(mut self) -> LogCleaner<R> {
        self.gitlab = true;
        self
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

/// A leading `2026-10-02T10:00:00.1234567Z ` timestamp: its length, if there is one.
fn timestamp_len(line: &[u8]) -> Option<usize> {
    let ok = line.len() > 20
        && line[4] == b'-'
        && line[7] == b'-'
        && line[10] == b'T'
        && line[..4].iter().all(u8::is_ascii_digit);
    if !ok {
        return None;
    }
    let z = line.iter().take(40).position(|&b| b == b'Z')?;
    Some(if line.get(z + 1) == Some(&b' ') {
        z + 2
    } else {
        z + 1
    })
}

/// GitLab's timestamped traces (runners with `FF_TIMESTAMPS`) follow the time with the stream:
/// two hex digits, `O` (stdout) or `E` (stderr), then a space for a full line or `+` for a line
/// that continues the previous one (`00O ok`, `01E+rest`). After a stripped timestamp: whether
/// the line is a continuation (the prefix is 4 bytes), or `None` when there is no prefix.
fn gitlab_stream_prefix(rest: &[u8]) -> Option<bool> {
    let hex = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
    if !(hex(rest.first()) && hex(rest.get(1)) && matches!(rest.get(2), Some(b'O' | b'E'))) {
        return None;
    }
    match rest.get(3) {
        Some(b' ') => Some(false),
        Some(b'+') => Some(true),
        _ => None,
    }
}

/// `line` without ANSI escape sequences (CSI `ESC [ … letter`, and lone ESC).
fn strip_ansi(line: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x1b {
            i += 1;
            if line.get(i) == Some(&b'[') {
                // CSI: parameter and intermediate bytes, then one final byte (0x40..=0x7E);
                // never past the end of the line, never longer than 32 bytes.
                let start = i + 1;
                let mut j = start;
                while j < line.len() && j - start < 32 && (0x20..0x40).contains(&line[j]) {
                    j += 1;
                }
                if j < line.len() && (0x40..=0x7e).contains(&line[j]) {
                    i = j + 1;
                } else {
                    // Not a complete sequence: keep what follows.
                    i = start;
                }
            }
            continue;
        }
        // A NUL would make the text look binary to the reader.
        out.push(if line[i] == 0 { b' ' } else { line[i] });
        i += 1;
    }
}

impl<R: BufRead> Read for LogCleaner<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            self.line.clear();
            // Lines longer than 1 MiB are cut into pieces: bounded memory on a hostile log.
            let n = (&mut self.inner)
                .take(1 << 20)
                .read_until(b'\n', &mut self.line)?;
            if n == 0 {
                if self.held.is_empty() {
                    return Ok(0);
                }
                self.flush_held();
                continue;
            }
            let starts_line = self.at_line_start;
            self.at_line_start = self.line.last() == Some(&b'\n');
            if starts_line {
                self.lines += 1;
                if self.lines == 1 && self.line.starts_with(b"\xef\xbb\xbf") {
                    // GitHub's logs start with a UTF-8 byte-order mark.
                    self.line.drain(..3);
                }
            }
            // Timestamps and markers only where a line starts.
            let skip = if starts_line {
                timestamp_len(&self.line).unwrap_or(0)
            } else {
                0
            };
            if skip > 0 {
                // Compared to the second: step times have no fraction, log stamps do.
                let stamp = String::from_utf8_lossy(&self.line[..skip.min(19)]).to_string();
                for (i, start) in self.step_starts.iter().enumerate() {
                    let start = start.get(..19).unwrap_or(start);
                    if self.step_lines[i].is_none() && stamp.as_str() >= start {
                        self.step_lines[i] = Some(self.lines);
                    }
                }
            }
            let stream = if self.gitlab && skip > 0 {
                gitlab_stream_prefix(&self.line[skip..])
            } else {
                None
            };
            let skip = skip + if stream.is_some() { 4 } else { 0 };
            let line = std::mem::take(&mut self.line);
            let mut cleaned = Vec::with_capacity(line.len());
            strip_ansi(&line[skip..], &mut cleaned);
            if self.gitlab {
                let continues = stream == Some(true) && !self.held.is_empty();
                if starts_line && !continues {
                    self.flush_held();
                }
                if continues {
                    // Joined to the line it continues; an empty line keeps the count.
                    if self.held.last() == Some(&b'\n') {
                        self.held.pop();
                    }
                    self.held_blanks += 1;
                }
                strip_sections(&cleaned, self.lines, &mut self.sections, &mut self.held);
                if self.held.len() > 1 << 20 {
                    // Bounded memory: a line grown past 1 MiB by joins goes out as it is.
                    self.flush_held();
                }
            } else {
                self.out.extend_from_slice(&cleaned);
            }
            self.line = line;
        }
        let n = (self.out.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: BufRead> LogCleaner<R> {
    /// Moves the held GitLab line, and the empty lines it owes, to the output.
    fn flush_held(&mut self) {
        self.out.append(&mut self.held);
        for _ in 0..std::mem::take(&mut self.held_blanks) {
            self.out.push(b'\n');
        }
    }
}

/// `line` without GitLab's section markers (`section_start:1700000000:name[opts]\r`,
/// `section_end:…\r`); each section start is recorded with `line_no`.
fn strip_sections(line: &[u8], line_no: u64, sections: &mut Vec<(u64, String)>, out: &mut Vec<u8>) {
    let mut rest = line;
    loop {
        let found = [&b"section_start:"[..], &b"section_end:"[..]]
            .iter()
            .filter_map(|m| memchr::memmem::find(rest, m).map(|at| (at, m.len())))
            .min();
        let Some((at, tag)) = found else { break };
        // Only `section_(start|end):DIGITS:NAME\r` is a marker; anything else is text.
        let marker = &rest[at..];
        let cr = marker.iter().position(|&b| b == b'\r' || b == b'\n');
        let well_formed = cr.is_some_and(|cr| marker[cr] == b'\r')
            && cr.is_some_and(|cr| {
                let body = &marker[tag..cr];
                let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
                digits > 0 && body.get(digits) == Some(&b':') && body.len() > digits + 1
            });
        let Some(cr) = cr.filter(|_| well_formed) else {
            out.extend_from_slice(&rest[..at + tag]);
            rest = &rest[at + tag..];
            continue;
        };
        out.extend_from_slice(&rest[..at]);
        if tag == b"section_start:".len() {
            let text = String::from_utf8_lossy(&marker[tag..cr]);
            if let Some((_, name)) = text.split_once(':') {
                let name = name.split('[').next().unwrap_or(name);
                sections.push((line_no, name.to_string()));
            }
        }
        rest = &marker[cr + 1..];
    }
    out.extend_from_slice(rest);
}

/// The GitLab section holding 1-based `line`.
pub fn section_of(sections: &[(u64, String)], line: u64) -> Option<String> {
    sections
        .iter()
        .rev()
        .find(|(first, _)| *first <= line)
        .map(|(_, name)| name.clone())
}

/// The step holding 1-based `line`: the last step whose first line is at or before it.
pub fn step_of(steps: &[Step], step_lines: &[Option<u64>], line: u64) -> Option<String> {
    steps
        .iter()
        .zip(step_lines)
        .rev()
        .find(|(_, first)| first.is_some_and(|f| f <= line))
        .map(|(s, _)| s.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_sections_are_stripped_and_recorded() {
        let log = "\x1b[0Ksection_start:1700000000:prepare_script\r\x1b[0KPreparing environment\n\
                   Running on runner-1\n\
                   \x1b[0Ksection_end:1700000001:prepare_script\r\x1b[0K\x1b[0Ksection_start:1700000002:step_script[collapsed=true]\r\x1b[0K$ ./deploy.sh\n\
                   token=abc\n";
        let mut c = LogCleaner::new(log.as_bytes(), Vec::new()).gitlab();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(
            out,
            "Preparing environment\nRunning on runner-1\n$ ./deploy.sh\ntoken=abc\n"
        );
        assert_eq!(
            section_of(&c.sections, 2).as_deref(),
            Some("prepare_script")
        );
        assert_eq!(section_of(&c.sections, 4).as_deref(), Some("step_script"));
    }

    #[test]
    fn gitlab_timestamped_traces_lose_time_and_stream() {
        let log = "2026-10-02T10:00:00.123456Z 00O \x1b[0Ksection_start:1700000002:step_script\r\x1b[0K$ ./deploy.sh\n\
                   2026-10-02T10:00:01.000001Z 01E token=abc\n\
                   2026-10-02T10:00:01.500000Z 01E+def\n\
                   2026-10-02T10:00:01.600000Z 01E+ghi\n\
                   2026-10-02T10:00:02.000000Z 0OE not a stream prefix\n\
                   2026-10-02T10:00:03.000000Z 00O+last";
        let mut c = LogCleaner::new(log.as_bytes(), Vec::new()).gitlab();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        // Continuations join the line they continue; empty lines keep the line numbers.
        assert_eq!(
            out,
            "$ ./deploy.sh\ntoken=abcdefghi\n\n\n0OE not a stream prefixlast\n"
        );
        assert_eq!(c.lines(), 6);
        assert_eq!(section_of(&c.sections, 2).as_deref(), Some("step_script"));
        // GitHub logs keep such text: the stream prefix is GitLab's only.
        let mut gh = LogCleaner::new("2026-10-02T10:00:01.0Z 01E x\n".as_bytes(), Vec::new());
        let mut out = String::new();
        gh.read_to_string(&mut out).unwrap();
        assert_eq!(out, "01E x\n");
    }

    #[test]
    fn odd_bytes_never_swallow_lines() {
        // An unfinished escape, a marker-looking text, a NUL, a BOM, a line over 1 MiB.
        let long = "x".repeat((1 << 20) + 10);
        let log = format!(
            "\u{feff}2026-10-02T10:00:00.0Z first\na\x1b[12\necho section_end: TOKEN=a\nnul\0here\n{long}\n2026-10-02T10:00:09.0Z last\n"
        );
        let mut c = LogCleaner::new(log.as_bytes(), vec!["2026-10-02T10:00:05Z".into()]).gitlab();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 6, "{:?}", &lines[..4]);
        assert_eq!(lines[0], "first");
        assert_eq!(lines[1], "a12", "an unfinished escape keeps the line end");
        assert_eq!(lines[2], "echo section_end: TOKEN=a");
        assert_eq!(lines[3], "nul here");
        assert_eq!(lines[5], "last");
        assert_eq!(c.lines(), 6);
        assert_eq!(
            c.step_lines,
            vec![Some(6)],
            "the step starts on the line after the long one"
        );
    }

    #[test]
    fn copy_paths() {
        let (t, run, art) = parse_copy_path("gha://acme/app run 301 job ship").unwrap();
        assert_eq!(
            (t.shown().as_str(), run, art),
            ("gha://acme/app", 301, None)
        );
        let (_, _, art) =
            parse_copy_path("gha://acme/app run 7 artifact test-results.zip!/reports/.env")
                .unwrap();
        assert_eq!(art.as_deref(), Some("test-results"));
        assert!(parse_copy_path("/tmp/file").is_none());
    }

    #[test]
    fn rate_limit_waits_stop_at_the_budget() {
        let b = WaitBudget {
            spent: std::sync::atomic::AtomicU64::new(0),
            limit: 100,
        };
        assert!(b.take(60));
        assert!(b.take(40));
        assert!(!b.take(1), "spent");
        assert!(b.take(0));
    }

    #[test]
    fn targets() {
        let t = GhaTarget::parse("gha://acme/app").unwrap();
        assert_eq!((t.owner.as_str(), t.repo.as_str()), ("acme", "app"));
        assert!(GhaTarget::parse("gha://acme").is_none());
        assert!(GhaTarget::parse("gha://acme/app/x").is_none());
        assert!(GhaTarget::parse("gha://ac me/app").is_none());
        assert!(GhaTarget::parse("gha://a/b/c/d").is_none());
        assert!(GhaTarget::parse("gha://host:0/acme/app").is_none());
        assert!(GhaTarget::parse("gha://.evil/acme/app").is_none());
        assert!(GhaTarget::parse("gha://a@b.example/acme/app").is_none());
        let ghe = GhaTarget::parse("gha://GHE.Example.com:8443/acme/app").unwrap();
        assert_eq!(ghe.shown(), "gha://ghe.example.com:8443/acme/app");
        let opts = CiLogOptions {
            token: Some("dotcom".into()),
            enterprise_token: Some("enterprise".into()),
            ..CiLogOptions::default()
        };
        let o = ghe.options(&opts);
        assert_eq!(o.api, "https://ghe.example.com:8443/api/v3");
        assert_eq!(
            o.token.as_deref(),
            Some("enterprise"),
            "GITHUB_TOKEN stays home"
        );
        let dotcom = GhaTarget::parse("gha://github.com/acme/app")
            .unwrap()
            .options(&opts);
        assert_eq!(dotcom.api, "https://api.github.com");
        assert_eq!(dotcom.token.as_deref(), Some("dotcom"));
        let cloud = GhaTarget::parse("gha://acme.ghe.com/acme/app")
            .unwrap()
            .options(&opts);
        assert_eq!(cloud.api, "https://api.acme.ghe.com");
        assert_eq!(cloud.token.as_deref(), Some("enterprise"));
        assert_eq!(
            ghe.run_url(&o.api, 7),
            "https://ghe.example.com:8443/acme/app/actions/runs/7"
        );
        assert_eq!(
            t.run_url("https://api.github.com", 7),
            "https://github.com/acme/app/actions/runs/7"
        );
        assert_eq!(
            t.run_url("https://api.acme.ghe.com", 7),
            "https://acme.ghe.com/acme/app/actions/runs/7"
        );
    }

    #[test]
    fn cleaner_strips_timestamps_and_colours_and_keeps_lines() {
        let log = "2026-10-02T10:00:00.1000000Z ##[group]Run actions/checkout@v4\n\
                   2026-10-02T10:00:01.0000000Z \x1b[36;1mecho token=abc\x1b[0m\n\
                   no stamp here\n\
                   2026-10-02T10:00:05.0000000Z \x1b[32mdone\x1b[0m\n";
        let steps = vec![
            "2026-10-02T10:00:00Z".to_string(),
            "2026-10-02T10:00:04Z".to_string(),
        ];
        let mut c = LogCleaner::new(log.as_bytes(), steps);
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(
            out,
            "##[group]Run actions/checkout@v4\necho token=abc\nno stamp here\ndone\n"
        );
        assert_eq!(c.step_lines, vec![Some(1), Some(4)]);
        let named = vec![
            Step {
                name: "Checkout".into(),
                started_at: None,
            },
            Step {
                name: "Deploy".into(),
                started_at: None,
            },
        ];
        assert_eq!(
            step_of(&named, &c.step_lines, 2).as_deref(),
            Some("Checkout")
        );
        assert_eq!(step_of(&named, &c.step_lines, 4).as_deref(), Some("Deploy"));
    }
}
