//! What of a request may be printed in an alert. The rule of the project holds here too:
//! only what is known to be harmless is shown. An exec command line is shown as its
//! program and its bare flags; every other word is a stable tag (`<hidden #1a2b3c4d>`), so
//! two alerts of the same command compare equal without the command's arguments (where
//! passwords go: `mysql -pSECRET`, `curl -u user:pass`) ever reaching a SIEM.

use palisade_core::redact::hidden;

/// `sh -c <hidden #...>`: the program (its base name), flags without values, and tags.
pub fn command_line(words: &[String]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        if i == 0 {
            let program = word.rsplit('/').next().unwrap_or(word);
            if is_bare_word(program) {
                out.push(program.to_string());
                continue;
            }
        } else if is_bare_flag(word) {
            out.push(word.clone());
            continue;
        }
        out.push(hidden(word));
    }
    out.join(" ")
}

/// A program name: letters, digits and `._-`, at most 64 characters.
fn is_bare_word(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 64
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// `-c`, `-it`, `--stdin`, `--`: a flag that carries no value of its own. Single-dash
/// flags are limited to three letters, so `-pSECRET` is not one.
fn is_bare_flag(word: &str) -> bool {
    if word == "--" {
        return true;
    }
    if let Some(name) = word.strip_prefix("--") {
        return (2..=40).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    }
    if let Some(letters) = word.strip_prefix('-') {
        return (1..=2).contains(&letters.len())
            && letters.bytes().all(|b| b.is_ascii_alphabetic());
    }
    false
}

pub use palisade_core::query::percent_decode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_show_the_program_and_bare_flags_only() {
        let words: Vec<String> = ["/bin/sh", "-c", "mysql -pS3cret -h db"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let shown = command_line(&words);
        assert!(shown.starts_with("sh -c <hidden #"), "{shown}");
        assert!(!shown.contains("S3cret"));
        let words: Vec<String> = ["mysql", "-pS3cret", "--password=x", "--verbose"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let shown = command_line(&words);
        assert!(
            !shown.contains("S3cret") && !shown.contains("password=x"),
            "{shown}"
        );
        assert!(shown.ends_with("--verbose"), "{shown}");
    }
}
