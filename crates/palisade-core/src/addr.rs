//! Addresses: host names and addresses as manifests and URLs write them, CIDRs, sets of
//! addresses per family, ranges as the network matrix names them (`10.0.0.0-10.255.255.255`),
//! and which ranges the internet cannot reach.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

use crate::intervals::Intervals;

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// A set of addresses of both families.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
pub struct AddrSet {
    v4: Intervals,
    v6: Intervals,
}

impl AddrSet {
    pub fn none() -> AddrSet {
        AddrSet::default()
    }

    /// Every address of both families (`0.0.0.0/0` and `::/0`).
    pub fn all() -> AddrSet {
        AddrSet {
            v4: Intervals::range(0, Family::V4.max()),
            v6: Intervals::range(0, Family::V6.max()),
        }
    }

    pub fn family(&self, family: Family) -> &Intervals {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    pub fn of_range(range: AddrRange) -> AddrSet {
        let mut set = AddrSet::none();
        *set.family_mut(range.family) = Intervals::range(range.start, range.end);
        set
    }

    fn family_mut(&mut self, family: Family) -> &mut Intervals {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn union(&self, other: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    pub fn subtract(&self, other: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.subtract(&other.v4),
            v6: self.v6.subtract(&other.v6),
        }
    }

    /// Whether the whole range is in the set.
    pub fn covers(&self, range: &AddrRange) -> bool {
        self.family(range.family)
            .covers(&Intervals::range(range.start, range.end))
    }

    /// The ranges of the set, IPv4 first.
    pub fn ranges(&self) -> Vec<AddrRange> {
        Family::ALL
            .into_iter()
            .flat_map(|family| {
                self.family(family)
                    .ranges()
                    .iter()
                    .map(move |&(start, end)| AddrRange { family, start, end })
            })
            .collect()
    }
}

/// One contiguous range of addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrRange {
    pub family: Family,
    pub start: u128,
    pub end: u128,
}

impl AddrRange {
    /// Parses a CIDR (`10.0.0.0/8`, `2001:db8::/32`); a host address without a prefix is a /32
    /// or /128. Host bits set below the prefix are dropped (`10.0.0.1/8` is `10.0.0.0/8`).
    pub fn parse_cidr(text: &str) -> Result<AddrRange, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR"))?;
        let (family, value) = match ip {
            IpAddr::V4(v4) => (Family::V4, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (Family::V6, u128::from(v6)),
        };
        let bits = family.bits();
        let prefix: u32 = match prefix {
            Some(p) => p
                .trim()
                .parse()
                .ok()
                .filter(|&p| p <= bits)
                .ok_or_else(|| format!("`{text}` has an invalid prefix length"))?,
            None => bits,
        };
        let host_bits = bits - prefix;
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        // Host bits below the prefix are ignored, as the API server's parser does (it warns).
        Ok(AddrRange {
            family,
            start: value & !host_mask,
            end: value | host_mask,
        })
    }
}

fn format_addr(family: Family, value: u128) -> String {
    match family {
        Family::V4 => Ipv4Addr::from(value as u32).to_string(),
        Family::V6 => Ipv6Addr::from(value).to_string(),
    }
}

impl AddrRange {
    /// The prefix length when the range is exactly one CIDR block.
    pub fn prefix(&self) -> Option<u32> {
        let size = self.end.wrapping_sub(self.start).wrapping_add(1);
        let bits = self.family.bits();
        if size == 0 {
            // The whole IPv6 space wraps to zero.
            return (self.start == 0 && self.end == u128::MAX).then_some(0);
        }
        if !size.is_power_of_two() || !self.start.is_multiple_of(size) {
            return None;
        }
        Some(bits - size.trailing_zeros())
    }

