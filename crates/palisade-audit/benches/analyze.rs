//! Audit analysis throughput: a log of 2,000,000 events built by replaying the real Falco
//! traces (../shared/corpora, required) with varied users (service accounts, people,
//! controllers), namespaces, audit ids and timestamps, analysed on one thread with every
//! detection on (activity trail, allow-lists, cluster ranges) and a learned baseline.
//! The configured run also matches a generated threat-intelligence feed (20,000 addresses and
//! ranges, 2,000 domains). Prints events per second, the peak resident memory, and, measured
//! in the same run on the same file, `jq -c 'select(.objectRef.subresource=="exec")'` as the baseline to beat.
//!
//! The same log is then analysed on THREADS threads (default: every core;
//! `palisade_audit::parallel`), with the same alerts and counts.
//!
//! `cargo bench -p palisade-audit` (release profile). EVENTS=N changes the size; LEVEL=Metadata
//! replays the events without their bodies; SETTINGS=default runs the detections as configured
//! out of the box; FOLLOW=1 compares catching up on the log with `--follow` to reading it.

/// The allocator the `palisade` binary ships, so the figures are the command's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_audit::input::{ReadStats, read_path};
use palisade_audit::{Baseline, Engine, Event, Origin, Selection, Settings};
use serde_json::Value;

fn traces() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/k8s-audit-logs/falco-legacy/test/trace_files/k8s_audit");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is required: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut events = Vec::new();
    for path in names {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line)
                && v["kind"] == "Event"
            {
                events.push(v);
            }
        }
    }
    events
}

/// The identity of replayed event `i`: mostly service accounts and controllers, some people.
fn user(i: usize) -> String {
    match i % 10 {
        0 => format!("user-{}@example.com", i % 50),
        1..=3 => format!("system:serviceaccount:kube-system:controller-{}", i % 20),
        4 => format!("system:node:node-{}", i % 30),
        _ => format!("system:serviceaccount:ns-{}:app-{}", i % 100, i % 7),
    }
}

/// LEVEL=Metadata replays the events as an audit policy at the Metadata level logs them
/// (without request and response bodies), the level most policies use for most requests.
fn metadata_only() -> bool {
    std::env::var("LEVEL").is_ok_and(|l| l == "Metadata")
}

