//! The inventory: one record per distinct secret (keyed by fingerprint and rule) with every
//! place it lives, across scans and targets, so a rotation can be planned and proven complete.
//! Behind the [`Store`] trait, implemented once over SQL (`sql.rs`) for two backends: SQLite
//! (`sqlite.rs`, the embedded default) and PostgreSQL (`postgres.rs`, the shared store of
//! org-wide audits). No plaintext secret is stored unless asked (`--store-secrets`). The
//! fingerprint key lives in the store, so every scan writing to one inventory computes the same
//! fingerprints. `cache.rs` turns a blob's matches into the text kept in `seen_objects`.

pub mod error;
pub use error::StoreError;
pub mod postgres;
pub mod sql;
pub mod sqlite;

use serde::Serialize;

use sprawl_core::finding::Finding;
use sprawl_core::origin::Origin;

/// One place a secret lives, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Occurrence {
    /// `file`, `git`, `image`, `stdin`.
    pub source: String,
    /// The scanned target (directory, repository, image archive or reference).
    pub target: String,
    /// Path (in the tree, repository or layer; `config:Env[2]` for image configs).
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// Commit that introduced it (git), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Author and date of that commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Image reference and layer (`app:1 layer 3 sha256:…`), for images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// CI job and step, when in a pipeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// Still present where a user looks today: at a ref tip, in the final image filesystem,
    /// in the files on disk. False for history-only and hidden-layer copies.
    pub present: bool,
    /// The rule that found this copy (the secret's row is named by the most specific one).
    pub rule_id: String,
    /// Owners of the path from the target's CODEOWNERS.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// The name the value is assigned to (`STRIPE_KEY` in `STRIPE_KEY=…`, a CI key's last
    /// part), which joins it to the pipelines that consume a secret of that name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A pipeline or deployment that consumes a named secret: what breaks when it is rotated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ConsumerRow {
    /// The repository or directory holding the CI file.
    pub target: String,
    /// The secret's name as the platform knows it (`NPM_TOKEN`, `db-creds`).
    pub name: String,
    /// The CI or manifest file.
    pub file: String,
    /// 1-based line of the reference.
    pub line: u64,
    /// Platform or file kind (`github-actions`, `kubernetes`, …).
    pub kind: String,
    /// Job, when the platform has jobs.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub job: String,
    /// Step, when known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub step: String,
    /// The step echoes it or writes it to the job's environment or outputs.
    pub leaks_to_logs: bool,
}

/// The key on which an assigned name meets a consumer's name: the last part after `.` or
/// `/` (`data.DB_PASSWORD`, `db-creds/password`), upper case, `-` as `_`.
pub fn join_name(name: &str) -> String {
    name.rsplit(['.', '/'])
        .next()
        .unwrap_or(name)
        .to_ascii_uppercase()
        .replace('-', "_")
}

/// One distinct secret with all its copies.
#[derive(Debug, Clone, Serialize)]
pub struct SecretRecord {
    /// Keyed fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule_id: String,
    /// Provider.
    pub provider: String,
    /// Environment (`prod`, `staging`, …).
    pub environment: String,
    /// Severity.
    pub severity: String,
    /// Redacted preview of one copy.
    pub preview: String,
    /// First and last time a scan saw it (ISO 8601).
    pub first_seen: String,
    /// Last time a scan saw it.
    pub last_seen: String,
    /// Verification status and time, if verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// When it was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// The secret itself, only when the store keeps secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Every copy.
    pub occurrences: Vec<Occurrence>,
    /// Every rule that found a copy, most specific (the row's own) first.
    pub rules: Vec<String>,
    /// Owners of the copies (CODEOWNERS), in order of first appearance.
    pub owners: Vec<String>,
    /// Authors (`Name <email>`) of the commits that introduced its copies, each once.
    pub authors: Vec<String>,
    /// Pipelines and deployments of the copies' targets that consume a secret of the name a
    /// copy is assigned to.
    pub consumers: Vec<ConsumerRow>,
    /// What the holder does next, from the naming rule's data (filled by the caller, which
    /// has the rules; the store keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// What it could reach when last verified live with `--blast-radius`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<sprawl_core::finding::Access>,
    /// Every revocation attempt, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revocations: Vec<Revocation>,
    /// When `sprawl rotation start` was last run for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_started: Option<String>,
    /// When an audit after that found no copy left and the old value not live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_completed: Option<String>,
}

