//! The bundled example (`examples/vulnerabilities`): SBOMs of the shop's images in each format
//! Palisade reads, against OSV records in osv.dev's shape, with the shop's workloads.

use palisade_core::{Evidence, Severity};
use palisade_vuln::assess::{ImageUse, Sbom, assess};
use palisade_vuln::database::Database;
use palisade_vuln::sbom::Bom;
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/vulnerabilities")
}

fn sboms() -> Vec<Sbom> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(examples().join("sboms"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| Sbom {
            bom: Bom::read(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            path: path.file_name().unwrap().to_string_lossy().into_owned(),
        })
        .collect()
}

fn uses() -> Vec<ImageUse> {
    let using = |reference: &str, workload: &str, exposure: Option<&str>| ImageUse {
        reference: reference.into(),
        workload: workload.into(),
        exposure: exposure.map(str::to_string),
        leads_to: None,
        workload_index: None,
    };
    vec![
        using(
            "registry.example.com/shop/api:2.3.1",
            "Deployment shop/api",
            Some("Ingress shop/storefront"),
        ),
        using(
            "registry.example.com/shop/worker:1.8.0",
            "Deployment shop/worker",
            None,
        ),
        using(
            "nginx",
            "Deployment shop/frontend",
            Some("Service shop/frontend (LoadBalancer)"),
        ),
        using(
            "registry.example.com/logging/agent:latest",
            "DaemonSet logging/log-agent",
            None,
        ),
    ]
}

#[test]
fn every_format_is_read_with_its_image_and_release() {
    let summary: Vec<String> = sboms()
        .into_iter()
        .map(|s| {
            format!(
                "{} {} {} {:?} {}",
                s.path,
                s.bom.format,
                s.bom.image.join(","),
                s.bom.os_release,
                s.bom.packages.len()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "api.cdx.json CycloneDX registry.example.com/shop/api:2.3.1,registry.example.com/shop/api@sha256:5b0f0a1c3d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8 Some(\"12.2\") 5",
            "frontend.trivy.json Trivy nginx:latest,nginx@sha256:32da30332506740a2f7c34d5dc70467b7f14ec67d912703568daff790ab3f755 Some(\"12.1\") 3",
            "log-agent.grype.json Grype registry.example.com/logging/agent:latest Some(\"12\") 1",
            "reports.spdx.json SPDX registry.example.com/shop/reports@sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c,registry.example.com/shop/reports:0.4.0 None 1",
            "worker.syft.json Syft registry.example.com/shop/worker:1.8.0,registry.example.com/shop/worker@sha256:2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b Some(\"3.18.4\") 4",
        ]
    );
}

#[test]
fn the_shops_images_have_the_vulnerabilities_their_advisories_name() {
    let database = Database::load(&[examples().join("osv")]).unwrap();
    assert!(
        database.diagnostics.is_empty(),
        "{:?}",
        database.diagnostics
    );
    let assessment = assess(&database, &sboms(), &uses());
    let found: Vec<String> = assessment
        .findings
        .iter()
        .map(|f| {
            let Evidence::Package {
                name,
                installed,
                fixed,
            } = &f.evidence()[0]
            else {
                panic!("no package evidence: {}", f.message)
            };
            format!(
                "{} {} {name} {installed} -> {} {:?} [{}]",
                f.subject.identity_key(),
                f.discriminator().unwrap().split(' ').next().unwrap(),
                fixed.as_deref().unwrap_or("-"),
                f.severity,
                f.affected().join(", ")
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            // The Go module and the toolchain: two CVEs (GitHub's and Go's advisories).
            "image:registry.example.com/shop/api:2.3.1 CVE-2023-39325 golang.org/x/net v0.15.0 -> 0.17.0 Medium [Deployment shop/api]",
            "image:registry.example.com/shop/api:2.3.1 CVE-2023-44487 golang.org/x/net v0.15.0 -> 0.17.0 Critical [Deployment shop/api]",
            // Debian's advisory names the source package; the rating is the CVE record's.
            "image:registry.example.com/shop/api:2.3.1 CVE-2023-4911 libc6 2.36-9+deb12u1 -> 2.36-9+deb12u3 High [Deployment shop/api]",
            "image:registry.example.com/shop/api:2.3.1 CVE-2023-39325 stdlib v1.21.1 -> 1.21.3 Medium [Deployment shop/api]",
            "image:nginx CVE-2023-4911 libc6 2.36-9+deb12u1 -> 2.36-9+deb12u3 High [Deployment shop/frontend]",
            // Exposed by a LoadBalancer: Debian's unrated advisory takes the CVE's rating from
            // GitHub's (7.5, over the network), raised a level.
            "image:nginx CVE-2023-44487 libnghttp2-14 1.52.0-1 -> 1.52.0-1+deb12u1 Critical [Deployment shop/frontend]",
            "image:registry.example.com/logging/agent:latest CVE-2021-23337 lodash 4.17.15 -> 4.17.21 High [DaemonSet logging/log-agent]",
            // Run by no workload of the inputs: on the SBOM's own name.
            "image:registry.example.com/shop/reports@sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c CVE-2022-42889 org.apache.commons:commons-text 1.9 -> 1.10.0 Critical []",
            "image:registry.example.com/shop/worker:1.8.0 CVE-2023-5363 libcrypto3 3.1.2-r0 -> 3.1.4-r0 Medium [Deployment shop/worker]",
            // GitHub's and PyPI's advisories for one CVE: one finding.
            "image:registry.example.com/shop/worker:1.8.0 CVE-2023-32681 requests 2.28.1 -> 2.31.0 Medium [Deployment shop/worker]",
        ]
    );
    let high = |id: &str| {
        assessment
            .findings
            .iter()
            .find(|f| f.discriminator().is_some_and(|d| d.starts_with(id)))
            .unwrap()
            .message
            .to_string()
    };
    assert!(
        high("CVE-2023-44487").contains("raised: exploitable over the network in an image exposed to the internet (Ingress shop/storefront)"),
        "{}",
        high("CVE-2023-44487")
    );
    assert!(
        high("CVE-2023-32681").contains("[GHSA-j8r2-6x86-q33q, PYSEC-2023-74]"),
        "{}",
        high("CVE-2023-32681")
    );
    assert!(high("CVE-2023-5363").contains("no rating in the advisory; rated medium"));
    assert_eq!(
        assessment
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::High)
            .count(),
        6
    );
    let diagnostics: Vec<String> = assessment
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{} {}: {}",
                d.code,
                d.file.as_deref().unwrap_or(""),
                d.message
            )
        })
        .collect();
    assert_eq!(
        diagnostics,
        [
            "packages-not-assessed log-agent.grype.json: a Grype report lists only the packages Grype found vulnerable: give the image's SBOM (`syft IMAGE -o cyclonedx-json`) for every package to be judged",
            "image-not-run reports.spdx.json: the SBOM describes registry.example.com/shop/reports@sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c, registry.example.com/shop/reports:0.4.0, which no workload of the inputs runs",
            "packages-not-assessed worker.syft.json: 1 package not assessed: no OSV ecosystem with known version ordering for `generic` packages",
        ]
    );
    assert_eq!((assessment.packages, assessment.assessed), (14, 13));
}

