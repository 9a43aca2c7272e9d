//! AdmissionReview decoding and evaluation: any bytes are decoded without panicking, and
//! every review that decodes is validated (the built-in rules against a small cluster, every
//! mode path: grandfathered updates, exemptions, warnings) and mutated, and the response
//! serialises.
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

fn judge() -> &'static Admission {
    static JUDGE: OnceLock<Admission> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let loaded = load_text("cluster.yaml", CLUSTER, &Limits::default());
        let mut settings = AdmissionSettings {
            honor_object_suppressions: true,
            mutate: MutateSettings {
                enabled: true,
                ..MutateSettings::default()
            },
            ..AdmissionSettings::default()
        };
        settings.namespaces.insert("dev-*".into(), Mode::Warn);
        settings.rules.insert("POD006".into(), Mode::Enforce);
        let model = ClusterModel::prepare(loaded.inventory, ScanOptions::default());
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
