//! A long list inside a pretty-printed JSON document (a report's findings, a SARIF log's
//! results), rendered in parts on all cores and written in order as each part is ready. The
//! rest of the document is serialised with [`MARKER`] in the list's place; the output is byte
//! for byte what serde_json's pretty printer makes of the whole document.

use std::io;

/// Items rendered as one unit of work.
pub(crate) const PART: usize = 2048;

/// Stands in the document for the list, which is written separately. It is found with its
/// key (`"findings": "\u0000palisade-list\u0000"`): inside a string value those quotes would be
/// escaped, so no text of the document can be taken for it.
pub(crate) const MARKER: &str = "\u{0}palisade-list\u{0}";

/// Writes `document` (pretty-printed, with [`MARKER`] as the value of `key`) with the list of
/// `items` in the marker's place, `depth` levels deep (2 for a key of the top-level object),
/// each item rendered by `render`.
pub(crate) fn splice<T: Sync>(
    document: &[u8],
    key: &str,
    items: &[T],
    depth: usize,
    render: &(dyn Fn(&T, &mut Vec<u8>) -> serde_json::Result<()> + Sync),
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let entry = |value: &str| -> io::Result<Vec<u8>> {
        let mut entry = serde_json::to_vec(key).map_err(io::Error::other)?;
        entry.extend_from_slice(b": ");
        entry.extend_from_slice(value.as_bytes());
        Ok(entry)
    };
    let marked = entry(&serde_json::to_string(MARKER).map_err(io::Error::other)?)?;
    let at = document
        .windows(marked.len())
        .position(|w| w == marked.as_slice())
        .ok_or_else(|| io::Error::other("the document has no place for its list"))?;
    let value_at = at + entry("")?.len();
    out.write_all(&document[..value_at])?;
    write_list(items, depth, render, out)?;
    out.write_all(&document[at + marked.len()..])
}

/// The list as the pretty printer writes it `depth` levels deep.
fn write_list<T: Sync>(
    items: &[T],
    depth: usize,
    render: &(dyn Fn(&T, &mut Vec<u8>) -> serde_json::Result<()> + Sync),
    out: &mut dyn io::Write,
) -> io::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    let indent = vec![b' '; 2 * depth];
    out.write_all(b"[")?;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    for (round, group) in items.chunks(PART * threads).enumerate() {
        let first = round == 0;
        let indent = indent.as_slice();
        let parts: Vec<io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = group
                .chunks(PART)
                .skip(1)
                .map(|part| scope.spawn(move || render_part(part, false, indent, render)))
                .collect();
            let mut parts = vec![render_part(
                &group[..group.len().min(PART)],
                first,
                indent,
                render,
            )];
            parts.extend(
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
            );
            parts
        });
        for part in parts {
            out.write_all(&part?)?;
        }
    }
    out.write_all(b"\n")?;
    out.write_all(&indent[2..])?;
    out.write_all(b"]")
}

/// Items as list entries at `indent`, each after a comma unless `first`.
fn render_part<T>(
    items: &[T],
    first: bool,
    indent: &[u8],
    render: &(dyn Fn(&T, &mut Vec<u8>) -> serde_json::Result<()> + Sync),
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(items.len() * 1024);
    let mut item = Vec::with_capacity(2048);
    for (i, value) in items.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        out.push(b'\n');
        out.extend_from_slice(indent);
        item.clear();
        render(value, &mut item).map_err(io::Error::other)?;
        // Strings hold their newlines escaped, so every newline is the printer's.
        for &byte in &item {
            out.push(byte);
            if byte == b'\n' {
                out.extend_from_slice(indent);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text that holds the marker, even with the key's name, is not taken for the list's place.
    #[test]
    fn the_list_goes_where_its_key_holds_the_marker() {
        let document = serde_json::json!({
            "note": format!("\"findings\": {MARKER}"),
            "other": MARKER,
            "findings": MARKER,
        });
        let text = serde_json::to_vec_pretty(&document).unwrap();
        let mut out = Vec::new();
        let render = |n: &u32, buf: &mut Vec<u8>| serde_json::to_writer_pretty(buf, n);
        splice(&text, "findings", &[1u32, 2], 2, &render, &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["findings"], serde_json::json!([1, 2]));
        assert_eq!(value["other"], MARKER);
        let expected = serde_json::to_vec_pretty(&serde_json::json!({
            "note": format!("\"findings\": {MARKER}"),
            "other": MARKER,
            "findings": [1, 2],
        }))
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
