//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`), as the purl
//! specification reads them: components percent-decoded, the type and qualifier keys
//! lower-cased, empty namespace segments dropped.

/// A parsed package URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Purl {
    /// The package type (`deb`, `apk`, `rpm`, `npm`, `pypi`, `maven`, `golang`, ...).
    pub kind: String,
    /// The namespace's segments joined with `/` (`debian`, `@babel`, `org.apache.logging.log4j`,
    /// `github.com/gin-gonic`), empty when there is none.
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    /// Qualifiers in the order written (`arch`, `distro`, `upstream`, ...).
    pub qualifiers: Vec<(String, String)>,
}

impl Purl {
    /// Parses `text`; `None` when it is not a package URL (no `pkg:` scheme, no type or no
    /// name, or a percent-encoding that is not UTF-8).
    pub fn parse(text: &str) -> Option<Purl> {
        let text = text.trim();
        let rest = text
            .get(..4)
            .filter(|scheme| scheme.eq_ignore_ascii_case("pkg:"))
            .map(|_| &text[4..])?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((rest, query)) => (rest, parse_qualifiers(query)?),
            None => (rest, Vec::new()),
        };
        let (path, version) = match rest.rfind('@') {
            // An `@` in the namespace (`@babel`) comes before a `/`; the version's does not.
            Some(at) if !rest[at..].contains('/') => (&rest[..at], Some(decode(&rest[at + 1..])?)),
            _ => (rest, None),
        };
        let path = path.trim_end_matches('/');
        let (kind, path) = path.split_once('/')?;
        let kind = kind.to_ascii_lowercase();
        let (namespace, name) = match path.rsplit_once('/') {
            Some((namespace, name)) => (namespace, name),
            None => ("", path),
        };
        let namespace = namespace
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(decode)
            .collect::<Option<Vec<_>>>()?
            .join("/");
        let name = decode(name)?;
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Purl {
            kind,
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
        })
    }

    /// The value of qualifier `key`.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_qualifiers(query: &str) -> Option<Vec<(String, String)>> {
    let mut qualifiers = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value)?;
        if !value.is_empty() {
            qualifiers.push((key.to_ascii_lowercase(), value));
        }
    }
    Some(qualifiers)
}

/// Percent-decoding; `None` when the bytes decoded are not UTF-8. A `%` not followed by two
/// hex digits is kept as written.
fn decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_package_urls_sbom_tools_write() {
        let p = Purl::parse(
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12",
        )
        .unwrap();
        assert_eq!(
            (p.kind.as_str(), p.namespace.as_str(), p.name.as_str()),
            ("deb", "debian", "libssl3")
        );
        assert_eq!(p.version.as_deref(), Some("3.0.11-1~deb12u2"));
        assert_eq!(p.qualifier("upstream"), Some("openssl"));
        assert_eq!(p.qualifier("distro"), Some("debian-12"));

        let p = Purl::parse("pkg:npm/%40babel/core@7.22.0").unwrap();
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("@babel", "core"));
        let p = Purl::parse("pkg:npm/@babel/core@7.22.0").unwrap();
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("@babel", "core"));
        assert_eq!(p.version.as_deref(), Some("7.22.0"));

        let p = Purl::parse("pkg:golang/github.com/gin-gonic/gin@v1.9.0#subpath").unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.name.as_str()),
            ("github.com/gin-gonic", "gin")
        );
        let p =
            Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar").unwrap();
        assert_eq!(p.namespace, "org.apache.logging.log4j");
        let p = Purl::parse("pkg:rpm/redhat/openssl@1:3.0.7-25.el9_3?arch=x86_64&epoch=1").unwrap();
        assert_eq!(p.version.as_deref(), Some("1:3.0.7-25.el9_3"));

        assert_eq!(Purl::parse("pkg:pypi/django").unwrap().version, None);
        assert!(Purl::parse("npm/left-pad@1.0.0").is_none());
        assert!(Purl::parse("pkg:npm").is_none());
        assert!(Purl::parse("pkg:npm/%ff%fe@1").is_none());
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_without_panic(text in "(pkg:)?[a-z%@/?=&#.0-9-]{0,40}") {
            let _ = Purl::parse(&text);
        }
    }
}
