//! A file sink on a full disk: the write stops part-way, and the file is left as it was, so
//! the batch sent again is not appended after half a line. The disk is made "full" with a
//! file size limit (RLIMIT_FSIZE, SIGXFSZ caught), which holds for the whole process: this
//! test is a binary of its own.

#![cfg(unix)]

use palisade_deliver::Sink;
use palisade_store::Queued;

/// Limits the size of files this process writes (`None`: no limit). Exceeding it raises
/// SIGXFSZ, caught here, so the write fails (EFBIG) instead of the process ending.
fn limit_file_size(bytes: Option<u64>) {
    static CAUGHT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CAUGHT.get_or_init(|| {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGXFSZ, flag).unwrap();
    });
    let limit = rustix::process::Rlimit {
        current: bytes,
        maximum: None,
    };
    rustix::process::setrlimit(rustix::process::Resource::Fsize, limit).unwrap();
}

#[test]
fn a_write_cut_short_leaves_the_file_as_it_was() {
    let dir = std::env::temp_dir().join(format!("palisade-file-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alerts.jsonl");
    std::fs::write(&path, "{\"id\":\"earlier\"}\n").unwrap();
    let batch: Vec<Queued> = (0..8)
        .map(|i| Queued {
            seq: i,
            alert_id: format!("a{i}"),
            body: format!("{{\"id\":\"a{i}\",\"padding\":\"{}\"}}", "x".repeat(200)),
            attempts: 0,
        })
        .collect();
    let mut sink = Sink::parse(&format!("file://{}", path.display())).unwrap();

    limit_file_size(Some(1_000));
    let refused = sink.send(&batch);
    limit_file_size(None);
    assert!(refused.is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"id\":\"earlier\"}\n",
        "the part written is cut off again"
    );

    sink.send(&batch).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 9, "{ids:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
