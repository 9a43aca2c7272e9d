use palisade_core::JsonPointer;

use crate::context::Context;
use crate::rbac::{BINDINGS, reportable_binding, scope};
use crate::rule::{Check, Target};

declare_rule! {
    /// ## What it checks
    /// Bindings that let their subjects write the EKS `aws-auth` ConfigMap in `kube-system`:
    /// `update` or `patch` on ConfigMaps (by that name or all of them) there or cluster-wide,
    /// or `create` on ConfigMaps there (which cannot be restricted by name, and creates
    /// `aws-auth` when it is missing). Full administrators are RBAC001's.
    ///
    /// ## Why it matters
    /// On EKS, `aws-auth` maps IAM roles and users to Kubernetes users and groups. Whoever
    /// can write it maps an IAM role they control to `system:masters` and is cluster-admin,
    /// whatever RBAC says (MITRE ATT&CK T1098, Account Manipulation). The escalation graph
    /// follows this edge too.
    ///
    /// ## Severity
    /// Critical: one write is cluster-admin. The rule (and the graph's edge) applies when the
    /// scanned objects hold the `aws-auth` ConfigMap (a live EKS cluster that uses it, or
    /// manifests that manage it) or the grant names it; a grant on every ConfigMap where no
    /// `aws-auth` is in sight is not reported, since most clusters are not EKS clusters
    /// using the ConfigMap (on EKS, scan the cluster or include the ConfigMap).
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: edit-aws-auth, namespace: kube-system}
    /// rules:
    /// - {apiGroups: [""], resources: [configmaps], resourceNames: [aws-auth], verbs: [patch]}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: read-aws-auth, namespace: kube-system}
    /// rules:
    /// - {apiGroups: [""], resources: [configmaps], resourceNames: [aws-auth], verbs: [get]}
    /// ```
    ///
    /// ## Remediation
    /// Manage cluster access with EKS access entries (the `API` authentication mode) and
    /// remove write access to `aws-auth`; keep it only for the platform team's automation.
    ///
    /// ## References
    /// - Amazon EKS documentation, "Grant IAM users access to Kubernetes with a ConfigMap"
    /// - Amazon EKS Best Practices Guide, "Identity and Access Management"
    pub struct AwsAuthWriteAccess {
        id: "RBAC020",
        slug: "aws-auth-write-access",
        title: "Subject can write the EKS aws-auth ConfigMap",
        severity: Critical,
        target: Target::Kinds(BINDINGS),
        controls: [
            CisK8s112 "5.1.1",
            MitreAttack "T1098",
        ],
        remediation: "Remove write access to kube-system/aws-auth; use EKS access entries.",
    }
}

impl Check for AwsAuthWriteAccess {
    fn models(&self, models: &mut crate::context::Models) {
        crate::rbac::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        let Some((model, index, subjects)) = reportable_binding(cx) else {
            return;
        };
        let binding = &model.policy.bindings[index];
        let Some((grant, verb)) = model
            .aws_auth_writers
            .iter()
            .find(|(g, _)| g.binding == index)
        else {
            return;
        };
        let role = model
            .policy
            .role_of(binding)
            .map(|r| r.describe())
            .unwrap_or_default();
        let named = !model.policy.rule(grant).resource_names.is_empty();
        if !named && !model.has_aws_auth {
            return;
        }
        cx.report(
            JsonPointer::root().join("roleRef").join("name"),
            format!(
                "{} can {verb} ConfigMap kube-system/aws-auth {} through {role} rule {} ({}): they can map an IAM role of theirs to system:masters",
                subjects.join(", "),
                scope(binding),
                grant.rule + 1,
                model.policy.rule(grant).describe(),
            ),
        );
    }
}
