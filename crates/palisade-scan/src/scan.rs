//! The scan pipeline.

use std::collections::HashSet;
use std::time::Instant;

use palisade_core::report::{Compliance, ComplianceStatus, ControlResult};
use palisade_core::{FindingOrder, ReportBuilder};
use palisade_core::{Profile, Report};
use palisade_inventory::{Input, Inventory, LoadOptions, load};
use palisade_rules::{Rule, RuleSet, evaluate_with_options};

use crate::config::Config;
use crate::date::Date;
use crate::suppress;

/// What to scan with. The default runs the built-in rules and knows drift's
/// ([`crate::default_rules`]).
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The rules of the run; `only_rules`, `skip_rules`, the config's `disable` and
    /// `framework` select from them.
    pub rules: RuleSet,
    pub load: LoadOptions,
    pub config: Config,
    /// Run only these rules (ids); empty means all.
    pub only_rules: Vec<String>,
    /// Skip these rules (ids), in addition to the config's `disable`.
    pub skip_rules: Vec<String>,
    /// The date expiry is judged against; `None` means today.
    pub today: Option<Date>,
    /// Evaluate one framework: run only its rules and report a verdict per control.
    pub framework: Option<Profile>,
    /// Types a cluster scan could not list: `(group, kind, why)`. Rules that depend on one
    /// are marked incomplete in coverage, and their controls are never `pass`.
    pub unlisted: Vec<(String, String, String)>,
    /// The objects are a whole cluster (a live scan or a snapshot), not a set of manifests.
    pub whole_cluster: bool,
    /// Nothing besides the judged objects is read (`serve admission` without `--cluster` or
    /// `--inventory`): rules that would conclude from another object's absence do not judge
    /// (see [`palisade_inventory::Inventory::alone`]).
    pub judged_alone: bool,
    /// The Pod Security policy version (`--pss-version`) pods are judged against under a
    /// Pod Security framework; `None` is the latest.
    pub pss_version: Option<palisade_rules::pss::admission::PolicyVersion>,
    /// Do not record an evaluation per (rule, object): only JUnit lists every check, and on a
    /// large inventory they are millions of entries.
    pub skip_evaluations: bool,
    /// Scan only these namespaces (`-n`, as kubectl): objects of other namespaces are
    /// dropped before the rules run; empty means all.
    pub namespaces: Vec<String>,
    /// Also scan the input files that hold no Kubernetes object (`.env`, `values.yaml`,
    /// configuration files) for secrets (`--secrets-in-all-files`).
    pub secrets_in_all_files: bool,
    /// SBOMs and the OSV database to judge the images the workloads run against
    /// (`--sbom`, `--osv-db`): VULN001's findings are added to the report.
    pub vulnerabilities: Option<std::sync::Arc<crate::vulnerabilities::Vulnerabilities>>,
}

/// The rules named in `--rules` (`only_rules`) that will not run, each id with why: one
/// that needs a setting it was not given, or, unless the objects are judged against a
/// cluster (`against_a_cluster`: the webhook, `scan --against`), one that judges changes to
/// a cluster. A run asked about them must not pass as if they had judged anything.
pub fn named_but_idle(
    options: &ScanOptions,
    against_a_cluster: bool,
) -> Vec<(String, &'static str)> {
    let settings = run_settings(options);
    active_rules(options)
        .into_iter()
        .filter(|r| options.only_rules.iter().any(|o| o == r.meta().id.as_ref()))
        .filter_map(|r| {
            r.unconfigured(&settings)
                .or_else(|| r.only_against_a_cluster().filter(|_| !against_a_cluster))
                .map(|why| (r.meta().id.to_string(), why))
        })
        .collect()
}

