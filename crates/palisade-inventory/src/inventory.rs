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
    /// Whether nothing was read besides the objects judged (a webhook without the cluster or
    /// manifests of it): what other objects lack is then unknown, and rules that would
    /// conclude from an absence (no NetworkPolicy, no ResourceQuota) do not judge.
    pub alone: bool,
    by_kind: HashMap<(String, String), Vec<usize>>,
    /// The owner graph (each object's top controlling owner), found when first asked: an
    /// admission evaluation that places its object and never asks does not pay for it.
    owners: std::sync::OnceLock<crate::owners::Owners>,
    /// The object [`Inventory::insert`] placed, with its controller, when its arrival changed
    /// no other object's: the owner graph stays that of the others.
    placed: Option<(usize, Option<usize>)>,
    /// The owner graph before an [`Inventory::insert`] that changed it, put back by
    /// [`Inventory::restore`].
    saved_owners: Option<std::sync::OnceLock<crate::owners::Owners>>,
    /// The object [`Inventory::insert`] placed, when it replaced a version that differs from
    /// it only in what no cluster-wide model reads ([`crate::alike`]).
    placed_alike: Option<usize>,
    /// The pod templates of the objects of kinds with several, found when first asked and
    /// found again after an object is placed or put back ([`crate::templated`]).
    templates: std::sync::OnceLock<crate::templated::Templates>,
}

