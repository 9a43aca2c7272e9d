//! Gatekeeper's mutators (`mutations.gatekeeper.sh`): `Assign`, `AssignMetadata`,
//! `ModifySet` and `AssignImage`, read and applied as Gatekeeper's mutation system applies
//! them: in order of kind and name, over and over until the object stops changing (at most
//! one round more than there are mutators; an object that comes back to where it started is
//! an oscillation). Mutators whose locations give the same field two shapes (an object and a
//! list, lists keyed by different fields, a set and a string) conflict and are not applied,
//! as Gatekeeper leaves them out.
//!
//! Palisade applies them to the mock resources ExpansionTemplates make (a Deployment's Pod is
//! judged as the cluster would create it, with the defaults a mutator sets). External data
//! (`assign.externalData`) cannot be fetched offline: such a mutator is refused when read.

use std::collections::BTreeMap;

use palisade_core::tree::Tree as _;
use serde_json::{Map, Value};

use crate::gatekeeper::{Applies, Match, strings};
use crate::mutation_path::{Step, display, parse};

/// The kinds of mutator, in the order Gatekeeper applies them (by kind, then by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MutatorKind {
    Assign,
    AssignImage,
    AssignMetadata,
    ModifySet,
}

impl MutatorKind {
    pub fn of(kind: &str) -> Option<MutatorKind> {
        match kind {
            "Assign" => Some(MutatorKind::Assign),
            "AssignImage" => Some(MutatorKind::AssignImage),
            "AssignMetadata" => Some(MutatorKind::AssignMetadata),
            "ModifySet" => Some(MutatorKind::ModifySet),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MutatorKind::Assign => "Assign",
            MutatorKind::AssignImage => "AssignImage",
            MutatorKind::AssignMetadata => "AssignMetadata",
            MutatorKind::ModifySet => "ModifySet",
        }
    }
}

/// What a mutator does at its location.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Sets the value (`assign.value`).
    Value(Value),
    /// Sets the object's `metadata.name` or `metadata.namespace` (`assign.fromMetadata`).
    FromMetadata(&'static str),
    /// Adds the values missing from the list (`merge`) or removes them (`prune`).
    Set { prune: bool, values: Vec<Value> },
    /// Replaces the parts of an image reference that are given.
    Image {
        domain: String,
        path: String,
        tag: String,
    },
}

/// The shape a mutator's last step gives its field, for conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terminal {
    Unknown,
    Set,
    String,
}

/// `(group, version, kind)` and operations a mutator applies to (`applyTo`).
#[derive(Debug, Clone, PartialEq)]
struct ApplyTo {
    groups: Vec<String>,
    versions: Vec<String>,
    kinds: Vec<String>,
    operations: Vec<String>,
}

/// A mutator, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutator {
    pub kind: MutatorKind,
    pub name: String,
    steps: Vec<Step>,
    /// `pathTests`, by the index of the step they test: `true` for MustExist.
    tests: BTreeMap<usize, bool>,
    /// Empty for AssignMetadata, which applies to every kind.
    apply_to: Vec<ApplyTo>,
    matcher: Match,
    action: Action,
}

/// Why a mutator cannot be used, or why mutating an object failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MutationError(pub String);

