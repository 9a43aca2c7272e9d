//! Every hostile input found so far, kept as a regression fixture (`tests/hostile/`): each
//! loads to a bounded result with a diagnostic naming the problem, and never panics. Time and
//! memory are measured by `bench/hostile.sh`, not here (these machines are noisy).

use palisade_inventory::{Input, LoadOptions, load};

/// The kept regression inputs (small), plus large ones generated here rather than committed.
fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let generated = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&generated).unwrap();
    let mut write = |name: &str, text: String| {
        let path = generated.join(name);
        std::fs::write(&path, text).unwrap();
        files.push(path);
    };
    write(
        "duplicate-keys-100k.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata:\n".to_string()
            + &(0..100_000)
                .map(|i| format!("  k: \"{i}\"\n"))
                .collect::<String>(),
    );
    write("many-empty-documents.yaml", "---\n".repeat(200_000));
    write(
        "long-scalar.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: long}}\ndata:\n  big: \"{}\"\n",
            "x".repeat(3_000_000)
        ),
    );
    files.sort();
    files
}

#[test]
fn every_hostile_fixture_loads_to_a_bounded_result() {
    let files = fixtures();
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = load(&[Input::Path(file.clone())], &LoadOptions::default());
        let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
        match name.as_str() {
            n if n.starts_with("alias-bombs") => {
                assert_eq!(
                    codes,
                    ["limit-exceeded"],
                    "{name}: one diagnostic for the file"
                );
                assert!(loaded.diagnostics[0].message.contains("rest of the file"));
            }
            n if n.starts_with("nested-complex-keys") => {
                assert!(
                    codes.iter().all(|c| *c == "non-string-key"),
                    "{name}: {codes:?}"
                );
                assert!(codes.len() <= 21, "{name}: {} warnings", codes.len());
            }
            "duplicate-keys-100k.yaml" => {
                assert_eq!(codes.len(), 21, "{name}: bounded warnings");
                assert_eq!(loaded.inventory.objects.len(), 1);
            }
            "deep-nesting.yaml" => assert_eq!(codes, ["limit-exceeded"], "{name}"),
            "many-empty-documents.yaml" => {
                assert!(
                    codes.is_empty() && loaded.inventory.objects.is_empty(),
                    "{name}"
                )
            }
            "long-scalar.yaml" => assert_eq!(loaded.inventory.objects.len(), 1, "{name}"),
            other => panic!("no expectation for hostile fixture {other}"),
        }
    }
}

/// Ten alias-bomb files read in parallel share one run budget.
#[test]
fn alias_bombs_in_many_files_share_the_run_budget() {
    let bomb = fixtures()
        .into_iter()
        .find(|f| f.to_string_lossy().contains("alias-bombs"))
        .unwrap();
    let inputs: Vec<Input> = (0..10).map(|_| Input::Path(bomb.clone())).collect();
    let loaded = load(&inputs, &LoadOptions::default());
    assert_eq!(loaded.diagnostics.len(), 10);
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.code == "limit-exceeded")
    );
}
