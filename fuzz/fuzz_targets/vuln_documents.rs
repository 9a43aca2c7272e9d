//! Fuzzes the vulnerability decoders: any bytes read as an SBOM (every format), as an OSV
//! record and as package URLs, never a panic; every package read is named for its ecosystem,
//! matched against the records read, and every version ordering is total and antisymmetric on
//! the input's words.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run vuln_documents`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vuln::assess::{ImageUse, Sbom, assess};
use palisade_vuln::database::Database;
use palisade_vuln::package::{Package, Source};
use palisade_vuln::purl::Purl;
use palisade_vuln::sbom::Bom;
use palisade_vuln::version::Scheme;

fuzz_target!(|data: &[u8]| {
    let database = Database::from_texts([("fuzz.json", data)]);
    if let Ok(bom) = Bom::read(data) {
        for listed in &bom.packages {
            let _ = Package::from_purl(&listed.purl, &listed.source, bom.os_release.as_deref());
        }
        let uses = [ImageUse {
            reference: "nginx".into(),
            workload: "Deployment a/b".into(),
            exposure: Some("Service a/b".into()),
            leads_to: Some("cluster-admin in 2 steps".into()),
            workload_index: Some(0),
        }];
        let _ = assess(
            &database,
            &[Sbom {
                path: "fuzz.json".into(),
                bom,
            }],
            &uses,
        );
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<&str> = text.split_whitespace().take(8).collect();
    for word in &words {
        if let Some(purl) = Purl::parse(word) {
            let _ = Package::from_purl(&purl, &Source::default(), Some("12"));
        }
    }
    for scheme in Scheme::ALL {
        for a in &words {
            assert_eq!(
                scheme.compare(a, a),
                std::cmp::Ordering::Equal,
                "{scheme:?} {a}"
            );
            for b in &words {
                assert_eq!(
                    scheme.compare(a, b),
                    scheme.compare(b, a).reverse(),
                    "{scheme:?} {a} {b}"
                );
            }
        }
    }
});
