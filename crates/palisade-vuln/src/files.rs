//! The files under a path the vulnerability inputs are read from (an OSV database's records
//! and exports, a directory of SBOMs): one walk for both, in name order, hidden entries
//! skipped.

use std::path::{Path, PathBuf};

/// The files under `path` whose names `wanted` takes (`path` itself when it is a file, wanted
/// or not: it was named), in name order, into `found`; a directory or file that cannot be read
/// goes into `failed` with its error, and the rest is walked.
pub fn walk(
    path: &Path,
    wanted: &dyn Fn(&str) -> bool,
    found: &mut Vec<PathBuf>,
    failed: &mut Vec<(PathBuf, std::io::Error)>,
) {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return found.push(path.to_path_buf()),
        Err(e) => return failed.push((path.to_path_buf(), e)),
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => return failed.push((path.to_path_buf(), e)),
    };
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with('.') && (entry.is_dir() || wanted(name)) {
            walk(&entry, wanted, found, failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_files_are_found_in_name_order_and_failures_kept() {
        let dir = std::env::temp_dir().join(format!("palisade-walk-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b")).unwrap();
        for file in ["b/2.json", "1.json", "notes.txt", ".hidden.json"] {
            std::fs::write(dir.join(file), "{}").unwrap();
        }
        let (mut found, mut failed) = (Vec::new(), Vec::new());
        walk(&dir, &|n| n.ends_with(".json"), &mut found, &mut failed);
        walk(&dir.join("missing"), &|_| true, &mut found, &mut failed);
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["1.json", "b/2.json"]);
        assert_eq!(failed.len(), 1);
        assert!(failed[0].0.ends_with("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
