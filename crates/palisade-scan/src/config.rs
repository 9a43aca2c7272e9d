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
//! vulnerability = "CVE-2023-4911" # VULN001 only: the vulnerability's id (a glob)
//! ```

use std::ops::Range;
use std::path::Path;

use palisade_rules::RuleSet;
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
    /// The threat-intelligence files of `[rules] threat-intel` could not be used.
    #[error("{path}: [rules] threat-intel")]
    ThreatIntel {
        path: String,
        #[source]
        source: palisade_intel::IntelError,
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
    /// `palisade audit`'s settings: read and validated by palisade-audit, not here.
    #[serde(default)]
    #[allow(dead_code)]
    audit: Option<toml::Table>,
    /// Namespaces' criticality: read and validated by palisade-k8s (`criticality::Configured`).
    #[serde(default)]
    #[allow(dead_code)]
    criticality: Option<toml::Table>,
    /// Where the ingress controller runs: read and validated by palisade-net
    /// (`IngressPlacement::parse`).
    #[serde(default)]
    #[allow(dead_code)]
    network: Option<toml::Table>,
    /// `palisade serve admission`'s settings: read and validated by palisade-admission.
    #[serde(default)]
    #[allow(dead_code)]
    admission: Option<toml::Table>,
}

/// The `[rules]` table: `disable`, and the settings rules declare; every value is a list of
/// strings. Keys keep their positions, so an unknown one is reported at its line.
type RawRules = std::collections::BTreeMap<Spanned<String>, Vec<Spanned<String>>>;

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
    vulnerability: Option<Spanned<String>>,
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
    /// For VULN001: a glob of the vulnerability's id (`CVE-2023-4911`), so that one accepted
    /// vulnerability is suppressed and not every other of the image.
    pub vulnerability: Option<String>,
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
    /// What was read with problems that did not stop it (threat-intelligence entries not
    /// read, with their place), for the caller to show.
    pub warnings: Vec<String>,
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
    /// Reads and validates a config file against the rules of a run (their names and the
    /// settings they declare).
    pub fn load(path: &Path, rules: &RuleSet) -> Result<Config, ConfigError> {
        let display = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: display.clone(),
            source,
        })?;
        let mut config = Config::parse(&display, &text, rules)?;
        config.read_threat_intel(path)?;
        Ok(config)
    }

    /// Reads the files of `[rules] threat-intel` (relative to the configuration file) into
    /// the rules' settings; entries not read become warnings. An error when a file cannot be
    /// read or none holds an indicator (IMG005 would look for nothing).
    fn read_threat_intel(&mut self, path: &Path) -> Result<(), ConfigError> {
        let files = self.settings.threat_intel_files();
        if files.is_empty() {
            return Ok(());
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let feeds = palisade_intel::Feeds::new(palisade_intel::Feeds::relative(base, files));
        let (intel, problems) = feeds.load().map_err(|source| ConfigError::ThreatIntel {
            path: self.path.clone(),
            source,
        })?;
        self.warnings
            .extend(problems.iter().map(|p| format!("threat intelligence: {p}")));
        self.settings.threat_intel =
            palisade_rules::settings::ThreatIntel(Some(std::sync::Arc::new(intel)));
        Ok(())
    }

    /// Parses and validates config text read from `path`.
    pub fn parse(path: &str, text: &str, rules: &RuleSet) -> Result<Config, ConfigError> {
        let canonical = |id: &str| rules.canonical(id);
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
        if let Some(table) = raw.rules {
            let mut entries: Vec<(Spanned<String>, Vec<Spanned<String>>)> =
                table.into_iter().collect();
            entries.sort_by_key(|(key, _)| key.span().start);
            let settings = rules.settings();
            for (key, values) in entries {
                if key.get_ref() == "disable" {
                    for id in values {
                        let rule = canonical(id.get_ref()).ok_or_else(|| {
                            invalid(
                                id.span(),
                                format!("unknown rule `{}` (see `palisade rules`)", id.get_ref()),
                            )
                        })?;
                        config.disabled_rules.push(rule);
                    }
                    continue;
                }
                let Some(setting) = settings.iter().find(|s| s.key == key.get_ref()) else {
                    let known: Vec<&str> = std::iter::once("disable")
                        .chain(settings.iter().map(|s| s.key))
                        .collect();
                    return Err(invalid(
                        key.span(),
                        format!(
                            "unknown setting `{}` in [rules] (known: {})",
                            key.get_ref(),
                            known.join(", ")
                        ),
                    ));
                };
                let mut list = Vec::new();
                for value in values {
                    list.push(
                        (setting.parse)(value.get_ref()).map_err(|e| invalid(value.span(), e))?,
                    );
                }
                config.settings.set(setting.key, list);
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
            if let Some(v) = &entry.vulnerability
                && rule != "VULN001"
            {
                return Err(invalid(
                    v.span(),
                    format!("`vulnerability` narrows suppressions of VULN001 only, not {rule}"),
                ));
            }
            let (line, _) = line_col(text, span.start);
            config.suppressions.push(SuppressionEntry {
                rule,
                reason,
                expires,
                namespace: entry.namespace,
                kind: entry.kind,
                name: entry.name,
                path: entry.path,
                vulnerability: entry.vulnerability.map(Spanned::into_inner),
                line,
            });
        }
        config.settings.ingress =
            palisade_net::IngressPlacement::parse(path, text).map_err(|e| {
                let (line, message) = match e {
                    palisade_core::config_section::SettingsError::Invalid {
                        line, message, ..
                    } => (line, message),
                    other => (1, other.to_string()),
                };
                ConfigError::Invalid {
                    path: path.to_string(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    column: 1,
                    message: format!("[network]: {message}"),
                }
            })?;
        Ok(config)
    }
}

/// A commented `palisade.toml` (`palisade init`): every setting the rules of `rules` declare,
/// with what it means, which rule reads it, what happens when it is not set and an example;
/// `disable`; and an example suppression. Everything is commented out, so the file changes
/// nothing until an entry is uncommented.
pub fn template(rules: &RuleSet) -> String {
    let mut text = String::from(
        "# palisade.toml: read from the current directory by `palisade scan` and `palisade drift`\n\
         # (or given with --config). Uncomment what applies; unknown keys are errors.\n\n\
         [rules]\n\
         # Rules not to run at all (ids or slugs). Default: none.\n\
         # disable = [\"POD006\"]\n",
    );
    let defaults = palisade_rules::settings::RuleSettings::default();
    for rule in rules.evaluated() {
        for setting in rule.settings() {
            let default = match rule.unconfigured(&defaults) {
                Some(_) => "not set, the rule does not run".to_string(),
                None => "not set, an empty list".to_string(),
            };
            let example: Vec<String> = setting.example.iter().map(|e| format!("{e:?}")).collect();
            text.push_str(&format!(
                "\n# {} ({}): {}.\n# Default: {default}.\n# {} = [{}]\n",
                rule.meta().id,
                rule.meta().slug,
                setting.help,
                setting.key,
                example.join(", ")
            ));
        }
    }
    text.push_str(
        "\n# Accept a finding, with the reason (required) and an expiry date after which it is\n\
         # reported again. rule is an id or a slug; namespace, kind, name and path are globs\n\
         # that narrow the match. One [[suppress]] table per accepted finding.\n\
         # [[suppress]]\n\
         # rule = \"POD004\"\n\
         # reason = \"node agent, reviewed in SEC-123\"\n\
         # expires = \"2027-03-31\"\n\
         # namespace = \"monitoring\"\n\
         # kind = \"DaemonSet\"\n\
         # name = \"node-exporter*\"\n\
         # path = \"deploy/agents/**\"\n\
         # A VULN001 entry may also give `vulnerability`, a glob of the vulnerability's id\n\
         # (\"CVE-2023-4911\"), to accept that one vulnerability of an image and no other.\n\n\
         # How critical each namespace is to the business (low, medium, high, critical), by name\n\
         # or glob, the most specific pattern winning: `palisade rbac fixes` weighs the paths to\n\
         # its Secrets by it, and audit alerts there carry it. It wins over a Namespace's own\n\
         # palisade.dev/criticality label. Default: the label, else medium.\n\
         # [criticality]\n\
         # namespaces = { payments = \"critical\", \"payments-*\" = \"high\", \"dev-*\" = \"low\" }\n\n\
         # Where the ingress controller (or the Gateway API's proxies) runs: the namespace and\n\
         # its pods' labels. Policies that admit it by either are then decided; unknown, an answer\n\
         # that depends on them is not final. Read by scan, net and rbac paths/fixes; their\n\
         # --ingress-namespace and --ingress-label flags win. Default: unknown.\n\
         # [network]\n\
         # ingress-namespace = \"ingress-nginx\"\n\
         # ingress-labels = { \"app.kubernetes.io/name\" = \"ingress-nginx\" }\n\
         # The API server's addresses as the network plugin sees them (net's --api-server wins):\n\
         # answers about {api-server} read them, and net generate lets its callers reach them.\n\
         # api-server = [\"10.0.0.1\"]\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RuleSet {
        RuleSet::builtin()
    }

    #[test]
    fn the_network_table_places_the_ingress_controller() {
        let text =
            "[network]\ningress-namespace = \"ingress-nginx\"\ningress-labels = { app = \"gw\" }\n";
        let config = Config::parse("palisade.toml", text, &rules()).unwrap();
        assert_eq!(
            config.settings.ingress.namespace.as_deref(),
            Some("ingress-nginx")
        );
        assert_eq!(
            config.settings.ingress.labels.unwrap()["app"],
            serde_json::json!("gw")
        );
        let wrong = "[rules]\ndisable = []\n[network]\ningress-labels = { \"\" = \"x\" }\n";
        let err = Config::parse("palisade.toml", wrong, &rules()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "palisade.toml:4:1: [network]: ingress-labels has an empty label key"
        );
    }

    #[test]
    fn parses_a_full_config() {
        let text = "[rules]\ndisable = [\"POD006\"]\n\n[[suppress]]\nrule = \"host-namespace-shared\"\nreason = \"node agent\"\nexpires = \"2027-03-31\"\nnamespace = \"monitoring\"\nname = \"node-*\"\n";
        let config = Config::parse("palisade.toml", text, &rules()).unwrap();
        assert_eq!(config.disabled_rules, ["POD006"]);
        let entry = &config.suppressions[0];
        assert_eq!(entry.rule, "POD004");
        assert_eq!(entry.line, 4, "the `[[suppress]]` header line");
        assert_eq!(entry.expires.unwrap().to_string(), "2027-03-31");
    }

    #[test]
    fn rule_settings_are_read_and_validated() {
        let text = "[rules]\nallowed-registries = [\"registry.example.com/team\"]\nallowed-capabilities = [\"CAP_NET_ADMIN\"]\nrequired-labels = [\"app.kubernetes.io/name\", \"owner\"]\n";
        let config = Config::parse("palisade.toml", text, &rules()).unwrap();
        let list = |key: &str| {
            let setting = rules()
                .settings()
                .into_iter()
                .find(|s| s.key == key)
                .unwrap();
            config.settings.list(setting).to_vec()
        };
        assert_eq!(list("allowed-registries"), ["registry.example.com/team"]);
        assert_eq!(list("allowed-capabilities"), ["NET_ADMIN"]);
        assert_eq!(list("required-labels"), ["app.kubernetes.io/name", "owner"]);
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
                "palisade.toml:2:1: unknown setting `allowed-registry` in [rules] (known: disable, allowed-capabilities,",
            ),
        ] {
            let error = Config::parse("palisade.toml", text, &rules())
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
            let err = Config::parse("palisade.toml", text, &rules())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn the_init_template_is_valid_commented_and_uncommented() {
        let rules = RuleSet::builtin();
        let text = template(&rules);
        let config = Config::parse("palisade.toml", &text, &rules).expect("commented template");
        assert!(config.suppressions.is_empty() && config.disabled_rules.is_empty());
        for setting in [
            "allowed-registries",
            "allowed-capabilities",
            "required-labels",
        ] {
            assert!(
                text.contains(&format!("# {setting} = [")),
                "{setting}:\n{text}"
            );
        }
        // Every example, uncommented, is a valid entry.
        let uncommented: String = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = Config::parse("palisade.toml", &uncommented, &rules)
            .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(config.disabled_rules, ["POD006"]);
        assert_eq!(config.suppressions.len(), 1);
        let capabilities = rules
            .settings()
            .into_iter()
            .find(|s| s.key == "allowed-capabilities")
            .expect("POD007 declares it");
        assert_eq!(config.settings.list(capabilities), ["NET_ADMIN"]);
        let criticality =
            palisade_k8s::criticality::Configured::parse("palisade.toml", &uncommented).unwrap();
        assert_eq!(
            criticality.of("payments-eu"),
            Some(palisade_k8s::criticality::Criticality::High)
        );
    }
}
