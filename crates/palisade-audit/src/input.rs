//! Reading audit logs: JSON lines (one Event per line), `EventList` documents (on one line or
//! pretty-printed), gzip-compressed files, rotated files in the order they were written,
//! standard input, and following a growing file. Cloud wrappers are unwrapped here
//! (`cloud`). A line that is not an event is counted and described with its file and line;
//! reading goes on.

use std::cell::OnceCell;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::alert::Origin;
use crate::cri::{Cri, CriJoin};
use crate::event::{DecodeError, Event};

/// Longest line read; longer ones are skipped as problems (bounded memory).
pub const MAX_LINE: usize = 64 << 20;
/// Largest pretty-printed document read whole (an `EventList` not on one line).
pub const MAX_DOCUMENT: usize = 1 << 30;
/// Problems described in full; past it they are only counted.
pub const MAX_PROBLEMS: usize = 1000;

/// An input that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file or directory could not be opened or read.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is UTF-16 text, which audit logs never are.
    #[error("{0}: {advice}", advice = palisade_core::encoding::UTF16_ADVICE)]
    Utf16(String),
    /// The file is compressed in a format Palisade does not read (gzip it is).
    #[error(
        "{path}: compressed with {format}, which is not read here: decompress it first (`{command}`), or pipe it in (`{command} -c {path} | palisade audit analyze -`)"
    )]
    Compressed {
        path: String,
        format: &'static str,
        command: &'static str,
    },
    /// The file holds bytes no text has (NUL): not an audit log.
    #[error("{0}: a binary file, not an audit log (JSON lines, an EventList, gzip)")]
    Binary(String),
    /// A directory holds no audit log.
    #[error("{0}: no audit log in the directory (*.log, *.json, *.jsonl, rotated or .gz files)")]
    EmptyDirectory(String),
}

/// What reading found besides events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadStats {
    pub events: u64,
    /// Lines (or documents) that were not events.
    pub malformed: u64,
    /// `file:line: problem`, the first [`MAX_PROBLEMS`], made printable (a problem may
    /// quote the line, which anyone able to send a request wrote).
    pub problems: Vec<String>,
    /// Files read.
    pub files: u64,
}

impl ReadStats {
    pub(crate) fn problem(&mut self, origin: &Origin, message: impl std::fmt::Display) {
        self.malformed += 1;
        if self.problems.len() < MAX_PROBLEMS {
            let problem = format!("{}:{}: {message}", origin.file, origin.line);
            self.problems
                .push(palisade_core::printable(&problem).into_owned());
        }
    }
}

/// Receives events as they are read.
pub trait EventSink {
    fn event(&mut self, event: &Event, origin: &Origin);
}

impl<F: FnMut(&Event, &Origin)> EventSink for F {
    fn event(&mut self, event: &Event, origin: &Origin) {
        self(event, origin)
    }
}

/// The files to read for the given paths: a directory's audit logs, and rotated files of
/// one log in the order they were written (oldest backup first, the live file last).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let display = path.display().to_string();
        let entries = std::fs::read_dir(path).map_err(|source| InputError::Io {
            path: display.clone(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && looks_like_log(p))
            .collect();
        if files.is_empty() {
            return Err(InputError::EmptyDirectory(display));
        }
        files.sort();
        out.extend(files);
    }
    sort_rotated(&mut out);
    Ok(out)
}

fn looks_like_log(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".log")
        || name.ends_with(".json")
        || name.ends_with(".jsonl")
        || rotation_number(name).is_some()
}

/// `audit.log.3` -> 3.
fn rotation_number(name: &str) -> Option<u64> {
    let (stem, number) = name.rsplit_once('.')?;
    (stem.contains(".log") || stem.contains(".json"))
        .then(|| number.parse().ok())
        .flatten()
}

/// Orders files of one rotated log: `audit.log.2.gz`, `audit.log.1`, then `audit.log`;
/// lumberjack's timestamped backups (`audit-2026-12-01T10-00-00.000.log`) sort by their
/// timestamp before the live `audit.log`. Files of different logs keep their order.
pub fn sort_rotated(paths: &mut [PathBuf]) {
    /// (log family, rank within it: backups by age, the live file last).
    fn key(path: &Path) -> (String, u8, std::cmp::Reverse<u64>, String) {
        let dir = path
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let bare = name.strip_suffix(".gz").unwrap_or(name);
        if let Some(n) = rotation_number(bare) {
            let base = bare.rsplit_once('.').map_or(bare, |(b, _)| b);
            return (
                format!("{dir}/{base}"),
                0,
                std::cmp::Reverse(n),
                String::new(),
            );
        }
        // lumberjack: NAME-YYYY-MM-DDTHH-MM-SS.mmm.EXT, of the live NAME.EXT.
        if let Some(at) = bare.find(|c: char| c.is_ascii_digit()).filter(|&i| i > 1)
            && bare[..at].ends_with('-')
            && bare[at..].len() >= 19
            && bare.as_bytes().get(at + 10) == Some(&b'T')
        {
            let ext = bare.rsplit_once('.').map_or("", |(_, e)| e);
            let base = format!("{}.{ext}", &bare[..at - 1]);
            return (
                format!("{dir}/{base}"),
                1,
                std::cmp::Reverse(0),
                bare[at..].to_string(),
            );
        }
        (
            format!("{dir}/{bare}"),
            2,
            std::cmp::Reverse(0),
            String::new(),
        )
    }
    // A stable sort by family keeps unrelated logs in the given order only when families
    // are compared by first appearance.
    let mut first_seen: Vec<String> = Vec::new();
    for path in paths.iter() {
        let family = key(path).0;
        if !first_seen.contains(&family) {
            first_seen.push(family);
        }
    }
    paths.sort_by_key(|p| {
        let (family, rank, age, stamp) = key(p);
        let position = first_seen.iter().position(|f| *f == family).unwrap_or(0);
        (position, rank, age, stamp)
    });
}

