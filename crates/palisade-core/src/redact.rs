//! The redaction boundary: what of an object's values may be printed, and the one filter every
//! report passes through before any writer sees it.
//!
//! Two layers, so that neither alone has to be perfect:
//!
//! 1. **An allow-list of printable fields.** A value is shown only where the schema says it is
//!    harmless: booleans, numbers, and strings in fields such as `image`, `imagePullPolicy`,
//!    `type`, capability names, ports, resource quantities, names and label values. Every
//!    other string (environment values, `args`, `command`, annotations, ConfigMap and Secret
//!    data, anything in a custom resource's spec) is described by [`hidden`]: a stable short
//!    tag, never the value and never its exact length. `palisade drift` renders values this way.
//! 2. **A [`Redactor`] built from the input itself.** Every string in a non-printable place of
//!    the scanned objects (and the credential-looking tokens inside it, and the decoded values
//!    of Secrets) is a needle; every message, diagnostic and reason of a [`Report`] is filtered
//!    through it before it is written, in every format. A rule or command that forgets the
//!    first layer still cannot print a value it read.
//!
//! A deny-list of credential-looking names was the design this replaced: it printed every
//! credential whose name it did not know (`DB_PASS`, `PGPASS`, a variable called `X`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde_json::Value;

use crate::Report;
use crate::fingerprint::fnv1a;
use crate::tree::Tree as _;

/// What a redacted value is replaced with in text. Safe in JSON strings, XML text and tables.
pub const REDACTED: &str = "[REDACTED]";

/// Needles are at least this long: shorter values are words (`strict`, `kernel`) that a
/// message says in its own right, and redacting them garbles reports.
const MIN_VALUE_LEN: usize = 8;
/// A needle of only letters (and `-`, `_`, `.`) must be this long: shorter ones are words and
/// identifiers (`apiVersion`, `vllm-tpu`); credentials carry digits or symbols, or are long.
const MIN_PLAIN_LEN: usize = 16;
/// Longest needle. A longer value (a whole configuration file, a certificate bundle) is not
/// matched whole; its tokens are. No message quotes kilobytes of a value, and a multi-megabyte
/// needle would make the matcher itself the cost of a scan.
const MAX_NEEDLE_LEN: usize = 1024;

/// A stable short tag for a hidden value (`#1a2b3c4d`): equal values get equal tags, so two
/// reports can be compared, but the tag says nothing of the value's length or content.
pub fn tag(value: &str) -> String {
    let hash = fnv1a(&["palisade-redact-v1", value]);
    format!("#{:08x}", (hash >> 32) as u32 ^ hash as u32)
}

/// How a value that may not be printed is described: `<hidden #1a2b3c4d>`.
pub fn hidden(value: &str) -> String {
    format!("<hidden {}>", tag(value))
}

/// Fields whose string values are harmless to print wherever they occur in a built-in kind.
const PRINTABLE_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "name",
    "namespace",
    "generateName",
    "image",
    "imagePullPolicy",
    "restartPolicy",
    "dnsPolicy",
    "type",
    "protocol",
    "procMount",
    "policyTypes",
    "operator",
    "effect",
    "apiGroup",
    "apiGroups",
    "resources",
    "verbs",
    "resourceNames",
    "add",
    "drop",
    "containerPort",
    "port",
    "targetPort",
    "nodePort",
    "hostPort",
    "hostIP",
    "replicas",
    "serviceAccountName",
    "serviceAccount",
    "secretName",
    "claimName",
    "storageClassName",
    "accessModes",
    "priorityClassName",
    "schedulerName",
    "runtimeClassName",
    "nodeName",
    "hostname",
    "subdomain",
    "mountPath",
    "subPath",
    "mountPropagation",
    "externalIPs",
    "loadBalancerIP",
    "loadBalancerClass",
    "clusterIP",
    "clusterIPs",
    "externalTrafficPolicy",
    "internalTrafficPolicy",
    "sessionAffinity",
    "ipFamilyPolicy",
    "ipFamilies",
    "host",
    "hosts",
    "pathType",
    "ingressClassName",
    "localhostProfile",
    "level",
    "role",
    "key",
    "cpu",
    "memory",
    "storage",
    "ephemeral-storage",
    "topologyKey",
    "whenUnsatisfiable",
    "podManagementPolicy",
    "concurrencyPolicy",
    "schedule",
    "cidr",
    "except",
    "fsGroupChangePolicy",
    "seccompProfile",
    "appArmorProfile",
];

