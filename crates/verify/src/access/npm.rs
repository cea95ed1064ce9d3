//! npm: `GET /-/whoami` names the user; the registry's search lists the packages they
//! maintain. npm does not say whether a token is read-only, so a user who maintains packages
//! is counted as able to publish them (the worst case a leaked publish token allows).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted};

const REGISTRY: &str = "https://registry.npmjs.org";

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bearer {token}");
    let (who, _) = s.get_json(&format!("{REGISTRY}/-/whoami"), &[("Authorization", &auth)])?;
    let user = who["username"].as_str().unwrap_or("?").to_string();
    if !user
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err("unexpected user name".into());
    }
    // The search is public: the token is not sent with it.
    let (found, _) = s.get_json(
        &format!("{REGISTRY}/-/v1/search?text=maintainer:{user}&size=100"),
        &[],
    )?;
    let names: Vec<String> = found["objects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o["package"]["name"].as_str().map(str::to_string))
        .collect();
    let total = found["total"].as_u64().map_or(names.len(), |t| t as usize);
    let mut reach = Vec::new();
    let level = if total > 0 {
        reach.push(counted(total, "packages it maintains", &names));
        AccessLevel::CanWrite
    } else {
        AccessLevel::ReadOnly
    };
    Ok(Found {
        level,
        identity: format!("user {user}"),
        permissions: vec!["token type (publish or read-only) not reported by npm".into()],
        reach,
        exact: false,
    })
}
