//! The risky-permission and privilege-escalation catalogue: which requests a grant must allow
//! to give each primitive, and where the primitive leads.

use serde::Serialize;

use crate::authorizer::{Request, rule_allows};
use crate::model::{Binding, Policy, PolicyRule};

/// Where a primitive takes its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Leads {
    /// Full control of the cluster (or of the binding's namespace, for RoleBindings).
    Admin,
    /// Every service account of the scope (run or mint a token as any of them).
    AnyServiceAccount,
    /// The service accounts of the pods already running in the scope.
    RunningPodAccounts,
    /// The Secrets of the scope.
    Secrets,
    /// A node (and from there every pod on it).
    Node,
    /// A weaker but security-relevant capability that is not a step to another identity.
    Capability,
}

/// One primitive: a set of alternative requests, any of which gives it (or, for `all`, every
/// group of which is needed).
#[derive(Debug, Clone, Copy)]
pub struct Primitive {
    pub id: &'static str,
    /// What the holder can do, as a verb phrase ("read Secrets").
    pub does: &'static str,
    /// `(verbs, api group, resource[/subresource])` alternatives; each inner list is one
    /// requirement, all requirements are needed.
    pub needs: &'static [&'static [(&'static [&'static str], &'static str, &'static str)]],
    pub leads: Leads,
    /// Whether the primitive only exists cluster-wide (cluster-scoped resources).
    pub cluster_scoped: bool,
}

/// The verbs that answer with an object's values: `update` and `patch` answer with the whole
/// stored object too.
pub const READ_VERBS: &[&str] = &["get", "list", "watch", "update", "patch"];

const WORKLOADS: &[(&[&str], &str, &str)] = &[
    (&["create"], "", "pods"),
    (&["create", "update", "patch"], "apps", "deployments"),
    (&["create", "update", "patch"], "apps", "daemonsets"),
    (&["create", "update", "patch"], "apps", "statefulsets"),
    (&["create", "update", "patch"], "apps", "replicasets"),
    (&["create", "update", "patch"], "batch", "jobs"),
    (&["create", "update", "patch"], "batch", "cronjobs"),
    (&["create", "update", "patch"], "", "replicationcontrollers"),
];

