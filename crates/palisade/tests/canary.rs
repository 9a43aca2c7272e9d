//! The canary harness (issue "Trust", item 1): distinct secret canaries are planted in every
//! place a value can live (env, args, command, probe headers, annotations including
//! `last-applied-configuration`, ConfigMap data and binaryData, Secret data and stringData, a
//! custom resource's spec, URLs and connection strings), in Git manifests and, with other
//! values, in the live copy. Every command is run with every output format, and no canary may
//! appear in stdout, stderr or any written file: plain, base64, URL-encoded or JSON-escaped.

mod common;

use std::path::Path;

use base64::Engine as _;
use common::{bin, scratch};
use palisade_core::tree::Tree as _;

/// Places a canary is planted, each with a name that says nothing about secrets where the
/// issue asked for one.
const PLACES: &[&str] = &[
    "envDbPass",
    "envPgpass",
    "envMysqlPwd",
    "envPlainX",
    "envSessionKey",
    "argsDbPassword",
    "argsToken",
    "commandCurl",
    "probeBearer",
    "annotation",
    "lastApplied",
    "cmFile",
    "cmPostgresUrl",
    "cmRedisUrl",
    "cmAzure",
    "cmBinary",
    "secretData",
    "secretString",
    "crdSpec",
    "cmPlain",
    "tokenGithub",
    "dotEnv",
    "valuesFile",
    "helmValues",
    "helmSet",
    "execCommand",
    "uriQuery",
    "volumeAnnotation",
    "volumeClaimLabel",
    "fixContext",
    "valuesUnrendered",
    "kustomizationLiteral",
    "nodeKubeconfig",
    "nodeUnitEnv",
    "nodeManifestEnv",
    "nodeKubeletHeader",
    "cmKubeToken",
];

/// A GitHub-token-shaped value whose body is the canary: findings may show the format's
/// public prefix (`ghp_`), never the body.
fn github_shaped(canary: &str) -> String {
    format!(
        "ghp_{canary}{}",
        "x".repeat(36usize.saturating_sub(canary.len()))
    )
}

/// The canary of a place on one side (`g` for Git, `l` for live): distinct, unguessable, not a
/// substring of another.
fn canary(side: char, place: &str) -> String {
    let n = PLACES.iter().position(|p| *p == place).unwrap();
    format!("Qz{side}{n:02}{place}7Kp3Vw")
}

/// A service-account token of `shop/default` (which the `edit` role leads on from) whose
/// signature is the canary: findings name the account its claims give, never the token.
fn service_account_token(canary: &str) -> String {
    let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{canary}",
        e(r#"{"alg":"RS256","kid":"k"}"#),
        e(r#"{"iss":"kubernetes/serviceaccount","sub":"system:serviceaccount:shop:default"}"#)
    )
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The objects of one side, with that side's canaries.
fn objects(side: char) -> Vec<serde_json::Value> {
    use serde_json::json;
    let c = |place: &str| canary(side, place);
    let last_applied = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": b64(&c("lastApplied"))},
        "stringData": {"plain": c("lastApplied")},
    })
    .to_string();
    vec![
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "annotations": {"note": c("annotation")}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "web",
                        "image": "registry.example.com/web:1.0",
                        "command": ["sh", "-c", format!("curl -u admin:{} http://backend/", c("commandCurl"))],
                        "args": [format!("--db-password={}", c("argsDbPassword")), format!("--token={}", c("argsToken"))],
                        "env": [
                            {"name": "DB_PASS", "value": c("envDbPass")},
                            {"name": "PGPASS", "value": c("envPgpass")},
                            {"name": "MYSQL_PWD", "value": c("envMysqlPwd")},
                            {"name": "X", "value": c("envPlainX")},
                            {"name": "GH", "value": github_shaped(&c("tokenGithub"))},
                            {"name": "SESSION_KEY", "value": c("envSessionKey")},
                        ],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                            "httpHeaders": [{"name": "Authorization", "value": format!("Bearer {}", c("probeBearer"))}]}},
                    }]},
                },
            },
        }),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "app", "namespace": "shop"},
            "data": {
                "app.conf": format!("listen = 8080\npassword = {}\n", c("cmFile")),
                "DATABASE_URL": format!("postgres://app:{}@db:5432/app", c("cmPostgresUrl")),
                "CACHE": format!("redis://:{}@cache:6379", c("cmRedisUrl")),
                "STORAGE": format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={};EndpointSuffix=core.windows.net", c("cmAzure")),
                "greeting": c("cmPlain"),
                "kubeconfig": format!("users: [{{name: ci, user: {{token: {}}}}}]\n", service_account_token(&c("cmKubeToken"))),
            },
            "binaryData": {"blob": b64(&c("cmBinary"))},
        }),
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
            "type": "Opaque",
            "data": {"password": b64(&c("secretData"))},
            "stringData": {"plain": c("secretString")},
        }),
        json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "shop"},
            "spec": {"endpoint": c("crdSpec")},
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "web-edits", "namespace": "shop"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        }),
    ]
}

