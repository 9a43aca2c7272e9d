//! Whether an updated object differs from the version it replaces only in what no
//! cluster-wide model reads (the network, the escalation graph, the RBAC model). Of any kind:
//! only in `resourceVersion`, `generation` and `managedFields` (an unchanged object applied
//! again). Of a workload or Secret, also in the rest of what the API server keeps (`status`)
//! and the annotations `kubectl apply` and the Deployment controller write; of a workload, the
//! rollout settings (`replicas`, `strategy`, ...), the annotation `kubectl rollout restart`
//! writes, and the containers' images, pull policies, resources and probes; of a Secret, its
//! values and the hash of them the External Secrets Operator writes (the models read its type
//! and the account it names), unless either version's values hold a Kubernetes credential,
//! which the escalation graph reads (`palisade_k8s::credential`).
//!
//! This is most of a cluster's update traffic (a new image, a scale, a restart, a rotated
//! certificate or synchronised secret), and a cluster
//! prepared for admission lends such an update the models it keeps, as it does for the objects
//! the models never see. The list is an allow-list on purpose: a change anywhere else makes the
//! models be built again. A model that starts reading one of these fields must take it off the
//! list; `palisade-rules/tests/kept_models.rs` judges such updates with the models lent and
//! rebuilt, and fails when the two differ.

use serde_json::Value;

use crate::object::Object;
use crate::podspec::pod_spec;

/// Kept by the API server, not written by users.
const SERVER_METADATA: &[&str] = &["resourceVersion", "generation", "managedFields"];

/// Annotations of the object that tools rewrite on each apply or rollout.
const CHURN_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// Annotations of the pod template that `kubectl rollout restart` writes.
const TEMPLATE_CHURN_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/restartedAt"];

/// A controller's rollout settings, beside its pod template.
const ROLLOUT_FIELDS: &[&str] = &[
    "replicas",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "minReadySeconds",
    "paused",
    "strategy",
    "updateStrategy",
];

/// Fields of a container (regular, init or ephemeral) no model reads.
const CONTAINER_FIELDS: &[&str] = &[
    "image",
    "imagePullPolicy",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
];

/// A Secret's values.
const SECRET_VALUES: &[&str] = &["data", "stringData"];

/// Annotations of a Secret that follow its values: the External Secrets Operator writes a hash
/// of the data it synchronised.
const SECRET_VALUE_ANNOTATIONS: &[&str] = &["reconcile.external-secrets.io/data-hash"];

/// Whether `after` (an update of `before`, the same identity) differs from `before` only in
/// the fields this module names: of any kind, the metadata the API server keeps; of a
/// workload or Secret, the rest of the list.
pub fn alike_for_models(before: &Object, after: &Object) -> bool {
    if before.id != after.id {
        return false;
    }
    // An update that changes nothing but what the API server keeps, of any kind (a
    // `helm upgrade` or a GitOps tool applying an unchanged Service, policy or binding).
    if before.value == after.value
        || without_server_metadata(before) == without_server_metadata(after)
    {
        return true;
    }
    if !(pod_spec(after).is_some() || is_secret(after)) {
        return false;
    }
    // The escalation graph reads a Kubernetes credential in a Secret's values as a step to
    // its identity: values that hold one, before or after, are read.
    if is_secret(after) && [before, after].iter().any(|o| holds_credential(o)) {
        return false;
    }
    // A ReplicaSet scaled from or to zero starts or stops being judged on its own when its
    // template has more power than its Deployment's (`crate::powers`).
    if crate::powers::runs_pods(before) != crate::powers::runs_pods(after) {
        return false;
    }
    stripped(after) == stripped(before)
}

fn holds_credential(object: &Object) -> bool {
    let now = palisade_core::date::unix_now();
    palisade_k8s::credential::object_holds_credential(&object.value, now)
}

fn is_secret(object: &Object) -> bool {
    object.id.group().is_empty() && object.id.kind == "Secret"
}

/// The object's value without the metadata the API server keeps.
fn without_server_metadata(object: &Object) -> Value {
    let mut value = object.value.clone();
    remove_keys(value.pointer_mut("/metadata"), SERVER_METADATA);
    value
}