/// The rules a run evaluates: the framework's or all, less the disabled and skipped ones,
/// narrowed to `--rules` when given.
pub(crate) fn active_rules(options: &ScanOptions) -> Vec<&dyn Rule> {
    let disabled: HashSet<&str> = options
        .config
        .disabled_rules
        .iter()
        .chain(&options.skip_rules)
        .map(String::as_str)
        .collect();
    let candidates: Vec<&dyn Rule> = match options.framework {
        Some(profile) => options.rules.for_framework(profile),
        None => options.rules.evaluated(),
    };
    candidates
        .into_iter()
        .filter(|r| {
            let id = r.meta().id.as_ref();
            !disabled.contains(id)
                && (options.only_rules.is_empty() || options.only_rules.iter().any(|o| o == id))
        })
        .collect()
}

/// Whether the run reports `meta`, a rule whose findings are made outside the engine (VULN001,
/// NODE004): not disabled or skipped, named by `--rules` when it names any, and citing the
/// `--framework` asked for.
pub fn reported_rule_runs(meta: &palisade_core::RuleMeta, options: &ScanOptions) -> bool {
    let id = meta.id.as_ref();
    !options
        .config
        .disabled_rules
        .iter()
        .chain(&options.skip_rules)
        .any(|r| r == id)
        && (options.only_rules.is_empty() || options.only_rules.iter().any(|o| o == id))
        && options
            .framework
            .is_none_or(|profile| meta.controls.iter().any(|c| profile.includes(c)))
}

/// What a rule outside the engine judged, to add to a report.
#[derive(Debug, Default)]
pub struct Reported {
    pub rules: Vec<&'static palisade_core::RuleMeta>,
    pub findings: Vec<palisade_core::Finding>,
    pub coverage: Vec<palisade_core::Coverage>,
    pub diagnostics: Vec<palisade_core::Diagnostic>,
}

/// Adds what rules outside the engine judged to `report`: only the rules the run asks for
/// ([`reported_rule_runs`]), their findings with `palisade.toml`'s suppressions applied, their
/// coverage and metadata, and the compliance matrix worked out again.
pub fn add_reported(report: &mut Report, reported: Reported, options: &ScanOptions) {
    let Reported {
        rules,
        mut findings,
        coverage,
        diagnostics,
    } = reported;
    let runs: Vec<&'static palisade_core::RuleMeta> = rules
        .into_iter()
        .filter(|meta| reported_rule_runs(meta, options))
        .collect();
    let ran = |id: &str| runs.iter().any(|m| m.id.as_ref() == id);
    findings.retain(|f| ran(f.rule_id()));
    let today = options.today.unwrap_or_else(crate::date::Date::today);
    crate::suppress::apply_config(&mut findings, &options.config, today);
    report
        .coverage
        .extend(coverage.into_iter().filter(|c| ran(&c.rule)));
    report.rules.extend(runs.iter().map(|meta| (*meta).into()));
    report.findings.extend(findings);
    report.sort_findings();
    report.diagnostics.extend(diagnostics);
    report.compliance = options.framework.map(|p| compliance(p, report));
}

/// Loads `inputs` and scans them.
pub fn scan(inputs: &[Input], options: &ScanOptions) -> Report {
    let start = Instant::now();
    let loaded = load(inputs, &options.load);
    if !options.secrets_in_all_files {
        return scan_loaded(loaded, options, start);
    }
    let active: HashSet<String> = active_rules(options)
        .iter()
        .map(|r| r.meta().id.to_string())
        .collect();
    let loose = crate::loose_files::scan(
        inputs,
        &loaded.inventory,
        &active,
        options.load.limits.max_file_bytes,
    );
    let mut report = scan_loaded(loaded, options, start);
    let mut sensitive = palisade_core::redact::Sensitive::new();
    for secret in &loose.secrets {
        sensitive.add_secret(secret);
    }
    let redactor = sensitive.redactor();
    report.findings.extend(loose.findings);
    report.diagnostics.extend(loose.diagnostics);
    redactor.redact_report(&mut report);
    report.sort_findings();
    report
}

