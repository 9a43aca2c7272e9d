//! Fixes: the changes to one object that take steps of the graph away. Contributors name a
//! step's fix when they add it ([`crate::Graph::edge_fixed_by`]); the plan
//! ([`crate::Graph::plan_fixes`]) picks the few that cut the most risk.

use serde::Serialize;

/// What kind of change a fix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Take a workload off the internet.
    Unexpose,
    /// Admit only the clients that need a workload with an ingress NetworkPolicy.
    RestrictIngress,
    /// Take a workload off the node's network, where NetworkPolicies do not reliably apply.
    LeaveHostNetwork,
    /// Mount the claims that other workloads mount read-only.
    MountReadOnly,
    /// Stop mounting the service account token, or run as an account with less.
    UnmountToken,
    /// Take away what lets a workload's containers own their node.
    ConfineToContainer,
    /// Delete a Secret holding a long-lived token.
    DeleteTokenSecret,
    /// Remove a binding, or narrow its role or its subjects.
    NarrowBinding,
    /// Enforce a Pod Security level in a namespace that refuses pods owning their node.
    EnforcePodSecurity,
    /// Take a credential out of a value where it does not belong, and revoke it.
    RemoveCredential,
    /// Narrow a secret store to the namespaces that need it, or its account to the Secrets it
    /// must read.
    RestrictSecretStore,
}

impl Change {
    /// What the change asks of the people who own the object, relative to the others: taking
    /// a service off the internet or a node agent off its node usually breaks what it is for,
    /// so such a fix is chosen only when it cuts more than others do.
    pub fn effort(self) -> u32 {
        match self {
            Change::Unexpose => 3,
            Change::ConfineToContainer | Change::LeaveHostNetwork => 2,
            _ => 1,
        }
    }

    /// The change, as an instruction.
    pub fn instruction(self) -> &'static str {
        match self {
            Change::Unexpose => {
                "take it off the internet (an internal Service or load balancer, or an authenticating proxy in front)"
            }
            Change::RestrictIngress => {
                "admit only the clients that need it with an ingress NetworkPolicy"
            }
            Change::LeaveHostNetwork => {
                "take it off the node's network (hostNetwork: false): NetworkPolicies do not reliably apply to host-network pods, so a policy cannot keep clients out"
            }
            Change::MountReadOnly => {
                "mount the claims other workloads also mount read-only, or give each its own"
            }
            Change::UnmountToken => {
                "stop mounting the service account token (automountServiceAccountToken: false), or run it as an account with fewer permissions"
            }
            Change::ConfineToContainer => {
                "take away what lets its containers own the node (privileged, host namespaces, host paths, node-level capabilities)"
            }
            Change::DeleteTokenSecret => {
                "delete it: pods get expiring tokens from the TokenRequest API"
            }
            Change::NarrowBinding => {
                "remove it, or narrow its role or its subjects to what they need"
            }
            Change::RemoveCredential => {
                "take the credential out of it and revoke it (delete the token's Secret or account, or have the certificate's user removed from the bindings that name it); pods get their own account's token mounted, and tools read credentials from a Secret only they may read"
            }
            Change::RestrictSecretStore => {
                "name the namespaces that may use it (spec.conditions, or a namespaced SecretStore per team), and let the account it reads as read only the Secrets it must"
            }
            Change::EnforcePodSecurity => {
                "enforce Pod Security baseline or restricted (label pod-security.kubernetes.io/enforce), so that no pod created there may own its node"
            }
        }
    }
}

/// A change to one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Fix {
    pub change: Change,
    /// The object changed, as people read it: `ClusterRoleBinding backup-admin`,
    /// `Deployment web/web`.
    pub object: String,
}

impl Fix {
    pub fn new(change: Change, object: impl Into<String>) -> Fix {
        Fix {
            change,
            object: object.into(),
        }
    }
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.change.instruction())
    }
}

/// A fix held by a graph ([`crate::Graph::fix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixId(pub(crate) u32);
