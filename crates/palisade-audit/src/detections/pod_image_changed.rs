use palisade_core::tree::Tree;

use serde::Deserialize;

use super::stored::{collect_written, container_name, stored_in};
use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger};
use crate::event::Str;
use crate::state::{State, StoredObject};

crate::detection! {
    /// ## What it checks
    /// A running pod's container image changed in place: a `patch` of a pod (not of a
    /// subresource) that sets a container's or init container's `image`, as
    /// `kubectl set image pod/...` and `kubectl edit pod` send it (a strategic-merge or merge
    /// patch of `spec.containers`), or a JSON patch of `/spec/containers/N/image` (or of a
    /// whole container). A full `update` of a pod (`kubectl replace`, a client's `Update`)
    /// carries every image, changed or not: it is reported when its response object (the
    /// `RequestResponse` level) stores another image for a container than the log last showed
    /// stored for that pod (the response of its `create`, or of a later write, with the same
    /// uid). Stored objects are compared, so a mutating webhook that rewrites images is not
    /// mistaken for a change; an update of a pod the log never showed stored, or a dry run
    /// (`?dryRun=All`, which stores nothing), is not judged.
    /// Up to 100,000 pods are remembered, the longest-stored forgotten first.
    ///
    /// ## Why it matters
    /// A container's image is one of the few fields of a running pod that can be changed: the
    /// kubelet restarts the container with the new image, the pod keeps its name, labels,
    /// service account and place behind its Services, and its controller (which only counts
    /// pods) does not undo it. It swaps the code of a reviewed workload without touching the
    /// workload (MITRE ATT&CK T1525, Implant Internal Image; T1036, Masquerading). Rollouts
    /// change the controller's template instead, which makes new pods.
    ///
    /// ## Response
    /// Confirm the change with the pod's owner; delete the pod so that its controller
    /// recreates it from the template, and restrict `patch` on pods. `palisade scan --cluster`
    /// reports such pods as POD038.
    ///
    /// ## Falco equivalent
    /// None: Falco's audit rules do not read pod patches.
    pub static POD_IMAGE_CHANGED {
        id: "AUD040",
        slug: "pod-image-changed",
        title: "Container image of a running pod changed",
        severity: High,
        mitre: ["T1525", "T1036"],
        remediation: "Delete the pod so that its controller recreates it; change images through the template; restrict patch on pods.",
        triggers: [
            // A creation and a deletion only keep the stored images up to date; a patch is
            // judged by what it writes, a full update against the pod as last stored.
            Trigger::on(&["create", "delete"], "pods"),
            Trigger::on(&["patch"], "pods").reading(Level::Request),
            Trigger::on(&["update"], "pods").reading(Level::RequestResponse),
        ],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    if cx.event.refused() {
        return Vec::new();
    }
    // A dry run stores nothing; a deletion's response is the pod it deleted.
    let stored = (cx.event.verb() != "delete" && !cx.dry_run())
        .then(|| stored(cx))
        .flatten();
    let hits = match cx.event.verb() {
        "patch" => patched(cx),
        "update" => stored
            .as_ref()
            .map(|(key, now)| updated(cx, state.pods.get(key), now))
            .unwrap_or_default(),
        "delete" => {
            let key = format!(
                "{}/{}",
                cx.event.namespace().unwrap_or_default(),
                cx.event.name().unwrap_or_default()
            );
            state.pods.forget(&key);
            return Vec::new();
        }
        _ => Vec::new(),
    };
    if let Some((key, now)) = stored {
        state.pods.store(&key, now);
    }
    hits
}

/// The pod a write's response object stores, by `namespace/name`: read for what it is needed
/// ([`stored_view`]), else from the response's tree.
fn stored(cx: &Cx) -> Option<(String, StoredObject)> {
    cx.event
        .response_object
        .and_then(|raw| stored_view(raw.get()))
        .or_else(|| stored_in(cx.response()?, "/spec"))
}

/// [`stored_in`] (at `/spec`) read from the text without building the rest of the pod (a
/// stored pod's spec carries every default the API server fills in): `None`, for the tree to
/// answer, unless the pod has a name and a spec and is read without doubt (no repeated key, no
/// field of another type).
fn stored_view(text: &str) -> Option<(String, StoredObject)> {
    #[derive(Deserialize)]
    struct Pod<'a> {
        #[serde(borrow, default)]
        metadata: Option<Metadata<'a>>,
        #[serde(borrow, default)]
        spec: Option<Spec<'a>>,
    }
    #[derive(Deserialize)]
    struct Metadata<'a> {
        #[serde(borrow, default)]
        name: Option<Str<'a>>,
        #[serde(borrow, default)]
        namespace: Option<Str<'a>>,
        #[serde(borrow, default)]
        uid: Option<Str<'a>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec<'a> {
        #[serde(borrow, default)]
        containers: Option<Vec<Container<'a>>>,
        #[serde(borrow, default)]
        init_containers: Option<Vec<Container<'a>>>,
    }
    #[derive(Deserialize)]
    struct Container<'a> {
        #[serde(borrow, default)]
        name: Option<Str<'a>>,
        #[serde(borrow, default)]
        image: Option<Str<'a>>,
    }
    let pod: Pod = serde_json::from_str(text).ok()?;
    let metadata = pod.metadata?;
    let spec = pod.spec?;
    let key = format!(
        "{}/{}",
        metadata.namespace.as_deref().unwrap_or_default(),
        metadata.name.as_deref()?
    );
    let mut images = Vec::new();
    for (noun, list) in [
        ("container", spec.containers),
        ("init container", spec.init_containers),
    ] {
        for (index, container) in list.into_iter().flatten().enumerate() {
            if let Some(image) = container.image {
                let name = container_name(&index.to_string(), container.name.as_deref());
                images.push((format!("{noun} {name}"), image.to_string()));
            }
        }
    }
    let uid = metadata.uid.as_deref().unwrap_or_default().to_string();
    Some((key, StoredObject { uid, images }))
}

