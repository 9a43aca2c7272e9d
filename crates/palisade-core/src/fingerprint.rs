//! Stable finding fingerprints.
//!
//! A fingerprint is the FNV-1a 64-bit hash of rule id, subject identity (for an object: group,
//! kind, namespace, name), JSON pointer and, when there is one, the discriminator, as 16 hex
//! digits. It ignores the file, the line and the order of
//! objects, so moving a manifest or reformatting it keeps suppressions and baselines valid.
//! FNV was chosen over a cryptographic hash because fingerprints identify, they do not
//! authenticate, and the algorithm is trivial to reproduce in other tools.

use crate::JsonPointer;
use crate::finding::Subject;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a of `parts`, kept apart by a separator no text holds.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash = Fnv::default();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.separate();
        }
        hash.feed(part.as_bytes());
    }
    hash.0
}

/// FNV-1a fed part by part, without putting the parts together first; also a `Hasher` for
/// maps keyed by values no attacker chooses.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(FNV_OFFSET)
    }
}

impl Fnv {
    fn feed(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// A separator that cannot occur in ids, names or pointers keeps ("ab","c") and ("a","bc")
    /// apart.
    fn separate(&mut self) {
        self.feed(&[0x1f]);
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.feed(bytes);
    }
}

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.feed(s.as_bytes());
        Ok(())
    }
}

/// A finding's fingerprint; written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint of a finding of `rule` on `subject` at `path`; a discriminator (a CVE
    /// id, a detector) is hashed after them, so findings without one keep the fingerprint they
    /// always had.
    pub fn of(
        rule: &str,
        subject: &Subject,
        path: &JsonPointer,
        discriminator: Option<&str>,
    ) -> Self {
        let mut hash = Fnv::default();
        hash.feed(rule.as_bytes());
        hash.separate();
        // Writing to the hasher cannot fail.
        let _ = subject.write_identity_key(&mut hash);
        hash.separate();
        hash.feed(path.as_str().as_bytes());
        if let Some(d) = discriminator {
            hash.separate();
            hash.feed(d.as_bytes());
        }
        Fingerprint(hash.0)
    }

    /// The fingerprint of a finding of `rule` on the audit event `key` (its audit id), equal to
    /// [`Fingerprint::of`] with `Subject::AuditEvent(key)` at the root: computed for every
    /// alert of a stream.
    pub fn of_audit_event(rule: &str, key: &str, discriminator: Option<&str>) -> Self {
        let mut hash = Fnv::default();
        hash.feed(rule.as_bytes());
        hash.separate();
        hash.feed(b"audit-event:");
        hash.feed(key.as_bytes());
        hash.separate();
        // The root pointer is the empty string.
        if let Some(d) = discriminator {
            hash.separate();
            hash.feed(d.as_bytes());
        }
        Fingerprint(hash.0)
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl serde::Serialize for Fingerprint {
    /// As [`Display`](std::fmt::Display) writes it, without the formatter: every finding of a
    /// report carries one.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 16];
        for (i, digit) in text.iter_mut().enumerate() {
            *digit = HEX[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectRef;

    fn obj(version: &str) -> Subject {
        Subject::Object(std::sync::Arc::new(ObjectRef {
            api_version: version.into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: Some("web".into()),
        }))
    }

    fn fingerprint(rule: &str, subject: &Subject, path: &JsonPointer) -> Fingerprint {
        Fingerprint::of(rule, subject, path, None)
    }

    #[test]
    fn is_stable_and_distinguishes_inputs() {
        let path = JsonPointer::parse("/spec/template/spec/containers/0").unwrap();
        let a = fingerprint("POD001", &obj("apps/v1"), &path);
        assert_eq!(a.to_string().len(), 16);
        // The known value pins the algorithm: changing it would invalidate every baseline.
        assert_eq!(a, fingerprint("POD001", &obj("apps/v1beta2"), &path));
        assert_ne!(a, fingerprint("POD002", &obj("apps/v1"), &path));
        assert_ne!(
            a,
            fingerprint("POD001", &obj("apps/v1"), &JsonPointer::root())
        );
        assert_eq!(fnv1a(&["a"]), 0xaf63_dc4c_8601_ec8c);
        for discriminator in [None, Some("x")] {
            let subject = Subject::AuditEvent("abc-123".into());
            assert_eq!(
                Fingerprint::of_audit_event("AUD001", "abc-123", discriminator),
                Fingerprint::of("AUD001", &subject, &JsonPointer::root(), discriminator)
            );
        }
    }

    #[test]
    fn is_written_as_displayed() {
        for value in [0, 1, 0x0123_4567_89ab_cdef, u64::MAX] {
            let fingerprint = Fingerprint(value);
            assert_eq!(
                serde_json::to_string(&fingerprint).unwrap(),
                format!("\"{fingerprint}\""),
                "{value:x}"
            );
        }
        let mut key = String::new();
        obj("apps/v1").write_identity_key(&mut key).unwrap();
        assert_eq!(key, "apps/Deployment/shop/web");
        key.clear();
        Subject::Image("nginx:1".into())
            .write_identity_key(&mut key)
            .unwrap();
        assert_eq!(key, "image:nginx:1");
    }
}
