//! Plain lists of indicators, one per line, as most public feeds publish them: addresses and
//! CIDRs (FireHOL `.netset`, Spamhaus DROP `1.2.3.0/24 ; SBL123`), domains (one per line, or
//! hosts-file style `0.0.0.0 evil.example`), with `#` and `;` comments. A typed entry names
//! what an untyped line cannot: `image: docker.io/xmrig/xmrig`, `user-agent: kube-hunter`,
//! `user: mallory`, `ip: ...`, `domain: ...`.

use palisade_net::addr::AddrRange;

use crate::pattern::{Observable, domain};
use crate::{Indicator, Problem};

/// Longest line read; a longer one is a problem, not an indicator.
const MAX_LINE: usize = 4096;

/// Reads a list: each line's observable, with the indicator it belongs to (`source:line`).
/// Lines that name nothing readable are problems, with their line.
pub fn read(source: &str, text: &str, out: &mut Vec<(Indicator, Vec<Observable>)>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let place = || format!("{source}:{number}");
        if line.len() > MAX_LINE {
            problems.push(Problem::new(
                place(),
                format!("a line longer than {MAX_LINE} bytes"),
            ));
            continue;
        }
        let entry = line.split(['#', ';']).next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        match observable(entry) {
            Ok(observable) => out.push((Indicator::listed(source, number), vec![observable])),
            Err(message) => problems.push(Problem::new(place(), message)),
        }
    }
    problems
}

/// What one entry names.
fn observable(entry: &str) -> Result<Observable, String> {
    if let Some((kind, value)) = typed(entry) {
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("`{kind}:` names nothing"));
        }
        return match kind {
            "ip" => address(value),
            "domain" => domain(value).map_err(|e| e.to_string()),
            "image" => Ok(Observable::Image(
                palisade_k8s::image::ImageRef::parse(value).full_name(),
            )),
            "user-agent" => Ok(Observable::UserAgent(value.to_string())),
            _ => Ok(Observable::User(value.to_string())),
        };
    }
    let words: Vec<&str> = entry.split_whitespace().collect();
    match words.as_slice() {
        // A bare word is a domain only with a dot: `localhost` or a stray word is more
        // likely a mistake than an indicator (`domain: name` names a single label).
        [one] => address(one).or_else(|_| {
            domain(one)
                .ok()
                .filter(|_| one.contains('.'))
                .ok_or_else(|| {
                    format!(
                        "`{one}` is not an address, CIDR or domain name (name other kinds: \
                     `image: ...`, `user-agent: ...`, `user: ...`)"
                    )
                })
        }),
        // A hosts file: the address it sinks the name to, then the name.
        [sink, name] if AddrRange::parse_cidr(sink).is_ok() => {
            domain(name).map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "`{entry}` is not one address, CIDR or domain name (name other kinds: \
             `image: ...`, `user-agent: ...`, `user: ...`)"
        )),
    }
}

/// `kind: value` for the kinds a list may name; the rest is an untyped entry (an IPv6
/// address has colons too).
fn typed(entry: &str) -> Option<(&str, &str)> {
    let (kind, value) = entry.split_once(':')?;
    let kind = kind.trim();
    ["ip", "domain", "image", "user-agent", "user"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(kind))
        .map(|k| (k, value))
}

fn address(text: &str) -> Result<Observable, String> {
    AddrRange::parse_cidr(text).map(Observable::Address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> (Vec<Observable>, Vec<String>) {
        let mut out = Vec::new();
        let problems = read("feed.txt", text, &mut out);
        (
            out.into_iter().flat_map(|(_, o)| o).collect(),
            problems.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn reads_the_lists_feeds_publish() {
        let (observables, problems) = read_all(
            "# FireHOL-style\n198.51.100.0/24\n203.0.113.7 ; SBL123\n\n0.0.0.0 Miner.Example\n\
             evil.example\nimage: xmrig/xmrig:latest\nuser-agent: kube-hunter/0.6\nUSER: mallory\n\
             2001:db8::/32\nip: 192.0.2.1\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let cidr = |t: &str| Observable::Address(AddrRange::parse_cidr(t).unwrap());
        assert_eq!(
            observables,
            [
                cidr("198.51.100.0/24"),
                cidr("203.0.113.7"),
                Observable::Domain("miner.example".into()),
                Observable::Domain("evil.example".into()),
                Observable::Image("docker.io/xmrig/xmrig".into()),
                Observable::UserAgent("kube-hunter/0.6".into()),
                Observable::User("mallory".into()),
                cidr("2001:db8::/32"),
                cidr("192.0.2.1"),
            ]
        );
    }

    #[test]
    fn a_line_it_cannot_read_is_a_problem_with_its_line() {
        let (observables, problems) =
            read_all("198.51.100.1\nnot a feed line\n10.0.0.0/33\nimage:\nstray\n");
        assert_eq!(observables.len(), 1);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("feed.txt:2: "), "{problems:?}");
        assert!(problems[1].starts_with("feed.txt:3: "), "{problems:?}");
        assert!(problems[2].starts_with("feed.txt:4: "), "{problems:?}");
    }
}