impl Mutator {
    /// Reads a mutator, refusing what Gatekeeper refuses (a malformed location, a metadata
    /// location for anything but AssignMetadata, a path test that is not a prefix of the
    /// location, a missing `applyTo`, an image part that would not converge, ...).
    pub fn from_value(value: &Value) -> Result<Mutator, MutationError> {
        let kind_text = value.get("kind").and_then(Value::as_str).unwrap_or("");
        let kind = MutatorKind::of(kind_text)
            .ok_or_else(|| MutationError(format!("`{kind_text}` is not a mutator kind")))?;
        let name = value
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let refuse = |message: String| MutationError(format!("{} {name}: {message}", kind.name()));
        let location = value
            .at("/spec/location")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("spec.location is missing".into()))?;
        let steps =
            parse(location).map_err(|e| refuse(format!("spec.location `{location}`: {e}")))?;
        let metadata_root = steps.first() == Some(&Step::Field("metadata".into()));
        let parameters = value.at("/spec/parameters").cloned().unwrap_or(Value::Null);
        let action = match kind {
            MutatorKind::AssignMetadata => {
                let valid = steps.len() == 3
                    && metadata_root
                    && matches!(&steps[1], Step::Field(f) if f == "labels" || f == "annotations")
                    && matches!(steps[2], Step::Field(_));
                if !valid {
                    return Err(refuse(format!(
                        "spec.location `{location}` must be metadata.labels.<key> or \
                         metadata.annotations.<key>"
                    )));
                }
                match assign_action(&parameters, &steps).map_err(refuse)? {
                    Action::Value(Value::String(s)) => Action::Value(Value::String(s)),
                    Action::FromMetadata(field) => Action::FromMetadata(field),
                    _ => {
                        return Err(refuse(
                            "spec.parameters.assign.value must be a string".into(),
                        ));
                    }
                }
            }
            _ if metadata_root => {
                return Err(refuse(
                    "only AssignMetadata may change metadata (spec.location starts with \
                     metadata)"
                        .into(),
                ));
            }
            MutatorKind::Assign => assign_action(&parameters, &steps).map_err(refuse)?,
            MutatorKind::ModifySet => set_action(&parameters, &steps).map_err(refuse)?,
            MutatorKind::AssignImage => image_action(&parameters, &steps).map_err(refuse)?,
        };
        key_not_changed(&steps).map_err(refuse)?;
        let tests = match kind {
            // AssignMetadata never changes a label or annotation that is set.
            MutatorKind::AssignMetadata => BTreeMap::from([(2, false)]),
            _ => path_tests(&parameters, &steps).map_err(refuse)?,
        };
        let apply_to = match kind {
            MutatorKind::AssignMetadata => Vec::new(),
            _ => apply_to(value).map_err(refuse)?,
        };
        let spec_match = value.at("/spec/match").cloned().unwrap_or(Value::Null);
        let matcher = Match::from_spec(&spec_match)
            .map_err(|(field, message)| refuse(format!("spec.match.{field}: {message}")))?;
        Ok(Mutator {
            kind,
            name,
            steps,
            tests,
            apply_to,
            matcher,
            action,
        })
    }

    /// `Assign/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind.name(), self.name)
    }

    fn terminal(&self) -> Terminal {
        match self.action {
            Action::Set { .. } => Terminal::Set,
            Action::Image { .. } => Terminal::String,
            _ => Terminal::Unknown,
        }
    }

    fn applies_to(&self, object: &Value, operation: Option<&str>) -> bool {
        if self.kind == MutatorKind::AssignMetadata {
            return true;
        }
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        self.apply_to.iter().any(|a| {
            a.groups.iter().any(|g| g == group)
                && a.versions.iter().any(|v| v == version)
                && a.kinds.iter().any(|k| k == kind)
                && (a.operations.is_empty()
                    || operation.is_none_or(|op| a.operations.iter().any(|o| o == op)))
        })
    }

    fn exists_okay(&self, depth: usize) -> bool {
        self.tests.get(&depth).is_none_or(|must_exist| *must_exist)
    }

    fn missing_okay(&self, depth: usize) -> bool {
        self.tests.get(&depth).is_none_or(|must_exist| !*must_exist)
    }

    /// Applies the mutator to `object`; true when it set a value (which may be the value
    /// already there).
    fn mutate(&self, object: &mut Value) -> Result<bool, MutationError> {
        // `fromMetadata`: the object's `metadata.name` or `metadata.namespace`.
        let value = match self.action {
            Action::FromMetadata(field) => Some(Value::String(
                object
                    .get("metadata")
                    .and_then(|m| m.get(field))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )),
            _ => None,
        };
        Walk {
            mutator: self,
            value: value.as_ref(),
        }
        .at(object, 0)
        .map_err(|e| MutationError(format!("{}: {e}", self.id())))
    }
}

