use palisade_core::tree::Tree;

use super::stored::{collect_written, stored_in};
use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger, is_control_plane};
use crate::state::{State, StoredObject};

const KEEP: &[&str] = &["create", "delete"];
const CHANGE: &[&str] = &["update", "patch"];

crate::detection! {
    /// ## What it checks
    /// A container or init container added to the pod template of an existing Deployment,
    /// DaemonSet, StatefulSet, ReplicaSet, ReplicationController or CronJob by anyone other
    /// than the control plane (a Job's template cannot change). Read two ways:
    /// - a JSON patch that adds a whole container (`op: add` at
    ///   `/spec/template/spec/containers/-`, or at an index; a CronJob's template is under
    ///   `/spec/jobTemplate/spec`), as `kubectl patch --type=json` sends it;
    /// - any patch or update whose stored object (the response, at the `RequestResponse`
    ///   level, or a full update's request) has a container the log last showed stored for
    ///   that workload did not have (the response of its `create` or of a later write, same
    ///   uid). A workload the log never showed stored is judged by the first way only.
    ///
    /// Image changes of existing containers (every rollout) are not reported; refused
    /// requests and dry runs (`?dryRun=All`) change nothing and are not reported either. Up
    /// to 100,000 workloads are remembered, the longest-stored forgotten first.
    ///
    /// ## Why it matters
    /// A sidecar slipped into a reviewed workload runs any image next to the application, in
    /// its network namespace, with its service account and its volumes: it sees the
    /// application's traffic and secrets, and every new pod of the workload runs it. The
    /// workload keeps its name and its place behind its Services (MITRE ATT&CK T1609, T1610).
    ///
    /// ## Response
    /// Compare the template with version control; remove a container nobody asked for, and
    /// find how the writer got `patch` or `update` on the workload.
    ///
    /// ## Sigma equivalent
    /// `Potential Sidecar Injection Into Running Deployment` (which matches every patch of a
    /// Deployment; this reads what the patch adds).
    pub static CONTAINER_ADDED_TO_WORKLOAD {
        id: "AUD044",
        slug: "container-added-to-workload",
        title: "Container added to a running workload's pod template",
        severity: Medium,
        mitre: ["T1609", "T1610"],
        remediation: "Remove the added container unless its owner confirms it; change templates through the pipeline only.",
        // A change is compared with the template as last stored, which only responses show
        // (a JSON patch says what it adds); a creation or a deletion keeps that up to date.
        triggers: [
            Trigger::on(KEEP, "deployments"),
            change("deployments"),
            Trigger::on(KEEP, "daemonsets"),
            change("daemonsets"),
            Trigger::on(KEEP, "statefulsets"),
            change("statefulsets"),
            Trigger::on(KEEP, "replicasets"),
            change("replicasets"),
            Trigger::on(KEEP, "replicationcontrollers"),
            change("replicationcontrollers"),
            Trigger::on(KEEP, "cronjobs"),
            change("cronjobs"),
        ],
        check: crate::detection::Check::Stream(check),
    }
}

/// An update or patch of `resource`'s template, compared with the template as last stored
/// (which only responses show), unless a JSON patch says what it adds.
const fn change(resource: &'static str) -> Trigger {
    Trigger::on(CHANGE, resource)
        .reading(Level::RequestResponse)
        .reading_json_patches(Level::Request)
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let event = cx.event;
    if event.refused() || cx.dry_run() {
        return Vec::new();
    }
    let resource = event.resource();
    // Where this kind keeps its pod template's spec.
    let Some(spec) = palisade_k8s::builtin_resource(event.api_group(), resource)
        .and_then(|(group, kind)| palisade_inventory::podspec::pod_spec_pointer(group, kind))
    else {
        return Vec::new();
    };
    let key = |namespaced: &str| format!("{resource}/{namespaced}");
    if event.verb() == "delete" {
        let name = format!(
            "{}/{}",
            event.namespace().unwrap_or_default(),
            event.name().unwrap_or_default()
        );
        state.workloads.forget(&key(&name));
        return Vec::new();
    }
    let stored = stored(cx, spec).map(|(name, object)| (key(&name), object));
    let mut added = match event.verb() {
        "patch" => cx
            .request()
            .map(|body| added_by_json_patch(body, spec))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if event.verb() != "create"
        && let Some((key, now)) = &stored
        && let Some(before) = state.workloads.get(key).filter(|b| b.uid == now.uid)
    {
        for (container, image) in &now.images {
            let new = !before.images.iter().any(|(c, _)| c == container);
            if new && !added.iter().any(|(c, _)| c == container) {
                added.push((container.clone(), image.clone()));
            }
        }
    }
    if let Some((key, now)) = stored {
        state.workloads.store(&key, now);
    }
    if added.is_empty() || is_control_plane(event.user()) {
        return Vec::new();
    }
    let listed: Vec<String> = added
        .iter()
        .map(|(container, image)| format!("{container} ({image})"))
        .collect();
    vec![
        Hit::new(format!(
            "{} added {} to the pod template of {} {}",
            cx.actor(),
            listed.join(", "),
            cx.kind(),
            cx.target()
        ))
        .with("containers", listed.join(", ")),
    ]
}

/// The workload a write stores, by `namespace/name`: the response object, else the object a
/// create or a full update sends.
fn stored(cx: &Cx, spec: &str) -> Option<(String, StoredObject)> {
    let full_request = || {
        cx.request()
            .filter(|_| matches!(cx.event.verb(), "create" | "update"))
    };
    let object = cx.response().or_else(full_request)?;
    stored_in(object, spec)
}

/// The containers a JSON patch adds whole (`add` at a list's index or at its end) to the pod
/// spec at `spec`, with their images.
fn added_by_json_patch(body: &Body, spec: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for operation in body.items().unwrap_or_default() {
        let op = operation.get("op").and_then(Tree::as_str);
        let path = operation.get("path").and_then(Tree::as_str).unwrap_or("");
        let whole_container = path
            .strip_prefix(spec)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| rest.split('/').count() == 2);
        if op == Some("add")
            && whole_container
            && let Some(value) = operation.get("value")
        {
            collect_written(spec, path, value, &mut out);
        }
    }
    out
}
