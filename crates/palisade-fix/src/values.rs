//! The hardening of a Helm chart written into its `values.yaml`, never into its templates.
//! Charts made with `helm create` (most charts) write `.Values.podSecurityContext` into each
//! pod spec and `.Values.securityContext` into the main container, so a field set there reaches
//! every pod and container that uses it. A field is set only when every pod spec or container
//! of the rendered chart that lacks it is one the field is wanted for: one that may not have it
//! (a privileged container and `allowPrivilegeEscalation: false`, a container that may run as
//! root and dropping every capability) blocks it, since it might read the same values. Whether
//! the templates read the values at all is for the caller to check by rendering the chart again.

use palisade_core::JsonPointer;
use palisade_core::tree::Tree as _;
use palisade_inventory::yaml::parse_stream;
use palisade_inventory::{ContainerKind, Limits, Object};
use serde_json::{Value, json};

use crate::hardening::{Addition, Field, apply, lacks};

/// One field for the values: the values key (`podSecurityContext`, `securityContext`), its
/// path under that key, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: &'static str,
    pub path: &'static [&'static str],
    pub value: Value,
    pub field: Field,
}

/// Where `field` goes for a pod spec (`pod`) or a container; `None` when it does not go there.
fn setting(field: Field, pod: bool) -> Option<Setting> {
    let key = match (field, pod) {
        (Field::Seccomp | Field::RunAsNonRoot, true) => "podSecurityContext",
        (
            Field::RunAsNonRoot | Field::NoPrivilegeEscalation | Field::DropAllCapabilities,
            false,
        ) => "securityContext",
        _ => return None,
    };
    Some(Setting {
        key,
        path: field.path(),
        value: field.value(),
        field,
    })
}

/// The settings every holder lacking them wants, from the chart's rendered objects and the
/// additions wanted for each.
pub fn chart_settings(objects: &[(&Object, Vec<Addition>)]) -> Vec<Setting> {
    // (setting, holders lacking it, holders lacking and wanting it)
    let mut tally: Vec<(Setting, usize, usize)> = Vec::new();
    for (object, additions) in objects {
        let Some(spec_pointer) =
            palisade_inventory::podspec::pod_spec_pointer(object.id.group(), &object.id.kind)
        else {
            continue;
        };
        let Some(spec) = object.value.at(spec_pointer) else {
            continue;
        };
        let Some(base) = JsonPointer::parse(spec_pointer) else {
            continue;
        };
        let mut holders = vec![(true, spec, base.clone())];
        for kind in [ContainerKind::Container, ContainerKind::Init] {
            for (i, container) in spec
                .get(kind.field())
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                holders.push((false, container, base.join(kind.field()).join(i)));
            }
        }
        for (pod, holder, at) in holders {
            for field in Field::ALL {
                let Some(setting) = setting(field, pod) else {
                    continue;
                };
                if !lacks(holder, field) {
                    continue;
                }
                let wanted = additions
                    .iter()
                    .any(|a| a.holder == at && a.fields.contains(&field));
                match tally.iter_mut().find(|(s, _, _)| *s == setting) {
                    Some((_, lacking, wanting)) => {
                        *lacking += 1;
                        *wanting += usize::from(wanted);
                    }
                    None => tally.push((setting, 1, usize::from(wanted))),
                }
            }
        }
    }
    tally
        .into_iter()
        .filter(|(_, lacking, wanting)| *wanting > 0 && wanting == lacking)
        .map(|(setting, _, _)| setting)
        .collect()
}

