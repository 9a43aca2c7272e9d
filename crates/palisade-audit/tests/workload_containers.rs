//! AUD044 against a model, on random histories of one Deployment: creations, full updates
//! (with and without the stored object in the response), JSON patches that add a container,
//! merge patches, deletions; by a person or the control plane; refused or dry runs among
//! them. The model says what the detection promises: a write reports the containers a JSON
//! patch adds whole, and the containers its stored template has that the log last showed it
//! without (same uid); a refused request or a dry run stores nothing; a deletion forgets; the
//! control plane's writes are remembered but not reported.

mod history;

use std::collections::BTreeSet;

use history::{Target, alerts_of};
use proptest::prelude::*;
use serde_json::{Value, json};

type Write = history::Write<Op>;

const NAMES: &[&str] = &["web", "proxy", "debug", "sidecar"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        uid: u8,
        names: BTreeSet<usize>,
    },
    Update {
        uid: u8,
        names: BTreeSet<usize>,
        response: bool,
    },
    JsonAdd {
        name: usize,
        stored: Option<(u8, BTreeSet<usize>)>,
    },
    MergePatch {
        stored: Option<(u8, BTreeSet<usize>)>,
    },
    Delete,
}

fn names() -> impl Strategy<Value = BTreeSet<usize>> {
    prop::collection::btree_set(0..NAMES.len(), 1..=NAMES.len())
}

/// A stored object in a patch's response, or none (the `Request` level).
fn stored() -> impl Strategy<Value = Option<(u8, BTreeSet<usize>)>> {
    prop::option::of((0u8..2, names()))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2, names()).prop_map(|(uid, names)| Op::Create { uid, names }),
        (0u8..2, names(), any::<bool>()).prop_map(|(uid, names, response)| Op::Update {
            uid,
            names,
            response
        }),
        (0..NAMES.len(), stored()).prop_map(|(name, stored)| Op::JsonAdd { name, stored }),
        stored().prop_map(|stored| Op::MergePatch { stored }),
        Just(Op::Delete),
    ]
}

fn write() -> impl Strategy<Value = Write> {
    history::write(op())
}

fn deployment(uid: u8, names: &BTreeSet<usize>) -> Value {
    let containers: Vec<Value> = names
        .iter()
        .map(
            |&n| json!({"name": NAMES[n], "image": format!("registry.example.com/{}:1", NAMES[n])}),
        )
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app", "uid": format!("uid-{uid}")},
        "spec": {"template": {"spec": {"containers": containers}}}
    })
}

/// The audit event of a write.
fn event(i: usize, write: &Write) -> Value {
    let (verb, request, response) = match &write.op {
        Op::Create { uid, names } => (
            "create",
            Some(deployment(*uid, names)),
            Some(deployment(*uid, names)),
        ),
        Op::Update {
            uid,
            names,
            response,
        } => (
            "update",
            Some(deployment(*uid, names)),
            response.then(|| deployment(*uid, names)),
        ),
        Op::JsonAdd { name, stored } => (
            "patch",
            Some(
                json!([{"op": "add", "path": "/spec/template/spec/containers/-",
                "value": {"name": NAMES[*name], "image": format!("registry.example.com/{}:1", NAMES[*name])}}]),
            ),
            stored.as_ref().map(|(uid, names)| deployment(*uid, names)),
        ),
        Op::MergePatch { stored } => (
            "patch",
            Some(json!({"spec": {"replicas": 3}})),
            stored.as_ref().map(|(uid, names)| deployment(*uid, names)),
        ),
        Op::Delete => ("delete", None, None),
    };
    let target = Target {
        path: "/apis/apps/v1/namespaces/app/deployments/web",
        object_ref: json!({"resource": "deployments", "apiGroup": "apps", "namespace": "app", "name": "web"}),
        controller: "system:serviceaccount:kube-system:deployment-controller",
    };
    write.event(i, verb, &target, request, response)
}

/// What the model expects each write to report (container names), in order.
fn expected(writes: &[Write]) -> Vec<BTreeSet<&'static str>> {
    let mut state: Option<(u8, BTreeSet<usize>)> = None;
    let mut out = Vec::new();
    for write in writes {
        if write.refused || write.dry_run {
            out.push(BTreeSet::new());
            continue;
        }
        let (stored, json_added, create) = match &write.op {
            Op::Create { uid, names } => (Some((*uid, names.clone())), None, true),
            Op::Update { uid, names, .. } => (Some((*uid, names.clone())), None, false),
            Op::JsonAdd { name, stored } => (stored.clone(), Some(*name), false),
            Op::MergePatch { stored } => (stored.clone(), None, false),
            Op::Delete => {
                state = None;
                out.push(BTreeSet::new());
                continue;
            }
        };
        let mut added: BTreeSet<&str> = json_added.map(|n| NAMES[n]).into_iter().collect();
        if !create
            && let (Some((uid, now)), Some((was_uid, before))) = (&stored, &state)
            && uid == was_uid
        {
            added.extend(now.difference(before).map(|&n| NAMES[n]));
        }
        if stored.is_some() {
            state = stored;
        }
        out.push(if write.control_plane {
            BTreeSet::new()
        } else {
            added
        });
    }
    out
}

/// The container names each write's AUD044 alert reports.
fn reported(writes: &[Write]) -> Vec<BTreeSet<String>> {
    let lines = writes
        .iter()
        .enumerate()
        .map(|(i, w)| event(i, w).to_string());
    alerts_of("AUD044", lines)
        .into_iter()
        .map(|alerts| {
            alerts
                .iter()
                .flat_map(|a| {
                    let evidence = serde_json::to_value(a).unwrap()["evidence"]["containers"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    evidence
                        .split('"')
                        .skip(1)
                        .step_by(2)
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aud044_reports_what_the_model_says(writes in prop::collection::vec(write(), 1..12)) {
        let want: Vec<BTreeSet<String>> = expected(&writes)
            .into_iter()
            .map(|set| set.into_iter().map(str::to_string).collect())
            .collect();
        prop_assert_eq!(reported(&writes), want, "{:#?}", writes);
    }
}
