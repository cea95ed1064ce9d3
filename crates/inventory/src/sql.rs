//! The inventory logic shared by every SQL backend: one [`SqlStore`] over a [`Conn`] (SQLite or
//! PostgreSQL), so both stores answer every question the same way. Statements are written once,
//! with `?N` placeholders; a backend rewrites them for its driver. Every recorded scan is one
//! transaction, so a killed scan leaves the store as it was before it.

use super::{
    ConsumerRow, Occurrence, Rotation, ScanRecord, SecretRecord, Store, TargetMemory, occurrence_of,
};
use crate::error::StoreError;
use sprawl_core::finding::Finding;

/// The shared part of schema v4 (one row per secret value): copies `secrets` into
/// `secrets_new`, one row per fingerprint named by its most specific rule (a provider's rule
/// before a generic one, as [`sprawl_core::finding::Finding::specificity`] ranks them; the old
/// rows do not say the confidence, so each class gets its top rank, 2 or 5; the generic rules
/// of the version that wrote the rows are listed, a rule of a later version counts as a
/// provider rule), with the earliest first and latest last sighting, the most
/// sensitive environment, the latest verification and any kept value; copies `occurrences`
/// into `occurrences_new`, each copy keeping the rule that found it; then swaps the tables.
/// Each backend creates the `_new` tables first, with its own types.
#[macro_export]
macro_rules! v4_copy_and_swap {
    () => {
        r#"
INSERT INTO secrets_new (fingerprint, rule_id, specificity, provider, environment, severity, preview, first_seen, last_seen, verification, verified_at, http_status, secret)
SELECT w.fingerprint, w.rule_id, w.spec, w.provider,
  (SELECT e.environment FROM secrets e WHERE e.fingerprint = w.fingerprint
     ORDER BY CASE e.environment WHEN 'prod' THEN 0 WHEN 'staging' THEN 1 WHEN 'unknown' THEN 2 WHEN 'dev' THEN 3 ELSE 4 END LIMIT 1),
  w.severity, w.preview,
  (SELECT MIN(e.first_seen) FROM secrets e WHERE e.fingerprint = w.fingerprint),
  (SELECT MAX(e.last_seen) FROM secrets e WHERE e.fingerprint = w.fingerprint),
  v.verification, v.verified_at, v.http_status,
  (SELECT MAX(e.secret) FROM secrets e WHERE e.fingerprint = w.fingerprint)
FROM (
  SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.fingerprint ORDER BY s.spec DESC, s.rule_id) AS rn
  FROM (SELECT secrets.*, CASE WHEN rule_id IN ('code.credential-constructor', 'sql.password-in-statement',
      'powershell.plaintext-securestring', 'generic.password', 'generic.secret', 'http.bearer-token',
      'cli.registry-login-password', 'cli.sshpass-password', 'http.token-auth', 'weak.uri-password',
      'weak.netrc-password', 'weak.config-password', 'cli.psexec-password', 'cli.net-use-password')
      THEN 2 ELSE 5 END AS spec FROM secrets) s
) w
LEFT JOIN (
  SELECT fingerprint, verification, verified_at, http_status,
    ROW_NUMBER() OVER (PARTITION BY fingerprint ORDER BY verified_at DESC) AS rn
  FROM secrets WHERE verified_at IS NOT NULL
) v ON v.fingerprint = w.fingerprint AND v.rn = 1
WHERE w.rn = 1;
INSERT INTO occurrences_new (secret_id, rule_id, source, target, path, line, commit_id, author, image, ci, present, first_seen, last_seen, last_scan)
SELECT n.id, old.rule_id, o.source, o.target, o.path, o.line, o.commit_id, o.author, o.image, o.ci, o.present, o.first_seen, o.last_seen, o.last_scan
FROM occurrences o JOIN secrets old ON old.id = o.secret_id JOIN secrets_new n ON n.fingerprint = old.fingerprint;
DROP INDEX occurrences_by_scan;
DROP TABLE occurrences;
DROP TABLE secrets;
ALTER TABLE secrets_new RENAME TO secrets;
ALTER TABLE occurrences_new RENAME TO occurrences;
CREATE INDEX occurrences_by_scan ON occurrences (last_scan);
"#
    };
}

