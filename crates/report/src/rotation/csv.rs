//! The rotation report as CSV: one row per copy, ranked.

use std::io::Write;

use sprawl_inventory::SecretRecord;

/// A CSV cell. Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR
/// first: CODEOWNERS owners and paths come from scanned repositories) is prefixed with `'`.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Writes the CSV rotation report of `secrets` (already in urgency order).
pub fn write(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "rank,fingerprint,rule_id,provider,environment,verification,first_seen,source,target,path,line,commit,image,ci,present,found_by,owners,consumers,dual_window,access_level,access_identity,revoked"
    )?;
    for (i, s) in secrets.iter().enumerate() {
        for o in &s.occurrences {
            let row = [
                (i + 1).to_string(),
                s.fingerprint.clone(),
                s.rule_id.clone(),
                s.provider.clone(),
                s.environment.clone(),
                s.verification.clone().unwrap_or_default(),
                s.first_seen.clone(),
                o.source.clone(),
                o.target.clone(),
                o.path.clone(),
                o.line.to_string(),
                o.commit.clone().unwrap_or_default(),
                o.image.clone().unwrap_or_default(),
                o.ci.clone().unwrap_or_default(),
                o.present.to_string(),
                o.rule_id.clone(),
                o.owners.join(" "),
                s.consumers
                    .iter()
                    .map(|c| format!("{}:{} {}", c.file, c.line, c.job))
                    .collect::<Vec<_>>()
                    .join("; "),
                s.next_step
                    .as_ref()
                    .and_then(|n| n.dual_window)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                s.access
                    .as_ref()
                    .map(|a| a.level.name().to_string())
                    .unwrap_or_default(),
                s.access
                    .as_ref()
                    .map(|a| a.identity.clone())
                    .unwrap_or_default(),
                s.revocations
                    .iter()
                    .rev()
                    .find(|r| r.outcome == "revoked" || r.outcome == "accepted")
                    .map(|r| r.attempted_at.clone())
                    .unwrap_or_default(),
            ];
            let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            writeln!(out, "{}", fields.join(","))?;
        }
    }
    Ok(())
}
