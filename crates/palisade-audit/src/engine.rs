//! The analysis of a stream of events: each event is shown only to the detections whose
//! triggers name its resource (an index built once), or that watch every request; a
//! request logged at several stages (exec is logged when the stream starts and when it
//! ends) gives one alert per detection.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::alert::{Alert, Origin};
use crate::baseline::Baseline;
use crate::detection::{Check, Cx, Detection, Hit, Level, Trigger, request_words};
use crate::event::Event;
use crate::settings::Settings;
use crate::state::State;

/// Alert keys remembered to drop a request's later stages.
const DEDUP_CAPACITY: usize = 100_000;

/// Said of an alert on a dry run (`?dryRun=All`).
pub const DRY_RUN_NOTE: &str = " (a dry run: the API server stored nothing)";

/// Most detections an engine runs (the bitmask of detections run per event).
const MAX_DETECTIONS: usize = 256;

/// Which detections run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these rule ids or slugs (empty: all).
    pub only: Vec<String>,
    /// Not these.
    pub skip: Vec<String>,
}

impl Selection {
    fn keeps(&self, detection: &Detection) -> bool {
        let meta = detection.meta();
        let named = |list: &[String]| {
            list.iter()
                .any(|n| n.eq_ignore_ascii_case(&meta.id) || n.eq_ignore_ascii_case(&meta.slug))
        };
        (self.only.is_empty() || named(&self.only)) && !named(&self.skip)
    }

    /// Whether `detection` is asked for by name (in `only`, and not skipped).
    fn names(&self, detection: &Detection) -> bool {
        !self.only.is_empty() && self.keeps(detection)
    }
}

/// The detections `selection` asks for by name that will not run with these settings, each
/// with why: a detection a user names runs, or the command says it cannot, never an analysis
/// that reports "0 alerts" from a detection that looked at nothing.
pub fn named_but_idle(
    settings: &Settings,
    selection: &Selection,
    with_baseline: bool,
) -> Vec<String> {
    crate::registry::DETECTIONS
        .iter()
        .filter(|d| selection.names(d))
        .filter_map(|d| {
            let id = &d.meta().id;
            if d.needs_baseline && !with_baseline {
                Some(format!(
                    "{id} compares each identity with its learned baseline: give --baseline (with the --store that learned it)"
                ))
            } else if !(d.active)(settings) {
                Some(format!(
                    "{id} has nothing to look for with these settings (see `palisade audit rules {id}`)"
                ))
            } else {
                None
            }
        })
        .collect()
}

/// Counts of one analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events read.
    pub events: u64,
    /// Events analysed (stages that carry a response).
    pub analysed: u64,
    pub alerts: u64,
}

/// Most kinds of request kept per detection to say what it could not judge.
const MAX_UNJUDGED_KINDS: usize = 8;

/// Requests a detection was shown but could not judge: their events were logged at a lower
/// audit level than it reads (a pod created, logged without its object, may have been
/// privileged).
#[derive(Debug, Clone)]
pub struct NotAssessed {
    pub rule: &'static palisade_core::RuleMeta,
    /// How many requests.
    pub requests: u64,
    /// The level it needs for them.
    pub needs: Level,
    /// The lowest level they were logged at.
    pub logged_at: Level,
    /// How many of each request (`create pods`), the first few kinds.
    pub by_request: BTreeMap<String, u64>,
    /// How many of them the audit backend truncated (too large to log whole: their objects
    /// were dropped whatever the policy's level).
    pub truncated: u64,
}

/// The detections that run with these settings: the selected ones that have something to
/// look for, those that read a baseline only when one is given.
pub fn selected(
    settings: &Settings,
    selection: &Selection,
    with_baseline: bool,
) -> Vec<&'static Detection> {
    crate::registry::DETECTIONS
        .iter()
        .copied()
        .filter(|d| {
            selection.keeps(d) && (with_baseline || !d.needs_baseline) && (d.active)(settings)
        })
        .take(MAX_DETECTIONS)
        .collect()
}

