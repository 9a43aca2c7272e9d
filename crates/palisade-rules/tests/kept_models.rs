//! A cluster prepared for admission lends its kept models (the network, the escalation graph,
//! the RBAC grants) to evaluations that cannot change them. Lent or rebuilt, every rule must
//! give the same findings: each object below is judged against the prepared cluster and
//! against a cluster that keeps nothing, and the two reports must be equal.

use palisade_inventory::{Inventory, Limits, load_text};
use palisade_rules::registry::all_rules;
use palisade_rules::settings::RuleSettings;
use palisade_rules::{Before, ClusterModels, engine::evaluate_objects};

const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: backup, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: backup-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: backup, namespace: shop}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d-1}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: backup
      containers: [{name: web, image: 'nginx:1.27', ports: [{containerPort: 80}], securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop, uid: rs-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: backup
      containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: backup-token, namespace: shop, annotations: {kubernetes.io/service-account.name: backup}}
type: kubernetes.io/service-account-token
data: {token: YQ==}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-agent, namespace: shop}
spec:
  selector: {matchLabels: {app: log}}
  template:
    metadata: {labels: {app: log}}
    spec: {serviceAccountName: backup, containers: [{name: log, image: 'log:1'}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tools, namespace: shop, uid: d-2}
spec:
  selector: {matchLabels: {app: tools}}
  template:
    metadata: {labels: {app: tools}}
    spec: {automountServiceAccountToken: false, containers: [{name: t, image: 'tools:1', securityContext: {privileged: true}}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: tools-1, namespace: shop, uid: rs-3, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: tools, uid: d-2, controller: true}]}
spec:
  selector: {matchLabels: {app: tools}}
  template:
    metadata: {labels: {app: tools}}
    spec: {automountServiceAccountToken: false, containers: [{name: t, image: 'tools:1', securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-2-x, namespace: shop, labels: {app: api}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-2, uid: rs-2, controller: true}]}
spec: {containers: [{name: api, image: 'api:1'}]}
";

