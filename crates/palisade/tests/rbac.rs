//! `palisade rbac` end to end: the real binary on the example cluster in examples/rbac, and on
//! real audit logs (Falco's k8s-audit regression traces in the shared corpora, when present).

mod common;

use common::{bin, json, json_exiting, scratch, workspace, write_file};
use std::path::{Path, PathBuf};

#[test]
fn who_can_names_the_binding_role_and_rule() {
    let out = bin()
        .args([
            "rbac",
            "who-can",
            "create",
            "deployments.apps",
            "-n",
            "ops",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    common::exiting(&out, 0);
    let rows = json(&out);
    let web = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"]["name"] == "web")
        .expect("web's account can deploy into ops");
    assert_eq!(web["binding"], "RoleBinding ops/web-deploys-ops");
    assert_eq!(web["role"], "Role ops/deployer");
    assert_eq!(web["rule"], 1);
    let nobody = bin()
        .args([
            "rbac",
            "who-can",
            "create",
            "deployments.apps",
            "-n",
            "shop",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let rows = json(&nobody);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["subject"]["name"] == "backup"),
        "only cluster-admin's account can deploy into shop: {rows}"
    );
}

/// A file that could not be read may hold the binding that answers: the analysis commands
/// refuse to answer from the rest ("nobody" where someone can) unless told to, and then say
/// the answer is partial.
#[test]
fn analyses_refuse_to_answer_from_part_of_the_input() {
    let dir = scratch("rbac-incomplete");
    std::fs::write(
        dir.join("role.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules:\n- apiGroups: ['']\n  resources: [secrets]\n  verbs: [get]\n",
    )
    .unwrap();
    // The binding that grants it, broken by a stray bracket.
    std::fs::write(
        dir.join("binding.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: reader\nsubjects: [{kind: User, name: alice}]\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\n",
    )
    .unwrap();
    let commands: [&[&str]; 4] = [
        &["rbac", "who-can", "get", "secrets"],
        &["rbac", "access", "user:alice"],
        &["rbac", "paths"],
        &["net", "matrix"],
    ];
    for command in commands {
        let out = bin().args(command).arg(&dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("binding.yaml") && stderr.contains("--allow-incomplete"),
            "{command:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{command:?} answered anyway");
        let out = bin()
            .args(command)
            .arg(&dir)
            .arg("--allow-incomplete")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(stderr.contains("incomplete"), "{command:?}: {stderr}");
        // The answer itself says it is partial, in every format that has room for a note
        // (stderr may go elsewhere than the answer).
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("INCOMPLETE: 1 input could not be read"),
            "{command:?}: {text}"
        );
        let out = bin()
            .args(command)
            .arg(&dir)
            .args(["--allow-incomplete", "-o", "json"])
            .output()
            .unwrap();
        let answer: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        assert_eq!(answer["inputs_not_read"], 1, "{command:?}: {answer}");
    }
    // A workload, for `net generate` to write a policy for.
    std::fs::write(
        dir.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec:\n  containers: [{name: web, image: 'nginx:1.27'}]\n",
    )
    .unwrap();
    for (command, format, first) in [
        (&["net", "matrix"][..], "dot", "// INCOMPLETE: "),
        (&["net", "generate"][..], "yaml", "# INCOMPLETE: "),
    ] {
        let out = bin()
            .args(command)
            .arg(&dir)
            .args(["--allow-incomplete", "-o", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(first), "{command:?} -o {format}: {text}");
    }
    // And a whole input's answer carries no such field.
    std::fs::remove_file(dir.join("binding.yaml")).unwrap();
    let out = bin()
        .args(["rbac", "who-can", "get", "secrets", "-o", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(answer.get("inputs_not_read").is_none(), "{answer}");
}

#[test]
fn access_prints_the_effective_matrix() {
    let out = bin()
        .args([
            "rbac",
            "access",
            "sa:web/web",
            "-n",
            "ops",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let doc = json(&out);
    let deployments = doc["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["resource"] == "deployments")
        .unwrap();
    assert_eq!(
        deployments["verbs"],
        serde_json::json!(["create", "update"])
    );
    let table = bin()
        .args(["rbac", "access", "sa:web/web", "examples/rbac"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("also has RoleBindings in: ops"), "{text}");
    let bad = bin()
        .args(["rbac", "access", "sa:noslash", "examples/rbac"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn paths_give_the_chain_and_exit_1_when_one_exists() {
    let out = bin()
        .args([
            "rbac",
            "paths",
            "--from-workload",
            "web/web",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a path exists");
    let paths = json(&out);
    let steps = paths[0]["steps"].as_array().unwrap();
    assert_eq!(steps.last().unwrap()["to"]["node"], "cluster-admin");
    assert!(
        steps[1]["evidence"]
            .as_str()
            .unwrap()
            .contains("Role ops/deployer rule 1")
    );
    let secrets = bin()
        .args([
            "rbac",
            "paths",
            "--from",
            "sa:web/web",
            "--to",
            "secrets",
            "examples/rbac",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&secrets.stdout).contains("ServiceAccount web/web"));
    let none = bin()
        .args(["rbac", "paths", "--from", "user:nobody", "examples/rbac"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&none.stdout).contains("no path"));
}

/// `palisade rbac fixes ARGS...`, with its exit code.
fn fixes(args: &[&str]) -> std::process::Output {
    bin().args(["rbac", "fixes"]).args(args).output().unwrap()
}

#[test]
fn fixes_cut_the_shared_step_first_and_leave_no_risk() {
    let out = fixes(&["examples/rbac", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "risk exists");
    let plan = json(&out);
    // The internet's chain through web's binding into ops is the riskiest.
    assert_eq!(plan["at_risk"][0]["from"]["node"], "internet");
    assert_eq!(plan["at_risk"][0]["risk"], 40);
    let picked = plan["fixes"].as_array().unwrap();
    assert_eq!(picked[0]["object"], "RoleBinding ops/web-deploys-ops");
    assert_eq!(picked[0]["change"], "narrow-binding");
    assert!(
        picked[0]["removes"][0]
            .as_str()
            .unwrap()
            .contains("Role ops/deployer rule 1")
    );
    assert_eq!(plan["risk_left"], 0);
    assert_eq!(picked.last().unwrap()["risk_left"], 0);
    // One fix at most: what is left is said, by name.
    let one = fixes_text(&["examples/rbac", "--limit", "1"]);
    assert!(
        one.contains("1. RoleBinding ops/web-deploys-ops: remove it"),
        "{one}"
    );
    assert!(
        one.contains("Risk left after 1 fix: 5, from ServiceAccount ops/backup (raise --limit for more fixes)"),
        "{one}"
    );
    // Kept unchanged, the binding into ops is no fix: what it alone gives is by design, and
    // the plan cuts the rest.
    let kept = fixes(&[
        "examples/rbac",
        "--keep",
        "RoleBinding ops/web-deploys-ops",
        "-o",
        "json",
    ]);
    let kept = common::json_exiting(&kept, 1);
    assert_eq!(kept["kept"][0], "RoleBinding ops/web-deploys-ops");
    let picked: Vec<&str> = kept["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    // The kept binding still lets web's account create pods in ops that own their node:
    // Pod Security enforced in ops takes that step away instead.
    assert_eq!(
        picked,
        [
            "Deployment web/web",
            "ClusterRoleBinding backup-admin",
            "Namespace ops"
        ]
    );
    assert_eq!(kept["fixes"][0]["change"], "unmount-token");
    assert_eq!(kept["fixes"][2]["change"], "enforce-pod-security");
    assert_eq!(kept["risk_left"], 0);
    // Kept with ops too, web's account reaches a node through what is kept alone.
    let both = fixes(&[
        "examples/rbac",
        "--keep",
        "RoleBinding ops/web-deploys-ops,Namespace ops",
        "-o",
        "json",
    ]);
    let both = common::json_exiting(&both, 1);
    let by_design = both["by_design"].as_array().unwrap();
    assert_eq!(by_design.len(), 1, "{both:#}");
    assert_eq!(by_design[0]["from"]["subject"]["name"], "web");
    // A name no fix changes is an error, with the near names.
    let wrong = fixes(&["examples/rbac", "--keep", "RoleBinding web/web-deploys-ops"]);
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("did you mean RoleBinding ops/web-deploys-ops?"),
        "{stderr}"
    );
    // An unknown target is an error, never an empty plan.
    let wrong = fixes(&["examples/rbac", "--to", "everything"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("expected one of all, cluster-admin"));
}

#[test]
fn fixes_never_advise_a_network_policy_for_a_host_network_pod() {
    // In the shop, the exposed frontend may connect to the log agent, a privileged DaemonSet
    // on the node's network: no NetworkPolicy reliably keeps clients out of it.
    let out = fixes(&["examples/shop", "--to", "nodes", "-o", "json"]);
    let plan = common::json_exiting(&out, 1);
    let picked = plan["fixes"].as_array().unwrap();
    let agent = |f: &&serde_json::Value| f["object"] == "DaemonSet logging/log-agent";
    assert!(
        picked
            .iter()
            .filter(agent)
            .all(|f| f["change"] != "restrict-ingress"),
        "{plan:#}"
    );
    assert_eq!(
        picked[0]["object"], "DaemonSet logging/log-agent",
        "{plan:#}"
    );
    assert_eq!(picked[0]["change"], "confine-to-container");
    assert_eq!(plan["risk_left"], 0);
}

#[test]
fn enforcing_pod_security_is_one_fix_for_every_binding_that_places_pods() {
    // Two CI accounts may create pods in `build`, which enforces no Pod Security level: each
    // can own a node. Either binding's removal cuts one; Pod Security in `build` cuts both.
    let dir = scratch("rbac-fixes-pss");
    let binding = |who: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {who}-deploys, namespace: build}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}}\nsubjects: [{{kind: ServiceAccount, name: {who}, namespace: ci}}]\n---\n"
        )
    };
    let text = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: build}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: deployer, namespace: build}}\nrules: [{{apiGroups: [''], resources: [pods], verbs: [create]}}]\n---\n{}{}",
        binding("a"),
        binding("b")
    );
    common::write_file(&dir, "cluster.yaml", &text);
    let dir = dir.to_str().unwrap();
    let plan = common::json_exiting(&fixes(&[dir, "--to", "nodes", "-o", "json"]), 1);
    let picked = plan["fixes"].as_array().unwrap();
    assert_eq!(picked.len(), 1, "{plan:#}");
    assert_eq!(picked[0]["object"], "Namespace build");
    assert_eq!(picked[0]["change"], "enforce-pod-security");
    assert_eq!(plan["risk_left"], 0);
    // Kept as it is, the namespace leaves the two bindings to narrow.
    let kept = fixes(&[
        dir,
        "--to",
        "nodes",
        "--keep",
        "Namespace build",
        "-o",
        "json",
    ]);
    let plan = common::json_exiting(&kept, 1);
    let mut objects: Vec<&str> = plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    objects.sort_unstable();
    assert_eq!(
        objects,
        ["RoleBinding build/a-deploys", "RoleBinding build/b-deploys"]
    );
    assert_eq!(plan["risk_left"], 0);
}

/// The text of `rbac fixes ARGS...`.
fn fixes_text(args: &[&str]) -> String {
    String::from_utf8(fixes(args).stdout).unwrap()
}

#[test]
fn fixes_weigh_the_namespaces_by_criticality_and_leave_the_control_plane_alone() {
    let dir = scratch("rbac-fixes-criticality");
    // Two accounts, each reading the Secrets of its own namespace; and the control plane's
    // own binding of system:masters, which the API server makes again.
    let reader = |ns: &str| {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app, namespace: {ns}}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: read, namespace: {ns}}}\nrules: [{{apiGroups: [''], resources: [secrets], verbs: [get, list]}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: app-reads, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: read}}\nsubjects: [{{kind: ServiceAccount, name: app, namespace: {ns}}}]\n---\n"
        )
    };
    let masters = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: cluster-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: Group, name: 'system:masters'}]\n";
    let namespaces = |level: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: pay, labels: {{palisade.dev/criticality: {level}}}}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: blog}}\n---\n"
        )
    };
    let write = |level: &str| {
        let text = format!(
            "{}{}{}{masters}",
            namespaces(level),
            reader("blog"),
            reader("pay")
        );
        common::write_file(&dir, "cluster.yaml", &text);
    };
    write("critical");
    let out = fixes(&[dir.to_str().unwrap(), "--limit", "1", "-o", "json"]);
    let plan = common::json_exiting(&out, 1);
    assert_eq!(plan["fixes"][0]["object"], "RoleBinding pay/app-reads");
    // pay's Secrets are worth 4, blog's 2 (medium, as it says nothing).
    assert_eq!(plan["risk"], 4 + 2);
    let by_design = plan["by_design"].as_array().unwrap();
    assert_eq!(by_design.len(), 1, "{by_design:?}");
    assert_eq!(by_design[0]["from"]["subject"]["name"], "system:masters");
    assert!(
        plan["at_risk"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["from"]["subject"]["name"] != "system:masters")
    );
    // Labelled low, pay's binding comes second.
    write("low");
    let plan = common::json_exiting(&fixes(&[dir.to_str().unwrap(), "-o", "json"]), 1);
    assert_eq!(plan["fixes"][0]["object"], "RoleBinding blog/app-reads");
    // The security team's palisade.toml rates it again, over the Namespace's own label; a
    // pattern names blog.
    common::write_file(
        &dir.join("config"),
        "palisade.toml",
        "[criticality]\nnamespaces = { pay = \"critical\", \"bl*\" = \"low\" }\n",
    );
    let config = dir.join("config/palisade.toml");
    let configured = |extra: &[&str]| {
        let mut args = vec![dir.to_str().unwrap(), "-o", "json"];
        args.extend_from_slice(extra);
        common::json_exiting(&fixes(&args), 1)
    };
    let plan = configured(&["--config", config.to_str().unwrap()]);
    assert_eq!(plan["fixes"][0]["object"], "RoleBinding pay/app-reads");
    assert_eq!(plan["risk"], 4 + 1);
    // Read from the current directory too, unless --no-config.
    let out = bin()
        .current_dir(dir.join("config"))
        .args(["rbac", "fixes", dir.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(common::json_exiting(&out, 1)["risk"], 4 + 1);
    let out = bin()
        .current_dir(dir.join("config"))
        .args([
            "rbac",
            "fixes",
            dir.to_str().unwrap(),
            "--no-config",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(common::json_exiting(&out, 1)["risk"], 1 + 2);
    // A level that is none, in the file, is an error at its line.
    common::write_file(
        &dir.join("config"),
        "palisade.toml",
        "[criticality]\nnamespaces = { pay = \"urgent\" }\n",
    );
    let out = fixes(&[dir.to_str().unwrap(), "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("palisade.toml:2: [criticality]: namespaces.pay is \"urgent\""),
        "{stderr}"
    );
    // A level that is none is an error naming the namespace.
    write("urgent");
    let out = fixes(&[dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Namespace pay: palisade.dev/criticality is \"urgent\""),
        "{stderr}"
    );
    // Nothing at risk: exit 0, and said so.
    common::write_file(&dir, "cluster.yaml", masters);
    let out = fixes(&[dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to fix"));
}

#[test]
fn scan_reports_the_escalation_path_as_one_finding() {
    let out = bin()
        .args([
            "scan",
            "examples/rbac",
            "-o",
            "json",
            "--rules",
            "RBAC017,RBAC004",
            "--no-config",
        ])
        .output()
        .unwrap();
    let report = json(&out);
    let path = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "RBAC017")
        .expect("the escalation path is a finding");
    assert!(
        path["message"]
            .as_str()
            .unwrap()
            .starts_with("exposed to the internet")
    );
    assert_eq!(out.status.code(), Some(1));
}

fn audit_event(user: &str, verb: &str, resource: &str, ns: &str, name: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"{verb}","user":{{"username":"{user}","groups":["system:authenticated"]}},"objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiVersion":"v1"}}}}"#
    )
}