    /// The fewest CIDR blocks that cover exactly this range, in address order: a range that
    /// is one block is itself; `10.0.0.1-10.0.0.6` is `10.0.0.1/32`, `10.0.0.2/31`,
    /// `10.0.0.4/31` and `10.0.0.6/32`. What a NetworkPolicy's `ipBlock.cidr` can say.
    pub fn cidr_blocks(&self) -> Vec<AddrRange> {
        // The last address of the block of 2^bits addresses at `start`, if it fits.
        let last_of = |start: u128, bits: u32| -> Option<u128> {
            if bits == 128 {
                (start == 0).then_some(u128::MAX)
            } else {
                start.checked_add((1u128 << bits) - 1)
            }
        };
        let mut blocks = Vec::new();
        let mut start = self.start;
        loop {
            // The largest block aligned at `start` that does not pass the end.
            let mut bits = start.trailing_zeros().min(self.family.bits());
            let last = loop {
                match last_of(start, bits) {
                    Some(last) if last <= self.end => break last,
                    _ => bits -= 1,
                }
            };
            blocks.push(AddrRange {
                family: self.family,
                start,
                end: last,
            });
            if last >= self.end {
                return blocks;
            }
            start = last + 1;
        }
    }

    /// Parses what [`Display`](fmt::Display) writes: a CIDR or `first-last`.
    pub fn parse(text: &str) -> Result<AddrRange, String> {
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (AddrRange::parse_cidr(a)?, AddrRange::parse_cidr(b)?);
                if a.family != b.family || a.start > b.end {
                    return Err(format!("`{text}` is not a range of addresses"));
                }
                Ok(AddrRange {
                    family: a.family,
                    start: a.start,
                    end: b.end,
                })
            }
            None => AddrRange::parse_cidr(text),
        }
    }
}

impl fmt::Display for AddrRange {
    /// A CIDR when the range is one block (`10.0.0.0/8`), else `first-last`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(prefix) = self.prefix() {
            return write!(f, "{}/{prefix}", format_addr(self.family, self.start));
        }
        write!(
            f,
            "{}-{}",
            format_addr(self.family, self.start),
            format_addr(self.family, self.end)
        )
    }
}

impl Serialize for AddrRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Whether `host` (a name or an address, an IPv6 one with or without brackets) names this
/// machine: `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Ranges no packet from the internet comes from: private networks (RFC 1918, IPv6 unique
/// local `fc00::/7`), carrier-grade NAT's shared space (RFC 6598, `100.64.0.0/10`, which cloud
/// networks use for pods and secondary ranges), loopback and link-local. A firewall that
/// admits only these admits nobody from the internet.
pub const NOT_FROM_THE_INTERNET: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

impl AddrRange {
    /// Whether every address of the range is in [`NOT_FROM_THE_INTERNET`].
    pub fn is_private(&self) -> bool {
        NOT_FROM_THE_INTERNET.iter().any(|cidr| {
            AddrRange::parse_cidr(cidr).is_ok_and(|private| {
                private.family == self.family
                    && private.start <= self.start
                    && self.end <= private.end
            })
        })
    }
}

