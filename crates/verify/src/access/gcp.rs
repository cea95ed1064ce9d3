//! Google Cloud service-account keys: the key signs a JWT for its `client_email` (read-only
//! cloud-platform scope) exchanged for an access token, then `projects.testIamPermissions` on
//! the account's own project says which of a few telling permissions IAM grants it (the call
//! evaluates policies; it changes nothing).

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, json_of};

/// Permissions asked about, by what they would mean if granted.
const ADMIN: &[&str] = &[
    "resourcemanager.projects.setIamPolicy",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.actAs",
];
const WRITE: &[&str] = &[
    "storage.objects.create",
    "compute.instances.create",
    "cloudfunctions.functions.create",
    "run.services.create",
];
const READ: &[&str] = &[
    "storage.objects.get",
    "storage.objects.list",
    "secretmanager.versions.access",
    "bigquery.tables.getData",
];

pub(crate) fn analyse(s: &mut Session<'_>, pem: &str, email: &str) -> Result<Found, String> {
    let project = email
        .split_once('@')
        .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
        .filter(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .ok_or("not a project service account e-mail")?
        .to_string();
    let jwt = crate::gcp::assertion(pem, email, crate::gcp::TOKEN_URL, crate::now_secs())
        .map_err(|e| e.to_string())?;
    let body = crate::gcp::token_body(&jwt);
    let a = s.send(
        "POST",
        crate::gcp::TOKEN_URL,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&body),
    )?;
    let (token, _) = json_of(a)?;
    let access = token["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_string();
    let asked: Vec<&str> = ADMIN.iter().chain(WRITE).chain(READ).copied().collect();
    let request = serde_json::json!({ "permissions": asked }).to_string();
    let auth = format!("Bearer {access}");
    let a = s.send(
        "POST",
        &format!(
            "https://cloudresourcemanager.googleapis.com/v1/projects/{project}:testIamPermissions"
        ),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&request),
    )?;
    let mut reach = vec![format!("project {project}")];
    let evaluated = a.status == 200;
    let granted: Vec<String> = if evaluated {
        let (v, _) = json_of(a)?;
        super::strings(&v["permissions"])
    } else {
        reach.push(format!(
            "testIamPermissions answered {}: permissions not evaluated",
            a.status
        ));
        Vec::new()
    };
    let any = |list: &[&str]| granted.iter().any(|g| list.contains(&g.as_str()));
    let level = if any(ADMIN) {
        AccessLevel::Admin
    } else if any(WRITE) {
        AccessLevel::CanWrite
    } else if any(READ) {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    Ok(Found {
        level,
        identity: format!("service account {email}"),
        permissions: granted,
        reach,
        exact: evaluated,
    })
}
