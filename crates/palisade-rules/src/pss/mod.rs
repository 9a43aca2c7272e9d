//! The Pod Security Standards as data: the levels and the allowed values the admission plugin
//! (`k8s.io/pod-security-admission`) compares against. The hardening rules read the lists from
//! here; [`admission`] runs the plugin's checks exactly, per policy version, for
//! `--framework pss-*` and the namespace evaluation (NS002).
pub mod admission;

pub use palisade_k8s::pod_security::Level;

/// Capabilities the Baseline profile allows in `capabilities.add`.
pub use palisade_k8s::security::BASELINE_CAPABILITIES;

/// The only capability the Restricted profile allows adding.
pub const RESTRICTED_ADDABLE_CAPABILITY: &str = "NET_BIND_SERVICE";

/// Volume sources the Restricted profile allows.
pub const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// SELinux types the Baseline profile allows (empty means unset).
pub const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_from_least_to_most_restrictive() {
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
        assert_eq!(Level::parse("baseline"), Some(Level::Baseline));
        assert_eq!(Level::parse("Baseline"), None);
    }
}
