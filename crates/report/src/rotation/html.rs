//! The HTML rotation report: one self-contained file (inline CSS, inline script, inline SVG
//! charts; no network fetch). The first view lists every secret most urgent first with
//! filters (provider, environment, owner, status, present or history-only, text) and sortable
//! columns, the owners' share of the work and two charts; each secret has its own page
//! (`#s-N`, shown with CSS `:target`, so the back button works and a link can be shared) with
//! its copies grouped by target, a timeline, owners, consumers, live status and next step.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use sprawl_inventory::{Occurrence, SecretRecord};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A link, only for https URLs (rule data), else the text.
fn link(url: &str) -> String {
    if url.starts_with("https://") {
        format!(
            r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
            esc(url),
            esc(url)
        )
    } else {
        esc(url)
    }
}

/// Horizontal bar chart as inline SVG.
fn bars(title: &str, rows: &[(String, usize)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let h = 22 * rows.len() + 30;
    let mut svg = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" aria-label="{}" width="420" height="{h}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title),
        esc(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = 10 + i * 22;
        let w = 220 * n / max;
        let _ = write!(
            svg,
            r##"<text x="0" y="{}" font-size="12">{}</text><rect x="140" y="{}" width="{w}" height="16" fill="#c0392b"/><text x="{}" y="{}" font-size="12">{n}</text>"##,
            y + 12,
            esc(label),
            y,
            145 + w,
            y + 12
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// Age bucket of an ISO 8601 first-seen date relative to `now` (Unix seconds).
fn age_bucket(first_seen: &str, now: i64) -> &'static str {
    let Some(t) = sprawl_core::time::parse_iso8601(first_seen) else {
        return "unknown";
    };
    match (now - t) / 86_400 {
        d if d < 7 => "< 1 week",
        d if d < 30 => "1–4 weeks",
        d if d < 365 => "1–12 months",
        _ => "> 1 year",
    }
}

/// Owners listed in the summary; the owner filter reaches the rest.
const OWNERS_SHOWN: usize = 8;

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .3em; } h2 { font-size: 1.15em; margin: 1.2em 0 .4em; }
.charts { display: flex; gap: 2.5em; flex-wrap: wrap; align-items: flex-start; } figure { margin: 0; } figcaption { font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
#secrets th[data-k] { cursor: pointer; background: #f4f4f4; user-select: none; position: sticky; top: 0; }
#secrets th[data-k]:after { content: " ⇅"; color: #999; }
.live { color: #c0392b; font-weight: bold; } .dead { color: #27ae60; }
code { font-size: 12px; } .muted { color: #777; }
.filters { display: flex; gap: .8em; flex-wrap: wrap; align-items: center; background: #f7f7f7; padding: .5em .8em; border-radius: 6px; position: sticky; top: 0; z-index: 1; }
.filters label { font-size: 12px; color: #555; } .filters select, .filters input { font: inherit; font-size: 13px; }
.owners td:nth-child(n+2) { text-align: right; }
section.page { display: none; } section.page:target { display: block; }
body:has(section.page:target) #list { display: none; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 1.2em; }
.facts dt { color: #555; } .facts dd { margin: 0; }
.next { background: #fff6e5; border-left: 4px solid #e67e22; padding: .5em 1em; }
.timeline { list-style: none; padding-left: 0; border-left: 2px solid #ccc; margin-left: .4em; }
.timeline li { padding-left: .8em; margin: .2em 0; }
details.target { margin: .4em 0; } details.target summary { cursor: pointer; font-weight: 600; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById("secrets");
  var dir = {};
  table.querySelectorAll("th[data-k]").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-k");
      dir[k] = -(dir[k] || -1);
      var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.secret"));
      bodies.sort(function (a, b) {
        var x = a.rows[0].getAttribute("data-" + k), y = b.rows[0].getAttribute("data-" + k);
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return c * dir[k];
      });
      bodies.forEach(function (b) { table.appendChild(b); });
    });
  });
  var filters = document.querySelectorAll("[data-filter]");
  var shown = document.getElementById("shown");
  function apply() {
    var want = {};
    filters.forEach(function (f) { want[f.getAttribute("data-filter")] = f.value.toLowerCase(); });
    var n = 0;
    table.querySelectorAll("tbody.secret").forEach(function (b) {
      var r = b.rows[0], ok = true;
      for (var k in want) {
        var v = want[k];
        if (!v) continue;
        if (k === "text") { ok = b.textContent.toLowerCase().indexOf(v) >= 0; }
        else if (k === "owner") { ok = (" " + r.getAttribute("data-owners").toLowerCase() + " ").indexOf(" " + v + " ") >= 0; }
        else { ok = r.getAttribute("data-" + k).toLowerCase() === v; }
        if (!ok) break;
      }
      b.style.display = ok ? "" : "none";
      if (ok) n++;
    });
    shown.textContent = n;
  }
  filters.forEach(function (f) { f.addEventListener("input", apply); f.addEventListener("change", apply); });
})();
"#;

/// `<select>` of the distinct values, "all" first.
fn select(key: &str, label: &str, values: &[String]) -> String {
    let mut s = format!(
        r#"<label>{} <select data-filter="{key}"><option value="">all</option>"#,
        esc(label)
    );
    for v in values {
        let _ = write!(s, r#"<option value="{}">{}</option>"#, esc(v), esc(v));
    }
    s.push_str("</select></label>");
    s
}

fn status_of(s: &SecretRecord) -> &str {
    s.verification.as_deref().unwrap_or("not verified")
}

/// One copy as a list item.
fn copy_item(o: &Occurrence) -> String {
    let mut li = format!(
        "<li>{} <code>{}:{}</code>",
        esc(&o.source),
        esc(&o.path),
        o.line
    );
    if let Some(c) = &o.commit {
        let short: String = c.chars().take(12).collect();
        let _ = write!(li, " — commit <code>{}</code>", esc(&short));
    }
    if let Some(a) = &o.author {
        let _ = write!(li, " by {}", esc(a));
    }
    if let Some(i) = &o.image {
        let _ = write!(li, " — <code>{}</code>", esc(i));
    }
    if let Some(c) = &o.ci {
        let _ = write!(li, " — CI: {}", esc(c));
    }
    let _ = write!(li, " — rule <code>{}</code>", esc(&o.rule_id));
    if !o.owners.is_empty() {
        let _ = write!(li, " — owners {}", esc(&o.owners.join(" ")));
    }
    li.push_str(if o.present {
        " — <strong>present</strong>"
    } else {
        " — <em>history/hidden</em>"
    });
    li.push_str("</li>");
    li
}

/// The page of one secret.
fn page(i: usize, s: &SecretRecord) -> String {
    let status = status_of(s);
    let present = s.occurrences.iter().filter(|o| o.present).count();
    let mut p = format!(
        r##"<section class="page" id="s-{n}"><p><a href="#list">← all secrets</a></p><h2>{n}. {} — <code>{}</code></h2><dl class="facts"><dt>Fingerprint</dt><dd><code>{}</code></dd><dt>Status</dt><dd class="{}">{}{}</dd><dt>Environment</dt><dd>{}</dd><dt>Severity</dt><dd>{}</dd><dt>Preview</dt><dd><code>{}</code></dd><dt>Copies</dt><dd>{} ({present} present) in {} target(s)</dd>"##,
        esc(&s.provider),
        esc(&s.rule_id),
        esc(&s.fingerprint),
        esc(status),
        esc(status),
        s.verified_at
            .as_ref()
            .map(|t| format!(" (checked {})", esc(t)))
            .unwrap_or_default(),
        esc(&s.environment),
        esc(&s.severity),
        esc(&s.preview),
        s.occurrences.len(),
        targets_of(s).len(),
        n = i + 1,
    );
    if s.rules.len() > 1 {
        let _ = write!(p, "<dt>Found by</dt><dd>{}</dd>", esc(&s.rules.join(", ")));
    }
    let owners = if s.owners.is_empty() {
        "<span class=\"muted\">no CODEOWNERS entry</span>".to_string()
    } else {
        esc(&s.owners.join(", "))
    };
    let _ = write!(p, "<dt>Owners</dt><dd>{owners}</dd>");
    if !s.authors.is_empty() {
        let _ = write!(
            p,
            "<dt>Introduced by</dt><dd>{}</dd>",
            esc(&s.authors.join("; "))
        );
    }
    p.push_str("</dl>");
    // Blast radius and revocations.
    if let Some(a) = &s.access {
        let _ = write!(
            p,
            "<h3>Blast radius</h3><dl class=\"facts\"><dt>Access</dt><dd class=\"{}\">{}</dd><dt>Acts as</dt><dd>{}</dd>",
            if a.level == sprawl_core::finding::AccessLevel::Admin {
                "live"
            } else {
                ""
            },
            esc(&a.level_text()),
            esc(&a.identity)
        );
        if !a.permissions.is_empty() {
            let _ = write!(
                p,
                "<dt>Permissions</dt><dd>{}</dd>",
                esc(&a.permissions.join(", "))
            );
        }
        for r in &a.reach {
            let _ = write!(p, "<dt>Reaches</dt><dd>{}</dd>", esc(r));
        }
        let _ = write!(
            p,
            "<dt>Found with</dt><dd>{} read-only API call(s)</dd></dl>",
            a.calls
        );
    }
    if !s.revocations.is_empty() {
        p.push_str("<h3>Revocation</h3><ul>");
        for r in &s.revocations {
            let _ = write!(p, "<li>{}</li>", esc(&super::revocation_line(r)));
        }
        p.push_str("</ul>");
    }
    // Next step.
    p.push_str(r#"<h3>Next step</h3><div class="next">"#);
    if status == "dead" {
        p.push_str("<p>The provider says this credential no longer works: remove the copies still present.</p>");
    }
    if let Some(n) = &s.next_step {
        let _ = write!(p, "<p>{}</p>", esc(n.revoke.trim()));
        if let Some(c) = &n.console {
            let _ = write!(p, "<p>Where: {}</p>", link(c));
        }
        match n.dual_window {
            Some(true) => p.push_str("<p>Old and new can be valid at once: issue the new credential, move every consumer to it, then revoke the old one.</p>"),
            Some(false) => p.push_str("<p>Issuing a new credential invalidates the old one: update every consumer in the same change window.</p>"),
            None => {}
        }
        if let Some(d) = &n.docs {
            let _ = write!(p, "<p>Documentation: {}</p>", link(d));
        }
    } else {
        let _ = write!(
            p,
            "<p>Rotate it at {}: issue a new credential, then revoke this one.</p>",
            esc(&s.provider)
        );
    }
    if s.occurrences.iter().any(|o| o.source == "ci-log") {
        p.push_str("<p>Delete the CI logs that printed it: anyone who can read the pipelines can read them (<code>sprawl purge-logs</code>; GitHub: the run's page &gt; Delete all logs; GitLab: the job's page &gt; Erase job log and artifacts).</p>");
    }
    let _ = write!(
        p,
        "<p>Then <code>sprawl rotation start {}</code>; after the next audit <code>sprawl rotation status</code> says which copies remain and whether the old value still works.</p></div>",
        esc(&s.fingerprint)
    );
    // Timeline.
    p.push_str("<h3>Timeline</h3><ul class=\"timeline\">");
    let mut dates: Vec<(String, String)> = s
        .occurrences
        .iter()
        .filter_map(|o| {
            let a = o.author.as_ref()?;
            let (who, when) = a.rsplit_once(' ')?;
            Some((
                when.to_string(),
                format!(
                    "committed to {} at <code>{}</code> by {}",
                    esc(&o.target),
                    esc(&o.path),
                    esc(who)
                ),
            ))
        })
        .collect();
    dates.sort();
    dates.dedup_by(|a, b| a.1 == b.1);
    if let Some(first) = dates.first() {
        let _ = write!(p, "<li>{} — first {}</li>", esc(&first.0), first.1);
    }
    if dates.len() > 1
        && let Some(last) = dates.last()
    {
        let _ = write!(p, "<li>{} — latest {}</li>", esc(&last.0), last.1);
    }
    let _ = write!(
        p,
        "<li>{} — first seen by an audit</li><li>{} — last seen by an audit</li>",
        esc(&s.first_seen),
        esc(&s.last_seen)
    );
    if let Some(t) = &s.verified_at {
        let _ = write!(p, "<li>{} — verified: {}</li>", esc(t), esc(status));
    }
    for r in &s.revocations {
        let _ = write!(
            p,
            "<li>{} — revocation via {}: {}</li>",
            esc(&r.attempted_at),
            esc(&r.method),
            esc(&r.outcome)
        );
    }
    if let Some(t) = &s.rotation_started {
        let _ = write!(p, "<li>{} — rotation started</li>", esc(t));
    }
    if let Some(t) = &s.rotation_completed {
        let _ = write!(
            p,
            "<li>{} — rotation completed: no copy left, the old value not live</li>",
            esc(t)
        );
    }
    p.push_str("</ul>");
    // Consumers.
    if !s.consumers.is_empty() {
        p.push_str("<h3>What breaks when it is rotated</h3><p class=\"muted\">Pipelines and deployments of the same target that read a secret of the name a copy is assigned to.</p><table><tr><th>Target</th><th>File</th><th>Kind</th><th>Job</th><th>Step</th><th>Name</th></tr>");
        for c in &s.consumers {
            let _ = write!(
                p,
                "<tr><td>{}</td><td><code>{}:{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code>{}</td></tr>",
                esc(&c.target),
                esc(&c.file),
                c.line,
                esc(&c.kind),
                esc(&c.job),
                esc(&c.step),
                esc(&c.name),
                if c.leaks_to_logs {
                    " <span class=\"live\">printed to logs</span>"
                } else {
                    ""
                }
            );
        }
        p.push_str("</table>");
    }
    // Copies by target.
    p.push_str("<h3>Copies by target</h3>");
    for (target, copies) in targets_of(s) {
        let here = copies.iter().filter(|o| o.present).count();
        let _ = write!(
            p,
            "<details class=\"target\" open><summary>{} — {} cop(ies), {here} present</summary><ul>",
            esc(target),
            copies.len()
        );
        for o in copies {
            p.push_str(&copy_item(o));
        }
        p.push_str("</ul></details>");
    }
    p.push_str("</section>\n");
    p
}

/// Copies grouped by target, targets in order of first appearance.
fn targets_of(s: &SecretRecord) -> Vec<(&str, Vec<&Occurrence>)> {
    let mut out: Vec<(&str, Vec<&Occurrence>)> = Vec::new();
    for o in &s.occurrences {
        match out.iter_mut().find(|(t, _)| *t == o.target) {
            Some((_, v)) => v.push(o),
            None => out.push((o.target.as_str(), vec![o])),
        }
    }
    out
}

/// Writes the report for `secrets` (already sorted most urgent first).
pub fn write(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut by_provider: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_age: BTreeMap<&str, usize> = BTreeMap::new();
    let mut envs: Vec<String> = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    for s in secrets {
        *by_provider.entry(s.provider.clone()).or_default() += 1;
        *by_age.entry(age_bucket(&s.first_seen, now)).or_default() += 1;
        if !envs.contains(&s.environment) {
            envs.push(s.environment.clone());
        }
        for o in &s.owners {
            if !owners.contains(o) {
                owners.push(o.clone());
            }
        }
    }
    envs.sort();
    owners.sort();
    let provider_names: Vec<String> = by_provider.keys().cloned().collect();
    let mut providers: Vec<(String, usize)> = by_provider.into_iter().collect();
    providers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if providers.len() > 12 {
        let rest: usize = providers[11..].iter().map(|p| p.1).sum();
        let others = providers.len() - 11;
        providers.truncate(11);
        providers.push((format!("{others} other providers"), rest));
    }
    let ages: Vec<(String, usize)> = [
        "< 1 week",
        "1–4 weeks",
        "1–12 months",
        "> 1 year",
        "unknown",
    ]
    .iter()
    .filter_map(|k| by_age.get(k).map(|n| (k.to_string(), *n)))
    .collect();
    let copies: usize = secrets.iter().map(|s| s.occurrences.len()).sum();
    let live = secrets
        .iter()
        .filter(|s| s.verification.as_deref() == Some("live"))
        .count();
    write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sprawl rotation report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head><body>
<div id="list">
<h1>Rotation report</h1>
<p id="summary">{} distinct secret(s), {copies} cop(ies), {live} verified live. Most urgent first: live before unknown before dead, production first, still present before history-only, more copies first. Click a secret for its page; click a column to sort.</p>
"#,
        secrets.len(),
    )?;
    // The owners' share of the work and the two charts side by side, so the list starts
    // within a laptop screen.
    write!(out, r#"<div class="charts">"#)?;
    let work = super::by_owner(secrets);
    if !work.is_empty() {
        write!(
            out,
            r#"<figure><figcaption>Who rotates what</figcaption><table class="owners" style="width:auto"><tr><th>Owner</th><th>To rotate</th><th>Live</th></tr>"#
        )?;
        for (owner, n, l) in work.iter().take(OWNERS_SHOWN) {
            write!(
                out,
                "<tr><td>{}</td><td>{n}</td><td>{l}</td></tr>",
                esc(owner)
            )?;
        }
        if work.len() > OWNERS_SHOWN {
            write!(
                out,
                "<tr><td colspan=\"3\" class=\"muted\">{} more owners: use the owner filter</td></tr>",
                work.len() - OWNERS_SHOWN
            )?;
        }
        write!(out, "</table></figure>")?;
    }
    write!(
        out,
        r#"{}{}</div>
<h2>Secrets</h2>
<div class="filters">{}{}{}{}{}{}<label>text <input data-filter="text" type="search" placeholder="path, rule, target…"></label><span><span id="shown">{}</span> shown</span></div>
<table id="secrets"><thead><tr><th data-k="rank">#</th><th data-k="provider">Provider</th><th data-k="rule">Rule</th><th data-k="env">Environment</th><th data-k="status">Status</th><th data-k="first">First seen</th><th data-k="copies">Copies</th><th data-k="present">Present</th><th data-k="owners">Owners</th><th data-k="access">Access</th><th>Next step</th></tr></thead>
"#,
        bars("Secrets by provider", &providers),
        bars("Secrets by age (first seen)", &ages),
        select("provider", "provider", &provider_names),
        select("env", "environment", &envs),
        select("owner", "owner", &owners),
        select(
            "status",
            "status",
            &["live", "unknown", "dead", "not verified"].map(String::from)
        ),
        select(
            "where",
            "where",
            &["present", "history-only"].map(String::from)
        ),
        select(
            "access",
            "access",
            &[
                "admin",
                "can-write",
                "read-only",
                "identity-only",
                "not analysed"
            ]
            .map(String::from)
        ),
        secrets.len(),
    )?;
    for (i, s) in secrets.iter().enumerate() {
        let status = status_of(s);
        let present = s.occurrences.iter().filter(|o| o.present).count();
        let next = match s.next_step.as_ref().and_then(|n| n.dual_window) {
            Some(true) => "rotate with overlap",
            Some(false) => "rotate in one window",
            None => "rotate",
        };
        writeln!(
            out,
            r##"<tbody class="secret"><tr data-rank="{n}" data-provider="{}" data-rule="{}" data-env="{}" data-status="{}" data-first="{}" data-copies="{}" data-present="{present}" data-where="{}" data-owners="{}" data-access="{access_key}"><td>{n}</td><td>{}</td><td><a href="#s-{n}"><code>{}</code></a></td><td>{}</td><td class="{}">{}</td><td>{}</td><td>{}</td><td>{present}</td><td>{}</td><td class="{access_class}">{access}</td><td>{next}</td></tr></tbody>"##,
            esc(&s.provider),
            esc(&s.rule_id),
            esc(&s.environment),
            esc(status),
            esc(&s.first_seen),
            s.occurrences.len(),
            if present > 0 {
                "present"
            } else {
                "history-only"
            },
            esc(&s.owners.join(" ")),
            esc(&s.provider),
            esc(&s.rule_id),
            esc(&s.environment),
            esc(status),
            esc(status),
            esc(&s.first_seen),
            s.occurrences.len(),
            esc(&s.owners.join(", ")),
            n = i + 1,
            access = s
                .access
                .as_ref()
                .map_or_else(|| "not analysed".to_string(), |a| a.level_text()),
            access_key = s.access.as_ref().map_or("not analysed", |a| a.level.name()),
            access_class = match s.access.as_ref().map(|a| a.level) {
                Some(sprawl_core::finding::AccessLevel::Admin) => "live",
                _ => "",
            },
        )?;
    }
    writeln!(out, "</table></div>")?;
    for (i, s) in secrets.iter().enumerate() {
        out.write_all(page(i, s).as_bytes())?;
    }
    write!(out, "<script>{SCRIPT}</script>\n</body></html>\n")
}
