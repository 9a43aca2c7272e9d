//! Secret detection end to end through the binary: the rules on manifests, the files that are
//! not manifests (`--secrets-in-all-files`), and what a finding may show of a secret.

mod common;

use common::{bin, json, json_exiting, need_kubectl, scratch};

/// Writes `text` to `name` in `dir`.
fn write(dir: &std::path::Path, name: &str, text: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn findings(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["file"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn files_that_are_not_manifests_are_read_only_when_asked() {
    let dir = scratch("secrets-all-files");
    write(&dir, ".env", "LOG_LEVEL=info\nREDIS_PASSWORD=Zk81qLm0x\n");
    write(
        &dir,
        "values.yaml",
        "auth:\n  rootPassword: \"Gq7!zLm2kP\"\n",
    );
    write(
        &dir,
        "logo.png",
        b"\x89PNG\r\n\x1a\n\0\0\0password=Zk81qLm0x",
    );
    write(
        &dir,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: shop}\ndata:\n  DB_PASSWORD: Wq3mZ8xK1\n",
    );
    let path = dir.to_str().unwrap();

    let plain = bin()
        .args(["scan", path, "-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let plain = findings(&json(&plain));
    assert!(
        plain
            .iter()
            .any(|(rule, file, _)| rule == "SEC002" && file.ends_with("cm.yaml")),
        "{plain:#?}"
    );
    assert!(
        !plain
            .iter()
            .any(|(_, file, _)| file.ends_with(".env") || file.ends_with("values.yaml")),
        "{plain:#?}"
    );

    let out = bin()
        .args([
            "scan",
            path,
            "--secrets-in-all-files",
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let all = findings(&json(&out));
    let env = all
        .iter()
        .find(|(_, file, _)| file.ends_with(".env"))
        .expect(".env is read");
    assert_eq!(env.0, "SEC018");
    assert!(
        env.2.contains("under REDIS_PASSWORD") && env.2.contains("value not shown"),
        "{env:?}"
    );
    assert!(
        all.iter()
            .any(|(rule, file, _)| rule == "SEC018" && file.ends_with("values.yaml")),
        "{all:#?}"
    );
    assert!(
        !all.iter().any(|(_, file, _)| file.ends_with("logo.png")),
        "binary files are skipped: {all:#?}"
    );
    // The manifest is judged once, as an object, not again as a loose file.
    assert_eq!(
        all.iter()
            .filter(|(_, file, _)| file.ends_with("cm.yaml"))
            .count(),
        1,
        "{all:#?}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in ["Zk81qLm0x", "Gq7!zLm2kP", "Wq3mZ8xK1"] {
        assert!(!text.contains(secret), "{secret} printed");
    }
}

#[test]
fn secrets_in_all_files_is_refused_for_a_cluster() {
    let out = bin()
        .args([
            "scan",
            "--snapshot",
            "no-such-snapshot.json",
            "--secrets-in-all-files",
        ])
        .output()
        .unwrap();
    common::exiting(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secrets-in-all-files"));
}

/// A JSON Web Token cut after its payload (no signature) made the JWT detector match one
/// byte past the value, and `palisade scan` panicked on the ConfigMap holding it (found by the
/// `scan_text` fuzz target). It is a finding now, with its body hidden.
#[test]
fn a_token_without_a_signature_is_found_without_a_crash() {
    let dir = scratch("secrets-unsigned-jwt");
    let payload = "eyJpc3MiOiJodHRwczovL2t1YmVybmVl4dHVyZS1zaWduYXR1cmUtbm90LXZhbGlk";
    write(
        &dir,
        "cm.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ci, namespace: shop}}\ndata:\n  token: eyJhbGciOiJSUzI1NiIsImtpZCI6ImZpeHR1cmUifQ.{payload}\n"
        ),
    );
    let out = bin()
        .args([
            "scan",
            dir.to_str().unwrap(),
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let report = json_exiting(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        findings(&report)
            .iter()
            .any(|(rule, _, message)| rule == "SEC015" && message.contains("JSON Web Token")),
        "{text}"
    );
    assert!(!text.contains(&payload[..24]), "{text}");
}

#[test]
fn a_token_shows_its_public_prefix_and_never_its_body() {
    let dir = scratch("secrets-prefix");
    let token = "ghp_Hw7Rt2Lk9Qm4Xz8Pv3Nc6Bd1Fs5Gj0Ya2Uex";
    write(
        &dir,
        "cm.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ci, namespace: shop}}\ndata:\n  sync: \"--token={token}\"\n"
        ),
    );
    for format in ["table", "json", "sarif", "junit", "markdown", "html"] {
        let out = bin()
            .args([
                "scan",
                dir.to_str().unwrap(),
                "-o",
                format,
                "--fail-on",
                "none",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("SEC012"), "{format}: {text}");
        // The token's kind (its prefix) is told, its value never, in any format (Markdown
        // escapes the underscore).
        let prefix = if format == "markdown" {
            "ghp\\_"
        } else {
            "ghp_"
        };
        assert!(
            text.contains(prefix) && !text.contains(&token[4..12]),
            "{format}: {text}"
        );
    }
}

#[test]
fn kustomize_bases_are_judged_as_objects_not_again_as_loose_files() {
    if !need_kubectl() {
        return;
    }
    let dir = scratch("secrets-kustomize");
    write(
        &dir,
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n- deploy.yaml\n",
    );
    write(
        &dir,
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: api\n        image: registry.example.com/api:1.0\n        env: [{name: DB_PASS, value: Zk81qLm0x}]\n",
    );
    write(&dir, "app.env", "REDIS_PASSWORD=Wq3mZ8xK1\n");
    let out = bin()
        .args([
            "scan",
            dir.to_str().unwrap(),
            "--secrets-in-all-files",
            "-o",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .unwrap();
    let all = findings(&json(&out));
    let secrets: Vec<&(String, String, String)> = all
        .iter()
        .filter(|(rule, _, _)| rule == "POD027" || rule.starts_with("SEC01"))
        .collect();
    assert_eq!(secrets.len(), 2, "{secrets:#?}");
    assert!(
        secrets.iter().any(|(rule, _, _)| rule == "POD027"),
        "{secrets:#?}"
    );
    assert!(
        secrets
            .iter()
            .any(|(rule, file, _)| rule == "SEC018" && file.ends_with("app.env")),
        "{secrets:#?}"
    );
}

/// A cluster written out to a file: a Deployment and two of its ReplicaSets, a DaemonSet and
/// two of its ControllerRevisions. The current copies of each template hold the controller's
/// credential, reported once, on the controller (whose finding lists its ReplicaSets); the
/// earlier ones hold a credential the template no longer has, still readable in the revision
/// history, and reported there.
#[test]
fn a_credential_in_a_controllers_copies_is_reported_once_and_an_earlier_one_on_its_copy() {
    let dir = scratch("secrets-controlled-copies");
    let spec = |password: &str| {
        format!(
            "{{metadata: {{labels: {{app: a}}}}, spec: {{containers: [{{name: a, image: 'a:1', env: [{{name: DB_PASSWORD, value: '{password}'}}]}}]}}}}"
        )
    };
    let (now, before) = ("Zq8vR2mXw9LkT4pN", "Hb3kW7nQy5VcJ2xD");
    let owner = |kind: &str, name: &str, uid: &str| {
        format!(
            "ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, name: {name}, uid: {uid}, controller: true}}]"
        )
    };
    let replica_set = |name: &str, password: &str| {
        format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}, namespace: ops, uid: {name}, {}}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, template: {}}}\n",
            owner("Deployment", "web", "d-1"),
            spec(password)
        )
    };
    let revision = |name: &str, password: &str| {
        let template = spec(password).replacen('{', "{$patch: replace, ", 1);
        format!(
            "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {{name: {name}, namespace: ops, {}}}\nrevision: 1\ndata: {{spec: {{template: {template}}}}}\n",
            owner("DaemonSet", "agent", "ds-1")
        )
    };
    let cluster = [
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: ops, uid: d-1}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, template: {}}}\n",
            spec(now)
        ),
        replica_set("web-2", now),
        replica_set("web-1", before),
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: ops, uid: ds-1}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, template: {}}}\n",
            spec(now)
        ),
        revision("agent-2", now),
        revision("agent-1", before),
    ]
    .join("---\n");
    write(&dir, "cluster.yaml", &cluster);
    let out = bin()
        .args(["scan", "-o", "json"])
        .arg(dir.join("cluster.yaml"))
        .output()
        .unwrap();
    let report = json(&out);
    let mut on: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "POD027")
        .map(|f| {
            let object = &f["object"];
            (
                format!(
                    "{} {}",
                    object["kind"].as_str().unwrap(),
                    object["name"].as_str().unwrap()
                ),
                f["affected"].to_string(),
            )
        })
        .collect();
    on.sort();
    assert_eq!(
        on,
        [
            ("ControllerRevision agent-1".to_string(), "null".to_string()),
            ("DaemonSet agent".to_string(), "null".to_string()),
            (
                "Deployment web".to_string(),
                r#"["ReplicaSet web-2","ReplicaSet web-1"]"#.to_string()
            ),
            ("ReplicaSet web-1".to_string(), "null".to_string()),
        ]
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(before));
}