/// Schema v5 (SQLite; v3 in PostgreSQL), the same text for both: a secret's blast radius
/// (`access`, the JSON of [`sprawl_core::finding::Access`], and its level) and every
/// revocation attempt with its outcome.
#[macro_export]
macro_rules! v5_access_and_revocations {
    () => {
        r#"
ALTER TABLE secrets ADD COLUMN access TEXT;
ALTER TABLE secrets ADD COLUMN access_level TEXT;
CREATE TABLE revocations (
    fingerprint TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    outcome TEXT NOT NULL,
    http_status BIGINT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX revocations_by_fingerprint ON revocations (fingerprint);
"#
    };
}

/// A value bound to or read from a statement: the inventory uses only integers and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// An integer (or NULL).
    Int(Option<i64>),
    /// Text (or NULL).
    Text(Option<String>),
}

impl Val {
    fn text(s: impl Into<String>) -> Val {
        Val::Text(Some(s.into()))
    }
    fn int(n: i64) -> Val {
        Val::Int(Some(n))
    }
    fn opt_text(s: Option<&str>) -> Val {
        Val::Text(s.map(str::to_string))
    }
    /// The integer, or 0 for NULL and text.
    pub fn as_int(&self) -> i64 {
        match self {
            Val::Int(Some(n)) => *n,
            _ => 0,
        }
    }
    /// The text, if any.
    pub fn as_opt_text(&self) -> Option<String> {
        match self {
            Val::Text(s) => s.clone(),
            Val::Int(n) => n.map(|n| n.to_string()),
        }
    }
    /// The text, or empty for NULL.
    pub fn as_text(&self) -> String {
        self.as_opt_text().unwrap_or_default()
    }
}

/// A connection of one SQL backend. Errors carry whether they are a transient conflict
/// ([`StoreError::is_retryable`]), from the backend's error code.
pub trait Conn {
    /// Where the store lives, for messages (a path, or a URL without its password).
    fn name(&self) -> &str;
    /// Runs a statement; returns the rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, StoreError>;
    /// Runs several statements with no parameters.
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Starts a transaction that writes (SQLite takes the write lock at once).
    fn begin_write(&mut self) -> Result<(), StoreError>;
}

/// Runs `f` in a write transaction: committed when it succeeds, rolled back when it fails;
/// a transient conflict (deadlock, serialization failure, busy) runs it again, up to 4 times.
pub fn in_tx<C: Conn, T>(
    conn: &mut C,
    mut f: impl FnMut(&mut C) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 0;
    loop {
        conn.begin_write()?;
        let res = f(conn).and_then(|v| conn.batch("COMMIT").map(|_| v));
        match res {
            Ok(v) => return Ok(v),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                attempt += 1;
                if attempt >= 4 || !e.is_retryable() {
                    return Err(e);
                }
                std::thread::sleep(std::time::Duration::from_millis(50 << attempt));
            }
        }
    }
}

/// The inventory over one SQL connection.
pub struct SqlStore<C: Conn> {
    conn: C,
}

impl<C: Conn> SqlStore<C> {
    /// Wraps a connection whose schema is migrated.
    pub fn new(conn: C) -> SqlStore<C> {
        SqlStore { conn }
    }
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    sprawl_core::time::iso8601(secs)
}

/// Seen objects per multi-row insert (4 parameters each, well under every backend's limit).
const OBJECTS_PER_INSERT: usize = 500;

/// Environment rank for "keep the most sensitive environment seen": prod first.
const ENV_RANK: &str = "CASE {} WHEN 'prod' THEN 0 WHEN 'staging' THEN 1 WHEN 'unknown' THEN 2 WHEN 'dev' THEN 3 ELSE 4 END";

