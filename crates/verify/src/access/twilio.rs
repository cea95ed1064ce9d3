//! Twilio: an account's auth token is its master credential (every API, API keys,
//! subaccounts). `GET /Accounts/{sid}.json` names the account; `GET /Accounts.json` lists the
//! subaccounts it reaches.

use base64::Engine as _;
use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

const API: &str = "https://api.twilio.com/2010-04-01";

pub(crate) fn analyse(s: &mut Session<'_>, sid: &str, token: &str) -> Result<Found, String> {
    if !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("unexpected account SID".into());
    }
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"))
    );
    let h = [("Authorization", auth.as_str())];
    let (acct, _) = s.get_json(&format!("{API}/Accounts/{sid}.json"), &h)?;
    let name = acct["friendly_name"].as_str().unwrap_or("?");
    let kind = acct["type"].as_str().unwrap_or("?");
    let status = acct["status"].as_str().unwrap_or("?");
    let mut reach = vec![format!("{kind} account, {status}")];
    let a = s.get(&format!("{API}/Accounts.json?PageSize=50"), &h)?;
    if a.status == 200 {
        let (v, _) = json_of(a)?;
        let subs: Vec<String> = v["accounts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|x| x["sid"].as_str() != Some(sid))
            .filter_map(|x| x["friendly_name"].as_str().map(str::to_string))
            .collect();
        if !subs.is_empty() {
            reach.push(counted(subs.len(), "subaccounts", &subs));
        }
    }
    Ok(Found {
        level: AccessLevel::Admin,
        identity: format!("account {sid} ({name})"),
        permissions: vec!["every API of the account (auth token)".into()],
        reach,
        exact: true,
    })
}
