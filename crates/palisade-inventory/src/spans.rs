//! Source positions for every node of a parsed document.
//!
//! [`Spans`] stores one 8-byte position per JSON node, in pre-order (document order, which is
//! also the order of the insertion-ordered maps). A JSON pointer is resolved by walking the
//! value and counting the nodes it skips. The first design kept a tree of span nodes beside the
//! value; on the 40 MB real-manifests corpus that cost about 40 MB more than this flat form, and
//! lookups are rare (one per finding), so the flat form wins.
//!
//! A map entry's slot holds the position of its key (where a finding should point); a sequence
//! item's slot holds the item's position; the root's slot holds the document's start.

use serde_json::Value;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// Where a JSON pointer lands in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Position of the field's key (for map entries) or of the item (for sequence items); for a
    /// path that does not exist, the position of the deepest part that does.
    pub pos: Pos,
    /// Whether the whole path exists.
    pub exact: bool,
    /// For map entries: the column where sibling keys start, so a fix can insert a field with
    /// the right indentation.
    pub indent: Option<u32>,
}

/// Positions of every node of one value, in pre-order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spans(Box<[Pos]>);

/// Positions while a document is being built: a tree, flattened once the document is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpanNode {
    Leaf(Pos),
    Seq(Pos, Vec<SpanNode>),
    Map(Pos, Vec<(Pos, SpanNode)>),
}

/// Number of JSON nodes in `value` (itself included).
pub fn count_nodes(value: &Value) -> usize {
    count_nodes_within(value, 32)
}

/// [`count_nodes`] by recursion, without allocating, down to `depth` levels; deeper values
/// (only hostile documents nest that deep) are counted with a stack on the heap.
fn count_nodes_within(value: &Value, depth: u32) -> usize {
    match value {
        _ if depth == 0 => count_nodes_deep(value),
        Value::Array(items) => {
            1 + items
                .iter()
                .map(|v| count_nodes_within(v, depth - 1))
                .sum::<usize>()
        }
        Value::Object(map) => {
            1 + map
                .values()
                .map(|v| count_nodes_within(v, depth - 1))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn count_nodes_deep(value: &Value) -> usize {
    let mut count = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    count
}

fn flatten(node: &SpanNode, value: &Value, slot: Pos, out: &mut Vec<Pos>) {
    match (node, value) {
        (SpanNode::Map(_, entries), Value::Object(map)) if entries.len() == map.len() => {
            out.push(slot);
            for ((key_pos, child), child_value) in entries.iter().zip(map.values()) {
                flatten(child, child_value, *key_pos, out);
            }
        }
        (SpanNode::Seq(_, items), Value::Array(values)) if items.len() == values.len() => {
            out.push(slot);
            for (child, child_value) in items.iter().zip(values) {
                flatten(child, child_value, node_pos(child), out);
            }
        }
        // An alias (or a merged entry): every node of its expansion shares the slot's position.
        _ => out.extend(std::iter::repeat_n(slot, count_nodes(value))),
    }
}

fn node_pos(node: &SpanNode) -> Pos {
    match node {
        SpanNode::Leaf(p) | SpanNode::Seq(p, _) | SpanNode::Map(p, _) => *p,
    }
}

impl Spans {
    /// Flattens a build-time tree for `value`.
    pub(crate) fn from_tree(tree: &SpanNode, value: &Value) -> Spans {
        let mut out = Vec::with_capacity(count_nodes(value));
        flatten(tree, value, node_pos(tree), &mut out);
        Spans(out.into_boxed_slice())
    }

    /// Every node at one position (for values built in code rather than parsed).
    pub fn uniform(value: &Value, pos: Pos) -> Spans {
        Spans(vec![pos; count_nodes(value)].into_boxed_slice())
    }

    /// The position of the root.
    /// The same positions, `lines` further down and `columns` further right (a document
    /// embedded, indented, in another file).
    pub fn shifted(&self, lines: u32, columns: u32) -> Spans {
        Spans(
            self.0
                .iter()
                .map(|p| Pos {
                    line: p.line.saturating_add(lines),
                    column: p.column.saturating_add(columns),
                })
                .collect(),
        )
    }

    pub fn pos(&self) -> Pos {
        self.0.first().copied().unwrap_or_default()
    }

    /// The pre-order index of the node at `segments`, its value, and the index of its parent
    /// map's first entry (for indentation); stops at the deepest existing node.
    fn walk<'v, I, S>(
        &self,
        value: &'v Value,
        segments: I,
    ) -> (usize, &'v Value, bool, Option<usize>)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut index = 0usize;
        let mut node = value;
        let mut first_sibling = None;
        for segment in segments {
            let segment = segment.as_ref();
            let mut next = index + 1;
            let found = match node {
                Value::Object(map) => {
                    let mut hit = None;
                    for (k, child) in map {
                        if k == segment {
                            hit = Some(child);
                            break;
                        }
                        next += count_nodes(child);
                    }
                    hit.map(|child| (child, Some(index + 1)))
                }
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| {
                    let child = items.get(i)?;
                    next += items[..i].iter().map(count_nodes).sum::<usize>();
                    Some((child, None))
                }),
                _ => None,
            };
            match found {
                Some((child, sibling)) => {
                    index = next;
                    node = child;
                    first_sibling = sibling;
                }
                None => return (index, node, false, first_sibling),
            }
        }
        (index, node, true, first_sibling)
    }

    /// Resolves unescaped JSON-pointer `segments` against `value`.
    pub fn resolve<I, S>(&self, value: &Value, segments: I) -> Resolved
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let (index, _, exact, first_sibling) = self.walk(value, segments);
        Resolved {
            pos: self.0.get(index).copied().unwrap_or_else(|| self.pos()),
            exact,
            indent: first_sibling.and_then(|i| self.0.get(i)).map(|p| p.column),
        }
    }

    /// The positions of each child of the sequence at `segments`, in one pass (for splitting a
    /// List into its items); `None` when that node is not a sequence.
    pub fn sequence_items<I, S>(&self, value: &Value, segments: I) -> Option<Vec<Spans>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let (index, node, exact, _) = self.walk(value, segments);
        let items = node.as_array().filter(|_| exact)?;
        let mut start = index + 1;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let end = start + count_nodes(item);
            out.push(Spans(self.0.get(start..end)?.into()));
            start = end;
        }
        Some(out)
    }

    /// Records positions for `count` nodes appended at the end of the root map (fields added
    /// in code, such as the kind a typed List leaves out of its items). Appended map entries
    /// come last in pre-order, so every existing position stays valid.
    pub fn append(&mut self, count: usize, pos: Pos) {
        let mut all = std::mem::take(&mut self.0).into_vec();
        all.extend(std::iter::repeat_n(pos, count));
        self.0 = all.into_boxed_slice();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values nested deeper than the recursion goes are counted the same way.
    #[test]
    fn counts_nodes_at_any_depth() {
        let mut value = serde_json::json!({"a": [1, {"b": null}], "c": "d"});
        assert_eq!(count_nodes(&value), 6);
        for depth in 1..=100 {
            value = serde_json::json!([value, {"k": depth}]);
            assert_eq!(count_nodes(&value), count_nodes_deep(&value));
        }
        assert_eq!(count_nodes(&value), 6 + 100 * 3);
    }
}
