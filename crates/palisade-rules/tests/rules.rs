//! Every rule against its fixtures (`tests/fixtures/<ID>/fail.yaml` must fire, `pass.yaml` must
//! not), plus the registry's honesty checks and a snapshot of the whole catalogue.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;

use palisade_inventory::{Limits, load_text};
use palisade_rules::{RuleSettings, all_rules, evaluate, evaluate_with, find_rule};

fn fixture(id: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(id)
        .join(name)
}

/// The settings every fixture is evaluated with, so that the rules that need configuration
/// (IMG004, IMG005, META004) run, and POD038 knows a registry mirror.
fn fixture_settings() -> RuleSettings {
    let mut settings = RuleSettings::default()
        .with("allowed-registries", vec!["registry.example.com".into()])
        .with("registry-mirrors", vec!["mirror.example.com/hub".into()])
        .with("required-labels", vec!["app.kubernetes.io/name".into()]);
    settings.pod_security = Some(palisade_rules::PodSecurityTarget {
        level: palisade_rules::pss::Level::Restricted,
        version: palisade_rules::pss::admission::PolicyVersion::LATEST,
    });
    // IMG005's threat intelligence, read as `palisade.toml`'s loader reads it.
    let feed = fixture("IMG005", "intel.txt");
    let (intel, problems) = palisade_intel::Feeds::new(vec![("intel.txt".into(), feed)])
        .load()
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    settings.threat_intel = palisade_rules::settings::ThreatIntel(Some(std::sync::Arc::new(intel)));
    settings
}

fn run(id: &str, name: &str) -> (Vec<String>, usize) {
    let path = fixture(id, name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let loaded = load_text(&format!("{id}/{name}"), &text, &Limits::default());
    assert!(
        loaded.diagnostics.is_empty(),
        "{id}/{name}: {:?}",
        loaded.diagnostics
    );
    let rule = find_rule(id).expect("rule exists");
    let out = match rule.only_against_a_cluster() {
        None => evaluate_with(&loaded.inventory, &[rule], &fixture_settings()),
        Some(_) => judged_against_the_rest(&format!("{id}/{name}"), &text, rule),
    };
    let lines = out
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} {} | {}",
                f.location.line.unwrap_or(0),
                f.location.column.unwrap_or(0),
                f.subject,
                f.location.path,
                f.message
            )
        })
        .collect();
    let not_assessed = out.coverage.iter().map(|c| c.not_assessed).sum();
    (lines, not_assessed)
}

/// For a rule that judges what an object changes in a cluster (it runs only against one):
/// the fixture's last object, judged against a cluster prepared from the others, as an
/// admission webhook judges it.
fn judged_against_the_rest(
    path: &str,
    text: &str,
    rule: &dyn palisade_rules::Rule,
) -> palisade_rules::EngineOutput {
    // The change keeps its place in the file; the cluster is the documents before it.
    let change = load_text(path, text, &Limits::default())
        .inventory
        .objects
        .pop()
        .expect("the fixture holds the change");
    let (cluster, _) = text
        .rsplit_once("\n---\n")
        .expect("the fixture holds a cluster");
    let mut inventory = load_text(path, cluster, &Limits::default()).inventory;
    let settings = fixture_settings();
    let models = palisade_rules::ClusterModels::prepare_with(&inventory, &[rule], &settings);
    let before = models.before(&inventory);
    let (index, _) = inventory.insert(change);
    palisade_rules::evaluate_objects(
        &inventory,
        &[rule],
        &settings,
        &[index],
        (Some(&models), Some(&before)),
    )
}

/// Runs `check` for every rule and reports every rule that failed, not only the first.
fn for_every_rule(check: impl Fn(&str)) {
    let failed: Vec<String> = all_rules()
        .iter()
        .filter_map(|rule| {
            let id = rule.meta().id.to_string();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&id)))
                .err()
                .map(|_| id)
        })
        .collect();
    assert!(
        failed.is_empty(),
        "failing rules: {failed:?} (details above)"
    );
}

