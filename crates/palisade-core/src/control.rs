//! Compliance controls: structured ids such as `cis-k8s-1.12:5.2.2`, and the catalogue of every
//! control Palisade knows, so that a rule cannot cite a control that does not exist and the
//! compliance matrix can list the controls no rule covers.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// A framework that Palisade maps rules to, at a fixed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    /// CIS Kubernetes Benchmark v1.12.
    CisK8s112,
    /// NSA/CISA Kubernetes Hardening Guide v1.2 (August 2022).
    NsaCisa12,
    /// Kubernetes Pod Security Standards (`pss:<level>/<control>`).
    Pss,
    /// MITRE ATT&CK (containers matrix and the enterprise techniques it cites).
    MitreAttack,
}

impl Framework {
    /// Every framework, in the order reports list them.
    pub const ALL: [Framework; 4] = [
        Framework::CisK8s112,
        Framework::NsaCisa12,
        Framework::Pss,
        Framework::MitreAttack,
    ];

    /// The prefix before `:` in a control id.
    pub fn prefix(self) -> &'static str {
        match self {
            Framework::CisK8s112 => "cis-k8s-1.12",
            Framework::NsaCisa12 => "nsa-cisa-1.2",
            Framework::Pss => "pss",
            Framework::MitreAttack => "mitre-attack",
        }
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Framework::CisK8s112 => "CIS Kubernetes Benchmark v1.12",
            Framework::NsaCisa12 => "NSA/CISA Kubernetes Hardening Guide v1.2",
            Framework::Pss => "Kubernetes Pod Security Standards",
            Framework::MitreAttack => "MITRE ATT&CK for Containers",
        }
    }

    /// The framework whose prefix is `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<Framework> {
        Framework::ALL.into_iter().find(|f| f.prefix() == prefix)
    }

    /// Every control of this framework that Palisade knows, with its title.
    pub fn catalogue(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Framework::CisK8s112 => CIS_K8S_1_12,
            Framework::NsaCisa12 => NSA_CISA_1_2,
            Framework::Pss => PSS,
            Framework::MitreAttack => MITRE_ATTACK,
        }
    }
}

/// One control of one framework, written `<prefix>:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Control {
    pub framework: Framework,
    pub id: Cow<'static, str>,
}

impl Control {
    /// A control known at compile time.
    pub const fn new(framework: Framework, id: &'static str) -> Self {
        Control {
            framework,
            id: Cow::Borrowed(id),
        }
    }

    /// Parses `cis-k8s-1.12:5.2.2` and friends. Unknown frameworks give `None`; whether the id
    /// exists in the catalogue is checked separately by [`Control::title`].
    pub fn parse(text: &str) -> Option<Self> {
        let (prefix, id) = text.split_once(':')?;
        let framework = Framework::from_prefix(prefix)?;
        if id.is_empty() {
            return None;
        }
        Some(Control {
            framework,
            id: Cow::Owned(id.to_string()),
        })
    }

    /// Why the control cannot be decided from Kubernetes objects, when it cannot: such a
    /// control is reported as `manual`, never as passed.
    pub fn manual_reason(&self) -> Option<&'static str> {
        let table: &[(&str, &str)] = match self.framework {
            Framework::CisK8s112 => CIS_MANUAL,
            Framework::NsaCisa12 => NSA_MANUAL,
            Framework::Pss | Framework::MitreAttack => &[],
        };
        table
            .iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, why)| *why)
    }

    /// The control's title from the catalogue, or `None` when the catalogue does not know it.
    pub fn title(&self) -> Option<&'static str> {
        self.framework
            .catalogue()
            .iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, title)| *title)
    }
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.framework.prefix(), self.id)
    }
}

impl Serialize for Control {
    /// As [`Display`](fmt::Display) writes it, put together on the stack: millions of findings
    /// of a large report each cite controls.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let prefix = self.framework.prefix().as_bytes();
        let id = self.id.as_bytes();
        let mut text = [0u8; 64];
        let len = prefix.len() + 1 + id.len();
        let Some(slot) = text.get_mut(..len) else {
            return serializer.collect_str(self);
        };
        slot[..prefix.len()].copy_from_slice(prefix);
        slot[prefix.len()] = b':';
        slot[prefix.len() + 1..].copy_from_slice(id);
        serializer.serialize_str(std::str::from_utf8(slot).map_err(serde::ser::Error::custom)?)
    }
}

