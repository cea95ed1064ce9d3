//! AWS: STS `GetCallerIdentity` (account, ARN; a root key is admin of the account), then
//! for an IAM user the policies attached to it, its inline policies and groups, and
//! `SimulatePrincipalPolicy` for a few risky actions. Every call is a read (the simulation
//! evaluates policies, it does not act); a key that may not read its own policies is reported
//! as such, by what it is.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session, xml_all};

const STS: &str = "https://sts.amazonaws.com/";
const IAM: &str = "https://iam.amazonaws.com/";

/// Actions simulated, by what they would mean if allowed.
const ADMIN_ACTIONS: &[&str] = &[
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:CreateAccessKey",
];
const WRITE_ACTIONS: &[&str] = &[
    "s3:PutObject",
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "dynamodb:PutItem",
];
const READ_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:ListAllMyBuckets",
    "ec2:DescribeInstances",
    "secretsmanager:GetSecretValue",
];
/// Managed policies that are administration by themselves.
const ADMIN_POLICIES: &[&str] = &["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];

/// A signed form POST to a query API (`service` `sts` or `iam`).
pub(crate) fn call(
    s: &mut Session<'_>,
    url: &str,
    service: &str,
    body: &str,
    key_id: &str,
    secret: &str,
) -> Result<super::Answer, String> {
    let routed = s.route(url)?;
    let host = Session::host_of(&routed)?;
    let mut headers =
        crate::aws::form_headers(&host, &crate::now_amz(), service, body, key_id, secret);
    headers.push(("Host".into(), host));
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    s.send("POST", url, &pairs, Some(body))
}

fn encode(v: &str) -> String {
    crate::url_encode(v)
}

pub(crate) fn analyse(s: &mut Session<'_>, key_id: &str, secret: &str) -> Result<Found, String> {
    let a = call(s, STS, "sts", crate::aws::STS_BODY, key_id, secret)?;
    if a.status != 200 {
        return Err(format!("GetCallerIdentity answered {}", a.status));
    }
    let arn = xml_all(&a.body, "Arn")
        .into_iter()
        .next()
        .unwrap_or_default();
    let account = xml_all(&a.body, "Account")
        .into_iter()
        .next()
        .unwrap_or_default();
    if arn.ends_with(":root") {
        return Ok(Found {
            level: AccessLevel::Admin,
            identity: format!("root user of account {account}"),
            permissions: vec!["everything in the account (root)".into()],
            reach: vec![format!("account {account}")],
            exact: true,
        });
    }
    let mut permissions = Vec::new();
    let mut reach = vec![format!("account {account}")];
    let user = arn
        .split_once(":user/")
        .map(|(_, u)| u.rsplit('/').next().unwrap_or(u).to_string());
    let mut attached = Vec::new();
    if let Some(user) = &user {
        let u = encode(user);
        for (action, tag, what) in [
            ("ListAttachedUserPolicies", "PolicyName", "attached policy"),
            ("ListUserPolicies", "member", "inline policy"),
            ("ListGroupsForUser", "GroupName", "group"),
        ] {
            let body = format!("Action={action}&UserName={u}&Version=2010-05-08");
            let a = call(s, IAM, "iam", &body, key_id, secret)?;
            if a.status == 200 {
                for name in xml_all(&a.body, tag) {
                    if what == "attached policy" {
                        attached.push(name.clone());
                    }
                    permissions.push(format!("{what} {name}"));
                }
            } else {
                reach.push(format!("{action} denied: its own {what}s are not readable"));
            }
        }
    }
    // What it may do, as IAM evaluates its policies.
    let actions: Vec<&str> = ADMIN_ACTIONS
        .iter()
        .chain(WRITE_ACTIONS)
        .chain(READ_ACTIONS)
        .copied()
        .collect();
    let mut body = format!(
        "Action=SimulatePrincipalPolicy&PolicySourceArn={}&Version=2010-05-08",
        encode(&arn)
    );
    for (i, act) in actions.iter().enumerate() {
        body.push_str(&format!("&ActionNames.member.{}={}", i + 1, encode(act)));
    }
    let a = call(s, IAM, "iam", &body, key_id, secret)?;
    let mut allowed = Vec::new();
    let evaluated = a.status == 200;
    if evaluated {
        let names = xml_all(&a.body, "EvalActionName");
        let decisions = xml_all(&a.body, "EvalDecision");
        for (n, d) in names.iter().zip(&decisions) {
            if d == "allowed" {
                allowed.push(n.clone());
            }
        }
        permissions.extend(allowed.iter().map(|a| format!("allowed: {a}")));
    } else {
        reach.push("SimulatePrincipalPolicy denied: permissions not evaluated".into());
    }
    let any = |list: &[&str]| allowed.iter().any(|a| list.contains(&a.as_str()));
    let level = if attached
        .iter()
        .any(|p| ADMIN_POLICIES.contains(&p.as_str()))
        || any(ADMIN_ACTIONS)
    {
        AccessLevel::Admin
    } else if any(WRITE_ACTIONS) {
        AccessLevel::CanWrite
    } else if any(READ_ACTIONS) {
        AccessLevel::ReadOnly
    } else {
        AccessLevel::IdentityOnly
    };
    Ok(Found {
        level,
        identity: arn,
        permissions,
        reach,
        exact: evaluated,
    })
}
