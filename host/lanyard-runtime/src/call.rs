//! One card call: a fresh store with the call's limits and capabilities, the
//! guest's `run`, and every way it can end mapped to a [`CallOutcome`].

use crate::bindings::{CardPre, lanyard::card::types};
use crate::convert::{context_to_wit, error_from_wit};
use crate::capabilities::{CallCx, Capabilities, Mode};
use crate::state::{HostState, Limiter};
use crate::limits::Limits;
use lanyard_core::LimitOverrides;
use crate::load::LoadedCard;
use crate::record::{LogText, Record, Stream};
use crate::stdio::{Capture, WallClock};
use crate::Inner;
use lanyard_core::history::{Effect, LogLine};
use lanyard_core::{CallContext, CardError, ErrorKind, Grants};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;
use wasmtime::component::{ResourceTable, ResourceTableError};
use wasmtime::{Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

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
    /// Log lines, then stdout and stderr lines, in order, within the call's
    /// record cap (`Limits::max_record_bytes`), then a note of what the cap dropped.
    pub logs: Vec<LogLine>,
    /// In a dry run: the writes that were recorded instead of done (within the cap).
    pub effects: Vec<Effect>,
    /// Capability calls refused for a missing grant, one line each, card text
    /// in them cut to a few hundred bytes (within the cap).
    pub denied: Vec<String>,
}

/// The most handles (resources: pollables, streams) one call may hold at once.
/// wasmtime's default, a million, lets a card make the host hold hundreds of
/// MB; a card needs a handful.
const MAX_HANDLES: usize = 16 << 10;

struct StoreParts {
    label: Arc<str>,
    mode: Mode,
    run_id: String,
    caps: Capabilities,
    grants: Arc<Grants>,
    dry_run: bool,
}

/// The memory limit a call really gets: what it asks for, within the runtime's most.
fn memory_limit(inner: &Inner, limits: &Limits) -> u64 {
    limits.memory_bytes.min(inner.config.max_memory_bytes)
}

fn new_store(inner: &Inner, parts: StoreParts, limits: &Limits, record: &Arc<Record>, deadline: Instant) -> Store<HostState> {
    // Nothing ambient: no preopens, no environment, no arguments, no network
    // (every socket address is refused and name lookup is off), and the wall
    // clock is the host's `Clock`.
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(Capture::new(record.clone(), Stream::Stdout))
        .stderr(Capture::new(record.clone(), Stream::Stderr))
        .wall_clock(WallClock(parts.caps.clock.clone()))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_HANDLES);
    let state = HostState {
        wasi: wasi.build(),
        table,
        limiter: Limiter {
            max_memory: usize::try_from(memory_limit(inner, limits)).unwrap_or(usize::MAX),
            hit: false,
        },
        cx: CallCx {
            mode: parts.mode,
            card: parts.label,
            run_id: parts.run_id,
            grants: parts.grants,
            dry_run: parts.dry_run,
            deadline,
            record: record.clone(),
            writes: 0,
        },
        caps: parts.caps,
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
    let span = tracing::debug_span!("card.call", card = %LogText(&card.label), run = %LogText(&request.ctx.run_id), step = %LogText(&request.ctx.step));
    call_in_span(inner, card, request).instrument(span).await
}

async fn call_in_span(inner: &Inner, card: &LoadedCard, request: CallRequest) -> CallOutcome {
    let start = Instant::now();
    let limits = inner.config.default_limits.with(&request.limits);
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

    let record = Arc::new(Record::new(limits.max_record_bytes));
    let parts = StoreParts {
        label: card.label.clone(),
        mode: Mode::Run,
        run_id: request.ctx.run_id.clone(),
        caps: request.caps,
        grants: request.grants,
        dry_run: request.ctx.dry_run,
    };
    let mut store = new_store(inner, parts, &limits, &record, deadline);
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
    let memory_hit = store.data().limiter.hit;
    drop(store);
    let failure = Failure { limits: &limits, max_memory: memory_limit(inner, &limits), record: &record };
    let result = match result {
        Err(_elapsed) => Err(failure.deadline(None)),
        Ok(Err(e)) => Err(failure.classify(e, memory_hit)),
        Ok(Ok(Err(e))) => Err(error_from_wit(e)),
        Ok(Ok(Ok(output))) => parse_output(output, &limits),
    }
    .map_err(|e| record.bound_error(e));
    let kept = record.finish();
    if kept.denials_dropped > 0 {
        tracing::warn!(card = %LogText(&card.label), run = %LogText(&request.ctx.run_id), dropped = kept.denials_dropped, "more capability calls denied than the call's record holds; not logged one by one");
    }
    let outcome = CallOutcome {
        result,
        fuel_used,
        duration: start.elapsed(),
        logs: kept.logs,
        effects: kept.effects,
        denied: kept.denied,
    };
    if let Err(e) = &outcome.result {
        tracing::debug!(kind = %e.kind, message = %LogText(&e.message), "card call failed");
    }
    outcome
}

