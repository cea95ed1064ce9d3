//! Anthropic: an admin key reads its organisation (`/v1/organizations/me`), users and
//! workspaces; an API key lists the models it may call (`/v1/models`), on the organisation's
//! bill (the organisation id comes in the `anthropic-organization-id` header).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

const API: &str = "https://api.anthropic.com/v1";

pub(crate) fn analyse(s: &mut Session<'_>, rule_id: &str, key: &str) -> Result<Found, String> {
    let h = [("x-api-key", key), ("anthropic-version", "2023-06-01")];
    let list = |v: &serde_json::Value, field: &str| super::field_strings(&v["data"], field);
    if rule_id == "anthropic.admin-key" {
        let (org, _) = s.get_json(&format!("{API}/organizations/me"), &h)?;
        let (users, _) = s.get_json(&format!("{API}/organizations/users?limit=100"), &h)?;
        let (spaces, _) = s.get_json(&format!("{API}/organizations/workspaces?limit=100"), &h)?;
        let spaces = list(&spaces, "name");
        return Ok(Found {
            level: AccessLevel::Admin,
            identity: format!(
                "admin key of organisation {} ({})",
                org["name"].as_str().unwrap_or("?"),
                org["id"].as_str().unwrap_or("?")
            ),
            permissions: vec!["organisation administration: members, workspaces, API keys".into()],
            reach: vec![
                format!("{} users", list(&users, "id").len()),
                counted(spaces.len(), "workspaces", &spaces),
            ],
            exact: true,
        });
    }
    let a = s.get(&format!("{API}/models"), &h)?;
    let org = a.header("anthropic-organization-id").map(str::to_string);
    let (models, _) = json_of(a)?;
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity: match org {
            Some(o) => format!("API key of organisation {o}"),
            None => "API key".to_string(),
        },
        permissions: vec!["calls paid models on the organisation's bill".into()],
        reach: vec![format!("{} models", list(&models, "id").len())],
        exact: true,
    })
}
