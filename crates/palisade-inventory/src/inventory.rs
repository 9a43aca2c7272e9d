//! The inventory: every loaded object, indexed for the lookups rules make across objects.

use std::collections::HashMap;

use crate::object::{Object, Source};

/// All objects of a scan, with their sources.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    pub sources: Vec<Source>,
    pub objects: Vec<Object>,
    /// Whether the inventory is a whole cluster (a live scan or snapshot) rather than a set of
    /// manifests; rules may then treat "absent" as "does not exist".
    pub complete: bool,
    by_kind: HashMap<(String, String), Vec<usize>>,
    /// Top controlling owner of each object (empty when nothing has owner references),
    /// computed when first asked: an admission evaluation that places its object and never
    /// asks does not pay for the whole cluster's owner graph.
    controllers: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The owner graph before [`Inventory::insert`], put back by [`Inventory::restore`].
    saved_controllers: Option<std::sync::OnceLock<Vec<Option<usize>>>>,
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
        Inventory {
            sources,
            objects,
            complete: false,
            by_kind,
            controllers: std::sync::OnceLock::new(),
            saved_controllers: None,
        }
    }

    /// Adds a source (where objects added later come from) and returns its id.
    pub fn add_source(&mut self, source: Source) -> crate::object::SourceId {
        self.sources.push(source);
        self.sources.len() - 1
    }

    /// Puts `object` in the inventory for a moment (an admission request's object judged
    /// against a cluster): in place of the object of the same identity, which is returned,
    /// or after the others. Undo it with [`Inventory::restore`].
    pub fn insert(&mut self, object: Object) -> (usize, Option<Object>) {
        let same = self
            .indices_of_kind(object.id.group(), &object.id.kind)
            .iter()
            .copied()
            .find(|&i| self.objects[i].id.same_identity(&object.id));
        let placed = match same {
            Some(index) => (
                index,
                Some(std::mem::replace(&mut self.objects[index], object)),
            ),
            None => {
                let index = self.objects.len();
                self.by_kind
                    .entry((object.id.group().to_string(), object.id.kind.clone()))
                    .or_default()
                    .push(index);
                self.objects.push(object);
                (index, None)
            }
        };
        self.saved_controllers = Some(std::mem::take(&mut self.controllers));
        placed
    }

    /// Undoes [`Inventory::insert`].
    pub fn restore(&mut self, index: usize, previous: Option<Object>) {
        match previous {
            Some(previous) => self.objects[index] = previous,
            None => {
                if let Some(object) = self.objects.pop() {
                    let key = (object.id.group().to_string(), object.id.kind.clone());
                    if let Some(list) = self.by_kind.get_mut(&key) {
                        list.retain(|&i| i != index);
                        if list.is_empty() {
                            self.by_kind.remove(&key);
                        }
                    }
                }
            }
        }
        self.controllers = self.saved_controllers.take().unwrap_or_default();
    }

    /// Keeps only the objects of these namespaces (as `kubectl -n` does): objects with another
    /// namespace, and Namespace objects of other names, are dropped; objects written without
    /// a namespace (cluster-scoped, or applied into the namespace given) are kept.
    pub fn retain_namespaces(self, namespaces: &[String]) -> Inventory {
        if namespaces.is_empty() {
            return self;
        }
        let wanted = |ns: &str| namespaces.iter().any(|n| n == ns);
        let objects = self
            .objects
            .into_iter()
            .filter(|o| match o.id.namespace.as_deref() {
                Some(ns) => wanted(ns),
                None if o.id.kind == "Namespace" && o.id.group().is_empty() => {
                    o.id.name.as_deref().is_some_and(wanted)
                }
                None => true,
            })
            .collect();
        let mut inventory = Inventory::new(self.sources, objects);
        inventory.complete = self.complete;
        inventory
    }

    /// The highest workload (an object with a pod spec) in `index`'s chain of controlling owner
    /// references (a Pod's Deployment through its ReplicaSet), when it is in the inventory.
    /// Owners without a pod spec (an operator's custom resource) are passed over.
    pub fn controller_of(&self, index: usize) -> Option<usize> {
        self.controllers
            .get_or_init(|| controllers(&self.objects))
            .get(index)
            .copied()
            .flatten()
    }

    /// Objects of one group and kind (`""` is the core group).
    pub fn of_kind<'a>(&'a self, group: &str, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.objects[i])
    }

    /// Indices of the objects of one group and kind, in inventory order.
    pub fn indices_of_kind(&self, group: &str, kind: &str) -> &[usize] {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The source an object came from.
    pub fn source_of(&self, object: &Object) -> &Source {
        &self.sources[object.source]
    }

    /// Where an object written without a namespace belongs: the directory of its file, or
    /// the directory holding its rendered unit. Such objects land in whatever namespace they
    /// are applied to, so two of them are in the same namespace only within one scope
    /// (unrelated projects scanned together must not vouch for, or grant to, each other).
    pub fn scope_of(&self, object: &Object) -> &str {
        let path: &str = &self.source_of(object).path;
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
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
    let is_workload = |i: usize| crate::podspec::pod_spec(&objects[i]).is_some();
    (0..objects.len())
        .map(|i| {
            let mut at = parents[i]?;
            let mut top = is_workload(at).then_some(at);
            // Follow the chain (Pod -> ReplicaSet -> Deployment), bounded against cycles, and
            // keep the highest owner with a pod spec: an operator's custom resource above a
            // Deployment does not take its place.
            for _ in 0..8 {
                match parents[at] {
                    Some(next) if next != i => {
                        at = next;
                        if is_workload(at) {
                            top = Some(at);
                        }
                    }
                    _ => break,
                }
            }
            top
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{Limits, load_text};

    const CHAIN: &str = "apiVersion: example.com/v1\nkind: App\nmetadata: {name: shop, namespace: a, uid: u-app}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: a\n  uid: u-dep\n  ownerReferences: [{apiVersion: example.com/v1, kind: App, name: shop, uid: u-app, controller: true}]\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: a\n  uid: u-rs\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u-dep, controller: true}]\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-x\n  namespace: a\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u-rs, controller: true}]\nspec: {containers: [{name: c, image: x}]}\n";

    #[test]
    fn the_controller_is_the_highest_owner_with_a_pod_spec() {
        let inventory = load_text("chain.yaml", CHAIN, &Limits::default()).inventory;
        let index = |kind: &str| {
            inventory
                .objects
                .iter()
                .position(|o| o.id.kind == kind)
                .unwrap()
        };
        let deployment = index("Deployment");
        assert_eq!(inventory.controller_of(index("Pod")), Some(deployment));
        assert_eq!(
            inventory.controller_of(index("ReplicaSet")),
            Some(deployment)
        );
        // The operator's custom resource above the Deployment does not take its place.
        assert_eq!(inventory.controller_of(deployment), None);
        assert_eq!(inventory.controller_of(index("App")), None);
    }
}
