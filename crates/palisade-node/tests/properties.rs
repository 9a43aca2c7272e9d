//! Properties of the decoders of a node's files, on any text: no panic, and a command line's
//! words split the same way however they are quoted back.

use std::collections::HashMap;
use std::path::Path;

use palisade_node::accounts::Accounts;
use palisade_node::kubelet::{self, CommandLine, CommandSource};
use palisade_node::systemd::{self, Origin};
use proptest::prelude::*;

proptest! {
    #[test]
    fn words_quoted_back_split_the_same(text in "\\PC{0,80}") {
        let words = systemd::split_words(&text);
        let quoted: Vec<String> = words
            .iter()
            .map(|w| format!("'{}'", w.replace('\'', "'\"'\"'")))
            .collect();
        prop_assert_eq!(systemd::split_words(&quoted.join(" ")), words);
    }

    #[test]
    fn any_unit_environment_file_and_table_is_read_without_a_panic(
        text in "(\\[Service\\]\n|ExecStart=|Environment=|EnvironmentFile=-?|\\$[A-Z]{1,3}|\\$\\{[A-Z]{0,3}\\}?|--[a-z-]{1,12}=?|\"|'|\\\\|\n|[a-z0-9:=/ ]{0,6}){0,40}",
    ) {
        let file = Path::new("/etc/systemd/system/kubelet.service");
        let entries = systemd::service_entries(&text, file);
        let environment: HashMap<_, _> = systemd::environment_file(&text, file).into_iter().collect();
        let origin = Origin { file: file.into(), line: Some(1) };
        for entry in &entries {
            let words = systemd::command_words(&entry.value, &origin, &environment).unwrap_or_default();
            let command = CommandLine {
                source: CommandSource::Unit,
                flags: kubelet::flags(&words),
                unit_files: Vec::new(),
                problems: Vec::new(),
            };
            let mut config = serde_json::json!({});
            let set = kubelet::apply_command_line(&mut config, &command, false);
            // Every setting recorded is in the configuration.
            for (pointer, _) in set {
                prop_assert!(palisade_core::tree::Tree::at(&config, &pointer).is_some(), "{pointer}");
            }
        }
        let accounts = Accounts::parse(&text, &text);
        prop_assert_eq!(accounts.uid("root"), Some(0));
    }
}