/// The catalogue, most dangerous first.
pub const PRIMITIVES: &[Primitive] = &[
    Primitive {
        id: "impersonate",
        does: "impersonate users or groups (system:masters included)",
        needs: &[&[
            (&["impersonate"], "", "users"),
            (&["impersonate"], "", "groups"),
            (&["impersonate"], "authentication.k8s.io", "uids"),
            (
                &["impersonate"],
                "authentication.k8s.io",
                "userextras/scopes",
            ),
        ]],
        leads: Leads::Admin,
        cluster_scoped: true,
    },
    Primitive {
        id: "impersonate-service-accounts",
        does: "impersonate service accounts",
        needs: &[&[(&["impersonate"], "", "serviceaccounts")]],
        leads: Leads::AnyServiceAccount,
        cluster_scoped: false,
    },
    Primitive {
        // The permission itself (CIS 5.1.8), whether or not it can be used: the steps the
        // graph follows are `bind-roles` and `escalate-roles`, which need the write too.
        id: "escalate-or-bind",
        does: "grant roles beyond their own permissions (escalate or bind)",
        needs: &[&[
            (&["escalate", "bind"], "rbac.authorization.k8s.io", "roles"),
            (
                &["escalate", "bind"],
                "rbac.authorization.k8s.io",
                "clusterroles",
            ),
        ]],
        leads: Leads::Capability,
        cluster_scoped: false,
    },
    Primitive {
        // As the API server checks it: a binding to a role may be written by whoever holds
        // `bind` on that role and may write bindings; the holder then grants itself the role.
        id: "bind-roles",
        does: "bind roles they may bind to themselves (bind, and write role bindings)",
        needs: &[
            &[
                (&["bind"], "rbac.authorization.k8s.io", "roles"),
                (&["bind"], "rbac.authorization.k8s.io", "clusterroles"),
            ],
            &[
                (
                    &["create", "update", "patch"],
                    "rbac.authorization.k8s.io",
                    "rolebindings",
                ),
                (
                    &["create", "update", "patch"],
                    "rbac.authorization.k8s.io",
                    "clusterrolebindings",
                ),
            ],
        ],
        leads: Leads::Admin,
        cluster_scoped: false,
    },
    Primitive {
        // `escalate` lets a role be written with more than its writer holds; it takes writing
        // the role too.
        id: "escalate-roles",
        does: "write roles with permissions beyond their own (escalate, and write roles)",
        needs: &[
            &[
                (&["escalate"], "rbac.authorization.k8s.io", "roles"),
                (&["escalate"], "rbac.authorization.k8s.io", "clusterroles"),
            ],
            &[
                (
                    &["create", "update", "patch"],
                    "rbac.authorization.k8s.io",
                    "roles",
                ),
                (
                    &["create", "update", "patch"],
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                ),
            ],
        ],
        leads: Leads::Admin,
        cluster_scoped: false,
    },
    Primitive {
        id: "mutating-webhook-configuration",
        does: "change mutating admission webhooks (rewrite every object admitted, such as injecting a privileged container into every new pod)",
        needs: &[&[(
            &["create", "update", "patch"],
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
        )]],
        leads: Leads::Admin,
        cluster_scoped: true,
    },
    Primitive {
        // Validating webhooks can refuse requests and see what is admitted, but cannot change
        // it: no step to another identity.
        id: "validating-webhook-configuration",
        does: "change validating admission webhooks (block requests, remove the policies they enforce, or send every admitted object to a server of their choice)",
        needs: &[&[(
            &["create", "update", "patch"],
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
        )]],
        leads: Leads::Capability,
        cluster_scoped: true,
    },
    Primitive {
        id: "approve-certificates",
        does: "create and approve certificate signing requests (forge client certificates)",
        needs: &[
            &[(
                &["create"],
                "certificates.k8s.io",
                "certificatesigningrequests",
            )],
            &[(
                &["update", "patch"],
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
            )],
            &[(&["approve"], "certificates.k8s.io", "signers")],
        ],
        leads: Leads::Admin,
        cluster_scoped: true,
    },
    Primitive {
        id: "nodes-proxy",
        does: "reach the kubelet API through nodes/proxy (exec into any pod on a node)",
        needs: &[&[(&["get", "create"], "", "nodes/proxy")]],
        leads: Leads::Node,
        cluster_scoped: true,
    },
    Primitive {
        id: "create-workloads",
        does: "create pods or pod controllers (run as any service account, mount the node)",
        needs: &[WORKLOADS],
        leads: Leads::AnyServiceAccount,
        cluster_scoped: false,
    },
    Primitive {
        id: "create-tokens",
        does: "create service account tokens (TokenRequest)",
        needs: &[&[(&["create"], "", "serviceaccounts/token")]],
        leads: Leads::AnyServiceAccount,
        cluster_scoped: false,
    },
    Primitive {
        id: "read-secrets",
        does: "read Secrets",
        needs: &[&[(READ_VERBS, "", "secrets")]],
        leads: Leads::Secrets,
        cluster_scoped: false,
    },
    Primitive {
        id: "exec-into-pods",
        does: "exec, attach or port-forward into pods",
        needs: &[&[
            (&["create", "get"], "", "pods/exec"),
            (&["create", "get"], "", "pods/attach"),
            (&["create", "get"], "", "pods/portforward"),
        ]],
        leads: Leads::RunningPodAccounts,
        cluster_scoped: false,
    },
    Primitive {
        // CVE-2020-8554: a load balancer's status or a hand-written endpoint sends other
        // Services' traffic to an address of the holder's choice.
        id: "redirect-service-traffic",
        does: "redirect Service traffic (write load-balancer status, Endpoints or EndpointSlices: CVE-2020-8554)",
        needs: &[&[
            (&["update", "patch"], "", "services/status"),
            (&["create", "update", "patch"], "", "endpoints"),
            (
                &["create", "update", "patch"],
                "discovery.k8s.io",
                "endpointslices",
            ),
        ]],
        leads: Leads::Capability,
        cluster_scoped: false,
    },
    Primitive {
        // An Ingress routes a host's external traffic to any Service of its namespace; on a
        // shared controller it can claim another team's host or path, and with ingress-nginx
        // snippet annotations run configuration inside the controller (CVE-2021-25742).
        id: "change-ingresses",
        does: "create or change Ingresses (route external traffic of a host to a Service of their choice, or claim another team's host on a shared controller)",
        needs: &[&[(
            &["create", "update", "patch"],
            "networking.k8s.io",
            "ingresses",
        )]],
        leads: Leads::Capability,
        cluster_scoped: false,
    },
    Primitive {
        id: "change-network-policies",
        does: "change or delete NetworkPolicies (remove the namespace's segmentation)",
        needs: &[&[(
            &["create", "update", "patch", "delete", "deletecollection"],
            "networking.k8s.io",
            "networkpolicies",
        )]],
        leads: Leads::Capability,
        cluster_scoped: false,
    },
    Primitive {
        // A running pod's image may be changed in place (`spec.containers[*].image` is
        // mutable): the new code runs as the pod's service account.
        id: "patch-pods",
        does: "patch running pods (change a container's image, so code of their choice runs as the pod's service account)",
        needs: &[&[(&["update", "patch"], "", "pods")]],
        leads: Leads::RunningPodAccounts,
        cluster_scoped: false,
    },
    Primitive {
        id: "ephemeral-containers",
        does: "add ephemeral containers to running pods",
        needs: &[&[(&["update", "patch"], "", "pods/ephemeralcontainers")]],
        leads: Leads::RunningPodAccounts,
        cluster_scoped: false,
    },
    Primitive {
        id: "create-persistent-volumes",
        does: "create PersistentVolumes (a hostPath volume is the node's disk)",
        needs: &[&[(&["create"], "", "persistentvolumes")]],
        leads: Leads::Node,
        cluster_scoped: true,
    },
    Primitive {
        id: "modify-namespaces",
        does: "change namespaces (and their Pod Security labels)",
        needs: &[&[(&["update", "patch"], "", "namespaces")]],
        leads: Leads::Capability,
        cluster_scoped: true,
    },
    Primitive {
        id: "patch-node-status",
        does: "change node status (steer traffic and workloads)",
        needs: &[&[(&["update", "patch"], "", "nodes/status")]],
        leads: Leads::Capability,
        cluster_scoped: true,
    },
];

