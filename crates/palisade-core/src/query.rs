//! A URL's query string: its values percent-decoded, as the audit detections read request
//! URIs and the recorded API server reads what clients ask.

/// Decodes `%XX` escapes and `+` (query strings); invalid escapes are kept as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..=i + 2]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded value of `key` in a query string (`a=1&b=x%2Fy`), the first when repeated.
pub fn value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("%2Fbin%2Fsh"), "/bin/sh");
        assert_eq!(percent_decode("a+b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn values_are_found_by_key_and_decoded() {
        assert_eq!(
            value("watch=1&labelSelector=a%3Db", "labelSelector").as_deref(),
            Some("a=b")
        );
        assert_eq!(value("a=1&a=2", "a").as_deref(), Some("1"));
        assert_eq!(value("a", "a"), None);
    }
}
