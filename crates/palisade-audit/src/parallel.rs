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
use crate::baseline::{Baseline, Observation};
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
/// Text in batches handed over and not yet analysed, at most (a single batch may exceed it:
/// one long line or document is read alone). So memory does not grow with the number of
/// threads: with lines of 64 MiB, a queue of batches would hold several of them per thread.
const IN_FLIGHT_BYTES: usize = 64 << 20;

/// What happens to each alert given, in the order of the log.
pub type AlertHandler<'h> = dyn FnMut(Alert) + Send + 'h;

/// What is made of each alert as soon as it is given, on whichever thread gave it (formats,
/// enrichment): the caller's work that needs no order.
pub type Prepare<'p, T> = dyn Fn(Alert) -> T + Sync + 'p;

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
    analyze_files_prepared(engine, files, threads, stats, &|alert| alert, handle)
}

/// [`analyze_files`], with each alert made into what `prepare` makes of it on the thread
/// that gave it, off the log's order; `handle` then takes what was made, in the log's order.
/// So the caller's work that needs no order (rendering formats, enrichment) runs on every
/// core.
pub fn analyze_files_prepared<T: Send>(
    engine: &mut Engine,
    files: &[PathBuf],
    threads: usize,
    stats: &mut ReadStats,
    prepare: &Prepare<T>,
    handle: &mut (dyn FnMut(T) + Send),
) -> Vec<InputError> {
    if threads < 2 {
        let mut handle = |alert| handle(prepare(alert));
        return sequential(engine, files, stats, &mut handle);
    }
    analyze_within(
        engine,
        files,
        threads,
        IN_FLIGHT_BYTES,
        stats,
        prepare,
        handle,
    )
    .0
}

/// [`analyze_files_prepared`] on several threads with at most `budget` bytes of text handed
/// over and not yet analysed; also returns the most there were at once.
fn analyze_within<T: Send>(
    engine: &mut Engine,
    files: &[PathBuf],
    threads: usize,
    budget: usize,
    stats: &mut ReadStats,
    prepare: &Prepare<T>,
    handle: &mut (dyn FnMut(T) + Send),
) -> (Vec<InputError>, usize) {
    let Engine { plan, live } = engine;
    let plan: &Plan = plan;
    let turns = Sequence::new(Analysis { live, stats });
    let handing = Sequence::new(handle);
    let work = Work {
        plan,
        turns: &turns,
        handing: &handing,
        prepare,
    };
    let fail = || {
        turns.fail();
        handing.fail();
    };
    let read = over_batches(files, threads, budget, &fail, &|batch| work.batch(batch));
    turns.lock().held.stats.files += read.files;
    (read.not_read, read.peak)
}

/// Learns `files` into `baseline` with `threads` threads (besides the one reading), as
/// [`Baseline::observe`] on each event `keep` keeps, one after the other, would: each
/// thread decodes a batch and takes apart what its events show; in the batch's turn that is
/// recorded. Returns the files that could not be read and how many events were learned.
/// Fewer than two threads learn on this one.
pub fn learn_files(
    baseline: &mut Baseline,
    files: &[PathBuf],
    threads: usize,
    stats: &mut ReadStats,
    keep: &(dyn Fn(&Event) -> bool + Sync),
) -> (Vec<InputError>, u64) {
    let mut learned = 0;
    if threads < 2 {
        let mut sink = |event: &Event, _: &Origin| {
            if keep(event) {
                learned += 1;
                baseline.observe(event);
            }
        };
        let not_read = files
            .iter()
            .filter_map(|file| crate::input::read_path(file, stats, &mut sink).err())
            .collect();
        return (not_read, learned);
    }
    let turns = Sequence::new((baseline, &mut *stats, &mut learned));
    let fail = || turns.fail();
    let learn = |batch: Batch| {
        let unwrapped = OnceCell::new();
        // For each event, whether it is kept and what it shows (`None` without a user); or
        // the line's problem.
        type Seen = Result<(bool, Option<Observation>), String>;
        let seen: Vec<(u64, Seen)> = decode(&batch, &unwrapped)
            .into_iter()
            .map(|(line, found)| {
                let seen = found.map(|event| match keep(&event) {
                    true => (true, Observation::of(&event)),
                    false => (false, None),
                });
                (line, seen)
            })
            .collect();
        let Some(mut place) = turns.wait(batch.number) else {
            return false;
        };
        let (baseline, stats, learned) = &mut place.held;
        for (line, seen) in seen {
            match seen {
                Ok((kept, observation)) => {
                    stats.events += 1;
                    **learned += u64::from(kept);
                    if let Some(observation) = observation {
                        baseline.record(observation);
                    }
                }
                Err(problem) => stats.problem(&origin(&batch, line), &problem),
            }
        }
        turns.pass(place);
        true
    };
    let read = over_batches(files, threads, IN_FLIGHT_BYTES, &fail, &learn);
    stats.files += read.files;
    (read.not_read, learned)
}

