//! SigmaHQ's Kubernetes audit rules (../shared/corpora/k8s-audit-logs/sigma) as a checklist:
//! every rule of the corpus is in `palisade_audit::sigma`, and for each, events are built from
//! the rule's own selection (every value of every listed field, and for `1 of selection_*`
//! every selection) and analysed with every detection on; one of the rule's counterparts must
//! fire on each. Sigma has no Kubernetes events of its own (its regression data holds none),
//! so the events are built here: a person (`alice`) from outside the cluster, allowed, in
//! namespace `app`. Needs the shared corpora: it fails when they are missing.

use std::path::{Path, PathBuf};

use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::{Alert, Engine, Event, Origin, Selection, Settings};
use palisade_inventory::Limits;
use serde_json::{Value, json};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/k8s-audit-logs/sigma/rules/application/kubernetes/audit")
}

/// Each Sigma rule of the corpus: (file name, parsed rule).
fn rules() -> Vec<(String, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap_or_else(|e| panic!("{} is required: {e}", corpus().display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let stream = palisade_inventory::yaml::parse_stream(&text, &Limits::default());
            assert!(stream.errors.is_empty(), "{}", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, stream.documents.into_iter().next().unwrap().value)
        })
        .collect()
}

/// One field condition of a selection: the field (with its modifier) and its alternatives.
type Condition = (String, Vec<Value>);

/// The selections the rule's condition combines, each a list of field conditions that must
/// all hold. `selection` alone; `a and 1 of b_*`: `a` joined with each `b_*` in turn.
fn alternatives(rule: &Value) -> Vec<Vec<Condition>> {
    let detection = rule["detection"].as_object().unwrap();
    let selection = |name: &str| -> Vec<Condition> {
        detection[name]
            .as_object()
            .unwrap_or_else(|| panic!("selection {name} is not a map"))
            .iter()
            .map(|(field, values)| {
                let values = match values {
                    Value::Array(items) => items.clone(),
                    one => vec![one.clone()],
                };
                (field.clone(), values)
            })
            .collect()
    };
    let condition = detection["condition"].as_str().unwrap();
    match condition.split_whitespace().collect::<Vec<_>>().as_slice() {
        [one] => vec![selection(one)],
        [all, "and", "1", "of", pattern] => {
            let prefix = pattern.strip_suffix('*').unwrap();
            detection
                .keys()
                .filter(|k| k.starts_with(prefix))
                .map(|k| {
                    let mut joined = selection(all);
                    joined.extend(selection(k));
                    joined
                })
                .collect()
        }
        _ => panic!("condition `{condition}`: the test reads `selection` and `a and 1 of b_*`"),
    }
}

/// Every assignment of one value to each field (the cross product), skipping values no
/// audit event can carry.
fn assignments(conditions: &[Condition]) -> Vec<Vec<(String, Value)>> {
    let mut out: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (field, values) in conditions {
        let values: Vec<&Value> = values
            .iter()
            // The API server never logs `replace`: `kubectl replace` sends `update`, which the
            // rules list too.
            .filter(|v| !(field == "verb" && v.as_str() == Some("replace")))
            .collect();
        out = out
            .into_iter()
            .flat_map(|done| {
                values.iter().map(move |v| {
                    let mut next = done.clone();
                    next.push((field.clone(), (*v).clone()));
                    next
                })
            })
            .collect();
    }
    out
}

/// Resources that live outside namespaces.
const CLUSTER_SCOPED: &[&str] = &[
    "namespaces",
    "clusterroles",
    "clusterrolebindings",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "selfsubjectrulesreviews",
    "nodes",
];

/// How a command in the request URI reaches a container.
#[derive(Clone, Copy)]
enum Command {
    /// `pods/exec` (`kubectl exec`).
    Exec,
    /// The kubelet's `run` endpoint through `nodes/proxy`.
    KubeletRun,
}

/// The audit events a set of field values describes: one, or for a command in the request
/// URI one per way it reaches a container.
fn events(fields: &[(String, Value)]) -> Vec<Value> {
    if fields.iter().any(|(f, _)| f == "requestURI|contains") {
        vec![
            event(fields, Command::Exec),
            event(fields, Command::KubeletRun),
        ]
    } else {
        vec![event(fields, Command::Exec)]
    }
}

