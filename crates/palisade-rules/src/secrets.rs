//! The secret detection engine's results for the rules that report them: one scan of the
//! inventory (in parallel, on first use), shared by every secret rule, and one way to word
//! a detection that never shows the secret.

use std::sync::Arc;

use palisade_inventory::Inventory;
use palisade_secrets::{Detection, Place, describe, scan_object};

use crate::context::{Context, Reported};

/// Every object's detections, by object index.
pub struct SecretScan(Vec<Vec<Detection>>);

/// The judged object's detections, when objects are judged one at a time.
struct ObjectDetections(Vec<Detection>);

/// The detections of the judged object's controller, when objects are judged one at a time.
struct ControllerDetections(Vec<Detection>);

impl SecretScan {
    fn build(inventory: &Inventory) -> SecretScan {
        let scan = |o: &palisade_inventory::Object| scan_object(&o.value);
        SecretScan(palisade_core::parallel::map_each(
            &inventory.objects,
            256,
            scan,
        ))
    }
}

/// Asks for the inventory's secret scan ahead of a scan (for the rules that report from it).
pub fn ask(models: &mut crate::context::Models) {
    models.add(SecretScan::build);
}

/// Reports every detection of the object that `wanted` selects: from one scan of the whole
/// inventory in a scan, of the object alone when objects are judged one at a time. An object
/// judged through its controller (a Deployment's ReplicaSets, a DaemonSet's
/// ControllerRevisions) holds a copy of the controller's template: a secret the controller
/// holds too is reported once, on the controller, whose finding lists the objects it
/// controls; one only the copy holds (an earlier template's, kept in the revision history) is
/// reported on the copy.
pub fn report_where(cx: &mut Context<'_>, wanted: impl Fn(&Detection) -> bool) {
    let found: Vec<Detection> = if cx.judged_one_at_a_time() {
        let value = &cx.object.value;
        let own = cx.object_memo(|| ObjectDetections(scan_object(value)));
        own.0.iter().filter(|d| wanted(d)).cloned().collect()
    } else {
        let scan: Arc<SecretScan> = cx.derived(SecretScan::build);
        let Some(found) = scan.0.get(cx.object_index) else {
            return;
        };
        found.iter().filter(|d| wanted(d)).cloned().collect()
    };
    if found.is_empty() {
        return;
    }
    let held = held_by_controller(cx);
    for detection in found.iter().filter(|d| !held.contains(&d.hit.secret)) {
        cx.report_with(reported(detection));
    }
}

/// The secrets the controller of the object under evaluation holds, when it is judged
/// through one ([`Inventory::controller_of`]), or through one of a RayCluster's, JobSet's,
/// ... templates ([`Inventory::judged_through_template`]): the object that holds it.
fn held_by_controller(cx: &Context<'_>) -> Vec<String> {
    let Some(controller) = cx
        .inventory
        .controller_of(cx.object_index)
        .or_else(|| {
            let (holder, _) = cx.inventory.judged_through_template(cx.object_index)?;
            Some(holder)
        })
        .filter(|&c| c != cx.object_index)
    else {
        return Vec::new();
    };
    let secrets =
        |detections: &[Detection]| detections.iter().map(|d| d.hit.secret.clone()).collect();
    if cx.judged_one_at_a_time() {
        let value = &cx.inventory.objects[controller].value;
        let held = cx.object_memo(|| ControllerDetections(scan_object(value)));
        secrets(&held.0)
    } else {
        let scan: Arc<SecretScan> = cx.derived(SecretScan::build);
        scan.0.get(controller).map_or_else(Vec::new, |d| secrets(d))
    }
}

