//! AUD046 against a model, on random histories of one PersistentVolume: creations, full
//! updates (with and without the stored object in the response), merge and JSON patches of
//! its claim reference, a JSON patch of the reference's uid alone, merge patches of its
//! reclaim policy, deletions; by a person or the control plane; refused or dry runs among
//! them. The model says what the detection promises:
//! - a refused request or a dry run stores nothing and reports nothing; a deletion forgets;
//!   the control plane's writes are remembered but not reported;
//! - a patch is judged by what it writes; a full update by what changed since the log last
//!   showed the volume stored with the same uid;
//! - the claim reported is the one the volume names after the write when the log shows it,
//!   else the one the write names; a claim named again, or a removal where there was none, is
//!   nothing; a write to part of the reference is a change to it unless it can be compared;
//! - a reclaim policy written as `Delete` or `Recycle` is reported.

mod history;

use history::{Target, alerts_of};
use proptest::prelude::*;
use serde_json::{Value, json};

type Write = history::Write<Op>;

const CLAIMS: &[(&str, &str)] = &[("shop", "data"), ("attacker", "loot")];
const POLICIES: &[&str] = &["Retain", "Delete", "Recycle"];

/// A volume as stored: uid, claim (index into CLAIMS), reclaim policy (index into POLICIES).
type Stored = (u8, Option<usize>, usize);

#[derive(Debug, Clone)]
enum Op {
    Create(Stored),
    Update {
        volume: Stored,
        response: bool,
    },
    /// A merge patch of `claimRef` (`None`: null), with the stored volume when logged.
    MergeClaim(Option<usize>, Option<Stored>),
    /// A JSON patch replacing `/spec/claimRef` (`None`: removing it).
    JsonClaim(Option<usize>, Option<Stored>),
    /// A JSON patch removing `/spec/claimRef/uid`.
    JsonUid(Option<Stored>),
    MergePolicy(usize, Option<Stored>),
    Delete,
}

/// What AUD046 reports for one write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Reported {
    /// `bound <claim>`, `released`, `changed`.
    claim: Option<String>,
    /// The reclaim policy reported.
    policy: Option<String>,
}

fn volume() -> impl Strategy<Value = Stored> {
    (0u8..2, prop::option::of(0..CLAIMS.len()), 0..POLICIES.len())
}

fn op() -> impl Strategy<Value = Op> {
    let stored = || prop::option::of(volume());
    prop_oneof![
        volume().prop_map(Op::Create),
        (volume(), any::<bool>()).prop_map(|(volume, response)| Op::Update { volume, response }),
        (prop::option::of(0..CLAIMS.len()), stored()).prop_map(|(c, s)| Op::MergeClaim(c, s)),
        (prop::option::of(0..CLAIMS.len()), stored()).prop_map(|(c, s)| Op::JsonClaim(c, s)),
        stored().prop_map(Op::JsonUid),
        (0..POLICIES.len(), stored()).prop_map(|(p, s)| Op::MergePolicy(p, s)),
        Just(Op::Delete),
    ]
}

fn write() -> impl Strategy<Value = Write> {
    history::write(op())
}

