//! CI pipelines and GitOps files understood structurally. For a file whose path or content
//! makes it a CI config (GitHub Actions, GitLab CI, CircleCI, Azure Pipelines, Bitbucket,
//! Travis, Drone, Buildkite, Tekton, Argo Workflows, Jenkins) or a GitOps file (Kubernetes
//! manifests, compose, `.env`, Dockerfile, Terraform, Ansible), the detector's matches are
//! refined after detection:
//!
//! - each match gets its context: platform, job, step and key path (`jobs.deploy.steps[2].run`);
//! - references (`${{ secrets.X }}`, `$(System.AccessToken)`, `credentials('id')`, `${VAR}`)
//!   are never findings, and encrypted or managed values (SOPS `ENC[…]`, SealedSecret
//!   `encryptedData`, Ansible Vault) are dropped;
//! - Kubernetes `Secret` `data:` values are base64-decoded and scanned as content;
//! - risk notes: long-lived cloud keys in pipelines (OIDC would remove them), secrets echoed or
//!   written to `$GITHUB_ENV`/`$GITHUB_OUTPUT`.
//!
//! `consumers` maps named secrets to the workflows, jobs and steps that use them.

pub mod consumers;
pub mod kinds;
pub mod yaml;

use std::collections::HashMap;

use base64::Engine as _;

pub use kinds::Kind;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::read::{self as fs, Windowing};
use sprawl_detect::stream::{BlobMatch, detect_stream};
use sprawl_detect::{Engine, Scratch};
use yaml::{Scalar, Seg, path_string};

pub use sprawl_core::finding::CiContext;

/// Files larger than this are not parsed (CI configs and manifests are small).
const MAX_PARSE: usize = 4 << 20;

/// True when `path` may be a CI or GitOps file: a known name, or YAML whose content decides.
pub fn candidate(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    kinds::from_path(path).is_some()
        || lower.ends_with(".yml")
        || lower.ends_with(".yaml")
        || lower.contains("/templates/")
}

/// Classifies a blob found at `path` and refines its matches when it is a CI or GitOps file.
pub fn refine_bytes(
    path: &str,
    bytes: &[u8],
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    matches: &mut Vec<BlobMatch>,
) -> Vec<Message> {
    if !candidate(path) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(bytes);
    match kinds::classify(path, &text) {
        Some(kind) if kind.is_yaml() && text.len() > MAX_PARSE => {
            refine_by_document(kind, path, &text, engine, fp, scratch, matches)
        }
        Some(_) if text.len() > MAX_PARSE => Vec::new(),
        Some(kind) => refine(kind, path, &text, engine, fp, scratch, matches),
        None => Vec::new(),
    }
}

/// What refining a file has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Something worth knowing (malformed YAML read as plain text).
    Note(String),
    /// Something that may hide a secret could not be read: the exit code must say so.
    Error(String),
}

/// Splits the messages of [`refine_bytes`] into errors and notes.
pub fn split_messages(messages: Vec<Message>) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for m in messages {
        match m {
            Message::Error(e) => errors.push(e),
            Message::Note(n) => notes.push(n),
        }
    }
    (errors, notes)
}

/// Largest CI or GitOps file read whole for its structure; larger ones are scanned as plain
/// text only, and the report says so.
pub const MAX_STRUCTURE_READ: u64 = 256 << 20;

/// True when a YAML text declares a Kubernetes `Secret` (whose `data:` must be decoded).
fn declares_secret(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        t.strip_prefix("kind:")
            .is_some_and(|k| k.trim().trim_matches(|c| c == '"' || c == '\'') == "Secret")
    })
}

