//! GitLab: `GET /personal_access_tokens/self` (the token's scopes), `GET /user` (who, and
//! `is_admin` for instance administrators), `GET /groups?min_access_level=50` (groups it owns).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

const API: &str = "https://gitlab.com/api/v4";

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let h = [("PRIVATE-TOKEN", token)];
    let (pat, _) = s.get_json(&format!("{API}/personal_access_tokens/self"), &h)?;
    let scopes = super::strings(&pat["scopes"]);
    let a = s.get(&format!("{API}/user"), &h)?;
    let (identity, is_admin) = if a.status == 200 {
        let (u, _) = json_of(a)?;
        let name = u["username"].as_str().unwrap_or("?");
        let admin = u["is_admin"].as_bool() == Some(true);
        let bot = u["bot"].as_bool() == Some(true);
        (
            format!(
                "{} {name}{}",
                if bot { "bot" } else { "user" },
                if admin {
                    " (instance administrator)"
                } else {
                    ""
                }
            ),
            admin,
        )
    } else {
        (
            format!("user id {} (profile not readable)", pat["user_id"]),
            false,
        )
    };
    let mut reach = Vec::new();
    if let Some(expires) = pat["expires_at"].as_str() {
        reach.push(format!("expires {expires}"));
    }
    let a = s.get(
        &format!("{API}/groups?min_access_level=50&per_page=100"),
        &h,
    )?;
    let mut owned = Vec::new();
    if a.status == 200 {
        let total = a.header("x-total").and_then(|t| t.parse::<usize>().ok());
        let (v, _) = json_of(a)?;
        owned = super::field_strings(&v, "full_path");
        let n = total.unwrap_or(owned.len());
        if n > 0 {
            reach.push(counted(n, "groups it owns", &owned));
        }
    }
    let has = |names: &[&str]| scopes.iter().any(|x| names.contains(&x.as_str()));
    let api = has(&["api"]);
    let level = if has(&["sudo", "admin_mode"]) || (is_admin && api) || (!owned.is_empty() && api) {
        AccessLevel::Admin
    } else if api
        || has(&[
            "write_repository",
            "write_registry",
            "write_package_registry",
            "create_runner",
            "manage_runner",
            "k8s_proxy",
            "ai_features",
        ])
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