/// What reading files into batches came to.
struct Read {
    files: u64,
    not_read: Vec<InputError>,
    /// The most bytes in flight at once.
    peak: usize,
}

/// Reads `files` into batches on this thread while `threads` threads take them and run
/// `work` on each (`false` stops the thread). When a thread fails, `fail` is called (so that
/// no thread waits for a turn that will not come), the reader stops, and the panic reaches
/// the caller.
fn over_batches(
    files: &[PathBuf],
    threads: usize,
    budget: usize,
    fail: &(dyn Fn() + Sync),
    work: &(dyn Fn(Batch) -> bool + Sync),
) -> Read {
    let in_flight = InFlight::new(budget);
    let (sender, receiver) = sync_channel::<Batch>(threads * 2);
    let queue = Mutex::new(Some(receiver));
    let mut files_read = 0;
    let mut not_read = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| take_batches(&queue, fail, work));
        }
        let mut batches = Batcher::new(sender, &in_flight);
        for file in files {
            if let Err(error) = batches.read(file) {
                not_read.push(error);
            }
        }
        files_read = batches.finish();
    });
    Read {
        files: files_read,
        not_read,
        peak: in_flight.peak(),
    }
}

/// One thread: takes batches until there are none (or `work` says to stop).
fn take_batches(
    queue: &Mutex<Option<Receiver<Batch>>>,
    fail: &(dyn Fn() + Sync),
    work: &(dyn Fn(Batch) -> bool + Sync),
) {
    let _failing = Failing { queue, fail };
    loop {
        let batch = {
            let receiver = queue.lock().unwrap_or_else(PoisonError::into_inner);
            match receiver.as_ref().map(Receiver::recv) {
                Some(Ok(batch)) => batch,
                _ => return,
            }
        };
        if !work(batch) {
            return;
        }
    }
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
struct Batch<'f> {
    number: u64,
    file: Arc<str>,
    text: String,
    entries: Vec<Entry>,
    /// Its bytes, counted in flight once handed over.
    counted: Option<Counted<'f>>,
}

enum Entry {
    /// A line (or document) at `text[start..end]`.
    Text { start: usize, end: usize, line: u64 },
    /// A line that could not be read as text.
    Problem { line: u64, message: String },
}

impl Batch<'_> {
    /// The bytes it holds, as [`InFlight`] counts them.
    fn size(&self) -> usize {
        self.text.len()
            + self
                .entries
                .iter()
                .map(|entry| match entry {
                    Entry::Text { .. } => 0,
                    Entry::Problem { message, .. } => message.len(),
                })
                .sum::<usize>()
    }
}

/// The text of batches handed over and not yet analysed, bounded: the reader waits while
/// more would exceed the budget, unless none is in flight.
struct InFlight {
    state: Mutex<InFlightState>,
    freed: Condvar,
    budget: usize,
}

#[derive(Default)]
struct InFlightState {
    bytes: usize,
    /// The most bytes in flight at once.
    peak: usize,
}

impl InFlight {
    fn new(budget: usize) -> InFlight {
        InFlight {
            state: Mutex::new(InFlightState::default()),
            freed: Condvar::new(),
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, InFlightState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `size` more bytes fit (or nothing is in flight) and counts them until the
    /// returned guard is dropped. Every batch counted is dropped in the end (analysed, or
    /// left in the queue when a thread failed), so the wait ends.
    fn take(&self, size: usize) -> Counted<'_> {
        let mut state = self.lock();
        while state.bytes > 0 && state.bytes + size > self.budget {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.bytes += size;
        state.peak = state.peak.max(state.bytes);
        Counted {
            in_flight: self,
            size,
        }
    }

    fn peak(&self) -> usize {
        self.lock().peak
    }
}

/// A batch's bytes, counted in flight until it is dropped.
struct Counted<'f> {
    in_flight: &'f InFlight,
    size: usize,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        let mut state = self.in_flight.lock();
        state.bytes = state.bytes.saturating_sub(self.size);
        drop(state);
        self.in_flight.freed.notify_all();
    }
}

