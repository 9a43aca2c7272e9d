//! The identity of a Kubernetes object.

use std::fmt;

use serde::{Deserialize, Serialize};

/// apiVersion, kind, namespace and name: what identifies an object in a cluster.
///
/// `namespace` is `None` for cluster-scoped objects and for namespaced objects written without a
/// namespace (they land in whatever namespace they are applied to).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// The API group of an `apiVersion`: the part before the `/`, empty for the core group
/// (`v1`).
pub fn api_group(api_version: &str) -> &str {
    match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}

/// Whether `group` is one of the Kubernetes API's own (the core group, a group without a dot
/// such as `apps`, or one under `k8s.io` that is not a SIG's extension under `x-k8s.io`)
/// rather than a custom resource's.
pub fn is_builtin_group(group: &str) -> bool {
    group.is_empty()
        || !group.contains('.')
        || group.ends_with(".k8s.io") && !group.contains("x-k8s.io")
}

impl ObjectRef {
    /// The API group: the part of `apiVersion` before the `/`, empty for the core group.
    pub fn group(&self) -> &str {
        api_group(&self.api_version)
    }

    /// `name`, or `<unnamed>` when the object has none (for example `generateName` only).
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("<unnamed>")
    }

    /// Whether `other` is the same object: group, kind, namespace and name (the API version
    /// does not matter), as [`ObjectRef::identity_key`] compares them, without allocating.
    pub fn same_identity(&self, other: &ObjectRef) -> bool {
        self.group() == other.group()
            && self.kind == other.kind
            && self.namespace.as_deref().unwrap_or("") == other.namespace.as_deref().unwrap_or("")
            && self.name.as_deref().unwrap_or("") == other.name.as_deref().unwrap_or("")
    }

    /// The identity used by fingerprints: group, kind, namespace and name. The version is left
    /// out on purpose so that moving `v1beta1` to `v1` keeps fingerprints (and suppressions).
    pub fn identity_key(&self) -> String {
        let mut key = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_identity_key(&mut key);
        key
    }

    /// Writes [`ObjectRef::identity_key`] to `out`.
    pub fn write_identity_key(&self, out: &mut impl fmt::Write) -> fmt::Result {
        // `group/kind/namespace/name`, piece by piece: it is hashed for every finding.
        out.write_str(self.group())?;
        for part in [
            self.kind.as_str(),
            self.namespace.as_deref().unwrap_or(""),
            self.name.as_deref().unwrap_or(""),
        ] {
            out.write_char('/')?;
            out.write_str(part)?;
        }
        Ok(())
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.display_name()),
            None => write!(f, "{} {}", self.kind, self.display_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(api: &str, ns: Option<&str>) -> ObjectRef {
        ObjectRef {
            api_version: api.into(),
            kind: "Deployment".into(),
            namespace: ns.map(Into::into),
            name: Some("web".into()),
        }
    }

    #[test]
    fn group_is_empty_for_core_and_named_otherwise() {
        assert_eq!(obj("v1", None).group(), "");
        assert_eq!(obj("apps/v1", None).group(), "apps");
    }

    #[test]
    fn identity_ignores_the_version() {
        assert_eq!(
            obj("apps/v1", Some("shop")).identity_key(),
            obj("apps/v1beta2", Some("shop")).identity_key()
        );
        assert_eq!(
            obj("apps/v1", Some("shop")).to_string(),
            "Deployment shop/web"
        );
    }

    #[test]
    fn same_identity_agrees_with_the_identity_key() {
        let objects = [
            obj("apps/v1", Some("shop")),
            obj("apps/v1beta2", Some("shop")),
            obj("apps/v1", None),
            obj("v1", Some("shop")),
            obj("apps/v1", Some("")),
        ];
        for a in &objects {
            for b in &objects {
                assert_eq!(
                    a.same_identity(b),
                    a.identity_key() == b.identity_key(),
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
