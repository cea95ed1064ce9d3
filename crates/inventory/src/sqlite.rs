//! The SQLite inventory (rusqlite, SQLite compiled in): a [`Conn`] for the shared
//! [`SqlStore`], versioned migrations under `PRAGMA user_version`, WAL journal.

use crate::error::StoreError;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::sql::{Conn, SqlStore, Val};

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
    // v3: incremental re-audits. Seen objects carry the matches they gave under one rules
    // digest; scans say which target, rules and ref tips they covered.
    r#"
ALTER TABLE scans ADD COLUMN target_key TEXT;
ALTER TABLE scans ADD COLUMN rules_digest TEXT;
ALTER TABLE scans ADD COLUMN tips TEXT;
CREATE INDEX scans_by_target ON scans (target_key, id);
CREATE INDEX occurrences_by_scan ON occurrences (last_scan);
DROP TABLE seen_objects;
CREATE TABLE seen_objects (
    target TEXT NOT NULL,
    rules_digest TEXT NOT NULL,
    object TEXT NOT NULL,
    matches TEXT,
    PRIMARY KEY (target, object)
);
"#,
    // v4: one row per secret value across rules (each copy keeps its rule), owners and the
    // assigned name of each copy, and the consumers map of each target.
    concat!(
        r#"
CREATE TABLE secrets_new (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    rule_id TEXT NOT NULL,
    specificity INTEGER NOT NULL,
    provider TEXT NOT NULL,
    environment TEXT NOT NULL,
    severity TEXT NOT NULL,
    preview TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    verification TEXT,
    verified_at TEXT,
    http_status INTEGER,
    secret TEXT
);
CREATE TABLE occurrences_new (
    id INTEGER PRIMARY KEY,
    secret_id INTEGER NOT NULL REFERENCES secrets_new(id),
    rule_id TEXT NOT NULL,
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
    last_scan INTEGER,
    owners TEXT,
    name TEXT,
    UNIQUE (secret_id, rule_id, source, target, path, line, commit_id, image)
);
CREATE TABLE consumers (
    target TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    kind TEXT NOT NULL,
    job TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL DEFAULT '',
    leaks INTEGER NOT NULL DEFAULT 0,
    last_scan INTEGER,
    PRIMARY KEY (target, name, file, line)
);
"#,
        crate::v4_copy_and_swap!()
    ),
    // v5: blast radius and revocations.
    crate::v5_access_and_revocations!(),
];

/// One SQLite file.
pub struct SqliteConn {
    conn: Connection,
    path: String,
}

/// Opens (creating and migrating as needed) the store at `path`. Workers opening one new
/// store at once can meet "database is locked" where SQLite does not wait (switching to WAL,
/// recovering it): such an open is tried again for up to 30 seconds.
pub fn open(path: &str) -> Result<SqlStore<SqliteConn>, StoreError> {
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(20);
    loop {
        match open_once(path) {
            Err(e) if e.is_retryable() && start.elapsed() < std::time::Duration::from_secs(30) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(500));
            }
            res => return res,
        }
    }
}

/// A SQLite error as a [`StoreError`] naming the store: busy and locked are transient.
fn store_error(path: &str, e: rusqlite::Error) -> StoreError {
    let message = format!("{path}: {e}");
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::conflict(message)
        }
        _ => StoreError::new(message),
    }
}

fn open_once(path: &str) -> Result<SqlStore<SqliteConn>, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| store_error(path, e).map_message(|m| format!("{m} (cannot open store)")))?;
    // The busy timeout first: switching a new file to WAL takes the write lock, and workers
    // opening one new store at once must wait for each other, not fail "database is locked".
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .and_then(|_| conn.pragma_update(None, "journal_mode", "WAL"))
        .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
        .map_err(|e| store_error(path, e))?;
    let mut c = SqliteConn {
        conn,
        path: path.to_string(),
    };
    migrate(&mut c)?;
    Ok(SqlStore::new(c))
}

/// Applies the missing migrations. The version is read inside an IMMEDIATE transaction (the
/// write lock), so workers opening a new store at the same moment migrate it once.
fn migrate(c: &mut SqliteConn) -> Result<(), StoreError> {
    let path = c.path.clone();
    super::sql::in_tx(c, |c| {
        let version: i64 = c
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| StoreError::new(format!("{path}: {e}")))?;
        if version as usize > MIGRATIONS.len() {
            return Err(StoreError::new(format!(
                "{path}: store schema version {version} is newer than this sprawl knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            c.conn
                .execute_batch(sql)
                .and_then(|_| c.conn.pragma_update(None, "user_version", (i + 1) as i64))
                .map_err(|e| StoreError::new(format!("{path}: migration {}: {e}", i + 1)))?;
        }
        Ok(())
    })
}

fn bind(params: &[Val]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Val::Int(Some(n)) => rusqlite::types::Value::Integer(*n),
            Val::Text(Some(s)) => rusqlite::types::Value::Text(s.clone()),
            Val::Int(None) | Val::Text(None) => rusqlite::types::Value::Null,
        })
        .collect()
}