/// Objects judged at admission, each as the API server would send it.
const JUDGED: &[&str] = &[
    // A Pod of the cluster's ReplicaSet: unseen, the kept models are lent.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-a, namespace: shop, labels: {app: web}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}\nspec: {serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]}\n",
    // Pods of the cluster's ReplicaSet with labels its template does not give: a mesh's,
    // which no selector reads (lent), and one that leaves the LoadBalancer Service (seen: an
    // endpoint of its own).
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-m, namespace: shop, labels: {app: web, security.istio.io/tlsMode: istio}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}\nspec: {serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]}\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-o, namespace: shop, labels: {app: other}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}\nspec: {serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]}\n",
    // A Pod of the privileged tools Deployment whose labels put it behind the LoadBalancer
    // Service: the Deployment is exposed through it (the graph is rebuilt).
    "apiVersion: v1\nkind: Pod\nmetadata: {name: tools-1-w, namespace: shop, labels: {app: web}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: tools-1, uid: rs-3, controller: true}]}\nspec: {automountServiceAccountToken: false, containers: [{name: t, image: 'tools:1', securityContext: {privileged: true}}]}\n",
    // The same Pod already placed on a node: seen (its node joins the Deployment's).
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1-b, namespace: shop, labels: {app: web}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}]}\nspec: {nodeName: n1, serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27', securityContext: {privileged: true}}]}\n",
    // A standalone Pod running as the admin account: seen.
    "apiVersion: v1\nkind: Pod\nmetadata: {name: alone, namespace: shop, labels: {app: web}}\nspec: {serviceAccountName: backup, containers: [{name: c, image: 'busybox:1.36'}]}\n",
    // A ReplicaSet that joins the cluster's orphan Pod to the Deployment.
    "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: api-2, namespace: shop, uid: rs-2, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}\nspec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: 'api:1'}]}}}\n",
    // An update of the cluster's ReplicaSet.
    "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: shop, uid: rs-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]}\nspec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {hostNetwork: true, serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27'}]}}}\n",
    // Updates of the cluster's Deployment that change nothing a model reads (a new image, a
    // scale, a restart, server-kept fields): the kept models are lent although it is seen.
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1, resourceVersion: '2', generation: 2, annotations: {deployment.kubernetes.io/revision: '2'}}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {kubectl.kubernetes.io/restartedAt: '2026-12-03T10:00:00Z'}}\n    spec:\n      serviceAccountName: backup\n      containers: [{name: web, image: 'nginx:1.28', resources: {limits: {memory: 1Gi}}, ports: [{containerPort: 80}], securityContext: {privileged: true}}]\nstatus: {replicas: 3}\n",
    // Updates that change what the models read: the account, the labels, the privileges.
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: default\n      containers: [{name: web, image: 'nginx:1.28', ports: [{containerPort: 80}], securityContext: {privileged: true}}]\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      serviceAccountName: backup\n      containers: [{name: web, image: 'nginx:1.28', ports: [{containerPort: 80}], securityContext: {privileged: true}}]\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d-1}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      serviceAccountName: backup\n      containers: [{name: web, image: 'nginx:1.28', ports: [{containerPort: 80}]}]\n",
    // The privileged Deployment reaches the DaemonSet's token through its node; a new image
    // keeps that, unprivileged it does not.
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tools, namespace: shop, uid: d-2}\nspec:\n  selector: {matchLabels: {app: tools}}\n  template:\n    metadata: {labels: {app: tools}}\n    spec: {automountServiceAccountToken: false, containers: [{name: t, image: 'tools:2', securityContext: {privileged: true}}]}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tools, namespace: shop, uid: d-2}\nspec:\n  selector: {matchLabels: {app: tools}}\n  template:\n    metadata: {labels: {app: tools}}\n    spec: {automountServiceAccountToken: false, containers: [{name: t, image: 'tools:2'}]}\n",
    // A ConfigMap, and the EKS one that maps identities.
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {LOG: debug}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata: {mapRoles: ''}\n",
    // A ConfigMap and an Opaque Secret holding the admin account's token (the graph reads
    // them), and a Deployment whose pods load that ConfigMap.
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leaked, namespace: shop}\ndata: {token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpiYWNrdXAifQ.c2ln}\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: leaked, namespace: shop}\ntype: Opaque\nstringData: {token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpiYWNrdXAifQ.c2ln}\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reader, namespace: shop}\nspec:\n  selector: {matchLabels: {app: reader}}\n  template:\n    metadata: {labels: {app: reader}}\n    spec: {automountServiceAccountToken: false, containers: [{name: r, image: 'r:1', env: [{name: T, value: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpiYWNrdXAifQ.c2ln}]}]}\n",
    // A PodTemplate behind the exposed Service: no endpoint, but a workload the internet
    // reaches (the exposure edges read it).
    "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: web-template, namespace: shop}\ntemplate:\n  metadata: {labels: {app: web}}\n  spec: {serviceAccountName: backup, containers: [{name: web, image: 'nginx:1.27'}]}\n",
    // A binding, a Service, a NetworkPolicy.
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: exec, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: Group, name: 'system:authenticated', apiGroup: rbac.authorization.k8s.io}]\n",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: web-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: shop}]\n",
    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}\nautomountServiceAccountToken: false\n",
    // The cluster's token Secret: its value rotated (lent), then naming another account.
    "apiVersion: v1\nkind: Secret\nmetadata: {name: backup-token, namespace: shop, annotations: {kubernetes.io/service-account.name: backup}}\ntype: kubernetes.io/service-account-token\ndata: {token: Yg==}\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: backup-token, namespace: shop, annotations: {kubernetes.io/service-account.name: backup, reconcile.external-secrets.io/data-hash: h2}}\ntype: kubernetes.io/service-account-token\ndata: {token: Yw==}\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: backup-token, namespace: shop, annotations: {kubernetes.io/service-account.name: default}}\ntype: kubernetes.io/service-account-token\n",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: other-token, namespace: shop, annotations: {kubernetes.io/service-account.name: backup}}\ntype: kubernetes.io/service-account-token\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {type: NodePort, selector: {app: api}, ports: [{port: 8080}]}\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: nothing, namespace: shop}\nspec: {podSelector: {matchLabels: {app: nothing}}, policyTypes: [Ingress]}\n",
];

