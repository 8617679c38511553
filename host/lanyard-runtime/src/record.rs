//! The record of one card call: everything the card can make the host keep —
//! its log lines and their fields, stdout and stderr, the capability calls
//! refused for a missing grant, the writes a dry run recorded, and the message
//! and detail of its error — under ONE byte budget,
//! [`Limits::max_record_bytes`](crate::Limits::max_record_bytes).
//!
//! Everything is counted at its real size (a log line's fields as the text the
//! card sent, an effect as its JSON). Past the budget, items are dropped and
//! counted, one fixed-size note per kind says so, and the call goes on: a
//! chatty card keeps running and `println!` never panics in the guest. The
//! last few KiB of stderr are kept apart from the budget, because that is
//! where a panic message lands and the error needs it.
//!
//! This module must not parse or copy card text bigger than what is left of
//! the budget, and must not log anything itself: the host decides what reaches
//! the daemon's log (see [`LogText`]).

use lanyard_core::history::{Effect, LogLine};
use lanyard_core::CardError;
use serde_json::Value;
use std::sync::Mutex;

/// A stdout/stderr line longer than this without a newline is cut into pieces.
const MAX_LINE: usize = 8 << 10;
/// How much of the end of stderr is kept for the error detail.
const STDERR_TAIL: usize = 8 << 10;
/// An error message keeps at least this much, whatever is left of the budget,
/// so a flow author always learns why the call failed.
const MIN_MESSAGE: usize = 512;
/// The longest error message kept.
const MAX_MESSAGE: usize = 4 << 10;
/// Card text quoted in a denial (a table name, a URL) is cut to this.
pub(crate) const MAX_QUOTED: usize = 256;
/// What the record spends on an item besides its text: the JSON around it as
/// the run's history stores it (`{"level":"info","message":...}`).
const ITEM_OVERHEAD: usize = 48;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Items of one kind that did not fit.
#[derive(Debug, Default, Clone, Copy)]
struct Dropped {
    items: usize,
    bytes: usize,
}

impl Dropped {
    fn add(&mut self, bytes: usize) {
        self.items += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

#[derive(Debug, Default)]
struct Buf {
    used: usize,
    lines: Vec<LogLine>,
    effects: Vec<Effect>,
    denied: Vec<String>,
    dropped_lines: Dropped,
    dropped_effects: Dropped,
    dropped_denials: Dropped,
    partial: [Vec<u8>; 2],
    stderr_tail: Vec<u8>,
}

impl Buf {
    fn left(&self, cap: usize) -> usize {
        cap.saturating_sub(self.used)
    }

    /// Take `size` bytes of the budget, if they are left.
    fn take(&mut self, cap: usize, size: usize) -> bool {
        if size > self.left(cap) {
            return false;
        }
        self.used += size;
        true
    }

    fn push_line(&mut self, cap: usize, level: &str, message: String) {
        let size = ITEM_OVERHEAD + json_text_len(&message);
        if self.take(cap, size) {
            self.lines.push(LogLine {
                level: level.to_string(),
                message,
                fields: None,
            });
        } else {
            self.dropped_lines.add(size);
        }
    }
}

/// What a finished call kept.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    /// Log lines, then stdout and stderr lines, in order; then a note per kind
    /// of item the budget dropped.
    pub logs: Vec<LogLine>,
    pub effects: Vec<Effect>,
    pub denied: Vec<String>,
    /// Denials that were not kept (nor logged by the host).
    pub denials_dropped: usize,
}

/// The record of one call. Shared by the call's imports and its stdout/stderr.
#[derive(Debug)]
pub(crate) struct Record {
    cap: usize,
    buf: Mutex<Buf>,
}

impl Record {
    pub fn new(cap: usize) -> Self {
        Record {
            cap,
            buf: Mutex::new(Buf::default()),
        }
    }

    fn buf(&self) -> std::sync::MutexGuard<'_, Buf> {
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What is left of the budget, in bytes.
    pub fn left(&self) -> usize {
        self.buf().left(self.cap)
    }

    /// A line through the `log` import. `fields` is the card's text; it is
    /// parsed only if the line fits.
    pub fn log(&self, level: &str, message: String, fields: Option<String>) {
        let mut buf = self.buf();
        let size = ITEM_OVERHEAD + json_text_len(&message) + fields.as_deref().map_or(0, json_text_len);
        if !buf.take(self.cap, size) {
            buf.dropped_lines.add(size);
            return;
        }
        let fields = fields.map(|f| serde_json::from_str(&f).unwrap_or(Value::String(f)));
        buf.lines.push(LogLine {
            level: level.to_string(),
            message,
            fields,
        });
    }

