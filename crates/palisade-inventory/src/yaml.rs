//! YAML (and JSON, which YAML 1.2 contains) to JSON values with a position for every node.
//!
//! Built on saphyr-parser's event stream rather than a ready-made DOM so that Palisade decides
//! the things a security scanner must get right:
//!
//! - **Scalars resolve as the API server resolves them.** Kubernetes decodes YAML with YAML 1.1
//!   rules (go-yaml v2 under sigs.k8s.io/yaml): `0644` is octal 420, `yes`/`on`/`y` are booleans.
//!   A YAML 1.2 reading would turn `defaultMode: 0644` into 644 and `privileged: yes` into a
//!   string, and a rule would then miss a privileged container.
//! - **Hostile input is bounded.** Nesting depth and the number of nodes per document
//!   (aliases count by their expanded size, which stops billion-laughs files) are limited;
//!   the event parser itself keeps its stack on the heap, so deep nesting cannot overflow ours.
//! - **One bad document does not lose the file.** A stream is split at `---` lines and each
//!   document is parsed on its own, so a syntax error costs one document, not the rest.
//! - **Duplicate keys are reported, not fatal**: `kubectl apply` rejects them under strict field
//!   validation, a lenient decoder keeps the last value. Palisade keeps the last value, evaluates
//!   it, and reports the ambiguity at the key's line.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::spans::{Pos, SpanNode, Spans, count_nodes};

/// Limits on one input, documented in the README ("Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes (default 64 MiB).
    pub max_file_bytes: u64,
    /// Deepest nesting of mappings and sequences in one document (default 128).
    pub max_depth: usize,
    /// Most nodes in one document, counting each alias as the size of what it expands to
    /// (default 2,000,000).
    pub max_nodes: usize,
    /// Most nodes that aliases may expand to in one file (default 200,000). Kubernetes
    /// manifests use anchors sparingly; a file past this is an alias bomb, and the rest of it
    /// is skipped with one diagnostic.
    pub max_alias_nodes_per_file: usize,
    /// Most nodes that aliases may expand to in one run, all files together (default
    /// 1,000,000), so that many bomb files read in parallel stay bounded too.
    pub max_alias_nodes_per_run: usize,
    /// For scanning large JSON dumps (cluster snapshots): drop `metadata.managedFields` (often
    /// a third of a live object, read only by drift). Nothing else of an object is dropped:
    /// an object that names a controller is judged through it only when it has no more power
    /// than the controller's template, which needs both whole.
    pub drop_managed_fields: bool,
    /// Document kinds besides Kubernetes Lists whose `items` are objects (Palisade's cluster
    /// snapshot, registered by `palisade-snapshot`); default none.
    pub envelopes: &'static [crate::load::Envelope],
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 2_000_000,
            max_alias_nodes_per_file: 200_000,
            max_alias_nodes_per_run: 1_000_000,
            drop_managed_fields: false,
            envelopes: &[],
        }
    }
}

/// A problem met while parsing, with its position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    /// `true` when the document was dropped; `false` for warnings on a kept document.
    pub fatal: bool,
    pub code: &'static str,
    pub pos: Pos,
    pub message: String,
}

/// One parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub spans: Spans,
    /// Warnings about this document (duplicate keys, non-string keys).
    pub warnings: Vec<ParseIssue>,
}

/// What parsing one YAML stream produced.
#[derive(Debug, Default)]
pub struct Stream {
    /// Documents in order; empty documents are left out.
    pub documents: Vec<Document>,
    /// Documents that could not be parsed, one issue each.
    pub errors: Vec<ParseIssue>,
}

/// Parses every document of `text`.
pub fn parse_stream(text: &str, limits: &Limits) -> Stream {
    parse_stream_in_run(text, limits, &AtomicUsize::new(0))
}

/// Parses every document of `text`, counting alias expansion against the file's budget and
/// the run's (`run_aliases`, shared by every file of a load). Once a budget is spent, the
/// rest of the file is skipped with one diagnostic.
pub fn parse_stream_in_run(text: &str, limits: &Limits, run_aliases: &AtomicUsize) -> Stream {
    let threads = if text.len() < PARALLEL_PARSE_BYTES {
        1
    } else {
        palisade_core::parallel::cores()
    };
    parse_stream_on(text, limits, run_aliases, threads)
}

