use palisade_core::Severity;
use palisade_core::tree::Tree;
use palisade_rbac::external_secrets::{
    GROUP, Openness, kubernetes_namespace, open_to_every_namespace,
};

use crate::detection::{Cx, Hit, Trigger, is_control_plane, past};

const CHANGE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

crate::detection! {
    /// ## What it checks
    /// A secret store of the External Secrets Operator created, changed or deleted outside
    /// the control plane: `ClusterSecretStore`s, `SecretStore`s and the
    /// `ClusterExternalSecret`s that make ExternalSecrets in many namespaces. Status updates
    /// (the operator's own bookkeeping), refused requests and dry runs are not reported.
    /// When the request body is logged (level `Request` or more), a ClusterSecretStore that
    /// ExternalSecrets of every namespace may use (no `spec.conditions`, or one that takes
    /// every namespace, as SEC024 judges it) is high, and a store of the `kubernetes`
    /// provider says which namespace's Secrets it reads; without the body, the alert says
    /// that this could not be judged.
    ///
    /// ## Why it matters
    /// A store holds the credentials of a secret backend (a Vault role, a cloud secret
    /// manager, an account that reads another namespace's Secrets). Whoever changes it
    /// decides who may read through it: conditions removed open it to every namespace's
    /// ExternalSecrets, a provider pointed at the attacker's own backend feeds workloads
    /// their values, and a ClusterExternalSecret copies a secret into every namespace it
    /// selects (MITRE ATT&CK T1552, Unsecured Credentials; T1098, Account Manipulation).
    ///
    /// ## Response
    /// Confirm the change with the store's owner and compare it with version control; keep
    /// write access to the operator's stores to the platform team and its pipeline (add the
    /// pipeline's identity to `allowed_users` if its changes are expected), and name the
    /// namespaces that may use each ClusterSecretStore in its `spec.conditions`.
    pub static SECRET_STORE_CHANGED {
        id: "AUD054",
        slug: "secret-store-changed",
        title: "External secret store created, changed or deleted",
        severity: Medium,
        mitre: ["T1552", "T1098"],
        remediation: "Revert unexpected store changes; manage stores through reviewed GitOps changes and name the namespaces that may use each ClusterSecretStore.",
        triggers: [
            Trigger::on(CHANGE, "clustersecretstores").in_api_group(GROUP, false),
            Trigger::on(CHANGE, "secretstores").in_api_group(GROUP, true),
            Trigger::on(CHANGE, "clusterexternalsecrets").in_api_group(GROUP, false),
        ],
        check: crate::detection::Check::Request(check),
    }
}

fn check(cx: &Cx) -> Vec<Hit> {
    let event = cx.event;
    if event.api_group() != GROUP
        || !CHANGE.contains(&event.verb())
        || !event.subresource().is_empty()
        || event.refused()
        || cx.dry_run()
        || is_control_plane(event.user())
    {
        return Vec::new();
    }
    let kind = match event.resource() {
        "clustersecretstores" => "ClusterSecretStore",
        "secretstores" => "SecretStore",
        "clusterexternalsecrets" => "ClusterExternalSecret",
        _ => return Vec::new(),
    };
    let done = format!(
        "{} {} {kind} {}",
        cx.actor(),
        past(event.verb()),
        cx.target()
    );
    let Some(judged) = judged(cx, kind) else {
        return vec![Hit::new(done)];
    };
    let mut said = Vec::new();
    if let Some(open) = &judged.open {
        said.push(format!(
            "ExternalSecrets of every namespace may use it ({open})"
        ));
    }
    if let Some(reads) = &judged.reads {
        said.push(format!("it reads the Secrets of namespace {reads}"));
    }
    let message = match said.is_empty() {
        true => done,
        false => format!("{done}: {}", said.join("; ")),
    };
    let mut hit = Hit::new(message);
    if let Some(reads) = judged.reads {
        hit = hit.with("reads_secrets_of", reads);
    }
    if let Some(open) = judged.open {
        hit = hit
            .with("open_to_every_namespace", open)
            .severity(Severity::High);
    }
    if let Some(note) = judged.note {
        hit = hit.with("note", note);
    }
    vec![hit]
}

/// What the request body says of a store.
struct Judged {
    /// Why ExternalSecrets of every namespace may use it.
    open: Option<String>,
    /// The namespace whose Secrets its Kubernetes provider reads.
    reads: Option<String>,
    /// What could not be judged.
    note: Option<String>,
}

/// The store as a create or a full update sends it, or as stored after a patch; `None` for a
/// deletion and a ClusterExternalSecret, which have nothing more to say.
fn judged(cx: &Cx, kind: &str) -> Option<Judged> {
    let verb = cx.event.verb();
    if !matches!(verb, "create" | "update" | "patch") || kind == "ClusterExternalSecret" {
        return None;
    }
    let full_request = || cx.request().filter(|_| verb != "patch");
    let Some(store) = cx
        .response()
        .filter(|b| b.get("spec").is_some())
        .or_else(full_request)
    else {
        return Some(Judged {
            open: None,
            reads: None,
            note: Some(
                "the store itself was not logged (level Request or RequestResponse): who may use it and what it reads were not judged".to_string(),
            ),
        });
    };
    let value = store.to_value();
    let open = match (kind, open_to_every_namespace(&value)) {
        ("ClusterSecretStore", Openness::NoConditions) => {
            Some("it has no spec.conditions naming the namespaces that may use it".to_string())
        }
        ("ClusterSecretStore", Openness::Open(open)) => Some(open.why),
        _ => None,
    };
    let reads = kubernetes_namespace(&value).map(str::to_string);
    Some(Judged {
        open,
        reads,
        note: None,
    })
}
