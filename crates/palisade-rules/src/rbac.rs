//! What the RBAC rules share: the policy and escalation graph of the inventory (built once per
//! evaluation), and the reporting of a risky primitive on the binding that grants it.

use std::sync::Arc;

use palisade_core::JsonPointer;
use palisade_graph::{Goal, Graph, Toward};
use palisade_inventory::Inventory;
use palisade_rbac::Policy;
use palisade_rbac::builtin::is_default_grant;
use palisade_rbac::model::Grants;
use palisade_rbac::model::{Binding, display_ns};

use crate::context::{Context, Derived, Sees};

/// The RBAC model of one inventory.
pub struct RbacModel {
    pub policy: Policy,
    pub graph: Graph,
    /// Shortest first steps toward cluster-admin, for every node.
    pub toward_admin: Toward,
    /// The grants that let their subjects write the EKS `aws-auth` ConfigMap, with the verb.
    pub aws_auth_writers: Vec<(palisade_rbac::authorizer::Grant, &'static str)>,
    /// Whether the inventory holds the `aws-auth` ConfigMap.
    pub has_aws_auth: bool,
}

/// The escalation graph's exposure edges of a cluster prepared for admission
/// (`palisade_rbac::graph::exposure`), lent to an evaluation whose judged object they never
/// read ([`crate::unseen::is_unseen_by_exposure`]): a binding rebuilds the graph from them
/// rather than find again what every exposed workload may reach.
struct Exposure(Graph);

fn exposure(inventory: &Inventory, derived: &Derived) -> Exposure {
    let policy = Policy::with_grants(
        inventory,
        Arc::clone(&derived.get_or_build(inventory, grants).0),
    );
    Exposure(palisade_rbac::graph::exposure(&policy, inventory, &|| {
        crate::network::placed(inventory, derived)
    }))
}

/// The grants of an inventory (roles, bindings, ServiceAccounts), a model of their own so that
/// a cluster prepared for admission reads them once (see [`crate::context::Models::keep`]).
struct ClusterGrants(Arc<Grants>);

fn grants(inventory: &Inventory) -> ClusterGrants {
    ClusterGrants(Arc::new(Grants::from_inventory(inventory)))
}

/// The policy of a cluster prepared for admission and how many objects it was read from,
/// lent to an evaluation whose judged objects are each one the escalation model never reads,
/// or a new lone endpoint placed after the cluster's objects (a standalone Pod, a new
/// Deployment: no RBAC object, so the grants are the cluster's): its policy is the
/// cluster's with their workloads added (`Policy::with_new_workload`).
struct PolicyBase {
    policy: Policy,
    objects: usize,
}

fn policy_base(inventory: &Inventory, derived: &Derived) -> PolicyBase {
    PolicyBase {
        policy: derived.get_or_build_from(inventory, build).policy.clone(),
        objects: inventory.objects.len(),
    }
}

/// Whether the object at `index` leaves the cluster's [`PolicyBase`] a base of the policy.
fn unseen_by_policy_base(inventory: &Inventory, models: &Derived, index: usize) -> bool {
    crate::unseen::is_unseen_by_escalation(inventory, index, || {
        crate::network::stands_apart(inventory, models, index)
    }) || crate::unseen::is_new_lone_endpoint(
        inventory,
        index,
        models.get::<PolicyBase>().map(|base| base.objects),
    )
}

fn build(inventory: &Inventory, derived: &Derived) -> RbacModel {
    let grants = derived.get_or_build(inventory, grants);
    let lent = derived.get::<PolicyBase>();
    let policy = lent
        .as_deref()
        .and_then(|base| {
            crate::unseen::extend_by_new_lone_endpoints(
                &base.policy,
                base.objects,
                inventory,
                |policy, index| policy.with_new_workload(inventory, index),
            )
        })
        .unwrap_or_else(|| Policy::with_grants(inventory, Arc::clone(&grants.0)));
    // The exposure edges lent by the cluster, or found with the network engine the network
    // rules read too (built once for both).
    let exposure = match derived.get::<Exposure>() {
        Some(lent) => lent.0.clone(),
        None => palisade_rbac::graph::exposure(&policy, inventory, &|| {
            crate::network::placed(inventory, derived)
        }),
    };
    // The cluster's admission policies, asked what they refuse of pods that would own their
    // node, when the run has policies (`crate::refusals`).
    let asker = derived.get::<crate::refusals::PolicyAsker>();
    let asker = asker
        .as_deref()
        .map(|a| a as &dyn palisade_rbac::graph::AdmissionAsker);
    let graph = palisade_rbac::graph::build_on(exposure, &policy, inventory, &[], asker);
    let toward_admin = graph.toward(Goal::ClusterAdmin);
    let aws_auth_writers = palisade_rbac::graph::aws_auth_writers(&policy);
    RbacModel {
        policy,
        graph,
        toward_admin,
        aws_auth_writers,
        has_aws_auth: palisade_rbac::graph::has_aws_auth(inventory),
    }
}

/// The workloads of a cluster from which a chain of steps reaches cluster-admin, by kind,
/// namespace, name and pod template (of a kind with several): what an object judged at admission is compared with (RBAC021), the
/// cluster's before it is placed in it against the evaluation's with it.
#[derive(Debug, Default)]
pub struct AdminReach(std::collections::HashSet<WorkloadKey>);

/// A workload's kind, namespace, name and template (its pod spec's pointer).
type WorkloadKey = (String, String, String, Option<String>);

fn workload_key(workload: &palisade_rbac::model::Workload) -> WorkloadKey {
    (
        workload.kind.clone(),
        workload.namespace.clone(),
        workload.name.clone(),
        workload.template.as_ref().map(|t| t.spec.clone()),
    )
}

impl AdminReach {
    /// The workloads of `model` that reach cluster-admin.
    pub fn of(model: &RbacModel) -> AdminReach {
        let reaching: Vec<usize> = AdminReach::reaching(model).collect();
        AdminReach::of_workloads(model, &reaching)
    }