/// The audit event a set of field values describes, with the request body the behaviour
/// needs (a pod, a binding, a Deployment's patch), as the API server logs it at the
/// `RequestResponse` level.
fn event(fields: &[(String, Value)], command: Command) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut verb = "get".to_string();
    let mut resource = "pods".to_string();
    let mut subresource: Option<String> = None;
    let mut namespace = "app".to_string();
    let mut group = String::new();
    let mut code: Option<u16> = None;
    let mut query = String::new();
    let mut agent = "kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef0".to_string();
    let mut pod_spec = json!({"containers": [{"name": "a", "image": "busybox"}]});
    for (field, value) in fields {
        match field.as_str() {
            "verb" => verb = text(value),
            "objectRef.resource" => resource = text(value),
            "objectRef.subresource" => subresource = Some(text(value)),
            "objectRef.namespace" => namespace = text(value),
            // Sigma writes `apiGroup` for `objectRef.apiGroup` in two rules.
            "objectRef.apiGroup" | "apiGroup" => group = text(value),
            "responseStatus.code" => {
                code = Some(match text(value).as_str() {
                    "ALLOW" => 200,
                    number => number.parse().unwrap(),
                })
            }
            // A shell or tool in the request URI: a command run by exec, or by the kubelet.
            "requestURI|contains" => match command {
                Command::Exec => {
                    verb = "create".into();
                    resource = "pods".into();
                    subresource = Some("exec".into());
                    query = format!("?command={}&container=a&stdin=true&tty=true", text(value));
                }
                Command::KubeletRun => {
                    verb = "create".into();
                    resource = "nodes".into();
                    subresource = Some("proxy".into());
                    query = format!("/run/app/web/a?cmd={}", text(value));
                }
            },
            "userAgent|contains" => agent = format!("{}/1.0", text(value)),
            "hostPath" => {
                pod_spec["volumes"] = json!([{"name": "d", "hostPath": {"path": "/srv/data"}}]);
                pod_spec["containers"][0]["volumeMounts"] =
                    json!([{"name": "d", "mountPath": "/data"}]);
            }
            "capabilities" => {
                pod_spec["containers"][0]["securityContext"] =
                    json!({"capabilities": {"add": ["NET_ADMIN"]}});
            }
            other => panic!("the test cannot build an event with `{other}`: teach it"),
        }
    }
    let namespaced = !CLUSTER_SCOPED.contains(&resource.as_str());
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
    let mut uri = prefix;
    if namespaced {
        uri.push_str(&format!("/namespaces/{namespace}"));
    }
    uri.push_str(&format!("/{resource}"));
    if verb != "create" || subresource.is_some() {
        uri.push_str("/x");
    }
    if let Some(sub) = &subresource {
        uri.push_str(&format!("/{sub}"));
    }
    uri.push_str(&query);
    let code = code.unwrap_or(if verb == "create" { 201 } else { 200 });
    let mut object_ref = json!({"resource": resource, "apiVersion": "v1", "name": "x"});
    if namespaced {
        object_ref["namespace"] = json!(namespace);
    }
    if !group.is_empty() {
        object_ref["apiGroup"] = json!(group);
    }
    if let Some(sub) = &subresource {
        object_ref["subresource"] = json!(sub);
    }
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": "5a5a5a5a-0000-0000-0000-000000000001",
        "stage": "ResponseComplete",
        "requestURI": uri,
        "verb": verb,
        "user": {"username": "alice", "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.10"],
        "userAgent": agent,
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": "2026-12-01T10:00:00.000000Z",
        "stageTimestamp": "2026-12-01T10:00:00.000000Z",
    });
    if let Some(body) = body(&verb, &resource, subresource.as_deref(), &pod_spec) {
        event["requestObject"] = body.clone();
        if verb != "patch" && verb != "delete" {
            event["responseObject"] = body;
        }
    }
    if verb == "patch" && resource == "deployments" {
        event["responseObject"] = deployment(&["app", "sidecar"]);
    }
    event
}

/// A Deployment whose template runs these containers.
fn deployment(containers: &[&str]) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": format!("registry.example.com/{c}:1")}))
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x", "namespace": "app", "uid": "0d0d0d0d-0000-0000-0000-000000000001"},
        "spec": {"template": {"spec": {"containers": containers}}}
    })
}

