//! Fuzzes the decoders of a node's files: any bytes read as a systemd unit's `[Service]`
//! section, an environment file, `/etc/passwd` and `/etc/group`, a command line's words and a
//! kubelet's flags merged into a configuration; never a panic, and the command line's words
//! split the same way however they are quoted back.
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run node_files`.
#![no_main]

use std::collections::HashMap;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use palisade_node::accounts::Accounts;
use palisade_node::kubelet::{self, CommandLine, CommandSource};
use palisade_node::systemd::{self, Origin, Variable};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = Path::new("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
    let entries = systemd::service_entries(&text, file);
    let mut environment = HashMap::new();
    for (name, variable) in systemd::environment_file(&text, file) {
        environment.insert(name, variable);
    }
    environment.insert(
        "ARGS".to_string(),
        Variable {
            value: text.chars().take(256).collect(),
            origin: Origin {
                file: file.into(),
                line: Some(1),
            },
        },
    );
    let origin = Origin {
        file: file.into(),
        line: Some(1),
    };
    for entry in entries.iter().filter(|e| e.key == "ExecStart").take(4) {
        let words = systemd::command_words(&entry.value, &origin, &environment).unwrap_or_default();
        let command = CommandLine {
            source: CommandSource::Unit,
            flags: kubelet::flags(&words),
            unit_files: Vec::new(),
            problems: Vec::new(),
        };
        let mut config = serde_json::json!({"kind": "KubeletConfiguration"});
        let _ = kubelet::apply_command_line(&mut config, &command, false);
        kubelet::default_file(&mut config);
    }
    let accounts = Accounts::parse(&text, &text);
    let _ = accounts.user_name(0);
    // Words quoted back split into the same words.
    let words = systemd::split_words(&text);
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\"'\"'")))
        .collect();
    assert_eq!(systemd::split_words(&quoted.join(" ")), words);
});