fn verification_of(f: &Finding) -> (Option<String>, Option<String>, Option<i64>) {
    match &f.verification {
        Some(v)
            if matches!(
                v.status,
                sprawl_core::finding::Status::Live
                    | sprawl_core::finding::Status::Dead
                    | sprawl_core::finding::Status::Unknown
            ) =>
        {
            (
                Some(format!("{:?}", v.status).to_lowercase()),
                Some(v.checked_at.clone()),
                v.http_status.map(i64::from),
            )
        }
        _ => (None, None, None),
    }
}

/// A verification's access as stored: its JSON and its level's name.
fn access_of(v: Option<&sprawl_core::finding::Verification>) -> Option<(String, String)> {
    let a = v?.access.as_ref()?;
    Some((serde_json::to_string(a).ok()?, a.level.name().to_string()))
}

fn upsert_secret<C: Conn>(
    c: &mut C,
    f: &Finding,
    seen: &str,
    store_secrets: bool,
) -> Result<i64, StoreError> {
    let (status, at, http) = verification_of(f);
    let access = access_of(f.verification.as_ref());
    let keep = store_secrets && !f.secret.is_withheld();
    // One row per value: a copy found by a more specific rule (a provider's over a generic
    // one; equal ranks: the smaller rule id, so every worker order gives the same row) names it.
    let sql = format!(
        "INSERT INTO secrets (fingerprint, rule_id, specificity, provider, environment, severity, preview, first_seen, last_seen, verification, verified_at, http_status, secret, access, access_level)
         VALUES (?1, ?2, ?12, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?13, ?14)
         ON CONFLICT (fingerprint) DO UPDATE SET
           last_seen = excluded.last_seen,
           rule_id = CASE WHEN {wins} THEN excluded.rule_id ELSE secrets.rule_id END,
           provider = CASE WHEN {wins} THEN excluded.provider ELSE secrets.provider END,
           severity = CASE WHEN {wins} THEN excluded.severity ELSE secrets.severity END,
           preview = CASE WHEN {wins} THEN excluded.preview ELSE secrets.preview END,
           specificity = CASE WHEN {wins} THEN excluded.specificity ELSE secrets.specificity END,
           environment = CASE WHEN ({}) < ({}) THEN excluded.environment ELSE secrets.environment END,
           verification = COALESCE(excluded.verification, secrets.verification),
           verified_at = COALESCE(excluded.verified_at, secrets.verified_at),
           http_status = COALESCE(excluded.http_status, secrets.http_status),
           secret = COALESCE(excluded.secret, secrets.secret),
           access = CASE WHEN excluded.verification = 'dead' THEN NULL ELSE COALESCE(excluded.access, secrets.access) END,
           access_level = CASE WHEN excluded.verification = 'dead' THEN NULL ELSE COALESCE(excluded.access_level, secrets.access_level) END
         RETURNING id",
        ENV_RANK.replace("{}", "excluded.environment"),
        ENV_RANK.replace("{}", "secrets.environment"),
        wins = "(excluded.specificity > secrets.specificity OR (excluded.specificity = secrets.specificity AND excluded.rule_id < secrets.rule_id))",
    );
    let rows = c.query(
        &sql,
        &[
            Val::text(&f.fingerprint),
            Val::text(&f.rule_id),
            Val::text(&f.provider),
            Val::text(f.environment.name()),
            Val::text(format!("{:?}", f.severity).to_lowercase()),
            Val::text(&f.preview),
            Val::text(seen),
            Val::Text(status),
            Val::Text(at),
            Val::Int(http),
            Val::opt_text(f.secret.plain().filter(|_| keep)),
            Val::int(f.specificity()),
            Val::Text(access.as_ref().map(|a| a.0.clone())),
            Val::Text(access.map(|a| a.1)),
        ],
    )?;
    rows.first()
        .and_then(|r| r.first())
        .map(Val::as_int)
        .ok_or_else(|| StoreError::new(format!("{}: secret upsert returned no id", c.name())))
}

