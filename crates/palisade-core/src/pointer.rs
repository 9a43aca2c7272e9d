//! JSON pointers (RFC 6901): how a finding names the field it is about.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::tree::Tree;

/// A JSON pointer into an object, such as `/spec/template/spec/containers/0/image`.
///
/// The empty pointer names the whole object. The text is shared: a clone is a reference
/// count, so the millions of findings of a large scan that point at the same field of
/// different objects can hold one copy of it (see [`JsonPointer::shared`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonPointer(Arc<str>);

impl Default for JsonPointer {
    fn default() -> Self {
        JsonPointer::root()
    }
}

impl JsonPointer {
    /// The pointer to the whole document.
    pub fn root() -> Self {
        static ROOT: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
        JsonPointer(Arc::clone(&ROOT))
    }

    /// Wraps a pointer string as written (`/a/b`); it must be empty or start with `/`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.starts_with('/') {
            Some(JsonPointer(Arc::from(text)))
        } else {
            None
        }
    }

    /// This pointer with one more map key or array index, escaped as RFC 6901 says.
    #[must_use]
    pub fn join(&self, segment: impl fmt::Display) -> Self {
        let mut out = String::with_capacity(self.0.len() + 24);
        out.push_str(&self.0);
        push_segment(&mut out, segment);
        JsonPointer(Arc::from(out))
    }

    /// This pointer with several segments appended.
    #[must_use]
    pub fn join_all<I, S>(&self, segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: fmt::Display,
    {
        let mut out = String::with_capacity(self.0.len() + 48);
        out.push_str(&self.0);
        for segment in segments {
            push_segment(&mut out, segment);
        }
        JsonPointer(Arc::from(out))
    }

    /// The same pointer, sharing its text with an equal one `seen` holds already (or adding
    /// it there). `seen` is the caller's, kept as long as it likes; the engine keeps one per
    /// worker for the findings it makes.
    #[must_use]
    pub fn shared(&self, seen: &mut crate::intern::Interner) -> Self {
        JsonPointer(seen.share(&self.0))
    }

    /// The pointer as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value this pointer names in `value`, as `serde_json::Value::pointer` finds it but
    /// without allocating for segments that need no unescaping (rules look fields up millions
    /// of times in a large scan).
    pub fn lookup<'v>(&self, value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        lookup(value, &self.0)
    }

    /// The unescaped segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        self.0.split('/').skip(1).map(unescape)
    }

    /// The pointer as a dotted path for people, segments unescaped
    /// (`spec.workerGroupSpecs.0.template`; empty for the root).
    pub fn dotted(&self) -> String {
        self.segments().collect::<Vec<_>>().join(".")
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &JsonPointer) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&*other.0)
                && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

/// Appends `/segment`, escaped as RFC 6901 says.
fn push_segment(out: &mut String, segment: impl fmt::Display) {
    out.push('/');
    let start = out.len();
    // Writing to a String cannot fail.
    let _ = write!(out, "{segment}");
    if out[start..].contains(['~', '/']) {
        let escaped = out[start..].replace('~', "~0").replace('/', "~1");
        out.truncate(start);
        out.push_str(&escaped);
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes_segments() {
        let p = JsonPointer::root()
            .join("metadata")
            .join("annotations")
            .join("palisade.dev/ignore");
        assert_eq!(p.as_str(), "/metadata/annotations/palisade.dev~1ignore");
        assert_eq!(
            p.segments().collect::<Vec<_>>(),
            ["metadata", "annotations", "palisade.dev/ignore"]
        );
        assert_eq!(JsonPointer::root().join("a~b").as_str(), "/a~0b");
    }

    #[test]
    fn joining_many_is_joining_one_at_a_time() {
        let base = JsonPointer::root().join("spec");
        let segments = ["containers", "0", "a/b~c", ""];
        let one_by_one = segments.iter().fold(base.clone(), |p, s| p.join(s));
        assert_eq!(base.join_all(segments), one_by_one);
        assert_eq!(one_by_one.as_str(), "/spec/containers/0/a~1b~0c/");
        assert_eq!(JsonPointer::default(), JsonPointer::root());
    }

    #[test]
    fn equal_pointers_share_their_text() {
        let mut seen = crate::intern::Interner::default();
        let a = JsonPointer::root().join("spec").shared(&mut seen);
        let b = JsonPointer::parse("/spec").unwrap().shared(&mut seen);
        assert!(Arc::ptr_eq(&a.0, &b.0));
    }

    #[test]
    fn prefix_test_respects_segment_boundaries() {
        let spec = JsonPointer::parse("/spec").unwrap();
        assert!(JsonPointer::parse("/spec/x").unwrap().starts_with(&spec));
        assert!(!JsonPointer::parse("/specs").unwrap().starts_with(&spec));
        assert!(JsonPointer::parse("x").is_none());
    }
}

/// Looks `pointer` (RFC 6901 text) up in `value` (a `serde_json::Value` or any other
/// [`Tree`]) without allocating unless a segment holds an escape (`~0`, `~1`).
pub fn lookup<'v, T: Tree>(value: &'v T, pointer: &str) -> Option<&'v T> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(value, |node, raw| {
        let segment = unescape(raw);
        match node.items() {
            Some(items) => index(&segment).and_then(|i| items.get(i)),
            None => node.get(&segment),
        }
    })
}

/// An array index as RFC 6901 writes it: digits, no sign, no leading zero.
fn index(segment: &str) -> Option<usize> {
    if segment.starts_with('+') || (segment.len() > 1 && segment.starts_with('0')) {
        return None;
    }
    segment.parse().ok()
}

/// A segment with `~1` read as `/` and `~0` as `~` (in that order, as RFC 6901 says).
fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('~') {
        std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // the reference it is compared with
    fn lookup_agrees_with_serde_json() {
        let value = serde_json::json!({"a": {"b/c": [1, {"d~e": 2}], "": 3}, "x": [0, 1, 2]});
        for pointer in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/1/d~0e",
            "/a/",
            "/x/2",
            "/x/02",
            "/x/+1",
            "/x/-1",
            "/x/9",
            "/nope",
            "a",
        ] {
            assert_eq!(lookup(&value, pointer), value.pointer(pointer), "{pointer}");
        }
    }
}
