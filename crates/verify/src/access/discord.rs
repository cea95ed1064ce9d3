//! Discord: `GET /users/@me` names the bot; `GET /users/@me/guilds` lists its servers with its
//! permission bits in each (ADMINISTRATOR, MANAGE_GUILD, SEND_MESSAGES, …).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted};

const API: &str = "https://discord.com/api/v10";
const ADMINISTRATOR: u64 = 1 << 3;
const MANAGE_GUILD: u64 = 1 << 5;
const SEND_MESSAGES: u64 = 1 << 11;
const MANAGE_MESSAGES: u64 = 1 << 13;
const VIEW_CHANNEL: u64 = 1 << 10;

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bot {token}");
    let h = [("Authorization", auth.as_str())];
    let (me, _) = s.get_json(&format!("{API}/users/@me"), &h)?;
    let (guilds, _) = s.get_json(&format!("{API}/users/@me/guilds"), &h)?;
    let mut all = Vec::new();
    let mut admin_in = Vec::new();
    let mut bits = 0u64;
    for g in guilds.as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = g["name"].as_str().unwrap_or("?").to_string();
        let p = g["permissions"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0);
        if p & (ADMINISTRATOR | MANAGE_GUILD) != 0 {
            admin_in.push(name.clone());
        }
        bits |= p;
        all.push(name);
    }
    let mut reach = vec![counted(all.len(), "servers", &all)];
    if !admin_in.is_empty() {
        reach.push(counted(admin_in.len(), "servers it administers", &admin_in));
    }
    let level = if !admin_in.is_empty() {
        AccessLevel::Admin
    } else if bits & (SEND_MESSAGES | MANAGE_MESSAGES) != 0 {
        AccessLevel::CanWrite
    } else if bits & VIEW_CHANNEL != 0 {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    Ok(Found {
        level,
        identity: format!(
            "bot {} ({})",
            me["username"].as_str().unwrap_or("?"),
            me["id"].as_str().unwrap_or("?")
        ),
        permissions: Vec::new(),
        reach,
        exact: true,
    })
}