/// The analysis of one stream: what is fixed once the detections are chosen ([`Plan`]) and
/// what the stream has shown so far ([`Live`]). The split lets the part of the work that
/// reads one request alone run on several threads ([`crate::parallel`]), while what reads
/// earlier requests runs in the order of the log.
pub struct Engine {
    pub(crate) plan: Plan,
    pub(crate) live: Live,
}

/// The detections and their index by request: read-only while a stream is analysed.
pub(crate) struct Plan {
    detections: Vec<&'static Detection>,
    by_resource: HashMap<&'static str, Vec<(usize, &'static Trigger)>>,
    /// Triggers on any resource of an API group, by group.
    by_group: HashMap<&'static str, Vec<(usize, &'static Trigger)>>,
    every: Vec<(usize, &'static Trigger)>,
    settings: Settings,
}

/// What the stream has shown so far: the detections' state, the alerts already given, the
/// requests not assessed and the counts.
pub(crate) struct Live {
    not_assessed: Vec<Option<NotAssessed>>,
    state: State,
    seen: Seen,
    counts: Counts,
}

/// What one request shows the running detections before what earlier requests showed is
/// read: which detections it matches, in the order they run, and which of them it was
/// logged below (with what each reads).
pub(crate) struct Shown {
    matched: Vec<usize>,
    unjudged: Vec<(usize, Level)>,
    reads: Level,
    level: Level,
}

/// Alerts of the detections that read the request alone, with the position in
/// [`Shown::matched`] of the detection that gave each.
pub(crate) type Early = Vec<(usize, Alert)>;

impl Engine {
    /// An engine over the selected detections; those that read a baseline run only when one
    /// is given.
    pub fn new(settings: Settings, baseline: Option<Baseline>, selection: &Selection) -> Engine {
        let detections = selected(&settings, selection, baseline.is_some());
        let mut by_resource: HashMap<&'static str, Vec<(usize, &'static Trigger)>> = HashMap::new();
        let mut by_group: HashMap<&'static str, Vec<(usize, &'static Trigger)>> = HashMap::new();
        let mut every = Vec::new();
        for (index, detection) in detections.iter().enumerate() {
            for trigger in detection.triggers {
                match (trigger.any_resource_of_group(), trigger.resource) {
                    (Some(group), _) => by_group.entry(group).or_default().push((index, trigger)),
                    (None, Some(resource)) => by_resource
                        .entry(resource)
                        .or_default()
                        .push((index, trigger)),
                    (None, None) => every.push((index, trigger)),
                }
            }
        }
        Engine {
            live: Live {
                state: State::new(&settings, baseline),
                not_assessed: vec![None; detections.len()],
                seen: Seen::default(),
                counts: Counts::default(),
            },
            plan: Plan {
                detections,
                by_resource,
                by_group,
                every,
                settings,
            },
        }
    }

    /// Matches later events against `intel` (threat-intelligence feeds read again).
    pub fn replace_threat_intel(&mut self, intel: std::sync::Arc<palisade_intel::Indicators>) {
        self.plan.settings.intel = intel;
    }

    /// The detections that run.
    pub fn detections(&self) -> &[&'static Detection] {
        &self.plan.detections
    }

    /// Counts of the analysis so far.
    pub fn counts(&self) -> &Counts {
        &self.live.counts
    }

    /// The requests each detection could not judge (logged below the level it reads), in
    /// the order of the detections.
    pub fn not_assessed(&self) -> impl Iterator<Item = &NotAssessed> {
        self.live.not_assessed.iter().flatten()
    }

    /// Analyses one event; alerts go to `out`.
    pub fn analyze(&mut self, event: &Event, origin: &Origin, out: &mut Vec<Alert>) {
        self.live.analyze(&self.plan, event, origin, out);
    }
}