    /// The workloads at `reaching` of `model` ([`AdminReach::reaching`], found already).
    pub fn of_workloads(model: &RbacModel, reaching: &[usize]) -> AdminReach {
        AdminReach(
            reaching
                .iter()
                .map(|&w| workload_key(&model.policy.workloads[w]))
                .collect(),
        )
    }

    /// The indices of `model`'s workloads (`model.policy.workloads`) that reach
    /// cluster-admin.
    pub fn reaching(model: &RbacModel) -> impl Iterator<Item = usize> + '_ {
        (0..model.policy.workloads.len()).filter(|&w| {
            let node = palisade_rbac::graph::workload_node(&model.policy, w);
            model.graph.leads_to(&model.toward_admin, &node)
        })
    }

    /// Whether `workload` is one of them.
    pub fn holds(&self, workload: &palisade_rbac::model::Workload) -> bool {
        self.0.contains(&workload_key(workload))
    }

    /// How many workloads reach cluster-admin.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The workloads of `inventory` (a cluster prepared for admission, before an object judged
/// against it is placed) that reach cluster-admin, the escalation model built with the
/// models `lent` holds (the cluster's kept models that are still its own).
pub(crate) fn admin_reach_of(inventory: &Inventory, lent: &Derived) -> AdminReach {
    AdminReach::of(&lent.get_or_build_from(inventory, build))
}

/// A workload's chain to cluster-admin (`path`, from `node`) as a finding's evidence: the
/// step from the internet first when the workload is exposed, then each step with its
/// evidence.
pub fn chain_steps(
    model: &RbacModel,
    node: &palisade_graph::Node,
    path: &palisade_graph::Path,
) -> Vec<palisade_core::Step> {
    let mut steps = Vec::new();
    if let Some(how) = model.graph.exposure(node) {
        steps.push(palisade_core::Step {
            from: palisade_graph::Node::Internet.to_string(),
            to: node.to_string(),
            relation: how.to_string(),
        });
    }
    let mut from = path.from.to_string();
    for step in &path.steps {
        let to = step.to.to_string();
        steps.push(palisade_core::Step {
            from: std::mem::replace(&mut from, to.clone()),
            to,
            relation: step.evidence.clone(),
        });
    }
    steps
}

/// Asks for the model ahead of a scan (for the rules that read it).
pub fn ask(models: &mut crate::context::Models) {
    models.keep(grants, Sees::Kinds(Grants::READS));
    // Before the model, which a cluster prepared for admission then builds from them.
    models.keep_from(
        exposure,
        Sees::AllBut(|inventory, models, index| {
            crate::unseen::is_unseen_by_exposure(inventory, index, || {
                crate::network::stands_apart(inventory, models, index)
            })
        }),
    );
    models.keep_from(
        build,
        Sees::AllBut(|inventory, models, index| {
            crate::unseen::is_unseen_by_escalation(inventory, index, || {
                crate::network::stands_apart(inventory, models, index)
            })
        }),
    );
    // After the model, whose policy it is.
    models.keep_from(policy_base, Sees::AllBut(unseen_by_policy_base));
    models.add_from(build);
}

/// The model, built on first use in this evaluation.
pub fn model(cx: &Context<'_>) -> Arc<RbacModel> {
    cx.derived_from(build)
}

/// The model and the index of the binding read from the object under evaluation.
pub fn binding_of(cx: &Context<'_>) -> Option<(Arc<RbacModel>, usize)> {
    let model = model(cx);
    let index = binding_index(cx, &model)?;
    Some((model, index))
}

/// The binding read from the object under evaluation.
pub fn binding_index(cx: &Context<'_>, model: &RbacModel) -> Option<usize> {
    model.policy.binding_of_object(cx.object_index)
}

/// The subjects of `binding` whose grant is not the control plane's own
/// ([`is_default_grant`]), for findings and messages.
pub fn reported_subjects(binding: &Binding) -> Vec<String> {
    binding
        .subjects
        .iter()
        .filter(|s| !is_default_grant(binding, s))
        .map(ToString::to_string)
        .collect()
}

/// `in namespace X` or `cluster-wide`.
pub fn scope(binding: &Binding) -> String {
    match &binding.namespace {
        Some(ns) => format!("in namespace {}", display_ns(ns)),
        None => "cluster-wide".to_string(),
    }
}

/// Reports, on the binding under evaluation, each primitive of `ids` it grants to
/// non-control-plane subjects, unless the binding grants full control (RBAC001 reports that).
pub fn report_primitives(cx: &mut Context<'_>, ids: &[&str]) {
    report_primitives_at(cx, ids, |_| None);
}

/// The binding under evaluation and the subjects a finding on it names, when a rule about
/// what it grants should look at it: not when it grants full control (RBAC001 is that one
/// finding, with the controls of every primitive it includes), not when only the control
/// plane's own grants are in it.
pub fn reportable_binding(cx: &Context<'_>) -> Option<(Arc<RbacModel>, usize, Vec<String>)> {
    let (model, index) = binding_of(cx)?;
    let binding = &model.policy.bindings[index];
    if model.policy.grants_everything(binding) {
        return None;
    }
    let subjects = reported_subjects(binding);
    (!subjects.is_empty()).then_some((model, index, subjects))
}

/// [`report_primitives`], with a severity of its own for some primitives (`None`: the
/// rule's). A primitive reported at its own severity is kept apart by its id (a
/// discriminator), so it never shares a fingerprint with the rule's other findings.
pub fn report_primitives_at(
    cx: &mut Context<'_>,
    ids: &[&str],
    severity_of: impl Fn(&str) -> Option<palisade_core::Severity>,
) {
    let Some((model, index, subjects)) = reportable_binding(cx) else {
        return;
    };
    let binding = &model.policy.bindings[index];
    let Some(role) = model.policy.role_of(binding) else {
        return;
    };
    // Every RBAC rule asks about the same binding in turn: its primitives are found once, with
    // the grants.
    for held in model.policy.held_by(index) {
        if !ids.contains(&held.primitive.id) {
            continue;
        }
        let rules: Vec<String> = held
            .rules
            .iter()
            .map(|r| format!("rule {} ({})", r + 1, role.rules[*r].describe()))
            .collect();
        let mut reported = crate::context::Reported::new(
            JsonPointer::root().join("roleRef").join("name"),
            format!(
                "{} can {} {} through {} {}",
                subjects.join(", "),
                held.does(),
                scope(binding),
                role.describe(),
                rules.join(" and ")
            ),
        );
        if let Some(severity) = severity_of(held.primitive.id) {
            reported.severity = Some(severity);
            reported.discriminator = Some(held.primitive.id.to_string());
        } else if ids.first() != Some(&held.primitive.id) {
            // A rule's second primitive on the same binding is a finding of its own.
            reported.discriminator = Some(held.primitive.id.to_string());
        }
        cx.report_with(reported);
    }
}

/// The kinds RBAC binding rules target.
pub const BINDINGS: &[(&str, &str)] = &[
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
];

/// The kinds RBAC binding rules read besides the bindings.
pub const ROLES: &[(&str, &str)] = &[
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
];

/// The kinds the RBAC authorizer decides from (roles and bindings).
pub const AUTHORIZER_INPUTS: &[(&str, &str)] = palisade_rbac::model::AUTHORIZATION_KINDS;

/// The kinds the escalation graph is built from: the RBAC policy, the accounts and their
/// token Secrets, the External Secrets Operator's stores, and the network it asks where an
/// exposed workload leads ([`palisade_net::READS`]).
pub fn graph_inputs() -> &'static [(&'static str, &'static str)] {
    static INPUTS: std::sync::LazyLock<Vec<(&str, &str)>> = std::sync::LazyLock::new(|| {
        let mut inputs = Grants::READS.to_vec();
        inputs.push(("", "Secret"));
        inputs.extend_from_slice(palisade_rbac::external_secrets::READS);
        for kind in palisade_net::READS {
            if !inputs.contains(kind) {
                inputs.push(*kind);
            }
        }
        inputs
    });
    &INPUTS
}