/// A subject that may impersonate one allowed directly can make the request too (`kubectl
/// --as`): who-can names it, with what it impersonates and the grant that lets it.
#[test]
fn who_can_names_those_who_may_impersonate_a_subject_allowed() {
    let dir = scratch("rbac-who-can-impersonation");
    let rbac = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: admin, namespace: prod}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: prod}
rules: [{apiGroups: [''], resources: [secrets], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: admin-reads, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: admin, namespace: prod}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: impersonator, namespace: prod}
rules: [{apiGroups: [''], resources: [serviceaccounts], resourceNames: [admin], verbs: [impersonate]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-impersonates, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: impersonator}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
";
    std::fs::write(dir.join("rbac.yaml"), rbac).unwrap();
    let on = |file: &str, args: &[&str]| bin().args(args).arg(dir.join(file)).output().unwrap();
    let out = on(
        "rbac.yaml",
        &[
            "rbac", "who-can", "list", "secrets", "-n", "prod", "-o", "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let rows = json(&out);
    let alice = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"]["name"] == "alice")
        .unwrap_or_else(|| panic!("alice impersonates the reader: {rows}"));
    assert_eq!(alice["impersonating"]["name"], "admin");
    assert_eq!(alice["binding"], "RoleBinding prod/alice-impersonates");
    let text = on(
        "rbac.yaml",
        &["rbac", "who-can", "list", "secrets", "-n", "prod"],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("as ServiceAccount prod/admin: RoleBinding prod/alice-impersonates"),
        "{text}"
    );
    // The superuser group needs no binding: who may impersonate it may make any request,
    // where no binding of the files allows it to anyone.
    let masters = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: group-impersonator}
rules: [{apiGroups: [''], resources: [groups], verbs: [impersonate]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-impersonates-groups}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: group-impersonator}
subjects: [{kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}]
";
    std::fs::write(dir.join("masters.yaml"), masters).unwrap();
    let out = on(
        "masters.yaml",
        &["rbac", "who-can", "delete", "secrets", "-n", "prod"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("User bob")
            && text.contains("as Group system:masters, allowed every request"),
        "{text}"
    );
    // A member of it may do everything, which `access` says rather than "no permissions".
    let out = on(
        "masters.yaml",
        &[
            "rbac",
            "access",
            "user:carol",
            "--group",
            "system:masters",
            "-o",
            "json",
        ],
    );
    assert_eq!(json(&out)["superuser"], true);
    let out = on(
        "masters.yaml",
        &["rbac", "access", "user:carol", "--group", "system:masters"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("every request: a member of system:masters")
            && !text.contains("no permissions"),
        "{text}"
    );
    // And `paths` from a member leads to cluster-admin through the group (exit 1: a path).
    let out = on(
        "masters.yaml",
        &[
            "rbac",
            "paths",
            "--from",
            "user:carol",
            "--group",
            "system:masters",
            "--to",
            "secrets",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("→ Group system:masters") && text.contains("→ cluster-admin"),
        "{text}"
    );
}

#[test]
fn generate_covers_the_logged_requests_and_diff_lists_unused_grants() {
    let dir = scratch("rbac-generate");
    let user = "system:serviceaccount:ops:backup";
    let log = [
        audit_event(user, "list", "secrets", "ops", ""),
        audit_event(user, "get", "configmaps", "ops", "backup-config"),
        audit_event("someone", "delete", "pods", "ops", "x"),
    ]
    .join("\n");
    std::fs::write(dir.join("audit.log"), log).unwrap();
    let out = bin()
        .args([
            "rbac",
            "generate",
            "--subject",
            "sa:ops/backup",
            "--audit-log",
        ])
        .arg(dir.join("audit.log"))
        .args(["--diff", "examples/rbac"])
        .output()
        .unwrap();
    common::exiting(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("# 2 of 3 audit events are requests of ServiceAccount ops/backup"),
        "{text}"
    );
    assert!(
        text.contains("resourceNames: [\"backup-config\"]"),
        "{text}"
    );
    assert!(text.contains("kind: RoleBinding"), "{text}");
    assert!(
        text.contains("cluster-admin (built-in) rule 1"),
        "the unused wildcard grant is listed: {text}"
    );
    // The generated roles parse, and scanning them finds no escalation.
    std::fs::write(dir.join("generated.yaml"), text.as_bytes()).unwrap();
    let scan = bin()
        .args([
            "scan",
            "-o",
            "json",
            "--no-config",
            "--rules",
            "RBAC006,RBAC003",
        ])
        .arg(dir.join("generated.yaml"))
        .output()
        .unwrap();
    assert_eq!(json(&scan)["summary"]["total"], 0);
}

/// `rbac generate` reads logs as the audit commands do (here a gzip-rotated one), counts an
/// impersonated request for the identity impersonated (the impersonator needs only
/// `impersonate`: granting it the request would give it what it never held), refuses a group
/// subject, and says which identities the log holds when the subject made no request.
#[test]
fn generate_follows_impersonation_and_never_answers_empty() {
    use std::io::Write;
    let dir = scratch("rbac-generate-impersonation");
    let impersonating = audit_event("alice", "list", "secrets", "prod", "").replacen(
        r#""objectRef""#,
        r#""impersonatedUser":{"username":"system:serviceaccount:prod:admin","groups":["system:serviceaccounts","system:serviceaccounts:prod","system:authenticated"]},"objectRef""#,
        1,
    );
    let log = dir.join("audit.log.1.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(gz, "{impersonating}").unwrap();
    writeln!(gz, "{}", audit_event("alice", "get", "pods", "prod", "web")).unwrap();
    std::fs::write(&log, gz.finish().unwrap()).unwrap();
    let generate = |subject: &str| {
        let out = bin()
            .args(["rbac", "generate", "--subject", subject, "--audit-log"])
            .arg(&log)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, alice, stderr) = generate("user:alice");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        alice.contains("resources: [\"serviceaccounts\"]")
            && alice.contains("verbs: [\"impersonate\"]")
            && alice.contains("resources: [\"pods\"]")
            && !alice.contains("secrets"),
        "{alice}"
    );
    let (code, admin, stderr) = generate("sa:prod/admin");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        admin.contains("resources: [\"secrets\"]") && !admin.contains("pods"),
        "{admin}"
    );
    let (code, out, stderr) = generate("group:devs");
    assert_eq!((code, out.as_str()), (Some(2), ""), "{stderr}");
    assert!(
        stderr.contains("generate for a user or a service account"),
        "{stderr}"
    );
    let (code, out, stderr) = generate("user:alcie");
    assert_eq!((code, out.as_str()), (Some(2), ""), "{stderr}");
    assert!(
        stderr.contains("no request of User alcie in the 2 audit events read")
            && stderr.contains("alice (1)"),
        "{stderr}"
    );
}

#[test]
fn generate_reads_real_audit_traces() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/k8s-audit-logs/falco-legacy/test/trace_files/k8s_audit");
    // The shared corpus is part of the workspace's test material: without it this test fails.
    let entries = std::fs::read_dir(&traces)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared corpora are needed)", traces.display()));
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    let mut cmd = bin();
    cmd.args([
        "rbac",
        "generate",
        "--subject",
        "user:minikube-user",
        "-o",
        "json",
    ]);
    for f in &files {
        cmd.arg("--audit-log").arg(f);
    }
    let out = cmd.output().unwrap();
    common::exiting(&out, 0);
    let doc = json(&out);
    assert!(doc["matched"].as_u64().unwrap() > 10, "{doc}");
    assert!(!doc["rules"].as_array().unwrap().is_empty());
}

#[test]
fn paths_go_through_the_node_a_pod_runs_on() {
    let dir = scratch("rbac-nodes");
    let placed = |argo_node: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: web}}\nspec: {{type: LoadBalancer, selector: {{app: web}}}}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: web, labels: {{app: web}}}}\nspec:\n  nodeName: node-1\n  containers: [{{name: web, image: 'registry.example.com/web:1', securityContext: {{privileged: true}}}}]\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {{name: argo, namespace: argocd}}\nspec:\n  nodeName: {argo_node}\n  serviceAccountName: argocd-application-controller\n  containers: [{{name: c, image: 'registry.example.com/argocd:1'}}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: argocd-admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects: [{{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}}]\n"
        )
    };
    let same = dir.join("same-node.yaml");
    std::fs::write(&same, placed("node-1")).unwrap();
    let out = paths_from("web/web", &same, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("→ node node-1"), "{text}");
    assert!(
        text.contains("Pod argocd/argo runs there with the token mounted"),
        "{text}"
    );
    // The same chain is one RBAC017 finding on the web Pod in a scan (the argocd Pod has its
    // own: it mounts the cluster-admin token).
    let scan = bin()
        .args(["scan", "--rules", "RBAC017", "--no-config", "-o", "json"])
        .arg(&same)
        .output()
        .unwrap();
    let report = json(&scan);
    let findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["object"]["name"] == "web")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("node node-1")
    );
    // On another node, the argocd token is out of reach through the node; what remains is
    // the network: the exposed web pod may connect to the argocd pod (no policy stops it),
    // a step that needs an exploit and is taken only because nothing else leads there.
    let apart = dir.join("other-node.yaml");
    std::fs::write(&apart, placed("node-2")).unwrap();
    let out = paths_from("web/web", &apart, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("→ node node-"), "{text}");
    assert!(
        text.contains(
            "may connect to argocd/argo on All Connections (no ingress policy selects it)"
        ),
        "{text}"
    );
    // A policy that admits only argocd's own namespace closes that too.
    let closed = dir.join("other-node-isolated.yaml");
    std::fs::write(
        &closed,
        placed("node-2")
            + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: own, namespace: argocd}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]\n",
    )
    .unwrap();
    assert_no_path("web/web", &closed, &[]);
}

