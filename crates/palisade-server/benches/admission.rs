//! Admission webhook latency and throughput over TLS on loopback, next to a trivial TLS
//! server (same TLS stack, same runtime, reads the body and returns a fixed allow) measured in
//! the same run. The webhook judges with the Pod Security restricted built-ins
//! (`--framework pss-restricted`) plus 20 gatekeeper-library templates with their sample
//! constraints (../shared/corpora, required). The load generator (keep-alive HTTPS clients
//! on threads) shares the machine with the server, as it does for the trivial one.
//!
//! Two phases per server: the most it answers with 16 clients in a closed loop, and a fixed
//! rate (1,000 requests/s) in an open loop whose latencies count from each request's
//! scheduled time, so a stall is not hidden by the requests it delays.
//!
//! `cargo bench -p palisade-server --bench admission`. RATE=N and SECONDS=N change the
//! fixed-rate phase; POLICIES=none judges with every built-in rule and no policy instead
//! (SKIP=ID,ID leaves some out);
//! INVENTORY=DIR judges against the objects under DIR as the cluster (say
//! ../shared/corpora/real-manifests, 5,294 objects) instead of an empty one, read as a whole
//! cluster as `palisade serve admission` reads a live one (one network, no project scopes); LOAD=none stops
//! after the in-process verdicts; ONLY=N judges the N-th of them alone, ROUNDS=N times, and
//! stops (for a profiler). The standalone Pods get new names (the corpus holds a Pod
//! `default/nginx`); ALONE=existing keeps `nginx`, so that they replace that one. Eight requests are judged: a standalone privileged Pod, a
//! standalone unprivileged one, the unprivileged one as its ReplicaSet (added to every
//! cluster) makes it, the most common request a cluster sends, a RoleBinding, an update of a
//! Deployment (added to every cluster) to a new image, the ReplicaSet of that rollout (which
//! the webhook keeps), a Pod of that ReplicaSet, and a RoleBinding (added to every cluster)
//! applied again unchanged. The load over TLS sends the first four. Then a chart is let in
//! (an account, its binding, a LoadBalancer Service, its Deployment), and what the
//! Deployment costs before, while the models are prepared again, and after is printed.

/// The allocator the `palisade` binary ships, so the figures are the command's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palisade_admission::{Admission, AdmissionSettings};
use palisade_server::admission::{AdmissionMetrics, AdmissionState, DecisionLogLevel};
use palisade_server::tls;

const TEMPLATES: &[&str] = &[
    "pod-security-policy/allow-privilege-escalation",
    "pod-security-policy/apparmor",
    "pod-security-policy/capabilities",
    "pod-security-policy/flexvolume-drivers",
    "pod-security-policy/forbidden-sysctls",
    "pod-security-policy/fsgroup",
    "pod-security-policy/host-filesystem",
    "pod-security-policy/host-namespaces",
    "pod-security-policy/host-network-ports",
    "pod-security-policy/privileged-containers",
    "pod-security-policy/proc-mount",
    "pod-security-policy/read-only-root-filesystem",
    "pod-security-policy/seccomp",
    "pod-security-policy/selinux",
    "pod-security-policy/users",
    "pod-security-policy/volumes",
    "general/allowedrepos",
    "general/disallowedtags",
    "general/containerlimits",
    "general/requiredprobes",
];

fn corpora() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora");
    assert!(dir.is_dir(), "{} is required", dir.display());
    dir
}

/// Each template with the constraint of its first sample.
fn policy_files() -> Vec<PathBuf> {
    let library = corpora().join("gatekeeper-library/library");
    let mut files = Vec::new();
    for template in TEMPLATES {
        let dir = library.join(template);
        files.push(dir.join("template.yaml"));
        let mut samples: Vec<PathBuf> = std::fs::read_dir(dir.join("samples"))
            .unwrap()
            .map(|e| e.unwrap().path().join("constraint.yaml"))
            .filter(|p| p.is_file())
            .collect();
        samples.sort();
        files.push(samples.remove(0));
    }
    files
}

