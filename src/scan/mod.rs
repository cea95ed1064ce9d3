//! Scan pipelines: they wire sources to the detector and collect findings. `files` serves
//! directories, files and stdin.

pub mod files;
pub mod git;
pub mod image;
pub mod memory;
pub mod plan;
pub mod policy;
pub mod scanner;

pub use files::{ScanOptions, scan_paths};
pub use plan::{DetectSettings, GitHistory, ScanPlan, Target};
pub use policy::FindingPolicy;
pub use scanner::{ScanReport, Scanner};

use std::time::Duration;

use serde::Serialize;

use crate::detect::{Engine, Scratch};
use crate::finding::Finding;
use crate::fingerprint::Fingerprinter;
use crate::source::Origin;

/// Counters reported with every scan.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Text blobs scanned.
    pub blobs_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped for size.
    pub skipped_too_large: u64,
    /// Files scanned that .gitignore excludes (directory scans; see `--respect-gitignore`).
    #[serde(skip_serializing_if = "is_zero")]
    pub gitignored_scanned: u64,
    /// Distinct image layers read (each once per run, however many images share it).
    #[serde(skip_serializing_if = "is_zero")]
    pub layers_read: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Told how a running scan progresses, for whoever shows it (the binary draws a spinner on a
/// terminal). Called from the directory pipeline's collector thread.
pub trait Observer: Send + Sync {
    /// A running total: files scanned, bytes, findings so far.
    fn progress(&self, stats: &Stats, findings: usize) {
        let _ = (stats, findings);
    }
    /// The directory pipeline finished (clear whatever was drawn).
    fn finished(&self) {}
}

/// What a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Findings sorted by path, line, column and rule.
    pub findings: Vec<Finding>,
    /// One message per input that could not be read.
    pub errors: Vec<String>,
    /// Counters.
    pub stats: Stats,
    /// Wall time.
    pub elapsed: Duration,
    /// Informational messages (shallow clone, submodules not followed, skipped blobs).
    pub notes: Vec<String>,
    /// True when scanning nothing is the right answer (nothing staged, an empty commit range),
    /// so "nothing was scanned" is not an error.
    pub empty_ok: bool,
    /// Blobs read by this scan with their matches, kept only when an inventory asked for them
    /// ([`git::GitOptions::known`]) so a re-audit need not read them again.
    pub objects: Vec<(String, Vec<BlobMatch>)>,
    /// Signature of the ref tips of each repository scanned in full, by target.
    pub tips: Vec<(String, String)>,
    /// Targets whose tips equal the inventory's last complete scan of them: nothing was read.
    pub unchanged: Vec<String>,
    /// Every blob of each repository's history, by target, kept only when a working-tree pass
    /// follows ([`git::GitOptions::collect_blobs`]): a file on disk with one of these ids was
    /// scanned with history.
    pub history_blobs: Vec<(String, std::collections::HashSet<gix::ObjectId>)>,
}

pub use crate::detect::stream::{BlobMatch, detect_stream};
pub use crate::finding::{WITHHELD, is_withheld};

/// The stage every source runs after detection, given where the content was found: a CI or
/// GitOps file (`ci_path`) is read for its structure — context, references dropped, Kubernetes
/// Secret data decoded — and in prose documentation (`doc_path`) generic values must look
/// random. The directory, archive, git and image pipelines all call it, each on its own
/// threads. Returns the refinement's messages (errors start with [`crate::ci::ERROR_PREFIX`]).
pub fn refine_found(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    ci_path: Option<&str>,
    doc_path: Option<&str>,
    bytes: &[u8],
    matches: &mut Vec<BlobMatch>,
) -> Vec<String> {
    let messages = match ci_path {
        Some(path) => crate::ci::refine_bytes(path, bytes, engine, fp, scratch, matches),
        None => Vec::new(),
    };
    if let Some(path) = doc_path {
        filter_docs(engine, path, matches);
    }
    messages
}

/// True for prose documentation (Markdown, reStructuredText, AsciiDoc).
pub fn is_doc(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Entropy a generic match needs in documentation: a random value, not a memorable example.
const DOC_GENERIC_ENTROPY: f64 = 4.0;

/// In prose documentation a generic `password: …` match is an example far more often than a
/// leak: keep it only when the value looks random. Provider formats are never dropped here.
pub fn filter_docs(engine: &Engine, path: &str, matches: &mut Vec<BlobMatch>) {
    if !is_doc(path) {
        return;
    }
    matches.retain(|m| kept_in_docs(engine, path, m));
}

/// Whether a match stays when its content is at `path`: [`filter_docs`] for one match, for
/// sources whose content is shared by several paths (image layers) and decided per path.
pub fn kept_in_docs(engine: &Engine, path: &str, m: &BlobMatch) -> bool {
    !is_doc(path)
        || !engine.rules()[m.rule].spec.generic
        || crate::detect::entropy::shannon_entropy(m.secret.as_bytes()) >= DOC_GENERIC_ENTROPY
}

/// Builds a finding from a blob match and the place it was found.
pub fn to_finding(engine: &Engine, m: BlobMatch, origin: Origin) -> Finding {
    let rule = &engine.rules()[m.rule].spec;
    let environment = crate::environment::classify(
        &rule.id,
        &m.secret,
        m.context.as_ref().and_then(|c| c.key.as_deref()),
        origin.display_path(),
    );
    Finding {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        provider: rule.provider.clone(),
        severity: environment.adjust(rule.severity),
        environment,
        context: m.context,
        verification: None,
        confidence: rule.confidence,
        origin,
        line: m.line,
        column: m.column,
        end_line: m.end_line,
        preview: m.preview,
        fingerprint: m.fingerprint,
        secret: m.secret,
    }
}

/// Findings for every match of a blob found at one origin.
pub fn to_findings(engine: &Engine, matches: Vec<BlobMatch>, origin: &Origin) -> Vec<Finding> {
    matches
        .into_iter()
        .map(|m| to_finding(engine, m, origin.clone()))
        .collect()
}

/// Sorts findings the way every report shows them: path, line, column, rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.origin.sort_key(), a.line, a.column, &a.rule_id).cmp(&(
            b.origin.sort_key(),
            b.line,
            b.column,
            &b.rule_id,
        ))
    });
}