impl Plan {
    /// What `event` shows the detections; `None` for a stage the analysis skips. The
    /// request's outcome is known from ResponseStarted on (long-running requests) and at
    /// ResponseComplete or Panic; RequestReceived would report refused requests.
    pub(crate) fn show(&self, event: &Event) -> Option<Shown> {
        if event.stage() == "RequestReceived" || event.verb().is_empty() {
            return None;
        }
        let resource = event.resource();
        let level = Level::of(event);
        let of_group = match self.by_group.is_empty() {
            true => None,
            false => self.by_group.get(event.api_group()),
        };
        let candidates = self
            .by_resource
            .get(resource)
            .into_iter()
            .flatten()
            .chain(of_group.into_iter().flatten())
            .chain(self.every.iter());
        // The detections shown the event, each once (a detection may have several triggers),
        // and the most any of them reads of it.
        let mut ran = [0u64; MAX_DETECTIONS / 64];
        let mut shown = Shown {
            matched: Vec::new(),
            unjudged: Vec::new(),
            reads: Level::Metadata,
            level,
        };
        for (index, trigger) in candidates {
            let (word, bit) = (index / 64, 1u64 << (index % 64));
            if ran[word] & bit != 0 || !trigger.matches(event) {
                continue;
            }
            ran[word] |= bit;
            let needs = trigger.needs_for(event);
            shown.reads = shown.reads.max(needs);
            if level < needs {
                // Still run: what it reads of the metadata may be enough to alert.
                shown.unjudged.push((*index, needs));
            }
            shown.matched.push(*index);
        }
        Some(shown)
    }

    /// What the detections read of `event`, told what `shown` found.
    pub(crate) fn context<'e, 'a>(&'e self, event: &'e Event<'a>, shown: &'e Shown) -> Cx<'e, 'a> {
        Cx::new(event, &self.settings).reading(shown.reads, &self.detections, &shown.unjudged)
    }

    /// The alerts of the matched detections that read the request alone.
    pub(crate) fn request_alerts(&self, cx: &Cx, shown: &Shown, origin: &Origin) -> Early {
        let mut early = Vec::new();
        for (position, &index) in shown.matched.iter().enumerate() {
            if let Check::Request(check) = self.detections[index].check {
                for hit in check(cx) {
                    early.push((position, self.alert(index, hit, cx, origin)));
                }
            }
        }
        early
    }

    /// The alert of detection `index` for `hit`.
    fn alert(&self, index: usize, mut hit: Hit, cx: &Cx, origin: &Origin) -> Alert {
        // The request shows intent, but what it says was done was not.
        if cx.dry_run() {
            hit.message.push_str(DRY_RUN_NOTE);
            hit = hit.with("dry_run", "true");
        }
        Alert::new(self.detections[index].meta(), hit, cx, origin)
    }
}

impl Live {
    /// Analyses one event with `plan`'s detections; alerts go to `out`.
    pub(crate) fn analyze(
        &mut self,
        plan: &Plan,
        event: &Event,
        origin: &Origin,
        out: &mut Vec<Alert>,
    ) {
        let Some(shown) = plan.show(event) else {
            self.skipped();
            return;
        };
        let cx = plan.context(event, &shown);
        let early = plan.request_alerts(&cx, &shown, origin);
        self.finish(plan, &cx, &shown, early, origin, out);
    }

    /// Counts an event the analysis skips.
    pub(crate) fn skipped(&mut self) {
        self.counts.events += 1;
    }

    /// Runs the matched detections that read earlier requests, in their order among the
    /// `early` alerts of the others, and gives the alerts not already given for the request.
    pub(crate) fn finish(
        &mut self,
        plan: &Plan,
        cx: &Cx,
        shown: &Shown,
        early: Early,
        origin: &Origin,
        out: &mut Vec<Alert>,
    ) {
        self.counts.events += 1;
        self.counts.analysed += 1;
        let mut early = early.into_iter().peekable();
        for (position, &index) in shown.matched.iter().enumerate() {
            let mut give = |alert: Alert, live: &mut Live| {
                if live.seen.first_time(index, &alert) {
                    live.counts.alerts += 1;
                    out.push(alert);
                }
            };
            match plan.detections[index].check {
                Check::Request(_) => {
                    while let Some((_, alert)) = early.next_if(|(p, _)| *p == position) {
                        give(alert, self);
                    }
                }
                Check::Stream(check) => {
                    for hit in check(cx, &mut self.state) {
                        give(plan.alert(index, hit, cx, origin), self);
                    }
                }
            }
        }
        if shown.unjudged.is_empty() {
            return;
        }
        // `create pods`, written once for every detection that could not judge it.
        let event = cx.event;
        let request = request_words(event.verb(), event.resource(), event.subresource());
        let truncated = Level::truncated_from(event, shown.level).is_some();
        for &(index, needs) in &shown.unjudged {
            self.count_unjudged(plan, index, needs, &request, shown.level, truncated);
        }
    }