/// The catalogue entry with this id.
pub fn primitive(id: &str) -> Option<&'static Primitive> {
    PRIMITIVES.iter().find(|p| p.id == id)
}

/// A primitive that one binding gives, with the rules that give it.
#[derive(Debug, Clone)]
pub struct Held {
    pub primitive: &'static Primitive,
    /// The binding's namespace, or `None` when it holds cluster-wide.
    pub namespace: Option<String>,
    /// Indices of the role rules that satisfy the requirements.
    pub rules: Vec<usize>,
    /// `None` when any object will do; otherwise the only objects the rules allow
    /// (`resourceNames`), as `(resource, name)`: impersonating only user `jane`, binding only
    /// ClusterRole `view`.
    pub names: Option<Vec<(String, String)>>,
}

impl Held {
    /// What the holder can do, with the names it is restricted to.
    pub fn does(&self) -> String {
        match &self.names {
            None => self.primitive.does.to_string(),
            Some(names) => {
                let list: Vec<String> = names.iter().map(|(r, n)| format!("{r} {n}")).collect();
                format!(
                    "{} ({} only)",
                    self.primitive.verb_phrase(),
                    list.join(", ")
                )
            }
        }
    }
}

/// Primitives whose name-restricted forms (`resourceNames`) still lead somewhere: to the named
/// identities, or to admin when a named role grants everything.
const NAME_RESTRICTABLE: &[&str] = &[
    "impersonate",
    "impersonate-service-accounts",
    "escalate-or-bind",
    "bind-roles",
    "escalate-roles",
];

impl Primitive {
    /// `does` without its parenthesised gloss, for name-restricted forms.
    fn verb_phrase(&self) -> &'static str {
        self.does.split(" (").next().unwrap_or(self.does)
    }
}

/// The `(resource, name)` pairs that the rules of `rules` allow for `alternatives` only by
/// name (`resourceNames`), when no rule allows them for any name.
fn named_only(
    rules: &[PolicyRule],
    alternatives: &[(&[&str], &str, &str)],
    namespace: Option<&str>,
) -> (Vec<usize>, Vec<(String, String)>) {
    let mut indices = Vec::new();
    let mut names = Vec::new();
    for rule in rules {
        for (verbs, group, resource) in alternatives {
            for name in &rule.resource_names {
                let allowed = verbs.iter().any(|verb| {
                    rule_allows(
                        rule,
                        &Request::resource(verb, group, resource, namespace).named(name),
                    )
                });
                let pair = (resource.to_string(), name.clone());
                if allowed && !names.contains(&pair) {
                    names.push(pair);
                    if !indices.contains(&rule.index) {
                        indices.push(rule.index);
                    }
                }
            }
        }
    }
    (indices, names)
}

