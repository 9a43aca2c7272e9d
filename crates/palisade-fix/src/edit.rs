//! Additions written into a manifest's text as edits at byte ranges, leaving every other byte
//! as it was: comments, blank lines, quoting, key order and indentation stay the author's.
//!
//! A key goes last into a block mapping (after the mapping's last line, at its keys'
//! indentation), first into a flow mapping or a JSON object (as JSON, which YAML reads too),
//! or in place of a `null` it replaces. What this cannot place (a mapping written with tags,
//! anchors or complex keys) is an error; [`crate::fix_text`] also reads the edited text back
//! and refuses a file whose objects do not come out as intended.

use std::sync::Arc;

use palisade_core::Edit;
use palisade_core::tree::Tree as _;
use palisade_inventory::spans::Pos;
use palisade_inventory::{Object, Resolved, Spans};
use serde_json::Value;

use crate::hardening::Addition;

/// The text being edited, with its lines and habits.
pub struct Text<'t> {
    file: Arc<str>,
    text: &'t str,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    newline: &'static str,
    /// How many spaces a nested block mapping is indented by.
    step: usize,
    /// Whether sequences are written at their key's column (`key:` then `- item`).
    compact: bool,
}

impl<'t> Text<'t> {
    /// The text of `file`.
    pub fn new(file: &str, text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut text = Text {
            file: Arc::from(file),
            text,
            starts,
            newline,
            step: 2,
            compact: false,
        };
        (text.step, text.compact) = text.habits();
        text
    }

    /// Inserts `replacement` at `at`.
    fn edit_at(&self, at: usize, replacement: String) -> Edit {
        self.edit(at, at, replacement)
    }

    /// Replaces the bytes `start..end` (an insertion when they are equal).
    fn edit(&self, start: usize, end: usize, replacement: String) -> Edit {
        Edit {
            file: Arc::clone(&self.file),
            start,
            end,
            replacement,
        }
    }

    /// `addition` as block YAML lines at `indent` spaces, in this text's indentation step and
    /// sequence style.
    fn block(&self, addition: &Addition, indent: usize) -> Vec<String> {
        let mut lines = Vec::new();
        block_lines(
            &addition.key,
            &addition.value,
            indent,
            (self.step, self.compact),
            &mut lines,
        );
        lines
    }

