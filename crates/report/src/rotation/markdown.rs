//! The rotation report as Markdown: a section per secret with its copies and numbered steps.

use std::io::Write;

use sprawl_inventory::SecretRecord;

/// Writes the Markdown rotation report of `secrets` (already in urgency order).
pub fn markdown(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Rotation report\n")?;
    writeln!(
        out,
        "{} distinct secret(s), {} cop(ies). Most urgent first: live before unknown before dead, production first, secrets still present before history-only ones, more copies first.\n",
        secrets.len(),
        secrets.iter().map(|s| s.occurrences.len()).sum::<usize>()
    )?;
    for (i, s) in secrets.iter().enumerate() {
        let status = s.verification.as_deref().unwrap_or("not verified");
        let present = s.occurrences.iter().filter(|o| o.present).count();
        writeln!(
            out,
            "## {}. {} — `{}` ({}, {})\n",
            i + 1,
            s.provider,
            s.rule_id,
            s.environment,
            status
        )?;
        writeln!(
            out,
            "- fingerprint `{}`; first seen {}, last seen {}{}",
            s.fingerprint,
            s.first_seen,
            s.last_seen,
            s.verified_at
                .as_ref()
                .map(|t| format!("; verified {t}"))
                .unwrap_or_default()
        )?;
        writeln!(out, "- preview: `{}`", s.preview.replace('`', "'"))?;
        writeln!(
            out,
            "- {} cop(ies), {present} still present\n",
            s.occurrences.len()
        )?;
        writeln!(out, "| target | where | commit / layer | CI | present |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for o in &s.occurrences {
            let cell = |x: &str| x.replace('|', "\\|");
            writeln!(
                out,
                "| {} ({}) | {}:{} | {} | {} | {} |",
                cell(&o.target),
                o.source,
                cell(&o.path),
                o.line,
                cell(o.commit.as_deref().or(o.image.as_deref()).unwrap_or("")),
                cell(o.ci.as_deref().unwrap_or("")),
                if o.present { "yes" } else { "history/hidden" }
            )?;
        }
        writeln!(out, "\n**What to do**\n")?;
        let mut step = 1;
        let mut say = |out: &mut dyn Write, text: String| {
            let r = writeln!(out, "{step}. {text}");
            step += 1;
            r
        };
        if status != "dead" {
            say(
                out,
                format!(
                    "Rotate it at {}: issue a new credential, then revoke this one.",
                    s.provider
                ),
            )?;
        }
        if present > 0 {
            say(
                out,
                format!(
                    "Remove the {present} cop(ies) still present (files, branch tips, final image layers)."
                ),
            )?;
        }
        if s.occurrences.iter().any(|o| !o.present) {
            say(out, "History-only and hidden-layer copies stay in every clone and pulled image: treat the secret as exposed; purge history or rebuild the images if the repository or image is shared.".to_string())?;
        }
        if s.occurrences.iter().any(|o| o.ci.is_some()) {
            say(
                out,
                "Update the pipelines that use it to read the new value from the CI secret store."
                    .to_string(),
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
