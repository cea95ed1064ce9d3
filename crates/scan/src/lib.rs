//! Scan pipelines: they wire sources to the detector and collect findings. `files` serves
//! directories, files and stdin.

pub mod cilogs;
pub mod facts;
pub mod files;
pub mod git;
pub mod image;
pub mod memory;
pub mod plan;
pub mod policy;
pub mod scanner;
pub mod seen;

pub use files::{ScanOptions, scan_paths};
pub use plan::{DetectSettings, GitHistory, ScanPlan, Target};
pub use policy::FindingPolicy;
pub use scanner::{ScanReport, Scanner};

use std::time::Duration;

use sprawl_core::finding::Finding;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_detect::{Engine, Scratch};
use sprawl_source::Origin;

pub use sprawl_core::stats::Stats;

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
    /// Named secrets the targets' pipelines and manifests consume (only with
    /// [`plan::ScanPlan::consumers`]), each with its repository (`None`: the directory
    /// targets, which the inventory names together).
    pub consumers: Vec<(Option<String>, sprawl_ci::consumers::Consumer)>,
    /// The targets whose consumers map was read (`None`: the directory targets); the others
    /// keep the map an inventory has of them.
    pub consumers_read: Vec<Option<String>>,
}

pub use sprawl_detect::stream::{BlobMatch, detect_stream};

/// The stage every source runs after detection, given where the content was found: a CI or
/// GitOps file (`ci_path`) is read for its structure — context, references dropped, Kubernetes
/// Secret data decoded — and in prose documentation (`doc_path`) generic values must look
/// random. The directory, archive, git and image pipelines all call it, each on its own
/// threads. Returns the refinement's messages.
pub fn refine_found(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    ci_path: Option<&str>,
    doc_path: Option<&str>,
    bytes: &[u8],
    matches: &mut Vec<BlobMatch>,
) -> Vec<sprawl_ci::Message> {
    let messages = match ci_path {
        Some(path) => sprawl_ci::refine_bytes(path, bytes, engine, fp, scratch, matches),
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
        || sprawl_detect::entropy::shannon_entropy(m.secret.as_bytes()) >= DOC_GENERIC_ENTROPY
}

/// Builds a finding from a blob match and the place it was found.
pub fn to_finding(engine: &Engine, m: BlobMatch, origin: Origin) -> Finding {
    let rule = &engine.rules()[m.rule].spec;
    let environment = sprawl_core::environment::classify(
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
        generic: rule.generic,
        owners: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A structurally valid fake GitHub token (CRC32 checksum over a fixed random part).
    pub(crate) fn fake_token(random: &str) -> String {
        let check = sprawl_detect::checksum::base62_padded(crc32fast::hash(random.as_bytes()), 6);
        format!(
            "ghp_{random}{}",
            String::from_utf8(check).unwrap_or_default()
        )
    }

    fn detect(engine: &Engine, fp: &Fingerprinter, bytes: &[u8]) -> Vec<BlobMatch> {
        let mut scratch = Scratch::default();
        detect_stream(engine, fp, &mut scratch, |f| {
            sprawl_core::read::read_stream(bytes, Default::default(), f)
        })
        .unwrap()
        .1
    }

    /// The shared stage: a Kubernetes Secret's base64 data is decoded when the content is at
    /// a CI/GitOps path (not otherwise), and prose documentation keeps provider tokens but
    /// drops a memorable generic password.
    #[test]
    fn the_detection_stage_decodes_manifests_and_filters_documentation() {
        let engine = Engine::new(sprawl_core::rules::load::builtin().rules);
        let fp = Fingerprinter::new(b"");
        let token = fake_token("Zq8r2LmN5vBc7XkP1sDf4GhJ6tYw9E");
        let encoded = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&token)
        };
        let manifest = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  token: {encoded}\n"
        );
        let mut scratch = Scratch::default();
        let found = |ci: Option<&str>, scratch: &mut Scratch| {
            let mut m = detect(&engine, &fp, manifest.as_bytes());
            refine_found(&engine, &fp, scratch, ci, None, manifest.as_bytes(), &mut m);
            m
        };
        // Decoded either way (detection decodes `kind: Secret` data wherever it is); at a
        // manifest path the stage adds what it means there.
        let as_manifest = found(Some("deploy/secret.yaml"), &mut scratch);
        let decoded = as_manifest
            .iter()
            .find(|m| &*m.secret == token.as_str())
            .expect("decoded at a manifest path");
        let context = decoded.context.as_deref().expect("a CI context");
        assert_eq!(context.kind, sprawl_core::finding::CiKind::Kubernetes);
        let elsewhere = found(None, &mut scratch);
        assert!(
            elsewhere
                .iter()
                .any(|m| &*m.secret == token.as_str() && m.context.is_none()),
            "{elsewhere:?}"
        );

        let readme = format!(
            "Set the token:\n\n    TOKEN={token}\n    db_password = \"summerpicnic2024\"\n"
        );
        let mut m = detect(&engine, &fp, readme.as_bytes());
        let before = m.len();
        refine_found(
            &engine,
            &fp,
            &mut scratch,
            None,
            Some("README.md"),
            readme.as_bytes(),
            &mut m,
        );
        assert!(m.iter().any(|m| &*m.secret == token.as_str()), "{m:?}");
        assert!(!m.iter().any(|m| m.secret.contains("summer")), "{m:?}");
        assert!(
            before > m.len(),
            "the documentation filter dropped the generic match"
        );
    }
}
