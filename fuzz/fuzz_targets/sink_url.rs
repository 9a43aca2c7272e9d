//! Fuzzes sink URLs (`--sink`), every scheme's own reading included (syslog's host:port, a
//! PostgreSQL target's USER@HOST:PORT/DATABASE and table): any text gives a sink or a clear
//! error, never a panic, and a secret read from the environment never shows in the label.
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run sink_url`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-9f3";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // No file is read for ca=, cert= or key=: the fuzzer must not wander the disk.
    // A secret typed into the URL itself is the URL's, not the environment's.
    if text.contains("ca=")
        || text.contains("cert=")
        || text.contains("key=")
        || text.contains(SECRET)
    {
        return;
    }
    if let Ok(sink) = palisade_deliver::Sink::parse_with(text, &|_| Some(SECRET.to_string())) {
        assert!(!sink.label.contains(SECRET), "{}", sink.label);
        assert!(!format!("{:?}", sink.transport).contains(SECRET));
    }
});