    /// A capability call refused for a missing grant. `false`: it did not fit
    /// (it is counted, and the host does not log it either).
    pub fn deny(&self, line: String) -> bool {
        let mut buf = self.buf();
        let size = ITEM_OVERHEAD + json_text_len(&line);
        if buf.take(self.cap, size) {
            buf.denied.push(line);
            true
        } else {
            buf.dropped_denials.add(size);
            false
        }
    }

    /// A write a dry run recorded. `hint` is the size of the card's text in it
    /// (checked before `args` is built, so text that cannot fit is never
    /// parsed); the effect is then counted at its JSON size. `false`: dropped.
    pub fn effect(&self, capability: &str, operation: String, hint: usize, args: impl FnOnce() -> Value) -> bool {
        let least = ITEM_OVERHEAD.saturating_add(operation.len()).saturating_add(hint);
        if least > self.left() {
            self.buf().dropped_effects.add(least);
            return false;
        }
        let args = args();
        let size = ITEM_OVERHEAD + json_text_len(capability) + json_text_len(&operation) + json_len(&args);
        let mut buf = self.buf();
        if !buf.take(self.cap, size) {
            buf.dropped_effects.add(size);
            return false;
        }
        buf.effects.push(Effect {
            capability: capability.to_string(),
            operation,
            args,
        });
        true
    }

    /// Bytes the card wrote to stdout or stderr.
    pub fn write(&self, stream: Stream, bytes: &[u8]) {
        let mut guard = self.buf();
        let buf = &mut *guard;
        let (idx, level) = match stream {
            Stream::Stdout => (0, "stdout"),
            Stream::Stderr => (1, "stderr"),
        };
        if let Stream::Stderr = stream {
            let keep = bytes.len().min(STDERR_TAIL);
            buf.stderr_tail.extend_from_slice(&bytes[bytes.len() - keep..]);
            if buf.stderr_tail.len() > STDERR_TAIL {
                let cut = buf.stderr_tail.len() - STDERR_TAIL;
                buf.stderr_tail.drain(..cut);
            }
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = MAX_LINE - buf.partial[idx].len();
            let (piece, newline) = match rest[..rest.len().min(room)].iter().position(|&b| b == b'\n') {
                Some(pos) => (&rest[..pos], true),
                None => (&rest[..rest.len().min(room)], false),
            };
            buf.partial[idx].extend_from_slice(piece);
            rest = &rest[piece.len() + usize::from(newline)..];
            if newline || buf.partial[idx].len() >= MAX_LINE {
                let line = std::mem::take(&mut buf.partial[idx]);
                buf.push_line(self.cap, level, lossy(line));
            }
        }
    }

    /// The last few KiB of stderr, whatever the budget.
    pub fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.buf().stderr_tail).into_owned()
    }

    /// The error, cut to what is left of the budget (its message keeps at
    /// least [`MIN_MESSAGE`] bytes), and counted.
    pub fn bound_error(&self, mut e: CardError) -> CardError {
        let mut buf = self.buf();
        let message_max = buf.left(self.cap).clamp(MIN_MESSAGE, MAX_MESSAGE);
        cut_in_place(&mut e.message, message_max);
        buf.used += json_text_len(&e.message);
        if let Some(detail) = &mut e.detail {
            let left = buf.left(self.cap);
            if left == 0 {
                e.detail = None;
            } else {
                cut_in_place(detail, left);
                buf.used += json_text_len(detail);
            }
        }
        e
    }

    /// Everything kept, with unfinished stdout/stderr lines flushed and a note
    /// of what the budget dropped.
    pub fn finish(&self) -> Kept {
        let mut guard = self.buf();
        let buf = &mut *guard;
        for (idx, level) in [(0, "stdout"), (1, "stderr")] {
            let line = std::mem::take(&mut buf.partial[idx]);
            if !line.is_empty() {
                buf.push_line(self.cap, level, lossy(line));
            }
        }
        let mut logs = std::mem::take(&mut buf.lines);
        for (what, d) in [
            ("log lines", buf.dropped_lines),
            ("denied capability calls", buf.dropped_denials),
            ("dry-run writes", buf.dropped_effects),
        ] {
            if d.items > 0 {
                logs.push(LogLine {
                    level: "warn".to_string(),
                    message: format!(
                        "{} {what} ({} bytes) were dropped: the call's record is capped at {} bytes ([limits] max_record_bytes)",
                        d.items, d.bytes, self.cap
                    ),
                    fields: None,
                });
            }
        }
        Kept {
            logs,
            effects: std::mem::take(&mut buf.effects),
            denied: std::mem::take(&mut buf.denied),
            denials_dropped: buf.dropped_denials.items,
        }
    }
}

