//! What a file's first bytes say of its encoding, for the inputs that must be UTF-8
//! (manifests, snapshots, audit logs): one answer, and one piece of advice, for all of them.

/// The UTF-8 byte-order mark, which Windows tools write first and readers skip.
pub const UTF8_MARK: &[u8] = &[0xef, 0xbb, 0xbf];

/// What to do with a UTF-16 file, said after what it is.
pub const UTF16_ADVICE: &str = "UTF-16 text (what Windows PowerShell 5 writes with `>`): write it as UTF-8 (`Out-File -Encoding utf8`)";

/// Whether text starting with `start` is UTF-16 (a byte-order mark of either order).
pub fn is_utf16(start: &[u8]) -> bool {
    start.starts_with(&[0xff, 0xfe]) || start.starts_with(&[0xfe, 0xff])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_told_from_utf8_by_its_mark() {
        let utf16: Vec<u8> = "\u{feff}a: 1"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(is_utf16(&utf16));
        let big_endian: Vec<u8> = "\u{feff}a"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(is_utf16(&big_endian));
        assert!(!is_utf16("\u{feff}a: 1".as_bytes()));
        assert!("\u{feff}a".as_bytes().starts_with(UTF8_MARK));
        assert!(!is_utf16(b""));
    }
}
