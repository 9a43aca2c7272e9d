//! Scan history: each `palisade scan --history FILE` recorded as a run with its findings, so
//! that runs can be listed with their counts over time and any two compared (what is new, what
//! was fixed). A finding is known across runs by its fingerprint (rule, subject, field and
//! discriminator: stable when lines move), as `--baseline` matches them.
//!
//! Only what a report prints is kept: the rule, the severity, the subject and the message as
//! the redaction boundary left them, never a value the scan read.

use rusqlite::{OptionalExtension, params};

use crate::{Store, StoreError, sqlite_error};

/// The tables of the scan history (store schema 3).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scan_run (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    label TEXT NOT NULL,
    complete INTEGER NOT NULL,
    objects INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_finding (
    run INTEGER NOT NULL REFERENCES scan_run(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    suppressed INTEGER NOT NULL,
    PRIMARY KEY (run, fingerprint)
) WITHOUT ROWID;
";

/// The severities, most severe first, as reports write them.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// One finding of a recorded run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedFinding {
    pub fingerprint: String,
    pub rule: String,
    /// `critical` ... `info`.
    pub severity: String,
    /// The object, image, file or identity, as the report names it.
    pub subject: String,
    pub message: String,
    /// Accepted by a suppression (or a baseline) in that run.
    pub suppressed: bool,
}

/// What a scan recorded besides its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Seconds since the epoch.
    pub at: i64,
    /// What was scanned, as the user names it (the inputs, or `--history-label`).
    pub label: String,
    /// Whether every input was read (an incomplete run's absences prove nothing).
    pub complete: bool,
    pub objects: i64,
}

/// A recorded run, with its unsuppressed findings counted by severity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanRun {
    pub id: i64,
    pub at: i64,
    pub label: String,
    pub complete: bool,
    pub objects: i64,
    /// Unsuppressed findings by severity, in [`SEVERITIES`]' order.
    pub counts: [i64; 5],
    pub suppressed: i64,
}

impl ScanRun {
    /// Unsuppressed findings.
    pub fn open(&self) -> i64 {
        self.counts.iter().sum()
    }
}

impl Store {
    /// Records a scan and its findings in one transaction; its run id.
    pub fn record_scan(
        &mut self,
        run: &NewRun,
        findings: &[RecordedFinding],
    ) -> Result<i64, StoreError> {
        let err = sqlite_error(self.path.clone());
        let tx = self.connection.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO scan_run (at, label, complete, objects) VALUES (?1, ?2, ?3, ?4)",
            params![run.at, run.label, run.complete, run.objects],
        )
        .map_err(&err)?;
        let id = tx.last_insert_rowid();
        {
            // A fingerprint twice in one report (it should not be) keeps its first finding.
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO scan_finding
                     (run, fingerprint, rule, severity, subject, message, suppressed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&err)?;
            for f in findings {
                insert
                    .execute(params![
                        id,
                        f.fingerprint,
                        f.rule,
                        f.severity,
                        f.subject,
                        f.message,
                        f.suppressed
                    ])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(id)
    }

    /// The recorded runs, newest first, at most `limit`.
    pub fn scan_runs(&self, limit: usize) -> Result<Vec<ScanRun>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_runs("GROUP BY r.id ORDER BY r.id DESC LIMIT ?1", limit)
    }

    /// The run `id`, if recorded.
    pub fn scan_run(&self, id: i64) -> Result<Option<ScanRun>, StoreError> {
        Ok(self
            .query_runs("WHERE r.id = ?1 GROUP BY r.id", id)?
            .into_iter()
            .next())
    }

