//! `palisade net`: the real binary on small manifest sets (tests/net/old and tests/net/new: a
//! default-deny namespace where only the API reaches the database, and a change that lets the
//! web tier reach it too, next to a Calico policy Palisade does not evaluate).

mod common;

use common::{bin, json, json_exiting, scratch, workspace, write_file};
use serde_json::Value;

const OLD: &str = "crates/palisade/tests/net/old";
const NEW: &str = "crates/palisade/tests/net/new";

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_matrix_lists_only_what_the_policies_allow_in_every_format() {
    let out = bin()
        .args(["net", "matrix", OLD, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let connections = report["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{report:#}");
    assert_eq!(connections[0]["src"], "shop/api[Deployment]");
    assert_eq!(connections[0]["dst"], "shop/db[StatefulSet]");
    assert_eq!(connections[0]["conn"], "TCP 5432");

    let csv = stdout(
        &bin()
            .args(["net", "matrix", OLD, "-o", "csv"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        csv,
        "src,dst,conn,not_evaluated\nshop/api[Deployment],shop/db[StatefulSet],TCP 5432,\n"
    );
    let dot = stdout(
        &bin()
            .args(["net", "matrix", OLD, "-o", "dot"])
            .output()
            .unwrap(),
    );
    assert!(dot.starts_with("digraph connectivity {"), "{dot}");
    assert!(
        dot.contains("\"shop/api[Deployment]\" -> \"shop/db[StatefulSet]\" [label=\"TCP 5432\"]"),
        "{dot}"
    );
    let table = stdout(&bin().args(["net", "matrix", OLD]).output().unwrap());
    assert!(
        table.contains("shop/api[Deployment]") && table.contains("TCP 5432"),
        "{table}"
    );
}

#[test]
fn a_namespace_filter_must_name_a_namespace_of_the_input() {
    let out = bin()
        .args(["net", "matrix", OLD, "-n", "shopp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no namespace `shopp`") && err.contains("shop"),
        "{err}"
    );
}

#[test]
fn why_names_the_policies_that_isolate_and_the_rule_that_allows() {
    let out = bin()
        .args([
            "net", "why", "shop/web", "shop/db", "-p", "5432/TCP", OLD, "-o", "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = json(&out);
    assert_eq!(answer["verdict"], "denied");
    assert_eq!(answer["final"], true);
    let policies: Vec<&str> = answer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["policy"].as_str())
        .collect();
    assert!(
        policies.contains(&"NetworkPolicy shop/default-deny"),
        "{answer:#}"
    );
    assert!(
        policies.contains(&"NetworkPolicy shop/db-from-api"),
        "{answer:#}"
    );

    // A named port resolves on the destination; the allowing rule is named.
    let out = bin()
        .args([
            "net", "why", "shop/api", "shop/db", "-p", "pg", OLD, "-o", "json",
        ])
        .output()
        .unwrap();
    let answer = json(&out);
    assert_eq!(answer["verdict"], "allowed", "{answer:#}");
    let allow: Vec<(&str, &str)> = answer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["effect"] == "allow")
        .map(|s| (s["policy"].as_str().unwrap(), s["rule"].as_str().unwrap()))
        .collect();
    assert!(
        allow.contains(&("NetworkPolicy shop/db-from-api", "ingress[0]")),
        "{answer:#}"
    );
    assert!(
        allow.contains(&("NetworkPolicy shop/api-egress", "egress[0]")),
        "{answer:#}"
    );
}

#[test]
fn the_api_server_is_certain_only_where_every_address_is_allowed() {
    // Without any egress policy every address is open: the API server is reachable.
    let open = json(
        &bin()
            .args([
                "net",
                "why",
                "web/web",
                "api-server",
                "examples/",
                "-o",
                "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(open["verdict"], "allowed", "{open:#}");
    assert_eq!(open["final"], true, "{open:#}");
    // Egress to one range only: the API server may or may not be in it.
    let dir = scratch("net-api-server");
    std::fs::write(
        dir.join("egress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: out, namespace: web}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 443}]}]\n",
    )
    .unwrap();
    let out = bin()
        .args(["net", "why", "web/web", "api-server", "examples/"])
        .arg(dir.join("egress.yaml"))
        .args(["-o", "json"])
        .output()
        .unwrap();
    let partial = json(&out);
    assert_eq!(partial["final"], false, "{partial:#}");
    assert_eq!(partial["allowed"], "TCP 443", "{partial:#}");
}

#[test]
fn why_refuses_unknown_workloads_and_ports_instead_of_answering_nothing() {
    for (args, expected) in [
        (vec!["shop/nope", "shop/db"], "no workload `shop/nope`"),
        (
            vec!["shop/api", "shop/db", "-p", "http"],
            "declares no TCP port named `http`",
        ),
        (
            vec!["shop/api", "shop/db", "-p", "80/ICMP"],
            "TCP, UDP or SCTP",
        ),
        (vec!["10.0.0.1", "8.8.8.8"], "one end must be a workload"),
        (vec!["api-server", "shop/db"], "only destinations"),
    ] {
        let out = bin()
            .args(["net", "why"])
            .args(&args)
            .arg(OLD)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn why_is_not_final_where_a_policy_was_not_evaluated() {
    let out = bin()
        .args(["net", "why", "shop/web", "shop/api", NEW, "-o", "json"])
        .output()
        .unwrap();
    let answer = json(&out);
    assert_eq!(answer["final"], false, "{answer:#}");
    assert!(
        answer["not_evaluated"][0]
            .as_str()
            .unwrap()
            .contains("NetworkPolicy.crd.projectcalico.org shop/calico-extra"),
        "{answer:#}"
    );
    let text = stdout(
        &bin()
            .args(["net", "why", "shop/web", "shop/api", NEW])
            .output()
            .unwrap(),
    );
    assert!(text.contains("(not final: see below)"), "{text}");
}

#[test]
fn diff_shows_the_connectivity_a_change_gains() {
    let out = bin()
        .args(["net", "diff", OLD, NEW, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = json(&out);
    let changes = answer["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{answer:#}");
    assert_eq!(changes[0]["kind"], "added");
    assert_eq!(changes[0]["src"], "shop/web[Deployment]");
    assert_eq!(changes[0]["dst"], "shop/db[StatefulSet]");
    assert_eq!(changes[0]["gained"], "All Connections");
    assert!(answer["not_evaluated"].as_array().unwrap().len() == 1);
    let same = json(
        &bin()
            .args(["net", "diff", OLD, OLD, "-o", "json"])
            .output()
            .unwrap(),
    );
    assert!(same["changes"].as_array().unwrap().is_empty());
}

#[test]
fn generated_policies_are_valid_stable_and_their_effect_is_shown() {
    let dir = scratch("net-generate");
    let out = bin()
        .args(["net", "generate", "examples/shop"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = stdout(&out);
    assert!(
        yaml.starts_with("# Generated by `palisade net generate`"),
        "{yaml}"
    );
    assert!(yaml.contains("name: palisade-default-deny"), "{yaml}");
    assert!(yaml.contains("name: palisade-allow-dns"), "{yaml}");
    assert!(
        yaml.contains("removed shop/api[Deployment] => shop/db[StatefulSet]"),
        "{yaml}"
    );
    // Regenerating with the output applied changes nothing.
    std::fs::write(dir.join("generated.yaml"), &yaml).unwrap();
    let again = bin()
        .args(["net", "generate", "examples/shop"])
        .arg(dir.join("generated.yaml"))
        .args(["-o", "json"])
        .output()
        .unwrap();
    // With the policies applied, DNS still resolves and the API server is cut off.
    let matrix = json(
        &bin()
            .args(["net", "matrix", "examples/shop", "-n", "shop", "-o", "json"])
            .arg(dir.join("generated.yaml"))
            .output()
            .unwrap(),
    );
    let to = |dst: &str| -> Vec<String> {
        matrix["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["dst"] == dst)
            .map(|c| {
                format!(
                    "{} {}",
                    c["src"].as_str().unwrap(),
                    c["conn"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert!(
        to("{cluster-dns}").contains(&"shop/api[Deployment] TCP 53,UDP 53".to_string()),
        "{matrix:#}"
    );
    assert!(to("{api-server}").is_empty(), "{matrix:#}");
    let first = json(
        &bin()
            .args(["net", "generate", "examples/shop", "-o", "json"])
            .output()
            .unwrap(),
    );
    let second = json(&again);
    assert_eq!(first["policies"], second["policies"]);
    assert!(
        second["changes"].as_array().unwrap().is_empty(),
        "{second:#}"
    );
    // The generated policies are what Palisade's own scan asks for.
    let scan = bin()
        .args(["scan", "examples/shop"])
        .arg(dir.join("generated.yaml"))
        .args(["-o", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json(&scan);
    let net004: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NET004" && f["object"]["namespace"] == "shop")
        .collect();
    assert!(net004.is_empty(), "{net004:#?}");
}

#[test]
fn observed_flows_become_allow_rules_and_bad_lines_are_named() {
    let dir = scratch("net-flows");
    let flows = dir.join("flows.csv");
    std::fs::write(&flows, "src,dst,port\nshop/web,shop/api,9090/TCP\n").unwrap();
    let out = bin()
        .args(["net", "generate", OLD, "--flows"])
        .arg(&flows)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = json(&out);
    let gained: Vec<(String, String, String)> = answer["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["gained"] != "No Connections")
        .map(|c| {
            (
                c["src"].to_string(),
                c["dst"].to_string(),
                c["gained"].to_string(),
            )
        })
        .collect();
    assert!(
        gained.contains(&(
            "\"shop/web[Deployment]\"".into(),
            "\"shop/api[Deployment]\"".into(),
            "\"TCP 9090\"".into()
        )),
        "{gained:#?}"
    );
    std::fs::write(&flows, "shop/web,shop/nope,80\n").unwrap();
    let out = bin()
        .args(["net", "generate", OLD, "--flows"])
        .arg(&flows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("flows.csv: line 1: no workload `shop/nope`"),
        "{err}"
    );
}

#[test]
fn nothing_to_analyse_is_an_error_not_an_empty_matrix() {
    let dir = scratch("net-empty");
    let out = bin().args(["net", "matrix"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to analyse"));
}

#[test]
fn cilium_policies_are_evaluated_at_l3_and_l4_with_denies_first() {
    let out = bin()
        .args([
            "net",
            "matrix",
            "crates/palisade/tests/net/cilium",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let matrix = json(&out);
    let conn = |src: &str, dst: &str| -> Option<(String, bool)> {
        matrix["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["src"] == src && c["dst"] == dst)
            .map(|c| {
                (
                    c["conn"].as_str().unwrap().to_string(),
                    c.get("not_evaluated").is_some(),
                )
            })
    };
    // Ports without a protocol are every protocol; the clusterwide policy locks ops' egress.
    assert_eq!(
        conn("ops/tool[Deployment]", "shop/api[Deployment]"),
        Some(("SCTP 9090,TCP 9090,UDP 9090".into(), false))
    );
    assert_eq!(conn("ops/tool[Deployment]", "{api-server}"), None);
    // L7 rules: allowed at L4, not final.
    assert_eq!(
        conn("shop/web[Deployment]", "shop/api[Deployment]"),
        Some(("TCP 9090".into(), true))
    );
    // ingressDeny of the world entity wins over nothing else allowing it anyway.
    assert_eq!(conn("0.0.0.0/0[External]", "shop/api[Deployment]"), None);
    assert_eq!(
        conn("0.0.0.0/0[External]", "shop/web[Deployment]"),
        Some(("All Connections".into(), false))
    );
    let why = json(
        &bin()
            .args([
                "net",
                "why",
                "1.2.3.4",
                "shop/api",
                "crates/palisade/tests/net/cilium",
                "-o",
                "json",
            ])
            .output()
            .unwrap(),
    );
    assert!(
        why["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["effect"] == "deny"
                && s["policy"] == "CiliumNetworkPolicy shop/api-from-web"
                && s["rule"] == "ingressDeny[0]"),
        "{why:#}"
    );
}

#[test]
fn calico_policies_are_ordered_with_network_policies_and_the_first_match_decides() {
    let dir = "crates/palisade/tests/net/calico";
    let why = json(
        &bin()
            .args(["net", "why", "shop/web", "shop/db", dir, "-o", "json"])
            .output()
            .unwrap(),
    );
    // Calico's order 100 comes before the Kubernetes policy's 1000: TCP only to PostgreSQL.
    assert_eq!(
        why["allowed"], "SCTP 1-65535,TCP 5432,UDP 1-65535",
        "{why:#}"
    );
    let steps: Vec<(String, String)> = why["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["policy"].as_str().unwrap_or("").to_string(),
                s["effect"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        steps.contains(&(
            "NetworkPolicy.projectcalico.org shop/db-guard".into(),
            "deny".into()
        )),
        "{why:#}"
    );
    assert!(
        steps.contains(&(
            "GlobalNetworkPolicy.projectcalico.org egress-443".into(),
            "pass".into()
        )),
        "{why:#}"
    );
    // The global policy lets nothing out but 443.
    let out = json(
        &bin()
            .args([
                "net", "why", "shop/web", "8.8.8.8", "-p", "53/UDP", dir, "-o", "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(out["verdict"], "denied", "{out:#}");
    assert_eq!(out["allowed"], "TCP 443", "{out:#}");
}

/// 1,050 workloads without a policy: 1,101,450 pairs and more, past what is held. The matrix
/// is written as it is computed (memory stays flat), a table is refused with advice.
#[test]
fn a_matrix_too_large_to_hold_is_streamed_and_a_table_refused() {
    let dir = scratch("net-large");
    let mut yaml = String::new();
    for i in 0..1050 {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: big}}\nspec: {{containers: [{{name: c, image: r/c:1}}]}}\n"
        ));
    }
    std::fs::write(dir.join("pods.yaml"), yaml).unwrap();
    let out = bin()
        .args(["net", "matrix", "-o", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("written as they are computed"));
    let doc = json(&out);
    let connections = doc["connections"].as_array().unwrap();
    // Every ordered pair, each pod to and from the internet (IPv4 and IPv6), the API server
    // and cluster DNS.
    assert_eq!(connections.len(), 1050 * 1049 + 1050 * 6);
    assert_eq!(doc["workloads"], 1050);
    let table = bin().args(["net", "matrix"]).arg(&dir).output().unwrap();
    assert_eq!(table.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&table.stderr).contains("too many for a table"));
}

/// What the input does not give (the ingress controller's namespace and labels, a namespace's
/// labels when its Namespace object is not read) is never taken as a final "denied": the
/// answer says what it was evaluated without, and is final once the user gives it.
#[test]
fn answers_that_depend_on_what_the_input_does_not_give_are_not_final() {
    const UNPLACED: &str = "crates/palisade/tests/net/unplaced";
    let why = |args: &[&str]| {
        let out = bin()
            .args(["net", "why"])
            .args(args)
            .args([UNPLACED, "-o", "json"])
            .output()
            .unwrap();
        json_exiting(&out, 0)
    };
    let unknown = why(&["ingress-controller", "shop/web"]);
    assert_eq!(unknown["verdict"], "denied", "{unknown:#}");
    assert_eq!(unknown["final"], false, "{unknown:#}");
    assert!(
        unknown["not_evaluated"][0]
            .as_str()
            .unwrap()
            .contains("NetworkPolicy shop/web-in ingress[0] may admit the ingress controller"),
        "{unknown:#}"
    );
    for (namespace, verdict, allowed) in [
        ("ingress-nginx", "allowed", "TCP 8080"),
        ("traefik", "denied", "No Connections"),
    ] {
        let placed = why(&[
            "ingress-controller",
            "shop/web",
            "--ingress-namespace",
            namespace,
            "--ingress-label",
            "app.kubernetes.io/name=ingress-nginx",
        ]);
        assert_eq!(placed["verdict"], verdict, "{placed:#}");
        assert_eq!(placed["final"], true, "{placed:#}");
        assert_eq!(placed["allowed"], allowed, "{placed:#}");
    }

    let web_to_db = why(&["shop/web", "data/db"]);
    assert_eq!(web_to_db["final"], false, "{web_to_db:#}");
    assert!(
        web_to_db["not_evaluated"][0]
            .as_str()
            .unwrap()
            .contains("no Namespace object `shop` was read"),
        "{web_to_db:#}"
    );
    // The matrix lists the pair, with no connection and the note.
    let out = bin().args(["net", "matrix", UNPLACED]).output().unwrap();
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("2 namespaces (data, shop) have no Namespace object in the input")
            && note.contains("kubectl get namespaces -o yaml"),
        "{note}"
    );
    let matrix = stdout(&out);
    let row = matrix
        .lines()
        .find(|l| l.starts_with("shop/web[Deployment]") && l.contains("data/db"))
        .unwrap_or_else(|| panic!("{matrix}"));
    assert!(
        row.contains("No Connections") && row.contains("not evaluated:"),
        "{row}"
    );

    // The scan's rule on data stores neither reports nor passes what may or may not reach one.
    let scan = bin()
        .args(["scan", UNPLACED, "--rules", "NET013", "-o", "json"])
        .output()
        .unwrap();
    let report = json(&scan);
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
    let coverage = &report["coverage"][0];
    assert_eq!(coverage["not_assessed"], 1, "{report:#}");
    assert!(
        coverage["not_assessed_objects"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("whether user-facing shop/web[Deployment] can reach this data store"),
        "{report:#}"
    );

    let bad = bin()
        .args(["net", "matrix", UNPLACED, "--ingress-label", "app"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`app` is not KEY=VALUE"));
}

/// Gateway API routes are ways in from outside, as Ingresses are: the net engine opens their
/// backends to the ingress controller and the escalation graph starts a chain from the
/// internet at a route of a public Gateway (not an internal one, not a mesh route). A policy
/// that admits the gateway's proxies by a namespace the input does not place keeps the chain,
/// marked not final, until `--ingress-namespace` or palisade.toml's `[network]` says.
#[test]
fn gateway_routes_expose_their_backends_and_an_unplaced_controller_keeps_the_chain() {
    const GATEWAY: &str = "crates/palisade/tests/net/gateway";
    let internet_paths = |extra: &[&str]| -> Vec<String> {
        let out = bin()
            .args(["rbac", "paths", GATEWAY, "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        let paths = json_exiting(&out, 1);
        paths
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["from"]["node"] == "internet")
            .map(|p| {
                let first = &p["steps"][0];
                format!(
                    "{}: {}",
                    first["to"]["name"],
                    first["evidence"].as_str().unwrap()
                )
            })
            .collect()
    };
    let unplaced = internet_paths(&[]);
    assert_eq!(unplaced.len(), 1, "{unplaced:#?}");
    assert!(
        unplaced[0].starts_with(
            "\"web\": HTTPRoute shop/web (Gateway infra/public) routes to Service web; its policies may keep everything out, but that is not final (NetworkPolicy shop/web-in ingress[0] may admit the ingress controller"
        ),
        "{unplaced:#?}"
    );
    assert_eq!(
        internet_paths(&["--ingress-namespace", "infra"]),
        [
            "\"web\": HTTPRoute shop/web (Gateway infra/public) routes to Service web; its policies let in TCP 8080"
        ]
    );
    assert!(internet_paths(&["--ingress-namespace", "elsewhere"]).is_empty());

    // palisade.toml's [network] places it for a scan (RBAC017's chain) and for net.
    let dir = scratch("gateway-network-config");
    let app = std::fs::read_to_string(workspace().join(GATEWAY).join("app.yaml")).unwrap();
    write_file(&dir, "app.yaml", &app);
    write_file(
        &dir,
        "palisade.toml",
        "[network]\ningress-namespace = \"infra\"\n",
    );
    let out = bin()
        .current_dir(&dir)
        .args(["scan", "app.yaml", "--rules", "RBAC017", "-o", "json"])
        .output()
        .unwrap();
    let report = json_exiting(&out, 1);
    let exposed: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.starts_with("exposed to the internet"))
        .collect();
    assert_eq!(exposed.len(), 1, "{exposed:#?}");
    assert!(
        exposed[0].contains("HTTPRoute shop/web (Gateway infra/public) routes to Service web; its policies let in TCP 8080"),
        "{exposed:#?}"
    );
    let why = |workload: &str| {
        let out = bin()
            .current_dir(&dir)
            .args(["net", "why", "ingress-controller", workload])
            .args(["app.yaml", "-o", "json"])
            .output()
            .unwrap();
        json_exiting(&out, 0)
    };
    let web = why("shop/web");
    assert_eq!(web["verdict"], "allowed", "{web:#}");
    assert_eq!(web["final"], true, "{web:#}");
    // The internal Gateway's backend gets the proxies' traffic, but not the internet's.
    assert_eq!(why("shop/admin")["verdict"], "allowed");
}

/// A network hop from an exposed workload that the input denies only on what it does not
/// give (the labels of a namespace without its Namespace object) stays in the chain, marked
/// not final; the Namespace object settles it either way.
#[test]
fn a_hop_denied_only_on_labels_the_input_does_not_give_keeps_the_chain() {
    let app = std::fs::read_to_string(
        workspace().join("crates/palisade/tests/net/unplaced/app.yaml"),
    )
    .unwrap()
    .replace(
        "metadata: {labels: {app: db, tier: database}}\n    spec:\n",
        "metadata: {labels: {app: db, tier: database}}\n    spec:\n      serviceAccountName: db\n",
    );
    assert!(app.contains("serviceAccountName: db"));
    let admin = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: db, namespace: data}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: db-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: db, namespace: data}]\n";
    let hop = |namespace: &str| -> Option<String> {
        let dir = scratch("hop-not-final");
        write_file(&dir, "app.yaml", &format!("{app}{admin}{namespace}"));
        let out = bin()
            .current_dir(&dir)
            .args(["rbac", "paths", "app.yaml", "-o", "json"])
            .args(["--ingress-namespace", "ingress-nginx"])
            .args(["--ingress-label", "app.kubernetes.io/name=ingress-nginx"])
            .output()
            .unwrap();
        let paths = json_exiting(&out, 1);
        let from_internet = paths
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["from"]["node"] == "internet")?;
        assert_eq!(
            from_internet["steps"][1]["to"]["name"], "db",
            "{from_internet:#}"
        );
        Some(
            from_internet["steps"][1]["evidence"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let unknown = hop("").expect("the chain through the hop stays");
    assert!(
        unknown.starts_with("may connect to data/db unless its policies keep it out, which is not final (NetworkPolicy data/db-in ingress[0] reads namespace labels, and no Namespace object `shop` was read"),
        "{unknown}"
    );
    let namespace = |team: &str| {
        format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {{team: {team}}}}}\n"
        )
    };
    assert_eq!(
        hop(&namespace("shop")).as_deref(),
        Some("may connect to data/db on TCP 5432 (its ingress policies allow it)")
    );
    assert_eq!(hop(&namespace("other")), None);
}

/// `net generate` admits the ingress controller from `ingress-nginx` when nobody says where it
/// runs, and says so on stderr where a way in needs it; for Gateway API routes, where their
/// proxies run. Given a namespace, it writes that one and says nothing.
#[test]
fn generate_says_when_it_guesses_where_the_ingress_controller_runs() {
    const GATEWAY: &str = "crates/palisade/tests/net/gateway";
    let generated = |extra: &[&str]| {
        let out = bin()
            .args(["net", "generate", GATEWAY])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            stdout(&out),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (yaml, stderr) = generated(&[]);
    assert!(
        stderr.contains(
            "the policies admit the ingress controller from namespace ingress-nginx, a guess"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("in their Gateway's namespace"), "{stderr}");
    assert!(
        yaml.contains("kubernetes.io/metadata.name: ingress-nginx"),
        "{yaml}"
    );
    let (yaml, stderr) = generated(&["--ingress-namespace", "infra"]);
    assert!(!stderr.contains("a guess"), "{stderr}");
    assert!(
        yaml.contains("kubernetes.io/metadata.name: infra"),
        "{yaml}"
    );
    assert!(!yaml.contains("ingress-nginx"), "{yaml}");
    // No way in from outside: nothing to guess.
    let out = bin()
        .args(["net", "generate", "examples/shop"])
        .output()
        .unwrap();
    let quiet = String::from_utf8_lossy(&out.stderr);
    assert!(!quiet.contains("a guess"), "{quiet}");
}

/// `net exposure` lists every way in: Services exposed by their type, Ingresses and Gateway
/// API routes, each with why it is reachable from outside or stays inside (an internal load
/// balancer's annotation, a Gateway its GatewayClass's ContourDeployment or its own Istio
/// ConfigMap keeps inside), the
/// workloads behind it and what their policies let in from outside, final or not.
#[test]
fn exposure_lists_every_way_in_with_why() {
    const APP: &str = "crates/palisade/tests/net/exposure";
    let ways = |extra: &[&str]| -> Vec<Value> {
        let out = bin()
            .args(["net", "exposure", APP, "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        json_exiting(&out, 0)["ways_in"].as_array().unwrap().clone()
    };
    let placed = ways(&["--ingress-namespace", "ingress-nginx"]);
    let row = |ways: &[Value], via: &str| -> Value {
        ways.iter()
            .find(|w| w["via"].as_str().unwrap().starts_with(via))
            .unwrap_or_else(|| panic!("{via}: {ways:#?}"))
            .clone()
    };
    let public = row(&placed, "Service shop/public (LoadBalancer)");
    assert_eq!(public["outside"], true);
    assert_eq!(public["reach"], "from a public load balancer");
    assert_eq!(public["behind"][0]["workload"], "Deployment shop/public");
    assert_eq!(public["behind"][0]["lets_in"], "All Connections");
    let private = row(&placed, "Service shop/private");
    assert_eq!(private["outside"], false);
    assert_eq!(
        private["reach"],
        "inside only: an internal load balancer (service.beta.kubernetes.io/aws-load-balancer-scheme: internal)"
    );
    assert!(private["behind"][0].get("lets_in").is_none(), "{private:#}");
    assert_eq!(
        row(&placed, "Service shop/debug (NodePort)")["reach"],
        "from every node's address"
    );
    let web = row(&placed, "Ingress shop/web → Service shop/web");
    assert_eq!(web["behind"][0]["lets_in"], "TCP 8080");
    assert_eq!(web["behind"][0]["final"], true);
    let reports = row(
        &placed,
        "HTTPRoute shop/reports (Gateway projectcontour/local)",
    );
    assert_eq!(reports["outside"], false);
    assert_eq!(
        reports["reach"],
        "inside only: Gateway projectcontour/local is internal: ContourDeployment projectcontour/internal, its GatewayClass contour-internal's parameters, gives it a Service inside the cluster"
    );
    // An Ingress whose AWS load balancer is internal opens the same Service to the private
    // network only.
    let intranet = row(&placed, "Ingress shop/intranet → Service shop/web");
    assert_eq!(intranet["outside"], false);
    assert_eq!(
        intranet["reach"],
        "inside only: from the private network (annotation alb.ingress.kubernetes.io/scheme: internal)"
    );
    // Istio's ConfigMap, which the Gateway names, patches its Service to a ClusterIP one.
    let ledger = row(
        &placed,
        "HTTPRoute mesh/ledger (Gateway mesh/mesh-internal)",
    );
    assert_eq!(ledger["outside"], false);
    assert_eq!(
        ledger["reach"],
        "inside only: Gateway mesh/mesh-internal is internal: ConfigMap mesh/gw-options, its own parameters, gives it a Service inside the cluster"
    );
    // Where the controller runs is unknown: the Ingress's answer is not final.
    let unplaced = ways(&[]);
    let web = row(&unplaced, "Ingress shop/web");
    assert_eq!(web["behind"][0]["final"], false, "{web:#}");
    assert!(
        web["behind"][0]["notes"]
            .as_str()
            .unwrap()
            .contains("may admit the ingress controller"),
        "{web:#}"
    );
    // -n keeps one namespace's; an unknown one is an error.
    assert_eq!(ways(&["-n", "shop"]).len(), 6);
    let out = bin()
        .args(["net", "exposure", APP, "-n", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// An entry of ingress-nginx's TCP services is a way in from outside: `net exposure` lists it,
/// `rbac paths` starts a chain from the internet at it, and NET003 reports the database port.
#[test]
fn ingress_nginx_tcp_services_are_ways_in() {
    const APP: &str = "crates/palisade/tests/net/stream-services";
    let out = bin()
        .args(["net", "exposure", APP, "-o", "json"])
        .output()
        .unwrap();
    let ways = json_exiting(&out, 0)["ways_in"].clone();
    assert_eq!(ways.as_array().unwrap().len(), 1, "{ways:#}");
    assert_eq!(
        ways[0]["via"],
        "ingress-nginx TCP port 5432 (ConfigMap ingress-nginx/tcp-services) → Service data/postgres"
    );
    assert_eq!(ways[0]["outside"], true);
    assert_eq!(
        ways[0]["behind"][0]["workload"],
        "StatefulSet data/postgres"
    );
    let out = bin().args(["rbac", "paths", APP]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "the internet\n  → StatefulSet data/postgres\n      because ingress-nginx TCP port 5432"
        ),
        "{text}"
    );
    let out = bin().args(["scan", APP, "-o", "json"]).output().unwrap();
    let report = json(&out);
    let net003: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NET003")
        .collect();
    assert_eq!(net003.len(), 1, "{net003:#?}");
    assert_eq!(net003[0]["object"]["name"], "postgres");
}

/// Where the ingress controller's namespace is generated too, its default deny keeps the
/// controller's egress to what it publishes (here PostgreSQL, through its TCP services), and
/// generating again with the output applied changes nothing.
#[test]
fn generate_keeps_the_ingress_controller_reaching_its_backends() {
    const APP: &str = "crates/palisade/tests/net/stream-services";
    let dir = scratch("net-generate-controller");
    let out = bin().args(["net", "generate", APP]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        yaml.contains("name: palisade-allow-ingress-controller\n  namespace: ingress-nginx"),
        "{yaml}"
    );
    assert!(
        yaml.contains(
            "changed ingress-nginx/ingress-nginx-controller[Deployment] => data/postgres[StatefulSet]: All Connections -> TCP 5432"
        ),
        "{yaml}"
    );
    std::fs::write(dir.join("generated.yaml"), &yaml).unwrap();
    let again = json(
        &bin()
            .args(["net", "generate", APP])
            .arg(dir.join("generated.yaml"))
            .args(["-o", "json"])
            .output()
            .unwrap(),
    );
    assert!(again["changes"].as_array().unwrap().is_empty(), "{again:#}");
}

/// An operator whose account is granted something calls the API server: without its address
/// the default deny cuts it off, and a note names it; with `--api-server`, its policy allows
/// egress there on 443 and 6443 (a workload the input grants nothing gets none), so the matrix
/// with the policies applied shows it. A flow to a range that is no single CIDR is written as
/// the CIDR blocks that cover it, each a valid `ipBlock`.
#[test]
fn generate_keeps_the_api_server_for_the_workloads_that_call_it() {
    let dir = scratch("net-generate-api-server");
    write_file(
        &dir,
        "app.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: ops}
spec:
  selector: {matchLabels: {app: operator}}
  template:
    metadata: {labels: {app: operator}}
    spec:
      serviceAccountName: operator
      containers: [{name: c, image: r/op:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ops}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: r/web:1}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: leases, namespace: ops}
rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, update]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: operator, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leases}
subjects: [{kind: ServiceAccount, name: operator, namespace: ops}]
",
    );
    write_file(&dir, "flows.csv", "ops/web,10.0.0.1-10.0.0.6,443\n");
    let generate = |extra: &[&str]| {
        bin()
            .current_dir(&dir)
            .args(["net", "generate", "app.yaml", "--flows", "flows.csv"])
            .args(extra)
            .output()
            .unwrap()
    };
    let without = generate(&[]);
    assert_eq!(without.status.code(), Some(0));
    let note = String::from_utf8_lossy(&without.stderr);
    assert!(
        note.contains("cuts off from the API server the workloads that call it (a binding grants their account something and they mount its token): ops/operator[Deployment]; give --api-server"),
        "{note}"
    );
    assert!(!stdout(&without).contains("6443"));

    let with = generate(&["--api-server", "192.168.49.2"]);
    assert_eq!(with.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&with.stderr).contains("API server"));
    std::fs::write(dir.join("generated.yaml"), stdout(&with)).unwrap();
    let answer = json(&generate(&["--api-server", "192.168.49.2", "-o", "json"]));
    let egress_of = |name: &str| -> Value {
        answer["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["metadata"]["name"] == name)
            .map(|p| p["spec"]["egress"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        egress_of("palisade-allow-operator"),
        serde_json::json!([{
            "to": [{"ipBlock": {"cidr": "192.168.49.2/32"}}],
            "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}],
        }])
    );
    assert_eq!(
        egress_of("palisade-allow-web"),
        serde_json::json!([{
            "to": [
                {"ipBlock": {"cidr": "10.0.0.1/32"}},
                {"ipBlock": {"cidr": "10.0.0.2/31"}},
                {"ipBlock": {"cidr": "10.0.0.4/31"}},
                {"ipBlock": {"cidr": "10.0.0.6/32"}},
            ],
            "ports": [{"port": 443, "protocol": "TCP"}],
        }])
    );
    // Applied, the policies let the operator, and it alone, reach the API server's address.
    let why = |src: &str, dst: &str, extra: &[&str]| {
        let out = bin()
            .current_dir(&dir)
            .args(["net", "why", src, dst, "-p", "6443"])
            .args(["app.yaml", "generated.yaml", "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        let answer = json(&out);
        (answer["verdict"].clone(), answer["final"].clone())
    };
    assert_eq!(why("ops/operator", "192.168.49.2", &[]).0, "allowed");
    assert_eq!(why("ops/web", "192.168.49.2", &[]).0, "denied");
    // `api-server` is that address when it is given, a final answer; unknown otherwise.
    let at = ["--api-server", "192.168.49.2"];
    assert_eq!(
        why("ops/operator", "api-server", &at),
        ("allowed".into(), Value::Bool(true))
    );
    assert_eq!(
        why("ops/web", "api-server", &at),
        ("denied".into(), Value::Bool(true))
    );
    assert_eq!(
        why("ops/operator", "api-server", &[]),
        ("allowed".into(), Value::Bool(false))
    );
    // Or where palisade.toml's [network] says it is.
    write_file(
        &dir,
        "net.toml",
        "[network]\napi-server = [\"192.168.49.2\"]\n",
    );
    assert_eq!(
        why("ops/operator", "api-server", &["--config", "net.toml"]),
        ("allowed".into(), Value::Bool(true))
    );
    write_file(
        &dir,
        "bad.toml",
        "[network]\napi-server = [\"192.168.49.300\"]\n",
    );
    let out = bin()
        .current_dir(&dir)
        .args(["net", "why", "ops/operator", "api-server", "app.yaml"])
        .args(["--config", "bad.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml")
            && err.contains("api-server: `192.168.49.300` is not an IP address or CIDR"),
        "{err}"
    );
}

/// From manifests, each pod template of a RayCluster is an endpoint with the labels KubeRay
/// gives its Pods: a policy selecting `ray.io/node-type: head` isolates the head (no NET009
/// "matches no workload"), admits only the cluster's own Pods (`ray.io/cluster`), NET004
/// judges each template on its own, and `net generate` selects each by its written labels.
#[test]
fn a_ray_clusters_templates_are_endpoints_with_kuberays_labels() {
    let dir = scratch("net-ray");
    write_file(
        &dir,
        "ray.yaml",
        "apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: train, namespace: ml}
spec:
  headGroupSpec:
    template:
      metadata: {labels: {app: ray}}
      spec: {containers: [{name: head, image: 'rayproject/ray:2.9', ports: [{containerPort: 6379}]}]}
  workerGroupSpecs:
  - groupName: gpu
    template:
      metadata: {labels: {app: ray}}
      spec: {containers: [{name: worker, image: 'rayproject/ray:2.9'}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ml}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: 'nginx:1.27'}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ray-head, namespace: ml}
spec:
  podSelector: {matchLabels: {ray.io/node-type: head}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {ray.io/cluster: train}}}]
",
    );
    let report = json_exiting(
        &bin()
            .args(["scan", ".", "-o", "json", "--fail-on", "none"])
            .current_dir(&dir)
            .output()
            .unwrap(),
        0,
    );
    let findings: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NET004" || f["rule"] == "NET009")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let net004 = |path: &str| {
        findings
            .iter()
            .find(|(rule, at, _)| rule == "NET004" && at.starts_with(path))
            .map(|(_, _, message)| message.as_str())
    };
    assert!(
        findings.iter().all(|(rule, _, _)| rule != "NET009"),
        "{findings:?}"
    );
    assert!(
        net004("/spec/headGroupSpec/template/metadata").is_some_and(
            |m| m.ends_with("isolates the pods of spec.headGroupSpec.template for egress")
        ),
        "{findings:?}"
    );
    assert!(
        net004("/spec/workerGroupSpecs/0/template/metadata")
            .is_some_and(|m| m.ends_with("for ingress or egress")),
        "{findings:?}"
    );
    let matrix = json(
        &bin()
            .args(["net", "matrix", ".", "-o", "json"])
            .current_dir(&dir)
            .output()
            .unwrap(),
    );
    let pairs: Vec<(&str, &str)> = matrix["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["src"].as_str().unwrap(), c["dst"].as_str().unwrap()))
        .collect();
    let head = "ml/train (spec.headGroupSpec.template)[RayCluster]";
    let worker = "ml/train (spec.workerGroupSpecs.0.template)[RayCluster]";
    assert!(pairs.contains(&(worker, head)), "{pairs:?}");
    assert!(pairs.contains(&("ml/web[Deployment]", worker)), "{pairs:?}");
    assert!(!pairs.contains(&("ml/web[Deployment]", head)), "{pairs:?}");
    // Generated policies name each template's pods by the labels written in it, under a name
    // the API server takes.
    let generated = bin()
        .args(["net", "generate", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let yaml = stdout(&generated);
    assert!(
        yaml.contains("name: palisade-allow-train-spec.headgroupspec.template"),
        "{yaml}"
    );
    assert!(!yaml.contains("ray.io/identifier"), "{yaml}");
}

/// From manifests, a Ray head KubeRay publishes on a public load balancer is a way in from
/// outside in front of the head template, with what its ingress policies let in; a head
/// kept inside the cluster is none.
#[test]
fn a_published_ray_head_is_a_way_in() {
    let file = workspace().join("crates/palisade/tests/rbac/ray-published.yaml");
    let dir = scratch("net-ray-inside");
    let published = std::fs::read_to_string(&file).unwrap();
    let ways = ways_in(&dir, &published);
    assert_eq!(ways.len(), 1, "{ways:?}");
    assert_eq!(
        ways[0]["via"],
        "RayCluster ml/ray: the head service KubeRay makes (spec.headGroupSpec.serviceType)"
    );
    assert_eq!(ways[0]["reach"], "from a public load balancer");
    assert_eq!(
        ways[0]["behind"][0]["workload"],
        "RayCluster ml/ray (spec.headGroupSpec.template)"
    );
    assert_eq!(ways[0]["behind"][0]["lets_in"], "All Connections");
    let inside = published.replace("serviceType: LoadBalancer", "serviceType: ClusterIP");
    let ways = ways_in(&dir, &inside);
    assert!(ways.is_empty(), "{ways:?}");
    // NET021 asks the same network: a head its policies keep everything out of is not
    // reported, one they let some ports into is, saying which.
    let net021 = |policy: &str| -> Vec<String> {
        rule_findings(&dir, &format!("{published}---\n{policy}"), "NET021")
            .into_iter()
            .map(|(_, message)| message)
            .collect()
    };
    let policy = |ingress: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: ml}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress]{ingress}}}\n"
        )
    };
    assert_eq!(net021(&policy("")), Vec::<String>::new());
    let some = net021(&policy(", ingress: [{ports: [{port: 8000}]}]"));
    assert!(
        some.len() == 1 && some[0].ends_with("its NetworkPolicies let in TCP 8000 from outside"),
        "{some:?}"
    );
}

/// From manifests, the head Service KubeRay makes (`<cluster>-head-svc`) is a Service of the
/// network: an Ingress naming it on the dashboard's port is a way in to the head template,
/// NET021 reports it (high) and the attack graph starts its chain there; a route to Serve's
/// port reaches the head but not the Jobs API, so NET021 is silent.
#[test]
fn an_ingress_to_the_head_service_kuberay_makes_reaches_the_head() {
    let dir = scratch("net-ray-ingress");
    let cluster =
        std::fs::read_to_string(workspace().join("crates/palisade/tests/rbac/ray-published.yaml"))
            .unwrap()
            .replace("serviceType: LoadBalancer", "serviceType: ClusterIP");
    let ingress = |port: u16| {
        format!(
            "{cluster}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: dashboard, namespace: ml}}
spec:
  rules:
  - http:
      paths:
      - {{path: /, pathType: Prefix, backend: {{service: {{name: ray-head-svc, port: {{number: {port}}}}}}}}}
"
        )
    };
    let ways = ways_in(&dir, &ingress(8265));
    assert_eq!(ways.len(), 1, "{ways:?}");
    assert_eq!(
        ways[0]["via"],
        "Ingress ml/dashboard → Service ml/ray-head-svc"
    );
    assert_eq!(
        ways[0]["behind"][0]["workload"],
        "RayCluster ml/ray (spec.headGroupSpec.template)"
    );
    let findings = |yaml: &str| rule_findings(&dir, yaml, "NET021,RBAC017");
    let dashboard = findings(&ingress(8265));
    assert!(
        dashboard.iter().any(|(rule, message)| rule == "NET021"
            && message.starts_with(
                "Ingress ml/dashboard routes to ray-head-svc, the head service KubeRay makes"
            )),
        "{dashboard:?}"
    );
    assert!(
        dashboard.iter().any(|(rule, message)| rule == "RBAC017"
            && message.starts_with(
                "exposed to the internet (Ingress ml/dashboard routes to Service ray-head-svc)"
            )),
        "{dashboard:?}"
    );
    let serve = findings(&ingress(8000));
    assert!(serve.iter().all(|(rule, _)| rule != "NET021"), "{serve:?}");
}

/// The findings of `rules` in `yaml`, scanned as `ray.yaml` in `dir`: (rule, message).
fn rule_findings(dir: &std::path::Path, yaml: &str, rules: &str) -> Vec<(String, String)> {
    write_file(dir, "ray.yaml", yaml);
    let report = json_exiting(
        &bin()
            .args(["scan", "ray.yaml", "--rules", rules, "-o", "json"])
            .args(["--fail-on", "none"])
            .current_dir(dir)
            .output()
            .unwrap(),
        0,
    );
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The ways in of `yaml`, written as `app.yaml` in `dir` (`net exposure -o json`).
fn ways_in(dir: &std::path::Path, yaml: &str) -> Vec<Value> {
    write_file(dir, "app.yaml", yaml);
    let ways = json(
        &bin()
            .args(["net", "exposure", "-o", "json", "app.yaml"])
            .current_dir(dir)
            .output()
            .unwrap(),
    );
    ways["ways_in"].as_array().unwrap().clone()
}

/// Whether the way in whose `via` starts with `via` comes from outside, and its `reach`.
fn reach_of(ways: &[Value], via: &str) -> (Value, String) {
    ways.iter()
        .find(|w| w["via"].as_str().unwrap().starts_with(via))
        .map(|w| {
            (
                w["outside"].clone(),
                w["reach"].as_str().unwrap().to_string(),
            )
        })
        .unwrap_or_else(|| panic!("{via}: {ways:#?}"))
}

/// An Ingress written in the removed `extensions/v1beta1` shape (`backend`, `serviceName`,
/// `servicePort`), still found in old manifests, opens its Services as a `networking.k8s.io/v1`
/// one does: it was "0 ways in".
#[test]
fn an_ingress_of_the_old_shape_is_a_way_in() {
    let dir = scratch("net-old-ingress");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080, name: http}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}\n---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old, namespace: shop}\nspec:\n  backend: {serviceName: web, servicePort: 80}\n  rules:\n  - http: {paths: [{path: /, backend: {serviceName: web, servicePort: http}}]}\n";
    let ways = ways_in(&dir, app);
    let vias: Vec<&str> = ways.iter().filter_map(|w| w["via"].as_str()).collect();
    assert_eq!(vias, ["Ingress shop/old → Service shop/web"], "{ways:#?}");
    assert_eq!(ways[0]["outside"], true);
    assert_eq!(ways[0]["behind"][0]["workload"], "Deployment shop/web");
}

/// NET013 names the pod template it judges when the object has several: a LeaderWorkerSet
/// whose leader is a data store.
#[test]
fn a_data_store_template_is_named() {
    let dir = scratch("net-template-store");
    let lws = "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: cache, namespace: data}\nspec:\n  leaderWorkerTemplate:\n    size: 2\n    leaderTemplate:\n      metadata: {labels: {tier: database}}\n      spec: {containers: [{name: leader, image: 'r/db:1', ports: [{containerPort: 5432}]}]}\n    workerTemplate:\n      metadata: {labels: {tier: compute}}\n      spec: {containers: [{name: worker, image: 'r/w:1'}]}\n";
    let found = rule_findings(&dir, lws, "NET013");
    assert_eq!(
        found,
        [(
            "NET013".to_string(),
            "this data store (the pods of spec.leaderWorkerTemplate.leaderTemplate) can be reached from every pod and address (no ingress policy selects it)".to_string()
        )]
    );
}

/// From manifests, the HTTP Service ECK makes for an Elasticsearch (`logs-es-http`, 9200) is
/// a Service of the network in front of its node sets: an Ingress naming it reaches them
/// (it reached "no workload of the input"), and a type `spec.http.service` gives it publishes
/// them. Both are ways in, NET003 findings on the Elasticsearch, and the start of the attack
/// graph's chain to what its account may do.
#[test]
fn the_http_service_eck_makes_is_a_way_in() {
    let dir = scratch("net-eck-http");
    let es = "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nmetadata: {name: logs, namespace: elastic}\nspec:\n  version: 8.15.0\n  http: {service: {spec: {type: LoadBalancer}}}\n  nodeSets:\n  - name: default\n    count: 3\n    podTemplate: {spec: {serviceAccountName: es, containers: [{name: elasticsearch}]}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: search, namespace: elastic}\nspec:\n  rules:\n  - host: search.example.com\n    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: logs-es-http, port: {number: 9200}}}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: es-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: es, namespace: elastic}]\n";
    let ways = ways_in(&dir, es);
    let rows: Vec<(&str, &str)> = ways
        .iter()
        .map(|w| {
            (
                w["via"].as_str().unwrap(),
                w["behind"][0]["workload"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let node_set = "Elasticsearch elastic/logs (spec.nodeSets.0.podTemplate)";
    assert_eq!(
        rows,
        [
            (
                "Ingress elastic/search → Service elastic/logs-es-http",
                node_set
            ),
            (
                "Elasticsearch elastic/logs: the HTTP Service ECK makes, logs-es-http (spec.http.service.spec.type)",
                node_set
            ),
        ],
        "{ways:#?}"
    );
    let found = rule_findings(&dir, es, "NET003,RBAC017");
    let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert!(
        messages.contains(&"Elasticsearch's HTTP API (port 9200) is published on a public load balancer through logs-es-http, the Service ECK makes"),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with(
            "Elasticsearch's HTTP API (port 9200) is published through Ingress elastic/search"
        )),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with(
            "exposed to the internet (Ingress elastic/search routes to Service logs-es-http)"
        )),
        "{messages:#?}"
    );
}

/// The `scheme` of the AWS IngressClassParams an Ingress's class names decides whether its
/// load balancer is internal, over the Ingress's own annotation, as the AWS Load Balancer
/// Controller reads it.
#[test]
fn an_ingress_class_params_scheme_decides_the_reach() {
    let dir = scratch("net-class-params");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: private}\nspec:\n  controller: ingress.k8s.aws/alb\n  parameters: {apiGroup: elbv2.k8s.aws, kind: IngressClassParams, name: private}\n---\napiVersion: elbv2.k8s.aws/v1beta1\nkind: IngressClassParams\nmetadata: {name: private}\nspec: {scheme: internal}\n---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: public}\nspec:\n  controller: ingress.k8s.aws/alb\n  parameters: {apiGroup: elbv2.k8s.aws, kind: IngressClassParams, name: public}\n---\napiVersion: elbv2.k8s.aws/v1beta1\nkind: IngressClassParams\nmetadata: {name: public}\nspec: {scheme: internet-facing}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: intranet, namespace: shop}\nspec:\n  ingressClassName: private\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: site\n  namespace: shop\n  annotations: {alb.ingress.kubernetes.io/scheme: internal}\nspec:\n  ingressClassName: public\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n";
    let ways = ways_in(&dir, app);
    let reach = |via: &str| reach_of(&ways, via);
    assert_eq!(
        reach("Ingress shop/intranet"),
        (
            Value::Bool(false),
            "inside only: from the private network (IngressClassParams private sets scheme: internal)".to_string()
        )
    );
    assert_eq!(reach("Ingress shop/site").0, Value::Bool(true));
}

/// The Ingresses of an AWS IngressGroup share one load balancer, whose scheme the controller
/// reads from whichever of them sets it: an Ingress that says nothing is internal when
/// another of its group says `internal`, and public when the members disagree (the
/// controller refuses such a group). Alone, an Ingress that says nothing stays public.
#[test]
fn an_alb_group_shares_its_scheme() {
    let dir = scratch("net-alb-group");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n";
    let ingress = |name: &str, annotations: &str| {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations: {{{annotations}}}\nspec:\n  ingressClassName: alb\n  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}\n"
        )
    };
    let group = |name: &str| format!("alb.ingress.kubernetes.io/group.name: {name}");
    let scheme = |value: &str| format!("alb.ingress.kubernetes.io/scheme: {value}");
    let yaml = [
        app.to_string(),
        ingress(
            "root",
            &format!("{}, {}", group("office"), scheme("internal")),
        ),
        ingress("reports", &group("office")),
        ingress("alone", ""),
        ingress(
            "split-a",
            &format!("{}, {}", group("split"), scheme("internal")),
        ),
        ingress(
            "split-b",
            &format!("{}, {}", group("split"), scheme("internet-facing")),
        ),
        ingress("split-c", &group("split")),
    ]
    .concat();
    let ways = ways_in(&dir, &yaml);
    let reach = |via: &str| reach_of(&ways, &format!("Ingress shop/{via} "));
    assert_eq!(reach("root").0, Value::Bool(false));
    assert_eq!(
        reach("reports"),
        (
            Value::Bool(false),
            "inside only: from the private network (annotation alb.ingress.kubernetes.io/scheme: internal on Ingress shop/root of its IngressGroup office)".to_string()
        )
    );
    for public in ["alone", "split-a", "split-b", "split-c"] {
        assert_eq!(reach(public).0, Value::Bool(true), "{public}");
    }
}

/// A Gateway of the AWS Load Balancer Controller is internal when the LoadBalancerConfiguration
/// that decides its scheme says so: its own, unless its GatewayClass's also sets one and does
/// not prefer the Gateway's (the controller's default merging mode).
#[test]
fn an_aws_gateway_reads_its_load_balancer_configuration() {
    let dir = scratch("net-aws-gateway");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: aws-alb}\nspec:\n  controllerName: gateway.k8s.aws/alb\n  parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: class-defaults, namespace: kube-system}\n---\napiVersion: gateway.k8s.aws/v1beta1\nkind: LoadBalancerConfiguration\nmetadata: {name: class-defaults, namespace: kube-system}\nspec: {ipAddressType: ipv4}\n---\napiVersion: gateway.k8s.aws/v1beta1\nkind: LoadBalancerConfiguration\nmetadata: {name: private, namespace: shop}\nspec: {scheme: internal}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: intranet, namespace: shop}\nspec:\n  gatewayClassName: aws-alb\n  infrastructure:\n    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: private}\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reports, namespace: shop}\nspec:\n  parentRefs: [{name: intranet}]\n  rules: [{backendRefs: [{name: web, port: 80}]}]\n";
    let reports_of = |yaml: &str| {
        let ways = ways_in(&dir, yaml);
        ways.iter()
            .find(|w| {
                w["via"]
                    .as_str()
                    .unwrap()
                    .starts_with("HTTPRoute shop/reports")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{ways:#?}"))
    };
    let reports = reports_of(app);
    assert_eq!(reports["outside"], false, "{reports:#}");
    assert_eq!(
        reports["reach"],
        "inside only: Gateway shop/intranet is internal: LoadBalancerConfiguration shop/private, its own parameters, gives it an internal load balancer"
    );
    // The class's configuration sets a scheme too, and wins: the Gateway is public.
    let class_sets = app.replace(
        "spec: {ipAddressType: ipv4}",
        "spec: {scheme: internet-facing}",
    );
    let reports = reports_of(&class_sets);
    assert_eq!(reports["outside"], true, "{reports:#}");
}

/// Source ranges decide where a way in comes from: a load balancer (a Service's, an AWS
/// Ingress's security group) that admits only private addresses is reached from inside only;
/// one that admits a public network says which.
#[test]
fn source_ranges_decide_where_a_way_in_comes_from() {
    let dir = scratch("net-source-ranges");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n";
    let service = |name: &str, ranges: &str| {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  type: LoadBalancer\n  loadBalancerSourceRanges: [{ranges}]\n  selector: {{app: web}}\n  ports: [{{port: 443, targetPort: 8080}}]\n"
        )
    };
    let ingress = |name: &str, cidrs: &str| {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations: {{alb.ingress.kubernetes.io/inbound-cidrs: '{cidrs}'}}\nspec:\n  ingressClassName: alb\n  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}\n"
        )
    };
    let yaml = [
        app.to_string(),
        service("vpn", "10.0.0.0/8, fd00::/8"),
        service("office", "10.0.0.0/8, 203.0.113.0/24"),
        ingress("intranet", "192.168.0.0/16"),
        ingress("partners", "198.51.100.0/24"),
    ]
    .concat();
    let ways = ways_in(&dir, &yaml);
    let reach = |via: &str| reach_of(&ways, via);
    assert_eq!(
        reach("Service shop/vpn "),
        (
            Value::Bool(false),
            "inside only: a load balancer that admits only private addresses (spec.loadBalancerSourceRanges: 10.0.0.0/8, fd00::/8)".to_string()
        )
    );
    assert_eq!(
        reach("Service shop/office "),
        (
            Value::Bool(true),
            "from a public load balancer, only from 10.0.0.0/8, 203.0.113.0/24 (spec.loadBalancerSourceRanges)".to_string()
        )
    );
    assert_eq!(
        reach("Ingress shop/intranet "),
        (
            Value::Bool(false),
            "inside only: from the private network (a load balancer security group that admits only private addresses (annotation alb.ingress.kubernetes.io/inbound-cidrs: 192.168.0.0/16))".to_string()
        )
    );
    assert_eq!(
        reach("Ingress shop/partners "),
        (
            Value::Bool(true),
            "from outside, only from 198.51.100.0/24 (annotation alb.ingress.kubernetes.io/inbound-cidrs), through the ingress controller".to_string()
        )
    );
}

/// A Gateway's load balancer admits only private addresses when the parameters of its
/// implementation (NGINX Gateway Fabric's NginxProxy) or its own infrastructure annotations
/// say so: its routes are ways in from inside only. Public ranges keep them outside, named.
#[test]
fn gateway_source_ranges_decide_where_its_routes_come_from() {
    let dir = scratch("net-gateway-source-ranges");
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'r/web:1', ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: nginx}\nspec:\n  controllerName: gateway.nginx.org/nginx-gateway-controller\n";
    let proxy = |name: &str, service: &str| {
        format!(
            "---\napiVersion: gateway.nginx.org/v1alpha2\nkind: NginxProxy\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  kubernetes:\n    service: {service}\n"
        )
    };
    let gateway = |name: &str, infrastructure: &str| {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  gatewayClassName: nginx\n  infrastructure: {infrastructure}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  parentRefs: [{{name: {name}}}]\n  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]\n"
        )
    };
    let params = |name: &str| {
        format!("{{parametersRef: {{group: gateway.nginx.org, kind: NginxProxy, name: {name}}}}}")
    };
    let yaml = [
        app.to_string(),
        proxy("vpn", "{loadBalancerSourceRanges: [10.0.0.0/8]}"),
        proxy(
            "office",
            "{type: LoadBalancer, loadBalancerSourceRanges: [203.0.113.0/24]}",
        ),
        gateway("vpn", &params("vpn")),
        gateway("office", &params("office")),
        gateway(
            "annotated",
            "{annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: '192.168.0.0/16'}}",
        ),
        gateway("open", "{}"),
    ]
    .concat();
    let ways = ways_in(&dir, &yaml);
    let vpn = reach_of(&ways, "HTTPRoute shop/vpn ");
    assert_eq!(vpn.0, Value::Bool(false), "{vpn:?}");
    assert!(
        vpn.1.contains(
            "NginxProxy shop/vpn, its own parameters, gives it a Service that admits only private addresses (loadBalancerSourceRanges: 10.0.0.0/8)"
        ),
        "{vpn:?}"
    );
    let office = reach_of(&ways, "HTTPRoute shop/office ");
    assert_eq!(office.0, Value::Bool(true), "{office:?}");
    assert!(
        office.1.contains(
            "a Service reachable from outside, only from 203.0.113.0/24 (loadBalancerSourceRanges)"
        ),
        "{office:?}"
    );
    let annotated = reach_of(&ways, "HTTPRoute shop/annotated ");
    assert_eq!(annotated.0, Value::Bool(false), "{annotated:?}");
    assert!(annotated.1.contains("192.168.0.0/16"), "{annotated:?}");
    assert_eq!(reach_of(&ways, "HTTPRoute shop/open ").0, Value::Bool(true));
}
