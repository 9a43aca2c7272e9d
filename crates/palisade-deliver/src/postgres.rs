//! A table in a PostgreSQL the user runs, as a sink (`postgresql://USER@HOST[:PORT]/DATABASE`):
//! each alert or event a row (`seq` in the order delivered, `id`, `stored_at`, `body` as
//! JSONB), where SQL and the dashboards built on it read them. A batch is inserted in one statement, in one
//! transaction; an id already stored is skipped (`ON CONFLICT DO NOTHING`), so a batch sent
//! again after a crash is stored once. The table is created when missing.
//!
//! The connection is made on the first batch and kept; a failed one is dropped and made
//! again on the next attempt. It is TLS (rustls on ring), verified against `ca=` or the
//! public roots, with a client certificate when `cert=`/`key=` are given, except to a
//! loopback address without `ca=`, or with `insecure=true`. The password comes from the
//! environment variable `password_env=` names, never from the URL.

use std::time::Duration;

use crate::sink::{Sink, Transport};
use crate::transport::Failure;
use palisade_store::Queued;

/// Where a PostgreSQL sink writes.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    /// The table, `name` or `schema.name`.
    pub table: String,
    pub password: Option<String>,
    /// Over TLS (otherwise in the clear: loopback, or `insecure=true`).
    pub tls: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("table", &self.table)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("tls", &self.tls)
            .finish()
    }
}

/// The table created when missing.
fn create_table(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            seq BIGSERIAL,
            id TEXT PRIMARY KEY,
            stored_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            body JSONB NOT NULL
        )"
    )
}

/// Whether `name` may be written into SQL as a table name: `name` or `schema.name`, each an
/// unquoted identifier of at most 63 bytes.
pub fn valid_table(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    match name.split_once('.') {
        Some((schema, table)) => part(schema) && part(table),
        None => part(name),
    }
}

/// Reads `USER@HOST[:PORT]/DATABASE`; a password in it is refused (it would show in process
/// lists and the pod's spec).
pub fn target_of(rest: &str) -> Result<(String, u16, String, String), String> {
    let (authority, database) = rest
        .split_once('/')
        .filter(|(_, db)| !db.is_empty() && !db.contains('/'))
        .ok_or("needs USER@HOST[:PORT]/DATABASE")?;
    let (user, host_port) = authority
        .rsplit_once('@')
        .filter(|(user, _)| !user.is_empty())
        .ok_or("needs the user: USER@HOST[:PORT]/DATABASE")?;
    if user.contains(':') {
        return Err(
            "a password in the URL shows in process lists: give password_env=VARIABLE".into(),
        );
    }
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("an unclosed [ in the host")?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err("needs a host".into());
    }
    let port = match port {
        None => 5432,
        Some(port) => port
            .parse()
            .map_err(|_| format!("port `{port}` is not a number"))?,
    };
    Ok((host.into(), port, user.into(), database.into()))
}

/// The kept connection of a PostgreSQL sink (behind a lock only so that a sink can be
/// shared between threads: one thread delivers to it at a time).
pub(crate) struct Connection(std::sync::Mutex<postgres::Client>);

fn connect(sink: &Sink, target: &Target) -> Result<postgres::Client, String> {
    let mut config = postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(&target.database)
        .application_name("palisade")
        .connect_timeout(Duration::from_secs(10));
    if let Some(password) = &target.password {
        config.password(password);
    }
    let mut client = if target.tls {
        config.ssl_mode(postgres::config::SslMode::Require);
        let tls = crate::transport::tls_client(sink.ca.as_deref(), sink.client.as_ref())?;
        config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
    } else {
        config.ssl_mode(postgres::config::SslMode::Disable);
        config.connect(postgres::NoTls)
    }
    .map_err(|e| described(&e))?;
    client
        .batch_execute(&create_table(&target.table))
        .map_err(|e| described(&e))?;
    Ok(client)
}

/// The error with its causes (the client's own says "error connecting to server" and keeps
/// why in its source).
fn described(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

/// Stores `batch` in the sink's table.
pub(crate) fn store(sink: &mut Sink, batch: &[Queued]) -> Result<(), Failure> {
    let Transport::Postgres(target) = sink.transport.clone() else {
        return Err("not a PostgreSQL sink".to_string().into());
    };
    let mut connection = match sink.database.take() {
        Some(connection) => connection,
        None => Connection(std::sync::Mutex::new(connect(sink, &target)?)),
    };
    let ids: Vec<&str> = batch.iter().map(|q| q.alert_id.as_str()).collect();
    // JSON as it is; any other format (CEF, text) as a JSON string.
    let bodies: Vec<String> = batch
        .iter()
        .map(|q| {
            if serde_json::from_str::<serde::de::IgnoredAny>(&q.body).is_ok() {
                q.body.clone()
            } else {
                serde_json::Value::String(q.body.clone()).to_string()
            }
        })
        .collect();
    let insert = format!(
        "INSERT INTO {} (id, body) SELECT id, body::jsonb FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS b(id, body, n) ORDER BY n ON CONFLICT (id) DO NOTHING",
        target.table
    );
    let inserted = connection
        .0
        .get_mut()
        .map_err(|_| "the connection was left broken".to_string())?
        .execute(&insert, &[&ids, &bodies]);
    match inserted {
        Ok(_) => {
            sink.database = Some(connection);
            Ok(())
        }
        // The connection is dropped: the next attempt makes a new one.
        Err(e) => Err(described(&e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_target_and_refuses_a_password_in_it() {
        assert_eq!(
            target_of("audit@db.example.com:6432/security").unwrap(),
            (
                "db.example.com".into(),
                6432,
                "audit".into(),
                "security".into()
            )
        );
        assert_eq!(
            target_of("a@[::1]/d").unwrap(),
            ("::1".into(), 5432, "a".into(), "d".into())
        );
        for bad in [
            "db/x",
            "a@db",
            "a:secret@db/x",
            "@db/x",
            "a@db:port/x",
            "a@/x",
            "a@db/x/y",
        ] {
            assert!(target_of(bad).is_err(), "{bad}");
        }
        assert!(
            target_of("a:secret@db/x")
                .unwrap_err()
                .contains("password_env")
        );
    }

    #[test]
    fn only_plain_identifiers_are_tables() {
        for good in ["palisade_events", "security.alerts", "_t1"] {
            assert!(valid_table(good), "{good}");
        }
        for bad in [
            "",
            "Events",
            "a;drop table x",
            "a.b.c",
            "1a",
            "a-b",
            &"a".repeat(64),
        ] {
            assert!(!valid_table(bad), "{bad}");
        }
    }
}
