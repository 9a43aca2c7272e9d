//! Sharing equal texts: a large scan makes millions of findings whose messages and pointers
//! repeat (the same field of every Deployment, the same container name), and each kept its
//! own copy. An [`Interner`] hands out one shared copy per distinct text it has seen, and
//! likewise per distinct list of cited controls (a rule that cites some of its controls cites
//! the same few on every object).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use crate::Control;

/// The distinct texts seen so far, up to a bound: when it is full it starts again empty, so
/// it costs at most its bound however many distinct texts pass through (texts handed out
/// before stay valid; only later equal ones get a copy of their own).
#[derive(Debug)]
pub struct Interner {
    seen: HashSet<Arc<str>>,
    controls: HashSet<Arc<[Control]>>,
    bound: usize,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_bound(1 << 16)
    }
}

impl Interner {
    /// An interner that keeps at most `bound` texts.
    pub fn with_bound(bound: usize) -> Self {
        Interner {
            seen: HashSet::new(),
            controls: HashSet::new(),
            bound: bound.max(1),
        }
    }

    /// An equal text seen before (sharing its allocation), or `text` itself, kept for the
    /// next ones.
    pub fn share(&mut self, text: &Arc<str>) -> Arc<str> {
        if let Some(seen) = self.seen.get(&**text) {
            return Arc::clone(seen);
        }
        self.keep(Arc::clone(text))
    }

    /// [`Interner::share`] for a text not yet shared: it is copied only when it is new.
    pub fn share_str(&mut self, text: &str) -> Arc<str> {
        if let Some(seen) = self.seen.get(text) {
            return Arc::clone(seen);
        }
        self.keep(Arc::from(text))
    }

    /// An equal list of controls seen before (sharing its allocation), or `controls` itself,
    /// kept for the next ones.
    pub fn share_controls(&mut self, controls: &Arc<[Control]>) -> Arc<[Control]> {
        if let Some(seen) = self.controls.get(&**controls) {
            return Arc::clone(seen);
        }
        keep_within(&mut self.controls, self.bound, Arc::clone(controls))
    }

    fn keep(&mut self, text: Arc<str>) -> Arc<str> {
        keep_within(&mut self.seen, self.bound, text)
    }

    /// How many texts it holds.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Keeps `value` in `set`, which starts again empty at `bound`.
fn keep_within<T: ?Sized + Hash + Eq>(
    set: &mut HashSet<Arc<T>>,
    bound: usize,
    value: Arc<T>,
) -> Arc<T> {
    if set.len() >= bound {
        set.clear();
    }
    set.insert(Arc::clone(&value));
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_copy() {
        let mut interner = Interner::default();
        let a = interner.share_str("container \"web\" runs as root");
        let b = interner.share(&Arc::from("container \"web\" runs as root"));
        assert!(Arc::ptr_eq(&a, &b));
        let c = interner.share_str("container \"db\" runs as root");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn equal_control_lists_share_one_copy() {
        let mut interner = Interner::default();
        let cited = |ids: &[&'static str]| -> Arc<[Control]> {
            ids.iter()
                .map(|id| Control::new(crate::Framework::CisK8s112, id))
                .collect()
        };
        let a = interner.share_controls(&cited(&["5.2.2", "5.2.3"]));
        let b = interner.share_controls(&cited(&["5.2.2", "5.2.3"]));
        assert!(Arc::ptr_eq(&a, &b));
        let c = interner.share_controls(&cited(&["5.2.2"]));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn a_full_interner_starts_again_and_keeps_handed_out_texts() {
        let mut interner = Interner::with_bound(2);
        let first = interner.share_str("a");
        interner.share_str("b");
        interner.share_str("c");
        assert_eq!(interner.len(), 1, "it started again at the bound");
        assert_eq!(&*first, "a");
        let again = interner.share_str("a");
        assert!(
            !Arc::ptr_eq(&first, &again),
            "forgotten texts get a new copy"
        );
    }
}
