//! OpenAI: an admin key lists the organisation's projects and users
//! (`/v1/organization/projects`, `/v1/organization/users`); a project, service-account or
//! legacy user key lists the models it may call (`/v1/models`), on the organisation's bill.
//! Responses name the organisation in the `openai-organization` header.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

const API: &str = "https://api.openai.com/v1";

fn names(v: &serde_json::Value, field: &str) -> Vec<String> {
    super::field_strings(&v["data"], field)
}

pub(crate) fn analyse(s: &mut Session<'_>, rule_id: &str, key: &str) -> Result<Found, String> {
    let auth = format!("Bearer {key}");
    let h = [("Authorization", auth.as_str())];
    if rule_id == "openai.api-key.admin" {
        let (projects, a) = s.get_json(&format!("{API}/organization/projects?limit=100"), &h)?;
        let org = a
            .header("openai-organization")
            .unwrap_or("the organisation")
            .to_string();
        let projects = names(&projects, "name");
        let (users, _) = s.get_json(&format!("{API}/organization/users?limit=100"), &h)?;
        let users = names(&users, "email");
        return Ok(Found {
            level: AccessLevel::Admin,
            identity: format!("admin key of {org}"),
            permissions: vec!["organisation administration: projects, users, keys, billing".into()],
            reach: vec![
                counted(projects.len(), "projects", &projects),
                format!("{} users", users.len()),
            ],
            exact: true,
        });
    }
    let a = s.get(&format!("{API}/models"), &h)?;
    let org = a.header("openai-organization").map(str::to_string);
    let project = a.header("openai-project").map(str::to_string);
    let (models, _) = json_of(a)?;
    let n = names(&models, "id").len();
    let kind = match rule_id {
        "openai.api-key.service-account" => "service-account key",
        "openai.api-key.legacy" => "user key (legacy)",
        _ => "project key",
    };
    let mut identity = kind.to_string();
    if let Some(p) = project {
        identity.push_str(&format!(" of project {p}"));
    }
    if let Some(o) = org {
        identity.push_str(&format!(" in {o}"));
    }
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity,
        permissions: vec!["calls paid models on the organisation's bill".into()],
        reach: vec![format!("{n} models")],
        exact: true,
    })
}