/// The Git side: a YAML file of documents (JSON is YAML, so the YAML loader reads it).
fn manifests(side: char) -> String {
    objects(side)
        .iter()
        .map(|o| serde_json::to_string_pretty(o).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The live side as `kubectl get -o json` prints it: a List of the same objects with the live
/// canaries.
fn live_list(dir: &Path) -> std::path::PathBuf {
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects('l')});
    let path = dir.join("live.json");
    std::fs::write(&path, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    path
}

/// An audit log of the live side: every object created, then updated and patched (a merge
/// patch of the whole object), with the object as the request and response body; an exec
/// whose command carries a canary, and a request whose query does.
fn audit_log(dir: &Path) -> std::path::PathBuf {
    use serde_json::json;
    let mut lines = Vec::new();
    for (i, object) in objects('l').into_iter().enumerate() {
        let kind = object["kind"].as_str().unwrap_or("Thing").to_lowercase();
        let namespace = object.at("/metadata/namespace").cloned();
        let name = object.at("/metadata/name").cloned();
        for (verb, code) in [("create", 201), ("update", 200), ("patch", 200)] {
            lines.push(json!({
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
                "auditID": format!("canary-{i}-{verb}"), "stage": "ResponseComplete", "verb": verb,
                "requestURI": format!("/api/v1/{kind}s"),
                "user": {"username": "alice", "groups": ["system:authenticated"]},
                "sourceIPs": ["203.0.113.1"], "userAgent": "kubectl/v1.33",
                "objectRef": {"resource": format!("{kind}s"), "namespace": namespace, "name": name, "apiVersion": "v1"},
                "responseStatus": {"code": code},
                "requestObject": object, "responseObject": object,
                "requestReceivedTimestamp": "2026-12-01T10:00:00.000000Z",
            }));
        }
    }
    // The Deployment's update again, logged at Metadata: the level was lowered (AUD048).
    let mut lowered = lines
        .iter()
        .find(|l| l["verb"] == "update")
        .cloned()
        .unwrap();
    let event = lowered.as_object_mut().unwrap();
    event.remove("requestObject");
    event.remove("responseObject");
    event.insert("level".into(), json!("Metadata"));
    event.insert("auditID".into(), json!("canary-lowered"));
    lines.push(lowered);
    // A JSON patch adding a copy of the Deployment's container, canaries and all (AUD044).
    let mut sidecar = objects('l')[0]
        .at("/spec/template/spec/containers/0")
        .cloned()
        .unwrap();
    sidecar["name"] = json!("sidecar");
    lines.push(json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": "canary-sidecar", "stage": "ResponseComplete", "verb": "patch",
        "requestURI": "/apis/apps/v1/namespaces/shop/deployments/web",
        "user": {"username": "alice"}, "sourceIPs": ["203.0.113.1"],
        "objectRef": {"resource": "deployments", "apiGroup": "apps", "namespace": "shop", "name": "web"},
        "responseStatus": {"code": 200},
        "requestObject": [{"op": "add", "path": "/spec/template/spec/containers/-", "value": sidecar}],
        "requestReceivedTimestamp": "2026-12-01T10:00:00.500000Z",
    }));
    // A PersistentVolume on the node's root (AUD045) and a patch re-binding it (AUD046), with
    // canaries in an annotation and in the new claim's labels.
    let volume = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "node-root", "annotations": {"backup-key": canary('l', "volumeAnnotation")}},
        "spec": {"hostPath": {"path": "/"}, "claimRef": {"namespace": "shop", "name": "data"}},
    });
    let rebind = json!({"metadata": {"labels": {"owner": canary('l', "volumeClaimLabel")}},
        "spec": {"claimRef": {"namespace": "attacker", "name": "loot"}}});
    for (verb, id, request) in [
        ("create", "canary-pv", volume),
        ("patch", "canary-pv-rebind", rebind),
    ] {
        lines.push(json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": id, "stage": "ResponseComplete", "verb": verb,
            "requestURI": "/api/v1/persistentvolumes/node-root",
            "user": {"username": "alice"}, "sourceIPs": ["203.0.113.1"],
            "objectRef": {"resource": "persistentvolumes", "name": "node-root", "apiVersion": "v1"},
            "responseStatus": {"code": 200}, "requestObject": request,
            "requestReceivedTimestamp": "2026-12-01T10:00:00.700000Z",
        }));
    }
    let command = canary('l', "execCommand");
    lines.push(json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "canary-exec",
        "stage": "ResponseStarted", "verb": "create",
        "requestURI": format!("/api/v1/namespaces/shop/pods/web/exec?command=mysql&command=-p{command}&command=--password%3D{command}&container=web"),
        "user": {"username": "alice"}, "sourceIPs": ["203.0.113.1"],
        "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "shop", "name": "web"},
        "responseStatus": {"code": 101}, "requestReceivedTimestamp": "2026-12-01T10:00:01.000000Z",
    }));
    lines.push(json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "canary-uri",
        "stage": "ResponseComplete", "verb": "get",
        "requestURI": format!("/metrics?token={}", canary('l', "uriQuery")),
        "user": {"username": "system:anonymous"}, "sourceIPs": ["203.0.113.1"],
        "responseStatus": {"code": 200}, "annotations": {"authorization.k8s.io/decision": "allow"},
        "requestReceivedTimestamp": "2026-12-01T10:00:02.000000Z",
    }));
    let path = dir.join("audit.log");
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    path
}

