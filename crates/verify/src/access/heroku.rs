//! Heroku: `GET /account` names the user; `GET /apps` lists the apps the key reaches. An
//! account API key acts as the user on every app (config vars, deploys, add-ons).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted};

const API: &str = "https://api.heroku.com";

pub(crate) fn analyse(s: &mut Session<'_>, key: &str) -> Result<Found, String> {
    let auth = format!("Bearer {key}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Accept", "application/vnd.heroku+json; version=3"),
    ];
    let (account, _) = s.get_json(&format!("{API}/account"), &h)?;
    let (apps, _) = s.get_json(&format!("{API}/apps"), &h)?;
    let names = super::field_strings(&apps, "name");
    Ok(Found {
        level: AccessLevel::Admin,
        identity: format!("user {}", account["email"].as_str().unwrap_or("?")),
        permissions: vec!["every app of the account: config vars, releases, add-ons".into()],
        reach: vec![counted(names.len(), "apps", &names)],
        exact: true,
    })
}