/// Places whose strings are data whatever their field is called: a ConfigMap key named
/// `name` is still data.
const DATA_SEGMENTS: &[&str] = &[
    "data",
    "stringData",
    "binaryData",
    "annotations",
    "args",
    "command",
    "env",
    "httpHeaders",
];

/// Control-plane and kubelet flags whose values are modes, switches, numbers, durations,
/// addresses or lists of names: never a credential, and what a finding about the flag quotes
/// (`--authorization-mode=AlwaysAllow`).
const PRINTABLE_FLAGS: &[&str] = &[
    "allow-privileged",
    "anonymous-auth",
    "audit-log-format",
    "audit-log-maxage",
    "audit-log-maxbackup",
    "audit-log-maxsize",
    "audit-log-mode",
    "authentication-token-webhook",
    "authorization-mode",
    "auto-tls",
    "bind-address",
    "client-cert-auth",
    "disable-admission-plugins",
    "enable-admission-plugins",
    "enable-bootstrap-token-auth",
    "event-qps",
    "feature-gates",
    "insecure-bind-address",
    "insecure-port",
    "kubelet-https",
    "make-iptables-util-chains",
    "peer-auto-tls",
    "peer-client-cert-auth",
    "profiling",
    "protect-kernel-defaults",
    "read-only-port",
    "request-timeout",
    "rotate-certificates",
    "secure-port",
    "service-account-extend-token-expiration",
    "service-account-lookup",
    "streaming-connection-idle-timeout",
    "terminated-pod-gc-threshold",
    "tls-cipher-suites",
    "tls-min-version",
    "use-service-account-credentials",
];

/// Endings of flags whose value names a file or directory on the node (`--tls-cert-file`,
/// `--etcd-cafile`, `--kubelet-client-key`): a path, printable when it is one.
const PATH_FLAG_ENDINGS: &[&str] = &[
    "file",
    "-dir",
    "-path",
    "-config",
    "-certificate",
    "-key",
    "-authority",
    "kubeconfig",
];

/// The flag and value of a command-line word `--flag=value`.
fn flag_word(word: &str) -> Option<(&str, &str)> {
    word.trim().strip_prefix("--")?.split_once('=')
}

