//! The files indicators are read from, kept to read them again when they change: a
//! long-running receiver picks up a feed its download job replaced, without a restart.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::{Indicators, IntelError, Problem};

/// Files of indicators, each named as given (in the configuration, on the command line),
/// with what they were like when last looked at.
#[derive(Debug, Clone)]
pub struct Feeds {
    files: Vec<(String, PathBuf)>,
    /// Per file, its modification time and size when last looked at (`None`: unreadable).
    stamps: Vec<Option<(SystemTime, u64)>>,
}

impl Feeds {
    pub fn new(files: Vec<(String, PathBuf)>) -> Feeds {
        let stamps = files.iter().map(|(_, path)| stamp(path)).collect();
        Feeds { files, stamps }
    }

    /// Files named in a configuration file, relative to its directory `base`: each named as
    /// written.
    pub fn relative(base: &std::path::Path, names: &[String]) -> Vec<(String, PathBuf)> {
        names
            .iter()
            .map(|name| (name.clone(), base.join(name)))
            .collect()
    }

    pub fn files(&self) -> &[(String, PathBuf)] {
        &self.files
    }

    /// Reads every file. An error when one cannot be read, or when none holds an indicator
    /// an audit event can match (a run would look for nothing); the problems are the entries
    /// not read.
    pub fn load(&self) -> Result<(Indicators, Vec<Problem>), IntelError> {
        let (intel, problems) = Indicators::load(&self.files)?;
        if intel.is_empty() {
            let names: Vec<&str> = self.files.iter().map(|(name, _)| name.as_str()).collect();
            let shown: Vec<String> = problems.iter().take(3).map(ToString::to_string).collect();
            let message = match problems.len() {
                0 => "no indicator in them".to_string(),
                n => format!(
                    "no indicator that an audit event can match; {n} not read: {}{}",
                    shown.join(", "),
                    if n > shown.len() { ", ..." } else { "" }
                ),
            };
            return Err(IntelError::Invalid {
                path: names.join(", "),
                message,
            });
        }
        Ok((intel, problems))
    }

    /// Whether a file was modified, replaced, resized, removed or restored since this was
    /// last asked (or since [`Feeds::new`]); what they are like now is remembered.
    pub fn changed(&mut self) -> bool {
        let now: Vec<Option<(SystemTime, u64)>> =
            self.files.iter().map(|(_, path)| stamp(path)).collect();
        let changed = now != self.stamps;
        self.stamps = now;
        changed
    }
}

fn stamp(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_is_a_change_and_reads_again() {
        let dir = std::env::temp_dir().join(format!("palisade-feeds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("feed.txt");
        std::fs::write(&path, "198.51.100.7\n").unwrap();
        let mut feeds = Feeds::new(vec![("feed.txt".into(), path.clone())]);
        assert!(!feeds.changed());
        assert_eq!(feeds.load().unwrap().0.counts().addresses, 1);
        // Written by a download job: another size (the time may not move within a second).
        std::fs::write(&path, "198.51.100.7\n198.51.100.8\nminer.example\n").unwrap();
        assert!(feeds.changed());
        assert!(!feeds.changed());
        let (intel, _) = feeds.load().unwrap();
        assert_eq!((intel.counts().addresses, intel.counts().domains), (2, 1));
        // A download that left nothing usable is an error (the caller keeps what it had).
        std::fs::write(&path, "<html>rate limited</html>\n").unwrap();
        assert!(feeds.changed());
        assert!(feeds.load().is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(feeds.changed());
        assert!(feeds.load().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