/// The findings on the object `text` holds, judged against `cluster` with `models`. The
/// cluster is `before` the object (what RBAC021 compares with) as the prepared cluster's
/// models say, also when `models` keep nothing.
fn judge(
    cluster: &mut Inventory,
    (models, before): (&ClusterModels, &Before),
    text: &str,
) -> Vec<String> {
    let object = load_text("request.yaml", text, &Limits::default())
        .inventory
        .objects
        .remove(0);
    let (index, previous) = cluster.insert(object);
    let out = evaluate_objects(
        cluster,
        all_rules(),
        &RuleSettings::default(),
        &[index],
        (Some(models), Some(before)),
    );
    cluster.restore(index, previous);
    let mut findings: Vec<String> = out
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {:?} at {:?}",
                f.rule_id(),
                f.message,
                f.evidence(),
                f.location
            )
        })
        .collect();
    findings.sort();
    findings
}

#[test]
fn lent_models_give_the_findings_rebuilt_ones_give() {
    let mut cluster = load_text("cluster.yaml", CLUSTER, &Limits::default()).inventory;
    let prepared = ClusterModels::prepare(&cluster, all_rules());
    let nothing_kept = ClusterModels::default();
    let before = prepared.before(&cluster);
    let mut judged_with_findings = 0;
    for text in JUDGED {
        let lent = judge(&mut cluster, (&prepared, &before), text);
        let rebuilt = judge(&mut cluster, (&nothing_kept, &before), text);
        assert_eq!(lent, rebuilt, "judging {text}");
        judged_with_findings += usize::from(!lent.is_empty());
    }
    assert!(judged_with_findings >= 6, "the objects are judged at all");
}

