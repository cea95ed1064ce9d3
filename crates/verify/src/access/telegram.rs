//! Telegram: `getMe` names the bot and says whether it may join groups and read all their
//! messages; a bot token sends messages as the bot and reads its updates.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session};

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'_' || b == b'-')
    {
        return Err("unexpected token shape".into());
    }
    let (v, _) = s.get_json(&format!("https://api.telegram.org/bot{token}/getMe"), &[])?;
    if v["ok"].as_bool() != Some(true) {
        return Err("getMe: not ok".into());
    }
    let r = &v["result"];
    let mut permissions = vec!["sends messages as the bot, reads its updates".to_string()];
    if r["can_read_all_group_messages"].as_bool() == Some(true) {
        permissions.push("reads every message of the groups it is in".into());
    }
    if r["can_join_groups"].as_bool() == Some(true) {
        permissions.push("can be added to groups".into());
    }
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity: format!("bot @{}", r["username"].as_str().unwrap_or("?")),
        permissions,
        reach: Vec::new(),
        exact: true,
    })
}
