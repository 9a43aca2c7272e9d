//! Analysing on several threads gives what one thread gives: the same alerts in the same
//! order, the same counts, problems and requests not assessed. The log replays every
//! detection's fixtures (so the detections that read earlier requests, bursts, baselines,
//! stored objects and alerts given once, all fire) across many batches, with malformed and
//! non-UTF-8 lines, EventLists, cloud wrappers, a gzip file, pretty-printed documents (one of
//! more events than a batch makes ready off its turn) and a file that cannot be read among the
//! others.

mod fixture_files;

use std::io::Write;
use std::path::{Path, PathBuf};

use fixture_files::{cases, fixtures, learn};
use palisade_audit::input::ReadStats;
use palisade_audit::parallel::analyze_files;
use palisade_audit::{Baseline, Engine, Selection, Settings};
use proptest::prelude::*;

/// Everything an analysis says, to compare runs.
#[derive(Debug, PartialEq)]
struct Outcome {
    alerts: Vec<String>,
    stats: ReadStats,
    counts: String,
    not_assessed: Vec<String>,
    not_read: Vec<String>,
}

fn settings() -> Settings {
    Settings {
        activity: true,
        allowed_users: vec!["alice".into()],
        allowed_namespaces: vec!["default".into()],
        allowed_images: vec!["nginx".into()],
        cluster_cidrs: vec!["10.0.0.0/8".into()],
        ..Settings::default()
    }
}

/// Every fixture's baseline, learned together.
fn baseline() -> Baseline {
    let mut baseline = Baseline::default();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        if let Some(learned) = learn(&entry.unwrap().path()) {
            baseline.merge(learned);
        }
    }
    baseline
}

fn analyze(files: &[PathBuf], threads: usize) -> Outcome {
    let mut engine = Engine::new(settings(), Some(baseline()), &Selection::default());
    let mut stats = ReadStats::default();
    let mut alerts = Vec::new();
    let not_read = analyze_files(&mut engine, files, threads, &mut stats, &mut |alert| {
        alerts.push(serde_json::to_string(&alert).unwrap());
    });
    Outcome {
        alerts,
        stats,
        counts: format!("{:?}", engine.counts()),
        not_assessed: engine
            .not_assessed()
            .map(|n| {
                format!(
                    "{} {} {} {:?}",
                    n.rule.id, n.requests, n.truncated, n.by_request
                )
            })
            .collect(),
        not_read: not_read
            .iter()
            .map(|e| format!("{e}: {:?}", std::error::Error::source(e)))
            .collect(),
    }
}

/// Every fixture event (failing cases first, each detection in turn).
fn fixture_events() -> Vec<String> {
    let mut ids: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    ids.sort();
    let mut events = Vec::new();
    for dir in ids {
        for file in ["fail.jsonl", "pass.jsonl"] {
            if dir.join(file).exists() {
                events.extend(cases(&dir.join(file)).0.into_iter().map(|(_, line)| line));
            }
        }
    }
    events
}

const GKE: &str = r#"{"protoPayload":{"authenticationInfo":{"principalEmail":"mallory@example.com"},"authorizationInfo":[{"granted":true}],"methodName":"io.k8s.core.v1.pods.exec.create","requestMetadata":{"callerIp":"203.0.113.9","callerSuppliedUserAgent":"kubectl/v1.30.0"},"resourceName":"core/v1/namespaces/default/pods/web/exec","status":{}},"insertId":"gke-1","timestamp":"2026-12-01T10:00:02Z","operation":{"id":"op-2","first":true,"last":true}}"#;

/// A line of the log: a fixture event given round `round`'s audit ids, or now and then
/// something that is not an event.
fn line(events: &[String], i: usize) -> Vec<u8> {
    let round = i / events.len();
    let event =
        events[i % events.len()].replace(r#""auditID":""#, &format!(r#""auditID":"r{round}-"#));
    match i % 211 {
        7 => b"{\"kind\":\"Event\",".to_vec(),
        19 => vec![b'{', 0xff, 0xfe, b'}'],
        31 => Vec::new(),
        43 => format!(r#"{{"kind":"EventList","items":[{event},{event},{{"kind":"Event"}}]}}"#)
            .into_bytes(),
        59 => GKE.replace("gke-1", &format!("gke-{i}")).into_bytes(),
        67 => format!(
            r#"{{"records":[{{"properties":{{"log":{}}}}}]}}"#,
            serde_json::to_string(&event).unwrap()
        )
        .into_bytes(),
        _ => event.into_bytes(),
    }
}

fn write_log(path: &Path, lines: impl Iterator<Item = Vec<u8>>, gzip: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut out: Box<dyn Write> = match gzip {
        true => Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        )),
        false => Box::new(std::io::BufWriter::new(file)),
    };
    for line in lines {
        out.write_all(&line).unwrap();
        out.write_all(b"\n").unwrap();
    }
}

