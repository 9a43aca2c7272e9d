//! Helm findings traced to the chart's templates. `helm template` writes `# Source:
//! CHART/templates/FILE` above each document it renders. The template, its actions blanked (an
//! action reads as a plain word; a line of actions alone as an empty line), is read as YAML,
//! and a finding points at its field there, or at the nearest parent the template writes
//! literally: a field that `toYaml` or `include` produces points at the key it is produced
//! under. Best effort: a template that does not read as YAML once blanked, or has no document
//! of the object's kind, leaves the object at its line in the rendered stream.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use palisade_core::JsonPointer;
use serde_json::Value;

use super::origin::{Origin, normalize};
use super::{Reading, SourceRead, display, local_chart_dependencies, read_limited};
use crate::spans::Spans;
use crate::yaml::parse_stream;

/// Points the objects `read` holds (the rendering of the chart in `dir`, `output`) at the
/// templates they come from.
pub(super) fn attach(dir: &Path, output: &[u8], read: &mut SourceRead, reading: &Reading<'_>) {
    let Ok(text) = std::str::from_utf8(output) else {
        return;
    };
    let sources = source_lines(text);
    let mut templates: HashMap<PathBuf, Option<Vec<(Value, Spans)>>> = HashMap::new();
    // How many objects of a kind a template has given so far: the next is its next document
    // of that kind (or its last, for a document rendered once per item of a `range`).
    let mut given: HashMap<(PathBuf, String), usize> = HashMap::new();
    for object in &mut read.objects {
        let line = object.locate(&JsonPointer::root()).pos.line;
        let Some(at) = sources.partition_point(|(l, _)| *l <= line).checked_sub(1) else {
            continue;
        };
        let Some(path) = template_path(dir, sources[at].1, reading.limits()) else {
            continue;
        };
        let documents = templates
            .entry(path.clone())
            .or_insert_with(|| blanked_documents(&path, reading));
        let Some(documents) = documents else {
            continue;
        };
        let kind = object.id.kind.as_str();
        let of_kind: Vec<&(Value, Spans)> = documents
            .iter()
            .filter(|(value, _)| value.get("kind").and_then(Value::as_str) == Some(kind))
            .collect();
        let nth = given.entry((path.clone(), kind.to_string())).or_default();
        let Some(&(value, spans)) = of_kind.get((*nth).min(of_kind.len().saturating_sub(1))) else {
            continue;
        };
        *nth += 1;
        object.origin = Some(Box::new(Origin {
            file: display(&path).into(),
            value: value.clone(),
            spans: spans.clone(),
            patches: Vec::new(),
        }));
    }
}

/// The `# Source:` lines of Helm's output: (1-based line, the template as Helm names it).
fn source_lines(text: &str) -> Vec<(u32, &str)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let source = line.strip_prefix("# Source: ")?.trim();
            Some((u32::try_from(i + 1).ok()?, source))
        })
        .collect()
}

/// The template file Helm names `CHART/templates/FILE` (or `CHART/charts/SUB/templates/FILE`
/// for a subchart), under the chart directory `dir`. A subchart packed as an archive in
/// `charts/` is found where the chart's `file://` dependency of that name is. `None` when the
/// name leaves the chart or no such file is there.
fn template_path(dir: &Path, source: &str, limits: &crate::yaml::Limits) -> Option<PathBuf> {
    let mut components = Path::new(source).components();
    components.next()?; // the chart's name
    let inside: Vec<&str> = components
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut chart = dir.to_path_buf();
    let mut rest = inside.as_slice();
    for _ in 0..16 {
        if rest.is_empty() {
            return None;
        }
        let path = normalize(&rest.iter().fold(chart.clone(), |p, part| p.join(part)));
        if path.is_file() {
            return Some(path);
        }
        let ["charts", name, deeper @ ..] = rest else {
            return None;
        };
        chart = local_dependency(&chart, name, limits)?;
        rest = deeper;
    }
    None
}

