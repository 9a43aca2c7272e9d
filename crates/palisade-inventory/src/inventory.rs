//! The inventory: every loaded object, indexed for the lookups rules make across objects.

use std::collections::HashMap;

use crate::object::{Object, Source};

/// All objects of a scan, with their sources.
#[derive(Debug, Default)]
pub struct Inventory {
    pub sources: Vec<Source>,
    pub objects: Vec<Object>,
    /// Whether the inventory is a whole cluster (a live scan or snapshot) rather than a set of
    /// manifests; rules may then treat "absent" as "does not exist".
    pub complete: bool,
    by_kind: HashMap<(String, String), Vec<usize>>,
    /// Top controlling owner of each object (empty when nothing has owner references).
    controllers: Vec<Option<usize>>,
}

impl Inventory {
    /// Builds the inventory and its indexes.
    pub fn new(sources: Vec<Source>, objects: Vec<Object>) -> Self {
        let mut by_kind: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, object) in objects.iter().enumerate() {
            by_kind
                .entry((object.id.group().to_string(), object.id.kind.clone()))
                .or_default()
                .push(i);
        }
        let controllers = controllers(&objects);
        Inventory {
            sources,
            objects,
            complete: false,
            by_kind,
            controllers,
        }
    }

    /// The object at the top of `index`'s chain of controlling owner references (a Pod's
    /// Deployment through its ReplicaSet), when that owner is in the inventory.
    pub fn controller_of(&self, index: usize) -> Option<usize> {
        self.controllers.get(index).copied().flatten()
    }

    /// Objects of one group and kind (`""` is the core group).
    pub fn of_kind<'a>(&'a self, group: &str, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.objects[i])
    }

    /// The source an object came from.
    pub fn source_of(&self, object: &Object) -> &Source {
        &self.sources[object.source]
    }
}

/// For each object, its top controlling owner in `objects` (by `metadata.ownerReferences`
/// with `controller: true`, matched by uid, else by namespace, kind and name).
fn controllers(objects: &[Object]) -> Vec<Option<usize>> {
    let mut by_uid: HashMap<&str, usize> = HashMap::new();
    let mut by_name: HashMap<(Option<&str>, &str, &str), usize> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        if let Some(uid) = o
            .value
            .pointer("/metadata/uid")
            .and_then(serde_json::Value::as_str)
        {
            by_uid.insert(uid, i);
        }
        if let Some(name) = o.id.name.as_deref() {
            by_name.insert((o.id.namespace.as_deref(), o.id.kind.as_str(), name), i);
        }
    }
    if by_uid.is_empty()
        && objects
            .iter()
            .all(|o| o.value.pointer("/metadata/ownerReferences").is_none())
    {
        return Vec::new();
    }
    let parent = |o: &Object| -> Option<usize> {
        let refs = o.value.pointer("/metadata/ownerReferences")?.as_array()?;
        let owner = refs
            .iter()
            .find(|r| r.get("controller").and_then(serde_json::Value::as_bool) == Some(true))?;
        if let Some(i) = owner
            .get("uid")
            .and_then(serde_json::Value::as_str)
            .and_then(|u| by_uid.get(u))
        {
            return Some(*i);
        }
        let kind = owner.get("kind")?.as_str()?;
        let name = owner.get("name")?.as_str()?;
        by_name
            .get(&(o.id.namespace.as_deref(), kind, name))
            .copied()
    };
    let parents: Vec<Option<usize>> = objects.iter().map(parent).collect();
    (0..objects.len())
        .map(|i| {
            let mut top = parents[i]?;
            // Follow the chain (Pod -> ReplicaSet -> Deployment), bounded against cycles.
            for _ in 0..8 {
                match parents[top] {
                    Some(next) if next != i => top = next,
                    _ => break,
                }
            }
            Some(top)
        })
        .collect()
}