#[test]
fn every_rule_fires_on_its_failing_fixture() {
    for_every_rule(|id| {
        let (findings, _) = run(id, "fail.yaml");
        assert!(!findings.is_empty(), "{id} did not fire on fail.yaml");
        insta::assert_snapshot!(format!("{id}-fail"), findings.join("\n"));
    });
}

#[test]
fn every_rule_is_silent_on_its_passing_fixture() {
    for_every_rule(|id| {
        let (findings, not_assessed) = run(id, "pass.yaml");
        assert!(
            findings.is_empty(),
            "{id} fired on pass.yaml: {findings:#?}"
        );
        assert_eq!(not_assessed, 0, "{id} could not assess pass.yaml");
    });
}

#[test]
fn registry_metadata_is_complete_and_honest() {
    let mut ids = HashSet::new();
    let mut slugs = HashSet::new();
    for rule in all_rules() {
        let meta = rule.meta();
        assert!(ids.insert(meta.id.to_string()), "duplicate id {}", meta.id);
        assert!(
            slugs.insert(meta.slug.to_string()),
            "duplicate slug {}",
            meta.slug
        );
        assert!(
            !palisade_rules::registry::RETIRED_IDS.contains(&meta.id.as_ref()),
            "{} reuses a retired id",
            meta.id
        );
        let prefix: String = meta
            .id
            .chars()
            .take_while(char::is_ascii_uppercase)
            .collect();
        assert!(
            [
                "POD", "IMG", "NET", "SEC", "RBAC", "META", "NS", "STO", "LOG", "CP", "NODE"
            ]
            .contains(&prefix.as_str()),
            "{}: unknown category prefix",
            meta.id
        );
        assert!(
            meta.slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: slug must be kebab-case",
            meta.id
        );
        for section in [
            "What it checks",
            "Why it matters",
            "Severity",
            "Failing example",
            "Passing example",
            "Remediation",
            "References",
        ] {
            let text = meta.docs_section(section);
            assert!(
                text.is_some_and(|t| !t.is_empty()),
                "{}: docs lack a non-empty `## {section}`",
                meta.id
            );
        }
        assert!(
            !meta.controls.is_empty(),
            "{}: no compliance controls",
            meta.id
        );
        for control in meta.controls.iter() {
            assert!(
                control.title().is_some(),
                "{}: unknown control {control}",
                meta.id
            );
        }
        for name in ["fail.yaml", "pass.yaml"] {
            assert!(
                fixture(&meta.id, name).is_file(),
                "{}: missing fixture {name}",
                meta.id
            );
        }
    }
}

#[test]
fn catalogue_snapshot() {
    let rows: Vec<String> = all_rules()
        .iter()
        .map(|r| {
            let m = r.meta();
            let controls: Vec<String> = m.controls.iter().map(ToString::to_string).collect();
            format!(
                "{} {} {} [{}]",
                m.id,
                m.severity,
                m.slug,
                controls.join(", ")
            )
        })
        .collect();
    insta::assert_snapshot!(rows.join("\n"));
}

#[test]
fn missing_secret_is_not_assessed_when_the_namespace_has_no_secrets() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: other}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    envFrom: [{secretRef: {name: external}}]\n";
    let loaded = load_text("partial.yaml", text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("SEC001").unwrap()]);
    assert!(out.findings.is_empty());
    assert_eq!(out.coverage[0].not_assessed, 1);
    assert!(
        out.coverage[0].not_assessed_objects[0]
            .reason
            .contains("external")
    );
}

#[test]
fn type_mismatches_become_diagnostics_and_not_assessed() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    securityContext:\n      runAsUser: \"abc\"\n";
    let loaded = load_text("typed.yaml", text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("POD003").unwrap()]);
    assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
    let d = &out.diagnostics[0];
    assert_eq!(d.code, "type-mismatch");
    assert_eq!(d.line, Some(9));
    assert_eq!(d.object.as_deref(), Some("Pod shop/p"));
    assert!(d.message.contains("runAsUser"));
    // The mistyped field reads as absent, so the rule still reports the missing non-root setting.
    assert_eq!(out.findings.len(), 1);
}

