//! The request or response object of an audit event, read into a tree whose strings borrow
//! from the event's text (a string is copied only when it holds an escape). An event's body
//! is read once, by the detections that ask for it, and dropped with the event, so a
//! `serde_json::Value` (a map with hashed keys, every string copied) would cost several times
//! as much for nothing. Read it through [`Tree`], as the scan reads its objects.

use std::fmt;

use palisade_core::tree::Tree;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use crate::event::Str;

/// One JSON node of a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Str<'a>),
    Array(Vec<Body<'a>>),
    /// Members in the order written (a repeated key is kept twice; [`Tree::get`] reads the
    /// last, as a JSON map keeps it).
    Object(Vec<(Str<'a>, Body<'a>)>),
}

impl<'a> Body<'a> {
    /// Reads a body from its text (`None` when it is not JSON: serde_json has already
    /// checked it while decoding the event, so this does not happen for a decoded event).
    pub fn parse(text: &'a str) -> Option<Body<'a>> {
        serde_json::from_str(text).ok()
    }

    /// The members of an object.
    pub fn members(&self) -> Option<&[(Str<'a>, Body<'a>)]> {
        match self {
            Body::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The same document as a `serde_json::Value` (for code written against one, such as
    /// the secret detectors).
    pub fn to_value(&self) -> Value {
        match self {
            Body::Null => Value::Null,
            Body::Bool(b) => Value::Bool(*b),
            Body::Number(n) => Value::Number(n.clone()),
            Body::String(s) => Value::String(s.as_str().to_string()),
            Body::Array(items) => Value::Array(items.iter().map(Body::to_value).collect()),
            Body::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl Tree for Body<'_> {
    fn get(&self, key: &str) -> Option<&Self> {
        self.members()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Body::String(s) => Some(s.as_str()),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            Body::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn items(&self) -> Option<&[Self]> {
        match self {
            Body::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Compact JSON, as `serde_json::Value` displays (a repeated key once, with its last value).
impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor(std::marker::PhantomData))
    }
}

struct BodyVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BodyVisitor<'a> {
    type Value = Body<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Body<'a>, E> {
        Ok(Body::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Body<'a>, E> {
        Ok(Body::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Body<'a>, E> {
        Ok(Body::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Body<'a>, E> {
        Ok(Body::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Body<'a>, E> {
        Ok(Body::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Body<'a>, E> {
        Ok(Number::from_f64(v).map_or(Body::Null, Body::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Body<'a>, E> {
        Ok(Body::String(Str(v.into())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Body<'a>, E> {
        Ok(Body::String(Str(v.to_owned().into())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Body<'a>, E> {
        Ok(Body::String(Str(v.into())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'a>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Body::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Body<'a>, M::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(member) = map.next_entry::<Str<'a>, Body<'a>>()? {
            members.push(member);
        }
        Ok(Body::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents with escapes, repeated keys, numbers of every kind and deep nesting read the
    /// same through a body as through a `serde_json::Value`.
    #[test]
    fn a_body_is_the_document_serde_json_reads() {
        let texts = [
            r#"{"a":1,"b":[true,null,-2,3.5,1e300,18446744073709551615],"c":{"d":"x\"y\u00e9"}}"#,
            r#"{"k":"first","k":"last","privileg\u0065d":true}"#,
            r#"[[[[[[[[[[{"deep":"yes"}]]]]]]]]]]"#,
            r#""just a string""#,
            "null",
        ];
        for text in texts {
            let body = Body::parse(text).expect(text);
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(body.to_value(), value, "{text}");
            assert_eq!(body.to_string(), value.to_string(), "{text}");
            for key in ["a", "k", "privileged", "c", "missing"] {
                assert_eq!(
                    body.get(key).map(Body::to_value).as_ref(),
                    Tree::get(&value, key),
                    "{text} {key}"
                );
            }
        }
    }

    #[test]
    fn a_string_borrows_unless_it_holds_an_escape() {
        let body = Body::parse(r#"{"plain":"abc","escaped":"a\nb"}"#).unwrap();
        let borrowed = |key| {
            matches!(
                body.get(key),
                Some(Body::String(Str(std::borrow::Cow::Borrowed(_))))
            )
        };
        assert!(borrowed("plain"));
        assert!(!borrowed("escaped"));
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_json_reads_the_same(value in any_json()) {
            let text = value.to_string();
            let body = Body::parse(&text).unwrap();
            // serde_json's reading of the text, not `value`: its float parsing may differ in
            // the last digit from the float written.
            let read: Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(body.to_value(), read);
        }
    }
}
