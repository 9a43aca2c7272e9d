//! `palisade serve admission` end to end: the real binary over real TLS on loopback with a
//! real HTTP client (ureq with rustls). Verdicts on the Kubewarden policy server's
//! AdmissionReview documents (../shared/corpora, required), Gatekeeper policies beside the
//! built-in rules, typed errors for bodies that are not reviews (malformed, 10 MB, wrong
//! media type), a deadline overrun answered as configured, metrics, and a certificate
//! rotated while requests keep coming.

mod common;

use std::path::Path;

use common::serve::{Rotation, Served, client, metrics, start};
use common::{bin, scratch, workspace};
use serde_json::{Value, json};

const KUBEWARDEN: &str = "../shared/corpora/admission-review/kubewarden-policy-server/tests/data";

fn kubewarden(name: &str) -> String {
    let path = workspace().join(KUBEWARDEN).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared corpora are required: ../shared/corpora)",
            path.display()
        )
    })
}

/// The command of `palisade serve admission` with a certificate self-signed under `dir`, on
/// free loopback ports, with `config` (written to `dir`) as palisade.toml.
fn serve_command(dir: &Path, config: &str) -> std::process::Command {
    std::fs::write(dir.join("palisade.toml"), config).unwrap();
    let mut command = bin();
    command
        .args(["serve", "admission", "--self-signed"])
        .arg(dir.join("tls"))
        .args(["--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"])
        .arg("--config")
        .arg(dir.join("palisade.toml"));
    command
}

/// `palisade serve admission` with a self-signed certificate and `config` as palisade.toml.
fn serve(dir: &Path, config: &str, extra: &[&str]) -> (Served, u16, u16, Vec<u8>) {
    let mut command = serve_command(dir, config);
    command.args(extra);
    let (child, port, health, _rest) = start(command, "serving admission reviews");
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    (child, port, health, ca)
}

/// POSTs `body`; returns the status and the body as JSON.
fn post(agent: &ureq::Agent, url: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let mut response = agent
        .post(url)
        .header("content-type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn pod_review(uid: &str, namespace: &str, privileged: bool) -> String {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "web", "namespace": namespace, "operation": "CREATE",
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"team": "a"}},
                   "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                            "securityContext": {"privileged": privileged}}]}}}})
    .to_string()
}

