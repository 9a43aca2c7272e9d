//! The location syntax of Gatekeeper's mutators (`spec.containers[name: *].securityContext`):
//! fields separated by `.`, a keyed-list step `[key: value]` (or `[key: *]` for every
//! element) after a field, and names quoted with `"` or `'` (a backslash escapes the next
//! character) where they hold other characters than letters, digits, `_` and `-`.

use std::fmt;

/// The most steps a location may have: objects are walked one step a level, and no
/// Kubernetes object nests anywhere near this deep.
const MAX_STEPS: usize = 128;

/// One step of a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A field of an object.
    Field(String),
    /// The elements of a list whose `key` field is `value` (every element when `None`, the
    /// glob `*`).
    List { key: String, value: Option<String> },
}

impl Step {
    /// Whether two steps name the same place in an object's shape: the same field, or a list
    /// keyed by the same field (whichever element).
    pub fn same_shape(&self, other: &Step) -> bool {
        match (self, other) {
            (Step::Field(a), Step::Field(b)) => a == b,
            (Step::List { key: a, .. }, Step::List { key: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// A name as a location writes it: bare when it holds only letters, digits, `_` and `-`,
/// else quoted, with `"` and `\` escaped.
fn name(text: &str) -> String {
    if !text.is_empty() && text.chars().all(is_ident_char) {
        return text.to_string();
    }
    let mut out = String::from('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Field(field) => write!(f, "{}", name(field)),
            Step::List { key, value: None } => write!(f, "[{}: *]", name(key)),
            Step::List {
                key,
                value: Some(value),
            } => write!(f, "[{}: {}]", name(key), name(value)),
        }
    }
}

/// Writes `steps` as a location (`spec.containers[name: *].image`).
pub fn display(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        if matches!(step, Step::Field(_)) && !out.is_empty() {
            out.push('.');
        }
        out.push_str(&step.to_string());
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Dot,
    Open,
    Close,
    Colon,
    Glob,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn tokens(input: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            ' ' | '\t' | '\r' | '\n' => continue,
            '.' => Token::Dot,
            '[' => Token::Open,
            ']' => Token::Close,
            ':' => Token::Colon,
            '*' => Token::Glob,
            '"' | '\'' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => break,
                        Some((_, '\\')) => {
                            if let Some((_, escaped)) = chars.next() {
                                text.push(escaped);
                            }
                        }
                        Some((_, other)) => text.push(other),
                        None => return Err(format!("unterminated string at position {at}")),
                    }
                }
                Token::Ident(text)
            }
            c if is_ident_char(c) => {
                let mut text = String::from(c);
                while let Some(&(_, next)) = chars.peek().filter(|(_, n)| is_ident_char(*n)) {
                    text.push(next);
                    chars.next();
                }
                Token::Ident(text)
            }
            other => return Err(format!("invalid character `{other}` at position {at}")),
        };
        out.push(token);
    }
    Ok(out)
}

/// Parses a location; an error says what is wrong and where.
pub fn parse(input: &str) -> Result<Vec<Step>, String> {
    let tokens = tokens(input)?;
    let mut steps = Vec::new();
    let mut i = 0;
    let expected = |i: usize, what: &str| match tokens.get(i) {
        Some(token) => format!("expected {what}, got {token:?}"),
        None => format!("expected {what}, got the end"),
    };
    while i < tokens.len() {
        let Token::Ident(name) = &tokens[i] else {
            return Err(expected(i, "a field name"));
        };
        steps.push(Step::Field(name.clone()));
        i += 1;
        if tokens.get(i) == Some(&Token::Open) {
            let Some(Token::Ident(key)) = tokens.get(i + 1) else {
                return Err(expected(i + 1, "a key field in `[key: value]`"));
            };
            if tokens.get(i + 2) != Some(&Token::Colon) {
                return Err(expected(i + 2, "`:` after the key field"));
            }
            let value = match tokens.get(i + 3) {
                Some(Token::Glob) => None,
                Some(Token::Ident(value)) => Some(value.clone()),
                _ => return Err(expected(i + 3, "a key value or `*`")),
            };
            if tokens.get(i + 4) != Some(&Token::Close) {
                return Err(expected(i + 4, "`]`"));
            }
            steps.push(Step::List {
                key: key.clone(),
                value,
            });
            i += 5;
        }
        match tokens.get(i) {
            None => break,
            Some(Token::Dot) if i + 1 == tokens.len() => {
                return Err("a trailing `.` is not allowed".into());
            }
            Some(Token::Dot) => i += 1,
            Some(_) => return Err(expected(i, "`.` or the end")),
        }
    }
    if steps.is_empty() {
        return Err("the location is empty".into());
    }
    if steps.len() > MAX_STEPS {
        return Err(format!(
            "the location has {} steps, more than the {MAX_STEPS} any object could hold",
            steps.len()
        ));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Step {
        Step::Field(name.into())
    }

    #[test]
    fn parses_fields_keyed_lists_globs_and_quotes() {
        assert_eq!(
            parse("spec.containers[name: *].securityContext.runAsUser").unwrap(),
            [
                field("spec"),
                field("containers"),
                Step::List {
                    key: "name".into(),
                    value: None
                },
                field("securityContext"),
                field("runAsUser"),
            ]
        );
        assert_eq!(
            parse("spec.containers[name:\"my.app\"]").unwrap(),
            [
                field("spec"),
                field("containers"),
                Step::List {
                    key: "name".into(),
                    value: Some("my.app".into())
                },
            ]
        );
        assert_eq!(
            parse("metadata.labels.'app.kubernetes.io/name'").unwrap(),
            [
                field("metadata"),
                field("labels"),
                field("app.kubernetes.io/name")
            ]
        );
        assert_eq!(parse(r#"a."b\"c""#).unwrap(), [field("a"), field("b\"c")]);
        assert_eq!(
            display(&parse("spec.containers[name: *].image").unwrap()),
            "spec.containers[name: *].image"
        );
    }

    proptest::proptest! {
        /// Any text is parsed or refused without panicking, and what a location says is
        /// written back as a location that parses to the same steps.
        #[test]
        fn any_text_parses_or_is_refused_and_steps_round_trip(
            text in "\\PC{0,40}",
            names in proptest::collection::vec(("[a-z\\-_.\"\\\\/ ]{0,6}", proptest::option::of("[a-z*.\"]{1,4}"), proptest::bool::ANY), 1..5),
        ) {
            let _ = parse(&text);
            let mut steps = Vec::new();
            for (field, key, listed) in names {
                steps.push(Step::Field(field.clone()));
                if listed {
                    steps.push(Step::List { key: field, value: key });
                }
            }
            let written = display(&steps);
            proptest::prop_assert_eq!(parse(&written), Ok(steps), "{}", written);
        }
    }

    #[test]
    fn refuses_what_gatekeeper_refuses() {
        for bad in [
            "",
            "spec.",
            ".spec",
            "spec..a",
            "spec.containers[name]",
            "spec.containers[name: a",
            "spec.containers[: a]",
            "spec[name: a][name: b]",
            "spec.\"open",
            "spec/a",
            "spec.containers[name: a]image",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = vec!["a"; 129].join(".");
        assert!(parse(&deep).unwrap_err().contains("129 steps"));
        assert_eq!(parse(&vec!["a"; 128].join(".")).unwrap().len(), 128);
    }
}