    /// The runs `tail` (its clauses after the join, with one parameter) selects, each with
    /// its unsuppressed findings counted by severity.
    fn query_runs(&self, tail: &str, parameter: i64) -> Result<Vec<ScanRun>, StoreError> {
        let err = self.err();
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT r.id, r.at, r.label, r.complete, r.objects,
                        SUM(f.severity = 'critical' AND NOT f.suppressed),
                        SUM(f.severity = 'high' AND NOT f.suppressed),
                        SUM(f.severity = 'medium' AND NOT f.suppressed),
                        SUM(f.severity = 'low' AND NOT f.suppressed),
                        SUM(f.severity = 'info' AND NOT f.suppressed),
                        SUM(f.suppressed)
                 FROM scan_run r LEFT JOIN scan_finding f ON f.run = r.id {tail}"
            ))
            .map_err(&err)?;
        let rows = statement
            .query_map(params![parameter], |row| {
                let count = |i: usize| row.get::<_, Option<i64>>(i).map(|c| c.unwrap_or(0));
                Ok(ScanRun {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    label: row.get(2)?,
                    complete: row.get(3)?,
                    objects: row.get(4)?,
                    counts: [count(5)?, count(6)?, count(7)?, count(8)?, count(9)?],
                    suppressed: count(10)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// The findings of run `id`, by fingerprint.
    pub fn scan_findings(&self, id: i64) -> Result<Vec<RecordedFinding>, StoreError> {
        let err = self.err();
        let mut statement = self
            .connection
            .prepare(
                "SELECT fingerprint, rule, severity, subject, message, suppressed
                 FROM scan_finding WHERE run = ?1 ORDER BY fingerprint",
            )
            .map_err(&err)?;
        let rows = statement
            .query_map(params![id], |row| {
                Ok(RecordedFinding {
                    fingerprint: row.get(0)?,
                    rule: row.get(1)?,
                    severity: row.get(2)?,
                    subject: row.get(3)?,
                    message: row.get(4)?,
                    suppressed: row.get(5)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Removes every run but the `keep` newest, with their findings; how many were removed.
    pub fn prune_scan_runs(&mut self, keep: usize) -> Result<usize, StoreError> {
        let err = sqlite_error(self.path.clone());
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let tx = self.connection.transaction().map_err(&err)?;
        let oldest_kept: Option<i64> = tx
            .query_row(
                "SELECT id FROM scan_run ORDER BY id DESC LIMIT 1 OFFSET ?1",
                params![keep - 1],
                |row| row.get(0),
            )
            .optional()
            .map_err(&err)?;
        let removed = match oldest_kept {
            Some(oldest) if keep > 0 => {
                tx.execute("DELETE FROM scan_finding WHERE run < ?1", params![oldest])
                    .map_err(&err)?;
                tx.execute("DELETE FROM scan_run WHERE id < ?1", params![oldest])
                    .map_err(&err)?
            }
            _ => 0,
        };
        tx.commit().map_err(&err)?;
        Ok(removed)
    }

    /// The id of the run recorded before run `id`, if any.
    pub fn scan_run_before(&self, id: i64) -> Result<Option<i64>, StoreError> {
        self.connection
            .query_row(
                "SELECT MAX(id) FROM scan_run WHERE id < ?1",
                params![id],
                |row| row.get::<_, Option<i64>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }
}

/// The findings `after` has and `before` has not (new), and those `before` has and `after`
/// has not (fixed), by fingerprint, each in its run's order.
pub fn new_and_fixed(
    before: &[RecordedFinding],
    after: &[RecordedFinding],
) -> (Vec<RecordedFinding>, Vec<RecordedFinding>) {
    let had: std::collections::HashSet<&str> =
        before.iter().map(|f| f.fingerprint.as_str()).collect();
    let has: std::collections::HashSet<&str> =
        after.iter().map(|f| f.fingerprint.as_str()).collect();
    let new = after
        .iter()
        .filter(|f| !had.contains(f.fingerprint.as_str()))
        .cloned()
        .collect();
    let fixed = before
        .iter()
        .filter(|f| !has.contains(f.fingerprint.as_str()))
        .cloned()
        .collect();
    (new, fixed)
}

/// The findings open on a cluster scanned again and again (`palisade watch`), and what each
/// scan changed. A finding a scan no longer gives is *resolved* only when the scan could
/// judge it: when its rule was not assessed in that scan (a type it reads could not be
/// listed), it stays open, carried, since not looking is not a fix.
#[derive(Debug, Default)]
pub struct OpenFindings {
    open: std::collections::BTreeMap<String, RecordedFinding>,
}

/// What one scan changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub opened: Vec<RecordedFinding>,
    pub resolved: Vec<RecordedFinding>,
    /// Open before, not given now, and kept open because the scan could not judge them.
    pub carried: usize,
}

impl OpenFindings {
    /// Takes a scan's unsuppressed findings; `not_assessed` says of a rule whether this scan
    /// could not judge it.
    pub fn update(
        &mut self,
        found: Vec<RecordedFinding>,
        not_assessed: impl Fn(&str) -> bool,
    ) -> Changes {
        let mut now: std::collections::BTreeMap<String, RecordedFinding> = found
            .into_iter()
            .filter(|f| !f.suppressed)
            .map(|f| (f.fingerprint.clone(), f))
            .collect();
        let mut changes = Changes {
            opened: now
                .iter()
                .filter(|(fingerprint, _)| !self.open.contains_key(*fingerprint))
                .map(|(_, f)| f.clone())
                .collect(),
            ..Changes::default()
        };
        for (fingerprint, finding) in std::mem::take(&mut self.open) {
            if now.contains_key(&fingerprint) {
                continue;
            }
            if not_assessed(&finding.rule) {
                changes.carried += 1;
                now.insert(fingerprint, finding);
            } else {
                changes.resolved.push(finding);
            }
        }
        self.open = now;
        changes
    }

    /// The open findings, by fingerprint.
    pub fn open(&self) -> impl Iterator<Item = &RecordedFinding> {
        self.open.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(fingerprint: &str, severity: &str, suppressed: bool) -> RecordedFinding {
        RecordedFinding {
            fingerprint: fingerprint.into(),
            rule: "POD001".into(),
            severity: severity.into(),
            subject: "Deployment shop/web".into(),
            message: "runs privileged".into(),
            suppressed,
        }
    }

    fn run(at: i64) -> NewRun {
        NewRun {
            at,
            label: "deploy/".into(),
            complete: true,
            objects: 12,
        }
    }

    #[test]
    fn runs_are_recorded_counted_and_read_back_in_order() {
        let dir = std::env::temp_dir().join(format!("palisade-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.db");
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open(&path).unwrap();
        assert!(store.scan_runs(10).unwrap().is_empty());
        let first = store
            .record_scan(
                &run(100),
                &[
                    finding("a", "critical", false),
                    finding("b", "high", true),
                    finding("a", "low", false),
                ],
            )
            .unwrap();
        let second = store
            .record_scan(&run(200), &[finding("c", "medium", false)])
            .unwrap();
        let runs = store.scan_runs(10).unwrap();
        assert_eq!(
            runs.iter().map(|r| r.id).collect::<Vec<_>>(),
            [second, first]
        );
        assert_eq!(
            runs[1].counts,
            [1, 0, 0, 0, 0],
            "a fingerprint once, its first finding"
        );
        assert_eq!(runs[1].suppressed, 1);
        assert_eq!(runs[0].open(), 1);
        assert_eq!(store.scan_runs(1).unwrap().len(), 1);
        assert_eq!(store.scan_run_before(second).unwrap(), Some(first));
        assert_eq!(store.scan_run_before(first).unwrap(), None);
        assert_eq!(store.scan_run(first).unwrap().unwrap().at, 100);
        assert!(store.scan_run(99).unwrap().is_none());
        let findings = store.scan_findings(first).unwrap();
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0], finding("a", "critical", false));
        // Read again by another connection: durable.
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.scan_runs(10).unwrap().len(), 2);
        // Pruned to the newest run: the older one goes with its findings.
        assert_eq!(store.prune_scan_runs(5).unwrap(), 0);
        assert_eq!(store.prune_scan_runs(1).unwrap(), 1);
        assert_eq!(store.scan_runs(10).unwrap().len(), 1);
        assert!(store.scan_findings(first).unwrap().is_empty());
        assert_eq!(store.scan_findings(second).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn of_rule(fingerprint: &str, rule: &str) -> RecordedFinding {
        RecordedFinding {
            fingerprint: fingerprint.into(),
            rule: rule.into(),
            severity: "high".into(),
            subject: "Pod shop/web".into(),
            message: "m".into(),
            suppressed: false,
        }
    }

    #[test]
    fn open_findings_resolve_only_what_a_scan_could_judge() {
        let mut open = OpenFindings::default();
        let first = open.update(
            vec![of_rule("a", "POD001"), of_rule("b", "RBAC001")],
            |_| false,
        );
        assert_eq!(first.opened.len(), 2);
        // RBAC001 could not be judged (its bindings were not listed): b stays open.
        let second = open.update(vec![of_rule("c", "POD001")], |rule| rule == "RBAC001");
        assert_eq!(second.opened, [of_rule("c", "POD001")]);
        assert_eq!(second.resolved, [of_rule("a", "POD001")]);
        assert_eq!(second.carried, 1);
        let third = open.update(vec![of_rule("c", "POD001")], |_| false);
        assert_eq!(third.resolved, [of_rule("b", "RBAC001")]);
        assert!(third.opened.is_empty());
        // A suppressed finding is not open.
        let mut suppressed = of_rule("d", "POD001");
        suppressed.suppressed = true;
        let fourth = open.update(vec![of_rule("c", "POD001"), suppressed], |_| false);
        assert_eq!(fourth, Changes::default());
        assert_eq!(open.open().count(), 1);
    }
}
