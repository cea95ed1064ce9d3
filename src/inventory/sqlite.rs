//! The SQLite inventory (rusqlite, SQLite compiled in): versioned migrations under
//! `PRAGMA user_version`, WAL journal, one transaction per recorded scan so a killed scan leaves
//! the store as it was before it, upserts keyed so that re-recording a scan changes nothing but
//! `last_seen`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Occurrence, ScanRecord, SecretRecord, Store, occurrence_of};
use crate::finding::Finding;

/// Schema migrations, applied in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE secrets (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    environment TEXT NOT NULL,
    severity TEXT NOT NULL,
    preview TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    verification TEXT,
    verified_at TEXT,
    http_status INTEGER,
    secret TEXT,
    UNIQUE (fingerprint, rule_id)
);
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    secret_id INTEGER NOT NULL REFERENCES secrets(id),
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    commit_id TEXT NOT NULL DEFAULT '',
    author TEXT,
    image TEXT NOT NULL DEFAULT '',
    ci TEXT,
    present INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    UNIQUE (secret_id, source, target, path, line, commit_id, image)
);
CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    targets TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    findings INTEGER NOT NULL,
    errors TEXT NOT NULL
);
CREATE TABLE seen_objects (
    target TEXT NOT NULL,
    object TEXT NOT NULL,
    PRIMARY KEY (target, object)
);
"#,
    r#"
ALTER TABLE occurrences ADD COLUMN last_scan INTEGER;
CREATE TABLE rotations (
    fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (fingerprint)
);
"#,
];

/// An inventory in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the store at `path`.
    pub fn open(path: &str) -> Result<SqliteStore, String> {
        let conn = Connection::open(path).map_err(|e| format!("{path}: cannot open store: {e}"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(30)))
            .map_err(|e| format!("{path}: {e}"))?;
        let mut s = SqliteStore {
            conn,
            path: path.to_string(),
        };
        s.migrate()?;
        Ok(s)
    }

    fn err(&self, e: rusqlite::Error) -> String {
        format!("{}: {e}", self.path)
    }

    /// Applies the missing migrations. The version is read inside an IMMEDIATE transaction
    /// (the write lock), so workers opening a new store at the same moment migrate it once.
    fn migrate(&mut self) -> Result<(), String> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| format!("{path}: {e}"))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| format!("{path}: {e}"))?;
        if version as usize > MIGRATIONS.len() {
            return Err(format!(
                "{path}: store schema version {version} is newer than this sprawl knows ({})",
                MIGRATIONS.len()
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", (i + 1) as i64))
                .map_err(|e| format!("{path}: migration {}: {e}", i + 1))?;
        }
        tx.commit().map_err(|e| format!("{path}: {e}"))
    }
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::scan::git::iso8601(secs)
}

