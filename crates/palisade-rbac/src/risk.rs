//! What an attack path is worth to an attacker, for `palisade rbac fixes`: the targets asked
//! for and the value of each. Cluster-admin is worth the most (5); the Secrets of every
//! namespace as much as a critical namespace (4); root on a node as much as a highly critical
//! one (3: from there the graph goes on through the tokens on it); the Secrets of a namespace,
//! or full control of it, as much as the namespace's criticality says
//! (`palisade.dev/criticality`, or `[criticality]` of `palisade.toml`, which wins: low 1,
//! medium 2, high 3, critical 4; medium when neither says).

use std::collections::HashMap;

use palisade_graph::{Goal, Node};
use palisade_inventory::Inventory;
use palisade_k8s::criticality::{self, Configured, Criticality};

/// The value of cluster-admin: above the Secrets of any namespace, all of them included.
pub const CLUSTER_ADMIN: u32 = 5;

/// The targets a plan cuts the paths to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    ClusterAdmin,
    Nodes,
    Secrets,
    /// Every one: cluster-admin, nodes, Secrets and namespace admin.
    All,
}

impl Targets {
    /// The names `--to` takes.
    pub const NAMES: &[&str] = &["all", "cluster-admin", "nodes", "secrets"];

    /// The targets, as a phrase.
    pub fn describe(self) -> &'static str {
        match self {
            Targets::All => "cluster-admin, nodes, Secrets and namespace control",
            Targets::ClusterAdmin => "cluster-admin",
            Targets::Nodes => "cluster-admin and the nodes",
            Targets::Secrets => "cluster-admin and Secrets",
        }
    }

    /// `all`, or a goal as `rbac paths --to` names it ([`Goal::parse`]).
    pub fn parse(text: &str) -> Option<Targets> {
        if text == "all" {
            return Some(Targets::All);
        }
        Some(match Goal::parse(text)? {
            Goal::ClusterAdmin => Targets::ClusterAdmin,
            Goal::Nodes => Targets::Nodes,
            Goal::Secrets => Targets::Secrets,
        })
    }
}

/// A Namespace's criticality that is no level.
#[derive(Debug, thiserror::Error)]
#[error(
    "Namespace {namespace}: {key} is {value:?}; expected low, medium, high or critical",
    key = criticality::KEY
)]
pub struct UnknownCriticality {
    pub namespace: String,
    pub value: String,
}

/// The value of each target.
#[derive(Debug, Clone)]
pub struct Valuation {
    targets: Targets,
    namespaces: HashMap<String, Criticality>,
    configured: Configured,
}

impl Valuation {
    /// The targets asked for, valued by the criticality `configured` sets (`[criticality]` of
    /// `palisade.toml`), else the one the inventory's Namespaces declare. A declared value
    /// that is no level is an error: guessing it would rank the namespace's paths wrongly
    /// without saying so.
    pub fn read(
        inventory: &Inventory,
        targets: Targets,
        configured: &Configured,
    ) -> Result<Valuation, UnknownCriticality> {
        let mut namespaces = HashMap::new();
        for object in inventory.of_kind("", "Namespace") {
            let Some(name) = &object.id.name else {
                continue;
            };
            match criticality::of_namespace(&object.value) {
                Some(Ok(level)) => {
                    namespaces.insert(name.clone(), level);
                }
                Some(Err(value)) => {
                    return Err(UnknownCriticality {
                        namespace: name.clone(),
                        value,
                    });
                }
                None => {}
            }
        }
        Ok(Valuation {
            targets,
            namespaces,
            configured: configured.clone(),
        })
    }

    /// The criticality of a namespace: configured, else declared, else medium.
    pub fn of_namespace(&self, namespace: &str) -> Criticality {
        self.configured
            .of(namespace)
            .or_else(|| self.namespaces.get(namespace).copied())
            .unwrap_or(Criticality::Medium)
    }

    /// The value of `node` as a target, 0 when it is none of the targets asked for.
    pub fn value(&self, node: &Node) -> u32 {
        let all = self.targets == Targets::All;
        let of = |ns: &Option<String>| match ns {
            Some(ns) => self.of_namespace(ns).weight(),
            None => Criticality::Critical.weight(),
        };
        match node {
            Node::ClusterAdmin => CLUSTER_ADMIN,
            Node::NodeHost { .. } if all || self.targets == Targets::Nodes => {
                Criticality::High.weight()
            }
            Node::Secrets { namespace } if all || self.targets == Targets::Secrets => of(namespace),
            Node::NamespaceAdmin { namespace } if all => self.of_namespace(namespace).weight(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    #[test]
    fn namespaces_are_worth_what_they_declare_and_a_wrong_level_is_an_error() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: pay, labels: {palisade.dev/criticality: critical}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n";
        let loaded = load_text("ns.yaml", text, &Limits::default());
        let all = Valuation::read(&loaded.inventory, Targets::All, &Configured::default())
            .expect("levels");
        let secrets = |ns: &str| Node::Secrets {
            namespace: Some(ns.into()),
        };
        assert_eq!(all.value(&secrets("pay")), 4);
        assert_eq!(all.value(&secrets("web")), 2);
        assert_eq!(all.value(&Node::any_node()), 3);
        let admin_only = Valuation::read(
            &loaded.inventory,
            Targets::ClusterAdmin,
            &Configured::default(),
        )
        .expect("levels");
        assert_eq!(admin_only.value(&secrets("pay")), 0);
        assert_eq!(admin_only.value(&Node::ClusterAdmin), 5);
        let typo = text.replace("critical}", "crit}");
        let loaded = load_text("ns.yaml", &typo, &Limits::default());
        let error = Valuation::read(&loaded.inventory, Targets::All, &Configured::default())
            .expect_err("no level");
        assert_eq!(
            error.to_string(),
            "Namespace pay: palisade.dev/criticality is \"crit\"; expected low, medium, high or critical"
        );
        assert_eq!(Targets::parse("everything"), None);
        assert_eq!(Targets::parse("node"), Some(Targets::Nodes));
    }
}