/// The object's value without the fields no model reads.
fn stripped(object: &Object) -> Value {
    let mut value = object.value.clone();
    let spec = pod_spec(object);
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
        if is_secret(object) {
            for key in SECRET_VALUES {
                map.remove(*key);
            }
        }
    }
    remove_keys(value.pointer_mut("/metadata"), SERVER_METADATA);
    remove_annotations(value.pointer_mut("/metadata"), CHURN_ANNOTATIONS);
    if is_secret(object) {
        remove_annotations(value.pointer_mut("/metadata"), SECRET_VALUE_ANNOTATIONS);
    }
    if let Some(spec) = spec {
        // The rollout settings sit beside the template (`/spec/template/spec`), never in a
        // pod spec itself.
        if spec.pointer != "/spec" {
            remove_keys(value.pointer_mut("/spec"), ROLLOUT_FIELDS);
        }
        remove_annotations(
            value.pointer_mut(spec.metadata_pointer),
            TEMPLATE_CHURN_ANNOTATIONS,
        );
        if let Some(pod) = value.pointer_mut(spec.pointer) {
            for kind in crate::podspec::ContainerKind::ALL {
                let containers = pod.get_mut(kind.field()).and_then(Value::as_array_mut);
                for container in containers.into_iter().flatten() {
                    remove_keys(Some(container), CONTAINER_FIELDS);
                }
            }
        }
    }
    value
}

fn remove_keys(value: Option<&mut Value>, keys: &[&str]) {
    if let Some(map) = value.and_then(Value::as_object_mut) {
        for key in keys {
            map.remove(*key);
        }
    }
}

