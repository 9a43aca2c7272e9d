//! The part of STIX 2.1 patterning that threat feeds use to name single observables:
//! observation expressions `[...]` joined by `OR`, each a comparison or comparisons joined by
//! `OR`, with `=`, `IN` and `ISSUBSET` on the object paths an audit event can show (a client
//! address, a domain, a user agent, an account). A pattern is read into the observables any
//! one of which matches it.
//!
//! Anything else (`AND`, `NOT`, `FOLLOWEDBY`, qualifiers such as `WITHIN`, other operators,
//! other object paths) is refused with what it was, never read as something it is not: an
//! `AND` read as an `OR` would report what the feed does not say. Nesting is bounded.

use palisade_net::addr::{AddrRange, Family};

/// One thing an indicator names, that an audit event can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observable {
    /// An address or range: of the client (`sourceIPs`), or of a registry named by address.
    Address(AddrRange),
    /// A domain and its subdomains (lower case, no trailing dot): of an image's registry.
    Domain(String),
    /// A user agent, exactly.
    UserAgent(String),
    /// An account name (`user.username`), exactly.
    User(String),
    /// An image repository (registry and path, Docker Hub's short names expanded, no tag).
    Image(String),
}

/// Why a pattern was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Not STIX patterning.
    #[error("not a STIX pattern: {message} at character {at}")]
    Syntax { at: usize, message: String },
    /// STIX patterning this reader does not match on.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// Deepest nesting of parentheses and brackets read.
const MAX_DEPTH: usize = 32;
/// Longest pattern read (characters).
pub const MAX_PATTERN: usize = 64 * 1024;

/// The observables any one of which `pattern` matches.
pub fn observables(pattern: &str) -> Result<Vec<Observable>, PatternError> {
    if pattern.len() > MAX_PATTERN {
        return Err(PatternError::Unsupported(format!(
            "a pattern longer than {MAX_PATTERN} characters"
        )));
    }
    let mut parser = Parser {
        text: pattern,
        at: 0,
        depth: 0,
        out: Vec::new(),
    };
    parser.observation_expression()?;
    parser.skip_space();
    if parser.at < pattern.len() {
        return Err(parser.syntax("unexpected text after the pattern"));
    }
    if parser.out.is_empty() {
        return Err(parser.syntax("no comparison"));
    }
    Ok(parser.out)
}

struct Parser<'t> {
    text: &'t str,
    at: usize,
    depth: usize,
    out: Vec<Observable>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    In,
    IsSubset,
}