/// A claim bound to a hostPath PersistentVolume on the node's root is the node's root: the
/// pod that mounts it reaches the node, and from there the cluster-admin token of a pod on
/// the same node. The scan reports the volume (STO001) and the chain (RBAC017).
#[test]
fn paths_go_through_a_claim_bound_to_the_nodes_directory() {
    let dir = scratch("rbac-claims");
    let cluster = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: scratch-pv}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /}, claimRef: {namespace: ci, name: scratch}}\n---\n\
apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: scratch, namespace: ci}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeName: scratch-pv}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {name: builder, namespace: ci}\nspec:\n  nodeName: node-1\n  volumes: [{name: scratch, persistentVolumeClaim: {claimName: scratch}}]\n  containers: [{name: build, image: 'registry.example.com/builder:1', volumeMounts: [{name: scratch, mountPath: /scratch}]}]\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {name: argo, namespace: argocd}\nspec:\n  nodeName: node-1\n  serviceAccountName: argocd-application-controller\n  containers: [{name: c, image: 'registry.example.com/argocd:1'}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: argocd-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}]\n";
    let file = dir.join("cluster.yaml");
    std::fs::write(&file, cluster).unwrap();
    let out = paths_from("ci/builder", &file, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("mounts claim scratch, bound to PersistentVolume scratch-pv on hostPath /"),
        "{text}"
    );
    assert!(text.contains("→ node node-1"), "{text}");
    let scan = bin()
        .args([
            "scan",
            "--rules",
            "STO001,RBAC017",
            "--no-config",
            "-o",
            "json",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let report = json(&scan);
    let found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&f["rule"]),
                text(&f["severity"]),
                text(&f["object"]["name"]),
            )
        })
        .collect();
    assert!(
        found.contains(&("STO001".into(), "critical".into(), "scratch-pv".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("RBAC017".into(), "critical".into(), "builder".into())),
        "{found:?}"
    );
    // Without the claim's binding the pod mounts an ordinary claim: no path.
    std::fs::write(
        &file,
        cluster
            .replace(
                "claimRef: {namespace: ci, name: scratch}",
                "claimRef: {namespace: other, name: scratch}",
            )
            .replace("volumeName: scratch-pv", "volumeName: elsewhere"),
    )
    .unwrap();
    assert_no_path("ci/builder", &file, &[]);
}

