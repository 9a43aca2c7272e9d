//! What the Ingress rules look up about the judged Ingress in the inventory: the controller
//! its class names, and the GKE objects it and its Services name (FrontendConfig,
//! BackendConfig). What the controllers make of them is `palisade_k8s::ingress`.

use palisade_k8s::ingress;
use serde_json::Value;

use crate::context::Context;

/// Which controller serves the judged Ingress ([`palisade_net::exposure::ingress_controller`]).
pub fn controller(cx: &Context<'_>) -> ingress::Controller {
    palisade_net::exposure::ingress_controller(cx.inventory, &cx.object.value)
}

/// The GKE FrontendConfig the judged Ingress names (in its namespace).
pub fn frontend_config<'a>(cx: &Context<'a>) -> ingress::FrontendConfig<'a> {
    let Some(name) = ingress::annotation(&cx.object.value, ingress::GKE_FRONTEND_CONFIG) else {
        return ingress::FrontendConfig::None;
    };
    let namespace = cx.object.id.namespace.as_deref();
    match cx
        .objects_named(("networking.gke.io", "FrontendConfig"), namespace, name)
        .first()
    {
        Some(found) => ingress::FrontendConfig::Found(name, &found.value),
        None => ingress::FrontendConfig::Missing(name),
    }
}

/// The GKE BackendConfig that configures the load balancer's backend for `backend` (a
/// Service the judged Ingress names), as the Service's annotation names it: `Ok` with the
/// BackendConfig's name and the object when the input holds it, `Err` with why there is none
/// or what the input lacks.
pub fn gke_backend_config<'a>(
    cx: &Context<'a>,
    backend: &ingress::Backend<'_>,
) -> Result<(String, &'a Value), String> {
    let namespace = cx.object.id.namespace.as_deref();
    let Some(service) = cx
        .objects_named(("", "Service"), namespace, backend.service)
        .into_iter()
        .next()
    else {
        return Err(format!("Service {} is not in the input", backend.service));
    };
    let Some(name) = ingress::gke_backend_config_name(&service.value, backend.port) else {
        let annotated = ingress::GKE_BACKEND_CONFIG
            .iter()
            .any(|key| ingress::annotation(&service.value, key).is_some());
        let which = if annotated {
            " for the port the Ingress uses"
        } else {
            ""
        };
        return Err(format!(
            "Service {} names no BackendConfig{which}",
            backend.service
        ));
    };
    match cx
        .objects_named(("cloud.google.com", "BackendConfig"), namespace, &name)
        .into_iter()
        .next()
    {
        Some(config) => Ok((name, &config.value)),
        None => Err(format!(
            "BackendConfig {name}, which Service {} names, is not in the input",
            backend.service
        )),
    }
}
