//! Docker Hub: a personal access token with its Docker ID, or an organization access token with
//! the organization's name (the companion the verifier used).
//!
//! 1. **Reach.** Docker Hub's API exchanges the pair for a short-lived bearer
//!    (`POST /v2/auth/token`) and lists the namespace's repositories
//!    (`GET /v2/namespaces/{namespace}/repositories`), private ones included when visible.
//! 2. **Scope.** The registry's token service (`auth.docker.io/token`, HTTP Basic) is asked for
//!    `pull,push,delete` on the namespace's first listed repository (an unused name when it has
//!    none). The token it issues is a JWT whose `access` claim lists the actions granted, which
//!    is the access token's scope: Read-only (pull), Read & Write (push), Read, Write & Delete
//!    (delete). Nothing is pulled or pushed; asking is read-only.
//!
//! Deleting images is writing, not administering the account (access tokens cannot manage
//! members or tokens), so the highest level is can-write. An organization token's access is
//! granted per repository, so one repository's answer is a floor for it; so is an empty grant.

use base64::Engine as _;
use serde_json::{Value, json};
use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

/// The repository name the scope probe asks about when the namespace lists none (asking
/// creates nothing).
const PROBE_REPOSITORY: &str = "sprawl-access-probe";

/// The actions granted on `repository` (`namespace/name`), from the registry token's JWT.
fn granted_actions(
    s: &mut Session<'_>,
    repository: &str,
    user: &str,
    token: &str,
) -> Result<Vec<String>, String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
    let auth = format!("Basic {basic}");
    let url = format!(
        "https://auth.docker.io/token?service=registry.docker.io&scope=repository:{repository}:pull,push,delete"
    );
    let (v, _) = s.get_json(&url, &[("Authorization", &auth)])?;
    let jwt = v["token"]
        .as_str()
        .or_else(|| v["access_token"].as_str())
        .ok_or("the registry issued no token")?;
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or("the registry token is not a JWT")?;
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the registry token's claims are unreadable")?;
    Ok(claims["access"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|a| a["type"] == "repository" && a["name"] == repository)
        .flat_map(|a| a["actions"].as_array().cloned().unwrap_or_default())
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect())
}

/// A repository name as the registry's scope syntax takes it.
fn safe_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// The blast radius of a live Docker Hub token; `org` for an organization access token.
pub(crate) fn analyse(
    s: &mut Session<'_>,
    user: &str,
    token: &str,
    org: bool,
) -> Result<Found, String> {
    // The name goes into URLs: Docker IDs and organization names are lowercase letters,
    // digits, `-` and `_`.
    let ns = user.to_ascii_lowercase();
    if ns.is_empty()
        || !ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("unexpected Docker ID".into());
    }
    let mut permissions = Vec::new();
    let mut reach = Vec::new();
    let mut exact = !org;

    let body = json!({"identifier": user, "secret": token}).to_string();
    let a = s.send(
        "POST",
        "https://hub.docker.com/v2/auth/token",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        Some(&body),
    )?;
    let (v, _) = json_of(a)?;
    let bearer = v["access_token"]
        .as_str()
        .or_else(|| v["token"].as_str())
        .ok_or("Docker Hub issued no access token")?;
    let auth = format!("Bearer {bearer}");
    let mut first_repository = None;
    match s.get_json(
        &format!("https://hub.docker.com/v2/namespaces/{ns}/repositories?page_size=100"),
        &[("Authorization", &auth), ("Accept", "application/json")],
    ) {
        Ok((list, _)) => {
            let results = list["results"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let names: Vec<String> = results
                .iter()
                .filter_map(|r| r["name"].as_str())
                .filter(|n| safe_name(n))
                .map(|n| format!("{ns}/{n}"))
                .collect();
            first_repository = names.first().cloned();
            let private = results.iter().filter(|r| r["is_private"] == true).count();
            let total = list["count"].as_u64().map_or(names.len(), |c| c as usize);
            let what = if private > 0 {
                format!("repositories ({private} private on the first page)")
            } else {
                "repositories".to_string()
            };
            reach.push(counted(total, &what, &names));
        }
        Err(why) => {
            permissions.push(format!("repositories not listed: {why}"));
            exact = false;
        }
    }

    let probed = first_repository.unwrap_or_else(|| format!("{ns}/{PROBE_REPOSITORY}"));
    let actions = granted_actions(s, &probed, user, token)?;
    let has = |a: &str| actions.iter().any(|x| x == a || x == "*");
    let (level, scope) = if has("delete") {
        (AccessLevel::CanWrite, "Read, Write & Delete")
    } else if has("push") {
        (AccessLevel::CanWrite, "Read & Write")
    } else if has("pull") {
        (AccessLevel::ReadOnly, "Read-only")
    } else {
        // Nothing granted on this repository says little about others.
        exact = false;
        (
            AccessLevel::IdentityOnly,
            "nothing granted on the probed repository",
        )
    };
    permissions.insert(0, format!("scope on {probed}: {scope}"));
    permissions.insert(
        1,
        format!(
            "registry actions granted: {}",
            if actions.is_empty() {
                "none".to_string()
            } else {
                actions.join(", ")
            }
        ),
    );
    if org {
        permissions.push("organization token: access is per repository, this is a floor".into());
    }
    Ok(Found {
        level,
        identity: if org {
            format!("organization {ns}")
        } else {
            format!("Docker ID {ns}")
        },
        permissions,
        reach,
        exact,
    })
}