/// A private key's armour (`-----BEGIN PRIVATE KEY-----`) once made the key read as a
/// placeholder: istio's jwt-server sample Secret was reported low, "none is recognised as a
/// credential", with its key left out of the list.
#[test]
fn a_secret_holding_a_private_key_is_reported_as_credentials() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\\n\
                MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n\
                NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ";
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: jwt, namespace: shop}}\ntype: Opaque\nstringData:\n  server.crt: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\"\n  server.key: \"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n\"\n"
    );
    let loaded = load_text("jwt.yaml", &text, &Limits::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let out = evaluate(&loaded.inventory, &[find_rule("SEC020").unwrap()]);
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    let finding = &out.findings[0];
    assert_eq!(finding.severity, palisade_core::Severity::High);
    assert!(
        finding.message.contains("(server.crt, server.key)"),
        "{}",
        finding.message
    );
}

/// `docs/rules.md` is generated from the registry; this test fails when it is stale.
/// Regenerate with `UPDATE_DOCS=1 cargo test -p palisade-rules --test rules`.
#[test]
fn rules_doc_is_generated_from_the_registry() {
    let mut doc = String::from(
        "# Palisade rules\n\nGenerated from the rule registry by `UPDATE_DOCS=1 cargo test -p palisade-rules --test rules`; do not edit.\n\n| id | severity | slug | title |\n|---|---|---|---|\n",
    );
    for rule in all_rules() {
        let m = rule.meta();
        doc.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            m.id,
            m.id.to_ascii_lowercase(),
            m.severity,
            m.slug,
            m.title
        ));
    }
    for rule in all_rules() {
        let m = rule.meta();
        let controls: Vec<String> = m
            .controls
            .iter()
            .map(|c| format!("- `{c}`: {}", c.title().unwrap_or("")))
            .collect();
        let docs = m.docs.replace("\n## ", "\n### ");
        let docs = docs
            .strip_prefix("## ")
            .map(|d| format!("### {d}"))
            .unwrap_or(docs);
        doc.push_str(&format!(
            "\n## {}\n\n**{}** ({}, severity {})\n\nControls:\n{}\n\n{}",
            m.id,
            m.title,
            m.slug,
            m.severity,
            controls.join("\n"),
            docs
        ));
    }
    common::check_generated_doc("rules.md", &doc, "rules");
}

/// The compliance matrix page: every control of every framework, its rules, and the manual
/// and uncovered controls. Regenerate like docs/rules.md.
#[test]
fn compliance_doc_is_generated_from_the_registry() {
    use palisade_core::Profile;
    let mut doc = String::from(
        "# Compliance matrix\n\nGenerated from the rule registry by `UPDATE_DOCS=1 cargo test -p palisade-rules --test rules`; do not edit. The same matrix is printed by `palisade rules --framework FRAMEWORK`, and `palisade scan --framework FRAMEWORK` gives a verdict per control: `pass` only when a covering rule evaluated objects and found nothing; `manual` controls need a human; `not covered` controls have no rule yet.\n\nRBAC items of CIS 5.1 that are not covered here are the subject of the RBAC analysis work (effective permissions), which will carry their ids.\n\nCIS sections 1.2-1.4 and 2 are judged on the pods that run the API server, controller manager, scheduler and etcd (kubeadm's static pod manifests, the mirror pods a cluster snapshot holds, or a hosted control plane's Deployments), section 4.2 on kubelet configuration files (`KubeletConfiguration`). With no such object among the inputs (a managed cluster's control plane is not in its objects), those controls are `not_applicable`, never `pass`. A component is found by the program its `command` (else `args`) starts; one whose flags the pod does not show is `not_assessed`, never skipped: a shell script that starts it (`sh -c 'exec kube-apiserver ...'`, any of the four components), or an image of the API server, controller manager or scheduler whose command starts something else or is left to the image. File permissions and ownership (1.1, 4.1) are on the nodes' disks and stay manual.\n\nThis matrix lists the rules that assess manifests and clusters. MITRE ATT&CK techniques that show only at run time (account discovery and manipulation, brute force, protocol tunneling, certificate theft, ...) are covered by the audit detections of `palisade audit`, each with its techniques, in [audit-detections.md](audit-detections.md).\n\n",
    );
    for profile in [
        Profile::Cis,
        Profile::Nsa,
        Profile::PssRestricted,
        Profile::Mitre,
    ] {
        doc.push_str(&palisade_rules::compliance::markdown(profile));
    }
    common::check_generated_doc("compliance.md", &doc, "rules");
}