fn reference(claim: usize) -> Value {
    let (namespace, name) = CLAIMS[claim];
    json!({"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name, "uid": format!("c-{claim}")})
}

fn object(&(uid, claim, policy): &Stored) -> Value {
    let mut spec = json!({
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
        "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
        "persistentVolumeReclaimPolicy": POLICIES[policy],
    });
    if let Some(claim) = claim {
        spec["claimRef"] = reference(claim);
    }
    json!({"apiVersion": "v1", "kind": "PersistentVolume",
           "metadata": {"name": "pv-1", "uid": format!("uid-{uid}")}, "spec": spec})
}

/// The audit event of a write.
fn event(i: usize, write: &Write) -> Value {
    let (verb, request, response) = match &write.op {
        Op::Create(volume) => ("create", Some(object(volume)), Some(object(volume))),
        Op::Update { volume, response } => (
            "update",
            Some(object(volume)),
            response.then(|| object(volume)),
        ),
        Op::MergeClaim(claim, stored) => (
            "patch",
            Some(json!({"spec": {"claimRef": claim.map_or(Value::Null, reference)}})),
            stored.as_ref().map(object),
        ),
        Op::JsonClaim(claim, stored) => (
            "patch",
            Some(match claim {
                Some(c) => {
                    json!([{"op": "replace", "path": "/spec/claimRef", "value": reference(*c)}])
                }
                None => json!([{"op": "remove", "path": "/spec/claimRef"}]),
            }),
            stored.as_ref().map(object),
        ),
        Op::JsonUid(stored) => (
            "patch",
            Some(json!([{"op": "remove", "path": "/spec/claimRef/uid"}])),
            stored.as_ref().map(object),
        ),
        Op::MergePolicy(policy, stored) => (
            "patch",
            Some(json!({"spec": {"persistentVolumeReclaimPolicy": POLICIES[*policy]}})),
            stored.as_ref().map(object),
        ),
        Op::Delete => ("delete", None, None),
    };
    let target = Target {
        path: "/api/v1/persistentvolumes/pv-1",
        object_ref: json!({"resource": "persistentvolumes", "apiVersion": "v1", "name": "pv-1"}),
        controller: "system:kube-controller-manager",
    };
    write.event(i, verb, &target, request, response)
}

fn claim_name(claim: usize) -> String {
    let (namespace, name) = CLAIMS[claim];
    format!("{namespace}/{name}")
}

/// What a write sets, as the model reads it: the claim (`None`: left alone, `Some(None)`:
/// removed), whether only part of the reference was written, the reclaim policy.
struct Written {
    claim: Option<Option<usize>>,
    partial: bool,
    policy: Option<usize>,
}

fn written(op: &Op, before: Option<&Stored>, stored: Option<&Stored>) -> Written {
    let none = Written {
        claim: None,
        partial: false,
        policy: None,
    };
    match op {
        Op::Update { .. } => match (before, stored) {
            (Some(b), Some(n)) => Written {
                claim: (b.1 != n.1).then_some(n.1),
                partial: false,
                policy: (b.2 != n.2).then_some(n.2),
            },
            _ => none,
        },
        Op::MergeClaim(claim, _) | Op::JsonClaim(claim, _) => Written {
            claim: Some(*claim),
            ..none
        },
        Op::JsonUid(_) => Written {
            partial: true,
            ..none
        },
        Op::MergePolicy(policy, _) => Written {
            policy: Some(*policy),
            ..none
        },
        Op::Create(_) | Op::Delete => none,
    }
}

/// What the model expects each write to report, in order.
fn expected(writes: &[Write]) -> Vec<Reported> {
    let mut state: Option<Stored> = None;
    let mut out = Vec::new();
    for write in writes {
        let stored = match &write.op {
            Op::Create(volume) | Op::Update { volume, .. } => Some(*volume),
            Op::MergeClaim(_, s) | Op::JsonClaim(_, s) | Op::JsonUid(s) | Op::MergePolicy(_, s) => {
                *s
            }
            Op::Delete => None,
        };
        if write.refused || write.dry_run {
            out.push(Reported::default());
            continue;
        }
        if matches!(write.op, Op::Delete) {
            state = None;
            out.push(Reported::default());
            continue;
        }
        let before = state.filter(|b| stored.is_some_and(|n| n.0 == b.0));
        if stored.is_some() {
            state = stored;
        }
        if matches!(write.op, Op::Create(_)) || write.control_plane {
            out.push(Reported::default());
            continue;
        }
        let set = written(&write.op, before.as_ref(), stored.as_ref());
        let was = before.and_then(|b| b.1);
        let claim = if set.partial {
            match (before, stored) {
                (Some(_), Some(now)) => Some(Some(now.1)),
                _ => Some(None),
            }
        } else {
            set.claim.map(|c| Some(stored.map_or(c, |now| now.1)))
        };
        // `Some(Some(x))`: the volume names x (None: no claim); `Some(None)`: changed.
        let claim = match claim {
            None => None,
            Some(None) => Some("changed".to_string()),
            Some(Some(Some(c))) if Some(c) == was => None,
            Some(Some(Some(c))) => Some(format!("bound {}", claim_name(c))),
            Some(Some(None)) if before.is_some() && was.is_none() => None,
            Some(Some(None)) => Some("released".to_string()),
        };
        let policy = set
            .policy
            .filter(|&p| p != 0)
            .map(|p| POLICIES[p].to_string());
        out.push(Reported { claim, policy });
    }
    out
}

/// What each write's AUD046 alerts report.
fn reported(writes: &[Write]) -> Vec<Reported> {
    let lines = writes
        .iter()
        .enumerate()
        .map(|(i, w)| event(i, w).to_string());
    alerts_of("AUD046", lines)
        .into_iter()
        .map(|alerts| {
            let mut reported = Reported::default();
            for alert in &alerts {
                let evidence = &serde_json::to_value(alert).unwrap()["evidence"];
                if let Some(policy) = evidence["reclaim_policy"].as_str() {
                    reported.policy = Some(policy.to_string());
                } else if let Some(claim) = evidence["claim"].as_str() {
                    reported.claim = Some(format!("bound {claim}"));
                } else if alert.message.contains(" released ") {
                    reported.claim = Some("released".into());
                } else {
                    assert!(alert.message.contains(" changed the claim reference "));
                    reported.claim = Some("changed".into());
                }
            }
            reported
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aud046_reports_what_the_model_says(writes in prop::collection::vec(write(), 1..12)) {
        prop_assert_eq!(reported(&writes), expected(&writes), "{:#?}", writes);
    }
}