/// `describe()`, on a thread of its own driven by a tokio runtime of its own,
/// under the same wall-clock deadline as a call: a describe() that spins, or
/// that waits in the host (a WASI sleep, a pollable that never becomes
/// ready), ends with `deadline` and frees the thread. Its own thread, so it
/// can be called from any context (a blocking-pool thread, a plain thread, a
/// test's async body) and never blocks an executor it does not own.
pub(crate) fn describe(
    inner: &Inner,
    pre: &CardPre<HostState>,
    label: Arc<str>,
    request: CallRequest,
    limits: &Limits,
) -> Result<types::CardInfo, CardError> {
    let run = || -> Result<types::CardInfo, CardError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| CardError::internal(format!("cannot start describe()'s executor: {e}")))?;
        let deadline = Instant::now() + limits.deadline;
        let record = Arc::new(Record::new(limits.max_record_bytes));
        let parts = StoreParts {
            label,
            mode: Mode::Describe,
            run_id: request.ctx.run_id.clone(),
            caps: request.caps,
            grants: request.grants,
            dry_run: false,
        };
        let result = runtime.block_on(async {
            let mut store = new_store(inner, parts, limits, &record, deadline);
            let describe = async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance.call_describe(&mut store).await
            };
            let result = tokio::time::timeout_at(deadline.into(), describe).await;
            (result, store.data().limiter.hit)
        });
        // A host wait it was cut off in may have left work on the executor;
        // none of it may hold the thread.
        runtime.shutdown_background();
        let failure = Failure { limits, max_memory: memory_limit(inner, limits), record: &record };
        match result {
            (Err(_elapsed), _) => Err(failure.deadline(None)),
            (Ok(Err(e)), memory_hit) => Err(failure.classify(e, memory_hit)),
            (Ok(Ok(info)), _) => Ok(info),
        }
        .map_err(|e| record.bound_error(e))
    };
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("lanyard-describe".to_string())
            .spawn_scoped(s, run)
            .map_err(|e| CardError::internal(format!("cannot start a thread for describe(): {e}")))?
            .join()
            .unwrap_or_else(|_| Err(CardError::internal("describe() panicked the host")))
    })
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

/// How a call that did not return ended, as the error the flow sees: one
/// line to act on, with the card's stderr, the host's error chain and the
/// wasm backtrace in `detail`.
struct Failure<'a> {
    limits: &'a Limits,
    /// The memory limit the call really had.
    max_memory: u64,
    record: &'a Record,
}

impl Failure<'_> {
    fn deadline(&self, backtrace: Option<String>) -> CardError {
        let e = CardError::new(
            ErrorKind::Deadline,
            format!("the call ran past its deadline of {:?}", self.limits.deadline),
        );
        self.with_detail(e, None, backtrace)
    }

    /// A trap, a limit or a host failure, as the kind the flow sees.
    fn classify(&self, error: wasmtime::Error, memory_hit: bool) -> CardError {
        let backtrace = error.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
        let trap = error.downcast_ref::<Trap>().copied();
        // What the host said, without the backtrace wasmtime wraps around it.
        let cause = error.root_cause().to_string();
        let first_line = cause.lines().next().unwrap_or_default().to_string();
        let chain = (error.chain().count() > 1).then(|| format!("{error:#}"));
        let (kind, message) = if memory_hit {
            (
                ErrorKind::MemoryLimit,
                format!("the card tried to use more than its memory limit of {} bytes", self.max_memory),
            )
        } else if let Some(exit) = error.downcast_ref::<I32Exit>() {
            (
                ErrorKind::Trap,
                format!("the card called exit({}) instead of returning a result", exit.0),
            )
        } else if error.downcast_ref::<ResourceTableError>().is_some() {
            (
                ErrorKind::Trap,
                format!(
                    "the card holds too many handles at once (at most {MAX_HANDLES}: pollables, streams...): {first_line}; drop the ones it no longer needs"
                ),
            )
        } else {
            match trap {
                Some(Trap::OutOfFuel) => (
                    ErrorKind::FuelExhausted,
                    format!("the card used up its fuel ({} units)", self.limits.fuel),
                ),
                Some(Trap::StackOverflow) => (ErrorKind::StackOverflow, "the card overflowed its stack".to_string()),
                Some(Trap::Interrupt) => return self.deadline(backtrace),
                Some(Trap::UnreachableCodeReached) => match panic_line(&self.record.stderr_tail()) {
                    Some(line) => (ErrorKind::Trap, line),
                    None => (ErrorKind::Trap, "the card trapped: wasm `unreachable` executed (an abort)".to_string()),
                },
                Some(trap) => (ErrorKind::Trap, format!("the card trapped: {trap}")),
                None => {
                    if cause.contains("concurrent") && cause.contains("limit") {
                        let e = CardError::new(ErrorKind::Unavailable, format!("no free instance slot: {first_line}"))
                            .with_retryable(true);
                        return e;
                    }
                    (ErrorKind::Trap, format!("the card hit a host limit or failed a host call: {first_line}"))
                }
            }
        };
        self.with_detail(CardError::new(kind, message), chain, backtrace)
    }

    /// The card's stderr, the host's error chain (when it says more than the
    /// message) and the backtrace, as the error's detail.
    fn with_detail(&self, e: CardError, chain: Option<String>, backtrace: Option<String>) -> CardError {
        let stderr = self.record.stderr_tail();
        let mut parts = Vec::new();
        if !stderr.trim().is_empty() {
            parts.push(format!("stderr:\n{}", stderr.trim_end()));
        }
        if let Some(chain) = chain {
            parts.push(format!("host error: {}", chain.trim_end()));
        } else if let Some(bt) = backtrace {
            parts.push(bt.trim_end().to_string());
        }
        if parts.is_empty() { e } else { e.with_detail(parts.join("\n\n")) }
    }
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