/// Reads one file (or `-` for standard input), decompressing gzip by its magic bytes.
pub fn read_path(
    path: &Path,
    stats: &mut ReadStats,
    sink: &mut dyn EventSink,
) -> Result<(), InputError> {
    let mut decoder = Decoder { stats, sink };
    read_lines(path, &mut decoder, None)
}

/// Reads one file, or standard input until it ends or `stop` says so (a signal): what was
/// read is analysed as at its end.
pub fn read_path_until(
    path: &Path,
    stats: &mut ReadStats,
    sink: &mut dyn EventSink,
    stop: &dyn Fn() -> bool,
) -> Result<(), InputError> {
    let mut decoder = Decoder { stats, sink };
    read_lines(path, &mut decoder, Some(stop))
}

/// Reads one file (or `-`, which `stop` can end) and hands its lines (or its pretty-printed
/// document) to `lines`.
pub(crate) fn read_lines(
    path: &Path,
    lines: &mut dyn Lines,
    stop: Option<&dyn Fn() -> bool>,
) -> Result<(), InputError> {
    let display = if path.as_os_str() == "-" {
        "-".to_string()
    } else {
        path.display().to_string()
    };
    let io = |source| InputError::Io {
        path: display.clone(),
        source,
    };
    let reader: Box<dyn Read + '_> = if path.as_os_str() == "-" {
        match stop {
            Some(stop) => Box::new(crate::stdin::Stoppable::new(stop)),
            None => Box::new(std::io::stdin().lock()),
        }
    } else {
        Box::new(std::fs::File::open(path).map_err(io)?)
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let start = reader.fill_buf().map_err(io)?;
    if palisade_core::encoding::is_utf16(start) {
        return Err(InputError::Utf16(display));
    }
    let gzip = start.starts_with(&[0x1f, 0x8b]);
    if let Some((format, command)) = other_compression(start) {
        return Err(InputError::Compressed {
            path: display,
            format,
            command,
        });
    }
    if !gzip && looks_binary(start) {
        return Err(InputError::Binary(display));
    }
    lines.file();
    if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        split_stream(
            &display,
            &mut BufReader::with_capacity(1 << 20, decoder),
            lines,
        )
    } else {
        split_stream(&display, &mut reader, lines)
    }
    .map_err(io)
}

/// Whether a file opening with `start` is binary: a NUL among its first bytes, and no JSON
/// value or runtime log line (a timestamp) at its start. A log with NULs further on (blocks
/// a crash left zeroed) is read as ever.
fn looks_binary(start: &[u8]) -> bool {
    let head = &start[..start.len().min(512)];
    let opening = head.iter().find(|b| !b.is_ascii_whitespace());
    memchr::memchr(0, head).is_some() && !matches!(opening, Some(b'{' | b'[' | b'0'..=b'9'))
}

/// The compression format whose magic bytes `start` opens with, and the command that undoes
/// it, for the formats rotated logs are compressed with besides gzip.
fn other_compression(start: &[u8]) -> Option<(&'static str, &'static str)> {
    const FORMATS: [(&[u8], &str, &str); 4] = [
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd", "zstd -d"),
        (b"BZh", "bzip2", "bzip2 -d"),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz", "xz -d"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4", "lz4 -d"),
    ];
    FORMATS
        .iter()
        .find(|(magic, _, _)| start.starts_with(magic))
        .map(|(_, format, command)| (*format, *command))
}

/// Receives what a stream holds: each line's text (or the whole of a pretty-printed
/// document), trimmed and not empty, and the lines that could not be read as text.
pub(crate) trait Lines {
    /// A file is opened.
    fn file(&mut self);
    fn text(&mut self, text: &str, origin: &Origin);
    fn problem(&mut self, origin: &Origin, message: &str);
}

/// Decodes lines as they come and shows their events to a sink.
struct Decoder<'s> {
    stats: &'s mut ReadStats,
    sink: &'s mut dyn EventSink,
}

impl Lines for Decoder<'_> {
    fn file(&mut self) {
        self.stats.files += 1;
    }

    fn text(&mut self, text: &str, origin: &Origin) {
        decode_text(text, origin, self.stats, self.sink);
    }

    fn problem(&mut self, origin: &Origin, message: &str) {
        self.stats.problem(origin, message);
    }
}

