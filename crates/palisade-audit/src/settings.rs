//! The `[audit]` table of `palisade.toml`: allow-lists and thresholds the detections read.
//! Unknown keys are errors with their line, as everywhere in the configuration.

use serde::Deserialize;

use palisade_k8s::image::ImageRef;

/// The name an image is compared by: registry and repository, Docker Hub's short names
/// expanded, without tag or digest.
pub fn repository(image: &str) -> String {
    ImageRef::parse(image).full_name()
}

/// The last path component of an image reference, without its tag or digest (`nginx` of
/// `docker.io/library/nginx:1.25`): equal for two references of the same repository.
fn last_component(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split(':').next().unwrap_or(last)
}

/// Images that legitimately need what a detection reports, per detection family. The
/// defaults are the images Falco's k8saudit rules trust (agents and network plugins that run
/// privileged or mount the node by design); entries are image repositories, without a tag.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustedImages {
    pub privileged: Vec<String>,
    pub host_network: Vec<String>,
    pub host_pid: Vec<String>,
    pub host_ipc: Vec<String>,
    pub sensitive_mount: Vec<String>,
    /// Images that may add capabilities beyond the Pod Security baseline set (AUD041);
    /// by default those trusted to run privileged or on the node's network.
    pub capabilities: Vec<String>,
    /// Images that may mount any other directory of the node (AUD042); by default those
    /// trusted with sensitive mounts or to run privileged.
    pub host_path: Vec<String>,
    /// Images that may run in kube-system and kube-public.
    pub kube_namespace: Vec<String>,
}

/// Everything the detections read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Report every create and delete of workloads, Services, ConfigMaps, Secrets,
    /// namespaces, service accounts and RBAC objects, every change of a Secret by a person, and every
    /// Secret read (AUD035, info).
    pub activity: bool,
    /// People allowed to use the API; when set, anyone else is reported (AUD030).
    pub allowed_users: Vec<String>,
    /// Namespaces that may be created; when set, any other is reported (AUD031).
    pub allowed_namespaces: Vec<String>,
    /// Images pods may run; when set, pods with any other are reported (AUD032).
    pub allowed_images: Vec<String>,
    pub trusted_images: TrustedImages,
    /// Service accounts that may be created in kube-system and kube-public (added to the
    /// controllers' own).
    pub known_service_accounts: Vec<String>,
    /// The address ranges of the cluster's pods and nodes: a service account calling from
    /// anywhere else has had its token taken out of the cluster (AUD039). Not assessed when
    /// empty.
    pub cluster_cidrs: Vec<String>,
    /// Address ranges of the HTTP proxies in front of the API server that set
    /// `X-Forwarded-For`: a request's client is the last address in `sourceIPs` that is not
    /// one of them. Without it the client is the connection's address (the last), since the
    /// headers before it are written by the client and can be forged.
    pub trusted_proxies: Vec<String>,
    /// How many refused requests (403) of one identity within `burst_window_seconds` make a
    /// burst (AUD021).
    pub forbidden_burst: u32,
    /// How many failed authentications (401) from one address within the window make a burst
    /// (AUD022).
    pub unauthenticated_burst: u32,
    pub burst_window_seconds: u32,
    /// Threat-intelligence files (STIX 2.1 bundles or plain lists of addresses, domains,
    /// images, user agents, accounts), relative to the configuration file: requests from what
    /// they name (AUD050) and pods running what they name (AUD051) are reported.
    pub threat_intel: Vec<String>,
    /// The indicators read from `threat_intel` (and `--threat-intel`), by
    /// [`Settings::read_threat_intel`].
    #[serde(skip)]
    pub intel: std::sync::Arc<palisade_intel::Indicators>,
    /// The files `intel` was read from.
    #[serde(skip)]
    pub intel_feeds: Option<palisade_intel::Feeds>,
}

