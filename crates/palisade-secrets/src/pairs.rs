//! Names and values inside text: the lines of configuration files held in ConfigMaps (`.env`,
//! INI, properties, TOML, YAML, JSON, redis.conf's `requirepass x`, XML elements) and the
//! words of command lines (`--db-password=x`, `--token x`, `PGPASSWORD=x psql`).

/// A value with its name, its byte range in the scanned text and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'t> {
    pub name: &'t str,
    pub value: &'t str,
    pub start: usize,
    pub line: usize,
}

/// Most lines read from one value: a bound on work for multi-megabyte files.
const MAX_LINES: usize = 100_000;

/// The `name = value` pairs of a configuration text, one per line at most.
pub fn config_lines(text: &str) -> Vec<Pair<'_>> {
    let mut pairs = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split('\n').enumerate().take(MAX_LINES) {
        let line_start = offset;
        offset += raw.len() + 1;
        if let Some((name, value, at)) = line_pair(raw) {
            pairs.push(Pair {
                name,
                value,
                start: line_start + at,
                line: index + 1,
            });
        }
    }
    pairs
}

/// One line's pair: `(name, value, value offset in the line)`.
fn line_pair(raw: &str) -> Option<(&str, &str, usize)> {
    let indent = raw.len() - raw.trim_start().len();
    let mut line = raw.trim();
    let mut at = indent;
    for prefix in ["export ", "- ", "set "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            at += prefix.len();
            line = rest;
        }
    }
    if line.is_empty() || line.starts_with(['#', ';', '!']) || line.starts_with("//") {
        return None;
    }
    if let Some(pair) = xml_element(line) {
        return Some((pair.0, pair.1, at + pair.2));
    }
    let separator = line.find(['=', ':']);
    let (name, rest, rest_at) = match separator {
        Some(i) if i > 0 => (&line[..i], &line[i + 1..], i + 1),
        _ => {
            // `requirepass secret`, `masterauth secret`: exactly two words.
            let mut words = line.split_whitespace();
            let (name, value) = (words.next()?, words.next()?);
            if words.next().is_some() {
                return None;
            }
            let value_at = line.rfind(value)?;
            return Some((name, value, at + value_at));
        }
    };
    let name = name.trim().trim_matches(['"', '\'']);
    if name.is_empty() || name.contains(char::is_whitespace) && !name.contains('.') {
        return None;
    }
    let lead = rest.len() - rest.trim_start().len();
    let mut value = rest.trim();
    let mut value_at = rest_at + lead;
    value = value.trim_end_matches([',', ';']);
    if let Some(q) = value.chars().next().filter(|c| matches!(c, '"' | '\''))
        && let Some(end) = value[1..].find(q)
    {
        value = &value[1..=end];
        value_at += 1;
    } else if let Some(comment) = value.find(" #") {
        value = value[..comment].trim_end();
    }
    if value.is_empty() || value == "|" || value == ">" || value.starts_with(['{', '[']) {
        return None;
    }
    Some((name, value, at + value_at))
}

/// `<password>value</password>` on one line.
fn xml_element(line: &str) -> Option<(&str, &str, usize)> {
    let rest = line.strip_prefix('<')?;
    let close = rest.find('>')?;
    let name = &rest[..close];
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return None;
    }
    let value_start = close + 1;
    let end = rest.find(&format!("</{name}>"))?;
    Some((name, &rest[value_start..end], 1 + value_start))
}

/// The named values of a command line given as words: `--name=value`, `--name value`,
/// `-name=value` and `NAME=value` assignments. The range is within the word holding the value;
/// `word` is its index.
pub fn command_words<'t>(words: &[&'t str]) -> Vec<(usize, Pair<'t>)> {
    let mut pairs = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let flag = word.trim_start_matches('-');
        let dashes = word.len() - flag.len();
        if let Some(eq) = flag.find('=')
            && eq > 0
            && (dashes > 0 || is_variable_name(&flag[..eq]))
        {
            let (quote, value) = unquote(&flag[eq + 1..]);
            pairs.push((
                i,
                Pair {
                    name: &flag[..eq],
                    value,
                    start: dashes + eq + 1 + quote,
                    line: 1,
                },
            ));
        } else if dashes > 0
            && flag.len() > 1
            && let Some(next) = words.get(i + 1)
            && !next.starts_with('-')
        {
            pairs.push((
                i + 1,
                Pair {
                    name: flag,
                    value: next,
                    start: 0,
                    line: 1,
                },
            ));
        }
    }
    pairs
}

/// `raw` without the quotes around it, and how many bytes were cut from its start (`'"x"'`
/// gives 2 and `x`).
pub(crate) fn unquote(raw: &str) -> (usize, &str) {
    let start = raw.trim_start_matches(['"', '\'']);
    (raw.len() - start.len(), start.trim_end_matches(['"', '\'']))
}

fn is_variable_name(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// The words of a shell script line, with their offsets.
pub fn shell_words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let blank = c.is_whitespace() || c == ';' || c == '&' || c == '|';
        match (blank, start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_lines_give_their_pairs() {
        let text = "# comment\nREDIS_PASSWORD=abc123x\npassword: 'q9z'\n  \"token\": \"t0k\",\nrequirepass foobared9\n<password>x1y2</password>\nlisten 80 now\n";
        let pairs: Vec<(&str, &str, usize)> = config_lines(text)
            .iter()
            .map(|p| (p.name, p.value, p.line))
            .collect();
        assert_eq!(
            pairs,
            [
                ("REDIS_PASSWORD", "abc123x", 2),
                ("password", "q9z", 3),
                ("token", "t0k", 4),
                ("requirepass", "foobared9", 5),
                ("password", "x1y2", 6),
            ]
        );
        for p in config_lines(text) {
            assert_eq!(&text[p.start..p.start + p.value.len()], p.value);
        }
    }

    /// Found by the property test: `--x='"value` was unquoted twice but offset by one byte,
    /// so a secret's range could end inside a multi-byte character.
    #[test]
    fn every_quote_cut_from_a_value_moves_its_start() {
        assert_eq!(unquote("'\"x\"'"), (2, "x"));
        let words = ["--db-password='\"Zk81qLmé"];
        let (_, pair) = &command_words(&words)[0];
        assert_eq!(
            &words[0][pair.start..pair.start + pair.value.len()],
            pair.value
        );
    }

    #[test]
    fn command_lines_give_flags_and_assignments() {
        let words = ["--db-password=s3", "--token", "abc", "PGPASSWORD=x", "-v"];
        let pairs: Vec<(usize, &str, &str)> = command_words(&words)
            .iter()
            .map(|(i, p)| (*i, p.name, p.value))
            .collect();
        assert_eq!(
            pairs,
            [
                (0, "db-password", "s3"),
                (2, "token", "abc"),
                (3, "PGPASSWORD", "x")
            ]
        );
    }
}