/// Splits every address into the fewest ranges no CIDR boundary crosses: each range is then
/// wholly inside or wholly outside every ipBlock, so one evaluation answers for all of it.
pub fn atoms(cidrs: &[AddrRange]) -> Vec<AddrRange> {
    let mut out = Vec::new();
    for family in Family::ALL {
        let mut cuts: Vec<u128> = vec![0];
        for c in cidrs.iter().filter(|c| c.family == family) {
            cuts.push(c.start);
            if c.end < family.max() {
                cuts.push(c.end + 1);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for (i, &start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(family.max(), |next| next - 1);
            out.push(AddrRange { family, start, end });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_range_is_cut_into_the_fewest_cidr_blocks() {
        let blocks = |text: &str| -> Vec<String> {
            AddrRange::parse(text)
                .unwrap()
                .cidr_blocks()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(blocks("10.0.0.0/8"), ["10.0.0.0/8"]);
        assert_eq!(
            blocks("10.0.0.1-10.0.0.6"),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(blocks("0.0.0.0/0"), ["0.0.0.0/0"]);
        assert_eq!(blocks("::/0"), ["::/0"]);
        assert_eq!(blocks("::1-::2"), ["::1/128", "::2/128"]);
        assert_eq!(
            blocks("11.0.0.0-172.20.255.255"),
            [
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/3",
                "160.0.0.0/5",
                "168.0.0.0/6",
                "172.0.0.0/12",
                "172.16.0.0/14",
                "172.20.0.0/16"
            ]
        );
    }

    proptest! {
        /// The blocks are CIDRs, follow each other without a gap and cover the range exactly.
        #[test]
        fn cidr_blocks_cover_a_range_exactly(a in any::<u128>(), b in any::<u128>(), v4 in any::<bool>()) {
            let (family, mask) = if v4 { (Family::V4, u128::from(u32::MAX)) } else { (Family::V6, u128::MAX) };
            let (a, b) = (a & mask, b & mask);
            let range = AddrRange { family, start: a.min(b), end: a.max(b) };
            let blocks = range.cidr_blocks();
            prop_assert!(blocks.len() <= 2 * family.bits() as usize);
            prop_assert_eq!(blocks[0].start, range.start);
            prop_assert_eq!(blocks[blocks.len() - 1].end, range.end);
            for pair in blocks.windows(2) {
                prop_assert_eq!(pair[0].end + 1, pair[1].start);
            }
            for block in &blocks {
                prop_assert!(block.prefix().is_some(), "{block:?}");
            }
        }
    }

    #[test]
    fn cidrs_parse_to_ranges_and_host_bits_are_dropped() {
        let r = AddrRange::parse_cidr("10.0.0.0/8").unwrap();
        assert_eq!(r.to_string(), "10.0.0.0/8");
        assert_eq!(
            AddrRange::parse_cidr("0.0.0.0/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(AddrRange::parse_cidr("::/0").unwrap().to_string(), "::/0");
        assert_eq!(
            AddrRange::parse_cidr("10.1.2.3").unwrap().to_string(),
            "10.1.2.3/32"
        );
        let odd = AddrRange::parse("11.0.0.0-172.20.255.255").unwrap();
        assert_eq!(odd.to_string(), "11.0.0.0-172.20.255.255");
        assert_eq!(AddrRange::parse(&r.to_string()).unwrap(), r);
        assert_eq!(AddrRange::parse_cidr("::/0").unwrap().end, u128::MAX);
        assert_eq!(AddrRange::parse_cidr("10.0.0.1/8").unwrap(), r);
        assert!(AddrRange::parse_cidr("10.0.0.0/33").is_err());
        assert!(AddrRange::parse_cidr("nope").is_err());
    }

    #[test]
    fn loopback_names_and_addresses() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "127.example.com",
            "fd00::1",
            "[fd00::1]",
            "",
            "localhost.evil",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn private_ranges_are_those_wholly_inside_a_private_network() {
        for cidr in [
            "10.0.0.0/8",
            "10.20.0.0/16",
            "172.16.0.0/12",
            "172.31.255.255",
            "192.168.1.0/24",
            "100.64.0.0/10",
            "127.0.0.1",
            "169.254.169.254",
            "fd00::/8",
            "fe80::1",
            "::1",
        ] {
            assert!(AddrRange::parse_cidr(cidr).unwrap().is_private(), "{cidr}");
        }
        for cidr in [
            "0.0.0.0/0",
            "::/0",
            "8.0.0.0/5",
            "203.0.113.0/24",
            "172.32.0.0/16",
            "172.0.0.0/8",
            "100.128.0.0/16",
            "2001:db8::/32",
            "::ffff:10.0.0.1",
        ] {
            assert!(!AddrRange::parse_cidr(cidr).unwrap().is_private(), "{cidr}");
        }
        for cidr in NOT_FROM_THE_INTERNET {
            assert!(AddrRange::parse_cidr(cidr).is_ok(), "{cidr}");
        }
    }

    #[test]
    fn atoms_partition_each_family_at_every_boundary() {
        let cidrs = [
            AddrRange::parse_cidr("10.0.0.0/8").unwrap(),
            AddrRange::parse_cidr("10.1.0.0/16").unwrap(),
        ];
        let names: Vec<String> = atoms(&cidrs).iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0/16",
                "10.1.0.0/16",
                "10.2.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255",
                "::/0",
            ]
        );
    }
}