/// CIS Kubernetes Benchmark v1.12: sections 1-4 (the control plane's and nodes' settings and
/// files, judged from static pods, kubelet configurations and `palisade node`) and 5
/// (policies).
const CIS_K8S_1_12: &[(&str, &str)] = &[
    (
        "1.1.1",
        "Ensure that the API server pod specification file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.2",
        "Ensure that the API server pod specification file ownership is set to root:root",
    ),
    (
        "1.1.3",
        "Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.4",
        "Ensure that the controller manager pod specification file ownership is set to root:root",
    ),
    (
        "1.1.5",
        "Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.6",
        "Ensure that the scheduler pod specification file ownership is set to root:root",
    ),
    (
        "1.1.7",
        "Ensure that the etcd pod specification file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.8",
        "Ensure that the etcd pod specification file ownership is set to root:root",
    ),
    (
        "1.1.9",
        "Ensure that the Container Network Interface file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.10",
        "Ensure that the Container Network Interface file ownership is set to root:root",
    ),
    (
        "1.1.11",
        "Ensure that the etcd data directory permissions are set to 700 or more restrictive",
    ),
    (
        "1.1.12",
        "Ensure that the etcd data directory ownership is set to etcd:etcd",
    ),
    (
        "1.1.13",
        "Ensure that the default administrative credential file permissions are set to 600",
    ),
    (
        "1.1.14",
        "Ensure that the default administrative credential file ownership is set to root:root",
    ),
    (
        "1.1.15",
        "Ensure that the scheduler.conf file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.16",
        "Ensure that the scheduler.conf file ownership is set to root:root",
    ),
    (
        "1.1.17",
        "Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive",
    ),
    (
        "1.1.18",
        "Ensure that the controller-manager.conf file ownership is set to root:root",
    ),
    (
        "1.1.19",
        "Ensure that the Kubernetes PKI directory and file ownership is set to root:root",
    ),
    (
        "1.1.20",
        "Ensure that the Kubernetes PKI certificate file permissions are set to 644 or more restrictive",
    ),
    (
        "1.1.21",
        "Ensure that the Kubernetes PKI key file permissions are set to 600",
    ),
    (
        "1.2.1",
        "Ensure that the --anonymous-auth argument is set to false",
    ),
    (
        "1.2.2",
        "Ensure that the --token-auth-file parameter is not set",
    ),
    (
        "1.2.3",
        "Ensure that the DenyServiceExternalIPs admission plugin is set",
    ),
    (
        "1.2.4",
        "Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate",
    ),
    (
        "1.2.5",
        "Ensure that the --kubelet-certificate-authority argument is set as appropriate",
    ),
    (
        "1.2.6",
        "Ensure that the --authorization-mode argument is not set to AlwaysAllow",
    ),
    (
        "1.2.7",
        "Ensure that the --authorization-mode argument includes Node",
    ),
    (
        "1.2.8",
        "Ensure that the --authorization-mode argument includes RBAC",
    ),
    (
        "1.2.9",
        "Ensure that the admission control plugin EventRateLimit is set",
    ),
    (
        "1.2.10",
        "Ensure that the admission control plugin AlwaysAdmit is not set",
    ),
    (
        "1.2.11",
        "Ensure that the admission control plugin AlwaysPullImages is set",
    ),
    (
        "1.2.12",
        "Ensure that the admission control plugin ServiceAccount is set",
    ),
    (
        "1.2.13",
        "Ensure that the admission control plugin NamespaceLifecycle is set",
    ),
    (
        "1.2.14",
        "Ensure that the admission control plugin NodeRestriction is set",
    ),
    (
        "1.2.15",
        "Ensure that the --profiling argument is set to false",
    ),
    ("1.2.16", "Ensure that the --audit-log-path argument is set"),
    (
        "1.2.17",
        "Ensure that the --audit-log-maxage argument is set to 30 or as appropriate",
    ),
    (
        "1.2.18",
        "Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate",
    ),
    (
        "1.2.19",
        "Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate",
    ),
    (
        "1.2.20",
        "Ensure that the --request-timeout argument is set as appropriate",
    ),
    (
        "1.2.21",
        "Ensure that the --service-account-lookup argument is set to true",
    ),
    (
        "1.2.22",
        "Ensure that the --service-account-key-file argument is set as appropriate",
    ),
    (
        "1.2.23",
        "Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate",
    ),
    (
        "1.2.24",
        "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate",
    ),
    (
        "1.2.25",
        "Ensure that the --client-ca-file argument is set as appropriate",
    ),
    (
        "1.2.26",
        "Ensure that the --etcd-cafile argument is set as appropriate",
    ),
    (
        "1.2.27",
        "Ensure that the --encryption-provider-config argument is set as appropriate",
    ),
    (
        "1.2.28",
        "Ensure that encryption providers are appropriately configured",
    ),
    (
        "1.2.29",
        "Ensure that the API Server only makes use of Strong Cryptographic Ciphers",
    ),
    (
        "1.2.30",
        "Ensure that the --service-account-extend-token-expiration parameter is set to false",
    ),
    (
        "1.3.1",
        "Ensure that the --terminated-pod-gc-threshold argument is set as appropriate",
    ),
    (
        "1.3.2",
        "Ensure that the --profiling argument is set to false",
    ),
    (
        "1.3.3",
        "Ensure that the --use-service-account-credentials argument is set to true",
    ),
    (
        "1.3.4",
        "Ensure that the --service-account-private-key-file argument is set as appropriate",
    ),
    (
        "1.3.5",
        "Ensure that the --root-ca-file argument is set as appropriate",
    ),
    (
        "1.3.6",
        "Ensure that the RotateKubeletServerCertificate argument is set to true",
    ),
    (
        "1.3.7",
        "Ensure that the --bind-address argument is set to 127.0.0.1",
    ),
    (
        "1.4.1",
        "Ensure that the --profiling argument is set to false",
    ),
    (
        "1.4.2",
        "Ensure that the --bind-address argument is set to 127.0.0.1",
    ),
    (
        "2.1",
        "Ensure that the --cert-file and --key-file arguments are set as appropriate",
    ),
    (
        "2.2",
        "Ensure that the --client-cert-auth argument is set to true",
    ),
    (
        "2.3",
        "Ensure that the --auto-tls argument is not set to true",
    ),
    (
        "2.4",
        "Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate",
    ),
    (
        "2.5",
        "Ensure that the --peer-client-cert-auth argument is set to true",
    ),
    (
        "2.6",
        "Ensure that the --peer-auto-tls argument is not set to true",
    ),
    (
        "2.7",
        "Ensure that a unique Certificate Authority is used for etcd",
    ),
    (
        "3.2.2",
        "Ensure that the audit policy covers key security concerns",
    ),
    (
        "4.1.1",
        "Ensure that the kubelet service file permissions are set to 600 or more restrictive",
    ),
    (
        "4.1.2",
        "Ensure that the kubelet service file ownership is set to root:root",
    ),
    (
        "4.1.3",
        "If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive",
    ),
    (
        "4.1.4",
        "If proxy kubeconfig file exists ensure ownership is set to root:root",
    ),
    (
        "4.1.5",
        "Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive",
    ),
    (
        "4.1.6",
        "Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root",
    ),
    (
        "4.1.7",
        "Ensure that the certificate authorities file permissions are set to 644 or more restrictive",
    ),
    (
        "4.1.8",
        "Ensure that the client certificate authorities file ownership is set to root:root",
    ),
    (
        "4.1.9",
        "If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive",
    ),
    (
        "4.1.10",
        "If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root",
    ),
    (
        "4.2.1",
        "Ensure that the --anonymous-auth argument is set to false",
    ),
    (
        "4.2.2",
        "Ensure that the --authorization-mode argument is not set to AlwaysAllow",
    ),
    (
        "4.2.3",
        "Ensure that the --client-ca-file argument is set as appropriate",
    ),
    (
        "4.2.4",
        "Verify that if defined, the --read-only-port argument is set to 0",
    ),
    (
        "4.2.5",
        "Ensure that the --streaming-connection-idle-timeout argument is not set to 0",
    ),
    (
        "4.2.6",
        "Ensure that the --make-iptables-util-chains argument is set to true",
    ),
    (
        "4.2.7",
        "Ensure that the --hostname-override argument is not set",
    ),
    (
        "4.2.8",
        "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture",
    ),
    (
        "4.2.9",
        "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate",
    ),
    (
        "4.2.10",
        "Ensure that the --rotate-certificates argument is not set to false",
    ),
    (
        "4.2.11",
        "Verify that the RotateKubeletServerCertificate argument is set to true",
    ),
    (
        "4.2.12",
        "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers",
    ),
    ("4.2.13", "Ensure that a limit is set on pod PIDs"),
    (
        "4.2.14",
        "Ensure that the --seccomp-default parameter is set to true",
    ),
    (
        "4.3.1",
        "Ensure that the kube-proxy metrics service is bound to localhost",
    ),
    (
        "5.1.1",
        "Ensure that the cluster-admin role is only used where required",
    ),
    ("5.1.2", "Minimize access to secrets"),
    ("5.1.3", "Minimize wildcard use in Roles and ClusterRoles"),
    ("5.1.4", "Minimize access to create pods"),
    (
        "5.1.5",
        "Ensure that default service accounts are not actively used",
    ),
    (
        "5.1.6",
        "Ensure that Service Account Tokens are only mounted where necessary",
    ),
    ("5.1.7", "Avoid use of system:masters group"),
    (
        "5.1.8",
        "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster",
    ),
    ("5.1.9", "Minimize access to create persistent volumes"),
    (
        "5.1.10",
        "Minimize access to the proxy sub-resource of nodes",
    ),
    (
        "5.1.11",
        "Minimize access to the approval sub-resource of certificatesigningrequests objects",
    ),
    ("5.1.12", "Minimize access to webhook configuration objects"),
    (
        "5.1.13",
        "Minimize access to the service account token creation",
    ),
    (
        "5.2.1",
        "Ensure that the cluster has at least one active policy control mechanism in place",
    ),
    ("5.2.2", "Minimize the admission of privileged containers"),
    (
        "5.2.3",
        "Minimize the admission of containers wishing to share the host process ID namespace",
    ),
    (
        "5.2.4",
        "Minimize the admission of containers wishing to share the host IPC namespace",
    ),
    (
        "5.2.5",
        "Minimize the admission of containers wishing to share the host network namespace",
    ),
    (
        "5.2.6",
        "Minimize the admission of containers with allowPrivilegeEscalation",
    ),
    ("5.2.7", "Minimize the admission of root containers"),
    (
        "5.2.8",
        "Minimize the admission of containers with the NET_RAW capability",
    ),
    (
        "5.2.9",
        "Minimize the admission of containers with capabilities assigned",
    ),
    (
        "5.2.10",
        "Minimize the admission of Windows HostProcess containers",
    ),
    ("5.2.11", "Minimize the admission of HostPath volumes"),
    (
        "5.2.12",
        "Minimize the admission of containers which use HostPorts",
    ),
    (
        "5.3.1",
        "Ensure that the CNI in use supports NetworkPolicies",
    ),
    (
        "5.3.2",
        "Ensure that all Namespaces have NetworkPolicies defined",
    ),
    (
        "5.4.1",
        "Prefer using Secrets as files over Secrets as environment variables",
    ),
    ("5.4.2", "Consider external secret storage"),
    (
        "5.5.1",
        "Configure Image Provenance using ImagePolicyWebhook admission controller",
    ),
    (
        "5.6.1",
        "Create administrative boundaries between resources using namespaces",
    ),
    (
        "5.6.2",
        "Ensure that the seccomp profile is set to docker/default in your Pod definitions",
    ),
    ("5.6.3", "Apply SecurityContext to your Pods and Containers"),
    ("5.6.4", "The default namespace should not be used"),
];