/// Cuts what files hold into batches and hands them to the threads.
struct Batcher<'f> {
    sender: Option<SyncSender<Batch<'f>>>,
    current: Batch<'f>,
    /// Files opened.
    files: u64,
    in_flight: &'f InFlight,
}

impl<'f> Batcher<'f> {
    fn new(sender: SyncSender<Batch<'f>>, in_flight: &'f InFlight) -> Batcher<'f> {
        Batcher {
            sender: Some(sender),
            files: 0,
            in_flight,
            current: Batch {
                number: 0,
                file: Arc::from(""),
                text: String::new(),
                entries: Vec::new(),
                counted: None,
            },
        }
    }

    fn read(&mut self, file: &Path) -> Result<(), InputError> {
        let result = read_lines(file, self, None);
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
            counted: None,
        };
        let mut batch = std::mem::replace(&mut self.current, next);
        if self.sender.is_none() {
            return;
        }
        batch.counted = Some(self.in_flight.take(batch.size()));
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

impl Lines for Batcher<'_> {
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

/// What is done in the order of the log, one batch at a time: `held` is used by one batch
/// after the other.
struct Place<S> {
    /// The batch whose turn it is.
    next: u64,
    /// A thread failed: the others stop.
    failed: bool,
    held: S,
}

struct Sequence<S> {
    state: Mutex<Place<S>>,
    changed: Condvar,
}

impl<S> Sequence<S> {
    fn new(held: S) -> Sequence<S> {
        Sequence {
            state: Mutex::new(Place {
                next: 0,
                failed: false,
                held,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Place<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for batch `number`'s turn; `None` when a thread failed.
    fn wait(&self, number: u64) -> Option<MutexGuard<'_, Place<S>>> {
        let mut place = self.lock();
        while place.next != number && !place.failed {
            place = self
                .changed
                .wait(place)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (!place.failed).then_some(place)
    }

    /// Ends a batch's turn: the next batch's begins.
    fn pass(&self, mut place: MutexGuard<'_, Place<S>>) {
        place.next += 1;
        drop(place);
        self.changed.notify_all();
    }

    fn fail(&self) {
        self.lock().failed = true;
        self.changed.notify_all();
    }
}

/// What the detections' turn holds.
struct Analysis<'e> {
    live: &'e mut Live,
    stats: &'e mut ReadStats,
}

/// What every thread analysing shares.
struct Work<'w, 'e, 'h, T> {
    plan: &'w Plan,
    turns: &'w Sequence<Analysis<'e>>,
    handing: &'w Sequence<&'h mut (dyn FnMut(T) + Send)>,
    prepare: &'w Prepare<'w, T>,
}

/// Marks the run failed if the thread holding it unwinds, so that no thread waits for a
/// turn that will not come and the reader stops.
struct Failing<'a, 'f> {
    queue: &'a Mutex<Option<Receiver<Batch<'f>>>>,
    fail: &'a (dyn Fn() + Sync),
}

impl Drop for Failing<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.fail)();
            // Dropping the receiver makes the reader's next send fail.
            self.queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
    }
}

