//! Analysing files on several threads with the answers of one: the log is cut into batches
//! of lines; each thread decodes a batch and runs the detections that read a request alone
//! (most of the work), then, in the batch's turn, the detections that read earlier requests
//! and everything else that depends on order (alerts given once, counts, problems, the
//! caller's handling of each alert). The alerts, their order and every count are those of
//! [`Engine::analyze`] on one thread.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::alert::{Alert, Origin};
use crate::engine::{Early, Engine, Live, Plan, Shown};
use crate::event::Event;
use crate::input::{InputError, Lines, ReadStats, decode_each, read_lines};

/// A batch is handed over once it holds this much text...
const BATCH_BYTES: usize = 1 << 20;
/// ... or this many lines.
const BATCH_LINES: usize = 1024;
/// Events of a batch made ready off its turn at most: a batch of more (one large `EventList`
/// document) is analysed in its turn, one event at a time, so memory stays that of one
/// thread.
const MAX_READY: usize = 4 * BATCH_LINES;

/// What happens to each alert given, in the order of the log.
pub type AlertHandler<'h> = dyn FnMut(Alert) + Send + 'h;

/// Analyses `files` in order with `threads` threads (besides the one reading), as
/// [`crate::input::read_path`] and [`Engine::analyze`] would one after the other: alerts go
/// to `handle` in the log's order, reading problems to `stats`. Returns the files that could
/// not be read. Fewer than two threads analyse on this one.
pub fn analyze_files(
    engine: &mut Engine,
    files: &[PathBuf],
    threads: usize,
    stats: &mut ReadStats,
    handle: &mut AlertHandler,
) -> Vec<InputError> {
    if threads < 2 {
        return sequential(engine, files, stats, handle);
    }
    let Engine { plan, live } = engine;
    let plan: &Plan = plan;
    let mut files_read = 0;
    let mut not_read = Vec::new();
    let turns = Turns {
        state: Mutex::new(Turn {
            next: 0,
            failed: false,
            live,
            stats,
            handle,
        }),
        changed: Condvar::new(),
    };
    let (sender, receiver) = sync_channel::<Batch>(threads * 2);
    let queue = Mutex::new(Some(receiver));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| work(plan, &queue, &turns));
        }
        let mut batches = Batcher::new(sender);
        for file in files {
            if let Err(error) = batches.read(file) {
                not_read.push(error);
            }
        }
        files_read = batches.finish();
    });
    turns.lock().stats.files += files_read;
    not_read
}

/// One thread: each event read and analysed in turn.
fn sequential(
    engine: &mut Engine,
    files: &[PathBuf],
    stats: &mut ReadStats,
    handle: &mut AlertHandler,
) -> Vec<InputError> {
    let mut sink = handing(engine, handle);
    files
        .iter()
        .filter_map(|file| crate::input::read_path(file, stats, &mut sink).err())
        .collect()
}

/// A sink that analyses each event as it comes and hands its alerts to `handle` (for what
/// is read on one thread: files, standard input, a followed log).
pub fn handing<'a>(
    engine: &'a mut Engine,
    handle: &'a mut AlertHandler,
) -> impl FnMut(&Event, &Origin) + 'a {
    let mut alerts = Vec::new();
    move |event, origin| {
        engine.analyze(event, origin, &mut alerts);
        alerts.drain(..).for_each(&mut *handle);
    }
}

/// Lines of one file, in order, with the problems met reading them.
struct Batch {
    number: u64,
    file: Arc<str>,
    text: String,
    entries: Vec<Entry>,
}

enum Entry {
    /// A line (or document) at `text[start..end]`.
    Text { start: usize, end: usize, line: u64 },
    /// A line that could not be read as text.
    Problem { line: u64, message: String },
}

/// Cuts what files hold into batches and hands them to the threads.
struct Batcher {
    sender: Option<SyncSender<Batch>>,
    current: Batch,
    /// Files opened.
    files: u64,
}

impl Batcher {
    fn new(sender: SyncSender<Batch>) -> Batcher {
        Batcher {
            sender: Some(sender),
            files: 0,
            current: Batch {
                number: 0,
                file: Arc::from(""),
                text: String::new(),
                entries: Vec::new(),
            },
        }
    }

    fn read(&mut self, file: &Path) -> Result<(), InputError> {
        let result = read_lines(file, self);
        self.send();
        result
    }

    /// Hands the batch over; a batch the threads can no longer take (one failed) is dropped.
    fn send(&mut self) {
        if self.current.entries.is_empty() {
            return;
        }
        let next = Batch {
            number: self.current.number + 1,
            file: self.current.file.clone(),
            text: String::with_capacity(BATCH_BYTES + BATCH_BYTES / 4),
            entries: Vec::with_capacity(BATCH_LINES),
        };
        let batch = std::mem::replace(&mut self.current, next);
        if let Some(sender) = &self.sender
            && sender.send(batch).is_err()
        {
            self.sender = None;
        }
    }

    /// Hands the last batch over; returns how many files were opened.
    fn finish(mut self) -> u64 {
        self.send();
        self.files
    }

    fn file_of(&mut self, origin: &Origin) {
        if *self.current.file != *origin.file {
            self.send();
            self.current.file = Arc::from(origin.file.as_str());
        }
    }

    fn full(&mut self) {
        if self.current.text.len() >= BATCH_BYTES || self.current.entries.len() >= BATCH_LINES {
            self.send();
        }
    }
}

