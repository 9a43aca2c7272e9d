use crate::context::Context;
use crate::rule::{Check, Target};
use palisade_net::addr::AddrSet;
use palisade_net::policy::{Direction, Peer};

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy rules that allow every peer on every port: a rule with no `from`/`to`
    /// (or an empty list) and no `ports`, or whose peers include every pod of every namespace
    /// (`namespaceSelector: {}` without `podSelector`) together with `0.0.0.0/0` or `::/0`.
    /// The pods the policy selects are isolated on paper and open in fact.
    ///
    /// ## Why it matters
    /// An allow-all rule undoes every other policy for the pods it selects: all policies are
    /// unioned, so no other rule can narrow it. It is usually a debugging leftover
    /// (`kubectl apply` of an "allow everything while I test" policy) and it hides behind the
    /// presence of a policy, which is all most scanners check (MITRE ATT&CK T1046, T1048).
    ///
    /// ## Severity
    /// Medium: segmentation is disabled for the selected pods in that direction.
    ///
    /// ## Failing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: allow-all, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///   - {}
    /// ```
    ///
    /// ## Passing example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   ingress:
    ///   - from: [{podSelector: {matchLabels: {app: web}}}]
    ///     ports: [{port: 8080}]
    /// ```
    ///
    /// ## Remediation
    /// Replace the rule with the sources (or destinations) and ports the pods need;
    /// `palisade net why` shows which rule admits a connection.
    ///
    /// ## References
    /// - Kubernetes documentation, "Network Policies: Allow all ingress traffic"
    /// - NSA/CISA Kubernetes Hardening Guide v1.2, "Network policies"
    pub struct AllowAllNetworkPolicy {
        id: "NET008",
        slug: "allow-all-network-policy",
        title: "NetworkPolicy rule allows all traffic",
        severity: Medium,
        target: Target::Kinds(&[("networking.k8s.io", "NetworkPolicy")]),
        controls: [
            NsaCisa12 "network/network-policies",
            MitreAttack "T1046",
            MitreAttack "T1048",
        ],
        remediation: "Limit the rule to the peers and ports the selected pods need.",
    }
}

impl Check for AllowAllNetworkPolicy {
    fn models(&self, models: &mut crate::context::Models) {
        crate::network::ask(models);
    }

    fn check(&self, cx: &mut Context<'_>) {
        let facts = crate::network::facts(cx);
        let Some(policy) = facts.policy_of(cx.object_index) else {
            // Invalid policies are reported by the engine's diagnostics, not judged here.
            return;
        };
        for direction in Direction::BOTH {
            if !policy.isolates(direction) {
                continue;
            }
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                if rule.ports.is_some() {
                    continue;
                }
                let every_peer = match &rule.peers {
                    None => true,
                    Some(peers) => every_pod(peers) && every_address(peers),
                };
                if every_peer {
                    let field = direction.field();
                    cx.report(
                        palisade_core::JsonPointer::root().join("spec").join(field).join(r),
                        format!(
                            "{field}[{r}] allows every {} on every port: the selected pods are not segmented for {field}",
                            if direction == Direction::Ingress { "source" } else { "destination" }
                        ),
                    );
                }
            }
        }
    }
}

fn every_pod(peers: &[Peer]) -> bool {
    peers
        .iter()
        .any(|p| matches!(p, Peer::Pods(pods) if pods.is_every_pod()))
}

fn every_address(peers: &[Peer]) -> bool {
    let covered = peers.iter().fold(AddrSet::none(), |acc, p| match p {
        Peer::Addresses(set) => acc.union(set),
        _ => acc,
    });
    // Either family open to all counts: IPv4-only clusters need only 0.0.0.0/0.
    ["0.0.0.0/0", "::/0"].iter().any(|cidr| {
        let range = palisade_net::addr::AddrRange::parse_cidr(cidr).expect("valid constant");
        covered.covers(&range)
    })
}