/// The request body of a write the behaviour is about.
fn body(verb: &str, resource: &str, subresource: Option<&str>, pod_spec: &Value) -> Option<Value> {
    if subresource.is_some() {
        return None;
    }
    match (verb, resource) {
        ("create", "pods") => Some(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "x", "namespace": "app"}, "spec": pod_spec
        })),
        ("create" | "update", "rolebindings" | "clusterrolebindings") => Some(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": if resource == "rolebindings" { "RoleBinding" } else { "ClusterRoleBinding" },
            "metadata": {"name": "x"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "mallory"}]
        })),
        ("patch", "rolebindings" | "clusterrolebindings") => Some(json!([
            {"op": "add", "path": "/subjects/-", "value": {"kind": "User", "name": "mallory"}}
        ])),
        // `kubectl patch deployment x --type=json` adding a container.
        ("patch", "deployments") => Some(json!([
            {"op": "add", "path": "/spec/template/spec/containers/-",
             "value": {"name": "sidecar", "image": "registry.example.com/sidecar:1"}}
        ])),
        _ => None,
    }
}

/// The alerts of every detection on `event`, repeated `times` times (a burst), in a fresh
/// engine with every optional detection on.
fn analyse(event: &Value, times: u32) -> Vec<Alert> {
    let settings = Settings {
        activity: true,
        ..Settings::default()
    };
    let mut engine = Engine::new(settings, None, &Selection::default());
    let line = event.to_string();
    let mut alerts = Vec::new();
    for i in 0..times {
        let origin = Origin {
            file: "sigma".into(),
            line: u64::from(i) + 1,
        };
        let mut stats = ReadStats::default();
        let mut sink = |e: &Event, o: &Origin| engine.analyze(e, o, &mut alerts);
        decode_text(&line, &origin, &mut stats, &mut sink);
        assert_eq!(stats.malformed, 0, "{line}: {:?}", stats.problems);
    }
    alerts
}

#[test]
fn every_sigma_rule_has_a_counterpart_that_fires_on_its_selection() {
    let rules = rules();
    assert_eq!(rules.len(), 16, "the corpus holds 16 Sigma rules");
    let mut checked = 0;
    for (file, rule) in &rules {
        let id = rule["id"].as_str().unwrap();
        let title = rule["title"].as_str().unwrap();
        let counterpart = palisade_audit::sigma::counterpart(id)
            .unwrap_or_else(|| panic!("{file}: `{title}` ({id}) is not in palisade_audit::sigma"));
        assert_eq!(counterpart.title, title, "{file}");
        for detection in counterpart.palisade {
            assert!(
                palisade_audit::registry::find(detection).is_some(),
                "{file}: {detection} is no detection"
            );
        }
        for conditions in alternatives(rule) {
            for (fields, event) in assignments(&conditions).into_iter().flat_map(|fields| {
                events(&fields)
                    .into_iter()
                    .map(move |e| (fields.clone(), e))
            }) {
                let refused = event["responseStatus"]["code"]
                    .as_u64()
                    .is_some_and(|c| c == 401 || c == 403);
                let times = if refused {
                    Settings::default()
                        .forbidden_burst
                        .max(Settings::default().unauthenticated_burst)
                } else {
                    1
                };
                let alerts = analyse(&event, times);
                let fired: Vec<&str> = alerts.iter().map(|a| a.rule.id.as_ref()).collect();
                assert!(
                    fired.iter().any(|id| counterpart.palisade.contains(id)),
                    "{file}: `{title}`: no alert of {:?} on {fields:?} (alerts: {fired:?})\n{event}",
                    counterpart.palisade
                );
                checked += 1;
            }
        }
    }
    // Every value of every rule, as the rules stand in the corpus.
    assert_eq!(
        checked, 88,
        "events checked (docs/audit.md gives the figure)"
    );
    // Nothing in the mapping that the corpus does not hold.
    for c in palisade_audit::sigma::SIGMA_COUNTERPARTS {
        assert!(
            rules.iter().any(|(_, r)| r["id"] == c.id),
            "{} ({}) is not in the corpus",
            c.title,
            c.id
        );
    }
}
