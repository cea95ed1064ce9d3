//! Organisation enumeration for `sprawl audit`: the repositories of a GitHub organisation or a
//! GitLab group (subgroups included) through their REST APIs, following pagination, waiting
//! out rate limits (bounded), with the base URL configurable for GitHub Enterprise and
//! self-managed GitLab. Tokens come from the environment (`GITHUB_TOKEN`, `GITLAB_TOKEN`).

use std::time::Duration;

use serde_json::Value;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("sprawl/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// One page: JSON body and the headers pagination and rate limits need.
struct Page {
    items: Vec<Value>,
    link: Option<String>,
    next_page: Option<String>,
}

fn get(
    agent: &ureq::Agent,
    url: &str,
    auth: Option<(&str, String)>,
    what: &str,
) -> Result<Page, String> {
    for attempt in 0..3 {
        let mut req = agent.get(url).header("Accept", "application/json");
        if let Some((name, value)) = &auth {
            req = req.header(*name, value.as_str());
        }
        let mut resp = req
            .call()
            .map_err(|e| format!("{what}: cannot reach {url}: {e}"))?;
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let remaining = header("x-ratelimit-remaining").or_else(|| header("ratelimit-remaining"));
        let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
        let reset = header("x-ratelimit-reset").or_else(|| header("ratelimit-reset"));
        let link = header("link");
        let next_page = header("x-next-page").filter(|p| !p.is_empty());
        match status {
            200 => {
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 << 20)
                    .read_to_string()
                    .map_err(|e| format!("{what}: {url}: {e}"))?;
                let v: Value = serde_json::from_str(&body)
                    .map_err(|e| format!("{what}: {url}: not JSON: {e}"))?;
                let items = v
                    .as_array()
                    .cloned()
                    .ok_or_else(|| format!("{what}: {url}: not a list"))?;
                return Ok(Page {
                    items,
                    link,
                    next_page,
                });
            }
            401 => return Err(format!("{what}: {url}: the token was refused (401)")),
            403 | 429
                if (remaining.as_deref() == Some("0") || retry_after.is_some()) && attempt < 2 =>
            {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let wait = retry_after
                    .or_else(|| {
                        reset
                            .and_then(|r| r.parse::<u64>().ok())
                            .map(|r| r.saturating_sub(now))
                    })
                    .unwrap_or(5);
                if wait > 300 {
                    return Err(format!("{what}: rate limited for {wait} s more: try later"));
                }
                eprintln!("{what}: rate limited, waiting {wait} s");
                std::thread::sleep(Duration::from_secs(wait));
            }
            404 => return Err(format!("{what}: {url}: not found (404)")),
            other => return Err(format!("{what}: {url}: answered {other}")),
        }
    }
    Err(format!("{what}: {url}: still rate limited"))
}

/// `<https://…?page=2>; rel="next"` → the next URL.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Clone URLs of every repository of a GitHub organisation.
pub fn github_org(api: &str, org: &str) -> Result<Vec<String>, String> {
    let agent = agent();
    let auth = std::env::var("GITHUB_TOKEN")
        .ok()
        .map(|t| ("Authorization", format!("Bearer {t}")));
    let mut url = format!(
        "{}/orgs/{org}/repos?per_page=100&type=all",
        api.trim_end_matches('/')
    );
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = get(&agent, &url, auth.clone(), &format!("GitHub org {org}"))?;
        out.extend(
            page.items
                .iter()
                .filter_map(|r| r["clone_url"].as_str().map(str::to_string)),
        );
        match page.link.as_deref().and_then(next_link) {
            Some(n) => url = n,
            None => break,
        }
    }
    Ok(out)
}

/// Clone URLs of every project of a GitLab group and its subgroups.
pub fn gitlab_group(base: &str, group: &str) -> Result<Vec<String>, String> {
    let agent = agent();
    let auth = std::env::var("GITLAB_TOKEN")
        .ok()
        .map(|t| ("PRIVATE-TOKEN", t));
    let encoded: String = group.replace('/', "%2F");
    let first = format!(
        "{}/api/v4/groups/{encoded}/projects?include_subgroups=true&per_page=100",
        base.trim_end_matches('/')
    );
    let mut out = Vec::new();
    let mut page_no = String::from("1");
    for _ in 0..1000 {
        let url = format!("{first}&page={page_no}");
        let page = get(&agent, &url, auth.clone(), &format!("GitLab group {group}"))?;
        out.extend(
            page.items
                .iter()
                .filter_map(|r| r["http_url_to_repo"].as_str().map(str::to_string)),
        );
        match page.next_page {
            Some(n) => page_no = n,
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn link_headers() {
        let l = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(l).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }
}