/// An exposed web writes a claim that a cluster-admin worker, isolated from the network,
/// mounts: the chain goes through the shared storage (`shares-storage`), and the scan's
/// RBAC017 on the web names it. Mounted read-only by the web, nothing leads on.
#[test]
fn paths_go_through_a_claim_one_workload_writes_and_another_mounts() {
    let dir = scratch("rbac-shared-claim");
    let file = dir.join("app.yaml");
    let cluster = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      automountServiceAccountToken: false\n      volumes: [{name: up, persistentVolumeClaim: {claimName: uploads}}]\n      containers: [{name: web, image: 'registry.example.com/web:1', volumeMounts: [{name: up, mountPath: /srv/uploads}]}]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: worker-isolated, namespace: shop}\nspec: {podSelector: {matchLabels: {app: worker}}, policyTypes: [Ingress]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: shop}\nspec:\n  selector: {matchLabels: {app: worker}}\n  template:\n    metadata: {labels: {app: worker}}\n    spec:\n      serviceAccountName: worker\n      volumes: [{name: in, persistentVolumeClaim: {claimName: uploads}}]\n      containers: [{name: w, image: 'registry.example.com/worker:1', volumeMounts: [{name: in, mountPath: /in, readOnly: true}]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: worker-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: worker, namespace: shop}]\n";
    std::fs::write(&file, cluster).unwrap();
    let out = paths_from("shop/web", &file, &["-o", "json"]);
    common::exiting(&out, 1);
    let paths = json(&out);
    let relations: Vec<&str> = paths[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["relation"].as_str().unwrap())
        .collect();
    assert_eq!(
        relations,
        ["shares-storage", "mounts-token", "grants"],
        "{paths:#}"
    );
    let scan = bin()
        .args(["scan", "--rules", "RBAC017", "--no-config", "-o", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let report = json(&scan);
    let web = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["object"]["name"] == "web")
        .expect("RBAC017 on the web");
    assert!(
        web["message"]
            .as_str()
            .unwrap()
            .contains("writes claim shop/uploads"),
        "{web:#}"
    );
    std::fs::write(
        &file,
        cluster.replace(
            "mountPath: /srv/uploads}",
            "mountPath: /srv/uploads, readOnly: true}",
        ),
    )
    .unwrap();
    assert_no_path("shop/web", &file, &[]);
}