/// An object's labels (none when absent or not a map).
fn labels_of(object: &Object) -> serde_json::Map<String, serde_json::Value> {
    object
        .value
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A Namespace's labels as the API server serves them: with the
/// `kubernetes.io/metadata.name` label it sets on every namespace, which selectors read.
fn served_labels(
    name: &str,
    mut labels: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    labels
        .entry(palisade_core::selector::NAMESPACE_NAME_LABEL)
        .or_insert_with(|| serde_json::Value::String(name.to_string()));
    labels
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
            alone: false,
            by_kind,
            owners: std::sync::OnceLock::new(),
            placed: None,
            saved_owners: None,
            placed_alike: None,
            templates: std::sync::OnceLock::new(),
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
        self.templates = std::sync::OnceLock::new();
        let same = self
            .indices_of_kind(object.id.group(), &object.id.kind)
            .iter()
            .copied()
            .find(|&i| self.objects[i].id.same_identity(&object.id));
        if let (Some(_), Some(owners)) = (same, self.owners.get()) {
            owners.index_before_replacing(&self.objects);
        }
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
        // The others' controllers are kept when the object is no owner of theirs; the
        // graph is found again when it may be.
        let (index, previous) = &placed;
        self.placed_alike = previous
            .as_ref()
            .is_some_and(|before| crate::alike::alike_for_models(before, &self.objects[*index]))
            .then_some(*index);
        let top = self
            .owners
            .get()
            .and_then(|owners| owners.placed(&self.objects, *index, previous.as_ref()));
        match top {
            Some(top) => self.placed = Some((*index, top)),
            None => self.saved_owners = Some(std::mem::take(&mut self.owners)),
        }
        placed
    }

    /// Whether the object [`Inventory::insert`] placed at `index` replaced a version that
    /// differs from it only in what no cluster-wide model reads ([`crate::alike`]: a new
    /// image, a scale, a restart).
    pub fn placed_alike(&self, index: usize) -> bool {
        self.placed_alike == Some(index)
    }

    /// Whether the object [`Inventory::insert`] placed at `index` changed no other object's
    /// controller (it is nobody's owner, so the owner graph of the others was kept).
    pub fn placed_keeps_owners(&self, index: usize) -> bool {
        self.placed.is_some_and(|(placed, _)| placed == index)
    }

    /// Keeps for good the new object [`Inventory::insert`] placed at `index` (an object the
    /// cluster now holds, such as a ReplicaSet an admission webhook let in): objects placed
    /// later find it as their owner. An object that replaced another is not kept: the insert
    /// is undone, as [`Inventory::restore`] does, and the answer is false.
    pub fn keep_placed(&mut self, index: usize, previous: Option<Object>) -> bool {
        if previous.is_some() || index + 1 != self.objects.len() {
            self.restore(index, previous);
            return false;
        }
        match self.placed.take() {
            // The owner graph of the others was kept: it takes the object in.
            Some((_, top)) => match self.owners.get_mut() {
                Some(owners) => owners.append(&self.objects, index, top),
                None => self.owners = std::sync::OnceLock::new(),
            },
            // The graph is found again, or was never found: with the object, when it is.
            None => self.saved_owners = None,
        }
        self.placed_alike = None;
        true
    }

    /// Keeps for good the object [`Inventory::insert`] placed at `index` in place of the
    /// version it replaced (an update an admission webhook let in). The owner graph is found
    /// again with it, at once, so that objects placed later still tell whether they change
    /// another's controller ([`Inventory::placed_keeps_owners`]). A new object is kept with
    /// [`Inventory::keep_placed`]; with no version replaced, the insert is undone and the
    /// answer is false.
    pub fn keep_replacing(&mut self, index: usize, previous: Option<Object>) -> bool {
        if previous.is_none() {
            self.restore(index, previous);
            return false;
        }
        self.placed = None;
        self.placed_alike = None;
        self.saved_owners = None;
        self.owners = std::sync::OnceLock::new();
        self.find_owners();
        true
    }

    /// Undoes [`Inventory::insert`].
    pub fn restore(&mut self, index: usize, previous: Option<Object>) {
        self.templates = std::sync::OnceLock::new();
        self.placed_alike = None;
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
        if self.placed.take().is_none() {
            self.owners = self.saved_owners.take().unwrap_or_default();
        }
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
        inventory.alone = self.alone;
        inventory
    }

    /// The highest workload (an object with a pod spec) in `index`'s chain of controlling owner
    /// references (a Pod's Deployment through its ReplicaSet), when it is in the inventory.
    /// Owners without a pod spec (an operator's custom resource) are passed over. A reference
    /// is followed as the garbage collector follows it (kind, name, namespace and uid must
    /// match), and only when the object's powers are within its owner's pod template (the
    /// account, its token, the node's namespaces, owning the node: `crate::powers`); an
    /// object with more is judged on its own spec, whatever it claims.
    pub fn controller_of(&self, index: usize) -> Option<usize> {
        if let Some((placed, top)) = self.placed
            && placed == index
        {
            return top;
        }
        self.owners
            .get_or_init(|| crate::owners::Owners::of(&self.objects))
            .top(index)
    }

    /// Finds which object controls which now, rather than on the first question: an object
    /// placed afterwards ([`Inventory::insert`]) then knows whether it changes another's
    /// controller ([`Inventory::placed_keeps_owners`]).
    pub fn find_owners(&self) {
        self.owners
            .get_or_init(|| crate::owners::Owners::of(&self.objects));
    }

    /// The object that the object at `index` names as its controller, when the inventory
    /// holds it, whether or not the object is judged through it ([`Inventory::controller_of`]
    /// gives no controller to an object with more power than its controller's template).
    pub fn claimed_controller(&self, index: usize) -> Option<usize> {
        let object = self.objects.get(index)?;
        self.owners
            .get_or_init(|| crate::owners::Owners::of(&self.objects))
            .claimed(object, &self.objects)
    }

    /// The pod template the object at `index` (a Pod, or a Job, StatefulSet or Deployment an
    /// operator made) is made from, with the object that holds it, when that object is of a
    /// kind with several templates (a RayCluster, a JobSet, a PyTorchJob) and is the controller
    /// the object names: a template whose containers the object runs (by name and image,
    /// [`crate::templated`]) with no more power than it gives
    /// ([`crate::powers::beyond_template`]); of several alike in their containers (a
    /// PyTorchJob's Master and Worker often are), the one whose name the object's labels
    /// carry (`training.kubeflow.org/replica-type: master`), else the first. An object that
    /// matches none, or has more power (a service account the template does not name, a
    /// privileged container an operator or webhook added), is judged on its own.
    pub fn template_of(&self, index: usize) -> Option<(usize, crate::podspec::GroupedTemplate)> {
        let (owner, run) = self.templates_run(index)?;
        let mut within = run.into_iter().filter(|t| t.beyond.is_none());
        let first = within.next()?;
        let chosen = match first.named {
            true => first,
            false => within.find(|t| t.named).unwrap_or(first),
        };
        Some((owner, chosen.template))
    }

    /// Why the object at `index` has more power than the template of its controller whose
    /// containers it runs (the first of them), with the controller and the template, when
    /// that controller is of a kind with several templates and none of those it runs gives
    /// it that power ([`Inventory::template_of`] finds none).
    pub fn beyond_its_template(
        &self,
        index: usize,
    ) -> Option<(usize, crate::podspec::GroupedTemplate, String)> {
        let (owner, run) = self.templates_run(index)?;
        if run.iter().any(|t| t.beyond.is_none()) {
            return None;
        }
        let first = run.into_iter().next()?;
        Some((owner, first.template, first.beyond?))
    }

    /// The templates of the controller the object at `index` names whose containers it runs,
    /// when the controller is of a kind with several templates.
    fn templates_run(&self, index: usize) -> Option<(usize, Vec<crate::templated::Run>)> {
        let object = self.objects.get(index)?;
        let own = crate::templated::regular_containers(crate::pod_spec(object)?);
        let labels = crate::pod_labels(object);
        let owner = self.claimed_controller(index)?;
        let holder = &self.objects[owner];
        let templates = self.templates.get_or_init(|| {
            let grouped = crate::podspec::grouped_pod_spec_kinds()
                .flat_map(|(group, kind)| self.indices_of_kind(group, kind));
            crate::templated::Templates::of(&self.objects, grouped)
        });
        let run = templates
            .of_object(owner)
            .iter()
            .filter(|t| t.run_by(&own))
            .map(|t| {
                let template = crate::podspec::grouped_pod_spec(holder, &t.template);
                crate::templated::Run {
                    template: t.template.clone(),
                    named: t.named_by(labels),
                    beyond: crate::powers::beyond_template(object, template),
                }
            })
            .collect();
        Some((owner, run))
    }

    /// The pod template through which the object at `index` is judged, with the object that
    /// holds it: [`Inventory::template_of`] of its controller ([`Inventory::controller_of`]),
    /// or of itself when it has none (a RayCluster's Pod; a JobSet's Job, and the Pods of
    /// that Job through it).
    pub fn judged_through_template(
        &self,
        index: usize,
    ) -> Option<(usize, crate::podspec::GroupedTemplate)> {
        self.template_of(self.controller_of(index).unwrap_or(index))
    }

    /// The controller the object at `index` names itself (a Pod's ReplicaSet, not the
    /// Deployment above it), when the object is judged through its controller
    /// ([`Inventory::controller_of`]).
    pub fn controlling_parent(&self, index: usize) -> Option<usize> {
        self.controller_of(index)?;
        self.claimed_controller(index)
    }

    /// The labels of the Pods of the object at `index` and those its controller's template
    /// gives them, when it is judged through its controller and the two differ
    /// ([`crate::powers::relabelled`]).
    pub fn relabelled(
        &self,
        index: usize,
    ) -> Option<(crate::powers::Labels, crate::powers::Labels)> {
        let parent = self.controlling_parent(index)?;
        crate::powers::relabelled(&self.objects[index], &self.objects[parent])
    }

    /// The template the Pod at `index` was made from, with the object that holds it: its
    /// controlling parent, when the Pod runs that controller's template as it is now (a
    /// ReplicaSet, Job or ReplicationController; the StatefulSet whose update revision it is
    /// of, [`crate::powers::runs_template`]; the DaemonSet or StatefulSet whose current
    /// template the ControllerRevision it names records); otherwise, for a Pod of a DaemonSet's
    /// or StatefulSet's earlier revision, that ControllerRevision, which records the revision's
    /// template (when the inventory holds it, as a cluster read does).
    pub fn made_from(&self, index: usize) -> Option<(usize, crate::PodSpec<'_>)> {
        let parent = self.controlling_parent(index)?;
        let controller = &self.objects[parent];
        let current = || Some((parent, crate::pod_spec(controller)?));
        if crate::powers::runs_template(&self.objects[index], controller) {
            return current();
        }
        let revision = self.revision_of(index, parent)?;
        match self.earlier_template(revision, parent) {
            None => current(),
            Some(template) => Some((revision, template?)),
        }
    }

    /// The ControllerRevision the Pod at `index` names, with the template it records, when the
    /// inventory holds it and it belongs to the controller the Pod names (whether or not the
    /// Pod is judged through that controller), and it is not the controller's current template
    /// (a Pod of an earlier revision: a rollout not finished, or `OnDelete`).
    pub fn earlier_revision(&self, index: usize) -> Option<(usize, crate::PodSpec<'_>)> {
        let parent = self.claimed_controller(index)?;
        let revision = self.revision_of(index, parent)?;
        Some((revision, self.earlier_template(revision, parent)??))
    }

    /// `None` when `revision` records its controller `parent`'s template as it is now; else
    /// the template it records (`Some(None)` when it records none).
    fn earlier_template(
        &self,
        revision: usize,
        parent: usize,
    ) -> Option<Option<crate::PodSpec<'_>>> {
        let revision = &self.objects[revision];
        if crate::powers::records_template(revision, &self.objects[parent]) {
            return None;
        }
        Some(crate::podspec::recorded_pod_spec(revision))
    }

    /// The ControllerRevision that the Pod at `index` names by its `controller-revision-hash`
    /// label, when the inventory holds it and it belongs to `parent`, the Pod's DaemonSet or
    /// StatefulSet ([`crate::powers::revision_name`]).
    fn revision_of(&self, index: usize, parent: usize) -> Option<usize> {
        let controller = &self.objects[parent];
        let name = crate::powers::revision_name(&self.objects[index], controller)?;
        let revision = self
            .owners
            .get_or_init(|| crate::owners::Owners::of(&self.objects))
            .named(
                &self.objects,
                ("apps", "ControllerRevision"),
                controller.id.namespace.as_deref(),
                &name,
            )?;
        (self.claimed_controller(revision) == Some(parent)).then_some(revision)
    }

    /// Objects of one group and kind (`""` is the core group).
    pub fn of_kind<'a>(&'a self, group: &str, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.objects[i])
    }

    /// The labels of each Namespace read, by name, as written (the API server's
    /// `kubernetes.io/metadata.name` label is not added).
    pub fn namespace_labels(&self) -> HashMap<String, serde_json::Map<String, serde_json::Value>> {
        self.of_kind("", "Namespace")
            .filter_map(|o| Some((o.id.name.clone()?, labels_of(o))))
            .collect()
    }

    /// The API's resources: the built-in ones and the custom resources the inventory's
    /// CustomResourceDefinitions define.
    pub fn api_catalogue(&self) -> palisade_k8s::Catalogue {
        let mut catalogue = palisade_k8s::Catalogue::builtin();
        for crd in self.of_kind("apiextensions.k8s.io", "CustomResourceDefinition") {
            if let Some(resource) = palisade_k8s::ApiResource::from_crd(&crd.value) {
                catalogue.add_if_unknown(resource);
            }
        }
        catalogue
    }

    /// The labels of each Namespace read, by name, as the API server serves them: with the
    /// `kubernetes.io/metadata.name` label it sets on every namespace, which selectors read.
    /// The labels of Namespace `name` as the API server serves them (with
    /// `kubernetes.io/metadata.name`), when the inventory holds it.
    pub fn served_labels_of_namespace(
        &self,
        name: &str,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let namespace = self
            .of_kind("", "Namespace")
            .find(|o| o.id.name.as_deref() == Some(name))?;
        Some(served_labels(name, labels_of(namespace)))
    }

    pub fn served_namespace_labels(
        &self,
    ) -> HashMap<String, serde_json::Map<String, serde_json::Value>> {
        self.namespace_labels()
            .into_iter()
            .map(|(name, labels)| {
                let labels = served_labels(&name, labels);
                (name, labels)
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use crate::{Limits, load_text};

    /// Objects an operator makes from a template of a kind with several are judged through
    /// it: a RayCluster's Pods (the head with the autoscaler KubeRay adds), a JobSet's Job
    /// and that Job's Pod. One with more power than the template whose containers it runs,
    /// or running none of its templates' containers, is judged on its own.
    #[test]
    fn operators_objects_are_judged_through_their_template() {
        let owner = |kind: &str, name: &str, uid: &str| {
            format!(
                "ownerReferences: [{{apiVersion: x/v1, kind: {kind}, name: {name}, uid: {uid}, controller: true}}]"
            )
        };
        let ray = owner("RayCluster", "ray", "u-ray");
        let text = [
            "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: ray, namespace: ml, uid: u-ray}\nspec:\n  headGroupSpec: {template: {spec: {containers: [{name: head, image: 'ray:2'}]}}}\n  workerGroupSpecs:\n  - {groupName: gpu, template: {spec: {serviceAccountName: trainer, containers: [{name: worker, image: 'ray:2'}]}}}\n".to_string(),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: ray-head-a, namespace: ml, uid: u-1, {ray}}}\nspec: {{containers: [{{name: head, image: 'ray:2'}}, {{name: autoscaler, image: 'ray:2'}}]}}\n"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: ray-gpu-b, namespace: ml, uid: u-2, {ray}}}\nspec: {{serviceAccountName: trainer, containers: [{{name: worker, image: 'ray:2'}}]}}\n"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: ray-gpu-c, namespace: ml, uid: u-3, {ray}}}\nspec: {{serviceAccountName: trainer, containers: [{{name: worker, image: 'ray:2', securityContext: {{privileged: true}}}}]}}\n"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: ray-other, namespace: ml, uid: u-4, {ray}}}\nspec: {{containers: [{{name: miner, image: 'xmrig:6'}}]}}\n"),
            "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: js, namespace: ml, uid: u-js}\nspec:\n  replicatedJobs:\n  - {name: w, template: {spec: {template: {spec: {containers: [{name: jax, image: 'jax:1'}]}}}}}\n".to_string(),
            format!("apiVersion: batch/v1\nkind: Job\nmetadata: {{name: js-w-0, namespace: ml, uid: u-job, {}}}\nspec: {{template: {{spec: {{containers: [{{name: jax, image: 'jax:1'}}]}}}}}}\n", owner("JobSet", "js", "u-js")),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: js-w-0-x, namespace: ml, uid: u-5, {}}}\nspec: {{containers: [{{name: jax, image: 'jax:1'}}]}}\n", owner("Job", "js-w-0", "u-job")),
        ]
        .join("---\n");
        let loaded = load_text("cluster.yaml", &text, &Limits::default());
        let inventory = loaded.inventory;
        let through = |i: usize| {
            inventory
                .judged_through_template(i)
                .map(|(holder, t)| (holder, t.label()))
        };
        let head = Some((0, "spec.headGroupSpec.template".to_string()));
        let worker = Some((0, "spec.workerGroupSpecs.0.template".to_string()));
        assert_eq!(through(1), head);
        assert_eq!(through(2), worker);
        assert_eq!(through(3), None);
        let (holder, template, why) = inventory.beyond_its_template(3).unwrap();
        assert_eq!(
            (holder, template.label().as_str()),
            (0, "spec.workerGroupSpecs.0.template")
        );
        assert!(why.contains("runs privileged"), "{why}");
        assert_eq!(through(4), None);
        assert!(inventory.beyond_its_template(4).is_none());
        let replicated = Some((
            5,
            "spec.replicatedJobs.0.template.spec.template".to_string(),
        ));
        assert_eq!(through(6), replicated);
        assert_eq!(inventory.controller_of(7), Some(6));
        assert_eq!(through(7), replicated);
        assert_eq!(through(0), None);

        // The templates are found again when an update of the RayCluster is placed (its
        // worker group now runs another image, which the worker Pod does not run) and when
        // it is put back.
        let mut inventory = inventory;
        let updated = text.split("---\n").next().unwrap().replace(
            "name: worker, image: 'ray:2'",
            "name: worker, image: 'ray:3'",
        );
        let object = load_text("update.yaml", &updated, &Limits::default())
            .inventory
            .objects
            .remove(0);
        let (index, previous) = inventory.insert(object);
        assert_eq!(index, 0);
        assert!(inventory.judged_through_template(2).is_none());
        assert!(inventory.judged_through_template(1).is_some());
        inventory.restore(index, previous);
        assert!(inventory.judged_through_template(2).is_some());
    }

    /// Templates alike in their containers are told apart by the names operators write into
    /// the labels of what they make: a PyTorchJob's replica type, a RayCluster's group.
    #[test]
    fn alike_templates_are_told_apart_by_the_labels_operators_write() {
        let text = [
            "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: train, namespace: ml, uid: u-job}\nspec:\n  pytorchReplicaSpecs:\n    Master: {template: {spec: {containers: [{name: pytorch, image: 'train:1'}]}}}\n    Worker: {template: {spec: {containers: [{name: pytorch, image: 'train:1'}]}}}\n",
            "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: ray, namespace: ml, uid: u-ray}\nspec:\n  headGroupSpec: {template: {spec: {containers: [{name: ray, image: 'ray:2'}]}}}\n  workerGroupSpecs:\n  - {groupName: cpu, template: {spec: {containers: [{name: ray, image: 'ray:2'}]}}}\n  - {groupName: gpu, template: {spec: {containers: [{name: ray, image: 'ray:2'}]}}}\n",
        ];
        let pod = |name: &str,
                   owner: (&str, &str, &str),
                   labels: &str,
                   image: &str,
                   container: &str| {
            let (kind, owner, uid) = owner;
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ml, labels: {{{labels}}}, ownerReferences: [{{apiVersion: x/v1, kind: {kind}, name: {owner}, uid: {uid}, controller: true}}]}}\nspec: {{containers: [{{name: {container}, image: '{image}'}}]}}\n"
            )
        };
        let job = ("PyTorchJob", "train", "u-job");
        let ray = ("RayCluster", "ray", "u-ray");
        let pods = [
            pod(
                "train-worker-0",
                job,
                "training.kubeflow.org/replica-type: worker",
                "train:1",
                "pytorch",
            ),
            pod(
                "train-master-0",
                job,
                "training.kubeflow.org/replica-type: master",
                "train:1",
                "pytorch",
            ),
            pod("train-x", job, "", "train:1", "pytorch"),
            pod(
                "ray-gpu-worker-a",
                ray,
                "ray.io/group: gpu, ray.io/node-type: worker",
                "ray:2",
                "ray",
            ),
            pod("ray-head-a", ray, "ray.io/node-type: head", "ray:2", "ray"),
        ];
        let all: Vec<String> = text.iter().map(|t| t.to_string()).chain(pods).collect();
        let loaded = load_text("cluster.yaml", &all.join("---\n"), &Limits::default());
        let inventory = loaded.inventory;
        let label = |i: usize| inventory.template_of(i).map(|(_, t)| t.label());
        assert_eq!(
            label(2).as_deref(),
            Some("spec.pytorchReplicaSpecs.Worker.template")
        );
        assert_eq!(
            label(3).as_deref(),
            Some("spec.pytorchReplicaSpecs.Master.template")
        );
        assert_eq!(
            label(4).as_deref(),
            Some("spec.pytorchReplicaSpecs.Master.template")
        );
        assert_eq!(
            label(5).as_deref(),
            Some("spec.workerGroupSpecs.1.template")
        );
        assert_eq!(label(6).as_deref(), Some("spec.headGroupSpec.template"));
    }

    /// Placing an object keeps the others' controllers when it can and finds the graph again
    /// when it must: either way every controller is what a fresh inventory with the object in
    /// place gives.
    #[test]
    fn placed_objects_get_the_controllers_a_fresh_inventory_gives() {
        let cluster = format!(
            "{CHAIN}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: orphan\n  namespace: a\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-2, uid: u-rs2, controller: true}}]\nspec: {{containers: [{{name: c, image: x}}]}}\n"
        );
        let placed = [
            // A Pod of the ReplicaSet: nobody's owner.
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-y, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u-rs, controller: true}]}\nspec: {containers: [{name: c, image: x}]}\n",
            // The orphan's ReplicaSet, by uid: it joins the orphan to the Deployment.
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-2, namespace: a, uid: u-rs2, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u-dep, controller: true}]}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n",
            // An update of the ReplicaSet that moves it to no owner: its Pod follows.
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: a, uid: u-rs}\nspec: {template: {spec: {containers: [{name: c, image: x}]}}}\n",
            // An update of the Pod: nobody's owner, same uid (none).
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-x, namespace: a, labels: {x: y}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u-rs, controller: true}]}\nspec: {containers: [{name: c, image: x}]}\n",
            // Its own owner.
            "apiVersion: v1\nkind: Pod\nmetadata: {name: me, namespace: a, uid: u-me, ownerReferences: [{apiVersion: v1, kind: Pod, name: me, uid: u-me, controller: true}]}\nspec: {containers: [{name: c, image: x}]}\n",
            // A standalone object.
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: a}\n",
        ];
        for text in placed {
            let mut inventory = load_text("c.yaml", &cluster, &Limits::default()).inventory;
            let _ = inventory.controller_of(0);
            let object = load_text("o.yaml", text, &Limits::default())
                .inventory
                .objects
                .remove(0);
            let (index, previous) = inventory.insert(object.clone());
            let mut fresh_objects = inventory.objects.clone();
            fresh_objects[index] = object;
            let fresh = super::Inventory::new(inventory.sources.clone(), fresh_objects);
            let all = 0..inventory.objects.len();
            let got: Vec<Option<usize>> = all.clone().map(|i| inventory.controller_of(i)).collect();
            let want: Vec<Option<usize>> = all.map(|i| fresh.controller_of(i)).collect();
            assert_eq!(got, want, "placing {text}");
            inventory.restore(index, previous);
            let before = load_text("c.yaml", &cluster, &Limits::default()).inventory;
            let back: Vec<Option<usize>> = (0..before.objects.len())
                .map(|i| inventory.controller_of(i))
                .collect();
            let want: Vec<Option<usize>> = (0..before.objects.len())
                .map(|i| before.controller_of(i))
                .collect();
            assert_eq!(back, want, "restored after {text}");
        }
    }

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
