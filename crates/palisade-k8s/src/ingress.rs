//! What an Ingress's controller makes of it, answered once for the rules and the network:
//! which controller serves it, whether its load balancer is internal, and how its listeners
//! serve HTTPS and plain HTTP. The cloud controllers (AWS Load Balancer Controller, GKE's
//! Ingress, Azure's Application Gateway Ingress Controller) read annotations where other
//! controllers read `spec.tls`, so `spec.tls` alone says little about them.

use palisade_core::ObjectRef;
use palisade_core::tree::Tree as _;
use serde_json::Value;

use crate::exposure::SourceRanges;

/// The controller that serves an Ingress, as far as the Ingress (and its IngressClass) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// AWS Load Balancer Controller: an Application Load Balancer per Ingress (or group).
    AwsAlb,
    /// GKE's Ingress controller: a Google Cloud Application Load Balancer.
    Gke,
    /// Azure Application Gateway Ingress Controller.
    AzureAppGateway,
    /// Another controller (ingress-nginx, Traefik, HAProxy, Contour...), or one the input
    /// does not name: it serves the certificates `spec.tls` names.
    Other,
}

/// The controller names (`IngressClass` `spec.controller`) of the cloud controllers.
const CLASS_CONTROLLERS: &[(&str, Controller)] = &[
    ("ingress.k8s.aws/alb", Controller::AwsAlb),
    // EKS Auto Mode's own load balancer controller.
    ("eks.amazonaws.com/alb", Controller::AwsAlb),
    ("azure/application-gateway", Controller::AzureAppGateway),
];

/// The class names the cloud controllers answer to without an IngressClass object (the
/// `kubernetes.io/ingress.class` annotation or `spec.ingressClassName`).
const CLASS_NAMES: &[(&str, Controller)] = &[
    ("alb", Controller::AwsAlb),
    ("gce", Controller::Gke),
    ("gce-internal", Controller::Gke),
    ("azure/application-gateway", Controller::AzureAppGateway),
    ("azure-application-gateway", Controller::AzureAppGateway),
];

/// Annotation prefixes only one cloud controller reads: an Ingress that names no class but
/// carries them is that controller's (on GKE, Ingresses without a class are GKE's own).
const ANNOTATION_PREFIXES: &[(&str, Controller)] = &[
    ("alb.ingress.kubernetes.io/", Controller::AwsAlb),
    ("networking.gke.io/", Controller::Gke),
    ("ingress.gcp.kubernetes.io/", Controller::Gke),
    (
        "kubernetes.io/ingress.global-static-ip-name",
        Controller::Gke,
    ),
    (
        "kubernetes.io/ingress.regional-static-ip-name",
        Controller::Gke,
    ),
    ("appgw.ingress.kubernetes.io/", Controller::AzureAppGateway),
];

/// The Ingress's class: `spec.ingressClassName`, else the older
/// `kubernetes.io/ingress.class` annotation.
pub fn class(ingress: &Value) -> Option<&str> {
    ingress
        .at("/spec/ingressClassName")
        .and_then(Value::as_str)
        .or_else(|| annotation(ingress, "kubernetes.io/ingress.class"))
}

/// The annotation `key` of `ingress`, when it is a string.
pub fn annotation<'v>(ingress: &'v Value, key: &str) -> Option<&'v str> {
    ingress
        .at("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Which controller serves `ingress`. `class_controller` is the `spec.controller` of the
/// IngressClass its class names, when the input holds it. Without a class, the annotations
/// only one cloud controller reads decide; else it is [`Controller::Other`].
pub fn controller(ingress: &Value, class_controller: Option<&str>) -> Controller {
    if let Some(found) =
        class_controller.and_then(|c| CLASS_CONTROLLERS.iter().find(|(name, _)| *name == c))
    {
        return found.1;
    }
    if let Some(class) = class(ingress) {
        return CLASS_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(class))
            .map_or(Controller::Other, |found| found.1);
    }
    let annotations = ingress
        .at("/metadata/annotations")
        .and_then(Value::as_object);
    annotations
        .into_iter()
        .flat_map(|a| a.keys())
        .find_map(|key| {
            ANNOTATION_PREFIXES
                .iter()
                .find(|(prefix, _)| key.starts_with(prefix))
                .map(|found| found.1)
        })
        .unwrap_or(Controller::Other)
}

/// The API groups of the AWS controllers' IngressClassParams (the AWS Load Balancer
/// Controller's, EKS Auto Mode's), which an IngressClass's `spec.parameters` names.
pub const ALB_CLASS_PARAMS_GROUPS: &[&str] = &["elbv2.k8s.aws", "eks.amazonaws.com"];

/// The annotation by which an Ingress joins an AWS IngressGroup.
pub const ALB_GROUP_NAME: &str = "alb.ingress.kubernetes.io/group.name";

/// The annotation that sets an AWS load balancer's scheme (`internal`, `internet-facing`).
const ALB_SCHEME: &str = "alb.ingress.kubernetes.io/scheme";

/// The explicit IngressGroup of an Ingress the AWS Load Balancer Controller serves: the
/// `spec.group.name` of the IngressClassParams its class names (`class_params`), which puts
/// every Ingress of the class in one group and makes the controller ignore the annotation,
/// else its [`ALB_GROUP_NAME`] annotation. `None`: the Ingress has a load balancer of its own.
pub fn alb_group_name<'v>(ingress: &'v Value, class_params: Option<&'v Value>) -> Option<&'v str> {
    let named = |name: Option<&'v str>| name.map(str::trim).filter(|n| !n.is_empty());
    match class_params.and_then(|p| p.at("/spec/group/name")) {
        Some(name) => named(name.as_str()),
        None => named(annotation(ingress, ALB_GROUP_NAME)),
    }
}

/// The other Ingresses of an AWS IngressGroup, which share one Application Load Balancer with
/// the judged Ingress. The controller applies a load balancer's own settings (those its
/// documentation calls "exclusive": `scheme`, `ssl-redirect`, the WAF ACL) written for any
/// one member to the whole group, and refuses a group whose members set different values.
/// Empty (the default) when the Ingress is in no group, or when the input holds no other
/// member.
#[derive(Debug, Clone, Default)]
pub struct AlbGroup<'v> {
    /// The group's name.
    pub name: &'v str,
    /// The other members, in the input's order: those that set something for the whole
    /// group ([`sets_for_alb_group`]) are enough, as a member that sets nothing of the kind
    /// changes no answer read from the group.
    pub members: Vec<AlbMember<'v>>,
}

/// The annotations that set a web ACL on an AWS load balancer (WAFv2, WAF Classic).
pub const ALB_WAF: [&str; 2] = [
    "alb.ingress.kubernetes.io/wafv2-acl-arn",
    "alb.ingress.kubernetes.io/waf-acl-id",
];