/// Refines a YAML file too big to parse whole (Helm or kustomize output with thousands of
/// documents) one `---` document at a time: each document is parsed alone, with the matches
/// on its lines, and lines are shifted back. A single document over the limit that declares a
/// Kubernetes Secret is an error (its data would go undecoded); others are scanned as text.
fn refine_by_document(
    kind: Kind,
    path: &str,
    text: &str,
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    matches: &mut Vec<BlobMatch>,
) -> Vec<Message> {
    let mut notes = Vec::new();
    // (byte start, first line) of every document.
    let mut starts = vec![(0usize, 1usize)];
    let mut pos = 0;
    for (line, l) in (1..).zip(text.split_inclusive('\n')) {
        if pos > 0 && (l.starts_with("---") && l[3..].trim().is_empty() || l.starts_with("--- ")) {
            starts.push((pos, line));
        }
        pos += l.len();
    }
    let mut all = std::mem::take(matches);
    for (i, &(start, first_line)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len(), |n| n.0);
        let doc = &text[start..end];
        let last_line = starts.get(i + 1).map_or(usize::MAX, |n| n.1);
        let (mine, rest): (Vec<BlobMatch>, Vec<BlobMatch>) = all
            .into_iter()
            .partition(|m| m.line >= first_line && m.line < last_line);
        all = rest;
        let secret = declares_secret(doc);
        if mine.is_empty() && !secret {
            continue;
        }
        if doc.len() > MAX_PARSE {
            if secret {
                notes.push(Message::Error(format!(
                    "{path}: YAML document at line {first_line} is over {} MiB: its Kubernetes Secret data was not decoded",
                    MAX_PARSE >> 20
                )));
            }
            matches.extend(mine);
            continue;
        }
        let shift = first_line - 1;
        let mut local: Vec<BlobMatch> = mine
            .into_iter()
            .map(|mut m| {
                m.line -= shift;
                m.end_line -= shift;
                m
            })
            .collect();
        notes.extend(refine(kind, path, doc, engine, fp, scratch, &mut local));
        matches.extend(local.into_iter().map(|mut m| {
            m.line += shift;
            m.end_line += shift;
            m
        }));
    }
    matches.extend(all);
    notes
}

/// Refines the matches of one file: context, references and managed values dropped, decoded
/// Kubernetes Secret data added. Returns notes (malformed YAML fell back to plain text).
pub fn refine(
    kind: Kind,
    path: &str,
    text: &str,
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    matches: &mut Vec<BlobMatch>,
) -> Vec<Message> {
    let mut notes = Vec::new();
    matches.retain(|m| !is_reference(&m.secret));
    if !kind.is_yaml() {
        if kind == Kind::Terraform {
            terraform_defaults(text, engine, fp, scratch, matches);
        }
        line_context(kind, text, matches);
        return notes;
    }
    if text.len() > MAX_PARSE {
        return notes;
    }
    let scalars = match yaml::outline(text) {
        Ok(s) => s,
        Err(e) => {
            notes.push(Message::Note(format!("{path}: {e}: scanned as plain text")));
            for m in matches.iter_mut() {
                m.context = Some(Box::new(CiContext {
                    kind,
                    job: None,
                    step: None,
                    key: None,
                    notes: vec!["malformed YAML: no job or step context".to_string()],
                }));
            }
            return notes;
        }
    };
    let docs = DocInfo::of(&scalars);
    let sops = scalars.iter().any(|s| {
        matches!(s.path.first(), Some(Seg::Key(k)) if k == "sops") && s.key() == Some("mac")
    });
    matches.retain(|m| {
        let Some(s) = scalar_at(&scalars, m.line) else {
            return true;
        };
        let doc = docs.get(&s.doc);
        let managed = s.value.contains("ENC[AES256_GCM,")
            || (sops && matches!(s.path.first(), Some(Seg::Key(k)) if k == "sops"))
            || s.value.trim_start().starts_with("$ANSIBLE_VAULT;")
            || (doc.is_some_and(|d| d.kind == "SealedSecret") && s.under("encryptedData"));
        !managed
    });
    decode_secret_data(&scalars, &docs, engine, fp, scratch, matches);
    let names = element_names(&scalars);
    for m in matches.iter_mut() {
        let s = scalar_at(&scalars, m.line);
        let mut ctx = CiContext {
            kind,
            job: None,
            step: None,
            key: s.map(|s| path_string(&s.path)),
            notes: Vec::new(),
        };
        if let Some(s) = s {
            let (job, step) = job_and_step(kind, &s.path, &names);
            ctx.job = job;
            ctx.step = step;
            let doc = docs.get(&s.doc);
            if doc.is_some_and(|d| d.kind == "Secret") && (s.under("stringData") || s.under("data"))
            {
                ctx.notes.push(
                    "plaintext Kubernetes Secret committed to git (base64 is not encryption): use SealedSecrets, SOPS or an external secret store".to_string(),
                );
            }
            if kind.is_pipeline() && leaks_to_logs(&s.value) {
                ctx.notes.push(
                    "the command echoes it or writes it to $GITHUB_ENV/$GITHUB_OUTPUT: it leaks into logs and step outputs".to_string(),
                );
            }
        }
        if kind.is_pipeline() {
            let rule = &engine.rules()[m.rule].spec.id;
            if let Some(note) = oidc_note(rule) {
                ctx.notes.push(note.to_string());
            }
        }
        m.context = Some(Box::new(ctx));
    }
    notes
}

