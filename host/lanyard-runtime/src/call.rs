//! One card call: a fresh store with the call's limits and capabilities, the
//! guest's `run`, and every way it can end mapped to a [`CallOutcome`].

use crate::bindings::{CardPre, lanyard::card::types};
use crate::convert::{context_to_wit, error_from_wit};
use crate::host::{CallCx, Capabilities, HostState, Limiter, Mode};
use crate::limits::{LimitOverrides, Limits};
use crate::load::LoadedCard;
use crate::stdio::{Capture, LogSink, Stream, WallClock};
use crate::Inner;
use lanyard_core::history::{Effect, LogLine};
use lanyard_core::{CallContext, CardError, ErrorKind, Grants};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::WasiCtxBuilder;

/// The JSON input of a call: a value, or text the caller already has (passed
/// to the card as is; the card reports `invalid-input` if it is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Json(Value),
    Text(String),
}

impl From<Value> for Input {
    fn from(v: Value) -> Self {
        Input::Json(v)
    }
}

impl From<String> for Input {
    fn from(s: String) -> Self {
        Input::Text(s)
    }
}

impl From<&str> for Input {
    fn from(s: &str) -> Self {
        Input::Text(s.to_string())
    }
}

/// One call of a card.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub ctx: CallContext,
    pub input: Input,
    /// What this card may do in this call (deny by default). The caller decides
    /// them, typically `configured.intersect(&card.info().requested_grants())`.
    pub grants: Arc<Grants>,
    pub caps: Capabilities,
    pub limits: LimitOverrides,
}

impl CallRequest {
    /// A call with no grants, no capabilities and the default limits.
    pub fn new(ctx: CallContext, input: impl Into<Input>) -> Self {
        CallRequest {
            ctx,
            input: input.into(),
            grants: Arc::new(Grants::none()),
            caps: Capabilities::none(),
            limits: LimitOverrides::default(),
        }
    }
}

/// How a call ended, and what it did on the way.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The card's JSON output, or why there is none: the card's own error,
    /// a capability's error it passed on, or a limit or trap.
    pub result: Result<Value, CardError>,
    pub fuel_used: u64,
    pub duration: Duration,
    /// Log lines, then stdout and stderr lines, in order, within the log cap.
    pub logs: Vec<LogLine>,
    /// In a dry run: the writes that were recorded instead of done.
    pub effects: Vec<Effect>,
    /// Capability calls refused for a missing grant, one line each.
    pub denied: Vec<String>,
}

/// The longest card error message kept; the rest is cut.
const MAX_MESSAGE: usize = 4 << 10;

struct StoreParts {
    label: Arc<str>,
    mode: Mode,
    run_id: String,
    caps: Capabilities,
    grants: Arc<Grants>,
    dry_run: bool,
}

