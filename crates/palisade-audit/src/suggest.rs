//! What to add to an audit policy so that the detections see what they read: rules to put
//! first, for exactly the requests the policy logs below what some detection reads of them,
//! at the level it reads, for everyone.
//!
//! First match wins, so a rule put first would take logging away from whoever a later rule
//! logs higher (administrators' requests at `RequestResponse`, a namespace at `Request`).
//! Those rules are copied first, narrowed to the requests concerned and keeping their
//! requesters, namespaces, object names and level, so no request is logged for anyone at less
//! than before; and no suggested level writes credentials that were not written before.
//!
//! Left out, and said: detections that look at every request (a rule put first for every
//! request would undo every `None` rule the policy has for volume), requests only a
//! credential-writing level would show (AUD019 reads Secrets' bodies), and a policy that omits
//! the stage the detections read for all its rules.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit_policy::{AuditPolicy, Condition, Match, Request};
use crate::coverage::{OTHER_NAMESPACE, asked, covering_would_leak, named_namespaces};
use crate::detection::{Detection, Level};

/// Resources of one API group a suggested rule names (fields named as in the policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedResources {
    pub group: String,
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
}

/// A rule to put first in the policy (fields named as in the policy, so that `-o json`
/// reads as its rules, with `copies` and `detections` added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedRule {
    pub level: Level,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_groups: Vec<String>,
    pub verbs: Vec<String>,
    pub resources: Vec<SuggestedResources>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub omit_stages: Vec<String>,
    /// The policy rule (1-based) whose level it keeps for these requests, when it is a copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<usize>,
    /// The detections it lets see what they read (ids), when it is not a copy.
    pub detections: Vec<String>,
}

impl SuggestedRule {
    /// The rule as a policy holds it: its serialization without `copies` and `detections`.
    pub fn as_policy_rule(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("copies");
            map.remove("detections");
        }
        value
    }
}

/// What a suggestion cannot give a detection, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    pub detection: String,
    pub why: String,
}

/// The rules to put first, and what they leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub rules: Vec<SuggestedRule>,
    pub left_out: Vec<LeftOut>,
}

/// One request: group, resource (with its subresource), verb.
type Key = (String, String, String);

/// What a suggested rule is apart from its verbs and resources: a copy of a policy rule
/// (its index, then the object names it is narrowed to), or a rule for everyone at a level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Copy(usize, Vec<String>),
    Everyone(std::cmp::Reverse<Level>),
}

/// A request some detection does not see: the most they read of it, which, and the request
/// as asked in each namespace.
struct Short<'a> {
    needs: Level,
    detections: Vec<String>,
    asked: Vec<Request<'a>>,
}