/// A full update whose stored pod runs another image in a container than `before`, the
/// same pod as the log last showed it stored.
fn updated(cx: &Cx, before: Option<&StoredObject>, now: &StoredObject) -> Vec<Hit> {
    let Some(before) = before.filter(|b| b.uid == now.uid) else {
        return Vec::new();
    };
    let changed: Vec<String> = now
        .images
        .iter()
        .filter_map(|(container, image)| {
            let (_, was) = before.images.iter().find(|(c, _)| c == container)?;
            (was != image).then(|| format!("{container} from {was} to {image}"))
        })
        .collect();
    changed_images(cx, " with a full update", &changed)
}

/// The alert for `changes` to the images of the pod (`container "web" to ...`), made by
/// `how` (a full update, or a patch when empty).
fn changed_images(cx: &Cx, how: &str, changes: &[String]) -> Vec<Hit> {
    if changes.is_empty() {
        return Vec::new();
    }
    let listed = changes.join(", ");
    vec![
        Hit::new(format!(
            "{} changed the image of pod {} in place{how}: {listed}",
            cx.actor(),
            cx.target(),
        ))
        .with("images", listed),
    ]
}

/// A patch that sets images.
fn patched(cx: &Cx) -> Vec<Hit> {
    let Some(body) = cx.request() else {
        return Vec::new();
    };
    let listed: Vec<String> = images_set(body)
        .iter()
        .map(|(container, image)| format!("{container} to {image}"))
        .collect();
    changed_images(cx, "", &listed)
}

/// The containers whose image a patch body sets, with the image: `container "web"` (or
/// `container #0` when it is named by position only).
fn images_set(body: &Body) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // A JSON patch: a list of operations.
    if let Some(operations) = body.items() {
        for operation in operations {
            let op = operation.get("op").and_then(Tree::as_str).unwrap_or("");
            let path = operation.get("path").and_then(Tree::as_str).unwrap_or("");
            if !matches!(op, "add" | "replace") {
                continue;
            }
            let Some(value) = operation.get("value") else {
                continue;
            };
            collect_written("/spec", path, value, &mut out);
        }
        return out;
    }
    // A strategic-merge or merge patch: the lists of the spec it writes.
    if let Some(spec) = body.get("spec") {
        for list in ["containers", "initContainers"] {
            if let Some(containers) = spec.get(list) {
                collect_written("/spec", &format!("/spec/{list}"), containers, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored pod read from the text is the one read from the tree, or left to the tree:
    /// every text here gives the tree's answer through `stored`'s order of the two.
    #[test]
    fn a_stored_pod_read_from_its_text_is_the_one_its_tree_gives() {
        let read_without_doubt = [
            r#"{"metadata":{"name":"api","namespace":"app","uid":"u-1"},"spec":{"containers":[{"name":"api","image":"r/api:2.1","imagePullPolicy":"Always"},{"image":"r/side:1"}],"initContainers":[{"name":"setup","image":"r/setup:1"}]},"status":{"phase":"Pending"}}"#,
            r#"{"metadata":{"name":"api"},"spec":{}}"#,
            r#"{"metadata":{"name":"a\"pi","namespace":"app"},"spec":{"containers":[{"name":"c\u0061","image":"r/x:1"},{"name":null,"image":null}],"initContainers":null}}"#,
            r#"{"kind":"Pod","metadata":{"name":"api","labels":{"a":"b"}},"spec":{"containers":[{"name":"web"}]}}"#,
        ];
        let left_to_the_tree = [
            // Repeated keys: the tree reads the last.
            r#"{"metadata":{"name":"first","name":"last"},"spec":{}}"#,
            r#"{"metadata":{"name":"api"},"spec":{"containers":[{"name":"web","image":"r/a:1","image":"r/b:2"}]}}"#,
            // Fields of another type.
            r#"{"metadata":{"name":"api","namespace":7},"spec":{}}"#,
            r#"{"metadata":{"name":"api"},"spec":{"containers":[{"name":3,"image":"r/a:1"}]}}"#,
            r#"{"metadata":{"name":"api"},"spec":{"containers":{"name":"web"}}}"#,
            r#"{"metadata":{"name":"api"},"spec":{"containers":["web"]}}"#,
            // A null spec, no spec, no name.
            r#"{"metadata":{"name":"api"},"spec":null}"#,
            r#"{"metadata":{"name":"api"}}"#,
            r#"{"metadata":{"namespace":"app"},"spec":{}}"#,
            r#"[1,2]"#,
        ];
        for text in read_without_doubt {
            let tree = Body::parse(text).unwrap();
            let view = stored_view(text);
            assert!(view.is_some(), "{text}");
            assert_eq!(view, stored_in(&tree, "/spec"), "{text}");
        }
        for text in left_to_the_tree {
            assert_eq!(stored_view(text), None, "{text}");
        }
        let (key, pod) = stored_view(read_without_doubt[0]).unwrap();
        assert_eq!(key, "app/api");
        assert_eq!(
            pod.images,
            [
                ("container \"api\"".to_string(), "r/api:2.1".to_string()),
                ("container #1".to_string(), "r/side:1".to_string()),
                (
                    "init container \"setup\"".to_string(),
                    "r/setup:1".to_string()
                ),
            ]
        );
    }
}
