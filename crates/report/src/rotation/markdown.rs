//! The rotation report as Markdown: a section per secret with its copies and numbered steps.

use std::io::Write;

use sprawl_inventory::SecretRecord;

/// Text from scanned repositories (owners, authors, names) as a code span: no Markdown or
/// HTML in it is interpreted.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("`{}`", text.replace('`', "'"))
}

/// Writes the Markdown rotation report of `secrets` (already in urgency order).
pub fn markdown(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Rotation report\n")?;
    writeln!(
        out,
        "{} distinct secret(s), {} cop(ies). Most urgent first: live before unknown before dead, production first, secrets still present before history-only ones, more copies first.\n",
        secrets.len(),
        secrets.iter().map(|s| s.occurrences.len()).sum::<usize>()
    )?;
    let owners = super::by_owner(secrets);
    if !owners.is_empty() {
        writeln!(out, "## Who rotates what\n")?;
        for (owner, n, live) in &owners {
            writeln!(
                out,
                "- {}: {n} secret(s) to rotate, {live} live",
                code(owner)
            )?;
        }
        writeln!(out)?;
    }
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
        if s.rules.len() > 1 {
            writeln!(out, "- found by: {}", s.rules.join(", "))?;
        }
        if let Some(a) = &s.access {
            writeln!(out, "- blast radius: {}", code(&super::access_line(a)))?;
        }
        for r in &s.revocations {
            writeln!(out, "- revocation: {}", code(&super::revocation_line(r)))?;
        }
        if let Some(line) = super::rotation_line(s) {
            writeln!(out, "- {line}")?;
        }
        if !s.owners.is_empty() {
            let owners: Vec<String> = s.owners.iter().map(|o| code(o)).collect();
            writeln!(out, "- owners: {}", owners.join(", "))?;
        }
        if !s.authors.is_empty() {
            let authors: Vec<String> = s.authors.iter().map(|a| code(a)).collect();
            writeln!(out, "- introduced by: {}", authors.join("; "))?;
        }
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
        if !s.consumers.is_empty() {
            writeln!(
                out,
                "\n**What breaks when it is rotated** (pipelines and deployments that read a secret of the same name)\n"
            )?;
            writeln!(out, "| target | file | job | step | name |")?;
            writeln!(out, "|---|---|---|---|---|")?;
            for c in &s.consumers {
                let cell = |x: &str| code(x).replace('|', "\\|");
                writeln!(
                    out,
                    "| {} | {}:{} | {} | {} | {}{} |",
                    cell(&c.target),
                    cell(&c.file),
                    c.line,
                    cell(&c.job),
                    cell(&c.step),
                    cell(&c.name),
                    if c.leaks_to_logs {
                        " (printed to logs)"
                    } else {
                        ""
                    }
                )?;
            }
        }
        writeln!(out, "\n**What to do**\n")?;
        let mut step = 1;
        let mut say = |out: &mut dyn Write, text: String| {
            let r = writeln!(out, "{step}. {text}");
            step += 1;
            r
        };
        if status != "dead" {
            let order = match s.next_step.as_ref().and_then(|n| n.dual_window) {
                Some(true) => {
                    "issue a new credential while this one still works, move every consumer to it, then revoke this one"
                }
                Some(false) => {
                    "issuing a new credential invalidates this one: update every consumer in the same change window"
                }
                None => "issue a new credential, then revoke this one",
            };
            say(out, format!("Rotate it at {}: {order}.", s.provider))?;
            if let Some(n) = &s.next_step {
                let link = n
                    .console
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                say(out, format!("{}{link}", n.revoke.trim()))?;
            }
        }
        if present > 0 {
            say(
                out,
                format!(
                    "Remove the {present} cop(ies) still present (files, branch tips, final image layers)."
                ),
            )?;
        }
        if s.occurrences.iter().any(|o| o.source == "ci-log") {
            say(out, "Delete the CI logs that printed it: anyone who can read the pipelines can read them (`sprawl purge-logs`; GitHub: the run's page > Delete all logs; GitLab: the job's page > Erase job log and artifacts).".to_string())?;
        }
        if s.occurrences.iter().any(|o| !o.present) {
            say(out, "History-only and hidden-layer copies stay in every clone and pulled image: treat the secret as exposed; purge history or rebuild the images if the repository or image is shared.".to_string())?;
        }
        if !s.consumers.is_empty() {
            say(
                out,
                format!(
                    "Put the new value in the CI/cluster secret store for the {} consumer(s) above.",
                    s.consumers.len()
                ),
            )?;
        } else if s.occurrences.iter().any(|o| o.ci.is_some()) {
            say(
                out,
                "Update the pipelines that use it to read the new value from the CI secret store."
                    .to_string(),
            )?;
        }
        say(
            out,
            format!(
                "Mark it with `sprawl rotation start {}`; after the next audit, `sprawl rotation status` says which copies remain and whether the old value still works.",
                s.fingerprint
            ),
        )?;
        if let Some(docs) = s.next_step.as_ref().and_then(|n| n.docs.as_ref()) {
            writeln!(out, "\nProvider documentation: {docs}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
