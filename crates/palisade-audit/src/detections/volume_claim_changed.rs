use palisade_core::Severity;
use palisade_core::tree::Tree;

use crate::body::Body;
use crate::detection::{Cx, Hit, Level, Trigger, is_control_plane};
use crate::state::{State, StoredVolume};

/// Reclaim policies that destroy a volume's data once its claim is deleted.
const DESTROYING: &[&str] = &["Delete", "Recycle"];

crate::detection! {
    /// ## What it checks
    /// A PersistentVolume's claim reference (`spec.claimRef`) or reclaim policy changed by
    /// anyone other than the control plane (the volume binder is the controller manager):
    ///
    /// - **bound to another claim** (high): the volume, with the data it holds, now belongs
    ///   to the named claim, in whatever namespace it is;
    /// - **released** (medium): the reference removed, so any new claim that fits the
    ///   volume, or names it, binds it and reads what it holds;
    /// - **set to destroy its data** (medium): `persistentVolumeReclaimPolicy` set to
    ///   `Delete` (or the deprecated `Recycle`, which scrubs it), so the data goes with the
    ///   next deletion of its claim;
    /// - **claimed from elsewhere** (high): a PersistentVolumeClaim created naming the volume
    ///   (`spec.volumeName`) when the log last showed the volume bound to another claim, the
    ///   second half of taking a released volume's data.
    ///
    /// A patch is judged by what it writes (a JSON patch's operations on those fields, or a
    /// merge patch that holds them), so `kubectl patch` and `kubectl edit` are seen whatever
    /// the audit level. A full update (`kubectl replace`) is compared with the volume as the
    /// log last showed it stored (the same uid): an update of a volume the log never showed
    /// is not judged. A patch of part of the reference (its `uid`, as when a claim is
    /// recreated under its name) is nothing when the volume still names the claim it named
    /// before, and a change to the reference (medium) when the log never showed the volume
    /// stored. A claim naming a volume the log never showed stored, or showed bound to that
    /// same claim (recreated under its name), is not reported. Refused requests and dry runs
    /// are not reported.
    ///
    /// ## Why it matters
    /// A volume kept after its claim is gone (reclaim policy `Retain`) still holds the
    /// claim's data: a database's files, a tenant's uploads. Pointing it at a claim of
    /// another namespace, or releasing it so a new claim binds it, hands that data to
    /// whoever owns the new claim, across namespace boundaries that RBAC otherwise keeps.
    /// Switching a volume to `Delete` prepares its destruction.
    ///
    /// ## Response
    /// Confirm the change with the storage owner (data recovery is done this way, by hand);
    /// otherwise restore the claim reference and reclaim policy, and check which pods
    /// mounted the volume since.
    pub static VOLUME_CLAIM_CHANGED {
        id: "AUD046",
        slug: "volume-claim-changed",
        title: "PersistentVolume re-bound, released or set to destroy its data outside the control plane",
        severity: Medium,
        mitre: ["T1530", "T1485"],
        remediation: "Restore the volume's claim reference and reclaim policy; limit who may update PersistentVolumes.",
        triggers: [
            // A creation and a deletion keep the volume as last stored; a patch is judged by
            // what it writes, a full update against the volume as last stored; a claim by the
            // volume it names.
            Trigger::on(&["create", "delete"], "persistentvolumes"),
            Trigger::on(&["patch"], "persistentvolumes").reading(Level::Request),
            Trigger::on(&["update"], "persistentvolumes").reading(Level::RequestResponse),
            Trigger::on(&["create"], "persistentvolumeclaims").reading(Level::Request),
        ],
        check: crate::detection::Check::Stream(check),
    }
}

