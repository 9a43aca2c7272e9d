//! Who controls whom: each object's top controlling owner (a Pod's Deployment through its
//! ReplicaSet), found once for an inventory, and found again for one object placed in it
//! (an admission request) without going over the others when its arrival changes no other
//! object's controller.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::object::Object;
use crate::powers::{governs_differently, within_controller};

/// `(namespace, kind, name)` of an owner, as references name it.
type NameKey = (Option<String>, String, String);

/// The owner graph of a list of objects.
#[derive(Debug, Clone, Default)]
pub(crate) struct Owners {
    /// The objects by uid and by name, made when first needed: a list in which no object
    /// names a controller (manifests from Git, mostly) needs them only when an object is
    /// placed in it.
    index: OnceLock<Index>,
    /// Each object's controlling owner, when it is in the list.
    parents: Vec<Option<usize>>,
    /// Each object's highest controlling owner with a pod spec.
    top: Vec<Option<usize>>,
    /// What the objects name as their controller: uids, and `(namespace, kind, name)`s.
    named_uids: HashSet<String>,
    named: HashSet<NameKey>,
}

/// The objects of a list by uid, and by namespace, kind and name.
#[derive(Debug, Clone, Default)]
struct Index {
    by_uid: HashMap<String, usize>,
    by_name: HashMap<NameKey, usize>,
}

impl Index {
    fn of(objects: &[Object]) -> Index {
        let mut index = Index::default();
        for (i, o) in objects.iter().enumerate() {
            if let Some(uid) = uid(o) {
                index.by_uid.insert(uid.to_string(), i);
            }
            if let Some(key) = name_key(o) {
                index.by_name.insert(key, i);
            }
        }
        index
    }

    /// The object of `objects` that `reference` (an `object`'s controller reference) names,
    /// as the garbage collector reads it: the object of that kind and name (in `object`'s
    /// namespace, unless it is cluster-scoped) with that uid. A reference without a uid, or an
    /// object without one (manifests), is matched by namespace, kind and name.
    fn resolve(
        &self,
        object: &Object,
        reference: ControllerRef<'_>,
        objects: &[Object],
    ) -> Option<usize> {
        let (named_uid, kind, name) = reference;
        if let Some(&i) = named_uid.and_then(|u| self.by_uid.get(u)) {
            // The index may map a uid to an object since replaced by one of another uid.
            let owner = objects.get(i)?;
            let id = &owner.id;
            let here = id.namespace.is_none() || id.namespace == object.id.namespace;
            let same =
                id.kind == kind && id.name.as_deref() == Some(name) && uid(owner) == named_uid;
            return (same && here).then_some(i);
        }
        let i = *self.by_name.get(&(
            object.id.namespace.clone(),
            kind.to_string(),
            name.to_string(),
        ))?;
        // A reference to a uid does not name an object of that name with another uid.
        (named_uid.is_none() || objects.get(i).and_then(uid).is_none()).then_some(i)
    }
}

/// A controlling owner reference: `(uid, kind, name)`.
type ControllerRef<'a> = (Option<&'a str>, &'a str, &'a str);

/// The controlling owner reference of an object: `(uid, kind, name)`.
fn controller_ref(object: &Object) -> Option<ControllerRef<'_>> {
    let refs =
        palisade_core::pointer::lookup(&object.value, "/metadata/ownerReferences")?.as_array()?;
    let owner = refs
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?;
    Some((
        owner.get("uid").and_then(Value::as_str),
        owner.get("kind")?.as_str()?,
        owner.get("name")?.as_str()?,
    ))
}

fn uid(object: &Object) -> Option<&str> {
    palisade_core::pointer::lookup(&object.value, "/metadata/uid").and_then(Value::as_str)
}

fn name_key(object: &Object) -> Option<NameKey> {
    Some((
        object.id.namespace.clone(),
        object.id.kind.clone(),
        object.id.name.clone()?,
    ))
}

fn is_workload(object: &Object) -> bool {
    crate::podspec::pod_spec(object).is_some()
}

