//! The Secrets and ConfigMaps a pod spec reads, and how: mounted as a volume (whole, or
//! projected with others), read into one environment variable, loaded as environment
//! variables, or used to pull images. Whoever runs code in the pod, or is root on its node,
//! holds their values.

use palisade_core::JsonPointer;
use serde_json::Value;

/// Which kind of object a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Store {
    Secret,
    ConfigMap,
}

impl Store {
    pub fn kind(self) -> &'static str {
        match self {
            Store::Secret => "Secret",
            Store::ConfigMap => "ConfigMap",
        }
    }
}

/// One reference of a pod spec to a Secret or ConfigMap of its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    pub store: Store,
    pub name: &'a str,
    /// How the pod uses it: `mounted as a volume`.
    pub how: &'static str,
    /// `optional: true`: the pod starts without it.
    pub optional: bool,
    /// The field that names it, under the pod spec's pointer given.
    pub pointer: JsonPointer,
}

/// Where a list's items name a Secret or ConfigMap: the path from an item to the object that
/// names it, the field holding the name, and how the pod uses it.
struct Site {
    store: Store,
    holder: &'static [&'static str],
    name: &'static str,
    how: &'static str,
}

const VOLUMES: &[Site] = &[
    Site {
        store: Store::Secret,
        holder: &["secret"],
        name: "secretName",
        how: "mounted as a volume",
    },
    Site {
        store: Store::ConfigMap,
        holder: &["configMap"],
        name: "name",
        how: "mounted as a volume",
    },
];

const PROJECTED: &[Site] = &[
    Site {
        store: Store::Secret,
        holder: &["secret"],
        name: "name",
        how: "projected into a volume",
    },
    Site {
        store: Store::ConfigMap,
        holder: &["configMap"],
        name: "name",
        how: "projected into a volume",
    },
];

const PULL_SECRETS: &[Site] = &[Site {
    store: Store::Secret,
    holder: &[],
    name: "name",
    how: "used as an image pull secret",
}];

const ENV: &[Site] = &[
    Site {
        store: Store::Secret,
        holder: &["valueFrom", "secretKeyRef"],
        name: "name",
        how: "read into an environment variable",
    },
    Site {
        store: Store::ConfigMap,
        holder: &["valueFrom", "configMapKeyRef"],
        name: "name",
        how: "read into an environment variable",
    },
];

const ENV_FROM: &[Site] = &[
    Site {
        store: Store::Secret,
        holder: &["secretRef"],
        name: "name",
        how: "loaded as environment variables",
    },
    Site {
        store: Store::ConfigMap,
        holder: &["configMapRef"],
        name: "name",
        how: "loaded as environment variables",
    },
];

/// The lists of containers a pod spec has.
const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Every Secret and ConfigMap `pod_spec` (at `base` in its object) names, in the order of
/// its fields: volumes, projected sources, image pull secrets, then each container's `env`
/// and `envFrom`. Fields of the wrong type name nothing.
pub fn pod_references<'a>(pod_spec: &'a Value, base: &JsonPointer) -> Vec<Reference<'a>> {
    let mut found = Vec::new();
    let volumes_path = base.join("volumes");
    let volumes = list(pod_spec, "volumes");
    push(&mut found, &volumes_path, volumes, VOLUMES);
    for (i, volume) in volumes.iter().enumerate() {
        let sources = volume
            .get("projected")
            .map_or(&[][..], |projected| list(projected, "sources"));
        let path = volumes_path.join(i).join("projected").join("sources");
        push(&mut found, &path, sources, PROJECTED);
    }
    let pulls = list(pod_spec, "imagePullSecrets");
    push(
        &mut found,
        &base.join("imagePullSecrets"),
        pulls,
        PULL_SECRETS,
    );
    for field in CONTAINER_LISTS {
        for (i, container) in list(pod_spec, field).iter().enumerate() {
            let at = base.join(field).join(i);
            for (list_field, sites) in [("env", ENV), ("envFrom", ENV_FROM)] {
                let items = list(container, list_field);
                push(&mut found, &at.join(list_field), items, sites);
            }
        }
    }
    found
}

