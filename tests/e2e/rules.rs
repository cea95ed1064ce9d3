//! The built-in rules: enough of them, each with examples and negatives, all passing; and the
//! CLI help text, snapshotted so a change in it is a reviewed diff.

use crate::common::sprawl;
use sprawl::detect::check::check_rules;
use sprawl::rules::load;

#[test]
fn builtin_rules_pass_their_examples() {
    let loaded = load::builtin();
    let report = check_rules(&loaded);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert!(report.rules >= 150, "only {} rules", report.rules);
    for r in &loaded.rules {
        assert!(
            !r.spec.examples.is_empty() && !r.spec.negatives.is_empty(),
            "{}",
            r.spec.id
        );
        assert!(
            !r.spec.description.is_empty(),
            "{} has no description (SARIF help)",
            r.spec.id
        );
    }
}

#[test]
fn rule_ids_are_stable_and_unique() {
    let loaded = load::builtin();
    let mut ids: Vec<&str> = loaded.rules.iter().map(|r| r.spec.id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    for must in ["github.pat.classic", "generic.password", "generic.secret"] {
        assert!(ids.contains(&must), "missing {must}");
    }
}

#[test]
fn help_text() {
    let out = sprawl()
        .args(["scan", "--help"])
        .env("COLUMNS", "100")
        .output()
        .expect("runs");
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