/// Reads a stream of JSON lines, or one pretty-printed document.
pub fn read_stream(
    file: &str,
    reader: &mut dyn BufRead,
    stats: &mut ReadStats,
    sink: &mut dyn EventSink,
) -> std::io::Result<()> {
    split_stream(file, reader, &mut Decoder { stats, sink })
}

/// Splits a stream into lines and hands over what they hold ([`Splitter`]).
fn split_stream(
    file: &str,
    reader: &mut dyn BufRead,
    lines: &mut dyn Lines,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut splitter = Splitter::new(file);
    loop {
        line.clear();
        let (read, complete) = read_bounded_line(reader, &mut line, MAX_LINE)?;
        if read == 0 {
            splitter.end(lines);
            return Ok(());
        }
        splitter.line(complete.then_some(&line[..]), lines);
        if splitter.done {
            return Ok(());
        }
    }
}

/// Lines to what they hold, in order. A line a container runtime logged (`cri`) is its
/// text, joined back when the runtime split it. When the first line opens a JSON value that
/// it does not close, the lines that follow are gathered while they may finish it: a
/// pretty-printed document (an `EventList`) is read whole, and a first line that is only
/// broken (a log cut in the middle of an event) is one problem, the lines after it read as
/// ever.
struct Splitter<'f> {
    file: &'f str,
    /// The last line's number.
    number: u64,
    first: bool,
    opening: Option<Opening>,
    runtime: CriJoin,
    /// A document longer than [`MAX_DOCUMENT`] was met: the rest is not read.
    done: bool,
}

impl<'f> Splitter<'f> {
    fn new(file: &'f str) -> Splitter<'f> {
        Splitter {
            file,
            number: 0,
            first: true,
            opening: None,
            runtime: CriJoin::default(),
            done: false,
        }
    }

    /// What the runtime's joining finds wrong, told to `lines` at the line it names.
    fn problems<'l>(file: &'l str, lines: &'l mut dyn Lines) -> impl FnMut(&str, u64) + 'l {
        move |message, line| lines.problem(&Origin::at(file, line), message)
    }

    /// The next line, with its newline; `None` when it was longer than [`MAX_LINE`].
    fn line(&mut self, bytes: Option<&[u8]>, lines: &mut dyn Lines) {
        self.number += 1;
        let mut origin = Origin::at(self.file, self.number);
        let joined;
        let text = match bytes.map(std::str::from_utf8) {
            None => Err(format!("line longer than {} MiB, skipped", MAX_LINE >> 20)),
            Some(Err(_)) => Err("not UTF-8 text".to_string()),
            Some(Ok(raw)) => {
                let raw = raw.strip_suffix('\n').unwrap_or(raw);
                let raw = raw.strip_suffix('\r').unwrap_or(raw);
                let mut problem = Self::problems(self.file, lines);
                match self.runtime.feed(raw, self.number, &mut problem) {
                    Cri::No => Ok(line_text(raw)),
                    Cri::Whole(text, first) => {
                        origin.line = first;
                        joined = text;
                        Ok(line_text(&joined))
                    }
                    Cri::Part => return,
                }
            }
        };
        if let Some(mut open) = self.opening.take() {
            match text {
                Ok(text) => {
                    open.push(text);
                    match open.verdict() {
                        Verdict::Open => self.opening = Some(open),
                        Verdict::TooLong => {
                            let message = format!(
                                "a document longer than {} MiB, not read",
                                MAX_DOCUMENT >> 20
                            );
                            lines.problem(&open.origin, &message);
                            self.done = true;
                        }
                        verdict => open.settle(verdict, lines),
                    }
                }
                Err(problem) => {
                    open.release(0, lines);
                    lines.problem(&origin, &problem);
                }
            }
            return;
        }
        match text {
            Err(problem) => lines.problem(&origin, &problem),
            Ok("") => {}
            Ok(text) if std::mem::take(&mut self.first) && is_incomplete_json(text) => {
                self.opening = Some(Opening::new(text, origin));
            }
            Ok(text) => lines.text(text, &origin),
        }
    }

    /// The end of the stream (or of a file a followed log was rotated from): what is held is
    /// handed over, and the next line is a first line again.
    fn end(&mut self, lines: &mut dyn Lines) {
        self.runtime.finish(&mut Self::problems(self.file, lines));
        if let Some(opening) = self.opening.take() {
            opening.end(lines);
        }
        self.first = true;
    }
}

/// The first lines of a stream while they may be one pretty-printed document. The document
/// holds every line, empty ones too, so a line's number is found by counting the newlines
/// before it (no table of line starts, which would cost more than the text itself).
struct Opening {
    /// The first line's.
    origin: Origin,
    document: String,
    /// The length at which the document is next parsed (doubling: linear time in all).
    next_check: usize,
}

enum Verdict {
    /// It may yet be one document.
    Open,
    /// It is one, up to byte `end`; lines follow it from byte `after`.
    Document { end: usize, after: usize },
    /// It is not: lines.
    Lines,
    /// It would be longer than [`MAX_DOCUMENT`].
    TooLong,
}

impl Opening {
    fn new(text: &str, origin: Origin) -> Opening {
        let mut opening = Opening {
            document: String::new(),
            next_check: 4096,
            origin,
        };
        opening.push(text);
        opening
    }