/// A Helm chart whose values put canaries in a Secret, an env var and an argument.
fn helm_chart(dir: &Path) -> std::path::PathBuf {
    let chart = dir.join("chart");
    let values = canary('g', "helmValues");
    common::write_file(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    );
    common::write_file(
        &chart,
        "values.yaml",
        // A key no template renders sits beside the security contexts `palisade fix` fills
        // in, so the diff of the values shows its line.
        &format!(
            "password: \"{values}\"\ntoken: \"{}\"\npodSecurityContext: {{}}\n\
             securityContext: {{}}\nunusedApiKey: \"{}\"\n",
            github_shaped(&values),
            canary('g', "valuesUnrendered")
        ),
    );
    common::write_file(
        &chart,
        "templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ntype: Opaque\nstringData:\n  password: {{ .Values.password | quote }}\n",
    );
    common::write_file(
        &chart,
        "templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      securityContext: {{ toJson .Values.podSecurityContext }}\n      containers:\n      - name: api\n        image: registry.example.com/api:1.0\n        securityContext: {{ toJson .Values.securityContext }}\n        args: [\"--token={{ .Values.token }}\"]\n        env:\n        - {name: DB_PASSWORD, value: {{ .Values.password | quote }}}\n",
    );
    chart
}

/// A Kustomize overlay of a bare Deployment whose kustomization ends with a patch of a kind
/// it has none of, so its value is in no rendered object: the lines `palisade fix` shows above
/// the patch it adds to that list.
fn kustomize_overlay(dir: &Path) -> String {
    let root = dir.join("kustomize");
    common::write_file(&root, "base/kustomization.yaml", "resources:\n- web.yaml\n");
    common::write_file(
        &root,
        "base/web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  \
         selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
         spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n",
    );
    common::write_file(
        &root,
        "overlay/kustomization.yaml",
        &format!(
            "resources:\n- ../base\npatches:\n- target:\n    kind: Job\n  patch: |-\n    \
             - op: add\n      path: /metadata/annotations/token\n      value: {}\n",
            canary('g', "kustomizationLiteral")
        ),
    );
    root.join("overlay").to_str().unwrap().to_string()
}

/// Every form a canary could take in output.
fn forms(canary: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let forms = [
        canary.to_string(),
        STANDARD.encode(canary),
        STANDARD_NO_PAD.encode(canary),
        URL_SAFE_NO_PAD.encode(canary),
        canary.replace('/', "%2F"),
        serde_json::to_string(canary)
            .unwrap()
            .trim_matches('"')
            .to_string(),
    ];
    // Each also as the Markdown and HTML outputs escape it (`_` of base64 among others).
    let mut all: Vec<String> = forms.to_vec();
    all.extend(forms.iter().map(|f| palisade_report::markdown::escape(f)));
    all.extend(forms.iter().map(|f| palisade_report::html::escape(f)));
    all.sort();
    all.dedup();
    all
}

fn assert_clean(label: &str, text: &str) {
    for side in ['g', 'l'] {
        for place in PLACES {
            let c = canary(side, place);
            for form in forms(&c) {
                assert!(
                    !text.contains(&form),
                    "{label}: canary of {place} ({side}) appears as `{form}`:\n{}",
                    text.chars().take(4000).collect::<String>()
                );
            }
        }
    }
}

#[test]
fn no_canary_appears_in_any_command_or_format() {
    let dir = scratch("canary");
    let git = dir.join("git");
    std::fs::create_dir_all(&git).unwrap();
    std::fs::write(git.join("app.yaml"), manifests('g')).unwrap();
    // A block-style Deployment whose credential is the line above what `palisade fix` adds,
    // so its diff shows that line.
    std::fs::write(
        git.join("worker.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: worker, namespace: shop}}\n\
             spec:\n  selector: {{matchLabels: {{app: worker}}}}\n  template:\n    \
             metadata: {{labels: {{app: worker}}}}\n    spec:\n      containers:\n      \
             - name: worker\n        image: registry.example.com/worker:1.0\n        env:\n        \
             - name: QUEUE_PASSWORD\n          value: {}\n",
            canary('g', "fixContext")
        ),
    )
    .unwrap();
    // Files that are not manifests, read with --secrets-in-all-files.
    std::fs::write(
        git.join(".env"),
        format!(
            "DB_PASS={}\nTOKEN={}\n",
            canary('g', "dotEnv"),
            github_shaped(&canary('g', "dotEnv"))
        ),
    )
    .unwrap();
    std::fs::write(
        git.join("values.yaml"),
        format!("auth:\n  rootPassword: \"{}\"\n", canary('g', "valuesFile")),
    )
    .unwrap();
    let live = live_list(&dir);
    let chart = helm_chart(&dir);
    let git = git.to_str().unwrap().to_string();
    let live = live.to_str().unwrap().to_string();
    let chart = chart.to_str().unwrap().to_string();
    let helm_set = format!("password={}", canary('g', "helmSet"));
    let helm = common::need_helm();

    let mut runs = scan_runs(&dir, &git, &live, &chart, &helm_set, helm);
    for format in ["table", "json"] {
        runs.push((
            format!("inventory -o {format}"),
            vec!["inventory".into(), git.clone(), "-o".into(), format.into()],
        ));
    }
    for args in [
        vec!["rbac", "who-can", "get", "secrets", "-n", "shop"],
        vec![
            "rbac",
            "access",
            "system:serviceaccount:shop:default",
            "-n",
            "shop",
        ],
        vec!["rbac", "paths"],
        vec!["rbac", "fixes"],
        vec!["rbac", "fixes", "-o", "json"],
        // The diff shows the lines around each addition (the container's command and env).
        vec!["fix"],
        vec!["fix", "--check"],
        vec!["fix", "-o", "json"],
    ] {
        let mut run: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run.push(git.clone());
        runs.push((args.join(" "), run));
    }
    if common::need_kubectl() {
        // An overlay's kustomization edited: the diff shows the lines before `patches:`.
        let overlay = kustomize_overlay(&dir);
        for format in ["text", "json"] {
            runs.push((
                format!("fix overlay -o {format}"),
                vec!["fix".into(), overlay.clone(), "-o".into(), format.into()],
            ));
        }
    }
    if helm {
        // The chart's values edited: the diff shows the values' lines.
        for format in ["text", "json"] {
            runs.push((
                format!("fix chart -o {format}"),
                vec!["fix".into(), chart.clone(), "-o".into(), format.into()],
            ));
        }
    }
    let audit = audit_log(&dir);
    let audit = audit.to_str().unwrap().to_string();
    let store = dir.join("canary.db");
    let store = store.to_str().unwrap().to_string();
    let sink = format!("file://{}", dir.join("out.json").display());
    runs.extend(audit_runs(&audit, &store, &sink));
    runs.extend(policy_test_runs(&dir));
    runs.extend(policy_expand_runs(&dir, &git));
    runs.extend(network_and_role_runs(&git, &live, &audit));
    runs.extend(node_runs(&dir));
    let history = dir.join("history.db");
    let _ = std::fs::remove_file(&history);
    runs.extend(history_runs(&history, &git, &live));
    check_runs(&dir, &runs);
    // The history keeps what reports print: its file holds no canary either.
    let stored = std::fs::read(&history).unwrap();
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("SEC015"), "the findings were recorded");
    assert_clean("the history file", &stored);
}