fn check(cx: &Cx, state: &mut State) -> Vec<Hit> {
    let event = cx.event;
    if event.refused() || cx.dry_run() {
        return Vec::new();
    }
    if event.resource() == "persistentvolumeclaims" {
        return claimed_by_name(cx, state).into_iter().collect();
    }
    if event.verb() == "delete" {
        state.volumes.forget(event.name().unwrap_or_default());
        return Vec::new();
    }
    let stored = stored(cx);
    let before = stored.as_ref().and_then(|(key, now)| {
        state
            .volumes
            .get(key)
            .filter(|before| before.uid == now.uid)
            .cloned()
    });
    if let Some((key, now)) = &stored {
        state.volumes.store(key, now.clone());
    }
    if event.verb() == "create" || is_control_plane(event.user()) {
        return Vec::new();
    }
    let now = stored.map(|(_, now)| now);
    let written = match (event.verb(), cx.request()) {
        ("patch", Some(patch)) => Written::by_patch(patch),
        _ => Written::by_update(before.as_ref(), now.as_ref()),
    };
    let mut hits = Vec::new();
    let was = before.as_ref().and_then(|b| b.claim.as_deref());
    // What the volume names now, when the log shows it stored.
    let stored_claim = now.as_ref().map(|now| now.claim.as_deref());
    let claim = match (written.claim, stored_claim) {
        (None, _) => None,
        // Part of the reference written (its uid, say) with nothing to compare with: what the
        // write did to the claim is not known.
        (Some(Claim::Changed), named) if before.is_none() || named.is_none() => {
            Some(Claim::Changed)
        }
        // The claim the volume names now, compared below with the one it named before.
        (Some(_), Some(named)) => Some(named.map_or(Claim::Released, |c| Claim::Bound(c.into()))),
        (Some(claim), None) => Some(claim),
    };
    // A reference written again for the same claim (or removed where there was none) hands
    // nothing to anyone new.
    let same_claim = match &claim {
        Some(Claim::Bound(to)) => Some(to.as_str()) == was,
        Some(Claim::Released) => before.is_some() && was.is_none(),
        _ => false,
    };
    if let Some(claim) = claim.filter(|_| !same_claim) {
        let named = stored_claim.flatten().or(was);
        hits.push(claim_hit(cx, claim, was, named));
    }
    if let Some(policy) = written
        .reclaim_policy
        .filter(|p| DESTROYING.contains(&p.as_str()))
    {
        let was = before
            .as_ref()
            .and_then(|b| b.reclaim_policy.as_deref())
            .map(|p| format!(", was {p}"))
            .unwrap_or_default();
        let mut hit = Hit::new(format!(
            "{} set PersistentVolume {} to destroy its data when its claim is deleted (reclaim policy {policy}{was})",
            cx.actor(),
            cx.target(),
        ))
        .with("reclaim_policy", policy);
        hit.discriminator = Some("reclaim-policy".into());
        hits.push(hit);
    }
    hits
}

/// A claim created naming a volume (`spec.volumeName`) that the log last showed bound to
/// another claim.
fn claimed_by_name(cx: &Cx, state: &State) -> Option<Hit> {
    if is_control_plane(cx.event.user()) {
        return None;
    }
    let claim = cx
        .response()
        .filter(|r| r.get("spec").is_some())
        .or(cx.request())?;
    let volume = claim.at("/spec/volumeName").and_then(Tree::as_str)?;
    let namespace = cx.event.namespace().unwrap_or_default();
    let name = claim
        .at("/metadata/name")
        .and_then(Tree::as_str)
        .map_or_else(|| cx.object_name(), str::to_string);
    let this = format!("{namespace}/{name}");
    let held = state.volumes.get(volume)?.claim.as_deref()?;
    if held == this {
        return None;
    }
    let mut hit = Hit::new(format!(
        "{} created PersistentVolumeClaim {this} naming PersistentVolume {volume}, which the log last showed bound to claim {held}: the new claim's pods read the data it holds",
        cx.actor()
    ))
    .with("claim", this)
    .with("volume", volume)
    .with("previous_claim", held)
    .severity(Severity::High);
    hit.discriminator = Some("claimed-by-name".into());
    Some(hit)
}

/// The alert on a claim reference written; `was` is the claim the volume named before, and
/// `named` the one it names now, or else before (for a reference changed in part).
fn claim_hit(cx: &Cx, claim: Claim, was: Option<&str>, named: Option<&str>) -> Hit {
    let volume = format!("PersistentVolume {}", cx.target());
    let (message, severity) = match &claim {
        Claim::Bound(to) => {
            let was = was.map(|c| format!(" (was {c})")).unwrap_or_default();
            (
                format!(
                    "bound {volume} to claim {to}{was}: the claim's pods read the data it holds"
                ),
                Severity::High,
            )
        }
        Claim::Released => {
            let from = was.map(|c| format!(" {c}")).unwrap_or_default();
            (
                format!(
                    "released {volume} from its claim{from}: a new claim that fits it or names it binds it and reads the data it holds"
                ),
                Severity::Medium,
            )
        }
        Claim::Changed => {
            let was = named.map(|c| format!(" (claim {c})")).unwrap_or_default();
            (
                format!("changed the claim reference of {volume}{was}"),
                Severity::Medium,
            )
        }
    };
    let mut hit = Hit::new(format!("{} {message}", cx.actor())).severity(severity);
    hit.discriminator = Some("claim".into());
    let to = match claim {
        Claim::Bound(to) => Some(to),
        _ => None,
    };
    hit.with_some("claim", to)
}

