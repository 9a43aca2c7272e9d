//! Shortest chains of evidence from any node to a goal.

use std::collections::VecDeque;

use serde::Serialize;

use crate::graph::{Edge, Graph, Relation};
use crate::node::Node;

/// What a path search aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    ClusterAdmin,
    Secrets,
    Nodes,
}

impl Goal {
    /// `cluster-admin` (or `admin`), `secrets`, `nodes` (or `node`).
    pub fn parse(text: &str) -> Option<Goal> {
        match text {
            "cluster-admin" | "admin" => Some(Goal::ClusterAdmin),
            "secrets" => Some(Goal::Secrets),
            "nodes" | "node" => Some(Goal::Nodes),
            _ => None,
        }
    }

    fn reached(self, node: &Node) -> bool {
        match self {
            Goal::ClusterAdmin => *node == Node::ClusterAdmin,
            Goal::Secrets => matches!(node, Node::Secrets { .. } | Node::ClusterAdmin),
            Goal::Nodes => matches!(node, Node::NodeHost { .. } | Node::ClusterAdmin),
        }
    }
}

/// One step, with why it is possible.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub to: Node,
    pub relation: Relation,
    pub evidence: String,
}

/// A chain from a start node.
#[derive(Debug, Clone, Serialize)]
pub struct Path {
    pub from: Node,
    pub steps: Vec<Step>,
}

impl Path {
    /// `a → b (evidence) → c (evidence)`.
    pub fn describe(&self) -> String {
        let mut text = self.from.to_string();
        for step in &self.steps {
            text.push_str(&format!(" → {} ({})", step.to, step.evidence));
        }
        text
    }

    pub fn end(&self) -> &Node {
        self.steps.last().map_or(&self.from, |s| &s.to)
    }
}

/// First steps of shortest paths toward one goal (see [`Graph::toward`]).
#[derive(Debug)]
pub struct Toward {
    next: Vec<Option<usize>>,
    is_goal: Vec<bool>,
}

impl Graph {
    /// For every node, the first step of a shortest path to `goal` (one backward
    /// breadth-first search from all goal nodes, so any number of paths costs one search),
    /// shortest first in steps that need an exploit ([`Relation::needs_exploit`]: a network
    /// connection, shared storage), then in steps.
    pub fn toward(&self, goal: Goal) -> Toward {
        let is_goal = self.nodes.iter().map(|node| goal.reached(node)).collect();
        self.toward_where(&self.reverse_edges(), is_goal, |_| true)
    }

