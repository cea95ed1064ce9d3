//! CI logs of GitLab: the jobs of a project's newest pipelines (`GET /projects/:id/jobs`,
//! paged by `X-Next-Page`), each job's trace (`GET /projects/:id/jobs/:job_id/trace`) and
//! artifacts archive (`GET /projects/:id/jobs/:job_id/artifacts`), with `PRIVATE-TOKEN` from
//! `GITLAB_TOKEN` and the base URL configurable for self-managed GitLab. A redirect (object
//! storage) is followed by hand without the token. Traces go through
//! [`crate::cilogs::LogCleaner`], which also removes GitLab's section markers and records where
//! each section (`step_script`, `after_script`, …) starts.

use std::io::Read;

use serde_json::Value;

use crate::cilogs::{CiLogOptions, LogError, header, shown};

/// A `gitlab-ci://GROUP[/SUBGROUP…]/PROJECT` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabTarget {
    /// The project's full path.
    pub path: String,
}

impl GitLabTarget {
    /// Parses `gitlab-ci://GROUP/PROJECT`.
    pub fn parse(text: &str) -> Option<GitLabTarget> {
        let path = text.strip_prefix("gitlab-ci://")?.trim_end_matches('/');
        let ok = path.contains('/')
            && path.split('/').all(|p| {
                !p.is_empty()
                    && p != ".."
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        ok.then(|| GitLabTarget {
            path: path.to_string(),
        })
    }

    /// `gitlab-ci://PATH`.
    pub fn shown(&self) -> String {
        format!("gitlab-ci://{}", self.path)
    }

    fn id(&self) -> String {
        self.path.replace('/', "%2F")
    }
}

/// One job.
#[derive(Debug, Clone)]
pub struct GlJob {
    /// Job id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: String,
    /// Pipeline id.
    pub pipeline: u64,
    /// When it started.
    pub started_at: String,
    /// Its page.
    pub url: String,
    /// It has an artifacts archive.
    pub has_archive: bool,
    /// The archive's size in bytes (for the archive walker's ratio guard).
    pub archive_size: u64,
    /// The job was erased (trace and artifacts deleted).
    pub erased: bool,
}

/// The GitLab client.
pub struct GitLabClient {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
    waits: crate::cilogs::WaitBudget,
}

impl GitLabClient {
    /// A client for `base` (`https://gitlab.com`) with `GITLAB_TOKEN`.
    pub fn new(base: &str, opts: &CiLogOptions) -> Result<GitLabClient, String> {
        Ok(GitLabClient {
            agent: crate::cilogs::agent(opts)?,
            base: base.trim_end_matches('/').to_string(),
            token: std::env::var("GITLAB_TOKEN").ok().filter(|t| !t.is_empty()),
            waits: crate::cilogs::WaitBudget::default(),
        })
    }

    fn get(&self, url: &str, with_token: bool) -> Result<ureq::http::Response<ureq::Body>, String> {
        for _ in 0..4 {
            let mut req = self.agent.get(url);
            if with_token && let Some(t) = &self.token {
                req = req.header("PRIVATE-TOKEN", t.as_str());
            }
            let resp = req.call().map_err(|e| {
                format!(
                    "{}: {}",
                    shown(url),
                    crate::cilogs::without_queries(&e.to_string())
                )
            })?;
            if resp.status().as_u16() != 429 {
                return Ok(resp);
            }
            self.waits.wait_out(&resp, url)?;
        }
        Err(format!("{}: rate limited, gave up", shown(url)))
    }

    /// The jobs of the newest `pipelines` pipelines (started on or after `since`, a
    /// `YYYY-MM-DD` date, when given), newest first.
    pub fn jobs(
        &self,
        t: &GitLabTarget,
        pipelines: usize,
        since: Option<&str>,
    ) -> Result<Vec<GlJob>, String> {
        let mut out = Vec::new();
        let mut seen: Vec<u64> = Vec::new();
        let mut page = Some("1".to_string());
        while let Some(p) = page.take() {
            let url = format!(
                "{}/api/v4/projects/{}/jobs?per_page=100&page={p}",
                self.base,
                t.id()
            );
            let mut resp = self.get(&url, true)?;
            let status = resp.status().as_u16();
            let next = header(&resp, "x-next-page")
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let body = resp
                .body_mut()
                .with_config()
                .limit(16 << 20)
                .read_to_string()
                .map_err(|e| format!("{}: {e}", shown(&url)))?;
            if status != 200 {
                return Err(format!("{}: HTTP {status}", shown(&url)));
            }
            let v: Value = serde_json::from_str(&body)
                .map_err(|e| format!("{}: not JSON: {e}", shown(&url)))?;
            let page_jobs = v.as_array().map(Vec::as_slice).unwrap_or_default();
            if page_jobs.is_empty() {
                break;
            }
            for j in page_jobs {
                let (Some(id), Some(pipeline)) = (j["id"].as_u64(), j["pipeline"]["id"].as_u64())
                else {
                    continue;
                };
                // Jobs come newest first: the first one started before `since` ends the list.
                let started = j["started_at"].as_str().unwrap_or("");
                if let Some(d) = since
                    && !started.is_empty()
                    && started.get(..10).is_some_and(|day| day < d)
                {
                    return Ok(out);
                }
                if !seen.contains(&pipeline) {
                    if seen.len() >= pipelines {
                        return Ok(out);
                    }
                    seen.push(pipeline);
                }
                out.push(GlJob {
                    id,
                    name: j["name"].as_str().unwrap_or("?").to_string(),
                    stage: j["stage"].as_str().unwrap_or("").to_string(),
                    pipeline,
                    started_at: j["started_at"].as_str().unwrap_or("").to_string(),
                    url: j["web_url"].as_str().unwrap_or("").to_string(),
                    has_archive: j["artifacts"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["file_type"] == "archive")),
                    erased: !j["erased_at"].is_null(),
                    archive_size: j["artifacts"]
                        .as_array()
                        .and_then(|a| a.iter().find(|x| x["file_type"] == "archive"))
                        .and_then(|x| x["size"].as_u64())
                        .unwrap_or(0),
                });
            }
            page = next;
        }
        Ok(out)
    }

    /// Erases a job: its trace and artifacts (`POST /projects/:id/jobs/:job_id/erase`; 201
    /// when done). The HTTP status.
    pub fn erase(&self, t: &GitLabTarget, job: u64) -> Result<u16, String> {
        let url = format!("{}/api/v4/projects/{}/jobs/{job}/erase", self.base, t.id());
        let mut req = self.agent.post(&url);
        if let Some(tok) = &self.token {
            req = req.header("PRIVATE-TOKEN", tok.as_str());
        }
        req.send_empty()
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{}: {e}", shown(&url)))
    }

    /// A job's trace as a stream.
    pub fn trace(&self, t: &GitLabTarget, job: u64) -> Result<Box<dyn Read + Send>, LogError> {
        self.download(&format!(
            "{}/api/v4/projects/{}/jobs/{job}/trace",
            self.base,
            t.id()
        ))
    }

    /// A job's artifacts archive (zip) as a stream.
    pub fn artifacts(&self, t: &GitLabTarget, job: u64) -> Result<Box<dyn Read + Send>, LogError> {
        self.download(&format!(
            "{}/api/v4/projects/{}/jobs/{job}/artifacts",
            self.base,
            t.id()
        ))
    }

    fn download(&self, url: &str) -> Result<Box<dyn Read + Send>, LogError> {
        let mut resp = self.get(url, true).map_err(LogError::Other)?;
        let mut hops = 0;
        loop {
            match resp.status().as_u16() {
                200 => {
                    return Ok(Box::new(
                        resp.into_body().into_with_config().limit(u64::MAX).reader(),
                    ));
                }
                301 | 302 | 303 | 307 | 308 if hops < 3 => {
                    let loc = header(&resp, "location").ok_or_else(|| {
                        LogError::Other(format!("{}: redirect without Location", shown(url)))
                    })?;
                    hops += 1;
                    let loc = crate::cilogs::absolute(&loc, url);
                    // Object storage gets no token: the URL is signed.
                    resp = self.get(&loc, false).map_err(LogError::Other)?;
                }
                404 | 410 => return Err(LogError::Expired),
                s => return Err(LogError::Other(format!("{}: HTTP {s}", shown(url)))),
            }
        }
    }
}

/// The target and job of a stored GitLab copy path (`gitlab-ci://G/P job ID …`).
pub fn parse_copy_path(path: &str) -> Option<(GitLabTarget, u64)> {
    let (target, rest) = path.split_once(" job ")?;
    let t = GitLabTarget::parse(target)?;
    let id = rest.split(' ').next()?.parse().ok()?;
    Some((t, id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_paths() {
        let (t, id) =
            super::parse_copy_path("gitlab-ci://acme/api job 11 deploy (pipeline 5)").unwrap();
        assert_eq!((t.path.as_str(), id), ("acme/api", 11));
        let (_, id) =
            super::parse_copy_path("gitlab-ci://acme/api job 12 artifact x.zip!/a").unwrap();
        assert_eq!(id, 12);
        assert!(super::parse_copy_path("gha://acme/app run 1 job x").is_none());
    }

    #[test]
    fn targets() {
        let t = super::GitLabTarget::parse("gitlab-ci://acme/platform/api").unwrap();
        assert_eq!(t.id(), "acme%2Fplatform%2Fapi");
        assert!(super::GitLabTarget::parse("gitlab-ci://acme").is_none());
        assert!(super::GitLabTarget::parse("gitlab-ci://acme/../x").is_none());
    }
}