/// The finding of a detection: where, what, and the secret only as a prefix and a tag.
pub fn reported(detection: &Detection) -> Reported {
    let mut message = format!(
        "{} holds {}",
        detection.location,
        hit_message(&detection.hit)
    );
    if detection.last_applied {
        message.push_str(
            ", in the copy kubectl apply keeps in the last-applied-configuration annotation",
        );
    }
    // A GitHub token GitHub never issued (its checksum does not match) is a test or made-up
    // value: still a credential-shaped string in the manifest, but nothing that opens a repo.
    let forged = detection.hit.detector == palisade_secrets::Detector::GitHubToken
        && palisade_secrets::detectors::github_checksum_valid(&detection.hit.secret) == Some(false);
    if forged {
        message.push_str(
            "; its checksum does not match, so GitHub never issued it (a test or made-up value)",
        );
    }
    let mut reported = Reported::new(detection.pointer.clone(), message);
    if detection.hit.detector == palisade_secrets::Detector::Placeholder {
        reported.severity = Some(palisade_core::Severity::Low);
    } else if forged {
        reported.severity = Some(palisade_core::Severity::Medium);
    }
    reported.discriminator = Some(palisade_core::redact::tag(&detection.hit.secret));
    reported
}

/// What a hit is, told without the secret: the detector, at most the format's public prefix,
/// a stable tag, the name and line inside the value, the encoding.
pub fn hit_message(hit: &palisade_secrets::Hit) -> String {
    let mut message = format!(
        "{} ({})",
        hit.detector.what(),
        describe(hit.detector, &hit.secret)
    );
    // A name found inside a value is part of that value: it is shown only when it is too
    // short and plain to be a secret itself (the redactor would hide it otherwise).
    if let Some(name) = hit.name.as_deref().filter(|n| is_plain_name(n)) {
        message.push_str(&format!(" under {name}"));
    }
    if let Some(line) = hit.line {
        message.push_str(&format!(" on line {line} of the value"));
    }
    if let Some(encoding) = hit.encoding {
        message.push_str(&format!(", {encoding}-encoded"));
    }
    if hit.detector == palisade_secrets::Detector::Placeholder {
        message.push_str(": no secret is exposed, but the manifest is built to have the real one written here in plain text");
    }
    message
}

/// Letters, `-`, `_` and `.`, shorter than 16 characters: never a secret, never redacted.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b'_' | b'.'))
}

/// The one rule a detection is reported under: its detector's family, and for the generic
/// detector (a rule per kind of place) where it was found. `place` is `None` for a file that is
/// not a Kubernetes object (`--secrets-in-all-files`). A Secret's own data holds credentials by
/// design: only weak defaults are reported there.
pub fn rule_of(detector: palisade_secrets::Detector, place: Option<Place>) -> Option<&'static str> {
    use palisade_secrets::Family;
    let in_secret = place == Some(Place::Secret);
    Some(match detector.family() {
        Family::WeakDefault => "SEC019",
        _ if in_secret => return None,
        Family::PrivateKey => "SEC010",
        Family::CloudProvider => "SEC011",
        Family::SourceControl => "SEC012",
        Family::SaasApi => "SEC013",
        Family::PackageRegistry => "SEC014",
        Family::Jwt => "SEC015",
        Family::UrlCredentials => "SEC016",
        Family::AuthorizationHeader => "SEC017",
        Family::Generic => match place {
            Some(Place::Container) => "POD027",
            Some(Place::ConfigMap) => "SEC002",
            _ => "SEC018",
        },
    })
}

/// Reports every detection of the object that belongs to rule `id` (see [`rule_of`]).
pub fn report_rule(cx: &mut Context<'_>, id: &str) {
    report_where(cx, |d| rule_of(d.detector, Some(d.place)) == Some(id));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every detector, wherever found, maps to a registered rule (or, in a Secret's own data,
    /// to none unless it is a weak default).
    #[test]
    fn every_detection_has_a_registered_rule() {
        let places = [
            None,
            Some(Place::Container),
            Some(Place::ConfigMap),
            Some(Place::Annotation),
            Some(Place::HelmRelease),
            Some(Place::Field),
            Some(Place::Secret),
        ];
        for detector in palisade_secrets::Detector::ALL {
            for place in places {
                match rule_of(*detector, place) {
                    Some(id) => assert!(
                        crate::find_rule(id).is_some(),
                        "{detector:?} {place:?} -> {id}"
                    ),
                    None => assert!(place == Some(Place::Secret), "{detector:?} {place:?}"),
                }
            }
        }
    }
}
