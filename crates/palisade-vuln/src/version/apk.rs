//! Alpine's (and Wolfi's) version ordering, as apk-tools 3 orders
//! `number{.number}{letter}{_suffix{number}}{~hash}{-r#}`: a token at a time, numbers after a
//! `.` that start with `0` compared as text (a fraction, `1.010 < 1.09`), pre-release suffixes
//! (`_alpha`, `_beta`, `_pre`, `_rc`) before the release and the others after it, and a
//! version that goes on past another's end newer unless what follows is a pre-release suffix.
//! What apk cannot read ends the comparison where it starts, as in apk.

use super::{cmp_digits, leading_digits};
use std::cmp::Ordering;

/// What the next token is, in apk's order (a later kind at the same place is older).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Revision,
    End,
}

/// A token's value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value<'a> {
    /// A number; `fraction` when it follows a `.` and starts with `0`.
    Number {
        digits: &'a str,
        fraction: bool,
    },
    Letter(u8),
    /// A suffix's rank: pre-release suffixes negative, the others from 0.
    Suffix(i8),
}

impl Value<'_> {
    fn cmp(&self, other: &Value<'_>) -> Ordering {
        match (self, other) {
            (
                Value::Number {
                    digits: a,
                    fraction: af,
                },
                Value::Number {
                    digits: b,
                    fraction: bf,
                },
            ) if *af || *bf => a.cmp(b),
            (Value::Number { digits: a, .. }, Value::Number { digits: b, .. }) => cmp_digits(a, b),
            (Value::Letter(a), Value::Letter(b)) => a.cmp(b),
            (Value::Suffix(a), Value::Suffix(b)) => a.cmp(b),
            // Tokens of different kinds are never compared by value: the kinds decide first.
            _ => Ordering::Equal,
        }
    }
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Reads versions a token at a time, as apk-tools' `get_token` does.
struct Tokens<'a> {
    rest: &'a str,
    kind: Kind,
}

impl<'a> Tokens<'a> {
    fn new(version: &'a str) -> Self {
        Tokens {
            rest: version,
            kind: if version.is_empty() {
                Kind::End
            } else {
                Kind::Digit
            },
        }
    }

    /// The value of the token of `self.kind` at the start of `rest`, moving to the next.
    fn value(&mut self) -> Option<Value<'a>> {
        if self.rest.is_empty() {
            self.kind = Kind::End;
            return None;
        }
        let value = match self.kind {
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::Revision => {
                let (digits, rest) = leading_digits(self.rest);
                self.rest = rest;
                Value::Number {
                    digits,
                    fraction: self.kind == Kind::DigitOrZero && digits.starts_with('0'),
                }
            }
            Kind::Letter => {
                let letter = self.rest.as_bytes()[0];
                self.rest = &self.rest[1..];
                Value::Letter(letter)
            }
            Kind::Suffix => match suffix(self.rest) {
                Some((rank, length)) => {
                    self.rest = &self.rest[length..];
                    Value::Suffix(rank)
                }
                // apk reads a suffix it does not know as -1 and stops there.
                None => {
                    self.kind = Kind::Invalid;
                    return Some(Value::Suffix(-1));
                }
            },
            Kind::Invalid | Kind::End => return None,
        };
        self.next_kind();
        Some(value)
    }

    /// apk's `next_token`: the kind of the token at the start of `rest`, consuming its
    /// separator.
    fn next_kind(&mut self) {
        let Some(&first) = self.rest.as_bytes().first() else {
            self.kind = Kind::End;
            return;
        };
        let previous = self.kind;
        let next =
            if matches!(previous, Kind::Digit | Kind::DigitOrZero) && first.is_ascii_lowercase() {
                Kind::Letter
            } else if previous == Kind::Letter && first.is_ascii_digit() {
                Kind::Digit
            } else if previous == Kind::Suffix && first.is_ascii_digit() {
                Kind::SuffixNumber
            } else {
                let next = match first {
                    b'.' => Kind::DigitOrZero,
                    b'_' => Kind::Suffix,
                    b'-' if self.rest.as_bytes().get(1) == Some(&b'r') => {
                        self.rest = &self.rest[1..];
                        Kind::Revision
                    }
                    // The comparison stops here: nothing after it is read (and the character may
                    // be of several bytes).
                    _ => {
                        self.kind = Kind::Invalid;
                        return;
                    }
                };
                self.rest = &self.rest[1..];
                next
            };
        let allowed_backwards = matches!(
            (next, previous),
            (Kind::DigitOrZero, Kind::Digit)
                | (Kind::Suffix, Kind::SuffixNumber)
                | (Kind::Digit, Kind::Letter)
        );
        self.kind = if next < previous && !allowed_backwards {
            Kind::Invalid
        } else {
            next
        };
    }
}

/// Orders two apk versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let mut a = Tokens::new(a);
    let mut b = Tokens::new(b);
    let mut order = Ordering::Equal;
    while a.kind == b.kind
        && a.kind != Kind::End
        && a.kind != Kind::Invalid
        && order == Ordering::Equal
    {
        let av = a.value();
        let bv = b.value();
        order = match (&av, &bv) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => Ordering::Equal,
        };
    }
    if order != Ordering::Equal {
        return order;
    }
    if a.kind == b.kind {
        return Ordering::Equal;
    }
    // The versions agree up to where one goes on: it is newer unless a pre-release (or
    // unknown) suffix follows.
    if a.kind == Kind::Suffix && is_pre_release(a.rest) {
        return Ordering::Less;
    }
    if b.kind == Kind::Suffix && is_pre_release(b.rest) {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

/// The rank of the suffix at the start of `rest` (pre-release suffixes negative, the others
/// from 0) and its length; `None` for a suffix apk does not know.
fn suffix(rest: &str) -> Option<(i8, usize)> {
    let pre = PRE_SUFFIXES.len() as i8;
    PRE_SUFFIXES
        .iter()
        .zip(-pre..)
        .chain(POST_SUFFIXES.iter().zip(0..))
        .find(|(s, _)| rest.starts_with(**s))
        .map(|(s, rank)| (rank, s.len()))
}

/// Whether the suffix at the start of `rest` sorts before the release: a pre-release suffix,
/// or one apk does not know (apk reads it as -1 too).
fn is_pre_release(rest: &str) -> bool {
    !rest.is_empty() && suffix(rest).is_none_or(|(rank, _)| rank < 0)
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn text_apk_cannot_read_is_ordered_without_a_panic() {
        // Found by the fuzz target `vuln_documents`: a byte-order mark where apk expects a
        // separator.
        assert_eq!(compare("\u{feff}", "\u{feff}"), Ordering::Equal);
        assert_eq!(
            compare("1\u{feff}", "1.0"),
            compare("1.0", "1\u{feff}").reverse()
        );
        assert_eq!(compare("1é", "1"), compare("1", "1é").reverse());
    }

    #[test]
    fn alpine_orders_suffixes_letters_and_revisions() {
        assert_eq!(compare("1.2_rc1", "1.2"), Ordering::Less);
        assert_eq!(compare("1.2_p1", "1.2"), Ordering::Greater);
        assert_eq!(compare("3.1.4-r0", "3.1.4-r10"), Ordering::Less);
        assert_eq!(compare("1.2.3b", "1.2.3"), Ordering::Greater);
        assert_eq!(compare("1.010", "1.09"), Ordering::Less);
    }

    /// osv-scalibr's Alpine fixtures, many from apk-tools' own `version.data`
    /// (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn alpine_agrees_with_osv_fixtures() {
        fixtures::check(Scheme::Apk, "alpine-versions.txt");
    }
}
