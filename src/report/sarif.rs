//! SARIF 2.1.0 for code-scanning dashboards. Never carries a plaintext secret: the snippet is
//! the redacted preview, and `partialFingerprints` hold the keyed secret fingerprint (not a line
//! hash), so an alert follows the secret when lines move.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::ReportInput;
use crate::rules::{Rule, Severity};

/// Key of the secret fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "sprawlSecretFingerprint/v1";

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
    let results: Vec<SarifResult> = input
        .findings
        .iter()
        .map(|f| {
            let region = Region::builder()
                .start_line(f.line as i64)
                .start_column(f.column as i64)
                .end_line(f.end_line as i64)
                .snippet(ArtifactContent::builder().text(f.preview.clone()).build())
                .build();
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(uri(f.origin.display_path()))
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let mut fps = BTreeMap::new();
            fps.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
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
                crate::source::Origin::Git(g) => {
                    props.insert(
                        "git".to_string(),
                        serde_json::to_value(g.as_ref()).unwrap_or_default(),
                    );
                }
                crate::source::Origin::Image(i) => {
                    props.insert(
                        "image".to_string(),
                        serde_json::to_value(i.as_ref()).unwrap_or_default(),
                    );
                }
                _ => {}
            }
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
        })
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
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .build();
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
