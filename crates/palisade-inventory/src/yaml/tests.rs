use super::*;
use crate::spans::Pos;

fn parse(text: &str) -> Stream {
    parse_stream(text, &Limits::default())
}

fn one(text: &str) -> Document {
    let mut stream = parse(text);
    assert!(
        stream.errors.is_empty(),
        "unexpected errors: {:?}",
        stream.errors
    );
    assert_eq!(stream.documents.len(), 1);
    stream.documents.remove(0)
}

fn at(doc: &Document, pointer: &str) -> (u32, u32, bool) {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let r = doc.spans.resolve(&doc.value, segments);
    (r.pos.line, r.pos.column, r.exact)
}

#[test]
fn records_positions_for_every_node_kind() {
    let doc = one(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: a\n    \
         args: [x, \"y\"]\n    env: {A: '1'}\n    command:\n      - |\n        echo hi\n",
    );
    assert_eq!(at(&doc, "/kind"), (2, 1, true));
    assert_eq!(at(&doc, "/metadata/name"), (4, 3, true));
    assert_eq!(at(&doc, "/spec/containers/0"), (7, 5, true));
    assert_eq!(at(&doc, "/spec/containers/0/args/1"), (8, 15, true));
    assert_eq!(at(&doc, "/spec/containers/0/env/A"), (9, 11, true));
    // Block scalars are positioned at their first content line.
    assert_eq!(at(&doc, "/spec/containers/0/command/0"), (12, 9, true));
    // A missing field resolves to its deepest existing ancestor.
    assert_eq!(
        at(&doc, "/spec/containers/0/securityContext/privileged"),
        (7, 5, false)
    );
}

#[test]
fn gives_sibling_indentation_for_inserting_fields() {
    let doc = one("a:\n    b: 1\n    c: 2\n");
    let r = doc.spans.resolve(&doc.value, ["a", "c"]);
    assert_eq!(r.indent, Some(5));
}

#[test]
fn resolves_scalars_as_kubernetes_does() {
    let doc = one(
        "octal: 0644\nhex: 0x1F\nyes: yes\non: off\nnum: 12\nneg: -3\nfloat: 1.5\nnull: ~\n\
         quoted: \"0644\"\nstr: 1Gi\nmillis: 500m\ntagged: !!str 12\nversion: 1.20\nbig: 99999999999999999999\n",
    );
    let v = &doc.value;
    assert_eq!(v["octal"], 420);
    assert_eq!(v["hex"], 31);
    assert_eq!(v["yes"], true);
    assert_eq!(v["on"], false);
    assert_eq!(v["num"], 12);
    assert_eq!(v["neg"], -3);
    assert_eq!(v["float"], 1.5);
    assert!(v["null"].is_null());
    assert_eq!(v["quoted"], "0644");
    assert_eq!(v["str"], "1Gi");
    assert_eq!(v["millis"], "500m");
    assert_eq!(v["tagged"], "12");
    assert_eq!(v["version"], 1.2);
    assert!(v["big"].is_f64());
}

#[test]
fn keeps_key_order() {
    let doc = one("z: 1\na: 2\nm: 3\n");
    let keys: Vec<_> = doc.value.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["z", "a", "m"]);
}

#[test]
fn splits_multi_document_streams_and_isolates_broken_documents() {
    let stream = parse("a: 1\n---\nb: [unclosed\n---\nc: 3\n...\n---\n# only a comment\n");
    assert_eq!(stream.documents.len(), 2);
    assert_eq!(stream.documents[1].value["c"], 3);
    assert_eq!(stream.documents[1].spans.pos().line, 5);
    assert_eq!(stream.errors.len(), 1);
    assert_eq!(stream.errors[0].code, "yaml-syntax");
    assert!(stream.errors[0].pos.line >= 3);
}

