//! SendGrid: `GET /v3/scopes` lists the API key's scopes; `GET /v3/user/username` names the
//! account when the key may read it.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, json_of, strings};

const API: &str = "https://api.sendgrid.com/v3";

pub(crate) fn analyse(s: &mut Session<'_>, key: &str) -> Result<Found, String> {
    let auth = format!("Bearer {key}");
    let h = [("Authorization", auth.as_str())];
    let (v, _) = s.get_json(&format!("{API}/scopes"), &h)?;
    let scopes = strings(&v["scopes"]);
    let a = s.get(&format!("{API}/user/username"), &h)?;
    let identity = if a.status == 200 {
        let (u, _) = json_of(a)?;
        format!("account {}", u["username"].as_str().unwrap_or("?"))
    } else {
        "API key (account name not readable)".to_string()
    };
    let has = |p: &str| scopes.iter().any(|x| x.starts_with(p));
    let level = if has("api_keys.create") || has("teammates.create") || has("subusers.create") {
        AccessLevel::Admin
    } else if has("mail.send")
        || scopes
            .iter()
            .any(|x| x.ends_with(".create") || x.ends_with(".update") || x.ends_with(".delete"))
    {
        AccessLevel::CanWrite
    } else if scopes.iter().any(|x| x.ends_with(".read")) {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    let reach = vec![format!(
        "{} scopes{}",
        scopes.len(),
        if has("mail.send") {
            ", sends mail as the account"
        } else {
            ""
        }
    )];
    Ok(Found {
        level,
        identity,
        permissions: scopes,
        reach,
        exact: true,
    })
}
