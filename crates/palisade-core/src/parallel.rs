//! Work over a long list on every core, for the per-object passes of a large scan (one file
//! of a hundred thousand objects is read by one source, yet each object can be looked at on
//! its own).

/// `f` applied to contiguous runs of `items`, one run per core, the results in the order of
/// the runs. A list shorter than `min_per_core` items per core is one run on the caller's
/// thread, where starting threads would cost more than they save.
pub fn map_runs<'a, T: Sync, R: Send>(
    items: &'a [T],
    min_per_core: usize,
    f: impl Fn(&'a [T]) -> R + Sync,
) -> Vec<R> {
    let enough = items.len() / min_per_core.max(1);
    // Asked only for a list long enough: the answer reads the cgroup's files, and the
    // sources of a directory are thousands of short lists.
    let runs = if enough < 2 { 1 } else { cores().min(enough) };
    if runs == 1 {
        return vec![f(items)];
    }
    let per_run = items.len().div_ceil(runs);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per_run)
            .map(|run| scope.spawn(move || f(run)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The cores this process may use, asked once (the answer reads the cgroup's files).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES
        .get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
}

/// [`map_runs`] for a function of one item: the results in the order of `items`.
pub fn map_each<'a, T: Sync, R: Send>(
    items: &'a [T],
    min_per_core: usize,
    f: impl Fn(&'a T) -> R + Sync,
) -> Vec<R> {
    let runs = map_runs(items, min_per_core, |run| {
        run.iter().map(&f).collect::<Vec<R>>()
    });
    let mut out = Vec::with_capacity(items.len());
    for mut run in runs {
        out.append(&mut run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = map_each(&items, 10, |i| i * 2);
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let sums = map_runs(&items, 10, |run| {
            run.iter().map(|&i| u64::from(i)).sum::<u64>()
        });
        assert_eq!(sums.iter().sum::<u64>(), (0..10_000u64).sum::<u64>());
        assert!(!sums.is_empty());
    }

    #[test]
    fn short_and_empty_lists_are_one_run() {
        assert_eq!(map_runs(&[1, 2, 3], 100, <[i32]>::len), [3]);
        assert_eq!(map_runs(&[] as &[i32], 100, <[i32]>::len), [0]);
        assert!(map_each(&[] as &[i32], 1, |i| *i).is_empty());
    }
}
