//! AdmissionReview decoding and evaluation: any bytes are decoded without panicking, and
//! every review that decodes is validated (the built-in rules against a small cluster, every
//! mode path: grandfathered updates, exemptions, warnings; a Gatekeeper constraint and a
//! ValidatingAdmissionPolicy on every operation, deletions and connections judged) and
//! mutated, and the response serialises.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run admission_review`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_admission::settings::MutateSettings;
use palisade_admission::{Admission, AdmissionSettings, Mode};
use palisade_inventory::{Limits, load_text};
use palisade_scan::{ClusterModel, ScanOptions};

const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
";

/// Policies that read the request: a constraint on the deleted or admitted object's labels,
/// and a policy selecting every operation and subresource that compares old and new.
const POLICIES: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8skeep}
spec:
  crd: {spec: {names: {kind: K8sKeep}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8skeep
        violation[{"msg": msg}] {
          input.review.operation == "DELETE"
          input.review.object.metadata.labels.keep == "true"
          msg := sprintf("%v is kept", [input.review.object.metadata.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sKeep
metadata: {name: keep}
spec: {}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: stable-team}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*/*"]}]
  validations:
    - expression: "object == null || oldObject == null || object.metadata.?labels.?team == oldObject.metadata.?labels.?team"
      message: "the team label cannot change"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: stable-team}
spec: {policyName: stable-team, validationActions: [Deny]}
"#;

fn judge() -> &'static Admission {
    static JUDGE: OnceLock<Admission> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let loaded = load_text("cluster.yaml", CLUSTER, &Limits::default());
        let mut settings = AdmissionSettings {
            honor_object_suppressions: true,
            judge_deletions: true,
            judge_connect: true,
            mutate: MutateSettings {
                enabled: true,
                ..MutateSettings::default()
            },
            ..AdmissionSettings::default()
        };
        settings.namespaces.insert("dev-*".into(), Mode::Warn);
        settings.rules.insert("POD006".into(), Mode::Enforce);
        let policies = load_text("policies.yaml", POLICIES, &Limits::default());
        let objects = policies
            .inventory
            .objects
            .into_iter()
            .map(|o| ("policies.yaml".to_string(), o))
            .collect();
        let policies = palisade_policy::provider::load_objects(
            objects,
            palisade_policy::EnforcementPoint::Validation,
        );
        assert!(policies.problems.is_empty(), "{:?}", policies.problems);
        let mut options = ScanOptions::default();
        for rule in policies.rules {
            options.rules.add(rule).expect("policy rule ids are unique");
        }
        let model = ClusterModel::prepare(loaded.inventory, options);
        Admission::new(model, settings, Some("palisade-system"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(review) = palisade_admission::decode(data) else {
        return;
    };
    let judge = judge();
    let validated = judge.validate(&review);
    let _ = serde_json::to_vec(&validated.to_json());
    let mutated = judge.mutate(&review);
    let _ = serde_json::to_vec(&mutated.to_json());
    let _ = judge.timed_out(&review, "fuzz");
});