/// The rules of the Pod Security restricted profile (the admission plugin's check at
/// `restricted`, and the hardening rules citing it) and the constraints.
fn judge() -> (Admission, usize, usize) {
    let mut rules = palisade_scan::default_rules();
    if std::env::var("POLICIES").is_ok_and(|p| p == "none") {
        // Every built-in rule, no policy: the webhook as installed without policies.
        let built_in = rules.evaluated().len();
        let options = palisade_scan::ScanOptions {
            rules,
            // SKIP=ID,ID leaves rules out (as `[admission.rules]` set to "off" does).
            skip_rules: std::env::var("SKIP")
                .map(|s| s.split(',').map(String::from).collect())
                .unwrap_or_default(),
            skip_evaluations: true,
            // As `palisade serve admission` judges: the objects are the whole cluster.
            whole_cluster: true,
            ..palisade_scan::ScanOptions::default()
        };
        let model = palisade_scan::ClusterModel::prepare_copies(cluster(), options, 2);
        return (
            Admission::new(model, AdmissionSettings::default(), None),
            built_in,
            0,
        );
    }
    let mut only: Vec<String> = rules
        .for_framework(palisade_core::Profile::PssRestricted)
        .iter()
        .map(|r| r.meta().id.to_string())
        .collect();
    let built_in = only.len();
    let loaded = palisade_policy::provider::load(
        &policy_files(),
        palisade_policy::EnforcementPoint::Validation,
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let policies = loaded.rules.len();
    for rule in loaded.rules {
        only.push(rule.meta().id.to_string());
        rules.add(rule).unwrap();
    }
    let mut options = palisade_scan::ScanOptions {
        rules,
        only_rules: only,
        skip_evaluations: true,
        whole_cluster: true,
        ..palisade_scan::ScanOptions::default()
    };
    options.config.settings.pod_security = Some(palisade_rules::PodSecurityTarget {
        level: palisade_rules::pss::Level::Restricted,
        version: palisade_rules::pss::admission::PolicyVersion::LATEST,
    });
    let model = palisade_scan::ClusterModel::prepare_copies(cluster(), options, 2);
    (
        Admission::new(model, AdmissionSettings::default(), None),
        built_in,
        policies,
    )
}

/// The cluster the webhook judges against: the objects under `INVENTORY`, or none.
/// The ReplicaSet the third review's Pod belongs to, in every cluster judged against.
const REPLICA_SET: &str = "\
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: nginx-5d9c, namespace: default, uid: rs-bench-1}
spec:
  selector: {matchLabels: {env: test}}
  template:
    metadata: {labels: {env: test}}
    spec: {containers: [{name: sleeping-sidecar, image: alpine}, {name: nginx, image: nginx}]}
";

/// The Deployment the last review updates (a new image, one more replica), in every cluster
/// judged against.
fn deployment() -> serde_json::Value {
    serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "default", "uid": "d-bench-1",
            "resourceVersion": "100", "generation": 7},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "shop"}},
            "template": {"metadata": {"labels": {"app": "shop"}},
                "spec": {"containers": [{"name": "shop", "image": "registry.example.com/shop:1.4.2",
                    "ports": [{"containerPort": 8080}]}]}}}})
}

/// A RoleBinding of the Deployment's account, in every cluster judged against; the last
/// review applies it again unchanged (as `helm upgrade` does).
fn role_binding() -> serde_json::Value {
    serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "shop-view", "namespace": "default", "uid": "rb-bench-1", "resourceVersion": "90"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]})
}

fn cluster() -> palisade_inventory::Inventory {
    let limits = palisade_inventory::Limits::default();
    let replica_set = palisade_inventory::load_text("replicaset.yaml", REPLICA_SET, &limits)
        .inventory
        .objects
        .remove(0);
    let deployment =
        palisade_inventory::load_text("deployment.json", &deployment().to_string(), &limits)
            .inventory
            .objects
            .remove(0);
    let mut inventory = match std::env::var("INVENTORY") {
        Ok(dir) => {
            palisade_inventory::load(
                &[palisade_inventory::Input::Path(dir.into())],
                &palisade_inventory::LoadOptions::default(),
            )
            .inventory
        }
        Err(_) => palisade_inventory::Inventory::default(),
    };
    let binding =
        palisade_inventory::load_text("binding.json", &role_binding().to_string(), &limits)
            .inventory
            .objects
            .remove(0);
    inventory.insert(replica_set);
    inventory.insert(deployment);
    inventory.insert(binding);
    println!("cluster: {} objects", inventory.objects.len());
    inventory
}