fn insert_occurrence<C: Conn>(
    c: &mut C,
    secret_id: i64,
    o: &Occurrence,
    seen: &str,
    scan_id: i64,
) -> Result<(), StoreError> {
    c.exec(
        "INSERT INTO occurrences (secret_id, source, target, path, line, commit_id, author, image, ci, present, first_seen, last_seen, last_scan, rule_id, owners, name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (secret_id, rule_id, source, target, path, line, commit_id, image) DO UPDATE SET
           last_seen = excluded.last_seen, present = excluded.present, ci = excluded.ci,
           last_scan = excluded.last_scan, owners = excluded.owners, name = excluded.name",
        &[
            Val::int(secret_id),
            Val::text(&o.source),
            Val::text(&o.target),
            Val::text(&o.path),
            Val::int(o.line as i64),
            Val::text(o.commit.clone().unwrap_or_default()),
            Val::opt_text(o.author.as_deref()),
            Val::text(o.image.clone().unwrap_or_default()),
            Val::opt_text(o.ci.as_deref()),
            Val::int(i64::from(o.present)),
            Val::text(seen),
            Val::int(scan_id),
            Val::text(&o.rule_id),
            Val::Text((!o.owners.is_empty()).then(|| o.owners.join("\n"))),
            Val::opt_text(o.name.as_deref()),
        ],
    )
    .map(|_| ())
}

/// Replaces the consumers map of every target the scan read it for (`read`).
fn record_consumers<C: Conn>(
    c: &mut C,
    consumers: &[ConsumerRow],
    read: &[String],
    scan_id: i64,
) -> Result<(), StoreError> {
    let mut targets: Vec<&str> = read.iter().map(String::as_str).collect();
    targets.sort_unstable();
    targets.dedup();
    for t in targets {
        c.exec("DELETE FROM consumers WHERE target = ?1", &[Val::text(t)])?;
    }
    for r in consumers.iter().filter(|r| read.contains(&r.target)) {
        c.exec(
            "INSERT INTO consumers (target, name, file, line, kind, job, step, leaks, last_scan)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (target, name, file, line) DO NOTHING",
            &[
                Val::text(&r.target),
                Val::text(&r.name),
                Val::text(&r.file),
                Val::int(r.line as i64),
                Val::text(&r.kind),
                Val::text(&r.job),
                Val::text(&r.step),
                Val::int(i64::from(r.leaks_to_logs)),
                Val::int(scan_id),
            ],
        )?;
    }
    Ok(())
}

