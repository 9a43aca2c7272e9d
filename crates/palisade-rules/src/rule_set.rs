//! The rules of one run, as a value: filled by providers (the built-in catalogue, drift's
//! kinds of difference, and later policies loaded at run time and audit detections), carried in
//! the scan options, and asked for names, frameworks and what to evaluate. Nothing reads a
//! global registry except the built-in provider.

use std::sync::Arc;

use palisade_core::{Framework, Profile, RuleMeta};

use crate::rule::Rule;

/// A rule of a set: a built-in rule (static) or one made at run time (shared).
#[derive(Clone)]
enum Entry {
    Static(&'static dyn Rule),
    Shared(Arc<dyn Rule>),
}

impl Entry {
    fn rule(&self) -> &dyn Rule {
        match self {
            Entry::Static(rule) => *rule,
            Entry::Shared(rule) => rule.as_ref(),
        }
    }
}

/// Mutators a policy set carries (Gatekeeper's `Assign`, `ModifySet`, ...): what admission
/// applies to an object before it is stored, as the cluster's mutating webhook would.
pub trait ObjectMutators: Send + Sync {
    /// Applies the mutators that match `object` (of a namespaced kind or not, whose
    /// namespace has `namespace_labels` when it was read) at the admission `operation`;
    /// whether it changed, or why mutating failed (no mutator changed it then).
    fn mutate(
        &self,
        object: &mut serde_json::Value,
        namespaced: bool,
        namespace_labels: Option<&serde_json::Map<String, serde_json::Value>>,
        operation: &str,
    ) -> Result<bool, String>;
    /// Each mutator's id (`Assign/name`) with the kinds `(group, kind)` it applies to, or
    /// `None` when it applies to every kind: what a mutating webhook must be sent.
    fn applied_kinds(&self) -> Vec<(String, AppliedKinds)>;
}

/// The kinds `(group, kind)` a mutator applies to; `None` for every kind.
pub type AppliedKinds = Option<Vec<(String, String)>>;

/// A rule id or slug that two providers both claim.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("rule id or slug `{0}` is defined twice")]
pub struct DuplicateRule(pub String);

/// The rules of a run.
#[derive(Clone, Default)]
pub struct RuleSet {
    evaluated: Vec<Entry>,
    /// Rules whose findings another analysis makes (drift): known by id and slug for
    /// suppressions, `--rules` and reports, never run by the engine.
    reported: Vec<&'static RuleMeta>,
    /// The mutators of the policies loaded with the rules, when they hold any.
    mutators: Option<Arc<dyn ObjectMutators>>,
    /// The cluster's admission policies, when they are not the run's own (see
    /// [`RuleSet::set_admission_policies`]).
    admission: Option<crate::settings::AdmissionPolicies>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.metas().map(|m| &m.id)).finish()
    }
}

impl RuleSet {
    /// The built-in catalogue (`palisade rules`).
    pub fn builtin() -> Self {
        RuleSet {
            evaluated: crate::registry::all_rules()
                .iter()
                .map(|r| Entry::Static(*r))
                .collect(),
            reported: Vec::new(),
            mutators: None,
            admission: None,
        }
    }

    /// The policies' mutators, applied at admission.
    pub fn set_mutators(&mut self, mutators: Arc<dyn ObjectMutators>) {
        self.mutators = Some(mutators);
    }

    pub fn mutators(&self) -> Option<&Arc<dyn ObjectMutators>> {
        self.mutators.as_ref()
    }

    /// Adds a rule made at run time (a policy); its id and slug must be new.
    pub fn add(&mut self, rule: Arc<dyn Rule>) -> Result<(), DuplicateRule> {
        self.check_new(rule.meta())?;
        self.evaluated.push(Entry::Shared(rule));
        Ok(())
    }

    /// Adds a rule whose findings are made outside the engine (drift).
    pub fn add_reported(&mut self, meta: &'static RuleMeta) -> Result<(), DuplicateRule> {
        self.check_new(meta)?;
        self.reported.push(meta);
        Ok(())
    }

    fn check_new(&self, meta: &RuleMeta) -> Result<(), DuplicateRule> {
        for name in [&meta.id, &meta.slug] {
            if self.find(name).is_some() {
                return Err(DuplicateRule(name.to_string()));
            }
        }
        Ok(())
    }