impl<T: Send> Work<'_, '_, '_, T> {
    /// Analyses a batch and, in its turn, gives its alerts; prepares them and, in its turn,
    /// hands them on. `false` when a thread failed.
    fn batch(&self, batch: Batch) -> bool {
        let number = batch.number;
        let Some(alerts) = self.analyse(&batch) else {
            return false;
        };
        // Its text is not needed any more.
        drop(batch);
        let prepared: Vec<T> = alerts.into_iter().map(self.prepare).collect();
        let Some(mut place) = self.handing.wait(number) else {
            return false;
        };
        prepared.into_iter().for_each(&mut *place.held);
        self.handing.pass(place);
        true
    }

    /// The batch's alerts, in order: the checks that read a request alone run off its turn,
    /// the rest in it. `None` when a thread failed.
    fn analyse(&self, batch: &Batch) -> Option<Vec<Alert>> {
        let plan = self.plan;
        let unwrapped = OnceCell::new();
        let decoded = decode(batch, &unwrapped);
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
                let origin = origin(batch, *line);
                let early = plan.request_alerts(&cx, shown, &origin);
                Some((cx, early, origin))
            })
            .collect();
        let mut place = self.turns.wait(batch.number)?;
        let Analysis { live, stats } = &mut place.held;
        let mut alerts = Vec::new();
        for (((line, found), shown), ready) in decoded.iter().zip(&shown).zip(ready) {
            let event = match found {
                Ok(event) => event,
                Err(problem) => {
                    stats.problem(&origin(batch, *line), problem);
                    continue;
                }
            };
            stats.events += 1;
            match (shown, ready) {
                (Some(shown), Some((cx, early, origin))) => {
                    live.finish(plan, &cx, shown, early, &origin, &mut alerts);
                }
                _ => live.analyze(plan, event, &origin(batch, *line), &mut alerts),
            }
        }
        self.turns.pass(place);
        Some(alerts)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Selection, Settings};

    /// An exec into pod `web-{i}` (an alert each), padded to about 8 KiB.
    fn exec_line(i: usize) -> String {
        let padding = "p".repeat(8 << 10);
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{i}","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/app/pods/web-{i}/exec?command=sh","verb":"create","user":{{"username":"alice"}},"sourceIPs":["203.0.113.10"],"objectRef":{{"resource":"pods","namespace":"app","name":"web-{i}","subresource":"exec"}},"responseStatus":{{"code":101}},"requestReceivedTimestamp":"2026-12-01T10:00:00Z","stageTimestamp":"2026-12-01T10:00:00Z","annotations":{{"note":"{padding}"}}}}"#
        )
    }

    fn log(name: &str, lines: usize) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "palisade-in-flight-{name}-{}.log",
            std::process::id()
        ));
        let text: String = (0..lines).map(|i| exec_line(i) + "\n").collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Batches wait for room: with a budget smaller than a batch, one batch is in flight at
    /// a time however slowly the turns go, so memory does not grow with the threads.
    #[test]
    fn text_in_flight_stays_within_the_budget() {
        let path = log("budget", 1_000);
        let mut engine = Engine::new(Settings::default(), None, &Selection::default());
        let mut stats = ReadStats::default();
        let mut given = 0;
        let files = [path.clone()];
        let (not_read, peak) =
            analyze_within(&mut engine, &files, 4, 1, &mut stats, &|a| a, &mut |_| {
                given += 1;
                if given == 1 {
                    // The reader would fill every queue meanwhile.
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            });
        std::fs::remove_file(&path).unwrap();
        assert!(not_read.is_empty());
        assert_eq!(stats.events, 1_000);
        assert_eq!(given, 1_000);
        let line = exec_line(999).len() + 1;
        assert!(
            peak > 0 && peak <= BATCH_BYTES + line,
            "{peak} bytes in flight at once"
        );
    }

    /// A batch left in the queue when a thread fails gives its bytes back as it is dropped
    /// with the queue, so a reader waiting for room is not left waiting.
    #[test]
    fn batches_dropped_with_the_queue_give_their_bytes_back() {
        let in_flight = InFlight::new(10);
        let (sender, receiver) = sync_channel::<Batch>(4);
        for _ in 0..2 {
            let batch = Batch {
                number: 0,
                file: Arc::from("audit.log"),
                text: "x".repeat(4),
                entries: Vec::new(),
                counted: Some(in_flight.take(4)),
            };
            sender.send(batch).unwrap();
        }
        assert_eq!(in_flight.lock().bytes, 8);
        drop(receiver);
        assert_eq!(in_flight.lock().bytes, 0);
        assert_eq!(in_flight.peak(), 8);
    }

    /// A reader waiting for room is woken when a thread fails: the failure reaches the
    /// caller instead of hanging the analysis.
    #[test]
    fn a_failure_wakes_a_reader_waiting_for_room() {
        let path = log("failure", 3_000);
        let files = [path.clone()];
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let failed = std::panic::catch_unwind(|| {
                let mut engine = Engine::new(Settings::default(), None, &Selection::default());
                let mut stats = ReadStats::default();
                // Room for a few batches, so some wait in the queue when the thread fails.
                analyze_within(
                    &mut engine,
                    &files,
                    2,
                    3 << 20,
                    &mut stats,
                    &|a| a,
                    &mut |_| {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        panic!("the caller failed");
                    },
                )
            })
            .is_err();
            done.send(failed).unwrap();
        });
        let failed = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the reader hung after a thread failed");
        std::fs::remove_file(&path).unwrap();
        assert!(failed);
    }
}
