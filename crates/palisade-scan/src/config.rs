//! `palisade.toml`: suppressions and rule selection, parsed strictly and validated with
//! file:line errors.
//!
//! ```toml
//! [rules]
//! disable = ["POD006"]            # ids or slugs
//! allowed-registries = ["registry.example.com", "ghcr.io/acme"]   # IMG004
//! allowed-capabilities = ["NET_ADMIN"]                              # POD007
//! required-labels = ["app.kubernetes.io/name", "owner"]            # META004
//!
//! [[suppress]]
//! rule = "POD004"                 # id or slug (required)
//! reason = "node agent, reviewed in SEC-123"   # required
//! expires = "2027-03-31"          # optional; after it the finding is reported again
//! namespace = "monitoring"        # optional globs narrowing the match
//! kind = "DaemonSet"
//! name = "node-exporter*"
//! path = "deploy/agents/**"
//! ```

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;

/// A configuration that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// A value is well-formed but wrong (unknown rule, missing reason, bad date).
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: u32,
        column: u32,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: Option<RawRules>,
    #[serde(default)]
    suppress: Vec<Spanned<RawSuppress>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
struct RawRules {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    allowed_registries: Vec<Spanned<String>>,
    #[serde(default)]
    allowed_capabilities: Vec<Spanned<String>>,
    #[serde(default)]
    required_labels: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppress {
    rule: Spanned<String>,
    reason: Option<Spanned<String>>,
    expires: Option<Spanned<String>>,
    namespace: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    path: Option<String>,
}

/// One `[[suppress]]` entry, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionEntry {
    /// Canonical rule id.
    pub rule: String,
    pub reason: String,
    pub expires: Option<Date>,
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub path: Option<String>,
    /// Line of the entry in the config file.
    pub line: u32,
}

/// A validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from, for messages.
    pub path: String,
    pub suppressions: Vec<SuppressionEntry>,
    /// Canonical ids of rules not to run.
    pub disabled_rules: Vec<String>,
    /// Allow-lists and requirements the rules read.
    pub settings: palisade_rules::RuleSettings,
}

/// Whether `key` is a valid label key: an optional DNS-subdomain prefix and `/`, then a name of
/// at most 63 alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn valid_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    name_ok && prefix_ok
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

