//! Queueing and delivering alerts while a stream is analysed (`--follow`, standard input),
//! which has no end to wait for: a writer thread commits alerts to the outbox as they come
//! (what arrived while it committed goes in the next transaction), and a delivery thread
//! sends the outbox in rounds, as the audit receiver does. The analysis only hands alerts
//! over; it waits when the writer is that far behind, so memory stays bounded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use palisade_store::{Store, StoreError};

use crate::{BATCH, Round, Sink, deliver, now_millis};

/// An alert queued for a sink: (sink, alert id, body).
pub type Item = (String, String, String);

/// How many handovers may wait for the writer.
const WAITING: usize = 4096;

/// Sends what is due to `sinks` every `every` until `stop` is set, then makes a last round;
/// `report` hears every round. Store errors end it.
pub fn deliver_until(
    store: &mut Store,
    sinks: &mut [Sink],
    stop: &AtomicBool,
    every: Duration,
    report: &mut dyn FnMut(&Round, &Store),
) -> Result<(), StoreError> {
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let round = deliver(store, sinks, now_millis(), 20)?;
        report(&round, store);
        if stopping {
            return Ok(());
        }
        std::thread::sleep(every);
    }
}

/// What a thread ended with (`None`: it had ended before).
type Ended<T> = Result<Option<T>, StoreError>;

/// The writer and delivery threads of one streamed analysis.
pub struct Streaming {
    sender: Option<SyncSender<Vec<Item>>>,
    writer: Option<JoinHandle<Result<(), StoreError>>>,
    stop: Arc<AtomicBool>,
    delivery: Option<JoinHandle<Result<Vec<Sink>, StoreError>>>,
}

impl Streaming {
    /// Starts queueing into the store at `path` and delivering to `sinks`; `report` hears
    /// each delivery round.
    pub fn start(
        path: &Path,
        sinks: Vec<Sink>,
        mut report: Box<dyn FnMut(&Round) + Send>,
    ) -> Result<Streaming, StoreError> {
        let writer_store = Store::open(path)?;
        let mut delivery_store = Store::open(path)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(WAITING);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = std::thread::spawn(move || write(writer_store, &receiver));
        let stopping = stop.clone();
        let delivery = std::thread::spawn(move || {
            let mut sinks = sinks;
            deliver_until(
                &mut delivery_store,
                &mut sinks,
                &stopping,
                Duration::from_millis(250),
                &mut |round, _| report(round),
            )?;
            Ok(sinks)
        });
        Ok(Streaming {
            sender: Some(sender),
            writer: Some(writer),
            stop,
            delivery: Some(delivery),
        })
    }

    /// Hands an alert's items to the writer; `false` when the writer has stopped (its
    /// error comes from [`Streaming::finish`]).
    pub fn queue(&self, items: Vec<Item>) -> bool {
        self.sender
            .as_ref()
            .is_some_and(|sender| sender.send(items).is_ok())
    }

    /// Commits what was handed over, makes a last delivery round, and gives the sinks back
    /// (with what they await), for a last flush.
    pub fn finish(mut self) -> Result<Vec<Sink>, StoreError> {
        let (written, sinks) = self.shut_down();
        written?;
        Ok(sinks?.unwrap_or_default())
    }

    /// Ends the writer (once what was handed over is committed), then the delivery thread
    /// (after a last round); what each ended with. Threads already ended give `Ok(None)`.
    fn shut_down(&mut self) -> (Ended<()>, Ended<Vec<Sink>>) {
        self.sender = None;
        let written = join(self.writer.take());
        self.stop.store(true, Ordering::Relaxed);
        (written, join(self.delivery.take()))
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// Waits for a thread; a panic in it is raised again here.
fn join<T>(thread: Option<JoinHandle<Result<T, StoreError>>>) -> Ended<T> {
    match thread {
        None => Ok(None),
        Some(thread) => match thread.join() {
            Ok(result) => result.map(Some),
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}

/// Commits what is handed over until the sender is dropped: each transaction takes what
/// waited while the last one was committed, up to a batch.
fn write(mut store: Store, receiver: &Receiver<Vec<Item>>) -> Result<(), StoreError> {
    while let Ok(mut batch) = receiver.recv() {
        let mut open = true;
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(more) => batch.extend(more),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        store.enqueue(&batch, None)?;
        if !open {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("palisade-stream-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("s.db")
    }

    #[test]
    fn alerts_handed_over_are_delivered_while_the_stream_goes_on() {
        let path = temp("delivered");
        let out = path.with_file_name("alerts.jsonl");
        let sink = Sink::parse(&format!("file://{}", out.display())).unwrap();
        let name = sink.name.clone();
        let streaming = Streaming::start(&path, vec![sink], Box::new(|_| {})).unwrap();
        for i in 0..3 {
            assert!(streaming.queue(vec![(
                name.clone(),
                format!("a{i}"),
                format!("{{\"n\":{i}}}")
            )]));
        }
        // Delivered before the stream ends (a stream may never end).
        let start = std::time::Instant::now();
        while std::fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 3 {
            assert!(start.elapsed() < Duration::from_secs(30), "not delivered");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(streaming.queue(vec![(name.clone(), "a3".into(), "{\"n\":3}".into())]));
        let sinks = streaming.finish().unwrap();
        assert_eq!(sinks.len(), 1);
        // What was handed over last is committed: delivered by the last round, or queued.
        let store = Store::open(&path).unwrap();
        let delivered = std::fs::read_to_string(&out).unwrap().lines().count() as i64;
        assert_eq!(delivered + store.pending(&name).unwrap(), 4);
    }
}
