//! The HTTP Service ECK (Elastic Cloud on Kubernetes) makes for each Elasticsearch cluster:
//! `<name>-es-http`, port 9200 in front of every node of the cluster, of the type and with the
//! annotations `spec.http.service` gives it. An Ingress or route naming it reaches the
//! cluster's nodes; a type that publishes it exposes them.

use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use serde_json::{Value, json};

use crate::exposure::{Exposure, service_exposure};

/// The API group and kind of ECK's Elasticsearch.
pub const ELASTICSEARCH: (&str, &str) = ("elasticsearch.k8s.elastic.co", "Elasticsearch");

/// Elasticsearch's HTTP port, on the Service and the Pods.
pub const HTTP_PORT: u16 = 9200;

/// The HTTP Service ECK makes for an Elasticsearch cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpService {
    /// `<cluster>-es-http`.
    pub name: String,
    /// `https`, or `http` when the cluster's self-signed certificate is switched off.
    pub port_name: &'static str,
    /// How its type or external IPs publish it outside the cluster (an internal load
    /// balancer's annotation keeps it inside), with the field that says so.
    pub published: Option<(Exposure, JsonPointer)>,
}

/// The HTTP Service of `object`, an object of `(group, kind)` named `name`, when it is an
/// Elasticsearch cluster.
pub fn http_service(group: &str, kind: &str, name: &str, object: &Value) -> Option<HttpService> {
    if (group, kind) != ELASTICSEARCH {
        return None;
    }
    let tls_off = object.at("/spec/http/tls/selfSignedCertificate/disabled") == Some(&json!(true));
    let written = object.at("/spec/http/service");
    // The Service as `spec.http.service` writes it: ECK copies its metadata and spec.
    let service = json!({
        "metadata": written.and_then(|s| s.get("metadata")).cloned().unwrap_or(Value::Null),
        "spec": written.and_then(|s| s.get("spec")).cloned().unwrap_or(Value::Null),
    });
    let field = |tail: &str| {
        JsonPointer::parse(&format!("/spec/http/service/spec/{tail}")).unwrap_or_default()
    };
    let published = service_exposure(&service).map(|exposure| {
        let at = match exposure {
            Exposure::ExternalIps => field("externalIPs"),
            _ => field("type"),
        };
        (exposure, at)
    });
    Some(HttpService {
        name: format!("{name}-es-http"),
        port_name: if tls_off { "http" } else { "https" },
        published,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_service_takes_the_type_and_annotations_written() {
        let es = |http: Value| json!({"spec": {"version": "8.15.0", "http": http, "nodeSets": [{"name": "default"}]}});
        let of = |object: &Value| {
            http_service(ELASTICSEARCH.0, ELASTICSEARCH.1, "logs", object).unwrap()
        };
        let plain = of(&es(Value::Null));
        assert_eq!(plain.name, "logs-es-http");
        assert_eq!(plain.port_name, "https");
        assert_eq!(plain.published, None);
        let public = of(&es(json!({"service": {"spec": {"type": "LoadBalancer"}}})));
        let (exposure, at) = public.published.unwrap();
        assert_eq!(exposure, Exposure::PublicLoadBalancer);
        assert_eq!(at.as_str(), "/spec/http/service/spec/type");
        let internal = of(&es(json!({"service": {
            "metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
            "spec": {"type": "LoadBalancer"}}})));
        assert_eq!(internal.published, None);
        let plain_http = of(&es(
            json!({"tls": {"selfSignedCertificate": {"disabled": true}}}),
        ));
        assert_eq!(plain_http.port_name, "http");
        assert_eq!(http_service("apps", "Deployment", "logs", &json!({})), None);
    }
}
