//! Objects the cluster-wide models do not see: the network (endpoints, namespaces, Services,
//! policies), the escalation graph and the RBAC policy's workloads. A cluster prepared for
//! admission keeps those models ([`crate::context::Sees::AllBut`]) and lends them to an
//! evaluation whose judged objects are all unseen, which is most of a cluster's admission
//! traffic: the Pods a ReplicaSet makes, the ReplicaSets a Deployment makes, ConfigMaps. The
//! network alone is lent for more ([`is_unseen_by_network`]: bindings, accounts, Secrets),
//! whose escalation model is then rebuilt around the kept network engine.
//!
//! The list is an allow-list on purpose: a kind not named here is seen, so a model reading a
//! new kind can only make evaluations rebuild it, never answer from a stale one. An update of
//! a seen object that changes only fields no model reads (`palisade_inventory::alike`, also an
//! allow-list) is lent the models too.

use palisade_inventory::Inventory;

/// Whether the object at `index` of `inventory` is one the cluster-wide models never read:
/// - a Pod, ReplicaSet or Job whose controller is in the inventory (such objects are judged
///   through their controller: no endpoint or workload of their own), and for a Pod no
///   `spec.nodeName` (which places its controller's workload on that node);
/// - a ConfigMap, except EKS's `kube-system/aws-auth`, which maps IAM identities to groups,
///   and those the network reads (a Gateway's parameters, ingress-nginx's TCP and UDP
///   services);
/// - a Secret of any type but `kubernetes.io/service-account-token` (whoever reads one becomes
///   its account), a type the API server never lets an update change;
/// - but no ConfigMap or Secret whose values hold a Kubernetes credential (a token, a
///   kubeconfig's certificate): the escalation graph reads those as steps to its identity.
///
/// Whether some other object's controller changes with it is for the caller to check (a new
/// ReplicaSet can join existing Pods to their Deployment).
pub fn is_unseen(inventory: &Inventory, index: usize) -> bool {
    let Some(object) = inventory.objects.get(index) else {
        return false;
    };
    let id = &object.id;
    match (id.group(), id.kind.as_str()) {
        ("", "Pod") => {
            let placed = palisade_core::pointer::lookup(&object.value, "/spec/nodeName")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|node| !node.is_empty());
            !placed && inventory.controller_of(index).is_some()
        }
        ("apps", "ReplicaSet") | ("batch", "Job") => inventory.controller_of(index).is_some(),
        ("", "ConfigMap") => {
            let (namespace, name) = palisade_rbac::graph::AWS_AUTH;
            let aws_auth =
                id.namespace.as_deref() == Some(namespace) && id.name.as_deref() == Some(name);
            !aws_auth && !holds_credential(&object.value) && !read_by_network(inventory, object)
        }
        ("", "Secret") => {
            palisade_k8s::credential::token_secret(&object.value).is_none()
                && !holds_credential(&object.value)
        }
        _ => false,
    }
}

/// Whether the network reads `map`, a ConfigMap (`palisade_net::reads_config_map`: a
/// Gateway's parameters, ingress-nginx's TCP and UDP services).
fn read_by_network(inventory: &Inventory, map: &palisade_inventory::Object) -> bool {
    let placer = palisade_net::model::Placer::by_scope(inventory);
    palisade_net::reads_config_map(inventory, map, &|o| placer.namespace(o))
}

/// Whether a ConfigMap's or Secret's values hold a Kubernetes credential the escalation graph
/// reads as a step to its identity (`palisade_k8s::credential`).
fn holds_credential(value: &serde_json::Value) -> bool {
    palisade_k8s::credential::object_holds_credential(value, palisade_core::date::unix_now())
}

/// Whether the new object at `index`, placed in a cluster prepared for admission, may stay in
/// it for good, so that the objects judged after it see it (a webhook keeps what it lets in
/// until it reads the cluster again; the models it changes are then built with it,
/// [`crate::ClusterModels::take_in`]): any object but a Pod, and of the controllers a rollout
/// makes ([`KEPT_KINDS`]) those that [`is_unseen`] (their controller is in the cluster) with
/// their controller's labels. Those are kept so that the Pods they make before the cluster is
/// read again are judged through their controller, as they are once it is. A Pod is needed by
/// nothing made after it, and controllers make them without end. Whether another object's
/// controller changes with it is for the caller to check.
pub fn may_be_kept(inventory: &Inventory, index: usize) -> bool {
    let Some(object) = inventory.objects.get(index) else {
        return false;
    };
    let kind = (object.id.group(), object.id.kind.as_str());
    match KEPT_KINDS.contains(&kind) {
        true => is_unseen(inventory, index) && inventory.relabelled(index).is_none(),
        false => kind_may_be_kept(kind.0, kind.1),
    }
}

