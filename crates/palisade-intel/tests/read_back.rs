//! The readers against what a feed would write: random observables written as a STIX pattern
//! (comparisons and observations joined by `OR`, sets with `IN`, nested parentheses, any
//! spacing and keyword case) and as a list, read back to the same observables; and any text
//! is either read or refused, never a panic.

use palisade_intel::pattern::{Observable, observables};
use palisade_intel::{Indicators, Skipped, parse};
use palisade_net::addr::AddrRange;
use proptest::prelude::*;

fn observable() -> impl Strategy<Value = Observable> {
    prop_oneof![
        (any::<u32>(), 8u32..=32).prop_map(|(v, p)| {
            let ip = std::net::Ipv4Addr::from(v);
            Observable::Address(AddrRange::parse_cidr(&format!("{ip}/{p}")).unwrap())
        }),
        (any::<u128>(), 16u32..=128).prop_map(|(v, p)| {
            let ip = std::net::Ipv6Addr::from(v);
            Observable::Address(AddrRange::parse_cidr(&format!("{ip}/{p}")).unwrap())
        }),
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){1,3}".prop_map(Observable::Domain),
        "[ -~]{1,20}".prop_map(Observable::UserAgent),
        "[a-z0-9:@._-]{1,20}".prop_map(Observable::User),
    ]
}

/// A string literal: `'` and `\` escaped.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// One comparison naming `o`, as a feed would write it.
fn comparison(o: &Observable, subset: bool) -> String {
    match o {
        Observable::Address(range) => {
            let object = match range.family {
                palisade_net::addr::Family::V4 => "ipv4-addr",
                palisade_net::addr::Family::V6 => "ipv6-addr",
            };
            let op = if subset { "ISSUBSET" } else { "=" };
            format!("{object}:value {op} {}", quoted(&range.to_string()))
        }
        Observable::Domain(d) => format!("domain-name:value = {}", quoted(d)),
        Observable::UserAgent(u) => format!(
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {}",
            quoted(u)
        ),
        Observable::User(u) => format!("user-account:account_login = {}", quoted(u)),
        Observable::Image(_) => unreachable!("no STIX path names an image"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_pattern_of_ors_reads_back_to_its_observables(
        groups in prop::collection::vec(prop::collection::vec((observable(), any::<bool>()), 1..4), 1..4),
        spaces in prop::collection::vec(0usize..3, 8),
        lower in any::<bool>(),
        wrap in any::<bool>(),
    ) {
        let pad = |i: usize| " ".repeat(spaces[i % spaces.len()]);
        let or = if lower { "or" } else { "OR" };
        let mut expected = Vec::new();
        let observations: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let parts: Vec<String> = group
                    .iter()
                    .map(|(o, subset)| {
                        expected.push(o.clone());
                        comparison(o, *subset && matches!(o, Observable::Address(_)))
                    })
                    .collect();
                format!("[{}{}{}]", pad(g), parts.join(&format!("{} {or} {}", pad(g + 1), pad(g + 2))), pad(g + 3))
            })
            .collect();
        let mut pattern = observations.join(&format!(" {or}{} ", pad(4)));
        if wrap {
            pattern = format!("({pattern})");
        }
        prop_assert_eq!(observables(&pattern).unwrap(), expected, "{}", pattern);
    }

    #[test]
    fn a_list_reads_back_to_its_observables(items in prop::collection::vec(observable(), 0..20)) {
        let text: String = items
            .iter()
            .map(|o| match o {
                Observable::Address(r) => format!("{r} ; listed\n"),
                Observable::Domain(d) => format!("{d}\n"),
                Observable::UserAgent(u) => format!("user-agent: {}\n", u.trim()),
                Observable::User(u) => format!("user: {u}\n"),
                Observable::Image(i) => format!("image: {i}\n"),
            })
            .collect();
        let mut read = Vec::new();
        let mut skipped = Skipped::default();
        let problems = parse("feed.txt", &text, &mut read, &mut skipped).unwrap();
        let got: Vec<Observable> = read.into_iter().flat_map(|(_, o)| o).collect();
        // A list's entry ends at a comment sign and is trimmed.
        let want: Vec<Observable> = items
            .iter()
            .filter_map(|o| match o {
                Observable::UserAgent(u) => {
                    let kept = u.split(['#', ';']).next().unwrap_or("").trim().to_string();
                    (!kept.is_empty()).then_some(Observable::UserAgent(kept))
                }
                other => Some(other.clone()),
            })
            .collect();
        prop_assert_eq!(problems.len(), items.len() - want.len(), "{:?}", problems);
        prop_assert_eq!(got, want);
    }

    /// Any document is read or refused: no panic, and what is read can be indexed and looked
    /// up.
    #[test]
    fn any_text_is_read_or_refused(text in "[\\[\\]{}()'\",:;#a-z0-9./ \\n=-]{0,200}") {
        let mut read = Vec::new();
        let mut skipped = Skipped::default();
        let _ = parse("x", &text, &mut read, &mut skipped);
        let intel = Indicators::build(read);
        let _ = intel.address("198.51.100.7", None);
        let _ = intel.image("evil.example/x:1", Some(0));
        let _ = observables(&text);
    }
}
