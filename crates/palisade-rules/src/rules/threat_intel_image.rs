use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::{RuleSettings, Setting};

/// `[rules] threat-intel`: the files images are matched against.
pub(crate) static THREAT_INTEL: Setting = Setting {
    key: "threat-intel",
    help: "threat-intelligence files (STIX 2.1 bundles, or lists of `image:` entries, domains and addresses), relative to palisade.toml; images they name are reported; without it the rule does not run",
    example: &["intel/feed.json", "intel/miners.txt"],
    parse: |entry| {
        let path = entry.trim();
        if path.is_empty() {
            return Err("`threat-intel` entries are file paths, found an empty one".into());
        }
        Ok(path.to_string())
    },
};

declare_rule! {
    /// ## What it checks
    /// Container images (init, regular and ephemeral containers) that threat intelligence
    /// names: their repository (`image: docker.io/xmrig/xmrig` in a list, any tag or digest),
    /// their registry's domain or a domain above it (`miner.example` names
    /// `pool.miner.example/agent`), or their registry's address. The files are given in
    /// `palisade.toml`, and read as `palisade audit` reads them (see docs/audit.md, "Threat
    /// intelligence"):
    ///
    /// ```toml
    /// [rules]
    /// threat-intel = ["intel/feed.json", "intel/miners.txt"]
    /// ```
    ///
    /// An indicator counts while it is valid now (its `valid_from` to `valid_until`). Without
    /// the setting the rule does not run, and coverage says so. The same rule runs at
    /// admission, so a webhook denies such a pod before it is scheduled.
    ///
    /// ## Why it matters
    /// Miners, scanners and implants are published as images, and feeds list them and the
    /// registries that serve them. A manifest that runs one was written or changed by an
    /// adversary, or copied from one (MITRE ATT&CK T1204.003, T1610).
    ///
    /// ## Severity
    /// High: the workload runs code known to be hostile, with whatever its account and mounts
    /// give it.
    ///
    /// ## Failing example
    /// ```yaml
    /// image: docker.io/xmrig/xmrig:6.21.0   # named by `image: xmrig/xmrig`
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// image: registry.example.com/shop/web:1.4
    /// ```
    ///
    /// ## Remediation
    /// Remove the workload, find who changed the manifest, and block the registry
    /// (IMG004's `allowed-registries`, at admission).
    ///
    /// ## References
    /// - MITRE ATT&CK T1204.003 (Malicious Image), T1610 (Deploy Container)
    pub struct ThreatIntelImage {
        id: "IMG005",
        slug: "threat-intel-image",
        title: "Image is named by threat intelligence",
        severity: High,
        target: Target::PodSpec,
        controls: [
            MitreAttack "T1204.003",
            MitreAttack "T1610",
        ],
        remediation: "Remove the workload, find who changed the manifest, and block the image's registry.",
    }
}

impl Check for ThreatIntelImage {
    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&THREAT_INTEL];
        SETTINGS
    }

    fn unconfigured(&self, settings: &RuleSettings) -> Option<&'static str> {
        settings
            .threat_intel
            .0
            .is_none()
            .then_some("no threat intelligence: set `[rules] threat-intel` in palisade.toml")
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some(intel) = cx.settings.threat_intel.0.clone() else {
            return;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_micros()).ok());
        for (container, path, image) in cx.container_images() {
            if let Some(found) = intel.image(image, now) {
                let message = format!(
                    "{} uses {image}, named by threat intelligence: {}",
                    container.describe(),
                    found.describe()
                );
                cx.report(path, message);
            }
        }
    }
}