impl Owners {
    /// The owner graph of `objects` (by `metadata.ownerReferences` with `controller: true`,
    /// matched by uid, else by namespace, kind and name).
    pub(crate) fn of(objects: &[Object]) -> Owners {
        // Each object's reference is read on every core: a large inventory's are many.
        let references = palisade_core::parallel::map_each(objects, 4096, controller_ref);
        let mut owners = Owners::default();
        if references.iter().all(Option::is_none) {
            owners.parents = vec![None; objects.len()];
            owners.top = vec![None; objects.len()];
            return owners;
        }
        let index = owners.index.get_or_init(|| Index::of(objects));
        let claims: Vec<(usize, usize)> = objects
            .iter()
            .zip(&references)
            .enumerate()
            .filter_map(|(i, (o, r))| Some((i, index.resolve(o, (*r)?, objects)?)))
            .collect();
        // Whether each claim holds (its powers within the controller's template) is read on
        // every core: a large cluster's Pods are many.
        let holds = palisade_core::parallel::map_each(&claims, 2048, |&(i, claimed)| {
            within_controller(&objects[i], &objects[claimed])
        });
        owners.parents = vec![None; objects.len()];
        for (&(i, claimed), holds) in claims.iter().zip(holds) {
            if holds {
                owners.parents[i] = Some(claimed);
            }
        }
        for (o, r) in objects.iter().zip(references) {
            if let Some((uid, kind, name)) = r {
                if let Some(uid) = uid {
                    owners.named_uids.insert(uid.to_string());
                }
                owners
                    .named
                    .insert((o.id.namespace.clone(), kind.to_string(), name.to_string()));
            }
        }
        owners.top = (0..objects.len())
            .map(|i| top_of(i, &|k| owners.parents.get(k).copied().flatten(), objects))
            .collect();
        owners
    }

    /// The controlling owner of `object` among `objects`, the objects of this graph (the
    /// first of them, when an object was appended after them): the one it names, when its
    /// powers are within that owner's pod template ([`within_controller`]).
    fn parent(&self, object: &Object, objects: &[Object]) -> Option<usize> {
        let claimed = self.claimed(object, objects)?;
        within_controller(object, &objects[claimed]).then_some(claimed)
    }

    /// The object among `objects` that `object` names as its controller, whether or not it is
    /// judged through it.
    pub(crate) fn claimed(&self, object: &Object, objects: &[Object]) -> Option<usize> {
        let reference = controller_ref(object)?;
        let known = objects.get(..self.parents.len()).unwrap_or(objects);
        self.index
            .get_or_init(|| Index::of(known))
            .resolve(object, reference, objects)
    }

    /// The object of `objects` of group and kind `kind` named `name` in `namespace`, found by
    /// the index of this graph's objects (and of those appended to it).
    pub(crate) fn named(
        &self,
        objects: &[Object],
        (group, kind): (&str, &str),
        namespace: Option<&str>,
        name: &str,
    ) -> Option<usize> {
        let known = objects.get(..self.parents.len()).unwrap_or(objects);
        let key = (
            namespace.map(str::to_string),
            kind.to_string(),
            name.to_string(),
        );
        let i = *self
            .index
            .get_or_init(|| Index::of(known))
            .by_name
            .get(&key)?;
        // The index may map a name to an object since replaced by another.
        let id = &objects.get(i)?.id;
        let same = id.group() == group
            && id.kind == kind
            && id.namespace.as_deref() == namespace
            && id.name.as_deref() == Some(name);
        same.then_some(i)
    }

    /// Indexes `objects` (this graph's) by uid and name, unless they are indexed already:
    /// before one of them is replaced, so that the index keeps the graph's objects.
    pub(crate) fn index_before_replacing(&self, objects: &[Object]) {
        self.index.get_or_init(|| Index::of(objects));
    }

    /// Takes in the object just placed after this graph's objects, at `at` of `objects`, whose
    /// top controller [`Owners::placed`] found (`top`): nobody names it, so the others keep
    /// their controllers, and objects placed later can name it.
    pub(crate) fn append(&mut self, objects: &[Object], at: usize, top: Option<usize>) {
        let Some(object) = objects.get(at).filter(|_| at == self.parents.len()) else {
            return;
        };
        let parent = self.parent(object, objects);
        if let Some(index) = self.index.get_mut() {
            if let Some(uid) = uid(object) {
                index.by_uid.insert(uid.to_string(), at);
            }
            if let Some(key) = name_key(object) {
                index.by_name.insert(key, at);
            }
        }
        if let Some((uid, kind, name)) = controller_ref(object) {
            if let Some(uid) = uid {
                self.named_uids.insert(uid.to_string());
            }
            self.named.insert((
                object.id.namespace.clone(),
                kind.to_string(),
                name.to_string(),
            ));
        }
        self.parents.push(parent);
        self.top.push(top);
    }

    /// The top controller of object `index`.
    pub(crate) fn top(&self, index: usize) -> Option<usize> {
        self.top.get(index).copied().flatten()
    }