/// The annotation that redirects an AWS load balancer's HTTP listeners to HTTPS.
const ALB_SSL_REDIRECT: &str = "alb.ingress.kubernetes.io/ssl-redirect";

/// Where an IngressClassParams sets that redirect.
const ALB_SSL_REDIRECT_FIELD: &str = "/spec/sslRedirectPort";

/// The annotations with which the load balancer's firewall is the user's own.
const ALB_OWN_FIREWALL: [&str; 2] = [
    "alb.ingress.kubernetes.io/security-groups",
    "alb.ingress.kubernetes.io/security-group-prefix-lists",
];

/// Whether `ingress`, with the IngressClassParams its class names, sets something that the
/// other members of its AWS IngressGroup read: a scheme, a redirect, a web ACL, inbound CIDRs
/// or a firewall of the user's own. The group-wide answers ([`AlbGroup::setting`],
/// [`internal_reason`], [`listeners`], [`alb_source_ranges`]) read only such members, so a
/// group of a hundred Ingresses that set nothing costs nothing per Ingress.
pub fn sets_for_alb_group(ingress: &Value, class_params: Option<&Value>) -> bool {
    let annotations = [ALB_SCHEME, ALB_SSL_REDIRECT, ALB_INBOUND_CIDRS]
        .iter()
        .chain(&ALB_WAF)
        .chain(&ALB_OWN_FIREWALL);
    let fields = [
        ALB_SCHEME_FIELD,
        ALB_SSL_REDIRECT_FIELD,
        ALB_INBOUND_CIDRS_FIELD,
    ];
    annotations
        .into_iter()
        .any(|key| annotation(ingress, key).is_some())
        || class_params.is_some_and(|p| fields.iter().any(|f| p.at(f).is_some()))
}

/// One Ingress of an [`AlbGroup`].
#[derive(Debug, Clone, Copy)]
pub struct AlbMember<'v> {
    /// Its identity, for messages.
    pub id: &'v ObjectRef,
    pub ingress: &'v Value,
    /// The IngressClassParams its class names (its name and the object): a field set there
    /// wins over the member's annotation.
    pub class_params: Option<(&'v str, &'v Value)>,
}

/// What an AWS Ingress sets for its load balancer, and where: the `field` (a JSON pointer) of
/// the IngressClassParams its class names (`class_params`) when set there, which wins, else
/// its annotation `key`. The value, what says it (`annotation KEY: VALUE`, `IngressClassParams
/// NAME sets FIELD: VALUE`), and whether the IngressClassParams does.
fn alb_setting<'v>(
    ingress: &'v Value,
    class_params: Option<(&'v str, &'v Value)>,
    field: Option<&str>,
    key: &str,
) -> Option<(&'v str, String, bool)> {
    if let (Some(field), Some((name, params))) = (field, class_params)
        && let Some(value) = params.at(field).and_then(Value::as_str)
    {
        let short = field.rsplit('/').next().unwrap_or(field);
        let said = format!("IngressClassParams {name} sets {short}: {value}");
        return Some((value, said, true));
    }
    annotation(ingress, key)
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v, format!("annotation {key}: {v}"), false))
}

impl AlbGroup<'_> {
    /// The first member that sets `key` (or its IngressClassParams' `field`): `annotation
    /// KEY: VALUE on Ingress shop/api of its IngressGroup NAME`.
    pub fn setting(&self, field: Option<&str>, key: &str) -> Option<String> {
        self.members.iter().find_map(|m| {
            let (_, said, by_params) = alb_setting(m.ingress, m.class_params, field, key)?;
            let word = if by_params { "for" } else { "on" };
            Some(format!(
                "{said} {word} {} of its IngressGroup {}",
                m.id, self.name
            ))
        })
    }

    /// Whether some member is given a scheme other than `internal`.
    fn sets_another_scheme(&self) -> bool {
        self.members.iter().any(|m| {
            alb_setting(
                m.ingress,
                m.class_params,
                Some(ALB_SCHEME_FIELD),
                ALB_SCHEME,
            )
            .is_some_and(|(scheme, ..)| !is_internal(scheme))
        })
    }
}

/// Where an IngressClassParams sets the scheme of its Ingresses' load balancers.
const ALB_SCHEME_FIELD: &str = "/spec/scheme";

fn is_internal(scheme: &str) -> bool {
    scheme.trim().eq_ignore_ascii_case("internal")
}

/// Why `ingress`'s load balancer is reachable only from the private network, when its
/// controller is told so: the `scheme` of the IngressClassParams its class names
/// (`class_params`: its name and the object), which wins over the Ingress's annotations, or
/// `alb.ingress.kubernetes.io/scheme: internal`, each for it or for another member of its
/// IngressGroup (`group`) when no member is given another scheme; GKE's `gce-internal`
/// class; Azure's `appgw.ingress.kubernetes.io/use-private-ip: "true"`. Explicit settings
/// only: the AWS controller's own default scheme is not read, members given different
/// schemes (a group the controller refuses) are taken as public, and so is any other
/// Ingress.
pub fn internal_reason(
    ingress: &Value,
    class_params: Option<(&str, &Value)>,
    group: &AlbGroup<'_>,
) -> Option<String> {
    let own = alb_setting(ingress, class_params, Some(ALB_SCHEME_FIELD), ALB_SCHEME);
    let alb = match own {
        _ if group.sets_another_scheme() => None,
        Some((scheme, ..)) if !is_internal(scheme) => None,
        Some((_, said, _)) => Some(said),
        None => group.setting(Some(ALB_SCHEME_FIELD), ALB_SCHEME),
    };
    let says = |key: &str, value: &str| {
        annotation(ingress, key)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
            .then(|| format!("annotation {key}: {value}"))
    };
    alb.or_else(|| says("appgw.ingress.kubernetes.io/use-private-ip", "true"))
        .or_else(|| {
            class(ingress)
                .filter(|c| c.eq_ignore_ascii_case("gce-internal"))
                .map(|c| format!("its class {c} makes an internal load balancer"))
        })
        .or_else(|| {
            alb_source_ranges(ingress, class_params, group)?
                .only_private("a load balancer security group")
        })
}

/// The annotation that sets the addresses an AWS load balancer's security group admits.
pub const ALB_INBOUND_CIDRS: &str = "alb.ingress.kubernetes.io/inbound-cidrs";

/// Where an IngressClassParams sets them for its Ingresses (it wins over the annotation).
const ALB_INBOUND_CIDRS_FIELD: &str = "/spec/inboundCIDRs";

/// What one Ingress of an AWS load balancer asks its security group to admit.
enum Inbound<'v> {
    /// Nothing: every address, unless another member on the same port says otherwise.
    Unset,
    /// These CIDRs (sorted, each once), and what says so.
    Cidrs(Vec<&'v str>, InboundBy<'v>),
    /// Something Palisade cannot read: managed prefix lists, a security group of the user's
    /// own (`security-groups`, with which the controller makes no rules), a value that is not
    /// a list.
    Unknown,
}

