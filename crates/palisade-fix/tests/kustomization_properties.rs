//! Property test of the kustomization editor: kustomizations written in the ways people write
//! them (indentation of 2 to 4, lists at or under their key, comments, a `patches:` list of
//! paths, inline patches or targets, or none, keys after it, CRLF, no final line break) take
//! the patch entries: the text reads back as the kustomization with the entries last in
//! `patches:`, and every line it had is still there, in order.

use palisade_fix::kustomize::add_patch;
use palisade_inventory::Limits;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Layout {
    step: usize,
    compact: bool,
    crlf: bool,
    final_break: bool,
    /// 0: none; 1: paths; 2: with a target; 3: an inline patch
    patches: u8,
    patches_first: bool,
    comments: bool,
    entries: usize,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        2usize..5,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        1usize..4,
    )
        .prop_map(
            |(step, compact, crlf, final_break, patches, patches_first, comments, entries)| {
                Layout {
                    step,
                    compact,
                    crlf,
                    final_break,
                    patches,
                    patches_first,
                    comments,
                    entries,
                }
            },
        )
}

/// The kustomization's lines.
fn write(layout: &Layout) -> String {
    let pad = |n: usize| " ".repeat(n * layout.step);
    let item = if layout.compact {
        String::new()
    } else {
        pad(1)
    };
    let mut resources = vec!["resources:".to_string(), format!("{item}- ../../base")];
    if layout.comments {
        resources.push(format!("{item}# the shared base"));
    }
    let mut patches = Vec::new();
    if layout.patches > 0 {
        patches.push("patches:".to_string());
        patches.push(format!("{item}- path: replicas.yaml"));
        match layout.patches {
            2 => {
                patches.push(format!("{item}  target:"));
                patches.push(format!("{item}  {}kind: Deployment", pad(1)));
            }
            3 => {
                patches.push(format!("{item}- patch: |-"));
                patches.push(format!("{item}  {}- op: add", pad(1)));
                patches.push(format!("{item}  {}  path: /metadata/labels/x", pad(1)));
                patches.push(format!("{item}  {}  value: y", pad(1)));
                if layout.comments {
                    patches.push("# after the patches".to_string());
                }
            }
            _ => {}
        }
    }
    let others = vec![
        "namePrefix: prod-".to_string(),
        "namespace: prod".to_string(),
    ];
    let lines: Vec<String> = match layout.patches_first {
        true => [patches, resources, others].concat(),
        false => [resources, others, patches].concat(),
    };
    let nl = if layout.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(nl);
    if layout.final_break {
        text.push_str(nl);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn patch_entries_go_last_and_keep_every_line(layout in layout()) {
        let text = write(&layout);
        let entries: Vec<Value> = (0..layout.entries)
            .map(|i| match i {
                0 => json!({"path": "palisade-hardening.yaml"}),
                i => json!({"path": format!("palisade-hardening-rollout-{i}.yaml"),
                    "target": {"group": "argoproj.io", "version": "v1alpha1",
                        "kind": "Rollout", "name": format!("r{i}")}}),
            })
            .collect();
        let limits = Limits::default();
        let (fixed, _) = add_patch("kustomization.yaml", &text, &limits, &entries)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let read = palisade_inventory::yaml::parse_stream(&fixed, &limits);
        let patches = read.documents[0].value["patches"].as_array().cloned().unwrap_or_default();
        prop_assert_eq!(&patches[patches.len() - entries.len()..], &entries[..], "{}", fixed);
        // Every line of the original is there, in order.
        let mut rest = fixed.lines();
        for line in text.lines() {
            prop_assert!(rest.any(|l| l == line), "{:?} lost:\n{}", line, fixed);
        }
        prop_assert_eq!(fixed.contains("\r\n"), layout.crlf);
        prop_assert_eq!(fixed.ends_with('\n'), layout.final_break, "{}", fixed);
    }
}