/// Context for files that are not YAML (Jenkinsfile, .env, Dockerfile, Terraform): the kind,
/// and for a Jenkinsfile the stage that holds the line.
fn line_context(kind: Kind, text: &str, matches: &mut [BlobMatch]) {
    // `.env`, Dockerfiles and Terraform have no jobs or keys to add.
    if !kind.is_pipeline() {
        return;
    }
    let lines: Vec<&str> = text.lines().collect();
    for m in matches.iter_mut() {
        let mut ctx = CiContext {
            kind,
            job: None,
            step: None,
            key: None,
            notes: Vec::new(),
        };
        if kind == Kind::Jenkins {
            ctx.job = lines[..m.line.min(lines.len())]
                .iter()
                .rev()
                .find_map(|l| jenkins_stage(l));
        }
        m.context = Some(Box::new(ctx));
    }
}

/// Terraform `variable "db_password" { default = "…" }`: the name is on the block, the value on
/// the `default` line, so the detector is shown `db_password = "…"` and the match is reported
/// at the default's line.
fn terraform_defaults(
    text: &str,
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    matches: &mut Vec<BlobMatch>,
) {
    let mut current: Option<String> = None;
    let mut depth = 0i32;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if current.is_none()
            && let Some(rest) = t.strip_prefix("variable")
            && let Some(name) = rest
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
        {
            current = Some(name.to_string());
            depth = 0;
        }
        let Some(name) = current.clone() else {
            continue;
        };
        if let Some(v) = t.strip_prefix("default")
            && let Some(value) = v.trim_start().strip_prefix('=')
        {
            let synthetic = format!("{name} = {}\n", value.trim());
            if let Ok((_, found)) = detect_stream(engine, fp, scratch, |f| {
                fs::read_stream(synthetic.as_bytes(), Windowing::default(), f)
            }) {
                for mut m in found {
                    if matches
                        .iter()
                        .any(|x| x.line == i + 1 && x.fingerprint == m.fingerprint)
                    {
                        continue;
                    }
                    m.line = i + 1;
                    m.end_line = i + 1;
                    m.column = line.find(&*m.secret).map_or(1, |c| c + 1);
                    m.preview = format!("variable \"{name}\": {}", m.preview);
                    matches.push(m);
                }
            }
        }
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        if depth <= 0 && line.contains('}') {
            current = None;
        }
    }
}

/// `stage('Deploy') {` → `Deploy`.
fn jenkins_stage(line: &str) -> Option<String> {
    let t = line.trim_start();
    let rest = t.strip_prefix("stage")?.trim_start().strip_prefix('(')?;
    let q = rest.chars().next()?;
    if q != '\'' && q != '"' {
        return None;
    }
    let end = rest[1..].find(q)?;
    Some(rest[1..1 + end].to_string())
}

