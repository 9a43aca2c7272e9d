//! Findings written into the cluster as Policy Reports (`wgpolicyk8s.io/v1alpha2`, made by
//! `palisade_report::policy_report::reports`), where Policy Reporter, Kyverno's dashboards
//! and `kubectl get policyreports` read them. Each report is applied server-side as the field
//! manager `palisade`; the reports an earlier run wrote that this one did not (a namespace
//! now clean, a report that needs fewer parts) are deleted, so what the cluster shows is the
//! last run's findings, no more.

use std::collections::BTreeSet;

use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use crate::{CaptureError, CaptureOptions, classify};

/// The label every report Palisade writes carries, and the field manager it applies as.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "palisade");

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "the cluster does not serve Policy Reports (wgpolicyk8s.io/v1alpha2): install the Policy WG's CRDs (https://github.com/kubernetes-sigs/wg-policy-prototypes)"
    )]
    NotServed,
    #[error("writing {report}: {message}")]
    Failed {
        report: String,
        status: Option<u16>,
        message: String,
    },
    #[error("a report without a name")]
    Unnamed,
}

/// What one publication did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    pub applied: usize,
    pub deleted: usize,
}

/// Writes reports to one cluster.
pub struct Publisher {
    client: Client,
}

fn resource(kind: &str) -> ApiResource {
    let plural = format!("{}s", kind.to_ascii_lowercase());
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wgpolicyk8s.io", "v1alpha2", kind),
        &plural,
    )
}

impl Publisher {
    /// Connects as [`capture`](crate::capture) does.
    pub async fn connect(capture: &CaptureOptions) -> Result<Publisher, CaptureError> {
        let (client, _, _) = crate::connect(capture).await?;
        Ok(Publisher { client })
    }

    fn failed(report: String, error: &kube::Error) -> PublishError {
        let (status, _, message) = classify(error);
        if status == Some(404) {
            return PublishError::NotServed;
        }
        PublishError::Failed {
            report,
            status,
            message,
        }
    }

    /// Applies `reports` (PolicyReports and ClusterPolicyReports) and deletes the reports of
    /// an earlier run that are not among them.
    pub async fn publish(&self, reports: &[Value]) -> Result<Published, PublishError> {
        let mut done = Published::default();
        let mut written = BTreeSet::new();
        let params = PatchParams::apply(MANAGED_BY.1).force();
        for report in reports {
            let object: DynamicObject =
                serde_json::from_value(report.clone()).map_err(|e| PublishError::Failed {
                    report: "a report".into(),
                    status: None,
                    message: e.to_string(),
                })?;
            let kind = object.types.as_ref().map_or("", |t| t.kind.as_str());
            let name = object.metadata.name.clone().ok_or(PublishError::Unnamed)?;
            let namespace = object.metadata.namespace.clone();
            let api: Api<DynamicObject> = match &namespace {
                Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource(kind)),
                None => Api::all_with(self.client.clone(), &resource(kind)),
            };
            let named = described(kind, namespace.as_deref(), &name);
            api.patch(&name, &params, &Patch::Apply(&object))
                .await
                .map_err(|e| Self::failed(named.clone(), &e))?;
            written.insert(named);
            done.applied += 1;
        }
        for kind in ["PolicyReport", "ClusterPolicyReport"] {
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource(kind));
            let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
            let listed = api
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| Self::failed(format!("the {kind}s"), &e))?;
            for stale in listed.items {
                let Some(name) = stale.metadata.name.clone() else {
                    continue;
                };
                let namespace = stale.metadata.namespace.clone();
                let named = described(kind, namespace.as_deref(), &name);
                if written.contains(&named) || !name.starts_with("palisade-") {
                    continue;
                }
                let api: Api<DynamicObject> = match &namespace {
                    Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource(kind)),
                    None => Api::all_with(self.client.clone(), &resource(kind)),
                };
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => done.deleted += 1,
                    // Deleted meanwhile (by another writer, or by hand): gone either way.
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(e) => return Err(Self::failed(named, &e)),
                }
            }
        }
        Ok(done)
    }
}

fn described(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}
