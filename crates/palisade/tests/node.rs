//! `palisade node --root DIR` run as a user runs it, on the kubeadm node fixture
//! (`crates/palisade-node/tests/fixtures/kubeadm-node`) copied with the modes the test needs:
//! Git keeps no file modes, so every test sets them.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use common::{bin, json, json_exiting, scratch, workspace};
use serde_json::Value;

/// Copies the example node under `dir`, every file and directory at the mode kubeadm gives it
/// (0600 files, 0644 certificates, 0700 etcd's data, 0755 other directories).
fn example_node(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    copy(
        &workspace().join("crates/palisade-node/tests/fixtures/kubeadm-node"),
        &root,
    );
    harden(&root);
    root
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn harden(path: &Path) {
    let name = path.to_string_lossy();
    let mode = if path.is_dir() {
        if name.ends_with("var/lib/etcd") {
            0o700
        } else {
            0o755
        }
    } else if name.ends_with(".crt")
        || name.ends_with("/etc/passwd")
        || name.ends_with("/etc/group")
        || name.ends_with("/etc/hostname")
    {
        0o644
    } else {
        0o600
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            harden(&entry.unwrap().path());
        }
    }
}

fn chmod(root: &Path, path: &str, mode: u32) {
    std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
}

fn node(root: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("node")
        .arg("--root")
        .arg(root)
        .args(["-o", "json"])
        .args(extra)
        .output()
        .unwrap()
}

fn findings<'v>(report: &'v Value, rule: &str) -> Vec<&'v Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn status<'v>(report: &'v Value, control: &str) -> &'v str {
    report["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == format!("cis-k8s-1.12:{control}"))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no {control}"))
}

/// Files owned by whoever runs the test: root in CI, another user on a workstation.
fn owned_by_root(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).unwrap().uid() == 0
}

#[test]
fn a_kubeadm_node_with_the_benchmarks_modes_fails_only_on_its_settings() {
    let dir = scratch("node-hardened");
    let root = example_node(&dir);
    let output = node(&root, &["--framework", "cis-k8s-1.12"]);
    let report = json_exiting(&output, 1);
    assert!(
        findings(&report, "NODE004").is_empty(),
        "{:#?}",
        findings(&report, "NODE004")
    );
    if owned_by_root(&root) {
        // etcd's data directory is root's on kubeadm; the benchmark asks for an etcd user.
        let owners = findings(&report, "NODE005");
        assert_eq!(owners.len(), 1, "{owners:#?}");
        assert_eq!(owners[0]["severity"], "low");
        assert_eq!(status(&report, "1.1.12"), "fail");
        assert_eq!(status(&report, "1.1.14"), "pass");
    }
    for control in [
        "1.1.1", "1.1.7", "1.1.11", "1.1.13", "1.1.21", "4.1.1", "4.1.5", "4.1.9",
    ] {
        assert_eq!(status(&report, control), "pass", "{control}");
    }
    // No kube-proxy kubeconfig on the node: the control has nothing to judge.
    assert_eq!(status(&report, "4.1.3"), "not_applicable");
    // The kubelet's file turns anonymous access off; /etc/default/kubelet turns it on again.
    let kubelet = findings(&report, "NODE001");
    let anonymous = kubelet
        .iter()
        .find(|f| f["location"]["path"] == "/authentication/anonymous/enabled")
        .unwrap();
    assert_eq!(
        anonymous["location"]["file"],
        root.join("etc/default/kubelet").display().to_string()
    );
    assert_eq!(anonymous["location"]["line"], 2);
    assert!(
        anonymous["message"].as_str().unwrap().ends_with(
            "(set by the kubelet's --anonymous-auth=true at /etc/default/kubelet line 2)"
        )
    );
    assert_eq!(anonymous["object"]["name"], "cp-1");
    assert_eq!(status(&report, "4.2.1"), "fail");
    // kubeadm's `streamingConnectionIdleTimeout: 0s` is the kubelet's four hours.
    assert_eq!(status(&report, "4.2.5"), "pass");
    // The API server's flags, from its static pod, and the audit policy it names.
    assert_eq!(status(&report, "1.2.15"), "fail");
    assert_eq!(status(&report, "1.2.17"), "pass");
    assert!(!findings(&report, "LOG002").is_empty());
}

