//! What the model-based tests share: a write of a random history (an operation, by a person
//! or the control plane, refused or a dry run or neither), and the alerts one engine gives
//! for each event of a history, in order.

use palisade_audit::input::{ReadStats, decode_text};
use palisade_audit::{Alert, Engine, Event, Origin, Selection, Settings};
use proptest::prelude::*;

/// One write of a history.
#[derive(Debug, Clone)]
pub struct Write<Op> {
    pub op: Op,
    pub control_plane: bool,
    pub refused: bool,
    pub dry_run: bool,
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
