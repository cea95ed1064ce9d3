//! SARIF 2.1.0 for code-scanning dashboards. Never carries a plaintext secret: the snippet is
//! the redacted preview, and `partialFingerprints` hold the keyed secret fingerprint (not a line
//! hash), so an alert follows the secret when lines move.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::ReportInput;
use sprawl_core::origin::Origin;
use sprawl_core::rules::{Rule, Severity};

/// Key of the secret fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "sprawlSecretFingerprint/v1";

/// The base id relative artifact URIs hang from; `originalUriBaseIds` says where it is.
pub const SRCROOT: &str = "%SRCROOT%";

/// Most results per run GitHub code scanning accepts; the most severe are kept.
pub const MAX_RESULTS: usize = 25_000;

/// Most locations per result GitHub accepts (sprawl writes one; the commits that introduced a
/// secret, in properties, are capped the same way).
pub const MAX_LOCATIONS: usize = 1_000;

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub code scanning reads `security-severity` (0-10) from rule properties.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Where a finding's file is, as an artifact location: relative to `%SRCROOT%` when it is in
/// the source root (files under it, paths in its repository), else an absolute `file://` URI;
/// paths inside images stay plain relative references (no base: they are not source files).
fn artifact(
    f: &sprawl_core::finding::Finding,
    root: Option<&Path>,
    cwd: Option<&Path>,
) -> ArtifactLocation {
    let path = f.origin.display_path();
    let relative = match &f.origin {
        Origin::Git(_) => Some(path.trim_start_matches("./").to_string()),
        Origin::File { .. } => root.and_then(|root| {
            let p = Path::new(path);
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd?.join(p)
            };
            let abs = normalize(&abs);
            abs.strip_prefix(root)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
        }),
        Origin::Image(_) | Origin::CiLog(_) | Origin::Stdin => None,
    };
    match relative {
        Some(r) if root.is_some() => ArtifactLocation::builder()
            .uri(uri(&r))
            .uri_base_id(SRCROOT)
            .build(),
        _ => ArtifactLocation::builder().uri(uri(path)).build(),
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (a finding's file may be inside an
/// archive).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A directory as a `file://` URI with a trailing slash (for `originalUriBaseIds`).
fn dir_uri(dir: &Path) -> String {
    let mut u = uri(&dir.to_string_lossy());
    if !u.starts_with("file://") {
        u = format!("file:///{u}");
    }
    if !u.ends_with('/') {
        u.push('/');
    }
    u
}

/// A path as a SARIF URI reference: relative paths stay relative, with `/` separators and
/// percent-encoding of anything outside the unreserved set.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let (prefix, rest) = if path.starts_with('/') {
        ("file://", path.as_str())
    } else {
        ("", path.strip_prefix("./").unwrap_or(&path))
    };
    let mut out = String::from(prefix);
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let s = &rule.spec;
    let mut help = format!(
        "{}\n\nProvider: {}. Rotate the credential at the provider, then remove it from the code and its history.",
        s.description, s.provider
    );
    if !s.references.is_empty() {
        help.push_str(&format!("\n\nReferences: {}", s.references.join(", ")));
    }
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        serde_json::Value::String(security_severity(s.severity).into()),
    );
    props.insert(
        "confidence".to_string(),
        serde_json::to_value(s.confidence).unwrap_or_default(),
    );
    let properties = PropertyBag::builder()
        .tags(vec![
            "security".to_string(),
            "secret".to_string(),
            s.provider.clone(),
        ])
        .additional_properties(props)
        .build();
    let base = ReportingDescriptor::builder()
        .id(s.id.clone())
        .name(s.name.clone())
        .short_description(
            MultiformatMessageString::builder()
                .text(s.name.clone())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(if s.description.is_empty() {
                    s.name.clone()
                } else {
                    s.description.clone()
                })
                .build(),
        )
        .help(MultiformatMessageString::builder().text(help).build())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::to_value(level(s.severity)).unwrap_or_default())
                .build(),
        )
        .properties(properties);
    match s.references.first() {
        Some(u) => base.help_uri(u.clone()).build(),
        None => base.build(),
    }
}