    /// The line at 0-based `index`, without its line break.
    fn line(&self, index: usize) -> &'t str {
        let start = self.starts[index];
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }

    /// The offset of the end of line `index`'s content (before its line break).
    fn line_end(&self, index: usize) -> usize {
        self.starts[index] + self.line(index).len()
    }

    /// The byte offset of a 1-based line and column (columns count characters).
    fn offset(&self, pos: Pos) -> Option<usize> {
        let index = usize::try_from(pos.line).ok()?.checked_sub(1)?;
        if index >= self.starts.len() {
            return None;
        }
        let line = self.line(index);
        let column = usize::try_from(pos.column).ok()?.checked_sub(1)?;
        let within = match line.char_indices().nth(column) {
            Some((at, _)) => at,
            None if line.chars().count() == column => line.len(),
            None => return None,
        };
        Some(self.starts[index] + within)
    }

    /// The indentation nested mappings use in this text (the most common increase after a
    /// line that opens a block, `key:`; 2 when there is none), and whether most sequences
    /// there start at their key's column.
    fn habits(&self) -> (usize, bool) {
        let mut counts = [0usize; 9];
        let (mut compact, mut indented) = (0usize, 0usize);
        let mut previous: Option<(usize, bool)> = None;
        for index in 0..self.starts.len() {
            let line = self.line(index);
            let content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let indent = line.len() - content.len();
            if let Some((before, true)) = previous {
                let item = content.starts_with("- ") || content == "-";
                match indent.checked_sub(before) {
                    Some(0) if item => compact += 1,
                    Some(step @ 1..=8) if item => {
                        indented += 1;
                        counts[step] += usize::from(step > 1 && content.len() > 2);
                    }
                    Some(step @ 1..=8) => counts[step] += 1,
                    _ => {}
                }
            }
            let opens = content
                .split(" #")
                .next()
                .unwrap_or("")
                .trim_end()
                .ends_with(':');
            previous = Some((indent, opens));
        }
        let step = (1..=8)
            .max_by_key(|&step| (counts[step], step == 2))
            .filter(|&step| counts[step] > 0)
            .unwrap_or(2);
        (step, compact > indented)
    }

    /// The end of the last line of the block mapping whose first key is on line `first` at
    /// `indent` spaces: lines indented at least as much (a sequence written at the key's
    /// column belongs to it) until a lesser one or the document's end.
    fn block_end(&self, first: usize, indent: usize) -> usize {
        let mut last = first;
        for index in first + 1..self.starts.len() {
            let line = self.line(index);
            let content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let spaces = line.len() - content.len();
            let marker = spaces == 0
                && (line.starts_with("---") || line.starts_with("..."))
                && line[3..].chars().next().is_none_or(char::is_whitespace);
            if marker || spaces < indent {
                break;
            }
            last = index;
        }
        self.line_end(last)
    }

    /// The offset of the first character that is not white space before `offset`, and
    /// whether a line break was passed.
    fn before(&self, offset: usize) -> Option<(usize, char, bool)> {
        let mut broke = false;
        for (at, c) in self.text[..offset].char_indices().rev() {
            match c {
                ' ' | '\t' | '\r' => {}
                '\n' => broke = true,
                _ => return Some((at, c, broke)),
            }
        }
        None
    }

    /// Whether `offset` is inside a comment (after a `#` that starts its line or follows a
    /// space); a `#` in a quoted scalar may be taken for one, and the edit is then refused
    /// when its text is read back.
    fn in_comment(&self, offset: usize) -> bool {
        let start = self.text[..offset].rfind('\n').map_or(0, |at| at + 1);
        let before = &self.text[start..offset];
        before.trim_start().starts_with('#') || before.contains(" #") || before.contains("\t#")
    }

    /// The offset just past the `:` that ends the key starting at `offset`.
    fn past_colon(&self, offset: usize) -> Option<usize> {
        let rest = &self.text[offset..];
        let mut chars = rest.char_indices().peekable();
        let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''));
        if let Some(quote) = quote {
            chars.next();
            let mut escaped = false;
            for (_, c) in chars.by_ref() {
                match c {
                    '\\' if quote == '"' && !escaped => escaped = true,
                    c if c == quote && !escaped => break,
                    '\n' => return None,
                    _ => escaped = false,
                }
            }
        }
        while let Some((at, c)) = chars.next() {
            match c {
                '\n' => return None,
                ':' if chars
                    .peek()
                    .is_none_or(|(_, n)| n.is_whitespace() || matches!(n, '{' | '[' | '"'))
                    || quote.is_some() =>
                {
                    return Some(offset + at + 1);
                }
                _ => {}
            }
        }
        None
    }
}

/// A document of the text: its value and the positions of its nodes.
#[derive(Debug, Clone, Copy)]
pub struct Document<'d> {
    pub value: &'d Value,
    pub spans: &'d Spans,
}

impl<'d> Document<'d> {
    pub fn of(object: &'d Object) -> Self {
        Document {
            value: &object.value,
            spans: &object.spans,
        }
    }

    fn locate(&self, pointer: &palisade_core::JsonPointer) -> Resolved {
        self.spans.resolve(self.value, pointer.segments())
    }
}

