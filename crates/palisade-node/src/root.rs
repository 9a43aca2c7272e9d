//! A node's file system seen under a root directory: `/` on the node itself, `/host` in a pod
//! that mounts the node's `/` there. Paths are the node's (`/etc/kubernetes/admin.conf`);
//! symbolic links are followed as the node would follow them, an absolute target read inside
//! the root rather than on the machine running Palisade, so `--root /host` never judges the
//! pod's own files in place of the node's.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

/// How many symbolic links one path may pass through (Linux's own limit).
const MOST_LINKS: usize = 40;

/// What a file's metadata says, as `stat` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The permission bits and the set-id and sticky bits (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub is_dir: bool,
}

/// Why a node path could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// The root is not a directory that can be read.
    #[error("{0} is not a directory that can be read")]
    NotADirectory(String),
    /// A path passes through more symbolic links than Linux follows.
    #[error("{path}: more than {MOST_LINKS} symbolic links")]
    TooManyLinks { path: String },
    /// Reading failed for another reason (permission denied, an I/O error).
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// What the path names is not a regular file (a FIFO or a device would block or never
    /// end a read).
    #[error("{path} is not a regular file")]
    NotAFile { path: String },
    /// A file is larger than the most that is read of one.
    #[error("{path} is larger than {most} bytes")]
    TooLarge { path: String, most: u64 },
    /// File modes and owners are Unix's: this platform has none.
    #[error("file modes and owners are read on Unix only")]
    Unsupported,
}

/// The node's file system under a directory of this machine.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// The root at `dir`, which must be a directory.
    pub fn open(dir: &Path) -> Result<Root, RootError> {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(Root {
                dir: dir.to_path_buf(),
            }),
            _ => Err(RootError::NotADirectory(dir.display().to_string())),
        }
    }

    /// The directory the node's `/` is under.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the node path `node` is on this machine, without following links: for messages
    /// and for the inventory's file names.
    pub fn host_path(&self, node: &Path) -> PathBuf {
        let relative: PathBuf = node
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        self.dir.join(relative)
    }

    /// The node path `node` with every symbolic link on the way followed inside the root,
    /// `..` taken lexically after each link as the kernel takes it. `Ok(None)` when a part of
    /// the path does not exist.
    pub fn resolve(&self, node: &Path) -> Result<Option<PathBuf>, RootError> {
        let mut resolved = PathBuf::from("/");
        let mut pending: Vec<std::ffi::OsString> = parts(node);
        pending.reverse();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            if part == "." || part.is_empty() {
                continue;
            }
            let next = resolved.join(&part);
            let meta = match std::fs::symlink_metadata(self.host_path(&next)) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(source) => {
                    return Err(RootError::Io {
                        path: next.display().to_string(),
                        source,
                    });
                }
            };
            if !meta.file_type().is_symlink() {
                resolved = next;
                continue;
            }
            links += 1;
            if links > MOST_LINKS {
                return Err(RootError::TooManyLinks {
                    path: node.display().to_string(),
                });
            }
            let target =
                std::fs::read_link(self.host_path(&next)).map_err(|source| RootError::Io {
                    path: next.display().to_string(),
                    source,
                })?;
            if target.is_absolute() {
                resolved = PathBuf::from("/");
            }
            let mut more = parts(&target);
            more.reverse();
            pending.extend(more);
        }
        Ok(Some(resolved))
    }

    /// The metadata of the node path `node`, links followed inside the root; `Ok(None)` when
    /// it does not exist.
    pub fn stat(&self, node: &Path) -> Result<Option<Stat>, RootError> {
        let Some(resolved) = self.resolve(node)? else {
            return Ok(None);
        };
        let meta = std::fs::symlink_metadata(self.host_path(&resolved)).map_err(|source| {
            RootError::Io {
                path: node.display().to_string(),
                source,
            }
        })?;
        stat_of(&meta).map(Some)
    }

    /// The bytes of the file at `node` (links followed inside the root), at most `most`;
    /// `Ok(None)` when it does not exist.
    pub fn read(&self, node: &Path, most: u64) -> Result<Option<Vec<u8>>, RootError> {
        let Some(resolved) = self.resolve(node)? else {
            return Ok(None);
        };
        let io = |source| RootError::Io {
            path: node.display().to_string(),
            source,
        };
        let host = self.host_path(&resolved);
        if !std::fs::metadata(&host).map_err(io)?.is_file() {
            return Err(RootError::NotAFile {
                path: node.display().to_string(),
            });
        }
        let file = std::fs::File::open(host).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(most.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > most {
            return Err(RootError::TooLarge {
                path: node.display().to_string(),
                most,
            });
        }
        Ok(Some(bytes))
    }

    /// The node paths of the entries of the directory `node` (links followed inside the
    /// root), in name order, hidden ones (`.name`) left out as the kubelet leaves them out of
    /// its static pod directory; empty when it does not exist.
    pub fn list(&self, node: &Path) -> Result<Vec<PathBuf>, RootError> {
        let Some(resolved) = self.resolve(node)? else {
            return Ok(Vec::new());
        };
        let io = |source| RootError::Io {
            path: node.display().to_string(),
            source,
        };
        let entries = match std::fs::read_dir(self.host_path(&resolved)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(io)?.file_name();
            if !name.as_encoded_bytes().starts_with(b".") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names.into_iter().map(|n| node.join(n)).collect())
    }
}

