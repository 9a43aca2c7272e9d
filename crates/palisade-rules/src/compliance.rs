//! The compliance matrix: for each control of a framework, the rules that cover it, and the
//! controls no rule covers (listed, never silently dropped).

use palisade_core::{Control, Profile};

use crate::registry::all_rules;
use crate::rule::Rule;

/// One row of the matrix.
#[derive(Clone)]
pub struct MatrixRow {
    pub control: Control,
    pub title: &'static str,
    /// Rules that cover the control, in registry order.
    pub rules: Vec<&'static dyn Rule>,
    /// Why the control can only be checked by hand, when that is so.
    pub manual: Option<&'static str>,
}

/// Every control of `profile` with the rules that cover it.
pub fn matrix(profile: Profile) -> Vec<MatrixRow> {
    profile
        .controls()
        .into_iter()
        .map(|control| MatrixRow {
            title: control.title().unwrap_or(""),
            rules: all_rules()
                .iter()
                .copied()
                .filter(|r| r.meta().controls.contains(&control))
                .collect(),
            manual: control.manual_reason(),
            control,
        })
        .collect()
}

/// The matrix as Markdown: one table per profile, then the uncovered controls.
pub fn markdown(profile: Profile) -> String {
    let rows = matrix(profile);
    let framework = profile.framework();
    let mut out = format!(
        "## {} (`--framework {}`)\n\n",
        framework.title(),
        profile.name()
    );
    out.push_str("| Control | Title | Rules |\n|---|---|---|\n");
    for row in &rows {
        let rules = if !row.rules.is_empty() {
            row.rules
                .iter()
                .map(|r| format!("{} {}", r.meta().id, r.meta().slug))
                .collect::<Vec<_>>()
                .join(", ")
        } else if let Some(why) = row.manual {
            format!("manual: {why}")
        } else {
            "**not covered**".to_string()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            row.control.id, row.title, rules
        ));
    }
    let covered = rows.iter().filter(|r| !r.rules.is_empty()).count();
    let manual = rows
        .iter()
        .filter(|r| r.rules.is_empty() && r.manual.is_some())
        .count();
    let uncovered: Vec<String> = rows
        .iter()
        .filter(|r| r.rules.is_empty() && r.manual.is_none())
        .map(|r| format!("`{}`", r.control.id))
        .collect();
    out.push_str(&format!(
        "\n{covered} of {} controls covered by rules, {manual} manual, {} not covered{}\n\n",
        rows.len(),
        uncovered.len(),
        if uncovered.is_empty() {
            String::new()
        } else {
            format!(": {}.", uncovered.join(", "))
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pod_security_control_is_covered() {
        for row in matrix(Profile::PssRestricted) {
            assert!(!row.rules.is_empty(), "{} has no rule", row.control);
        }
    }
}