#[test]
fn parses_json() {
    let doc = one(
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [ {\"a\": 1.0} ]\n}\n",
    );
    assert_eq!(doc.value["items"][0]["a"], 1.0);
    assert_eq!(at(&doc, "/items/0/a"), (4, 15, true));
}

#[test]
fn reports_duplicate_keys_and_keeps_the_last_value() {
    let doc = one("a: 1\nb: 2\na: 3\n");
    assert_eq!(doc.value["a"], 3);
    assert_eq!(doc.warnings.len(), 1);
    assert_eq!(doc.warnings[0].code, "duplicate-key");
    assert_eq!(doc.warnings[0].pos, Pos { line: 3, column: 1 });
    assert!(doc.warnings[0].message.contains("first at line 1"));
    assert_eq!(at(&doc, "/a"), (3, 1, true));
}

#[test]
fn applies_merge_keys_with_explicit_keys_winning() {
    let doc = one("base: &b {x: 1, y: 2}\nder:\n  y: 9\n  <<: *b\n  x: 5\n");
    assert_eq!(doc.value["der"]["x"], 5);
    assert_eq!(doc.value["der"]["y"], 9);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn expands_aliases() {
    let doc = one("a: &x [1, 2]\nb: *x\n");
    assert_eq!(doc.value["b"], serde_json::json!([1, 2]));
    // Positions inside an alias resolve to the alias.
    assert_eq!(at(&doc, "/b/1"), (2, 1, true));
}

#[test]
fn rejects_alias_bombs_within_budget() {
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for name in names {
        bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        prev = name;
    }
    let stream = parse(&bomb);
    assert!(stream.documents.is_empty());
    assert_eq!(stream.errors[0].code, "limit-exceeded");
    assert!(stream.errors[0].message.contains("alias"));
}

#[test]
fn rejects_deep_nesting() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let stream = parse(&deep);
    assert!(stream.documents.is_empty());
    assert_eq!(stream.errors.len(), 1, "{:?}", stream.errors);
    assert_eq!(stream.errors[0].code, "limit-exceeded");

    let mut block = String::new();
    for depth in 0..200 {
        block.push_str(&" ".repeat(depth));
        block.push_str("k:\n");
    }
    let stream = parse(&block);
    assert_eq!(stream.errors[0].code, "limit-exceeded");
}

#[test]
fn reports_tabs_with_their_line() {
    let stream = parse("a:\n\tb: 1\n");
    assert_eq!(stream.errors.len(), 1);
    assert_eq!(stream.errors[0].pos.line, 2);
}

#[test]
fn accepts_flow_sequences_closed_left_of_their_items() {
    // From istio's spire-quickstart.yaml: valid YAML that saphyr alone rejects.
    let doc = one(
        "spec:\n  containers:\n    - name: csi\n      args: [\n          \"-a\", \"/x\",\n          \"-b\", \"/y\",\n      ]\n      env:\n        - name: NODE\n",
    );
    assert_eq!(doc.value["spec"]["containers"][0]["args"][3], "/y");
    assert_eq!(doc.value["spec"]["containers"][0]["env"][0]["name"], "NODE");
    assert_eq!(at(&doc, "/spec/containers/0/env"), (8, 7, true));
}

#[test]
fn strips_byte_order_mark() {
    let doc = one("\u{feff}a: 1\n");
    assert_eq!(doc.value["a"], 1);
}

#[test]
fn non_string_keys_become_text_with_a_warning() {
    let doc = one("80: http\n? [a, b]\n: c\n");
    assert_eq!(doc.value["80"], "http");
    assert_eq!(doc.warnings[0].code, "non-string-key");
}

/// An alias bomb in every document of one file: the file's alias budget stops it at the
/// first document over budget, and the rest of the file is skipped with one diagnostic
/// (issue "Trust", item 6: 30 bomb documents took 11 s).
#[test]
fn alias_bombs_are_bounded_per_file() {
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
    let text = vec![bomb; 30].join("---\n");
    let stream = parse(&text);
    assert_eq!(stream.errors.len(), 1, "{:?}", stream.errors);
    assert_eq!(stream.errors[0].code, "limit-exceeded");
    assert!(stream.errors[0].message.contains("rest of the file"));
    assert!(stream.documents.len() < 30);
}

/// The run's budget is shared by every file: many files each under their own budget still
/// stop once the run's is spent.
#[test]
fn alias_expansion_is_bounded_per_run() {
    let limits = Limits {
        max_alias_nodes_per_file: 1_000,
        max_alias_nodes_per_run: 2_500,
        ..Limits::default()
    };
    let file = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n";
    let run = AtomicUsize::new(0);
    let stopped: Vec<bool> = (0..5)
        .map(|_| !parse_stream_in_run(file, &limits, &run).errors.is_empty())
        .collect();
    // 70 aliases of 11 nodes each: 770 per file, so the fourth file crosses 2,500.
    assert_eq!(stopped, [false, false, false, true, true], "{run:?}");
}

/// Nested complex keys (`? ? ? ... 0`): each level's key is the level below rendered as JSON,
/// which doubled with every level (64 bytes took 42 s and 6 GB). Key text is now bounded.
#[test]
fn nested_complex_keys_cost_linear_time() {
    for levels in [28, 32, 40, 60, 120] {
        let text = format!("{}0\n", "? ".repeat(levels));
        let stream = parse(&text);
        fn longest_key(value: &serde_json::Value) -> usize {
            match value {
                serde_json::Value::Object(map) => map
                    .iter()
                    .map(|(k, v)| k.len().max(longest_key(v)))
                    .max()
                    .unwrap_or(0),
                serde_json::Value::Array(items) => items.iter().map(longest_key).max().unwrap_or(0),
                _ => 0,
            }
        }
        for doc in &stream.documents {
            assert!(longest_key(&doc.value) <= MAX_KEY_TEXT + 3, "{levels}");
            assert!(
                doc.warnings.len() <= MAX_WARNINGS_PER_DOCUMENT + 1,
                "{levels}"
            );
        }
    }
}

/// A document of many duplicate keys keeps a bounded number of warnings, and says how many
/// more there were.
#[test]
fn warnings_per_document_are_bounded() {
    let text: String = (0..500).map(|i| format!("k: {i}\n")).collect();
    let doc = one(&text);
    assert_eq!(doc.warnings.len(), MAX_WARNINGS_PER_DOCUMENT + 1);
    assert!(
        doc.warnings
            .last()
            .unwrap()
            .message
            .contains("479 more warnings")
    );
    assert_eq!(doc.value["k"], 499, "the last value is evaluated");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
            let _ = parse_stream(&text, &Limits::default());
        }

        #[test]
        fn never_panics_on_yaml_like_text(text in "([a-z]{1,3}|[ \\-:\\[\\]{},&*!|>'\"#\n\t?]|---){0,120}") {
            let _ = parse_stream(&text, &Limits::default());
        }

        #[test]
        fn every_node_of_a_parsed_document_resolves_exactly(
            keys in proptest::collection::vec("[a-z]{1,6}", 1..8),
            values in proptest::collection::vec(0i64..1000, 1..8),
        ) {
            let mut text = String::from("root:\n");
            for (k, v) in keys.iter().zip(values.iter()) {
                text.push_str(&format!("  {k}: {v}\n"));
            }
            let stream = parse_stream(&text, &Limits::default());
            let doc = &stream.documents[0];
            for (k, _) in keys.iter().zip(values.iter()) {
                let r = doc.spans.resolve(&doc.value, ["root", k.as_str()]);
                prop_assert!(r.exact);
                prop_assert!(r.pos.line >= 2);
            }
        }
    }
}

