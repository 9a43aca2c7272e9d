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
    let at = memchr::memmem::find(document, &marked)
        .ok_or_else(|| io::Error::other("the document has no place for its list"))?;
    let value_at = at + entry("")?.len();
    out.write_all(&document[..value_at])?;
    write_list(items, depth, render, out)?;
    out.write_all(&document[at + marked.len()..])
}

/// Parts rendered ahead of the one being written, per rendering thread: bounds the memory
/// held for a slow output to a few megabytes.
const AHEAD_PER_THREAD: usize = 4;

/// The list as the pretty printer writes it `depth` levels deep. Parts are rendered on every
/// core while the calling thread writes the finished ones in order, so rendering and writing
/// (the kernel copying a large report into a file) overlap instead of taking turns.
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
    let parts: Vec<&[T]> = items.chunks(PART).collect();
    let threads = palisade_core::parallel::cores().min(parts.len());
    let queue = Queue::new(threads * AHEAD_PER_THREAD);
    std::thread::scope(|scope| -> io::Result<()> {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(index) = queue.claim(parts.len()) {
                    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        render_part(parts[index], index == 0, &indent, render)
                    }));
                    queue.finish(index, rendered);
                }
            });
        }
        // However the writing ends (done, an error, a panic), the renderers stop at their next
        // claim rather than wait for room that will not come.
        let _stop = StopOnDrop(&queue);
        (0..parts.len()).try_for_each(|index| {
            let part = queue.take(index)?;
            out.write_all(&part)
        })
    })?;
    out.write_all(b"\n")?;
    out.write_all(&indent[2..])?;
    out.write_all(b"]")
}

/// Stops the queue when dropped.
struct StopOnDrop<'q>(&'q Queue);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A rendered part, or the panic of the thread that rendered it.
type Rendered = std::thread::Result<io::Result<Vec<u8>>>;

/// The parts between the renderers and the writer: a renderer claims the next part only while
/// fewer than `ahead` parts wait to be written, and the writer takes them in order.
struct Queue {
    state: std::sync::Mutex<QueueState>,
    /// Signalled when a part is finished.
    finished: std::sync::Condvar,
    /// Signalled when a part is taken (room to render another) or the queue stops.
    taken: std::sync::Condvar,
    ahead: usize,
}

#[derive(Default)]
struct QueueState {
    /// The next part to claim.
    next: usize,
    /// The next part the writer takes.
    taking: usize,
    done: std::collections::BTreeMap<usize, Rendered>,
    stopped: bool,
}

impl Queue {
    fn new(ahead: usize) -> Queue {
        Queue {
            state: std::sync::Mutex::default(),
            finished: std::sync::Condvar::new(),
            taken: std::sync::Condvar::new(),
            ahead: ahead.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next part to render; waits while the writer is `ahead` parts behind. `None` when
    /// every part is claimed or the writer stopped.
    fn claim(&self, parts: usize) -> Option<usize> {
        let mut state = self.lock();
        loop {
            if state.stopped || state.next >= parts {
                return None;
            }
            if state.next < state.taking + self.ahead {
                state.next += 1;
                return Some(state.next - 1);
            }
            state = self
                .taken
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn finish(&self, index: usize, rendered: Rendered) {
        self.lock().done.insert(index, rendered);
        self.finished.notify_all();
    }

    /// Part `index`, once it is rendered; a renderer's panic is raised here.
    fn take(&self, index: usize) -> io::Result<Vec<u8>> {
        let mut state = self.lock();
        let rendered = loop {
            if let Some(rendered) = state.done.remove(&index) {
                break rendered;
            }
            state = self
                .finished
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        };
        state.taking = index + 1;
        drop(state);
        self.taken.notify_all();
        rendered.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.taken.notify_all();
    }
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
        // Strings hold their newlines escaped, so every newline is the printer's: each line
        // is copied whole, then the part's indentation (a byte at a time was a third of
        // writing a large report).
        let mut rest = &item[..];
        while let Some(at) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(at + 1);
            out.extend_from_slice(line);
            out.extend_from_slice(indent);
            rest = after;
        }
        out.extend_from_slice(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails after some bytes.
    struct FailingAfter(usize);

    impl io::Write for FailingAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 < buf.len() {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A long list is written in order whatever the renderers' pace, a failing output ends
    /// the write with its error (no renderer left waiting), and a renderer's panic reaches
    /// the caller.
    #[test]
    fn parts_are_written_in_order_and_failures_end_the_write() {
        let items: Vec<u32> = (0..u32::try_from(PART * 37 + 5).unwrap()).collect();
        let render = |n: &u32, buf: &mut Vec<u8>| {
            if n.is_multiple_of(997) {
                std::thread::yield_now();
            }
            serde_json::to_writer(buf, n)
        };
        let mut out = Vec::new();
        write_list(&items, 1, &render, &mut out).unwrap();
        let read: Vec<u32> = serde_json::from_slice(&out).unwrap();
        assert_eq!(read, items);

        let error = write_list(&items, 1, &render, &mut FailingAfter(100_000)).unwrap_err();
        assert_eq!(error.to_string(), "disk full");

        let panicking = |n: &u32, buf: &mut Vec<u8>| {
            assert!(*n != 5000, "renderer failed");
            serde_json::to_writer(buf, n)
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_list(&items, 1, &panicking, &mut Vec::new())
        }));
        assert!(caught.is_err());
    }

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