    /// The next line (empty ones too).
    fn push(&mut self, text: &str) {
        self.document.push_str(text);
        self.document.push('\n');
    }

    fn verdict(&mut self) -> Verdict {
        if self.document.len() > MAX_DOCUMENT {
            return Verdict::TooLong;
        }
        if self.document.len() < self.next_check {
            return Verdict::Open;
        }
        self.next_check = self.document.len() * 2;
        self.parsed()
    }

    /// What the lines read so far are: a document that ends where a line ends (the lines
    /// after it, if any, are lines), the start of one, or lines.
    fn parsed(&self) -> Verdict {
        let mut values =
            serde_json::Deserializer::from_str(&self.document).into_iter::<serde::de::IgnoredAny>();
        match values.next() {
            Some(Ok(_)) => {
                let end = values.byte_offset();
                let rest = &self.document[end..];
                let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
                match rest[..line_end].trim().is_empty() {
                    true => Verdict::Document {
                        end,
                        after: end + line_end,
                    },
                    false => Verdict::Lines,
                }
            }
            Some(Err(e)) if e.is_eof() => Verdict::Open,
            _ => Verdict::Lines,
        }
    }

    /// Hands over what `verdict` found: the document and the lines after it, or every line.
    fn settle(self, verdict: Verdict, lines: &mut dyn Lines) {
        match verdict {
            Verdict::Document { end, after } => {
                lines.text(&self.document[..end], &self.origin);
                self.release(after, lines);
            }
            _ => self.release(0, lines),
        }
    }

    /// The end of the stream: a whole document, or lines.
    fn end(self, lines: &mut dyn Lines) {
        let verdict = self.parsed();
        self.settle(verdict, lines);
    }

    /// Hands the lines from byte `from` (a line's start) on over one by one.
    fn release(self, from: usize, lines: &mut dyn Lines) {
        let before = memchr::memchr_iter(b'\n', &self.document.as_bytes()[..from]).count();
        let first = self.origin.line + before as u64;
        for (index, text) in self.document[from..].split('\n').enumerate() {
            if text.is_empty() {
                continue;
            }
            lines.text(text, &Origin::at(&self.origin.file, first + index as u64));
        }
    }
}

/// A line's text without what may surround an event but is not JSON: whitespace (the `\r`
/// of CRLF files), a byte-order mark (files written by Windows tools) and NUL bytes (the
/// padding a crash leaves in a log file before the next write).
fn line_text(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}')
}

/// Whether the first line opens a JSON value that it does not close.
fn is_incomplete_json(text: &str) -> bool {
    (text.starts_with('{') || text.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .is_some_and(|e| e.is_eof())
}

/// Reads up to a newline; past `max` bytes the rest of the line is consumed and dropped.
/// Returns the bytes consumed and whether the line was kept whole.
fn read_bounded_line(
    reader: &mut dyn BufRead,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut complete = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((consumed, complete));
        }
        let (chunk, done) = match memchr::memchr(b'\n', buffer) {
            Some(i) => (&buffer[..=i], true),
            None => (buffer, false),
        };
        let len = chunk.len();
        if complete && out.len() + len <= max {
            out.extend_from_slice(chunk);
        } else {
            complete = false;
            out.clear();
        }
        reader.consume(len);
        consumed += len;
        if done {
            return Ok((consumed, complete));
        }
    }
}

/// One line or document: an Event, an EventList, or a cloud wrapper around either.
pub fn decode_text(text: &str, origin: &Origin, stats: &mut ReadStats, sink: &mut dyn EventSink) {
    let unwrapped = OnceCell::new();
    decode_each(text, &unwrapped, &mut |found| match found {
        Ok(event) => {
            stats.events += 1;
            sink.event(&event, origin);
        }
        Err(problem) => stats.problem(origin, problem),
    });
}

/// The events of one line or document, in order, and what is not an event, to `found`. A
/// cloud wrapper's events are kept in `unwrapped` (made when one is met), so they live as
/// long as the text.
pub(crate) fn decode_each<'t>(
    text: &'t str,
    unwrapped: &'t OnceCell<typed_arena::Arena<String>>,
    found: &mut dyn FnMut(Result<Event<'t>, String>),
) {
    if text.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text)
    {
        // A JSON array of what a line may hold: `gcloud logging read --format=json`,
        // `jq -s`, exports of a log store. Its items are not arrays again.
        for (index, item) in items.into_iter().enumerate() {
            let item = item.get();
            if item.starts_with('[') {
                found(Err(format!("item {index}: an array in an array")));
                continue;
            }
            decode_each(item, unwrapped, &mut |result| {
                found(result.map_err(|problem| format!("item {index}: {problem}")));
            });
        }
        return;
    }
    match Event::decode(text) {
        Ok(event) => found(Ok(event)),
        Err(error) => {
            if let Some(items) = event_list(text) {
                for item in items {
                    found(Event::decode(item.get()).map_err(|e| format!("EventList item: {e}")));
                }
                return;
            }
            match crate::cloud::unwrap(text) {
                Some(Ok(inner)) => {
                    let arena = unwrapped.get_or_init(typed_arena::Arena::new);
                    for text in inner {
                        decode_each(arena.alloc(text), unwrapped, found);
                    }
                }
                Some(Err(message)) => found(Err(message)),
                None => found(Err(describe(&error))),
            }
        }
    }
}