/// Scans what was loaded (files, a snapshot, a live cluster's objects), keeping the load's
/// diagnostics first.
pub fn scan_loaded(
    mut loaded: palisade_inventory::Loaded,
    options: &ScanOptions,
    start: Instant,
) -> Report {
    loaded.inventory.complete = options.whole_cluster;
    loaded.inventory = std::mem::take(&mut loaded.inventory).retain_namespaces(&options.namespaces);
    // The redactor reads every string of the inventory; it is made on another core while the
    // rules run.
    let (judged, redactor) = std::thread::scope(|scope| {
        let redactor = scope.spawn(|| redactor(&[&loaded.inventory]));
        let judged = judge(&loaded.inventory, options, None);
        let redactor = redactor
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (judged, redactor)
    });
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let files = loaded.files;
    let vulnerabilities = options
        .vulnerabilities
        .as_deref()
        .filter(|_| reported_rule_runs(&palisade_vuln::rule::KNOWN_VULNERABILITY, options))
        .map(|v| {
            crate::vulnerabilities::assessed(v, &loaded.inventory, &options.config.settings.ingress)
        });
    // The report needs no object once the findings are judged and suppressed. Freeing millions
    // of JSON nodes takes a noticeable share of a scan, so it happens on another core while the
    // report is sorted, and the sort's keys are not added to the objects' memory (a large
    // scan's peak is the end of judging: `bench/large-file.sh`).
    std::thread::spawn(move || drop(loaded));
    let mut report = report_of(judged, options, start);
    let sboms = vulnerabilities.as_ref().map_or(0, |v| v.sboms);
    if let Some(assessed) = vulnerabilities {
        crate::vulnerabilities::add_to(&mut report, assessed, options);
    }
    diagnostics.append(&mut report.diagnostics);
    report.diagnostics = diagnostics;
    redactor.redact_report(&mut report);
    report.files = files + sboms;
    report.duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

/// The redaction boundary for reports made from these inventories: every string in a place
/// that is not known to be harmless is removed from messages, diagnostics and reasons before
/// any writer sees them (see [`palisade_core::redact`]).
pub fn redactor(inventories: &[&Inventory]) -> palisade_core::redact::Redactor {
    sensitive(inventories).redactor()
}

/// What [`redactor`] hides, for a caller that has more to add (`palisade fix`: a chart's
/// values file).
pub fn sensitive(inventories: &[&Inventory]) -> palisade_core::redact::Sensitive {
    let mut sensitive = palisade_core::redact::Sensitive::new();
    for inventory in inventories {
        for object in &inventory.objects {
            sensitive.add_object(&object.value);
        }
    }
    sensitive
}

/// Marks the coverage of every rule that targets or reads a type that could not be listed.
fn mark_incomplete(
    coverage: &mut [palisade_core::Coverage],
    rules: &[&dyn Rule],
    unlisted: &[(String, String, String)],
) {
    if unlisted.is_empty() {
        return;
    }
    for (entry, rule) in coverage.iter_mut().zip(rules) {
        let palisade_rules::KindsNeeded {
            every_kind: everything,
            kinds,
        } = rule.kinds_needed();
        for (group, kind, why) in unlisted {
            // A failed discovery (an empty kind) withholds every kind of its group.
            let failed = (group.as_str(), kind.as_str());
            if everything
                || kinds
                    .iter()
                    .any(|&need| palisade_snapshot::withholds(failed, need))
            {
                entry.incomplete.push(why.clone());
            }
        }
    }
}

/// Per-control verdicts from the findings and coverage of the rules that ran. A control is
/// never `pass` unless a rule that covers it ran and evaluated at least one object.
pub fn compliance(profile: Profile, report: &Report) -> Compliance {
    let controls = palisade_rules::compliance::matrix(profile)
        .into_iter()
        .map(|row| {
            let mut ids: Vec<String> = row.rules.iter().map(|r| r.meta().id.to_string()).collect();
            // Rules of the run outside the catalogue that cite the control (VULN001 when SBOMs
            // were judged, policies that name their controls) cover it too.
            for meta in &report.rules {
                if !ids.iter().any(|id| id == meta.id.as_ref())
                    && meta.controls.contains(&row.control)
                {
                    ids.push(meta.id.to_string());
                }
            }
            let ran: Vec<&palisade_core::Coverage> = report
                .coverage
                .iter()
                .filter(|c| ids.contains(&c.rule) && c.skipped.is_none())
                .collect();
            // A finding fails the controls it cites, not every control of its rule: a pod that
            // sets only hostNetwork fails CIS 5.2.5, not 5.2.3 (hostPID) and 5.2.4 (hostIPC).
            let findings = report
                .findings
                .iter()
                .filter(|f| {
                    f.suppressed().is_none()
                        && ids.iter().any(|id| id == f.rule_id())
                        && f.controls().contains(&row.control)
                })
                .count();
            // A rule that counts per control (NODE004's files) counts for this control only
            // what it judged for it.
            let own = |c: &palisade_core::Coverage| match c.controls.is_empty() {
                true => (c.evaluated, c.not_assessed),
                false => c
                    .controls
                    .iter()
                    .find(|o| o.control == row.control)
                    .map_or((0, 0), |o| (o.evaluated, o.not_assessed)),
            };
            let evaluated = ran.iter().map(|c| own(c).0).sum();
            let not_assessed = ran.iter().map(|c| own(c).1 + c.incomplete.len()).sum();
            let status = if ids.is_empty() {
                if row.manual.is_some() {
                    ComplianceStatus::Manual
                } else {
                    ComplianceStatus::NotCovered
                }
            } else if ran.is_empty() {
                // Every covering rule was disabled or unconfigured: no verdict.
                ComplianceStatus::NotAssessed
            } else if findings > 0 {
                ComplianceStatus::Fail
            } else if not_assessed > 0 {
                ComplianceStatus::NotAssessed
            } else if evaluated == 0 {
                ComplianceStatus::NotApplicable
            } else {
                ComplianceStatus::Pass
            };
            // The rules that ran for it (all covering rules when none did, to say which).
            let ran_ids: Vec<String> = ids
                .iter()
                .filter(|id| ran.iter().any(|c| &c.rule == *id))
                .cloned()
                .collect();
            ControlResult {
                title: row.title,
                control: row.control,
                status,
                rules: if ran_ids.is_empty() { ids } else { ran_ids },
                findings,
                evaluated,
                not_assessed,
                reason: row.manual,
            }
        })
        .collect();
    Compliance {
        framework: profile.name(),
        title: profile.framework().title(),
        controls,
    }
}

/// The Pod Security level a framework selection assesses (`pss` is Restricted, which
/// includes Baseline).
fn pss_level(profile: Profile) -> Option<palisade_rules::pss::Level> {
    match profile {
        Profile::PssBaseline => Some(palisade_rules::pss::Level::Baseline),
        Profile::Pss | Profile::PssRestricted => Some(palisade_rules::pss::Level::Restricted),
        _ => None,
    }
}

/// Scans an inventory that is already loaded (a snapshot, a test).
pub fn scan_inventory(inventory: &Inventory, options: &ScanOptions) -> Report {
    scan_scoped(inventory, options, None)
}

/// Judges only the objects at `only` against the whole inventory, whose models of the
/// cluster are prepared (see [`crate::ClusterModel`]); `None` judges every object.
pub(crate) fn scan_scoped(
    inventory: &Inventory,
    options: &ScanOptions,
    only: Option<Against<'_>>,
) -> Report {
    let start = Instant::now();
    report_of(judge(inventory, options, only), options, start)
}

/// The objects judged one at a time against a prepared cluster (at their indices), its
/// models, and what it was before they were placed in it when the caller found that
/// ([`palisade_rules::ClusterModels::before`]).
pub(crate) type Against<'a> = (
    &'a [usize],
    &'a palisade_rules::ClusterModels,
    Option<&'a palisade_rules::Before>,
);