#[test]
fn the_same_alerts_in_the_same_order_on_any_number_of_threads() {
    let events = fixture_events();
    assert!(events.len() > 200, "{} fixture events", events.len());
    let dir = std::env::temp_dir().join(format!("palisade-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain, gzip, pretty) = (
        dir.join("audit.log"),
        dir.join("audit.log.1.gz"),
        dir.join("list.json"),
    );
    // More lines than several batches hold.
    let total = 6000.max(events.len() * 4);
    write_log(&plain, (0..total).map(|i| line(&events, i)), false);
    write_log(&gzip, (0..total / 3).map(|i| line(&events, i + 7)), true);
    let list = format!(
        "{{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {}\n  ]\n}}\n",
        events[..50].join(",\n    ")
    );
    std::fs::write(&pretty, list).unwrap();
    // A document of more events than a thread makes ready off its turn.
    let big = dir.join("big.json");
    let items: Vec<String> = (0..5000)
        .map(|i| {
            events[i % events.len()].replace(r#""auditID":""#, &format!(r#""auditID":"big{i}-"#))
        })
        .collect();
    std::fs::write(
        &big,
        format!(
            "{{\n\"kind\": \"EventList\",\n\"items\": [\n{}\n]}}\n",
            items.join(",\n")
        ),
    )
    .unwrap();
    let files = vec![gzip, dir.join("missing.log"), plain, big, pretty];

    let one = analyze(&files, 1);
    assert!(one.stats.events > total as u64, "{:?}", one.stats);
    assert!(one.stats.malformed > 40, "{:?}", one.stats);
    assert_eq!(one.not_read.len(), 1, "{:?}", one.not_read);
    // The detections that read earlier requests fire, not only those that read one.
    let fired = |id: &str| {
        let rule = format!(r#""rule":"{id}""#);
        one.alerts.iter().any(|a| a.contains(&rule))
    };
    for stream in ["AUD021", "AUD044", "AUD048"] {
        assert!(
            fired(stream),
            "{stream} never fired: the test would not see its order"
        );
    }
    for threads in [2, 3, 8] {
        let many = analyze(&files, threads);
        assert_eq!(many.alerts.len(), one.alerts.len(), "{threads} threads");
        for (i, (a, b)) in one.alerts.iter().zip(&many.alerts).enumerate() {
            assert_eq!(a, b, "alert {i} on {threads} threads");
        }
        assert_eq!(many, one, "{threads} threads");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Learning on several threads learns what one thread learns, including which values an
/// identity's bounded sets keep (the first ones in the log's order).
#[test]
fn the_same_baseline_learned_on_any_number_of_threads() {
    let events = fixture_events();
    let dir = std::env::temp_dir().join(format!("palisade-parallel-learn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain, gzip, busy) = (
        dir.join("audit.log"),
        dir.join("audit.log.1.gz"),
        dir.join("busy.log"),
    );
    let total = 6000.max(events.len() * 4);
    write_log(&plain, (0..total).map(|i| line(&events, i)), false);
    write_log(&gzip, (0..total / 3).map(|i| line(&events, i + 7)), true);
    // An identity touching more namespaces than a set keeps.
    let busy_lines = (0..palisade_audit::baseline::MAX_VALUES + 2000).map(|i| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"busy-{i}","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/ns-{i}/configmaps","user":{{"username":"system:serviceaccount:kube-system:sweeper"}},"sourceIPs":["10.0.{}.{}"],"userAgent":"sweeper/{i}","objectRef":{{"resource":"configmaps","namespace":"ns-{i}"}},"responseStatus":{{"code":200}},"requestReceivedTimestamp":"2026-12-01T10:00:00Z","stageTimestamp":"2026-12-01T10:00:00Z"}}"#,
            i / 250,
            i % 250
        )
        .into_bytes()
    });
    write_log(&busy, busy_lines, false);
    let files = vec![gzip, dir.join("missing.log"), plain, busy];
    let learn = |threads: usize| {
        let mut baseline = Baseline::default();
        let mut stats = ReadStats::default();
        let keep = |event: &palisade_audit::Event| event.stage() != "RequestReceived";
        let (not_read, learned) = palisade_audit::parallel::learn_files(
            &mut baseline,
            &files,
            threads,
            &mut stats,
            &keep,
        );
        let not_read: Vec<String> = not_read.iter().map(ToString::to_string).collect();
        (baseline, stats, learned, not_read)
    };
    let one = learn(1);
    assert!(one.2 > total as u64, "{} learned", one.2);
    assert!(one.1.malformed > 40, "{:?}", one.1);
    assert_eq!(one.3.len(), 1);
    let sweeper = &one.0.identities["system:serviceaccount:kube-system:sweeper"];
    assert_eq!(
        sweeper.behaviours.len(),
        palisade_audit::baseline::MAX_VALUES
    );
    for threads in [2, 3, 8] {
        let many = learn(threads);
        assert!(many.0 == one.0, "a different baseline on {threads} threads");
        assert_eq!(
            (&many.1, many.2, &many.3),
            (&one.1, one.2, &one.3),
            "{threads} threads"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A thread that fails (here the caller's handling of an alert panics) stops the analysis:
/// the panic reaches the caller, and no thread is left waiting for a turn that will not come.
#[test]
fn a_failing_thread_ends_the_analysis_instead_of_hanging_it() {
    let events = fixture_events();
    let dir = std::env::temp_dir().join(format!("palisade-parallel-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.log");
    write_log(&log, (0..20_000).map(|i| line(&events, i)), false);
    let (done, finished) = std::sync::mpsc::channel();
    let files = vec![log];
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| {
            let mut engine = Engine::new(settings(), None, &Selection::default());
            let mut stats = ReadStats::default();
            let mut given = 0;
            analyze_files(&mut engine, &files, 2, &mut stats, &mut |_| {
                given += 1;
                assert!(given < 100, "the caller failed");
            })
        });
        done.send(result.is_err()).unwrap();
    });
    let panicked = finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the analysis hung after a thread failed");
    assert!(panicked, "the failure did not reach the caller");
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any mix and order of lines gives one thread's answer on three.
    #[test]
    fn any_log_gives_one_threads_answer(picks in proptest::collection::vec(0usize..5000, 1..2500)) {
        let events = fixture_events();
        let dir = std::env::temp_dir().join(format!("palisade-parallel-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("audit.log");
        write_log(&log, picks.iter().map(|&i| line(&events, i)), false);
        let files = vec![log];
        let one = analyze(&files, 1);
        let many = analyze(&files, 3);
        std::fs::remove_dir_all(&dir).unwrap();
        prop_assert_eq!(many, one);
    }
}
