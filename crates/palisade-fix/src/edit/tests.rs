use crate::hardening::{Hardening, RunAsNonRoot, every, for_object};
use crate::{FileFix, fix_text};

fn hardened(object: &palisade_inventory::Object) -> Vec<crate::Addition> {
    let settings = Hardening {
        run_as_non_root: RunAsNonRoot::Always,
        ..Hardening::default()
    };
    for_object(object, &settings, &every)
}

fn fix(text: &str) -> FileFix {
    match fix_text("m.yaml", text, &Default::default(), &hardened) {
        Ok(Some(fix)) => fix,
        other => panic!("{other:?}\n{text}"),
    }
}

/// Fixing the fixed text again changes nothing.
fn converges(text: &str) -> String {
    let fixed = fix(text).fixed;
    assert_eq!(
        fix_text("m.yaml", &fixed, &Default::default(), &hardened),
        Ok(None),
        "{fixed}"
    );
    fixed
}

#[test]
fn block_mappings_keep_comments_and_get_keys_at_their_indentation() {
    let text = "\
# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # owned by team web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.27 # pinned
        ports:
        - containerPort: 80

      # a sidecar
      - name: side
        image: busybox
        securityContext:
          capabilities:
            add: [NET_ADMIN]
      volumes: []
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
";
    let fixed = converges(text);
    assert_eq!(
        fixed,
        "\
# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # owned by team web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.27 # pinned
        ports:
        - containerPort: 80
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL

      # a sidecar
      - name: side
        image: busybox
        securityContext:
          capabilities:
            add: [NET_ADMIN]
            drop:
            - ALL
          allowPrivilegeEscalation: false
      volumes: []
      securityContext:
        seccompProfile:
          type: RuntimeDefault
        runAsNonRoot: true
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
"
    );
}

#[test]
fn flow_mappings_and_json_get_keys_first_as_json() {
    let flow = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}]}\n";
    assert_eq!(
        converges(flow),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {\"securityContext\": {\"seccompProfile\":{\"type\":\"RuntimeDefault\"},\"runAsNonRoot\":true}, containers: [{\"securityContext\": {\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]}}, name: a, image: x}]}\n"
    );
    let json = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"containers\": [\n      {\n        \"name\": \"a\",\n        \"image\": \"x\"\n      }\n    ]\n  }\n}\n";
    let fixed = converges(json);
    assert!(
        fixed.contains("  \"spec\": {\n    \"securityContext\": {\"seccompProfile\":{\"type\":\"RuntimeDefault\"},\"runAsNonRoot\":true},\n    \"containers\""),
        "{fixed}"
    );
    serde_json::from_str::<serde_json::Value>(&fixed).expect("still JSON");
}

#[test]
fn empty_and_null_contexts_are_filled_in_place() {
    let text = "\
kind: Pod
apiVersion: v1
metadata:
  name: p
spec:
  securityContext: {}
  containers:
    - name: a
      image: x
      securityContext:   # to do
    - name: b
      image: x
      securityContext: null
";
    let fixed = converges(text);
    assert_eq!(
        fixed,
        "\
kind: Pod
apiVersion: v1
metadata:
  name: p
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
    runAsNonRoot: true
  containers:
    - name: a
      image: x
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
            - ALL   # to do
    - name: b
      image: x
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
            - ALL
"
    );
}

#[test]
fn line_breaks_and_indentation_follow_the_file() {
    let text = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n    name: p\r\nspec:\r\n    containers:\r\n        -   name: a\r\n            image: x";
    let fixed = converges(text);
    assert_eq!(
        fixed,
        "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n    name: p\r\nspec:\r\n    containers:\r\n        -   name: a\r\n            image: x\r\n            securityContext:\r\n                allowPrivilegeEscalation: false\r\n                capabilities:\r\n                    drop:\r\n                        - ALL\r\n    securityContext:\r\n        seccompProfile:\r\n            type: RuntimeDefault\r\n        runAsNonRoot: true"
    );
}

#[test]
fn what_cannot_be_placed_is_refused_whole() {
    // A pod spec written as a complex key's value: nothing is written.
    let tagged = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: !!map\n  ? containers\n  : [{name: a, image: x}]\n";
    let refused = fix_text("m.yaml", tagged, &Default::default(), &hardened).unwrap_err();
    assert!(refused.to_string().contains("Pod"), "{refused}");
}

#[test]
fn nothing_to_add_is_no_fix() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n";
    assert_eq!(
        fix_text("m.yaml", text, &Default::default(), &hardened),
        Ok(None)
    );
}

#[test]
fn plain_scalars_are_only_those_that_read_back_as_strings() {
    for (text, plain) in [
        ("ALL", true),
        ("RuntimeDefault", true),
        ("localhost/profile.json", true),
        ("yes", false),
        ("Off", false),
        ("1234", false),
        ("a: b", false),
        ("", false),
    ] {
        assert_eq!(super::plain(text), plain, "{text}");
    }
}

/// A comment that ends with `{` does not make a block mapping a flow one.
#[test]
fn a_brace_in_a_comment_is_not_a_flow_mapping() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: # {\n  containers:\n  - name: a\n    image: x\n";
    let fixed = converges(text);
    assert!(
        fixed.ends_with("    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n    runAsNonRoot: true\n"),
        "{fixed}"
    );
}

/// An empty mapping inside a flow mapping stays flow.
#[test]
fn an_empty_flow_mapping_in_a_flow_mapping_is_filled_as_json() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {securityContext: {}, containers: [{name: a, image: x, securityContext: {runAsUser: 7}}]}\n";
    assert!(
        converges(text).contains("spec: {securityContext: {\"seccompProfile\": {\"type\":\"RuntimeDefault\"}, \"runAsNonRoot\": true}, containers:"),
        "{}",
        converges(text)
    );
}