#[test]
fn each_loose_file_is_one_finding_that_says_how_to_close_it() {
    let dir = scratch("node-loose");
    let root = example_node(&dir);
    chmod(&root, "etc/kubernetes/admin.conf", 0o644);
    chmod(&root, "etc/kubernetes/pki/etcd/peer.key", 0o640);
    chmod(&root, "etc/kubernetes/manifests/kube-apiserver.yaml", 0o666);
    chmod(&root, "var/lib/etcd", 0o755);
    let report = json_exiting(&node(&root, &[]), 1);
    let mut modes: Vec<(String, String, String)> = findings(&report, "NODE004")
        .iter()
        .map(|f| {
            (
                f["controls"][0].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    modes.sort();
    let summary: Vec<(&str, &str)> = modes
        .iter()
        .map(|(c, s, _)| (c.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("cis-k8s-1.12:1.1.1", "high"),
            ("cis-k8s-1.12:1.1.11", "high"),
            ("cis-k8s-1.12:1.1.13", "high"),
            ("cis-k8s-1.12:1.1.21", "medium"),
        ]
    );
    let messages: Vec<&str> = modes.iter().map(|(_, _, m)| m.as_str()).collect();
    insta::assert_snapshot!("node004-loose-files", messages.join("\n"));
    assert_eq!(
        modes[2].2,
        "the administrator's kubeconfig /etc/kubernetes/admin.conf is mode 0644, more open than \
         0600: its group can read it, other users can read it; `chmod 600 /etc/kubernetes/admin.conf`"
    );
    let admin = findings(&report, "NODE004")
        .into_iter()
        .find(|f| f["controls"][0] == "cis-k8s-1.12:1.1.13")
        .unwrap();
    assert_eq!(admin["subject"]["kind"], "file");
    assert_eq!(admin["subject"]["name"], "/etc/kubernetes/admin.conf");
    assert_eq!(
        admin["location"]["file"],
        root.join("etc/kubernetes/admin.conf").display().to_string()
    );
}

#[test]
fn a_suppression_names_a_node_file_by_its_path_on_the_node() {
    let dir = scratch("node-suppress");
    let root = example_node(&dir);
    chmod(&root, "etc/cni/net.d/10-calico.conflist", 0o644);
    let config = dir.join("palisade.toml");
    std::fs::write(
        &config,
        "[[suppress]]\nrule = \"NODE004\"\nkind = \"file\"\nname = \"/etc/cni/net.d/*\"\nreason = \"Calico's installer rewrites it 0644 on every start\"\n",
    )
    .unwrap();
    let output = node(
        &root,
        &["--config", config.to_str().unwrap(), "--rules", "NODE004"],
    );
    let report = json_exiting(&output, 0);
    let cni = findings(&report, "NODE004");
    assert_eq!(cni.len(), 1, "{cni:#?}");
    assert!(cni[0]["suppressed"].is_object(), "{:#?}", cni[0]);
}

#[test]
fn a_worker_node_leaves_the_control_planes_files_not_applicable() {
    let dir = scratch("node-worker");
    let root = example_node(&dir);
    for gone in [
        "etc/kubernetes/manifests",
        "etc/kubernetes/pki",
        "var/lib/etcd",
    ] {
        std::fs::remove_dir_all(root.join(gone)).unwrap();
    }
    for gone in [
        "admin.conf",
        "super-admin.conf",
        "scheduler.conf",
        "controller-manager.conf",
    ] {
        std::fs::remove_file(root.join("etc/kubernetes").join(gone)).unwrap();
    }
    let output = node(&root, &["--framework", "cis-k8s-1.12"]);
    let report = json_exiting(&output, 1);
    for control in ["1.1.1", "1.1.11", "1.1.13", "1.1.21", "1.2.1", "2.1"] {
        assert_eq!(status(&report, control), "not_applicable", "{control}");
    }
    assert_eq!(status(&report, "4.1.5"), "pass");
    // The client CA the kubelet names is gone with the PKI directory: said, not passed.
    assert_eq!(status(&report, "4.1.7"), "not_applicable");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(diagnostics.iter().any(|d| {
        d["code"] == "node-file-missing"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("/etc/kubernetes/pki/ca.crt")
    }));
}

#[test]
fn a_node_whose_kubelet_is_not_found_leaves_its_settings_not_assessed() {
    let dir = scratch("node-no-kubelet");
    let root = example_node(&dir);
    std::fs::remove_dir_all(root.join("etc/systemd")).unwrap();
    std::fs::remove_dir_all(root.join("usr/lib/systemd")).unwrap();
    // What was not looked at makes the run incomplete (exit 2) unless that is accepted.
    let output = node(&root, &["--framework", "cis-k8s-1.12"]);
    json_exiting(&output, 2);
    let output = node(
        &root,
        &["--framework", "cis-k8s-1.12", "--allow-incomplete"],
    );
    let report = json_exiting(&output, 1);
    // kubeadm's file is still judged as a file, but the command line is unknown.
    for control in ["4.2.1", "4.2.4"] {
        assert_eq!(status(&report, control), "not_assessed", "{control}");
    }
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(diagnostics.iter().any(|d| {
        d["code"] == "not-listed"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("no kubelet was found")
    }));
}

/// The kubelet does not start without the file its --config names: a root without it is not
/// the whole node, and judging the command line's defaults (AlwaysAllow, anonymous requests)
/// would fail controls the real file may pass. Its settings are not assessed; so are those of
/// a file that holds no KubeletConfiguration.
#[test]
fn a_kubelet_whose_config_file_is_missing_or_wrong_leaves_its_settings_not_assessed() {
    let dir = scratch("node-kubelet-config-missing");
    let root = example_node(&dir);
    let config = root.join("var/lib/kubelet/config.yaml");
    std::fs::remove_file(&config).unwrap();
    json_exiting(&node(&root, &["--framework", "cis-k8s-1.12"]), 2);
    let output = node(
        &root,
        &["--framework", "cis-k8s-1.12", "--allow-incomplete"],
    );
    let report = json_exiting(&output, 1);
    for control in ["4.2.1", "4.2.2", "4.2.4"] {
        assert_eq!(status(&report, control), "not_assessed", "{control}");
    }
    assert!(findings(&report, "NODE001").is_empty(), "{report:#}");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(diagnostics.iter().any(|d| {
        d["code"] == "kubelet-config-unread"
            && d["level"] == "error"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("names /var/lib/kubelet/config.yaml, which is not under the root read")
    }));

    std::fs::write(
        &config,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    let output = node(
        &root,
        &["--framework", "cis-k8s-1.12", "--allow-incomplete"],
    );
    let report = json_exiting(&output, 1);
    assert_eq!(status(&report, "4.2.1"), "not_assessed");
}

#[test]
fn a_root_that_is_no_node_stops_the_run() {
    let dir = scratch("node-empty");
    std::fs::write(dir.join("hostname"), "laptop\n").unwrap();
    for root in [dir.clone(), dir.join("missing")] {
        let output = bin().arg("node").arg("--root").arg(&root).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--root"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
    let output = bin().arg("node").arg("--root").arg(&dir).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a Kubernetes node's"));
}

#[test]
fn every_output_format_carries_the_node_rules_with_their_documentation() {
    let dir = scratch("node-formats");
    let root = example_node(&dir);
    chmod(&root, "etc/kubernetes/admin.conf", 0o644);
    let sarif = bin()
        .arg("node")
        .arg("--root")
        .arg(&root)
        .args(["-o", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let node004 = rules.iter().find(|r| r["id"] == "NODE004").unwrap();
    assert!(
        node004["help"]["text"]
            .as_str()
            .unwrap()
            .contains("stat -c %a")
    );
    let table = bin().arg("node").arg("--root").arg(&root).output().unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("`chmod 600 /etc/kubernetes/admin.conf`"),
        "{text}"
    );
}

#[test]
fn a_file_that_cannot_be_read_is_not_assessed_and_the_run_incomplete() {
    let dir = scratch("node-unreadable");
    let root = example_node(&dir);
    // A loop of links where the administrator's kubeconfig should be.
    std::fs::remove_file(root.join("etc/kubernetes/admin.conf")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/kubernetes/loop",
        root.join("etc/kubernetes/admin.conf"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/etc/kubernetes/admin.conf",
        root.join("etc/kubernetes/loop"),
    )
    .unwrap();
    json_exiting(&node(&root, &["--framework", "cis-k8s-1.12"]), 2);
    let output = node(
        &root,
        &["--framework", "cis-k8s-1.12", "--allow-incomplete"],
    );
    let report = json_exiting(&output, 1);
    assert_eq!(status(&report, "1.1.13"), "not_assessed");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics
            .iter()
            .any(|d| d["code"] == "node-file-unreadable"
                && d["message"].as_str().unwrap().contains("symbolic links"))
    );
}

#[test]
fn a_malformed_manifest_is_named_once_and_the_rest_is_judged() {
    let dir = scratch("node-malformed");
    let root = example_node(&dir);
    std::fs::write(
        root.join("etc/kubernetes/manifests/broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: broken\n  bad: [\n",
    )
    .unwrap();
    json_exiting(&node(&root, &[]), 2);
    let report = json_exiting(&node(&root, &["--allow-incomplete"]), 1);
    let syntax: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "yaml-syntax")
        .collect();
    assert_eq!(syntax.len(), 1, "{syntax:#?}");
    assert_eq!(
        syntax[0]["file"],
        root.join("etc/kubernetes/manifests/broken.yaml")
            .display()
            .to_string()
    );
    // The API server's manifest beside it is still judged.
    assert!(!findings(&report, "CP001").is_empty());
}

#[test]
fn a_kubelet_flag_file_that_cannot_be_read_makes_the_run_incomplete() {
    let dir = scratch("node-env-missing");
    let root = example_node(&dir);
    // The drop-in names kubeadm's flags file without the `-` that makes it optional.
    let drop_in = root.join("etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
    let text = std::fs::read_to_string(&drop_in).unwrap().replace(
        "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env",
        "EnvironmentFile=/var/lib/kubelet/kubeadm-flags.env",
    );
    std::fs::write(&drop_in, text).unwrap();
    std::fs::remove_file(root.join("var/lib/kubelet/kubeadm-flags.env")).unwrap();
    let report = json_exiting(&node(&root, &[]), 2);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["code"] == "kubelet-unread"
            && d["message"]
                .as_str()
                .unwrap()
                .contains("/var/lib/kubelet/kubeadm-flags.env")),
        "{diagnostics:#?}"
    );
}

#[test]
fn a_kube_proxy_run_by_systemd_has_its_configuration_and_kubeconfig_judged() {
    let dir = scratch("node-kube-proxy");
    let root = example_node(&dir);
    let write = |path: &str, text: &str, mode: u32| {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        chmod(&root, path, mode);
    };
    write(
        "etc/systemd/system/kube-proxy.service",
        "[Service]\nExecStart=/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/kube-proxy-config.yaml --kubeconfig=/var/lib/kube-proxy/kubeconfig\n",
        0o600,
    );
    write(
        "var/lib/kube-proxy/kube-proxy-config.yaml",
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmetricsBindAddress: 0.0.0.0:10249\n",
        0o600,
    );
    write("var/lib/kube-proxy/kubeconfig", "kind: Config\n", 0o644);
    let report = json_exiting(&node(&root, &["--framework", "cis-k8s-1.12"]), 1);
    assert_eq!(status(&report, "4.3.1"), "fail");
    assert_eq!(status(&report, "4.1.3"), "fail");
    let proxy = findings(&report, "NODE004")
        .into_iter()
        .find(|f| f["controls"][0] == "cis-k8s-1.12:4.1.3")
        .unwrap();
    assert!(
        proxy["message"]
            .as_str()
            .unwrap()
            .starts_with("kube-proxy's kubeconfig /var/lib/kube-proxy/kubeconfig is mode 0644")
    );
}

/// The API server's `--authentication-config` file is read as the flag names it, and judged
/// (CP015); the flags rule (CP014) then says it judges the file instead. With `--oidc-*`
/// flags that take the provider's groups as they are, CP014 fires at the flag.
#[test]
fn the_api_server_authentication_configuration_is_read_where_its_flag_names_it() {
    let dir = scratch("node-authn");
    let root = example_node(&dir);
    let manifest = root.join("etc/kubernetes/manifests/kube-apiserver.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let flag = "    - --audit-policy-file=/etc/kubernetes/audit-policy.yaml\n";
    assert!(text.contains(flag));
    let configured = text.replace(
        flag,
        &format!("{flag}    - --authentication-config=/etc/kubernetes/authn.yaml\n"),
    );
    std::fs::write(&manifest, configured).unwrap();
    std::fs::write(
        root.join("etc/kubernetes/authn.yaml"),
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: https://idp.example.com, audiences: [kubernetes]}\n  claimMappings:\n    username: {claim: sub, prefix: 'idp:'}\n    groups: {claim: groups, prefix: ''}\n",
    )
    .unwrap();
    harden(&root);
    let report = json_exiting(&node(&root, &[]), 1);
    let configured = findings(&report, "CP015");
    assert_eq!(configured.len(), 1, "{configured:#?}");
    assert!(
        configured[0]["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("etc/kubernetes/authn.yaml")
    );
    assert!(
        configured[0]["message"]
            .as_str()
            .unwrap()
            .contains("system:masters is cluster-admin")
    );
    assert!(findings(&report, "CP014").is_empty());
    // The file sets no `anonymous`: --anonymous-auth's default, true, applies (CP001).
    assert_eq!(findings(&report, "CP001").len(), 1);

    // The file allows anonymous requests on the health endpoints alone: it decides, and
    // passes (CP016); CIS 1.2.1 passes.
    std::fs::write(
        root.join("etc/kubernetes/authn.yaml"),
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous:\n  enabled: true\n  conditions: [{path: /livez}, {path: /readyz}]\n",
    )
    .unwrap();
    harden(&root);
    let report = json_exiting(&node(&root, &["--framework", "cis-k8s-1.12"]), 1);
    assert!(
        findings(&report, "CP001").is_empty(),
        "{:#?}",
        findings(&report, "CP001")
    );
    assert!(findings(&report, "CP016").is_empty());
    assert_eq!(status(&report, "1.2.1"), "pass");
    // The manifest alone: the file is not in the input, so anonymous access is not assessed.
    let out = bin()
        .args(["scan", "-o", "json", "--framework", "cis-k8s-1.12"])
        .arg(&manifest)
        .output()
        .unwrap();
    let report = json(&out);
    assert!(findings(&report, "CP001").is_empty());
    assert_eq!(status(&report, "1.2.1"), "not_assessed");

    // The flags instead: groups as the provider names them.
    let oidc = text.replace(
        flag,
        &format!(
            "{flag}    - --oidc-issuer-url=https://idp.example.com\n    - --oidc-client-id=kubernetes\n    - --oidc-groups-claim=groups\n"
        ),
    );
    std::fs::write(&manifest, oidc).unwrap();
    std::fs::remove_file(root.join("etc/kubernetes/authn.yaml")).unwrap();
    let report = json_exiting(&node(&root, &[]), 1);
    let flags = findings(&report, "CP014");
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert!(
        flags[0]["message"]
            .as_str()
            .unwrap()
            .contains("no --oidc-groups-prefix")
    );
}

/// An API server whose authorizers are in `--authorization-config`'s file: the file decides
/// (CP017), not `--authorization-mode`'s default, AlwaysAllow (CP002 would call that
/// critical); the manifest alone leaves authorization not assessed.
#[test]
fn the_api_server_authorization_configuration_replaces_its_mode_flag() {
    let dir = scratch("node-authz");
    let root = example_node(&dir);
    let manifest = root.join("etc/kubernetes/manifests/kube-apiserver.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let flag = "    - --authorization-mode=Node,RBAC\n";
    assert!(text.contains(flag));
    std::fs::write(
        &manifest,
        text.replace(
            flag,
            "    - --authorization-config=/etc/kubernetes/authz.yaml\n",
        ),
    )
    .unwrap();
    let authorizers = |list: &str| {
        std::fs::write(
            root.join("etc/kubernetes/authz.yaml"),
            format!("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers: {list}\n"),
        )
        .unwrap();
        harden(&root);
        json_exiting(&node(&root, &["--framework", "cis-k8s-1.12"]), 1)
    };
    let report = authorizers("[{type: Node, name: node}, {type: RBAC, name: rbac}]");
    assert!(
        findings(&report, "CP002").is_empty(),
        "{:#?}",
        findings(&report, "CP002")
    );
    assert!(findings(&report, "CP017").is_empty());
    for control in ["1.2.6", "1.2.7", "1.2.8"] {
        assert_eq!(status(&report, control), "pass", "{control}");
    }
    let report = authorizers("[{type: RBAC, name: rbac}, {type: AlwaysAllow, name: all}]");
    let weak = findings(&report, "CP017");
    assert_eq!(weak.len(), 2, "{weak:#?}");
    assert_eq!(status(&report, "1.2.6"), "fail");
    assert_eq!(status(&report, "1.2.7"), "fail");
    assert_eq!(status(&report, "1.2.8"), "pass");
    // The manifest alone: not assessed, never AlwaysAllow.
    let out = bin()
        .args(["scan", "-o", "json", "--framework", "cis-k8s-1.12"])
        .arg(&manifest)
        .output()
        .unwrap();
    let report = json(&out);
    assert!(findings(&report, "CP002").is_empty());
    assert_eq!(status(&report, "1.2.6"), "not_assessed");
}