/// CIS items that no rule of a scan decides: files on the nodes (decided by `palisade node`'s
/// NODE004 and NODE005 when it runs), and items that depend on cluster components or
/// organisational choices that manifests do not show.
const CIS_MANUAL: &[(&str, &str)] = &[
    (
        "1.1.1",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.2",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.3",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.4",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.5",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.6",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.7",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.8",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.9",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.10",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.11",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.12",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.13",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.14",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.15",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.16",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.17",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.18",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.19",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.20",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.1.21",
        "files on the control-plane node, not in the cluster's objects: `palisade node --root /` on that node judges them",
    ),
    (
        "1.2.3",
        "a choice for clusters that use no Service external IPs; NET002 reports Services that set them",
    ),
    (
        "1.2.9",
        "needs an EventRateLimit configuration sized for the cluster; set it if events flood the API server",
    ),
    (
        "1.2.11",
        "AlwaysPullImages costs pulls on every start and needs registries that are always reachable; judge it for multi-tenant clusters",
    ),
    (
        "1.2.20",
        "the right timeout depends on the cluster's long-running requests",
    ),
    (
        "1.2.29",
        "the suites allowed depend on the clients; check --tls-cipher-suites against the benchmark's list",
    ),
    (
        "1.3.1",
        "the right threshold depends on how many pods the cluster runs",
    ),
    (
        "2.7",
        "whether etcd's CA is shared with the cluster's is seen only in the certificates",
    ),
    (
        "4.1.1",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.2",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.3",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.4",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.5",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.6",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.7",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.8",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.9",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.1.10",
        "files on each node, not in the cluster's objects: `palisade node --root /` on each node judges them",
    ),
    (
        "4.2.7",
        "a kubelet command-line flag, not in its configuration file",
    ),
    (
        "4.2.8",
        "the right rate depends on the cluster's event volume",
    ),
    (
        "4.2.9",
        "kubelets usually get serving certificates by TLS bootstrap (serverTLSBootstrap) rather than files",
    ),
    (
        "4.2.12",
        "the suites allowed depend on the clients; check tlsCipherSuites against the benchmark's list",
    ),
    (
        "4.2.13",
        "the right limit depends on the workloads; set podPidsLimit",
    ),
    (
        "4.2.14",
        "seccompDefault changes every workload's seccomp profile; POD014 checks pods that set none",
    ),
    (
        "5.1.7",
        "membership of system:masters comes from client certificates, not from objects; RBAC001 reports bindings that grant cluster-admin",
    ),
    (
        "5.3.1",
        "depends on the CNI plugin installed on the nodes; check its documentation",
    ),
    (
        "5.4.2",
        "an architectural decision; SEC001 recognises ExternalSecret, SealedSecret and Vault producers",
    ),
    (
        "5.5.1",
        "configured in the API server's admission configuration; IMG002 and IMG004 check image references",
    ),
];

