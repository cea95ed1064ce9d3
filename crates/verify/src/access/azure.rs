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

/// Graph application permissions that change data (beyond `ReadWrite`): full control,
/// management, creation, invitations, enabling accounts, sending.
const GRAPH_WRITE_WORDS: &[&str] = &[
    "Write",
    "FullControl",
    "Manage",
    "Create",
    "Invite",
    "EnableDisable",
    "Delete",
    ".Send",
];

/// The level Microsoft Graph application permissions grant.
fn graph_level(roles: &[String]) -> AccessLevel {
    if roles.iter().any(|r| GRAPH_ADMIN.contains(&r.as_str())) {
        AccessLevel::Admin
    } else if roles
        .iter()
        .any(|r| GRAPH_WRITE_WORDS.iter().any(|w| r.contains(w)))
    {
        AccessLevel::CanWrite
    } else if roles.is_empty() {
        AccessLevel::IdentityOnly
    } else {
        AccessLevel::ReadOnly
    }
}

/// Role definitions looked up per analysis (distinct ids; the rest make a floor).
const MAX_ROLE_LOOKUPS: usize = 4;

/// What the Azure Resource Manager part found, folded into the answer.
struct Arm {
    level: AccessLevel,
    exact: bool,
    notes: Vec<String>,
    held: Vec<String>,
    reach: Vec<String>,
}

impl Arm {
    /// Something could not be read: the level found so far is a floor.
    fn unread(&mut self, what: String) {
        self.notes.push(what);
        self.exact = false;
    }
}

/// Subscriptions, the principal's role assignments in each and their role names. Failures are
/// notes and make the answer a floor; only the session's own limits end the analysis.
fn arm(s: &mut Session<'_>, tenant: &str, client: &str, secret: &str) -> Arm {
    let mut out = Arm {
        level: AccessLevel::IdentityOnly,
        exact: true,
        notes: Vec::new(),
        held: Vec::new(),
        reach: Vec::new(),
    };
    let (token, claims) = match token(s, tenant, client, secret, ARM_SCOPE) {
        Ok(x) => x,
        Err(why) => {
            out.unread(format!("Azure Resource Manager not analysed: {why}"));
            return out;
        }
    };
    let oid = claims["oid"].as_str().unwrap_or("").to_string();
    let auth = format!("Bearer {token}");
    let subs = match s.get_json(
        &format!("{ARM}/subscriptions?api-version=2022-12-01"),
        &[("Authorization", &auth)],
    ) {
        Ok((v, _)) => v,
        Err(why) => {
            out.unread(format!("Azure subscriptions not listed: {why}"));
            return out;
        }
    };
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
    if subs.is_empty() {
        return out;
    }
    let names: Vec<String> = subs.iter().map(|(_, n)| n.clone()).collect();
    out.reach
        .push(counted(subs.len(), "Azure subscriptions", &names));
    // Seeing a subscription means holding some role in it: at least reads.
    out.level = AccessLevel::ReadOnly;
    if subs.len() > MAX_SUBSCRIPTIONS {
        out.unread(format!(
            "role assignments read in the first {MAX_SUBSCRIPTIONS} subscriptions only"
        ));
    }
    if !is_guid(&oid) {
        out.unread("the token names no service principal object id".into());
        return out;
    }
    let mut role_names: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::new();
    for (sub, sub_name) in subs.iter().take(MAX_SUBSCRIPTIONS) {
        let url = format!(
            "{ARM}/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&%24filter=assignedTo(%27{oid}%27)"
        );
        let assignments = match s.get(&url, &[("Authorization", &auth)]).and_then(json_of) {
            Ok((v, _)) => v,
            Err(why) => {
                out.unread(format!("role assignments in {sub_name} not read: {why}"));
                continue;
            }
        };
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
            if !role_names.contains_key(def) {
                let name = if role_names.len() >= MAX_ROLE_LOOKUPS {
                    None
                } else {
                    s.get_json(
                        &format!("{ARM}{def}?api-version=2022-04-01"),
                        &[("Authorization", &auth)],
                    )
                    .ok()
                    .and_then(|(role, _)| {
                        role["properties"]["roleName"].as_str().map(str::to_string)
                    })
                };
                role_names.insert(def.to_string(), name);
            }
            let name = role_names.get(def).cloned().flatten();
            match name.as_deref().and_then(role_level) {
                Some(l) => out.level = out.level.max(l),
                // A custom role, or one whose name could not be read: at least reads.
                None => out.exact = false,
            }
            let at = if scope.ends_with(sub.as_str()) {
                format!("subscription {sub_name}")
            } else {
                // A resource group or resource: its type segment and name.
                let mut tail: Vec<&str> = scope.rsplit('/').take(2).collect();
                tail.reverse();
                tail.join("/")
            };
            out.held.push(format!(
                "{} on {at}",
                name.as_deref().unwrap_or("a role not read")
            ));
        }
    }
    out
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
    let roles = super::strings(&graph["roles"]);
    let mut permissions = vec![if roles.is_empty() {
        "Microsoft Graph: no application permissions".to_string()
    } else {
        format!(
            "Microsoft Graph application permissions: {}",
            roles.join(", ")
        )
    }];
    let arm = arm(s, tenant, client, secret);
    if !arm.held.is_empty() {
        permissions.push(format!("Azure roles: {}", arm.held.join(", ")));
    }
    permissions.extend(arm.notes);
    Ok(Found {
        level: graph_level(&roles).max(arm.level),
        identity: format!("application {app} ({client}) in tenant {tenant}"),
        permissions,
        reach: arm.reach,
        exact: arm.exact,
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
        let g = |r: &[&str]| graph_level(&r.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(g(&[]), AccessLevel::IdentityOnly);
        assert_eq!(g(&["User.Read.All"]), AccessLevel::ReadOnly);
        assert_eq!(g(&["Sites.FullControl.All"]), AccessLevel::CanWrite);
        assert_eq!(g(&["User.Invite.All"]), AccessLevel::CanWrite);
        assert_eq!(g(&["Mail.Send"]), AccessLevel::CanWrite);
        assert_eq!(
            g(&["RoleManagement.ReadWrite.Directory"]),
            AccessLevel::Admin
        );
    }
}
