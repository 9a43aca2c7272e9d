//! Palisade's embedded store, one SQLite file: learned behavioural baselines, the inbox of
//! audit batches received and not yet analysed, the outbox of alerts not yet delivered, and
//! the history of scans (`history`).
//!
//! Why SQLite: the queue must survive a killed process and a sink that is down for hours,
//! and a baseline is queried and merged, not just dumped; SQLite gives transactions and
//! durability (WAL, `synchronous=FULL`) in-process, with nothing to run beside Palisade.
//! The rejected alternative, JSON files rewritten on change, loses data on a crash between
//! write and rename of one and cannot dequeue in order under concurrent writers.
//!
//! Delivery is at least once: a batch is acknowledged to the API server only after it is
//! committed to the inbox; alerts are committed to the outbox in the same transaction that
//! removes their batch from the inbox; an alert leaves the outbox only once its sink has
//! accepted it. Alert ids are stable, so a sink that deduplicates by id (Elasticsearch's
//! `_id`, Splunk's event id) sees each alert once even when it is sent twice.

pub mod history;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;

use palisade_audit::Baseline;
use palisade_audit::baseline::{Behaviour, Profile};
use rusqlite::{Connection, OptionalExtension, params};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused (the file is not a Palisade store, is locked, or the disk is full).
    #[error("{path}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be created.
    #[error("cannot create {path}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    /// The file was written by a newer Palisade.
    #[error("{path}: store schema version {found} is newer than this Palisade's ({supported})")]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
}

/// 2: the outbox remembers the acknowledgment a sink owes for a batch (`ack_channel`,
/// `ack_id`), so a restarted process asks for it instead of sending the batch again.
/// 3: the scan history (`history`).
const SCHEMA_VERSION: i64 = 3;

/// How long the ids of delivered alerts are remembered (30 days).
pub const SENT_RETENTION_MILLIS: i64 = 30 * 86_400_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS baseline_identity (
    identity TEXT PRIMARY KEY,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS baseline_item (
    identity TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (identity, kind, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    ack_channel TEXT,
    ack_id INTEGER,
    UNIQUE (sink, alert_id)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sink, next_attempt, seq);
CREATE TABLE IF NOT EXISTS sent (
    sink TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (sink, alert_id)
) WITHOUT ROWID;
";

/// How long opening a store waits for another connection's lock.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `statements`, again while SQLite answers "database is locked" without waiting, for at
/// most `wait`. Switching a store to WAL takes its lock from a read lock, and two connections
/// doing it at once (two processes opening a store made before WAL) deadlock: SQLite tells
/// one at once, its busy timeout unused; once the other is done, the statement succeeds.
fn execute_waiting(
    connection: &Connection,
    statements: &str,
    wait: std::time::Duration,
) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match connection.execute_batch(statements) {
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            done => return done,
        }
    }
}

/// The error of a statement on the store at `path` (owned, so it outlives a transaction's
/// borrow of the connection).
fn sqlite_error(path: String) -> impl Fn(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    }
}

/// Creates a missing store readable by its owner alone (0600): it holds raw audit batches
/// (request and response bodies, as the audit policy logged them), alerts and who did what.
/// SQLite gives its journal files the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether others than its owner may read the store at `path` (Unix: group or other read
/// bits), as a store made by a Palisade before 0600 may be.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// An alert waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub seq: i64,
    pub alert_id: String,
    pub body: String,
    pub attempts: i64,
}

/// A batch a sink took and has yet to confirm it stored (Splunk's indexer acknowledgment):
/// the outbox rows sent under acknowledgment `id` on `channel`, not due before `deadline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedAck {
    pub channel: String,
    pub id: u64,
    pub seqs: Vec<i64>,
    pub deadline: i64,
}

/// The store.
pub struct Store {
    connection: Connection,
    path: String,
}

