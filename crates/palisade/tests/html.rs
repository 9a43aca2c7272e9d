//! The HTML report opened in a real browser: the binary writes it, headless Chromium (Debian's,
//! which `.ci/run` installs) loads it from disk and prints the document it built. Text from the
//! manifests must stay text there, whatever it holds.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bin, scratch, write_file};

/// The document Chromium builds from the page at `path` (`--dump-dom`).
fn rendered(path: &Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--dump-dom",
        ])
        .arg(format!("file://{}", path.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_report_renders_every_finding_as_text_in_a_browser() {
    if !common::need_chromium() {
        return;
    }
    let dir = scratch("html-report");
    // An image reference and an annotation written to break out of the page.
    write_file(
        &dir,
        "app.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: 'registry.example.com/web:latest"><img src=x onerror=alert(1)><script>alert(2)</script>'
        securityContext: {privileged: true}
"#,
    );
    let html = dir.join("report.html");
    let report = dir.join("report.json");
    let out = bin()
        .arg("scan")
        .arg(&dir)
        .arg("-o")
        .arg(format!("html={}", html.display()))
        .arg("-o")
        .arg(format!("json={}", report.display()))
        .output()
        .unwrap();
    common::exiting(&out, 1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap().len();
    let dom = rendered(&html);
    // The browser built no element from the manifest's text: the writer's own only.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("<img"), "{dom}");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"), "{dom}");
    // Every finding is one row, and the verdict is the table's.
    assert_eq!(
        dom.matches("<tr class=\"finding\">").count(),
        findings,
        "{dom}"
    );
    assert!(
        dom.contains("<p class=\"verdict fail\" id=\"verdict\">FAIL: "),
        "{dom}"
    );
    assert!(dom.contains("POD001"), "{dom}");
}