/// The rules that give `detections` what they read under `policy`.
pub fn suggest(policy: &AuditPolicy, detections: &[&'static Detection]) -> Suggestion {
    if policy.omits_read_stage() {
        let why = "the policy's omitStages leaves out ResponseComplete for every rule: remove \
                   it there";
        return Suggestion {
            rules: Vec::new(),
            left_out: detections
                .iter()
                .map(|d| LeftOut {
                    detection: d.meta().id.to_string(),
                    why: why.to_string(),
                })
                .collect(),
        };
    }
    let named = named_namespaces(policy);
    let (short, left_out) = shortfalls(policy, detections, &named);
    Suggestion {
        rules: rules(policy, shapes(policy, short)),
        left_out,
    }
}

/// The requests the detections are short of, and what no rule can give them.
fn shortfalls<'a>(
    policy: &AuditPolicy,
    detections: &[&'static Detection],
    named: &'a [String],
) -> (BTreeMap<Key, Short<'a>>, Vec<LeftOut>) {
    let mut short: BTreeMap<Key, Short> = BTreeMap::new();
    let mut left_out = Vec::new();
    for detection in detections {
        let id = detection.meta().id.to_string();
        let mut left: Vec<String> = Vec::new();
        for trigger in detection.triggers {
            let needs = trigger.needs.max(Level::Metadata);
            let all = asked(trigger, named);
            for one in &all {
                let levels = policy.levels(&one.request);
                let logged = levels.some.iter().map(|(_, _, l)| *l);
                if logged.fold(levels.everyone, Level::min) >= needs {
                    continue;
                }
                let why = match trigger.resource {
                    None => "it looks at every request: the rules that log nothing for some \
                             requesters or requests hide them from it (keep them if the volume \
                             they save matters)"
                        .to_string(),
                    Some(_) if covering_would_leak(&one.words, needs) => format!(
                        "it reads `{}` at {needs}, which writes credentials into the log",
                        one.words
                    ),
                    Some(_) => {
                        let entry = short.entry(key_of(&one.request)).or_insert_with(|| Short {
                            needs,
                            detections: Vec::new(),
                            // The request in every namespace, to keep what each logs.
                            asked: all
                                .iter()
                                .filter(|o| o.request.verb == one.request.verb)
                                .map(|o| o.request)
                                .collect(),
                        });
                        entry.needs = entry.needs.max(needs);
                        if !entry.detections.contains(&id) {
                            entry.detections.push(id.clone());
                        }
                        continue;
                    }
                };
                if !left.contains(&why) {
                    left.push(why);
                }
            }
        }
        left_out.extend(left.into_iter().map(|why| LeftOut {
            detection: id.clone(),
            why,
        }));
    }
    (short, left_out)
}

/// Per request: a rule for everyone at what the detections read (or at what the policy
/// logs for everyone, when more), and before it a copy of each rule that decides the
/// request at more for someone, narrowed to the objects it names.
fn shapes(policy: &AuditPolicy, short: BTreeMap<Key, Short>) -> Vec<(Shape, Key, Vec<String>)> {
    let mut wanted: Vec<(Shape, Key, Vec<String>)> = Vec::new();
    for (key, request) in short {
        let everyone = request
            .asked
            .iter()
            .filter(|r| r.namespace == OTHER_NAMESPACE || r.namespace.is_empty())
            .map(|r| policy.levels(r).everyone)
            .fold(request.needs, Level::max);
        for asked in &request.asked {
            // Only the rules that decide the request for someone: a later one never did.
            let levels = policy.levels(asked);
            for index in levels.some.iter().map(|(i, ..)| *i).chain(levels.rule) {
                let rule = &policy.rules[index];
                if policy.effective(rule) <= everyone {
                    continue;
                }
                let names = match rule.matches(asked) {
                    Match::No => continue,
                    Match::Always => Vec::new(),
                    Match::If(conditions) => conditions
                        .into_iter()
                        .flat_map(|c| match c {
                            Condition::Names(names) => names,
                            _ => Vec::new(),
                        })
                        .collect(),
                };
                let shape = Shape::Copy(index, names);
                if !wanted.iter().any(|(s, k, _)| *s == shape && *k == key) {
                    wanted.push((shape, key.clone(), Vec::new()));
                }
            }
        }
        wanted.push((
            Shape::Everyone(std::cmp::Reverse(everyone)),
            key,
            request.detections,
        ));
    }
    wanted
}

fn key_of(request: &Request) -> Key {
    let path = match request.subresource {
        "" => request.resource.to_string(),
        sub => format!("{}/{sub}", request.resource),
    };
    (request.group.to_string(), path, request.verb.to_string())
}

/// The verbs and detections of one resource in one shape, then of one rule.
#[derive(Default)]
struct Wanted {
    verbs: Vec<String>,
    detections: Vec<String>,
}

impl Wanted {
    fn add(&mut self, verbs: impl IntoIterator<Item = String>, detections: Vec<String>) {
        for verb in verbs {
            if !self.verbs.contains(&verb) {
                self.verbs.push(verb);
            }
        }
        for id in detections {
            if !self.detections.contains(&id) {
                self.detections.push(id);
            }
        }
    }
}

/// One rule being built: its shape, verbs, resources by group, and detections.
struct Grouped {
    shape: Shape,
    resources: Vec<(String, Vec<String>)>,
    wanted: Wanted,
}

/// The requests grouped into rules: a resource's verbs in one shape make one rule with every
/// resource that has the same verbs in the same shape, so a rule logs exactly the requests
/// asked for. Copies first, in the policy's order; then the rules for everyone.
fn rules(policy: &AuditPolicy, wanted: Vec<(Shape, Key, Vec<String>)>) -> Vec<SuggestedRule> {
    let mut by_resource: BTreeMap<(Shape, String, String), Wanted> = BTreeMap::new();
    for (shape, (group, resource, verb), detections) in wanted {
        by_resource
            .entry((shape, group, resource))
            .or_default()
            .add([verb], detections);
    }
    let mut grouped: Vec<Grouped> = Vec::new();
    for ((shape, group, resource), mut one) in by_resource {
        one.verbs.sort_unstable();
        let index = match grouped
            .iter()
            .position(|g| g.shape == shape && g.wanted.verbs == one.verbs)
        {
            Some(index) => index,
            None => {
                grouped.push(Grouped {
                    shape,
                    resources: Vec::new(),
                    wanted: Wanted::default(),
                });
                grouped.len() - 1
            }
        };
        let rule = &mut grouped[index];
        match rule.resources.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => list.push(resource),
            None => rule.resources.push((group, vec![resource])),
        }
        rule.wanted.add(one.verbs, one.detections);
    }
    grouped
        .sort_by(|a, b| (a.shape.cmp(&b.shape)).then_with(|| a.wanted.verbs.cmp(&b.wanted.verbs)));
    grouped.into_iter().map(|g| suggested(policy, g)).collect()
}