/// The directory of the `file://` dependency named (or aliased) `name` of the chart in `dir`.
fn local_dependency(dir: &Path, name: &str, limits: &crate::yaml::Limits) -> Option<PathBuf> {
    local_chart_dependencies(dir, limits)
        .into_iter()
        .find(|(names, _)| names.iter().any(|n| n == name))
        .map(|(_, path)| normalize(&path))
}

/// The documents of the template at `path`, its actions blanked ([`blank_actions`]).
fn blanked_documents(path: &Path, reading: &Reading<'_>) -> Option<Vec<(Value, Spans)>> {
    let bytes = read_limited(path, reading.limits().max_file_bytes).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let stream = parse_stream(&blank_actions(text), reading.limits());
    Some(
        stream
            .documents
            .into_iter()
            .filter(|d| d.value.is_object())
            .map(|d| (d.value, d.spans))
            .collect(),
    )
}

/// `template` with each action (`{{ ... }}`) read as the plain word `x` padded to the action's
/// width (so columns stay), and each line that holds only actions and spaces emptied. Lines
/// keep their numbers, also across an action that spans lines.
fn blank_actions(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut line = String::new();
    let (mut literal, mut action) = (false, false);
    let mut rest = template;
    let mut in_action = false;
    while !rest.is_empty() {
        if in_action {
            if let Some(after) = rest.strip_prefix("}}") {
                line.push_str("  ");
                rest = after;
                in_action = false;
                continue;
            }
        } else if let Some(after) = rest.strip_prefix("{{") {
            line.push_str("x ");
            rest = after;
            in_action = true;
            action = true;
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        rest = &rest[c.len_utf8()..];
        if c == '\n' {
            if literal || !action {
                out.push_str(&line);
            }
            out.push('\n');
            line.clear();
            (literal, action) = (false, in_action);
            continue;
        }
        if in_action {
            line.push(' ');
        } else {
            literal |= !c.is_whitespace();
            line.push(c);
        }
    }
    if literal || !action {
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_words_and_lines_of_actions_as_empty_lines() {
        let template = "metadata:\n  name: {{ .Release.Name }}-web\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\nspec:\n  {{- if .Values.x }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n  {{- /* a comment\n  over lines */}}\n  paused: true\n";
        let blanked = blank_actions(template);
        let word = |action: &str| format!("x{}", " ".repeat(action.len() - 1));
        assert_eq!(
            blanked,
            format!(
                "metadata:\n  name: {}-web\n  labels:\n\nspec:\n\n  replicas: {}\n\n\n\n  paused: true\n",
                word("{{ .Release.Name }}"),
                word("{{ .Values.replicas }}")
            )
        );
        assert_eq!(blanked.lines().count(), template.lines().count());
    }

    proptest::proptest! {
        /// Any text, actions closed or not: the same lines, each no wider than it was.
        #[test]
        fn blanking_keeps_every_line_and_its_width(text in "([a-z:\\- \\n\"']|\\{\\{|\\}\\}|é){0,200}") {
            let blanked = blank_actions(&text);
            let before: Vec<&str> = text.split('\n').collect();
            let after: Vec<&str> = blanked.split('\n').collect();
            proptest::prop_assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                proptest::prop_assert!(a.chars().count() <= b.chars().count(), "{:?} -> {:?}", b, a);
                proptest::prop_assert!(!a.contains("{{"));
            }
        }
    }

    #[test]
    fn source_names_stay_inside_the_chart() {
        use crate::yaml::Limits;
        let dir = std::env::temp_dir().join(format!("palisade-template-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::write(dir.join("templates/pod.yaml"), "kind: Pod\n").unwrap();
        assert_eq!(
            template_path(&dir, "web/templates/pod.yaml", &Limits::default()),
            Some(dir.join("templates/pod.yaml"))
        );
        for source in [
            "web/../templates/pod.yaml",
            "web/templates/../../x",
            "web",
            "/etc/passwd",
            "web/templates/missing.yaml",
        ] {
            assert_eq!(
                template_path(&dir, source, &Limits::default()),
                None,
                "{source}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