/// One attempt to revoke a secret at its provider (`sprawl revoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The secret.
    pub fingerprint: String,
    /// When (ISO 8601).
    pub attempted_at: String,
    /// Provider.
    pub provider: String,
    /// How (`GitHub credential revocation API`, `Slack auth.revoke`, …).
    pub method: String,
    /// `revoked`, `failed` (the provider refused) or `unknown` (no clear answer).
    pub outcome: String,
    /// HTTP status of the answer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// What the provider said.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Provider-specific rotation guidance for one secret, from its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    /// Where and how to revoke it.
    pub revoke: String,
    /// The console page or API endpoint to do it on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    /// Old and new can be valid at once (rotate without downtime); `None` when the rule does
    /// not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dual_window: Option<bool>,
    /// Documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A rotation in progress or done.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    /// The secret being rotated.
    pub fingerprint: String,
    /// When `rotation start` was run.
    pub started_at: String,
    /// When a later audit found no copy left (and the value not live).
    pub completed_at: Option<String>,
    /// Verified live after the rotation started: the old credential was not revoked.
    pub still_live: bool,
    /// What the provider last said about the old value since the rotation started (`dead
    /// (checked …)`, `live (checked …)`), or that it was not checked.
    pub old_value: String,
    /// An audit ran after the rotation started (completion needs one).
    pub audited_since: bool,
    /// Copies seen since the rotation started at a tip, in files or in an image.
    pub remaining: Vec<String>,
}

/// A finished scan as recorded.
#[derive(Debug, Clone, Default)]
pub struct ScanRecord {
    /// Targets as given.
    pub targets: Vec<String>,
    /// Start and end (ISO 8601).
    pub started: String,
    /// End.
    pub finished: String,
    /// Findings written.
    pub findings: u64,
    /// Errors (each a message).
    pub errors: Vec<String>,
    /// The one target an audit scanned, the key of its incremental memory.
    pub target_key: Option<String>,
    /// Digest of the rules, settings and version the scan ran with (`scan::memory::rules_digest`).
    pub rules_digest: Option<String>,
    /// Signature of the target's ref tips.
    pub tips: Option<String>,
    /// Objects read, each with its matches as `scan::memory::encode` wrote them.
    pub objects: Vec<(String, Option<String>)>,
    /// Nothing changed since this earlier scan of the target: its copies are all still there.
    pub unchanged_since: Option<i64>,
    /// The consumers found in the targets of [`ScanRecord::consumers_read`].
    pub consumers: Vec<ConsumerRow>,
    /// The targets whose consumers map the scan read: their earlier maps are replaced by
    /// `consumers`; every other target keeps its map (unchanged, or its HEAD unreadable).
    pub consumers_read: Vec<String>,
}

/// What an inventory remembers of one target for an incremental re-audit.
pub type TargetMemory = sprawl_core::remembered::Remembered;

/// An inventory backend.
pub trait Store {
    /// The fingerprint key of this inventory (created on first use).
    fn fingerprint_key(&mut self) -> Result<String, StoreError>;
    /// Records one scan and all its findings in one transaction; a scan re-run changes nothing
    /// but `last_seen`. Returns the copies the scan holds (found now, or carried forward from
    /// the earlier scan of an unchanged target).
    fn record_scan(
        &mut self,
        scan: &ScanRecord,
        findings: &[Finding],
        store_secrets: bool,
    ) -> Result<u64, StoreError>;
    /// What the store remembers of `target` scanned under `rules_digest`.
    fn memory(&mut self, target: &str, rules_digest: &str) -> Result<TargetMemory, StoreError>;
    /// Every secret with its occurrences.
    fn secrets(&mut self) -> Result<Vec<SecretRecord>, StoreError>;
    /// Marks a secret (by fingerprint) as being rotated from now on; returns the rows touched.
    fn start_rotation(&mut self, fingerprint: &str) -> Result<usize, StoreError>;
    /// Every rotation with what still holds the old value; marks complete the ones with none.
    fn rotations(&mut self) -> Result<Vec<Rotation>, StoreError>;
    /// Records a revocation attempt.
    fn record_revocation(&mut self, r: &Revocation) -> Result<(), StoreError>;
    /// Records a verification outcome for a secret.
    fn record_verification(
        &mut self,
        rule_id: &str,
        fingerprint: &str,
        v: &sprawl_core::finding::Verification,
    ) -> Result<(), StoreError>;
}