impl Parser<'_> {
    fn syntax(&self, message: &str) -> PatternError {
        PatternError::Syntax {
            at: self.text[..self.at].chars().count(),
            message: message.to_string(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Takes `c` after spaces, if it is next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// The next word (letters, digits, `_`, `-`), after spaces, without taking it.
    fn peek_word(&mut self) -> &str {
        self.skip_space();
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Takes keyword `word` (any case), if it is next.
    fn keyword(&mut self, word: &str) -> bool {
        let next = self.peek_word();
        if next.eq_ignore_ascii_case(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError::Unsupported(format!(
                "nesting deeper than {MAX_DEPTH}"
            )));
        }
        Ok(())
    }

    /// observation ( OR observation )*
    fn observation_expression(&mut self) -> Result<(), PatternError> {
        loop {
            self.observation()?;
            self.qualifiers()?;
            if self.keyword("OR") {
                continue;
            }
            for operator in ["AND", "FOLLOWEDBY"] {
                if self.peek_word().eq_ignore_ascii_case(operator) {
                    return Err(PatternError::Unsupported(format!(
                        "`{operator}` between observations"
                    )));
                }
            }
            return Ok(());
        }
    }

    /// `[ comparisons ]` or `( observation expression )`.
    fn observation(&mut self) -> Result<(), PatternError> {
        self.enter()?;
        if self.eat('[') {
            self.comparison_expression()?;
            if !self.eat(']') {
                return Err(self.syntax("expected `]`"));
            }
        } else if self.eat('(') {
            self.observation_expression()?;
            if !self.eat(')') {
                return Err(self.syntax("expected `)`"));
            }
        } else {
            return Err(self.syntax("expected `[` or `(`"));
        }
        self.depth -= 1;
        Ok(())
    }

    fn qualifiers(&mut self) -> Result<(), PatternError> {
        for qualifier in ["WITHIN", "REPEATS", "START"] {
            if self.peek_word().eq_ignore_ascii_case(qualifier) {
                return Err(PatternError::Unsupported(format!(
                    "the `{qualifier}` qualifier"
                )));
            }
        }
        Ok(())
    }

    /// comparison ( OR comparison )*, inside brackets.
    fn comparison_expression(&mut self) -> Result<(), PatternError> {
        loop {
            if self.eat('(') {
                self.enter()?;
                self.comparison_expression()?;
                if !self.eat(')') {
                    return Err(self.syntax("expected `)`"));
                }
                self.depth -= 1;
            } else {
                self.comparison()?;
            }
            if self.keyword("OR") {
                continue;
            }
            if self.peek_word().eq_ignore_ascii_case("AND") {
                return Err(PatternError::Unsupported(
                    "`AND` within an observation".into(),
                ));
            }
            return Ok(());
        }
    }

    /// object-path operator value
    fn comparison(&mut self) -> Result<(), PatternError> {
        if self.peek_word().eq_ignore_ascii_case("NOT") {
            return Err(PatternError::Unsupported("`NOT`".into()));
        }
        let (object, path) = self.object_path()?;
        let op = self.operator()?;
        let values = match op {
            Op::In => self.string_set()?,
            Op::Equal | Op::IsSubset => vec![self.string()?],
        };
        for value in values {
            let observable = observable(&object, &path, op, &value)?;
            self.out.push(observable);
        }
        Ok(())
    }

    /// `type:property.'quoted'.property[index]`: the object type and the path's segments
    /// (indexes kept as `[n]` or `[*]`).
    fn object_path(&mut self) -> Result<(String, Vec<String>), PatternError> {
        let object = self.peek_word().to_string();
        if object.is_empty() {
            return Err(self.syntax("expected an object path"));
        }
        self.at += object.len();
        if !self.rest().starts_with(':') {
            return Err(self.syntax("expected `:` after the object type"));
        }
        self.at += 1;
        let mut path = Vec::new();
        loop {
            path.push(self.path_segment()?);
            while self.rest().starts_with('[') {
                let Some(end) = self.rest().find(']') else {
                    return Err(self.syntax("expected `]` after an index"));
                };
                path.push(self.rest()[..=end].to_string());
                self.at += end + 1;
            }
            if self.rest().starts_with('.') {
                self.at += 1;
            } else {
                return Ok((object.to_ascii_lowercase(), path));
            }
        }
    }

    fn path_segment(&mut self) -> Result<String, PatternError> {
        if self.rest().starts_with('\'') {
            return self.string();
        }
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(self.syntax("expected a property name"));
        }
        let segment = rest[..end].to_string();
        self.at += end;
        Ok(segment)
    }

    fn operator(&mut self) -> Result<Op, PatternError> {
        self.skip_space();
        let rest = self.rest();
        for symbol in ["!=", "<=", ">=", "<", ">"] {
            if rest.starts_with(symbol) {
                return Err(PatternError::Unsupported(format!(
                    "the `{symbol}` operator"
                )));
            }
        }
        if rest.starts_with('=') {
            self.at += 1;
            return Ok(Op::Equal);
        }
        let word = self.peek_word().to_ascii_uppercase();
        match word.as_str() {
            "IN" => {
                self.at += 2;
                Ok(Op::In)
            }
            "ISSUBSET" => {
                self.at += word.len();
                Ok(Op::IsSubset)
            }
            "LIKE" | "MATCHES" | "ISSUPERSET" | "NOT" => {
                Err(PatternError::Unsupported(format!("the `{word}` operator")))
            }
            _ => Err(self.syntax("expected an operator")),
        }
    }

    /// A string literal: `'...'`, with `\'` and `\\` the only escapes.
    fn string(&mut self) -> Result<String, PatternError> {
        self.skip_space();
        let rest = self.rest();
        if !rest.starts_with('\'') {
            let kind = match rest.chars().next() {
                Some(c) if c.is_ascii_digit() || c == '-' => "a number",
                Some('t' | 'b' | 'h') if rest[1..].starts_with('\'') => {
                    "a timestamp, binary or hex value"
                }
                _ => return Err(self.syntax("expected a string in single quotes")),
            };
            return Err(PatternError::Unsupported(format!(
                "{kind} where a string is matched"
            )));
        }
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '\\'))) => out.push(e),
                    _ => {
                        self.at += i;
                        return Err(self.syntax("only `\\'` and `\\\\` are escapes"));
                    }
                },
                c => out.push(c),
            }
        }
        Err(self.syntax("a string is not closed"))
    }

    /// `('a', 'b', ...)`.
    fn string_set(&mut self) -> Result<Vec<String>, PatternError> {
        if !self.eat('(') {
            return Err(self.syntax("expected `(` after IN"));
        }
        let mut values = vec![self.string()?];
        while self.eat(',') {
            values.push(self.string()?);
        }
        if !self.eat(')') {
            return Err(self.syntax("expected `)` closing the set"));
        }
        Ok(values)
    }
}