/// [`parse_stream_in_run`] on up to `threads` threads. A file of many documents is parsed by
/// several threads, each a contiguous run of documents; the results are joined in order, and
/// after a problem that ends the file (an alias budget), what follows it is dropped, as a
/// sequential parse would.
fn parse_stream_on(
    text: &str,
    limits: &Limits,
    run_aliases: &AtomicUsize,
    threads: usize,
) -> Stream {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let chunks = split_documents(text);
    let file_aliases = AtomicUsize::new(0);
    if threads < 2 || chunks.len() < 2 * threads {
        return parse_chunks(&chunks, limits, &file_aliases, run_aliases).0;
    }
    let per_thread = chunks.len().div_ceil(threads);
    let parts: Vec<(Stream, bool)> = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .chunks(per_thread)
            .map(|part| {
                let file_aliases = &file_aliases;
                scope.spawn(move || parse_chunks(part, limits, file_aliases, run_aliases))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut stream = Stream::default();
    for (part, ended) in parts {
        stream.documents.extend(part.documents);
        stream.errors.extend(part.errors);
        if ended {
            break;
        }
    }
    stream
}

/// Files from this size on are parsed on several threads when they hold many documents.
const PARALLEL_PARSE_BYTES: usize = 4 << 20;

/// Parses chunks in order; `true` when a problem ended the file.
fn parse_chunks(
    chunks: &[Chunk<'_>],
    limits: &Limits,
    file_aliases: &AtomicUsize,
    run_aliases: &AtomicUsize,
) -> (Stream, bool) {
    let mut stream = Stream::default();
    let mut budget = AliasBudget {
        file: file_aliases,
        run: run_aliases,
    };
    for chunk in chunks {
        match parse_chunk(chunk.text, chunk.first_line, limits, &mut budget) {
            Ok(docs) => stream.documents.extend(docs),
            Err(ChunkError::Document(issue)) => stream.errors.push(issue),
            Err(ChunkError::File(issue)) => {
                stream.errors.push(issue);
                return (stream, true);
            }
        }
    }
    (stream, false)
}

/// Alias expansion spent so far in this file, and in the whole run (both shared by the
/// threads that parse one large file).
struct AliasBudget<'r> {
    file: &'r AtomicUsize,
    run: &'r AtomicUsize,
}

impl AliasBudget<'_> {
    /// Spends `n` expanded nodes; the message when a budget is exceeded.
    fn spend(&mut self, n: usize, limits: &Limits) -> Result<(), String> {
        let file = self.file.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if file > limits.max_alias_nodes_per_file {
            return Err(format!(
                "aliases in this file expand to more than {} nodes: an alias bomb; the rest of the file is not scanned",
                limits.max_alias_nodes_per_file
            ));
        }
        let run = self.run.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if run > limits.max_alias_nodes_per_run {
            return Err(format!(
                "aliases in the files of this run expand to more than {} nodes: alias bombs; the rest of this file is not scanned",
                limits.max_alias_nodes_per_run
            ));
        }
        Ok(())
    }
}

/// Why a chunk produced no documents: a problem of the document, or one that ends the file.
enum ChunkError {
    Document(ParseIssue),
    File(ParseIssue),
}

/// A piece of the stream that holds at most one document (more if `---` hides in a flow or
/// quoted scalar, which the parser then handles itself).
struct Chunk<'a> {
    text: &'a str,
    /// 0-based line of the chunk's first line in the whole text.
    first_line: u32,
}

/// Splits at lines that begin with `---` followed by white space or the end of the line. Such a
/// line always starts a new document in YAML, even inside a block scalar.
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut offset = 0usize;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        if offset > start && is_document_marker(line) {
            let first_line = std::mem::replace(&mut start_line, to_u32(line_no));
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line,
            });
            start = offset;
        }
        offset += line.len();
    }
    if start < text.len() || chunks.is_empty() {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks
}

