//! Stripe: `GET /v1/account` names the account. A secret key (`sk_`) is full API access; a
//! restricted key (`rk_`) is probed with list reads (balance, customers, charges): what it
//! may write cannot be seen without writing, which this never does.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, json_of};

const API: &str = "https://api.stripe.com/v1";

pub(crate) fn analyse(s: &mut Session<'_>, key: &str) -> Result<Found, String> {
    let auth = format!("Bearer {key}");
    let h = [("Authorization", auth.as_str())];
    let live = key.contains("_live_");
    let mut reach = vec![if live {
        "live mode: real payments, customers and payouts".to_string()
    } else {
        "test mode".to_string()
    }];
    let a = s.get(&format!("{API}/account"), &h)?;
    let identity = if a.status == 200 {
        let (v, _) = json_of(a)?;
        let name = v["business_profile"]["name"]
            .as_str()
            .or(v["settings"]["dashboard"]["display_name"].as_str())
            .unwrap_or("");
        format!(
            "account {}{}",
            v["id"].as_str().unwrap_or("?"),
            if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            }
        )
    } else {
        "account not readable with this key".to_string()
    };
    if key.starts_with("sk_") {
        return Ok(Found {
            level: AccessLevel::Admin,
            identity,
            permissions: vec!["every API resource (secret key)".into()],
            reach,
            exact: true,
        });
    }
    let mut readable = Vec::new();
    for (what, path) in [
        ("balance", "/balance"),
        ("customers", "/customers?limit=1"),
        ("charges", "/charges?limit=1"),
    ] {
        if s.get(&format!("{API}{path}"), &h)?.status == 200 {
            readable.push(format!("read {what}"));
        }
    }
    reach.push("restricted key: its write permissions are not visible to read-only calls".into());
    Ok(Found {
        level: if readable.is_empty() {
            AccessLevel::IdentityOnly
        } else {
            AccessLevel::ReadOnly
        },
        identity,
        permissions: readable,
        reach,
        exact: false,
    })
}