/// Whether an object of kind `(group, kind)` may be kept ([`may_be_kept`]) at all.
pub fn kind_may_be_kept(group: &str, kind: &str) -> bool {
    (group, kind) != ("", "Pod")
}

/// Whether the object at `index` is one the escalation graph never reads: what [`is_unseen`]
/// names, unless `stands_apart` (its labels set it apart from its controller for the network:
/// `crate::network::stands_apart`): a Pod whose labels put it behind an exposed Service
/// exposes its workload through its own endpoint.
pub fn is_unseen_by_escalation(
    inventory: &Inventory,
    index: usize,
    stands_apart: impl FnOnce() -> bool,
) -> bool {
    is_unseen(inventory, index) && !stands_apart()
}

/// Whether the object at `index` is one the escalation graph's exposure edges never read
/// (`palisade_rbac::graph::exposure`: what exposes a workload, the network, and the
/// workloads' identities): what [`is_unseen_by_escalation`] names, and besides those any
/// object the network never reads ([`is_unseen_by_network`]) that has no pod spec (a
/// PodTemplate is not an endpoint, but it is a workload): a binding, a role, a ServiceAccount
/// (its token setting is not read here), a Secret.
pub fn is_unseen_by_exposure(
    inventory: &Inventory,
    index: usize,
    stands_apart: impl FnOnce() -> bool,
) -> bool {
    if is_unseen(inventory, index) {
        return !stands_apart();
    }
    // Not judged through a controller: the network does not ask whether it stands apart.
    is_unseen_by_network(inventory, index, || true)
        && inventory
            .objects
            .get(index)
            .is_some_and(|object| palisade_inventory::pod_spec(object).is_none())
}

/// Whether the object at `index` is a lone endpoint (`palisade_net::model::is_lone_endpoint`:
/// a standalone Pod, a new Deployment) placed after the `objects` objects a kept base model
/// was read from (`None`: no base): what the network and the RBAC workloads are extended by
/// ([`extend_by_new_lone_endpoints`]) rather than read again.
pub fn is_new_lone_endpoint(inventory: &Inventory, index: usize, objects: Option<usize>) -> bool {
    objects.is_some_and(|objects| index >= objects)
        && palisade_net::model::is_lone_endpoint(inventory, index)
}

/// `base`, read from the first `objects` objects of `inventory`, extended by each object
/// placed after them in order (`extend`), when every one is a lone endpoint; `None` when
/// one is not, or none was placed (the caller reads the model again).
pub fn extend_by_new_lone_endpoints<T>(
    base: &T,
    objects: usize,
    inventory: &Inventory,
    extend: impl Fn(&T, usize) -> Option<T>,
) -> Option<T> {
    let mut extended: Option<T> = None;
    for index in objects..inventory.objects.len() {
        if !palisade_net::model::is_lone_endpoint(inventory, index) {
            return None;
        }
        extended = Some(extend(extended.as_ref().unwrap_or(base), index)?);
    }
    extended
}

/// The kinds [`may_be_kept`] keeps: the controllers of Pods that are themselves made by a
/// controller.
pub const KEPT_KINDS: &[(&str, &str)] = &[("apps", "ReplicaSet"), ("batch", "Job")];

/// Whether the object at `index` is one the network (its engine and facts) never reads:
/// every object [`is_unseen`] names, and besides those any object that is no endpoint (no pod
/// spec, or judged through a controller the inventory holds; nor of a kind with several pod
/// templates, whose templates are endpoints) and of no kind the network reads
/// as such (`palisade_net::READS`: namespaces, Services, what exposes them, policies, the
/// ConfigMaps it reads): a binding, a ServiceAccount, a Secret, another ConfigMap, a custom
/// resource.
///
/// An object [`is_unseen`] names is seen when `stands_apart` (its labels set it apart from
/// its controller: `crate::network::stands_apart`): it is an endpoint of its own.
pub fn is_unseen_by_network(
    inventory: &Inventory,
    index: usize,
    stands_apart: impl FnOnce() -> bool,
) -> bool {
    let Some(object) = inventory.objects.get(index) else {
        return false;
    };
    if is_unseen(inventory, index) {
        return !stands_apart();
    }
    let id = &object.id;
    let kind = (id.group(), id.kind.as_str());
    // Pods are read as endpoints, which the pod-spec test below decides; of the ConfigMaps,
    // only those the network reads.
    let read = match kind {
        ("", "Pod") => false,
        ("", "ConfigMap") => read_by_network(inventory, object),
        _ => palisade_net::READS.contains(&kind),
    };
    let endpoint = id.kind != "PodTemplate"
        && palisade_inventory::pod_spec(object).is_some()
        && inventory.controller_of(index).is_none();
    // The templates of a kind with several are endpoints read from manifests.
    let templates = palisade_core::pod_template::grouped_site(id.group(), &id.kind).is_some();
    !read && !endpoint && !templates
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    /// `unseen` of every object of `inventory`, in order.
    fn each(inventory: &Inventory, unseen: fn(&Inventory, usize) -> bool) -> Vec<bool> {
        (0..inventory.objects.len())
            .map(|i| unseen(inventory, i))
            .collect()
    }

    /// [`is_unseen_by_network`] of every object of `inventory`, in order, with the answer
    /// given without a network (labels that differ at all set an object apart).
    fn each_by_network(inventory: &Inventory) -> Vec<bool> {
        (0..inventory.objects.len())
            .map(|i| is_unseen_by_network(inventory, i, || inventory.relabelled(i).is_some()))
            .collect()
    }

    /// A Deployment and its ReplicaSet in namespace `shop` (uids `d-1`, `rs-1`), for tests of
    /// objects judged against them.
    pub(crate) const DEPLOYMENT_AND_REPLICA_SET: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d-1}
