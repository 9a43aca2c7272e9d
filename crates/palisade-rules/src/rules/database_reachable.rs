use crate::context::Context;
use crate::rule::{Check, Target};
use crate::settings::Setting;
use palisade_net::Party;
use palisade_net::policy::Direction;

/// `[rules] database-tiers`: tier label values that mark a data store.
pub(crate) static DATABASE_TIERS: Setting = Setting {
    key: "database-tiers",
    help: "values of the `tier`, `app.kubernetes.io/component`, `component` or `role` label that mark a data store, besides database, db, datastore, cache and storage (NET013)",
    example: &["ledger"],
    parse: |entry| Ok(entry.trim().to_ascii_lowercase()),
};

/// `[rules] public-tiers`: tier label values of workloads that face users.
pub(crate) static PUBLIC_TIERS: Setting = Setting {
    key: "public-tiers",
    help: "tier label values of user-facing workloads that must not reach data stores directly, besides frontend, web, ui, public and edge (NET013)",
    example: &["portal"],
    parse: |entry| Ok(entry.trim().to_ascii_lowercase()),
};

const TIER_LABELS: &[&str] = &["tier", "app.kubernetes.io/component", "component", "role"];
const DATABASE_VALUES: &[&str] = &[
    "database",
    "db",
    "datastore",
    "data-store",
    "cache",
    "storage",
];
const PUBLIC_VALUES: &[&str] = &["frontend", "front-end", "web", "ui", "public", "edge"];

declare_rule! {
    /// ## What it checks
    /// Data-store workloads (a `tier`, `app.kubernetes.io/component`, `component` or `role`
    /// label of `database`, `db`, `datastore`, `cache` or `storage`, or a value listed in
    /// `[rules] database-tiers`) that the network engine lets in from outside their tier's
    /// clients: from internet addresses, from the ingress controller, or from user-facing
    /// workloads (the same labels with `frontend`, `web`, `ui`, `public`, `edge`, or
    /// `[rules] public-tiers`). Every policy layer counts (AdminNetworkPolicies,
    /// NetworkPolicies, the baseline). Where the engine's answer is not final (a selector of
    /// labels the input does not give: a namespace with no Namespace object, where the ingress
    /// controller runs; a policy it does not evaluate) and nothing else reaches the data
    /// store, the workload is not assessed, never passed.
    ///
    /// ## Why it matters
    /// Tiers exist so that a compromised web front end cannot talk to the database directly;
    /// the seed's "inadequate network segmentation between application tiers". When the
    /// policies let the front tier (or the internet) reach the data tier, one exploited
    /// request handler reads the data store (MITRE ATT&CK T1210, T1190).
    ///
    /// ## Severity
    /// High: the data tier is one hop from the users.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: StatefulSet
    /// metadata: {name: db}
    /// spec:
    ///   template:
    ///     metadata: {labels: {tier: database}}   # and no ingress policy
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {tier: database}}
    ///   ingress:
    ///   - from: [{podSelector: {matchLabels: {tier: backend}}}]
    ///     ports: [{port: 5432}]
    /// ```
    ///
    /// ## Remediation
    /// Give the data store an ingress policy that admits only its backend tier on its port;
    /// `palisade net why FRONTEND DB 5432/TCP` names the rule that lets the connection through.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    /// - MITRE ATT&CK T1210, Exploitation of Remote Services
    pub struct DatabaseReachable {
        id: "NET013",
        slug: "database-tier-reachable",
        title: "Data tier is reachable from outside its clients",
        severity: High,
        target: Target::Endpoint,
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1210",
            MitreAttack "T1190",
        ],
        remediation: "Admit only the backend tier, on the data store's port, with an ingress NetworkPolicy.",
    }
}

fn tier_in(
    labels: &serde_json::Map<String, serde_json::Value>,
    values: &[&str],
    extra: &[String],
) -> bool {
    TIER_LABELS.iter().any(|key| {
        labels
            .get(*key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_ascii_lowercase)
            .is_some_and(|v| values.contains(&v.as_str()) || extra.contains(&v))
    })
}

impl Check for DatabaseReachable {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn settings(&self) -> &'static [&'static Setting] {
        static SETTINGS: &[&Setting] = &[&DATABASE_TIERS, &PUBLIC_TIERS];
        SETTINGS
    }

    fn reads(&self) -> &'static [(&'static str, &'static str)] {
        palisade_net::READS
    }

    fn check(&self, cx: &mut Context<'_>) {
        let facts = crate::network::facts(cx);
        let Some(endpoint) = facts.endpoint(cx) else {
            return;
        };
        let network = facts.network();
        let e = &network.endpoints[endpoint];
        if !tier_in(
            &e.labels,
            DATABASE_VALUES,
            cx.settings.list(&DATABASE_TIERS),
        ) {
            return;
        }
        let engine = &facts.engine;
        let mut from = Vec::new();
        // Sources that reach it only in an answer that is not final (a selector of labels the
        // input does not give): not a finding, not a pass either.
        let mut maybe: Vec<String> = Vec::new();
        let reaches = |source: Party, name: String, from: &mut Vec<String>, maybe: &mut Vec<_>| {
            let verdict = engine.verdict(source, Party::Pod(endpoint), None);
            if !verdict.conn.is_empty() {
                from.push(name);
            } else if !verdict.not_evaluated.is_empty() {
                maybe.push(name);
            }
        };
        if facts.isolated_by[endpoint][Direction::Ingress as usize].is_empty() {
            let ns = e.namespace.clone();
            if cx.absence_unknown(&format!("the NetworkPolicies of namespace {ns}")) {
                return;
            }
            from.push("every pod and address (no ingress policy selects it)".to_string());
        } else {
            let internet = crate::network::internet();
            if let Some(range) = engine.atoms().iter().copied().find(|&a| {
                let inside = palisade_net::addr::AddrSet::of_range(a);
                inside.subtract(&internet) != inside
                    && !engine
                        .verdict(Party::Addr(a), Party::Pod(endpoint), None)
                        .conn
                        .is_empty()
            }) {
                from.push(format!("internet addresses ({range})"));
            }
            if network.ingress.contains_key(&endpoint) {
                let name = "the ingress controller".to_string();
                reaches(Party::IngressController, name, &mut from, &mut maybe);
            }
            let public = cx.settings.list(&PUBLIC_TIERS);
            for (s, source) in network.endpoints.iter().enumerate() {
                if s != endpoint && tier_in(&source.labels, PUBLIC_VALUES, public) {
                    let name = format!("user-facing {}", source.id());
                    reaches(Party::Pod(s), name, &mut from, &mut maybe);
                }
            }
        }
        if from.is_empty() && !maybe.is_empty() {
            cx.not_assessed(format!(
                "whether {} can reach this data store depends on what the input does not give (where the ingress controller runs, or the labels of a namespace with no Namespace object: `palisade net why` names it)",
                maybe.join(", ")
            ));
        }
        if !from.is_empty() {
            // The pod template judged, when the object has several (a Ray worker group).
            let store = match e.template {
                Some(_) => format!("this data store ({})", facts.pods(endpoint)),
                None => "this data store".to_string(),
            };
            cx.report(
                cx.pod_metadata_field("labels"),
                format!("{store} can be reached from {}", from.join(", ")),
            );
        }
    }
}