    /// The top controller of the object just placed at `at` of `objects` (after the objects
    /// of this graph, or in place of `replaced`), when no other object's controller changes
    /// with it; `None` when one may (it is named as an owner, it replaces an owner, or it
    /// replaces an object of another uid), and the graph must be found again.
    pub(crate) fn placed(
        &self,
        objects: &[Object],
        at: usize,
        replaced: Option<&Object>,
    ) -> Option<Option<usize>> {
        let object = objects.get(at)?;
        // An object that names itself as its owner: found again with it in the graph.
        if let Some((ref_uid, kind, name)) = controller_ref(object)
            && ((ref_uid.is_some() && ref_uid == uid(object))
                || (object.id.kind == kind && object.id.name.as_deref() == Some(name)))
        {
            return None;
        }
        match replaced {
            // An update: others still find it where they did (same identity and uid); they
            // keep their controllers unless its own owner or its pod spec's presence changed
            // and some of them are below it (a ReplicaSet scaled by its Deployment changes
            // neither).
            Some(old) => {
                // Whether one of the others names it: by uid, or by name (a reference by
                // name with a uid resolves only while the uids agree).
                let by_name = name_key(old).is_some_and(|k| self.named.contains(&k));
                let named_uid = |u: Option<&str>| u.is_some_and(|u| self.named_uids.contains(u));
                // A new uid matters to the others only when one of them names the old or
                // the new uid, or its name. The kept index maps the old uid here, so a
                // reference of its own to that uid is resolved again too.
                let (old_uid, new_uid) = (uid(old), uid(object));
                if old_uid != new_uid {
                    let own = controller_ref(object).and_then(|(u, _, _)| u);
                    if by_name
                        || named_uid(old_uid)
                        || named_uid(new_uid)
                        || (own.is_some() && own == old_uid)
                    {
                        return None;
                    }
                }
                // Those that name it are judged through it only within its template.
                if (by_name || named_uid(old_uid)) && governs_differently(old, object) {
                    return None;
                }
                let unchanged = self.parent(object, objects)
                    == self.parents.get(at).copied().flatten()
                    && is_workload(object) == is_workload(old);
                if unchanged {
                    return Some(self.top(at));
                }
                if self.parents.contains(&Some(at)) {
                    return None;
                }
            }
            // A new object: nobody may point to it (by uid, or by name when references
            // carry no uid).
            None => {
                if at != self.parents.len()
                    || uid(object).is_some_and(|u| self.named_uids.contains(u))
                    || name_key(object).is_some_and(|k| self.named.contains(&k))
                {
                    return None;
                }
            }
        }
        // Its own controller: resolved among the others (an update keeps its index, so a
        // reference to its own uid resolves to itself, as it would in the whole graph).
        let parent = self.parent(object, objects);
        let parent_of = |k: usize| {
            if k == at {
                parent
            } else {
                self.parents.get(k).copied().flatten()
            }
        };
        Some(top_of(at, &parent_of, objects))
    }
}

