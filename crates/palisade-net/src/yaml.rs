//! A small YAML writer for the policies `net generate` prints: block mappings and sequences,
//! plain scalars where YAML reads them back as the same string, JSON-quoted otherwise.

use serde_json::Value;

/// `value` as a YAML document body (no leading `---`).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize, in_sequence: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (key, v)) in map.iter().enumerate() {
                if i > 0 || !in_sequence {
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(&scalar(key));
                out.push(':');
                write_child(out, v, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                match item {
                    Value::Object(m) if !m.is_empty() => write_value(out, item, indent + 2, true),
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        write_value(out, item, indent + 2, false);
                    }
                    _ => {
                        out.push_str(&inline(item));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&" ".repeat(indent));
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn write_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_value(out, v, indent + 2, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_value(out, v, indent, false);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(v));
            out.push('\n');
        }
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// A string as a plain scalar when YAML (1.1 or 1.2) reads it back unchanged, else quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null" | "~"
        )
        && !s.chars().all(|c| c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        Value::String(s.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_that_reads_back_the_same() {
        let value = json!({
            "apiVersion": "networking.k8s.io/v1",
            "metadata": {"name": "a", "labels": {"x": "true", "n": "0755"}},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080, "protocol": "TCP"}]}], "policyTypes": ["Ingress"]}
        });
        let text = to_yaml(&value);
        assert!(
            text.contains("  labels:\n    x: \"true\"\n    \"n\": \"0755\"\n"),
            "{text}"
        );
        let loaded = palisade_inventory::load_text(
            "g.yaml",
            &format!("kind: NetworkPolicy\n{text}"),
            &palisade_inventory::Limits::default(),
        );
        let mut expected = value.clone();
        expected
            .as_object_mut()
            .unwrap()
            .insert("kind".into(), json!("NetworkPolicy"));
        let read = &loaded.inventory.objects[0].value;
        assert_eq!(read["spec"], expected["spec"], "{text}");
        assert_eq!(read["metadata"], expected["metadata"], "{text}");
    }
}