/// The edits that make `additions` (all for the document `doc`, read from `text`), deeper mappings
/// first: where two insertions meet at one offset, [`apply`] keeps that order, so a nested
/// mapping's new lines come before its parent's.
pub fn edits(
    text: &Text<'_>,
    doc: Document<'_>,
    additions: &[Addition],
) -> Result<Vec<Edit>, String> {
    let mut out = Vec::new();
    let mut groups: Vec<(&palisade_core::JsonPointer, Vec<&Addition>)> = Vec::new();
    for addition in additions {
        match groups.iter_mut().find(|(at, _)| **at == addition.at) {
            Some((_, group)) => group.push(addition),
            None => groups.push((&addition.at, vec![addition])),
        }
    }
    groups.sort_by_key(|(at, _)| std::cmp::Reverse(at.segments().count()));
    for (at, group) in groups {
        let Some(Value::Object(mapping)) = doc.value.at(at.as_str()) else {
            return Err(format!("{at} is not a mapping"));
        };
        let (replacing, adding): (Vec<&Addition>, Vec<&Addition>) = group
            .into_iter()
            .partition(|a| mapping.contains_key(&a.key));
        for addition in replacing {
            out.push(replace_null(text, doc, addition)?);
        }
        if adding.is_empty() {
            continue;
        }
        out.push(match mapping.keys().next() {
            Some(first) => add_to_filled(text, doc, at, first, &adding)?,
            None => add_to_empty(text, doc, at, &adding)?,
        });
    }
    Ok(out)
}

/// The position of `pointer` in the text, which must exist.
fn place(
    text: &Text<'_>,
    doc: Document<'_>,
    pointer: &palisade_core::JsonPointer,
) -> Result<(usize, Pos), String> {
    let resolved = doc.locate(pointer);
    if !resolved.exact {
        return Err(format!("{pointer} has no position in the text"));
    }
    let offset = text
        .offset(resolved.pos)
        .ok_or_else(|| format!("{pointer} is placed outside the text"))?;
    Ok((offset, resolved.pos))
}

/// Keys added to a mapping that has some.
fn add_to_filled(
    text: &Text<'_>,
    doc: Document<'_>,
    at: &palisade_core::JsonPointer,
    first: &str,
    adding: &[&Addition],
) -> Result<Edit, String> {
    let (offset, pos) = place(text, doc, &at.join(first))?;
    let nl = text.newline;
    if let Some((brace, '{', broke)) = text.before(offset)
        && !(broke && text.in_comment(brace))
    {
        // A flow mapping or a JSON object: the keys go first, as JSON.
        return Ok(if broke {
            let pad = " ".repeat(pos.column.saturating_sub(1) as usize);
            let replacement = adding
                .iter()
                .map(|a| format!("{nl}{pad}{},", json_entry(a)))
                .collect();
            text.edit_at(brace + 1, replacement)
        } else {
            let replacement = adding
                .iter()
                .map(|a| format!("{}, ", json_entry(a)))
                .collect();
            text.edit_at(offset, replacement)
        });
    }
    let line = pos.line as usize - 1;
    let lead = &text.line(line)[..offset - text.starts[line]];
    if !lead.chars().all(|c| c == ' ' || c == '-') {
        return Err(format!(
            "the mapping at {at} does not start on its own line or after `- `"
        ));
    }
    let indent = lead.chars().count();
    let lines: Vec<String> = adding.iter().flat_map(|a| text.block(a, indent)).collect();
    let replacement = lines.iter().map(|l| format!("{nl}{l}")).collect();
    Ok(text.edit_at(text.block_end(line, indent), replacement))
}