/// Remembers the objects a scan read, for the next incremental re-audit of its target;
/// objects remembered under other rules are forgotten (their matches may differ now).
fn remember_objects<C: Conn>(c: &mut C, scan: &ScanRecord) -> Result<(), StoreError> {
    let (Some(target), Some(digest)) = (&scan.target_key, &scan.rules_digest) else {
        return Ok(());
    };
    c.exec(
        "DELETE FROM seen_objects WHERE target = ?1 AND rules_digest <> ?2",
        &[Val::text(target), Val::text(digest)],
    )?;
    for chunk in scan.objects.chunks(OBJECTS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(?{}, ?{}, ?{}, ?{})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for (object, matches) in chunk {
            params.push(Val::text(target));
            params.push(Val::text(digest));
            params.push(Val::text(object));
            params.push(Val::Text(matches.clone()));
        }
        c.exec(
            &format!(
                "INSERT INTO seen_objects (target, rules_digest, object, matches) VALUES {}
                 ON CONFLICT (target, object) DO UPDATE SET rules_digest = excluded.rules_digest, matches = excluded.matches",
                values.join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

fn record<C: Conn>(
    c: &mut C,
    scan: &ScanRecord,
    findings: &[Finding],
    store_secrets: bool,
) -> Result<u64, StoreError> {
    let seen = now();
    let default_target = scan.targets.join(", ");
    let scan_id = c
        .query(
            "INSERT INTO scans (targets, started, finished, findings, errors, target_key, rules_digest, tips)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            &[
                Val::text(scan.targets.join("\n")),
                Val::text(&scan.started),
                Val::text(&scan.finished),
                Val::int(scan.findings as i64),
                Val::text(scan.errors.join("\n")),
                Val::opt_text(scan.target_key.as_deref()),
                Val::opt_text(scan.rules_digest.as_deref()),
                Val::opt_text(scan.tips.as_deref()),
            ],
        )?
        .first()
        .and_then(|r| r.first())
        .map(Val::as_int)
        .ok_or_else(|| StoreError::new(format!("{}: scan insert returned no id", c.name())))?;
    let mut carried = 0;
    if let Some(prev) = scan.unchanged_since {
        // Nothing changed since scan `prev`: every copy it saw is still there.
        carried = c.exec(
            "UPDATE occurrences SET last_scan = ?1, last_seen = ?2 WHERE last_scan = ?3",
            &[Val::int(scan_id), Val::text(&seen), Val::int(prev)],
        )?;
        c.exec(
            "UPDATE scans SET findings = ?1 WHERE id = ?2",
            &[Val::int(carried as i64), Val::int(scan_id)],
        )?;
        c.exec(
            "UPDATE secrets SET last_seen = ?1 WHERE id IN (SELECT secret_id FROM occurrences WHERE last_scan = ?2)",
            &[Val::text(&seen), Val::int(scan_id)],
        )?;
    }
    // Secrets in one order in every worker, so concurrent upserts take row locks in the same
    // order and cannot deadlock.
    let mut order: Vec<&Finding> = findings.iter().collect();
    order.sort_by(|a, b| (&a.fingerprint, &a.rule_id).cmp(&(&b.fingerprint, &b.rule_id)));
    let mut ids = std::collections::HashMap::new();
    for f in order {
        let id = upsert_secret(c, f, &seen, store_secrets)?;
        ids.insert(f.fingerprint.as_str(), id);
    }
    for f in findings {
        let id = ids[f.fingerprint.as_str()];
        insert_occurrence(c, id, &occurrence_of(f, &default_target), &seen, scan_id)?;
    }
    record_consumers(c, &scan.consumers, &scan.consumers_read, scan_id)?;
    remember_objects(c, scan)?;
    Ok(findings.len() as u64 + carried)
}

impl<C: Conn> Store for SqlStore<C> {
    fn fingerprint_key(&mut self) -> Result<String, StoreError> {
        let get = "SELECT value FROM meta WHERE key = 'fingerprint_key'";
        if let Some(k) = self.conn.query(get, &[])?.first().and_then(|r| r.first()) {
            return Ok(k.as_text());
        }
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| "no randomness for the fingerprint key".to_string())?;
        let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // Another worker may have created it meanwhile: keep whichever landed first.
        self.conn.exec(
            "INSERT INTO meta (key, value) VALUES ('fingerprint_key', ?1) ON CONFLICT (key) DO NOTHING",
            &[Val::text(key)],
        )?;
        self.conn
            .query(get, &[])?
            .first()
            .and_then(|r| r.first())
            .map(Val::as_text)
            .ok_or_else(|| {
                StoreError::new(format!("{}: fingerprint key missing", self.conn.name()))
            })
    }

    fn memory(&mut self, target: &str, rules_digest: &str) -> Result<TargetMemory, StoreError> {
        let last = self.conn.query(
            "SELECT id, rules_digest, tips, errors FROM scans WHERE target_key = ?1 ORDER BY id DESC LIMIT 1",
            &[Val::text(target)],
        )?;
        let mut mem = TargetMemory::default();
        if let Some(row) = last.first() {
            mem.last_scan = Some(row[0].as_int());
            // Tips count only from a complete scan under the same rules.
            if row[1].as_opt_text().as_deref() == Some(rules_digest) && row[3].as_text().is_empty()
            {
                mem.tips = row[2].as_opt_text();
            }
        }
        mem.objects = self
            .conn
            .query(
                "SELECT object, matches FROM seen_objects WHERE target = ?1 AND rules_digest = ?2",
                &[Val::text(target), Val::text(rules_digest)],
            )?
            .into_iter()
            .map(|r| (r[0].as_text(), r[1].as_opt_text()))
            .collect();
        Ok(mem)
    }

    fn record_scan(
        &mut self,
        scan: &ScanRecord,
        findings: &[Finding],
        store_secrets: bool,
    ) -> Result<u64, StoreError> {
        in_tx(&mut self.conn, |c| record(c, scan, findings, store_secrets))
    }

    fn record_verification(
        &mut self,
        _rule_id: &str,
        fingerprint: &str,
        v: &sprawl_core::finding::Verification,
    ) -> Result<(), StoreError> {
        if v.status == sprawl_core::finding::Status::Skipped {
            return Ok(());
        }
        self.conn
            .exec(
                "UPDATE secrets SET verification = ?1, verified_at = ?2, http_status = ?3,
                   access = CASE WHEN ?1 = 'dead' THEN NULL ELSE COALESCE(?5, access) END,
                   access_level = CASE WHEN ?1 = 'dead' THEN NULL ELSE COALESCE(?6, access_level) END
                 WHERE fingerprint = ?4",
                &[
                    Val::text(format!("{:?}", v.status).to_lowercase()),
                    Val::text(&v.checked_at),
                    Val::Int(v.http_status.map(i64::from)),
                    Val::text(fingerprint),
                    Val::Text(access_of(Some(v)).map(|a| a.0)),
                    Val::Text(access_of(Some(v)).map(|a| a.1)),
                ],
            )
            .map(|_| ())
    }

    fn record_revocation(&mut self, r: &crate::Revocation) -> Result<(), StoreError> {
        self.conn
            .exec(
                "INSERT INTO revocations (fingerprint, attempted_at, provider, method, outcome, http_status, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &[
                    Val::text(&r.fingerprint),
                    Val::text(&r.attempted_at),
                    Val::text(&r.provider),
                    Val::text(&r.method),
                    Val::text(&r.outcome),
                    Val::Int(r.http_status.map(i64::from)),
                    Val::text(&r.detail),
                ],
            )
            .map(|_| ())
    }

    fn start_rotation(&mut self, fingerprint: &str) -> Result<usize, StoreError> {
        let n = self
            .conn
            .query(
                "SELECT COUNT(*) FROM secrets WHERE fingerprint = ?1",
                &[Val::text(fingerprint)],
            )?
            .first()
            .map_or(0, |r| r[0].as_int());
        if n == 0 {
            return Err(StoreError::new(format!(
                "{}: no secret with fingerprint {fingerprint}",
                self.conn.name()
            )));
        }
        self.conn
            .exec(
                "INSERT INTO rotations (fingerprint, started_at) VALUES (?1, ?2)
                 ON CONFLICT (fingerprint) DO UPDATE SET started_at = excluded.started_at, completed_at = NULL",
                &[Val::text(fingerprint), Val::text(now())],
            )
            .map(|n| n as usize)
    }

    fn rotations(&mut self) -> Result<Vec<Rotation>, StoreError> {
        let c = &mut self.conn;
        let rows = c.query(
            "SELECT fingerprint, started_at, completed_at FROM rotations ORDER BY started_at, fingerprint",
            &[],
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (fingerprint, started_at, completed_at) =
                (row[0].as_text(), row[1].as_text(), row[2].as_opt_text());
            let fp_at = [Val::text(&fingerprint), Val::text(&started_at)];
            // Copies seen since the rotation started, where users still get the value: at a
            // tip or in the files (present), or anywhere in an image (hidden layers included),
            // counting only each target's latest scan.
            let remaining: Vec<String> = c
                .query(
                    "SELECT o.source, o.target, o.path, o.line, o.image
                     FROM occurrences o
                     JOIN secrets s ON s.id = o.secret_id
                     JOIN scans sc ON sc.id = o.last_scan
                     WHERE s.fingerprint = ?1 AND sc.started > ?2
                       AND (o.present = 1 OR o.source = 'image')
                       AND o.last_scan = (SELECT MAX(id) FROM scans WHERE targets = sc.targets)
                     ORDER BY o.target, o.path, o.line",
                    &fp_at,
                )?
                .into_iter()
                .map(|r| {
                    let image = r[4].as_text();
                    format!(
                        "{} {}:{}:{}{}",
                        r[0].as_text(),
                        r[1].as_text(),
                        r[2].as_text(),
                        r[3].as_int(),
                        if image.is_empty() {
                            String::new()
                        } else {
                            format!(" ({image})")
                        }
                    )
                })
                .collect();
            // What the provider said about the old value since the rotation started.
            let old_value = c
                .query(
                    "SELECT verification, verified_at FROM secrets WHERE fingerprint = ?1 AND verified_at >= ?2",
                    &fp_at,
                )?
                .first()
                .and_then(|r| Some((r[0].as_opt_text()?, r[1].as_text())));
            let live = old_value.as_ref().is_some_and(|(v, _)| v == "live");
            // Only an audit after the start can prove the copies gone.
            let audited = c
                .query(
                    "SELECT COUNT(*) FROM scans WHERE started > ?1",
                    &[Val::text(&started_at)],
                )?
                .first()
                .map_or(0, |r| r[0].as_int())
                > 0;
            let done = audited && remaining.is_empty() && !live;
            let completed_at = match (done, completed_at) {
                (true, None) => {
                    let at = now();
                    c.exec(
                        "UPDATE rotations SET completed_at = ?1 WHERE fingerprint = ?2",
                        &[Val::text(&at), Val::text(&fingerprint)],
                    )?;
                    Some(at)
                }
                (true, at) => at,
                (false, _) => {
                    c.exec(
                        "UPDATE rotations SET completed_at = NULL WHERE fingerprint = ?1",
                        &[Val::text(&fingerprint)],
                    )?;
                    None
                }
            };
            out.push(Rotation {
                fingerprint,
                started_at,
                completed_at,
                still_live: live,
                old_value: match old_value {
                    Some((v, at)) => format!("{v} (checked {at})"),
                    None => "not checked since the rotation started".to_string(),
                },
                audited_since: audited,
                remaining,
            });
        }
        Ok(out)
    }

    fn secrets(&mut self) -> Result<Vec<SecretRecord>, StoreError> {
        let rows = self.conn.query(
            "SELECT id, fingerprint, rule_id, provider, environment, severity, preview, first_seen, last_seen, verification, verified_at, secret, access
             FROM secrets ORDER BY fingerprint",
            &[],
        )?;
        let occ = self.conn.query(
            "SELECT secret_id, source, target, path, line, commit_id, author, image, ci, present, rule_id, owners, name
             FROM occurrences ORDER BY secret_id, target, path, line, commit_id, image, source, rule_id",
            &[],
        )?;
        let consumers = self.conn.query(
            "SELECT target, name, file, line, kind, job, step, leaks FROM consumers ORDER BY target, file, line, name",
            &[],
        )?;
        let mut revocations: std::collections::HashMap<String, Vec<crate::Revocation>> =
            std::collections::HashMap::new();
        for r in self.conn.query(
            "SELECT fingerprint, attempted_at, provider, method, outcome, http_status, detail
             FROM revocations ORDER BY fingerprint, attempted_at",
            &[],
        )? {
            revocations
                .entry(r[0].as_text())
                .or_default()
                .push(crate::Revocation {
                    fingerprint: r[0].as_text(),
                    attempted_at: r[1].as_text(),
                    provider: r[2].as_text(),
                    method: r[3].as_text(),
                    outcome: r[4].as_text(),
                    http_status: r[5].as_opt_text().and_then(|s| s.parse().ok()),
                    detail: r[6].as_text(),
                });
        }
        let mut rotations: std::collections::HashMap<String, (String, Option<String>)> = self
            .conn
            .query(
                "SELECT fingerprint, started_at, completed_at FROM rotations",
                &[],
            )?
            .into_iter()
            .map(|r| (r[0].as_text(), (r[1].as_text(), r[2].as_opt_text())))
            .collect();
        // Consumers by (target, join name).
        let mut by_name: std::collections::HashMap<(String, String), Vec<ConsumerRow>> =
            std::collections::HashMap::new();
        for r in consumers {
            let row = ConsumerRow {
                target: r[0].as_text(),
                name: r[1].as_text(),
                file: r[2].as_text(),
                line: r[3].as_int() as u64,
                kind: r[4].as_text(),
                job: r[5].as_text(),
                step: r[6].as_text(),
                leaks_to_logs: r[7].as_int() != 0,
            };
            by_name
                .entry((row.target.clone(), crate::join_name(&row.name)))
                .or_default()
                .push(row);
        }
        let mut by_secret: std::collections::HashMap<i64, Vec<Occurrence>> =
            std::collections::HashMap::new();
        for r in occ {
            let commit = r[5].as_text();
            let image = r[7].as_text();
            by_secret
                .entry(r[0].as_int())
                .or_default()
                .push(Occurrence {
                    source: r[1].as_text(),
                    target: r[2].as_text(),
                    path: r[3].as_text(),
                    line: r[4].as_int() as u64,
                    commit: (!commit.is_empty()).then_some(commit),
                    author: r[6].as_opt_text(),
                    image: (!image.is_empty()).then_some(image),
                    ci: r[8].as_opt_text(),
                    present: r[9].as_int() != 0,
                    rule_id: r[10].as_text(),
                    owners: r[11]
                        .as_opt_text()
                        .map(|o| o.lines().map(str::to_string).collect())
                        .unwrap_or_default(),
                    name: r[12].as_opt_text(),
                });
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let rule_id = r[2].as_text();
                let occurrences = by_secret.remove(&r[0].as_int()).unwrap_or_default();
                let mut rules = vec![rule_id.clone()];
                let mut owners: Vec<String> = Vec::new();
                let mut authors: Vec<String> = Vec::new();
                let mut seen_authors: std::collections::HashSet<String> = Default::default();
                let mut consumers: Vec<ConsumerRow> = Vec::new();
                for o in &occurrences {
                    if !rules.contains(&o.rule_id) {
                        rules.push(o.rule_id.clone());
                    }
                    for owner in &o.owners {
                        if !owners.contains(owner) {
                            owners.push(owner.clone());
                        }
                    }
                    // `Name <email> date`: each person once.
                    if let Some(a) = &o.author {
                        let who = a.rsplit_once(' ').map_or(a.as_str(), |(w, _)| w);
                        if seen_authors.insert(who.to_string()) {
                            authors.push(who.to_string());
                        }
                    }
                    if let Some(name) = &o.name
                        && let Some(found) =
                            by_name.get(&(o.target.clone(), crate::join_name(name)))
                    {
                        for c in found {
                            if !consumers.contains(c) {
                                consumers.push(c.clone());
                            }
                        }
                    }
                }
                consumers.sort();
                let mut record = SecretRecord {
                    fingerprint: r[1].as_text(),
                    rule_id,
                    provider: r[3].as_text(),
                    environment: r[4].as_text(),
                    severity: r[5].as_text(),
                    preview: r[6].as_text(),
                    first_seen: r[7].as_text(),
                    last_seen: r[8].as_text(),
                    verification: r[9].as_opt_text(),
                    verified_at: r[10].as_opt_text(),
                    secret: r[11].as_opt_text(),
                    occurrences,
                    rules,
                    owners,
                    authors,
                    consumers,
                    next_step: None,
                    access: r[12]
                        .as_opt_text()
                        .and_then(|t| serde_json::from_str(&t).ok()),
                    revocations: revocations.remove(&r[1].as_text()).unwrap_or_default(),
                    rotation_started: None,
                    rotation_completed: None,
                };
                if let Some((started, completed)) = rotations.remove(&record.fingerprint) {
                    record.rotation_started = Some(started);
                    record.rotation_completed = completed;
                }
                record
            })
            .collect())
    }
}