/// Both sides' scans recorded in a history (`scan --history`), then listed and compared.
fn history_runs(history: &Path, git: &str, live: &str) -> Vec<(String, Vec<String>)> {
    let history = history.to_str().unwrap();
    let to_vec = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "scan --history (git)".into(),
            to_vec(&["scan", git, "--history", history, "-o", "json"]),
        ),
        (
            "scan --history (live)".into(),
            to_vec(&["scan", "--snapshot", live, "--history", history]),
        ),
        (
            "history list".into(),
            to_vec(&["history", "list", "--history", history]),
        ),
        (
            "history list -o json".into(),
            to_vec(&["history", "list", "--history", history, "-o", "json"]),
        ),
        (
            "history diff".into(),
            to_vec(&["history", "diff", "--history", history]),
        ),
        (
            "history diff -o json".into(),
            to_vec(&[
                "history",
                "diff",
                "--history",
                history,
                "--from",
                "2",
                "--to",
                "1",
                "-o",
                "json",
            ]),
        ),
    ]
}

/// `palisade node` on a node whose credentials hold canaries: a kubeconfig readable by all
/// (a NODE004 finding on it), the kubelet's unit, a static pod's environment and the kubelet's
/// configuration, in every format.
fn node_runs(dir: &Path) -> Vec<(String, Vec<String>)> {
    let root = dir.join("node");
    let write = |path: &str, text: &str| common::write_file(&root, path, text);
    write(
        "etc/kubernetes/admin.conf",
        &format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: {}\n",
            canary('g', "nodeKubeconfig")
        ),
    );
    write(
        "etc/systemd/system/kubelet.service",
        &format!(
            "[Service]\nEnvironment=\"REGISTRY_TOKEN={}\"\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --anonymous-auth=true\n",
            canary('g', "nodeUnitEnv")
        ),
    );
    write(
        "var/lib/kubelet/config.yaml",
        &format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\nstaticPodURLHeader:\n  Authorization:\n  - Bearer {}\n",
            canary('g', "nodeKubeletHeader")
        ),
    );
    write(
        "etc/kubernetes/manifests/kube-apiserver.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver, namespace: kube-system}}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.31.4\n    command: [kube-apiserver, --anonymous-auth=true]\n    env:\n    - name: CLOUD_API_KEY\n      value: {}\n",
            canary('g', "nodeManifestEnv")
        ),
    );
    let root = root.to_str().unwrap().to_string();
    let mut runs = Vec::new();
    for &format in palisade_report::Format::NAMES {
        let out = dir.join(format!("out.{format}"));
        for output in [format.to_string(), format!("{format}={}", out.display())] {
            runs.push((
                format!("node -o {output}"),
                vec![
                    "node".into(),
                    "--root".into(),
                    root.clone(),
                    "-o".into(),
                    output,
                    "--fail-on".into(),
                    "none".into(),
                    "--framework".into(),
                    "cis-k8s-1.12".into(),
                ],
            ));
        }
    }
    runs
}

