//! Where each kind that embeds a pod spec keeps it: the one catalogue that scans, fixes,
//! admission, audit detections and the redaction boundary read, so a pod spec is found (and its
//! fields printed or hidden) the same way in a Deployment, an Argo Rollout or a Knative Service.

/// Where a kind keeps its pod spec and the pod template's metadata.
#[derive(Debug)]
pub struct PodTemplateSite {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// Pointer to the pod spec, such as `/spec/template/spec`.
    pub spec: &'static str,
    /// Pointer to the pod (template) metadata.
    pub metadata: &'static str,
}

impl PodTemplateSite {
    /// Whether the kind's API requires every container to have a name. Knative's does not:
    /// its webhook names a lone container `user-container`, and its documentation writes
    /// services without one.
    pub fn container_names_required(&self) -> bool {
        self.group != "serving.knative.dev"
    }

    /// Whether a field at `segments` of an object of this kind lies in its pod template (its
    /// pod spec or the template's metadata), whose schema is the built-in pod's whatever
    /// group the kind is in.
    pub fn holds(&self, segments: &[&str]) -> bool {
        let under = |pointer: &str| {
            let mut prefix = pointer.split('/').skip(1);
            let mut rest = segments.iter();
            prefix.all(|p| rest.next() == Some(&p))
        };
        under(self.spec) || under(self.metadata)
    }
}

const TEMPLATE_SPEC: &str = "/spec/template/spec";
const TEMPLATE_METADATA: &str = "/spec/template/metadata";

/// Every kind that embeds a pod spec. Groups are matched exactly; `extensions` covers the
/// pre-1.16 API versions still found in old manifests.
pub const SITES: &[PodTemplateSite] = &[
    PodTemplateSite {
        group: "",
        kind: "Pod",
        spec: "/spec",
        metadata: "/metadata",
    },
    PodTemplateSite {
        group: "",
        kind: "PodTemplate",
        spec: "/template/spec",
        metadata: "/template/metadata",
    },
    PodTemplateSite {
        group: "",
        kind: "ReplicationController",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "Deployment",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "StatefulSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "DaemonSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "apps",
        kind: "ReplicaSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "Deployment",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "DaemonSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "extensions",
        kind: "ReplicaSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "batch",
        kind: "Job",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "batch",
        kind: "CronJob",
        spec: "/spec/jobTemplate/spec/template/spec",
        metadata: "/spec/jobTemplate/spec/template/metadata",
    },
    PodTemplateSite {
        group: "argoproj.io",
        kind: "Rollout",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Service",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Configuration",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    PodTemplateSite {
        group: "serving.knative.dev",
        kind: "Revision",
        spec: "/spec",
        metadata: "/metadata",
    },
    PodTemplateSite {
        group: "apps.openshift.io",
        kind: "DeploymentConfig",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    // OpenKruise's CloneSet, which replaces Deployments in place.
    PodTemplateSite {
        group: "apps.kruise.io",
        kind: "CloneSet",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
    // KEDA's ScaledJob: a Job's spec, whose Jobs KEDA creates per event.
    PodTemplateSite {
        group: "keda.sh",
        kind: "ScaledJob",
        spec: "/spec/jobTargetRef/template/spec",
        metadata: "/spec/jobTargetRef/template/metadata",
    },
    // Kubeflow's Notebook: a notebook server's StatefulSet template.
    PodTemplateSite {
        group: "kubeflow.org",
        kind: "Notebook",
        spec: TEMPLATE_SPEC,
        metadata: TEMPLATE_METADATA,
    },
];

/// Where objects of `(group, kind)` keep their pod template, if they have one.
pub fn site(group: &str, kind: &str) -> Option<&'static PodTemplateSite> {
    SITES.iter().find(|w| w.kind == kind && w.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_spec_and_the_template_metadata_only() {
        let rollout = site("argoproj.io", "Rollout").unwrap();
        assert!(rollout.holds(&["spec", "template", "spec", "containers", "0", "image"]));
        assert!(rollout.holds(&["spec", "template", "metadata", "labels", "app"]));
        assert!(!rollout.holds(&["spec", "strategy", "canary", "analysis"]));
        assert!(!rollout.holds(&["spec", "template"]));
        let revision = site("serving.knative.dev", "Revision").unwrap();
        assert!(revision.holds(&["spec", "containers", "0", "image"]));
        assert!(!revision.container_names_required());
        assert!(
            site("apps", "Deployment")
                .unwrap()
                .container_names_required()
        );
        assert!(site("", "Service").is_none());
    }
}
