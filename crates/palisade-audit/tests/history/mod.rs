//! What the model-based tests share: a write of a random history (an operation, by a person
//! or the control plane, refused or a dry run or neither), and the alerts one engine gives
//! for each event of a history, in order.

use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::{Alert, Engine, Event, Origin, Selection, Settings};
use proptest::prelude::*;
use serde_json::{Value, json};

/// One write of a history.
#[derive(Debug, Clone)]
pub struct Write<Op> {
    pub op: Op,
    pub control_plane: bool,
    pub refused: bool,
    pub dry_run: bool,
}

/// The object a history writes: its request path (without a query), its `objectRef`, and the
/// user its controller writes as.
pub struct Target {
    pub path: &'static str,
    pub object_ref: Value,
    pub controller: &'static str,
}

impl<Op> Write<Op> {
    /// The audit event of the `i`-th write, a `verb` on `target` with its request and
    /// response bodies: by the controller or a person, refused (403, no response) or not, a
    /// dry run or not.
    pub fn event(
        &self,
        i: usize,
        verb: &str,
        target: &Target,
        request: Option<Value>,
        response: Option<Value>,
    ) -> Value {
        let user = if self.control_plane {
            target.controller
        } else {
            "alice"
        };
        let query = if self.dry_run { "?dryRun=All" } else { "" };
        let code = match (self.refused, verb) {
            (true, _) => 403,
            (false, "create") => 201,
            _ => 200,
        };
        let mut event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": format!("w-{i}"), "stage": "ResponseComplete", "verb": verb,
            "requestURI": format!("{}{query}", target.path),
            "user": {"username": user}, "sourceIPs": ["203.0.113.7"],
            "objectRef": target.object_ref,
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": "2026-12-01T10:00:00Z",
        });
        if let Some(request) = request {
            event["requestObject"] = request;
        }
        if let Some(response) = response.filter(|_| !self.refused) {
            event["responseObject"] = response;
        }
        event
    }
}

/// Writes of `op`: a fifth by the control plane, a tenth refused, a tenth dry runs.
pub fn write<Op: std::fmt::Debug + Clone>(
    op: impl Strategy<Value = Op>,
) -> impl Strategy<Value = Write<Op>> {
    (
        op,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(op, control_plane, refused, dry_run)| Write {
            op,
            control_plane,
            refused,
            dry_run,
        })
}

/// The alerts of `rule` for each event line, analysed in order by one engine with the
/// default settings.
pub fn alerts_of(rule: &str, lines: impl Iterator<Item = String>) -> Vec<Vec<Alert>> {
    let mut engine = Engine::new(Settings::default(), None, &Selection::default());
    lines
        .enumerate()
        .map(|(i, line)| {
            let mut alerts = Vec::new();
            let mut stats = ReadStats::default();
            let origin = Origin {
                file: "history".into(),
                line: i as u64 + 1,
            };
            let mut sink = |e: &Event, o: &Origin| engine.analyze(e, o, &mut alerts);
            decode_text(&line, &origin, &mut stats, &mut sink);
            assert_eq!(stats.malformed, 0, "{line}");
            alerts.retain(|a| a.rule.id == rule);
            alerts
        })
        .collect()
}