/// True for text that names a secret instead of holding one: CI expressions and variable
/// references of every platform.
pub fn is_reference(s: &str) -> bool {
    let t = s.trim().trim_matches(|c| c == '"' || c == '\'');
    t.starts_with("${{")
        || t.starts_with("${")
        || t.starts_with("$(")
        || t.starts_with("#{")
        || t.starts_with("{{")
        || t.starts_with("((")
        || t.starts_with("credentials(")
        || (t.starts_with('$')
            && t[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || t.contains("secrets.")
        || t.contains("${{")
}

/// True when a command prints the value or exports it to later steps' environment/outputs.
fn leaks_to_logs(value: &str) -> bool {
    value.contains("GITHUB_ENV")
        || value.contains("GITHUB_OUTPUT")
        || value.lines().any(|l| {
            let t = l.trim_start();
            t.starts_with("echo ") || t.starts_with("printf ")
        })
}

/// The OIDC note for long-lived cloud credentials.
fn oidc_note(rule: &str) -> Option<&'static str> {
    if rule.starts_with("aws.") {
        Some(
            "long-lived AWS key in a pipeline: OIDC federation (an IAM role assumed with the CI's identity token) would remove it",
        )
    } else if rule.starts_with("gcp.") || rule.starts_with("google.") {
        Some(
            "long-lived GCP credential in a pipeline: Workload Identity Federation with the CI's OIDC token would remove it",
        )
    } else if rule.starts_with("azure.") {
        Some(
            "long-lived Azure credential in a pipeline: workload identity federation (OIDC) would remove it",
        )
    } else {
        None
    }
}

/// The innermost scalar whose lines hold `line`.
fn scalar_at(scalars: &[Scalar], line: usize) -> Option<&Scalar> {
    scalars
        .iter()
        .filter(|s| s.line <= line && line <= s.end_line)
        .min_by_key(|s| s.end_line - s.line)
}

/// `kind` and `apiVersion` of each document.
struct DocInfo {
    kind: String,
}

impl DocInfo {
    fn of(scalars: &[Scalar]) -> HashMap<usize, DocInfo> {
        let mut out = HashMap::new();
        for s in scalars {
            if s.path.len() == 1 && s.key() == Some("kind") {
                out.insert(
                    s.doc,
                    DocInfo {
                        kind: s.value.clone(),
                    },
                );
            }
        }
        out
    }
}

/// Kubernetes `Secret` `data:` values are base64: decode each and scan `KEY: value` (so the
/// key name counts, as for `stringData`), reporting matches at the value's line.
fn decode_secret_data(
    scalars: &[Scalar],
    docs: &HashMap<usize, DocInfo>,
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    matches: &mut Vec<BlobMatch>,
) {
    for s in scalars {
        if docs.get(&s.doc).is_none_or(|d| d.kind != "Secret") {
            continue;
        }
        if !(s.path.len() == 2 && matches!(&s.path[0], Seg::Key(k) if k == "data")) {
            continue;
        }
        let compact: String = s.value.split_whitespace().collect();
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
        else {
            continue;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            continue;
        };
        let key = s.key().unwrap_or("value");
        let doc = if text.contains('\n') {
            format!("{key}:\n{text}")
        } else {
            format!("{key}: {text}\n")
        };
        let Ok((_, found)) = detect_stream(engine, fp, scratch, |f| {
            fs::read_stream(doc.as_bytes(), Windowing::default(), f)
        }) else {
            continue;
        };
        for mut m in found {
            if is_reference(&m.secret) || matches.iter().any(|x| x.fingerprint == m.fingerprint) {
                continue;
            }
            m.preview = format!("data.{key} (base64-decoded): {}", m.preview);
            m.line = s.line;
            m.end_line = s.line;
            m.column = 1;
            matches.push(m);
        }
    }
}

/// For every sequence element and mapping with a name-like key (`name`, `label`,
/// `displayName`, `job`, `stage`, `id`), the name, keyed by the element's path.
fn element_names(scalars: &[Scalar]) -> HashMap<String, String> {
    let mut out: HashMap<String, (usize, String)> = HashMap::new();
    const KEYS: [&str; 7] = ["name", "displayName", "label", "job", "stage", "id", "task"];
    for s in scalars {
        let Some(k) = s.key() else { continue };
        let Some(rank) = KEYS.iter().position(|x| *x == k) else {
            continue;
        };
        if !matches!(s.path.last(), Some(Seg::Key(_))) {
            continue;
        }
        let parent = path_string(&s.path[..s.path.len() - 1]);
        let e = out.entry(parent).or_insert((usize::MAX, String::new()));
        if rank < e.0 {
            *e = (rank, s.value.clone());
        }
    }
    out.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

/// GitLab top-level keys that are not jobs.
const GITLAB_RESERVED: [&str; 12] = [
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
    "pages:deploy",
];

/// The job and step a key path is in, per platform conventions.
fn job_and_step(
    kind: Kind,
    path: &[Seg],
    names: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let name_of = |upto: usize| names.get(&path_string(&path[..upto])).cloned();
    let mut job = None;
    let mut step = None;
    for (i, seg) in path.iter().enumerate() {
        let Seg::Key(k) = seg else { continue };
        let next = path.get(i + 1);
        match (k.as_str(), next) {
            ("jobs" | "templates" | "tasks" | "pipelines" | "stages", Some(Seg::Key(j)))
                if job.is_none() || k == "jobs" =>
            {
                job = Some(j.clone());
            }
            ("jobs" | "templates" | "tasks" | "stages", Some(Seg::Index(n)))
                if job.is_none() || k == "jobs" =>
            {
                job = Some(name_of(i + 2).unwrap_or_else(|| format!("#{}", n + 1)));
            }
            ("steps", Some(Seg::Index(n))) => {
                // CircleCI `- run: {name: …}` and Bitbucket `- step: {name: …}` name the step
                // one level down.
                let inner = match path.get(i + 2) {
                    Some(Seg::Key(_)) => name_of(i + 3),
                    _ => None,
                };
                step = Some(
                    name_of(i + 2)
                        .or(inner)
                        .unwrap_or_else(|| format!("#{}", n + 1)),
                );
            }
            ("step", _) if step.is_none() && kind == Kind::BitbucketPipelines => {
                step = name_of(i + 1);
            }
            _ => {}
        }
    }
    if job.is_none()
        && kind == Kind::GitlabCi
        && let Some(Seg::Key(top)) = path.first()
        && !GITLAB_RESERVED.contains(&top.as_str())
        && path.len() > 1
    {
        job = Some(top.clone());
        if let Some(Seg::Key(k)) = path.get(1)
            && (k == "script" || k == "before_script" || k == "after_script")
        {
            step = Some(k.clone());
        }
    }
    (job, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for r in [
            "${{ secrets.NPM_TOKEN }}",
            "${{ vars.X }}",
            "$CI_JOB_TOKEN",
            "$(System.AccessToken)",
            "credentials('deploy-key')",
            "${DB_PASSWORD}",
            "{{ .Values.password }}",
            "((vault-pass))",
        ] {
            assert!(is_reference(r), "{r}");
        }
        for l in ["hunter2-prod-2024", "ghp_abc", "$ecretValue!"] {
            assert!(!is_reference(l), "{l}");
        }
    }

    #[test]
    fn jenkins_stages() {
        assert_eq!(
            jenkins_stage("    stage('Deploy') {"),
            Some("Deploy".into())
        );
        assert_eq!(jenkins_stage("stage (\"Build\")"), Some("Build".into()));
        assert_eq!(jenkins_stage("stages {"), None);
    }
}
