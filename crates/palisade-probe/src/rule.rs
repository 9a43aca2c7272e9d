//! The rules whose findings a probe makes: one per component probed. Like VULN001 they are not
//! in the built-in registry (no object fails them); `palisade probe` adds them to its report's
//! rules, so every output format shows their documentation.

use palisade_core::control::{Control, Framework};
use palisade_core::{RuleMeta, Severity};
use std::borrow::Cow;

/// PRB001's metadata.
pub static KUBELET_ANSWERS_ANONYMOUSLY: RuleMeta = RuleMeta {
    id: Cow::Borrowed("PRB001"),
    slug: Cow::Borrowed("kubelet-answers-anonymously"),
    title: Cow::Borrowed("Kubelet answers a request that carries no credential"),
    severity: Severity::High,
    controls: Cow::Borrowed(&[
        Control::new(Framework::CisK8s112, "4.2.1"),
        Control::new(Framework::CisK8s112, "4.2.2"),
        Control::new(Framework::CisK8s112, "4.2.4"),
        Control::new(Framework::MitreAttack, "T1609"),
    ]),
    remediation: Cow::Borrowed(
        "Set the kubelet's `authentication.anonymous.enabled: false`, `authorization.mode: Webhook` and `readOnlyPort: 0`, then restart it.",
    ),
    docs: Cow::Borrowed(
        "## What it checks
A kubelet's API (port 10250) asked for its pods over HTTPS with no credential: `200` means
anonymous requests are served and authorized (`AlwaysAllow`: anyone who reaches the port runs
commands in every container of the node), `403` means they are authenticated as
`system:anonymous` and only the authorizer stops them (CIS 4.2.1 asks for them to be refused),
`401` is the answer wanted. The read-only port (10255) asked the same over plain HTTP: any
answer but a refused connection means the pods and their settings are served to anyone (4.2.4).

## Severity
Critical for a kubelet that serves anonymous requests; high for an open read-only port; medium
when anonymous requests are only authenticated.

## Why it matters
Open kubelets are how several cryptomining campaigns ran their containers (MITRE ATT&CK T1609).
",
    ),
};

/// PRB002's metadata.
pub static API_SERVER_ANSWERS_ANONYMOUSLY: RuleMeta = RuleMeta {
    id: Cow::Borrowed("PRB002"),
    slug: Cow::Borrowed("api-server-answers-anonymously"),
    title: Cow::Borrowed("API server answers a request that carries no credential"),
    severity: Severity::Medium,
    controls: Cow::Borrowed(&[
        Control::new(Framework::CisK8s112, "1.2.1"),
        Control::new(Framework::MitreAttack, "T1613"),
    ]),
    remediation: Cow::Borrowed(
        "Start the API server with `--anonymous-auth=false` (or limit anonymous requests to the health endpoints with an AuthenticationConfiguration), and remove every binding to system:anonymous or system:unauthenticated beyond `system:public-info-viewer`.",
    ),
    docs: Cow::Borrowed(
        "## What it checks
The API server (port 6443) asked over HTTPS, with no credential, to list namespaces: `200` means
anonymous requests are authorized to read the cluster (a binding grants `system:anonymous` or
`system:unauthenticated`), `403` means they are authenticated as `system:anonymous` and only RBAC
stops them (CIS 1.2.1 asks for them to be refused), `401` is the answer wanted.

## Severity
Critical when anonymous requests may list namespaces; medium when they are only authenticated.

## Why it matters
An anonymous request that RBAC alone refuses is one mistaken binding away from an open cluster;
clusters exposed with such bindings are found by internet-wide scans within hours (MITRE ATT&CK
T1613, container and resource discovery).
",
    ),
};

/// PRB003's metadata.
pub static ETCD_ANSWERS_WITHOUT_CLIENT_CERTIFICATE: RuleMeta = RuleMeta {
    id: Cow::Borrowed("PRB003"),
    slug: Cow::Borrowed("etcd-answers-without-client-certificate"),
    title: Cow::Borrowed("etcd answers a client that shows no certificate"),
    severity: Severity::Critical,
    controls: Cow::Borrowed(&[
        Control::new(Framework::CisK8s112, "2.1"),
        Control::new(Framework::CisK8s112, "2.2"),
        Control::new(Framework::MitreAttack, "T1552"),
    ]),
    remediation: Cow::Borrowed(
        "Serve etcd's clients over TLS (`--cert-file`, `--key-file`) and require their certificates (`--client-cert-auth=true`, `--trusted-ca-file`).",
    ),
    docs: Cow::Borrowed(
        "## What it checks
etcd's client port (2379) asked for its version over HTTPS without a client certificate, and over
plain HTTP when it does not speak TLS: any answer means whoever reaches the port reads and
writes every object of the cluster, Secrets included, without the API server (CIS 2.1, 2.2). A
handshake that fails for want of a certificate is the answer wanted.

## Severity
Critical.

## Why it matters
etcd holds every Secret in the cluster, unencrypted unless encryption at rest is configured
(MITRE ATT&CK T1552).
",
    ),
};

/// Every rule of a probe.
pub static RULES: [&RuleMeta; 3] = [
    &KUBELET_ANSWERS_ANONYMOUSLY,
    &API_SERVER_ANSWERS_ANONYMOUSLY,
    &ETCD_ANSWERS_WITHOUT_CLIENT_CERTIFICATE,
];