    /// Counts a request detection `index` was shown at `level`, below the `needs` it reads.
    fn count_unjudged(
        &mut self,
        plan: &Plan,
        index: usize,
        needs: Level,
        request: &str,
        level: Level,
        truncated: bool,
    ) {
        let rule = plan.detections[index].meta();
        let entry = self.not_assessed[index].get_or_insert_with(|| NotAssessed {
            rule,
            requests: 0,
            needs,
            logged_at: level,
            by_request: BTreeMap::new(),
            truncated: 0,
        });
        entry.requests += 1;
        entry.truncated += u64::from(truncated);
        entry.needs = entry.needs.max(needs);
        entry.logged_at = entry.logged_at.min(level);
        if let Some(n) = entry.by_request.get_mut(request) {
            *n += 1;
        } else if entry.by_request.len() < MAX_UNJUDGED_KINDS {
            entry.by_request.insert(request.to_string(), 1);
        }
    }
}

/// The alerts already given, to drop a request's later stages (bounded).
#[derive(Default)]
struct Seen {
    keys: HashSet<(usize, String)>,
    order: VecDeque<(usize, String)>,
}

impl Seen {
    /// Whether this detection has not yet alerted on this request. Only long-running
    /// requests are logged at two stages that carry a response (ResponseStarted, then
    /// ResponseComplete): alerts at ResponseStarted are remembered, and later stages are
    /// looked up, so ordinary requests cost one lookup and no insertion.
    fn first_time(&mut self, detection: usize, alert: &Alert) -> bool {
        if alert.request.audit_id.is_none() {
            return true;
        }
        if alert.request.stage != "ResponseStarted" {
            return self.keys.is_empty() || !self.keys.contains(&(detection, alert.id.clone()));
        }
        let key = (detection, alert.id.clone());
        if !self.keys.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > DEDUP_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.keys.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVILEGED_POD: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/app/pods","verb":"create","user":{"username":"alice"},"sourceIPs":["203.0.113.10"],"objectRef":{"resource":"pods","apiVersion":"v1","namespace":"app"},"responseStatus":{"code":201},"requestReceivedTimestamp":"2026-12-01T10:00:00Z","requestObject":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"debug","namespace":"app"},"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}}"#;

    fn alerts(text: &str) -> Vec<Alert> {
        run(text).0
    }

    fn run(text: &str) -> (Vec<Alert>, Engine) {
        let mut engine = Engine::new(Settings::default(), None, &Selection::default());
        let event = Event::decode(text).unwrap();
        let mut out = Vec::new();
        let origin = Origin {
            file: "audit.log".into(),
            line: 1,
        };
        engine.analyze(&event, &origin, &mut out);
        (out, engine)
    }

    /// A Deployment patched and logged without the stored template: a merge patch cannot be
    /// judged (what it adds depends on what was there), a JSON patch can.
    #[test]
    fn a_json_patch_is_judged_from_the_request_a_merge_patch_is_not() {
        let patch = |body: &str| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"p","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/app/deployments/web","verb":"patch","user":{{"username":"alice"}},"objectRef":{{"resource":"deployments","apiGroup":"apps","namespace":"app","name":"web"}},"responseStatus":{{"code":200}},"requestObject":{body}}}"#
            )
        };
        let added = |engine: &Engine| {
            engine
                .not_assessed()
                .find(|n| n.rule.id == "AUD044")
                .map(|n| (n.requests, n.needs))
        };
        let (_, merge) = run(&patch(
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"x","image":"busybox"}]}}}}"#,
        ));
        assert_eq!(added(&merge), Some((1, Level::RequestResponse)));
        let (_, json) = run(&patch(
            r#"[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"x","image":"busybox"}}]"#,
        ));
        assert_eq!(added(&json), None);
    }

    /// A pod created and logged without its object may have been privileged: the pod
    /// detections say they could not judge it, and what they needed.
    #[test]
    fn a_request_logged_below_what_a_detection_reads_is_not_assessed() {
        let (_, judged) = run(PRIVILEGED_POD);
        assert_eq!(judged.not_assessed().count(), 0);

        let metadata = PRIVILEGED_POD
            .replace(r#""level":"Request""#, r#""level":"Metadata""#)
            .split(r#","requestObject""#)
            .next()
            .unwrap()
            .to_string()
            + "}";
        let (alerts, blind) = run(&metadata);
        assert!(alerts.iter().all(|a| a.rule.id != "AUD004"));
        let privileged = blind
            .not_assessed()
            .find(|n| n.rule.id == "AUD004")
            .expect("AUD004 not assessed");
        assert_eq!(privileged.requests, 1);
        assert_eq!(privileged.needs, Level::Request);
        assert_eq!(privileged.logged_at, Level::Metadata);
        assert_eq!(privileged.by_request.get("create pods"), Some(&1));
        // Detections that read only the metadata judged it.
        assert!(blind.not_assessed().all(|n| n.needs > Level::Metadata));
    }

    /// A pod create the audit backend truncated (too large: its object dropped, its level
    /// kept) cannot be judged by the pod detections: it is counted as not assessed, as
    /// truncated, and is not a lowering of the level (AUD048).
    #[test]
    fn a_truncated_event_is_not_assessed_whatever_its_level() {
        let truncated = PRIVILEGED_POD
            .split(r#","requestObject""#)
            .next()
            .unwrap()
            .replace(
                r#""responseStatus""#,
                r#""annotations":{"audit.k8s.io/truncated":"true"},"responseStatus""#,
            )
            + "}";
        let (alerts, engine) = run(&truncated);
        assert!(alerts.iter().all(|a| a.rule.id != "AUD048"), "{alerts:?}");
        let privileged = engine
            .not_assessed()
            .find(|n| n.rule.id == "AUD004")
            .expect("AUD004 not assessed");
        assert_eq!((privileged.requests, privileged.truncated), (1, 1));
        assert_eq!(privileged.logged_at, Level::Metadata);
        // Annotated otherwise, the same event is at the level it says.
        let (_, kept) = run(&truncated.replace(r#""true""#, r#""false""#));
        assert_eq!(kept.not_assessed().count(), 0);
    }

    /// An alert on a dry run says that nothing was stored, in its message and its evidence;
    /// the same request stored says neither.
    #[test]
    fn an_alert_on_a_dry_run_says_nothing_was_stored() {
        let stored = alerts(PRIVILEGED_POD);
        let privileged = |alerts: &[Alert]| {
            alerts
                .iter()
                .find(|a| a.rule.id == "AUD004")
                .cloned()
                .expect("AUD004 alert")
        };
        let real = privileged(&stored);
        assert!(!real.message.contains("dry run"), "{}", real.message);
        assert!(real.evidence.iter().all(|(k, _)| *k != "dry_run"));

        let dry = PRIVILEGED_POD.replace("/pods\"", "/pods?dryRun=All\"");
        assert_ne!(dry, PRIVILEGED_POD);
        let probed = alerts(&dry);
        assert_eq!(probed.len(), stored.len());
        let alert = privileged(&probed);
        assert!(alert.message.ends_with(DRY_RUN_NOTE), "{}", alert.message);
        assert!(alert.evidence.contains(&("dry_run", "true".to_string())));
        assert!(probed.iter().all(|a| a.message.ends_with(DRY_RUN_NOTE)));
    }
}