/// The highest owner with a pod spec in `i`'s chain of controlling owners (Pod -> ReplicaSet
/// -> Deployment), bounded against cycles: an operator's custom resource above a Deployment
/// does not take its place.
fn top_of(
    i: usize,
    parent_of: &dyn Fn(usize) -> Option<usize>,
    objects: &[Object],
) -> Option<usize> {
    let mut at = parent_of(i)?;
    let mut top = is_workload(&objects[at]).then_some(at);
    for _ in 0..8 {
        match parent_of(at) {
            Some(next) if next != i => {
                at = next;
                if is_workload(&objects[at]) {
                    top = Some(at);
                }
            }
            _ => break,
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Limits, load_text};

    /// One object of a small world: a kind (Pod, ReplicaSet, Deployment, ConfigMap), a name
    /// and uid from a few, perhaps a controller reference to another of the few, and a pod
    /// spec from a few that differ in power (another account, a privileged container), for a
    /// ReplicaSet perhaps scaled to zero.
    fn object(
        kind: usize,
        name: usize,
        uid: Option<usize>,
        owner: Option<(usize, usize, bool)>,
        power: usize,
    ) -> String {
        let pod = [
            "{containers: [{name: c, image: x}]}",
            "{serviceAccountName: admin, containers: [{name: c, image: x}]}",
            "{containers: [{name: c, image: x, securityContext: {privileged: true}}]}",
        ][power % 3];
        let replicas = if power >= 3 { "replicas: 0, " } else { "" };
        let (api, kind, spec) = [
            ("v1", "Pod", format!("spec: {pod}")),
            (
                "apps/v1",
                "ReplicaSet",
                format!("spec: {{{replicas}template: {{spec: {pod}}}}}"),
            ),
            (
                "apps/v1",
                "Deployment",
                format!("spec: {{template: {{spec: {pod}}}}}"),
            ),
            ("v1", "ConfigMap", "data: {}".to_string()),
        ][kind % 4]
            .clone();
        let uid = uid.map(|u| format!(", uid: u{u}")).unwrap_or_default();
        let owner = owner
            .map(|(k, n, by_uid)| {
                let kinds = ["Pod", "ReplicaSet", "Deployment", "ConfigMap"];
                let uid = if by_uid { format!(", uid: u{n}") } else { String::new() };
                format!(", ownerReferences: [{{apiVersion: v1, kind: {}, name: n{n}{uid}, controller: true}}]", kinds[k % 4])
            })
            .unwrap_or_default();
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: n{name}, namespace: a{uid}{owner}}}\n{spec}\n"
        )
    }

    fn arb_object() -> impl Strategy<Value = String> {
        (
            0..4usize,
            0..5usize,
            proptest::option::of(0..5usize),
            proptest::option::of((0..4usize, 0..5usize, any::<bool>())),
            0..6usize,
        )
            .prop_map(|(k, n, u, o, p)| object(k, n, u, o, p))
    }

    /// The one object of `text`.
    fn one(text: &str) -> crate::object::Object {
        load_text("o.yaml", text, &Limits::default())
            .inventory
            .objects
            .remove(0)
    }

    /// The index of the owners' graph is of the graph's objects, not of an object placed in
    /// place of one of them for a while: a later request's reference to the placed object's
    /// uid finds nothing once it is gone.
    #[test]
    fn the_index_outlives_a_replacing_object() {
        let world = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a, uid: u1}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n";
        let mut inventory = load_text("w.yaml", world, &Limits::default()).inventory;
        assert_eq!(inventory.controller_of(0), None);
        // The same Deployment with another uid, controlled by something absent.
        let replacing = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a, uid: u2, ownerReferences: [{apiVersion: v1, kind: Thing, name: t, controller: true}]}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n";
        let (index, previous) = inventory.insert(one(replacing));
        assert_eq!(inventory.controller_of(index), None);
        inventory.restore(index, previous);
        // A Pod naming the replacing Deployment's uid, under another name: nothing has it now.
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: u2, controller: true}]}\nspec: {containers: [{name: c, image: x}]}\n";
        let (index, _) = inventory.insert(one(pod));
        assert_eq!(inventory.controller_of(index), None);
    }

    /// A reference is followed as the garbage collector follows it: the uid must be that of
    /// an object of the named kind and name, in the referring object's namespace (or
    /// cluster-scoped); a reference by name with a uid does not name an object with another
    /// uid. Without uids (manifests), the name is enough.
    #[test]
    fn a_reference_names_an_object_only_when_uid_kind_name_and_namespace_match() {
        let world = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: a, uid: rs-1}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: b, uid: rs-b}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: plain, namespace: a}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n";
        let pod = |reference: &str| {
            let text = format!(
                "{world}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: a, ownerReferences: [{{apiVersion: apps/v1, controller: true, {reference}}}]}}\nspec: {{containers: [{{name: c, image: x}}]}}\n"
            );
            let inventory = load_text("w.yaml", &text, &Limits::default()).inventory;
            inventory.controller_of(3)
        };
        assert_eq!(pod("kind: ReplicaSet, name: web-1, uid: rs-1"), Some(0));
        assert_eq!(pod("kind: ReplicaSet, name: web-1"), Some(0));
        assert_eq!(pod("kind: ReplicaSet, name: plain, uid: any"), Some(2));
        // Another uid, another kind or name for the uid, another namespace's object.
        assert_eq!(pod("kind: ReplicaSet, name: web-1, uid: rs-2"), None);
        assert_eq!(pod("kind: Deployment, name: web-1, uid: rs-1"), None);
        assert_eq!(pod("kind: ReplicaSet, name: web-2, uid: rs-1"), None);
        assert_eq!(pod("kind: ReplicaSet, name: web-1, uid: rs-b"), None);
    }

    proptest! {
        /// Whatever the world and the object placed in it, the controllers are those of a
        /// fresh inventory with the object in place, and restoring gives the world back.
        /// Placing one after another (what the requests of a webhook do) keeps that true.
        #[test]
        fn placing_agrees_with_a_fresh_graph(world in proptest::collection::vec(arb_object(), 0..8), placed in proptest::collection::vec(arb_object(), 1..4)) {
            let text = world.join("---\n");
            let mut inventory = load_text("w.yaml", &text, &Limits::default()).inventory;
            let before: Vec<Option<usize>> = (0..inventory.objects.len()).map(|i| inventory.controller_of(i)).collect();
            for placed in placed {
                let object = one(&placed);
                let (index, previous) = inventory.insert(object.clone());
                let mut objects = inventory.objects.clone();
                objects[index] = object;
                let fresh = crate::Inventory::new(inventory.sources.clone(), objects);
                for i in 0..inventory.objects.len() {
                    prop_assert_eq!(inventory.controller_of(i), fresh.controller_of(i), "object {}", i);
                }
                inventory.restore(index, previous);
                let after: Vec<Option<usize>> = (0..inventory.objects.len()).map(|i| inventory.controller_of(i)).collect();
                prop_assert_eq!(&before, &after);
            }
        }

        /// Objects kept for good one after another (an admission webhook learning what it
        /// let in), new or in place of the version before (an update), with objects placed
        /// for a while between them, give the controllers of a fresh inventory of the world
        /// and the kept objects.
        #[test]
        fn keeping_placed_objects_agrees_with_a_fresh_graph(world in proptest::collection::vec(arb_object(), 0..8), kept in proptest::collection::vec((arb_object(), arb_object()), 1..5)) {
            let text = world.join("---\n");
            let mut inventory = load_text("w.yaml", &text, &Limits::default()).inventory;
            inventory.controller_of(0);
            for (keep, visit) in kept {
                let before = inventory.objects.len();
                let (index, previous) = inventory.insert(one(&keep));
                let replaced = previous.is_some();
                let kept = match replaced {
                    true => inventory.keep_replacing(index, previous),
                    false => inventory.keep_placed(index, previous),
                };
                prop_assert!(kept || !replaced);
                prop_assert_eq!(inventory.objects.len(), before + usize::from(!replaced && kept));
                let fresh = crate::Inventory::new(inventory.sources.clone(), inventory.objects.clone());
                for i in 0..inventory.objects.len() {
                    prop_assert_eq!(inventory.controller_of(i), fresh.controller_of(i), "object {}", i);
                }
                // A request placed after it finds its controller as a fresh inventory does.
                let object = one(&visit);
                let (index, previous) = inventory.insert(object.clone());
                let mut objects = inventory.objects.clone();
                objects[index] = object;
                let fresh = crate::Inventory::new(inventory.sources.clone(), objects);
                for i in 0..inventory.objects.len() {
                    prop_assert_eq!(inventory.controller_of(i), fresh.controller_of(i), "placed, object {}", i);
                }
                inventory.restore(index, previous);
            }
        }
    }

    /// A ReplicaSet kept for good is the owner later Pods find, and so is one that a kept
    /// Pod named before it arrived.
    #[test]
    fn a_kept_replica_set_owns_the_pods_placed_after_it() {
        let world = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a, uid: d1}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n";
        let mut inventory = load_text("w.yaml", world, &Limits::default()).inventory;
        inventory.controller_of(0);
        let replica_set = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-2, namespace: a, uid: rs2, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n";
        let (index, previous) = inventory.insert(one(replica_set));
        assert!(inventory.keep_placed(index, previous));
        assert_eq!(inventory.controller_of(1), Some(0));
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web-2-x, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-2, uid: rs2, controller: true}]}\nspec: {containers: [{name: c, image: x}]}\n";
        let (index, previous) = inventory.insert(one(pod));
        assert_eq!(inventory.controller_of(index), Some(0));
        assert!(inventory.placed_keeps_owners(index));
        inventory.restore(index, previous);
        // The same ReplicaSet again: an update, not kept.
        let (index, previous) = inventory.insert(one(replica_set));
        assert!(!inventory.keep_placed(index, previous));
        assert_eq!(inventory.objects.len(), 2);
        // A Pod that names a ReplicaSet not yet there, kept; then the ReplicaSet it names,
        // which becomes its owner (the graph is found again).
        let orphan = pod
            .replace("web-2-x", "web-3-x")
            .replace("web-2,", "web-3,")
            .replace("rs2", "rs3");
        let (index, previous) = inventory.insert(one(&orphan));
        assert!(inventory.keep_placed(index, previous));
        assert_eq!(inventory.controller_of(2), None);
        let named = replica_set.replace("web-2", "web-3").replace("rs2", "rs3");
        let (index, previous) = inventory.insert(one(&named));
        assert!(!inventory.placed_keeps_owners(index));
        assert!(inventory.keep_placed(index, previous));
        assert_eq!(inventory.objects.len(), 4);
        assert_eq!(inventory.controller_of(2), Some(0));
    }
}
