//! The rotation report of an inventory: each distinct secret, most urgent first, with every
//! copy and what to do — as Markdown, CSV or one self-contained HTML page.

pub mod csv;
pub mod html;
pub mod markdown;

use sprawl_core::rules::Rule;
use sprawl_inventory::{NextStep, SecretRecord};

/// The next step for a secret named by `rule`: its rotation guidance, else its description
/// (which says how to rotate) and first reference.
pub fn next_step(rule: &Rule) -> NextStep {
    match &rule.spec.rotation {
        Some(r) => NextStep {
            revoke: r.revoke.clone(),
            console: Some(r.console.clone()),
            dual_window: Some(r.dual_window),
            docs: r.docs.clone(),
        },
        None => NextStep {
            revoke: if rule.spec.description.is_empty() {
                format!("Revoke it at {} and issue a new one.", rule.spec.provider)
            } else {
                rule.spec.description.clone()
            },
            console: None,
            dual_window: None,
            docs: rule.spec.references.first().cloned(),
        },
    }
}

/// Fills each secret's next step from the rule that names it (rules not loaded: none).
pub fn attach_next_steps(secrets: &mut [SecretRecord], rules: &[Rule]) {
    let by_id: std::collections::HashMap<&str, &Rule> =
        rules.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    for s in secrets {
        s.next_step = by_id.get(s.rule_id.as_str()).map(|r| next_step(r));
    }
}

/// A secret's blast radius in one line: `admin — user octo (scopes: repo, admin:org)`.
pub fn access_line(a: &sprawl_core::finding::Access) -> String {
    let mut line = format!("{} — {}", a.level_text(), a.identity);
    if !a.permissions.is_empty() {
        let shown: Vec<&str> = a.permissions.iter().take(6).map(String::as_str).collect();
        let more = if a.permissions.len() > 6 { ", …" } else { "" };
        line.push_str(&format!("; {}{more}", shown.join(", ")));
    }
    if !a.reach.is_empty() {
        line.push_str(&format!("; {}", a.reach.join("; ")));
    }
    line
}

/// `rotation: started …, completed …` (or `not completed yet`), when a rotation was started.
pub fn rotation_line(s: &SecretRecord) -> Option<String> {
    let started = s.rotation_started.as_ref()?;
    Some(match &s.rotation_completed {
        Some(done) => format!("rotation: started {started}, completed {done}"),
        None => format!(
            "rotation: started {started}, not completed yet (`sprawl rotation status` lists what remains)"
        ),
    })
}

/// A revocation attempt in one line.
pub fn revocation_line(r: &sprawl_inventory::Revocation) -> String {
    format!(
        "{} {} via {}{}{}",
        r.attempted_at,
        r.outcome,
        r.method,
        r.http_status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default(),
        if r.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", r.detail)
        }
    )
}

/// Owners' share of the work: per owner (CODEOWNERS owner, else "no owner"), the secrets to
/// rotate and how many of them are live, most secrets first.
pub fn by_owner(secrets: &[SecretRecord]) -> Vec<(String, usize, usize)> {
    let mut counts: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for s in secrets
        .iter()
        .filter(|s| s.verification.as_deref() != Some("dead"))
    {
        let live = usize::from(s.verification.as_deref() == Some("live"));
        let owners: Vec<&str> = if s.owners.is_empty() {
            vec!["no owner (no CODEOWNERS entry)"]
        } else {
            s.owners.iter().map(String::as_str).collect()
        };
        for o in owners {
            let e = counts.entry(o.to_string()).or_default();
            e.0 += 1;
            e.1 += live;
        }
    }
    let mut out: Vec<(String, usize, usize)> =
        counts.into_iter().map(|(o, (n, l))| (o, n, l)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    out
}

fn status_rank(s: &SecretRecord) -> u8 {
    match s.verification.as_deref() {
        Some("live") => 0,
        Some("dead") => 2,
        _ => 1,
    }
}

fn env_rank(s: &SecretRecord) -> u8 {
    match s.environment.as_str() {
        "prod" => 0,
        "staging" => 1,
        "dev" => 3,
        "test" => 4,
        _ => 2,
    }
}

/// Secrets sorted most urgent first.
pub fn by_urgency(mut secrets: Vec<SecretRecord>) -> Vec<SecretRecord> {
    secrets.sort_by(|a, b| {
        let key = |s: &SecretRecord| {
            (
                status_rank(s),
                std::cmp::Reverse(s.access.as_ref().map(|a| a.level)),
                env_rank(s),
                !s.occurrences.iter().any(|o| o.present),
                std::cmp::Reverse(s.occurrences.len()),
                s.first_seen.clone(),
                s.fingerprint.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    secrets
}