/// NSA/CISA chapters about the control plane, nodes and organisation.
const NSA_MANUAL: &[(&str, &str)] = &[
    (
        "network/worker-node-segmentation",
        "network design outside the cluster objects",
    ),
    (
        "network/cloud-infrastructure",
        "cloud provider configuration (metadata endpoint, node IAM)",
    ),
    (
        "authn-authz/authentication",
        "identity provider and API server authentication flags",
    ),
    (
        "audit/logging",
        "API server audit policy and log collection",
    ),
];

/// NSA/CISA Kubernetes Hardening Guide v1.2. The guide does not number its sections; the ids
/// are kebab-cased section titles, grouped by chapter.
const NSA_CISA_1_2: &[(&str, &str)] = &[
    (
        "pod-security/non-root-containers",
        "Non-root containers and rootless container engines",
    ),
    (
        "pod-security/immutable-filesystems",
        "Immutable container file systems",
    ),
    (
        "pod-security/secure-images",
        "Building secure container images",
    ),
    (
        "pod-security/pod-security-enforcement",
        "Pod security enforcement",
    ),
    (
        "pod-security/service-account-tokens",
        "Protecting Pod service account tokens",
    ),
    (
        "pod-security/hardening-container-environments",
        "Hardening container environments",
    ),
    ("network/namespaces", "Namespaces"),
    ("network/network-policies", "Network policies"),
    ("network/resource-policies", "Resource policies"),
    ("network/control-plane-hardening", "Control plane hardening"),
    (
        "network/worker-node-segmentation",
        "Worker node segmentation",
    ),
    ("network/encryption", "Encryption"),
    ("network/secrets", "Secrets"),
    (
        "network/cloud-infrastructure",
        "Protecting sensitive cloud infrastructure",
    ),
    ("authn-authz/authentication", "Authentication"),
    ("authn-authz/rbac", "Role-based access control"),
    ("audit/logging", "Audit logging and threat detection"),
    (
        "upgrading/application-security",
        "Upgrading and application security practices",
    ),
];