    /// Each node's incoming edges, as (the node they leave, their position among its edges).
    pub(crate) fn reverse_edges(&self) -> Vec<Vec<(usize, usize)>> {
        let mut reverse: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.nodes.len()];
        for (from, edges) in self.edges.iter().enumerate() {
            for (e, edge) in edges.iter().enumerate() {
                reverse[edge.to].push((from, e));
            }
        }
        reverse
    }

    /// [`Graph::toward`] the nodes `is_goal` marks, over the edges `live` keeps; `reverse` is
    /// [`Graph::reverse_edges`], made once for many searches.
    pub(crate) fn toward_where(
        &self,
        reverse: &[Vec<(usize, usize)>],
        is_goal: Vec<bool>,
        live: impl Fn(&Edge) -> bool,
    ) -> Toward {
        let mut next: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut queue: VecDeque<usize> = (0..self.nodes.len()).filter(|&i| is_goal[i]).collect();
        let mut seen = is_goal.clone();
        // Network steps ("may connect to") and shared storage need an exploit to go further,
        // unlike every other step: a chain with fewer of them is preferred, whatever its
        // length. Each round is the plain breadth-first search over certain steps; exploit
        // steps into what it reached seed the next round.
        let mut deferred: Vec<(usize, usize)> = Vec::new();
        loop {
            while let Some(n) = queue.pop_front() {
                for &(from, edge) in &reverse[n] {
                    if seen[from] || !live(&self.edges[from][edge]) {
                        continue;
                    }
                    if self.edges[from][edge].relation.needs_exploit() {
                        deferred.push((from, edge));
                        continue;
                    }
                    seen[from] = true;
                    next[from] = Some(edge);
                    queue.push_back(from);
                }
            }
            if deferred.is_empty() {
                break;
            }
            for (from, edge) in std::mem::take(&mut deferred) {
                if !seen[from] {
                    seen[from] = true;
                    next[from] = Some(edge);
                    queue.push_back(from);
                }
            }
        }
        Toward { next, is_goal }
    }

    pub(crate) fn path_from(&self, toward: &Toward, start: usize) -> Option<Path> {
        let mut at = start;
        let mut steps = Vec::new();
        while !toward.is_goal[at] {
            let edge = &self.edges[at][toward.next[at]?];
            steps.push(Step {
                to: self.nodes[edge.to].clone(),
                relation: edge.relation,
                evidence: edge.evidence.to_string(),
            });
            at = edge.to;
        }
        (!steps.is_empty()).then(|| Path {
            from: self.nodes[start].clone(),
            steps,
        })
    }

    /// The edges of the shortest chain from node `start` to the goal of `toward`; `None`
    /// when there is none, or `start` is itself a goal.
    pub(crate) fn chain_from(&self, toward: &Toward, start: usize) -> Option<Vec<&Edge>> {
        let mut at = start;
        let mut edges = Vec::new();
        while !toward.is_goal[at] {
            let edge = &self.edges[at][toward.next[at]?];
            edges.push(edge);
            at = edge.to;
        }
        (!edges.is_empty()).then_some(edges)
    }

    /// The shortest path from `from` to `goal`, if any.
    pub fn path(&self, from: &Node, goal: Goal) -> Option<Path> {
        // A node the graph does not hold costs no search.
        let from = self.position(from)?;
        self.path_from(&self.toward(goal), from)
    }

    /// The shortest path from `from`, with a precomputed [`Graph::toward`].
    pub fn path_with(&self, toward: &Toward, from: &Node) -> Option<Path> {
        self.path_from(toward, self.position(from)?)
    }

    /// Whether `from` leads to the goal of `toward` in one step or more: what
    /// [`Graph::path_with`] finds, without spelling the path out.
    pub fn leads_to(&self, toward: &Toward, from: &Node) -> bool {
        self.position(from)
            .is_some_and(|at| !toward.is_goal[at] && toward.next[at].is_some())
    }

    /// For every start node (workloads, identities, the internet) that can reach `goal`, its
    /// shortest path, in the order the nodes were added.
    pub fn all_paths(&self, goal: Goal) -> Vec<Path> {
        let toward = self.toward(goal);
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_start())
            .filter_map(|i| self.path_from(&toward, i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Graph {
        let mut g = Graph::default();
        let web = Node::workload(0, "Deployment", "web", "web");
        let sa = Node::Secrets {
            namespace: Some("web".into()),
        };
        g.edge(
            Node::Internet,
            web.clone(),
            Relation::Exposes,
            "Service web",
        );
        g.edge(web, sa.clone(), Relation::Grants, "reads Secrets");
        g.edge(sa, Node::ClusterAdmin, Relation::HoldsToken, "admin token");
        g
    }

    #[test]
    fn a_chain_of_certain_steps_beats_a_shorter_one_through_the_network() {
        let mut g = chain();
        let web = Node::workload(0, "Deployment", "web", "web");
        let admin_app = Node::workload(1, "Deployment", "ops", "admin");
        g.edge(
            web.clone(),
            admin_app.clone(),
            Relation::Reaches,
            "may connect",
        );
        g.edge(
            admin_app.clone(),
            Node::ClusterAdmin,
            Relation::Grants,
            "admin",
        );
        let path = g.path(&web, Goal::ClusterAdmin).expect("a path");
        assert_eq!(path.steps.len(), 2, "{}", path.describe());
        assert!(path.steps.iter().all(|s| s.relation != Relation::Reaches));
        // Without the certain chain, the network step is taken.
        let mut g = Graph::default();
        g.edge(
            web.clone(),
            admin_app.clone(),
            Relation::Reaches,
            "may connect",
        );
        g.edge(admin_app, Node::ClusterAdmin, Relation::Grants, "admin");
        let path = g.path(&web, Goal::ClusterAdmin).expect("a path");
        assert_eq!(path.steps[0].relation, Relation::Reaches);
    }

    #[test]
    fn the_shortest_chain_reaches_the_goal_with_its_evidence() {
        let g = chain();
        let path = g.path(&Node::Internet, Goal::ClusterAdmin).expect("a path");
        assert_eq!(
            path.describe(),
            "the internet → Deployment web/web (Service web) → the Secrets of namespace web (reads Secrets) → cluster-admin (admin token)"
        );
        assert_eq!(path.steps[2].relation, Relation::HoldsToken);
        // The Secrets are themselves a goal: the path stops there.
        let to_secrets = g.path(&Node::Internet, Goal::Secrets).expect("a path");
        assert_eq!(to_secrets.steps.len(), 2);
        assert!(g.path(&Node::ClusterAdmin, Goal::ClusterAdmin).is_none());
        assert!(g.path(&Node::any_node(), Goal::ClusterAdmin).is_none());
    }

    #[test]
    fn a_node_leads_to_the_goal_exactly_when_it_has_a_path_there() {
        let g = chain();
        let toward = g.toward(Goal::ClusterAdmin);
        let web = Node::workload(0, "Deployment", "web", "web");
        let elsewhere = Node::workload(7, "Deployment", "web", "other");
        for node in [Node::Internet, web, Node::ClusterAdmin, elsewhere] {
            assert_eq!(
                g.leads_to(&toward, &node),
                g.path_with(&toward, &node).is_some(),
                "{node}"
            );
        }
        assert!(g.leads_to(&toward, &Node::Internet));
        assert!(!g.leads_to(&toward, &Node::ClusterAdmin));
    }

    #[test]
    fn all_paths_start_only_where_an_attacker_starts() {
        let g = chain();
        let starts: Vec<String> = g
            .all_paths(Goal::ClusterAdmin)
            .iter()
            .map(|p| p.from.to_string())
            .collect();
        assert_eq!(starts, ["the internet", "Deployment web/web"]);
    }

    #[test]
    fn goals_parse_from_their_names_and_nothing_else() {
        assert_eq!(Goal::parse("admin"), Some(Goal::ClusterAdmin));
        assert_eq!(Goal::parse("node"), Some(Goal::Nodes));
        assert_eq!(Goal::parse("secret"), None);
    }
}
