//! Buildkite: `GET /v2/access-token` lists the token's scopes; `GET /v2/user` names its user
//! when `read_user` allows. `read_job_env` reads the environment (and so the secrets) of jobs.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, json_of, strings};

const API: &str = "https://api.buildkite.com/v2";

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bearer {token}");
    let h = [("Authorization", auth.as_str())];
    let (t, _) = s.get_json(&format!("{API}/access-token"), &h)?;
    let scopes = strings(&t["scopes"]);
    let identity = if scopes.iter().any(|x| x == "read_user") {
        let (u, _) = json_of(s.get(&format!("{API}/user"), &h)?)?;
        format!("user {}", u["name"].as_str().unwrap_or("?"))
    } else {
        "API token (user not readable)".to_string()
    };
    let mut reach = Vec::new();
    if scopes.iter().any(|x| x == "read_job_env") {
        reach.push("reads job environments: the secrets pipelines use".into());
    }
    let level = if scopes
        .iter()
        .any(|x| x == "write_teams" || x == "write_organizations")
    {
        AccessLevel::Admin
    } else if scopes
        .iter()
        .any(|x| x.starts_with("write_") || x == "graphql")
    {
        AccessLevel::CanWrite
    } else if scopes.iter().any(|x| x.starts_with("read_")) {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    Ok(Found {
        level,
        identity,
        permissions: scopes,
        reach,
        exact: true,
    })
}