fn is_document_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Parses one chunk, retrying once per line where a flow collection closes left of its
/// content (valid YAML that saphyr rejects as "invalid indentation"; see DEPENDENCIES.md).
fn parse_chunk(
    text: &str,
    first_line: u32,
    limits: &Limits,
    budget: &mut AliasBudget<'_>,
) -> Result<Vec<Document>, ChunkError> {
    let mut owned: Option<String> = None;
    for _ in 0..32 {
        let current = owned.as_deref().unwrap_or(text);
        match Builder::new(first_line, limits, budget).run(current) {
            Ok(docs) => return Ok(docs),
            Err(BuildError::Scan(err)) => {
                let line = err.marker().line();
                if err.info().contains("indentation")
                    && let Some(fixed) = indent_closing_bracket(current, line)
                        .or_else(|| indent_quoted_continuation(current, line, err.marker().col()))
                {
                    owned = Some(fixed);
                    continue;
                }
                return Err(ChunkError::Document(scan_issue(&err, first_line)));
            }
            Err(BuildError::Limit(issue)) => return Err(ChunkError::Document(issue)),
            Err(BuildError::FileBudget(issue)) => return Err(ChunkError::File(issue)),
        }
    }
    Err(ChunkError::Document(ParseIssue {
        fatal: true,
        code: "yaml-syntax",
        pos: Pos {
            line: first_line + 1,
            column: 1,
        },
        message: "too many mis-indented flow collections in one document".into(),
    }))
}

/// If `line` (1-based, within `text`) consists of a closing `]` or `}` (with optional `,`),
/// returns `text` with that line indented further. Columns on that line shift; lines do not.
fn indent_closing_bracket(text: &str, line: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let trimmed = l.trim();
        // The parser reports the error at the bracket's line or at the line after it.
        if !changed
            && (i + 1 == line || i + 2 == line)
            && matches!(trimmed.trim_end_matches(','), "]" | "}")
        {
            out.push_str(&" ".repeat(64));
            changed = true;
        }
        out.push_str(l);
    }
    changed.then_some(out)
}

/// If a quoted scalar starts at `line` (1-based), `column` (0-based) of `text` and its
/// continuation lines are indented less than its parent (valid YAML that kubectl, go-yaml and
/// PyYAML read, the Kubernetes tutorial's Kafka StatefulSet among them, but that saphyr
/// rejects), returns `text` with those lines indented further. Leading white space of a
/// quoted scalar's continuation lines is folded away, so the value is the same; lines do not
/// move.
fn indent_quoted_continuation(text: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines.get(line.checked_sub(1)?)?;
    let quote = start.chars().nth(column)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    // Where the scalar ends: the matching quote, on this line or a later one.
    let mut escaped = false;
    let mut last = None;
    let mut first = true;
    'lines: for (i, l) in lines.iter().enumerate().skip(line - 1) {
        let body: String = if first {
            l.chars().skip(column + 1).collect()
        } else {
            (*l).to_string()
        };
        first = false;
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                ('"', '\\') if !escaped => {
                    escaped = true;
                    continue;
                }
                ('"', '"') if !escaped => {
                    last = Some(i);
                    break 'lines;
                }
                ('\'', '\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                ('\'', '\'') => {
                    last = Some(i);
                    break 'lines;
                }
                _ => {}
            }
            escaped = false;
        }
    }
    let last = last?;
    if last + 1 == line {
        return None; // one line: not this problem
    }
    let mut out = String::with_capacity(text.len() + 64 * (last + 1 - line));
    for (i, l) in lines.iter().enumerate() {
        if i >= line && i <= last {
            out.push_str(&" ".repeat(64));
        }
        out.push_str(l);
    }
    Some(out)
}

fn scan_issue(err: &ScanError, first_line: u32) -> ParseIssue {
    let marker = err.marker();
    // saphyr stops flow collections nested deeper than its own limit; that is our nesting
    // limit at work too, so it is reported as one.
    let code = if err.info().contains("recursion limit") {
        "limit-exceeded"
    } else {
        "yaml-syntax"
    };
    ParseIssue {
        fatal: true,
        code,
        pos: Pos {
            line: first_line + to_u32(marker.line()),
            column: to_u32(marker.col()) + 1,
        },
        message: err.info().to_string(),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

enum BuildError {
    Scan(ScanError),
    /// The document is over a limit; the next documents are still read.
    Limit(ParseIssue),
    /// The file (or the run) is over its alias budget; the rest of the file is skipped.
    FileBudget(ParseIssue),
}

/// A collection under construction.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Value>,
        spans: Vec<SpanNode>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        map: Map<String, Value>,
        spans: Vec<(Pos, SpanNode)>,
        /// A key waiting for its value: text, position, whether it is the merge key `<<`.
        key: Option<(String, Pos, bool)>,
        /// Keys that came from `<<` merges and may be overridden silently.
        merged: Vec<String>,
    },
}

