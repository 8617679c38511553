//! What a card writes (log lines, stdout, stderr), captured into the call's log
//! under one byte cap, and the card's view of the wall clock.
//!
//! Capture never fails a write: past the cap lines are dropped and counted, so a
//! chatty card keeps running and `println!` never panics in the guest. The last
//! few KiB of stderr are also kept apart from the cap, because that is where a
//! panic message lands and the error detail needs it.

use bytes::Bytes;
use lanyard_core::Clock;
use lanyard_core::history::LogLine;
use serde_json::Value;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// A line longer than this without a newline is cut into pieces.
const MAX_LINE: usize = 8 << 10;
/// How much of the end of stderr is kept for the error detail.
const STDERR_TAIL: usize = 8 << 10;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Default)]
struct Buf {
    lines: Vec<LogLine>,
    used: usize,
    dropped_lines: usize,
    dropped_bytes: usize,
    partial: [Vec<u8>; 2],
    stderr_tail: Vec<u8>,
}

/// The log of one call.
#[derive(Debug)]
pub(crate) struct LogSink {
    cap: usize,
    buf: Mutex<Buf>,
}

impl LogSink {
    pub fn new(cap: usize) -> Self {
        LogSink {
            cap,
            buf: Mutex::new(Buf::default()),
        }
    }

    pub fn line(&self, level: &str, message: String, fields: Option<Value>) {
        let mut buf = self.buf.lock().unwrap();
        push(&mut buf, self.cap, level, message, fields);
    }

    fn write(&self, stream: Stream, bytes: &[u8]) {
        let mut guard = self.buf.lock().unwrap();
        let buf = &mut *guard;
        let (idx, level) = match stream {
            Stream::Stdout => (0, "stdout"),
            Stream::Stderr => (1, "stderr"),
        };
        if let Stream::Stderr = stream {
            buf.stderr_tail.extend_from_slice(bytes);
            if buf.stderr_tail.len() > STDERR_TAIL {
                let cut = buf.stderr_tail.len() - STDERR_TAIL;
                buf.stderr_tail.drain(..cut);
            }
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let partial = &mut buf.partial[idx];
            match rest.iter().position(|&b| b == b'\n') {
                Some(pos) => {
                    partial.extend_from_slice(&rest[..pos]);
                    rest = &rest[pos + 1..];
                    let line = std::mem::take(partial);
                    push(buf, self.cap, level, lossy(line), None);
                }
                None => {
                    partial.extend_from_slice(rest);
                    rest = &[];
                    if partial.len() >= MAX_LINE {
                        let line = std::mem::take(partial);
                        push(buf, self.cap, level, lossy(line), None);
                    }
                }
            }
        }
    }

    /// The last few KiB of stderr, whatever the cap.
    pub fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap().stderr_tail).into_owned()
    }

    /// The lines, with unfinished stdout/stderr lines flushed and a note of
    /// what the cap dropped.
    pub fn finish(&self) -> Vec<LogLine> {
        let mut guard = self.buf.lock().unwrap();
        let buf = &mut *guard;
        for (idx, level) in [(0, "stdout"), (1, "stderr")] {
            let line = std::mem::take(&mut buf.partial[idx]);
            if !line.is_empty() {
                push(buf, self.cap, level, lossy(line), None);
            }
        }
        let mut lines = std::mem::take(&mut buf.lines);
        if buf.dropped_lines > 0 {
            lines.push(LogLine {
                level: "warn".to_string(),
                message: format!(
                    "{} log lines ({} bytes) over the cap of {} bytes were dropped",
                    buf.dropped_lines, buf.dropped_bytes, self.cap
                ),
                fields: None,
            });
        }
        lines
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn push(buf: &mut Buf, cap: usize, level: &str, message: String, fields: Option<Value>) {
    let size = message.len() + fields.as_ref().map_or(0, |_| 32);
    if buf.used + size > cap {
        buf.dropped_lines += 1;
        buf.dropped_bytes += message.len();
        return;
    }
    buf.used += size;
    buf.lines.push(LogLine {
        level: level.to_string(),
        message,
        fields,
    });
}

/// A card's stdout or stderr.
#[derive(Clone)]
pub(crate) struct Capture {
    sink: Arc<LogSink>,
    stream: Stream,
}

impl Capture {
    pub fn new(sink: Arc<LogSink>, stream: Stream) -> Self {
        Capture { sink, stream }
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.sink.write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 << 10)
    }
}

#[async_trait::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.sink.write(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The card's wall clock is the host's [`Clock`], so tests (and replays) can
/// control the time a card sees.
pub(crate) struct WallClock(pub Arc<dyn Clock>);

impl wasmtime_wasi::HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn now(&self) -> Duration {
        let now = self.0.now();
        let secs = now.timestamp();
        if secs < 0 {
            return Duration::ZERO;
        }
        Duration::new(secs as u64, now.timestamp_subsec_nanos())
    }
}
