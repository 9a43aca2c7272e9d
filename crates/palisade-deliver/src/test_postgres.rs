//! A real PostgreSQL server for tests (feature `test-postgres`): Debian's `initdb` and
//! `pg_ctl` make a cluster in a fresh directory, started on a loopback port with password
//! (SCRAM) authentication and, when asked, TLS with a given certificate. As root the server
//! runs as the `postgres` user, as PostgreSQL requires. Without PostgreSQL's programs a test
//! is skipped locally and fails in CI (`CI` set): a test that cannot run must not pass there.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The password of the `palisade` user the server is made with.
pub const PASSWORD: &str = "palisade-test-password";

/// A running server, stopped when dropped.
pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
    as_postgres: bool,
    /// Where PostgreSQL's programs are.
    bin: PathBuf,
}

fn bin_dir() -> Option<PathBuf> {
    let candidates = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"));
    std::iter::once(PathBuf::from("/usr/local/bin"))
        .chain(candidates)
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl Server {
    /// Starts a server; `tls` is the certificate and key (PEM) it serves TLS with. `None`
    /// when PostgreSQL is not installed and this is not CI.
    pub fn start(name: &str, tls: Option<(&str, &str)>) -> Option<Server> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL's initdb and pg_ctl are needed (.ci/run installs them)"
            );
            eprintln!("skipped: PostgreSQL is not installed");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("palisade-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the server's directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        std::fs::write(dir.join("password"), PASSWORD).expect("the password file");
        if let Some((cert, key)) = tls {
            std::fs::write(dir.join("server.crt"), cert).expect("the certificate");
            std::fs::write(dir.join("server.key"), key).expect("the key");
        }
        let as_postgres = is_root();
        let server = Server {
            dir,
            port,
            as_postgres,
            bin,
        };
        if as_postgres {
            server.run("chown", &["-R", "postgres:postgres", &server.path("")]);
        }
        #[cfg(unix)]
        if tls.is_some() {
            use std::os::unix::fs::PermissionsExt;
            let key = server.dir.join("server.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .expect("the key's mode");
        }
        let initdb = server.bin.join("initdb").display().to_string();
        server.run_as_server(
            &initdb,
            &[
                "-D",
                &server.path("data"),
                "-U",
                "palisade",
                "--auth=scram-sha-256",
                "--pwfile",
                &server.path("password"),
                "--no-sync",
            ],
        );
        let mut settings = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\n",
            server.path("")
        );
        if tls.is_some() {
            settings.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                server.path("server.crt"),
                server.path("server.key")
            ));
        }
        let conf = server.dir.join("data/postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&settings);
        std::fs::write(&conf, text).expect("postgresql.conf");
        server.start_again();
        Some(server)
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run_as_server(&self, program: &str, args: &[&str]) {
        if self.as_postgres {
            let mut all = vec!["-u", "postgres", "--", program];
            all.extend_from_slice(args);
            self.run("runuser", &all);
        } else {
            self.run(program, args);
        }
    }

    /// Runs `sql` with psql as the `palisade` user; its output, unaligned, tuples only.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "palisade",
            ])
            .args(["-d", "postgres", "-At", "-c", sql])
            .env("PGPASSWORD", PASSWORD)
            .env("PGSSLMODE", "prefer")
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `pg_ctl` on the server's data directory, run as the server's user.
    fn pg_ctl(&self, args: &[&str]) -> Command {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(pg_ctl);
            command
        } else {
            Command::new(pg_ctl)
        };
        command.arg("-D").arg(self.dir.join("data")).args(args);
        command
    }

    fn pg_ctl_ok(&self, args: &[&str]) {
        let out = self.pg_ctl(args).output().expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server now (as a crash would: immediately); `start_again` brings it back.
    pub fn stop(&self) {
        self.pg_ctl_ok(&["-m", "immediate", "-w", "stop"]);
    }

    pub fn start_again(&self) {
        self.pg_ctl_ok(&["-l", &self.path("log"), "-w", "start"]);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