impl Store {
    /// Opens (creating when missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let display = path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: display.clone(),
            source,
        };
        create_private(path).map_err(|source| StoreError::Create {
            path: display.clone(),
            source,
        })?;
        let mut connection = Connection::open(path).map_err(err)?;
        connection.busy_timeout(BUSY_WAIT).map_err(err)?;
        execute_waiting(
            &connection,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            BUSY_WAIT,
        )
        .map_err(err)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: display,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            // In one write transaction, the version read again inside it: two processes
            // opening an older store at once upgrade it once.
            let tx = connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            let version: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(err)?;
            if version == 1 {
                tx.execute_batch(
                    "ALTER TABLE outbox ADD COLUMN ack_channel TEXT;
                     ALTER TABLE outbox ADD COLUMN ack_id INTEGER;",
                )
                .map_err(err)?;
            }
            tx.execute_batch(SCHEMA).map_err(err)?;
            tx.execute_batch(history::SCHEMA).map_err(err)?;
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(Store {
            connection,
            path: display,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        sqlite_error(self.path.clone())
    }

    /// Merges a learned baseline into the stored one.
    pub fn save_baseline(&mut self, baseline: &Baseline) -> Result<(), StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        {
            let mut identity = tx
                .prepare(
                    "INSERT INTO baseline_identity (identity, events, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (identity) DO UPDATE SET
                       events = events + excluded.events,
                       first_seen = min(first_seen, excluded.first_seen),
                       last_seen = max(last_seen, excluded.last_seen)",
                )
                .map_err(&err)?;
            let mut item = tx
                .prepare(
                    "INSERT OR IGNORE INTO baseline_item (identity, kind, value) VALUES (?1, ?2, ?3)",
                )
                .map_err(&err)?;
            for (name, profile) in &baseline.identities {
                identity
                    .execute(params![
                        name,
                        i64::try_from(profile.events).unwrap_or(i64::MAX),
                        profile.first_seen,
                        profile.last_seen
                    ])
                    .map_err(&err)?;
                for b in &profile.behaviours {
                    let value = format!("{}\t{}\t{}", b.verb, b.resource, b.namespace);
                    item.execute(params![name, "behaviour", value])
                        .map_err(&err)?;
                }
                for ip in &profile.source_ips {
                    item.execute(params![name, "ip", ip]).map_err(&err)?;
                }
                for agent in &profile.user_agents {
                    item.execute(params![name, "agent", agent]).map_err(&err)?;
                }
            }
        }
        tx.commit().map_err(&err)
    }

    /// The stored baseline (empty when nothing was learned).
    pub fn load_baseline(&self) -> Result<Baseline, StoreError> {
        let mut baseline = Baseline::default();
        let mut identities = self
            .connection
            .prepare("SELECT identity, events, first_seen, last_seen FROM baseline_identity")
            .map_err(self.err())?;
        let rows = identities
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (name, events, first_seen, last_seen) = row.map_err(self.err())?;
            baseline.identities.insert(
                name,
                Profile {
                    events: u64::try_from(events).unwrap_or(0),
                    first_seen,
                    last_seen,
                    ..Profile::default()
                },
            );
        }
        let mut items = self
            .connection
            .prepare("SELECT identity, kind, value FROM baseline_item")
            .map_err(self.err())?;
        let rows = items
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (name, kind, value) = row.map_err(self.err())?;
            let Some(profile) = baseline.identities.get_mut(&name) else {
                continue;
            };
            match kind.as_str() {
                "behaviour" => {
                    let mut parts = value.splitn(3, '\t');
                    let (verb, resource, namespace) = (
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                    );
                    profile.behaviours.insert(Behaviour {
                        verb: verb.into(),
                        resource: resource.into(),
                        namespace: namespace.into(),
                    });
                }
                "ip" => {
                    profile.source_ips.insert(value);
                }
                "agent" => {
                    profile.user_agents.insert(value);
                }
                _ => {}
            }
        }
        Ok(baseline)
    }

    /// Forgets what was learned: of one identity, or of all. Returns the identities removed.
    pub fn reset_baseline(&mut self, identity: Option<&str>) -> Result<usize, StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        let removed = match identity {
            Some(name) => {
                tx.execute("DELETE FROM baseline_item WHERE identity = ?1", [name])
                    .map_err(&err)?;
                tx.execute("DELETE FROM baseline_identity WHERE identity = ?1", [name])
                    .map_err(&err)?
            }
            None => {
                tx.execute("DELETE FROM baseline_item", []).map_err(&err)?;
                tx.execute("DELETE FROM baseline_identity", [])
                    .map_err(&err)?
            }
        };
        tx.commit().map_err(&err)?;
        Ok(removed)
    }

    /// Stores a received batch before it is acknowledged; returns its sequence number.
    pub fn receive(&self, body: &[u8], received: i64) -> Result<i64, StoreError> {
        self.connection
            .execute(
                "INSERT INTO inbox (received, body) VALUES (?1, ?2)",
                params![received, body],
            )
            .map_err(self.err())?;
        Ok(self.connection.last_insert_rowid())
    }

    /// The oldest received batch not yet analysed.
    pub fn next_received(&self) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        self.connection
            .query_row(
                "SELECT seq, body FROM inbox ORDER BY seq LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    /// Batches received and not yet analysed.
    pub fn received_pending(&self) -> Result<i64, StoreError> {
        self.connection
            .query_row("SELECT count(*) FROM inbox", [], |r| r.get(0))
            .map_err(self.err())
    }

    /// In one transaction: queues `items` (`(sink, alert id, body)`; an alert already queued
    /// for a sink is not queued twice) and removes the analysed batch from the inbox.
    pub fn enqueue(
        &mut self,
        items: &[(String, String, String)],
        analysed_batch: Option<i64>,
    ) -> Result<(), StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        {
            // An alert already delivered to the sink (the same log analysed again) is not
            // sent twice.
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO outbox (sink, alert_id, body)
                     SELECT ?1, ?2, ?3
                     WHERE NOT EXISTS (SELECT 1 FROM sent WHERE sink = ?1 AND alert_id = ?2)",
                )
                .map_err(&err)?;
            for (sink, id, body) in items {
                insert.execute(params![sink, id, body]).map_err(&err)?;
            }
            if let Some(seq) = analysed_batch {
                tx.execute("DELETE FROM inbox WHERE seq = ?1", [seq])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Alerts waiting, per sink.
    pub fn pending_by_sink(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT sink, count(*) FROM outbox GROUP BY sink ORDER BY sink")
            .map_err(self.err())?;
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Up to `limit` alerts of `sink` due at `now` (milliseconds), oldest first.
    pub fn due(&self, sink: &str, now: i64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT seq, alert_id, body, attempts FROM outbox
                 WHERE sink = ?1 AND next_attempt <= ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(self.err())?;
        let rows = statement
            .query_map(
                params![sink, now, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(Queued {
                        seq: r.get(0)?,
                        alert_id: r.get(1)?,
                        body: r.get(2)?,
                        attempts: r.get(3)?,
                    })
                },
            )
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Removes alerts the sink accepted, remembering their ids for [`SENT_RETENTION_MILLIS`]
    /// so the same alert is not queued for the sink again.
    pub fn delivered(&mut self, seqs: &[i64], now_millis: i64) -> Result<(), StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        for seq in seqs {
            tx.execute(
                "INSERT OR REPLACE INTO sent (sink, alert_id, at)
                 SELECT sink, alert_id, ?2 FROM outbox WHERE seq = ?1",
                params![seq, now_millis],
            )
            .map_err(&err)?;
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])
                .map_err(&err)?;
        }
        tx.execute(
            "DELETE FROM sent WHERE at < ?1",
            [now_millis - SENT_RETENTION_MILLIS],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Records a failed attempt: the alerts are retried at `next_attempt` (milliseconds),
    /// and an acknowledgment they awaited is no longer asked for.
    pub fn failed(&mut self, seqs: &[i64], next_attempt: i64) -> Result<(), StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        for seq in seqs {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2,
                 ack_channel = NULL, ack_id = NULL WHERE seq = ?1",
                params![seq, next_attempt],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// Records that the sink took `ack.seqs` and owes acknowledgment `ack.id` on
    /// `ack.channel`: not due before `ack.deadline`, and no attempt counted.
    pub fn await_ack(&mut self, ack: &AwaitedAck) -> Result<(), StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        let id = i64::try_from(ack.id).unwrap_or(i64::MAX);
        for seq in &ack.seqs {
            tx.execute(
                "UPDATE outbox SET next_attempt = ?2, ack_channel = ?3, ack_id = ?4
                 WHERE seq = ?1",
                params![seq, ack.deadline, ack.channel, id],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// The acknowledgments `sink` owes, as [`Store::await_ack`] recorded them (by this
    /// process or one before it), oldest first.
    pub fn awaited_acks(&self, sink: &str) -> Result<Vec<AwaitedAck>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT ack_channel, ack_id, seq, next_attempt FROM outbox
                 WHERE sink = ?1 AND ack_id IS NOT NULL ORDER BY seq",
            )
            .map_err(self.err())?;
        let rows = statement
            .query_map([sink], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(self.err())?;
        let mut acks: Vec<AwaitedAck> = Vec::new();
        let mut index: HashMap<(String, u64), usize> = HashMap::new();
        for row in rows {
            let (channel, id, seq, deadline) = row.map_err(self.err())?;
            let id = u64::try_from(id).unwrap_or_default();
            match index.entry((channel, id)) {
                Entry::Occupied(at) => {
                    let ack = &mut acks[*at.get()];
                    ack.seqs.push(seq);
                    ack.deadline = ack.deadline.min(deadline);
                }
                Entry::Vacant(slot) => {
                    acks.push(AwaitedAck {
                        channel: slot.key().0.clone(),
                        id,
                        seqs: vec![seq],
                        deadline,
                    });
                    slot.insert(acks.len() - 1);
                }
            }
        }
        Ok(acks)
    }

    /// Alerts waiting for `sink`.
    pub fn pending(&self, sink: &str) -> Result<i64, StoreError> {
        self.connection
            .query_row("SELECT count(*) FROM outbox WHERE sink = ?1", [sink], |r| {
                r.get(0)
            })
            .map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("palisade-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("store.db")
    }

    #[test]
    fn baselines_merge_and_survive_reopening() {
        let path = temp("baseline");
        let line = r#"{"kind":"Event","stage":"ResponseComplete","verb":"get","user":{"username":"system:serviceaccount:app:web"},"sourceIPs":["10.0.0.5"],"userAgent":"web/1.0","objectRef":{"resource":"configmaps","namespace":"app"},"requestReceivedTimestamp":"2026-01-01T00:00:00Z"}"#;
        let mut learned = Baseline::default();
        learned.observe(&palisade_audit::Event::decode(line).unwrap());
        {
            let mut store = Store::open(&path).unwrap();
            store.save_baseline(&learned).unwrap();
            store.save_baseline(&learned).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let loaded = store.load_baseline().unwrap();
        let profile = &loaded.identities["system:serviceaccount:app:web"];
        assert_eq!(profile.events, 2);
        assert_eq!(profile.behaviours.len(), 1);
        assert!(profile.source_ips.contains("10.0.0.5"));
        let mut store = store;
        assert_eq!(store.reset_baseline(Some("nobody")).unwrap(), 0);
        assert_eq!(store.reset_baseline(None).unwrap(), 1);
        assert!(store.load_baseline().unwrap().identities.is_empty());
    }

    /// Opens the store at `path` from two threads at once, each with its connection (two
    /// processes opening it at once); both must succeed.
    fn open_from_two_threads(path: &std::path::Path) {
        let opening: Vec<_> = (0..2)
            .map(|_| {
                let path = path.to_path_buf();
                std::thread::spawn(move || Store::open(&path).map(drop))
            })
            .collect();
        for open in opening {
            open.join().unwrap().unwrap();
        }
    }

    /// Two processes opening at once a store made before it was switched to WAL both open
    /// it: SQLite tells one of them "database is locked" at once, whatever the busy
    /// timeout, and opening tries again (it failed about one time in 25; 40 rounds here).
    #[test]
    fn two_processes_opening_a_store_made_before_wal_both_open_it() {
        for round in 0..40 {
            let path = temp(&format!("rollback-journal-{round}"));
            Connection::open(&path)
                .unwrap()
                .execute_batch("CREATE TABLE old (x INTEGER);")
                .unwrap();
            open_from_two_threads(&path);
            let _ = std::fs::remove_dir_all(path.parent().unwrap());
        }
    }

    #[test]
    fn a_store_of_schema_1_keeps_its_queue_and_learns_to_remember_acknowledgments() {
        let path = temp("schema-1");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    sink TEXT NOT NULL,
                    alert_id TEXT NOT NULL,
                    body TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (sink, alert_id)
                );
                INSERT INTO outbox (sink, alert_id, body) VALUES ('hec', 'a1', '{}'), ('hec', 'a2', '{}');
                PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        open_from_two_threads(&path);
        let mut store = Store::open(&path).unwrap();
        let due = store.due("hec", 0, 10).unwrap();
        assert_eq!(due.len(), 2);
        assert!(store.awaited_acks("hec").unwrap().is_empty());
        let ack = AwaitedAck {
            channel: "c-1".into(),
            id: 7,
            seqs: due.iter().map(|q| q.seq).collect(),
            deadline: 300_000,
        };
        store.await_ack(&ack).unwrap();
        drop(store);
        // Reopened (schema 2 now): the acknowledgment owed is still known, and not due.
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store.awaited_acks("hec").unwrap(),
            std::slice::from_ref(&ack)
        );
        assert!(store.due("hec", 1_000, 10).unwrap().is_empty());
        // A failed batch owes nothing any more.
        store.failed(&ack.seqs, 2_000).unwrap();
        assert!(store.awaited_acks("hec").unwrap().is_empty());
        assert_eq!(store.due("hec", 2_000, 10).unwrap().len(), 2);
    }

    /// The store and its journal files are its owner's alone, whatever the umask; a store
    /// made before is said to be readable by others, and left as it is.
    #[cfg(unix)]
    #[test]
    fn a_new_store_is_readable_by_its_owner_alone() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("private");
        let mut store = Store::open(&path).unwrap();
        store
            .enqueue(&[("siem".into(), "a1".into(), "{}".into())], None)
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        let wal = path.with_file_name("store.db-wal");
        assert_eq!(mode(&wal), 0o600);
        assert!(!readable_by_others(&path));
        drop(store);
        let older = path.with_file_name("older.db");
        std::fs::write(&older, "").unwrap();
        std::fs::set_permissions(&older, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&older).unwrap();
        assert!(readable_by_others(&older));
        assert_eq!(mode(&older), 0o644);
    }

    #[test]
    fn the_queue_delivers_each_alert_once_per_sink_and_retries_failures() {
        let path = temp("queue");
        let mut store = Store::open(&path).unwrap();
        let batch = store.receive(b"{\"items\":[]}", 1).unwrap();
        let mut items = Vec::new();
        for sink in ["siem", "file"] {
            for id in ["a1", "a2"] {
                items.push((sink.to_string(), id.to_string(), "{}".to_string()));
            }
        }
        store.enqueue(&items, Some(batch)).unwrap();
        // The same alerts again (a batch analysed twice after a crash): not queued twice.
        store.enqueue(&items, None).unwrap();
        assert_eq!(store.received_pending().unwrap(), 0);
        assert_eq!(store.pending("siem").unwrap(), 2);
        let due = store.due("siem", 0, 10).unwrap();
        assert_eq!(due.len(), 2);
        store.failed(&[due[0].seq], 5_000).unwrap();
        assert_eq!(store.due("siem", 1_000, 10).unwrap().len(), 1);
        store.delivered(&[due[1].seq], 20_000).unwrap();
        // Delivered once: analysing the same log again does not queue it for that sink.
        store.enqueue(&items, None).unwrap();
        assert_eq!(store.pending("siem").unwrap(), 1);
        assert_eq!(store.due("siem", 10_000, 10).unwrap()[0].attempts, 1);
        assert_eq!(store.pending("file").unwrap(), 2);
        assert_eq!(
            store.pending_by_sink().unwrap(),
            [("file".to_string(), 2), ("siem".to_string(), 1)]
        );
    }
}