/// What one comparison names, when its object path is one an audit event shows.
fn observable(
    object: &str,
    path: &[String],
    op: Op,
    value: &str,
) -> Result<Observable, PatternError> {
    let path_text = || format!("{object}:{}", path.join("."));
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    let unsupported_op = || {
        PatternError::Unsupported(format!(
            "`ISSUBSET` on `{}` (only on addresses)",
            path_text()
        ))
    };
    match (object, segments.as_slice()) {
        ("ipv4-addr", ["value"]) => address(value, Some(Family::V4)),
        ("ipv6-addr", ["value"]) => address(value, Some(Family::V6)),
        ("network-traffic", ["src_ref", "value"]) => address(value, None),
        ("domain-name", ["value"]) if op != Op::IsSubset => domain(value),
        ("network-traffic", ["extensions", "http-request-ext", "request_header", header])
            if header.eq_ignore_ascii_case("User-Agent") =>
        {
            if op == Op::IsSubset {
                return Err(unsupported_op());
            }
            Ok(Observable::UserAgent(value.to_string()))
        }
        ("user-account", ["account_login" | "user_id"]) if op != Op::IsSubset => {
            Ok(Observable::User(value.to_string()))
        }
        ("domain-name", ["value"]) | ("user-account", _) => Err(unsupported_op()),
        _ => Err(PatternError::Unsupported(format!(
            "the object path `{}` (an audit event shows client addresses, domains of \
             registries, user agents and accounts)",
            path_text()
        ))),
    }
}

fn address(value: &str, family: Option<Family>) -> Result<Observable, PatternError> {
    let range =
        AddrRange::parse_cidr(value).map_err(|message| PatternError::Syntax { at: 0, message })?;
    if family.is_some_and(|f| f != range.family) {
        return Err(PatternError::Syntax {
            at: 0,
            message: format!("`{value}` is not an address of the object's family"),
        });
    }
    Ok(Observable::Address(range))
}

/// A domain name as compared: lower case, without a trailing dot; letters, digits, `-`,
/// `_` and dots only.
pub fn domain(value: &str) -> Result<Observable, PatternError> {
    let name = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !valid {
        return Err(PatternError::Syntax {
            at: 0,
            message: format!("`{value}` is not a domain name"),
        });
    }
    Ok(Observable::Domain(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Observable {
        Observable::Address(AddrRange::parse_cidr(text).unwrap())
    }

    #[test]
    fn reads_the_comparisons_feeds_use() {
        assert_eq!(
            observables("[ipv4-addr:value = '198.51.100.7']").unwrap(),
            [addr("198.51.100.7")]
        );
        assert_eq!(
            observables("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").unwrap(),
            [addr("198.51.100.0/24")]
        );
        assert_eq!(
            observables(
                "[ipv6-addr:value = '2001:db8::1'] OR [domain-name:value = 'Evil.Example.']"
            )
            .unwrap(),
            [
                addr("2001:db8::1"),
                Observable::Domain("evil.example".into())
            ]
        );
        assert_eq!(
            observables(
                "([network-traffic:src_ref.value = '203.0.113.9' OR user-account:account_login IN ('mallory', 'eve')])"
            )
            .unwrap(),
            [
                addr("203.0.113.9"),
                Observable::User("mallory".into()),
                Observable::User("eve".into())
            ]
        );
        assert_eq!(
            observables(
                "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'kube-hunter\\'s']"
            )
            .unwrap(),
            [Observable::UserAgent("kube-hunter's".into())]
        );
    }

    #[test]
    fn refuses_what_it_would_misread() {
        let unsupported = |p: &str| {
            assert!(
                matches!(observables(p), Err(PatternError::Unsupported(_))),
                "{p}: {:?}",
                observables(p)
            )
        };
        unsupported("[ipv4-addr:value = '198.51.100.7' AND domain-name:value = 'a.example']");
        unsupported("[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'a.example']");
        unsupported(
            "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.8']",
        );
        unsupported("[ipv4-addr:value = '198.51.100.7'] REPEATS 5 TIMES");
        unsupported("[ipv4-addr:value != '198.51.100.7']");
        unsupported("[NOT ipv4-addr:value = '198.51.100.7']");
        unsupported("[domain-name:value MATCHES '^evil']");
        unsupported("[file:hashes.'SHA-256' = 'aa']");
        unsupported("[url:value = 'http://evil.example/x']");
        unsupported("[ipv4-addr:value = 5]");
        unsupported(&format!(
            "{}[ipv4-addr:value = '1.2.3.4']{}",
            "(".repeat(40),
            ")".repeat(40)
        ));
        let syntax = |p: &str| {
            assert!(
                matches!(observables(p), Err(PatternError::Syntax { .. })),
                "{p}: {:?}",
                observables(p)
            )
        };
        syntax("");
        syntax("ipv4-addr:value = '1.2.3.4'");
        syntax("[ipv4-addr:value = '1.2.3.4'");
        syntax("[ipv4-addr:value = '1.2.3.4] ");
        syntax("[ipv4-addr:value = 'not-an-address']");
        syntax("[ipv4-addr:value = '2001:db8::1']");
        syntax("[domain-name:value = 'a b']");
        syntax("[ipv4-addr:value = '1.2.3.4'] trailing");
    }
}