/// One application of a mutator: the value it sets, when it comes from the object.
struct Walk<'m> {
    mutator: &'m Mutator,
    value: Option<&'m Value>,
}

impl Walk<'_> {
    fn last(&self) -> usize {
        self.mutator.steps.len() - 1
    }

    /// Gatekeeper's traversal: fields that are missing on the way are created (an element of
    /// a keyed list with its key), and kept only when the mutation below them happened.
    fn at(&self, current: &mut Value, depth: usize) -> Result<bool, String> {
        let m = self.mutator;
        match &m.steps[depth] {
            Step::Field(field) => {
                let Value::Object(map) = current else {
                    return Err(format!(
                        "{} is not an object",
                        display(&m.steps[..depth.max(1)])
                    ));
                };
                let exists = map.contains_key(field);
                if (exists && !m.exists_okay(depth)) || (!exists && !m.missing_okay(depth)) {
                    return Ok(false);
                }
                if depth == self.last() {
                    self.set(map, field)?;
                    return Ok(true);
                }
                if let Some(next) = map.get_mut(field) {
                    return self.at(next, depth + 1);
                }
                let mut next = self.missing(depth)?;
                let mutated = self.at(&mut next, depth + 1)?;
                if mutated {
                    map.insert(field.clone(), next);
                }
                Ok(mutated)
            }
            Step::List { key, value } => {
                let Value::Array(items) = current else {
                    return Err(format!("{} is not a list", display(&m.steps[..depth])));
                };
                if depth == self.last() {
                    return self.set_element(items, key, value.as_deref(), depth);
                }
                if value.is_none() && !m.exists_okay(depth) {
                    return Ok(false);
                }
                let mut mutated = false;
                let mut found = false;
                for item in items.iter_mut() {
                    let selected = match value {
                        None => true,
                        Some(wanted) => item.get(key).and_then(Value::as_str) == Some(wanted),
                    };
                    if !selected {
                        continue;
                    }
                    if value.is_some() && !m.exists_okay(depth) {
                        return Ok(false);
                    }
                    mutated |= self.at(item, depth + 1)?;
                    found = true;
                }
                if value.is_some() && !found {
                    if !m.missing_okay(depth) {
                        return Ok(false);
                    }
                    let mut next = self.missing(depth)?;
                    if self.at(&mut next, depth + 1)? {
                        items.push(next);
                        mutated = true;
                    }
                }
                Ok(mutated)
            }
        }
    }

    /// The element made for a missing step `depth`: an object or a list as the next step
    /// says; an element of a keyed list has its key.
    fn missing(&self, depth: usize) -> Result<Value, String> {
        let steps = &self.mutator.steps;
        let next = match steps[depth + 1] {
            Step::Field(_) => Value::Object(Map::new()),
            Step::List { .. } => Value::Array(Vec::new()),
        };
        match (&steps[depth], next) {
            (Step::List { key, value }, Value::Object(mut map)) => {
                let value = value.clone().ok_or("a globbed list has no key to create")?;
                map.insert(key.clone(), Value::String(value));
                Ok(Value::Object(map))
            }
            (Step::List { .. }, _) => Err("two list steps in a row".into()),
            (_, next) => Ok(next),
        }
    }

    fn assigned(&self) -> Value {
        match (&self.mutator.action, self.value) {
            (_, Some(value)) => value.clone(),
            (Action::Value(value), None) => value.clone(),
            _ => Value::Null,
        }
    }

    /// Sets the mutator's value at `field` of `map` (the last step).
    fn set(&self, map: &mut Map<String, Value>, field: &str) -> Result<(), String> {
        match &self.mutator.action {
            Action::Value(_) | Action::FromMetadata(_) => {
                map.insert(field.to_string(), self.assigned());
            }
            Action::Set { prune, values } => {
                let list = match map.get_mut(field) {
                    None if *prune => return Ok(()),
                    None => {
                        map.insert(field.to_string(), Value::Array(values.clone()));
                        return Ok(());
                    }
                    Some(Value::Array(list)) => list,
                    Some(other) => {
                        // The value's type only: an object's values are never printed.
                        return Err(format!(
                            "{field} is {}, not a list of values",
                            palisade_inventory::admissible::kind_of(other)
                        ));
                    }
                };
                if *prune {
                    list.retain(|existing| !values.contains(existing));
                } else {
                    for value in values {
                        if !list.contains(value) {
                            list.push(value.clone());
                        }
                    }
                }
            }
            Action::Image { domain, path, tag } => {
                let current = match map.get(field) {
                    None => "",
                    Some(Value::String(text)) => text.as_str(),
                    Some(other) => {
                        return Err(format!(
                            "{field} is {}, not an image",
                            palisade_inventory::admissible::kind_of(other)
                        ));
                    }
                };
                let image = mutate_image(current, domain, path, tag);
                map.insert(field.to_string(), Value::String(image));
            }
        }
        Ok(())
    }

    /// Assigns the list element whose `key` is `wanted` (Assign to `list[key: value]`).
    fn set_element(
        &self,
        items: &mut Vec<Value>,
        key: &str,
        wanted: Option<&str>,
        depth: usize,
    ) -> Result<bool, String> {
        let wanted = wanted.ok_or("the last step cannot be a glob")?;
        let value = self.assigned();
        for item in items.iter_mut() {
            if item.get(key).and_then(Value::as_str) == Some(wanted) {
                if !self.mutator.exists_okay(depth) {
                    return Ok(false);
                }
                *item = value;
                return Ok(true);
            }
        }
        if !self.mutator.missing_okay(depth) {
            return Ok(false);
        }
        items.push(value);
        Ok(true)
    }
}

