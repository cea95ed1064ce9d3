//! The HTML rotation report: one self-contained file (inline CSS, inline script, inline SVG
//! charts; no network fetch), a sortable table of secrets most urgent first with every copy
//! under each, and two charts: secrets by provider and by age.

use std::collections::BTreeMap;
use std::io::Write;

use sprawl_inventory::SecretRecord;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Horizontal bar chart as inline SVG.
fn bars(title: &str, rows: &[(String, usize)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let h = 22 * rows.len() + 30;
    let mut svg = format!(
        r#"<figure><figcaption>{}</figcaption><svg role="img" aria-label="{}" width="520" height="{h}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title),
        esc(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = 10 + i * 22;
        let w = 300 * n / max;
        svg.push_str(&format!(
            r##"<text x="0" y="{}" font-size="12">{}</text><rect x="170" y="{}" width="{w}" height="16" fill="#c0392b"/><text x="{}" y="{}" font-size="12">{n}</text>"##,
            y + 12,
            esc(label),
            y,
            175 + w,
            y + 12
        ));
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

/// Writes the report for `secrets` (already sorted most urgent first).
pub fn write(secrets: &[SecretRecord], out: &mut dyn Write) -> std::io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut by_provider: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_age: BTreeMap<&str, usize> = BTreeMap::new();
    for s in secrets {
        *by_provider.entry(s.provider.clone()).or_default() += 1;
        *by_age.entry(age_bucket(&s.first_seen, now)).or_default() += 1;
    }
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
    write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sprawl rotation report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
h1 {{ font-size: 1.6em; }} .charts {{ display: flex; gap: 3em; flex-wrap: wrap; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ cursor: pointer; background: #f4f4f4; user-select: none; }} th:after {{ content: " ⇅"; color: #999; }}
tr.copies td {{ background: #fafafa; font-size: 12px; }} .live {{ color: #c0392b; font-weight: bold; }}
.dead {{ color: #27ae60; }} code {{ font-size: 12px; }} figcaption {{ font-weight: bold; }}
</style></head><body>
<h1>Rotation report</h1>
<p id="summary">{} distinct secret(s), {copies} cop(ies). Most urgent first: live before unknown before dead, production first, still present before history-only, more copies first. Click a column to sort.</p>
<div class="charts">{}{}</div>
<table id="secrets"><thead><tr><th data-k="rank">#</th><th data-k="provider">Provider</th><th data-k="rule">Rule</th><th data-k="env">Environment</th><th data-k="status">Status</th><th data-k="first">First seen</th><th data-k="copies">Copies</th><th data-k="present">Present</th><th>Preview</th></tr></thead>
"#,
        secrets.len(),
        bars("Secrets by provider", &providers),
        bars("Secrets by age (first seen)", &ages),
    )?;
    for (i, s) in secrets.iter().enumerate() {
        let status = s.verification.as_deref().unwrap_or("not verified");
        let present = s.occurrences.iter().filter(|o| o.present).count();
        write!(
            out,
            r#"<tbody class="secret"><tr data-rank="{}" data-provider="{}" data-rule="{}" data-env="{}" data-status="{}" data-first="{}" data-copies="{}" data-present="{present}"><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class="{}">{}</td><td>{}</td><td>{}</td><td>{present}</td><td><code>{}</code></td></tr>"#,
            i + 1,
            esc(&s.provider),
            esc(&s.rule_id),
            esc(&s.environment),
            esc(status),
            esc(&s.first_seen),
            s.occurrences.len(),
            i + 1,
            esc(&s.provider),
            esc(&s.rule_id),
            esc(&s.environment),
            esc(status),
            esc(status),
            esc(&s.first_seen),
            s.occurrences.len(),
            esc(&s.preview),
        )?;
        write!(out, r#"<tr class="copies"><td></td><td colspan="8"><ul>"#)?;
        for o in &s.occurrences {
            write!(
                out,
                "<li>{} <code>{}</code> — <code>{}:{}</code>{}{}{}</li>",
                esc(&o.source),
                esc(&o.target),
                esc(&o.path),
                o.line,
                o.commit
                    .as_ref()
                    .or(o.image.as_ref())
                    .map(|c| format!(" — <code>{}</code>", esc(c)))
                    .unwrap_or_default(),
                o.ci.as_ref()
                    .map(|c| format!(" — CI: {}", esc(c)))
                    .unwrap_or_default(),
                if o.present {
                    ""
                } else {
                    " — <em>history/hidden</em>"
                },
            )?;
        }
        writeln!(out, "</ul></td></tr></tbody>")?;
    }
    write!(
        out,
        r#"</table>
<script>
(function () {{
  var table = document.getElementById("secrets");
  var dir = {{}};
  table.querySelectorAll("th[data-k]").forEach(function (th) {{
    th.addEventListener("click", function () {{
      var k = th.getAttribute("data-k");
      dir[k] = -(dir[k] || -1);
      var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.secret"));
      bodies.sort(function (a, b) {{
        var x = a.rows[0].getAttribute("data-" + k), y = b.rows[0].getAttribute("data-" + k);
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return c * dir[k];
      }});
      bodies.forEach(function (b) {{ table.appendChild(b); }});
    }});
  }});
}})();
</script>
</body></html>
"#
    )
}
