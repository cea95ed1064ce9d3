//! Hugging Face: `GET /api/whoami-v2` names the user, their organisations with their role in
//! each, and the token's role (`read`, `write`, or fine-grained permissions).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted};

pub(crate) fn analyse(s: &mut Session<'_>, token: &str) -> Result<Found, String> {
    let auth = format!("Bearer {token}");
    let (v, _) = s.get_json(
        "https://huggingface.co/api/whoami-v2",
        &[("Authorization", &auth)],
    )?;
    let name = v["name"].as_str().unwrap_or("?");
    let kind = v["type"].as_str().unwrap_or("user");
    let token_info = &v["auth"]["accessToken"];
    let role = token_info["role"].as_str().unwrap_or("");
    let mut permissions = vec![format!("token role: {role}")];
    let mut fine_write = false;
    for scoped in token_info["fineGrained"]["scoped"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let entity = scoped["entity"]["name"].as_str().unwrap_or("?");
        for p in scoped["permissions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let p = p.as_str().unwrap_or("");
            fine_write |= p.contains("write") || p.contains("manage");
            permissions.push(format!("{entity}: {p}"));
        }
    }
    let mut orgs = Vec::new();
    let mut admin_of = Vec::new();
    for o in v["orgs"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let org = o["name"].as_str().unwrap_or("?").to_string();
        if o["roleInOrg"].as_str() == Some("admin") {
            admin_of.push(org.clone());
        }
        orgs.push(org);
    }
    let mut reach = Vec::new();
    if !orgs.is_empty() {
        reach.push(counted(orgs.len(), "organisations", &orgs));
    }
    if !admin_of.is_empty() {
        reach.push(counted(
            admin_of.len(),
            "organisations it administers",
            &admin_of,
        ));
    }
    let writes = role == "write" || fine_write;
    let level = if writes && !admin_of.is_empty() {
        AccessLevel::Admin
    } else if writes {
        AccessLevel::CanWrite
    } else if role == "read" || role == "fineGrained" {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    Ok(Found {
        level,
        identity: format!("{kind} {name}"),
        permissions,
        reach,
        exact: true,
    })
}