fn build(path: &Path, count: usize) {
    let mut events = traces();
    if metadata_only() {
        for event in &mut events {
            if let Some(map) = event.as_object_mut() {
                map.remove("requestObject");
                map.remove("responseObject");
                map.insert("level".into(), Value::String("Metadata".into()));
            }
        }
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let start = 1_796_119_200i64; // 2026-12-01T10:00:00Z
    for i in 0..count {
        let mut event = events[i % events.len()].clone();
        event["auditID"] = Value::String(format!("bench-{i:08}"));
        event["user"]["username"] = Value::String(user(i));
        if let Some(ns) = event.pointer_mut("/objectRef/namespace") {
            *ns = Value::String(format!("ns-{}", i % 100));
        }
        event["sourceIPs"] = serde_json::json!([format!("10.{}.{}.{}", i % 4, i % 200, i % 250)]);
        let secs = start + (i / 100) as i64;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let date = palisade_core::date::Date::from_days(days);
        let time = format!(
            "{date}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            (i % 100) * 10_000
        );
        event["requestReceivedTimestamp"] = Value::String(time.clone());
        event["stageTimestamp"] = Value::String(time);
        serde_json::to_writer(&mut out, &event).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

/// 20,000 addresses and ranges outside 10.0.0.0/8, 2,000 domains, 200 images, 50 user agents.
fn threat_feed() -> String {
    let mut text = String::from("# generated for the bench\n");
    for i in 0..20_000u32 {
        let (a, b, c) = (11 + i % 200, (i / 200) % 256, i % 256);
        if i % 4 == 0 {
            text.push_str(&format!("{a}.{b}.{c}.0/24 ; range {i}\n"));
        } else {
            text.push_str(&format!("{a}.{b}.{c}.{}\n", i % 250 + 1));
        }
    }
    for i in 0..2_000 {
        text.push_str(&format!("pool-{i}.miner.example\n"));
    }
    for i in 0..200 {
        text.push_str(&format!("image: registry-{i}.example/tools/agent-{i}\n"));
    }
    for i in 0..50 {
        text.push_str(&format!("user-agent: scanner-{i}/1.0\n"));
    }
    text
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let count: usize = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-audit");
    std::fs::create_dir_all(&dir).unwrap();
    let level = if metadata_only() {
        "metadata"
    } else {
        "request-response"
    };
    let log = dir.join(format!("audit-{level}-{count}.log"));
    if !log.exists() {
        let t = Instant::now();
        build(&log, count);
        eprintln!(
            "built {} in {:.1} s",
            log.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let bytes = std::fs::metadata(&log).unwrap().len();

    // A baseline learned from a tenth as much of the same traffic.
    let learn = dir.join(format!("learn-{level}-{count}.log"));
    if !learn.exists() {
        build(&learn, count / 10);
    }
    let mut baseline = Baseline::default();
    let mut stats = ReadStats::default();
    let mut learner = |e: &Event, _: &Origin| baseline.observe(e);
    read_path(&learn, &mut stats, &mut learner).unwrap();

    // SETTINGS=default runs what a user gets without configuration (no activity trail, no
    // allow-lists, no cluster ranges), still with the baseline.
    let settings = if std::env::var("SETTINGS").is_ok_and(|s| s == "default") {
        Settings::default()
    } else {
        let mut settings = Settings {
            activity: true,
            allowed_users: vec!["user-1@example.com".into()],
            allowed_namespaces: vec!["ns-1".into()],
            allowed_images: vec!["nginx".into()],
            cluster_cidrs: vec!["10.0.0.0/9".into()],
            ..Settings::default()
        };
        // A feed the size of FireHOL's level 3 and a domain list, naming none of the
        // replayed traffic (most requests are benign): AUD050 and AUD051 run on every event
        // and pod.
        let feed = dir.join("threat-intel.txt");
        if !feed.exists() {
            std::fs::write(&feed, threat_feed()).unwrap();
        }
        settings.read_threat_intel(&dir, &[feed]).unwrap();
        settings
    };
    // RULES=AUD001,AUD004 narrows the detections (to see what each costs).
    let selection = Selection {
        only: std::env::var("RULES")
            .map(|r| r.split(',').map(String::from).collect())
            .unwrap_or_default(),
        skip: Vec::new(),
    };
    // DECODE_ONLY=1 reads and decodes the log without analysing it (what decoding costs).
    if std::env::var_os("DECODE_ONLY").is_some() {
        let mut stats = ReadStats::default();
        let t = Instant::now();
        read_path(&log, &mut stats, &mut |_: &Event, _: &Origin| {}).unwrap();
        let seconds = t.elapsed().as_secs_f64();
        println!(
            "decoded {} events in {seconds:.2} s: {:.0} events/s, {:.0} MiB/s",
            stats.events,
            stats.events as f64 / seconds,
            bytes as f64 / 1048576.0 / seconds
        );
        return;
    }
    // FOLLOW=1 reads the log as `--follow` catches up on a file already there, next to
    // reading it (both decoding only): catching up must cost what reading costs.
    if std::env::var_os("FOLLOW").is_some() {
        let mut read = ReadStats::default();
        let t = Instant::now();
        read_path(&log, &mut read, &mut |_: &Event, _: &Origin| {}).unwrap();
        let reading = t.elapsed().as_secs_f64();
        let seen = std::cell::Cell::new(0u64);
        let mut followed = ReadStats::default();
        let t = Instant::now();
        let mut count_event = |_: &Event, _: &Origin| seen.set(seen.get() + 1);
        palisade_audit::input::follow(&log, &mut followed, &mut count_event, &|| {
            seen.get() >= read.events
        })
        .unwrap();
        let following = t.elapsed().as_secs_f64();
        assert_eq!(followed.events, read.events);
        println!(
            "{} events read in {reading:.2} s, followed in {following:.2} s ({:.2}x reading); peak RSS {:.0} MiB",
            read.events,
            following / reading,
            peak_rss_mib()
        );
        return;
    }
    let mut engine = Engine::new(settings.clone(), Some(baseline.clone()), &selection);
    let mut alerts = 0u64;
    let mut stats = ReadStats::default();
    let t = Instant::now();
    {
        let mut buffer = Vec::new();
        let mut sink = |e: &Event, o: &Origin| {
            engine.analyze(e, o, &mut buffer);
            alerts += buffer.len() as u64;
            buffer.clear();
        };
        read_path(&log, &mut stats, &mut sink).unwrap();
    }
    let ours = t.elapsed().as_secs_f64();
    assert_eq!(stats.events, count as u64);
    let single_rss = peak_rss_mib();

    // The same analysis on THREADS threads (default: every core) besides the reader: the
    // same alerts, in the same order, is checked by the tests; here their number.
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(palisade_core::parallel::cores);
    let mut parallel_engine = Engine::new(settings, Some(baseline), &selection);
    let mut parallel_alerts = 0u64;
    let mut parallel_stats = ReadStats::default();
    let t = Instant::now();
    let not_read = palisade_audit::parallel::analyze_files(
        &mut parallel_engine,
        std::slice::from_ref(&log),
        threads,
        &mut parallel_stats,
        &mut |_| parallel_alerts += 1,
    );
    let parallel = t.elapsed().as_secs_f64();
    assert!(not_read.is_empty());
    assert_eq!((parallel_stats, parallel_alerts), (stats, alerts));
    let parallel_line = format!(
        "on {threads} threads: {parallel:.2} s, {:.0} events/s, {:.2}x one thread; peak RSS {:.0} MiB",
        count as f64 / parallel,
        ours / parallel,
        peak_rss_mib()
    );

    if std::env::var_os("NO_JQ").is_some() {
        println!(
            "{count} events in {ours:.2} s: {:.0} events/s, {alerts} alerts; {parallel_line}",
            count as f64 / ours
        );
        return;
    }
    let t = Instant::now();
    let jq = std::process::Command::new("jq")
        .args(["-c", "select(.objectRef.subresource==\"exec\")"])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .status();
    let jq_seconds = t.elapsed().as_secs_f64();

    println!(
        "audit analyze: {count} events ({:.0} MiB) in {ours:.2} s on one thread: {:.0} events/s, {:.0} MiB/s, {alerts} alerts, {} detections; peak RSS {:.0} MiB",
        bytes as f64 / 1048576.0,
        count as f64 / ours,
        bytes as f64 / 1048576.0 / ours,
        engine.detections().len(),
        single_rss
    );
    println!("audit analyze {parallel_line}");
    match jq {
        Ok(status) if status.success() => println!(
            "jq select(.objectRef.subresource==\"exec\"): {jq_seconds:.2} s ({:.0} events/s); Palisade is {:.1}x jq on one thread, {:.1}x on {threads}",
            count as f64 / jq_seconds,
            jq_seconds / ours,
            jq_seconds / parallel
        ),
        _ => println!("jq: not available, no comparison"),
    }
}