fn describe(error: &DecodeError) -> String {
    match error {
        DecodeError::Json(message) => format!("not an audit event: {message}"),
        other => other.to_string(),
    }
}

/// The items of an `EventList`, raw.
fn event_list(text: &str) -> Option<Vec<&RawValue>> {
    #[derive(Deserialize)]
    struct List<'a> {
        kind: Option<&'a str>,
        #[serde(borrow)]
        items: Option<Vec<&'a RawValue>>,
    }
    let list: List = serde_json::from_str(text).ok()?;
    (list.kind.is_none_or(|k| k == "EventList"))
        .then_some(list.items)
        .flatten()
}

/// How much of a followed file is read at once.
const FOLLOW_CHUNK: usize = 1 << 20;

/// Follows a growing file (`--follow`): reads what is there, then what is appended, and
/// starts again from the beginning when the file is truncated or replaced by rotation.
/// The file stays open between reads, so when it is rotated away what was written to it
/// since the last read (its last lines before the rename) is read before the new file is.
/// Returns when `stop` says so (checked after each chunk read and between polls).
pub fn follow(
    path: &Path,
    stats: &mut ReadStats,
    sink: &mut dyn EventSink,
    stop: &dyn Fn() -> bool,
) -> Result<(), InputError> {
    let display = path.display().to_string();
    let io = |source| InputError::Io {
        path: display.clone(),
        source,
    };
    let mut lines = Decoder { stats, sink };
    lines.file();
    let mut tail = Tail::new(&display);
    // The file being followed and what identifies it; `None` until the path names one.
    let mut open: Option<(std::fs::File, Option<u64>)> = None;
    loop {
        if open.is_none()
            && let Ok(file) = std::fs::File::open(path)
        {
            let identity = file.metadata().ok().as_ref().and_then(identity_of);
            open = Some((file, identity));
            tail.restart(&mut lines);
        }
        if let Some((file, identity)) = &mut open {
            if file.metadata().map_err(io)?.len() < tail.offset {
                // Truncated in place (copytruncate): read again from its start.
                std::io::Seek::seek(file, std::io::SeekFrom::Start(0)).map_err(io)?;
                tail.restart(&mut lines);
            }
            if tail.read_to_end(file, &mut lines, stop).map_err(io)? {
                return Ok(());
            }
            if file_identity(path) != *identity {
                // Rotated: what was written before the rename is read, then the new file.
                if tail.read_to_end(file, &mut lines, stop).map_err(io)? {
                    return Ok(());
                }
                tail.finish(&mut lines);
                open = None;
                continue;
            }
        }
        if stop() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// What [`follow`] has read of one file: where it is, and the line it has begun.
struct Tail<'f> {
    offset: u64,
    pending: Vec<u8>,
    splitter: Splitter<'f>,
    /// The line being read is longer than the longest read: it is skipped to its end.
    overlong: bool,
}

impl<'f> Tail<'f> {
    fn new(file: &'f str) -> Tail<'f> {
        Tail {
            offset: 0,
            pending: Vec::new(),
            splitter: Splitter::new(file),
            overlong: false,
        }
    }

    /// The file is read again from its start (truncated, or a new one after rotation).
    fn restart(&mut self, lines: &mut dyn Lines) {
        if self.offset > 0 || !self.pending.is_empty() {
            self.finish(lines);
        }
    }

    /// The file is left: its last line, unless it was cut short, is read as a line, and
    /// what is read next is numbered from line 1.
    fn finish(&mut self, lines: &mut dyn Lines) {
        if !self.pending.is_empty() && !self.overlong {
            self.splitter.line(Some(&self.pending), lines);
        }
        self.pending.clear();
        self.overlong = false;
        self.splitter.end(lines);
        self.splitter = Splitter::new(self.splitter.file);
        self.offset = 0;
    }

    /// Reads `file` from where it was to its end, a chunk at a time (a large log already
    /// there is read in bounded memory, and a stop asked for while catching up on it is
    /// heard); whether `stop` said so.
    fn read_to_end(
        &mut self,
        file: &mut std::fs::File,
        lines: &mut dyn Lines,
        stop: &dyn Fn() -> bool,
    ) -> std::io::Result<bool> {
        let mut chunk = vec![0; FOLLOW_CHUNK];
        loop {
            let read = file.read(&mut chunk)?;
            if read == 0 {
                return Ok(false);
            }
            self.offset += u64::try_from(read).unwrap_or(0);
            self.pending.extend_from_slice(&chunk[..read]);
            let mut start = 0;
            while let Some(end) = memchr::memchr(b'\n', &self.pending[start..]) {
                let line = &self.pending[start..=start + end];
                start += end + 1;
                if !std::mem::take(&mut self.overlong) {
                    self.splitter.line(Some(line), lines);
                }
            }
            // The lines read are dropped at once, not one by one (which moved the rest of
            // the text for every line).
            self.pending.drain(..start);
            if self.pending.len() > MAX_LINE {
                // The line is dropped whole: what follows up to its newline is its rest.
                self.pending.clear();
                if !std::mem::replace(&mut self.overlong, true) {
                    self.splitter.line(None, lines);
                }
            }
            if stop() {
                return Ok(true);
            }
        }
    }
}

/// What identifies the file at `path` across renames (inode on Unix).
fn file_identity(path: &Path) -> Option<u64> {
    identity_of(&std::fs::metadata(path).ok()?)
}

/// What identifies a file across renames, from its metadata.
fn identity_of(metadata: &std::fs::Metadata) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(metadata.ino())
    }
    #[cfg(not(unix))]
    {
        metadata.created().ok().map(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<String>, ReadStats) {
        let mut stats = ReadStats::default();
        let mut verbs = Vec::new();
        let mut sink = |e: &Event, o: &Origin| verbs.push(format!("{}@{}", e.verb(), o.line));
        read_stream("t.log", &mut text.as_bytes(), &mut stats, &mut sink).unwrap();
        (verbs, stats)
    }

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","user":{"username":"a"}}"#;

    /// A followed file of several chunks, whose lines straddle the chunks' ends, gives what
    /// reading it gives: the same events at the same lines, and the same problems.
    #[test]
    fn following_a_file_of_many_chunks_reads_it_as_reading_it_does() {
        let dir = std::env::temp_dir().join(format!("palisade-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let mut text = String::new();
        let mut expected_events = 0;
        for i in 0..6_000 {
            if i % 997 == 0 {
                text.push_str("not json\n");
                continue;
            }
            let padding = "x".repeat(i % 1_500);
            text.push_str(&format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","auditID":"{i}{padding}","user":{{"username":"a"}}}}"#
            ));
            text.push('\n');
            expected_events += 1;
        }
        assert!(text.len() > 3 * FOLLOW_CHUNK);
        std::fs::write(&path, &text).unwrap();
        let mut read_stats = ReadStats::default();
        let mut read_seen = Vec::new();
        let mut sink = |e: &Event, o: &Origin| read_seen.push(format!("{}@{}", e.verb(), o.line));
        read_path(&path, &mut read_stats, &mut sink).unwrap();
        assert_eq!(read_seen.len(), expected_events);

        let seen = std::cell::RefCell::new(Vec::new());
        let mut follow_stats = ReadStats::default();
        let mut sink =
            |e: &Event, o: &Origin| seen.borrow_mut().push(format!("{}@{}", e.verb(), o.line));
        // A guard against waiting for ever when events go missing, not a timing.
        let start = std::time::Instant::now();
        let stop = || {
            seen.borrow().len() >= expected_events
                || start.elapsed() > std::time::Duration::from_secs(60)
        };
        follow(&path, &mut follow_stats, &mut sink, &stop).unwrap();
        assert_eq!(*seen.borrow(), read_seen);
        assert_eq!(follow_stats.malformed, read_stats.malformed);
        assert_eq!(
            follow_stats
                .problems
                .iter()
                .map(|p| p.replace(&path.display().to_string(), ""))
                .collect::<Vec<_>>(),
            read_stats
                .problems
                .iter()
                .map(|p| p.replace(&path.display().to_string(), ""))
                .collect::<Vec<_>>()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The API server's log rotation renames the file and opens a new one: the lines written
    /// to the old file after the last read are read before the new file's, and the new
    /// file's lines are numbered from 1.
    #[test]
    fn following_across_a_rotation_reads_the_old_files_last_lines_first() {
        let dir = std::env::temp_dir().join(format!("palisade-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let event = |verb: &str| EVENT.replace("\"get\"", &format!("\"{verb}\""));
        std::fs::write(&path, event("list") + "\n").unwrap();
        let seen = std::cell::RefCell::new(Vec::new());
        let mut stats = ReadStats::default();
        let mut sink = |e: &Event, o: &Origin| {
            seen.borrow_mut().push(format!("{}@{}", e.verb(), o.line));
            if e.verb() == "list" {
                // Written after the first read, then rotated away; a last line without its
                // newline; a new file with one event.
                let mut old = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                std::io::Write::write_fmt(
                    &mut old,
                    format_args!("{}\n{}", event("watch"), event("patch")),
                )
                .unwrap();
                std::fs::rename(&path, dir.join("audit-2026-12-01T10-00-00.000.log")).unwrap();
                std::fs::write(&path, event("delete") + "\n").unwrap();
            }
        };
        // A guard against waiting for ever when events go missing, not a timing.
        let start = std::time::Instant::now();
        let stop =
            || seen.borrow().len() >= 4 || start.elapsed() > std::time::Duration::from_secs(20);
        follow(&path, &mut stats, &mut sink, &stop).unwrap();
        assert_eq!(
            *seen.borrow(),
            ["list@1", "watch@2", "patch@3", "delete@1"],
            "{:?}",
            stats.problems
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_lines_and_reports_the_others_with_their_line() {
        let text = format!("{EVENT}\nnot json\n\n{{\"kind\": 0}}\n{EVENT}\n");
        let (verbs, stats) = read(&text);
        assert_eq!(verbs, ["get@1", "get@5"]);
        assert_eq!(stats.malformed, 2);
        assert!(
            stats.problems[0].starts_with("t.log:2: not an audit event"),
            "{:?}",
            stats.problems
        );
        assert!(
            stats.problems[1].starts_with("t.log:4:"),
            "{:?}",
            stats.problems
        );
    }

    #[test]
    fn reads_event_lists_on_one_line_and_pretty_printed() {
        let list = format!("{{\"kind\":\"EventList\",\"items\":[{EVENT},{EVENT}]}}");
        assert_eq!(read(&list).0.len(), 2);
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&list).unwrap(),
        )
        .unwrap();
        let (verbs, stats) = read(&pretty);
        assert_eq!(verbs.len(), 2, "{stats:?}");
    }

    /// A log whose first line is cut in the middle of an event (it opens a JSON value it
    /// does not close, as a pretty-printed document does) loses that line only.
    #[test]
    fn a_broken_first_line_is_one_problem_not_the_whole_file() {
        let broken = &EVENT[..40];
        let many = vec![EVENT; 200].join("\n");
        for (text, first) in [
            (format!("{broken}\n{EVENT}\n{EVENT}\n"), "get@2"),
            (format!("{broken}\n\n{many}\n"), "get@3"),
            (format!("{broken}\n{{\n{EVENT}\n"), "get@3"),
        ] {
            let (verbs, stats) = read(&text);
            let events = text.matches(EVENT).count();
            assert_eq!(verbs.len(), events, "{stats:?}");
            assert_eq!(verbs[0], first, "{verbs:?}");
            assert!(stats.problems[0].starts_with("t.log:1: "), "{stats:?}");
        }
        // Lines that are not text end the gathering too: they are problems of their own.
        let mut bytes = format!("{broken}\n").into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        bytes.extend_from_slice(format!("{EVENT}\n").as_bytes());
        let mut stats = ReadStats::default();
        let mut verbs = Vec::new();
        let mut sink = |e: &Event, o: &Origin| verbs.push(format!("{}@{}", e.verb(), o.line));
        read_stream("t.log", &mut bytes.as_slice(), &mut stats, &mut sink).unwrap();
        assert_eq!(verbs, ["get@3"]);
        assert_eq!(stats.malformed, 2, "{stats:?}");
        assert!(
            stats.problems[1].starts_with("t.log:2: not UTF-8"),
            "{stats:?}"
        );
    }

    /// A UTF-16 file (Windows PowerShell 5's `>`) is named as such, not read as lines of
    /// text that are not UTF-8.
    #[test]
    fn a_utf16_file_is_refused_with_what_to_do() {
        let path = std::env::temp_dir().join(format!("palisade-utf16-{}.log", std::process::id()));
        let utf16: Vec<u8> = [0xfeffu16]
            .into_iter()
            .chain(EVENT.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        std::fs::write(&path, utf16).unwrap();
        let mut stats = ReadStats::default();
        let error = read_path(&path, &mut stats, &mut |_: &Event, _: &Origin| {}).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(error, InputError::Utf16(_)), "{error}");
        assert!(error.to_string().contains("write it as UTF-8"), "{error}");
        assert_eq!(stats, ReadStats::default());
    }

    /// A log compressed with another tool than gzip, or a binary file, is refused whole
    /// with what it is, not read as lines of garbage.
    #[test]
    fn other_compressions_and_binary_files_are_named() {
        let dir = std::env::temp_dir().join(format!("palisade-binary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases: [(&str, Vec<u8>, &str); 3] = [
            (
                "audit.log.1.zst",
                vec![0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05],
                "compressed with zstd",
            ),
            ("audit.log.2.bz2", b"BZh91AY&SY".to_vec(), "bzip2 -d -c"),
            (
                "core",
                vec![0x7f, b'E', b'L', b'F', 0, 0, 1],
                "a binary file",
            ),
        ];
        // A log a crash left with a zeroed block is read whole (the zeros are padding).
        let damaged = dir.join("audit.log");
        let mut text = format!("{EVENT}\n").into_bytes();
        text.extend_from_slice(&[0; 100]);
        text.extend_from_slice(format!("\n{EVENT}\n").as_bytes());
        std::fs::write(&damaged, text).unwrap();
        let mut stats = ReadStats::default();
        let mut events = 0;
        read_path(&damaged, &mut stats, &mut |_: &Event, _: &Origin| {
            events += 1
        })
        .unwrap();
        assert_eq!((events, stats.malformed), (2, 0), "{:?}", stats.problems);
        for (name, bytes, said) in cases {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            let mut stats = ReadStats::default();
            let error = read_path(&path, &mut stats, &mut |_: &Event, _: &Origin| {}).unwrap_err();
            assert!(error.to_string().contains(said), "{name}: {error}");
            assert_eq!(stats, ReadStats::default(), "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A JSON array (`jq -s`, `gcloud logging read --format=json`, an export) is read item
    /// by item, on one line or pretty-printed; an item that is no event is a problem naming
    /// it, and the others are read.
    #[test]
    fn a_json_array_of_events_and_wrappers_is_read_item_by_item() {
        let gke = r#"{"protoPayload":{"methodName":"io.k8s.core.v1.pods.list","resourceName":"core/v1/namespaces/app/pods","authenticationInfo":{"principalEmail":"a"}},"timestamp":"2026-12-01T10:00:00Z"}"#;
        let list = format!(r#"{{"kind":"EventList","items":[{EVENT}]}}"#);
        let array = format!("[{EVENT},{gke},{list},{{\"kind\":3}},[{EVENT}]]");
        let (verbs, stats) = read(&array);
        assert_eq!(verbs, ["get@1", "list@1", "get@1"], "{stats:?}");
        assert_eq!(stats.malformed, 2, "{stats:?}");
        assert!(
            stats.problems[0].starts_with("t.log:1: item 3: not an audit event"),
            "{stats:?}"
        );
        assert!(
            stats.problems[1].contains("item 4: an array in an array"),
            "{stats:?}"
        );
        let value: serde_json::Value = serde_json::from_str(&format!("[{EVENT},{gke}]")).unwrap();
        let (verbs, stats) = read(&serde_json::to_string_pretty(&value).unwrap());
        assert_eq!((verbs.len(), stats.malformed), (2, 0), "{stats:?}");
    }

    /// An API server that logs its audit events to its standard output, read from
    /// `/var/log/pods`: the runtime's prefix is dropped and a long event it split is joined
    /// back, numbered at its first line.
    #[test]
    fn a_container_runtimes_log_is_read_with_split_events_joined() {
        let (head, tail) = EVENT.split_at(30);
        let text = format!(
            "2026-12-01T10:00:00.1Z stdout F {EVENT}\n\
             2026-12-01T10:00:00.2Z stdout P {head}\n\
             2026-12-01T10:00:00.2Z stdout F {tail}\n\
             2026-12-01T10:00:00.3Z stderr F I1201 10:00:00 some log\n\
             {EVENT}\n"
        );
        let (verbs, stats) = read(&text);
        assert_eq!(verbs, ["get@1", "get@2", "get@5"], "{stats:?}");
        assert_eq!(
            stats.malformed, 1,
            "the API server's own log line: {stats:?}"
        );
    }

    /// What surrounds an event without being JSON is not a reason to lose it: a byte-order
    /// mark, NUL padding, CRLF line ends.
    #[test]
    fn a_byte_order_mark_nul_padding_and_crlf_do_not_lose_the_event() {
        let text = format!("\u{feff}{EVENT}\r\n\0\0\0{EVENT}\0\n{EVENT}\r\n");
        let (verbs, stats) = read(&text);
        assert_eq!(verbs, ["get@1", "get@2", "get@3"], "{stats:?}");
        assert_eq!(stats.malformed, 0);
    }

    /// A pretty-printed document is read whole however long (it is parsed as it grows), and
    /// lines after it are read as lines.
    #[test]
    fn a_long_pretty_printed_document_is_read_whole_and_lines_after_it_too() {
        let items = vec![EVENT; 300].join(",\n");
        let pretty = format!("{{\n\"kind\": \"EventList\",\n\"items\": [\n{items}\n]\n}}");
        assert!(pretty.len() > 3 * 4096);
        let (verbs, stats) = read(&pretty);
        assert_eq!((verbs.len(), stats.malformed), (300, 0), "{stats:?}");
        let (verbs, stats) = read(&format!("{pretty}\n\n{EVENT}\n"));
        assert_eq!(stats.malformed, 0, "{stats:?}");
        assert_eq!(verbs.len(), 301);
        // The line after the document and an empty line keeps its number.
        let line = pretty.lines().count() + 2;
        assert_eq!(verbs[300], format!("get@{line}"));
    }

    #[test]
    fn an_overlong_line_is_skipped_and_reading_goes_on() {
        let mut reader: &[u8] = b"0123456789\nabc\n";
        let mut out = Vec::new();
        assert_eq!(
            read_bounded_line(&mut reader, &mut out, 4).unwrap(),
            (11, false)
        );
        out.clear();
        assert_eq!(
            read_bounded_line(&mut reader, &mut out, 4).unwrap(),
            (4, true)
        );
        assert_eq!(out, b"abc\n");
    }

    #[test]
    fn rotated_files_are_read_oldest_first() {
        let mut paths: Vec<PathBuf> = [
            "logs/audit.log",
            "logs/audit.log.1",
            "logs/audit.log.3.gz",
            "logs/audit.log.2",
            "other/kube.json",
            "logs/audit-2026-12-01T10-00-00.000.log",
            "logs/audit-2026-11-30T10-00-00.000.log.gz",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        sort_rotated(&mut paths);
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "logs/audit.log.3.gz",
                "logs/audit.log.2",
                "logs/audit.log.1",
                "logs/audit-2026-11-30T10-00-00.000.log.gz",
                "logs/audit-2026-12-01T10-00-00.000.log",
                "logs/audit.log",
                "other/kube.json",
            ]
        );
    }
}