spec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop, uid: rs-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}
spec: {template: {spec: {containers: [{name: c, image: 'a:1'}]}}}
---
";

    #[test]
    fn only_controlled_workloads_configmaps_and_secrets_but_tokens_are_unseen() {
        let text = [
            DEPLOYMENT_AND_REPLICA_SET,
            "\
apiVersion: v1
kind: Pod
metadata: {name: web-1-a, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}
spec: {containers: [{name: c, image: 'a:1'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1-b, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}
spec: {nodeName: n1, containers: [{name: c, image: 'a:1'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: alone, namespace: shop}
spec: {containers: [{name: c, image: 'a:1'}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
---
apiVersion: v1
kind: Secret
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: shop, annotations: {kubernetes.io/service-account.name: web}}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: ConfigMap
metadata: {name: leaked, namespace: shop}
data: {token: eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJrdWJlLXN5c3RlbSIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50Lm5hbWUiOiJkZXBsb3llciIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpkZXBsb3llciJ9.c2lnbmF0dXJl}
---
apiVersion: v1
kind: Secret
metadata: {name: leaked, namespace: shop}
stringData: {token: eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJrdWJlLXN5c3RlbSIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50Lm5hbWUiOiJkZXBsb3llciIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpkZXBsb3llciJ9.c2lnbmF0dXJl}
",
        ]
        .concat();
        let loaded = load_text("c.yaml", &text, &Limits::default());
        let unseen = each(&loaded.inventory, is_unseen);
        assert_eq!(
            unseen,
            [
                false, true, true, false, false, true, false, true, false, false, false
            ],
            "Deployment, RS, Pod, placed Pod, lone Pod, ConfigMap, aws-auth, Secret, token Secret, and a ConfigMap and Secret holding a leaked token (the escalation graph reads it)"
        );
        assert!(!is_unseen(&loaded.inventory, 99));
        let by_network = each_by_network(&loaded.inventory);
        assert_eq!(
            by_network,
            [
                false, true, true, true, false, true, true, true, true, true, true
            ],
            "a placed Pod, the aws-auth ConfigMap and Secrets are nothing to the network"
        );
    }

    #[test]
    fn the_network_sees_the_config_maps_it_reads() {
        let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  infrastructure: {parametersRef: {group: '', kind: ConfigMap, name: gw-options}}
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gw-options, namespace: shop}
data: {service: 'spec: {type: ClusterIP}'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: defaults, namespace: istio-system, labels: {gateway.istio.io/defaults-for-class: istio}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: c, image: 'nginx:1', args: ['--tcp-services-configmap=ingress-nginx/tcp']}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tcp, namespace: ingress-nginx}
data: {'5432': 'data/postgres:5432'}
";
        let loaded = load_text("g.yaml", text, &Limits::default());
        assert_eq!(
            each(&loaded.inventory, is_unseen),
            [false, false, true, false, false, false],
            "the Gateway, its parameters, another ConfigMap, the class defaults, an ingress-nginx \
             controller and the TCP services it publishes"
        );
        assert_eq!(
            each_by_network(&loaded.inventory),
            [false, false, true, false, false, false]
        );
    }

    #[test]
    fn the_network_sees_its_kinds_and_its_endpoints() {
        let text = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: shop}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: t, namespace: shop}
template: {spec: {containers: [{name: c, image: 'a:1'}]}}
";
        let loaded = load_text("c.yaml", text, &Limits::default());
        let by_network = each_by_network(&loaded.inventory);
        assert_eq!(by_network, [false, false, false, true, true]);
    }
}