fn new_store(inner: &Inner, parts: StoreParts, limits: &Limits, logs: &Arc<LogSink>, deadline: Instant) -> Store<HostState> {
    // Nothing ambient: no preopens, no environment, no arguments, no network
    // (every socket address is refused and name lookup is off), and the wall
    // clock is the host's `Clock`.
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(Capture::new(logs.clone(), Stream::Stdout))
        .stderr(Capture::new(logs.clone(), Stream::Stderr))
        .wall_clock(WallClock(parts.caps.clock.clone()))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    let max_memory = limits.memory_bytes.min(inner.config.max_memory_bytes);
    let state = HostState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: Limiter {
            max_memory: usize::try_from(max_memory).unwrap_or(usize::MAX),
            hit: false,
        },
        cx: CallCx {
            mode: parts.mode,
            card: parts.label,
            run_id: parts.run_id,
            caps: parts.caps,
            grants: parts.grants,
            dry_run: parts.dry_run,
            deadline,
            logs: logs.clone(),
            effects: Vec::new(),
            denied: Vec::new(),
        },
    };
    let mut store = Store::new(&inner.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(limits.fuel).expect("fuel is enabled in the engine");
    // Guest code checks the deadline at every epoch tick and yields to the
    // executor, so the timeout around the call can also fire while the guest
    // spins.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

pub(crate) async fn call(inner: &Inner, card: &LoadedCard, request: CallRequest) -> CallOutcome {
    let span = tracing::debug_span!("card.call", card = %card.label, run = %request.ctx.run_id, step = %request.ctx.step);
    call_in_span(inner, card, request).instrument(span).await
}

async fn call_in_span(inner: &Inner, card: &LoadedCard, request: CallRequest) -> CallOutcome {
    let start = Instant::now();
    let limits = request.limits.apply(&inner.config.default_limits);
    let deadline = start + limits.deadline;

    let input = match request.input {
        Input::Json(v) => serde_json::to_string(&v).expect("a JSON value serializes"),
        Input::Text(s) => s,
    };
    if input.len() > limits.max_input_bytes {
        return CallOutcome {
            result: Err(CardError::new(
                ErrorKind::TooLarge,
                format!(
                    "the input is {} bytes, over the limit of {} bytes",
                    input.len(),
                    limits.max_input_bytes
                ),
            )),
            fuel_used: 0,
            duration: start.elapsed(),
            logs: Vec::new(),
            effects: Vec::new(),
            denied: Vec::new(),
        };
    }

    let logs = Arc::new(LogSink::new(limits.max_log_bytes));
    let parts = StoreParts {
        label: card.label.clone(),
        mode: Mode::Run,
        run_id: request.ctx.run_id.clone(),
        caps: request.caps,
        grants: request.grants,
        dry_run: request.ctx.dry_run,
    };
    let mut store = new_store(inner, parts, &limits, &logs, deadline);
    let ctx = context_to_wit(&request.ctx);
    let pre = &card.pre;
    let run = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance.call_run(&mut store, &ctx, &input).await
    };
    // The timeout covers host calls too: a capability that never answers ends
    // the call at its deadline, and dropping the future drops the instance.
    let result = tokio::time::timeout_at(deadline.into(), run).await;
    let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    let result = match result {
        Err(_elapsed) => Err(deadline_error(&limits, &logs, None)),
        Ok(Err(e)) => Err(classify(e, store.data().limiter.hit, &limits, &logs)),
        Ok(Ok(Err(e))) => Err(card_error(e)),
        Ok(Ok(Ok(output))) => parse_output(output, &limits),
    };
    let HostState { cx, .. } = store.into_data();
    let outcome = CallOutcome {
        result,
        fuel_used,
        duration: start.elapsed(),
        logs: logs.finish(),
        effects: cx.effects,
        denied: cx.denied,
    };
    if let Err(e) = &outcome.result {
        tracing::debug!(kind = %e.kind, message = %e.message, "card call failed");
    }
    outcome
}

/// `describe()`, run to completion on this thread. Every import is denied, so
/// nothing in it waits on I/O; the epoch deadline bounds it.
pub(crate) fn describe(
    inner: &Inner,
    pre: &CardPre<HostState>,
    label: Arc<str>,
    request: CallRequest,
    limits: &Limits,
) -> Result<types::CardInfo, CardError> {
    let deadline = Instant::now() + limits.deadline;
    let logs = Arc::new(LogSink::new(limits.max_log_bytes));
    let parts = StoreParts {
        label,
        mode: Mode::Describe,
        run_id: request.ctx.run_id.clone(),
        caps: request.caps,
        grants: request.grants,
        dry_run: false,
    };
    let mut store = new_store(inner, parts, limits, &logs, deadline);
    let result = futures::executor::block_on(async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance.call_describe(&mut store).await
    });
    result.map_err(|e| classify(e, store.data().limiter.hit, limits, &logs))
}

fn card_error(e: types::CardError) -> CardError {
    let mut e = error_from_wit(e);
    if e.message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !e.message.is_char_boundary(cut) {
            cut -= 1;
        }
        e.message.truncate(cut);
        e.message.push_str("...");
    }
    e
}

