//! GitHub: `GET /user` (identity; a classic token's scopes in `X-OAuth-Scopes`), then
//! `GET /user/memberships/orgs` (every organisation and the role in it, paged by `Link`).
//! Fine-grained tokens carry no scope header: their permissions are not readable.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of, scope_list};

const API: &str = "https://api.github.com";

/// Scopes that administer an organisation, enterprise or the user's repositories.
const ADMIN: &[&str] = &[
    "admin:org",
    "admin:enterprise",
    "admin:org_hook",
    "delete_repo",
    "site_admin",
    "admin:gpg_key",
    "admin:public_key",
];
/// Scopes that write.
const WRITE: &[&str] = &[
    "repo",
    "public_repo",
    "workflow",
    "write:packages",
    "delete:packages",
    "write:org",
    "write:repo_hook",
    "admin:repo_hook",
    "gist",
    "user",
    "codespace",
    "project",
];

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bearer {token}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ];
    let (user, a) = s.get_json(&format!("{API}/user"), &h)?;
    let login = user["login"].as_str().unwrap_or("?").to_string();
    let kind = user["type"].as_str().unwrap_or("User").to_ascii_lowercase();
    let site_admin = user["site_admin"].as_bool() == Some(true);
    let scope_header = a.header("x-oauth-scopes").map(str::to_string);
    let scopes = scope_list(scope_header.as_deref());
    let mut permissions = scopes.clone();
    if scope_header.is_none() {
        permissions.push("fine-grained or app token: permissions not reported by the API".into());
    }
    let public = user["public_repos"].as_u64().unwrap_or(0);
    let private = user["total_private_repos"].as_u64();
    let mut reach = vec![match private {
        Some(p) => format!(
            "{} repositories ({public} public, {p} private)",
            public.saturating_add(p)
        ),
        None => format!("{public} public repositories (private ones not visible to this token)"),
    }];
    // Organisations and the role in each (needs read:org; a 403 or 404 says it cannot see them).
    let mut orgs = Vec::new();
    let mut admin_of = Vec::new();
    let mut url = Some(format!(
        "{API}/user/memberships/orgs?state=active&per_page=100"
    ));
    while let Some(u) = url.take() {
        let a = s.get(&u, &h)?;
        if matches!(a.status, 401 | 403 | 404) {
            reach.push("organisation memberships not readable by this token".into());
            break;
        }
        let (v, a) = json_of(a)?;
        for m in v.as_array().map(Vec::as_slice).unwrap_or_default() {
            let org = m["organization"]["login"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            if m["role"].as_str() == Some("admin") {
                admin_of.push(org.clone());
            }
            orgs.push(org);
        }
        // Follow a page only on the API host: the token goes with it.
        url = next_link(a.header("link")).filter(|n| n.starts_with(&format!("{API}/")));
    }
    if !orgs.is_empty() || !admin_of.is_empty() {
        reach.push(counted(orgs.len(), "organisations", &orgs));
    }
    if !admin_of.is_empty() {
        reach.push(counted(
            admin_of.len(),
            "organisations it administers",
            &admin_of,
        ));
    }
    let has = |list: &[&str]| scopes.iter().any(|x| list.contains(&x.as_str()));
    let writes = has(WRITE);
    let level = if site_admin || has(ADMIN) || (!admin_of.is_empty() && writes) {
        AccessLevel::Admin
    } else if writes {
        AccessLevel::CanWrite
    } else if scope_header.is_none() || !scopes.is_empty() {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    let mut identity = format!("{kind} {login}");
    if site_admin {
        identity.push_str(" (site administrator)");
    }
    Ok(Found {
        level,
        identity,
        permissions,
        reach,
        // Fine-grained and app tokens do not report their permissions.
        exact: scope_header.is_some(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_links() {
        let link = r#"<https://api.github.com/user/memberships/orgs?page=2>; rel="next", <https://api.github.com/user/memberships/orgs?page=5>; rel="last""#;
        assert_eq!(
            super::next_link(Some(link)).as_deref(),
            Some("https://api.github.com/user/memberships/orgs?page=2")
        );
        assert_eq!(super::next_link(Some(r#"<x>; rel="prev""#)), None);
    }
}