/// Keys added to an empty mapping, which only a flow mapping (`{}`) can be.
fn add_to_empty(
    text: &Text<'_>,
    doc: Document<'_>,
    at: &palisade_core::JsonPointer,
    adding: &[&Addition],
) -> Result<Edit, String> {
    if at.as_str().is_empty() {
        return Err("the object is empty".to_string());
    }
    let (offset, pos) = place(text, doc, at)?;
    let parent_is_map = at
        .as_str()
        .rsplit_once('/')
        .and_then(|(parent, _)| doc.value.at(parent))
        .is_some_and(Value::is_object);
    let value_start = if parent_is_map {
        text.past_colon(offset)
            .ok_or_else(|| format!("the key of {at} is not followed by `:`"))?
    } else {
        offset
    };
    let rest = &text.text[value_start..];
    let brace = rest.len() - rest.trim_start().len();
    let inner = rest[brace..].strip_prefix('{').map(str::trim_start);
    let Some(after_close) = inner.and_then(|i| i.strip_prefix('}')) else {
        return Err(format!("the empty mapping at {at} is not written `{{}}`"));
    };
    // `key: {}` on a line of a block mapping becomes a block mapping, in the file's layout.
    let line = pos.line as usize - 1;
    let lead = text
        .line(line)
        .get(..offset - text.starts[line])
        .unwrap_or("#");
    if parent_is_map && !rest[..brace].contains('\n') && lead.chars().all(|c| c == ' ' || c == '-')
    {
        let indent = lead.chars().count() + text.step;
        let nl = text.newline;
        let replacement = adding
            .iter()
            .flat_map(|a| text.block(a, indent))
            .map(|l| format!("{nl}{l}"))
            .collect();
        let end = text.text.len() - after_close.len();
        return Ok(text.edit(value_start, end, replacement));
    }
    let replacement = adding
        .iter()
        .map(|a| json_entry(a))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(text.edit_at(value_start + brace + 1, replacement))
}