#[test]
fn a_flaw_in_an_image_whose_workload_reaches_cluster_admin_says_so_and_counts_more() {
    let database = Database::load(&[examples().join("osv")]).unwrap();
    let mut uses = uses();
    let worker = uses
        .iter_mut()
        .find(|u| u.workload == "Deployment shop/worker")
        .unwrap();
    worker.leads_to = Some("cluster-admin in 3 steps".into());
    let assessment = assess(&database, &sboms(), &uses);
    let finding = |id: &str| {
        assessment
            .findings
            .iter()
            .find(|f| f.discriminator().is_some_and(|d| d.starts_with(id)))
            .unwrap()
    };
    // requests' flaw is exploited over the network: one level up, with the reason.
    let requests = finding("CVE-2023-32681");
    assert_eq!(requests.severity, Severity::High);
    assert!(
        requests.message.contains(
            "raised: exploitable over the network, and a compromise of Deployment shop/worker reaches cluster-admin in 3 steps"
        ),
        "{}",
        requests.message
    );
    // The workloads with a flaw of high severity or more exploited over the network, for the
    // attack graph: the frontend's nghttp2 (high as rated, raised for the exposure) and the
    // log agent's lodash; the worker's requests flaw is medium as rated.
    let mut numbered = uses.clone();
    for (i, use_) in numbered.iter_mut().enumerate() {
        use_.workload_index = Some(i);
    }
    let exploitable: Vec<(usize, String)> = assess(&database, &sboms(), &numbered)
        .exploitable
        .into_iter()
        .map(|e| (e.workload_index, e.evidence))
        .collect();
    assert_eq!(
        exploitable,
        [
            (
                0,
                "CVE-2023-44487 in golang.org/x/net v0.15.0 (high, exploitable over the network)"
                    .to_string()
            ),
            (
                2,
                "CVE-2023-44487 in libnghttp2-14 1.52.0-1 (high, exploitable over the network)"
                    .to_string()
            ),
            (
                3,
                "CVE-2021-23337 in lodash 4.17.15 (high, exploitable over the network)".to_string()
            ),
        ],
        "{exploitable:#?}"
    );
    // An unrated advisory is not raised, but the reach is said.
    let libcrypto = finding("CVE-2023-5363");
    assert_eq!(libcrypto.severity, Severity::Medium);
    assert!(
        libcrypto.message.ends_with(
            "; a compromise of Deployment shop/worker reaches cluster-admin in 3 steps)"
        ),
        "{}",
        libcrypto.message
    );
}