impl Conn for SqliteConn {
    fn name(&self) -> &str {
        &self.path
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| store_error(path, e))?;
        stmt.execute(rusqlite::params_from_iter(bind(params)))
            .map(|n| n as u64)
            .map_err(|e| store_error(path, e))
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, StoreError> {
        let path = &self.path;
        let e = |x: rusqlite::Error| store_error(path, x);
        let mut stmt = self.conn.prepare_cached(sql).map_err(e)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bind(params)))
            .map_err(e)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(e)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match row.get_ref(i).map_err(e)? {
                    ValueRef::Null => Val::Text(None),
                    ValueRef::Integer(n) => Val::Int(Some(n)),
                    ValueRef::Real(f) => Val::Int(Some(f as i64)),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(Some(String::from_utf8_lossy(t).into_owned()))
                    }
                });
            }
            out.push(vals);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| store_error(&self.path, e))
    }

    fn begin_write(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN IMMEDIATE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScanRecord, Store};
    use sprawl_core::finding::{Finding, Secret};
    use sprawl_core::origin::Origin;
    use sprawl_core::rules::{Confidence, Severity};

    fn finding(path: &str, fingerprint: &str, secret: Secret) -> Finding {
        Finding {
            rule_id: "test.token".into(),
            rule_name: "Test token".into(),
            provider: "Test".into(),
            severity: Severity::High,
            environment: Default::default(),
            context: None,
            verification: None,
            confidence: Confidence::High,
            origin: Origin::File {
                path: path.into(),
                work_tree: None,
            },
            line: 3,
            column: 7,
            end_line: 3,
            preview: "TOKEN=test****".into(),
            fingerprint: fingerprint.into(),
            secret,
            generic: false,
            owners: Vec::new(),
        }
    }

    /// The SQL store on an in-memory SQLite database: one secret with two copies is one row;
    /// a withheld secret is never stored even when secrets are kept; memory round-trips.
    #[test]
    fn one_secret_two_copies_and_memory_in_memory() {
        let mut store = open(":memory:").unwrap();
        let key = store.fingerprint_key().unwrap();
        assert_eq!(key, store.fingerprint_key().unwrap(), "the key is stable");
        let scan = ScanRecord {
            targets: vec!["repo".into()],
            started: "2026-12-06T10:00:00Z".into(),
            finished: "2026-12-06T10:00:01Z".into(),
            findings: 3,
            target_key: Some("repo".into()),
            rules_digest: Some("digest-1".into()),
            tips: Some("tips-1".into()),
            objects: vec![("0123".into(), None)],
            ..Default::default()
        };
        let findings = [
            finding("a.env", "fp-1", Secret::Plain("test-value-1".into())),
            finding("b.env", "fp-1", Secret::Plain("test-value-1".into())),
            finding(
                "c.env",
                "fp-2",
                Secret::Withheld {
                    prefix: String::new(),
                },
            ),
        ];
        assert_eq!(store.record_scan(&scan, &findings, true).unwrap(), 3);
        let secrets = store.secrets().unwrap();
        assert_eq!(secrets.len(), 2);
        let one = secrets.iter().find(|s| s.fingerprint == "fp-1").unwrap();
        assert_eq!(one.occurrences.len(), 2);
        assert_eq!(one.secret.as_deref(), Some("test-value-1"));
        let withheld = secrets.iter().find(|s| s.fingerprint == "fp-2").unwrap();
        assert_eq!(withheld.secret, None, "a withheld secret is never stored");
        let mem = store.memory("repo", "digest-1").unwrap();
        assert_eq!(mem.tips.as_deref(), Some("tips-1"));
        assert_eq!(mem.objects, vec![("0123".to_string(), None)]);
        assert!(store.memory("repo", "digest-2").unwrap().tips.is_none());
        assert!(store.start_rotation("no-such").is_err());
    }

    /// A target's consumers map is replaced only when the scan read it: a later scan that could
    /// not read it (HEAD unreadable) or did not need to (unchanged) keeps it; a copy assigned
    /// to a consumed name is joined to its consumers in the same target.
    #[test]
    fn consumers_are_replaced_only_where_read_and_joined_by_name() {
        let mut store = open(":memory:").unwrap();
        let consumer = crate::ConsumerRow {
            target: "repo".into(),
            name: "TOKEN".into(),
            file: ".github/workflows/ci.yml".into(),
            line: 9,
            kind: "github-actions".into(),
            job: "deploy".into(),
            step: String::new(),
            leaks_to_logs: false,
        };
        let scan = |read: &[&str], consumers: Vec<crate::ConsumerRow>| ScanRecord {
            targets: vec!["repo".into()],
            started: "2026-12-06T10:00:00Z".into(),
            finished: "2026-12-06T10:00:01Z".into(),
            consumers,
            consumers_read: read.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let copy = finding("a.env", "fp-1", Secret::Plain("test-value-1".into()));
        store
            .record_scan(
                &scan(&["repo"], vec![consumer.clone()]),
                std::slice::from_ref(&copy),
                false,
            )
            .unwrap();
        let consumers =
            |store: &mut SqlStore<SqliteConn>| store.secrets().unwrap()[0].consumers.clone();
        assert_eq!(consumers(&mut store), vec![consumer.clone()]);
        store
            .record_scan(&scan(&[], Vec::new()), std::slice::from_ref(&copy), false)
            .unwrap();
        assert_eq!(consumers(&mut store), vec![consumer], "not read: kept");
        store
            .record_scan(
                &scan(&["repo"], Vec::new()),
                std::slice::from_ref(&copy),
                false,
            )
            .unwrap();
        assert!(consumers(&mut store).is_empty(), "read and gone: removed");
    }
}
