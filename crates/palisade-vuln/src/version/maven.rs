//! Maven's ordering, as `org.apache.maven.artifact.versioning.ComparableVersion` orders
//! versions: the text (lower-cased) split at `.`, at `-` (which opens a sub-list) and where
//! digits meet letters (which opens one too); numbers as numbers; qualifiers in the order
//! `alpha < beta < milestone < rc < snapshot < (release) < sp`, unknown qualifiers after them
//! in text order; `ga`, `final` and `release` the release, `cr` the same as `rc`, and `a`,
//! `b`, `m` followed by a digit `alpha`, `beta`, `milestone`; trailing zeros and releases
//! dropped from each list.

use super::cmp_digits;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(String),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let value = match (value, followed_by_digit) {
        ("a", true) => "alpha",
        ("b", true) => "beta",
        ("m", true) => "milestone",
        _ => value,
    };
    let value = match value {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(value.to_string())
}

fn parse_item(digits: bool, text: &str) -> Item {
    if digits {
        Item::Int(text.trim_start_matches('0').to_string())
    } else {
        string_item(text, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(items) => items.is_empty(),
        }
    }

    /// A qualifier's sort key: its index among the known ones, or after them by its text.
    fn qualifier_key(value: &str) -> String {
        match QUALIFIERS.iter().position(|q| *q == value) {
            Some(i) => i.to_string(),
            None => format!("{}-{value}", QUALIFIERS.len()),
        }
    }

    /// `compareTo`, with `None` standing for a missing item.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(n), None) => {
                if n.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => cmp_digits(a, b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => Item::qualifier_key(s).cmp(&Item::qualifier_key("")),
            (Item::Str(a), Some(Item::Str(b))) => {
                Item::qualifier_key(a).cmp(&Item::qualifier_key(b))
            }
            (Item::Str(_), Some(_)) => Ordering::Less,
            (Item::List(items), None) => items
                .first()
                .map_or(Ordering::Equal, |first| first.compare(None)),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let order = match (a.get(i), b.get(i)) {
            (Some(l), r) => l.compare(r),
            (None, Some(r)) => r.compare(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Trailing null items dropped, up to the last item that is not a list.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

/// The version's items, as `ComparableVersion.parseVersion` builds them: a stack of open
/// lists, each new sub-list the last item of the one before it.
fn parse(version: &str) -> Vec<Item> {
    let version = version.to_lowercase();
    // Lists under construction: each one's items; closed from the top at the end, each
    // normalized and placed as the last item of the list below it.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut digits = false;
    let mut start = 0;
    let chars: Vec<(usize, char)> = version.char_indices().collect();
    for &(i, c) in &chars {
        let top = stack.len() - 1;
        if c == '.' || c == '-' {
            let item = if i == start {
                Item::Int(String::new())
            } else {
                parse_item(digits, &version[start..i])
            };
            stack[top].push(item);
            start = i + c.len_utf8();
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !digits && i > start {
                stack[top].push(string_item(&version[start..i], true));
                start = i;
                stack.push(Vec::new());
            }
            digits = true;
        } else {
            if digits && i > start {
                stack[top].push(parse_item(true, &version[start..i]));
                start = i;
                stack.push(Vec::new());
            }
            digits = false;
        }
    }
    if version.len() > start {
        let top = stack.len() - 1;
        stack[top].push(parse_item(digits, &version[start..]));
    }
    while stack.len() > 1 {
        let mut list = stack.pop().unwrap_or_default();
        normalize(&mut list);
        let top = stack.len() - 1;
        stack[top].push(Item::List(list));
    }
    let mut items = stack.pop().unwrap_or_default();
    normalize(&mut items);
    items
}

/// Orders two Maven versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    compare_lists(&parse(a), &parse(b))
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, fixtures};
    use super::*;

    #[test]
    fn maven_orders_qualifiers() {
        let ordered = [
            "1.0-alpha-1",
            "1.0-beta-1",
            "1.0-milestone-1",
            "1.0-rc-1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp-1",
            "1.0-1",
            "1.0.1",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(compare("2.17.1", "2.17.1.Final"), Ordering::Equal);
    }

    /// osv-scanner's Maven fixtures (tests/fixtures/versions/PROVENANCE.md).
    #[test]
    fn maven_agrees_with_osv_fixtures() {
        fixtures::check(Scheme::Maven, "maven-versions.txt");
    }

    /// Pairs ordered by Maven's own `ComparableVersion` (tests/fixtures/versions/
    /// generate-maven.sh).
    #[test]
    fn maven_agrees_with_comparable_version() {
        fixtures::check(Scheme::Maven, "maven-versions-generated.txt");
    }
}