fn suggested(policy: &AuditPolicy, rule: Grouped) -> SuggestedRule {
    let Grouped {
        shape,
        resources,
        wanted: Wanted {
            verbs,
            mut detections,
        },
    } = rule;
    detections.sort();
    let (level, names, copied) = match shape {
        Shape::Copy(index, names) => (policy.effective(&policy.rules[index]), names, Some(index)),
        Shape::Everyone(level) => (level.0, Vec::new(), None),
    };
    let original = copied.map(|i| &policy.rules[i]);
    let field = |get: fn(&crate::audit_policy::PolicyRule) -> &Vec<String>| {
        original.map(|r| get(r).clone()).unwrap_or_default()
    };
    SuggestedRule {
        level,
        users: field(|r| &r.users),
        user_groups: field(|r| &r.user_groups),
        verbs,
        resources: resources
            .into_iter()
            .map(|(group, resources)| SuggestedResources {
                group,
                resources,
                resource_names: names.clone(),
            })
            .collect(),
        namespaces: field(|r| &r.namespaces),
        omit_stages: field(|r| &r.omit_stages),
        copies: copied.map(|i| i + 1),
        detections,
    }
}

impl Suggestion {
    /// The rules as YAML list items, each line starting with `indent` (the indentation of
    /// the policy's other rules), each after a comment naming the detections it is for.
    pub fn to_yaml(&self, indent: &str) -> String {
        let list = |items: &[String]| {
            let items: Vec<String> = items.iter().map(|i| json_string(i)).collect();
            format!("[{}]", items.join(", "))
        };
        let mut out = String::new();
        for rule in &self.rules {
            let why = match rule.copies {
                Some(copied) => format!(
                    "a copy of rule {copied} for these requests, so that the rules below take \
                     nothing from it"
                ),
                None => {
                    let named: Vec<String> = rule
                        .detections
                        .iter()
                        .map(|id| match crate::registry::find(id) {
                            Some(d) => format!("{id} {}", d.meta().slug),
                            None => id.clone(),
                        })
                        .collect();
                    format!("for {}", named.join(", "))
                }
            };
            out.push_str(&format!(
                "{indent}# Added by `palisade audit coverage --suggest`: {why}.\n"
            ));
            out.push_str(&format!("{indent}- level: {}\n", rule.level));
            if !rule.users.is_empty() {
                out.push_str(&format!("{indent}  users: {}\n", list(&rule.users)));
            }
            if !rule.user_groups.is_empty() {
                out.push_str(&format!(
                    "{indent}  userGroups: {}\n",
                    list(&rule.user_groups)
                ));
            }
            out.push_str(&format!("{indent}  verbs: {}\n", list(&rule.verbs)));
            out.push_str(&format!("{indent}  resources:\n"));
            for resources in &rule.resources {
                out.push_str(&format!(
                    "{indent}    - group: {}\n",
                    json_string(&resources.group)
                ));
                out.push_str(&format!(
                    "{indent}      resources: {}\n",
                    list(&resources.resources)
                ));
                if !resources.resource_names.is_empty() {
                    out.push_str(&format!(
                        "{indent}      resourceNames: {}\n",
                        list(&resources.resource_names)
                    ));
                }
            }
            if !rule.namespaces.is_empty() {
                out.push_str(&format!(
                    "{indent}  namespaces: {}\n",
                    list(&rule.namespaces)
                ));
            }
            if !rule.omit_stages.is_empty() {
                out.push_str(&format!(
                    "{indent}  omitStages: {}\n",
                    list(&rule.omit_stages)
                ));
            }
        }
        out
    }