/// `policy expand`: the Pod the canary Deployment would create (its env values, arguments,
/// command and probe header), changed by a mutator, in both formats.
fn policy_expand_runs(dir: &Path, git: &str) -> Vec<(String, Vec<String>)> {
    // The expansion suite's templates, and a mutator of the Pods they make.
    let templates =
        common::workspace().join("crates/palisade/tests/policy/expansion/expansion.yaml");
    let mutator = dir.join("mutator.yaml");
    std::fs::write(
        &mutator,
        r#"apiVersion: mutations.gatekeeper.sh/v1
kind: ModifySet
metadata: {name: verbose}
spec:
  applyTo: [{groups: [""], kinds: ["Pod"], versions: ["v1"]}]
  location: "spec.containers[name: *].args"
  parameters: {values: {fromList: ["--verbose"]}}
"#,
    )
    .unwrap();
    let mutator = mutator.to_str().unwrap().to_string();
    ["yaml", "json"]
        .into_iter()
        .map(|format| {
            (
                format!("policy expand -o {format}"),
                vec![
                    "policy".into(),
                    "expand".into(),
                    git.to_string(),
                    "--policy".into(),
                    templates.to_str().unwrap().to_string(),
                    "--policy".into(),
                    mutator.clone(),
                    "-o".into(),
                    format.into(),
                ],
            )
        })
        .collect()
}

/// The network commands (matrix, why, diff against the live copy, generated policies) and
/// the roles generated from the audit log, in every format.
fn network_and_role_runs(git: &str, live: &str, audit: &str) -> Vec<(String, Vec<String>)> {
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |args: &[&str]| {
        runs.push((args.join(" "), args.iter().map(|s| s.to_string()).collect()));
    };
    for format in ["table", "json", "csv", "dot"] {
        add(&["net", "matrix", git, "-o", format]);
    }
    for format in ["table", "json"] {
        add(&["net", "why", "203.0.113.9", "shop/web", git, "-o", format]);
        add(&["net", "diff", git, live, "-o", format]);
    }
    for format in ["yaml", "json"] {
        add(&["net", "generate", git, "-o", format]);
        add(&[
            "rbac",
            "generate",
            "--audit-log",
            audit,
            "--subject",
            "alice",
            "-o",
            format,
        ]);
    }
    runs
}

/// `policy test` of a suite whose policy quotes every object's data and prints it, with a
/// case per canary object (each failing, so its violations are printed), one with every
/// object as inventory, and one with the Secret inside an AdmissionReview; in every format,
/// to stdout and to a file.
fn policy_test_runs(dir: &Path) -> Vec<(String, Vec<String>)> {
    let suite = dir.join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let policy = std::fs::read_to_string(printing_policy(dir)).unwrap();
    let (template, constraint) = policy.split_once("---\n").unwrap();
    std::fs::write(suite.join("template.yaml"), template).unwrap();
    std::fs::write(suite.join("constraint.yaml"), constraint).unwrap();
    let mut cases = String::new();
    let all: Vec<String> = objects('g')
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    std::fs::write(suite.join("inventory.yaml"), all.join("\n---\n")).unwrap();
    for (i, object) in objects('g').iter().enumerate() {
        std::fs::write(suite.join(format!("object-{i}.json")), object.to_string()).unwrap();
        cases.push_str(&format!(
            "      - {{name: object-{i}, object: object-{i}.json, inventory: [inventory.yaml], assertions: [{{violations: no}}]}}\n"
        ));
        if object["kind"] == "Secret" {
            let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview", "request": {"uid": "1", "operation": "CREATE",
                    "kind": {"group": "", "version": "v1", "kind": "Secret"},
                    "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
                    "object": object}});
            std::fs::write(suite.join("review.json"), review.to_string()).unwrap();
            cases.push_str(
                "      - {name: review, object: review.json, assertions: [{violations: no}]}\n",
            );
        }
    }
    std::fs::write(
        suite.join("suite.yaml"),
        format!(
            "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {{name: canary}}\ntests:\n  - name: printer\n    template: template.yaml\n    constraint: constraint.yaml\n    cases:\n{cases}"
        ),
    )
    .unwrap();
    assert!(
        cases.contains("name: review"),
        "the canary objects hold a Secret"
    );
    let suite = suite.to_str().unwrap().to_string();
    let mut runs = Vec::new();
    for format in ["table", "json", "junit"] {
        let out = dir.join(format!("out.{format}"));
        runs.push((
            format!("policy test -o {format}"),
            vec![
                "policy".into(),
                "test".into(),
                suite.clone(),
                "-o".into(),
                format.into(),
            ],
        ));
        runs.push((
            format!("policy test -o {format}=FILE"),
            vec![
                "policy".into(),
                "test".into(),
                suite.clone(),
                "-o".into(),
                format!("{format}={}", out.display()),
            ],
        ));
    }
    runs
}

/// A Gatekeeper policy that prints every object it judges and quotes a Secret's data in its
/// message: neither may carry a value out.
fn printing_policy(dir: &Path) -> String {
    let path = dir.join("printing-policy.yaml");
    std::fs::write(
        &path,
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sprinter}
spec:
  crd: {spec: {names: {kind: K8sPrinter}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sprinter
        violation[{"msg": msg}] {
          print("judging", input.review.object)
          msg := sprintf("data: %v", [input.review.object.data])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPrinter
metadata: {name: printer}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["Secret", "ConfigMap"]}]}}
---
# An exec's command, quoted (judged with `judge_connect`).
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sexecprinter}
spec:
  crd: {spec: {names: {kind: K8sExecPrinter}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sexecprinter
        violation[{"msg": msg}] {
          msg := sprintf("exec: %v", [input.review.object.command])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sExecPrinter
metadata: {name: exec-printer}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["PodExecOptions"]}]}}
---
# Mutators at /mutate: one that labels every object (its patch is the label alone), and one
# that meets a canary string where it wants a list (its failure names the type only).
apiVersion: mutations.gatekeeper.sh/v1
kind: AssignMetadata
metadata: {name: owner}
spec:
  location: metadata.labels.owner
  parameters: {assign: {value: platform}}