/// `location` as messages show it: a PostgreSQL URL without its password.
pub fn display_location(location: &str) -> String {
    if is_conninfo(location) {
        return mask_conninfo(location);
    }
    sprawl_core::redact::url(location)
}

/// True for a PostgreSQL location: a `postgres://` or `postgresql://` URL in any case, or a
/// libpq `key=value` connection string (`host=db dbname=x password=…`). Such text must never
/// be taken for a SQLite path: the file name would carry the password.
pub fn is_postgres(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://") || is_conninfo(location)
}

/// True for a libpq `key=value` connection string.
fn is_conninfo(location: &str) -> bool {
    const KEYS: [&str; 6] = ["host", "hostaddr", "dbname", "user", "password", "port"];
    location.split_whitespace().any(|w| {
        w.split_once('=')
            .is_some_and(|(k, _)| KEYS.contains(&k.to_ascii_lowercase().as_str()))
    })
}

/// A `key=value` connection string with its password masked.
fn mask_conninfo(location: &str) -> String {
    location
        .split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Opens the store at `location`: a PostgreSQL URL or connection string ([`is_postgres`]),
/// else a SQLite file (created if missing, for commands that record).
pub fn open(location: &str) -> Result<Box<dyn Store>, StoreError> {
    if is_postgres(location) {
        return Ok(Box::new(postgres::open(location)?));
    }
    Ok(Box::new(sqlite::open(location)?))
}

/// [`open`] for commands that only read or update an inventory (`report`, `verify`,
/// `rotation`): a SQLite path that does not exist is an error, not a new empty inventory whose
/// "0 distinct secrets" would read as an all-clear.
pub fn open_existing(location: &str) -> Result<Box<dyn Store>, StoreError> {
    if !is_postgres(location) && !std::path::Path::new(location).exists() {
        return Err(StoreError::new(format!(
            "{location}: no inventory there (record one with `sprawl scan --store` or `sprawl audit`)"
        )));
    }
    open(location)
}

/// How an origin is stored: source kind, target, path, commit, author, image, present.
pub fn occurrence_of(f: &Finding, default_target: &str) -> Occurrence {
    let ci = f.context.as_ref().map(|c| {
        let mut parts = vec![c.kind.name().to_string()];
        if let Some(j) = &c.job {
            parts.push(format!("job {j}"));
        }
        if let Some(s) = &c.step {
            parts.push(format!("step {s}"));
        }
        parts.join(", ")
    });
    let base = Occurrence {
        source: String::new(),
        target: default_target.to_string(),
        path: f.origin.display_path().to_string(),
        line: f.line as u64,
        commit: None,
        author: None,
        image: None,
        ci,
        present: true,
        rule_id: f.rule_id.clone(),
        owners: f.owners.clone(),
        name: assigned_name(f),
    };
    match &f.origin {
        Origin::File {
            work_tree: Some(state),
            ..
        } => Occurrence {
            source: state.describe().into(),
            ..base
        },
        Origin::File { .. } => Occurrence {
            source: "file".into(),
            ..base
        },
        Origin::Stdin => Occurrence {
            source: "stdin".into(),
            ..base
        },
        Origin::Git(g) => {
            let first = g.commits.first();
            Occurrence {
                source: "git".into(),
                target: g.repo.clone(),
                commit: first.map(|c| c.commit.clone()),
                author: first.map(|c| format!("{} {}", c.author, c.date)),
                present: !g.history_only,
                ..base
            }
        }
        Origin::Image(i) => Occurrence {
            source: "image".into(),
            target: i.image.clone(),
            image: Some(match (i.layer_index, &i.layer_digest) {
                (Some(k), Some(d)) => format!("{} layer {k} {d}", i.image),
                _ => i.image.clone(),
            }),
            present: !matches!(i.visibility, sprawl_core::origin::Visibility::Hidden { .. }),
            ..base
        },
        // A log copy is present until the log is deleted: it stays readable to everyone
        // with access to the repository's Actions.
        Origin::CiLog(c) => Occurrence {
            source: "ci-log".into(),
            target: c.target.clone(),
            ci: Some(format!(
                "printed in the log of job {}, run {} attempt {} ({}), {}{} — {}",
                c.job,
                c.run,
                c.attempt,
                c.workflow,
                c.date,
                c.step
                    .as_ref()
                    .map(|s| format!(", step {s}"))
                    .unwrap_or_default(),
                c.url
            )),
            ..base
        },
    }
}

/// The name a finding's value is assigned to: the last part of its CI key, else the
/// identifier before the `=`/`:` that precedes the redacted value in its preview.
pub fn assigned_name(f: &Finding) -> Option<String> {
    if let Some(key) = f.context.as_ref().and_then(|c| c.key.as_deref()) {
        let last = key.rsplit('.').next().unwrap_or(key);
        let last = last.split('[').next().unwrap_or(last);
        if !last.is_empty() {
            return Some(last.to_string());
        }
    }
    static ASSIGN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = ASSIGN.get_or_init(|| {
        regex::Regex::new(
            r#"([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?::=|=>|=|:)\s*["']?[^\s"']*\*\*\*\*"#,
        )
        .expect("static regex")
    });
    // Every secret on the line is masked: take the assignment whose value holds this
    // finding's mask (its first four characters, then the mask), else the first one.
    let head: String = f.secret.chars().take(4).collect();
    let masked = format!("{head}{}", sprawl_core::redact::MASK);
    let at = f.preview.find(&masked);
    let mut chosen = None;
    for c in re.captures_iter(&f.preview) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if chosen.is_none() {
            chosen = Some(name);
        }
        if at.is_some_and(|p| whole.start() <= p && p < whole.end()) {
            chosen = Some(name);
            break;
        }
    }
    chosen.map(|m| {
        m.as_str()
            .rsplit('.')
            .next()
            .unwrap_or(m.as_str())
            .to_string()
    })
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn join_names_meet_across_conventions() {
        use super::join_name;
        assert_eq!(join_name("data.DB_PASSWORD"), "DB_PASSWORD");
        assert_eq!(join_name("stripe-key"), "STRIPE_KEY");
        assert_eq!(join_name("db-creds/password"), "PASSWORD");
    }

    #[test]
    fn the_name_is_that_of_the_finding_s_own_value() {
        let finding = |preview: &str, secret: &str| sprawl_core::finding::Finding {
            rule_id: "r".into(),
            rule_name: "r".into(),
            provider: "p".into(),
            severity: sprawl_core::rules::Severity::High,
            environment: Default::default(),
            context: None,
            verification: None,
            confidence: sprawl_core::rules::Confidence::High,
            origin: sprawl_core::origin::Origin::Stdin,
            line: 1,
            column: 1,
            end_line: 1,
            preview: preview.into(),
            fingerprint: "f".into(),
            secret: secret.into(),
            generic: false,
            owners: Vec::new(),
        };
        let line = "docker run -e DB_PASSWORD=hunt**** -e STRIPE_KEY=sk_l****";
        assert_eq!(
            super::assigned_name(&finding(line, "sk_live_generated")).as_deref(),
            Some("STRIPE_KEY")
        );
        assert_eq!(
            super::assigned_name(&finding(line, "hunter-generated")).as_deref(),
            Some("DB_PASSWORD")
        );
        let url = "DATABASE_URL=postgres://svc:pa5s****@db/x";
        assert_eq!(
            super::assigned_name(&finding(url, "pa5sgen")).as_deref(),
            Some("DATABASE_URL")
        );
    }
}
