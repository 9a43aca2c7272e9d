//! The few fixes that cut the most risk: choke points of the graph.
//!
//! Risk is counted per starting point (the internet, a workload, an identity): how likely an
//! attacker starts there ([`likelihood`]) times the value of the most valuable target it
//! reaches (the caller's valuation: cluster-admin, a node, the Secrets of a namespace as
//! critical as its label says). A fix is a change to one object ([`Fix`]) that takes away every
//! step naming it as a cause; a step with several causes (two bindings giving one account the
//! same power) goes only when all are removed, and a cause that either of two fixes removes
//! (the binding that lets an account create pods, or Pod Security in the namespace) goes with
//! either. What a starting point reaches through steps no fix
//! takes away (the control plane's own grants, a node's kubelet credentials) is by design:
//! not counted as risk.
//!
//! Picking the fewest fixes that cut everything is a minimum cut with shared costs (one
//! binding is the cause of many steps), which is NP-hard; the plan is greedy instead, and says
//! what each pick left. Each round it follows every starting point's shortest chain to its
//! most valuable target, tallies the fixes on those chains by the risk that passes through
//! them, measures what the leading candidates would really leave (a fix that cuts one chain
//! may leave another), and takes the one that cuts the most per unit of effort
//! ([`Change::effort`]); when none cuts anything alone (two ways to one target), the one on
//! the most risk's chains, so the next round can finish the cut.

use palisade_k8s::identity::Subject;
use serde::Serialize;

use crate::fix::{Fix, FixId};
use crate::graph::{Edge, Graph};
use crate::node::Node;
use crate::search::Path;

/// Candidates measured per round: the ones on the most risk's chains.
const MEASURED_PER_ROUND: usize = 32;

/// How likely an attacker starts at `node`, from 1 to 8, in `graph`: anyone on the internet,
/// or in the groups every request or account is in, before a workload reachable from the
/// internet whose image has a known flaw exploited over the network ([`Graph::add_exploit`]),
/// before a workload reachable from the internet (the first thing compromised) or one with
/// such a flaw, before any workload (a dependency or image), before one stolen credential. 0
/// for a node where no attack starts.
pub fn likelihood(graph: &Graph, node: &Node) -> u32 {
    match node {
        Node::Internet => 8,
        Node::Identity { subject } => match subject {
            Subject::User { name } if name == "system:anonymous" => 8,
            Subject::Group { name } if name == "system:unauthenticated" => 8,
            Subject::Group { name } if name == "system:authenticated" => 4,
            Subject::Group { name } if name.starts_with("system:serviceaccounts") => 2,
            _ => 1,
        },
        Node::Workload { .. } => {
            match (
                graph.exposure(node).is_some(),
                graph.exploit(node).is_some(),
            ) {
                (true, true) => 6,
                (true, false) | (false, true) => 3,
                (false, false) => 2,
            }
        }
        _ => 0,
    }
}

/// A starting point at risk before any fix.
#[derive(Debug, Clone, Serialize)]
pub struct AtRisk {
    pub from: Node,
    /// How likely an attacker starts here ([`likelihood`]).
    pub likelihood: u32,
    /// The known flaw exploited over the network in its images, when one raised the
    /// likelihood ([`Graph::add_exploit`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploit: Option<String>,
    /// The value of the most valuable target it reaches.
    pub value: u32,
    /// `likelihood × value`.
    pub risk: u64,
    /// Its shortest chain to a target of that value.
    pub path: Path,
}

/// One fix of the plan, in the order picked.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedFix {
    #[serde(flatten)]
    pub fix: Fix,
    /// The steps of the chains it takes away (each once, in the order met).
    pub removes: Vec<String>,
    /// The starting points whose risk it lowers, with the fixes picked before it.
    pub lowers: Vec<Node>,
    /// The risk left after it and every fix before it.
    pub risk_left: u64,
}

