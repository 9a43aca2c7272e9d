use crate::context::Context;
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Volumes of the deprecated `gitRepo` type.
    ///
    /// ## Why it matters
    /// The kubelet clones a `gitRepo` volume with the node's `git` binary, as root, on the node.
    /// A crafted repository runs hooks on the node: CVE-2024-10220 gave arbitrary command
    /// execution on the host to anyone who could create a pod, and earlier bugs
    /// (CVE-2018-11235) did the same through submodules (MITRE ATT&CK T1611).
    ///
    /// ## Severity
    /// High: code execution on the node on unpatched kubelets, and the volume type is
    /// deprecated on all others.
    ///
    /// ## Failing example
    /// ```yaml
    /// volumes:
    /// - name: site
    ///   gitRepo: {repository: "https://git.example.com/site.git"}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// volumes:
    /// - name: site
    ///   emptyDir: {}
    /// initContainers:
    /// - name: clone
    ///   image: registry.example.com/git:2.45
    ///   args: ["clone", "https://git.example.com/site.git", "/site"]
    /// ```
    ///
    /// ## Remediation
    /// Clone in an init container into an `emptyDir` volume, and disable the plugin on nodes.
    ///
    /// ## References
    /// - CVE-2024-10220, Kubernetes security advisory (kubernetes/kubernetes#128885)
    /// - Kubernetes Pod Security Standards, Restricted, "Volume Types"
    pub struct GitRepoVolume {
        id: "POD023",
        slug: "gitrepo-volume",
        title: "Pod uses a gitRepo volume",
        severity: High,
        target: Target::PodSpec,
        controls: [
            Pss "restricted/volume-types",
            NsaCisa12 "upgrading/application-security",
            MitreAttack "T1611",
        ],
        remediation: "Replace the gitRepo volume with an emptyDir filled by an init container.",
    }
}

impl Check for GitRepoVolume {
    fn check(&self, cx: &mut Context<'_>) {
        for (pointer, name, volume) in cx.volumes() {
            if volume.get("gitRepo").is_some_and(|v| !v.is_null()) {
                cx.report(
                    pointer.join("gitRepo"),
                    format!("volume \"{name}\" is a gitRepo volume, cloned by the kubelet as root on the node (CVE-2024-10220)"),
                );
            }
        }
    }
}