/// One change to a Deployment of the cluster: some leave it alike for the models
/// (`palisade_inventory::alike`), the others change what they read.
fn change(deployment: &mut serde_json::Value, which: usize) {
    let template = &mut deployment["spec"]["template"];
    let container = &mut template["spec"]["containers"][0];
    match which {
        0 => container["image"] = "nginx:1.29".into(),
        1 => deployment["spec"]["replicas"] = 7.into(),
        2 => container["resources"] = serde_json::json!({"limits": {"memory": "1Gi"}}),
        3 => container["readinessProbe"] = serde_json::json!({"httpGet": {"port": 80}}),
        4 => {
            template["metadata"]["annotations"] =
                serde_json::json!({"kubectl.kubernetes.io/restartedAt": "2026-12-03T10:00:00Z"})
        }
        5 => deployment["metadata"]["resourceVersion"] = "99".into(),
        6 => deployment["status"] = serde_json::json!({"replicas": 7}),
        // What the models read.
        7 => template["spec"]["serviceAccountName"] = "default".into(),
        8 => template["metadata"]["labels"]["app"] = "other".into(),
        9 => container["securityContext"] = serde_json::json!({"privileged": false}),
        10 => template["spec"]["hostNetwork"] = true.into(),
        11 => {
            template["spec"]["volumes"] =
                serde_json::json!([{"name": "root", "hostPath": {"path": "/"}}])
        }
        12 => container["ports"] = serde_json::json!([{"containerPort": 9090}]),
        _ => template["spec"]["automountServiceAccountToken"] = false.into(),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any mix of changes to the cluster's Deployments, alike for the models or not, gives
    /// the same findings with the kept models lent as with every model rebuilt.
    #[test]
    fn updates_give_the_findings_a_rebuild_gives(
        deployment in 0..2usize,
        changes in proptest::collection::vec(0..14usize, 1..4),
    ) {
        let mut cluster = load_text("cluster.yaml", CLUSTER, &Limits::default()).inventory;
        let prepared = ClusterModels::prepare(&cluster, all_rules());
        let name = ["web", "tools"][deployment];
        let mut value = cluster
            .objects
            .iter()
            .find(|o| o.id.kind == "Deployment" && o.id.name.as_deref() == Some(name))
            .unwrap()
            .value
            .clone();
        for which in changes {
            change(&mut value, which);
        }
        let text = serde_json::to_string(&value).unwrap();
        let before = prepared.before(&cluster);
        let lent = judge(&mut cluster, (&prepared, &before), &text);
        let rebuilt = judge(&mut cluster, (&ClusterModels::default(), &before), &text);
        proptest::prop_assert_eq!(lent, rebuilt, "{}", text);
    }
}

/// The identity of the one object `text` holds.
fn identity(text: &str) -> std::sync::Arc<palisade_core::ObjectRef> {
    load_text("doc.yaml", text, &Limits::default())
        .inventory
        .objects
        .remove(0)
        .id
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever the cluster holds (any of the cluster's objects, and any of the judged ones
    /// already let in), judging any object gives the same findings with the kept models lent
    /// as with every model rebuilt: each model's `unseen` predicate holds in clusters other
    /// than the one it was written against (with or without the exposed Service, the
    /// policies, the controllers).
    ///
    /// And when the models say the judged object leaves them as they are
    /// (`ClusterModels::unchanged_by`, which spares a webhook an early read of the cluster),
    /// they must still be the cluster's once it holds the object: any object judged next
    /// gets the findings a rebuild gives.
    #[test]
    fn any_cluster_lends_what_a_rebuild_gives(
        kept in proptest::collection::vec(proptest::bool::ANY, 16),
        added in proptest::collection::vec(0..JUDGED.len(), 0..4),
        judged in 0..JUDGED.len(),
        next in 0..JUDGED.len(),
    ) {
        let mut docs: Vec<&str> = CLUSTER
            .split("\n---\n")
            .zip(kept.iter().cycle())
            .filter(|(_, keep)| **keep)
            .map(|(doc, _)| doc)
            .collect();
        let mut ids: Vec<_> = docs.iter().map(|doc| identity(doc)).collect();
        for &a in &added {
            let id = identity(JUDGED[a]);
            if !ids.contains(&id) {
                ids.push(id);
                docs.push(JUDGED[a]);
            }
        }
        let text = docs
            .iter()
            .map(|d| d.trim_end_matches('\n'))
            .collect::<Vec<_>>()
            .join("\n---\n");
        let mut cluster = load_text("cluster.yaml", &text, &Limits::default()).inventory;
        let prepared = ClusterModels::prepare(&cluster, all_rules());
        let before = prepared.before(&cluster);
        let lent = judge(&mut cluster, (&prepared, &before), JUDGED[judged]);
        let rebuilt = judge(&mut cluster, (&ClusterModels::default(), &before), JUDGED[judged]);
        proptest::prop_assert_eq!(lent, rebuilt, "judging {} in\n{}", JUDGED[judged], text);
        let object = load_text("request.yaml", JUDGED[judged], &Limits::default())
            .inventory
            .objects
            .remove(0);
        let (index, previous) = cluster.insert(object);
        let unchanged = prepared.unchanged_by(&cluster, &[index]);
        cluster.restore(index, previous);
        if unchanged && next != judged {
            // The cluster once the API server holds the object: in place of the object of its
            // identity, or after the others (where `insert` puts it), read afresh. (An insert
            // left pending under the next one would not be the cluster: `insert` places one
            // object at a time, and a webhook keeps or restores each.)
            let judged_id = identity(JUDGED[judged]);
            let mut held = docs.clone();
            match ids.iter().position(|id| *id == judged_id) {
                Some(i) => held[i] = JUDGED[judged],
                None => held.push(JUDGED[judged]),
            }
            let held = held
                .iter()
                .map(|d| d.trim_end_matches('\n'))
                .collect::<Vec<_>>()
                .join("\n---\n");
            let mut holding = load_text("cluster.yaml", &held, &Limits::default()).inventory;
            let before = prepared.before(&holding);
            let lent = judge(&mut holding, (&prepared, &before), JUDGED[next]);
            let rebuilt = judge(&mut holding, (&ClusterModels::default(), &before), JUDGED[next]);
            proptest::prop_assert_eq!(
                lent,
                rebuilt,
                "judging {} after {} in\n{}",
                JUDGED[next],
                JUDGED[judged],
                text
            );
        }
    }
}