/// The rule of `rules` that allows any request of `alternatives` in `namespace`.
fn satisfying<'a>(
    rules: &'a [PolicyRule],
    alternatives: &[(&[&str], &str, &str)],
    namespace: Option<&str>,
) -> Option<&'a PolicyRule> {
    // The requests are the same for every rule: built once.
    let requests: Vec<Request> = alternatives
        .iter()
        .flat_map(|(verbs, group, resource)| {
            verbs
                .iter()
                .map(move |verb| Request::resource(verb, group, resource, namespace))
        })
        .collect();
    rules
        .iter()
        .find(|rule| requests.iter().any(|request| rule_allows(rule, request)))
}

impl Policy {
    /// Every primitive `binding` gives its subjects, within its scope.
    pub fn primitives_of(&self, binding: &Binding) -> Vec<Held> {
        let Some(role) = self.role_of(binding) else {
            return Vec::new();
        };
        // A ClusterRoleBinding's grant is checked as a cluster-wide request; a RoleBinding's,
        // as a request in its namespace (cluster-scoped primitives never come from one).
        let namespace = binding.namespace.as_deref();
        PRIMITIVES
            .iter()
            .filter(|p| !(p.cluster_scoped && namespace.is_some()))
            .filter_map(|primitive| {
                let mut rules = Vec::new();
                let mut all_names = true;
                for requirement in primitive.needs {
                    match satisfying(&role.rules, requirement, namespace) {
                        Some(rule) => rules.push(rule.index),
                        None => {
                            all_names = false;
                            break;
                        }
                    }
                }
                if all_names {
                    rules.dedup();
                    return Some(Held {
                        primitive,
                        namespace: namespace.map(str::to_string),
                        rules,
                        names: None,
                    });
                }
                // Only named objects for the first requirement (the others must hold whole).
                if !NAME_RESTRICTABLE.contains(&primitive.id) {
                    return None;
                }
                let mut others = Vec::new();
                for requirement in &primitive.needs[1..] {
                    others.push(satisfying(&role.rules, requirement, namespace)?.index);
                }
                let (mut rules, names) = named_only(&role.rules, primitive.needs[0], namespace);
                rules.extend(others);
                rules.sort_unstable();
                rules.dedup();
                (!names.is_empty()).then(|| Held {
                    primitive,
                    namespace: namespace.map(str::to_string),
                    rules,
                    names: Some(names),
                })
            })
            .collect()
    }

    /// Whether `binding` grants full control of every resource of every group (cluster-admin
    /// or an equivalent): `*`, or all of get, list, watch, create, update, patch and delete.
    pub fn grants_everything(&self, binding: &Binding) -> bool {
        self.role_of(binding)
            .is_some_and(|role| rules_grant_everything(&role.rules))
    }