---
apiVersion: mutations.gatekeeper.sh/v1
kind: ModifySet
metadata: {name: greeting}
spec:
  applyTo: [{groups: [""], kinds: ["ConfigMap"], versions: ["v1"]}]
  location: data.greeting
  parameters: {values: {fromList: [x]}}
"#,
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Every scan-like command (scan of files, all files, a snapshot, a chart with and without
/// `--helm-set`; drift) in every report format, to stdout and to a file.
fn scan_runs(
    dir: &Path,
    git: &str,
    live: &str,
    chart: &str,
    helm_set: &str,
    helm: bool,
) -> Vec<(String, Vec<String>)> {
    let (git, live, chart) = (git.to_string(), live.to_string(), chart.to_string());
    let policy = printing_policy(dir);
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for &format in palisade_report::Format::NAMES {
        let out = dir.join(format!("out.{format}"));
        let out = out.to_str().unwrap();
        for (name, args) in [
            ("scan", vec!["scan", git.as_str()]),
            (
                "scan-all-files",
                vec!["scan", git.as_str(), "--secrets-in-all-files"],
            ),
            ("scan-snapshot", vec!["scan", "--snapshot", live.as_str()]),
            // The manifests judged as changes to the snapshot (the webhook's verdict in CI).
            (
                "scan-against",
                vec!["scan", git.as_str(), "--against", live.as_str()],
            ),
            (
                "scan-policy",
                vec!["scan", git.as_str(), "--policy", policy.as_str()],
            ),
            (
                "drift",
                vec!["drift", git.as_str(), "--snapshot", live.as_str()],
            ),
            // A chart rendered by the real helm, its values from values.yaml and --helm-set.
            ("scan-chart", vec!["scan", chart.as_str()]),
            (
                "scan-chart-set",
                vec!["scan", chart.as_str(), "--helm-set", helm_set],
            ),
        ] {
            if name.starts_with("scan-chart") && !helm {
                continue;
            }
            let mut stdout_run: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            stdout_run.extend([
                "-o".into(),
                format.into(),
                "--fail-on".into(),
                "none".into(),
            ]);
            runs.push((format!("{name} -o {format}"), stdout_run));
            let mut file_run: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            file_run.extend([
                "-o".into(),
                format!("{format}={out}"),
                "--fail-on".into(),
                "none".into(),
            ]);
            runs.push((format!("{name} -o {format}=FILE"), file_run));
        }
    }
    runs
}

/// Every audit command: analysis in every format and through a sink in every format, and the
/// baseline's learning, showing, export and comparison. One request is logged again below
/// the level its detections read (AUD048), so the runs accept an incomplete analysis, and its
/// not-assessed report is checked too.
fn audit_runs(audit: &str, store: &str, sink: &str) -> Vec<(String, Vec<String>)> {
    let (audit, store) = (audit.to_string(), store.to_string());
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for format in ["text", "json", "ocsf", "ecs", "cef"] {
        runs.push((
            format!("audit analyze -o {format}"),
            [
                "audit",
                "analyze",
                "--allow-incomplete",
                &audit,
                "-o",
                format,
                "--fail-on",
                "none",
            ]
            .map(String::from)
            .to_vec(),
        ));
        runs.push((
            format!("audit analyze --sink ?format={format}"),
            [
                "audit",
                "analyze",
                "--allow-incomplete",
                &audit,
                "-o",
                "json=/dev/null",
                "--fail-on",
                "none",
                "--store",
                &store,
                "--sink",
                &format!("{sink}?format={format}"),
            ]
            .map(String::from)
            .to_vec(),
        ));
    }
    for args in [
        vec![
            "audit",
            "baseline",
            "learn",
            audit.as_str(),
            "--store",
            store.as_str(),
        ],
        vec!["audit", "baseline", "show", "--store", store.as_str()],
        vec![
            "audit",
            "baseline",
            "show",
            "--identity",
            "alice",
            "--store",
            store.as_str(),
        ],
        vec!["audit", "baseline", "export", "--store", store.as_str()],
        vec![
            "audit",
            "analyze",
            "--allow-incomplete",
            audit.as_str(),
            "--baseline",
            "--store",
            store.as_str(),
            "--fail-on",
            "none",
        ],
    ] {
        runs.push((args.join(" "), args.iter().map(|s| s.to_string()).collect()));
    }
    runs
}

/// No canary on a run's standard output or error.
fn assert_streams_clean(label: &str, output: &std::process::Output) {
    assert_clean(
        &format!("{label} stdout"),
        &String::from_utf8_lossy(&output.stdout),
    );
    assert_clean(
        &format!("{label} stderr"),
        &String::from_utf8_lossy(&output.stderr),
    );
}

/// Runs each command and requires that no canary appears on stdout, stderr or in a file it
/// wrote.
fn check_runs(dir: &Path, runs: &[(String, Vec<String>)]) {
    let mut checked = 0;
    for (label, args) in runs {
        // Files written by the previous run must not carry over.
        for &format in palisade_report::Format::NAMES {
            let _ = std::fs::remove_file(dir.join(format!("out.{format}")));
        }
        let output = bin().args(args).output().unwrap();
        assert!(
            output.status.code().is_some_and(|c| c <= 1),
            "{label}: exit {:?}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_streams_clean(label, &output);
        for &format in palisade_report::Format::NAMES {
            if let Ok(text) = std::fs::read_to_string(dir.join(format!("out.{format}"))) {
                assert_clean(&format!("{label} file"), &text);
                checked += 1;
            }
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} outputs were checked");
}

/// The harness can fail: a drift report of the same inputs does report the changed values
/// (by tag), so the canaries were read and compared, not skipped.
#[test]
fn drift_sees_the_changed_values_it_may_not_print() {
    let dir = scratch("canary-drift");
    let git = dir.join("git");
    std::fs::create_dir_all(&git).unwrap();
    std::fs::write(git.join("app.yaml"), manifests('g')).unwrap();
    let live = live_list(&dir);
    let output = bin()
        .args([
            "drift",
            git.to_str().unwrap(),
            "--snapshot",
            live.to_str().unwrap(),
        ])
        .args(["-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = common::json(&output);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DRIFT003")
        .filter_map(|f| f["message"].as_str())
        .collect();
    for field in [
        "/spec/template/spec/containers/0/env",
        "/data/DATABASE_URL",
        "/spec/endpoint",
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(field) && m.contains("<hidden #")),
            "no hidden drift at {field}: {messages:#?}"
        );
    }
}

/// The redaction filter must not garble reports: on 5,294 real objects no message may contain
/// `[REDACTED]` (they quote names, images and paths, never values). Found when a first version
/// turned words such as `strict` and fragments of image names into needles in 2,424 messages.
/// The shared corpus is part of the test material: without it this test fails.
#[test]
fn redaction_leaves_reports_of_real_manifests_readable() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/real-manifests");
    assert!(corpus.is_dir(), "{} is missing", corpus.display());
    let output = bin()
        .arg("scan")
        .arg(&corpus)
        .args(["-o", "json", "--fail-on", "none", "--allow-incomplete"])
        .output()
        .unwrap();
    let report = common::json(&output);
    let garbled: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["diagnostics"].as_array().unwrap())
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("[REDACTED]"))
        .collect();
    assert!(
        garbled.is_empty(),
        "{} garbled: {:#?}",
        garbled.len(),
        &garbled[..garbled.len().min(10)]
    );
    let examples = bin()
        .args(["scan", "examples/", "-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&examples.stdout).contains("[REDACTED]"));
}

/// The harness can fail for audit too: the analysis of the canary log does raise the alerts
/// on the places that hold canaries (the exec command, the ConfigMaps, the anonymous
/// request with a token in its query, a binding changed, a container with canaries in its
/// command, arguments, environment and probe added to the Deployment, a volume on the node's
/// root re-bound by a patch that labels it), so the canaries were read, not skipped.
#[test]
fn audit_alerts_on_the_canaries_it_may_not_print() {
    let dir = scratch("canary-audit");
    let audit = audit_log(&dir);
    let output = bin()
        .args([
            "audit",
            "analyze",
            "--allow-incomplete",
            audit.to_str().unwrap(),
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let alerts: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rules: Vec<&str> = alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect();
    for expected in [
        "AUD001", "AUD020", "AUD024", "AUD043", "AUD044", "AUD045", "AUD046", "AUD048",
    ] {
        assert!(rules.contains(&expected), "{expected} not in {rules:?}");
    }
    let exec = alerts.iter().find(|a| a["rule"] == "AUD001").unwrap();
    let command = exec["evidence"]["command"].as_str().unwrap();
    assert!(command.starts_with("mysql <hidden #"), "{command}");
    assert_clean("audit analyze -o json", &text);
}

/// The admission webhook: every canary object is sent as an AdmissionReview (create, and an
/// update whose old object holds the live side's canaries) to `/validate` and `/mutate`, with
/// every finding a warning so that every message is returned, and a policy that prints each
/// object and quotes its data in its message; no response body, decision log or metric may
/// hold a canary.
#[test]
fn admission_responses_and_logs_never_hold_a_canary() {
    let dir = scratch("canary-admission");
    std::fs::write(
        dir.join("palisade.toml"),
        "[admission]\nmode = \"warn\"\nwarn_at = \"info\"\nexempt_namespaces = []\njudge_deletions = true\njudge_connect = true\n[admission.mutate]\nenabled = true\n",
    )
    .unwrap();
    let mut command = bin();
    command
        .args(["serve", "admission", "--self-signed"])
        .arg(dir.join("tls"))
        .args(["--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"])
        .args(["--decision-log", "all", "--config"])
        .arg(dir.join("palisade.toml"))
        .arg("--policy")
        .arg(printing_policy(&dir));
    let (child, port, health, rest) = common::serve::start(command, "serving admission reviews");
    let agent = common::serve::client(&std::fs::read(dir.join("tls/ca.pem")).unwrap());
    let live = objects('l');
    let mut seen = String::new();
    let mut warned = 0;
    for (i, object) in objects('g').iter().enumerate() {
        let api_version = object["apiVersion"].as_str().unwrap_or("v1");
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = object["kind"].as_str().unwrap_or("");
        // A deletion is judged on the object it removes (`judge_deletions`).
        for (operation, new, old) in [
            ("CREATE", Some(object), None),
            ("UPDATE", Some(object), live.get(i)),
            ("DELETE", None, Some(object)),
        ] {
            let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": format!("c{i}{operation}"),
                "kind": {"group": group, "version": version, "kind": kind},
                "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
                "name": object.at("/metadata/name").cloned().unwrap_or_default(),
                "namespace": object.at("/metadata/namespace").cloned().unwrap_or(serde_json::json!("shop")),
                "operation": operation, "userInfo": {"username": "alice"},
                "object": new, "oldObject": old}});
            for endpoint in ["validate", "mutate"] {
                let mut response = agent
                    .post(format!("https://127.0.0.1:{port}/{endpoint}"))
                    .header("content-type", "application/json")
                    .send(review.to_string())
                    .unwrap();
                let body = response.body_mut().read_to_string().unwrap();
                warned += body.matches("palisade [").count();
                seen.push_str(&body);
                // A patch is base64 of JSON: read decoded too.
                let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
                if let Some(patch) = answer.at("/response/patch").and_then(|p| p.as_str()) {
                    let decoded =
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, patch)
                            .unwrap();
                    seen.push_str(&String::from_utf8(decoded).unwrap());
                }
            }
        }
    }
    // An exec whose command carries credentials (`judge_connect`), which the printing
    // policy quotes.
    let exec = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "exec", "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "exec",
        "name": "web-1", "namespace": "shop", "operation": "CONNECT", "userInfo": {"username": "alice"},
        "object": {"kind": "PodExecOptions", "apiVersion": "v1", "container": "web", "command": [
            "sh", "-c", format!("curl -u admin:{} http://backend/", canary('g', "commandCurl")),
            format!("--db-password={}", canary('g', "argsDbPassword"))]}}});
    let mut response = agent
        .post(format!("https://127.0.0.1:{port}/validate"))
        .header("content-type", "application/json")
        .send(exec.to_string())
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert!(body.contains("exec: "), "the exec was not judged: {body}");
    seen.push_str(&body);
    let metrics = common::serve::metrics(&agent, health);
    drop(child);
    let log = rest.join().unwrap();
    assert!(
        warned > 20,
        "only {warned} warnings: the canary objects were not judged"
    );
    // The printing policy judged the Secrets and ConfigMaps, and its messages were answered.
    assert!(
        seen.contains("K8sPrinter/printer") && seen.contains("data: "),
        "the printing policy did not judge the canary objects"
    );
    // The mutators ran: the ConfigMap's failed on its canary string, the others patched.
    assert!(
        seen.contains("greeting is a string, not a list of values"),
        "the failing mutator did not run"
    );
    assert!(
        seen.contains("\"patchType\":\"JSONPatch\"") && seen.contains("/metadata/labels"),
        "no mutator patched"
    );
    assert_clean("serve admission responses", &seen);
    assert_clean("serve admission decision log", &log);
    assert_clean("serve admission metrics", &metrics);
}