    /// The policy file `text` with the rules put first and everything else as written
    /// (comments included); `None` when its rules are not a YAML block list to put them
    /// into (flow style), or the file would not read as the policy with the rules first.
    pub fn put_first(&self, text: &str, policy: &AuditPolicy) -> Option<String> {
        if self.rules.is_empty() {
            return Some(text.to_string());
        }
        let patched = if text.trim_start().starts_with('{') {
            self.put_first_in_json(text)?
        } else {
            self.put_first_in_yaml(text, policy)?
        };
        // What was written reads as the policy with the rules first, or is not offered (a
        // file of an unusual layout: the user puts the rules in).
        let read = AuditPolicy::parse(&patched).ok()?;
        let added = read.rules.len().checked_sub(policy.rules.len())?;
        let levels = read.rules.iter().map(|r| r.level);
        (added == self.rules.len() && levels.take(added).eq(self.rules.iter().map(|r| r.level)))
            .then_some(patched)
    }

    fn put_first_in_yaml(&self, text: &str, policy: &AuditPolicy) -> Option<String> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let (at, indent) = match policy.rules.first() {
            Some(first) => {
                let index = usize::try_from(first.line).ok()?.checked_sub(1)?;
                let line = lines.get(index)?;
                let indent = &line[..line.len() - line.trim_start().len()];
                if !line.trim_start().starts_with("- ") {
                    return None;
                }
                // Before the comments that introduce the first rule.
                let mut at = index;
                while at > 0 && lines[at - 1].trim_start().starts_with('#') {
                    at -= 1;
                }
                (at, indent.to_string())
            }
            None => {
                // A top-level `rules:` with nothing after it (but a comment).
                let header = lines.iter().position(|l| {
                    l.split('#')
                        .next()
                        .is_some_and(|key| key.trim_end() == "rules:")
                })?;
                (header + 1, "  ".to_string())
            }
        };
        let mut out = String::with_capacity(text.len() + 512);
        for line in &lines[..at] {
            out.push_str(line);
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&self.to_yaml(&indent));
        for line in &lines[at..] {
            out.push_str(line);
        }
        Some(out)
    }

    fn put_first_in_json(&self, text: &str) -> Option<String> {
        let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
        let rules = value
            .as_object_mut()?
            .entry("rules")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()))
            .as_array_mut()?;
        let added = self.rules.iter().map(SuggestedRule::as_policy_rule);
        rules.splice(0..0, added);
        let mut out = serde_json::to_string_pretty(&value).ok()?;
        out.push('\n');
        Some(out)
    }
}

/// A string as a double-quoted scalar (JSON's quoting is YAML's).
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{Verdict, coverage};
    use crate::registry::DETECTIONS;

    const POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Administrators' changes in full.
  - level: RequestResponse
    userGroups: ["system:masters"]
    resources:
      - group: ""
        resources: ["pods"]
  # Everything else, who and what only.
  - level: Metadata