impl Default for TrustedImages {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let privileged = list(&[
            "falcosecurity/falco",
            "public.ecr.aws/falcosecurity/falco",
            "calico/node",
            "quay.io/calico/node",
            "cloudnativelabs/kube-router",
            "docker/ucp-agent",
            "mesosphere/mesos-slave",
            "rook/toolbox",
            "sysdig/sysdig",
            "gcr.io/google_containers/kube-proxy",
            "gcr.io/google-containers/startup-script",
            "gcr.io/projectcalico-org/node",
            "gke.gcr.io/kube-proxy",
            "gke.gcr.io/gke-metadata-server",
            "gke.gcr.io/netd-amd64",
            "gke.gcr.io/watcher-daemonset",
            "gcr.io/google-containers/prometheus-to-sd",
            "registry.k8s.io/ip-masq-agent-amd64",
            "registry.k8s.io/kube-proxy",
            "registry.k8s.io/prometheus-to-sd",
            "registry.k8s.io/dns/k8s-dns-node-cache",
            "mcr.microsoft.com/oss/kubernetes/kube-proxy",
        ]);
        let sensitive_mount = list(&[
            "falcosecurity/falco",
            "public.ecr.aws/falcosecurity/falco",
            "sysdig/sysdig",
            "gcr.io/google_containers/hyperkube",
            "gcr.io/google_containers/kube-proxy",
            "calico/node",
            "rook/toolbox",
            "cloudnativelabs/kube-router",
            "consul",
            "datadog/docker-dd-agent",
            "datadog/agent",
            "docker/ucp-agent",
            "gliderlabs/logspout",
            "netdata/netdata",
            "google/cadvisor",
            "prom/node-exporter",
            "amazon/amazon-ecs-agent",
            "amazon/cloudwatch-agent",
        ]);
        let host_network = list(&[
            "gcr.io/google-containers/prometheus-to-sd",
            "gcr.io/projectcalico-org/typha",
            "gcr.io/projectcalico-org/node",
            "gke.gcr.io/gke-metadata-server",
            "gke.gcr.io/kube-proxy",
            "gke.gcr.io/netd-amd64",
            "registry.k8s.io/ip-masq-agent-amd64",
            "registry.k8s.io/prometheus-to-sd",
        ]);
        // Each image once, in the order of the lists.
        let union = |a: &[String], b: &[String]| -> Vec<String> {
            let mut out = a.to_vec();
            out.extend(b.iter().filter(|i| !a.contains(i)).cloned());
            out
        };
        TrustedImages {
            capabilities: union(&privileged, &host_network),
            host_path: union(&sensitive_mount, &privileged),
            privileged,
            host_pid: Vec::new(),
            host_ipc: Vec::new(),
            sensitive_mount,
            host_network,
            kube_namespace: list(&[
                "gcr.io/google-containers/prometheus-to-sd",
                "gcr.io/projectcalico-org/node",
                "gke.gcr.io/addon-resizer",
                "gke.gcr.io/heapster",
                "gke.gcr.io/gke-metadata-server",
                "registry.k8s.io/ip-masq-agent-amd64",
                "registry.k8s.io/kube-apiserver",
                "gke.gcr.io/kube-proxy",
                "gke.gcr.io/netd-amd64",
                "gke.gcr.io/watcher-daemonset",
                "registry.k8s.io/addon-resizer",
                "registry.k8s.io/prometheus-to-sd",
                "registry.k8s.io/k8s-dns-dnsmasq-nanny-amd64",
                "registry.k8s.io/k8s-dns-kube-dns-amd64",
                "registry.k8s.io/k8s-dns-sidecar-amd64",
                "registry.k8s.io/metrics-server-amd64",
                "kope/kube-apiserver-healthcheck",
            ]),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            activity: false,
            allowed_users: Vec::new(),
            allowed_namespaces: Vec::new(),
            allowed_images: Vec::new(),
            trusted_images: TrustedImages::default(),
            known_service_accounts: Vec::new(),
            cluster_cidrs: Vec::new(),
            trusted_proxies: Vec::new(),
            forbidden_burst: 20,
            unauthenticated_burst: 20,
            burst_window_seconds: 60,
            threat_intel: Vec::new(),
            intel: std::sync::Arc::default(),
            intel_feeds: None,
        }
    }
}

pub use palisade_core::config_section::SettingsError;

impl Settings {
    /// Reads the `[audit]` table of a `palisade.toml` (the defaults when there is none).
    pub fn parse(path: &str, text: &str) -> Result<Settings, SettingsError> {
        let invalid = |e: palisade_core::config_section::SectionError| SettingsError::Invalid {
            path: path.to_string(),
            line: e.line,
            table: "audit",
            message: e.message,
        };
        let Some(settings) =
            palisade_core::config_section::read::<Settings>(text, "audit").map_err(invalid)?
        else {
            return Ok(Settings::default());
        };
        settings
            .validate()
            .map_err(|message| SettingsError::Invalid {
                path: path.to_string(),
                line: palisade_core::config_section::line_of(text, "[audit]"),
                table: "audit",
                message,
            })?;
        Ok(settings)
    }

