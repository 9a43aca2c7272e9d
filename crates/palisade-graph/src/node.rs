//! The nodes of the graph.

use std::fmt;

use palisade_k8s::identity::Subject;
use palisade_k8s::names::display_ns;
use serde::Serialize;

/// A workload by its object, so any analyzer over the same inventory names the same node:
/// `object` is its index in the inventory (manifests from many sources may hold two
/// workloads of one kind, namespace and name; they stay two nodes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadRef {
    pub object: usize,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Which of the object's pod templates, for a kind with several (a RayCluster's
    /// `spec.workerGroupSpecs.0.template`): each is a workload of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.kind,
            display_ns(&self.namespace),
            self.name
        )?;
        match &self.template {
            Some(template) => write!(f, " ({template})"),
            None => Ok(()),
        }
    }
}

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "node", rename_all = "kebab-case")]
pub enum Node {
    /// Anyone who can reach a LoadBalancer, NodePort, external IP or Ingress.
    Internet,
    /// A workload (a controller, or a bare Pod).
    Workload {
        #[serde(flatten)]
        workload: WorkloadRef,
    },
    /// A user, group or service account.
    Identity { subject: Subject },
    /// Any service account of a namespace (`None`: of every namespace).
    AnyServiceAccount { namespace: Option<String> },
    /// The service accounts of the pods running in a namespace (`None`: everywhere).
    RunningPods { namespace: Option<String> },
    /// The Secrets of a namespace (`None`: of every namespace).
    Secrets { namespace: Option<String> },
    /// Root on a node of the cluster: `name` when known (a snapshot or live scan places pods on
    /// nodes), `None` for any node (whoever creates pods picks one with `spec.nodeName`) or a
    /// node not known from manifests.
    NodeHost { name: Option<String> },
    /// One stored object, a Secret or ConfigMap, whose values hold an identity's credential:
    /// whoever reads it becomes that identity.
    Object {
        kind: String,
        namespace: String,
        name: String,
    },
    /// Full control of one namespace.
    NamespaceAdmin { namespace: String },
    /// Full control of the cluster.
    ClusterAdmin,
}

impl Node {
    /// The node of a workload: the object at index `object` of the inventory.
    pub fn workload(object: usize, kind: &str, namespace: &str, name: &str) -> Node {
        Node::Workload {
            workload: WorkloadRef {
                object,
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
                template: None,
            },
        }
    }

    /// The node of one pod template of a workload object with several (`template` names
    /// where it stands, as `spec.workerGroupSpecs.0.template`).
    pub fn template_workload(
        object: usize,
        kind: &str,
        namespace: &str,
        name: &str,
        template: String,
    ) -> Node {
        let mut node = Node::workload(object, kind, namespace, name);
        if let Node::Workload { workload } = &mut node {
            workload.template = Some(template);
        }
        node
    }

    /// The node of a user, group or service account.
    pub fn identity(subject: Subject) -> Node {
        Node::Identity { subject }
    }

    /// Root on some node: where a new pod is placed at will, or an unknown one.
    pub fn any_node() -> Node {
        Node::NodeHost { name: None }
    }

    /// Whether a path search starts here: the places an attacker begins (the internet, a
    /// compromised workload, a stolen identity).
    pub fn is_start(&self) -> bool {
        matches!(
            self,
            Node::Workload { .. } | Node::Identity { .. } | Node::Internet
        )
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = |ns: &Option<String>| match ns {
            Some(ns) => format!("namespace {}", display_ns(ns)),
            None => "every namespace".to_string(),
        };
        match self {
            Node::Internet => write!(f, "the internet"),
            Node::Workload { workload } => write!(f, "{workload}"),
            Node::Identity { subject } => write!(f, "{subject}"),
            Node::AnyServiceAccount { namespace } => {
                write!(f, "any service account of {}", scope(namespace))
            }
            Node::RunningPods { namespace } => write!(
                f,
                "the service accounts of running pods in {}",
                scope(namespace)
            ),
            Node::Secrets { namespace } => write!(f, "the Secrets of {}", scope(namespace)),
            Node::Object {
                kind,
                namespace,
                name,
            } => write!(f, "{kind} {}/{name}", display_ns(namespace)),
            Node::NodeHost { name: None } => write!(f, "a node"),
            Node::NodeHost { name: Some(name) } => write!(f, "node {name}"),
            Node::NamespaceAdmin { namespace } => {
                write!(f, "admin of namespace {}", display_ns(namespace))
            }
            Node::ClusterAdmin => write!(f, "cluster-admin"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_read_as_people_name_them() {
        assert_eq!(
            Node::workload(0, "Deployment", "web", "api").to_string(),
            "Deployment web/api"
        );
        assert_eq!(
            Node::workload(1, "Pod", "", "x").to_string(),
            "Pod (namespace not set)/x"
        );
        let worker = "spec.workerGroupSpecs.0.template".to_string();
        let worker = Node::template_workload(2, "RayCluster", "ml", "ray", worker);
        assert_eq!(
            worker.to_string(),
            "RayCluster ml/ray (spec.workerGroupSpecs.0.template)"
        );
        assert_ne!(worker, Node::workload(2, "RayCluster", "ml", "ray"));
        assert_eq!(
            Node::Secrets { namespace: None }.to_string(),
            "the Secrets of every namespace"
        );
        assert_eq!(Node::any_node().to_string(), "a node");
    }

    #[test]
    fn a_workload_node_serialises_its_identity() {
        let json = serde_json::to_string(&Node::workload(3, "Deployment", "web", "api")).unwrap();
        assert_eq!(
            json,
            r#"{"node":"workload","object":3,"kind":"Deployment","namespace":"web","name":"api"}"#
        );
    }
}
