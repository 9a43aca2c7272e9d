//! Policy code as users write it: any text as a CEL validation expression (compiled, then
//! evaluated as a ValidatingAdmissionPolicy on a Pod) or as a ConstraintTemplate's Rego
//! (compiled, then evaluated on the same Pod) is refused or evaluated without panicking, and
//! an evaluation stops at the time limit.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run policy_code`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_policy::cel::CelTemplate;
use palisade_policy::{RegoTemplate, Template};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Some((&engine, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let review = json!({"operation": "CREATE", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
            "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}});
    if engine % 2 == 0 {
        let source = json!({"validations": [{"expression": text, "messageExpression": text}],
            "variables": [{"name": "v", "expression": text}],
            "auditAnnotations": [{"key": "k", "valueExpression": text}]});
        if let Ok(template) = CelTemplate::compile("fuzz", &source) {
            let _ = template.vap_evaluate(&review, &json!(null), &json!({}), None);
        }
    } else {
        let template = Template {
            name: "k8sfuzz".into(),
            kind: "K8sFuzz".into(),
            rego: format!("package k8sfuzz\n{text}"),
            libs: Vec::new(),
            rego_v1: engine % 4 == 3,
            cel: None,
            title: None,
            description: None,
            parameters_schema: None,
            legacy_schema: false,
        };
        if let Ok(compiled) = RegoTemplate::compile(&template) {
            let inventory = json!({"cluster": {}, "namespace": {}});
            let _ = compiled.violations(&review, &json!({"x": 1}), &inventory);
        }
    }
});
