//! Generated documentation stays in step with the binary: docs/rules.md is what
//! `sprawl rules list --format md` prints, docs/man/ what `sprawl man --dir` writes, and the
//! completion scripts generate for every shell. Regenerate with `bash scripts/gen-docs.sh`.

use crate::common::sprawl;

#[test]
fn rules_reference_is_current() {
    let out = sprawl()
        .args(["rules", "list", "--format", "md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string("docs/rules.md").unwrap();
    assert!(
        generated == committed,
        "docs/rules.md is stale: run `bash scripts/gen-docs.sh`"
    );
    assert!(generated.contains("| `github.pat.classic` |"));
}

#[test]
fn man_pages_are_current() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = sprawl()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.contains(&"sprawl.1".to_string()) && names.contains(&"sprawl-scan.1".to_string())
    );
    for name in &names {
        let generated = std::fs::read(dir.path().join(name)).unwrap();
        let committed = std::fs::read(format!("docs/man/{name}"))
            .unwrap_or_else(|_| panic!("docs/man/{name} missing: run `bash scripts/gen-docs.sh`"));
        assert!(
            generated == committed,
            "docs/man/{name} is stale: run `bash scripts/gen-docs.sh`"
        );
    }
    let page = sprawl().arg("man").output().unwrap();
    let text = String::from_utf8_lossy(&page.stdout);
    assert!(
        text.contains(".TH sprawl 1") && text.contains("audit"),
        "{text}"
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = sprawl().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("staged") && text.contains("audit"), "{shell}");
    }
    let bad = sprawl().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