/// What judging an inventory leaves for its report: findings judged and suppressed, with
/// nothing borrowed from the inventory.
pub(crate) struct Judged {
    report: ReportBuilder,
    audit_annotations: Vec<(String, String)>,
}

/// The rules' settings for a run: the configuration's, the Pod Security level and version
/// `--framework` and `--pss-version` ask for, and the cluster's admission policies (every
/// policy of the run, whether its findings are reported or not).
pub(crate) fn run_settings(options: &ScanOptions) -> palisade_rules::RuleSettings {
    let mut settings = options.config.settings.clone();
    if let Some(level) = options.framework.and_then(pss_level) {
        settings.pod_security = Some(palisade_rules::PodSecurityTarget {
            level,
            version: options
                .pss_version
                .unwrap_or(palisade_rules::pss::admission::PolicyVersion::LATEST),
        });
    }
    settings.admission_policies = options.rules.admission_policies();
    settings
}

/// Runs the rules over the objects at `only` (`None`: every object) and applies the
/// suppressions, the steps that read the inventory.
pub(crate) fn judge(
    inventory: &Inventory,
    options: &ScanOptions,
    only: Option<Against<'_>>,
) -> Judged {
    let rules = active_rules(options);
    let active: HashSet<String> = rules.iter().map(|r| r.meta().id.to_string()).collect();
    let settings = run_settings(options);
    let mut output = match only {
        Some((only, models, before)) => palisade_rules::evaluate_objects(
            inventory,
            &rules,
            &settings,
            only,
            (Some(models), before),
        ),
        // The report sorts the findings: the engine need not put them in order first.
        None => evaluate_with_options(
            inventory,
            &rules,
            &settings,
            !options.skip_evaluations,
            palisade_rules::FindingsOrder::Ranked,
        ),
    };
    let today = options.today.unwrap_or_else(Date::today);
    let mut diagnostics = std::mem::take(&mut output.diagnostics);
    if only.is_none() {
        diagnostics.extend(rules_not_run(options, false));
    }
    diagnostics.extend(suppress::apply(
        &mut output.findings,
        &output.finding_objects,
        (inventory, only.map(|(only, _, _)| only)),
        &options.config,
        &active,
        &|id: &str| options.rules.canonical(id),
        today,
    ));
    Judged {
        report: ReportBuilder {
            findings: output.findings,
            diagnostics,
            coverage: output.coverage,
            rules: rules.iter().map(|r| r.meta().into()).collect(),
            objects: output.objects,
            evaluations: output.evaluations,
            files: inventory.sources.len(),
            order: FindingOrder::Location,
            ranks: output.ranks,
        },
        audit_annotations: output.audit_annotations,
    }
}

/// A diagnostic for each rule named in `--rules` that does not run ([`named_but_idle`]).
pub(crate) fn rules_not_run(
    options: &ScanOptions,
    against_a_cluster: bool,
) -> Vec<palisade_core::Diagnostic> {
    named_but_idle(options, against_a_cluster)
        .into_iter()
        .map(|(id, why)| {
            palisade_core::Diagnostic::new(
                palisade_core::DiagnosticLevel::Error,
                palisade_core::diagnostic::RULE_NOT_RUN,
                format!("{id} was asked for with --rules but did not run: {why}"),
            )
        })
        .collect()
}

/// The report of what was judged (sorted, with coverage and compliance), its duration counted
/// from `start`.
pub(crate) fn report_of(judged: Judged, options: &ScanOptions, start: Instant) -> Report {
    let rules = active_rules(options);
    let mut report = judged.report.build(start.elapsed());
    report.audit_annotations = judged.audit_annotations;
    mark_incomplete(&mut report.coverage, &rules, &options.unlisted);
    report.compliance = options.framework.map(|p| compliance(p, &report));
    report
}
