//! An OSV database on disk, read whole and indexed by ecosystem and package name: directories
//! of record files (`*.json`, as `osv-scanner` and `git clone` of an advisory database leave
//! them) and OSV's per-ecosystem exports (`all.zip`, read in place), in any mix.
//!
//! A database that holds no usable record is an error, never an empty answer: matching
//! against it would say "no known vulnerability" of every package. A record that cannot be
//! read is a diagnostic naming its file (and its entry in a zip), and the rest is read.

use crate::osv::Record;
use crate::package::Package;
use palisade_core::{Diagnostic, DiagnosticLevel};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest record read: osv.dev's largest are a few hundred KiB.
pub const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
/// The most entries read from one zip (OSV's largest export holds about 200,000).
pub const MAX_ZIP_ENTRIES: usize = 2_000_000;

/// Why a database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a zip archive: {message}")]
    Zip { path: String, message: String },
    #[error(
        "{paths}: no OSV record of an ecosystem Palisade matches was found, so no package could be judged (download an ecosystem's records from https://osv-vulnerabilities.storage.googleapis.com/ECOSYSTEM/all.zip)"
    )]
    Empty { paths: String },
}

/// How many records were read, and of what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records indexed (with at least one entry of an ecosystem Palisade matches).
    pub records: usize,
    pub withdrawn: usize,
    /// Records only about ecosystems Palisade does not match (OSS-Fuzz, GIT, Linux, ...).
    pub elsewhere: usize,
    /// Files or entries that are not records.
    pub unreadable: usize,
}