"#;

    fn patched(text: &str) -> (Suggestion, String) {
        let policy = AuditPolicy::parse(text).unwrap();
        let suggestion = suggest(&policy, DETECTIONS);
        let patched = suggestion
            .put_first(text, &policy)
            .expect("a place for the rules");
        (suggestion, patched)
    }

    /// The rules go before the comment that introduces the first rule, at its indentation;
    /// the rest of the file is as written. The administrators' rule is copied first for the
    /// pod requests the new rule names, so they keep `RequestResponse`.
    #[test]
    fn rules_are_put_first_and_take_nothing_from_the_policy() {
        let (suggestion, text) = patched(POLICY);
        assert!(text.starts_with("apiVersion: audit.k8s.io/v1\nkind: Policy\n"));
        assert!(text.ends_with(&POLICY[POLICY.find("  # Administrators'").unwrap()..]));
        let first = &text[text.find("rules:\n").unwrap() + 7..];
        assert!(
            first.starts_with("  # Added by `palisade audit coverage --suggest`: a copy of rule 1"),
            "{text}"
        );
        let copy = &suggestion.rules[0];
        assert_eq!(copy.copies, Some(1));
        assert_eq!(copy.level, Level::RequestResponse);
        assert_eq!(copy.user_groups, ["system:masters"]);
        assert!(
            copy.resources.iter().all(|r| r.resources == ["pods"]),
            "{copy:?}"
        );
        let pods = suggestion
            .rules
            .iter()
            .find(|r| {
                r.copies.is_none()
                    && r.verbs.iter().any(|v| v == "create")
                    && r.resources
                        .iter()
                        .any(|g| g.resources.contains(&"pods".to_string()))
            })
            .expect("a rule for pod creations");
        assert_eq!(pods.level, Level::Request);
        assert!(pods.detections.contains(&"AUD004".to_string()));
        let policy = AuditPolicy::parse(&text).unwrap();
        let judged = coverage(&policy, DETECTIONS);
        let blind: Vec<&str> = judged
            .iter()
            .filter(|c| c.verdict != Verdict::Covered)
            .map(|c| c.id.as_str())
            .collect();
        // AUD019 would need Secret values in the log.
        assert_eq!(blind, ["AUD019"]);
        assert!(suggestion.left_out.iter().any(|l| l.detection == "AUD019"));
        // Suggested again: nothing more to add.
        assert!(suggest(&policy, DETECTIONS).rules.is_empty());
    }

    /// A rule list at the left margin keeps its indentation; an empty `rules:` gets the
    /// rules under it; flow style and a file without `rules:` have no place for them.
    #[test]
    fn rules_follow_the_file_s_layout() {
        let (_, margin) =
            patched("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n");
        assert!(margin.contains("\n- level: Request\n  verbs: "), "{margin}");
        AuditPolicy::parse(&margin).unwrap();
        let (_, empty) = patched("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: # none yet\n");
        assert!(empty.contains("rules: # none yet\n  # Added by"), "{empty}");
        AuditPolicy::parse(&empty).unwrap();
        let flow = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n";
        let policy = AuditPolicy::parse(flow).unwrap();
        assert_eq!(suggest(&policy, DETECTIONS).put_first(flow, &policy), None);
        // Found by fuzzing: `rules` three times, the last a tagged mapping. Put where the
        // layout says, the rules would not read: nothing is offered.
        let tangled = "apiVersion: audit.k:sicy\nrules:\n !-esources: [\"poet\", \"list\", \"poet\", \"list\", \"watch\"]\n  # WorLl: [\"/a\x01\x7fpi*\"]\napiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n !-esources: [\"poet\", \"list\", \"watch\"]\n  # WorLl: [\"/a, \"lis - group: \"olicy\nrules:\n !-esources: ";
        let policy = AuditPolicy::parse(tangled).unwrap();
        assert_eq!(
            suggest(&policy, DETECTIONS).put_first(tangled, &policy),
            None
        );
        let none = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";
        let policy = AuditPolicy::parse(none).unwrap();
        assert_eq!(suggest(&policy, DETECTIONS).put_first(none, &policy), None);
    }

    /// The JSON of the suggestion names fields as the policy does: its rules read as policy
    /// rules (our `copies` and `detections` aside).
    #[test]
    fn suggested_rules_in_json_read_as_policy_rules() {
        let policy = AuditPolicy::parse(POLICY).unwrap();
        let suggestion = suggest(&policy, DETECTIONS);
        let rules: Vec<serde_json::Value> = suggestion
            .rules
            .iter()
            .map(SuggestedRule::as_policy_rule)
            .collect();
        let document =
            serde_json::json!({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": rules});
        let read = AuditPolicy::parse(&document.to_string()).unwrap();
        assert_eq!(read.rules.len(), suggestion.rules.len());
        assert_eq!(read.rules[0].user_groups, ["system:masters"]);
    }

    /// A JSON policy comes back as JSON with the rules first.
    #[test]
    fn a_json_policy_gets_its_rules_in_json() {
        let json = r#"{"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}"#;
        let (_, text) = patched(json);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let rules = value["rules"].as_array().unwrap();
        assert!(rules.len() > 1);
        assert_eq!(
            rules.last().unwrap(),
            &serde_json::json!({"level": "Metadata"})
        );
        let policy = AuditPolicy::parse(&text).unwrap();
        assert!(suggest(&policy, DETECTIONS).rules.is_empty());
    }

    /// A policy that omits the stage the detections read for every rule cannot be mended
    /// by rules: it says so for every detection.
    #[test]
    fn a_policy_omitting_the_read_stage_is_left_to_the_user() {
        let text = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [\"ResponseComplete\"]\nrules:\n- level: RequestResponse\n";
        let policy = AuditPolicy::parse(text).unwrap();
        let suggestion = suggest(&policy, DETECTIONS);
        assert!(suggestion.rules.is_empty());
        assert_eq!(suggestion.left_out.len(), DETECTIONS.len());
        assert!(suggestion.left_out[0].why.contains("ResponseComplete"));
    }
}