/// A standalone privileged Pod, a standalone unprivileged one, and the unprivileged one as
/// its ReplicaSet makes it (the most common request a cluster sends).
fn reviews() -> Vec<Vec<u8>> {
    let dir = corpora().join("admission-review/kubewarden-policy-server/tests/data");
    let mut reviews: Vec<Vec<u8>> = [
        "pod_with_privileged_containers.json",
        "pod_without_privileged_containers.json",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).unwrap())
    .collect();
    // New names, as a Pod the API server creates has: the corpus holds a Pod `default/nginx`,
    // which a CREATE of that name would replace (ALONE=existing keeps it, to judge that).
    if !std::env::var("ALONE").is_ok_and(|a| a == "existing") {
        for (review, name) in reviews.iter_mut().zip(["nginx-alone-1", "nginx-alone-2"]) {
            let mut value: serde_json::Value = serde_json::from_slice(review).unwrap();
            value["request"]["object"]["metadata"]["name"] = name.into();
            value["request"]["name"] = name.into();
            *review = serde_json::to_vec(&value).unwrap();
        }
    }
    let mut owned: serde_json::Value = serde_json::from_slice(&reviews[1]).unwrap();
    let metadata = &mut owned["request"]["object"]["metadata"];
    metadata["name"] = "nginx-5d9c-x7k2p".into();
    metadata["ownerReferences"] = serde_json::json!([{"apiVersion": "apps/v1",
        "kind": "ReplicaSet", "name": "nginx-5d9c", "uid": "rs-bench-1", "controller": true}]);
    owned["request"]["name"] = "nginx-5d9c-x7k2p".into();
    reviews.push(serde_json::to_vec(&owned).unwrap());
    // A RoleBinding: nothing to the network, whose models are kept; the escalation model is
    // rebuilt around them.
    let mut binding = owned;
    let request = &mut binding["request"];
    retarget(
        request,
        ("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
        "edit-for-everyone",
    );
    request["oldObject"] = serde_json::Value::Null;
    request["object"] = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding", "metadata": {"name": "edit-for-everyone", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]});
    reviews.push(serde_json::to_vec(&binding).unwrap());
    // The cluster's Deployment rolled to a new image and scaled: nothing the cluster's models
    // read changes, so they are lent although the Deployment is seen.
    let mut update = binding;
    let request = &mut update["request"];
    retarget(request, ("apps", "Deployment", "deployments"), "shop");
    request["operation"] = "UPDATE".into();
    let old = deployment();
    let mut new = old.clone();
    new["metadata"]["resourceVersion"] = "101".into();
    new["metadata"]["generation"] = 8.into();
    new["spec"]["replicas"] = 3.into();
    new["spec"]["template"]["spec"]["containers"][0]["image"] =
        "registry.example.com/shop:1.4.3".into();
    request["oldObject"] = old;
    request["object"] = new.clone();
    reviews.push(serde_json::to_vec(&update).unwrap());
    // The rollout's ReplicaSet, made after the cluster was read: the webhook lets it in and
    // keeps it, so that the Pod after it is judged through the Deployment.
    let template = new["spec"]["template"].clone();
    let replica_set = serde_json::json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "shop-7f9c", "namespace": "default", "uid": "rs-bench-2",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop",
                "uid": "d-bench-1", "controller": true}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "shop"}}, "template": template}});
    let mut created = update;
    let request = &mut created["request"];
    retarget(request, ("apps", "ReplicaSet", "replicasets"), "shop-7f9c");
    request["operation"] = "CREATE".into();
    request["oldObject"] = serde_json::Value::Null;
    request["object"] = replica_set;
    reviews.push(serde_json::to_vec(&created).unwrap());
    let mut pod = created;
    let request = &mut pod["request"];
    retarget(request, ("", "Pod", "pods"), "shop-7f9c-q8x2z");
    let mut object = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "shop-7f9c-q8x2z", "namespace": "default", "labels": {"app": "shop"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "shop-7f9c",
                "uid": "rs-bench-2", "controller": true}]}});
    object["spec"] = new["spec"]["template"]["spec"].clone();
    request["object"] = object;
    reviews.push(serde_json::to_vec(&pod).unwrap());
    // The RoleBinding applied again unchanged: only what the API server keeps differs, so
    // the models are lent although the escalation graph reads bindings.
    let mut reapplied = pod;
    let request = &mut reapplied["request"];
    retarget(
        request,
        ("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
        "shop-view",
    );
    request["operation"] = "UPDATE".into();
    let old = role_binding();
    let mut new = old.clone();
    new["metadata"]["resourceVersion"] = "91".into();
    request["oldObject"] = old;
    request["object"] = new;
    reviews.push(serde_json::to_vec(&reapplied).unwrap());
    reviews
}

/// A CREATE review of `object` by a deployer, a dry run when `dry_run`.
fn creation(object: &serde_json::Value, dry_run: bool) -> palisade_admission::Review {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": format!("{kind}-{name}"), "operation": "CREATE", "dryRun": dry_run,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
            "name": name, "namespace": "default", "object": object,
            "userInfo": {"username": "deployer", "groups": ["system:authenticated"]}}});
    palisade_admission::decode(&serde_json::to_vec(&review).unwrap()).unwrap()
}

