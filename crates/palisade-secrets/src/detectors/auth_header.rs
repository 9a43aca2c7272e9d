//! Credentials in HTTP authorization: `Authorization: Basic ...` or `Bearer ...` written into a
//! command, a header value or a file, and `curl -u user:password`.

use super::{Found, find_text};
use crate::detector::Detector;
use crate::values::{is_placeholder, is_reference};

pub(super) fn find(text: &str, out: &mut Vec<Found>) {
    schemes(text, out);
    curl_user(text, out);
}

/// The credential after an authorization scheme, when it is a literal.
pub(crate) fn scheme_credential(value: &str) -> Option<(usize, usize)> {
    for scheme in ["Basic ", "Bearer ", "Token ", "basic ", "bearer ", "token "] {
        if let Some(i) = find_text(value, scheme) {
            let start = i + scheme.len();
            let len = value[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';'))
                .unwrap_or(value.len() - start);
            let credential = &value[start..start + len];
            if credential.len() >= 8
                && !is_reference(credential)
                && !is_placeholder("token", credential)
                && !credential.starts_with('$')
            {
                return Some((start, start + len));
            }
        }
    }
    None
}

/// `Authorization: <scheme> <credential>` anywhere in a text.
fn schemes(text: &str, out: &mut Vec<Found>) {
    // The header's name is followed by `:` or `=`.
    if !text.contains([':', '=']) {
        return;
    }
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = find_text(&lower[from..], "authorization") {
        let after = from + i + "authorization".len();
        from = after;
        let rest = &text[after..];
        let Some(sep) = rest.find([':', '=']) else {
            continue;
        };
        // The separator on the header name's own line, right after it.
        if sep > 3 || rest[..sep].contains('\n') {
            continue;
        }
        let line_end = rest[sep + 1..]
            .find('\n')
            .map_or(rest.len(), |n| sep + 1 + n);
        if let Some((s, e)) = scheme_credential(&rest[sep + 1..line_end]) {
            let base = after + sep + 1;
            out.push(Found::new(
                Detector::AuthorizationHeader,
                base + s,
                base + e,
            ));
        }
    }
}

/// `curl -u user:password` / `--user user:password` (also `-uuser:password`).
fn curl_user(text: &str, out: &mut Vec<Found>) {
    if !text.contains("curl") && !text.contains("wget") && !text.contains("http") {
        return;
    }
    // Each word with its byte offset, taken from where the word lies in `text`: a separator
    // is not always one byte (a no-break space is two, an ideographic space three).
    let tokens: Vec<(usize, &str)> = text
        .split(char::is_whitespace)
        .filter(|t| !t.is_empty())
        .map(|t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
        .collect();
    for (i, (at, token)) in tokens.iter().enumerate() {
        let (value_at, value) = match *token {
            "-u" | "--user" | "--proxy-user" => match tokens.get(i + 1) {
                Some((a, v)) => (*a, *v),
                None => continue,
            },
            t if t.starts_with("--user=") => (at + 7, &t[7..]),
            t if t.starts_with("-u") && t.len() > 2 && t.contains(':') => (at + 2, &t[2..]),
            _ => continue,
        };
        let (quote, value) = crate::pairs::unquote(value);
        let Some(colon) = value.find(':') else {
            continue;
        };
        let password = &value[colon + 1..];
        if password.len() >= 4
            && !is_reference(password)
            && !password.starts_with('$')
            && !is_placeholder("password", password)
        {
            let start = value_at + quote + colon + 1;
            out.push(Found::new(
                Detector::AuthorizationHeader,
                start,
                start + password.len(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Vec<String> {
        super::super::matches(find, text)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    }

    #[test]
    fn curl_users_after_wide_spaces_are_found_where_they_are() {
        // Counting each separator as one byte put the match two bytes early per
        // ideographic space: the wrong bytes taken as the secret, or a panic inside a
        // character.
        assert_eq!(detect("curl\u{3000}-u admin:Pw9zQ7 http://x"), ["Pw9zQ7"]);
        assert_eq!(
            detect("wget\u{a0}\u{a0}--user=admin:Pw9zQ7\u{3000}http://x"),
            ["Pw9zQ7"]
        );
        assert_eq!(detect("curl\u{3000}-u admin:Pässwört"), ["Pässwört"]);
    }

    #[test]
    fn headers_and_curl_users_are_found() {
        assert_eq!(
            detect("curl -H 'Authorization: Bearer Zk9q2Lm8Pw' http://x"),
            ["Zk9q2Lm8Pw"]
        );
        assert_eq!(detect("curl -u admin:Pw9zQ http://backend/"), ["Pw9zQ"]);
        assert_eq!(detect("curl -u \"admin:Pw9zQ\" http://backend/"), ["Pw9zQ"]);
        assert!(detect("curl -H 'Authorization: Bearer $TOKEN' http://x").is_empty());
        assert!(detect("curl -u admin:$(cat /pw) http://x").is_empty());
    }

    /// Found by the `secrets` fuzz target: a line break between the header's name and its
    /// separator ended the value before it began, and the slice panicked.
    #[test]
    fn a_name_and_separator_on_two_lines_are_no_header() {
        assert!(detect("[_authorization\n\" =\"\" =\"").is_empty());
        assert!(detect("authorization\n: Bearer Zk9q2Lm8Pw").is_empty());
        assert_eq!(
            detect("authorization: Bearer Zk9q2Lm8Pw\nnext: line"),
            ["Zk9q2Lm8Pw"]
        );
    }
}
