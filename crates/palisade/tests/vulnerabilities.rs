//! Known vulnerabilities of the images the workloads run, end to end: the real binary on the
//! bundled shop (`examples/shop`) with its images' SBOMs in every format Palisade reads and
//! OSV records in osv.dev's shape (`examples/vulnerabilities`).

mod common;

use common::{bin, json, json_exiting, scratch, write_file};
use serde_json::Value;

const SBOMS: &str = "examples/vulnerabilities/sboms";
const OSV: &str = "examples/vulnerabilities/osv";

/// The binary scanning the shop with its images' SBOMs against the example records, with
/// `extra` flags.
fn scan_shop(extra: &[&str]) -> std::process::Command {
    let mut command = bin();
    command
        .args(["scan", "examples/shop", "--sbom", SBOMS, "--osv-db", OSV])
        .args(extra);
    command
}

fn vulnerabilities(report: &Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "VULN001")
        .map(|f| {
            (
                f["subject"]["name"].as_str().unwrap().to_string(),
                f["message"]
                    .as_str()
                    .unwrap()
                    .split(" has ")
                    .nth(1)
                    .unwrap()
                    .split([' ', ':'])
                    .next()
                    .unwrap()
                    .to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["suppressed"].is_object().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_shops_images_are_judged_with_their_workloads() {
    let out = scan_shop(&["-o", "json"]).output().unwrap();
    let report = json_exiting(&out, 1);
    let found = vulnerabilities(&report);
    let critical: Vec<_> = found.iter().filter(|f| f.2 == "critical").collect();
    assert_eq!(
        critical
            .iter()
            .map(|f| format!("{} {}", f.0, f.1))
            .collect::<Vec<_>>(),
        [
            "nginx CVE-2023-44487",
            // Exploited over the network in the privileged log agent, whose compromise owns
            // its node: raised from high.
            "registry.example.com/logging/agent:latest CVE-2021-23337",
            "registry.example.com/shop/reports@sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c CVE-2022-42889",
        ]
    );
    let lodash = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("lodash"))
        .unwrap();
    assert!(
        lodash["message"].as_str().unwrap().contains(
            "raised: exploitable over the network, and a compromise of DaemonSet logging/log-agent reaches a node in 1 step"
        ),
        "{lodash}"
    );
    assert_eq!(found.len(), 10, "{found:?}");
    // The finding on the exposed frontend names the workload and why it was raised.
    let nghttp2 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("libnghttp2-14"))
        .unwrap();
    assert_eq!(
        nghttp2["affected"],
        serde_json::json!(["Deployment shop/frontend"])
    );
    assert!(
        nghttp2["message"]
            .as_str()
            .unwrap()
            .contains("raised: exploitable over the network in an image exposed to the internet"),
        "{nghttp2}"
    );
    assert_eq!(
        nghttp2["evidence"][0],
        serde_json::json!({"type": "package", "name": "libnghttp2-14", "installed": "1.52.0-1", "fixed": "1.52.0-1+deb12u1"})
    );
    let coverage = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "VULN001")
        .unwrap();
    assert_eq!(
        (
            &coverage["evaluated"],
            &coverage["failed"],
            &coverage["not_assessed"]
        ),
        (&Value::from(13), &Value::from(9), &Value::from(1))
    );
    // The database's image has no SBOM: said, with its workload, never read as clean.
    let unjudged: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "image-not-assessed")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        unjudged,
        [
            "1 image that workloads run has no SBOM among --sbom, so it is not judged: postgres:16.4 (StatefulSet shop/db)"
        ]
    );
    // The manifests' own rules ran too.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "POD001")
    );
}

#[test]
fn sarif_carries_the_rule_and_the_image() {
    let out = scan_shop(&["-o", "sarif", "--rules", "VULN001"])
        .output()
        .unwrap();
    let sarif = json_exiting(&out, 1);
    let run = &sarif["runs"][0];
    assert!(
        run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "VULN001"),
        "{run}"
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    assert!(results.iter().all(|r| r["ruleId"] == "VULN001"));
    assert!(
        results.iter().all(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with(SBOMS)
        ),
        "{results:?}"
    );
}