/// Writes one SARIF log with one run.
pub fn write(input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut used: Vec<&Rule> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for f in input.findings {
        if !index.contains_key(f.rule_id.as_str())
            && let Some(r) = input.rules.iter().find(|r| r.spec.id == f.rule_id)
        {
            index.insert(&r.spec.id, used.len());
            used.push(r);
        }
    }
    // Over GitHub's limit, keep the most severe (stable: report order within a severity).
    let mut chosen: Vec<&sprawl_core::finding::Finding> = input.findings.iter().collect();
    let truncated = chosen.len() > MAX_RESULTS;
    if truncated {
        chosen.sort_by_key(|f| std::cmp::Reverse(f.severity));
        chosen.truncate(MAX_RESULTS);
    }
    let cwd = std::env::current_dir()
        .ok()
        .map(|c| c.canonicalize().unwrap_or(c));
    let results: Vec<SarifResult> = chosen
        .into_iter()
        .map(|f| result(f, &index, input.srcroot, cwd.as_deref()))
        .collect();
    let notifications: Vec<Notification> = input
        .errors
        .iter()
        .map(|e| {
            Notification::builder()
                .message(Message::builder().text(e.clone()).build())
                .level(serde_json::json!("error"))
                .build()
        })
        .collect();
    let invocation = Invocation::builder()
        .execution_successful(input.errors.is_empty())
        .tool_execution_notifications(notifications)
        .build();
    let driver = ToolComponent::builder()
        .name("sprawl")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/sprawl-scanner/sprawl")
        .rules(used.iter().map(|r| descriptor(r)).collect::<Vec<_>>())
        .build();
    let run_props = if truncated {
        truncation(input.findings.len())
    } else {
        BTreeMap::new()
    };
    let mut base_ids = BTreeMap::new();
    if let Some(root) = input.srcroot {
        base_ids.insert(
            SRCROOT.to_string(),
            ArtifactLocation::builder().uri(dir_uri(root)).build(),
        );
    }
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .original_uri_base_ids(base_ids)
        .properties(
            PropertyBag::builder()
                .additional_properties(run_props)
                .build(),
        )
        .build();
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut doc = serde_json::to_value(&log)?;
    // An empty property bag says nothing: leave it out.
    if let Some(run) = doc["runs"].get_mut(0).and_then(|r| r.as_object_mut())
        && run.get("properties") == Some(&serde_json::json!({}))
    {
        run.remove("properties");
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// One SARIF result: where, what, the keyed fingerprint, and sprawl's properties.
fn result(
    f: &sprawl_core::finding::Finding,
    index: &BTreeMap<&str, usize>,
    srcroot: Option<&std::path::Path>,
    cwd: Option<&std::path::Path>,
) -> SarifResult {
    let region = Region::builder()
        .start_line(f.line as i64)
        .start_column(f.column as i64)
        .end_line(f.end_line as i64)
        .snippet(ArtifactContent::builder().text(f.preview.clone()).build())
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact(f, srcroot, cwd))
                .region(region)
                .build(),
        )
        .build();
    let mut fps = BTreeMap::new();
    fps.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
    let props = properties(f);
    let b = SarifResult::builder()
        .properties(PropertyBag::builder().additional_properties(props).build())
        .rule_id(f.rule_id.clone())
        .level(level(f.severity))
        .message(
            Message::builder()
                .text(format!("{} found: {}", f.rule_name, f.preview))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(fps);
    match index.get(f.rule_id.as_str()) {
        Some(&i) => b.rule_index(i as i64).build(),
        None => b.build(),
    }
}

/// A result's properties: environment, verification, CI context and provenance (commits
/// capped at [`MAX_LOCATIONS`], image layer, working-tree reason).
fn properties(f: &sprawl_core::finding::Finding) -> BTreeMap<String, serde_json::Value> {
    let mut props = BTreeMap::new();
    props.insert(
        "environment".to_string(),
        serde_json::json!(f.environment.name()),
    );
    if let Some(v) = &f.verification {
        props.insert(
            "verification".to_string(),
            serde_json::to_value(v).unwrap_or_default(),
        );
    }
    if let Some(c) = &f.context {
        props.insert(
            "ci".to_string(),
            serde_json::to_value(c.as_ref()).unwrap_or_default(),
        );
    }
    match &f.origin {
        sprawl_core::origin::Origin::Git(g) => {
            let mut git = serde_json::to_value(g.as_ref()).unwrap_or_default();
            if g.commits.len() > MAX_LOCATIONS
                && let Some(c) = git.get_mut("commits").and_then(|c| c.as_array_mut())
            {
                c.truncate(MAX_LOCATIONS);
                git["commits_total"] = serde_json::json!(g.commits.len());
            }
            props.insert("git".to_string(), git);
        }
        sprawl_core::origin::Origin::Image(i) => {
            props.insert(
                "image".to_string(),
                serde_json::to_value(i.as_ref()).unwrap_or_default(),
            );
        }
        sprawl_core::origin::Origin::File {
            work_tree: Some(state),
            ..
        } => {
            props.insert(
                "workTree".to_string(),
                serde_json::to_value(state).unwrap_or_default(),
            );
        }
        _ => {}
    }
    props
}

/// The run properties saying results were cut to GitHub's limit.
fn truncation(total: usize) -> BTreeMap<String, serde_json::Value> {
    let mut run_props = BTreeMap::new();
    run_props.insert("sprawl/truncated".to_string(), serde_json::json!(true));
    run_props.insert("sprawl/resultsTotal".to_string(), serde_json::json!(total));
    run_props.insert(
        "sprawl/resultsReported".to_string(),
        serde_json::json!(MAX_RESULTS),
    );
    run_props.insert(
        "sprawl/truncation".to_string(),
        serde_json::json!(format!(
            "{} results exceed the {MAX_RESULTS} a code-scanning run accepts; the {MAX_RESULTS} most severe are reported, the JSON report has all",
            total
        )),
    );
    run_props
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprawl_core::finding::Finding;

    fn finding(i: usize, severity: Severity, path: &str) -> Finding {
        Finding {
            rule_id: "generic.password".into(),
            rule_name: "Password".into(),
            provider: "Generic".into(),
            severity,
            environment: Default::default(),
            context: None,
            verification: None,
            confidence: sprawl_core::rules::Confidence::Low,
            origin: Origin::File {
                path: path.into(),
                work_tree: None,
            },
            line: i + 1,
            column: 1,
            end_line: i + 1,
            preview: "password = ****".into(),
            fingerprint: format!("{i:032x}"),
            secret: format!("s3cret-{i}").into(),
            generic: true,
            owners: Vec::new(),
        }
    }

    fn sarif(findings: &[Finding], root: Option<&Path>) -> serde_json::Value {
        let stats = Default::default();
        let input = ReportInput {
            findings,
            errors: &[],
            notes: &[],
            stats: &stats,
            rules: &[],
            show_secrets: false,
            color: false,
            srcroot: root,
            verbose: false,
        };
        let mut out = Vec::new();
        write(&input, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn over_the_limit_the_most_severe_results_are_kept_and_the_cut_is_noted() {
        let mut findings: Vec<Finding> = (0..MAX_RESULTS + 10)
            .map(|i| finding(i, Severity::Low, "a.env"))
            .collect();
        for i in 0..5 {
            findings.push(finding(MAX_RESULTS + 10 + i, Severity::Critical, "b.env"));
        }
        let doc = sarif(&findings, None);
        let run = &doc["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(
            results.iter().filter(|r| r["level"] == "error").count(),
            5,
            "every critical result survives the cut"
        );
        assert!(
            results
                .iter()
                .all(|r| r["locations"].as_array().unwrap().len() <= MAX_LOCATIONS)
        );
        assert_eq!(run["properties"]["sprawl/truncated"], true);
        assert_eq!(run["properties"]["sprawl/resultsTotal"], MAX_RESULTS + 15);
        // Under the limit: nothing cut, nothing noted.
        let small = sarif(&findings[..3], None);
        assert!(
            small["runs"][0]["properties"]
                .get("sprawl/truncated")
                .is_none()
        );
    }

    #[test]
    fn paths_are_relative_to_the_source_root() {
        let root = Path::new("/work/repo");
        let doc = sarif(
            &[
                finding(0, Severity::High, "/work/repo/config/app.env"),
                finding(1, Severity::High, "/elsewhere/x.env"),
            ],
            Some(root),
        );
        let run = &doc["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"][SRCROOT]["uri"],
            "file:///work/repo/"
        );
        let loc =
            |i: usize| &run["results"][i]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc(0)["uri"], "config/app.env");
        assert_eq!(loc(0)["uriBaseId"], SRCROOT);
        assert_eq!(loc(1)["uri"], "file:///elsewhere/x.env");
        assert!(loc(1).get("uriBaseId").is_none());
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