/// `settings` written into the values file `text` (read as `path`): the fixed text and the
/// edits, `Ok(None)` when the values set them all already; an error when the values have no
/// mapping under a key a setting needs.
pub fn fix_values(
    path: &str,
    text: &str,
    limits: &Limits,
    settings: &[Setting],
) -> Result<Option<(String, Vec<palisade_core::Edit>)>, String> {
    let stream = parse_stream(text, limits);
    let [document] = stream.documents.as_slice() else {
        return Err("the values file is not one YAML document".to_string());
    };
    if !stream.errors.is_empty() {
        return Err("the values file does not read as YAML".to_string());
    }
    let mut additions: Vec<Addition> = Vec::new();
    for setting in settings {
        let Some(Value::Object(under)) = document.value.get(setting.key) else {
            return Err(format!(
                "its values have no `{}` mapping (the `helm create` convention): set the \
                 fields in its templates",
                setting.key
            ));
        };
        let at = JsonPointer::root().join(setting.key);
        let addition = match setting.path {
            [key] => under
                .get(*key)
                .is_none_or(Value::is_null)
                .then(|| values_addition(at, key, setting.value.clone(), setting.field)),
            [parent, key] => match under.get(*parent) {
                Some(Value::Object(inner)) => {
                    inner.get(*key).is_none_or(Value::is_null).then(|| {
                        values_addition(at.join(parent), key, setting.value.clone(), setting.field)
                    })
                }
                None | Some(Value::Null) => Some(values_addition(
                    at,
                    parent,
                    json!({ *key: setting.value }),
                    setting.field,
                )),
                Some(_) => None,
            },
            _ => None,
        };
        additions.extend(addition);
    }
    if additions.is_empty() {
        return Ok(None);
    }
    let lines = crate::edit::Text::new(path, text);
    let doc = crate::edit::Document {
        value: &document.value,
        spans: &document.spans,
    };
    let mut edits = crate::edit::edits(&lines, doc, &additions)?;
    edits.sort_by_key(|e| (e.start, e.end));
    let fixed = crate::edit::apply(text, &edits).ok_or("two edits overlap")?;
    let reread = parse_stream(&fixed, limits);
    let mut expected = document.value.clone();
    let read_back = apply(&mut expected, &additions)
        && reread.errors.is_empty()
        && reread.documents.len() == 1
        && reread.documents[0].value == expected
        && reread.documents[0].warnings.len() <= document.warnings.len();
    if !read_back {
        return Err("the edited values do not read back as the values with the fields".to_string());
    }
    Ok(Some((fixed, edits)))
}

fn values_addition(at: JsonPointer, key: &str, value: Value, field: Field) -> Addition {
    Addition {
        holder_name: format!("values {}", at.as_str().trim_start_matches('/')),
        holder: at.clone(),
        at,
        key: key.to_string(),
        value,
        fields: vec![field],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardening::{Hardening, every, for_object};

    fn object(text: &str) -> Object {
        palisade_inventory::load_text("r.yaml", text, &Limits::default())
            .inventory
            .objects
            .remove(0)
    }

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      securityContext: {runAsUser: 1000}\n      containers: [{name: web, image: x}]\n";

    /// `helm create`'s values: empty contexts with the examples commented out.
    const VALUES: &str = "replicaCount: 1\n\npodSecurityContext: {}\n  # fsGroup: 2000\n\nsecurityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\n\nservice:\n  type: ClusterIP\n";

    #[test]
    fn a_helm_create_chart_gets_the_fields_in_its_values() {
        let web = object(WEB);
        let additions = for_object(&web, &Hardening::default(), &every);
        let settings = chart_settings(&[(&web, additions)]);
        let keys: Vec<_> = settings.iter().map(|s| (s.key, s.path)).collect();
        assert_eq!(
            keys,
            [
                ("podSecurityContext", &["runAsNonRoot"][..]),
                ("podSecurityContext", &["seccompProfile"][..]),
                ("securityContext", &["allowPrivilegeEscalation"][..]),
                ("securityContext", &["capabilities", "drop"][..]),
            ]
        );
        let (fixed, _) = fix_values("values.yaml", VALUES, &Limits::default(), &settings)
            .unwrap()
            .unwrap();
        assert_eq!(
            fixed,
            "replicaCount: 1\n\npodSecurityContext:\n  runAsNonRoot: true\n  seccompProfile:\n    type: RuntimeDefault\n  # fsGroup: 2000\n\nsecurityContext:\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop:\n      - ALL\n  # capabilities:\n  #   drop:\n  #   - ALL\n\nservice:\n  type: ClusterIP\n"
        );
        assert_eq!(
            fix_values("values.yaml", &fixed, &Limits::default(), &settings),
            Ok(None)
        );
    }

    /// A container that lacks a field and may not have it (a privileged one) keeps it out of
    /// the values every container may read.
    #[test]
    fn a_container_that_may_not_have_a_field_keeps_it_out() {
        let web = object(WEB);
        let agent = object(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x, securityContext: {privileged: true}}]\n",
        );
        let settings = chart_settings(&[
            (&web, for_object(&web, &Hardening::default(), &every)),
            (&agent, for_object(&agent, &Hardening::default(), &every)),
        ]);
        assert!(
            settings
                .iter()
                .all(|s| s.field != Field::NoPrivilegeEscalation
                    && s.field != Field::DropAllCapabilities),
            "{settings:?}"
        );
        assert!(settings.iter().any(|s| s.field == Field::Seccomp));
        let missing = fix_values(
            "values.yaml",
            "replicaCount: 1\n",
            &Limits::default(),
            &settings,
        );
        assert!(
            missing
                .unwrap_err()
                .contains("no `podSecurityContext` mapping")
        );
    }
}
