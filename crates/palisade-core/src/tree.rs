//! Reading a JSON document without caring how it is held: a `serde_json::Value` (the scan's
//! objects) or a tree that borrows its strings from the text it was read from (audit event
//! bodies, read once each and never kept). Questions about Kubernetes objects that both ask
//! (`palisade_k8s::security`) are written once against [`Tree`].

use serde_json::Value;

/// A read-only JSON node.
pub trait Tree: Sized {
    /// The member `key` of an object (the last one when a key is repeated, as a JSON map
    /// keeps it).
    fn get(&self, key: &str) -> Option<&Self>;
    fn as_str(&self) -> Option<&str>;
    fn as_bool(&self) -> Option<bool>;
    fn as_i64(&self) -> Option<i64>;
    /// The items of an array.
    fn items(&self) -> Option<&[Self]>;
    fn is_null(&self) -> bool;

    /// The node at an RFC 6901 pointer (`/spec/containers/0`); `None` when any step is
    /// missing or the pointer does not start with `/` (the empty pointer is the node itself).
    fn at(&self, pointer: &str) -> Option<&Self> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, token| {
            let token = unescape(token);
            match node.items() {
                Some(items) => index(&token).and_then(|i| items.get(i)),
                None => node.get(&token),
            }
        })
    }
}

/// An array index as RFC 6901 writes it: digits, no sign, no leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// A pointer token with `~1` read as `/` and `~0` as `~` (in that order, as RFC 6901 says).
fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

impl Tree for Value {
    fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_bool(&self) -> Option<bool> {
        Value::as_bool(self)
    }
    fn as_i64(&self) -> Option<i64> {
        Value::as_i64(self)
    }
    fn items(&self) -> Option<&[Value]> {
        self.as_array().map(Vec::as_slice)
    }
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pointer_reads_as_serde_json_reads_it() {
        let doc = json!({"a": {"b/c": [1, {"d~e": true}]}, "": 3});
        for pointer in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/2",
            "/x",
            "a",
            "/",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/-1",
        ] {
            assert_eq!(Tree::at(&doc, pointer), doc.pointer(pointer), "{pointer}");
        }
    }
}
