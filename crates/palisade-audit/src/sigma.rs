//! SigmaHQ's Kubernetes audit rules (`rules/application/kubernetes/audit`) and the Palisade
//! detections that report the behaviour each describes: a checklist of behaviours, for people
//! who run Sigma in their SIEM, and for a test that builds events from each Sigma rule's own
//! selection and requires one of the listed detections to fire on every one of them.

/// A Sigma rule and its counterparts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigmaCounterpart {
    /// The Sigma rule's `id`.
    pub id: &'static str,
    /// The Sigma rule's `title`.
    pub title: &'static str,
    /// The detections that report it; which one depends on the request, as `note` says.
    pub palisade: &'static [&'static str],
    /// Where Palisade reads the behaviour differently, and why.
    pub note: &'static str,
}

const fn sigma(
    id: &'static str,
    title: &'static str,
    palisade: &'static [&'static str],
    note: &'static str,
) -> SigmaCounterpart {
    SigmaCounterpart {
        id,
        title,
        palisade,
        note,
    }
}

/// Every Sigma Kubernetes audit rule of the corpus (SigmaHQ commit `8eaafff`), by title.
pub const SIGMA_COUNTERPARTS: &[SigmaCounterpart] = &[
    sigma(
        "eed82177-38f5-4299-8a76-098d50d225ab",
        "Kubernetes Admission Controller Modification",
        &["AUD025"],
        "",
    ),
    sigma(
        "0c9b3bda-41a6-4442-9345-356ae86343dc",
        "Kubernetes CronJob/Job Modification",
        &["AUD038"],
        "Jobs only when written by a person or an identity from outside the cluster: controllers and pipelines run Jobs under service accounts all day",
    ),
    sigma(
        "40967487-139b-4811-81d9-c9767a92aa5a",
        "Deployment Deleted From Kubernetes Cluster",
        &["AUD035"],
        "the activity trail, on with `activity = true`",
    ),
    sigma(
        "3132570d-cab2-4561-9ea6-1743644b2290",
        "Kubernetes Events Deleted",
        &["AUD029"],
        "",
    ),
    sigma(
        "a1b0ca4e-7835-413e-8471-3ff2b8a66be6",
        "Potential Remote Command Execution In Pod Container",
        &["AUD001"],
        "",
    ),
    sigma(
        "402b955c-8fe0-4a8c-b635-622b4ac5f902",
        "Container With A hostPath Mount Created",
        &["AUD008", "AUD042"],
        "AUD008 for the node's sensitive directories (high), AUD042 for any other (medium, low when read-only)",
    ),
    sigma(
        "a80d927d-ac6e-443f-a867-e8d6e3897318",
        "Creation Of Pod In System Namespace",
        &["AUD009"],
        "",
    ),
    sigma(
        "597a7e84-187d-458b-9e4f-2f5a0e676711",
        "Kubernetes Potential Enumeration Activity",
        &["AUD001", "AUD027", "AUD039"],
        "a shell or tool in the request URI is a command run by exec (AUD001, which shows the command) or by the kubelet through nodes/proxy (AUD027); the tools' user agents are AUD039's, with more tools",
    ),
    sigma(
        "c5cd1b20-36bb-488d-8c05-486be3d0cb97",
        "Privileged Container Deployed",
        &["AUD004", "AUD041"],
        "Sigma matches any `capabilities` field; Palisade reports capabilities added beyond the Pod Security baseline set (AUD041) and privileged containers (AUD004), not a `drop`",
    ),
    sigma(
        "84b777bd-c946-4d17-aa2e-c39f5a454325",
        "RBAC Permission Enumeration Attempt",
        &["AUD034"],
        "",
    ),
    sigma(
        "10b97915-ec8d-455f-a815-9a78926585f6",
        "Kubernetes Rolebinding Modification",
        &["AUD011", "AUD016", "AUD035", "AUD043"],
        "update and patch are AUD043's; creations and deletions are the activity trail's (AUD035), AUD011's when they bind cluster-admin, AUD016's in kube-system",
    ),
    sigma(
        "eeb3e9e1-b685-44e4-9232-6bb701f925b5",
        "Kubernetes Secrets Enumeration",
        &["AUD017"],
        "",
    ),
    sigma(
        "58d31a75-a4f8-4c40-985b-373d58162ca2",
        "Kubernetes Secrets Modified or Deleted",
        &["AUD035"],
        "the activity trail, on with `activity = true`, for people outside kube-system: controllers rewrite Secrets (certificates, tokens) all day",
    ),
    sigma(
        "e31bae15-83ed-473e-bf31-faf4f8a17d36",
        "New Kubernetes Service Account Created",
        &["AUD035", "AUD010"],
        "the activity trail (`activity = true`); in kube-system and kube-public, AUD010",
    ),
    sigma(
        "ad9012a6-e518-4432-9890-f3b82b8fc71f",
        "Potential Sidecar Injection Into Running Deployment",
        &["AUD044"],
        "Sigma matches every patch of a Deployment (every rollout); AUD044 reports a patch or update that adds a container to the pod template",
    ),
    sigma(
        "0d933542-1f1f-420d-97d4-21b2c3c492d9",
        "Kubernetes Unauthorized or Unauthenticated Access",
        &["AUD021", "AUD022"],
        "bursts rather than each response: 403s of one identity (AUD021), 401s from one address (AUD022), past `forbidden_burst` or `unauthenticated_burst` within the window",
    ),
];

/// The counterpart of a Sigma rule, by its id.
pub fn counterpart(id: &str) -> Option<&'static SigmaCounterpart> {
    SIGMA_COUNTERPARTS.iter().find(|c| c.id == id)
}
