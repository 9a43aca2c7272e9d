//! Text from the inputs made safe to show on a terminal. Names, messages, user agents and
//! file names come from manifests and audit events that anyone able to send a request or open
//! a pull request writes: an escape sequence in them could erase or rewrite the line that
//! reports them, retitle the window or write to the clipboard, a carriage return or newline
//! could forge a line of its own, and a bidirectional override could show a name reversed.
//! [`printable`] writes each such character as an escape (`\u{1b}`, `\n`) instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as it is: control characters (C0, DEL, C1) and the
/// Unicode controls that change the direction or the joining of what follows.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with each character [`unsafe_char`] says a terminal must not get written as an
/// escape; borrowed when there is none (the usual case).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] for text whose own line breaks are meant (a multi-line message): each line
/// made printable, the breaks kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && unsafe_char(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<str>> = text.split('\n').map(printable).collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey_and_borrows_the_rest() {
        assert!(matches!(
            printable("alice ran exec in app/web"),
            Cow::Borrowed(_)
        ));
        assert_eq!(printable("café ✓"), "café ✓");
        assert_eq!(
            printable("eve\u{1b}]0;pwned\u{7}\u{1b}[2K"),
            "eve\\u{1b}]0;pwned\\u{7}\\u{1b}[2K"
        );
        assert_eq!(printable("a\r\nINFO fake"), "a\\r\\nINFO fake");
        assert_eq!(printable("tab\there"), "tab\\there");
        assert_eq!(printable("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
        assert_eq!(printable("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(printable("del\u{7f}"), "del\\u{7f}");
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert!(matches!(printable_lines("a\nb"), Cow::Borrowed(_)));
        assert_eq!(printable_lines("a\u{1b}[2K\nb\r"), "a\\u{1b}[2K\nb\\r");
    }

    proptest::proptest! {
        #[test]
        fn nothing_unsafe_is_left(text in ".*") {
            let shown = printable(&text);
            proptest::prop_assert!(!shown.chars().any(unsafe_char));
        }
    }
}