/// Pod Security Standards controls, named as the Kubernetes documentation names them.
const PSS: &[(&str, &str)] = &[
    ("baseline/host-process", "HostProcess"),
    ("baseline/host-namespaces", "Host Namespaces"),
    ("baseline/privileged-containers", "Privileged Containers"),
    ("baseline/capabilities", "Capabilities"),
    ("baseline/hostpath-volumes", "HostPath Volumes"),
    ("baseline/host-ports", "Host Ports"),
    ("baseline/apparmor", "AppArmor"),
    ("baseline/selinux", "SELinux"),
    ("baseline/proc-mount-type", "/proc Mount Type"),
    ("baseline/seccomp", "Seccomp"),
    ("baseline/sysctls", "Sysctls"),
    ("baseline/host-probes", "Host Probes / Lifecycle Hooks"),
    ("restricted/volume-types", "Volume Types"),
    ("restricted/privilege-escalation", "Privilege Escalation"),
    ("restricted/running-as-non-root", "Running as Non-root"),
    (
        "restricted/running-as-non-root-user",
        "Running as Non-root user",
    ),
    ("restricted/seccomp", "Seccomp"),
    ("restricted/capabilities", "Capabilities"),
    ("restricted/proc-mount-type", "/proc Mount Type"),
];

/// MITRE ATT&CK techniques that apply to Kubernetes and containers.
const MITRE_ATTACK: &[(&str, &str)] = &[
    ("T1609", "Container Administration Command"),
    ("T1610", "Deploy Container"),
    ("T1611", "Escape to Host"),
    ("T1612", "Build Image on Host"),
    ("T1613", "Container and Resource Discovery"),
    ("T1078", "Valid Accounts"),
    ("T1078.001", "Valid Accounts: Default Accounts"),
    ("T1059", "Command and Scripting Interpreter"),
    ("T1098", "Account Manipulation"),
    ("T1133", "External Remote Services"),
    ("T1190", "Exploit Public-Facing Application"),
    ("T1195", "Supply Chain Compromise"),
    ("T1204.003", "User Execution: Malicious Image"),
    ("T1525", "Implant Internal Image"),
    ("T1496", "Resource Hijacking"),
    ("T1499", "Endpoint Denial of Service"),
    ("T1552", "Unsecured Credentials"),
    ("T1552.001", "Unsecured Credentials: Credentials In Files"),
    ("T1552.004", "Unsecured Credentials: Private Keys"),
    ("T1552.007", "Unsecured Credentials: Container API"),
    ("T1528", "Steal Application Access Token"),
    ("T1046", "Network Service Discovery"),
    ("T1068", "Exploitation for Privilege Escalation"),
    ("T1543", "Create or Modify System Process"),
    (
        "T1053.007",
        "Scheduled Task/Job: Container Orchestration Job",
    ),
    ("T1562.001", "Impair Defenses: Disable or Modify Tools"),
    ("T1562.008", "Impair Defenses: Disable or Modify Cloud Logs"),
    ("T1070", "Indicator Removal"),
    ("T1485", "Data Destruction"),
    ("T1490", "Inhibit System Recovery"),
    ("T1530", "Data from Cloud Storage"),
    ("T1557", "Adversary-in-the-Middle"),
    ("T1048", "Exfiltration Over Alternative Protocol"),
    ("T1210", "Exploitation of Remote Services"),
    ("T1078.004", "Valid Accounts: Cloud Accounts"),
    ("T1087", "Account Discovery"),
    ("T1069", "Permission Groups Discovery"),
    (
        "T1098.006",
        "Account Manipulation: Additional Container Cluster Roles",
    ),
    ("T1110", "Brute Force"),
    ("T1134", "Access Token Manipulation"),
    ("T1136", "Create Account"),
    ("T1572", "Protocol Tunneling"),
    ("T1649", "Steal or Forge Authentication Certificates"),
    ("T1036", "Masquerading"),
];

