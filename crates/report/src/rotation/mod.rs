//! The rotation report of an inventory: each distinct secret, most urgent first, with every
//! copy and what to do — as Markdown, CSV or one self-contained HTML page.

pub mod csv;
pub mod html;
pub mod markdown;

use sprawl_inventory::SecretRecord;

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