    /// Reads a file's `[audit]` table.
    pub fn load(path: &std::path::Path) -> Result<Settings, SettingsError> {
        palisade_core::config_section::load(path, Settings::parse)
    }

    /// Reads the indicators of `threat_intel` (relative to `base`, the configuration file's
    /// directory) and of `more` (as given) into `intel`, and keeps the files in `intel_feeds`
    /// (a receiver reads them again when they change); the problems are the entries that
    /// were not read. An error when a file cannot be read, or when files were named and no
    /// indicator in them can be matched (a run would look for nothing).
    pub fn read_threat_intel(
        &mut self,
        base: &std::path::Path,
        more: &[std::path::PathBuf],
    ) -> Result<Vec<palisade_intel::Problem>, palisade_intel::IntelError> {
        // Named as written: in the configuration, or on the command line.
        let mut files = palisade_intel::Feeds::relative(base, &self.threat_intel);
        files.extend(more.iter().map(|p| (p.display().to_string(), p.clone())));
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let feeds = palisade_intel::Feeds::new(files);
        let (intel, problems) = feeds.load()?;
        self.intel = std::sync::Arc::new(intel);
        self.intel_feeds = Some(feeds);
        Ok(problems)
    }

    fn validate(&self) -> Result<(), String> {
        for (key, list) in [
            ("cluster_cidrs", &self.cluster_cidrs),
            ("trusted_proxies", &self.trusted_proxies),
        ] {
            for cidr in list {
                if palisade_net::addr::AddrRange::parse_cidr(cidr).is_err() {
                    return Err(format!(
                        "{key}: `{cidr}` is not an address range (10.0.0.0/8, fd00::/8)"
                    ));
                }
            }
        }
        if self.burst_window_seconds == 0 {
            return Err("burst_window_seconds must be at least 1".into());
        }
        Ok(())
    }

    /// Whether every image is in `list` (compared by repository, so a tag or digest does
    /// not matter and `docker.io/library/nginx` is `nginx`). An empty image list is not
    /// trusted.
    pub fn all_in<'i>(list: &[String], mut images: impl Iterator<Item = &'i str>) -> bool {
        let mut any = false;
        let trusted = images.all(|image| {
            any = true;
            let repo = repository(image);
            // An entry is parsed only when its last path component could be the image's: the
            // lists hold dozens of entries and every pod creation asks.
            let last = last_component(&repo);
            list.iter().any(|entry| {
                last_component(entry).eq_ignore_ascii_case(last) && repository(entry) == repo
            })
        });
        any && trusted
    }
}