    /// The role a binding made in `namespace` (`None`: a ClusterRoleBinding) could refer to
    /// by `resource` (`roles` or `clusterroles`) and `name`.
    pub fn role_named(
        &self,
        resource: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Option<&crate::model::Role> {
        match resource {
            "clusterroles" => self.cluster_role(name),
            "roles" => self.roles.iter().find(|r| {
                r.kind == crate::model::RoleKind::Role
                    && r.name == name
                    && namespace.is_none_or(|ns| r.namespace.as_deref() == Some(ns))
            }),
            _ => None,
        }
    }
}

/// Whether `rules` grant full control of every resource of every group: `*`, or all of get,
/// list, watch, create, update, patch and delete on `*` in `*`.
pub fn rules_grant_everything(rules: &[PolicyRule]) -> bool {
    const FULL_CONTROL: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    rules.iter().any(|r| {
        r.api_groups.iter().any(|g| g == "*")
            && r.resources.iter().any(|x| x == "*")
            && (r.verbs.iter().any(|v| v == "*")
                || FULL_CONTROL.iter().all(|v| r.verbs.iter().any(|w| w == v)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_inventory::{Limits, load_text};

    fn held(rules: &str, binding_kind: &str) -> Vec<&'static str> {
        let ns = if binding_kind == "RoleBinding" {
            "\n  namespace: ops"
        } else {
            ""
        };
        let yaml = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: r}}\nrules:\n{rules}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding_kind}\nmetadata:\n  name: b{ns}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}}\nsubjects: [{{kind: User, name: u}}]\n"
        );
        let loaded = load_text("t.yaml", &yaml, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        policy
            .primitives_of(&policy.bindings[0])
            .iter()
            .map(|h| h.primitive.id)
            .collect()
    }

    #[test]
    fn each_primitive_is_recognised_from_its_grant() {
        let cases = [
            (
                "- {apiGroups: [\"\"], resources: [secrets], verbs: [list]}",
                "read-secrets",
            ),
            (
                "- {apiGroups: [apps], resources: [deployments], verbs: [patch]}",
                "create-workloads",
            ),
            (
                "- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}",
                "exec-into-pods",
            ),
            (
                "- {apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create]}",
                "create-tokens",
            ),
            (
                "- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}",
                "escalate-or-bind",
            ),
            (
                "- {apiGroups: [\"\"], resources: [groups], verbs: [impersonate]}",
                "impersonate",
            ),
            (
                "- {apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}",
                "nodes-proxy",
            ),
            (
                "- {apiGroups: [\"\"], resources: [pods/ephemeralcontainers], verbs: [patch]}",
                "ephemeral-containers",
            ),
            (
                "- {apiGroups: [\"\"], resources: [persistentvolumes], verbs: [create]}",
                "create-persistent-volumes",
            ),
            (
                "- {apiGroups: [\"\"], resources: [namespaces], verbs: [patch]}",
                "modify-namespaces",
            ),
            (
                "- {apiGroups: [\"\"], resources: [nodes/status], verbs: [patch]}",
                "patch-node-status",
            ),
            (
                "- {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [update]}",
                "mutating-webhook-configuration",
            ),
        ];
        for (rules, expected) in cases {
            assert_eq!(held(rules, "ClusterRoleBinding"), [expected], "{rules}");
        }
    }

    #[test]
    fn certificate_forging_needs_all_three_grants() {
        let two = "- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests, certificatesigningrequests/approval], verbs: [create, update]}";
        assert!(held(two, "ClusterRoleBinding").is_empty());
        let three = format!(
            "{two}\n- {{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}}"
        );
        assert_eq!(held(&three, "ClusterRoleBinding"), ["approve-certificates"]);
    }

    #[test]
    fn cluster_scoped_primitives_never_come_from_a_role_binding_and_subresources_are_exact() {
        assert!(
            held(
                "- {apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}",
                "RoleBinding"
            )
            .is_empty()
        );
        assert_eq!(
            held(
                "- {apiGroups: [\"\"], resources: [secrets], verbs: [get]}",
                "RoleBinding"
            ),
            ["read-secrets"]
        );
        assert!(
            held(
                "- {apiGroups: [\"\"], resources: [pods], verbs: [create, get]}",
                "ClusterRoleBinding"
            )
            .contains(&"create-workloads")
        );
        assert!(
            !held(
                "- {apiGroups: [\"\"], resources: [pods], verbs: [create, get]}",
                "ClusterRoleBinding"
            )
            .contains(&"exec-into-pods"),
            "pods does not cover pods/exec"
        );
        assert!(
            held(
                "- {apiGroups: [\"\"], resources: [\"*/exec\"], verbs: [create]}",
                "ClusterRoleBinding"
            )
            .contains(&"exec-into-pods")
        );
        assert!(
            held(
                "- {apiGroups: [\"\"], resources: [secrets], resourceNames: [one], verbs: [get]}",
                "ClusterRoleBinding"
            )
            .is_empty(),
            "a named Secret is not 'read Secrets'"
        );
    }

    #[test]
    fn name_restricted_forms_carry_their_names_and_others_stay_out() {
        let yaml = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [deployer, builder]}\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [tls]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ci}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: u}]\n";
        let loaded = load_text("t.yaml", yaml, &Limits::default());
        let policy = Policy::from_inventory(&loaded.inventory);
        let held = policy.primitives_of(&policy.bindings[0]);
        // One named Secret is not "read Secrets"; impersonating two named accounts is kept,
        // with the names.
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].primitive.id, "impersonate-service-accounts");
        assert_eq!(
            held[0].names.as_deref(),
            Some(
                &[
                    ("serviceaccounts".to_string(), "deployer".to_string()),
                    ("serviceaccounts".to_string(), "builder".to_string())
                ][..]
            )
        );
        assert_eq!(
            held[0].does(),
            "impersonate service accounts (serviceaccounts deployer, serviceaccounts builder only)"
        );
    }
}