/// The parts of a path, the root left out.
fn parts(path: &Path) -> Vec<std::ffi::OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

#[cfg(unix)]
fn stat_of(meta: &std::fs::Metadata) -> Result<Stat, RootError> {
    use std::os::unix::fs::MetadataExt as _;
    Ok(Stat {
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        is_dir: meta.is_dir(),
    })
}

#[cfg(not(unix))]
fn stat_of(_: &std::fs::Metadata) -> Result<Stat, RootError> {
    Err(RootError::Unsupported)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("palisade-node-root-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_absolute_link_is_followed_inside_the_root() {
        let dir = scratch("absolute");
        std::fs::create_dir_all(dir.join("etc/kubernetes/pki")).unwrap();
        std::fs::write(dir.join("etc/kubernetes/pki/ca.crt"), "node's").unwrap();
        std::fs::create_dir_all(dir.join("var/lib/kubelet")).unwrap();
        symlink(
            "/etc/kubernetes/pki/ca.crt",
            dir.join("var/lib/kubelet/ca.crt"),
        )
        .unwrap();
        let root = Root::open(&dir).unwrap();
        let node = Path::new("/var/lib/kubelet/ca.crt");
        assert_eq!(
            root.resolve(node).unwrap().unwrap(),
            PathBuf::from("/etc/kubernetes/pki/ca.crt")
        );
        assert_eq!(root.read(node, 100).unwrap().unwrap(), b"node's");
        // A relative link with `..` climbs no higher than the root.
        symlink(
            "../../../../../../etc/kubernetes/pki/ca.crt",
            dir.join("var/lib/kubelet/up.crt"),
        )
        .unwrap();
        assert_eq!(
            root.resolve(Path::new("/var/lib/kubelet/up.crt"))
                .unwrap()
                .unwrap(),
            PathBuf::from("/etc/kubernetes/pki/ca.crt")
        );
        assert!(root.resolve(Path::new("/var/lib/none")).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_is_refused_rather_than_read_forever() {
        let dir = scratch("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("kube-apiserver.yaml"))
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let root = Root::open(&dir).unwrap();
        assert!(matches!(
            root.read(Path::new("/kube-apiserver.yaml"), 100),
            Err(RootError::NotAFile { .. })
        ));
        assert!(matches!(
            root.read(Path::new("/"), 100),
            Err(RootError::NotAFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_loop_of_links_is_an_error_not_a_hang() {
        let dir = scratch("loop");
        symlink("/b", dir.join("a")).unwrap();
        symlink("/a", dir.join("b")).unwrap();
        let root = Root::open(&dir).unwrap();
        assert!(matches!(
            root.stat(Path::new("/a")),
            Err(RootError::TooManyLinks { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_larger_than_asked_is_refused_and_listing_skips_hidden_entries() {
        let dir = scratch("large");
        std::fs::write(dir.join("big"), vec![b'x'; 11]).unwrap();
        std::fs::write(dir.join(".hidden"), "").unwrap();
        let root = Root::open(&dir).unwrap();
        assert!(matches!(
            root.read(Path::new("/big"), 10),
            Err(RootError::TooLarge { .. })
        ));
        assert_eq!(
            root.list(Path::new("/")).unwrap(),
            vec![PathBuf::from("/big")]
        );
        assert!(Root::open(&dir.join("big")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
