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

    /// Whether this reference (what a Pod runs) names the image `declared` (its controller's
    /// template) names: the same registry and repository, the same digest when `declared`
    /// pins one, and otherwise the same tag, unless this reference adds a digest to it (a
    /// mutating webhook that resolves tags to digests: the digest cannot be checked offline
    /// against the tag, so it is taken as that tag's).
    pub fn runs_declared(&self, declared: &ImageRef<'_>) -> bool {
        let hub = |registry: &str| match registry {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
            other => other.to_ascii_lowercase(),
        };
        if hub(self.registry) != hub(declared.registry) || self.repository != declared.repository {
            return false;
        }
        match (declared.digest, self.digest) {
            (Some(want), Some(runs)) => want == runs,
            (Some(_), None) => false,
            (None, Some(_)) => self.tag.is_none() || self.tag == declared.effective_tag(),
            (None, None) => self.effective_tag() == declared.effective_tag(),
        }
    }

    /// [`ImageRef::runs_declared`] through a registry mirror: this reference names
    /// `declared` under `mirror` (a registry host or path prefix that an image-rewriting
    /// webhook puts in front of the original repository, with or without its registry:
    /// `mirror.example.com/docker.io/library/nginx`, `mirror.example.com/library/nginx`,
    /// `mirror.example.com/nginx`), with the tag and digest `declared` gives.
    pub fn runs_declared_via(&self, declared: &ImageRef<'_>, mirror: &str) -> bool {
        let full = self.full_name();
        let Some(rest) = full
            .strip_prefix(mirror.trim_end_matches('/'))
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return false;
        };
        let original = declared.full_name();
        let short = declared.repository.strip_prefix("library/");
        if rest != original && rest != declared.repository && Some(rest) != short {
            return false;
        }
        let unmirrored = ImageRef {
            registry: declared.registry,
            repository: declared.repository.clone(),
            tag: self.tag,
            digest: self.digest,
        };
        unmirrored.runs_declared(declared)
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

    #[test]
    fn a_running_image_is_the_declared_one_up_to_a_pinned_digest() {
        let runs = |running: &str, declared: &str| {
            ImageRef::parse(running).runs_declared(&ImageRef::parse(declared))
        };
        assert!(runs("nginx:1.27", "nginx:1.27"));
        assert!(runs("docker.io/library/nginx:1.27", "nginx:1.27"));
        assert!(runs("index.docker.io/library/nginx:1.27", "nginx:1.27"));
        assert!(runs("nginx:1.27@sha256:ab", "nginx:1.27"));
        assert!(runs("nginx@sha256:ab", "nginx:1.27"));
        assert!(runs("nginx:latest", "nginx"));
        assert!(runs("nginx:1.27@sha256:ab", "nginx@sha256:ab"));
        assert!(!runs("nginx:1.28", "nginx:1.27"));
        assert!(!runs("nginx:1.28@sha256:ab", "nginx:1.27"));
        assert!(!runs("evil.io/library/nginx:1.27", "nginx:1.27"));
        assert!(!runs("nginx-debug:1.27", "nginx:1.27"));
        assert!(!runs("nginx:1.27", "nginx:1.27@sha256:ab"));
        assert!(!runs("nginx@sha256:cd", "nginx@sha256:ab"));
    }

    #[test]
    fn a_mirror_serves_the_declared_repository_with_or_without_its_registry() {
        let via = |running: &str, declared: &str| {
            ImageRef::parse(running)
                .runs_declared_via(&ImageRef::parse(declared), "mirror.example.com/hub/")
        };
        assert!(via(
            "mirror.example.com/hub/docker.io/library/nginx:1.27",
            "nginx:1.27"
        ));
        assert!(via(
            "mirror.example.com/hub/library/nginx:1.27@sha256:ab",
            "nginx:1.27"
        ));
        assert!(via("mirror.example.com/hub/nginx:1.27", "nginx:1.27"));
        assert!(via(
            "mirror.example.com/hub/ghcr.io/acme/app:2",
            "ghcr.io/acme/app:2"
        ));
        assert!(!via("mirror.example.com/hub/nginx:1.28", "nginx:1.27"));
        assert!(!via("mirror.example.com/hub/evil/nginx:1.27", "nginx:1.27"));
        assert!(!via("mirror.example.com/other/nginx:1.27", "nginx:1.27"));
        assert!(!via("mirror.example.com/hubx/nginx:1.27", "nginx:1.27"));
    }
}
