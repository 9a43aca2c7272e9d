//! Reading a JSON document without caring how it is held: a `serde_json::Value` (the scan's
//! objects) or a tree that borrows its strings from the text it was read from (audit event
//! bodies, read once each and never kept). Questions about Kubernetes objects that both ask
//! (`palisade_k8s::security`) are written once against [`Tree`].

use serde_json::Value;

/// What a JSON value is, as messages about a value of the wrong type say it (`a list`,
/// `a map`).
pub fn kind_of(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "a map",
    }
}

/// The items of the array under `key` in `value` (none when it is missing or not an array).
pub fn items<'v>(
    value: &'v serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'v serde_json::Value> {
    value
        .get(key)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
}

/// The strings of a JSON array (`apiGroups`, `resources`): its other items, and a value of
/// another type, read as none.
pub fn strings<T: Tree>(value: Option<&T>) -> Vec<String> {
    value.map(Tree::strings).unwrap_or_default()
}

/// A read-only JSON node.
pub trait Tree: Sized {
    /// The member `key` of an object (the last one when a key is repeated, as a JSON map
    /// keeps it).
    fn get(&self, key: &str) -> Option<&Self>;
    fn as_str(&self) -> Option<&str>;
    fn as_bool(&self) -> Option<bool>;
    /// The items of an array.
    fn items(&self) -> Option<&[Self]>;

    /// The strings of an array node: its other items, and a node of another type, read as
    /// none.
    fn strings(&self) -> Vec<String> {
        self.items()
            .into_iter()
            .flatten()
            .filter_map(Tree::as_str)
            .map(str::to_string)
            .collect()
    }

    /// The node at an RFC 6901 pointer (`/spec/containers/0`); `None` when any step is
    /// missing or the pointer does not start with `/` (the empty pointer is the node itself).
    fn at(&self, pointer: &str) -> Option<&Self> {
        crate::pointer::lookup(self, pointer)
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
    fn items(&self) -> Option<&[Value]> {
        self.as_array().map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    #[allow(clippy::disallowed_methods)] // the reference it is compared with
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
