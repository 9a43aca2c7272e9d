"""A synthetic cluster snapshot for the benchmarks: PODS pods in 100 namespaces with their
Deployments and ReplicaSets (owner references), Services, ServiceAccounts and RBAC; one
Deployment in 50 privileged, one Service in 100 a LoadBalancer.
Usage: synthetic_cluster.py PATH PODS."""
import json, sys
path, pods = sys.argv[1], int(sys.argv[2])
namespaces = 100
per_deploy = 5
items = []
def meta(kind, name, ns=None, **extra):
    m = {"name": name, "uid": f"{kind.lower()}-{ns}-{name}", "resourceVersion": "1",
         "creationTimestamp": "2026-11-26T00:00:00Z",
         "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                            "time": "2026-11-26T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]}
    if ns: m["namespace"] = ns
    m.update(extra)
    return m
def spec(sa, privileged):
    return {"serviceAccountName": sa, "containers": [{"name": "app", "image": "registry.example.com/app:1.2.3",
            "securityContext": {"privileged": privileged}, "resources": {"requests": {"cpu": "100m"}},
            "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler"}
for n in range(namespaces):
    ns = f"team{n}"
    items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("Namespace", ns)})
deploys = pods // per_deploy
for d in range(deploys):
    ns = f"team{d % namespaces}"
    name = f"svc{d}"
    sa = f"sa{d % 20}"
    labels = {"app": name}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("Deployment", name, ns, labels=labels),
           "spec": {"replicas": per_deploy, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": spec(sa, d % 50 == 0)}}}
    rs_name = f"{name}-7d9f8c6b5"
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": meta("ReplicaSet", rs_name, ns, labels=labels, ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": f"deployment-{ns}-{name}", "controller": True}]),
          "spec": dep["spec"]}
    items += [dep, rs]
    for p in range(per_deploy):
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": meta("Pod", f"{rs_name}-{p:05d}", ns, labels=labels, ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": f"replicaset-{ns}-{rs_name}", "controller": True}]),
                      "spec": dict(spec(sa, d % 50 == 0), nodeName=f"node-{(d * per_deploy + p) % 500:03d}"),
                      "status": {"phase": "Running", "podIP": "10.0.0.1"}})
    items.append({"apiVersion": "v1", "kind": "Service", "metadata": meta("Service", name, ns),
                  "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}], "type": "LoadBalancer" if d % 100 == 0 else "ClusterIP"}})
for n in range(namespaces):
    ns = f"team{n}"
    for s in range(20):
        items.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("ServiceAccount", f"sa{s}", ns)})
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("Role", "deployer", ns),
                  "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "patch"]}]})
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("RoleBinding", "deployer", ns),
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
                  "subjects": [{"kind": "ServiceAccount", "name": "sa1", "namespace": ns}]})
items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta("ClusterRoleBinding", "ops-admin"),
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
              "subjects": [{"kind": "ServiceAccount", "name": "sa0", "namespace": "team0"}]})
with open(path, "w") as f:
    f.write('{"apiVersion": "palisade.dev/v1alpha1", "kind": "ClusterSnapshot", "metadata": {"capturedAt": "2026-11-26T00:00:00Z", "palisadeVersion": "bench"}, "errors": [], "resources": [],\n"items": [\n')
    f.write(",\n".join(json.dumps(i, separators=(",", ":")) for i in items))
    f.write("\n]}\n")
print(f"synthetic snapshot: {len(items)} objects ({pods} pods)")
