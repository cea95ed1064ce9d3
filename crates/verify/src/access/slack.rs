//! Slack: `auth.test` says who the token acts as in which workspace; the scopes come in the
//! `X-OAuth-Scopes` response header.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, json_of, scope_list};

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bearer {token}");
    let a = s.get(
        "https://slack.com/api/auth.test",
        &[("Authorization", &auth)],
    )?;
    let scopes = scope_list(a.header("x-oauth-scopes"));
    let (v, _) = json_of(a)?;
    if v["ok"].as_bool() != Some(true) {
        return Err(format!(
            "auth.test: {}",
            v["error"].as_str().unwrap_or("not ok")
        ));
    }
    let team = v["team"].as_str().unwrap_or("?");
    let user = v["user"].as_str().unwrap_or("?");
    let identity = match v["bot_id"].as_str() {
        Some(bot) => format!("bot {user} ({bot}) in workspace {team}"),
        None => format!("user {user} in workspace {team}"),
    };
    let mut reach = Vec::new();
    if let Some(url) = v["url"].as_str() {
        reach.push(format!("workspace {url}"));
    }
    if v["is_enterprise_install"].as_bool() == Some(true) {
        reach.push("installed org-wide (Enterprise Grid)".into());
    }
    let level = if scopes.iter().any(|x| x.starts_with("admin")) {
        AccessLevel::Admin
    } else if scopes
        .iter()
        .any(|x| x.contains(":write") || x == "client" || x == "post" || x == "bot")
    {
        AccessLevel::CanWrite
    } else if scopes
        .iter()
        .any(|x| x.contains(":read") || x.contains(":history") || x == "read")
    {
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
