//! `palisade fix` end to end: the real binary on files in a scratch directory, scanned again
//! with the real binary afterwards.

mod common;

use std::path::Path;

use common::{bin, json, scratch, write_file};

/// A Deployment with comments, a compact sequence, a credential in its env, and nothing set
/// in its security contexts.
const WEB: &str = "\
# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # owned by team web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0 # pinned
        env:
        - name: DB_PASSWORD
          value: Qz7canaryPassw0rdXk9
        securityContext:
          runAsUser: 1000
";

/// A chart `web` under `dir/chart` with one template, and values when given.
fn chart(dir: &Path, template: &str, values: Option<&str>) {
    write_file(
        dir,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write_file(dir, "chart/templates/web.yaml", template);
    if let Some(values) = values {
        write_file(dir, "chart/values.yaml", values);
    }
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The open findings of a scan of `dir`, as (rule, object, path).
fn open_findings(dir: &Path) -> Vec<(String, String, String)> {
    let out = run(dir, &["scan", ".", "-o", "json", "--fail-on", "none"]);
    let report = json(&out);
    let mut found: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppression").is_none())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["object"].to_string(),
                f["location"]["path"].to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn fixes_are_shown_then_written_and_scanning_again_finds_them_gone() {
    let dir = scratch("fix-write");
    write_file(&dir, "web.yaml", WEB);
    let before = open_findings(&dir);

    // Without --write: a diff, nothing written, the credential beside it shown as its tag.
    let shown = run(&dir, &["fix", "."]);
    let text = stdout(&shown);
    assert_eq!(shown.status.code(), Some(0), "{text}");
    assert!(text.contains("--- a/web.yaml\n+++ b/web.yaml\n"), "{text}");
    assert!(
        text.contains("+          allowPrivilegeEscalation: false\n"),
        "{text}"
    );
    assert!(!text.contains("Qz7canaryPassw0rdXk9"), "{text}");
    assert!(
        text.contains("          value: [REDACTED]\n"),
        "the line is shown, redacted: {text}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("web.yaml")).unwrap(), WEB);
    assert_eq!(run(&dir, &["fix", ".", "--check"]).status.code(), Some(1));
    // The same for tools: the additions with their rules, and the redacted diff.
    let report = json(&run(&dir, &["fix", ".", "-o", "json"]));
    let file = &report["files"][0];
    assert_eq!(file["path"], "./web.yaml");
    assert_eq!(file["resolved"]["POD014"], 1);
    assert_eq!(file["written"], false);
    assert_eq!(file["objects"][0]["object"], "Deployment shop/web");
    let additions = file["objects"][0]["additions"].as_array().unwrap();
    assert!(additions.iter().any(|a| a["pointer"]
        == "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"
        && a["value"] == false
        && a["rules"][0] == "POD002"));
    // The edits, applied to the file as read, make what --write writes (checked below).
    let mut edited = WEB.to_string();
    for edit in file["edits"].as_array().unwrap().iter().rev() {
        let (start, end) = (
            edit["start"].as_u64().unwrap(),
            edit["end"].as_u64().unwrap(),
        );
        edited.replace_range(
            start as usize..end as usize,
            edit["replacement"].as_str().unwrap(),
        );
    }
    let diff = file["diff"].as_str().unwrap();
    assert!(
        diff.contains("[REDACTED]") && !diff.contains("Qz7canary"),
        "{diff}"
    );
    assert_eq!(report["left_open"], serde_json::json!({}));

    let written = run(&dir, &["fix", ".", "--write"]);
    assert_eq!(written.status.code(), Some(0), "{}", stdout(&written));
    let fixed = std::fs::read_to_string(dir.join("web.yaml")).unwrap();
    assert_eq!(fixed, edited);
    assert_eq!(
        fixed,
        WEB.to_string()
            + "          allowPrivilegeEscalation: false\n          capabilities:\n            drop:\n            - ALL\n      securityContext:\n        \
               seccompProfile:\n          type: RuntimeDefault\n"
    );
    // The three findings are gone (a non-zero runAsUser leaves no POD003) and nothing is new.
    let after = open_findings(&dir);
    let gone: Vec<_> = before.iter().filter(|f| !after.contains(f)).collect();
    let mut rules: Vec<&str> = gone.iter().map(|f| f.0.as_str()).collect();
    rules.sort();
    assert_eq!(rules, ["POD002", "POD008", "POD014"], "{gone:?}");
    assert!(after.iter().all(|f| before.contains(f)), "{after:?}");
    // Fixing again changes nothing.
    let again = run(&dir, &["fix", ".", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(stdout(&again).contains("nothing to fix"));
}

#[test]
fn a_suppressed_finding_keeps_its_field_and_rules_narrow_the_fix() {
    let dir = scratch("fix-suppressed");
    write_file(&dir, "web.yaml", WEB);
    write_file(
        &dir,
        "palisade.toml",
        "[[suppress]]\nrule = \"POD002\"\nreason = \"setuid helper, reviewed\"\nname = \"web\"\n",
    );
    let out = run(&dir, &["fix", ".", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let fixed = std::fs::read_to_string(dir.join("web.yaml")).unwrap();
    assert!(!fixed.contains("allowPrivilegeEscalation"), "{fixed}");
    assert!(fixed.contains("seccompProfile"), "{fixed}");

    let dir = scratch("fix-rules");
    write_file(&dir, "web.yaml", WEB);
    let out = run(
        &dir,
        &["fix", ".", "--rules", "seccomp-profile-missing", "--write"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let fixed = std::fs::read_to_string(dir.join("web.yaml")).unwrap();
    assert!(
        fixed.contains("seccompProfile") && !fixed.contains("drop:"),
        "{fixed}"
    );

    let wrong = run(&dir, &["fix", ".", "--rules", "POD001"]);
    assert_eq!(wrong.status.code(), Some(2));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("POD001 has no automatic fix"), "{err}");
}

/// A container that may run as root keeps its capabilities unless asked: the image's user is
/// not in the manifest.
#[test]
fn what_the_manifest_cannot_tell_is_left_open_unless_asked() {
    let dir = scratch("fix-root");
    let root = WEB.replace("        securityContext:\n          runAsUser: 1000\n", "");
    write_file(&dir, "web.yaml", &root);
    let out = run(&dir, &["fix", "."]);
    let text = stdout(&out);
    assert!(text.contains("left open (POD003 1, POD008 1)"), "{text}");
    assert!(!text.contains("+            drop:"), "{text}");
    let asked = run(
        &dir,
        &[
            "fix",
            ".",
            "--run-as-non-root",
            "always",
            "--drop-all-capabilities",
            "always",
        ],
    );
    let text = stdout(&asked);
    assert!(
        text.contains("+        runAsNonRoot: true") && text.contains("- ALL"),
        "{text}"
    );
}

/// What cannot be edited in place is said, with exit 2, and nothing of that file is written;
/// the other files are fixed.
#[test]
fn files_that_cannot_be_edited_are_named_and_left_alone() {
    let dir = scratch("fix-refused");
    write_file(&dir, "web.yaml", WEB);
    let odd = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: !!map\n  ? containers\n  : [{name: a, image: registry.example.com/a:1}]\n";
    write_file(&dir, "odd.yaml", odd);
    let out = run(&dir, &["fix", ".", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("not fixed: ./odd.yaml: not edited in place: Pod shop/p"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("odd.yaml")).unwrap(), odd);
    assert_ne!(std::fs::read_to_string(dir.join("web.yaml")).unwrap(), WEB);

    let stdin = bin().args(["fix", "-"]).output().unwrap();
    assert_eq!(stdin.status.code(), Some(2));
}

/// A custom resource with a pod template, which Kustomize cannot merge by container name.
const ROLLOUT: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: canary
spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0
";

/// What `kubectl kustomize DIR` renders, in `root`.
fn kustomize(root: &Path, dir: &str) -> String {
    let out = std::process::Command::new("kubectl")
        .current_dir(root)
        .args(["kustomize", dir])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The open findings of rules `palisade fix` resolves in a scan of `path`.
fn fixable_open(dir: &Path, path: &str) -> Vec<String> {
    let out = run(dir, &["scan", path, "-o", "json", "--fail-on", "none"]);
    json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppression").is_none())
        .filter(|f| ["POD002", "POD014"].contains(&f["rule"].as_str().unwrap()))
        .map(|f| format!("{} {}", f["rule"], f["object"]))
        .collect()
}

/// An overlay whose objects come from a base outside it gets a patch in its own directory,
/// listed under its `patches:`; the base, which other overlays may share, is not touched. The
/// overlay's name prefix and namespace do not stop the patch from reaching its objects, and a
/// custom resource gets a JSON 6902 patch guarded by its container's name.
#[test]
fn an_overlay_gets_a_patch_and_its_base_is_left_alone() {
    if !common::need_kubectl() {
        return;
    }
    let dir = scratch("fix-overlay");
    let base_kustomization = "resources:\n- web.yaml\n- rollout.yaml\nnamePrefix: b-\n";
    write_file(&dir, "base/kustomization.yaml", base_kustomization);
    write_file(&dir, "base/web.yaml", WEB);
    write_file(&dir, "base/rollout.yaml", ROLLOUT);
    let overlay = "# production\nresources:\n  - ../../base\nnamePrefix: prod-\nnamespace: prod\n\
                   patches:\n  - path: replicas.yaml\n";
    write_file(&dir, "overlays/prod/kustomization.yaml", overlay);
    write_file(
        &dir,
        "overlays/prod/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {replicas: 3}\n",
    );
    let before = kustomize(&dir, "overlays/prod");
    assert_eq!(fixable_open(&dir, "overlays/prod").len(), 4);

    let out = run(&dir, &["fix", "overlays/prod"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for shown in [
        "--- /dev/null\n+++ b/overlays/prod/palisade-hardening.yaml",
        // Named as the base names it, the container by its name.
        "+metadata:\n+  name: web\n",
        "+      - name: app\n+        securityContext:\n+          allowPrivilegeEscalation: false\n",
        "+++ b/overlays/prod/palisade-hardening-rollout-canary.yaml",
        "+- op: test\n+  path: \"/spec/template/spec/containers/0/name\"\n+  value: app\n",
        // The list goes on at its items' column.
        "   - path: replicas.yaml\n+  - path: palisade-hardening.yaml\n+  - path: palisade-hardening-rollout-canary.yaml\n",
        "overlays/prod/kustomization.yaml: lists overlays/prod/palisade-hardening.yaml, overlays/prod/palisade-hardening-rollout-canary.yaml under `patches:`",
    ] {
        assert!(text.contains(shown), "{shown}\n{text}");
    }
    assert!(!dir.join("overlays/prod/palisade-hardening.yaml").exists());

    let out = run(&dir, &["fix", "overlays/prod", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("created overlays/prod/palisade-hardening.yaml"),
        "{text}"
    );
    for (file, was) in [
        ("base/web.yaml", WEB),
        ("base/rollout.yaml", ROLLOUT),
        ("base/kustomization.yaml", base_kustomization),
    ] {
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).unwrap(),
            was,
            "{file}"
        );
    }
    let edited = std::fs::read_to_string(dir.join("overlays/prod/kustomization.yaml")).unwrap();
    assert!(edited.starts_with(overlay), "{edited}");
    assert_eq!(fixable_open(&dir, "overlays/prod"), Vec::<String>::new());
    // The rendering is the one before with the fields added: nothing else changed (the
    // custom resource keeps its image, which a strategic merge would have dropped).
    let after = kustomize(&dir, "overlays/prod");
    assert!(after.contains("image: registry.example.com/web:1.0\n        name: app\n        securityContext:\n          allowPrivilegeEscalation: false"), "{after}");
    let removed: Vec<&str> = before.lines().filter(|l| !after.contains(l)).collect();
    assert!(removed.is_empty(), "{removed:?}");
    // A second run has nothing to do and writes no second patch.
    let out = run(&dir, &["fix", "overlays/prod", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!dir.join("overlays/prod/palisade-hardening-2.yaml").exists());
}

/// Objects a kustomization renders from files in the directory named are edited in those
/// files (`--no-kustomize` reads the files one by one, and fixes them alike); an overlay whose
/// `patches:` cannot take an entry is named and left alone.
#[test]
fn a_kustomizations_own_files_are_edited_in_place() {
    if !common::need_kubectl() {
        return;
    }
    let dir = scratch("fix-kustomize");
    write_file(&dir, "base/kustomization.yaml", "resources:\n- web.yaml\n");
    write_file(&dir, "base/web.yaml", WEB);
    write_file(
        &dir,
        "flow/kustomization.yaml",
        "resources: [../base]\npatches: []\n",
    );
    let out = run(&dir, &["fix", "flow"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "not fixed: flow: rendered by Kustomize, and its `patches:` is empty or not a list"
        ),
        "{text}"
    );
    let out = run(&dir, &["fix", "base", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("wrote base/web.yaml"), "{text}");
    assert!(!dir.join("base/palisade-hardening.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("base/kustomization.yaml")).unwrap(),
        "resources:\n- web.yaml\n"
    );
    assert_eq!(fixable_open(&dir, "base"), Vec::<String>::new());
    // The same edit as reading the file on its own.
    let fixed = std::fs::read_to_string(dir.join("base/web.yaml")).unwrap();
    write_file(&dir, "base/web.yaml", WEB);
    let out = run(&dir, &["fix", "base", "--no-kustomize", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("base/web.yaml")).unwrap(),
        fixed
    );
}

#[test]
fn a_chart_is_not_edited() {
    if !common::need_helm() {
        return;
    }
    let dir = scratch("fix-helm");
    chart(&dir, WEB, None);
    let out = run(&dir, &["fix", "chart", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("rendered by Helm"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.join("chart/templates/web.yaml")).unwrap(),
        WEB
    );
}

/// A symbolic link's target is written, and the link stays a link.
#[cfg(unix)]
#[test]
fn a_linked_file_is_written_through_its_link() {
    let dir = scratch("fix-link");
    write_file(&dir, "real/web.yaml", WEB);
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::os::unix::fs::symlink(dir.join("real/web.yaml"), dir.join("deploy/web.yaml")).unwrap();
    let out = run(&dir, &["fix", "deploy", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        std::fs::symlink_metadata(dir.join("deploy/web.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(dir.join("real/web.yaml"))
            .unwrap()
            .contains("seccompProfile")
    );
}

/// `helm create`'s way: the templates write `.Values.podSecurityContext` and
/// `.Values.securityContext`, so the fields go into values.yaml.
const CHART_TEMPLATE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
      - name: web
        image: registry.example.com/web:1.0
        securityContext:
          {{- toYaml .Values.securityContext | nindent 10 }}
";

const CHART_VALUES: &str = "\
replicaCount: 1

podSecurityContext:
  runAsUser: 1000
  # fsGroup: 2000

securityContext: {}
  # capabilities:
  #   drop:
  #   - ALL
";

#[test]
fn a_charts_fields_go_into_its_values() {
    if !common::need_helm() {
        return;
    }
    let dir = scratch("fix-helm-values");
    chart(&dir, CHART_TEMPLATE, Some(CHART_VALUES));
    // The chart named as people type it: its templates are named by their normalised paths.
    let out = run(&dir, &["fix", "./chart/", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("chart/values.yaml: 3 findings resolved (POD002 1, POD008 1, POD014 1)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("chart/values.yaml")).unwrap(),
        "replicaCount: 1\n\npodSecurityContext:\n  runAsUser: 1000\n  \
         seccompProfile:\n    type: RuntimeDefault\n  # fsGroup: 2000\n\nsecurityContext:\n  \
         allowPrivilegeEscalation: false\n  capabilities:\n    drop:\n      - ALL\n  \
         # capabilities:\n  #   drop:\n  #   - ALL\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("chart/templates/web.yaml")).unwrap(),
        CHART_TEMPLATE
    );
    let again = run(&dir, &["fix", "chart", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(stdout(&again).contains("nothing to fix"));
    // A test pod that does not read the values keeps its findings open, and a second run
    // settles all the same. Its container may run as root, so dropping every capability stays
    // out of the values the main container reads too.
    write_file(
        &dir,
        "chart/templates/test.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: probe}\nspec:\n  containers: [{name: p, image: registry.example.com/p:1}]\n",
    );
    write_file(&dir, "chart/values.yaml", CHART_VALUES);
    let out = run(&dir, &["fix", "chart", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let again = run(&dir, &["fix", "chart", "--check"]);
    let text = stdout(&again);
    assert_eq!(again.status.code(), Some(0), "{text}");
    assert!(
        text.contains("left open (POD002 1, POD003 1, POD008 2, POD014 1)"),
        "{text}"
    );
}

/// A chart whose templates do not read the values it has is refused, and nothing is written.
#[test]
fn values_no_template_reads_are_not_written() {
    if !common::need_helm() {
        return;
    }
    let dir = scratch("fix-helm-unread");
    chart(&dir, WEB, Some(CHART_VALUES));
    let out = run(&dir, &["fix", "chart", "--write"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("its templates do not read these values"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("chart/values.yaml")).unwrap(),
        CHART_VALUES
    );
}

/// A RayCluster's head and worker templates are each hardened where the fields go, named by
/// template in the summary, and so is a KServe predictor with its container written alone
/// (`sklearn`); scanning again finds what was fixed gone, and a second fix has nothing to do.
#[test]
fn each_pod_template_of_a_ray_cluster_is_fixed() {
    let dir = scratch("fix-grouped");
    write_file(
        &dir,
        "ray.yaml",
        "apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: train, namespace: ml}
spec:
  headGroupSpec:
    rayStartParams: {}
    template:
      spec:
        containers:
        - name: head
          image: rayproject/ray:2.9
  workerGroupSpecs:
  - groupName: gpu
    template:
      spec:
        containers:
        - name: worker
          image: rayproject/ray:2.9
",
    );
    write_file(
        &dir,
        "isvc.yaml",
        "apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: ml}
spec:
  predictor:
    sklearn:
      storageUri: gs://models/iris
",
    );
    let shown = run(&dir, &["fix", "."]);
    let text = stdout(&shown);
    assert!(
        text.contains("the pod of spec.headGroupSpec.template: seccompProfile: RuntimeDefault")
            && text.contains(
                "container \"worker\" of spec.workerGroupSpecs.0.template: allowPrivilegeEscalation: false"
            )
            && text.contains(
                "container \"sklearn\" of spec.predictor: allowPrivilegeEscalation: false"
            ),
        "{text}"
    );
    let fixed = |rule: &str| {
        open_findings(&dir)
            .into_iter()
            .filter(|(r, _, _)| r == rule)
            .count()
    };
    assert_eq!((fixed("POD002"), fixed("POD014")), (3, 3));
    assert_eq!(run(&dir, &["fix", ".", "--write"]).status.code(), Some(0));
    assert_eq!((fixed("POD002"), fixed("POD014")), (0, 0));
    let again = stdout(&run(&dir, &["fix", "."]));
    assert!(again.starts_with("nothing to fix"), "{again}");
}
