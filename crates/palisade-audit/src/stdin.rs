//! Standard input that a stop can end: a read of a pipe blocks until its writer writes or
//! closes, so a signal could not end `kubectl logs -f ... | palisade audit analyze -`. Here a
//! thread does the blocking reads and hands their chunks over; a read waits for the next
//! chunk in short turns and ends the input (as an end of file would) once `stop` says so.

use std::io::Read;
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

/// How much one read of standard input takes.
const CHUNK: usize = 1 << 20;
/// How often a waiting read looks at the stop.
const TURN: Duration = Duration::from_millis(100);

/// Standard input, ended by `stop` as by its end.
pub(crate) struct Stoppable<'s> {
    chunks: Receiver<std::io::Result<Vec<u8>>>,
    /// The chunk being read, and how much of it was.
    current: Vec<u8>,
    at: usize,
    stop: &'s dyn Fn() -> bool,
    ended: bool,
}

impl<'s> Stoppable<'s> {
    pub(crate) fn new(stop: &'s dyn Fn() -> bool) -> Stoppable<'s> {
        Stoppable::over(Box::new(std::io::stdin()), stop)
    }

    /// `source` read on a thread of its own (the thread ends with the source, or stays
    /// blocked in it until the process ends when stopped first).
    fn over(mut source: Box<dyn Read + Send>, stop: &'s dyn Fn() -> bool) -> Stoppable<'s> {
        // Two chunks ahead at most: memory stays bounded when the analysis is slower.
        let (sender, chunks) = sync_channel(2);
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0; CHUNK];
                match source.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        if sender.send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        return;
                    }
                }
            }
        });
        Stoppable {
            chunks,
            current: Vec::new(),
            at: 0,
            stop,
            ended: false,
        }
    }
}

impl Read for Stoppable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            if self.ended || (self.stop)() {
                self.ended = true;
                return Ok(0);
            }
            match self.chunks.recv_timeout(TURN) {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.at = 0;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn everything_written_is_read_until_the_writer_closes() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let never = || false;
        let mut input = Stoppable::over(Box::new(reader), &never);
        let text: Vec<u8> = (0..3 * CHUNK).map(|i| (i % 251) as u8).collect();
        let sent = text.clone();
        let writing = std::thread::spawn(move || writer.write_all(&sent).unwrap());
        let mut read = Vec::new();
        input.read_to_end(&mut read).unwrap();
        writing.join().unwrap();
        assert_eq!(read, text);
    }

    #[test]
    fn a_stop_ends_a_read_the_writer_leaves_waiting() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"first\n").unwrap();
        let stop = AtomicBool::new(false);
        let stopped = || stop.load(Ordering::Relaxed);
        let mut input = Stoppable::over(Box::new(reader), &stopped);
        let mut line = [0u8; 6];
        input.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"first\n");
        // The writer stays open and silent: only the stop ends the input.
        stop.store(true, Ordering::Relaxed);
        let mut rest = Vec::new();
        input.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        drop(writer);
    }
}