#[test]
fn verdicts_errors_and_metrics_over_tls() {
    let dir = scratch("admission-serve");
    let (_child, port, health, ca) = serve(&dir, "", &[]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");

    // Kubewarden's documents: the privileged pod is denied with the reason; the response
    // carries the request's uid.
    let body = kubewarden("pod_with_privileged_containers.json");
    let uid = serde_json::from_str::<Value>(&body).unwrap()["request"]["uid"].clone();
    let (status, review) = post(&agent, &validate, "application/json", body.as_bytes());
    assert_eq!(status, 200, "{review}");
    let response = &review["response"];
    assert_eq!(response["uid"], uid);
    assert_eq!(response["allowed"], false, "{review}");
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("POD001") && message.contains("privileged"),
        "{message}"
    );

    // Exempt by default: kube-system.
    let (_, review) = post(
        &agent,
        &validate,
        "application/json",
        pod_review("u-sys", "kube-system", true).as_bytes(),
    );
    assert_eq!(review["response"]["allowed"], true, "{review}");

    // Not a review: typed 400s, never a panic, and the service goes on.
    for (body, reason) in [
        (&b"{not json"[..], "malformed"),
        (&br#"{"kind":"Pod","apiVersion":"v1"}"#[..], "malformed"),
        (
            &br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"x"}}"#[..],
            "malformed",
        ),
    ] {
        let (status, error) = post(&agent, &validate, "application/json", body);
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["error"], reason, "{error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let (status, error) = post(&agent, &validate, "text/plain", b"hello");
    assert_eq!(
        (status, &error["error"]),
        (415, &json!("unsupported_media_type"))
    );

    // A 10 MB body is refused with a typed 413 (the limit is 7 MiB by default).
    let padding = "x".repeat(10 * 1024 * 1024);
    let mut huge: Value = serde_json::from_str(&pod_review("u-big", "shop", false)).unwrap();
    huge["request"]["object"]["metadata"]["annotations"] = json!({"pad": padding});
    let huge = huge.to_string();
    assert!(huge.len() > 10_000_000);
    let (status, error) = post(&agent, &validate, "application/json", huge.as_bytes());
    assert_eq!(
        (status, &error["error"]),
        (413, &json!("too_large")),
        "{error}"
    );

    // Still serving, and counted.
    let (_, review) = post(
        &agent,
        &validate,
        "application/json",
        pod_review("u-ok", "shop", false).as_bytes(),
    );
    assert_eq!(review["response"]["uid"], "u-ok");
    // Judged alone (neither --cluster nor --inventory): no warning that a NetworkPolicy the
    // webhook never read is missing, while what the pod holds is still warned of.
    let warnings = review["response"]["warnings"].to_string();
    assert!(
        !warnings.contains("NET004") && warnings.contains("POD002"),
        "{review}"
    );
    let metrics = metrics(&agent, health);
    for series in [
        "palisade_admission_requests_total{endpoint=\"validate\",outcome=\"denied\"} 1",
        "palisade_admission_requests_total{endpoint=\"validate\",outcome=\"exempt\"} 1",
        "palisade_admission_requests_total{endpoint=\"validate\",outcome=\"malformed\"} 3",
        "palisade_admission_requests_total{endpoint=\"validate\",outcome=\"too_large\"} 1",
        "palisade_admission_findings_total{rule=\"POD001\",mode=\"enforce\"} 1",
        "palisade_admission_request_seconds_count",
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    let ready = agent
        .get(format!("http://127.0.0.1:{health}/readyz"))
        .call()
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

#[test]
fn modes_policies_and_the_hardening_patch() {
    let dir = scratch("admission-modes");
    let config = r#"
[admission]
mode = "audit"
[admission.rules]
POD001 = "enforce"
[admission.namespaces]
"sandbox-*" = "warn"
[admission.mutate]
enabled = true
"#;
    // The label template of the policy tests, constrained to pods here.
    let template = workspace().join("crates/palisade/tests/policy/labels/template.yaml");
    let policy = dir.join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::copy(&template, policy.join("template.yaml")).unwrap();
    std::fs::write(
        policy.join("constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sTeamLabel\nmetadata: {name: pod-team}\nspec:\n  match: {kinds: [{apiGroups: [\"\"], kinds: [Pod]}]}\n  parameters: {label: team}\n",
    )
    .unwrap();
    // A Gatekeeper mutator among the policies: applied by /mutate with the hardening patch.
    std::fs::write(
        policy.join("mutator.yaml"),
        "apiVersion: mutations.gatekeeper.sh/v1\nkind: Assign\nmetadata: {name: pull-always}\nspec:\n  applyTo: [{groups: [\"\"], kinds: [Pod], versions: [v1]}]\n  location: \"spec.containers[name: *].imagePullPolicy\"\n  parameters: {assign: {value: Always}}\n",
    )
    .unwrap();
    let (_child, port, _, ca) = serve(&dir, config, &["--policy", policy.to_str().unwrap()]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");

    // Kubewarden's pod-privileged policy, translated: only POD001 enforces.
    for (file, allowed) in [
        ("pod_with_privileged_containers.json", false),
        ("pod_without_privileged_containers.json", true),
    ] {
        let (_, review) = post(
            &agent,
            &validate,
            "application/json",
            kubewarden(file).as_bytes(),
        );
        assert_eq!(review["response"]["allowed"], allowed, "{file}: {review}");
    }
    // A namespace capped at warn: the privileged pod is allowed, with the warning.
    let (_, review) = post(
        &agent,
        &validate,
        "application/json",
        pod_review("u-sb", "sandbox-1", true).as_bytes(),
    );
    let response = &review["response"];
    assert_eq!(response["allowed"], true, "{review}");
    assert!(
        response["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("POD001")),
        "{review}"
    );

    // The Gatekeeper constraint is judged beside the built-in rules (audited under mode audit).
    let unlabelled = pod_review("u-gk", "shop", false).replace("{\"team\":\"a\"}", "{}");
    let (_, review) = post(&agent, &validate, "application/json", unlabelled.as_bytes());
    let audited = review["response"]["auditAnnotations"]["audited"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(audited.contains("K8sTeamLabel"), "{review}");

    // The hardening patch: base64 JSONPatch that adds the defaults.
    let (_, review) = post(
        &agent,
        &format!("https://127.0.0.1:{port}/mutate"),
        "application/json",
        pod_review("u-m", "shop", false).as_bytes(),
    );
    let response = &review["response"];
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch", "{review}");
    let patch: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            response["patch"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let paths: Vec<&str> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/spec/securityContext"), "{paths:?}");
    assert!(
        paths.contains(&"/spec/containers/0/imagePullPolicy"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/spec/containers/0/securityContext/allowPrivilegeEscalation"),
        "{paths:?}"
    );
    // nginx with no user may run as root, and needs the runtime's default capabilities:
    // they are dropped only where the process cannot be root.
    assert!(
        !paths.iter().any(|p| p.contains("capabilities")),
        "{paths:?}"
    );
    let non_root = pod_review("u-m2", "shop", false).replace(
        "\"spec\":{",
        "\"spec\":{\"securityContext\":{\"runAsUser\":101},",
    );
    let (_, review) = post(
        &agent,
        &format!("https://127.0.0.1:{port}/mutate"),
        "application/json",
        non_root.as_bytes(),
    );
    let patch = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            review["response"]["patch"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        patch.contains("/spec/containers/0/securityContext/capabilities"),
        "{patch}"
    );
}

/// `judge_deletions = true` and `judge_connect = true` in palisade.toml: a DELETE and an
/// exec the policies refuse are denied over TLS, others are let in. Without them, the
/// policies that select those requests are named at start and the requests let in.
#[test]
fn deletions_and_connections_are_judged_when_configured() {
    let dir = scratch("admission-operations");
    let fixtures = workspace().join("crates/palisade/tests/policy/operations");
    let serving = |config: &str, tls: &str| {
        std::fs::write(dir.join("palisade.toml"), config).unwrap();
        let mut command = bin();
        command
            .args(["serve", "admission", "--self-signed"])
            .arg(dir.join(tls))
            .args(["--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"])
            .arg("--config")
            .arg(dir.join("palisade.toml"))
            .arg("--policy")
            .arg(fixtures.join("policies.yaml"))
            .arg("--inventory")
            .arg(fixtures.join("namespaces.yaml"));
        let (child, port, _, logged, _rest) =
            common::serve::start_logged(command, "serving admission reviews");
        let agent = client(&std::fs::read(dir.join(tls).join("ca.pem")).unwrap());
        let validate = move |request: Value| {
            let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": request});
            let (status, answer) = post(
                &agent,
                &format!("https://127.0.0.1:{port}/validate"),
                "application/json",
                review.to_string().as_bytes(),
            );
            assert_eq!(status, 200, "{answer}");
            answer["response"].clone()
        };
        (child, logged, validate)
    };
    let delete = |uid: &str, labels: Value| {
        json!({"uid": uid, "kind": {"group": "", "version": "v1", "kind": "Namespace"},
            "resource": {"group": "", "version": "v1", "resource": "namespaces"},
            "name": uid, "operation": "DELETE", "userInfo": {"username": "alice"},
            "object": null, "oldObject": {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": uid, "labels": labels}}})
    };
    let exec = |uid: &str, groups: &[&str]| {
        json!({"uid": uid, "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "exec",
            "name": "web-1", "namespace": "shop", "operation": "CONNECT",
            "userInfo": {"username": "mallory", "groups": groups},
            "object": {"kind": "PodExecOptions", "apiVersion": "v1", "container": "web",
                "command": ["sh"], "stdin": true, "tty": true}})
    };
    let message = |response: &Value| {
        response["status"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    let (_on, _, validate) = serving(
        "[admission]\njudge_deletions = true\njudge_connect = true\n",
        "tls-on",
    );
    let refused = validate(delete("payments", json!({"protected": "true"})));
    assert_eq!(refused["allowed"], false, "{refused}");
    assert!(
        message(&refused).contains("protected namespaces cannot be deleted"),
        "{refused}"
    );
    assert_eq!(validate(delete("scratch", json!({})))["allowed"], true);
    let refused = validate(exec("x1", &["developers"]));
    assert_eq!(refused["allowed"], false, "{refused}");
    assert!(
        message(&refused).contains("exec into shop/web-1 needs break-glass"),
        "{refused}"
    );
    assert_eq!(validate(exec("x2", &["break-glass"]))["allowed"], true);

    // Without the settings, the idle policies are named at start; the requests are let in.
    let (_off, logged, validate) = serving("[admission]\n", "tls-off");
    for (operation, policy) in [
        (
            "DELETE",
            "ValidatingAdmissionPolicy/protected-namespaces-stay",
        ),
        ("CONNECT", "ValidatingAdmissionPolicy/no-exec-in-production"),
    ] {
        assert!(
            logged.contains(&format!("policies select {operation}, which is not judged"))
                && logged.contains(policy),
            "{logged}"
        );
    }
    assert_eq!(
        validate(delete("payments", json!({"protected": "true"})))["allowed"],
        true
    );
    assert_eq!(validate(exec("x3", &[]))["allowed"], true);
}

const SLOW_TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sslow
spec:
  crd:
    spec:
      names:
        kind: K8sSlow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow

        violation[{"msg": msg}] {
          n := count([x | x := numbers.range(1, 20000000)[_]; x % 7 == 0])
          n < 0
          msg := "never"
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSlow
metadata:
  name: slow
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
"#;

/// The webhook answers by its own deadline (`timeout_ms`), or by the API server's when that
/// is sooner: the API server names it in the query as Go writes durations (`?timeout=1s`,
/// the webhook's `timeoutSeconds`), and an answer after it would never be read.
#[test]
fn a_deadline_overrun_is_answered_as_configured() {
    for (on_timeout, timeout_ms, query, allowed, said) in [
        (
            "deny",
            200,
            "",
            false,
            "no verdict within 200 ms (timeout_ms)",
        ),
        (
            "allow",
            200,
            "?timeout=10s",
            true,
            "no verdict within 200 ms (timeout_ms)",
        ),
        (
            "deny",
            20_000,
            "?timeout=1s",
            false,
            "no verdict within 900 ms (the API server's timeout",
        ),
    ] {
        let dir = scratch(&format!("admission-deadline-{on_timeout}-{timeout_ms}"));
        std::fs::write(dir.join("slow.yaml"), SLOW_TEMPLATE).unwrap();
        let config =
            format!("[admission]\ntimeout_ms = {timeout_ms}\non_timeout = \"{on_timeout}\"\n");
        let (_child, port, _, ca) = serve(
            &dir,
            &config,
            &["--policy", dir.join("slow.yaml").to_str().unwrap()],
        );
        let (status, review) = post(
            &client(&ca),
            &format!("https://127.0.0.1:{port}/validate{query}"),
            "application/json",
            pod_review("u-slow", "shop", false).as_bytes(),
        );
        assert_eq!(status, 200);
        let response = &review["response"];
        assert_eq!(response["uid"], "u-slow");
        assert_eq!(response["allowed"], allowed, "{review}");
        let answer = if allowed {
            response["warnings"][0].as_str().unwrap_or_default()
        } else {
            response["status"]["message"].as_str().unwrap_or_default()
        };
        assert!(answer.contains(said), "{review}");
    }
}

#[test]
fn a_rotated_certificate_is_served_without_dropping_requests() {
    let dir = scratch("admission-rotate");
    let rotation = Rotation::new(&dir);
    let mut command = bin();
    command
        .args(["serve", "admission", "--cert"])
        .arg(&rotation.live_cert)
        .arg("--key")
        .arg(&rotation.live_key)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--health-listen",
            "127.0.0.1:0",
            "--no-config",
        ]);
    let (child, port, _, _rest) = start(command, "serving admission reviews");
    let url = format!("https://127.0.0.1:{port}/validate");
    let body = pod_review("u-rot", "shop", true);
    // Every request during the rotation gets its verdict (the privileged pod is denied).
    rotation.rotate_under_load(move |agent| {
        let mut response = agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body.as_str())
            .map_err(|e| e.to_string())?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let review: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match review["response"]["allowed"].as_bool() {
            Some(false) => Ok(()),
            _ => Err(format!("not denied: {text}")),
        }
    });
    drop(child);
}

#[test]
fn install_prints_manifests_that_pass_palisades_own_scan() {
    let dir = scratch("admission-install");
    let print = |extra: &[&str], name: &str| {
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        let printed = install_printed(&extra);
        let path = dir.join(name);
        std::fs::write(&path, &printed).unwrap();
        (path, printed)
    };
    let scan = |path: &Path| {
        bin()
            .args(["scan", "--fail-on", "high", "--no-config", "-o", "json"])
            .arg(path)
            .output()
            .unwrap()
    };
    // The default: cert-manager issues the certificate, nothing secret is printed.
    let (path, text) = print(&["--mutate"], "install.yaml");
    for kind in [
        "kind: Namespace",
        "kind: ServiceAccount",
        "kind: ClusterRole",
        "kind: ClusterRoleBinding",
        "kind: Deployment",
        "kind: Service",
        "kind: PodDisruptionBudget",
        "kind: NetworkPolicy",
        "kind: Certificate",
        "kind: ValidatingWebhookConfiguration",
        "kind: MutatingWebhookConfiguration",
        "cert-manager.io/inject-ca-from: palisade-system/palisade-webhook-tls",
        "failurePolicy: Fail",
    ] {
        assert!(text.contains(kind), "{kind} missing:\n{text}");
    }
    // Deletions are sent too (to read the cluster again after one), and never held up: the
    // deletions webhook fails open, answers within 2 s, and is sent nothing but DELETEs of
    // whole objects.
    let deletions = text
        .split("- name: deletions.palisade.dev")
        .nth(1)
        .and_then(|rest| rest.split("\n---").next())
        .and_then(|rest| rest.split("\n- name:").next())
        .expect("the deletions webhook");
    for expected in [
        "failurePolicy: Ignore",
        "timeoutSeconds: 2",
        "- DELETE",
        "- networkpolicies",
        "- rolebindings",
        "path: /validate",
    ] {
        assert!(
            deletions.contains(expected),
            "{expected} missing:\n{deletions}"
        );
    }
    for unexpected in [
        "- CREATE",
        "- UPDATE",
        "ephemeralcontainers",
        "failurePolicy: Fail",
    ] {
        assert!(
            !deletions.contains(unexpected),
            "{unexpected}:\n{deletions}"
        );
    }
    assert!(!text.contains("judge_deletions"), "{text}");
    // `--judge-deletions`: the webhook is told to, and the API server waits for its verdict
    // under the webhook's own failure policy and timeout.
    let (judged_path, judged) = print(&["--judge-deletions"], "judge-deletions.yaml");
    assert!(judged.contains("judge_deletions = true"), "{judged}");
    let judged_deletions = judged
        .split("- name: deletions.palisade.dev")
        .nth(1)
        .and_then(|rest| rest.split("\n---").next())
        .expect("the deletions webhook");
    assert!(
        judged_deletions.contains("failurePolicy: Fail")
            && judged_deletions.contains("timeoutSeconds: 5")
            && judged_deletions.contains("- DELETE"),
        "{judged_deletions}"
    );
    common::json_exiting(&scan(&judged_path), 0);
    // `--judge-connect`: exec, attach and port-forward are sent, in a configuration of their
    // own, under the webhook's failure policy.
    let (connect_path, connect) = print(&["--judge-connect"], "judge-connect.yaml");
    assert!(connect.contains("judge_connect = true"), "{connect}");
    let configuration = connect
        .split("---")
        .find(|d| d.contains("name: palisade-connect"))
        .expect("the connections' webhook configuration");
    for expected in [
        "kind: ValidatingWebhookConfiguration",
        "- name: connect.palisade.dev",
        "- pods/exec",
        "- pods/attach",
        "- pods/portforward",
        "- CONNECT",
        "failurePolicy: Fail",
        "path: /validate",
    ] {
        assert!(
            configuration.contains(expected),
            "{expected}:\n{configuration}"
        );
    }
    common::json_exiting(&scan(&connect_path), 0);
    assert!(!text.contains("palisade-connect") && !text.contains("judge_connect"));
    // The ClusterRole never reads Secrets.
    let report = common::json_exiting(&scan(&path), 0);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "high" && f["severity"] != "critical")
    );
    let role = text
        .split("---")
        .find(|d| d.contains("kind: ClusterRole\n"))
        .unwrap();
    // No resource named `secrets` (or every resource): sealed secrets and secret stores hold
    // no value it could read.
    assert!(
        role.lines()
            .all(|l| !matches!(l.trim(), "- secrets" | "- \"*\"" | "- '*'")),
        "{role}"
    );
    // It lists the kinds the rules judge or read: the built-in ones the role's list leaves
    // out, and the custom resources, where they are served.
    for custom in [
        "- configmaps",
        "- podtemplates",
        "- horizontalpodautoscalers",
        "- httproutes",
        "- ciliumnetworkpolicies",
        "- clustersecretstores",
    ] {
        assert!(role.contains(custom), "{custom}: {role}");
    }

    // `--cluster-policies`: the flag and read access to Gatekeeper's policy objects (its
    // whole constraints group, the accepted RBAC003 said on the role), still scanning clean.
    let (path, text) = print(&["--cluster-policies"], "cluster-policies.yaml");
    assert!(
        text.contains("- \"--cluster-policies\"") || text.contains("- --cluster-policies"),
        "{text}"
    );
    let role = text
        .split("---")
        .find(|d| {
            d.contains("name: palisade-webhook-policy-reader") && d.contains("kind: ClusterRole\n")
        })
        .expect("the policy reader role");
    assert!(
        role.contains("constraints.gatekeeper.sh") && role.contains("palisade.dev/ignore"),
        "{role}"
    );
    assert!(
        !role.contains("secrets") && !role.contains("create"),
        "{role}"
    );
    common::json_exiting(&scan(&path), 0);
    let (_, without) = print(&[], "default.yaml");
    assert!(!without.contains("cluster-policies") && !without.contains("policy-reader"));
    assert!(!without.contains("palisade-watch"));

    // `--watch`: `palisade watch` deployed beside the webhook, leading through its own Lease,
    // writing Policy Reports, never reading Secrets; still scanning clean.
    let (path, text) = print(&["--watch", "--namespace", "guard"], "watch.yaml");
    let watch_role = text
        .split("---")
        .find(|d| d.contains("name: palisade-watch") && d.contains("kind: ClusterRole\n"))
        .expect("the watch's ClusterRole");
    assert!(
        watch_role.contains("policyreports")
            && watch_role
                .lines()
                .all(|l| !matches!(l.trim(), "- secrets" | "- \"*\"" | "- '*'")),
        "{watch_role}"
    );
    let deployment = text
        .split("---")
        .find(|d| d.contains("name: palisade-watch") && d.contains("kind: Deployment\n"))
        .expect("the watch's Deployment");
    for expected in [
        "- watch",
        "- guard/palisade-watch",
        "--policy-reports",
        "POD_NAME",
    ] {
        assert!(deployment.contains(expected), "{expected}:\n{deployment}");
    }
    let lease_role = text
        .split("---")
        .find(|d| d.contains("name: palisade-watch") && d.contains("kind: Role\n"))
        .expect("the Lease's Role");
    assert!(
        lease_role.contains("resourceNames") && lease_role.contains("namespace: guard"),
        "{lease_role}"
    );
    common::json_exiting(&scan(&path), 0);

    // Made now: the caBundle and the Secret; our own scan reports the key as it should.
    let (path, text) = print(
        &["--tls", "self-signed", "--namespace", "guard"],
        "self-signed.yaml",
    );
    assert!(
        text.contains("caBundle: ") && text.contains("kind: Secret"),
        "{text}"
    );
    assert!(text.contains("namespace: guard"));
    let out = scan(&path);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let high: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
        .map(|f| f["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(high, ["SEC020"], "{}", String::from_utf8_lossy(&out.stdout));

    // The chart in the repository is what `install --chart` writes: one builder for both.
    let chart = dir.join("chart");
    let out = bin()
        .args(["install", "--chart"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = workspace().join("deploy/helm/palisade");
    for file in [
        "Chart.yaml",
        "values.yaml",
        "templates/workload.yaml",
        "templates/service.yaml",
        "templates/rbac.yaml",
        "templates/config.yaml",
        "templates/webhook.yaml",
    ] {
        assert_eq!(
            std::fs::read_to_string(chart.join(file)).unwrap(),
            std::fs::read_to_string(committed.join(file)).unwrap_or_default(),
            "deploy/helm/palisade/{file} is stale: run `palisade install --chart deploy/helm/palisade`"
        );
    }
}

/// The committed chart rendered by the real `helm` (`.ci/run` installs it), under each switch
/// of its values, passes Palisade's own scan with nothing high: only `certManager: false`,
/// where Helm makes the serving key at render time, puts a key in a Secret (SEC020, as
/// values.yaml says).
#[test]
fn the_chart_renders_with_helm_and_passes_its_own_scan() {
    if !common::need_helm() {
        return;
    }
    let chart = workspace().join("deploy/helm/palisade");
    let high = |out: &std::process::Output| -> Vec<String> {
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(report["diagnostics"], json!([]), "{report}");
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
            .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // As a user scans the chart's directory: rendered by Palisade with its defaults.
    let out = bin()
        .args(["scan", "-o", "json", "--fail-on", "high"])
        .arg(&chart)
        .output()
        .unwrap();
    assert_eq!(high(&out), Vec::<String>::new());
    assert_eq!(out.status.code(), Some(0));
    for (values, expected) in [
        ("mutate=true", &[][..]),
        ("readCluster=false", &[]),
        ("clusterPolicies=true", &[]),
        ("readCluster=false,clusterPolicies=true", &[]),
        ("failurePolicy=Ignore,timeoutSeconds=3,replicas=3", &[]),
        ("judgeDeletions=true,mutate=true,timeoutSeconds=4", &[]),
        ("watch=true,watchReplicas=3", &[]),
        ("judgeConnect=true,certManager=false", &["SEC020"]),
        ("certManager=false", &["SEC020"]),
        (
            "certManager=false,mutate=true,readCluster=false",
            &["SEC020"],
        ),
    ] {
        let rendered = std::process::Command::new("helm")
            .args(["template", "palisade"])
            .arg(&chart)
            .args(["--namespace", "palisade", "--set", values])
            .output()
            .unwrap();
        assert!(
            rendered.status.success(),
            "helm template --set {values}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let text = String::from_utf8_lossy(&rendered.stdout);
        let deletions = text
            .split("- name: deletions.palisade.dev")
            .nth(1)
            .and_then(|rest| rest.split("\n---").next())
            .expect("the deletions webhook");
        // Deletions are judged, under the webhook's failure policy and timeout, only when
        // the value says so.
        if values.contains("judgeDeletions=true") {
            assert!(text.contains("judge_deletions = true"), "{text}");
            assert!(
                deletions.contains("failurePolicy: Fail")
                    && deletions.contains("timeoutSeconds: 4"),
                "{deletions}"
            );
        } else {
            assert!(!text.contains("judge_deletions"), "{text}");
            assert!(
                deletions.contains("failurePolicy: Ignore")
                    && deletions.contains("timeoutSeconds: 2"),
                "{deletions}"
            );
        }
        assert_eq!(
            text.contains("connect.palisade.dev") && text.contains("judge_connect = true"),
            values.contains("judgeConnect=true"),
            "{values}"
        );
        let stream = scratch("chart-values").join("rendered.yaml");
        std::fs::write(&stream, &rendered.stdout).unwrap();
        let out = bin()
            .args(["scan", "-o", "json", "--fail-on", "none"])
            .arg(&stream)
            .output()
            .unwrap();
        assert_eq!(high(&out), expected, "--set {values}");
    }
    // `extraRules` go after the built-in rules' in the validating webhook (not the deletions').
    let rendered = std::process::Command::new("helm")
        .args(["template", "palisade"])
        .arg(&chart)
        .args(["--namespace", "palisade", "--set-json"])
        .arg(r#"extraRules=[{"apiGroups":["storage.k8s.io"],"apiVersions":["*"],"resources":["storageclasses"],"operations":["CREATE","UPDATE"]}]"#)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let text = String::from_utf8_lossy(&rendered.stdout);
    let rules = validating_rules(&text);
    assert_eq!(
        rules.last().map(String::as_str),
        Some("storage.k8s.io storageclasses"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r == "policy poddisruptionbudgets"),
        "{rules:?}"
    );
    let deletions = text
        .split("- name: deletions.palisade.dev")
        .nth(1)
        .expect("the deletions webhook");
    assert!(!deletions.contains("storageclasses"), "{deletions}");
}

/// `serve admission --cluster` against the recorded API server of `kubeconfig`, self-signed
/// under `dir`, on free loopback ports, with `extra` arguments.
fn serve_recorded(dir: &Path, kubeconfig: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = bin();
    command
        .args(["serve", "admission", "--self-signed"])
        .arg(dir.join("tls"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--health-listen",
            "127.0.0.1:0",
            "--no-config",
        ])
        .args(["--cluster", "--request-timeout", "2", "--kubeconfig"])
        .arg(kubeconfig)
        .args(extra);
    command
}

/// `--cluster`: the objects are judged in the cluster read at start (the recorded API server
/// of `palisade_cluster::recorded`: real v1.33 responses over HTTPS on loopback, as no API
/// server can run here), Secrets it may not list said, not fatal.
#[tokio::test(flavor = "multi_thread")]
async fn the_cluster_is_read_at_start() {
    let dir = scratch("admission-cluster");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let command = serve_recorded(&dir, &kubeconfig, &[]);
    let (child, port, _, log, _rest) = tokio::task::spawn_blocking(move || {
        common::serve::start_logged(command, "serving admission reviews")
    })
    .await
    .unwrap();
    let prepared: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["msg"] == "admission model prepared")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(prepared["objects"].as_u64().unwrap() >= 5, "{log}");
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    let (status, review) = tokio::task::spawn_blocking(move || {
        post(
            &client(&ca),
            &format!("https://127.0.0.1:{port}/validate"),
            "application/json",
            pod_review("u-live", "shop", true).as_bytes(),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(review["response"]["allowed"], false, "{review}");
    drop(child);
}

/// `--refresh-after-change`: an object let in that changes what the cross-object rules read
/// (a Service) makes the webhook read the cluster again soon, not at the next `--refresh`;
/// one that changes nothing they read (a ConfigMap) does not. The recorded API server counts
/// the reads, and `/metrics` says why each was made.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_let_in_makes_the_cluster_be_read_again_soon() {
    use std::sync::atomic::Ordering;
    let dir = scratch("admission-cluster-change");
    let (kubeconfig, calls) = palisade_cluster::recorded::server(&dir).await;
    let command = serve_recorded(
        &dir,
        &kubeconfig,
        &["--refresh", "1h", "--refresh-after-change", "1s"],
    );
    let (child, port, health, _, _rest) = tokio::task::spawn_blocking(move || {
        common::serve::start_logged(command, "serving admission reviews")
    })
    .await
    .unwrap();
    // Each read lists the ConfigMaps: the count says whether a read was made.
    let reads = || calls.configmaps.load(Ordering::SeqCst);
    let first = reads();
    assert!(first > 0);
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    let agent = client(&ca);
    let send = |object: Value, uid: &'static str| {
        let agent = agent.clone();
        tokio::task::spawn_blocking(move || {
            post(
                &agent,
                &format!("https://127.0.0.1:{port}/validate"),
                "application/json",
                create_review(uid, &object).as_bytes(),
            )
        })
    };
    let settings = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "fast"}});
    let (status, review) = send(settings, "u-cm").await.unwrap();
    assert_eq!(
        (status, &review["response"]["allowed"]),
        (200, &json!(true)),
        "{review}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(reads(), first, "a ConfigMap changes nothing the rules read");
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}});
    let (status, review) = send(service, "u-svc").await.unwrap();
    assert_eq!(
        (status, &review["response"]["allowed"]),
        (200, &json!(true)),
        "{review}"
    );
    let series = r#"palisade_admission_cluster_reads_total{reason="change",outcome="ok"} 1"#;
    tokio::task::spawn_blocking(move || {
        common::serve::wait_for("a read after the change", || {
            common::serve::metrics(&agent, health).contains(series)
        })
    })
    .await
    .unwrap();
    assert!(reads() > first);
    drop(child);
}

/// A review of `object` (CREATE in namespace shop).
fn create_review(uid: &str, object: &Value) -> String {
    let (group, version) = object["apiVersion"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap_or(("", "v1"));
    let kind = object["kind"].as_str().unwrap();
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid,
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
        "name": object["metadata"]["name"], "namespace": "shop", "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": object}})
    .to_string()
}

/// A rollout against `--inventory`: the Pod of a ReplicaSet the inventory does not hold is
/// judged as a standalone Pod (denied: its account is cluster-admin behind a LoadBalancer);
/// once the webhook lets the ReplicaSet in, it keeps it, the Pod is judged through the
/// Deployment like the Pods of its known ReplicaSet, and the metrics count it.
#[test]
fn a_rollouts_pods_are_judged_through_the_deployment() {
    let dir = scratch("admission-rollout");
    std::fs::write(
        dir.join("cluster.yaml"),
        include_str!("../../palisade-scan/tests/data/exposed-admin-deployment.yaml"),
    )
    .unwrap();
    let inventory = dir.join("cluster.yaml");
    let (_child, port, health, ca) = serve(&dir, "", &["--inventory", inventory.to_str().unwrap()]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-2-x", "namespace": "shop", "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-2", "uid": "rs-2", "controller": true}]},
        "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": "nginx:1.28"}]}});
    let replica_set = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-2", "namespace": "shop", "uid": "rs-2",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"serviceAccountName": "backup", "containers": [{"name": "web", "image": "nginx:1.28"}]}}}});
    let allowed = |uid: &str, object: &Value| {
        let (status, review) = post(
            &agent,
            &validate,
            "application/json",
            create_review(uid, object).as_bytes(),
        );
        assert_eq!(status, 200, "{review}");
        review["response"]["allowed"].as_bool().unwrap()
    };
    assert!(!allowed("p1", &pod), "a standalone Pod");
    assert!(allowed("rs", &replica_set));
    assert!(allowed("p2", &pod), "a Pod of the Deployment's ReplicaSet");
    let metrics = metrics(&agent, health);
    assert!(
        metrics.contains("palisade_admission_remembered_objects 1"),
        "{metrics}"
    );
}

/// A chart installed as `helm install` does it, against `--inventory` (a cluster holding only
/// its namespace): the account, its binding to cluster-admin (warned, by the configuration),
/// the LoadBalancer Service, then the Deployment. The webhook keeps each object it lets in, so
/// the Deployment is judged with them and denied for its escalation path (RBAC017), as
/// `palisade scan` of the chart denies it. Before, it was judged without them and let in.
/// A dry run of a second one is denied too, before and after the models are prepared again.
#[test]
fn a_charts_deployment_is_judged_with_the_objects_created_before_it() {
    let dir = scratch("admission-chart");
    let objects = [
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "backup", "namespace": "shop"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "backup-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "backup", "namespace": "shop"}]}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "backup",
                        "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}}),
    ];
    let chart: Vec<String> = objects.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("chart.yaml"), chart.join("\n---\n")).unwrap();
    let scanned = bin()
        .args(["scan", "--rules", "RBAC017"])
        .arg(dir.join("chart.yaml"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&scanned.stdout).contains("RBAC017"),
        "{scanned:?}"
    );
    std::fs::write(
        dir.join("cluster.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    )
    .unwrap();
    let inventory = dir.join("cluster.yaml");
    let config = "[admission.rules]\nRBAC001 = \"warn\"\n";
    let (_child, port, health, ca) =
        serve(&dir, config, &["--inventory", inventory.to_str().unwrap()]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");
    let judge = |review: String| {
        let (status, review) = post(&agent, &validate, "application/json", review.as_bytes());
        assert_eq!(status, 200, "{review}");
        review["response"].clone()
    };
    // Helm's order: the account, the binding, the Service, the Deployment.
    let order = ["ServiceAccount", "ClusterRoleBinding", "Service"];
    for kind in order {
        let object = objects.iter().find(|o| o["kind"] == kind).unwrap();
        let mut review: Value = serde_json::from_str(&create_review(kind, object)).unwrap();
        if object["metadata"].get("namespace").is_none() {
            // Cluster-scoped: the API server names no namespace.
            review["request"]
                .as_object_mut()
                .unwrap()
                .remove("namespace");
        }
        let response = judge(review.to_string());
        assert_eq!(response["allowed"], true, "{kind}: {response}");
    }
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let mut second = deployment.clone();
    second["metadata"] = json!({"name": "web-2", "namespace": "shop"});
    let dry_run = || {
        let mut review: Value = serde_json::from_str(&create_review("dry", &second)).unwrap();
        review["request"]["dryRun"] = json!(true);
        review.to_string()
    };
    let denied_for_the_path = |response: &Value| {
        response["allowed"] == false
            && response["status"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("RBAC017"))
    };
    let response = judge(dry_run());
    assert!(denied_for_the_path(&response), "{response}");
    let response = judge(create_review("deployment", deployment));
    assert!(denied_for_the_path(&response), "{response}");
    // Prepared again on a thread of its own (well within a minute); the verdict is the same.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let response = judge(dry_run());
    assert!(denied_for_the_path(&response), "{response}");
    let metrics = metrics(&agent, health);
    assert!(
        metrics.contains("palisade_admission_remembered_objects 3"),
        "{metrics}"
    );
}

/// A binding that gives a running, exposed Deployment a chain to cluster-admin is denied
/// (RBAC021, critical), over real TLS, even where only critical findings deny
/// (`deny_at = "critical"`): on its own it is a high finding (RBAC004, create Deployments),
/// a warning there. The same grant to an account no workload runs as is let in with that
/// warning. `palisade scan` of the cluster with the binding reports the chain on the
/// Deployment (RBAC017), and lists RBAC021 as skipped: a scan has no before.
#[test]
fn a_binding_that_opens_a_chain_for_a_running_workload_is_denied() {
    let dir = scratch("admission-opened-chain");
    let fixture = std::fs::read_to_string(
        workspace().join("crates/palisade-rules/tests/fixtures/RBAC021/fail.yaml"),
    )
    .unwrap();
    let (cluster, binding) = fixture.rsplit_once("\n---\n").unwrap();
    let inventory = dir.join("cluster.yaml");
    std::fs::write(&inventory, cluster).unwrap();
    let binding = palisade_inventory::load_text("binding.yaml", binding, &Default::default())
        .inventory
        .objects[0]
        .value
        .clone();
    let config = "[admission]\ndeny_at = \"critical\"\n";
    let (_child, port, _health, ca) =
        serve(&dir, config, &["--inventory", inventory.to_str().unwrap()]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");
    let judge = |object: &Value| {
        let (status, review) = post(
            &agent,
            &validate,
            "application/json",
            create_review("binding", object).as_bytes(),
        );
        assert_eq!(status, 200, "{review}");
        review["response"].clone()
    };
    let mut harmless = binding.clone();
    harmless["metadata"]["name"] = json!("release-bot-deploys-ops");
    harmless["subjects"][0] =
        json!({"kind": "ServiceAccount", "name": "release-bot", "namespace": "ops"});
    let response = judge(&harmless);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        response["warnings"].to_string().contains("RBAC004"),
        "{response}"
    );
    let response = judge(&binding);
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("RBAC021") && message.contains("lets Deployment web/web"),
        "{response}"
    );
    std::fs::write(dir.join("with-binding.yaml"), &fixture).unwrap();
    let scanned = bin()
        .args(["scan", "-o", "json", "--fail-on", "none"])
        .arg(dir.join("with-binding.yaml"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "RBAC017" && f["object"]["name"] == "web"),
        "{report}"
    );
    assert!(findings.iter().all(|f| f["rule"] != "RBAC021"));
    let coverage = report["coverage"].as_array().unwrap();
    let skipped = coverage.iter().find(|c| c["rule"] == "RBAC021").unwrap();
    assert!(
        skipped["skipped"]
            .as_str()
            .unwrap()
            .contains("at admission"),
        "{skipped}"
    );
}

/// `--cluster-policies`: the webhook runs the Gatekeeper constraints the cluster holds (here
/// `--inventory`, read as the cluster), over real TLS: a ConfigMap without an owner label is
/// denied by the constraint found there, one with it let in. A constraint whose template
/// does not compile is left out and counted, and the webhook goes on with the others.
#[test]
fn the_webhook_runs_the_policies_the_cluster_holds() {
    let dir = scratch("admission-cluster-policies");
    let inventory = dir.join("cluster.yaml");
    std::fs::write(
        &inventory,
        [
            include_str!("../../palisade-admission/tests/data/needs-owner.yaml"),
            r#"---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sbroken}
spec:
  crd: {spec: {names: {kind: K8sBroken}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbroken
        violation[{"msg": "x"}] { x := := 1 }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBroken
metadata: {name: broken}
spec: {match: {kinds: [{apiGroups: [""], kinds: ["ConfigMap"]}]}}
"#,
        ]
        .concat(),
    )
    .unwrap();
    let (_child, port, health, ca) = serve(
        &dir,
        "",
        &[
            "--inventory",
            inventory.to_str().unwrap(),
            "--cluster-policies",
        ],
    );
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");
    let verdict = |uid: &str, labels: Value| {
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "shop", "labels": labels}});
        let (status, review) = post(
            &agent,
            &validate,
            "application/json",
            create_review(uid, &object).as_bytes(),
        );
        assert_eq!(status, 200, "{review}");
        review
    };
    let denied = verdict("no-owner", json!({}));
    assert_eq!(denied["response"]["allowed"], false, "{denied}");
    assert!(
        denied["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("[K8sNeedsOwner/needs-owner high] no owner label"),
        "{denied}"
    );
    let owned = verdict("owned", json!({"owner": "team-a"}));
    assert_eq!(owned["response"]["allowed"], true, "{owned}");
    let metrics = metrics(&agent, health);
    assert!(
        metrics.contains("palisade_admission_cluster_policies_unusable 1"),
        "{metrics}"
    );
}

/// The library's K8sRequiredLabels template (../shared/corpora, required) and the policies
/// of `tests/policy/DIR`, as `--policy` arguments.
fn with_labels_template(dir: &str) -> Vec<String> {
    let template = workspace()
        .join("../shared/corpora/gatekeeper-library/library/general/requiredlabels/template.yaml");
    assert!(template.exists(), "{} is required", template.display());
    let policies = workspace().join("crates/palisade/tests/policy").join(dir);
    vec![
        "--policy".into(),
        template.display().to_string(),
        "--policy".into(),
        policies.display().to_string(),
    ]
}

/// `tests/policy/sent` (a StorageClass constraint, a replica limit on `deployments/scale`).
fn sent_policies() -> Vec<String> {
    with_labels_template("sent")
}

/// `palisade install --print` with `args`: its output, which must succeed.
fn install_printed(args: &[String]) -> String {
    let out = bin()
        .args(["install", "--print"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The validating webhook's rules in install output, as `group resource` lines.
fn validating_rules(printed: &str) -> Vec<String> {
    let stream = palisade_inventory::yaml::parse_stream(printed, &Default::default());
    let configuration = stream
        .documents
        .iter()
        .map(|d| &d.value)
        .find(|v| {
            v["kind"] == "ValidatingWebhookConfiguration" && v["metadata"]["name"] == "palisade"
        })
        .expect("the validating configuration");
    let webhook = &configuration["webhooks"][0];
    assert_eq!(webhook["name"], "validate.palisade.dev");
    let mut rules = Vec::new();
    for rule in webhook["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                let (group, resource) = (group.as_str().unwrap(), resource.as_str().unwrap());
                rules.push(format!("{group} {resource}").trim().to_string());
            }
        }
    }
    rules
}

/// `serve admission` judging in a cluster (under `dir`) of one namespace and, when given, the
/// webhook configurations `configuration` (install output), with `policies` and `config` as
/// palisade.toml. Returns the child, its ports, what it logged at start and the CA.
fn serve_registered(
    dir: &Path,
    configuration: Option<&str>,
    policies: &[String],
    config: &str,
) -> (common::serve::Served, u16, u16, String, Vec<u8>) {
    let cluster = dir.join("cluster");
    std::fs::create_dir_all(&cluster).unwrap();
    std::fs::write(
        cluster.join("namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    )
    .unwrap();
    if let Some(text) = configuration {
        std::fs::write(cluster.join("install.yaml"), text).unwrap();
    }
    let mut command = serve_command(dir, config);
    command
        .arg("--inventory")
        .arg(&cluster)
        // As the install's Deployment says it (PALISADE_WEBHOOK_NAMESPACE): exempt.
        .args(["--namespace", "palisade-system"])
        .args(policies);
    let (child, port, health, log, _rest) =
        common::serve::start_logged(command, "serving admission reviews");
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    (child, port, health, log, ca)
}

/// The `rules` of the warning `serve admission` logs for rules whose requests are not sent.
fn unsent_warning(log: &str) -> Value {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| {
            v["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("rules judge requests"))
        })
        .map(|v| v["rules"].clone())
        .unwrap_or_else(|| panic!("{log}"))
}

/// With mutation on, the mutating webhook must be sent what Gatekeeper's mutators change:
/// `install --mutate --policy` writes it, and `serve admission` says what it is not sent.
#[test]
fn the_mutating_webhook_is_sent_what_the_mutators_change() {
    let dir = scratch("admission-sent-mutators");
    let policies = [
        "--policy".to_string(),
        workspace()
            .join("crates/palisade/tests/policy/sent-mutators")
            .display()
            .to_string(),
    ];
    let mutate = "[admission.mutate]\nenabled = true\n";
    let plain = install_printed(&["--mutate".into()]);
    // The reader role may list the configurations the check reads.
    for kind in [
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
    ] {
        assert!(plain.contains(&format!("- {kind}")), "{kind}: {plain}");
    }
    let (child, _, health, log, ca) =
        serve_registered(&dir.join("plain"), Some(&plain), &policies, mutate);
    assert_eq!(
        unsent_warning(&log),
        json!({"Assign/service-session-affinity": ["CREATE services (mutating)", "UPDATE services (mutating)"]}),
        "{log}"
    );
    assert!(metrics(&client(&ca), health).contains("palisade_admission_unsent_requests 2"));
    drop(child);
    let mut args = vec!["--mutate".to_string()];
    args.extend(policies.iter().cloned());
    let written = install_printed(&args);
    let (child, _, health, log, ca) =
        serve_registered(&dir.join("written"), Some(&written), &policies, mutate);
    assert!(!log.contains("rules judge requests"), "{log}");
    assert!(metrics(&client(&ca), health).contains("palisade_admission_unsent_requests 0"));
    drop(child);
    // Mutation off: the mutators do not run at admission, so nothing is asked for them.
    let (child, _, _, log, _) = serve_registered(&dir.join("off"), Some(&plain), &policies, "");
    assert!(!log.contains("rules judge requests"), "{log}");
    drop(child);
}

/// What the webhook is sent follows what its rules and policies judge: `install` writes it
/// (the built-in rules' kinds, `--policy`, `--send`), and `serve admission` says which rules
/// judge requests its configuration does not send (`palisade_admission_unsent_requests`).
/// A policy on a subresource (a Deployment's `scale`) is judged once sent.
#[test]
fn the_webhook_is_sent_what_its_rules_and_policies_judge() {
    let dir = scratch("admission-sent");
    let plain = install_printed(&[]);
    let rules = validating_rules(&plain);
    for kind in [
        "pods",
        "pods/ephemeralcontainers",
        "apps deployments",
        "policy poddisruptionbudgets",
        "autoscaling horizontalpodautoscalers",
        "podtemplates",
        // Well-known custom resources the built-in rules judge, sent before their
        // definitions are read.
        "argoproj.io rollouts",
        "serving.knative.dev services",
        "ray.io rayclusters",
        "kubeflow.org pytorchjobs",
        "jobset.x-k8s.io jobsets",
        "security.istio.io peerauthentications",
    ] {
        assert!(rules.iter().any(|r| r == kind), "{kind} in {rules:?}");
    }
    assert!(
        !rules.iter().any(|r| r.contains("storageclasses")),
        "{rules:?}"
    );
    let with_policies = install_printed(&sent_policies());
    let rules = validating_rules(&with_policies);
    assert!(
        rules.iter().any(|r| r == "storage.k8s.io storageclasses"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r == "apps deployments/scale"),
        "{rules:?}"
    );
    let sent = install_printed(&[
        "--send".into(),
        "gateways.gateway.networking.k8s.io,sc".into(),
    ]);
    let rules = validating_rules(&sent);
    assert!(
        rules
            .iter()
            .any(|r| r == "gateway.networking.k8s.io gateways"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r == "storage.k8s.io storageclasses"),
        "{rules:?}"
    );
    // An unknown name is an error, never a webhook sent nothing new.
    for bad in [
        &["--send", "deploymentz"][..],
        &["--send", "*"],
        &["--policy", "/nonexistent"],
    ] {
        let out = bin()
            .args(["install", "--print"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }

    // The webhook registered with the default install: the policies' kinds are not sent.
    let serve_with = |name: &str, configuration: Option<&str>| {
        serve_registered(&dir.join(name), configuration, &sent_policies(), "")
    };
    let (child, _, health, log, ca) = serve_with("default", Some(&plain));
    assert_eq!(
        unsent_warning(&log),
        json!({
            "K8sRequiredLabels/storage-owner": ["CREATE storageclasses.storage.k8s.io", "UPDATE storageclasses.storage.k8s.io"],
            "ValidatingAdmissionPolicy/replica-limit": ["UPDATE deployments.apps/scale"],
        }),
        "{log}"
    );
    let exposed = metrics(&client(&ca), health);
    assert!(
        exposed.contains("palisade_admission_unsent_requests 3"),
        "{exposed}"
    );
    drop(child);

    // Registered with the install written from the policies: everything is sent, and a
    // scale past the limit is denied.
    let (child, port, health, log, ca) = serve_with("from-policies", Some(&with_policies));
    assert!(!log.contains("rules judge requests"), "{log}");
    let agent = client(&ca);
    let exposed = metrics(&agent, health);
    assert!(
        exposed.contains("palisade_admission_unsent_requests 0"),
        "{exposed}"
    );
    assert!(
        exposed.contains("palisade_admission_unsent_namespaces 0"),
        "{exposed}"
    );
    let scale = |uid: &str, replicas: u32| {
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": uid,
            "kind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "subResource": "scale", "name": "web", "namespace": "shop", "operation": "UPDATE",
            "userInfo": {"username": "alice"},
            "object": {"apiVersion": "autoscaling/v1", "kind": "Scale",
                       "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": replicas}},
            "oldObject": {"apiVersion": "autoscaling/v1", "kind": "Scale",
                          "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 3}}}});
        let (status, answer) = post(
            &agent,
            &format!("https://127.0.0.1:{port}/validate"),
            "application/json",
            review.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
        answer["response"].clone()
    };
    assert_eq!(scale("few", 5)["allowed"], true);
    let denied = scale("many", 50);
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(
        denied["status"]["message"]
            .as_str()
            .unwrap()
            .contains("ValidatingAdmissionPolicy/replica-limit"),
        "{denied}"
    );
    drop(child);

    // A configuration edited to be sent only opted-in namespaces and labelled objects: the
    // namespaces left out and the object selector are said.
    let stream = palisade_inventory::yaml::parse_stream(&with_policies, &Default::default());
    let mut edited: Vec<Value> = stream.documents.into_iter().map(|d| d.value).collect();
    for object in &mut edited {
        if object["kind"] == "ValidatingWebhookConfiguration" {
            for webhook in object["webhooks"].as_array_mut().unwrap() {
                webhook["namespaceSelector"] = json!({"matchLabels": {"palisade": "enabled"}});
                webhook["objectSelector"] = json!({"matchLabels": {"judged": "yes"}});
            }
        }
    }
    let edited: String = edited.iter().map(|o| format!("---\n{o}\n")).collect();
    let (child, _, health, log, ca) =
        serve_registered(&dir.join("opt-in"), Some(&edited), &sent_policies(), "");
    let warned = |key: &str| -> Value {
        log.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v.get(key).cloned())
            .unwrap_or_else(|| panic!("{key}: {log}"))
    };
    assert_eq!(warned("namespaces"), json!(["shop"]), "{log}");
    assert_eq!(
        warned("object_selectors"),
        json!([r#"{"matchLabels":{"judged":"yes"}}"#]),
        "{log}"
    );
    let exposed = metrics(&client(&ca), health);
    assert!(
        exposed.contains("palisade_admission_unsent_namespaces 1"),
        "{exposed}"
    );
    drop(child);

    // A rule switched off at admission judges nothing there: nothing is asked for it.
    let (child, _, _, log, _) = serve_registered(
        &dir.join("off"),
        Some(&plain),
        &sent_policies(),
        "[admission.rules]\n\"K8sRequiredLabels/storage-owner\" = \"off\"\n",
    );
    assert_eq!(
        unsent_warning(&log),
        json!({"ValidatingAdmissionPolicy/replica-limit": ["UPDATE deployments.apps/scale"]}),
        "{log}"
    );
    drop(child);

    // No configuration read: nothing could be checked, and the metric says so.
    let (child, _, health, log, ca) = serve_with("none", None);
    assert!(
        log.contains("what the webhook is sent was not checked"),
        "{log}"
    );
    assert!(metrics(&client(&ca), health).contains("palisade_admission_unsent_requests -1"));
    drop(child);
}

/// `tests/policy/fresh-namespace`: a namespace selector on `tier: restricted`.
fn fresh_namespace_policies() -> Vec<String> {
    with_labels_template("fresh-namespace")
}

/// Only the constraint enforces: the built-in rules audit.
const OWNER_ENFORCED: &str = "[admission]\nmode = \"audit\"\n[admission.rules]\n\"K8sRequiredLabels/owner-in-restricted\" = \"enforce\"\n";

/// A Pod without an owner label in `namespace`: the response.
fn ownerless_pod(agent: &ureq::Agent, port: u16, uid: &str, namespace: &str) -> Value {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": namespace},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}});
    let mut review: Value = serde_json::from_str(&create_review(uid, &pod)).unwrap();
    review["request"]["namespace"] = json!(namespace);
    let (status, answer) = post(
        agent,
        &format!("https://127.0.0.1:{port}/validate"),
        "application/json",
        review.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    answer["response"].clone()
}

/// A namespace created after the webhook read the cluster: the webhook keeps the Namespaces it
/// lets in, so a namespace selector judges the objects created in one at once. One it never saw
/// (created through another replica, or while it was down) cannot be judged: an enforced
/// policy then denies (`on_error = "deny"`, the default), never lets it pass unjudged.
#[test]
fn a_namespace_created_after_the_read_is_judged_by_its_labels() {
    let dir = scratch("admission-fresh-namespace");
    let (child, port, _, _, ca) = serve_registered(
        &dir.join("deny"),
        None,
        &fresh_namespace_policies(),
        OWNER_ENFORCED,
    );
    let agent = client(&ca);
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "fresh", "labels": {"tier": "restricted"}}});
    // The API server names a Namespace's own name as the request's namespace.
    let mut review: Value = serde_json::from_str(&create_review("ns-fresh", &namespace)).unwrap();
    review["request"]["namespace"] = json!("fresh");
    let (status, created) = post(
        &agent,
        &format!("https://127.0.0.1:{port}/validate"),
        "application/json",
        review.to_string().as_bytes(),
    );
    assert_eq!(
        (status, &created["response"]["allowed"]),
        (200, &json!(true)),
        "{created}"
    );
    let denied = ownerless_pod(&agent, port, "in-fresh", "fresh");
    assert_eq!(denied["allowed"], false, "{denied}");
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("K8sRequiredLabels/owner-in-restricted") && message.contains("owner"),
        "{message}"
    );
    assert!(!message.contains("could not judge"), "{message}");
    // `shop` was read with the cluster, without the label: the constraint does not apply.
    assert_eq!(
        ownerless_pod(&agent, port, "in-shop", "shop")["allowed"],
        true
    );
    let unseen = ownerless_pod(&agent, port, "in-ghost", "ghost");
    assert_eq!(unseen["allowed"], false, "{unseen}");
    let message = unseen["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("could not judge the object") && message.contains("namespace ghost"),
        "{message}"
    );
    drop(child);
    // on_error = "allow": let in, with a warning that says the policy did not judge it.
    let (child, port, _, _, ca) = serve_registered(
        &dir.join("allow"),
        None,
        &fresh_namespace_policies(),
        &OWNER_ENFORCED.replace("[admission]\n", "[admission]\non_error = \"allow\"\n"),
    );
    let allowed = ownerless_pod(&client(&ca), port, "in-ghost", "ghost");
    assert_eq!(allowed["allowed"], true, "{allowed}");
    assert!(
        allowed["warnings"].to_string().contains("could not judge"),
        "{allowed}"
    );
    drop(child);
}

/// `--cluster`: a request in a namespace the read lacks (created after it, through another
/// replica) has its Namespace looked up by name, as Gatekeeper reads a namespace it has not
/// cached, so its labels decide the namespace selector. The recorded API server (real v1.33
/// response shapes over HTTPS on loopback, as no API server can run here) serves `late` by
/// name only, and a 404 Status for `ghost`.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_the_read_lacks_is_looked_up() {
    let dir = scratch("admission-namespace-lookup");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let mut command = serve_command(&dir, OWNER_ENFORCED);
    command
        .args(["--cluster", "--request-timeout", "2", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(fresh_namespace_policies());
    let (child, port, _, _, _rest) = tokio::task::spawn_blocking(move || {
        common::serve::start_logged(command, "serving admission reviews")
    })
    .await
    .unwrap();
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    let (late, ghost, shop) = tokio::task::spawn_blocking(move || {
        let agent = client(&ca);
        (
            ownerless_pod(&agent, port, "in-late", "late"),
            ownerless_pod(&agent, port, "in-ghost", "ghost"),
            ownerless_pod(&agent, port, "in-shop", "shop"),
        )
    })
    .await
    .unwrap();
    assert_eq!(late["allowed"], false, "{late}");
    let message = late["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("K8sRequiredLabels/owner-in-restricted")
            && !message.contains("could not judge"),
        "{message}"
    );
    assert_eq!(ghost["allowed"], false, "{ghost}");
    assert!(
        ghost.to_string().contains("could not judge the object"),
        "{ghost}"
    );
    assert_eq!(shop["allowed"], true, "{shop}");
    drop(child);
}

/// Deletions and connections the settings judge are checked too: a policy on `pods/proxy`
/// and one on deleting Leases are said when the installed configurations do not send them,
/// and `install --judge-connect --judge-deletions --policy` writes them.
#[test]
fn deletions_and_connections_the_policies_judge_are_sent() {
    let dir = scratch("admission-sent-operations");
    let policies = [
        "--policy".to_string(),
        workspace()
            .join("crates/palisade/tests/policy/sent-operations")
            .display()
            .to_string(),
    ];
    let judged = "[admission]\njudge_deletions = true\njudge_connect = true\n";
    let switches = [
        "--judge-connect".to_string(),
        "--judge-deletions".to_string(),
    ];
    let plain = install_printed(&switches);
    let (child, _, _, log, _) =
        serve_registered(&dir.join("plain"), Some(&plain), &policies, judged);
    assert_eq!(
        unsent_warning(&log),
        json!({
            "ValidatingAdmissionPolicy/keep-leases": ["DELETE leases.coordination.k8s.io"],
            "ValidatingAdmissionPolicy/no-pod-proxy": ["CONNECT pods/proxy"],
        }),
        "{log}"
    );
    drop(child);
    let written = install_printed(&[switches.to_vec(), policies.to_vec()].concat());
    let (child, _, _, log, _) =
        serve_registered(&dir.join("written"), Some(&written), &policies, judged);
    assert!(!log.contains("rules judge requests"), "{log}");
    drop(child);
    // Not judged by the settings: nothing is asked for them (the settings' own warning says
    // the policies select operations that are not judged).
    let (child, _, _, log, _) =
        serve_registered(&dir.join("unjudged"), Some(&plain), &policies, "");
    assert!(!log.contains("rules judge requests"), "{log}");
    drop(child);
}

/// What the webhook is sent is checked at every read, and said when the answer changes, not
/// again at every `--refresh`: the recorded API server (real v1.33 response shapes over
/// HTTPS on loopback, as no API server can run here) serves no webhook configuration, so
/// the first read says it was not checked, and the reads after it say nothing more.
#[tokio::test(flavor = "multi_thread")]
async fn what_the_webhook_is_sent_is_said_once_per_change() {
    let dir = scratch("admission-sent-said-once");
    let (kubeconfig, _) = palisade_cluster::recorded::server(&dir).await;
    let command = serve_recorded(&dir, &kubeconfig, &["--refresh", "1s"]);
    let (child, _, health, log, rest) = tokio::task::spawn_blocking(move || {
        common::serve::start_logged(command, "serving admission reviews")
    })
    .await
    .unwrap();
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    tokio::task::spawn_blocking(move || {
        let agent = client(&ca);
        common::serve::wait_for("two reads after the first", || {
            metrics(&agent, health).contains(
                r#"palisade_admission_cluster_reads_total{reason="refresh",outcome="ok"} 2"#,
            )
        });
        assert!(metrics(&agent, health).contains("palisade_admission_unsent_requests -1"));
    })
    .await
    .unwrap();
    drop(child);
    let all = format!("{log}{}", rest.join().unwrap());
    assert_eq!(
        all.matches("what the webhook is sent was not checked")
            .count(),
        1,
        "{all}"
    );
}

/// A webhook started with `--rules` naming a rule that cannot run (IMG004 without allowed
/// registries) refuses to start, rather than let everything in unjudged by it; with the
/// setting it starts and says how many rules it runs.
#[test]
fn a_webhook_asked_for_a_rule_that_cannot_run_does_not_start() {
    let dir = scratch("admission-idle-rule");
    let out = serve_command(&dir, "")
        .args(["--rules", "IMG004,POD001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("asked for with --rules but cannot run") && stderr.contains("IMG004"),
        "{stderr}"
    );
    let mut command = serve_command(
        &dir,
        "[rules]\nallowed-registries = [\"registry.example.com\"]\n",
    );
    command.args(["--rules", "IMG004,POD001"]);
    let (_child, _port, _health, log, _rest) =
        common::serve::start_logged(command, "serving admission reviews");
    let prepared: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["msg"] == "admission model prepared")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(prepared["rules"], 2, "{log}");
}

/// `--watch`: the cluster is followed (the changing recorded API server of
/// `palisade_cluster::recorded_live`, lists and watch streams over HTTPS on loopback, since
/// no API server can run here), and a NetworkPolicy created after the start changes the
/// verdict soon after, without the cluster being listed again.
#[tokio::test(flavor = "multi_thread")]
async fn a_followed_cluster_changes_the_verdict_without_being_read_again() {
    let dir = scratch("admission-watch");
    let (kubeconfig, cluster) = palisade_cluster::recorded_live::server(&dir).await;
    let command = serve_recorded(
        &dir,
        &kubeconfig,
        &[
            "--watch",
            "--refresh",
            "1h",
            "--refresh-after-change",
            "200ms",
        ],
    );
    let (child, port, _, log, _rest) = tokio::task::spawn_blocking(move || {
        common::serve::start_logged(command, "serving admission reviews")
    })
    .await
    .unwrap();
    assert!(log.contains("admission model prepared"), "{log}");
    let ca = std::fs::read(dir.join("tls/ca.pem")).unwrap();
    let agent = client(&ca);
    let judge = |uid: &'static str| {
        let agent = agent.clone();
        tokio::task::spawn_blocking(move || {
            let (status, review) = post(
                &agent,
                &format!("https://127.0.0.1:{port}/validate"),
                "application/json",
                pod_review(uid, "shop", false).as_bytes(),
            );
            assert_eq!(status, 200, "{review}");
            review.to_string()
        })
    };
    let before = judge("u-before").await.unwrap();
    assert!(before.contains("NET004"), "{before}");
    let lists = cluster.requests_starting("GET /api/v1/pods?");
    cluster.apply(
        "/apis/networking.k8s.io/v1/networkpolicies",
        json!({"metadata": {"name": "default-deny", "namespace": "shop"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
    );
    let mut after = String::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = judge("u-after").await.unwrap();
        if !after.contains("NET004") {
            break;
        }
    }
    assert!(!after.contains("NET004"), "{after}");
    assert_eq!(
        cluster.requests_starting("GET /api/v1/pods?"),
        lists,
        "the cluster was listed again"
    );
    drop(child);
}

/// A RayCluster is judged at admission template by template, as a scan judges it: a
/// privileged worker group is denied with the rule and the template's path, and the same
/// cluster without it is let in.
#[test]
fn a_ray_clusters_pod_templates_are_judged_at_admission() {
    let dir = scratch("admission-ray");
    let (_child, port, _health, ca) = serve(&dir, "", &[]);
    let agent = client(&ca);
    let validate = format!("https://127.0.0.1:{port}/validate");
    let cluster = |privileged: bool| {
        json!({"apiVersion": "ray.io/v1", "kind": "RayCluster",
            "metadata": {"name": "train", "namespace": "shop"},
            "spec": {
                "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [
                    {"name": "head", "image": "rayproject/ray:2.9"}]}}},
                "workerGroupSpecs": [{"groupName": "gpu", "template": {"spec": {"containers": [
                    {"name": "worker", "image": "rayproject/ray:2.9",
                     "securityContext": {"privileged": privileged}}]}}}]}})
    };
    let review = |uid: &str, object: &Value| {
        let (status, review) = post(
            &agent,
            &validate,
            "application/json",
            create_review(uid, object).as_bytes(),
        );
        assert_eq!(status, 200, "{review}");
        review["response"].clone()
    };
    let denied = review("r1", &cluster(true));
    assert_eq!(denied["allowed"], false, "{denied}");
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("POD001") && message.contains("container \"worker\" runs privileged"),
        "{message}"
    );
    assert_eq!(review("r2", &cluster(false))["allowed"], true);
}
