//! Mapbox: `GET /tokens/v2?access_token=` says whose token it is, public (`pk`) or secret
//! (`sk`), and its id (`authorization`); the user's token list (`GET /tokens/v2/{user}`, which
//! needs `tokens:read`) gives that token's scopes. Without the list the level is a floor.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session};

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let q = crate::url_encode(token);
    let (v, _) = s.get_json(
        &format!("https://api.mapbox.com/tokens/v2?access_token={q}"),
        &[],
    )?;
    let t = &v["token"];
    let user = t["user"].as_str().unwrap_or("").to_string();
    let id = t["authorization"].as_str().unwrap_or("");
    let mut scopes: Option<Vec<String>> = None;
    if !user.is_empty()
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        let a = s.get(
            &format!("https://api.mapbox.com/tokens/v2/{user}?access_token={q}"),
            &[],
        )?;
        if a.status == 200 {
            let list: serde_json::Value =
                serde_json::from_str(&a.body).map_err(|e| format!("not JSON: {e}"))?;
            scopes = list
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .find(|x| x["id"].as_str() == Some(id))
                .map(|x| {
                    x["scopes"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                });
        }
    }
    let exact = scopes.is_some();
    let scopes = scopes.unwrap_or_default();
    let level = if scopes.iter().any(|x| x == "tokens:write") {
        AccessLevel::Admin
    } else if scopes.iter().any(|x| x.ends_with(":write")) {
        AccessLevel::CanWrite
    } else if !scopes.is_empty() || t["usage"].as_str() == Some("sk") {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    let mut reach = Vec::new();
    if !exact {
        reach.push("scopes not readable (the token lacks tokens:read)".into());
    }
    Ok(Found {
        level,
        identity: format!(
            "{} token of user {}",
            t["usage"].as_str().unwrap_or("?"),
            if user.is_empty() { "?" } else { &user }
        ),
        permissions: scopes,
        reach,
        exact,
    })
}
