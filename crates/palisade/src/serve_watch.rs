//! `serve admission --cluster --watch`: the cluster the webhook judges in, followed through
//! the API server's watch (`palisade_cluster::watch`, as `palisade watch` follows it) instead
//! of read whole every `--refresh`. The model is rebuilt from what is held once a change has
//! settled, and every `--refresh`; the API server is listed once, then only watched.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use palisade_cluster::watch::{WatchOptions, Watched};
use palisade_snapshot::Snapshot;

use crate::analysis_input::LiveArgs;
use crate::cluster_cmd::DEFAULT_TIMEOUT;

/// The followed cluster, with the runtime its watchers run on.
pub(crate) struct Followed {
    watched: Watched,
    /// The change count the model was last built at.
    built: u64,
    /// Whether a change of an object's status alone counts (a policy may read it:
    /// [`palisade_cluster::watch::Changes::count`]).
    statuses_read: bool,
    /// When a change after that was first seen.
    changed_since: Option<Instant>,
    // Dropped after `watched`: the watchers' tasks end with it.
    _runtime: tokio::runtime::Runtime,
}

impl Followed {
    /// Connects, starts following, and waits for every type's first list (at most the
    /// cluster flags' `--timeout`).
    pub(crate) fn start(live: &LiveArgs, statuses_read: bool) -> Result<Followed> {
        let args = live.cluster_args();
        let options = WatchOptions {
            capture: crate::cluster_cmd::capture_options(&args),
            relist: Duration::from_secs(300),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let watched = runtime.block_on(palisade_cluster::watch::watch(&options))?;
        let timeout = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
        runtime.block_on(crate::watch_cmd::settle_first_lists(
            &watched,
            timeout,
            &args.namespaces,
        ))?;
        Ok(Followed {
            built: watched.changes().borrow().count(statuses_read),
            statuses_read,
            watched,
            changed_since: None,
            _runtime: runtime,
        })
    }

    /// The cluster as held now; the model built from it is current as of this change.
    pub(crate) fn snapshot(&mut self) -> Snapshot {
        self.built = self.changes();
        self.changed_since = None;
        self.watched.snapshot()
    }

    fn changes(&self) -> u64 {
        self.watched.changes().borrow().count(self.statuses_read)
    }

    /// Waits until the model is to be rebuilt: `after_change` after the watch showed a
    /// change, or after an object let in changed what the model reads; `every` after the
    /// last build. Returns why: `change` or `refresh`.
    pub(crate) fn next(
        &mut self,
        judge: &palisade_admission::Admission,
        last: Instant,
        every: Duration,
        after_change: Duration,
    ) -> &'static str {
        let tick = Duration::from_millis(200);
        loop {
            if last.elapsed() >= every {
                return "refresh";
            }
            if self.changes() != self.built {
                let since = *self.changed_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= after_change {
                    return "change";
                }
            }
            if judge
                .changed_at()
                .is_some_and(|at| at.elapsed() >= after_change)
            {
                return "change";
            }
            std::thread::sleep(tick);
        }
    }
}