/// A key whose value is `null` (or left empty) given the addition's value.
fn replace_null(text: &Text<'_>, doc: Document<'_>, addition: &Addition) -> Result<Edit, String> {
    let pointer = addition.pointer();
    if doc.value.at(pointer.as_str()).is_some_and(|v| !v.is_null()) {
        return Err(format!("{pointer} is set already"));
    }
    let (offset, pos) = place(text, doc, &pointer)?;
    let colon = text
        .past_colon(offset)
        .ok_or_else(|| format!("the key of {pointer} is not followed by `:`"))?;
    let rest = &text.text[colon..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let after_spaces = &rest[spaces..];
    let token = ["null", "Null", "NULL", "~"]
        .into_iter()
        .find(|t| after_spaces.starts_with(t))
        .map_or(0, str::len);
    let follows = after_spaces[token..].trim_start_matches([' ', '\t']);
    // An empty value keeps the spaces before a comment that follows.
    let token_end = if token == 0 {
        colon
    } else {
        colon + spaces + token
    };
    if follows.starts_with([',', '}']) {
        let value = serde_json::to_string(&addition.value).unwrap_or_default();
        return Ok(if token == 0 {
            text.edit(colon, token_end, format!(" {value}"))
        } else {
            text.edit(colon + spaces, token_end, value)
        });
    }
    if !(follows.is_empty() || follows.starts_with('#') || follows.starts_with(['\r', '\n'])) {
        return Err(format!("the value of {pointer} is not a plain null"));
    }
    let indent = pos.column as usize - 1;
    let mut lines = text.block(addition, indent);
    // The first line is `key:` or `key: value`; what follows the key is written in place.
    let first = lines.remove(0);
    let tail = first
        .split_once(':')
        .map_or(String::new(), |(_, t)| t.to_string());
    let nl = text.newline;
    let replacement = std::iter::once(tail)
        .chain(lines.into_iter().map(|l| format!("{nl}{l}")))
        .collect();
    Ok(text.edit(colon, token_end, replacement))
}

/// The edit that adds `item` last to the block sequence under the top-level `key` of `doc`:
/// after the last item's lines, at the column of its `-`.
pub fn append_item(
    text: &Text<'_>,
    doc: Document<'_>,
    key: &str,
    item: &Value,
) -> Result<Edit, String> {
    let count = doc
        .value
        .get(key)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let last = count
        .checked_sub(1)
        .ok_or_else(|| format!("`{key}` is not a list with items"))?;
    let resolved = doc.spans.resolve(doc.value, [key, &last.to_string()]);
    let offset = text
        .offset(resolved.pos)
        .filter(|_| resolved.exact)
        .ok_or_else(|| format!("the last item of `{key}` has no position in the text"))?;
    let line = resolved.pos.line as usize - 1;
    let lead = &text.line(line)[..offset - text.starts[line]];
    let dash = lead.len() - lead.trim_start_matches(' ').len();
    if lead.trim_end() != format!("{}-", " ".repeat(dash)) {
        return Err(format!(
            "`{key}` is not a block sequence with one item per `- `"
        ));
    }
    let mut lines = Vec::new();
    item_lines(item, dash, (text.step, text.compact), &mut lines);
    let nl = text.newline;
    let replacement = lines.iter().map(|l| format!("{nl}{l}")).collect();
    Ok(text.edit_at(text.block_end(line, dash + 1), replacement))
}

/// `"key": value` in JSON, which a YAML flow mapping reads too.
fn json_entry(addition: &Addition) -> String {
    format!(
        "{}: {}",
        serde_json::to_string(&addition.key).unwrap_or_default(),
        serde_json::to_string(&addition.value).unwrap_or_default()
    )
}

/// `key: value` as block YAML at `indent` spaces, one string per line.
pub(crate) fn block_lines(
    key: &str,
    value: &Value,
    indent: usize,
    (step, compact): (usize, bool),
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let key = scalar(&Value::String(key.to_string()));
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push(format!("{pad}{key}:"));
            for (k, v) in map {
                block_lines(k, v, indent + step, (step, compact), out);
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_scalar) => {
            out.push(format!("{pad}{key}:"));
            let inner = " ".repeat(if compact { indent } else { indent + step });
            for item in items {
                out.push(format!("{inner}- {}", scalar(item)));
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_filled_mapping) => {
            out.push(format!("{pad}{key}:"));
            let inner = if compact { indent } else { indent + step };
            for item in items {
                item_lines(item, inner, (step, compact), out);
            }
        }
        Value::Object(_) | Value::Array(_) => out.push(format!(
            "{pad}{key}: {}",
            serde_json::to_string(value).unwrap_or_default()
        )),
        _ => out.push(format!("{pad}{key}: {}", scalar(value))),
    }
}

/// A mapping as a block sequence item at `indent` spaces: `- key: value`, its other keys
/// under the first.
pub(crate) fn item_lines(
    item: &Value,
    indent: usize,
    habits: (usize, bool),
    out: &mut Vec<String>,
) {
    let Value::Object(map) = item else { return };
    let first = out.len();
    for (k, v) in map {
        block_lines(k, v, indent + 2, habits, out);
    }
    if let Some(line) = out.get_mut(first) {
        line.replace_range(..indent + 2, &format!("{}- ", " ".repeat(indent)));
    }
}

fn is_filled_mapping(value: &Value) -> bool {
    value.as_object().is_some_and(|m| !m.is_empty())
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_))
}

/// A scalar as YAML: plain when it reads back as the same string, else double-quoted.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) if plain(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Whether a string written plain reads back as that string (not a number, a boolean of
/// YAML 1.1 or 1.2, a null, or anything with syntax in it).
fn plain(s: &str) -> bool {
    const WORDS: [&str; 12] = [
        "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~", "nan", "inf",
    ];
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// `text` with `edits` made; `None` when two of them overlap. Edits at one offset are made in
/// the order given.
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + edits.len() * 64);
    let mut done = 0;
    for edit in edits {
        if edit.start < done || edit.end < edit.start || edit.end > text.len() {
            return None;
        }
        out.push_str(text.get(done..edit.start)?);
        out.push_str(&edit.replacement);
        done = edit.end;
    }
    out.push_str(text.get(done..)?);
    Some(out)
}

#[cfg(test)]
mod tests;