/// Whether a command-line word `--flag=value` may be printed: a flag of [`PRINTABLE_FLAGS`]
/// with a value of plain characters, or a flag of [`PATH_FLAG_ENDINGS`] whose value is an
/// absolute path. Any other word of a command line is data.
fn is_printable_flag(word: &str) -> bool {
    let Some((flag, value)) = flag_word(word) else {
        return false;
    };
    let plain = |extra: &str| {
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    if PRINTABLE_FLAGS.contains(&flag) {
        return plain(",._:=-+");
    }
    PATH_FLAG_ENDINGS.iter().any(|end| flag.ends_with(end))
        && value.starts_with('/')
        && !value.contains("..")
        && plain("/._-")
}

/// Kinds that define APIs rather than hold data.
const SCHEMA_KINDS: &[&str] = &["CustomResourceDefinition", "APIService"];

/// Built-in API groups: the fields of other groups' kinds (custom resources) are never printed
/// beyond their metadata.
fn is_builtin_api_version(api_version: &str) -> bool {
    crate::object::is_builtin_group(crate::object::api_group(api_version))
}

/// Whether `value`, found at `segments` in an object of `api_version` and `kind`, may be
/// printed. Booleans, numbers and null always may; a string only in a field the schema says is
/// harmless (see the module docs). The pod template of a custom workload (an Argo Rollout, a
/// Knative Service) has the built-in pod's schema, so its image prints as a Deployment's does.
pub fn is_printable(api_version: &str, kind: &str, segments: &[&str], value: &Value) -> bool {
    let Value::String(_) = value else {
        return !matches!(value, Value::Array(_) | Value::Object(_));
    };
    match segments {
        ["apiVersion"] | ["kind"] => return true,
        ["metadata", "name" | "namespace" | "generateName"] => return true,
        ["metadata", "labels", _] => return true,
        // Who wrote what, and when: server metadata, never data.
        ["metadata", "managedFields", ..] => return true,
        [
            "metadata",
            "creationTimestamp" | "deletionTimestamp" | "uid" | "resourceVersion" | "selfLink",
        ] => {
            return true;
        }
        _ => {}
    }
    let group = crate::object::api_group(api_version);
    if is_source_range_site(segments) && value.as_str().is_some_and(is_cidr_list) {
        return true;
    }
    if !crate::object::is_builtin_group(group)
        && !crate::pod_template::site(group, kind).is_some_and(|site| site.holds(segments))
        && !crate::pod_template::grouped_site(group, kind).is_some_and(|site| site.holds(segments))
    {
        return false;
    }
    // A control-plane flag whose value is a mode, a number or a path is not data.
    if matches!(segments, [.., "command" | "args", _])
        && value.as_str().is_some_and(is_printable_flag)
    {
        return true;
    }
    // A value of `env[].value`, `args[3]`, `data.password`, `annotations.x`: data. An
    // environment variable's or header's name, and `valueFrom` references, are not.
    if let Some(at) = segments.iter().position(|s| DATA_SEGMENTS.contains(s)) {
        let rest = &segments[at + 1..];
        let named = matches!(segments[at], "env" | "httpHeaders")
            && matches!(rest, [_, "name"] | [_, "valueFrom", ..]);
        if !named {
            return false;
        }
    }
    // Label selectors and resource quantities print their values.
    if segments.iter().any(|s| {
        matches!(
            *s,
            "matchLabels" | "limits" | "requests" | "hard" | "capacity"
        )
    }) {
        return true;
    }
    if segments.len() >= 2 && segments[segments.len() - 2] == "selector" {
        return true;
    }
    // The node or server paths of volume sources (not a probe's `path`, which can carry a
    // token in its query).
    if matches!(
        segments,
        [
            ..,
            "hostPath" | "local" | "nfs" | "glusterfs" | "cephfs",
            "path" | "server"
        ]
    ) {
        return true;
    }
    // The field a string belongs to: the last segment that is not a list index.
    let field = segments
        .iter()
        .rev()
        .find(|s| !s.bytes().all(|b| b.is_ascii_digit()))
        .copied()
        .unwrap_or("");
    PRINTABLE_FIELDS.contains(&field)
}

/// Where a load balancer's firewall is told which addresses it admits, in any kind (a
/// Service, an Ingress, a Gateway, the parameters of a Gateway implementation or of the AWS
/// controller: `palisade_k8s::exposure` and `palisade_k8s::ingress` read them): a list item of
/// `loadBalancerSourceRanges`, `sourceRanges` or `inboundCIDRs`, or the annotations that say
/// them. Addresses, not credentials, and the reason the exposure findings give; printed only
/// when the value is a list of CIDRs ([`is_cidr_list`]), so nothing else written there can be.
fn is_source_range_site(segments: &[&str]) -> bool {
    const ANNOTATIONS: &[&str] = &[
        "service.beta.kubernetes.io/load-balancer-source-ranges",
        "alb.ingress.kubernetes.io/inbound-cidrs",
    ];
    match segments {
        [
            ..,
            "loadBalancerSourceRanges" | "sourceRanges" | "inboundCIDRs",
            index,
        ] => index.bytes().all(|b| b.is_ascii_digit()),
        [.., "annotations" | "serviceAnnotations", key] => ANNOTATIONS.contains(key),
        _ => false,
    }
}

/// Whether `text` is a comma-separated list of CIDRs (or addresses), and nothing else.
fn is_cidr_list(text: &str) -> bool {
    !text.trim().is_empty()
        && text
            .split(',')
            .all(|item| crate::addr::AddrRange::parse_cidr(item.trim()).is_ok())
}

/// The strings of one object that must never be printed (every non-printable string, the
/// tokens inside them, and the decoded values of a Secret's `data`), and the strings it
/// prints anyway (names, images), which are never needles.
#[derive(Debug, Clone, Default)]
pub struct Sensitive {
    needles: HashSet<String>,
    /// Hashes of the strings printed anyway (names, images): a hash, not a copy, since there is
    /// one per field of every object.
    public: HashSet<u64>,
}

fn text_hash(text: &str) -> u64 {
    fnv1a(&[text])
}

impl Sensitive {
    pub fn new() -> Self {
        Sensitive::default()
    }

    /// Collects the strings of one object.
    pub fn add_object(&mut self, value: &Value) {
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        // API definitions hold schemas and public CA bundles, never credentials; CRDs are often
        // megabytes of documentation prose.
        if SCHEMA_KINDS.contains(&kind) && is_builtin_api_version(api_version) {
            return;
        }
        let mut path = Vec::new();
        self.walk(api_version, kind, value, &mut path);
        // Reports name objects `namespace/name`: printable when both parts are.
        let meta = |key: &str| {
            value
                .at(&format!("/metadata/{key}"))
                .and_then(Value::as_str)
        };
        if let (Some(ns), Some(name)) = (meta("namespace"), meta("name")) {
            self.add_public(&format!("{ns}/{name}"));
        }
    }

    /// Marks a printed string, and every fragment of it that a match could cover (from a
    /// value boundary to a token end), as public: `gcr.io/istio-release` inside the printed
    /// image `gcr.io/istio-release/proxyv2:1.29.1` is not a secret, wherever else it occurs.
    fn add_public(&mut self, text: &str) {
        self.public.insert(text_hash(text));
        let bytes = text.as_bytes();
        if bytes.len() <= MIN_VALUE_LEN || bytes.len() > MAX_NEEDLE_LEN {
            return;
        }
        let starts: Vec<usize> = std::iter::once(0)
            .chain((1..bytes.len()).filter(|&i| is_boundary(bytes[i - 1])))
            .take(24)
            .collect();
        let ends: Vec<usize> = (1..bytes.len())
            .filter(|&i| !(bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'-' | b'_')))
            .chain(std::iter::once(bytes.len()))
            .take(24)
            .collect();
        for &start in &starts {
            for &end in &ends {
                if end >= start + MIN_VALUE_LEN
                    && let Some(fragment) = text.get(start..end)
                {
                    self.public.insert(text_hash(fragment));
                }
            }
        }
    }

    /// Adds a value known to be secret (a decoded Secret value, a detected credential).
    pub fn add_secret(&mut self, value: &str) {
        self.add_text(value);
    }

    fn walk<'v>(
        &mut self,
        api_version: &str,
        kind: &str,
        value: &'v Value,
        path: &mut Vec<&'v str>,
    ) {
        match value {
            Value::Object(map) => {
                // The keys of data maps and annotations are names that reports quote
                // (`data key app.conf`), not values.
                let names_keys = path.last().is_some_and(|s| DATA_SEGMENTS.contains(s));
                for (key, child) in map {
                    // Palisade's own suppression annotation is the user's prose, not data.
                    if key == "palisade.dev/ignore" {
                        continue;
                    }
                    if names_keys {
                        self.add_public(key);
                    }
                    path.push(key);
                    self.walk(api_version, kind, child, path);
                    path.pop();
                }
            }
            Value::Array(items) => {
                const INDEX: &str = "0";
                for child in items {
                    path.push(INDEX);
                    self.walk(api_version, kind, child, path);
                    path.pop();
                }
            }
            Value::String(text) => {
                if is_printable(api_version, kind, path, value) {
                    self.add_public(text);
                    return;
                }
                self.add_text(text);
                // A flag's name is not its value: `--service-account-issuer=...` keeps the
                // value a needle, and the name printable in what a finding says of it.
                if matches!(path.as_slice(), [.., "command" | "args", _])
                    && let Some((flag, _)) = flag_word(text)
                {
                    self.add_public(flag);
                }
                if kind == "Secret"
                    && path.first() == Some(&"data")
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim())
                    && let Ok(decoded) = String::from_utf8(bytes)
                {
                    self.add_text(&decoded);
                }
                // `kubectl apply` copies the whole object, Secret data included, into this
                // annotation: its values are needles like the object's own.
                if path.last() == Some(&"kubectl.kubernetes.io/last-applied-configuration")
                    && let Ok(inner) = serde_json::from_str::<Value>(text)
                    && inner.is_object()
                {
                    self.add_object(&inner);
                }
            }
            _ => {}
        }
    }

    fn add_text(&mut self, text: &str) {
        let trimmed = text.trim();
        self.add_needle(trimmed);
        // Tokens: coarse (split on blanks, quotes and list punctuation) and fine (also on
        // `=`, `:`, `@`, `/`, `?`, `&`), so a password inside a URL, a `--flag=value` or a
        // `password = value` line is a needle of its own.
        for coarse in trimmed.split(|c: char| c.is_whitespace() || "\"'`,;()[]{}<>|\\".contains(c))
        {
            self.add_token(coarse);
            if coarse.contains(['=', ':', '@', '/', '?', '&']) {
                for fine in coarse.split(['=', ':', '@', '/', '?', '&']) {
                    self.add_token(fine);
                }
            }
        }
    }

    fn add_token(&mut self, token: &str) {
        // `privileged:` or `(token).` are words with punctuation, not credentials.
        self.add_needle(token.trim_matches(|c: char| !c.is_alphanumeric()));
    }

    /// Keeps `text` as a needle when it looks like a credential rather than a word: long
    /// enough, and with a digit or a symbol, or long (see [`MIN_PLAIN_LEN`]).
    fn add_needle(&mut self, text: &str) {
        if text.len() < MIN_VALUE_LEN || text.len() > MAX_NEEDLE_LEN {
            return;
        }
        let marked = text.bytes().any(|b| {
            b.is_ascii_digit() || !(b.is_ascii_alphabetic() || matches!(b, b'-' | b'_' | b'.'))
        });
        // A long plain token is a credential only if it is not a path, host or dotted name.
        let plain_secret = text.len() >= MIN_PLAIN_LEN && !text.contains(['/', ':', '.']);
        if marked || plain_secret {
            self.needles.insert(text.to_string());
        }
    }

    /// The filter for every report made from these objects.
    pub fn redactor(self) -> Redactor {
        let mut forms: Vec<String> = Vec::new();
        for needle in &self.needles {
            if self.public.contains(&text_hash(needle)) {
                continue;
            }
            forms.push(needle.clone());
            for form in encodings(needle) {
                if &form != needle {
                    forms.push(form);
                }
            }
        }
        forms.sort();
        forms.dedup();
        Redactor::from_needles(forms)
    }
}

