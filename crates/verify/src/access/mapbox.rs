//! Mapbox: `GET /tokens/v2?access_token=` describes the token itself: its user, whether it is
//! public (`pk`) or secret (`sk`), and its scopes.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session};

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let url = format!(
        "https://api.mapbox.com/tokens/v2?access_token={}",
        crate::url_encode(token)
    );
    let (v, _) = s.get_json(&url, &[])?;
    let t = &v["token"];
    let scopes: Vec<String> = t["scopes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    let level = if scopes
        .iter()
        .any(|x| x == "tokens:write" || x.starts_with("scopes:"))
    {
        AccessLevel::Admin
    } else if scopes.iter().any(|x| x.ends_with(":write")) {
        AccessLevel::CanWrite
    } else if scopes.is_empty() {
        AccessLevel::IdentityOnly
    } else {
        AccessLevel::ReadOnly
    };
    Ok(Found {
        level,
        identity: format!(
            "{} token of user {}",
            t["usage"].as_str().unwrap_or("?"),
            t["user"].as_str().unwrap_or("?")
        ),
        permissions: scopes,
        reach: Vec::new(),
    })
}