/// A chart let in as `helm install` does it: its account, the account's new binding and a
/// LoadBalancer Service, then its Deployment. The webhook keeps each, and the Deployment is
/// judged with them: evaluations build the models the binding and the Service change until
/// those are prepared again on a thread of their own. Prints what a Deployment (a dry run,
/// which nothing keeps) costs before the chart, while the models are prepared again, and
/// after, and how long preparing them took.
fn chart_let_in(judge: &Admission) {
    let account = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "chart", "namespace": "default"}});
    let binding = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding", "metadata": {"name": "chart-view", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "chart", "namespace": "default"}]});
    let service = serde_json::json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "chart", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "chart"}, "ports": [{"port": 80}]}});
    let mut workload = deployment();
    workload["metadata"] = serde_json::json!({"name": "chart", "namespace": "default"});
    workload["spec"]["selector"]["matchLabels"] = serde_json::json!({"app": "chart"});
    workload["spec"]["template"]["metadata"]["labels"] = serde_json::json!({"app": "chart"});
    workload["spec"]["template"]["spec"]["serviceAccountName"] = "chart".into();
    let dry = creation(&workload, true);
    let mean_ms = |rounds: u32| {
        let start = Instant::now();
        for _ in 0..rounds {
            judge.validate(&dry);
        }
        start.elapsed().as_secs_f64() * 1e3 / f64::from(rounds)
    };
    let before = mean_ms(20);
    // Each kept at once: the binding and the Service are judged against the cluster with the
    // objects before them (RBAC021 finds what it was before each on a copy).
    let mut each = Vec::new();
    for object in [&account, &binding, &service] {
        let start = Instant::now();
        let judged = judge.validate(&creation(object, false));
        each.push(format!("{:.1}", start.elapsed().as_secs_f64() * 1e3));
        assert!(judged.allowed(), "{:?}", judged.log);
    }
    let let_in = Instant::now();
    let (mut during, mut evaluations) = (Duration::ZERO, 0);
    while judge.models_refreshing() && let_in.elapsed() < Duration::from_secs(60) {
        let start = Instant::now();
        judge.validate(&dry);
        during += start.elapsed();
        evaluations += 1;
    }
    let refreshed = let_in.elapsed();
    let after = mean_ms(20);
    let judged = judge.validate(&creation(&workload, false));
    println!(
        "a chart let in (account, binding, LoadBalancer Service: {} ms): its Deployment {:.2} ms before, {:.2} ms while the models were prepared again ({evaluations} evaluations, {:.0} ms), {after:.2} ms after; judged {:?} {:?}",
        each.join(", "),
        before,
        during.as_secs_f64() * 1e3 / f64::from(evaluations.max(1)),
        refreshed.as_secs_f64() * 1e3,
        judged.log.denied,
        judged.log.warned,
    );
}

/// Makes `request` one about the object `name` of `(group, kind, resource)`.
fn retarget(
    request: &mut serde_json::Value,
    (group, kind, resource): (&str, &str, &str),
    name: &str,
) {
    request["kind"] = serde_json::json!({"group": group, "version": "v1", "kind": kind});
    request["resource"] =
        serde_json::json!({"group": group, "version": "v1", "resource": resource});
    request["requestKind"] = request["kind"].clone();
    request["requestResource"] = request["resource"].clone();
    request["name"] = name.into();
}

/// Serves `router` over TLS on loopback on a 2-thread runtime; returns the port.
fn serve(router: axum::Router, files: &tls::TlsFiles) -> u16 {
    let config = tls::server_config(files).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
            axum_server::from_tcp_rustls(listener, config)
                .unwrap()
                .serve(router.into_make_service())
                .await
                .unwrap();
        });
    });
    port
}

fn trivial() -> axum::Router {
    const ALLOW: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"fixed","allowed":true}}"#;
    axum::Router::new().route(
        "/validate",
        axum::routing::post(|_body: axum::body::Bytes| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                ALLOW,
            )
        }),
    )
}

fn agent(ca: &[u8]) -> ureq::Agent {
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                .build(),
        )
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) {
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .expect("request failed");
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.body_mut().read_to_vec().unwrap();
}