/// The forms a value may take in output: base64 (padded and not), percent-encoded and
/// JSON-escaped (drift compares `stringData` as base64, and renders values as JSON).
fn encodings(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut out = vec![
        STANDARD.encode(value),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
    ];
    let percent: String = value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    out.push(percent);
    let json = serde_json::to_string(value).unwrap_or_default();
    if json.len() >= 2 {
        out.push(json[1..json.len() - 1].to_string());
    }
    out
}

/// Needles are looked up by their first bytes, this many (the shortest needle's length).
const KEY: usize = MIN_VALUE_LEN;

/// Where a value can start in text: after anything but a letter, digit, `-`, `_` or `.`.
fn is_boundary(byte: u8) -> bool {
    !(byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') || byte >= 0x80)
}

/// Replaces every known sensitive string in text with [`REDACTED`].
///
/// A needle matches where a value can start: at the start of the text or after a separator
/// (a blank, a quote, `=`, `:`, `@`, `/`, ...), which is where a message quotes a value, an
/// argument or a URL's password. Needles are indexed by their first bytes, so building the
/// filter costs as much as listing the needles, and filtering as much as reading the text;
/// an automaton over every needle and encoding cost more than the scan it guarded.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// First [`KEY`] bytes of each needle, to the needles that start with them, longest first.
    by_prefix: HashMap<Vec<u8>, Vec<String>>,
    needles: usize,
}