/// A selection of controls that `--framework` names: a whole framework, or one Pod Security
/// level (Restricted includes Baseline, as in the standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Cis,
    Nsa,
    Pss,
    PssBaseline,
    PssRestricted,
    Mitre,
}

impl Profile {
    /// Every name `--framework` accepts, canonical name first for each profile.
    pub const NAMES: &[(&'static str, Profile)] = &[
        ("cis-k8s-1.12", Profile::Cis),
        ("cis", Profile::Cis),
        ("nsa-cisa-1.2", Profile::Nsa),
        ("nsa", Profile::Nsa),
        ("pss", Profile::Pss),
        ("pss-baseline", Profile::PssBaseline),
        ("pss-restricted", Profile::PssRestricted),
        ("mitre-attack", Profile::Mitre),
        ("mitre", Profile::Mitre),
    ];

    pub fn parse(text: &str) -> Option<Profile> {
        Profile::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(text))
            .map(|(_, p)| *p)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        Profile::NAMES
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    pub fn framework(self) -> Framework {
        match self {
            Profile::Cis => Framework::CisK8s112,
            Profile::Nsa => Framework::NsaCisa12,
            Profile::Pss | Profile::PssBaseline | Profile::PssRestricted => Framework::Pss,
            Profile::Mitre => Framework::MitreAttack,
        }
    }

    /// Whether the control belongs to this selection.
    pub fn includes(self, control: &Control) -> bool {
        control.framework == self.framework()
            && match self {
                Profile::PssBaseline => control.id.starts_with("baseline/"),
                _ => true,
            }
    }

    /// The catalogue's controls in this selection, in catalogue order.
    pub fn controls(self) -> Vec<Control> {
        self.framework()
            .catalogue()
            .iter()
            .map(|(id, _)| Control::new(self.framework(), id))
            .filter(|c| self.includes(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_written_as_displayed() {
        let long = Control {
            framework: Framework::MitreAttack,
            id: Cow::Owned("x".repeat(100)),
        };
        let controls = [Profile::Cis, Profile::Nsa, Profile::Pss, Profile::Mitre]
            .into_iter()
            .flat_map(Profile::controls)
            .chain([long]);
        for control in controls {
            assert_eq!(
                serde_json::to_string(&control).unwrap(),
                format!("\"{control}\"")
            );
        }
    }

    #[test]
    fn profiles_select_controls() {
        assert_eq!(Profile::parse("CIS"), Some(Profile::Cis));
        assert_eq!(Profile::parse("pss-baseline").unwrap().controls().len(), 12);
        assert_eq!(
            Profile::parse("pss-restricted").unwrap().controls().len(),
            19
        );
        assert!(Profile::parse("iso27001").is_none());
        let manual = Control::new(Framework::CisK8s112, "5.3.1");
        assert!(manual.manual_reason().is_some());
        assert!(
            Control::new(Framework::CisK8s112, "5.2.2")
                .manual_reason()
                .is_none()
        );
    }

    #[test]
    fn round_trips_through_text() {
        let control = Control::parse("cis-k8s-1.12:5.2.2").unwrap();
        assert_eq!(control, Control::new(Framework::CisK8s112, "5.2.2"));
        assert_eq!(control.to_string(), "cis-k8s-1.12:5.2.2");
        assert_eq!(
            control.title(),
            Some("Minimize the admission of privileged containers")
        );
    }

    #[test]
    fn unknown_controls_have_no_title() {
        assert!(
            Control::parse("cis-k8s-1.12:9.9.9")
                .unwrap()
                .title()
                .is_none()
        );
        assert!(Control::parse("iso:1").is_none());
        assert!(Control::parse("pss:").is_none());
    }

    #[test]
    fn manual_controls_exist_in_the_catalogue() {
        for (framework, table) in [
            (Framework::CisK8s112, CIS_MANUAL),
            (Framework::NsaCisa12, NSA_MANUAL),
        ] {
            for (id, _) in table {
                assert!(Control::new(framework, id).title().is_some(), "{id}");
            }
        }
    }

    #[test]
    fn catalogue_ids_are_unique_per_framework() {
        for framework in Framework::ALL {
            let mut ids: Vec<_> = framework.catalogue().iter().map(|(id, _)| *id).collect();
            let before = ids.len();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(before, ids.len(), "{framework:?} has a duplicate id");
        }
    }
}