fn parse_output(output: String, limits: &Limits) -> Result<Value, CardError> {
    if output.len() > limits.max_output_bytes {
        return Err(CardError::new(
            ErrorKind::TooLarge,
            format!(
                "the output is {} bytes, over the limit of {} bytes",
                output.len(),
                limits.max_output_bytes
            ),
        ));
    }
    serde_json::from_str(&output).map_err(|e| {
        let mut start = output.clone();
        start.truncate(start.char_indices().nth(200).map_or(start.len(), |(i, _)| i));
        CardError::new(ErrorKind::BadOutput, format!("the card's output is not JSON: {e}"))
            .with_detail(format!("output starts with: {start}"))
    })
}

fn deadline_error(limits: &Limits, logs: &LogSink, backtrace: Option<String>) -> CardError {
    let e = CardError::new(
        ErrorKind::Deadline,
        format!("the call ran past its deadline of {:?}", limits.deadline),
    );
    with_detail(e, logs, backtrace)
}

/// A trap, a limit or a host failure, as the kind the flow sees.
fn classify(error: wasmtime::Error, memory_hit: bool, limits: &Limits, logs: &LogSink) -> CardError {
    let backtrace = error.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
    let trap = error.downcast_ref::<Trap>().copied();
    let (kind, message) = if memory_hit {
        (
            ErrorKind::MemoryLimit,
            format!("the card tried to use more than its memory limit of {} bytes", limits.memory_bytes),
        )
    } else {
        match trap {
            Some(Trap::OutOfFuel) => (
                ErrorKind::FuelExhausted,
                format!("the card used up its fuel ({} units)", limits.fuel),
            ),
            Some(Trap::StackOverflow) => (ErrorKind::StackOverflow, "the card overflowed its stack".to_string()),
            Some(Trap::Interrupt) => return deadline_error(limits, logs, backtrace),
            Some(Trap::UnreachableCodeReached) => match panic_line(&logs.stderr_tail()) {
                Some(line) => (ErrorKind::Trap, line),
                None => (ErrorKind::Trap, "the card trapped: wasm `unreachable` executed (an abort)".to_string()),
            },
            Some(trap) => (ErrorKind::Trap, format!("the card trapped: {trap}")),
            None => {
                let text = format!("{error:#}");
                if text.contains("concurrent") && text.contains("limit") {
                    let e = CardError::new(ErrorKind::Unavailable, format!("no free instance slot: {text}"))
                        .with_retryable(true);
                    return e;
                }
                (ErrorKind::Trap, format!("the card failed: {text}"))
            }
        }
    };
    with_detail(CardError::new(kind, message), logs, backtrace)
}

/// The panic line the SDK's hook (or Rust's default hook) wrote to stderr.
fn panic_line(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some(pos) = line.find("panicked at") {
            let mut text = line[pos..].trim_end().to_string();
            // Rust's default hook puts the message on the next line.
            if text.ends_with(':') {
                if let Some(next) = lines.next() {
                    text.push(' ');
                    text.push_str(next.trim());
                }
            }
            text.truncate(text.char_indices().nth(500).map_or(text.len(), |(i, _)| i));
            return Some(format!("the card {text}"));
        }
    }
    None
}

fn with_detail(e: CardError, logs: &LogSink, backtrace: Option<String>) -> CardError {
    let stderr = logs.stderr_tail();
    let mut detail = String::new();
    if !stderr.trim().is_empty() {
        detail.push_str("stderr:\n");
        detail.push_str(stderr.trim_end());
        detail.push('\n');
    }
    if let Some(bt) = backtrace {
        if !detail.is_empty() {
            detail.push('\n');
        }
        detail.push_str(bt.trim_end());
    }
    if detail.is_empty() { e } else { e.with_detail(detail) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn panic_lines_from_the_sdk_hook_and_the_default_hook() {
        assert_eq!(
            super::panic_line("card panicked at src/lib.rs:3:5: boom\n").as_deref(),
            Some("the card panicked at src/lib.rs:3:5: boom")
        );
        assert_eq!(
            super::panic_line("thread 'main' panicked at src/lib.rs:3:5:\nboom\nnote: ...").as_deref(),
            Some("the card panicked at src/lib.rs:3:5: boom")
        );
        assert_eq!(super::panic_line("nothing here"), None);
    }
}