/// Removes `keys` from the `annotations` of `metadata`, and the map when that empties it.
fn remove_annotations(metadata: Option<&mut Value>, keys: &[&str]) {
    let Some(metadata) = metadata.and_then(Value::as_object_mut) else {
        return;
    };
    let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for key in keys {
        annotations.remove(*key);
    }
    if annotations.is_empty() {
        metadata.remove("annotations");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, load_text};

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d-1, resourceVersion: '10', generation: 3}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: 'nginx:1.27', ports: [{containerPort: 80}], resources: {limits: {cpu: 1}}}]
status: {replicas: 2}
";

    fn object(text: &str) -> Object {
        load_text("o.yaml", text, &Limits::default())
            .inventory
            .objects
            .remove(0)
    }

    /// The Deployment with `from` replaced by `to` in its text.
    fn changed(from: &str, to: &str) -> Object {
        assert!(DEPLOYMENT.contains(from), "{from}");
        object(&DEPLOYMENT.replacen(from, to, 1))
    }

    #[test]
    fn churn_and_images_leave_a_workload_alike() {
        let before = object(DEPLOYMENT);
        for (from, to) in [
            ("nginx:1.27", "nginx:1.28"),
            ("replicas: 2\n", "replicas: 5\n"),
            (
                "resourceVersion: '10', generation: 3",
                "resourceVersion: '11', generation: 4",
            ),
            ("{limits: {cpu: 1}}", "{limits: {cpu: 2}}"),
            (
                "status: {replicas: 2}",
                "status: {replicas: 1, readyReplicas: 1}",
            ),
            (
                "metadata: {labels: {app: web}}",
                "metadata: {labels: {app: web}, annotations: {kubectl.kubernetes.io/restartedAt: '2026-12-03T10:00:00Z'}}",
            ),
            (
                "generation: 3}",
                "generation: 3, annotations: {deployment.kubernetes.io/revision: '4'}}",
            ),
            ("ports:", "readinessProbe: {httpGet: {port: 80}}, ports:"),
        ] {
            assert!(
                alike_for_models(&before, &changed(from, to)),
                "{from} -> {to}"
            );
        }
    }

    /// A ReplicaSet scaled within its running range is alike; one scaled from or to zero is
    /// not (it may start or stop being judged on its own, `crate::powers`).
    #[test]
    fn a_replica_set_scaled_across_zero_differs() {
        let replica_set = |replicas: u32| {
            object(
                &DEPLOYMENT
                    .replacen("kind: Deployment", "kind: ReplicaSet", 1)
                    .replacen("replicas: 2\n", &format!("replicas: {replicas}\n"), 1),
            )
        };
        assert!(alike_for_models(&replica_set(2), &replica_set(3)));
        assert!(!alike_for_models(&replica_set(1), &replica_set(0)));
        assert!(!alike_for_models(&replica_set(0), &replica_set(1)));
    }

    /// Any kind applied again unchanged is alike (only what the API server keeps differs);
    /// of a kind other than a workload or Secret, any other change is not.
    #[test]
    fn an_unchanged_object_of_any_kind_is_alike() {
        let service = |extra: &str| {
            object(&format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop{extra}}}\nspec: {{type: LoadBalancer, selector: {{app: web}}, ports: [{{port: 80}}]}}\n"
            ))
        };
        let before = service(", resourceVersion: '10'");
        assert!(alike_for_models(
            &before,
            &service(", resourceVersion: '11', managedFields: []")
        ));
        assert!(!alike_for_models(&before, &service(", labels: {team: a}")));
        let changed = object(
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}\n",
        );
        assert!(!alike_for_models(&before, &changed));
    }

    #[test]
    fn what_models_read_makes_a_workload_differ() {
        let before = object(DEPLOYMENT);
        for (from, to) in [
            ("serviceAccountName: web", "serviceAccountName: admin"),
            (
                "metadata: {labels: {app: web}}",
                "metadata: {labels: {app: api}}",
            ),
            ("containerPort: 80", "containerPort: 8080"),
            ("ports:", "securityContext: {privileged: true}, ports:"),
            ("uid: d-1", "uid: d-2"),
            (
                "generation: 3}",
                "generation: 3, annotations: {team: payments}}",
            ),
            (
                "serviceAccountName: web",
                "serviceAccountName: web\n      hostNetwork: true",
            ),
            ("replicas: 2\n", "replicas: 2\n  suspend: true\n"),
        ] {
            assert!(
                !alike_for_models(&before, &changed(from, to)),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn a_secret_with_other_values_is_alike_with_another_account_it_differs() {
        let token = "apiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: shop, resourceVersion: '1', annotations: {kubernetes.io/service-account.name: backup}}\ntype: kubernetes.io/service-account-token\ndata: {token: YQ==}\n";
        let rotated = token
            .replace("YQ==", "Yg==")
            .replace("resourceVersion: '1'", "resourceVersion: '2'");
        assert!(alike_for_models(&object(token), &object(&rotated)));
        let synced = token.replace("data: {token: YQ==}", "stringData: {token: b}");
        assert!(alike_for_models(&object(token), &object(&synced)));
        // Synchronised by the External Secrets Operator, with the hash of the new data.
        let hashed = |hash: &str| {
            object(&token.replace(
                "{kubernetes.io/service-account.name: backup}",
                &format!("{{kubernetes.io/service-account.name: backup, reconcile.external-secrets.io/data-hash: {hash}}}"),
            ))
        };
        assert!(alike_for_models(&hashed("h1"), &hashed("h2")));
        for (from, to) in [
            (
                "service-account.name: backup",
                "service-account.name: admin",
            ),
            ("type: kubernetes.io/service-account-token", "type: Opaque"),
            ("namespace: shop,", "namespace: shop, labels: {a: b},"),
        ] {
            let other = object(&token.replace(from, to));
            assert!(!alike_for_models(&object(token), &other), "{from} -> {to}");
        }
        // An Opaque Secret whose values gain or lose a Kubernetes credential: the escalation
        // graph reads it as a step to the credential's identity.
        let opaque = "apiVersion: v1\nkind: Secret\nmetadata: {name: ci, namespace: shop}\ntype: Opaque\nstringData: {token: plain}\n";
        let leaked = opaque.replace("plain", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJrdWJlLXN5c3RlbSIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VydmljZS1hY2NvdW50Lm5hbWUiOiJkZXBsb3llciIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDprdWJlLXN5c3RlbTpkZXBsb3llciJ9.c2lnbmF0dXJl");
        assert!(alike_for_models(
            &object(opaque),
            &object(&opaque.replace("plain", "other"))
        ));
        assert!(!alike_for_models(&object(opaque), &object(&leaked)));
        assert!(!alike_for_models(&object(&leaked), &object(opaque)));
    }

    /// Beyond what the API server keeps, only workloads and Secrets of one identity are
    /// alike (EKS's `aws-auth` ConfigMap maps identities to groups: its data is read).
    #[test]
    fn only_workloads_and_secrets_of_one_identity_are_alike() {
        let config =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: b}\n";
        assert!(alike_for_models(&object(config), &object(config)));
        let other_data = object(&config.replace("{a: b}", "{a: c}"));
        assert!(!alike_for_models(&object(config), &other_data));
        let elsewhere = changed("namespace: shop", "namespace: other");
        assert!(!alike_for_models(&object(DEPLOYMENT), &elsewhere));
    }
}