/// What sets an Ingress's inbound CIDRs.
#[derive(Clone, Copy)]
enum InboundBy<'v> {
    /// The IngressClassParams of its class (its name).
    Params(&'v str),
    /// Its annotation.
    Annotation,
}

impl InboundBy<'_> {
    fn said(self) -> String {
        match self {
            InboundBy::Params(name) => format!("IngressClassParams {name} inboundCIDRs"),
            InboundBy::Annotation => format!("annotation {ALB_INBOUND_CIDRS}"),
        }
    }
}

/// What `ingress` (with the IngressClassParams its class names) asks of the security group,
/// as the AWS Load Balancer Controller reads it: the IngressClassParams' `inboundCIDRs`
/// when set, else the annotation.
fn alb_inbound<'v>(ingress: &'v Value, class_params: Option<(&'v str, &'v Value)>) -> Inbound<'v> {
    // The annotations are looked up once: a group's members are read for each member.
    let annotations = ingress.at("/metadata/annotations");
    let annotation = |key: &str| annotations?.get(key)?.as_str();
    if ALB_OWN_FIREWALL
        .iter()
        .any(|key| annotation(key).is_some_and(|v| !v.trim().is_empty()))
    {
        return Inbound::Unknown;
    }
    let (texts, by): (Option<Vec<&str>>, _) = match class_params {
        Some((name, params)) if params.at(ALB_INBOUND_CIDRS_FIELD).is_some() => {
            let list = params.at(ALB_INBOUND_CIDRS_FIELD).and_then(Value::as_array);
            let texts = list.and_then(|items| items.iter().map(Value::as_str).collect());
            (texts, InboundBy::Params(name))
        }
        _ => match annotation(ALB_INBOUND_CIDRS).map(str::trim) {
            None | Some("") => return Inbound::Unset,
            Some(list) => (Some(list.split(',').collect()), InboundBy::Annotation),
        },
    };
    let Some(mut texts) = texts else {
        return Inbound::Unknown;
    };
    texts.iter_mut().for_each(|t| *t = t.trim());
    texts.retain(|t| !t.is_empty());
    texts.sort_unstable();
    texts.dedup();
    if texts.is_empty() {
        return Inbound::Unset;
    }
    Inbound::Cidrs(texts, by)
}

/// What names the certificates of `ingress`'s AWS load balancer, for a message: the
/// `certificateArn` of the IngressClassParams its class names, which wins, else its
/// `certificate-arn` annotation. `None`: it names none (they may be discovered from hosts).
fn alb_certificate(ingress: &Value, class_params: Option<(&str, &Value)>) -> Option<String> {
    let by_params = class_params.and_then(|(name, params)| {
        let arns = params.at("/spec/certificateArn")?.as_array()?;
        (!arns.is_empty()).then(|| format!("IngressClassParams {name} sets certificateArn"))
    });
    by_params.or_else(|| named_by(ingress, &["alb.ingress.kubernetes.io/certificate-arn"]))
}

/// The ports an AWS load balancer listens on for `ingress`: its `listen-ports` annotation,
/// else 443 when it names certificates (annotation or IngressClassParams `certificateArn`),
/// else 80. `None` when the annotation is not a list of `{"PROTOCOL": port}` (the controller
/// refuses it).
fn alb_listen_ports(ingress: &Value, class_params: Option<(&str, &Value)>) -> Option<Vec<u64>> {
    let Some(listen) = annotation(ingress, "alb.ingress.kubernetes.io/listen-ports") else {
        let certificate = alb_certificate(ingress, class_params).is_some();
        return Some(vec![if certificate { 443 } else { 80 }]);
    };
    let entries = serde_json::from_str::<Value>(listen).ok()?;
    let mut ports = Vec::new();
    for entry in entries.as_array()? {
        for port in entry.as_object()?.values() {
            ports.push(port.as_u64()?);
        }
    }
    (!ports.is_empty()).then_some(ports)
}

/// The addresses the security group of `ingress`'s AWS load balancer admits on the ports it
/// listens on, where they are restricted. As the controller merges them: on each port, the
/// members of the IngressGroup that listen there and set `inbound-cidrs` (or their
/// IngressClassParams' `inboundCIDRs`) must agree, and a port none of them restricts admits
/// every address. `None` (every address, as far as the input says) when a port is
/// unrestricted, when members disagree (the controller refuses the group), or when prefix
/// lists or a security group of the user's own, on any member, decide.
pub fn alb_source_ranges<'v>(
    ingress: &'v Value,
    class_params: Option<(&'v str, &'v Value)>,
    group: &AlbGroup<'v>,
) -> Option<SourceRanges> {
    let own = match alb_inbound(ingress, class_params) {
        Inbound::Unknown => return None,
        Inbound::Unset => None,
        Inbound::Cidrs(cidrs, by) => Some((cidrs, by)),
    };
    let mut setters = Vec::new();
    for member in &group.members {
        match alb_inbound(member.ingress, member.class_params) {
            Inbound::Unset => {}
            Inbound::Unknown => return None,
            Inbound::Cidrs(cidrs, by) => {
                let ports = alb_listen_ports(member.ingress, member.class_params);
                setters.push((cidrs, by, member, ports));
            }
        }
    }
    if own.is_none() && setters.is_empty() {
        return None;
    }
    let mut admitted: Vec<&str> = Vec::new();
    let mut said: Option<String> = None;
    for port in alb_listen_ports(ingress, class_params)? {
        let on_port = setters
            .iter()
            .filter(|(.., ports)| ports.as_ref().is_some_and(|p| p.contains(&port)))
            .map(|(cidrs, by, member, _)| (cidrs, *by, Some(member)));
        let mut agreed: Option<&[&str]> = None;
        for (cidrs, by, member) in own.iter().map(|(c, by)| (c, *by, None)).chain(on_port) {
            match agreed {
                Some(earlier) if earlier != cidrs.as_slice() => return None,
                Some(_) => {}
                None => agreed = Some(cidrs),
            }
            said.get_or_insert_with(|| match member {
                Some(m) => format!(
                    "{} on {} of its IngressGroup {}",
                    by.said(),
                    m.id,
                    group.name
                ),
                None => by.said(),
            });
        }
        for cidr in agreed? {
            if !admitted.contains(cidr) {
                admitted.push(cidr);
            }
        }
    }
    SourceRanges::of(admitted.iter().copied(), said.as_deref()?)
}

/// How a cloud controller's listeners serve an Ingress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    /// Where its HTTPS certificate comes from, for a message (`annotation
    /// networking.gke.io/managed-certificates: shop`, `spec.tls`); `None`: it serves no HTTPS.
    pub https: Option<String>,
    /// Whether it answers plain HTTP without redirecting it to HTTPS.
    pub plain_http: PlainHttp,
}

