//! Private keys: PEM blocks (`-----BEGIN ... PRIVATE KEY-----`, PGP private key blocks),
//! OpenSSH keys and PuTTY key files. A header without a body (documentation that names the
//! format) is not a key.

use super::{Found, find_text};
use crate::detector::Detector;

pub(super) fn find(text: &str, out: &mut Vec<Found>) {
    let before = out.len();
    blocks(text, out);
    // A value shaped like a key block that no parser would take (`---BEGIN ... PRIVATE
    // KEY---` around `xxxxx`): a stand-in for a key.
    let trimmed = text.trim_start();
    if out.len() == before
        && trimmed.starts_with("---")
        && trimmed.contains("BEGIN")
        && trimmed.contains("PRIVATE KEY")
    {
        let start = text.len() - trimmed.len();
        out.push(Found::new(
            Detector::Placeholder,
            start,
            text.trim_end().len(),
        ));
    }
}

fn blocks(text: &str, out: &mut Vec<Found>) {
    let mut from = 0;
    while let Some(offset) = find_text(&text[from..], "-----BEGIN ") {
        let start = from + offset;
        let header_end = match find_text(&text[start + 11..], "-----") {
            Some(e) => start + 11 + e + 5,
            None => break,
        };
        let label = &text[start + 11..header_end - 5];
        from = header_end;
        if !(label.ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK") {
            continue;
        }
        let end = text[header_end..]
            .find("-----END ")
            .and_then(|e| {
                let close = header_end + e + 9;
                find_text(&text[close..], "-----").map(|c| close + c + 5)
            })
            .unwrap_or(text.len());
        let body = &text[header_end..end];
        let body_chars = body
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
            .count();
        // A real key body is at least a few lines of base64; `...` or `<key>` is not.
        if body_chars >= 64 {
            out.push(Found::new(Detector::PrivateKey, start, end));
        } else if text[..start].trim().is_empty() {
            // A value that is a key block with a stand-in body (`xxxx`): built to hold a key.
            out.push(Found::new(Detector::Placeholder, start, end));
        }
        from = end;
    }
    if let Some(start) = find_text(text, "PuTTY-User-Key-File-")
        && text[start..].contains("Private-Lines:")
    {
        out.push(Found::new(Detector::PrivateKey, start, text.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_blocks_with_a_body_are_keys() {
        let body = "MIIEowIBAAKCAQEAvGx0ZW1wbGF0ZXMtYXJlLW5vdC1rZXlzLWJ1dC10aGlzLWlzLWEtdGVzdA==\nQ2FuYXJ5S2V5TWF0ZXJpYWxGb3JQYWxpc2FkZVRlc3RzT25seQ==";
        let key =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
        let mut out = Vec::new();
        find(&key, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(&key[out[0].start..out[0].end], key.trim_end());
        let mut none = Vec::new();
        find(
            "see -----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
            &mut none,
        );
        find(
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            &mut none,
        );
        assert!(none.is_empty());
    }
}