/// The records, indexed.
#[derive(Debug, Default)]
pub struct Database {
    records: Vec<Record>,
    /// (ecosystem, normalized name) to the records with an entry for it.
    by_package: HashMap<(&'static str, String), Vec<usize>>,
    /// Every id and alias of a record that rates its vulnerability, to the records that
    /// carry it.
    by_id: HashMap<String, Vec<usize>>,
    pub counts: Counts,
    pub diagnostics: Vec<Diagnostic>,
}

/// What one file or zip entry held, read on any thread and added to the index in order.
enum Loaded {
    Record(Box<Record>),
    Withdrawn,
    Unreadable { name: String, message: String },
}

/// One record file or zip entry.
fn parse(name: &str, text: &[u8]) -> Loaded {
    match Record::parse(text) {
        Ok(Some(record)) => Loaded::Record(Box::new(record)),
        Ok(None) => Loaded::Withdrawn,
        Err(e) => Loaded::Unreadable {
            name: name.to_string(),
            message: e.to_string(),
        },
    }
}

/// One record from `reader`, read into `text` up to [`MAX_RECORD_BYTES`].
fn read_record(name: String, reader: impl Read, text: &mut Vec<u8>) -> Loaded {
    text.clear();
    match reader.take(MAX_RECORD_BYTES + 1).read_to_end(text) {
        Ok(_) if text.len() as u64 > MAX_RECORD_BYTES => Loaded::Unreadable {
            name,
            message: format!("larger than {MAX_RECORD_BYTES} bytes; not read"),
        },
        Ok(_) => parse(&name, text),
        Err(e) => Loaded::Unreadable {
            name,
            message: e.to_string(),
        },
    }
}

/// Reads the files at `paths` on every core.
fn read_files(paths: &[PathBuf]) -> Vec<Loaded> {
    palisade_core::parallel::map_runs(paths, 256, |run| {
        run.iter()
            .map(|path| {
                let name = path.display().to_string();
                match std::fs::File::open(path) {
                    Ok(file) => read_record(name, file, &mut Vec::new()),
                    Err(e) => Loaded::Unreadable {
                        name,
                        message: e.to_string(),
                    },
                }
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// An archive over a zip's bytes, read whole once: each thread reads its entries from memory
/// (a seek per entry on a buffered file reads and copies a buffer per entry).
fn open_zip<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<zip::ZipArchive<std::io::Cursor<&'a [u8]>>, DatabaseError> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| DatabaseError::Zip {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The entries at `indices` of the zip at `path` (its bytes), read with an archive of this
/// thread's own.
fn read_entries(path: &Path, bytes: &[u8], indices: &[usize]) -> Vec<Loaded> {
    let shown = path.display().to_string();
    let mut archive = match open_zip(path, bytes) {
        Ok(archive) => archive,
        Err(e) => {
            return vec![Loaded::Unreadable {
                name: shown,
                message: e.to_string(),
            }];
        }
    };
    let mut text = Vec::new();
    let mut read = Vec::with_capacity(indices.len());
    for &index in indices {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                read.push(Loaded::Unreadable {
                    name: format!("{shown}!{index}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let entry_name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(e) => {
                read.push(Loaded::Unreadable {
                    name: format!("{shown}!{index}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if entry.is_dir() || !entry_name.ends_with(".json") {
            continue;
        }
        read.push(read_record(
            format!("{shown}!{entry_name}"),
            &mut entry,
            &mut text,
        ));
    }
    read
}

impl Database {
    /// Reads every record under `paths` (files, directories, zips), on every core.
    pub fn load(paths: &[PathBuf]) -> Result<Database, DatabaseError> {
        let mut files = Vec::new();
        let mut failed = Vec::new();
        for path in paths {
            crate::files::walk(
                path,
                &|name| name.ends_with(".json") || name.ends_with(".zip"),
                &mut files,
                &mut failed,
            );
        }
        if let Some((path, source)) = failed.into_iter().next() {
            return Err(DatabaseError::Io {
                path: path.display().to_string(),
                source,
            });
        }
        let is_zip = |p: &PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let (zips, files): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(is_zip);
        let mut database = Database::default();
        for read in read_files(&files) {
            database.insert(read);
        }
        for zip in &zips {
            let bytes = std::fs::read(zip).map_err(|source| DatabaseError::Io {
                path: zip.display().to_string(),
                source,
            })?;
            let entries = open_zip(zip, &bytes)?.len();
            if entries > MAX_ZIP_ENTRIES {
                return Err(DatabaseError::Zip {
                    path: zip.display().to_string(),
                    message: format!("{entries} entries, more than {MAX_ZIP_ENTRIES}"),
                });
            }
            let indices: Vec<usize> = (0..entries).collect();
            let runs = palisade_core::parallel::map_runs(&indices, 4096, |run| {
                read_entries(zip, &bytes, run)
            });
            for read in runs.into_iter().flatten() {
                database.insert(read);
            }
        }
        if database.records.is_empty() {
            return Err(DatabaseError::Empty {
                paths: paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(database)
    }

    /// A database of records given as JSON texts (tests, fuzzing).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Database {
        let mut database = Database::default();
        for (name, text) in texts {
            database.insert(parse(name, text));
        }
        database
    }

    fn insert(&mut self, read: Loaded) {
        let record = match read {
            Loaded::Record(record) => *record,
            Loaded::Withdrawn => {
                self.counts.withdrawn += 1;
                return;
            }
            Loaded::Unreadable { name, message } => {
                self.counts.unreadable += 1;
                self.diagnostics.push(
                    Diagnostic::new(DiagnosticLevel::Error, "osv-record", message).in_file(name),
                );
                return;
            }
        };
        if record.affected.is_empty() {
            self.counts.elsewhere += 1;
            // Kept for its rating: a CVE record another record names as an alias.
            if record.rating.is_none() {
                return;
            }
        } else {
            self.counts.records += 1;
        }
        let at = self.records.len();
        for entry in &record.affected {
            let slot = self
                .by_package
                .entry((entry.ecosystem.osv, entry.name.clone()))
                .or_default();
            if slot.last() != Some(&at) {
                slot.push(at);
            }
        }
        // Looked up by id only for a rating another record of the same id lacks.
        if record.rating.is_some() || record.affected.iter().any(|a| a.rating.is_some()) {
            for id in std::iter::once(&record.id).chain(&record.aliases) {
                self.by_id.entry(id.clone()).or_default().push(at);
            }
        }
        self.records.push(record);
    }

    /// The records with an entry naming `package`'s ecosystem and name.
    pub fn records_for<'a>(&'a self, package: &Package) -> impl Iterator<Item = &'a Record> {
        self.by_package
            .get(&(package.ecosystem.osv, package.name.clone()))
            .into_iter()
            .flatten()
            .map(|&i| &self.records[i])
    }

    /// The records that rate their vulnerability whose id or aliases include `id`.
    pub fn records_named<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a Record> {
        self.by_id
            .get(id)
            .into_iter()
            .flatten()
            .map(|&i| &self.records[i])
    }

    /// Whether any record of `ecosystem` was read: a package of an ecosystem the database has
    /// no record of is not assessed rather than clean.
    pub fn covers(&self, ecosystem: &str) -> bool {
        self.by_package.keys().any(|(e, _)| *e == ecosystem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const RECORD: &str = r#"{"id": "GHSA-1", "aliases": ["CVE-2024-1"], "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}], "database_specific": {"severity": "HIGH"}}"#;

    #[test]
    fn directories_and_zips_are_read_and_bad_records_named() {
        let dir = std::env::temp_dir().join(format!("palisade-osv-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("npm")).unwrap();
        std::fs::write(dir.join("npm/GHSA-1.json"), RECORD).unwrap();
        std::fs::write(dir.join("npm/broken.json"), "{").unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let zip_path = dir.join("PyPI.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("PYSEC-1.json", options).unwrap();
        zip.write_all(br#"{"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "Django"}, "versions": ["1.0"]}]}"#).unwrap();
        zip.start_file("PYSEC-2.json", options).unwrap();
        zip.write_all(br#"{"id": "PYSEC-2", "withdrawn": "2020-01-01T00:00:00Z"}"#)
            .unwrap();
        zip.start_file("bad.json", options).unwrap();
        zip.write_all(b"[]").unwrap();
        zip.finish().unwrap();

        let database = Database::load(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(
            database.counts,
            Counts {
                records: 2,
                withdrawn: 1,
                elsewhere: 0,
                unreadable: 2
            }
        );
        let files: Vec<_> = database
            .diagnostics
            .iter()
            .map(|d| d.file.clone().unwrap())
            .collect();
        assert!(
            files.iter().any(|f| f.ends_with("npm/broken.json")),
            "{files:?}"
        );
        assert!(
            files.iter().any(|f| f.ends_with("PyPI.zip!bad.json")),
            "{files:?}"
        );
        assert!(database.covers("PyPI") && database.covers("npm") && !database.covers("Maven"));
        assert_eq!(database.records_named("CVE-2024-1").count(), 1);
        // An unrated record is not looked up by id.
        assert_eq!(database.records_named("PYSEC-1").count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_database_without_records_is_an_error() {
        let dir = std::env::temp_dir().join(format!("palisade-osv-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("x.json"),
            r#"{"id": "OSV-1", "affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "x"}}]}"#,
        )
        .unwrap();
        let error = Database::load(std::slice::from_ref(&dir)).unwrap_err();
        assert!(matches!(error, DatabaseError::Empty { .. }), "{error}");
        let missing = Database::load(&[dir.join("missing")]).unwrap_err();
        assert!(missing.to_string().contains("missing"), "{missing}");
        std::fs::write(dir.join("not.zip"), "text").unwrap();
        let not_zip = Database::load(&[dir.join("not.zip")]).unwrap_err();
        assert!(matches!(not_zip, DatabaseError::Zip { .. }), "{not_zip}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