/// Whether a controller answers plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainHttp {
    /// It does not, and why (`annotation kubernetes.io/ingress.allow-http: "false"`).
    Closed(String),
    /// It does; the text says what would close it.
    Open(String),
    /// The setting that decides it is in an object the input does not hold (GKE's
    /// FrontendConfig): the text names it.
    Unknown(String),
}

/// What GKE's FrontendConfig named by an Ingress holds, as the caller found it.
#[derive(Debug, Clone, Copy)]
pub enum FrontendConfig<'v> {
    /// The Ingress names none.
    None,
    /// It names one the input does not hold.
    Missing(&'v str),
    /// It names this one.
    Found(&'v str, &'v Value),
}

/// The annotation by which a GKE Ingress names its FrontendConfig (same namespace).
pub const GKE_FRONTEND_CONFIG: &str = "networking.gke.io/v1beta1.FrontendConfig";

/// How `controller`'s listeners serve `ingress`, for the cloud controllers; `None` for
/// [`Controller::Other`], whose HTTPS is `spec.tls` (see [`nginx_plain_http`]).
/// `frontend_config` is the FrontendConfig the Ingress names (GKE only); `class_params` the
/// IngressClassParams its class names (its name and the object) and `group` the other
/// members of its AWS IngressGroup (AWS only).
pub fn listeners(
    ingress: &Value,
    controller: Controller,
    frontend_config: FrontendConfig<'_>,
    class_params: Option<(&str, &Value)>,
    group: &AlbGroup<'_>,
) -> Option<Listeners> {
    match controller {
        Controller::AwsAlb => Some(alb_listeners(ingress, class_params, group)),
        Controller::Gke => Some(gke_listeners(ingress, frontend_config)),
        Controller::AzureAppGateway => Some(appgw_listeners(ingress)),
        Controller::Other => None,
    }
}

/// Whether `spec.tls` holds an entry.
fn has_tls(ingress: &Value) -> bool {
    ingress
        .at("/spec/tls")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
}

/// The first of `keys` the Ingress annotates with a value, as `annotation KEY: VALUE`.
fn named_by(ingress: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| {
        annotation(ingress, key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| format!("annotation {key}: {v}"))
    })
}

/// The AWS Load Balancer Controller's listeners: `listen-ports` (by default HTTP on 80, or
/// HTTPS on 443 when certificates are named: `certificate-arn`, or the `certificateArn` of
/// the IngressClassParams its class names, which wins; HTTPS certificates are otherwise
/// discovered from the hosts, and `spec.tls` secrets are never served), and `ssl-redirect`
/// (or the IngressClassParams' `sslRedirectPort`, which wins), which turns every HTTP
/// listener of the load balancer into a redirect, written for the Ingress or for another
/// member of its IngressGroup (`group`).
fn alb_listeners(
    ingress: &Value,
    class_params: Option<(&str, &Value)>,
    group: &AlbGroup<'_>,
) -> Listeners {
    const PREFIX: &str = "alb.ingress.kubernetes.io/";
    let certificate = alb_certificate(ingress, class_params);
    let ports = annotation(ingress, &format!("{PREFIX}listen-ports"));
    let (http, https) = match ports.and_then(|p| serde_json::from_str::<Value>(p).ok()) {
        Some(Value::Array(entries)) => {
            let has = |protocol: &str| {
                entries
                    .iter()
                    .any(|e| e.as_object().is_some_and(|o| o.contains_key(protocol)))
            };
            (has("HTTP"), has("HTTPS"))
        }
        // Not a list: the controller rejects the Ingress. Read as plain HTTP, the unsafe way.
        Some(_) => (true, false),
        None => (certificate.is_none(), certificate.is_some()),
    };
    let https = https.then(|| {
        certificate.clone().unwrap_or_else(|| {
            format!("certificates discovered from the hosts ({PREFIX}listen-ports: HTTPS)")
        })
    });
    let redirect = alb_setting(
        ingress,
        class_params,
        Some(ALB_SSL_REDIRECT_FIELD),
        ALB_SSL_REDIRECT,
    )
    .map(|(_, said, _)| said)
    .or_else(|| group.setting(Some(ALB_SSL_REDIRECT_FIELD), ALB_SSL_REDIRECT));
    let plain_http = match (http, redirect) {
        (false, _) => PlainHttp::Closed(format!("{PREFIX}listen-ports opens no HTTP listener")),
        (true, Some(redirect)) => PlainHttp::Closed(format!("{redirect} redirects HTTP")),
        (true, None) => PlainHttp::Open(format!(
            "the load balancer listens for plain HTTP ({PREFIX}listen-ports) and {PREFIX}ssl-redirect is not set"
        )),
    };
    Listeners { https, plain_http }
}

/// GKE's listeners: HTTPS with `spec.tls` secrets, pre-shared certificates or Google-managed
/// certificates; plain HTTP unless `kubernetes.io/ingress.allow-http: "false"` or the
/// FrontendConfig redirects it (`spec.redirectToHttps.enabled`).
fn gke_listeners(ingress: &Value, frontend_config: FrontendConfig<'_>) -> Listeners {
    let https = named_by(
        ingress,
        &[
            "networking.gke.io/managed-certificates",
            "ingress.gcp.kubernetes.io/pre-shared-cert",
        ],
    )
    .or_else(|| has_tls(ingress).then(|| "spec.tls".to_string()));
    let allow_http = "kubernetes.io/ingress.allow-http";
    let plain_http = if annotation(ingress, allow_http).is_some_and(|v| v.trim() == "false") {
        PlainHttp::Closed(format!("annotation {allow_http}: \"false\""))
    } else {
        match frontend_config {
            FrontendConfig::Found(name, config)
                if config.at("/spec/redirectToHttps/enabled") == Some(&Value::Bool(true)) =>
            {
                PlainHttp::Closed(format!("FrontendConfig {name} redirects HTTP to HTTPS"))
            }
            FrontendConfig::Missing(name) => PlainHttp::Unknown(format!(
                "FrontendConfig {name}, which may redirect HTTP to HTTPS, is not in the input"
            )),
            _ => PlainHttp::Open(format!(
                "GKE answers plain HTTP unless {allow_http} is \"false\" or a FrontendConfig redirects it"
            )),
        }
    };
    Listeners { https, plain_http }
}

/// Azure Application Gateway's listeners: HTTPS with `spec.tls` secrets or a certificate
/// installed on the gateway (`appgw-ssl-certificate`); plain HTTP unless `ssl-redirect`.
fn appgw_listeners(ingress: &Value) -> Listeners {
    const PREFIX: &str = "appgw.ingress.kubernetes.io/";
    let https = named_by(ingress, &[&format!("{PREFIX}appgw-ssl-certificate")])
        .or_else(|| has_tls(ingress).then(|| "spec.tls".to_string()));
    let redirect = format!("{PREFIX}ssl-redirect");
    let plain_http = if annotation(ingress, &redirect).is_some_and(|v| v.trim() == "true") {
        PlainHttp::Closed(format!("annotation {redirect}: \"true\" redirects HTTP"))
    } else {
        PlainHttp::Open(format!(
            "the gateway answers plain HTTP as well unless {redirect} is \"true\""
        ))
    };
    Listeners { https, plain_http }
}

