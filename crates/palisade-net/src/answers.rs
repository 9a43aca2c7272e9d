//! The typed answers of `palisade net`: each serialises as its JSON output and describes
//! itself for people as a document of lines and tables.

use palisade_report::answer::{Answer, Document, Table};
use serde::Serialize;

use crate::conn::Conn;
use crate::engine::Step;
use crate::matrix::{Change, Connection};
use crate::network::{Network, Unevaluated};

/// A policy the API server would reject, as the answers show it.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidPolicy {
    pub policy: String,
    pub field: String,
    pub problem: String,
}

fn invalid(network: &Network) -> Vec<InvalidPolicy> {
    network
        .problems
        .iter()
        .map(|p| InvalidPolicy {
            policy: format!(
                "{} {}{}",
                p.object.kind,
                p.object
                    .namespace
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default(),
                p.object.display_name()
            ),
            field: p.problem.pointer.clone(),
            problem: p.problem.message.clone(),
        })
        .collect()
}

fn caveats(doc: &mut Document, unevaluated: &[Unevaluated], invalid: &[InvalidPolicy]) {
    if !unevaluated.is_empty() {
        doc.line(format!(
            "\nNot evaluated ({}): the pairs they may govern are marked; their connections are not a final answer.",
            unevaluated.len()
        ));
        for u in unevaluated {
            doc.line(format!("  {}: {}", u.policy, u.reason));
        }
    }
    for p in invalid {
        doc.line(format!(
            "invalid: {} at {}: {}",
            p.policy, p.field, p.problem
        ));
    }
}

/// `net matrix`.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixAnswer {
    pub workloads: usize,
    pub policies: usize,
    pub connections: Vec<Connection>,
    pub not_evaluated: Vec<Unevaluated>,
    pub invalid_policies: Vec<InvalidPolicy>,
}

impl MatrixAnswer {
    pub fn new(network: &Network, connections: Vec<Connection>) -> MatrixAnswer {
        MatrixAnswer {
            workloads: network.endpoints.len(),
            policies: network.policies.len() + network.admin.len() + network.baseline.len(),
            connections,
            not_evaluated: network.unevaluated.clone(),
            invalid_policies: invalid(network),
        }
    }

    /// `src,dst,conn[,not_evaluated]` with a header, quoted as RFC 4180 asks.
    pub fn csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        for c in &self.connections {
            out.push_str(&csv_line(c));
        }
        out
    }

    /// A Graphviz digraph: one node per party, one labelled edge per connection.
    pub fn dot(&self) -> String {
        let mut out = String::from(DOT_HEADER);
        for c in &self.connections {
            out.push_str(&dot_line(c));
        }
        out.push_str(DOT_FOOTER);
        out
    }
}

/// The header line of the CSV matrix.
pub const CSV_HEADER: &str = "src,dst,conn,not_evaluated\n";
/// The opening and closing lines of the Graphviz matrix.
pub const DOT_HEADER: &str = "digraph connectivity {\n  rankdir=LR;\n  node [shape=box];\n";
pub const DOT_FOOTER: &str = "}\n";

/// One connection as a CSV line.
pub fn csv_line(c: &Connection) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let ne: Vec<&str> = c.not_evaluated.iter().map(String::as_str).collect();
    format!(
        "{},{},{},{}\n",
        quote(&c.src),
        quote(&c.dst),
        quote(&c.conn.to_string()),
        quote(&ne.join("; "))
    )
}

/// One connection as a Graphviz edge.
pub fn dot_line(c: &Connection) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let style = if c.not_evaluated.is_empty() {
        ""
    } else {
        ", style=dashed"
    };
    format!(
        "  \"{}\" -> \"{}\" [label=\"{}\"{style}];\n",
        esc(&c.src),
        esc(&c.dst),
        esc(&c.conn.to_string())
    )
}