impl Lines for Batcher {
    fn file(&mut self) {
        self.files += 1;
    }

    fn text(&mut self, text: &str, origin: &Origin) {
        self.file_of(origin);
        let start = self.current.text.len();
        self.current.text.push_str(text);
        self.current.entries.push(Entry::Text {
            start,
            end: self.current.text.len(),
            line: origin.line,
        });
        self.full();
    }

    fn problem(&mut self, origin: &Origin, message: &str) {
        self.file_of(origin);
        self.current.entries.push(Entry::Problem {
            line: origin.line,
            message: message.to_string(),
        });
        self.full();
    }
}

/// What is done in the order of the log, one batch at a time.
struct Turn<'e, 'h> {
    /// The batch whose turn it is.
    next: u64,
    /// A thread failed: the others stop.
    failed: bool,
    live: &'e mut Live,
    stats: &'e mut ReadStats,
    handle: &'e mut AlertHandler<'h>,
}

struct Turns<'e, 'h> {
    state: Mutex<Turn<'e, 'h>>,
    changed: Condvar,
}

impl<'e, 'h> Turns<'e, 'h> {
    fn lock(&self) -> MutexGuard<'_, Turn<'e, 'h>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for batch `number`'s turn; `None` when a thread failed.
    fn wait(&self, number: u64) -> Option<MutexGuard<'_, Turn<'e, 'h>>> {
        let mut turn = self.lock();
        while turn.next != number && !turn.failed {
            turn = self
                .changed
                .wait(turn)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (!turn.failed).then_some(turn)
    }
}

/// Marks the analysis failed if the thread holding it unwinds, so that no thread waits for
/// a turn that will not come and the reader stops.
struct Failing<'q, 'e, 'h> {
    queue: &'q Mutex<Option<Receiver<Batch>>>,
    turns: &'q Turns<'e, 'h>,
}

impl Drop for Failing<'_, '_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.turns.lock().failed = true;
            self.turns.changed.notify_all();
            // Dropping the receiver makes the reader's next send fail.
            self.queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
    }
}

/// One thread: takes batches until there are none, analyses each, and waits for its turn to
/// finish it.
fn work(plan: &Plan, queue: &Mutex<Option<Receiver<Batch>>>, turns: &Turns) {
    let _failing = Failing { queue, turns };
    loop {
        let batch = {
            let receiver = queue.lock().unwrap_or_else(PoisonError::into_inner);
            match receiver.as_ref().map(Receiver::recv) {
                Some(Ok(batch)) => batch,
                _ => return,
            }
        };
        let unwrapped = OnceCell::new();
        let decoded = decode(&batch, &unwrapped);
        // What each event shows the detections, and, off the turn, its context and the
        // alerts of the checks that read it alone; none for a batch of too many events.
        let few = decoded.len() <= MAX_READY;
        let shown: Vec<Option<Shown>> = decoded
            .iter()
            .map(|(_, found)| match (few, found) {
                (true, Ok(event)) => plan.show(event),
                _ => None,
            })
            .collect();
        let ready: Vec<Option<Ready>> = decoded
            .iter()
            .zip(&shown)
            .map(|((line, found), shown)| {
                let (Ok(event), Some(shown)) = (found, shown) else {
                    return None;
                };
                let cx = plan.context(event, shown);
                let origin = origin(&batch, *line);
                let early = plan.request_alerts(&cx, shown, &origin);
                Some((cx, early, origin))
            })
            .collect();
        let Some(mut turn) = turns.wait(batch.number) else {
            return;
        };
        let turn = &mut *turn;
        let mut alerts = Vec::new();
        for (((line, found), shown), ready) in decoded.iter().zip(&shown).zip(ready) {
            let event = match found {
                Ok(event) => event,
                Err(problem) => {
                    turn.stats.problem(&origin(&batch, *line), problem);
                    continue;
                }
            };
            turn.stats.events += 1;
            match (shown, ready) {
                (Some(shown), Some((cx, early, origin))) => {
                    turn.live
                        .finish(plan, &cx, shown, early, &origin, &mut alerts);
                }
                _ => turn
                    .live
                    .analyze(plan, event, &origin(&batch, *line), &mut alerts),
            }
            alerts.drain(..).for_each(&mut *turn.handle);
        }
        turn.next += 1;
        turns.changed.notify_all();
    }
}

/// An event made ready off its batch's turn: its context, the alerts of the checks that
/// read it alone, and where it was read.
type Ready<'e, 'a> = (crate::detection::Cx<'e, 'a>, Early, Origin);

/// The origin of `line` in the batch's file.
fn origin(batch: &Batch, line: u64) -> Origin {
    Origin::at(&batch.file, line)
}

/// The batch's events and problems, in order, each with its line.
fn decode<'b>(
    batch: &'b Batch,
    unwrapped: &'b OnceCell<typed_arena::Arena<String>>,
) -> Vec<(u64, Result<Event<'b>, String>)> {
    let mut decoded = Vec::with_capacity(batch.entries.len());
    for entry in &batch.entries {
        match entry {
            Entry::Text { start, end, line } => {
                decode_each(&batch.text[*start..*end], unwrapped, &mut |found| {
                    decoded.push((*line, found));
                });
            }
            Entry::Problem { line, message } => decoded.push((*line, Err(message.clone()))),
        }
    }
    decoded
}
