//! Where secrets hide in whole objects: each place of `docs/secrets.md` with an object that has
//! a secret there, and the objects that must stay silent.

use std::io::Write as _;

use base64::Engine as _;
use palisade_secrets::{Detector, Place, scan_object};
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn helm_release_values_are_decoded() {
    let release =
        json!({"name": "shop", "config": {"db": {"password": "Zk81qLm0x"}}, "manifest": "---"});
    // Helm stores base64(gzip(json)); the Secret's data is base64 of that text again.
    let helm_text = b64(&gzip(&release.to_string()));
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.shop.v1", "namespace": "shop"},
        "data": {"release": b64(helm_text.as_bytes())},
    });
    let found = scan_object(&secret);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].place, Place::HelmRelease);
    assert_eq!(found[0].detector, Detector::Generic);
    assert!(
        found[0].location.contains("Helm release values"),
        "{}",
        found[0].location
    );
}

#[test]
fn the_last_applied_copy_is_read_and_not_reported_twice() {
    let own = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "x",
            "env": [{"name": "DB_PASS", "value": "Zk81qLm0x"}]}]}}},
    });
    let mut copy = own.clone();
    copy["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "OLD_TOKEN", "value": "Tk9x2mQp7W"}));
    let mut object = own.clone();
    object["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": copy.to_string()});
    let found = scan_object(&object);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(!found[0].last_applied, "the object's own field first");
    assert!(found[1].last_applied && found[1].hit.secret == "Tk9x2mQp7W");
}

#[test]
fn configmap_binary_data_is_decoded_and_gunzipped() {
    let object = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
        "binaryData": {"app.env.gz": b64(&gzip("A=1\nDB_PASSWORD=Zk81qLm0x\n"))},
    });
    let found = scan_object(&object);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].hit.encoding, Some("gzip"));
    assert_eq!(found[0].hit.line, Some(2));
}

#[test]
fn secrets_own_data_only_reports_weak_defaults() {
    let object = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"password": b64(b"Zk81qLm0x"), "admin-password": b64(b"admin")},
        "stringData": {"token": "ghp_Zq3V8mK1pL9xR2tY7wB4nC6dF0hJ5sA8eG1u"},
    });
    let found = scan_object(&object);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].detector, Detector::WeakDefault);
}

#[test]
fn schemas_and_printable_fields_are_not_read() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "x"},
        "spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"password": {"default": "Zk81qLm0x"}}}}}]},
    });
    assert!(scan_object(&crd).is_empty());
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"token": "Zk81qLm0x"}},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1.0"}], "serviceAccountName": "secret-reader"},
    });
    assert!(scan_object(&pod).is_empty());
}

#[test]
fn custom_resources_and_parameters_are_read_under_their_names() {
    let object = json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "r"},
        "spec": {"params": [{"name": "registry-password", "value": "Wq3mZ8xK1"}], "adminPassword": "Lq3-9vX_2m"},
    });
    let found = scan_object(&object);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().all(|d| d.place == Place::Field));
    assert!(
        found
            .iter()
            .any(|d| d.location == "params entry registry-password")
    );
}

/// A container written alone (a KServe predictor's `sklearn`) is a container: a secret in it
/// is named by the container, its own name or else its field, as the rules name it.
#[test]
fn a_container_written_alone_names_its_secrets() {
    let isvc = |sklearn: serde_json::Value| {
        json!({
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "iris"},
            "spec": {"predictor": {"sklearn": sklearn}},
        })
    };
    let env = json!([{"name": "DB_PASSWORD", "value": "Wq3mZ8xK1"}]);
    let unnamed = scan_object(&isvc(json!({"env": env})));
    assert_eq!(unnamed.len(), 1, "{unnamed:#?}");
    assert_eq!(unnamed[0].place, Place::Container);
    assert_eq!(
        unnamed[0].location,
        "environment variable DB_PASSWORD of container \"sklearn\""
    );
    let named = scan_object(&isvc(json!({"name": "kserve-container", "env": env})));
    assert_eq!(
        named[0].location,
        "environment variable DB_PASSWORD of container \"kserve-container\""
    );
}