#[test]
fn several_threads_parse_a_stream_exactly_as_one_does() {
    // Documents, a broken one, an alias bomb that ends the file, and documents after it.
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: \"{i}\"}}\n"
        ));
        if i == 10 {
            text.push_str("---\nkey: [unclosed\n");
        }
    }
    let bomb = "---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    let limits = Limits {
        max_alias_nodes_per_file: 5_000,
        ..Limits::default()
    };
    for with_bomb in [false, true] {
        let mut text = text.clone();
        if with_bomb {
            text.push_str(bomb);
            for i in 0..20 {
                text.push_str(&format!(
                    "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s{i}}}\n"
                ));
            }
        }
        let one = super::parse_stream_on(&text, &limits, &AtomicUsize::new(0), 1);
        for threads in [2, 3, 4] {
            let many = super::parse_stream_on(&text, &limits, &AtomicUsize::new(0), threads);
            assert_eq!(many.documents, one.documents, "{threads} threads");
            assert_eq!(many.errors, one.errors, "{threads} threads");
        }
        assert_eq!(one.errors.len(), if with_bomb { 2 } else { 1 });
    }
}

#[test]
fn quoted_scalars_continued_left_of_their_entry_read_as_kubectl_reads_them() {
    // The Kubernetes tutorial's Kafka StatefulSet writes its command this way.
    let text = "command:\n    - sh\n    - \"exec kafka-server-start.sh \\\n  --override listeners=PLAINTEXT://:9093 \\\n  --override zk\"\n    - 'it''s\n  single'\n";
    let stream = parse_stream(text, &Limits::default());
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    let command = &stream.documents[0].value["command"];
    assert_eq!(
        command[1],
        "exec kafka-server-start.sh --override listeners=PLAINTEXT://:9093 --override zk"
    );
    assert_eq!(command[2], "it's single");
    // Lines do not move.
    let spans = &stream.documents[0].spans;
    let resolved = spans.resolve(&stream.documents[0].value, ["command", "2"]);
    assert_eq!(resolved.pos.line, 6);
}
