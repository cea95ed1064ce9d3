//! Microsoft Entra ID client secrets (with the tenant and client IDs beside them): what the
//! application can do, from two sources.
//!
//! 1. **Microsoft Graph.** The client-credentials grant for `https://graph.microsoft.com/.default`
//!    returns an access token whose `roles` claim lists the application permissions an admin
//!    consented to (`Directory.ReadWrite.All`, `Mail.Read`, …), with the app's name, id and
//!    tenant: read from the token, no Graph call.
//! 2. **Azure Resource Manager.** A token for `https://management.azure.com/.default`, then the
//!    subscriptions the service principal can see (`GET /subscriptions`), its role assignments
//!    in each (`roleAssignments?$filter=assignedTo('{object id}')`) and the names of those roles
//!    (`GET {roleDefinitionId}`): Owner, User Access Administrator, Contributor, Reader, ….
//!
//! Every call is a read; a token grant is what the secret is for. Role assignments the
//! principal may not read, and subscriptions past the first three, make the answer a floor.

use base64::Engine as _;
use serde_json::Value;
use sprawl_core::finding::AccessLevel;

use super::{Found, Session, counted, json_of};

const GRAPH: &str = "https://graph.microsoft.com/.default";
const ARM_SCOPE: &str = "https://management.azure.com/.default";
const ARM: &str = "https://management.azure.com";
/// Subscriptions whose role assignments are read (each costs one or two calls).
const MAX_SUBSCRIPTIONS: usize = 3;

/// Graph application permissions that let the app take over the tenant: grant itself or
/// others any role or permission, or rewrite applications' credentials.
const GRAPH_ADMIN: &[&str] = &[
    "Directory.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "AppRoleAssignment.ReadWrite.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
];

/// `s` is a GUID (tenant, client and object ids go into URLs and filters).
fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        })
}

/// An access token for `scope` and its claims.
fn token(
    s: &mut Session<'_>,
    tenant: &str,
    client: &str,
    secret: &str,
    scope: &str,
) -> Result<(String, Value), String> {
    let body = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
        crate::url_encode(client),
        crate::url_encode(secret),
        crate::url_encode(scope)
    );
    let a = s.send(
        "POST",
        &format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&body),
    )?;
    let (v, _) = json_of(a)?;
    let jwt = v["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_string();
    let claims = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .ok_or("the access token's claims are unreadable")?;
    Ok((jwt, claims))
}

/// The level an Azure role grants, judged by its name (the built-in roles' naming: Owner and
/// the access administrators assign roles; Contributors and operators change resources;
/// Readers read); `None` for a name that says neither.
fn role_level(name: &str) -> Option<AccessLevel> {
    let n = name.to_ascii_lowercase();
    if n == "owner"
        || n.contains("user access administrator")
        || n.contains("role based access control administrator")
    {
        Some(AccessLevel::Admin)
    } else if [
        "contributor",
        "administrator",
        "operator",
        "writer",
        "owner",
    ]
    .iter()
    .any(|w| n.contains(w))
    {
        Some(AccessLevel::CanWrite)
    } else if n.contains("reader") {
        Some(AccessLevel::ReadOnly)
    } else {
        None
    }
}