fn list<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Adds the references `sites` find in the list `items` at `list_path`.
fn push<'a>(
    found: &mut Vec<Reference<'a>>,
    list_path: &JsonPointer,
    items: &'a [Value],
    sites: &[Site],
) {
    for (i, item) in items.iter().enumerate() {
        for site in sites {
            let holder = site
                .holder
                .iter()
                .try_fold(item, |value, key| value.get(*key));
            let Some(holder) = holder else { continue };
            let Some(name) = holder.get(site.name).and_then(Value::as_str) else {
                continue;
            };
            found.push(Reference {
                store: site.store,
                name,
                how: site.how,
                // References that cannot be optional (image pull secrets) have no such field.
                optional: holder.get("optional").and_then(Value::as_bool) == Some(true),
                pointer: list_path.join(i).join_all(site.holder).join(site.name),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_a_pod_reads_a_secret_or_config_map_is_found() {
        let spec = serde_json::json!({
            "volumes": [
                {"name": "a", "secret": {"secretName": "tls", "optional": true}},
                {"name": "b", "configMap": {"name": "settings"}},
                {"name": "c", "projected": {"sources": [
                    {"secret": {"name": "creds"}}, {"configMap": {"name": "ca"}},
                    {"serviceAccountToken": {"path": "t"}}
                ]}}
            ],
            "imagePullSecrets": [{"name": "registry"}],
            "initContainers": [{"name": "i", "envFrom": [{"configMapRef": {"name": "init"}}]}],
            "containers": [{"name": "c", "env": [
                {"name": "A", "value": "x"},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}},
                {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "k"}}}
            ], "envFrom": [{"secretRef": {"name": "all"}}]}]
        });
        let base = JsonPointer::parse("/spec/template/spec").unwrap();
        let found: Vec<(Store, &str, &str, bool, String)> = pod_references(&spec, &base)
            .into_iter()
            .map(|r| (r.store, r.name, r.how, r.optional, r.pointer.to_string()))
            .collect();
        use Store::{ConfigMap, Secret};
        assert_eq!(
            found,
            [
                (
                    Secret,
                    "tls",
                    "mounted as a volume",
                    true,
                    "/spec/template/spec/volumes/0/secret/secretName".to_string()
                ),
                (
                    ConfigMap,
                    "settings",
                    "mounted as a volume",
                    false,
                    "/spec/template/spec/volumes/1/configMap/name".into()
                ),
                (
                    Secret,
                    "creds",
                    "projected into a volume",
                    false,
                    "/spec/template/spec/volumes/2/projected/sources/0/secret/name".into()
                ),
                (
                    ConfigMap,
                    "ca",
                    "projected into a volume",
                    false,
                    "/spec/template/spec/volumes/2/projected/sources/1/configMap/name".into()
                ),
                (
                    Secret,
                    "registry",
                    "used as an image pull secret",
                    false,
                    "/spec/template/spec/imagePullSecrets/0/name".into()
                ),
                (
                    Secret,
                    "db",
                    "read into an environment variable",
                    false,
                    "/spec/template/spec/containers/0/env/1/valueFrom/secretKeyRef/name".into()
                ),
                (
                    ConfigMap,
                    "flags",
                    "read into an environment variable",
                    false,
                    "/spec/template/spec/containers/0/env/2/valueFrom/configMapKeyRef/name".into()
                ),
                (
                    Secret,
                    "all",
                    "loaded as environment variables",
                    false,
                    "/spec/template/spec/containers/0/envFrom/0/secretRef/name".into()
                ),
                (
                    ConfigMap,
                    "init",
                    "loaded as environment variables",
                    false,
                    "/spec/template/spec/initContainers/0/envFrom/0/configMapRef/name".into()
                ),
            ]
        );
    }

    #[test]
    fn fields_of_the_wrong_type_name_nothing() {
        let spec =
            serde_json::json!({"volumes": {"secret": {"secretName": "x"}}, "containers": "c"});
        assert!(pod_references(&spec, &JsonPointer::root()).is_empty());
    }
}