/// Requests per second with `clients` closed-loop clients for `seconds`.
fn max_throughput(url: &str, ca: &[u8], bodies: &[Vec<u8>], clients: usize, seconds: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (url, ca, bodies, done, stop) = (
                url.to_string(),
                ca.to_vec(),
                bodies.to_vec(),
                done.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent(&ca);
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    post(&agent, &url, &bodies[i % bodies.len()]);
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let (start, before) = (Instant::now(), done.load(Ordering::Relaxed));
    std::thread::sleep(Duration::from_secs(seconds));
    let count = done.load(Ordering::Relaxed) - before;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    count as f64 / elapsed
}

/// Latencies (from each request's scheduled time) at `rate` requests/s for `seconds`.
fn fixed_rate(
    url: &str,
    ca: &[u8],
    bodies: &[Vec<u8>],
    rate: u64,
    seconds: u64,
) -> (Vec<Duration>, f64) {
    const CLIENTS: u64 = 32;
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now() + Duration::from_millis(500);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, ca, bodies) = (url.to_string(), ca.to_vec(), bodies.to_vec());
            std::thread::spawn(move || {
                let agent = agent(&ca);
                // Warm the connection before the clock starts.
                post(&agent, &url, &bodies[0]);
                let mut latencies = Vec::new();
                let mut k = c;
                while k < total {
                    let due = start + interval * k as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    post(&agent, &url, &bodies[k as usize % bodies.len()]);
                    latencies.push(due.elapsed());
                    k += CLIENTS;
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let achieved = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    (all, achieved)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (rate, seconds) = (env("RATE", 1000), env("SECONDS", 10));
    let dir = std::env::temp_dir().join(format!("palisade-admission-bench-{}", std::process::id()));
    let made = tls::self_signed(&dir, &["127.0.0.1".to_string()]).unwrap();
    let ca = made.ca_pem.clone().into_bytes();
    let (judge, built_in, policies) = judge();
    let bodies = reviews();
    // One verdict each, in process, to show what is being judged (and its cost alone).
    // ONLY=N judges the N-th request alone (from 0) ROUNDS times (50 by default), then stops:
    // for a profiler.
    let only: Option<usize> = std::env::var("ONLY").ok().and_then(|n| n.parse().ok());
    let rounds = env("ROUNDS", 50) as u32;
    for (n, body) in bodies.iter().enumerate() {
        if only.is_some_and(|only| only != n) {
            continue;
        }
        let review = palisade_admission::decode(body).unwrap();
        let start = Instant::now();
        for _ in 0..rounds {
            judge.validate(&review);
        }
        let each = start.elapsed() / rounds;
        let judged = judge.validate(&review);
        println!(
            "in process, one thread: {:.2} ms per request",
            each.as_secs_f64() * 1e3
        );
        println!(
            "judged {} {}: allowed={} denied={:?} warned={:?} audited={:?}",
            judged.log.kind,
            judged.log.name,
            judged.log.allowed,
            judged.log.denied,
            judged.log.warned,
            judged.log.audited
        );
    }
    if only.is_some() {
        return;
    }
    chart_let_in(&judge);
    // Both cores judging in process: what the evaluation alone allows.
    let review = palisade_admission::decode(&bodies[0]).unwrap();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..200 {
                    judge.validate(&review);
                }
            });
        }
    });
    println!(
        "in process, two threads: {:.0} requests/s",
        400.0 / start.elapsed().as_secs_f64()
    );
    if std::env::var("LOAD").is_ok_and(|l| l == "none") {
        return;
    }
    let state = AdmissionState::new(
        judge,
        Arc::new(AdmissionMetrics::default()),
        DecisionLogLevel::None,
        2,
    );
    let palisade_port = serve(
        palisade_server::admission::router(Arc::new(state)),
        &made.files,
    );
    let trivial_port = serve(trivial(), &made.files);
    println!(
        "webhook: {built_in} built-in rules + {policies} gatekeeper-library constraints; {} cores; fixed rate {rate}/s for {seconds} s",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // The load is the first four requests (Pods and a binding), as in earlier runs; the
    // rollout's requests are judged in process above.
    let bodies = &bodies[..4];
    let mut maxima = Vec::new();
    for (name, port) in [("trivial", trivial_port), ("palisade", palisade_port)] {
        let url = format!("https://127.0.0.1:{port}/validate");
        let max = max_throughput(&url, &ca, bodies, 16, 5);
        println!("{name:>9}: max {max:>8.0} req/s");
        // The target rate, and half the measured maximum when that is lower: latency where
        // the server keeps up.
        let mut rates = vec![rate];
        if (max / 2.0) < rate as f64 {
            rates.push(((max / 2.0) as u64).max(1));
        }
        for rate in rates {
            let (latencies, achieved) = fixed_rate(&url, &ca, bodies, rate, seconds);
            println!(
                "{name:>9}: at {rate}/s (achieved {achieved:.0}/s): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 1.0),
            );
        }
        maxima.push(max);
    }
    println!(
        "palisade's maximum throughput is {:.0}% of the trivial server's (target >= 50%)",
        100.0 * maxima[1] / maxima[0]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
