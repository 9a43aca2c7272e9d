//! The rule trait.

use palisade_core::RuleMeta;

use crate::context::{ClusterModels, Context, Models};
use crate::settings::RuleSettings;

/// Which objects a rule is evaluated on.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Every object that embeds a pod spec (Pod, Deployment, CronJob, Rollout, ...).
    /// [`Context::pod`] is set.
    PodSpec,
    /// What [`Target::PodSpec`] targets, and besides those an object judged through its
    /// controller that the network holds as an endpoint of its own (its labels put it under
    /// other selectors than its controller's template: `palisade_net::Network::stands_apart`).
    /// For rules that judge the network's endpoints. [`Context::pod`] is set.
    Endpoint,
    /// Objects of these `(group, kind)` pairs.
    Kinds(&'static [(&'static str, &'static str)]),
    /// Every object.
    All,
}

/// The kinds a rule's answer depends on ([`Rule::kinds_needed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindsNeeded {
    /// It judges objects of every kind: any type not listed may hold one.
    pub every_kind: bool,
    /// The kinds `(group, kind)` it judges or reads by name.
    pub kinds: Vec<(&'static str, &'static str)>,
}

/// What a rule looks for: the one part of a rule written by hand ([`declare_rule!`] generates
/// the [`Rule`] impl around it).
pub trait Check {
    /// Evaluates one object; reports findings, or that the object could not be assessed,
    /// through `cx`.
    fn check(&self, cx: &mut Context<'_>);
    /// `None` when the rule can run with these settings; otherwise why it cannot.
    fn unconfigured(&self, _settings: &RuleSettings) -> Option<&'static str> {
        None
    }
    /// Kinds `(group, kind)` the rule looks up besides its targets (a pod's ServiceAccount,
    /// the NetworkPolicies of its namespace): when a cluster scan could not list one of
    /// them, the rule's verdicts are incomplete.
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The `[rules]` settings of `palisade.toml` the rule reads (validated from these).
    fn settings(&self) -> &'static [&'static crate::settings::Setting] {
        &[]
    }
    /// Asks for the whole-inventory models the rule reads with [`Context::derived`], which a
    /// scan builds before judging objects (see [`Models`]). A model not asked for here is
    /// built when first read.
    fn models(&self, _models: &mut Models) {}
    /// `None` when the rule runs in a scan; otherwise why it runs only when objects are judged
    /// one at a time against a prepared cluster (it compares the cluster before and after the
    /// object: see [`Rule::only_against_a_cluster`]).
    fn only_against_a_cluster(&self) -> Option<&'static str> {
        None
    }
}

/// A check over one object (with the whole inventory at hand for cross-object rules).
/// What a rule's finding on a pod means at the cluster's admission
/// ([`Rule::refuses_at_admission`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing: the rule is not the cluster's admission there (a built-in rule; a policy that
    /// only warns or audits, or whose webhook exempts the namespace).
    No,
    /// The pod is refused, whatever its creator writes besides what the finding is about.
    Yes,
    /// The pod is refused, but its creator can escape the policy by what it writes (the
    /// reason: "it exempts images safeimages.com/*").
    Escapable(String),
}

/// What requests a rule judges, as an admission webhook must be sent them
/// ([`Rule::judges`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judges {
    /// Creations and updates of objects of these kinds `(group, kind)`; `*` as the group is
    /// every group serving the kind.
    Kinds(Vec<(String, String)>),
    /// The requests these rules select (a ValidatingAdmissionPolicy's `resourceRules`).
    Requests(Vec<palisade_k8s::admission_rules::RuleWithOperations>),
    /// Whatever it is shown (a rule on every object; a policy matching every kind).
    Anything,
}