impl Answer for MatrixAnswer {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let allowed = self
            .connections
            .iter()
            .filter(|c| !c.conn.is_empty())
            .count();
        let unsure = self
            .connections
            .iter()
            .filter(|c| !c.not_evaluated.is_empty())
            .count();
        doc.line(format!(
            "{allowed} allowed connections between {} workloads, external addresses and the ingress controller ({} policies){}",
            self.workloads,
            self.policies,
            if unsure > 0 {
                format!("; {unsure} pairs not final (see NOTE)")
            } else {
                String::new()
            }
        ));
        if !self.connections.is_empty() {
            let rows = self
                .connections
                .iter()
                .map(|c| {
                    let mut note = String::new();
                    if !c.not_evaluated.is_empty() {
                        note = format!(
                            "not evaluated: {}",
                            c.not_evaluated
                                .iter()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                    vec![c.src.clone(), c.dst.clone(), c.conn.to_string(), note]
                })
                .collect();
            doc.table(Table {
                indent: 0,
                widths: vec![0, 0, 0],
                header: Some(vec![
                    "SOURCE".into(),
                    "DESTINATION".into(),
                    "CONNECTIONS".into(),
                    "NOTE".into(),
                ]),
                rows,
            });
        }
        caveats(&mut doc, &self.not_evaluated, &self.invalid_policies);
        doc
    }
}

/// `net why`.
#[derive(Debug, Clone, Serialize)]
pub struct WhyAnswer {
    pub src: String,
    pub dst: String,
    /// The port asked about (`8080/TCP`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// `allowed` or `denied` (for the port asked about, or for any connection).
    pub verdict: &'static str,
    /// `false` when a policy that may govern the pair was not evaluated (see
    /// `not_evaluated`): the verdict is then what the evaluated policies say.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Every connection allowed between the two.
    pub allowed: Conn,
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<String>,
}

impl Answer for WhyAnswer {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let what = match &self.port {
            Some(p) => format!("{} => {} on {p}", self.src, self.dst),
            None => format!("{} => {}", self.src, self.dst),
        };
        let qualifier = if self.is_final {
            ""
        } else {
            " (not final: see below)"
        };
        doc.line(format!(
            "{what}: {}{qualifier}",
            self.verdict.to_uppercase()
        ));
        doc.line(format!("allowed: {}", self.allowed));
        if !self.steps.is_empty() {
            let rows = self
                .steps
                .iter()
                .map(|s| {
                    vec![
                        s.direction_label(),
                        s.policy.clone().unwrap_or_else(|| "(no policy)".into()),
                        s.rule.clone().unwrap_or_default(),
                        s.effect_label().into(),
                        s.conn.to_string(),
                    ]
                })
                .collect();
            doc.table(Table {
                indent: 2,
                widths: vec![0, 0, 0, 0],
                header: Some(vec![
                    "DIRECTION".into(),
                    "POLICY".into(),
                    "RULE".into(),
                    "EFFECT".into(),
                    "CONNECTIONS".into(),
                ]),
                rows,
            });
        }
        for p in &self.not_evaluated {
            doc.line(format!("not evaluated: {p}"));
        }
        doc
    }
}

/// `net diff`.
#[derive(Debug, Clone, Serialize)]
pub struct DiffAnswer {
    pub changes: Vec<Change>,
    pub not_evaluated: Vec<Unevaluated>,
    pub invalid_policies: Vec<InvalidPolicy>,
}

impl DiffAnswer {
    pub fn new(old: &Network, new: &Network, changes: Vec<Change>) -> DiffAnswer {
        let mut not_evaluated = old.unevaluated.clone();
        not_evaluated.extend(new.unevaluated.iter().cloned());
        let mut invalid_policies = invalid(old);
        invalid_policies.extend(invalid(new));
        DiffAnswer {
            changes,
            not_evaluated,
            invalid_policies,
        }
    }
}