impl Redactor {
    /// A filter that removes nothing (for reports that read no object values).
    pub fn none() -> Self {
        Redactor::default()
    }

    /// A filter for these exact strings (at least [`MIN_VALUE_LEN`] bytes; shorter ones are
    /// ignored).
    pub fn from_needles(needles: Vec<String>) -> Self {
        let mut by_prefix: HashMap<Vec<u8>, Vec<String>> = HashMap::new();
        let mut count = 0;
        for needle in needles {
            if needle.len() < KEY {
                continue;
            }
            count += 1;
            by_prefix
                .entry(needle.as_bytes()[..KEY].to_vec())
                .or_default()
                .push(needle);
        }
        for list in by_prefix.values_mut() {
            list.sort_by_key(|n| std::cmp::Reverse(n.len()));
            list.dedup();
        }
        Redactor {
            by_prefix,
            needles: count,
        }
    }

    /// How many strings (with their encodings) the filter removes.
    pub fn len(&self) -> usize {
        self.needles
    }

    pub fn is_empty(&self) -> bool {
        self.needles == 0
    }

    /// The longest needle that starts at byte `at` of `text` and ends where a token may end
    /// (so a value `vllm-tpu` does not clip the name `vllm-tpu-v5e`).
    fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        let key = bytes.get(at..at + KEY)?;
        self.by_prefix
            .get(key)?
            .iter()
            .find(|n| {
                bytes[at..].starts_with(n.as_bytes())
                    && bytes
                        .get(at + n.len())
                        .is_none_or(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')))
            })
            .map(String::len)
    }

