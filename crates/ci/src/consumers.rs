//! The consumers map: for every named secret a pipeline references (`secrets.NPM_TOKEN`,
//! `$(DeployKey)`, `credentials('prod-ssh')`, `from_secret: docker_password`, a Kubernetes
//! `secretKeyRef`), the file, job and step that use it — the answer to "what breaks when I
//! rotate NPM_TOKEN?".

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use super::kinds::Kind;
use super::yaml::{self, Seg};
use super::{element_names, job_and_step, leaks_to_logs};

/// One use of a named secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Consumer {
    /// The secret's name as the platform knows it.
    pub secret: String,
    /// The file.
    pub file: String,
    /// 1-based line of the reference.
    pub line: usize,
    /// Platform or file kind.
    pub kind: Kind,
    /// Job, when the platform has jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Step, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The step echoes it or writes it to `$GITHUB_ENV`/`$GITHUB_OUTPUT`.
    pub leaks_to_logs: bool,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// Names that hold secrets (a bare `$HOME` or `$PATH` is not a secret reference).
fn secret_like(name: &str) -> bool {
    let u = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "KEY",
        "CREDENTIAL",
        "AUTH",
        "CERT",
        "PRIVATE",
        "WEBHOOK",
    ]
    .iter()
    .any(|w| u.contains(w))
        && !matches!(u.as_str(), "KEYS" | "MONKEY" | "PASSTHROUGH")
}

