//! Datadog: an API key alone submits metrics, logs and events to its organisation
//! (`GET /api/v1/validate`); reading data needs an application key beside it, which acts as
//! its owner (all their permissions, or its scopes).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session};

pub(crate) fn analyse(s: &mut Session<'_>, key: &str) -> Result<Found, String> {
    let (v, _) = s.get_json(
        "https://api.datadoghq.com/api/v1/validate",
        &[("DD-API-KEY", key)],
    )?;
    if v["valid"].as_bool() != Some(true) {
        return Err("validate: not valid".into());
    }
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity: "API key of a Datadog organisation (US1 site)".into(),
        permissions: vec!["submits metrics, logs and events".into()],
        reach: Vec::new(),
        exact: true,
    })
}

/// Scopes that manage keys, users or roles: whoever holds them can mint more access.
const ADMIN_SCOPES: &[&str] = &[
    "api_keys_write",
    "user_app_keys",
    "org_app_keys_write",
    "user_access_manage",
    "user_access_invite",
    "org_management",
];

/// The level a list of application-key scopes grants.
fn scopes_level(scopes: &[String]) -> AccessLevel {
    if scopes.iter().any(|s| ADMIN_SCOPES.contains(&s.as_str())) {
        AccessLevel::Admin
    } else if scopes.iter().any(|s| {
        s.ends_with("_write")
            || s.contains("manage")
            || s.ends_with("_share")
            || s.contains("delete")
    }) {
        AccessLevel::CanWrite
    } else if scopes.is_empty() {
        AccessLevel::IdentityOnly
    } else {
        AccessLevel::ReadOnly
    }
}

/// A Datadog application key (with the API key beside it) acts as the user who owns it, with
/// all of that user's permissions unless it was created with scopes. The current user's keys
/// (`GET /api/v2/current_user/application_keys`) are matched to it by their last four
/// characters, which gives its name and scopes.
pub(crate) fn analyse_app_key(
    s: &mut Session<'_>,
    api_key: &str,
    app_key: &str,
) -> Result<Found, String> {
    let last4: String = app_key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let a = s.get(
        "https://api.datadoghq.com/api/v2/current_user/application_keys?page%5Bsize%5D=100",
        &[
            ("DD-API-KEY", api_key),
            ("DD-APPLICATION-KEY", app_key),
            ("Accept", "application/json"),
        ],
    )?;
    if a.status == 403 {
        // The key may not list its owner's keys (it lacks `user_app_keys`): it is scoped, and
        // what else it may do is not said.
        return Ok(Found {
            level: AccessLevel::IdentityOnly,
            identity: format!("application key …{last4} of a Datadog user (US1 site)"),
            permissions: vec![
                "scoped: may not list its owner's keys, so its scopes are not readable".into(),
            ],
            reach: Vec::new(),
            exact: false,
        });
    }
    let (v, _) = super::json_of(a)?;
    let entry = v["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .find(|k| k["attributes"]["last4"].as_str() == Some(last4.as_str()));
    let Some(entry) = entry else {
        return Ok(Found {
            level: AccessLevel::ReadOnly,
            identity: format!("application key …{last4} of a Datadog user (US1 site)"),
            permissions: vec!["not among its owner's first 100 keys: scopes not read".into()],
            reach: Vec::new(),
            exact: false,
        });
    };
    let name = entry["attributes"]["name"].as_str().unwrap_or("?");
    let identity = format!("application key {name} (…{last4}) of a Datadog user (US1 site)");
    match entry["attributes"]["scopes"].as_array() {
        Some(_) => {
            let scopes = super::strings(&entry["attributes"]["scopes"]);
            Ok(Found {
                level: scopes_level(&scopes),
                identity,
                permissions: vec![format!("scopes: {}", scopes.join(", "))],
                reach: Vec::new(),
                exact: true,
            })
        }
        // No scopes: every permission of the owner, whose role the key may not read.
        None => Ok(Found {
            level: AccessLevel::CanWrite,
            identity,
            permissions: vec!["unscoped: every permission of the user who owns it".into()],
            reach: Vec::new(),
            exact: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_levels() {
        let l = |s: &[&str]| scopes_level(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            l(&["dashboards_read", "monitors_read"]),
            AccessLevel::ReadOnly
        );
        assert_eq!(
            l(&["dashboards_read", "monitors_write"]),
            AccessLevel::CanWrite
        );
        assert_eq!(l(&["user_access_manage"]), AccessLevel::Admin);
        assert_eq!(l(&[]), AccessLevel::IdentityOnly);
    }
}