/// The bootstrap policy every cluster has, with `change` appended as further documents.
fn default_policy_findings(change: &str) -> Vec<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bootstrap/default-policy.yaml");
    let text = std::fs::read_to_string(&path).unwrap() + change;
    let loaded = load_text("default-policy.yaml", &text, &Limits::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let out = evaluate(&loaded.inventory, all_rules());
    out.findings
        .iter()
        .map(|f| format!("{} {} | {}", f.rule_id(), f.subject, f.message))
        .collect()
}

#[test]
fn the_clusters_own_bootstrap_policy_is_not_a_finding() {
    let findings = default_policy_findings("");
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn changes_to_the_bootstrap_policy_are_judged_as_usual() {
    // Another subject on a default binding: reported for that subject only.
    let added = default_policy_findings(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: 'system:controller:generic-garbage-collector-2'}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:controller:generic-garbage-collector'}\nsubjects:\n- {kind: ServiceAccount, name: generic-garbage-collector, namespace: kube-system}\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: mallory}\n",
    );
    let secrets: Vec<&String> = added.iter().filter(|f| f.starts_with("RBAC002")).collect();
    assert_eq!(secrets.len(), 1, "{added:#?}");
    assert!(
        secrets[0].contains("User mallory can read Secrets"),
        "{secrets:?}"
    );
    assert!(
        !secrets[0].contains("generic-garbage-collector can"),
        "{secrets:?}"
    );
    // A controller's account bound to another role.
    let rebound = default_policy_findings(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: 'system:controller:gc-admin'}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects:\n- {kind: ServiceAccount, name: generic-garbage-collector, namespace: kube-system}\n",
    );
    assert!(
        rebound.iter().any(|f| f.starts_with("RBAC001")),
        "{rebound:#?}"
    );
    // A made-up controller named like the default ones.
    let made_up = default_policy_findings(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:controller:backdoor'}\nrules:\n- {apiGroups: [''], resources: [secrets], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: 'system:controller:backdoor'}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:controller:backdoor'}\nsubjects:\n- {kind: ServiceAccount, name: backdoor, namespace: kube-system}\n",
    );
    assert!(
        made_up
            .iter()
            .any(|f| f.starts_with("RBAC002") && f.contains("kube-system/backdoor")),
        "{made_up:#?}"
    );
}

#[test]
fn an_escalation_finding_carries_its_chain_as_evidence() {
    let path = "tests/fixtures/RBAC017/fail.yaml";
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = load_text(path, &text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("RBAC017").unwrap()]);
    assert!(!out.findings.is_empty());
    for finding in &out.findings {
        let [palisade_core::Evidence::Chain { steps }] = finding.evidence() else {
            panic!("no chain on {}", finding.message);
        };
        assert!(!steps.is_empty());
        // Each step starts where the previous one ended, and the chain ends at cluster-admin.
        for pair in steps.windows(2) {
            assert_eq!(pair[0].to, pair[1].from);
        }
        assert!(steps.iter().all(|s| !s.relation.is_empty()));
        assert!(
            steps.last().unwrap().to.contains("cluster-admin"),
            "{:?}",
            steps.last()
        );
        // The message still tells the same chain in words.
        assert!(finding.message.contains(&steps[0].relation));
    }
}