/// Named secrets referenced in `text` for the conventions of `kind`.
fn references(kind: Kind, text: &str) -> Vec<String> {
    static GH: OnceLock<Regex> = OnceLock::new();
    static VAR: OnceLock<Regex> = OnceLock::new();
    static AZ: OnceLock<Regex> = OnceLock::new();
    static JENKINS: OnceLock<Regex> = OnceLock::new();
    let mut out = Vec::new();
    match kind {
        Kind::GithubActions | Kind::GithubAction => {
            for c in re(&GH, r"\$\{\{[^}]*?\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)").captures_iter(text)
            {
                out.push(c[1].to_string());
            }
        }
        Kind::AzurePipelines => {
            for c in re(&AZ, r"\$\(([A-Za-z_][A-Za-z0-9_.]*)\)").captures_iter(text) {
                if secret_like(&c[1]) || &c[1] == "System.AccessToken" {
                    out.push(c[1].to_string());
                }
            }
        }
        Kind::Jenkins => {
            for c in re(
                &JENKINS,
                r#"(?:credentials\(\s*|credentialsId\s*:\s*)['"]([^'"]+)['"]"#,
            )
            .captures_iter(text)
            {
                out.push(c[1].to_string());
            }
        }
        _ => {}
    }
    if !matches!(
        kind,
        Kind::GithubActions | Kind::GithubAction | Kind::AzurePipelines
    ) {
        for c in re(&VAR, r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").captures_iter(text) {
            if secret_like(&c[1]) {
                out.push(c[1].to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every secret reference in one CI or GitOps file.
pub fn consumers(kind: Kind, file: &str, text: &str) -> Result<Vec<Consumer>, String> {
    let mut out = Vec::new();
    if !kind.is_yaml() {
        if kind != Kind::Jenkins {
            return Ok(out);
        }
        let mut stage = None;
        for (i, line) in text.lines().enumerate() {
            if let Some(s) = super::jenkins_stage(line) {
                stage = Some(s);
            }
            for secret in references(kind, line) {
                out.push(Consumer {
                    secret,
                    file: file.to_string(),
                    kind,
                    job: stage.clone(),
                    step: None,
                    line: i + 1,
                    leaks_to_logs: leaks_to_logs(line),
                });
            }
        }
        return Ok(out);
    }
    let scalars = yaml::outline(text).map_err(|e| format!("{file}: {e}"))?;
    let names = element_names(&scalars);
    // Managed secrets are inventoried by name: SealedSecret keys, SOPS-encrypted keys.
    let sealed: Vec<(usize, String)> = scalars
        .iter()
        .filter(|s| s.path.len() == 1 && s.key() == Some("kind") && s.value == "SealedSecret")
        .filter_map(|k| {
            scalars
                .iter()
                .find(|s| s.doc == k.doc && yaml::path_string(&s.path) == "metadata.name")
                .map(|n| (k.doc, n.value.clone()))
        })
        .collect();
    for s in &scalars {
        let managed = if let Some((_, name)) = sealed.iter().find(|(d, _)| *d == s.doc)
            && s.under("encryptedData")
        {
            Some(format!("{name}/{}", s.key().unwrap_or("")))
        } else if kind == Kind::Sops
            && s.value.starts_with("ENC[AES256_GCM,")
            && !matches!(s.path.first(), Some(Seg::Key(k)) if k == "sops")
        {
            Some(yaml::path_string(&s.path))
        } else {
            None
        };
        if let Some(secret) = managed {
            out.push(Consumer {
                secret,
                file: file.to_string(),
                kind,
                job: None,
                step: None,
                line: s.line,
                leaks_to_logs: false,
            });
        }
    }
    for s in &scalars {
        let (job, step) = job_and_step(kind, &s.path, &names);
        let mut found: Vec<(String, usize)> = Vec::new();
        // Kubernetes-style references name the secret object (and key) structurally.
        let key = s.key().unwrap_or("");
        let parent = s.path.len().checked_sub(2).and_then(|i| match &s.path[i] {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        });
        match (parent, key) {
            (Some("secretKeyRef"), "name") | (_, "secretName") | (_, "from_secret") => {
                found.push((s.value.clone(), s.line));
            }
            (Some("remoteRef"), "key") => found.push((s.value.clone(), s.line)),
            _ => {}
        }
        if kind.is_pipeline() {
            for (off, l) in s.value.lines().enumerate() {
                for r in references(kind, l) {
                    found.push((r, s.line + if s.block { off } else { 0 }));
                }
            }
        }
        for (secret, line) in found {
            out.push(Consumer {
                leaks_to_logs: kind.is_pipeline()
                    && s.value
                        .lines()
                        .any(|l| l.contains(&secret) && leaks_to_logs(l)),
                secret,
                file: file.to_string(),
                kind,
                job: job.clone(),
                step: step.clone(),
                line,
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Every consumer under `root` (hidden directories such as `.github` included, `.git` not),
/// and one error per unreadable or malformed file.
pub fn collect(root: &Path) -> (Vec<Consumer>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walk {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        if !crate::candidate(&shown) {
            continue;
        }
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                errors.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let Some(kind) = crate::kinds::classify(&shown, &text) else {
            continue;
        };
        match consumers(kind, &shown, &text) {
            Ok(c) => out.extend(c),
            Err(e) => errors.push(e),
        }
    }
    out.sort();
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_workflow_consumers() {
        let y = "jobs:\n  publish:\n    steps:\n      - name: Publish\n        run: |\n          npm publish\n          echo \"t=${{ secrets.NPM_TOKEN }}\" >> $GITHUB_ENV\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n";
        let c = consumers(Kind::GithubActions, "w.yml", y).unwrap();
        assert_eq!(c.len(), 2, "{c:#?}");
        assert!(
            c.iter()
                .all(|x| x.secret == "NPM_TOKEN" && x.job.as_deref() == Some("publish"))
        );
        assert!(c.iter().all(|x| x.step.as_deref() == Some("Publish")));
        let run = c.iter().find(|x| x.line == 7).expect("line of the echo");
        assert!(run.leaks_to_logs);
        assert!(!c.iter().find(|x| x.line == 9).unwrap().leaks_to_logs);
    }

    #[test]
    fn other_platforms() {
        let gl = "deploy:\n  script:\n    - curl -H \"PRIVATE-TOKEN: $DEPLOY_TOKEN\" https://x\n    - echo $HOME\n";
        let c = consumers(Kind::GitlabCi, ".gitlab-ci.yml", gl).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].secret.as_str(), c[0].job.as_deref()),
            ("DEPLOY_TOKEN", Some("deploy"))
        );
        let az = "steps:\n  - script: git push https://$(System.AccessToken)@dev.azure.com/x\n    displayName: Push\n";
        let c = consumers(Kind::AzurePipelines, "azure-pipelines.yml", az).unwrap();
        assert_eq!(
            (c[0].secret.as_str(), c[0].step.as_deref()),
            ("System.AccessToken", Some("Push"))
        );
        let j = "pipeline {\n  stages {\n    stage('Deploy') {\n      environment { KEY = credentials('prod-ssh') }\n    }\n  }\n}\n";
        let c = consumers(Kind::Jenkins, "Jenkinsfile", j).unwrap();
        assert_eq!(
            (c[0].secret.as_str(), c[0].job.as_deref()),
            ("prod-ssh", Some("Deploy"))
        );
        let k = "spec:\n  containers:\n    - env:\n        - name: DB\n          valueFrom:\n            secretKeyRef:\n              name: db-creds\n              key: password\n";
        let c = consumers(Kind::Kubernetes, "d.yaml", k).unwrap();
        assert_eq!(c[0].secret, "db-creds");
    }
}