pub trait Rule: Sync + Send {
    /// The rule's id, title, severity, docs and controls.
    fn meta(&self) -> &'static RuleMeta;
    /// Which objects it applies to.
    fn target(&self) -> Target;
    /// Evaluates one object; reports findings, or that the object could not be assessed,
    /// through `cx`.
    fn check(&self, cx: &mut Context<'_>);
    /// `None` when the rule can run with these settings; otherwise why it cannot (a rule that
    /// needs an allow-list does not run without one, and says so in coverage).
    fn unconfigured(&self, _settings: &RuleSettings) -> Option<&'static str> {
        None
    }
    /// Kinds read besides the targets (see [`Check::reads`]).
    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The kinds the rule's answer depends on: those its [`Target`] judges and those it
    /// [`Rule::reads`]. A type of these that could not be listed leaves the rule
    /// incomplete; an installed reader must list them.
    fn kinds_needed(&self) -> KindsNeeded {
        let mut kinds = self.reads().to_vec();
        let every_kind = match self.target() {
            Target::All => true,
            Target::Kinds(targets) => {
                kinds.extend_from_slice(targets);
                false
            }
            Target::PodSpec => {
                kinds.extend(palisade_inventory::podspec::pod_spec_kinds());
                kinds.extend(palisade_inventory::podspec::grouped_pod_spec_kinds());
                false
            }
            Target::Endpoint => {
                kinds.extend(palisade_inventory::podspec::pod_spec_kinds());
                false
            }
        };
        KindsNeeded { every_kind, kinds }
    }
    /// The settings the rule reads (see [`Check::settings`]).
    fn settings(&self) -> &'static [&'static crate::settings::Setting] {
        &[]
    }
    /// The models the rule reads (see [`Check::models`]).
    fn models(&self, _models: &mut Models) {}
    /// `None` when the rule runs in a scan; otherwise why it runs only when objects are judged
    /// one at a time against a prepared cluster (an admission webhook's): it judges what an
    /// object changes in the cluster, which a scan of objects together has no before of. A
    /// scan reports it in its coverage as skipped, with this reason.
    fn only_against_a_cluster(&self) -> Option<&'static str> {
        None
    }
    /// Whether the rule judges the object of a request that does not store it whole (at
    /// admission, `operation` is `DELETE`, the object being removed, `CONNECT`, the object
    /// being an exec's or port-forward's options, or the operation of a write to a
    /// subresource such as `scale`: see [`palisade_inventory::Object::storing_nothing`]).
    /// Only policies that ask for such requests do; a rule on what an object holds never
    /// refuses its removal, a connection to it, or a change of its replicas.
    fn judges_operation(&self, _operation: &str) -> bool {
        false
    }
    /// Whether a finding of this rule on a pod created in `namespace` is the cluster's
    /// admission refusing that pod: a policy the cluster enforces with `deny` at admission
    /// there. The escalation graph asks such rules which pods that would own their node they
    /// refuse ([`crate::refusals`]). Built-in rules are not the cluster's admission.
    fn refuses_at_admission(&self, _namespace: &str) -> Refusal {
        Refusal::No
    }
    /// Whether the rule judges a pod created in `namespace` (whose Namespace has `labels`, when
    /// it was read) and, past that, judges it as in any other namespace: then the probes of
    /// [`crate::refusals`] are judged once for all the namespaces every such rule treats alike.
    /// `None` (the default) when only judging the pod there can say: the rule's own code or
    /// parameters read the namespace, or it reads other objects.
    fn judges_pods_in(
        &self,
        _namespace: &str,
        _labels: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Option<bool> {
        None
    }
    /// The kinds `(group, kind)` of the objects besides Namespaces the rule reads when it judges a pod at admission (a ValidatingAdmissionPolicy's
    /// parameters): the probe pods of [`crate::refusals`] are judged with those only.
    fn reads_at_admission(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// What requests the rule judges, for what an admission webhook must be sent. By
    /// default its [`Target`]: the kinds it names, every kind that embeds a pod spec (for a
    /// pod spec rule, also those that embed several), or anything.
    fn judges(&self) -> Judges {
        match self.target() {
            Target::PodSpec => Judges::Kinds(
                palisade_inventory::podspec::pod_spec_kinds()
                    .chain(palisade_inventory::podspec::grouped_pod_spec_kinds())
                    .map(|(g, k)| (g.to_string(), k.to_string()))
                    .collect(),
            ),
            Target::Endpoint => Judges::Kinds(
                palisade_inventory::podspec::pod_spec_kinds()
                    .map(|(g, k)| (g.to_string(), k.to_string()))
                    .collect(),
            ),
            Target::Kinds(kinds) => Judges::Kinds(
                kinds
                    .iter()
                    .map(|(g, k)| (g.to_string(), k.to_string()))
                    .collect(),
            ),
            Target::All => Judges::Anything,
        }
    }
    /// Builds into `models` what the rule reads with [`Context::cluster_model`], when a
    /// cluster (`inventory`) is prepared to judge objects one at a time.
    fn prepare(&self, _inventory: &palisade_inventory::Inventory, _models: &ClusterModels) {}
}