#[test]
fn validating_webhooks_are_high_and_mutating_ones_critical() {
    let path = "tests/fixtures/RBAC010/fail.yaml";
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = load_text(path, &text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("RBAC010").unwrap()]);
    let severity = |what: &str| {
        out.findings
            .iter()
            .find(|f| f.message.contains(what))
            .map(|f| f.severity)
            .unwrap_or_else(|| panic!("no finding about {what}"))
    };
    assert_eq!(severity("mutating"), palisade_core::Severity::Critical);
    assert_eq!(severity("validating"), palisade_core::Severity::High);
    // Only the mutating case is a step to cluster-admin in the escalation graph.
    let policy = palisade_rbac::Policy::from_inventory(&loaded.inventory);
    let graph = palisade_rbac::graph::build(&policy, &loaded.inventory);
    let reaches = |name: &str| {
        let node =
            palisade_graph::Node::identity(palisade_rbac::Subject::service_account("tools", name));
        graph
            .path(&node, palisade_graph::Goal::ClusterAdmin)
            .is_some()
    };
    assert!(reaches("ci"));
    assert!(!reaches("policy"));
}

#[test]
fn a_capability_is_as_severe_as_what_it_enables() {
    let path = "tests/fixtures/POD007/fail.yaml";
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = load_text(path, &text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("POD007").unwrap()]);
    let severity = |cap: &str| {
        out.findings
            .iter()
            .find(|f| f.message.contains(&format!("adds {cap}:")))
            .map(|f| f.severity)
            .unwrap_or_else(|| panic!("no finding about {cap}"))
    };
    assert_eq!(severity("SYS_ADMIN"), palisade_core::Severity::High);
    assert_eq!(severity("IPC_LOCK"), palisade_core::Severity::Low);
}

/// A PersistentVolume on the node is as severe as the directory it hands out: the node's
/// root and runtime sockets critical, /proc high, an ordinary directory medium.
#[test]
fn a_node_directory_volume_is_as_severe_as_its_path() {
    let path = "tests/fixtures/STO001/fail.yaml";
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = load_text(path, &text, &Limits::default());
    let out = evaluate(&loaded.inventory, &[find_rule("STO001").unwrap()]);
    let severities: Vec<(&str, palisade_core::Severity)> = out
        .findings
        .iter()
        .map(|f| {
            let name = f.object().and_then(|o| o.name.as_deref());
            (name.unwrap_or("?"), f.severity)
        })
        .collect();
    use palisade_core::Severity::{Critical, High, Medium};
    assert_eq!(
        severities,
        [
            ("node-root", Critical),
            ("runtime", Critical),
            ("local-etc", Critical),
            ("node-proc", High),
            ("shared-data", Medium),
        ]
    );
}

/// Objects are judged in chunks on several threads: the output is in inventory order (each
/// object's findings in registry order), every chunk is there once, and a wrong-typed
/// container list is still reported by every rule that reads it, on every object.
#[test]
fn chunked_evaluation_keeps_inventory_order_and_counts() {
    let mut text = String::new();
    for i in 0..1_100 {
        let containers = if i % 97 == 0 {
            "containers: not-a-list".to_string()
        } else {
            format!("containers:\n    - name: c\n      image: app:{i}")
        };
        text.push_str(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{}}}\nspec:\n  {containers}\n---\n",
            i % 7
        ));
    }
    let loaded = load_text("many.yaml", &text, &Limits::default());
    assert_eq!(loaded.inventory.objects.len(), 1_100);
    let rules = all_rules();
    let out = evaluate(&loaded.inventory, rules);
    assert_eq!(out.findings.len(), out.finding_objects.len());
    let registry_order = |id: &str| rules.iter().position(|r| r.meta().id == id).unwrap();
    let keys: Vec<(usize, usize)> = out
        .findings
        .iter()
        .zip(&out.finding_objects)
        .map(|(f, &o)| (o, registry_order(f.rule_id())))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "not in inventory order"
    );
    let judged: HashSet<usize> = out.finding_objects.iter().copied().collect();
    assert_eq!(judged.len(), 1_100, "every object has findings");
    // One object alone gives the findings it has among all the others.
    let alone = load_text(
        "one.yaml",
        text.split("---\n").nth(500).unwrap(),
        &Limits::default(),
    );
    let one = evaluate(&alone.inventory, rules);
    let in_all: Vec<&str> = keys
        .iter()
        .zip(&out.findings)
        .filter(|((o, _), _)| *o == 500)
        .map(|(_, f)| f.rule_id())
        .collect();
    let by_itself: Vec<&str> = one.findings.iter().map(|f| f.rule_id()).collect();
    assert_eq!(in_all, by_itself);
    // The 12 wrong-typed lists are not assessed, by each rule that reads containers.
    let not_assessed = out.coverage.iter().find(|c| c.rule == "POD001").unwrap();
    assert_eq!(not_assessed.not_assessed, 12);
    let objects: Vec<&str> = not_assessed
        .not_assessed_objects
        .iter()
        .map(|n| n.object.name.as_deref().unwrap())
        .collect();
    let expected: Vec<String> = (0..1_100).step_by(97).map(|i| format!("p{i}")).collect();
    assert_eq!(objects, expected);
}

