//! CircleCI: `GET /api/v2/me` names the user; `/me/collaborations` lists the organisations
//! whose projects a personal token reaches (trigger pipelines, read settings, add SSH keys).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted};

const API: &str = "https://circleci.com/api/v2";

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let h = [("Circle-Token", token)];
    let (me, _) = s.get_json(&format!("{API}/me"), &h)?;
    let (orgs, _) = s.get_json(&format!("{API}/me/collaborations"), &h)?;
    let names = super::field_strings(&orgs, "name");
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity: format!("user {}", me["login"].as_str().unwrap_or("?")),
        permissions: vec!["acts as the user: pipelines, project settings, checkout keys".into()],
        reach: vec![counted(names.len(), "organisations", &names)],
        exact: true,
    })
}