    /// Every rule's metadata: evaluated rules in catalogue order, then the others.
    pub fn metas(&self) -> impl Iterator<Item = &RuleMeta> {
        self.evaluated
            .iter()
            .map(|e| e.rule().meta())
            .chain(self.reported.iter().copied())
    }

    /// The rules the engine evaluates, in catalogue order.
    pub fn evaluated(&self) -> Vec<&dyn Rule> {
        self.evaluated.iter().map(Entry::rule).collect()
    }

    /// Takes `policies` as the cluster's admission policies in place of the run's own: a
    /// scan of files runs constraints as enforced at the gator point, while the webhook may
    /// deny with some the scan leaves out.
    pub fn set_admission_policies(&mut self, policies: crate::settings::AdmissionPolicies) {
        self.admission = Some(policies);
    }

    /// The cluster's admission policies: those set, else the rules made at run time
    /// (policies).
    pub fn admission_policies(&self) -> crate::settings::AdmissionPolicies {
        if let Some(admission) = &self.admission {
            return admission.clone();
        }
        crate::settings::AdmissionPolicies(
            self.evaluated
                .iter()
                .filter_map(|entry| match entry {
                    Entry::Shared(rule) => Some(Arc::clone(rule)),
                    Entry::Static(_) => None,
                })
                .collect(),
        )
    }

    /// The `[rules]` settings the evaluated rules declare, each once, in catalogue order.
    pub fn settings(&self) -> Vec<&'static crate::settings::Setting> {
        let mut out: Vec<&'static crate::settings::Setting> = Vec::new();
        for setting in self.evaluated.iter().flat_map(|e| e.rule().settings()) {
            if !out.iter().any(|s| s.key == setting.key) {
                out.push(setting);
            }
        }
        out
    }

    /// The rule with this id or slug (any case).
    pub fn find(&self, id_or_slug: &str) -> Option<&RuleMeta> {
        self.metas().find(|m| {
            m.id.eq_ignore_ascii_case(id_or_slug) || m.slug.eq_ignore_ascii_case(id_or_slug)
        })
    }

    /// The evaluated rule with this id or slug.
    pub fn find_rule(&self, id_or_slug: &str) -> Option<&dyn Rule> {
        self.evaluated.iter().map(Entry::rule).find(|r| {
            let m = r.meta();
            m.id.eq_ignore_ascii_case(id_or_slug) || m.slug.eq_ignore_ascii_case(id_or_slug)
        })
    }

    /// The canonical id of a rule named by id or slug.
    pub fn canonical(&self, id_or_slug: &str) -> Option<String> {
        self.find(id_or_slug).map(|m| m.id.to_string())
    }

    /// The rules a scan for `profile` runs: every rule that covers one of its controls. The
    /// Pod Security Standards are assessed as the admission plugin decides them: by the exact
    /// rule (POD031) and the namespace evaluation (NS002), not by the hardening rules, which
    /// differ from the standard's letter on purpose.
    pub fn for_framework(&self, profile: Profile) -> Vec<&dyn Rule> {
        self.evaluated
            .iter()
            .map(Entry::rule)
            .filter(|r| {
                let meta = r.meta();
                if profile.framework() == Framework::Pss {
                    matches!(meta.id.as_ref(), "POD031" | "NS002")
                } else {
                    meta.controls.iter().any(|c| profile.includes(c))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_any_case_and_duplicates_are_refused() {
        let mut set = RuleSet::builtin();
        assert_eq!(
            set.canonical("privileged-container").as_deref(),
            Some("POD001")
        );
        assert_eq!(set.canonical("pod001").as_deref(), Some("POD001"));
        assert_eq!(set.canonical("no-such-rule"), None);
        let meta = crate::registry::all_rules()[0].meta();
        assert_eq!(
            set.add_reported(meta),
            Err(DuplicateRule(meta.id.to_string()))
        );
    }

    #[test]
    fn pod_security_frameworks_run_the_admission_rules_only() {
        let set = RuleSet::builtin();
        for profile in [Profile::Pss, Profile::PssBaseline, Profile::PssRestricted] {
            let ids: Vec<&str> = set
                .for_framework(profile)
                .iter()
                .map(|r| r.meta().id.as_ref())
                .collect();
            assert_eq!(ids, ["POD031", "NS002"], "{profile:?}");
        }
        assert!(set.for_framework(Profile::Cis).len() > 10);
    }
}