/// The blast radius of a live client secret of application `client` in `tenant`.
pub(crate) fn analyse(
    s: &mut Session<'_>,
    tenant: &str,
    client: &str,
    secret: &str,
) -> Result<Found, String> {
    if !is_guid(tenant) || !is_guid(client) {
        return Err("tenant and client ids must be GUIDs".into());
    }
    let (_, graph) = token(s, tenant, client, secret, GRAPH)?;
    let app = graph["app_displayname"].as_str().unwrap_or("?").to_string();
    let roles: Vec<String> = graph["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut level = AccessLevel::IdentityOnly;
    let mut exact = true;
    let mut permissions = Vec::new();
    let mut reach = Vec::new();
    if roles.is_empty() {
        permissions.push("Microsoft Graph: no application permissions".into());
    } else {
        permissions.push(format!(
            "Microsoft Graph application permissions: {}",
            roles.join(", ")
        ));
        let graph_level = if roles.iter().any(|r| GRAPH_ADMIN.contains(&r.as_str())) {
            AccessLevel::Admin
        } else if roles
            .iter()
            .any(|r| r.contains("ReadWrite") || r.ends_with(".Send") || r.contains("Write"))
        {
            AccessLevel::CanWrite
        } else {
            AccessLevel::ReadOnly
        };
        level = level.max(graph_level);
    }

    // Azure Resource Manager: subscriptions and the roles held in them.
    match token(s, tenant, client, secret, ARM_SCOPE) {
        Ok((arm, claims)) => {
            let oid = claims["oid"].as_str().unwrap_or("").to_string();
            let auth = format!("Bearer {arm}");
            let (subs, _) = s.get_json(
                &format!("{ARM}/subscriptions?api-version=2022-12-01"),
                &[("Authorization", &auth)],
            )?;
            let subs: Vec<(String, String)> = subs["value"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| {
                    let id = v["subscriptionId"].as_str().filter(|i| is_guid(i))?;
                    Some((
                        id.to_string(),
                        v["displayName"].as_str().unwrap_or(id).to_string(),
                    ))
                })
                .collect();
            if !subs.is_empty() {
                let names: Vec<String> = subs.iter().map(|(_, n)| n.clone()).collect();
                reach.push(counted(subs.len(), "Azure subscriptions", &names));
            }
            if subs.len() > MAX_SUBSCRIPTIONS {
                exact = false;
            }
            let mut held: Vec<String> = Vec::new();
            for (sub, sub_name) in subs.iter().take(MAX_SUBSCRIPTIONS) {
                if !is_guid(&oid) {
                    exact = false;
                    break;
                }
                let url = format!(
                    "{ARM}/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&%24filter=assignedTo(%27{oid}%27)"
                );
                let a = s.get(&url, &[("Authorization", &auth)])?;
                if a.status == 403 {
                    // Seeing a subscription without reading its role assignments: some role,
                    // at least Reader-like.
                    exact = false;
                    level = level.max(AccessLevel::ReadOnly);
                    continue;
                }
                let (assignments, _) = json_of(a)?;
                for asg in assignments["value"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let def = asg["properties"]["roleDefinitionId"].as_str().unwrap_or("");
                    let scope = asg["properties"]["scope"].as_str().unwrap_or("");
                    if !def.starts_with('/')
                        || !def
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"/-._".contains(&b))
                    {
                        continue;
                    }
                    let (role, _) = s.get_json(
                        &format!("{ARM}{def}?api-version=2022-04-01"),
                        &[("Authorization", &auth)],
                    )?;
                    let name = role["properties"]["roleName"]
                        .as_str()
                        .unwrap_or("?")
                        .to_string();
                    match role_level(&name) {
                        Some(l) => level = level.max(l),
                        None => {
                            // A role whose name says nothing (a custom role): at least reads.
                            level = level.max(AccessLevel::ReadOnly);
                            exact = false;
                        }
                    }
                    let at = if scope.ends_with(sub.as_str()) {
                        format!("subscription {sub_name}")
                    } else {
                        // A resource group or resource: its type segment and name.
                        let mut tail: Vec<&str> = scope.rsplit('/').take(2).collect();
                        tail.reverse();
                        tail.join("/")
                    };
                    held.push(format!("{name} on {at}"));
                }
            }
            if !held.is_empty() {
                permissions.push(format!("Azure roles: {}", held.join(", ")));
            } else if !subs.is_empty() {
                level = level.max(AccessLevel::ReadOnly);
            }
        }
        Err(why) => {
            permissions.push(format!("Azure Resource Manager not analysed: {why}"));
            exact = false;
        }
    }
    Ok(Found {
        level,
        identity: format!("application {app} ({client}) in tenant {tenant}"),
        permissions,
        reach,
        exact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_role_names() {
        assert!(is_guid("3f2b8c4e-9d1a-4e6f-8b7c-2a1d0e9f8c7b"));
        assert!(!is_guid("3f2b8c4e-9d1a-4e6f-8b7c-2a1d0e9f8c7"));
        assert!(!is_guid("3f2b8c4e-9d1a-4e6f-8b7c-2a1d0e9f8c7/"));
        assert!(!is_guid("3f2b8c4e99d1a-4e6f-8b7c-2a1d0e9f8c7b"));
        assert_eq!(role_level("Owner"), Some(AccessLevel::Admin));
        assert_eq!(
            role_level("User Access Administrator"),
            Some(AccessLevel::Admin)
        );
        assert_eq!(role_level("Contributor"), Some(AccessLevel::CanWrite));
        assert_eq!(
            role_level("Storage Blob Data Contributor"),
            Some(AccessLevel::CanWrite)
        );
        assert_eq!(role_level("Reader"), Some(AccessLevel::ReadOnly));
        assert_eq!(role_level("Key Vault Secrets User"), None);
    }
}