/// `palisade watch` follows a cluster (the changing recorded API server, on loopback) that
/// holds the live canaries, Secret values included, with a policy that quotes what it reads:
/// no canary may reach its events, its standard streams, the Policy Reports it writes into
/// the cluster or its history.
#[tokio::test(flavor = "multi_thread")]
async fn watch_never_writes_a_canary() {
    use palisade_cluster::recorded_live::server;
    const REPORTS: &[&str] = &[
        "/apis/wgpolicyk8s.io/v1alpha2/policyreports",
        "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports",
    ];
    let dir = scratch("canary-watch");
    let (kubeconfig, cluster) = server(&dir).await;
    cluster.forbid("/api/v1/secrets", false);
    let mut served = 0;
    for object in objects('l') {
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        if let Some(collection) = cluster.collection_of(api_version, kind) {
            cluster.apply(&collection, object);
            served += 1;
        }
    }
    assert!(served >= 5, "only {served} canary objects are served");
    let policy = printing_policy(&dir);
    for values in [false, true] {
        let events = dir.join(format!("events-{values}.jsonl"));
        let history = dir.join(format!("history-{values}.db"));
        let mut command = bin();
        command
            .args([
                "watch",
                "--no-config",
                "--once",
                "--policy-reports",
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .arg("--events")
            .arg(&events)
            .arg("--history")
            .arg(&history)
            .arg("--policy")
            .arg(&policy);
        if values {
            command.arg("--include-secret-values");
        }
        let output = common::output_of(command).await;
        let label = format!("watch (Secret values read: {values})");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{label}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_streams_clean(&label, &output);
        let told = std::fs::read_to_string(&events).unwrap();
        assert!(
            told.contains("\"SEC023\""),
            "{label}: the leaked token was found: {told}"
        );
        // The Secret's last applied configuration is kept without its values, and still
        // says that it holds them.
        assert!(
            told.contains("\"SEC021\""),
            "{label}: the values in the last applied copy were found: {told}"
        );
        assert_clean(&format!("{label} events"), &told);
        let stored = String::from_utf8_lossy(&std::fs::read(&history).unwrap()).into_owned();
        assert!(
            stored.contains("SEC023"),
            "{label}: the findings were recorded"
        );
        assert_clean(&format!("{label} history"), &stored);
        let reports: Vec<serde_json::Value> =
            REPORTS.iter().flat_map(|r| cluster.list(r)).collect();
        let reports = serde_json::to_string(&reports).unwrap();
        assert!(
            reports.contains("SEC023"),
            "{label}: the reports hold the findings"
        );
        assert_clean(&format!("{label} Policy Reports"), &reports);
    }
}