/// The README says how many rules `palisade rules` lists: the registry's count.
#[test]
fn the_readme_counts_the_rules() {
    let count = format!("lists the {} rules", all_rules().len());
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    let squeezed = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squeezed.contains(&count),
        "README.md does not say `{count}`"
    );
}

/// The findings of every rule on `objects`, written as JSON documents, without their lines.
fn findings_of(objects: &[serde_json::Value]) -> Vec<String> {
    let text: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
    let loaded = load_text("objects.json", &text.join("\n---\n"), &Limits::default());
    let out = evaluate_with(&loaded.inventory, all_rules(), &fixture_settings());
    let mut lines: Vec<String> = out
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} | {}",
                f.rule_id(),
                f.subject,
                f.location.path,
                f.message
            )
        })
        .collect();
    lines.extend(out.coverage.iter().map(|c| {
        format!(
            "{} evaluated {} not assessed {}",
            c.rule, c.evaluated, c.not_assessed
        )
    }));
    lines
}

/// No built-in rule reads an object's `status` but where `palisade_inventory::powers`
/// says one is read (a StatefulSet's): every fixture object of another kind, given a `status`
/// that copies the rest of it (its containers, data, annotations, rules, subjects), is found
/// the same. `palisade watch` counts on it: a change of such a status alone starts no scan.
#[test]
fn no_rule_reads_a_status_but_where_it_is_said_to() {
    let catalogue = palisade_k8s::resources::Catalogue::builtin_with_well_known();
    for_every_rule(|id| {
        for name in ["fail.yaml", "pass.yaml"] {
            let path = fixture(id, name);
            let text = std::fs::read_to_string(&path).unwrap();
            let loaded = load_text(&format!("{id}/{name}"), &text, &Limits::default());
            let plain: Vec<serde_json::Value> = loaded
                .inventory
                .objects
                .iter()
                .map(|o| o.value.clone())
                .collect();
            let mirrored: Vec<serde_json::Value> = plain
                .iter()
                .map(|value| {
                    let mut value = value.clone();
                    let (group, kind) = {
                        let api = value["apiVersion"].as_str().unwrap_or_default();
                        let group = palisade_core::object::api_group(api).to_string();
                        (
                            group,
                            value["kind"].as_str().unwrap_or_default().to_string(),
                        )
                    };
                    // Configuration files (an audit Policy, a KubeletConfiguration) have no
                    // status, and are read strictly.
                    let served =
                        catalogue.by_kind(&group, &kind).is_some() || !group.ends_with("k8s.io");
                    if let Some(map) = value.as_object_mut()
                        && served
                        && !palisade_inventory::powers::status_is_read(&group, &kind)
                    {
                        let mut copy = map.clone();
                        copy.remove("status");
                        map.insert("status".into(), serde_json::Value::Object(copy));
                    }
                    value
                })
                .collect();
            assert_eq!(
                findings_of(&plain),
                findings_of(&mirrored),
                "{id}/{name}: a status changed the findings"
            );
        }
    });
}