fn assign_action(parameters: &Value, steps: &[Step]) -> Result<Action, String> {
    let assign = parameters.get("assign").cloned().unwrap_or(Value::Null);
    let given: Vec<&str> = ["value", "fromMetadata", "externalData"]
        .into_iter()
        .filter(|k| assign.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let action =
        match given.as_slice() {
            ["value"] => Action::Value(assign["value"].clone()),
            ["fromMetadata"] => match assign.at("/fromMetadata/field").and_then(Value::as_str) {
                Some("name") => Action::FromMetadata("name"),
                Some("namespace") => Action::FromMetadata("namespace"),
                other => {
                    return Err(format!(
                        "spec.parameters.assign.fromMetadata.field {} is not name or namespace",
                        other.unwrap_or("(missing)")
                    ));
                }
            },
            ["externalData"] => {
                return Err(
                    "spec.parameters.assign.externalData needs an external data provider, \
                 which Palisade cannot call"
                        .into(),
                );
            }
            [] => return Err("spec.parameters.assign must set value or fromMetadata".into()),
            _ => return Err(
                "spec.parameters.assign must set only one of value, fromMetadata and externalData"
                    .into(),
            ),
        };
    if let Some(Step::List { key, value }) = steps.last() {
        let Action::Value(assigned) = &action else {
            return Err("a metadata field cannot be assigned to a list element".into());
        };
        let Some(value) = value else {
            return Err("a value cannot be assigned to every element of a list (a glob)".into());
        };
        if assigned.get(key).and_then(Value::as_str) != Some(value.as_str()) {
            return Err(format!(
                "the value assigned to [{key}: {value}] must be an object whose {key} is {value}"
            ));
        }
    }
    Ok(action)
}

fn set_action(parameters: &Value, steps: &[Step]) -> Result<Action, String> {
    if matches!(steps.last(), Some(Step::List { .. })) {
        return Err("the last step of a ModifySet location cannot be a keyed list".into());
    }
    let prune = match parameters.get("operation").and_then(Value::as_str) {
        None | Some("merge") => false,
        Some("prune") => true,
        Some(other) => {
            return Err(format!(
                "spec.parameters.operation `{other}` is not merge or prune"
            ));
        }
    };
    let values = parameters
        .at("/values/fromList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(Action::Set { prune, values })
}

fn image_action(parameters: &Value, steps: &[Step]) -> Result<Action, String> {
    if matches!(steps.last(), Some(Step::List { .. })) {
        return Err("the last step of an AssignImage location cannot be a keyed list".into());
    }
    let text = |key: &str| {
        parameters
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (domain, path, tag) = (text("assignDomain"), text("assignPath"), text("assignTag"));
    image_parts_valid(&domain, &path, &tag)?;
    Ok(Action::Image { domain, path, tag })
}

/// Gatekeeper's checks that an AssignImage converges: each part has the shape of its kind,
/// so it cannot leak into its neighbour the next time the image is split.
fn image_parts_valid(domain: &str, path: &str, tag: &str) -> Result<(), String> {
    if domain.is_empty() && path.is_empty() && tag.is_empty() {
        return Err("at least one of assignDomain, assignPath and assignTag must be set".into());
    }
    static PATTERNS: std::sync::LazyLock<[regex::Regex; 3]> = std::sync::LazyLock::new(|| {
        [
            r"(^\w[\w\-_]*\.[\w\-_\.]*[\w](:\d+)?$)|(^localhost(:\d+)?$)",
            r"^[a-z0-9]+(?:(?:(?:[._/]|__|[-]*)[a-z0-9]+)+)?",
            r"(^:[\w][\w.-]{0,127}$)|(^@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}$)",
        ]
        .map(|pattern| regex::Regex::new(pattern).expect("a valid pattern"))
    });
    let [domain_re, path_re, tag_re] = &*PATTERNS;
    if !domain.is_empty() && !domain_re.is_match(domain) {
        return Err(format!("assignDomain `{domain}` is not a registry domain"));
    }
    if !path.is_empty() && path_re.find(path).map(|m| m.as_str()) != Some(path) {
        return Err(format!("assignPath `{path}` is not a repository path"));
    }
    if !tag.is_empty() && !tag_re.is_match(tag) {
        return Err(format!(
            "assignTag `{tag}` must be `:tag` or `@algorithm:digest`"
        ));
    }
    if domain.is_empty() && !split_domain(path).0.is_empty() {
        return Err(format!(
            "assignDomain must be set when assignPath `{path}` starts with what reads as a domain"
        ));
    }
    Ok(())
}

/// `(domain, rest)`: the first component is a domain when it has a `.` or `:`, or is
/// `localhost` (Gatekeeper's split, which keeps `docker.io` implicit).
fn split_domain(image: &str) -> (&str, &str) {
    match image.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => ("", image),
    }
}

/// `image` with the parts that are given replaced.
fn mutate_image(image: &str, domain: &str, path: &str, tag: &str) -> String {
    let (old_domain, rest) = split_domain(image);
    let (old_path, old_tag) = match rest.find([':', '@']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let pick = |new: &str, old: &str| {
        if new.is_empty() {
            old.to_string()
        } else {
            new.to_string()
        }
    };
    let domain = pick(domain, old_domain);
    let mut out = if domain.is_empty() {
        String::new()
    } else {
        format!("{domain}/")
    };
    out.push_str(&pick(path, old_path));
    out.push_str(&pick(tag, old_tag));
    out
}

/// A location may not end by changing a list element's key (`list[name: a].name`).
fn key_not_changed(steps: &[Step]) -> Result<(), String> {
    if let [.., Step::List { key, .. }, last] = steps {
        match last {
            Step::List { .. } => return Err("a list step cannot follow a list step".into()),
            Step::Field(field) if field == key => {
                return Err(format!("the location changes the list element's key {key}"));
            }
            Step::Field(_) => {}
        }
    }
    Ok(())
}

fn path_tests(parameters: &Value, steps: &[Step]) -> Result<BTreeMap<usize, bool>, String> {
    let mut tests = BTreeMap::new();
    for test in parameters
        .get("pathTests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sub_path = test.get("subPath").and_then(Value::as_str).unwrap_or("");
        let sub = parse(sub_path).map_err(|e| format!("pathTests subPath `{sub_path}`: {e}"))?;
        if sub.len() > steps.len() || sub.iter().zip(steps).any(|(a, b)| a != b) {
            return Err(format!(
                "pathTests subPath `{sub_path}` is not a prefix of the location"
            ));
        }
        let must_exist = match test.get("condition").and_then(Value::as_str) {
            Some("MustExist") => true,
            Some("MustNotExist") => false,
            other => {
                return Err(format!(
                    "pathTests condition {} is not MustExist or MustNotExist",
                    other.unwrap_or("(missing)")
                ));
            }
        };
        if tests
            .insert(sub.len() - 1, must_exist)
            .is_some_and(|c| c != must_exist)
        {
            return Err(format!("pathTests give `{sub_path}` two conditions"));
        }
    }
    Ok(tests)
}

fn apply_to(value: &Value) -> Result<Vec<ApplyTo>, String> {
    let entries: Vec<ApplyTo> = value
        .at("/spec/applyTo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|entry| ApplyTo {
            groups: strings(entry.get("groups")),
            versions: strings(entry.get("versions")),
            kinds: strings(entry.get("kinds")),
            operations: strings(entry.get("operations")),
        })
        .collect();
    if entries.is_empty() {
        return Err("spec.applyTo is required".into());
    }
    if entries
        .iter()
        .any(|a| a.groups.is_empty() || a.versions.is_empty() || a.kinds.is_empty())
    {
        return Err("each spec.applyTo entry needs groups, versions and kinds".into());
    }
    Ok(entries)
}

/// The mutators of a run, in Gatekeeper's order, those in conflict left out.
#[derive(Debug, Clone, Default)]
pub struct Mutators {
    list: Vec<Mutator>,
    /// Namespaces a Gatekeeper `Config` exempts from mutation.
    exempt_namespaces: Vec<String>,
}

impl Mutators {
    /// The mutators to apply, and a problem for each one left out for a conflict.
    pub fn new(mut list: Vec<Mutator>, exempt_namespaces: Vec<String>) -> (Mutators, Vec<String>) {
        list.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        list.dedup_by(|a, b| a.kind == b.kind && a.name == b.name);
        let mut conflicted = vec![false; list.len()];
        let mut problems = Vec::new();
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                if let Some(at) = conflict(&list[i], &list[j]) {
                    conflicted[i] = true;
                    conflicted[j] = true;
                    problems.push(format!(
                        "{} and {} give {at} different shapes; neither is applied, as \
                         Gatekeeper applies neither",
                        list[i].id(),
                        list[j].id()
                    ));
                }
            }
        }
        let list = list
            .into_iter()
            .zip(conflicted)
            .filter_map(|(m, out)| (!out).then_some(m))
            .collect();
        (
            Mutators {
                list,
                exempt_namespaces,
            },
            problems,
        )
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many mutators are applied (those in conflict left out).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Applies the mutators that match `object` until it stops changing; true when it
    /// changed. `namespaced` says whether its kind is namespaced, `namespace_labels` are its
    /// namespace's labels when that was read, `operation` the admission operation (none for
    /// a mock resource), and `generated` whether it is a mock resource.
    pub fn mutate(
        &self,
        object: &mut Value,
        namespaced: bool,
        namespace_labels: Option<&Map<String, Value>>,
        operation: Option<&str>,
        generated: bool,
    ) -> Result<bool, MutationError> {
        if self.list.is_empty() {
            return Ok(false);
        }
        if let Some(namespace) = crate::gatekeeper::counted_namespace(object)
            && self
                .exempt_namespaces
                .iter()
                .any(|p| crate::gatekeeper::glob(p, namespace))
        {
            return Ok(false);
        }
        let original = object.clone();
        for round in 0..=self.list.len() {
            let before = object.clone();
            let mut applied = false;
            for mutator in &self.list {
                if !mutator.applies_to(object, operation)
                    || !mutator.matcher.source_allows(generated)
                {
                    continue;
                }
                match mutator
                    .matcher
                    .applies(object, namespaced, namespace_labels)
                {
                    Applies::Yes => applied |= mutator.mutate(object)?,
                    Applies::No => {}
                    Applies::Unknown(why) => {
                        return Err(MutationError(format!(
                            "whether {} applies is unknown: {why}",
                            mutator.id()
                        )));
                    }
                }
            }
            if !applied {
                return Ok(round > 0);
            }
            if *object == before {
                if round == 0 {
                    return Ok(false);
                }
                if *object == original {
                    return Err(MutationError("the mutators oscillate".into()));
                }
                return Ok(true);
            }
        }
        Err(MutationError(format!(
            "the mutators do not converge in {} rounds",
            self.list.len() + 1
        )))
    }
}

/// At admission: the object as written (not a mock resource), at the request's operation.
impl palisade_rules::ObjectMutators for Mutators {
    fn mutate(
        &self,
        object: &mut Value,
        namespaced: bool,
        namespace_labels: Option<&Map<String, Value>>,
        operation: &str,
    ) -> Result<bool, String> {
        Mutators::mutate(
            self,
            object,
            namespaced,
            namespace_labels,
            Some(operation),
            false,
        )
        .map_err(|e| e.0)
    }

    /// `applyTo`'s groups and kinds; AssignMetadata applies to what its `match.kinds` names,
    /// every kind without them.
    fn applied_kinds(&self) -> Vec<(String, palisade_rules::rule_set::AppliedKinds)> {
        self.list
            .iter()
            .map(|m| {
                let kinds = match m.kind {
                    MutatorKind::AssignMetadata => m.matcher.named_kinds(),
                    _ => Some(
                        m.apply_to
                            .iter()
                            .flat_map(|a| {
                                a.groups.iter().flat_map(|g| {
                                    a.kinds.iter().map(move |k| (g.clone(), k.clone()))
                                })
                            })
                            .collect(),
                    ),
                };
                (m.id(), kinds)
            })
            .collect()
    }
}

/// Where two mutators give one field different shapes, when they apply to a common kind.
fn conflict(a: &Mutator, b: &Mutator) -> Option<String> {
    if a.kind == MutatorKind::AssignMetadata || b.kind == MutatorKind::AssignMetadata {
        return None;
    }
    let common_kind = a.apply_to.iter().any(|x| {
        b.apply_to.iter().any(|y| {
            x.groups.iter().any(|g| y.groups.contains(g))
                && x.versions.iter().any(|v| y.versions.contains(v))
                && x.kinds.iter().any(|k| y.kinds.contains(k))
        })
    });
    if !common_kind {
        return None;
    }
    let shared = a
        .steps
        .iter()
        .zip(&b.steps)
        .take_while(|(x, y)| x.same_shape(y))
        .count();
    let at = || display(&a.steps[..shared.max(1)]);
    match (a.steps.get(shared), b.steps.get(shared)) {
        // Different fields of one object.
        (Some(Step::Field(_)), Some(Step::Field(_))) => None,
        // The same field as an object and a list, or lists keyed differently.
        (Some(_), Some(_)) => Some(at()),
        (None, None) => (a.terminal() != b.terminal()
            && a.terminal() != Terminal::Unknown
            && b.terminal() != Terminal::Unknown)
            .then(at),
        (None, Some(_)) => (a.terminal() != Terminal::Unknown).then(at),
        (Some(_), None) => (b.terminal() != Terminal::Unknown).then(at),
    }
}

#[cfg(test)]
mod tests;
