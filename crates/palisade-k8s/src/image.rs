//! Container image references as the container runtimes read them: registry, repository, tag
//! and digest, with Docker Hub's short names expanded.

/// A parsed image reference. Parsing never fails: odd strings give odd parts, never a panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry host (with port), `docker.io` when the reference names none.
    pub registry: &'a str,
    /// Repository path; Docker Hub's one-part names get `library/`.
    pub repository: String,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Parses `[registry/]repo[:tag][@digest]`.
    pub fn parse(image: &'a str) -> Self {
        let image = image.trim();
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d).filter(|d| !d.is_empty())),
            None => (image, None),
        };
        // A `:` after the last `/` separates the tag; one before it is a registry port.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (
                    &name_tag[..at],
                    Some(&name_tag[at + 1..]).filter(|t| !t.is_empty()),
                )
            }
            None => (name_tag, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, rest.to_string())
            }
            _ if name.contains('/') => ("docker.io", name.to_string()),
            _ => ("docker.io", format!("library/{name}")),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// `registry/repository`, the name allow-lists match against.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the reference pins a digest.
    pub fn pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// The tag the runtime pulls: the given one, `latest` when none and no digest.
    pub fn effective_tag(&self) -> Option<&'a str> {
        match (self.tag, self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_registry_repository_tag_and_digest() {
        let r = ImageRef::parse("nginx");
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag),
            ("docker.io", "library/nginx", None)
        );
        assert_eq!(r.effective_tag(), Some("latest"));
        let r = ImageRef::parse("registry:5000/team/app");
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag),
            ("registry:5000", "team/app", None)
        );
        let r = ImageRef::parse("registry:5000/team/app:1.2@sha256:ab");
        assert_eq!((r.tag, r.digest), (Some("1.2"), Some("sha256:ab")));
        assert!(r.pinned());
        let r = ImageRef::parse("bitnami/redis:7");
        assert_eq!(
            (r.registry, r.repository.as_str()),
            ("docker.io", "bitnami/redis")
        );
        let r = ImageRef::parse("app:");
        assert_eq!(r.tag, None);
        let r = ImageRef::parse("localhost/app:dev");
        assert_eq!((r.registry, r.tag), ("localhost", Some("dev")));
    }
}
