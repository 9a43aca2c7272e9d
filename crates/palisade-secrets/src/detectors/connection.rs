//! Passwords inside URLs (`scheme://user:password@host`) and database connection strings
//! (`Password=...;`, `?password=...`, libpq's `password=...`).

use super::{Found, find_text};
use crate::detector::Detector;
use crate::values::{is_placeholder, is_reference};

pub(super) fn find(text: &str, out: &mut Vec<Found>) {
    url_user_info(text, out);
    password_fields(text, out);
    sql_passwords(text, out);
}

/// `CREATE USER u WITH PASSWORD 'x'`, `ALTER ROLE u PASSWORD 'x'` (PostgreSQL), `CREATE USER
/// u IDENTIFIED BY 'x'` (MySQL, Oracle): a password in an SQL script, such as a database's
/// init script kept in a ConfigMap.
fn sql_passwords(text: &str, out: &mut Vec<Found>) {
    // Both keywords end in a blank.
    if !text.contains(' ') {
        return;
    }
    let lower = text.to_ascii_lowercase();
    for keyword in ["password ", "identified by "] {
        let mut from = 0;
        while let Some(i) = find_text(&lower[from..], keyword) {
            let at = from + i;
            from = at + keyword.len();
            let line_start = lower[..at].rfind('\n').map_or(0, |n| n + 1);
            let statement = &lower[line_start..at];
            if !(statement.contains("user")
                || statement.contains("role")
                || statement.contains("login"))
            {
                continue;
            }
            let rest = &text[from..];
            let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"')) else {
                continue;
            };
            let Some(len) = rest[1..].find(quote) else {
                continue;
            };
            let start = from + 1;
            let password = &text[start..start + len];
            if is_value(password) && !password.contains('\n') {
                out.push(Found::new(Detector::SqlPassword, start, start + len));
            }
        }
    }
}

/// Whether a password found in a URL or connection string is a real value.
fn is_value(password: &str) -> bool {
    !password.is_empty()
        && !is_reference(password)
        && !is_placeholder("password", password)
        && !password.starts_with('$')
        && !password.starts_with('%')
        && !password.starts_with('{')
        && !password.starts_with('*')
}

/// `scheme://user:password@host`.
fn url_user_info(text: &str, out: &mut Vec<Found>) {
    let mut from = 0;
    while let Some(i) = find_text(&text[from..], "://") {
        let authority_start = from + i + 3;
        from = authority_start;
        let scheme_ok = text[..authority_start - 3]
            .bytes()
            .next_back()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        let authority_len = text[authority_start..]
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(text.len() - authority_start);
        let authority = &text[authority_start..authority_start + authority_len];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let user_info = &authority[..at];
        let Some(colon) = user_info.find(':') else {
            continue;
        };
        let password = &user_info[colon + 1..];
        if scheme_ok && is_value(password) {
            let start = authority_start + colon + 1;
            out.push(Found::new(
                Detector::UrlCredentials,
                start,
                start + password.len(),
            ));
        }
    }
}

/// `Password=...;` (ADO.NET, ODBC, JDBC query), `password=...` (libpq key/value), `pwd=`.
fn password_fields(text: &str, out: &mut Vec<Found>) {
    // Every field ends in `=`.
    if !text.contains('=') {
        return;
    }
    let lower = text.to_ascii_lowercase();
    for field in ["password=", "pwd=", "passwd="] {
        let mut from = 0;
        while let Some(i) = find_text(&lower[from..], field) {
            let key_start = from + i;
            let start = key_start + field.len();
            from = start;
            // The field begins a connection-string segment: after `;`, `?`, `&` or a blank
            // within a line that also names a host, server or user.
            let before = lower[..key_start].bytes().next_back();
            if !matches!(
                before,
                None | Some(b';' | b'?' | b'&' | b' ' | b'\n' | b'"' | b'\'')
            ) {
                continue;
            }
            let line_start = lower[..key_start].rfind('\n').map_or(0, |n| n + 1);
            let line_end = lower[start..].find('\n').map_or(lower.len(), |n| start + n);
            let line = &lower[line_start..line_end];
            let connection = [
                "host=",
                "server=",
                "data source=",
                "user=",
                "user id=",
                "uid=",
                "dbname=",
                "database=",
                "jdbc:",
                "://",
            ]
            .iter()
            .any(|k| line.contains(k));
            if !connection {
                continue;
            }
            let quoted = text[start..].starts_with(['\'', '"']);
            let value_start = start + usize::from(quoted);
            let len = text[value_start..]
                .find(|c: char| matches!(c, ';' | '&' | '\'' | '"') || c.is_whitespace())
                .unwrap_or(text.len() - value_start);
            let password = &text[value_start..value_start + len];
            if is_value(password) {
                out.push(Found::new(
                    Detector::ConnectionString,
                    value_start,
                    value_start + len,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Vec<(Detector, String)> {
        super::super::matches(find, text)
    }

    #[test]
    fn passwords_in_urls_and_connection_strings() {
        assert_eq!(
            detect("postgres://u:Pa55word@h/db"),
            [(Detector::UrlCredentials, "Pa55word".into())]
        );
        assert_eq!(
            detect("redis://:s3cret@redis:6379"),
            [(Detector::UrlCredentials, "s3cret".into())]
        );
        assert_eq!(
            detect("Server=db;Database=shop;User Id=sa;Password=Hx9!kq;"),
            [(Detector::ConnectionString, "Hx9!kq".into())]
        );
        assert_eq!(
            detect("host=db user=app password=Zk81q dbname=shop"),
            [(Detector::ConnectionString, "Zk81q".into())]
        );
        assert!(detect("postgres://u:${PASSWORD}@h/db").is_empty());
        assert!(detect("https://user@host/path").is_empty());
        assert!(detect("password=x").is_empty(), "no connection around it");
        assert_eq!(
            detect("CREATE USER shop WITH PASSWORD 'Zk81qLm0';"),
            [(Detector::SqlPassword, "Zk81qLm0".into())]
        );
        assert_eq!(
            detect("CREATE USER 'app'@'%' IDENTIFIED BY 'q9Z!x2Lm';"),
            [(Detector::SqlPassword, "q9Z!x2Lm".into())]
        );
        assert!(detect("ALTER USER shop WITH PASSWORD :'pw';").is_empty());
    }
}
