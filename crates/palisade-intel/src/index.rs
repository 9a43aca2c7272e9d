//! Address indicators as disjoint ranges ("atoms"), each holding the narrowest indicators
//! that cover it, so that a lookup is one binary search however the feeds' ranges nest or
//! overlap.

use std::collections::BTreeSet;

use palisade_net::addr::{AddrRange, Family};

/// Indicators kept per atom, narrowest first: enough for nested feeds whose narrower entries
/// expire; past it, the widest are not consulted.
const PER_ATOM: usize = 4;

#[derive(Debug, Default)]
pub struct Addresses {
    /// Each indexed range as shown (`198.51.100.0/24`), and its indicator.
    ranges: Vec<(String, u32)>,
    /// Per family (V4, V6), atoms sorted by start.
    atoms: [Vec<Atom>; 2],
}

#[derive(Debug)]
struct Atom {
    start: u128,
    end: u128,
    /// Indexes into `ranges`, narrowest first.
    covering: Vec<u32>,
}

fn slot(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

impl Addresses {
    pub fn build(ranges: Vec<(AddrRange, u32)>) -> Addresses {
        let mut out = Addresses::default();
        let mut by_family: [Vec<(AddrRange, u32)>; 2] = [Vec::new(), Vec::new()];
        for (number, (range, indicator)) in ranges.into_iter().enumerate() {
            let Ok(number) = u32::try_from(number) else {
                break;
            };
            out.ranges.push((range.to_string(), indicator));
            by_family[slot(range.family)].push((range, number));
        }
        for (family, ranges) in by_family.iter().enumerate() {
            out.atoms[family] = atoms(ranges);
        }
        out
    }

    /// The ranges holding `value`, narrowest first, with their indicators.
    pub fn holding(&self, family: Family, value: u128) -> impl Iterator<Item = (&str, u32)> {
        let atoms = &self.atoms[slot(family)];
        let at = atoms.partition_point(|a| a.start <= value);
        let atom = at
            .checked_sub(1)
            .map(|i| &atoms[i])
            .filter(|a| a.end >= value);
        atom.into_iter().flat_map(|a| a.covering.iter()).map(|n| {
            let (text, indicator) = &self.ranges[*n as usize];
            (text.as_str(), *indicator)
        })
    }
}

/// Sweeps the ranges' starts and ends: between two consecutive boundaries the covering set
/// does not change.
fn atoms(ranges: &[(AddrRange, u32)]) -> Vec<Atom> {
    // (point, adds?, range): removals (at end + 1) before additions at the same point.
    let mut events: Vec<(u128, bool, usize)> = Vec::with_capacity(ranges.len() * 2);
    for (i, (range, _)) in ranges.iter().enumerate() {
        events.push((range.start, true, i));
        if let Some(after) = range.end.checked_add(1) {
            events.push((after, false, i));
        }
    }
    events.sort_unstable();
    let mut active: BTreeSet<(u128, usize)> = BTreeSet::new();
    let mut out: Vec<Atom> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let point = events[i].0;
        while i < events.len() && events[i].0 == point {
            let (_, adds, r) = events[i];
            let size = ranges[r].0.end - ranges[r].0.start;
            if adds {
                active.insert((size, r));
            } else {
                active.remove(&(size, r));
            }
            i += 1;
        }
        if active.is_empty() {
            continue;
        }
        // Until the next boundary, or the end of the widest active range.
        let end = match events.get(i) {
            Some((next, _, _)) => next - 1,
            None => active
                .iter()
                .map(|(_, r)| ranges[*r].0.end)
                .max()
                .unwrap_or(point),
        };
        out.push(Atom {
            start: point,
            end,
            covering: active
                .iter()
                .take(PER_ATOM)
                .map(|(_, r)| ranges[*r].1)
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn range(start: u128, end: u128) -> AddrRange {
        AddrRange {
            family: Family::V4,
            start,
            end,
        }
    }

    proptest! {
        /// A lookup gives the ranges holding the address, narrowest first (as many as are
        /// kept), as a scan of every range would.
        #[test]
        fn a_lookup_is_a_scan_of_every_range(
            spans in prop::collection::vec((0u128..64, 0u128..16), 0..12),
            value in 0u128..90,
        ) {
            let ranges: Vec<(AddrRange, u32)> = spans
                .iter()
                .enumerate()
                .map(|(i, (start, len))| (range(*start, start + len), i as u32))
                .collect();
            let index = Addresses::build(ranges.clone());
            let got: Vec<u32> = index.holding(Family::V4, value).map(|(_, i)| i).collect();
            let mut want: Vec<(u128, u32)> = ranges
                .iter()
                .filter(|(r, _)| r.start <= value && value <= r.end)
                .map(|(r, i)| (r.end - r.start, *i))
                .collect();
            want.sort();
            let want: Vec<u32> = want.into_iter().take(PER_ATOM).map(|(_, i)| i).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn the_whole_space_is_one_range() {
        let all = AddrRange::parse_cidr("::/0").unwrap();
        let index = Addresses::build(vec![(all, 7)]);
        assert_eq!(
            index
                .holding(Family::V6, u128::MAX)
                .map(|(_, i)| i)
                .collect::<Vec<_>>(),
            [7]
        );
        assert_eq!(
            index.holding(Family::V6, 0).next().map(|(t, _)| t),
            Some("::/0")
        );
        assert!(index.holding(Family::V4, 0).next().is_none());
    }
}
