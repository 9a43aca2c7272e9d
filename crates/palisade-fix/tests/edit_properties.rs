//! Property test of the manifest editor: pod specs written in the ways people write them
//! (indentation of 2 to 4, sequences at or under their key, comments anywhere, block and flow
//! containers, security contexts absent, empty, null or partly set, CRLF, no final line
//! break) are edited so that they read back as the hardened objects, keep every comment, and
//! need no second fix.

use palisade_fix::hardening::{Hardening, RunAsNonRoot, every, for_object};
use palisade_fix::{FileFix, fix_text};
use palisade_inventory::Object;
use proptest::prelude::*;

fn hardened(object: &Object) -> Vec<palisade_fix::Addition> {
    let settings = Hardening {
        run_as_non_root: RunAsNonRoot::Always,
        ..Hardening::default()
    };
    for_object(object, &settings, &every)
}

/// How one container is written.
#[derive(Debug, Clone)]
struct Container {
    flow: bool,
    /// 0 absent, 1 `{}`, 2 `null`, 3 empty value, 4 with capabilities added, 5 with a user
    context: u8,
    ports: bool,
    comment: bool,
}

fn container() -> impl Strategy<Value = Container> {
    (any::<bool>(), 0u8..6, any::<bool>(), any::<bool>()).prop_map(
        |(flow, context, ports, comment)| Container {
            flow,
            context,
            ports,
            comment,
        },
    )
}

#[derive(Debug, Clone)]
struct Layout {
    step: usize,
    compact: bool,
    crlf: bool,
    final_break: bool,
    pod_context: u8,
    containers: Vec<Container>,
    trailing_comment: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        2usize..5,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..4,
        prop::collection::vec(container(), 1..4),
        any::<bool>(),
    )
        .prop_map(
            |(step, compact, crlf, final_break, pod_context, containers, trailing_comment)| {
                Layout {
                    step,
                    compact,
                    crlf,
                    final_break,
                    pod_context,
                    containers,
                    trailing_comment,
                }
            },
        )
}

/// `depth` levels of `step` spaces.
fn pad(step: usize, depth: usize) -> String {
    " ".repeat(step * depth)
}

fn context_lines(kind: u8, key_pad: &str, step: usize, out: &mut Vec<String>) {
    let inner = format!("{key_pad}{}", " ".repeat(step));
    match kind {
        1 => out.push(format!("{key_pad}securityContext: {{}}")),
        2 => out.push(format!("{key_pad}securityContext: null")),
        3 => out.push(format!("{key_pad}securityContext:   # to do")),
        4 => {
            out.push(format!("{key_pad}securityContext:"));
            out.push(format!("{inner}capabilities:"));
            out.push(format!(
                "{inner}{}add: [NET_BIND_SERVICE]",
                " ".repeat(step)
            ));
        }
        5 => {
            out.push(format!("{key_pad}securityContext:"));
            out.push(format!("{inner}runAsUser: 1000 # app user"));
        }
        _ => {}
    }
}

fn manifest(layout: &Layout) -> String {
    let s = layout.step;
    let mut lines = vec![
        "# a workload".to_string(),
        "apiVersion: apps/v1".to_string(),
        "kind: Deployment".to_string(),
        "metadata:".to_string(),
        format!("{}name: web", pad(s, 1)),
        "spec:".to_string(),
        format!("{}selector: {{matchLabels: {{app: web}}}}", pad(s, 1)),
        format!("{}template:", pad(s, 1)),
        format!("{}metadata: {{labels: {{app: web}}}}", pad(s, 2)),
        format!("{}spec:", pad(s, 2)),
    ];
    let spec_pad = pad(s, 3);
    context_lines(layout.pod_context, &spec_pad, s, &mut lines);
    lines.push(format!("{spec_pad}containers:"));
    let dash_pad = if layout.compact {
        spec_pad.clone()
    } else {
        pad(s, 4)
    };
    for (i, c) in layout.containers.iter().enumerate() {
        if c.comment {
            lines.push(format!("{dash_pad}# container {i}"));
        }
        if c.flow {
            lines.push(format!(
                "{dash_pad}- {{name: c{i}, image: \"registry.example.com/c:{i}\"}}"
            ));
            continue;
        }
        lines.push(format!("{dash_pad}- name: c{i}"));
        let key_pad = format!("{dash_pad}  ");
        lines.push(format!(
            "{key_pad}image: registry.example.com/c:{i}  # pinned"
        ));
        if c.ports {
            let item_pad = if layout.compact {
                key_pad.clone()
            } else {
                format!("{key_pad}{}", " ".repeat(s))
            };
            lines.push(format!("{key_pad}ports:"));
            lines.push(format!("{item_pad}- containerPort: 80{i}"));
            lines.push(String::new());
        }
        context_lines(c.context, &key_pad, s, &mut lines);
    }
    if layout.trailing_comment {
        lines.push("# end of the workload".to_string());
    }
    let newline = if layout.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(newline);
    if layout.final_break {
        text.push_str(newline);
    }
    text
}

fn comments(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.find('#').map(|at| l[at..].trim_end()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn edited_manifests_read_back_hardened_keep_comments_and_settle(layout in layout()) {
        let text = manifest(&layout);
        let limits = Default::default();
        let fix: FileFix = match fix_text("m.yaml", &text, &limits, &hardened) {
            Ok(Some(fix)) => fix,
            other => panic!("{other:?}\n{text}"),
        };
        // Read back as the hardened object, checked here apart from fix_text's own check.
        let before = palisade_inventory::load_text("m.yaml", &text, &limits);
        let after = palisade_inventory::load_text("m.yaml", &fix.fixed, &limits);
        prop_assert_eq!(after.inventory.objects.len(), 1);
        let mut expected = before.inventory.objects[0].value.clone();
        prop_assert!(palisade_fix::hardening::apply(&mut expected, &fix.changes[0].1));
        prop_assert_eq!(&after.inventory.objects[0].value, &expected);
        prop_assert!(hardened(&after.inventory.objects[0]).is_empty());
        prop_assert_eq!(comments(&fix.fixed), comments(&text));
        prop_assert_eq!(fix.fixed.contains("\r\n"), layout.crlf);
        prop_assert_eq!(
            fix_text("m.yaml", &fix.fixed, &limits, &hardened),
            Ok(None),
            "{}",
            fix.fixed
        );
    }
}