/// The size of a value's JSON text, without writing it anywhere.
fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// The size of `s` as a JSON string, escapes included (a control character
/// takes six bytes): what storing it costs, not what it looks like.
fn json_text_len(s: &str) -> usize {
    s.len()
        + 2
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

fn lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Cut `s` to at most `max` bytes (on a character boundary), ending with `...`
/// when something was cut.
fn cut_in_place(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let at = floor_char_boundary(s, max.saturating_sub(3));
    s.truncate(at);
    s.push_str("...");
}

/// Card text quoted in a host message (a denied table name, a URL), cut to
/// `max` bytes with how much was left out.
pub(crate) fn quote(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return s.into();
    }
    let at = floor_char_boundary(s, max);
    format!("{}...({} more bytes)", &s[..at], s.len() - at).into()
}

/// Text a card controls, for the daemon's log: cut to a few hundred bytes and
/// escaped (quotes, newlines and control characters as `\n`, `\u{1b}`...), so
/// a card can neither flood the log nor forge a line in it. Use it (or `?`
/// Debug formatting) for every card-controlled field:
/// `tracing::warn!(table = %LogText(&name), ...)`.
pub struct LogText<'a>(pub &'a str);

impl std::fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", quote(self.0, MAX_QUOTED).as_ref())
    }
}

impl std::fmt::Debug for LogText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard_core::ErrorKind;

    #[test]
    fn one_budget_for_lines_denials_effects_and_the_error() {
        let r = Record::new(1000);
        r.log("info", "a".repeat(300), Some(r#"{"k": 1}"#.to_string()));
        assert!(r.deny("d".repeat(300)));
        assert!(r.effect("tables", "put t".into(), 10, || serde_json::json!({ "v": "x".repeat(200) })));
        let left = r.left();
        assert!(left < 1000 - 300 - 8 - 300 - 200 - 3 * ITEM_OVERHEAD, "{left}");
        // Nothing that does not fit is kept (nor parsed).
        r.log("info", "m".into(), Some("{".repeat(5000)));
        assert!(!r.deny("d".repeat(500)));
        assert!(!r.effect("tables", "put t".into(), 5000, || unreachable!("not built")));
        let e = r.bound_error(CardError::new(ErrorKind::Trap, "e".repeat(10_000)).with_detail("z".repeat(10_000)));
        assert_eq!(e.message.len(), MIN_MESSAGE);
        assert!(e.detail.is_none(), "nothing was left for the detail");
        let kept = r.finish();
        assert_eq!(kept.denied.len(), 1);
        assert_eq!(kept.effects.len(), 1);
        assert_eq!(kept.denials_dropped, 1);
        let notes: Vec<&str> = kept.logs.iter().filter(|l| l.level == "warn").map(|l| l.message.as_str()).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with(&format!("1 log lines ({} bytes) were dropped", ITEM_OVERHEAD + 3 + 5002)), "{notes:?}");
    }

    #[test]
    fn long_stdout_lines_are_cut_into_pieces() {
        let r = Record::new(1 << 20);
        r.write(Stream::Stdout, &vec![b'x'; MAX_LINE * 2 + 10]);
        r.write(Stream::Stdout, b"\nnext");
        let lines = r.finish().logs;
        let sizes: Vec<usize> = lines.iter().map(|l| l.message.len()).collect();
        assert_eq!(sizes, [MAX_LINE, MAX_LINE, 10, 4]);
    }

    #[test]
    fn log_text_escapes_and_cuts() {
        assert_eq!(LogText("a\nb\u{1b}[31m").to_string(), r#""a\nb\u{1b}[31m""#);
        let long = "x".repeat(1000);
        let shown = LogText(&long).to_string();
        assert!(shown.len() < 300 && shown.ends_with("...(744 more bytes)\""), "{shown}");
    }
}