/// Whether ingress-nginx, serving `spec.tls`, is told to answer plain HTTP too: it
/// redirects HTTP to HTTPS for hosts with TLS unless `ssl-redirect: "false"` (and
/// `force-ssl-redirect` is not `"true"`). The annotation, when it is so.
pub fn nginx_plain_http(ingress: &Value) -> Option<String> {
    const PREFIX: &str = "nginx.ingress.kubernetes.io/";
    let off =
        annotation(ingress, &format!("{PREFIX}ssl-redirect")).is_some_and(|v| v.trim() == "false");
    let forced = annotation(ingress, &format!("{PREFIX}force-ssl-redirect"))
        .is_some_and(|v| v.trim() == "true");
    (off && !forced).then(|| format!("annotation {PREFIX}ssl-redirect: \"false\""))
}

/// The annotations by which a GKE Service names the BackendConfigs of its ports (JSON:
/// `{"default": NAME}` and/or `{"ports": {PORT: NAME}}`, PORT a Service port's number or
/// name), the GA one first.
pub const GKE_BACKEND_CONFIG: &[&str] = &[
    "cloud.google.com/backend-config",
    "beta.cloud.google.com/backend-config",
];

/// The BackendConfig GKE applies to the backend for `port` of `service` (a Service object):
/// the one its annotation names for that port (by the port's number or name, whichever way
/// the Ingress named it), else its `default`.
pub fn gke_backend_config_name(service: &Value, port: Option<BackendPort<'_>>) -> Option<String> {
    let written = GKE_BACKEND_CONFIG
        .iter()
        .find_map(|key| annotation(service, key))?;
    let config: Value = serde_json::from_str(written).ok()?;
    // The Service port the backend names, to match the annotation by its number or its name.
    let entry = service
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|entry| match port {
            Some(BackendPort::Number(n)) => {
                entry.get("port").and_then(Value::as_u64) == Some(n.into())
            }
            Some(BackendPort::Name(n)) => entry.get("name").and_then(Value::as_str) == Some(n),
            None => false,
        });
    let keys: Vec<String> = entry
        .into_iter()
        .flat_map(|e| {
            let number = e.get("port").and_then(Value::as_u64).map(|n| n.to_string());
            let name = e.get("name").and_then(Value::as_str).map(str::to_string);
            [number, name]
        })
        .flatten()
        .chain(port.map(|p| match p {
            BackendPort::Number(n) => n.to_string(),
            BackendPort::Name(n) => n.to_string(),
        }))
        .collect();
    let ports = config.get("ports");
    keys.iter()
        .find_map(|key| ports.and_then(|p| p.get(key)).and_then(Value::as_str))
        .or_else(|| config.get("default").and_then(Value::as_str))
        .map(str::to_string)
}

/// One Service backend of an Ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend<'v> {
    /// The Service's name (in the Ingress's namespace).
    pub service: &'v str,
    /// The Service port, when the backend names one.
    pub port: Option<BackendPort<'v>>,
}

/// A Service port an Ingress backend names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendPort<'v> {
    Number(u16),
    Name(&'v str),
}

/// The Service backends of an Ingress: the default backend and every rule path's, in the
/// shape of `networking.k8s.io/v1` (`defaultBackend`, `service: {name, port: {number|name}}`)
/// and of the removed `v1beta1` and `extensions` versions still found in manifests
/// (`backend`, `serviceName`, `servicePort`). Resource backends and backends without a
/// Service name are left out.
pub fn backends(ingress: &Value) -> Vec<Backend<'_>> {
    let mut written: Vec<&Value> = ["/spec/defaultBackend", "/spec/backend"]
        .iter()
        .filter_map(|pointer| ingress.at(pointer))
        .collect();
    for rule in ingress
        .at("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let paths = rule.at("/http/paths").and_then(Value::as_array);
        written.extend(paths.into_iter().flatten().filter_map(|p| p.get("backend")));
    }
    written.into_iter().filter_map(backend).collect()
}