impl Store for SqliteStore {
    fn fingerprint_key(&mut self) -> Result<String, String> {
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'fingerprint_key'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(k) = existing {
            return Ok(k);
        }
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| "no randomness for the fingerprint key".to_string())?;
        let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // Another writer may have created it meanwhile: keep whichever landed first.
        self.conn
            .execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('fingerprint_key', ?1)",
                params![key],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'fingerprint_key'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn record_scan(
        &mut self,
        scan: &ScanRecord,
        findings: &[Finding],
        store_secrets: bool,
    ) -> Result<(), String> {
        let path = self.path.clone();
        let e = |x: rusqlite::Error| format!("{path}: {x}");
        let seen = now();
        let default_target = scan.targets.join(", ");
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute(
            "INSERT INTO scans (targets, started, finished, findings, errors) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                scan.targets.join("\n"),
                scan.started,
                scan.finished,
                scan.findings as i64,
                scan.errors.join("\n"),
            ],
        )
        .map_err(e)?;
        let scan_id = tx.last_insert_rowid();
        for f in findings {
            let (status, at, http) = match &f.verification {
                Some(v)
                    if matches!(
                        v.status,
                        crate::verify::Status::Live
                            | crate::verify::Status::Dead
                            | crate::verify::Status::Unknown
                    ) =>
                {
                    (
                        Some(format!("{:?}", v.status).to_lowercase()),
                        Some(v.checked_at.clone()),
                        v.http_status.map(i64::from),
                    )
                }
                _ => (None, None, None),
            };
            tx.execute(
                "INSERT INTO secrets (fingerprint, rule_id, provider, environment, severity, preview, first_seen, last_seen, verification, verified_at, http_status, secret)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (fingerprint, rule_id) DO UPDATE SET
                   last_seen = excluded.last_seen,
                   environment = CASE WHEN (CASE excluded.environment WHEN 'prod' THEN 0 WHEN 'staging' THEN 1 WHEN 'unknown' THEN 2 WHEN 'dev' THEN 3 ELSE 4 END)
                                         < (CASE environment WHEN 'prod' THEN 0 WHEN 'staging' THEN 1 WHEN 'unknown' THEN 2 WHEN 'dev' THEN 3 ELSE 4 END)
                                    THEN excluded.environment ELSE environment END,
                   verification = COALESCE(excluded.verification, verification),
                   verified_at = COALESCE(excluded.verified_at, verified_at),
                   http_status = COALESCE(excluded.http_status, http_status),
                   secret = COALESCE(excluded.secret, secret)",
                params![
                    f.fingerprint,
                    f.rule_id,
                    f.provider,
                    f.environment.name(),
                    format!("{:?}", f.severity).to_lowercase(),
                    f.preview,
                    seen,
                    status,
                    at,
                    http,
                    store_secrets.then_some(f.secret.as_str()),
                ],
            )
            .map_err(e)?;
            let secret_id: i64 = tx
                .query_row(
                    "SELECT id FROM secrets WHERE fingerprint = ?1 AND rule_id = ?2",
                    params![f.fingerprint, f.rule_id],
                    |r| r.get(0),
                )
                .map_err(e)?;
            let o = occurrence_of(f, &default_target);
            tx.execute(
                "INSERT INTO occurrences (secret_id, source, target, path, line, commit_id, author, image, ci, present, first_seen, last_seen, last_scan)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
                 ON CONFLICT (secret_id, source, target, path, line, commit_id, image) DO UPDATE SET
                   last_seen = excluded.last_seen, present = excluded.present, ci = excluded.ci,
                   last_scan = excluded.last_scan",
                params![
                    secret_id,
                    o.source,
                    o.target,
                    o.path,
                    o.line as i64,
                    o.commit.clone().unwrap_or_default(),
                    o.author,
                    o.image.clone().unwrap_or_default(),
                    o.ci,
                    o.present,
                    seen,
                    scan_id,
                ],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn record_verification(
        &mut self,
        rule_id: &str,
        fingerprint: &str,
        v: &crate::verify::Verification,
    ) -> Result<(), String> {
        if v.status == crate::verify::Status::Skipped {
            return Ok(());
        }
        self.conn
            .execute(
                "UPDATE secrets SET verification = ?1, verified_at = ?2, http_status = ?3
                 WHERE rule_id = ?4 AND fingerprint = ?5",
                params![
                    format!("{:?}", v.status).to_lowercase(),
                    v.checked_at,
                    v.http_status.map(i64::from),
                    rule_id,
                    fingerprint
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn start_rotation(&mut self, fingerprint: &str) -> Result<usize, String> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM secrets WHERE fingerprint = ?1",
                params![fingerprint],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(format!(
                "{}: no secret with fingerprint {fingerprint}",
                self.path
            ));
        }
        self.conn
            .execute(
                "INSERT INTO rotations (fingerprint, started_at) VALUES (?1, ?2)
                 ON CONFLICT (fingerprint) DO UPDATE SET started_at = excluded.started_at, completed_at = NULL",
                params![fingerprint, now()],
            )
            .map_err(|e| self.err(e))
    }

    fn rotations(&mut self) -> Result<Vec<super::Rotation>, String> {
        let path = self.path.clone();
        let e = |x: rusqlite::Error| format!("{path}: {x}");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT fingerprint, started_at, completed_at FROM rotations ORDER BY started_at",
            )
            .map_err(e)?;
        let rows: Vec<(String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut out = Vec::new();
        for (fingerprint, started_at, completed_at) in rows {
            // Copies seen since the rotation started, where users still get the value: at a
            // tip or in the files (present), or anywhere in an image (hidden layers included).
            let mut q = self
                .conn
                .prepare(
                    "SELECT o.source, o.target, o.path, o.line, o.image, o.present
                     FROM occurrences o
                     JOIN secrets s ON s.id = o.secret_id
                     JOIN scans sc ON sc.id = o.last_scan
                     WHERE s.fingerprint = ?1 AND sc.started > ?2
                       AND (o.present = 1 OR o.source = 'image')
                       AND o.last_scan = (SELECT MAX(id) FROM scans WHERE targets = sc.targets)",
                )
                .map_err(e)?;
            let remaining: Vec<String> = q
                .query_map(params![fingerprint, started_at], |r| {
                    let image: String = r.get(4)?;
                    Ok(format!(
                        "{} {}:{}:{}{}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        if image.is_empty() {
                            String::new()
                        } else {
                            format!(" ({image})")
                        }
                    ))
                })
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?;
            let live: Option<String> = self
                .conn
                .query_row(
                    "SELECT verification FROM secrets WHERE fingerprint = ?1 AND verified_at >= ?2 AND verification = 'live' LIMIT 1",
                    params![fingerprint, started_at],
                    |r| r.get(0),
                )
                .optional()
                .map_err(e)?;
            // Only an audit after the start can prove the copies gone.
            let audited: i64 = self
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM scans WHERE started > ?1",
                    params![started_at],
                    |r| r.get(0),
                )
                .map_err(e)?;
            let done = audited > 0 && remaining.is_empty() && live.is_none();
            let completed_at = match (done, completed_at) {
                (true, None) => {
                    let at = now();
                    self.conn
                        .execute(
                            "UPDATE rotations SET completed_at = ?1 WHERE fingerprint = ?2",
                            params![at, fingerprint],
                        )
                        .map_err(e)?;
                    Some(at)
                }
                (true, at) => at,
                (false, _) => {
                    self.conn
                        .execute(
                            "UPDATE rotations SET completed_at = NULL WHERE fingerprint = ?1",
                            params![fingerprint],
                        )
                        .map_err(e)?;
                    None
                }
            };
            out.push(super::Rotation {
                fingerprint,
                started_at,
                completed_at,
                still_live: live.is_some(),
                audited_since: audited > 0,
                remaining,
            });
        }
        Ok(out)
    }

    fn secrets(&mut self) -> Result<Vec<SecretRecord>, String> {
        let path = self.path.clone();
        let e = |x: rusqlite::Error| format!("{path}: {x}");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, fingerprint, rule_id, provider, environment, severity, preview, first_seen, last_seen, verification, verified_at, secret
                 FROM secrets ORDER BY id",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    SecretRecord {
                        fingerprint: r.get(1)?,
                        rule_id: r.get(2)?,
                        provider: r.get(3)?,
                        environment: r.get(4)?,
                        severity: r.get(5)?,
                        preview: r.get(6)?,
                        first_seen: r.get(7)?,
                        last_seen: r.get(8)?,
                        verification: r.get(9)?,
                        verified_at: r.get(10)?,
                        secret: r.get(11)?,
                        occurrences: Vec::new(),
                    },
                ))
            })
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let mut occ = self
            .conn
            .prepare(
                "SELECT source, target, path, line, commit_id, author, image, ci, present
                 FROM occurrences WHERE secret_id = ?1 ORDER BY target, path, line",
            )
            .map_err(e)?;
        let mut out = Vec::new();
        for (id, mut rec) in rows {
            rec.occurrences = occ
                .query_map(params![id], |r| {
                    let commit: String = r.get(4)?;
                    let image: String = r.get(6)?;
                    Ok(Occurrence {
                        source: r.get(0)?,
                        target: r.get(1)?,
                        path: r.get(2)?,
                        line: r.get::<_, i64>(3)? as u64,
                        commit: (!commit.is_empty()).then_some(commit),
                        author: r.get(5)?,
                        image: (!image.is_empty()).then_some(image),
                        ci: r.get(7)?,
                        present: r.get(8)?,
                    })
                })
                .map_err(e)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(e)?;
            out.push(rec);
        }
        Ok(out)
    }
}
