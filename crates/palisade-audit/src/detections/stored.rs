//! What the detections that compare a write with the object stored before share (AUD040 for
//! pods, AUD044 for workloads' pod templates): the containers and images a write sets, read
//! by where it writes, and those of a stored object.

use palisade_core::tree::Tree;

use crate::body::Body;
use crate::state::StoredObject;

/// A container as an alert names it: `"web"`, or `#0` (by index) when it has no name.
pub fn container_name(index: &str, name: Option<&str>) -> String {
    name.map_or(format!("#{index}"), |name| format!("\"{name}\""))
}

/// The images one write sets, by where it writes (a JSON patch's `path`, or the path of a
/// list the write holds) below the pod spec at `spec` (`/spec` for a pod,
/// `/spec/template/spec` for a workload): a container's image, a whole container, or a whole
/// list. Each as `(container "web", image)`.
pub fn collect_written(spec: &str, path: &str, value: &Body, out: &mut Vec<(String, String)>) {
    let Some(rest) = path.strip_prefix(spec).and_then(|r| r.strip_prefix('/')) else {
        return;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let noun = match parts[0] {
        "containers" => "container",
        "initContainers" => "init container",
        _ => return,
    };
    // A container and its image, named as the write names it.
    let set = |index: &str, container: &Body| {
        let image = container.get("image").and_then(Tree::as_str)?;
        let name = container_name(index, container.get("name").and_then(Tree::as_str));
        Some((format!("{noun} {name}"), image.to_string()))
    };
    match parts.as_slice() {
        [_, index, "image"] => {
            if let Some(image) = value.as_str() {
                out.push((format!("{noun} #{index}"), image.to_string()));
            }
        }
        [_, index] => out.extend(set(index, value)),
        [_] => {
            let containers = value.items().unwrap_or_default();
            out.extend(
                containers
                    .iter()
                    .enumerate()
                    .filter_map(|(index, container)| set(&index.to_string(), container)),
            );
        }
        _ => {}
    }
}

/// What `object` (a response object's tree, or a full object a request sends) stores, by
/// `namespace/name`: its uid and the images of the pod spec at `spec`.
pub fn stored_in(object: &Body, spec: &str) -> Option<(String, StoredObject)> {
    let metadata = object.get("metadata")?;
    let field = |name: &str| metadata.get(name).and_then(Tree::as_str);
    let key = format!(
        "{}/{}",
        field("namespace").unwrap_or_default(),
        field("name")?
    );
    let uid = field("uid").unwrap_or_default().to_string();
    let pod_spec = object.at(spec)?;
    let mut images = Vec::new();
    for list in ["containers", "initContainers"] {
        if let Some(containers) = pod_spec.get(list) {
            collect_written(spec, &format!("{spec}/{list}"), containers, &mut images);
        }
    }
    Some((key, StoredObject { uid, images }))
}