/// One backend, in either shape.
fn backend(written: &Value) -> Option<Backend<'_>> {
    if let Some(service) = written.get("service") {
        let port = match service.at("/port/number").and_then(Value::as_u64) {
            Some(n) => u16::try_from(n).ok().map(BackendPort::Number),
            None => service
                .at("/port/name")
                .and_then(Value::as_str)
                .map(BackendPort::Name),
        };
        let name = service.get("name").and_then(Value::as_str)?;
        return Some(Backend {
            service: name,
            port,
        });
    }
    let name = written.get("serviceName").and_then(Value::as_str)?;
    let port = match written.get("servicePort") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(BackendPort::Number),
        Some(Value::String(s)) => Some(match s.parse::<u16>() {
            Ok(n) => BackendPort::Number(n),
            Err(_) => BackendPort::Name(s),
        }),
        _ => None,
    };
    Some(Backend {
        service: name,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ingress(annotations: Value, spec: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "annotations": annotations}, "spec": spec})
    }

    #[test]
    fn the_controller_comes_from_the_class_then_the_annotations() {
        let alb = ingress(json!({}), json!({"ingressClassName": "alb"}));
        assert_eq!(controller(&alb, None), Controller::AwsAlb);
        let named = ingress(json!({}), json!({"ingressClassName": "public"}));
        assert_eq!(controller(&named, None), Controller::Other);
        assert_eq!(
            controller(&named, Some("ingress.k8s.aws/alb")),
            Controller::AwsAlb
        );
        let gke = ingress(
            json!({"kubernetes.io/ingress.global-static-ip-name": "ip"}),
            json!({}),
        );
        assert_eq!(controller(&gke, None), Controller::Gke);
        // A class names the controller even when another's annotations are there.
        let nginx = ingress(
            json!({"alb.ingress.kubernetes.io/scheme": "internal"}),
            json!({"ingressClassName": "nginx"}),
        );
        assert_eq!(controller(&nginx, None), Controller::Other);
        assert_eq!(
            controller(&ingress(json!({}), json!({})), None),
            Controller::Other
        );
    }

    #[test]
    fn backends_are_read_in_both_shapes() {
        let v1 = ingress(
            json!({}),
            json!({"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
                   "rules": [{"http": {"paths": [
                       {"backend": {"service": {"name": "api", "port": {"name": "http"}}}},
                       {"backend": {"resource": {"kind": "StorageBucket", "name": "b"}}}]}}]}),
        );
        assert_eq!(
            backends(&v1),
            [
                Backend {
                    service: "web",
                    port: Some(BackendPort::Number(80))
                },
                Backend {
                    service: "api",
                    port: Some(BackendPort::Name("http"))
                },
            ]
        );
        let beta = ingress(
            json!({}),
            json!({"backend": {"serviceName": "web", "servicePort": 80},
                   "rules": [{"http": {"paths": [
                       {"backend": {"serviceName": "api", "servicePort": "http"}},
                       {"backend": {"serviceName": "admin", "servicePort": "8443"}}]}}]}),
        );
        assert_eq!(
            backends(&beta),
            [
                Backend {
                    service: "web",
                    port: Some(BackendPort::Number(80))
                },
                Backend {
                    service: "api",
                    port: Some(BackendPort::Name("http"))
                },
                Backend {
                    service: "admin",
                    port: Some(BackendPort::Number(8443))
                },
            ]
        );
    }

    #[test]
    fn a_gke_service_names_its_backend_config_per_port_or_by_default() {
        let service = json!({"metadata": {"annotations": {"cloud.google.com/backend-config":
            r#"{"default": "base", "ports": {"http": "armored", "8443": "admin"}}"#}},
            "spec": {"ports": [{"name": "http", "port": 80}, {"name": "admin", "port": 8443}, {"port": 9000}]}});
        let name = |port| gke_backend_config_name(&service, port);
        assert_eq!(
            name(Some(BackendPort::Number(80))).as_deref(),
            Some("armored")
        );
        assert_eq!(
            name(Some(BackendPort::Name("http"))).as_deref(),
            Some("armored")
        );
        assert_eq!(
            name(Some(BackendPort::Name("admin"))).as_deref(),
            Some("admin")
        );
        assert_eq!(
            name(Some(BackendPort::Number(9000))).as_deref(),
            Some("base")
        );
        assert_eq!(name(None).as_deref(), Some("base"));
        let bare =
            json!({"metadata": {"annotations": {"beta.cloud.google.com/backend-config": "{}"}}});
        assert_eq!(gke_backend_config_name(&bare, None), None);
        assert_eq!(gke_backend_config_name(&json!({}), None), None);
    }

    #[test]
    fn internal_load_balancers_are_said_explicitly() {
        let internal = ingress(
            json!({"alb.ingress.kubernetes.io/scheme": "internal"}),
            json!({}),
        );
        assert!(
            internal_reason(&internal, None, &AlbGroup::default())
                .unwrap()
                .contains("scheme: internal")
        );
        let facing = ingress(
            json!({"alb.ingress.kubernetes.io/scheme": "internet-facing"}),
            json!({}),
        );
        assert_eq!(internal_reason(&facing, None, &AlbGroup::default()), None);
        let gce = ingress(
            json!({"kubernetes.io/ingress.class": "gce-internal"}),
            json!({}),
        );
        assert!(
            internal_reason(&gce, None, &AlbGroup::default())
                .unwrap()
                .contains("gce-internal")
        );
        let appgw = ingress(
            json!({"appgw.ingress.kubernetes.io/use-private-ip": "true"}),
            json!({}),
        );
        assert!(internal_reason(&appgw, None, &AlbGroup::default()).is_some());
        // The class's IngressClassParams wins over the Ingress's annotation.
        let params = |scheme: &str| json!({"spec": {"scheme": scheme}});
        let internal_params = params("internal");
        assert_eq!(
            internal_reason(
                &facing,
                Some(("private", &internal_params)),
                &AlbGroup::default()
            )
            .as_deref(),
            Some("IngressClassParams private sets scheme: internal")
        );
        let public_params = params("internet-facing");
        assert_eq!(
            internal_reason(
                &internal,
                Some(("public", &public_params)),
                &AlbGroup::default()
            ),
            None
        );
        let silent = json!({"spec": {"group": {"name": "shared"}}});
        assert!(
            internal_reason(&internal, Some(("shared", &silent)), &AlbGroup::default()).is_some()
        );
        assert_eq!(
            internal_reason(&ingress(json!({}), json!({})), None, &AlbGroup::default()),
            None
        );
    }

    #[test]
    fn an_alb_reads_certificates_and_redirect_from_its_ingress_class_params() {
        let params = json!({"spec": {"certificateArn": ["arn:aws:acm:eu-west-1:1:certificate/x"]}});
        let plain = ingress(json!({}), json!({}));
        let served = listeners(
            &plain,
            Controller::AwsAlb,
            FrontendConfig::None,
            Some(("tls", &params)),
            &AlbGroup::default(),
        )
        .unwrap();
        // A certificate makes the default listener HTTPS on 443, without plain HTTP.
        assert_eq!(
            served.https.as_deref(),
            Some("IngressClassParams tls sets certificateArn")
        );
        assert!(matches!(served.plain_http, PlainHttp::Closed(_)));
        let both = ingress(
            json!({"alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}, {"HTTPS": 443}]"#}),
            json!({}),
        );
        let redirect = json!({"spec": {"sslRedirectPort": "443"}});
        let redirected = listeners(
            &both,
            Controller::AwsAlb,
            FrontendConfig::None,
            Some(("secure", &redirect)),
            &AlbGroup::default(),
        )
        .unwrap();
        match redirected.plain_http {
            PlainHttp::Closed(why) => assert_eq!(
                why,
                "IngressClassParams secure sets sslRedirectPort: 443 redirects HTTP"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_alb_serves_what_its_listen_ports_say() {
        let listeners_of = |annotations: Value, spec: Value| {
            let i = ingress(annotations, spec);
            listeners(
                &i,
                Controller::AwsAlb,
                FrontendConfig::None,
                None,
                &AlbGroup::default(),
            )
            .unwrap()
        };
        // spec.tls is not served by an ALB: HTTP only by default.
        let tls_only = listeners_of(json!({}), json!({"tls": [{"secretName": "s"}]}));
        assert_eq!(tls_only.https, None);
        assert!(matches!(tls_only.plain_http, PlainHttp::Open(_)));
        // A certificate alone makes the default listener HTTPS on 443.
        let cert = listeners_of(
            json!({"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x"}),
            json!({}),
        );
        assert!(cert.https.unwrap().contains("certificate-arn"));
        assert!(matches!(cert.plain_http, PlainHttp::Closed(_)));
        let both = listeners_of(
            json!({"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x",
                   "alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}, {"HTTPS": 443}]"#}),
            json!({}),
        );
        assert!(matches!(both.plain_http, PlainHttp::Open(_)));
        let redirected = listeners_of(
            json!({"alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}, {"HTTPS": 443}]"#,
                   "alb.ingress.kubernetes.io/ssl-redirect": "443"}),
            json!({}),
        );
        assert!(redirected.https.unwrap().contains("discovered"));
        assert!(matches!(redirected.plain_http, PlainHttp::Closed(_)));
    }

    #[test]
    fn an_alb_admitting_only_private_addresses_is_internal() {
        const CIDRS: &str = ALB_INBOUND_CIDRS;
        let alone = |annotations: Value| {
            let ingress = ingress(annotations, json!({}));
            (
                internal_reason(&ingress, None, &AlbGroup::default()),
                alb_source_ranges(&ingress, None, &AlbGroup::default()),
            )
        };
        let (reason, _) = alone(json!({CIDRS: "10.0.0.0/8, 192.168.0.0/16"}));
        assert_eq!(
            reason.as_deref(),
            Some(
                "a load balancer security group that admits only private addresses \
                 (annotation alb.ingress.kubernetes.io/inbound-cidrs: 10.0.0.0/8, 192.168.0.0/16)"
            )
        );
        let (reason, office) = alone(json!({CIDRS: "203.0.113.0/24"}));
        assert_eq!(reason, None);
        assert_eq!(
            office.unwrap().describe(),
            "only from 203.0.113.0/24 (annotation alb.ingress.kubernetes.io/inbound-cidrs)"
        );
        // What Palisade cannot read admits everyone, as far as the input says.
        for annotations in [
            json!({CIDRS: "10.0.0.0/8", "alb.ingress.kubernetes.io/security-groups": "sg-1"}),
            json!({CIDRS: "10.0.0.0/8", "alb.ingress.kubernetes.io/security-group-prefix-lists": "pl-1"}),
            json!({CIDRS: "10.0.0.0/8, 0.0.0.0/0"}),
            json!({CIDRS: "10.0.0.0/8, office"}),
            json!({CIDRS: "10.0.0.0/8", "alb.ingress.kubernetes.io/listen-ports": "80"}),
            json!({}),
        ] {
            assert_eq!(alone(annotations.clone()), (None, None), "{annotations}");
        }
        // The IngressClassParams' inboundCIDRs win over the annotation.
        let params = json!({"spec": {"inboundCIDRs": ["10.0.0.0/8"]}});
        let facing = ingress(json!({CIDRS: "0.0.0.0/0"}), json!({}));
        assert!(
            internal_reason(&facing, Some(("vpn", &params)), &AlbGroup::default())
                .unwrap()
                .contains("IngressClassParams vpn inboundCIDRs: 10.0.0.0/8")
        );
    }

    #[test]
    fn only_members_that_set_something_for_the_group_are_read() {
        let says = |annotations: Value| sets_for_alb_group(&ingress(annotations, json!({})), None);
        assert!(!says(json!({ALB_GROUP_NAME: "shop"})));
        assert!(!says(
            json!({"alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}]"#})
        ));
        for key in [ALB_SCHEME, ALB_SSL_REDIRECT, ALB_INBOUND_CIDRS]
            .into_iter()
            .chain(ALB_WAF)
            .chain(ALB_OWN_FIREWALL)
        {
            assert!(says(json!({key: "x"})), "{key}");
        }
        let plain = ingress(json!({}), json!({}));
        for field in [
            json!({"scheme": "internal"}),
            json!({"sslRedirectPort": "443"}),
            json!({"inboundCIDRs": ["10.0.0.0/8"]}),
        ] {
            let params = json!({ "spec": field });
            assert!(sets_for_alb_group(&plain, Some(&params)), "{params}");
        }
        let grouped = json!({"spec": {"group": {"name": "shared"}}});
        assert!(!sets_for_alb_group(&plain, Some(&grouped)));
    }

    #[test]
    fn an_alb_group_merges_inbound_cidrs_per_port() {
        const CIDRS: &str = ALB_INBOUND_CIDRS;
        const PORTS: &str = "alb.ingress.kubernetes.io/listen-ports";
        let id = |name: &str| ObjectRef {
            api_version: "networking.k8s.io/v1".into(),
            kind: "Ingress".into(),
            namespace: Some("shop".into()),
            name: Some(name.into()),
        };
        let root_id = id("root");
        fn group_of<'v>(id: &'v ObjectRef, root: &'v Value) -> AlbGroup<'v> {
            AlbGroup {
                name: "shop",
                members: vec![AlbMember {
                    id,
                    ingress: root,
                    class_params: None,
                }],
            }
        }
        let member = ingress(json!({ALB_GROUP_NAME: "shop"}), json!({}));
        // A member on the same port restricts it for the whole load balancer.
        let root = ingress(
            json!({ALB_GROUP_NAME: "shop", CIDRS: "10.0.0.0/8"}),
            json!({}),
        );
        assert_eq!(
            internal_reason(&member, None, &group_of(&root_id, &root)).as_deref(),
            Some(
                "a load balancer security group that admits only private addresses \
                 (annotation alb.ingress.kubernetes.io/inbound-cidrs on Ingress shop/root of its \
                 IngressGroup shop: 10.0.0.0/8)"
            )
        );
        // A member on another port does not: port 80 admits every address.
        let elsewhere = ingress(
            json!({ALB_GROUP_NAME: "shop", CIDRS: "10.0.0.0/8", PORTS: r#"[{"HTTPS": 8443}]"#}),
            json!({}),
        );
        assert_eq!(
            internal_reason(&member, None, &group_of(&root_id, &elsewhere)),
            None
        );
        // Members that disagree make a group the controller refuses: taken as public.
        let private = ingress(
            json!({ALB_GROUP_NAME: "shop", CIDRS: "192.168.0.0/16"}),
            json!({}),
        );
        assert_eq!(
            internal_reason(&private, None, &group_of(&root_id, &root)),
            None
        );
        // Members that agree (in another order) are one restriction.
        let same = ingress(
            json!({ALB_GROUP_NAME: "shop", CIDRS: "172.16.0.0/12,10.0.0.0/8"}),
            json!({}),
        );
        let root_both = ingress(
            json!({ALB_GROUP_NAME: "shop", CIDRS: "10.0.0.0/8, 172.16.0.0/12"}),
            json!({}),
        );
        assert!(internal_reason(&same, None, &group_of(&root_id, &root_both)).is_some());
        // Every port the Ingress listens on must be restricted.
        let two_ports = ingress(
            json!({ALB_GROUP_NAME: "shop", PORTS: r#"[{"HTTP": 80}, {"HTTPS": 8443}]"#}),
            json!({}),
        );
        assert_eq!(
            internal_reason(&two_ports, None, &group_of(&root_id, &root)),
            None
        );
        assert!(internal_reason(&two_ports, None, &group_of(&root_id, &elsewhere)).is_none());
    }

    #[test]
    fn an_alb_group_shares_its_scheme_and_its_redirect() {
        let named = |name: &str| json!({ALB_GROUP_NAME: name});
        let member = ingress(named("shop"), json!({}));
        assert_eq!(alb_group_name(&member, None), Some("shop"));
        // The class's IngressClassParams names the group of every Ingress of the class.
        let params = json!({"spec": {"group": {"name": "shared"}}});
        assert_eq!(alb_group_name(&member, Some(&params)), Some("shared"));
        assert_eq!(alb_group_name(&ingress(named(" "), json!({})), None), None);

        let internal = ingress(
            json!({ALB_GROUP_NAME: "shop", ALB_SCHEME: "internal",
                   "alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}, {"HTTPS": 443}]"#,
                   "alb.ingress.kubernetes.io/ssl-redirect": "443"}),
            json!({}),
        );
        let id = |name: &str| ObjectRef {
            api_version: "networking.k8s.io/v1".into(),
            kind: "Ingress".into(),
            namespace: Some("shop".into()),
            name: Some(name.into()),
        };
        let (root, public) = (id("root"), id("public"));
        let member_of = |id, ingress| AlbMember {
            id,
            ingress,
            class_params: None,
        };
        let group = AlbGroup {
            name: "shop",
            members: vec![member_of(&root, &internal)],
        };
        let reason = internal_reason(&member, None, &group).unwrap();
        assert_eq!(
            reason,
            "annotation alb.ingress.kubernetes.io/scheme: internal on Ingress shop/root of its IngressGroup shop"
        );
        // Alone, the same Ingress says nothing and is taken as public.
        assert_eq!(internal_reason(&member, None, &AlbGroup::default()), None);
        // Members that disagree are refused by the controller: taken as public.
        let facing = ingress(
            json!({ALB_GROUP_NAME: "shop", ALB_SCHEME: "internet-facing"}),
            json!({}),
        );
        let split = AlbGroup {
            name: "shop",
            members: vec![member_of(&root, &internal), member_of(&public, &facing)],
        };
        assert_eq!(internal_reason(&member, None, &split), None);
        assert_eq!(internal_reason(&internal, None, &split), None);
        // A member's IngressClassParams sets its scheme over its annotation: a group whose
        // other member's class makes it internet-facing is split, even for an Ingress whose
        // own class says internal.
        let public_params = json!({"spec": {"scheme": "internet-facing"}});
        let by_class = AlbGroup {
            name: "shop",
            members: vec![AlbMember {
                id: &root,
                ingress: &internal,
                class_params: Some(("public", &public_params)),
            }],
        };
        let private_params = json!({"spec": {"scheme": "internal"}});
        assert_eq!(
            internal_reason(&member, Some(("private", &private_params)), &by_class),
            None
        );
        let private = AlbGroup {
            name: "shop",
            members: vec![AlbMember {
                id: &root,
                ingress: &facing,
                class_params: Some(("private", &private_params)),
            }],
        };
        assert_eq!(
            internal_reason(&member, None, &private).as_deref(),
            Some(
                "IngressClassParams private sets scheme: internal for Ingress shop/root of its IngressGroup shop"
            )
        );

        // ssl-redirect on one member turns every HTTP listener of the load balancer into a
        // redirect; listen-ports stay each Ingress's own.
        let http = ingress(
            json!({ALB_GROUP_NAME: "shop",
                   "alb.ingress.kubernetes.io/listen-ports": r#"[{"HTTP": 80}, {"HTTPS": 443}]"#}),
            json!({}),
        );
        let alone = listeners(
            &http,
            Controller::AwsAlb,
            FrontendConfig::None,
            None,
            &AlbGroup::default(),
        );
        assert!(matches!(alone.unwrap().plain_http, PlainHttp::Open(_)));
        let grouped = listeners(
            &http,
            Controller::AwsAlb,
            FrontendConfig::None,
            None,
            &group,
        )
        .unwrap();
        match grouped.plain_http {
            PlainHttp::Closed(why) => assert_eq!(
                why,
                "annotation alb.ingress.kubernetes.io/ssl-redirect: 443 on Ingress shop/root of its IngressGroup shop redirects HTTP"
            ),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn gke_serves_managed_certificates_and_plain_http_unless_closed() {
        let managed = ingress(
            json!({"networking.gke.io/managed-certificates": "shop",
                   GKE_FRONTEND_CONFIG: "shop"}),
            json!({}),
        );
        let redirect = json!({"spec": {"redirectToHttps": {"enabled": true}}});
        let found = listeners(
            &managed,
            Controller::Gke,
            FrontendConfig::Found("shop", &redirect),
            None,
            &AlbGroup::default(),
        )
        .unwrap();
        assert!(found.https.unwrap().contains("managed-certificates: shop"));
        assert!(matches!(found.plain_http, PlainHttp::Closed(_)));
        let missing = listeners(
            &managed,
            Controller::Gke,
            FrontendConfig::Missing("shop"),
            None,
            &AlbGroup::default(),
        );
        assert!(matches!(missing.unwrap().plain_http, PlainHttp::Unknown(_)));
        let off = json!({"spec": {"redirectToHttps": {"enabled": false}}});
        let not_redirected = listeners(
            &managed,
            Controller::Gke,
            FrontendConfig::Found("shop", &off),
            None,
            &AlbGroup::default(),
        );
        assert!(matches!(
            not_redirected.unwrap().plain_http,
            PlainHttp::Open(_)
        ));
        let closed = ingress(
            json!({"kubernetes.io/ingress.allow-http": "false"}),
            json!({"tls": [{"secretName": "s"}]}),
        );
        let closed = listeners(
            &closed,
            Controller::Gke,
            FrontendConfig::None,
            None,
            &AlbGroup::default(),
        )
        .unwrap();
        assert_eq!(closed.https.as_deref(), Some("spec.tls"));
        assert!(matches!(closed.plain_http, PlainHttp::Closed(_)));
    }

    #[test]
    fn application_gateway_and_nginx_redirects() {
        let appgw = ingress(
            json!({"appgw.ingress.kubernetes.io/appgw-ssl-certificate": "cert",
                   "appgw.ingress.kubernetes.io/ssl-redirect": "true"}),
            json!({}),
        );
        let l = listeners(
            &appgw,
            Controller::AzureAppGateway,
            FrontendConfig::None,
            None,
            &AlbGroup::default(),
        )
        .unwrap();
        assert!(l.https.is_some());
        assert!(matches!(l.plain_http, PlainHttp::Closed(_)));
        let nginx = ingress(
            json!({"nginx.ingress.kubernetes.io/ssl-redirect": "false"}),
            json!({}),
        );
        assert!(nginx_plain_http(&nginx).is_some());
        let forced = ingress(
            json!({"nginx.ingress.kubernetes.io/ssl-redirect": "false",
                   "nginx.ingress.kubernetes.io/force-ssl-redirect": "true"}),
            json!({}),
        );
        assert_eq!(nginx_plain_http(&forced), None);
        assert_eq!(
            listeners(
                &nginx,
                Controller::Other,
                FrontendConfig::None,
                None,
                &AlbGroup::default()
            ),
            None
        );
    }
}