struct Builder<'l, 'b, 'r> {
    first_line: u32,
    limits: &'l Limits,
    budget: &'b mut AliasBudget<'r>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    warnings: Vec<ParseIssue>,
    /// Warnings of this document beyond [`MAX_WARNINGS_PER_DOCUMENT`], counted only.
    dropped_warnings: usize,
    docs: Vec<Document>,
    root: Option<(Value, SpanNode)>,
}

impl<'l, 'b, 'r> Builder<'l, 'b, 'r> {
    fn new(first_line: u32, limits: &'l Limits, budget: &'b mut AliasBudget<'r>) -> Self {
        Builder {
            first_line,
            limits,
            budget,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            warnings: Vec::new(),
            dropped_warnings: 0,
            docs: Vec::new(),
            root: None,
        }
    }

    fn pos(&self, span: &Span) -> Pos {
        Pos {
            line: self.first_line + to_u32(span.start.line()),
            column: to_u32(span.start.col()) + 1,
        }
    }

    fn limit(&self, pos: Pos, message: String) -> BuildError {
        BuildError::Limit(ParseIssue {
            fatal: true,
            code: "limit-exceeded",
            pos,
            message,
        })
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), BuildError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(self.limit(
                pos,
                format!(
                    "document has more than {} nodes (aliases count by their expanded size); \
                     an alias bomb or a generated file too large to scan",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn run(mut self, text: &str) -> Result<Vec<Document>, BuildError> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(BuildError::Scan)?;
            let pos = self.pos(&span);
            match event {
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    self.nodes = 0;
                    self.root = None;
                }
                Event::DocumentEnd => self.finish_document(),
                Event::Scalar(text, style, anchor, tag) => {
                    self.count(1, pos)?;
                    let value = resolve_scalar(&text, style, tag.as_deref());
                    if anchor > 0 {
                        self.anchors.insert(anchor, (value.clone(), 1));
                    }
                    let is_merge_key = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    self.push(value, SpanNode::Leaf(pos), pos, Some(text), is_merge_key)?;
                }
                Event::Alias(id) => {
                    let Some((value, size)) = self.anchors.get(&id).cloned() else {
                        return Err(BuildError::Limit(ParseIssue {
                            fatal: true,
                            code: "yaml-syntax",
                            pos,
                            message: "alias refers to an unknown anchor".into(),
                        }));
                    };
                    self.count(size, pos)?;
                    if let Err(message) = self.budget.spend(size, self.limits) {
                        return Err(BuildError::FileBudget(ParseIssue {
                            fatal: true,
                            code: "limit-exceeded",
                            pos,
                            message,
                        }));
                    }
                    self.push(value, SpanNode::Leaf(pos), pos, None, false)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.count(1, pos)?;
                    self.check_depth(pos)?;
                    self.stack.push(Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                        spans: Vec::new(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    self.count(1, pos)?;
                    self.check_depth(pos)?;
                    self.stack.push(Frame::Map {
                        pos,
                        anchor,
                        map: Map::new(),
                        spans: Vec::new(),
                        key: None,
                        merged: Vec::new(),
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let (value, node, pos, anchor) = match frame {
                        Frame::Seq {
                            pos,
                            anchor,
                            items,
                            spans,
                        } => (
                            Value::Array(shrink(items)),
                            SpanNode::Seq(pos, spans),
                            pos,
                            anchor,
                        ),
                        Frame::Map {
                            pos,
                            anchor,
                            map,
                            spans,
                            ..
                        } => (
                            Value::Object(exact_capacity(map)),
                            SpanNode::Map(pos, spans),
                            pos,
                            anchor,
                        ),
                    };
                    if anchor > 0 {
                        let size = count_nodes(&value);
                        self.anchors.insert(anchor, (value.clone(), size));
                    }
                    self.push(value, node, pos, None, false)?;
                }
                Event::StreamEnd => break,
                Event::StreamStart | Event::Nothing => {}
            }
        }
        // A document without `...` or a following `---` ends with the stream.
        self.finish_document();
        Ok(self.docs)
    }

    fn check_depth(&self, pos: Pos) -> Result<(), BuildError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.limit(
                pos,
                format!(
                    "nesting deeper than {} levels; Kubernetes objects are far shallower",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    fn finish_document(&mut self) {
        let dropped = std::mem::take(&mut self.dropped_warnings);
        if dropped > 0
            && let Some(last) = self.warnings.last()
        {
            let (code, pos) = (last.code, last.pos);
            self.warnings.push(ParseIssue {
                fatal: false,
                code,
                pos,
                message: format!("{dropped} more warnings of this document not shown"),
            });
        }
        if let Some((value, tree)) = self.root.take().filter(|(v, _)| !v.is_null()) {
            let spans = Spans::from_tree(&tree, &value);
            self.docs.push(Document {
                value,
                spans,
                warnings: std::mem::take(&mut self.warnings),
            });
        }
        self.warnings.clear();
    }

    /// Adds a finished node to its parent (or makes it the document root).
    fn push(
        &mut self,
        value: Value,
        node: SpanNode,
        pos: Pos,
        scalar_text: Option<Cow<'_, str>>,
        is_merge_key: bool,
    ) -> Result<(), BuildError> {
        let warnings = &mut self.warnings;
        let dropped = &mut self.dropped_warnings;
        match self.stack.last_mut() {
            None => self.root = Some((value, node)),
            Some(Frame::Seq { items, spans, .. }) => {
                items.push(value);
                spans.push(node);
            }
            Some(Frame::Map {
                map,
                spans,
                key,
                merged,
                ..
            }) => match key.take() {
                None => {
                    // This node is a key. Kubernetes keys are strings; YAML allows any node.
                    let text = match (scalar_text, &value) {
                        (Some(text), _) => {
                            // The scanner grows scalar buffers by doubling; a key lives as long
                            // as the inventory, so it keeps only what it needs.
                            let mut text = text.into_owned();
                            text.shrink_to_fit();
                            text
                        }
                        (None, other) => {
                            note(
                                warnings,
                                dropped,
                                ParseIssue {
                                    fatal: false,
                                    code: "non-string-key",
                                    pos,
                                    message: "a mapping or sequence used as a key; Kubernetes \
                                              objects only have string keys"
                                        .into(),
                                },
                            );
                            bounded_json(other, MAX_KEY_TEXT)
                        }
                    };
                    *key = Some((text, pos, is_merge_key));
                }
                Some((_, key_pos, true)) => merge_into(map, spans, merged, &value, key_pos),
                Some((name, key_pos, false)) => {
                    if let Some(index) = map.get_index_of_key(&name) {
                        if let Some(m) = merged.iter().position(|k| *k == name) {
                            merged.swap_remove(m);
                        } else {
                            let first = spans[index].0;
                            note(
                                warnings,
                                dropped,
                                ParseIssue {
                                    fatal: false,
                                    code: "duplicate-key",
                                    pos: key_pos,
                                    message: format!(
                                        "duplicate key `{name}` (first at line {}); kubectl apply \
                                         rejects this under strict validation, a lenient decoder \
                                         keeps the last value, which is the one evaluated",
                                        first.line
                                    ),
                                },
                            );
                        }
                        spans[index] = (key_pos, node);
                        map.insert(name, value);
                    } else {
                        map.insert(name, value);
                        spans.push((key_pos, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// Warnings kept per document; the rest are counted in one last warning, so a hostile
/// file of millions of duplicate keys costs no more memory than its text.
const MAX_WARNINGS_PER_DOCUMENT: usize = 20;

/// Keeps a warning, or counts it once the document has [`MAX_WARNINGS_PER_DOCUMENT`].
fn note(warnings: &mut Vec<ParseIssue>, dropped: &mut usize, issue: ParseIssue) {
    if warnings.len() < MAX_WARNINGS_PER_DOCUMENT {
        warnings.push(issue);
    } else {
        *dropped += 1;
    }
}

/// Longest text a non-string key is rendered to. Each level of nested complex keys
/// (`? ? ? 0`) would otherwise escape the level below and double in size.
const MAX_KEY_TEXT: usize = 256;

/// `value` as compact JSON, cut at `max` bytes (on a character boundary, with `...`).
fn bounded_json(value: &Value, max: usize) -> String {
    struct Bounded {
        out: Vec<u8>,
        max: usize,
    }
    impl std::io::Write for Bounded {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = self.max.saturating_sub(self.out.len());
            self.out.extend_from_slice(&buf[..buf.len().min(room)]);
            if buf.len() > room {
                return Err(std::io::Error::other("full"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = Bounded {
        out: Vec::new(),
        max,
    };
    let complete = serde_json::to_writer(&mut writer, value).is_ok();
    let mut text = String::from_utf8_lossy(&writer.out).into_owned();
    if !complete {
        while text.ends_with('\u{fffd}') {
            text.pop();
        }
        text.push_str("...");
    }
    text
}

/// Index lookup on a `preserve_order` map, which serde_json does not expose directly.
trait IndexOfKey {
    fn get_index_of_key(&self, key: &str) -> Option<usize>;
}

impl IndexOfKey for Map<String, Value> {
    fn get_index_of_key(&self, key: &str) -> Option<usize> {
        if !self.contains_key(key) {
            return None;
        }
        self.keys().position(|k| k == key)
    }
}

/// Applies a YAML merge key (`<<: *base` or `<<: [*a, *b]`): entries not yet present are added;
/// explicit keys, before or after the merge, win.
fn merge_into(
    map: &mut Map<String, Value>,
    spans: &mut Vec<(Pos, SpanNode)>,
    merged: &mut Vec<String>,
    value: &Value,
    pos: Pos,
) {
    let sources: Vec<&Map<String, Value>> = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for source in sources {
        for (k, v) in source {
            if !map.contains_key(k) {
                map.insert(k.clone(), v.clone());
                spans.push((pos, SpanNode::Leaf(pos)));
                merged.push(k.clone());
            }
        }
    }
}

/// Maps grow by doubling while they are built; rebuilding at the exact size keeps a 40 MB
/// corpus's inventory well under its memory budget (moves only, no string copies).
fn exact_capacity(map: Map<String, Value>) -> Map<String, Value> {
    let mut exact = Map::with_capacity(map.len());
    for (k, v) in map {
        exact.insert(k, v);
    }
    exact
}

fn shrink(mut items: Vec<Value>) -> Vec<Value> {
    items.shrink_to_fit();
    items
}

/// Resolves a scalar as Kubernetes' YAML decoder does (YAML 1.1 core types, go-yaml v2).
pub fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && tag.is_yaml_core_schema()
    {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Value::String(text.to_string()),
            "null" => Value::Null,
            "bool" => resolve_plain(text)
                .filter(Value::is_boolean)
                .unwrap_or_else(|| Value::String(text.to_string())),
            "int" | "float" => resolve_plain(text)
                .filter(Value::is_number)
                .unwrap_or_else(|| Value::String(text.to_string())),
            _ => resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string())),
        };
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// The typed value of a plain scalar, or `None` when it is a string.
fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false));
        }
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(n) = resolve_int(text) {
        return Some(n);
    }
    resolve_float(text)
}

fn resolve_int(text: &str) -> Option<Value> {
    // Most plain scalars are words; only these can start a YAML 1.1 integer.
    if !text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'+' || b == b'-')
    {
        return None;
    }
    let plain: Cow<'_, str> = if text.contains('_') {
        Cow::Owned(text.replace('_', ""))
    } else {
        Cow::Borrowed(text)
    };
    let (negative, digits) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, &plain[..]),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        (2, bin)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        let n = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or_else(|| (magnitude == 1u64 << 63).then_some(i64::MIN))?;
        Some(Value::Number(Number::from(n)))
    } else {
        Some(Value::Number(Number::from(magnitude)))
    }
}

fn resolve_float(text: &str) -> Option<Value> {
    // Most plain scalars are words; only these can start a YAML 1.1 float.
    if !text.bytes().next().is_some_and(|b| {
        b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'i' | b'I' | b'n' | b'N')
    }) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        ".inf" | "+.inf" | "-.inf" | ".nan" | "inf" | "nan" | "infinity" | "-infinity"
    ) {
        // JSON has no infinities; keep the text, as a JSON conversion would fail on it anyway.
        return None;
    }
    let cleaned = text.replace('_', "");
    if !cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests;