/// The `[audit]` part of a commented `palisade.toml` (`palisade init`): every setting with
/// its meaning and default, commented out.
pub fn template() -> String {
    let d = Settings::default();
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
        format!("[{}]", quoted.join(", "))
    };
    format!(
        "\n[audit]\n\
         # Settings of `palisade audit analyze` and `palisade serve audit`.\n\
         # Report every create and delete of workloads, Services, ConfigMaps, Secrets, namespaces,\n\
         # service accounts and RBAC objects, Secret changes by people, and Secret reads (AUD035).\n\
         # Default: false.\n\
         # activity = true\n\
         # People allowed to use the API; anyone else is reported (AUD030). Default: none (off).\n\
         # allowed_users = [\"ci-deployer\", \"break-glass@example.com\"]\n\
         # Namespaces that may be created (AUD031). Default: none (off).\n\
         # allowed_namespaces = [\"default\", \"kube-system\", \"kube-public\", \"shop\"]\n\
         # Image repositories pods may run (AUD032). Default: none (off).\n\
         # allowed_images = [\"registry.example.com/shop/web\"]\n\
         # Service accounts expected in kube-system and kube-public besides the controllers' (AUD010).\n\
         # known_service_accounts = [\"my-addon\"]\n\
         # Pod and node address ranges: service accounts calling from elsewhere are reported (AUD037).\n\
         # Default: none (not assessed).\n\
         # cluster_cidrs = [\"10.244.0.0/16\", \"10.0.0.0/24\"]\n\
         # HTTP proxies in front of the API server that set X-Forwarded-For: the client is the\n\
         # last address not among them. Default: none (the client is the connection's address).\n\
         # trusted_proxies = [\"10.0.0.10/32\"]\n\
         # Refused requests of one identity (AUD021), failed authentications from one address\n\
         # (AUD022), within the window, that make a burst.\n\
         # forbidden_burst = {}\n\
         # unauthenticated_burst = {}\n\
         # burst_window_seconds = {}\n\
         # Threat-intelligence files, relative to this file: STIX 2.1 bundles or TAXII envelopes,\n\
         # or lists (addresses, CIDRs, domains; `image: ...`, `user-agent: ...`, `user: ...`).\n\
         # Requests from what they name (AUD050), pods running it (AUD051). Also --threat-intel.\n\
         # threat_intel = [\"intel/c2-addresses.txt\", \"intel/feed.json\"]\n\
         # Images that need what a detection reports (repositories; the defaults are Falco's).\n\
         # [audit.trusted_images]\n\
         # privileged = {}\n\
         # host_network = {}\n\
         # host_pid = {}\n\
         # host_ipc = {}\n\
         # sensitive_mount = {}\n\
         # capabilities = {}\n\
         # host_path = {}\n\
         # kube_namespace = {}\n",
        d.forbidden_burst,
        d.unauthenticated_burst,
        d.burst_window_seconds,
        list(&d.trusted_images.privileged),
        list(&d.trusted_images.host_network),
        list(&d.trusted_images.host_pid),
        list(&d.trusted_images.host_ipc),
        list(&d.trusted_images.sensitive_mount),
        list(&d.trusted_images.capabilities),
        list(&d.trusted_images.host_path),
        list(&d.trusted_images.kube_namespace),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_uncommented_is_valid_and_gives_the_defaults_it_shows() {
        let text: String = template()
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|l| l.contains('=') || l.starts_with('['))
                    .unwrap_or("")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("[audit]\n{}", text.replacen("[audit]", "", 1));
        let settings = Settings::parse("template", &text).unwrap();
        assert!(settings.activity);
        assert_eq!(
            settings.trusted_images.privileged,
            Settings::default().trusted_images.privileged
        );
        assert_eq!(settings.forbidden_burst, 20);
    }

    #[test]
    fn reads_the_audit_table_and_names_the_line_of_a_mistake() {
        let s = Settings::parse(
            "p.toml",
            "[rules]\ndisable = []\n[audit]\nactivity = true\nallowed_users = [\"alice\"]\n",
        )
        .unwrap();
        assert!(s.activity);
        assert_eq!(s.allowed_users, ["alice"]);
        let e = Settings::parse("p.toml", "[rules]\n\n[audit]\nactivty = true\n").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("p.toml:4:"), "{text}");
        assert!(text.contains("activty"), "{text}");
        let e =
            Settings::parse("p.toml", "[audit]\ncluster_cidrs = [\"10.0.0.0/99\"]\n").unwrap_err();
        assert!(e.to_string().contains("10.0.0.0/99"), "{e}");
        assert!(Settings::parse("p.toml", "").is_ok());
    }

    #[test]
    fn the_new_trust_lists_start_from_the_lists_that_trust_more() {
        let t = TrustedImages::default();
        for image in t.privileged.iter().chain(&t.host_network) {
            assert!(t.capabilities.contains(image), "{image}");
        }
        for image in t.sensitive_mount.iter().chain(&t.privileged) {
            assert!(t.host_path.contains(image), "{image}");
        }
        let mut unique = t.host_path.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), t.host_path.len());
    }

    #[test]
    fn images_are_compared_by_repository() {
        let list = vec!["nginx".to_string(), "quay.io/calico/node".to_string()];
        assert!(Settings::all_in(&list, ["nginx:1.25"].into_iter()));
        assert!(Settings::all_in(
            &list,
            ["docker.io/library/nginx@sha256:abc"].into_iter()
        ));
        assert!(!Settings::all_in(&list, ["nginx", "busybox"].into_iter()));
        assert!(!Settings::all_in(&list, std::iter::empty()));
    }

    /// The shortcut on the last path component never turns away an entry of the image's
    /// repository, however either is written.
    #[test]
    fn entries_of_the_same_repository_share_the_last_component() {
        let refs = [
            "nginx",
            "nginx:1.25",
            "docker.io/library/nginx@sha256:abc",
            "library/nginx:latest",
            "registry.local:5000/team/app:v1",
            "registry.local:5000/team/app@sha256:def",
            "quay.io/calico/node",
            "Quay.io/calico/node:v3",
            "localhost/app",
            "gcr.io/a/b/c/d:1",
        ];
        for a in refs {
            for b in refs {
                if repository(a) == repository(b) {
                    assert!(
                        last_component(a).eq_ignore_ascii_case(last_component(&repository(b))),
                        "{a} / {b}"
                    );
                }
            }
        }
    }
}