/// What a write did to a volume's claim reference.
#[derive(Debug, Clone, PartialEq)]
enum Claim {
    /// Named this claim (`namespace/name`).
    Bound(String),
    /// Removed it.
    Released,
    /// Changed part of it, or named a claim only partly.
    Changed,
}

/// What a write sets of the two fields (`None`: left alone).
#[derive(Debug, Default, PartialEq)]
struct Written {
    claim: Option<Claim>,
    reclaim_policy: Option<String>,
}

impl Written {
    /// What a patch writes: a JSON patch's operations on the fields, or the fields a merge
    /// patch (strategic, JSON merge or apply) holds.
    fn by_patch(patch: &Body) -> Written {
        let mut written = Written::default();
        if let Some(operations) = patch.items() {
            for operation in operations {
                let path = operation.get("path").and_then(Tree::as_str).unwrap_or("");
                let value = operation
                    .get("value")
                    .filter(|_| operation.get("op").and_then(Tree::as_str) != Some("remove"));
                if path == "/spec/claimRef" {
                    written.claim = Some(claim_written(value));
                } else if path.starts_with("/spec/claimRef/") {
                    written.claim = Some(Claim::Changed);
                } else if path == "/spec/persistentVolumeReclaimPolicy" {
                    written.reclaim_policy = value.and_then(Tree::as_str).map(str::to_string);
                }
            }
            return written;
        }
        let Some(spec) = patch.get("spec") else {
            return written;
        };
        if let Some(reference) = spec.get("claimRef") {
            written.claim = Some(claim_written(Some(reference)));
        }
        written.reclaim_policy = spec
            .get("persistentVolumeReclaimPolicy")
            .and_then(Tree::as_str)
            .map(str::to_string);
        written
    }

    /// What a full update changed, compared with the volume as stored before.
    fn by_update(before: Option<&StoredVolume>, now: Option<&StoredVolume>) -> Written {
        let (Some(before), Some(now)) = (before, now) else {
            return Written::default();
        };
        Written {
            claim: (before.claim != now.claim)
                .then(|| now.claim.clone().map_or(Claim::Released, Claim::Bound)),
            reclaim_policy: now
                .reclaim_policy
                .clone()
                .filter(|_| before.reclaim_policy != now.reclaim_policy),
        }
    }
}

/// A claim reference as written: absent or null is a removal.
fn claim_written(reference: Option<&Body>) -> Claim {
    match reference {
        None | Some(Body::Null) => Claim::Released,
        Some(reference) => claim_of(reference).map_or(Claim::Changed, Claim::Bound),
    }
}

/// `namespace/name` of a claim reference, when it names both.
fn claim_of(reference: &Body) -> Option<String> {
    let namespace = reference.get("namespace").and_then(Tree::as_str)?;
    let name = reference.get("name").and_then(Tree::as_str)?;
    Some(format!("{namespace}/{name}"))
}

/// The volume a write stores, by name: the response object, else the object a create or a
/// full update sends.
fn stored(cx: &Cx) -> Option<(String, StoredVolume)> {
    let full_request = || {
        cx.request()
            .filter(|_| matches!(cx.event.verb(), "create" | "update"))
    };
    let volume = cx
        .response()
        .filter(|r| r.get("spec").is_some())
        .or_else(full_request)?;
    let metadata = volume.get("metadata")?;
    let name = metadata.get("name").and_then(Tree::as_str)?;
    let uid = metadata.get("uid").and_then(Tree::as_str).unwrap_or("");
    let spec = volume.get("spec");
    Some((
        name.to_string(),
        StoredVolume {
            uid: uid.to_string(),
            claim: spec.and_then(|s| s.get("claimRef")).and_then(claim_of),
            reclaim_policy: spec
                .and_then(|s| s.get("persistentVolumeReclaimPolicy"))
                .and_then(Tree::as_str)
                .map(str::to_string),
        },
    ))
}