/// That no chain leads from the workload: `rbac paths` (with `args`) exits 0.
fn assert_no_path(workload: &str, file: &Path, args: &[&str]) {
    let out = paths_from(workload, file, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `palisade rbac paths --from-workload WORKLOAD FILE ARGS...`.
fn paths_from(workload: &str, file: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .args(["rbac", "paths", "--from-workload", workload])
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn groups_from_the_authenticator_and_implicit_groups_count() {
    let dir = scratch("rbac-groups");
    let file = dir.join("groups.yaml");
    std::fs::write(
        &file,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: secret-reader}\nrules: [{apiGroups: [''], resources: [secrets], verbs: [get, list]}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: devs-secrets}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}]\n",
    )
    .unwrap();
    let access = |extra: &[&str]| {
        let out = bin()
            .args(["rbac", "access", "user:alice", "-o", "json"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        json(&out)
    };
    let alone = access(&[]);
    assert_eq!(alone["permissions"].as_array().unwrap().len(), 0, "{alone}");
    let member = access(&["--group", "devs"]);
    assert_eq!(member["groups"][1], "devs");
    assert_eq!(member["permissions"][0]["resource"], "secrets", "{member}");
    // paths: alice reaches the Secrets only as a member of devs.
    let paths = |extra: &[&str]| {
        bin()
            .args(["rbac", "paths", "--from", "user:alice", "--to", "secrets"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap()
    };
    assert_eq!(paths(&[]).status.code(), Some(0));
    let out = paths(&["--group", "devs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("because User alice is in group devs"),
        "{text}"
    );
}

#[test]
fn who_can_resolves_resources_as_kubectl_and_refuses_unknown_names() {
    // `deployments` is apps/deployments: the answer is the same as for `deployments.apps`.
    let ask = |resource: &str| {
        bin()
            .args([
                "rbac",
                "who-can",
                "create",
                resource,
                "-n",
                "ops",
                "examples/rbac",
                "-o",
                "json",
            ])
            .output()
            .unwrap()
    };
    let full = json(&ask("deployments.apps"));
    assert!(!full.as_array().unwrap().is_empty());
    for short in ["deployments", "deployment", "deploy", "Deployment"] {
        assert_eq!(json(&ask(short)), full, "{short}");
    }
    // An unknown name is an error with a suggestion, never "nobody".
    let unknown = ask("deploymnets");
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("did you mean deployments.apps"), "{stderr}");
    let verb = bin()
        .args(["rbac", "who-can", "gett", "pods", "examples/rbac"])
        .output()
        .unwrap();
    assert_eq!(verb.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&verb.stderr).contains("did you mean get"));
    // Custom resources are known from their CustomResourceDefinition in the input.
    let dir = scratch("rbac-crd");
    std::fs::write(
        dir.join("crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: backups.ops.example.com}
spec:
  group: ops.example.com
  scope: Namespaced
  names: {plural: backups, singular: backup, kind: Backup, shortNames: [bk]}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: backup-admin, namespace: ops}
rules:
- {apiGroups: [ops.example.com], resources: [backups], verbs: [delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: backup-admin, namespace: ops}
subjects: [{kind: User, name: dana}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: backup-admin}
",
    )
    .unwrap();
    let crd = bin()
        .args(["rbac", "who-can", "delete", "bk", "-n", "ops", "-o", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let rows = json(&crd);
    assert_eq!(rows[0]["subject"]["name"], "dana", "{rows}");
}

#[test]
fn generate_lists_refused_requests_and_grants_them_only_when_asked() {
    let dir = scratch("rbac-generate-denied");
    let user = "system:serviceaccount:ops:backup";
    let refused = audit_event(user, "delete", "secrets", "ops", "old").replace(
        r#""objectRef""#,
        r#""responseStatus":{"code":403},"objectRef""#,
    );
    let log = [audit_event(user, "list", "configmaps", "ops", ""), refused].join("\n");
    std::fs::write(dir.join("audit.log"), log).unwrap();
    let run = |extra: &[&str]| {
        let out = bin()
            .args([
                "rbac",
                "generate",
                "--subject",
                "sa:ops/backup",
                "--audit-log",
            ])
            .arg(dir.join("audit.log"))
            .args(extra)
            .output()
            .unwrap();
        common::exiting(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let default = run(&[]);
    assert!(default.contains("1 requests were refused"), "{default}");
    assert!(
        default.contains("#   delete secrets old in ops"),
        "{default}"
    );
    assert!(
        !default.contains("- delete"),
        "refused requests are not granted: {default}"
    );
    let granted = run(&["--include-denied"]);
    assert!(granted.contains("delete"), "{granted}");
    assert!(granted.contains("granted below"), "{granted}");
}

/// The admission-policy fixture: a web workload that may create pods in `web`, a node agent
/// bound to cluster-admin, and policies that refuse every way a pod owns its node.
const BRAKES: &str = "crates/palisade/tests/policy/brakes";

/// The node step of `frontend`'s chain to cluster-admin, through `rbac paths --policy` with
/// `policies` (comma-separated), or `None` when the policies leave no chain; and the RBAC017
/// message of `palisade scan` with them, which must tell the same.
fn node_step_with(policies: &str) -> Option<String> {
    let cluster = format!("{BRAKES}/cluster.yaml");
    let mut args = vec!["-o", "json"];
    if !policies.is_empty() {
        args.extend(["--policy", policies]);
    }
    let out = paths_from("web/frontend", Path::new(&cluster), &args);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paths = json(&out);
    let step = paths[0]["steps"].as_array().and_then(|steps| {
        steps
            .iter()
            .find(|s| s["to"]["node"] == "node-host")
            .and_then(|s| s["evidence"].as_str())
            .map(str::to_string)
    });
    assert_eq!(code == Some(1), step.is_some(), "{paths}");
    // `palisade scan` reads the same policies into the same graph, whatever rules it reports.
    for only in [None, Some("RBAC017")] {
        let mut scan = bin();
        scan.args(["scan", &cluster, "-o", "json", "--no-config"]);
        if !policies.is_empty() {
            scan.args(["--policy", policies]);
        }
        if let Some(only) = only {
            scan.args(["--rules", only]);
        }
        let report = json(&scan.output().unwrap());
        let through_node = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "RBAC017")
            .filter_map(|f| f["message"].as_str())
            .find(|m| m.starts_with("Deployment web/frontend"))
            .map(str::to_string);
        match &step {
            Some(step) => assert!(
                through_node
                    .as_deref()
                    .is_some_and(|m| m.contains(step.as_str())),
                "{through_node:?} lacks {step}"
            ),
            None => assert_eq!(through_node, None, "{only:?}"),
        }
    }
    step
}

/// Policies written to `dir/NAME` from the fixture's, changed by `change`.
fn policies_changed(dir: &Path, name: &str, change: impl Fn(&str) -> String) -> String {
    let text =
        std::fs::read_to_string(common::workspace().join(BRAKES).join("constraints.yaml")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, change(&text)).unwrap();
    format!("{BRAKES}/templates.yaml,{}", path.display())
}

/// Gatekeeper constraints and ValidatingAdmissionPolicies the cluster enforces with deny stop
/// "create pods → a node" where they refuse every way a pod owns its node (asked by judging
/// probe pods); a way they let in keeps the step, named with what lets it in.
#[test]
fn admission_policies_that_refuse_every_way_to_own_a_node_stop_that_step() {
    let dir = scratch("rbac-brakes");
    // Without policies: only Pod Security is read, and `web` has none.
    let open = node_step_with("").expect("a chain through the node");
    assert!(
        open.ends_with("no Pod Security enforcement stops a privileged pod there"),
        "{open}"
    );
    // The four guards, as Rego constraints or as one ValidatingAdmissionPolicy.
    assert_eq!(
        node_step_with(&format!(
            "{BRAKES}/templates.yaml,{BRAKES}/constraints.yaml"
        )),
        None
    );
    assert_eq!(node_step_with(&format!("{BRAKES}/vap.yaml")), None);
    // Without the capabilities guard, a pod that adds SYS_ADMIN is let in.
    let partial = policies_changed(&dir, "partial.yaml", |text| {
        text.split("---\n")
            .filter(|doc| !doc.contains("no-added-capabilities"))
            .collect::<Vec<_>>()
            .join("---\n")
    });
    let step = node_step_with(&partial).expect("SYS_ADMIN is let in");
    assert!(
        step.ends_with(
            "neither Pod Security nor an admission policy stops a pod that adds SYS_ADMIN to a container there (policies refuse 106 of 114 ways to own a node)"
        ),
        "{step}"
    );
    // A policy that refuses every pod for something its creator adds (a label, whose message
    // names the pod) refuses no way more: the creator adds the label.
    let labels_too = policies_changed(&dir, "labels-too.yaml", |text| {
        let partial: Vec<&str> = text
            .split("---\n")
            .filter(|doc| !doc.contains("no-added-capabilities"))
            .collect();
        format!(
            "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredTeam\nmetadata: {{name: pods-need-a-team}}\nspec: {{match: {{kinds: [{{apiGroups: [''], kinds: [Pod]}}]}}}}\n",
            partial.join("---\n")
        )
    });
    assert_eq!(node_step_with(&labels_too), Some(step));
    // A guard that reads only `containers` lets the same container in as an init container.
    let templates =
        std::fs::read_to_string(common::workspace().join(BRAKES).join("templates.yaml")).unwrap();
    let leaky = dir.join("containers-only.yaml");
    std::fs::write(
        &leaky,
        templates.replace(
            "containers[c] { c := input.review.object.spec.initContainers[_] }\n",
            "",
        ),
    )
    .unwrap();
    let step = node_step_with(&format!("{},{BRAKES}/constraints.yaml", leaky.display()))
        .expect("an init container is let in");
    assert!(
        step.contains("a pod that runs a privileged container (in an init container) there"),
        "{step}"
    );
    // A guard that compares paths as text misses them written with a doubled slash.
    let textual = dir.join("textual-paths.yaml");
    let by_text = "          v.hostPath.path == \"/\"\n          msg := sprintf(\"volume %v mounts the node's root\", [v.name])\n        }\n        violation[{\"msg\": msg}] {\n          v := input.review.object.spec.volumes[_]\n          startswith(v.hostPath.path, [\"/etc\", \"/var\", \"/run\", \"/root\", \"/proc\"][_])\n";
    std::fs::write(
        &textual,
        templates.replace("          v.hostPath\n", by_text),
    )
    .unwrap();
    let step = node_step_with(&format!("{},{BRAKES}/constraints.yaml", textual.display()))
        .expect("a doubled slash is let in");
    assert!(
        step.contains("a pod that runs as root and mounts hostPath // there"),
        "{step}"
    );
    // A guard that forbids capabilities by name misses them spelled with `CAP_`.
    let deny_list = policies_changed(&dir, "deny-list.yaml", |text| {
        text.replace(
            "kind: K8sAllowedCapabilities\nmetadata: {name: no-added-capabilities}",
            "kind: K8sForbiddenCapabilities\nmetadata: {name: no-added-capabilities}",
        )
        .replace(
            "parameters: {allowed: [NET_BIND_SERVICE]}",
            "parameters: {forbidden: [SYS_ADMIN, SYS_MODULE, SYS_PTRACE, NET_ADMIN, NET_RAW]}",
        )
    });
    let step = node_step_with(&deny_list).expect("CAP_SYS_ADMIN is let in");
    assert!(
        step.contains("a pod that adds CAP_SYS_ADMIN to a container there"),
        "{step}"
    );
    // A guard its creator escapes stops nothing, and the step says how it is escaped.
    let exempt = policies_changed(&dir, "exempt.yaml", |text| {
        text.replace(
            "metadata: {name: no-privileged}\nspec:\n",
            "metadata: {name: no-privileged}\nspec:\n  parameters: {exemptImages: [\"registry.example.com/debug/*\"]}\n",
        )
    });
    let step = node_step_with(&exempt).expect("an exempted image is let in");
    assert!(
        step.ends_with(
            "a pod that runs a privileged container there (K8sNoPrivileged/no-privileged refuses one, but it exempts images registry.example.com/debug/*)"
        ),
        "{step}"
    );
    let labelled = policies_changed(&dir, "labelled.yaml", |text| {
        text.replace(
            "metadata: {name: no-host-path}\nspec:\n  match: {",
            "metadata: {name: no-host-path}\nspec:\n  match: {labelSelector: {matchLabels: {guarded: \"yes\"}}, ",
        )
    });
    let step = node_step_with(&labelled).expect("an unlabelled pod escapes the selector");
    assert!(
        step.contains("a pod that runs as root and mounts hostPath / there"),
        "{step}"
    );
    // Only `deny` at the webhook refuses: a warning, or a Config exempting the namespace
    // from the webhook, refuses nothing.
    let warned = policies_changed(&dir, "warned.yaml", |text| {
        text.replace(
            "metadata: {name: no-privileged}\nspec:\n",
            "metadata: {name: no-privileged}\nspec:\n  enforcementAction: warn\n",
        )
    });
    assert!(node_step_with(&warned).is_some_and(|s| s.contains("runs a privileged container")));
    let exempted = policies_changed(&dir, "exempted.yaml", |text| {
        format!(
            "{text}---\napiVersion: config.gatekeeper.sh/v1alpha1\nkind: Config\nmetadata: {{name: config, namespace: gatekeeper-system}}\nspec:\n  match: [{{excludedNamespaces: [web], processes: [webhook]}}]\n"
        )
    });
    assert!(node_step_with(&exempted).is_some_and(|s| s.contains("runs a privileged container")));
    // A binding that only warns, or selects objects by label, stops nothing either.
    let vap = std::fs::read_to_string(common::workspace().join(BRAKES).join("vap.yaml")).unwrap();
    for (name, changed) in [
        ("warn.yaml", vap.replace("validationActions: [Deny]", "validationActions: [Warn]")),
        (
            "selected.yaml",
            vap.replace(
                "validationActions: [Deny]",
                "validationActions: [Deny]\n  matchResources: {objectSelector: {matchLabels: {guarded: \"yes\"}}}",
            ),
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, changed).unwrap();
        assert!(node_step_with(path.to_str().unwrap()).is_some(), "{name}");
    }
    // A constraint that denies at the webhook but is not run at the gator point (a scan of
    // files) is still the cluster's admission: scan and rbac paths agree.
    let webhook_only = policies_changed(&dir, "webhook-only.yaml", |text| {
        text.replace(
            "metadata: {name: no-privileged}\nspec:\n",
            "metadata: {name: no-privileged}\nspec:\n  enforcementAction: scoped\n  scopedEnforcementActions: [{action: deny, enforcementPoints: [{name: validation.gatekeeper.sh}]}]\n",
        )
    });
    assert_eq!(node_step_with(&webhook_only), None);
    // `--cluster-policies` reads the policies among the objects analysed (a snapshot's).
    let together = dir.join("together.yaml");
    let read =
        |name: &str| std::fs::read_to_string(common::workspace().join(BRAKES).join(name)).unwrap();
    std::fs::write(
        &together,
        [
            read("cluster.yaml"),
            read("templates.yaml"),
            read("constraints.yaml"),
        ]
        .join("---\n"),
    )
    .unwrap();
    assert_no_path("web/frontend", &together, &["--cluster-policies"]);
    let out = paths_from("web/frontend", &together, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "without the flag, the policies are objects only"
    );
}

/// A pipeline's token in a ConfigMap the developers may view, an admin kubeconfig in the
/// settings a Deployment mounts, and a backup account's token in an Opaque Secret.
const LEAKS: &str = "crates/palisade-rules/tests/fixtures/SEC023/fail.yaml";

#[test]
fn a_leaked_credential_is_a_step_from_its_readers_to_its_identity() {
    let out = bin()
        .args([
            "rbac",
            "paths",
            "--from",
            "group:developers",
            LEAKS,
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let paths = common::json_exiting(&out, 1);
    let steps = paths[0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["to"]["node"], "object", "{paths:#}");
    assert_eq!(steps[0]["to"]["kind"], "ConfigMap");
    assert_eq!(steps[1]["relation"], "leaks");
    assert!(
        steps[1]["evidence"]
            .as_str()
            .unwrap()
            .contains("holds a service-account token of ServiceAccount ci/deployer"),
        "{paths:#}"
    );
    assert_eq!(steps.last().unwrap()["to"]["node"], "cluster-admin");
    // The Deployment that mounts the admin kubeconfig is cluster-admin through it.
    let tools = bin()
        .args(["rbac", "paths", "--from-workload", "app/tools", LEAKS])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&tools.stdout);
    assert!(text.contains("→ ConfigMap app/tools-config"), "{text}");
    assert!(
        text.contains("User kubernetes-admin (groups system:masters)"),
        "{text}"
    );
    // With the pipeline's account kept as it is, the plan takes the credentials out, or
    // narrows who reads them.
    let plan = bin()
        .args([
            "rbac",
            "fixes",
            LEAKS,
            "--keep",
            "ClusterRoleBinding ci-deployer",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let plan = common::json_exiting(&plan, 1);
    let removals: Vec<&str> = plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == "remove-credential")
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    // The Deployment mounts the admin kubeconfig: only taking it out cuts that.
    assert_eq!(removals, ["ConfigMap app/tools-config"], "{plan:#}");
    assert_eq!(plan["risk_left"], 0);
    // The scan says whose each credential is and what it reaches, never the value.
    let scan = bin()
        .args(["scan", LEAKS, "--rules", "SEC023", "-o", "json"])
        .output()
        .unwrap();
    let report = common::json_exiting(&scan, 1);
    let severities: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["critical", "critical", "high"], "{report:#}");
    // Written without namespaces in a chart's directory, they share its scope: the same.
    let dir = scratch("leaks-unset");
    let unset = std::fs::read_to_string(common::workspace().join(LEAKS))
        .unwrap()
        .replace(", namespace: app}", "}");
    common::write_file(&dir, "chart/leaks.yaml", &unset);
    let scan_unset = bin()
        .args([
            "scan",
            dir.to_str().unwrap(),
            "--rules",
            "SEC023",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let unset_report = common::json_exiting(&scan_unset, 1);
    assert_eq!(
        unset_report["findings"].as_array().unwrap().len(),
        3,
        "{unset_report:#}"
    );
    let fixture = std::fs::read_to_string(common::workspace().join(LEAKS)).unwrap();
    let secrets: Vec<&str> = fixture
        .lines()
        .filter_map(|l| l.split_once("token: ").or_else(|| l.split_once("-data: ")))
        .map(|(_, value)| value.trim_end_matches(['}', ' ', ']']))
        .collect();
    assert_eq!(secrets.len(), 4, "two tokens, a certificate and its key");
    for out in [&out, &tools, &scan] {
        let printed = String::from_utf8_lossy(&out.stdout);
        for secret in &secrets {
            assert!(!printed.contains(secret), "printed a credential: {printed}");
        }
    }
}

/// A grant limited to some names (`resourceNames`) or written with wildcards is a grant:
/// `who-can get secrets` lists who may read one Secret by name under its own heading, and
/// `access` gives wildcard and named rules rows of their own, where both once answered
/// "nobody" and "no permissions".
#[test]
fn names_and_wildcards_are_never_answered_as_nobody() {
    let dir = scratch("rbac-names-and-wildcards");
    std::fs::write(
        dir.join("rbac.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: scaler, namespace: shop}
rules:
- {apiGroups: ['*'], resources: ['*/scale'], verbs: [update, patch]}
- {apiGroups: [''], resources: [secrets], resourceNames: [db-password], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: scaler, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
subjects: [{kind: ServiceAccount, name: bob, namespace: shop}]
",
    )
    .unwrap();
    let file = dir.join("rbac.yaml");
    let run = |args: &[&str]| {
        let out = bin()
            .args(args)
            .arg(&file)
            .args(["-n", "shop"])
            .output()
            .unwrap();
        common::exiting(&out, 0);
        String::from_utf8(out.stdout).unwrap()
    };
    let who = run(&["rbac", "who-can", "get", "secrets"]);
    assert!(who.contains("nobody for any name"), "{who}");
    assert!(
        who.contains("only for some names")
            && who.contains("    ServiceAccount shop/bob")
            && who.contains("named db-password"),
        "{who}"
    );
    let who = run(&["rbac", "who-can", "get", "secrets", "-o", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&who).unwrap();
    assert_eq!(rows[0]["only_names"], serde_json::json!(["db-password"]));
    let named = run(&["rbac", "who-can", "get", "secrets", "--name", "db-password"]);
    assert!(
        named.starts_with("who can get secrets named db-password in namespace shop:"),
        "{named}"
    );
    assert!(!named.contains("nobody"), "{named}");
    let access = run(&["rbac", "access", "sa:shop/bob"]);
    assert!(!access.contains("no permissions"), "{access}");
    assert!(access.contains("*/scale in every group"), "{access}");
    assert!(access.contains("secrets named db-password"), "{access}");
}

/// Asked cluster-wide about a namespaced resource, who-can also lists who may make the request
/// in some namespaces only (RoleBindings), by namespace, where it once listed only the
/// ClusterRoleBindings; one allowed everywhere is not listed again.
#[test]
fn who_can_cluster_wide_lists_the_namespaces_of_role_bindings() {
    let out = bin()
        .args(["rbac", "who-can", "create", "deployments", "examples/rbac"])
        .output()
        .unwrap();
    common::exiting(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let (everywhere, ops) = text
        .split_once("  only in namespace ops (-n asks there):\n")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(everywhere.contains("ServiceAccount ops/backup"), "{text}");
    assert!(
        ops.contains("    ServiceAccount web/web")
            && ops.contains("RoleBinding ops/web-deploys-ops"),
        "{text}"
    );
    assert!(
        !ops.contains("ops/backup"),
        "allowed everywhere already: {text}"
    );
    let out = bin()
        .args([
            "rbac",
            "who-can",
            "create",
            "deployments",
            "examples/rbac",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let rows = json(&out);
    let web = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"]["name"] == "web")
        .unwrap_or_else(|| panic!("{rows}"));
    assert_eq!(web["only_namespace"], "ops");
    // Nodes are cluster-scoped: no RoleBinding grants them, whatever its role says.
    let out = bin()
        .args(["rbac", "who-can", "get", "nodes", "examples/rbac"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("only in namespace"));
}

/// A subject no binding names, and for a service account no object read is, is said to be so
/// on stderr: a misspelt name would otherwise read as a subject with no permissions or path.
#[test]
fn a_subject_nothing_names_is_noted() {
    let run = |args: &[&str]| {
        let out = bin().args(args).output().unwrap();
        String::from_utf8(out.stderr).unwrap()
    };
    let ghost = run(&["rbac", "access", "sa:nope/ghost", "examples/rbac"]);
    assert!(
        ghost.contains("no binding in the input names ServiceAccount nope/ghost, nor is it among the objects read"),
        "{ghost}"
    );
    let user = run(&["rbac", "paths", "--from", "user:jnae", "examples/rbac"]);
    assert!(
        user.contains("no binding in the input names User jnae;"),
        "{user}"
    );
    let known = run(&["rbac", "access", "sa:web/web", "examples/rbac"]);
    assert!(!known.contains("no binding"), "{known}");
    // An input without ServiceAccounts (as `--cluster` reads for `access`) cannot say one is
    // missing.
    let dir = scratch("rbac-no-service-accounts");
    std::fs::write(
        dir.join("rbac.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: view}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: prom, namespace: mon}]\n",
    )
    .unwrap();
    let path = dir.to_str().unwrap();
    let unread = run(&["rbac", "access", "sa:mon/promm", path]);
    assert!(
        unread.contains("no binding in the input names ServiceAccount mon/promm;"),
        "{unread}"
    );
}

/// The External Secrets Operator in the escalation graph: whoever may create an ExternalSecret
/// where a store of the Kubernetes provider may be used reads the Secrets that store reads,
/// and `rbac fixes` may cut the step at the binding, the store or the store's account.
#[test]
fn an_external_secret_store_reading_this_cluster_is_a_step_to_its_secrets() {
    const ESO: &str = "crates/palisade/tests/rbac/external-secrets.yaml";
    let out = bin()
        .args(["rbac", "paths", "--from", "group:shop-devs", ESO])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("create ExternalSecrets in namespace shop, which ClusterSecretStore cluster-secrets (Kubernetes provider) fills from the Secrets of namespace platform as ServiceAccount external-secrets/eso-reader"),
        "{text}"
    );
    assert!(text.contains("→ cluster-admin"), "{text}");
    let out = bin()
        .args(["rbac", "fixes", ESO, "-o", "json"])
        .output()
        .unwrap();
    let plan = json_exiting(&out, 1);
    let fixes: Vec<String> = plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fixes.contains(&"RoleBinding platform/eso-reads-platform".to_string()),
        "{plan:#}"
    );
    // With conditions that leave shop out, no step.
    let dir = scratch("eso-conditions");
    let text = std::fs::read_to_string(workspace().join(ESO))
        .unwrap()
        .replace(
            "spec:\n  provider:\n    kubernetes:",
            "spec:\n  conditions: [{namespaces: [payments]}]\n  provider:\n    kubernetes:",
        );
    write_file(&dir, "eso.yaml", &text);
    let out = bin()
        .current_dir(&dir)
        .args(["rbac", "paths", "--from", "group:shop-devs", "eso.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// ShadowRay's chain, end to end: a RayCluster whose head the operator publishes on a public
/// load balancer, without Ray's authentication, and whose GPU workers run as an account bound
/// to cluster-admin. Each pod template is a workload of its own: the scan's RBAC017 reports
/// the head (exposed) and the worker group, each at its template, and `rbac paths
/// --from-workload` follows the head into its workers.
#[test]
fn a_ray_clusters_templates_are_workloads_of_the_attack_graph() {
    let file = workspace().join("crates/palisade/tests/rbac/ray-published.yaml");
    let out = bin()
        .args(["scan", "-o", "json", "--rules", "RBAC017"])
        .arg(&file)
        .output()
        .unwrap();
    let report = json_exiting(&out, 1);
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["location"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (path, f["message"].as_str().unwrap().to_string())
        })
        .collect();
    found.sort();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0].0,
        "/spec/headGroupSpec/template/spec/serviceAccountName"
    );
    let head = &found[0].1;
    assert!(
        head.starts_with(
            "exposed to the internet (the Ray head service is published on a public load balancer"
        ),
        "{head}"
    );
    assert!(
        head.contains("RayCluster ml/ray (spec.headGroupSpec.template) → RayCluster ml/ray (spec.workerGroupSpecs.0.template) (one Ray cluster"),
        "{head}"
    );
    assert_eq!(
        found[1].0,
        "/spec/workerGroupSpecs/0/template/spec/serviceAccountName"
    );

    let out = bin()
        .args(["rbac", "paths", "--from-workload", "ml/ray", "-o", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let paths = json_exiting(&out, 1);
    let starts: Vec<&str> = paths
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["from"]["template"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "spec.headGroupSpec.template",
            "spec.workerGroupSpecs.0.template"
        ]
    );
    assert_eq!(paths[0]["steps"][0]["relation"], "runs-code-in");
}

/// A RayCluster as a cluster read gives it (uids, and Pods naming it as their controller):
/// its Pods are judged through the template each runs, so a finding is reported once, on the
/// template, listing the Pods it covers; a worker Pod running privileged where its template
/// does not is judged on its own (POD036 says why). In the attack graph the Pods are their
/// templates' workloads: the LoadBalancer Service KubeRay made for the head selects the head
/// Pod by the operator's labels, which exposes the head template.
#[test]
fn a_ray_clusters_pods_are_judged_through_their_templates() {
    let file = workspace().join("crates/palisade/tests/rbac/ray-cluster-read.yaml");
    let out = bin()
        .args(["scan", "-o", "json", "--fail-on", "none"])
        .arg(&file)
        .output()
        .unwrap();
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let on = |name: &str| -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f["object"]["name"] == name)
            .map(|f| f["rule"].as_str().unwrap())
            .collect()
    };
    assert!(
        on("ray-gpu-worker-x1").is_empty(),
        "{:?}",
        on("ray-gpu-worker-x1")
    );
    // The head Pod stands for the RayCluster's pods in the network model (NET004).
    assert_eq!(on("ray-head-abcde"), ["NET004"]);
    let forged = on("ray-gpu-worker-x2");
    assert!(
        forged.contains(&"POD036") && forged.contains(&"POD001"),
        "{forged:?}"
    );
    let seccomp = |template: &str| {
        findings
            .iter()
            .find(|f| {
                f["rule"] == "POD014"
                    && f["location"]["path"]
                        .as_str()
                        .unwrap()
                        .starts_with(template)
            })
            .unwrap_or_else(|| panic!("POD014 on {template}"))["affected"]
            .clone()
    };
    assert_eq!(
        seccomp("/spec/headGroupSpec/"),
        serde_json::json!(["Pod ray-head-abcde"])
    );
    assert_eq!(
        seccomp("/spec/workerGroupSpecs/0/"),
        serde_json::json!(["Pod ray-gpu-worker-x1"])
    );

    let out = bin()
        .args(["rbac", "paths", "-o", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let paths = json_exiting(&out, 1);
    let from_internet = paths
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["from"]["node"] == "internet")
        .expect("a path from the internet");
    let first = &from_internet["steps"][0];
    assert_eq!(first["to"]["template"], "spec.headGroupSpec.template");
    // The Service selects the head by the labels KubeRay gives its Pods, so it exposes the
    // head template itself, as the template's Pods will carry them
    // (`palisade_inventory::operator_pods`).
    assert_eq!(
        first["evidence"],
        "Service ray-head-svc of type LoadBalancer"
    );
}

/// A load balancer whose source ranges admit only private addresses starts no path from the
/// internet; one restricted to a public network (an office) still does, and the path says
/// from where.
#[test]
fn source_ranges_decide_whether_a_load_balancer_starts_a_path() {
    let dir = scratch("rbac-source-ranges");
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/rbac/escalation.yaml"),
    )
    .unwrap();
    let with_ranges = |ranges: &str| {
        example.replacen(
            "  type: LoadBalancer\n",
            &format!("  type: LoadBalancer\n  loadBalancerSourceRanges: [{ranges}]\n"),
            1,
        )
    };
    let paths = |yaml: &str| -> Vec<String> {
        write_file(&dir, "app.yaml", yaml);
        let report = json(
            &bin()
                .args([
                    "scan",
                    "app.yaml",
                    "-o",
                    "json",
                    "--rules",
                    "RBAC017",
                    "--no-config",
                ])
                .current_dir(&dir)
                .output()
                .unwrap(),
        );
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["message"].as_str())
            .filter(|m| m.starts_with("exposed to the internet"))
            .map(str::to_string)
            .collect()
    };
    assert!(!paths(&example).is_empty(), "the example has a path");
    assert_eq!(
        paths(&with_ranges("10.0.0.0/8, 100.64.0.0/10")),
        Vec::<String>::new()
    );
    let office = paths(&with_ranges("203.0.113.0/24"));
    assert!(!office.is_empty());
    assert!(
        office.iter().all(|m| m.starts_with(
            "exposed to the internet (Service web of type LoadBalancer, only from 203.0.113.0/24 (spec.loadBalancerSourceRanges))"
        )),
        "{office:#?}"
    );
}
