//! Sets of integers as sorted, disjoint, non-adjacent inclusive ranges: the one representation
//! of port sets and address sets, so union, intersection and difference are written once.

use std::fmt;

/// A set of `u128` values as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Intervals {
    ranges: Vec<(u128, u128)>,
}

impl fmt::Debug for Intervals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ranges.iter()).finish()
    }
}

impl Intervals {
    pub fn empty() -> Self {
        Intervals::default()
    }

    /// `[start, end]`; empty when `start > end`.
    pub fn range(start: u128, end: u128) -> Self {
        if start > end {
            return Intervals::empty();
        }
        Intervals {
            ranges: vec![(start, end)],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn contains(&self, value: u128) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end < value);
        self.ranges.get(i).is_some_and(|&(start, _)| start <= value)
    }

    /// Whether every value of `other` is in `self`.
    pub fn covers(&self, other: &Intervals) -> bool {
        other.subtract(self).is_empty()
    }

    pub fn union(&self, other: &Intervals) -> Intervals {
        let mut all: Vec<(u128, u128)> = self
            .ranges
            .iter()
            .chain(other.ranges.iter())
            .copied()
            .collect();
        all.sort_unstable();
        let mut ranges: Vec<(u128, u128)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match ranges.last_mut() {
                Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        Intervals { ranges }
    }

    pub fn intersect(&self, other: &Intervals) -> Intervals {
        let (mut i, mut j) = (0, 0);
        let mut ranges = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let (start, end) = (a0.max(b0), a1.min(b1));
            if start <= end {
                ranges.push((start, end));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Intervals { ranges }
    }

    pub fn subtract(&self, other: &Intervals) -> Intervals {
        let mut ranges = Vec::new();
        let mut j = 0;
        for &(mut start, end) in &self.ranges {
            while j < other.ranges.len() && other.ranges[j].1 < start {
                j += 1;
            }
            let mut k = j;
            let mut open = true;
            while k < other.ranges.len() && other.ranges[k].0 <= end {
                let (b0, b1) = other.ranges[k];
                if b0 > start {
                    ranges.push((start, b0 - 1));
                }
                if b1 >= end {
                    open = false;
                    break;
                }
                start = b1 + 1;
                k += 1;
            }
            if open {
                ranges.push((start, end));
            }
        }
        Intervals { ranges }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(ranges: &[(u128, u128)]) -> Intervals {
        ranges.iter().fold(Intervals::empty(), |acc, &(a, b)| {
            acc.union(&Intervals::range(a, b))
        })
    }

    #[test]
    fn union_merges_adjacent_and_overlapping_ranges() {
        assert_eq!(
            set(&[(1, 3), (4, 6), (10, 12), (11, 20)]).ranges(),
            &[(1, 6), (10, 20)]
        );
    }

    #[test]
    fn subtract_cuts_holes_and_edges() {
        let a = set(&[(1, 100)]);
        assert_eq!(
            a.subtract(&set(&[(1, 1), (50, 60), (100, 200)])).ranges(),
            &[(2, 49), (61, 99)]
        );
        assert!(a.subtract(&a).is_empty());
        let max = Intervals::range(0, u128::MAX);
        assert_eq!(max.subtract(&set(&[(0, 5)])).ranges(), &[(6, u128::MAX)]);
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_membership(
            a in prop::collection::vec((0u128..200, 0u128..20), 0..6),
            b in prop::collection::vec((0u128..200, 0u128..20), 0..6),
        ) {
            let a = set(&a.iter().map(|&(s, l)| (s, s + l)).collect::<Vec<_>>());
            let b = set(&b.iter().map(|&(s, l)| (s, s + l)).collect::<Vec<_>>());
            let (u, i, d) = (a.union(&b), a.intersect(&b), a.subtract(&b));
            for v in 0..230u128 {
                prop_assert_eq!(u.contains(v), a.contains(v) || b.contains(v));
                prop_assert_eq!(i.contains(v), a.contains(v) && b.contains(v));
                prop_assert_eq!(d.contains(v), a.contains(v) && !b.contains(v));
            }
            for r in u.ranges().windows(2) {
                prop_assert!(r[0].1 + 1 < r[1].0);
            }
        }
    }
}