impl Config {
    /// Reads and validates a config file. `canonical` maps a rule id or slug to its id.
    pub fn load(
        path: &Path,
        canonical: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let display = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: display.clone(),
            source,
        })?;
        Config::parse(&display, &text, canonical)
    }

    /// Parses and validates config text read from `path`.
    pub fn parse(
        path: &str,
        text: &str,
        canonical: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
            ConfigError::Syntax {
                path: path.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        let invalid = |span: Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            ConfigError::Invalid {
                path: path.to_string(),
                line,
                column,
                message,
            }
        };
        let mut config = Config {
            path: path.to_string(),
            ..Config::default()
        };
        if let Some(rules) = raw.rules {
            for id in rules.disable {
                let rule = canonical(id.get_ref()).ok_or_else(|| {
                    invalid(
                        id.span(),
                        format!("unknown rule `{}` (see `palisade rules`)", id.get_ref()),
                    )
                })?;
                config.disabled_rules.push(rule);
            }
            for registry in rules.allowed_registries {
                let value = registry.get_ref().trim();
                if value.is_empty() || value.contains(char::is_whitespace) || value.contains("://")
                {
                    return Err(invalid(
                        registry.span(),
                        format!(
                            "`allowed-registries` entries are registry hosts or path prefixes such as `registry.example.com/team`, found `{value}`"
                        ),
                    ));
                }
                config.settings.allowed_registries.push(value.to_string());
            }
            for capability in rules.allowed_capabilities {
                let value = capability.get_ref().trim();
                let name = value.strip_prefix("CAP_").unwrap_or(value);
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    return Err(invalid(
                        capability.span(),
                        format!(
                            "`allowed-capabilities` entries are capability names in upper case such as `NET_ADMIN`, found `{value}`"
                        ),
                    ));
                }
                if name == "ALL" {
                    return Err(invalid(
                        capability.span(),
                        "`allowed-capabilities` cannot allow `ALL`; list the capabilities needed"
                            .into(),
                    ));
                }
                config.settings.allowed_capabilities.push(name.to_string());
            }
            for label in rules.required_labels {
                let value = label.get_ref().trim();
                if !valid_label_key(value) {
                    return Err(invalid(
                        label.span(),
                        format!(
                            "`required-labels` entries are label keys such as `app.kubernetes.io/name`, found `{value}`"
                        ),
                    ));
                }
                config.settings.required_labels.push(value.to_string());
            }
        }
        for entry in raw.suppress {
            let span = entry.span();
            let entry = entry.into_inner();
            let rule = canonical(entry.rule.get_ref()).ok_or_else(|| {
                invalid(
                    entry.rule.span(),
                    format!(
                        "unknown rule `{}` (see `palisade rules`)",
                        entry.rule.get_ref()
                    ),
                )
            })?;
            let reason = match &entry.reason {
                Some(r) if !r.get_ref().trim().is_empty() => r.get_ref().trim().to_string(),
                Some(r) => {
                    return Err(invalid(
                        r.span(),
                        "`reason` must say why the finding is accepted".into(),
                    ));
                }
                None => return Err(invalid(span, "suppression needs a `reason`".into())),
            };
            let expires = match &entry.expires {
                None => None,
                Some(e) => Some(Date::parse(e.get_ref()).ok_or_else(|| {
                    invalid(
                        e.span(),
                        format!(
                            "`expires` must be a date as YYYY-MM-DD, found `{}`",
                            e.get_ref()
                        ),
                    )
                })?),
            };
            let (line, _) = line_col(text, span.start);
            config.suppressions.push(SuppressionEntry {
                rule,
                reason,
                expires,
                namespace: entry.namespace,
                kind: entry.kind,
                name: entry.name,
                path: entry.path,
                line,
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(id: &str) -> Option<String> {
        match id {
            "POD004" | "host-namespace-shared" => Some("POD004".into()),
            "POD006" => Some("POD006".into()),
            _ => None,
        }
    }

    #[test]
    fn parses_a_full_config() {
        let text = "[rules]\ndisable = [\"POD006\"]\n\n[[suppress]]\nrule = \"host-namespace-shared\"\nreason = \"node agent\"\nexpires = \"2027-03-31\"\nnamespace = \"monitoring\"\nname = \"node-*\"\n";
        let config = Config::parse("palisade.toml", text, &canonical).unwrap();
        assert_eq!(config.disabled_rules, ["POD006"]);
        let entry = &config.suppressions[0];
        assert_eq!(entry.rule, "POD004");
        assert_eq!(entry.line, 4, "the `[[suppress]]` header line");
        assert_eq!(entry.expires.unwrap().to_string(), "2027-03-31");
    }

    #[test]
    fn rule_settings_are_read_and_validated() {
        let text = "[rules]\nallowed-registries = [\"registry.example.com/team\"]\nallowed-capabilities = [\"CAP_NET_ADMIN\"]\nrequired-labels = [\"app.kubernetes.io/name\", \"owner\"]\n";
        let config = Config::parse("palisade.toml", text, &canonical).unwrap();
        assert_eq!(
            config.settings.allowed_registries,
            ["registry.example.com/team"]
        );
        assert_eq!(config.settings.allowed_capabilities, ["NET_ADMIN"]);
        assert_eq!(
            config.settings.required_labels,
            ["app.kubernetes.io/name", "owner"]
        );
        for (text, expected) in [
            (
                "[rules]\nallowed-registries = [\"https://x\"]\n",
                "palisade.toml:2:23: `allowed-registries`",
            ),
            (
                "[rules]\nallowed-capabilities = [\"ALL\"]\n",
                "palisade.toml:2:25: `allowed-capabilities` cannot allow `ALL`",
            ),
            (
                "[rules]\nallowed-capabilities = [\"net admin\"]\n",
                "upper case",
            ),
            (
                "[rules]\nrequired-labels = [\"Bad Key\"]\n",
                "palisade.toml:2:20: `required-labels`",
            ),
            (
                "[rules]\nallowed-registry = []\n",
                "unknown field `allowed-registry`",
            ),
        ] {
            let error = Config::parse("palisade.toml", text, &canonical)
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{error} lacks {expected}");
        }
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let cases = [
            (
                "[[suppress]]\nrule = \"POD999\"\nreason = \"x\"\n",
                "palisade.toml:2:8: unknown rule `POD999`",
            ),
            ("[[suppress]]\nrule = \"POD004\"\n", "needs a `reason`"),
            (
                "[[suppress]]\nrule = \"POD004\"\nreason = \" \"\n",
                "palisade.toml:3:10:",
            ),
            (
                "[[suppress]]\nrule = \"POD004\"\nreason = \"x\"\nexpires = \"soon\"\n",
                "palisade.toml:4:11: `expires` must be a date",
            ),
            (
                "[[suppress]]\nrule = \"POD004\"\nreason = \"x\"\nwhy = 1\n",
                "palisade.toml:4:1: unknown field `why`",
            ),
            ("[rules\n", "palisade.toml:1:"),
        ];
        for (text, expected) in cases {
            let err = Config::parse("palisade.toml", text, &canonical)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
        }
    }
}