    /// `text` with every needle replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.is_empty() || text.len() < KEY {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut clean: Option<String> = None;
        let (mut at, mut copied) = (0usize, 0usize);
        let mut boundary = true;
        while at < bytes.len() {
            if boundary && let Some(len) = self.match_at(text, at) {
                let out = clean.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied..at]);
                out.push_str(REDACTED);
                at += len;
                copied = at;
                boundary = true;
                continue;
            }
            boundary = is_boundary(bytes[at]);
            at += 1;
        }
        match clean {
            Some(mut out) => {
                out.push_str(&text[copied..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(text),
        }
    }

    /// Redacts a string in place.
    pub fn redact_string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.redact(text) {
            *text = clean;
        }
    }

    /// Redacts the messages of diagnostics printed outside a report (`inventory`, `rbac`).
    pub fn redact_diagnostics(&self, diagnostics: &mut [crate::Diagnostic]) {
        for diagnostic in diagnostics {
            self.redact_string(&mut diagnostic.message);
        }
    }

    /// Redacts every text of a finding that can carry something read from the input: the
    /// message, affected objects, the suppression's reason, the discriminator, evidence and
    /// the fix (a fix that would write a credential into a report shows its tag instead).
    pub fn redact_finding(&self, finding: &mut crate::Finding) {
        use crate::Evidence;
        let message = self.redact(&finding.message);
        if let Cow::Owned(clean) = message {
            finding.message = clean.into();
        }
        let Some(extra) = finding.extra.as_deref_mut() else {
            return;
        };
        for affected in &mut extra.affected {
            self.redact_string(affected);
        }
        if let Some(suppression) = &mut extra.suppressed {
            self.redact_string(&mut suppression.reason);
        }
        if let Some(discriminator) = &mut extra.discriminator {
            let mut text = discriminator.to_string();
            self.redact_string(&mut text);
            *discriminator = text.into();
        }
        for evidence in &mut extra.evidence {
            match evidence {
                Evidence::Chain { steps } => {
                    for step in steps {
                        self.redact_string(&mut step.from);
                        self.redact_string(&mut step.to);
                        self.redact_string(&mut step.relation);
                    }
                }
                Evidence::Package {
                    name,
                    installed,
                    fixed,
                } => {
                    self.redact_string(name);
                    self.redact_string(installed);
                    if let Some(fixed) = fixed {
                        self.redact_string(fixed);
                    }
                }
                Evidence::Pattern { .. } => {}
            }
        }
        if let Some(fix) = &mut extra.fix {
            self.redact_string(&mut fix.description);
            for edit in &mut fix.edits {
                self.redact_string(&mut edit.replacement);
            }
        }
    }

    /// Redacts every text of a report that can carry something read from the input:
    /// findings, diagnostics and coverage reasons.
    pub fn redact_report(&self, report: &mut Report) {
        if self.is_empty() {
            return;
        }
        for finding in &mut report.findings {
            self.redact_finding(finding);
        }
        self.redact_diagnostics(&mut report.diagnostics);
        for (_, value) in &mut report.audit_annotations {
            self.redact_string(value);
        }
        for coverage in &mut report.coverage {
            for item in &mut coverage.not_assessed_objects {
                self.redact_string(&mut item.reason);
            }
            for why in &mut coverage.incomplete {
                self.redact_string(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn printable(value: &Value, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        is_printable("apps/v1", "Deployment", &segments, value)
    }

    #[test]
    fn source_ranges_print_only_where_a_firewall_reads_them_and_only_as_cidrs() {
        let service = |segments: &[&str], value: &str| {
            is_printable("v1", "Service", segments, &Value::String(value.into()))
        };
        assert!(service(
            &["spec", "loadBalancerSourceRanges", "0"],
            "203.0.113.0/24"
        ));
        assert!(service(
            &[
                "metadata",
                "annotations",
                "service.beta.kubernetes.io/load-balancer-source-ranges"
            ],
            "10.0.0.0/8, 2001:db8::/32"
        ));
        assert!(!service(
            &["spec", "loadBalancerSourceRanges", "0"],
            "hunter2-password"
        ));
        assert!(!service(
            &["spec", "loadBalancerSourceRanges", "0"],
            "10.0.0.0/8 x"
        ));
        assert!(!service(
            &["metadata", "annotations", "other"],
            "10.0.0.0/8"
        ));
        assert!(!service(
            &["spec", "loadBalancerSourceRanges"],
            "10.0.0.0/8"
        ));
        let ingress = [
            "metadata",
            "annotations",
            "alb.ingress.kubernetes.io/inbound-cidrs",
        ];
        let cidrs = Value::String("10.0.0.0/8,192.168.0.0/16".into());
        assert!(is_printable(
            "networking.k8s.io/v1",
            "Ingress",
            &ingress,
            &cidrs
        ));
        let params = ["spec", "inboundCIDRs", "0"];
        assert!(is_printable(
            "elbv2.k8s.aws/v1beta1",
            "IngressClassParams",
            &params,
            &cidrs
        ));
        let envoy = [
            "spec",
            "provider",
            "kubernetes",
            "envoyService",
            "annotations",
            "service.beta.kubernetes.io/load-balancer-source-ranges",
        ];
        assert!(is_printable(
            "gateway.envoyproxy.io/v1alpha1",
            "EnvoyProxy",
            &envoy,
            &cidrs
        ));
        // Anything else written there stays hidden.
        let token = Value::String("ghp_0123456789abcdefghijklmnopqrstuvwxyz".into());
        assert!(!is_printable(
            "gateway.envoyproxy.io/v1alpha1",
            "EnvoyProxy",
            &envoy,
            &token
        ));
    }

    #[test]
    fn only_harmless_fields_print_their_strings() {
        let s = json!("x");
        let pod = "spec/template/spec/containers/0";
        assert!(printable(&s, &format!("{pod}/image")));
        assert!(printable(&s, &format!("{pod}/env/1/name")));
        assert!(!printable(&s, &format!("{pod}/env/1/value")));
        assert!(!printable(&s, &format!("{pod}/args/0")));
        assert!(
            !printable(&s, "data/name"),
            "a ConfigMap key called name is data"
        );
        assert!(!printable(&s, "metadata/annotations/note"));
        assert!(printable(&s, "metadata/labels/app"));
        assert!(printable(&json!(true), "spec/anything"));
        assert!(printable(&json!(3), "spec/replicas"));
        assert!(
            !is_printable("example.com/v1", "Thing", &["spec", "image"], &s),
            "custom resources print no spec strings"
        );
        let rollout = |path: &str| {
            let segments: Vec<&str> = path.split('/').collect();
            is_printable("argoproj.io/v1alpha1", "Rollout", &segments, &s)
        };
        assert!(
            rollout(&format!("{pod}/image")),
            "a workload's pod template is a pod's"
        );
        assert!(!rollout(&format!("{pod}/env/0/value")));
        assert!(!rollout(
            "spec/strategy/canary/trafficRouting/nginx/stableIngress"
        ));
        assert!(!rollout("spec/workloadRef/name/image"));
        let ray = |path: &str| {
            let segments: Vec<&str> = path.split('/').collect();
            is_printable("ray.io/v1", "RayCluster", &segments, &s)
        };
        assert!(ray(
            "spec/workerGroupSpecs/0/template/spec/containers/0/image"
        ));
        assert!(!ray(
            "spec/workerGroupSpecs/0/template/spec/containers/0/env/0/value"
        ));
        assert!(!ray("spec/workerGroupSpecs/0/rayStartParams/image"));
        assert!(printable(&s, &format!("{pod}/resources/limits/cpu")));
    }

    /// Control-plane flags whose values are modes, numbers or node paths print, so a CIS
    /// finding can say what the flag is; every other word of a command line is data.
    #[test]
    fn mode_number_and_path_flags_print_and_other_words_do_not() {
        let command = "spec/containers/0/command/3";
        for word in [
            "--authorization-mode=AlwaysAllow",
            "--authorization-mode=Node,RBAC",
            "--feature-gates=RotateKubeletServerCertificate=true,Foo=false",
            "--audit-log-maxage=30",
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
            "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        ] {
            assert!(printable(&json!(word), command), "{word}");
        }
        for word in [
            "--db-password=Pa55wordXYZ",
            "--token-auth-file=hunter2secret",
            "--tls-cert-file=../../x",
            "--authorization-mode=$(cat /x)",
            "--service-account-issuer=https://k.example",
            "-authorization-mode=AlwaysAllow",
            "AlwaysAllow",
        ] {
            assert!(!printable(&json!(word), command), "{word}");
        }
        assert!(!printable(
            &json!("--authorization-mode=AlwaysAllow"),
            "spec/containers/0/env/0/value"
        ));

        let mut sensitive = Sensitive::new();
        sensitive.add_object(&json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kube-apiserver"},
            "spec": {"containers": [{"name": "api", "image": "k8s/kube-apiserver:v1.30.0",
                "command": ["kube-apiserver", "--authorization-mode=AlwaysAllow",
                    "--service-account-signing-endpoint=S3cretValue99"]}]}
        }));
        let r = sensitive.redactor();
        let message = "every request is allowed (--authorization-mode=AlwaysAllow); --service-account-signing-endpoint is set to S3cretValue99";
        assert_eq!(
            r.redact(message),
            "every request is allowed (--authorization-mode=AlwaysAllow); --service-account-signing-endpoint is set to [REDACTED]"
        );
    }

    #[test]
    fn tags_are_stable_and_say_nothing_of_length() {
        assert_eq!(tag("hunter2"), tag("hunter2"));
        assert_ne!(tag("hunter2"), tag("hunter3"));
        assert_eq!(tag("a").len(), tag(&"a".repeat(1000)).len());
        assert!(hidden("hunter2").starts_with("<hidden #"));
    }

    #[test]
    fn every_form_of_an_embedded_credential_is_redacted() {
        let mut sensitive = Sensitive::new();
        sensitive.add_object(&json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                "args": ["--db-password=Pa55wordXYZ", "--verbose"],
                "env": [{"name": "URL", "value": "postgres://u:S3cretPass@h/db"}]}]}
        }));
        sensitive.add_object(
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"k": base64::engine::general_purpose::STANDARD.encode("decoded-Secret-9")}}),
        );
        let r = sensitive.redactor();
        for leak in [
            "Pa55wordXYZ",
            "S3cretPass",
            "decoded-Secret-9",
            "postgres://u:S3cretPass@h/db",
        ] {
            let text = format!("value {leak} printed");
            assert!(!r.redact(&text).contains(leak), "{leak}");
            let b64 = base64::engine::general_purpose::STANDARD.encode(leak);
            assert!(
                !r.redact(&format!("x {b64} y")).contains(&b64),
                "base64 of {leak}"
            );
        }
        assert_eq!(
            r.redact("container web runs nginx:1.27"),
            "container web runs nginx:1.27"
        );
    }

    #[test]
    fn every_text_a_finding_carries_passes_the_boundary() {
        use crate::finding::{Edit, Evidence, Fix, Location, Step, Subject, Suppression};
        let mut sensitive = Sensitive::new();
        sensitive.add_object(&json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"TOKEN": "tok-Zq81xYw7"}
        }));
        let r = sensitive.redactor();
        let leak = "tok-Zq81xYw7";
        static META: std::sync::LazyLock<crate::RuleMeta> =
            std::sync::LazyLock::new(|| crate::RuleMeta {
                id: "X001".into(),
                slug: "x".into(),
                title: "x".into(),
                severity: crate::Severity::Low,
                controls: std::borrow::Cow::Owned(vec![]),
                remediation: "x".into(),
                docs: "".into(),
            });
        let mut finding = crate::Finding::new(
            &*META,
            Subject::Node("n".into()),
            Location::file("f"),
            format!("m {leak}"),
        )
        .with_discriminator(format!("d {leak}"))
        .with_evidence(Evidence::Chain {
            steps: vec![Step {
                from: format!("a {leak}"),
                to: format!("c {leak}"),
                relation: format!("b {leak}"),
            }],
        })
        .with_evidence(Evidence::Package {
            name: format!("p {leak}"),
            installed: format!("i {leak}"),
            fixed: Some(format!("f {leak}")),
        })
        .with_fix(Fix {
            description: format!("fix {leak}"),
            edits: vec![Edit {
                file: "f".into(),
                start: 0,
                end: 1,
                replacement: format!("value: {leak}"),
            }],
        });
        *finding.affected_mut() = vec![format!("Pod {leak}")];
        finding.set_suppressed(Some(Suppression {
            source: crate::SuppressionSource::Config,
            reason: format!("r {leak}"),
            expires: None,
            origin: None,
        }));
        r.redact_finding(&mut finding);
        let json = serde_json::to_string(&finding).unwrap();
        assert!(!json.contains(leak), "{json}");
    }
}