/// The plan: the risk, and the fixes that cut the most of it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Every starting point at risk, the riskiest first.
    pub at_risk: Vec<AtRisk>,
    /// The sum of their risks.
    pub risk: u64,
    pub fixes: Vec<PlannedFix>,
    /// The risk left after the fixes.
    pub risk_left: u64,
    /// The starting points still at risk after them.
    pub still_at_risk: Vec<Node>,
    /// Starting points that reach a target only through steps no fix takes away, with the
    /// chain: the control plane's own powers, not counted.
    pub by_design: Vec<Path>,
}

/// The state of one plan: which fixes are made, and what each node reaches.
struct Planner<'g> {
    graph: &'g Graph,
    /// The value of each node as a target (0: not one).
    target: Vec<u32>,
    /// Each node's predecessors: (from, the edge's position among `from`'s).
    reverse: Vec<Vec<(usize, usize)>>,
    /// The starting points, with their likelihood.
    starts: Vec<(usize, u32)>,
    /// The value each node reaches through steps no fix takes away.
    floor: Vec<u32>,
    made: Vec<bool>,
    /// The fixes not to make.
    kept: Vec<bool>,
}

impl Graph {
    /// The plan of at most `limit` fixes that cut the most risk to the targets `value` names
    /// (a node's value as a target, 0 when it is none; a node reached on the way to a more
    /// valuable one counts that one's). The fixes `kept` says no are not made: the steps they
    /// alone take away count as by design (an operator that needs its token, a node agent that
    /// needs the node). See the [module](self) documentation.
    pub fn plan_fixes(
        &self,
        value: &dyn Fn(&Node) -> u32,
        limit: usize,
        kept: &dyn Fn(&Fix) -> bool,
    ) -> Plan {
        assert!(
            self.records_fixes(),
            "a plan needs a graph made with Graph::recording_fixes: in another every step is by design"
        );
        let mut planner = Planner::new(self, value, kept);
        // What each node reaches with the fixes made so far: found once per round.
        let mut before = planner.reached();
        let mut at_risk = planner.at_risk(&before);
        at_risk.sort_by(|a, b| b.risk.cmp(&a.risk).then(a.from.cmp(&b.from)));
        let risk = planner.total(&before);
        let mut left = risk;
        let mut fixes = Vec::new();
        while left > 0 && fixes.len() < limit {
            let chains = planner.chains(&before);
            let Some(picked) = planner.pick(&chains, left) else {
                break;
            };
            let removes = planner.removes(&chains, picked);
            planner.made[picked.0 as usize] = true;
            let after = planner.reached();
            let lowers = planner
                .starts
                .iter()
                .filter(|&&(s, w)| planner.risk_of(s, w, &after) < planner.risk_of(s, w, &before))
                .map(|&(s, _)| self.nodes[s].clone())
                .collect();
            left = planner.total(&after);
            fixes.push(PlannedFix {
                fix: self.fix_named(picked).clone(),
                removes,
                lowers,
                risk_left: left,
            });
            before = after;
        }
        let still_at_risk = planner
            .starts
            .iter()
            .filter(|&&(s, w)| planner.risk_of(s, w, &before) > 0)
            .map(|&(s, _)| self.nodes[s].clone())
            .collect();
        Plan {
            at_risk,
            risk,
            fixes,
            risk_left: left,
            still_at_risk,
            by_design: planner.by_design(),
        }
    }
}