impl Answer for DiffAnswer {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        if self.changes.is_empty() {
            doc.line("no connectivity changes");
        } else {
            let gained = self.changes.iter().filter(|c| !c.gained.is_empty()).count();
            let lost = self.changes.iter().filter(|c| !c.lost.is_empty()).count();
            doc.line(format!(
                "{} pairs change: {gained} gain connections, {lost} lose connections",
                self.changes.len()
            ));
            let rows = self
                .changes
                .iter()
                .map(|c| {
                    vec![
                        c.kind.into(),
                        c.src.clone(),
                        c.dst.clone(),
                        c.before.to_string(),
                        c.after.to_string(),
                    ]
                })
                .collect();
            doc.table(Table {
                indent: 0,
                widths: vec![0, 0, 0, 0],
                header: Some(vec![
                    "CHANGE".into(),
                    "SOURCE".into(),
                    "DESTINATION".into(),
                    "BEFORE".into(),
                    "AFTER".into(),
                ]),
                rows,
            });
        }
        caveats(&mut doc, &self.not_evaluated, &self.invalid_policies);
        doc
    }
}

/// `net generate`.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateAnswer {
    pub policies: Vec<serde_json::Value>,
    /// What applying them changes.
    pub changes: Vec<Change>,
}

/// How many changed pairs the YAML header lists before it only counts.
const LISTED_CHANGES: usize = 40;

impl GenerateAnswer {
    /// The policies as a YAML stream, headed by comments that summarise the connectivity
    /// they change.
    pub fn yaml(&self) -> String {
        let mut out = format!(
            "# Generated by `palisade net generate`: {} NetworkPolicies. Review before applying.\n",
            self.policies.len()
        );
        let lost = self.changes.iter().filter(|c| !c.lost.is_empty()).count();
        let gained = self.changes.iter().filter(|c| !c.gained.is_empty()).count();
        out.push_str(&format!(
            "# Connectivity they change: {lost} pairs lose connections, {gained} gain (`-o json` lists all).\n"
        ));
        for c in self.changes.iter().take(LISTED_CHANGES) {
            out.push_str(&format!(
                "#   {} {} => {}: {} -> {}\n",
                c.kind, c.src, c.dst, c.before, c.after
            ));
        }
        if self.changes.len() > LISTED_CHANGES {
            out.push_str(&format!(
                "#   ... and {} more\n",
                self.changes.len() - LISTED_CHANGES
            ));
        }
        out.push_str(&crate::generate::to_yaml_stream(&self.policies));
        out
    }
}

impl Answer for GenerateAnswer {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.text(self.yaml());
        doc
    }
}

/// `net exposure`.
#[derive(Debug, Clone, Serialize)]
pub struct ExposureAnswer {
    pub ways_in: Vec<crate::surface::WayIn>,
}

impl Answer for ExposureAnswer {
    fn document(&self) -> Document {
        let mut doc = Document::new();
        let outside = self.ways_in.iter().filter(|w| w.outside).count();
        let total = self.ways_in.len();
        let ways = if total == 1 { "way in" } else { "ways in" };
        doc.line(format!(
            "{total} {ways}: {outside} from outside the cluster, {} that stay inside",
            total - outside
        ));
        let mut rows = Vec::new();
        for way in &self.ways_in {
            let mut first = true;
            let mut row = |workload: String, lets_in: String| {
                let (via, reach) = match first {
                    true => (way.via.clone(), way.reach.clone()),
                    false => (String::new(), String::new()),
                };
                first = false;
                rows.push(vec![via, reach, workload, lets_in]);
            };
            if way.behind.is_empty() {
                row("(no workload of the input)".into(), String::new());
            }
            for behind in &way.behind {
                let lets_in = match (&behind.lets_in, behind.is_final) {
                    (Some(conn), Some(false)) => format!("{conn} (not final: {})", behind.notes),
                    (Some(conn), _) => conn.clone(),
                    (None, _) => "-".into(),
                };
                row(behind.workload.clone(), lets_in);
            }
        }
        if !rows.is_empty() {
            doc.table(Table {
                indent: 0,
                widths: vec![0, 0, 0],
                header: Some(vec![
                    "WAY IN".into(),
                    "FROM".into(),
                    "WORKLOAD".into(),
                    "LETS IN FROM OUTSIDE".into(),
                ]),
                rows,
            });
        }
        doc
    }
}
