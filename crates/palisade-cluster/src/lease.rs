//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leader election does
//! it, so that of several replicas of `palisade watch` one writes (Policy Reports, alerts)
//! and the others stand by.
//!
//! Each round reads the Lease. A holder other than this replica keeps it while its record
//! (holder, renew time, transitions) has changed within the lease's duration *as this replica
//! observed it*: the clocks of the replicas are never compared. Otherwise the Lease is taken,
//! or renewed, with a replace that names the resourceVersion read, so that of two replicas
//! racing for it the API server lets one win (`409 Conflict` for the other). A leader that
//! has not renewed within the renew deadline stops acting as leader before its lease can
//! pass to another replica.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;

use crate::{CaptureError, CaptureOptions, classify};

/// Which Lease, who this replica is, and the timing.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    pub namespace: String,
    pub name: String,
    /// This replica (the pod's name), written as the holder.
    pub identity: String,
    /// How long a holder keeps the Lease without renewing it.
    pub duration: Duration,
}

impl LeaseOptions {
    /// How long a leader may go without renewing before it stops acting as leader: two
    /// thirds of the lease's duration (client-go's defaults: 15 s and 10 s).
    pub fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }

    /// How often a round is run: a fifth of the duration (client-go: 2 s of 15 s), so a
    /// leader renews several times before its deadline.
    pub fn retry_period(&self) -> Duration {
        (self.duration / 5).max(Duration::from_millis(100))
    }
}

/// Why a round could not read or write the Lease.
#[derive(Debug, thiserror::Error)]
#[error("lease {namespace}/{name}: {message}")]
pub struct LeaseError {
    pub namespace: String,
    pub name: String,
    pub status: Option<u16>,
    pub message: String,
}

/// The record last read, and when this replica saw it change.
struct Observed {
    holder: String,
    renew: Option<MicroTime>,
    transitions: i32,
    since: Instant,
}

/// One replica's side of the election.
pub struct Elector {
    api: Api<Lease>,
    options: LeaseOptions,
    observed: Option<Observed>,
    /// When this replica last took or renewed the Lease.
    renewed: Option<Instant>,
}

/// Whether this replica leads, after a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    Leading,
    /// Another replica holds the Lease.
    Following {
        holder: String,
    },
}

impl Elector {
    /// Connects as [`capture`](crate::capture) does.
    pub async fn connect(
        capture: &CaptureOptions,
        options: LeaseOptions,
    ) -> Result<Elector, CaptureError> {
        let (client, _, _) = crate::connect(capture).await?;
        Ok(Elector {
            api: Api::namespaced(client, &options.namespace),
            options,
            observed: None,
            renewed: None,
        })
    }

    pub fn options(&self) -> &LeaseOptions {
        &self.options
    }

    /// Whether this replica may act as leader now: it holds the Lease and renewed it within
    /// the renew deadline.
    pub fn leading(&self) -> bool {
        self.renewed
            .is_some_and(|at| at.elapsed() < self.options.renew_deadline())
    }

    fn error(&self, error: &kube::Error) -> LeaseError {
        let (status, _, message) = classify(error);
        LeaseError {
            namespace: self.options.namespace.clone(),
            name: self.options.name.clone(),
            status,
            message,
        }
    }

    /// One round: take the Lease if it is free or its holder has let it lapse, renew it if
    /// this replica holds it.
    pub async fn round(&mut self) -> Result<Round, LeaseError> {
        let now = MicroTime(
            k8s_openapi::jiff::Timestamp::from_microsecond(palisade_core::date::unix_now_micros())
                .unwrap_or_default(),
        );
        let current = match self.api.get_opt(&self.options.name).await {
            Ok(lease) => lease,
            Err(e) => return Err(self.error(&e)),
        };
        let Some(mut lease) = current else {
            return self.create(now).await;
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let (renew, transitions) = (spec.renew_time.clone(), spec.lease_transitions.unwrap_or(0));
        let unchanged = self.observed.as_ref().is_some_and(|o| {
            o.holder == holder && o.renew == renew && o.transitions == transitions
        });
        if !unchanged {
            self.observed = Some(Observed {
                holder: holder.clone(),
                renew,
                transitions,
                since: Instant::now(),
            });
        }
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.options.duration, Duration::from_secs);
        let held_by_other = !holder.is_empty()
            && holder != self.options.identity
            && self
                .observed
                .as_ref()
                .is_some_and(|o| o.since.elapsed() < duration);
        if held_by_other {
            self.renewed = None;
            return Ok(Round::Following { holder });
        }
        let mut spec = spec;
        if holder != self.options.identity {
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(transitions.saturating_add(1));
            spec.holder_identity = Some(self.options.identity.clone());
        }
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(self.duration_seconds());
        lease.spec = Some(spec);
        match self
            .api
            .replace(&self.options.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => self.took(),
            // Another replica wrote it first: it leads this round.
            Err(kube::Error::Api(status)) if status.code == 409 => {
                self.renewed = None;
                Ok(Round::Following { holder })
            }
            Err(e) => Err(self.error(&e)),
        }
    }

    async fn create(&mut self, now: MicroTime) -> Result<Round, LeaseError> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.options.name.clone()),
                namespace: Some(self.options.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.options.identity.clone()),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_duration_seconds: Some(self.duration_seconds()),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(_) => self.took(),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                self.renewed = None;
                Ok(Round::Following {
                    holder: String::new(),
                })
            }
            Err(e) => Err(self.error(&e)),
        }
    }

    fn took(&mut self) -> Result<Round, LeaseError> {
        self.renewed = Some(Instant::now());
        self.observed = None;
        Ok(Round::Leading)
    }

    fn duration_seconds(&self) -> i32 {
        i32::try_from(self.options.duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    /// Gives the Lease up (on shutdown), so another replica takes it without waiting for it
    /// to lapse: the holder cleared, as client-go's release does. Only when this replica
    /// holds it.
    pub async fn release(&mut self) -> Result<(), LeaseError> {
        if self.renewed.take().is_none() {
            return Ok(());
        }
        let mut lease = match self.api.get(&self.options.name).await {
            Ok(lease) => lease,
            Err(e) => return Err(self.error(&e)),
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.options.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        lease.spec = Some(spec);
        self.api
            .replace(&self.options.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
            .map_err(|e| self.error(&e))
    }
}