impl<'g> Planner<'g> {
    fn new(
        graph: &'g Graph,
        value: &dyn Fn(&Node) -> u32,
        kept: &dyn Fn(&Fix) -> bool,
    ) -> Planner<'g> {
        let target: Vec<u32> = graph.nodes.iter().map(value).collect();
        let reverse = graph.reverse_edges();
        let starts = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, node)| node.is_start() && target[*i] == 0)
            .map(|(i, node)| (i, likelihood(graph, node)))
            .filter(|&(_, w)| w > 0)
            .collect();
        let kept: Vec<bool> = graph.fixes.iter().map(kept).collect();
        let mut planner = Planner {
            graph,
            target,
            reverse,
            starts,
            floor: Vec::new(),
            // Every fix made but the kept ones: what is left is by design.
            made: kept.iter().map(|k| !k).collect(),
            kept,
        };
        planner.floor = planner.reached();
        planner.made = vec![false; graph.fixes.len()];
        planner
    }

    /// Whether an edge is still there: no fix takes it away, or some cause of it is not fixed.
    fn live(&self, edge: &Edge) -> bool {
        self.graph
            .causes_of(edge)
            .is_none_or(|causes| causes.iter().any(|c| !self.made_cause(c, &self.made)))
    }

    /// Whether `cause` is removed when the fixes `made` marks are made: one of the fixes that
    /// would remove it is.
    fn made_cause(&self, cause: &FixId, made: &[bool]) -> bool {
        self.graph
            .alternatives(cause)
            .iter()
            .any(|f| made[f.0 as usize])
    }

    /// The value of the most valuable target each node reaches in one step or more (its own
    /// value when it is a target), with the fixes made so far: the targets, most valuable
    /// first, each searched backwards over what the more valuable ones left unseen.
    fn reached(&self) -> Vec<u32> {
        let mut reached = vec![0u32; self.target.len()];
        let mut tiers: Vec<u32> = self.target.iter().copied().filter(|&v| v > 0).collect();
        tiers.sort_unstable_by(|a, b| b.cmp(a));
        tiers.dedup();
        let mut queue = Vec::new();
        for tier in tiers {
            for (i, &v) in self.target.iter().enumerate() {
                if v == tier && reached[i] == 0 {
                    reached[i] = tier;
                    queue.push(i);
                }
            }
            while let Some(n) = queue.pop() {
                for &(from, e) in &self.reverse[n] {
                    if reached[from] == 0 && self.live(&self.graph.edges[from][e]) {
                        reached[from] = tier;
                        queue.push(from);
                    }
                }
            }
        }
        reached
    }

    /// A starting point's risk: what it reaches beyond what it reaches by design.
    fn risk_of(&self, start: usize, likelihood: u32, reached: &[u32]) -> u64 {
        if reached[start] > self.floor[start] {
            u64::from(likelihood) * u64::from(reached[start])
        } else {
            0
        }
    }

    fn total(&self, reached: &[u32]) -> u64 {
        self.starts
            .iter()
            .map(|&(s, w)| self.risk_of(s, w, reached))
            .sum()
    }

    /// The live edges of each risky start's shortest chain to a target of the value it
    /// reaches, with that start's risk.
    fn chains(&self, reached: &[u32]) -> Vec<(u64, Vec<&'g Edge>)> {
        let mut tiers: Vec<u32> = self
            .starts
            .iter()
            .filter(|&&(s, w)| self.risk_of(s, w, reached) > 0)
            .map(|&(s, _)| reached[s])
            .collect();
        tiers.sort_unstable();
        tiers.dedup();
        let mut chains = Vec::new();
        for tier in tiers {
            let is_goal = self.target.iter().map(|&v| v >= tier).collect();
            let toward = self
                .graph
                .toward_where(&self.reverse, is_goal, |e| self.live(e));
            for &(s, w) in &self.starts {
                let risk = self.risk_of(s, w, reached);
                if risk > 0 && reached[s] == tier {
                    chains.extend(self.graph.chain_from(&toward, s).map(|c| (risk, c)));
                }
            }
        }
        chains
    }

    /// The next fix: of the fixes on `chains` ([`Planner::chains`]), the few on the most risk's
    /// measured, and the one that leaves least per unit of effort taken; `None` when no chain
    /// has a fix.
    fn pick(&mut self, chains: &[(u64, Vec<&'g Edge>)], left: u64) -> Option<FixId> {
        let mut tally: std::collections::HashMap<FixId, u64> = std::collections::HashMap::new();
        for (risk, chain) in chains {
            let risk = *risk;
            // Each cause not removed yet, by any of the fixes that would remove it.
            let mut on_chain: Vec<FixId> = chain
                .iter()
                .filter_map(|e| self.graph.causes_of(e))
                .flatten()
                .filter(|c| !self.made_cause(c, &self.made))
                .flat_map(|c| self.graph.alternatives(c))
                .copied()
                .filter(|f| !self.made[f.0 as usize] && !self.kept[f.0 as usize])
                .collect();
            on_chain.sort_unstable();
            on_chain.dedup();
            for fix in on_chain {
                *tally.entry(fix).or_default() += risk;
            }
        }
        let effort = |f: FixId| u64::from(self.graph.fix_named(f).change.effort());
        let mut candidates: Vec<(FixId, u64)> = tally.into_iter().collect();
        // Most risk per effort first; equal ones in the order of their fixes, so a plan is the
        // same from run to run.
        candidates.sort_by(|a, b| {
            (b.1 * effort(a.0))
                .cmp(&(a.1 * effort(b.0)))
                .then_with(|| self.graph.fix_named(a.0).cmp(self.graph.fix_named(b.0)))
        });
        candidates.truncate(MEASURED_PER_ROUND);
        let mut best: Option<(FixId, u64)> = None;
        for &(fix, _) in &candidates {
            self.made[fix.0 as usize] = true;
            let cut = left - self.total(&self.reached());
            self.made[fix.0 as usize] = false;
            let better = match best {
                None => cut > 0,
                Some((b, b_cut)) => cut * effort(b) > b_cut * effort(fix),
            };
            if better {
                best = Some((fix, cut));
            }
        }
        best.map(|(fix, _)| fix)
            .or_else(|| candidates.first().map(|&(fix, _)| fix))
    }

    /// The evidence of the steps `fix` takes away on `chains` ([`Planner::chains`]).
    fn removes(&self, chains: &[(u64, Vec<&'g Edge>)], fix: FixId) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, chain) in chains {
            for &edge in chain {
                let named = self.graph.causes_of(edge).is_some_and(|causes| {
                    causes
                        .iter()
                        .any(|c| self.graph.alternatives(c).contains(&fix))
                });
                if named && !out.iter().any(|e| **e == *edge.evidence) {
                    out.push(edge.evidence.to_string());
                }
            }
        }
        out
    }

    fn at_risk(&self, reached: &[u32]) -> Vec<AtRisk> {
        let mut out = Vec::new();
        let mut paths: std::collections::HashMap<u32, crate::search::Toward> = Default::default();
        for &(s, w) in &self.starts {
            let risk = self.risk_of(s, w, reached);
            if risk == 0 {
                continue;
            }
            let tier = reached[s];
            let toward = paths.entry(tier).or_insert_with(|| {
                let is_goal = self.target.iter().map(|&v| v >= tier).collect();
                self.graph.toward_where(&self.reverse, is_goal, |_| true)
            });
            if let Some(path) = self.graph.path_from(toward, s) {
                out.push(AtRisk {
                    from: self.graph.nodes[s].clone(),
                    likelihood: w,
                    exploit: self.graph.exploits.get(&s).map(|e| e.to_string()),
                    value: tier,
                    risk,
                    path,
                });
            }
        }
        out
    }

    /// The chains of the starting points that reach a target by design: over the steps no
    /// fix takes away, or one kept does.
    fn by_design(&self) -> Vec<Path> {
        let is_goal: Vec<bool> = self.target.iter().map(|&v| v > 0).collect();
        let toward = self.graph.toward_where(&self.reverse, is_goal, |e| {
            self.graph.causes_of(e).is_none_or(|causes| {
                causes.iter().any(|c| {
                    self.graph
                        .alternatives(c)
                        .iter()
                        .all(|f| self.kept[f.0 as usize])
                })
            })
        });
        self.starts
            .iter()
            .filter(|&&(s, _)| self.floor[s] > 0)
            .filter_map(|&(s, _)| self.graph.path_from(&toward, s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Change;
    use crate::{Goal, Relation};

    fn account(ns: &str, name: &str) -> Node {
        Node::identity(Subject::service_account(ns, name))
    }

    fn admin_only(node: &Node) -> u32 {
        u32::from(*node == Node::ClusterAdmin) * 4
    }

    fn step(g: &mut Graph, from: Node, to: Node, relation: Relation, fix: Option<Fix>) {
        let (a, b) = (g.id(from), g.id(to));
        let fix = fix.and_then(|fix| g.fix_with(|| fix));
        g.edge_fixed_by(a, b, relation, format!("step {a}→{b}"), fix);
    }

    /// The internet → web → web's account → any account of ops → backup → cluster-admin, and
    /// a CI account bound to cluster-admin on its own.
    fn cluster() -> Graph {
        let mut g = Graph::recording_fixes();
        let web = Node::workload(0, "Deployment", "web", "web");
        let pool = Node::AnyServiceAccount {
            namespace: Some("ops".into()),
        };
        let bind = |name: &str| Some(Fix::new(Change::NarrowBinding, name));
        step(
            &mut g,
            Node::Internet,
            web.clone(),
            Relation::Exposes,
            Some(Fix::new(Change::Unexpose, "Deployment web/web")),
        );
        step(
            &mut g,
            web,
            account("web", "web"),
            Relation::MountsToken,
            Some(Fix::new(Change::UnmountToken, "Deployment web/web")),
        );
        step(
            &mut g,
            account("web", "web"),
            pool.clone(),
            Relation::Grants,
            bind("RoleBinding ops/deployers"),
        );
        step(
            &mut g,
            pool,
            account("ops", "backup"),
            Relation::Includes,
            None,
        );
        step(
            &mut g,
            account("ops", "backup"),
            Node::ClusterAdmin,
            Relation::Grants,
            bind("ClusterRoleBinding backup-admin"),
        );
        step(
            &mut g,
            account("ci", "deployer"),
            Node::ClusterAdmin,
            Relation::Grants,
            bind("ClusterRoleBinding ci-admin"),
        );
        g
    }

    #[test]
    fn the_fix_on_the_most_risk_s_chains_comes_first() {
        let plan = cluster().plan_fixes(&admin_only, 10, &|_| false);
        // The internet 8×4, web (exposed) 3×4, three accounts 1×4 each.
        assert_eq!(plan.risk, 32 + 12 + 12);
        assert_eq!(plan.at_risk[0].from, Node::Internet);
        assert_eq!(plan.at_risk[0].path.steps.len(), 5);
        let picked: Vec<&str> = plan.fixes.iter().map(|f| f.fix.object.as_str()).collect();
        assert_eq!(
            picked,
            [
                "ClusterRoleBinding backup-admin",
                "ClusterRoleBinding ci-admin"
            ]
        );
        assert_eq!(plan.fixes[0].risk_left, 4);
        assert_eq!(plan.fixes[0].lowers.len(), 4);
        assert_eq!(plan.fixes[1].risk_left, 0);
        assert_eq!(plan.risk_left, 0);
        assert!(plan.still_at_risk.is_empty());
        assert!(plan.by_design.is_empty());
        // A limit stops the plan, and says what is left.
        let one = cluster().plan_fixes(&admin_only, 1, &|_| false);
        assert_eq!(one.fixes.len(), 1);
        assert_eq!(one.risk_left, 4);
        assert_eq!(one.still_at_risk, [account("ci", "deployer")]);
    }

    #[test]
    fn a_kept_object_is_never_changed_and_what_it_alone_gives_is_by_design() {
        let keep_backup = |fix: &Fix| fix.object == "ClusterRoleBinding backup-admin";
        let plan = cluster().plan_fixes(&admin_only, 10, &keep_backup);
        assert!(plan.fixes.iter().all(|f| !keep_backup(&f.fix)));
        // The backup account reaches cluster-admin through its kept binding alone: by design.
        assert!(
            plan.by_design
                .iter()
                .any(|p| p.from == account("ops", "backup"))
        );
        assert!(
            plan.at_risk
                .iter()
                .all(|r| r.from != account("ops", "backup"))
        );
        // The others are cut before the kept binding: web's binding into ops, CI's binding.
        let picked: Vec<&str> = plan.fixes.iter().map(|f| f.fix.object.as_str()).collect();
        assert_eq!(
            picked,
            ["RoleBinding ops/deployers", "ClusterRoleBinding ci-admin"]
        );
        assert_eq!(plan.risk_left, 0);
    }

    #[test]
    fn a_step_with_two_causes_goes_only_when_both_are_fixed() {
        let mut g = Graph::recording_fixes();
        let sa = account("ci", "deployer");
        for binding in ["ClusterRoleBinding a", "ClusterRoleBinding b"] {
            step(
                &mut g,
                sa.clone(),
                Node::ClusterAdmin,
                Relation::Grants,
                Some(Fix::new(Change::NarrowBinding, binding)),
            );
        }
        assert_eq!(g.edge_count(), 1);
        let plan = g.plan_fixes(&admin_only, 10, &|_| false);
        assert_eq!(plan.risk, 4);
        assert_eq!(plan.fixes.len(), 2, "{:?}", plan.fixes);
        assert_eq!(plan.fixes[0].risk_left, 4, "one binding alone cuts nothing");
        assert!(plan.fixes[0].lowers.is_empty());
        assert_eq!(plan.fixes[1].risk_left, 0);
        assert_eq!(plan.fixes[1].lowers, [sa]);
    }

    #[test]
    fn a_known_flaw_exploited_over_the_network_makes_a_start_likelier() {
        let mut g = Graph::recording_fixes();
        let (api, worker) = (
            Node::workload(0, "Deployment", "shop", "api"),
            Node::workload(1, "Deployment", "shop", "worker"),
        );
        for (i, workload) in [&api, &worker].into_iter().enumerate() {
            step(
                &mut g,
                workload.clone(),
                Node::ClusterAdmin,
                Relation::Grants,
                Some(Fix::new(
                    Change::NarrowBinding,
                    format!("ClusterRoleBinding b{i}"),
                )),
            );
        }
        let before = g.plan_fixes(&admin_only, 10, &|_| false);
        assert_eq!(before.risk, 2 * 4 + 2 * 4);
        g.add_exploit(worker.clone(), "CVE-2023-44487 in nginx (high)");
        g.add_exploit(worker.clone(), "a second one is not kept");
        assert_eq!(g.exploit(&worker), Some("CVE-2023-44487 in nginx (high)"));
        assert_eq!(g.exploit(&api), None);
        let plan = g.plan_fixes(&admin_only, 10, &|_| false);
        assert_eq!(plan.at_risk[0].from, worker, "{:?}", plan.at_risk);
        assert_eq!(plan.at_risk[0].likelihood, 3);
        assert_eq!(
            plan.at_risk[0].exploit.as_deref(),
            Some("CVE-2023-44487 in nginx (high)")
        );
        assert_eq!(plan.fixes[0].fix.object, "ClusterRoleBinding b1");
        // Exposed too: twice as likely as exposed alone.
        step(
            &mut g,
            Node::Internet,
            worker.clone(),
            Relation::Exposes,
            None,
        );
        assert_eq!(likelihood(&g, &worker), 6);
        assert_eq!(likelihood(&g, &api), 2);
    }

    #[test]
    fn what_no_fix_takes_away_is_by_design_and_not_risk() {
        let mut g = Graph::recording_fixes();
        let masters = Node::identity(Subject::Group {
            name: "system:masters".into(),
        });
        step(
            &mut g,
            masters.clone(),
            Node::ClusterAdmin,
            Relation::Grants,
            None,
        );
        // A step to cluster-admin that no fix takes away, and also one that a fix does.
        let nodes = Node::identity(Subject::Group {
            name: "system:nodes".into(),
        });
        step(
            &mut g,
            nodes.clone(),
            Node::ClusterAdmin,
            Relation::Grants,
            None,
        );
        step(
            &mut g,
            nodes,
            Node::ClusterAdmin,
            Relation::Grants,
            Some(Fix::new(Change::NarrowBinding, "ClusterRoleBinding extra")),
        );
        let plan = g.plan_fixes(&admin_only, 10, &|_| false);
        assert_eq!(plan.risk, 0);
        assert!(plan.at_risk.is_empty() && plan.fixes.is_empty());
        assert_eq!(plan.by_design.len(), 2);
        assert_eq!(plan.by_design[0].from, masters);
    }

    #[test]
    fn a_start_counts_the_most_valuable_target_it_reaches() {
        let mut g = Graph::recording_fixes();
        let secrets = |ns: &str| Node::Secrets {
            namespace: Some(ns.into()),
        };
        let web = Node::workload(0, "Deployment", "web", "web");
        step(
            &mut g,
            web.clone(),
            secrets("web"),
            Relation::Grants,
            Some(Fix::new(Change::NarrowBinding, "RoleBinding web/read")),
        );
        step(
            &mut g,
            secrets("web"),
            account("pay", "api"),
            Relation::HoldsToken,
            Some(Fix::new(Change::DeleteTokenSecret, "Secret web/api-token")),
        );
        step(
            &mut g,
            account("pay", "api"),
            secrets("pay"),
            Relation::Grants,
            Some(Fix::new(Change::NarrowBinding, "RoleBinding pay/api")),
        );
        let value = |node: &Node| match node {
            Node::Secrets { namespace } if namespace.as_deref() == Some("pay") => 4,
            Node::Secrets { .. } => 1,
            _ => 0,
        };
        let plan = g.plan_fixes(&value, 10, &|_| false);
        let web_risk = plan.at_risk.iter().find(|r| r.from == web).expect("web");
        assert_eq!((web_risk.value, web_risk.risk), (4, 8));
        assert_eq!(web_risk.path.end(), &secrets("pay"));
        // The api account's binding cuts both chains to the critical Secrets (12 → 2), more
        // than web's own binding (12 → 4); web then reads only its own namespace's.
        assert_eq!(plan.fixes[0].fix.object, "RoleBinding pay/api");
        assert_eq!(plan.fixes[0].risk_left, 2);
        assert_eq!(plan.fixes[1].fix.object, "RoleBinding web/read");
        assert_eq!(plan.risk_left, 0);
    }

    /// Random graphs of workloads, accounts and cluster-admin, each edge with up to two
    /// causes among six fixes or none: the plan, followed to its end, leaves no start reaching
    /// cluster-admin but those the unfixable steps alone take there; and its risk is what the
    /// search every command uses finds, counted apart.
    mod checked_apart {
        use super::*;
        use proptest::prelude::*;

        fn node(i: usize) -> Node {
            match i {
                0 => Node::Internet,
                1 => Node::ClusterAdmin,
                2..=4 => Node::workload(i, "Deployment", "app", &format!("w{i}")),
                _ => account("app", &format!("sa{i}")),
            }
        }

        /// A cause: one binding's fix, or a choice of two (either removes it).
        type Cause = (u8, Option<u8>);

        /// The graph with only the steps `keep` keeps, built again through the public API.
        fn rebuilt(edges: &[(usize, usize, Vec<Cause>)], keep: impl Fn(&[Cause]) -> bool) -> Graph {
            let mut g = Graph::recording_fixes();
            for i in 0..8 {
                g.id(node(i));
            }
            for (a, b, causes) in edges {
                if keep(causes) {
                    g.edge(node(*a), node(*b), Relation::Grants, "kept");
                }
            }
            g
        }

        proptest! {
            #[test]
            fn the_plan_cuts_every_path_a_fix_can_cut(
                edges in proptest::collection::vec(
                    (
                        0usize..8,
                        0usize..8,
                        proptest::collection::vec((0u8..6, proptest::option::of(0u8..6)), 0..3),
                    ),
                    0..24,
                ),
            ) {
                let mut g = Graph::recording_fixes();
                for i in 0..8 {
                    g.id(node(i));
                }
                for (a, b, causes) in &edges {
                    let (a, b) = (g.id(node(*a)), g.id(node(*b)));
                    if causes.is_empty() {
                        g.edge_between(a, b, Relation::Grants, "step");
                    }
                    for (c, or) in causes {
                        let mut binding = |c: u8| {
                            g.fix_with(|| Fix::new(Change::NarrowBinding, format!("binding {c}")))
                        };
                        let choices = [Some(*c), *or].map(|c| c.and_then(&mut binding));
                        let fix = g.fix_either(&choices);
                        g.edge_fixed_by(a, b, Relation::Grants, "step", fix);
                    }
                }
                let plan = g.plan_fixes(&admin_only, usize::MAX, &|_| false);
                prop_assert_eq!(plan.risk_left, 0);
                // Apart: a step stays when it has no cause or one the plan did not fix.
                let fixed: Vec<u8> = (0u8..6)
                    .filter(|c| plan.fixes.iter().any(|f| f.fix.object == format!("binding {c}")))
                    .collect();
                let removed = |(c, or): &Cause| fixed.contains(c) || or.is_some_and(|o| fixed.contains(&o));
                let after = rebuilt(&edges, |causes| {
                    causes.is_empty() || causes.iter().any(|c| !removed(c))
                });
                let by_design = rebuilt(&edges, <[Cause]>::is_empty);
                let before = rebuilt(&edges, |_| true);
                let mut risk = 0u64;
                for i in (0..8).filter(|&i| node(i).is_start()) {
                    let start = node(i);
                    let designed = by_design.path(&start, Goal::ClusterAdmin).is_some();
                    if !designed {
                        prop_assert!(after.path(&start, Goal::ClusterAdmin).is_none(), "{start}");
                        if before.path(&start, Goal::ClusterAdmin).is_some() {
                            risk += u64::from(likelihood(&g, &start)) * 4;
                        }
                    }
                    prop_assert_eq!(designed, plan.by_design.iter().any(|p| p.from == start));
                }
                prop_assert_eq!(plan.risk, risk);
                // After each fix, the risk left is what the search finds with the fixes so far.
                for k in 0..plan.fixes.len() {
                    let so_far: Vec<u8> = (0u8..6)
                        .filter(|c| {
                            plan.fixes[..=k]
                                .iter()
                                .any(|f| f.fix.object == format!("binding {c}"))
                        })
                        .collect();
                    let gone = |(c, or): &Cause| {
                        so_far.contains(c) || or.is_some_and(|o| so_far.contains(&o))
                    };
                    let now = rebuilt(&edges, |causes| {
                        causes.is_empty() || causes.iter().any(|c| !gone(c))
                    });
                    let left: u64 = (0..8)
                        .map(node)
                        .filter(|n| n.is_start())
                        .filter(|n| by_design.path(n, Goal::ClusterAdmin).is_none())
                        .filter(|n| now.path(n, Goal::ClusterAdmin).is_some())
                        .map(|n| u64::from(likelihood(&g, &n)) * 4)
                        .sum();
                    prop_assert_eq!(plan.fixes[k].risk_left, left, "after fix {}", k + 1);
                }
            }
        }
    }

    #[test]
    fn taking_a_service_off_the_internet_is_the_last_resort() {
        let mut g = Graph::recording_fixes();
        let web = Node::workload(0, "Deployment", "web", "web");
        step(
            &mut g,
            Node::Internet,
            web.clone(),
            Relation::Exposes,
            Some(Fix::new(Change::Unexpose, "Deployment web/web")),
        );
        step(
            &mut g,
            web,
            Node::ClusterAdmin,
            Relation::MountsToken,
            Some(Fix::new(Change::UnmountToken, "Deployment web/web")),
        );
        let plan = g.plan_fixes(&admin_only, 10, &|_| false);
        assert_eq!(plan.fixes.len(), 1);
        assert_eq!(plan.fixes[0].fix.change, Change::UnmountToken);
        assert_eq!(plan.risk_left, 0);
    }
}
