//! The corpus: every secret planted in corpus/positives (listed in corpus/manifest.json) is found
//! with the expected rule, nothing else is reported there, and corpus/negatives gives no finding.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::sprawl;

type Key = (String, u64, String);

fn corpus_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))
}

fn scan(target: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = sprawl()
        .current_dir(corpus_dir())
        .args(["scan", target, "--no-ignore", "--format", "json"])
        .args(extra)
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout).expect("JSON report");
    (out.status.code().unwrap_or(-1), doc)
}

fn keys(findings: &serde_json::Value) -> BTreeSet<Key> {
    findings
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn positives_match_the_manifest() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let expected = keys(&manifest);
    let (code, doc) = scan("positives", &[]);
    assert_eq!(code, 1);
    let found = keys(&doc["findings"]);
    let missed: Vec<&Key> = expected.difference(&found).collect();
    let extra: Vec<&Key> = found.difference(&expected).collect();
    let recall = (expected.len() - missed.len()) as f64 / expected.len() as f64;
    eprintln!(
        "corpus recall: {}/{} = {:.1}%",
        expected.len() - missed.len(),
        expected.len(),
        recall * 100.0
    );
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed: {missed:#?}\nunexpected: {extra:#?}"
    );
}

#[test]
fn positives_snapshot() {
    let (_, doc) = scan("positives", &["-j", "1"]);
    insta::assert_json_snapshot!(doc["findings"]);
}

#[test]
fn negatives_are_clean() {
    let (code, doc) = scan("negatives", &[]);
    let found = keys(&doc["findings"]);
    assert!(found.is_empty(), "false positives: {found:#?}");
    assert_eq!(code, 0);
}