#[test]
fn sboms_alone_are_judged_without_manifests() {
    let out = bin()
        .args([
            "scan",
            "--sbom",
            &format!("{SBOMS}/worker.syft.json"),
            "--osv-db",
            OSV,
            "-o",
            "json",
            "--fail-on",
            "medium",
        ])
        .output()
        .unwrap();
    let report = json_exiting(&out, 1);
    assert_eq!(
        vulnerabilities(&report),
        [
            (
                "registry.example.com/shop/worker:1.8.0".to_string(),
                "CVE-2023-5363".to_string(),
                "medium".to_string(),
                "false".to_string()
            ),
            (
                "registry.example.com/shop/worker:1.8.0".to_string(),
                "CVE-2023-32681".to_string(),
                "medium".to_string(),
                "false".to_string()
            ),
        ]
    );
    // Run by no workload: no image-not-run diagnostic without manifests to run it.
    assert!(
        !report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "image-not-run")
    );
    // Nothing at or above the threshold: a pass, not "nothing was scanned".
    let out = bin()
        .args([
            "scan",
            "--sbom",
            &format!("{SBOMS}/worker.syft.json"),
            "--osv-db",
            OSV,
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    json_exiting(&out, 0);
}

#[test]
fn a_database_that_cannot_be_used_stops_the_run() {
    let dir = scratch("vuln-empty-db");
    write_file(
        &dir,
        "osv/only-fuzz.json",
        r#"{"id": "OSV-2020-1", "affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "x"}}]}"#,
    );
    let out = bin()
        .args(["scan", "examples/shop", "--sbom", SBOMS, "--osv-db"])
        .arg(dir.join("osv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no OSV record of an ecosystem Palisade matches"),
        "{stderr}"
    );

    let out = bin()
        .args([
            "scan",
            "examples/shop",
            "--sbom",
            SBOMS,
            "--osv-db",
            "no/such/dir",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));

    // Judging changes does not judge images: refused rather than ignored.
    let out = scan_shop(&["--against", "no-such-snapshot.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--sbom judges the images"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Each flag needs the other.
    let out = bin()
        .args(["scan", "examples/shop", "--sbom", SBOMS])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--osv-db"));
}

#[test]
fn an_unreadable_sbom_is_named_and_the_others_are_judged() {
    let dir = scratch("vuln-bad-sbom");
    write_file(&dir, "sboms/broken.json", "{\"bomFormat\": \"CycloneDX\", ");
    write_file(&dir, "sboms/other.json", "{\"kind\": \"Deployment\"}");
    std::fs::copy(
        common::workspace().join(SBOMS).join("worker.syft.json"),
        dir.join("sboms/worker.json"),
    )
    .unwrap();
    let sboms = dir.join("sboms");
    let out = bin()
        .args(["scan", "--osv-db", OSV, "-o", "json", "--sbom"])
        .arg(&sboms)
        .output()
        .unwrap();
    // Incomplete: two inputs were not read.
    let report = json_exiting(&out, 2);
    let unread: Vec<(String, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] == "error")
        .map(|d| {
            (
                d["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        unread,
        [
            ("broken.json".to_string(), "not-an-sbom".to_string()),
            ("other.json".to_string(), "not-an-sbom".to_string())
        ]
    );
    assert_eq!(vulnerabilities(&report).len(), 2);
    let out = bin()
        .args([
            "scan",
            "--osv-db",
            OSV,
            "-o",
            "json",
            "--allow-incomplete",
            "--sbom",
        ])
        .arg(&sboms)
        .output()
        .unwrap();
    common::exiting(&out, 0);
}

#[test]
fn one_vulnerability_is_suppressed_by_its_id() {
    let dir = scratch("vuln-suppress");
    write_file(
        &dir,
        "palisade.toml",
        "[[suppress]]\nrule = \"VULN001\"\nvulnerability = \"CVE-2023-4911\"\nreason = \"no setuid binaries in the image\"\n",
    );
    let out = scan_shop(&["-o", "json", "--config"])
        .arg(dir.join("palisade.toml"))
        .output()
        .unwrap();
    let report = json(&out);
    let found = vulnerabilities(&report);
    let suppressed: Vec<_> = found
        .iter()
        .filter(|f| f.3 == "true")
        .map(|f| &f.1)
        .collect();
    assert_eq!(suppressed, ["CVE-2023-4911", "CVE-2023-4911"]);
    assert_eq!(found.len(), 10);

    write_file(
        &dir,
        "palisade.toml",
        "[[suppress]]\nrule = \"POD001\"\nvulnerability = \"CVE-2023-4911\"\nreason = \"x\"\n",
    );
    let out = bin()
        .args(["scan", "examples/shop", "--config"])
        .arg(dir.join("palisade.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("narrows suppressions of VULN001 only"));
}

#[test]
fn a_framework_counts_the_vulnerabilities_under_the_controls_they_cite() {
    let out = scan_shop(&["-o", "json", "--framework", "nsa", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json_exiting(&out, 0);
    let control = report["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "nsa-cisa-1.2:pod-security/secure-images")
        .unwrap();
    assert!(
        control["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "VULN001"),
        "{control}"
    );
    assert_eq!(control["status"], "fail");
    // The control's findings include the ten vulnerabilities.
    assert!(control["findings"].as_u64().unwrap() >= 10, "{control}");
}

#[test]
fn the_rule_is_left_out_when_asked() {
    let out = scan_shop(&["-o", "json", "--skip-rules", "VULN001", "--fail-on", "none"])
        .output()
        .unwrap();
    let report = json_exiting(&out, 0);
    assert!(vulnerabilities(&report).is_empty());
    let out = bin().args(["rules", "VULN001"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("known-vulnerability"));
}

/// `palisade rbac fixes` with the images' SBOMs: a workload whose image has a flaw of high
/// severity or more exploited over the network is a likelier start, twice as likely when the
/// internet reaches it, and says which flaw.
#[test]
fn an_exploitable_flaw_makes_a_workload_a_likelier_start_of_the_attack_paths() {
    let plan = |extra: &[&str]| {
        let out = bin()
            .args(["rbac", "fixes", "examples/shop", "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        json_exiting(&out, 1)
    };
    let without = plan(&[]);
    let with = plan(&["--sbom", SBOMS, "--osv-db", OSV]);
    let start = |plan: &Value, name: &str| {
        plan["at_risk"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["from"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} at risk: {plan:#}"))
    };
    // The exposed frontend runs nginx with the HTTP/2 rapid-reset flaw.
    assert_eq!(start(&without, "frontend")["likelihood"], 3);
    let frontend = start(&with, "frontend");
    assert_eq!(frontend["likelihood"], 6, "{frontend:#}");
    assert_eq!(
        frontend["exploit"],
        "CVE-2023-44487 in libnghttp2-14 1.52.0-1 (high, exploitable over the network)"
    );
    // The log agent is reached from no internet: likelier, not doubled.
    assert_eq!(start(&without, "log-agent")["likelihood"], 2);
    assert_eq!(start(&with, "log-agent")["likelihood"], 3);
    assert!(with["risk"].as_u64() > without["risk"].as_u64());
    // The table names the flaw beside the start.
    let out = bin()
        .args([
            "rbac",
            "fixes",
            "examples/shop",
            "--sbom",
            SBOMS,
            "--osv-db",
            OSV,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Deployment shop/frontend (exploitable: CVE-2023-44487)"),
        "{text}"
    );
    // `rbac paths` names it at the start of the workload's paths.
    let out = bin()
        .args([
            "rbac",
            "paths",
            "--to",
            "nodes",
            "--from-workload",
            "shop/frontend",
        ])
        .args([
            "examples/shop",
            "--sbom",
            SBOMS,
            "--osv-db",
            OSV,
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let paths = json_exiting(&out, 1);
    assert_eq!(
        paths[0]["exploit"],
        "CVE-2023-44487 in libnghttp2-14 1.52.0-1 (high, exploitable over the network)"
    );
    let out = bin()
        .args([
            "rbac",
            "paths",
            "--to",
            "nodes",
            "--from-workload",
            "shop/frontend",
            "examples/shop",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(json_exiting(&out, 1)[0].get("exploit").is_none());
}

/// Whether an image's workload is exposed to the internet is the answer `rbac paths` gives,
/// with the ingress controller where palisade.toml's `[network]` places it: the frontend,
/// behind an Ingress, admits the controller by the namespace it runs in.
#[test]
fn exposure_places_the_ingress_controller_as_palisade_toml_says() {
    let frontend = std::fs::read_to_string(common::workspace().join("examples/shop/frontend.yaml"))
        .unwrap()
        .replace("  type: LoadBalancer\n", "")
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: frontend, namespace: shop}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: frontend, port: {number: 443}}}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: frontend-in, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: frontend}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]\n    ports: [{port: 8080}]\n";
    let raised = |network: &str| -> bool {
        let dir = scratch(&format!("vuln-network-{}", network.len()));
        write_file(&dir, "frontend.yaml", &frontend);
        write_file(&dir, "palisade.toml", network);
        let out = bin()
            .current_dir(&dir)
            .args(["scan", "frontend.yaml", "--rules", "VULN001", "-o", "json"])
            .arg("--sbom")
            .arg(common::workspace().join(SBOMS))
            .arg("--osv-db")
            .arg(common::workspace().join(OSV))
            .output()
            .unwrap();
        let report = json_exiting(&out, 1);
        let nghttp2 = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["message"].as_str().unwrap().starts_with("libnghttp2-14"))
            .expect("the frontend's nghttp2 flaw")
            .clone();
        nghttp2["message"]
            .as_str()
            .unwrap()
            .contains("in an image exposed to the internet")
    };
    assert!(raised("[network]\ningress-namespace = \"ingress-nginx\"\n"));
    assert!(!raised("[network]\ningress-namespace = \"traefik\"\n"));
}
