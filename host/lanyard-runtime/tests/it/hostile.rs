//! One test per test card (enforced: `foreach_test_card!` names a test for each
//! card in cards/test/). Every hostile card must end in the right typed error
//! within its deadline, and the same runtime must run the next call.

use crate::support::*;
use lanyard_cards::test_cards;
use lanyard_core::{Clock, ErrorKind, ManualClock};
use lanyard_runtime::{CallOutcome, CallRequest, Capabilities, LimitOverrides, LoadError, Runtime, RuntimeConfig};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

macro_rules! tested {
    ($name:ident) => {
        #[allow(unused_imports)]
        use self::$name as _;
    };
}
lanyard_cards::foreach_test_card!(tested);

/// Slack for a loaded CI machine: the call must end by deadline + this.
const SLACK: Duration = Duration::from_secs(3);

fn with_limits(limits: LimitOverrides, input: serde_json::Value) -> CallRequest {
    CallRequest {
        limits,
        ..CallRequest::new(ctx(), input)
    }
}

#[tokio::test]
async fn infinite_loop() {
    let card = card(test_cards::INFINITE_LOOP);

    // Deadline first: fuel to spare.
    let deadline = Duration::from_millis(300);
    let limits = LimitOverrides { fuel: Some(u64::MAX / 2), deadline: Some(deadline), ..Default::default() };
    let start = Instant::now();
    let out = rt().call(&card, with_limits(limits, json!({}))).await;
    let took = start.elapsed();
    assert_eq!(err(&out).kind, ErrorKind::Deadline, "{:?}", out.result);
    assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
    assert!(out.fuel_used > 0);
    assert_next_call_works().await;

    // Fuel first: a deadline to spare.
    let limits = LimitOverrides { fuel: Some(5_000_000), deadline: Some(Duration::from_secs(30)), ..Default::default() };
    let out = rt().call(&card, with_limits(limits, json!({}))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::FuelExhausted, "{e:?}");
    assert!(!e.retryable);
    assert_eq!(out.fuel_used, 5_000_000);
    assert!(e.detail.as_deref().unwrap_or("").contains("infinite_loop"), "{e:?}");
    assert_next_call_works().await;
}

#[tokio::test]
async fn memory_hog() {
    let limits = LimitOverrides { memory_bytes: Some(32 << 20), ..Default::default() };
    let start = Instant::now();
    let out = rt().call(&card(test_cards::MEMORY_HOG), with_limits(limits, json!({}))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{e:?}");
    assert!(e.message.contains(&(32u64 << 20).to_string()), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(10) + SLACK);
    assert_next_call_works().await;

    // A step asking for more than the runtime allows gets the runtime's most,
    // and the message names the limit it really had.
    let small = runtime_with(RuntimeConfig { max_memory_bytes: 48 << 20, ..RuntimeConfig::default() });
    let card = small.load(test_cards::MEMORY_HOG).unwrap();
    let limits = LimitOverrides { memory_bytes: Some(4 << 30), ..Default::default() };
    let out = small.call(&card, with_limits(limits, json!({}))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{e:?}");
    assert_eq!(e.message, format!("the card tried to use more than its memory limit of {} bytes", 48u64 << 20));
}

#[tokio::test]
async fn deep_recursion() {
    let out = rt().call(&card(test_cards::DEEP_RECURSION), CallRequest::new(ctx(), json!({}))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::StackOverflow, "{e:?}");
    // The backtrace names the recursing function.
    assert!(e.detail.as_deref().unwrap_or("").contains("descend"), "{e:?}");
    assert_next_call_works().await;
}

#[tokio::test]
async fn huge_output() {
    let out = rt()
        .call(&card(test_cards::HUGE_OUTPUT), CallRequest::new(ctx(), json!({ "bytes": 4 << 20 })))
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e:?}");
    assert!(e.message.contains("output"), "{e:?}");

    // Under the cap it is just output.
    let out = rt()
        .call(&card(test_cards::HUGE_OUTPUT), CallRequest::new(ctx(), json!({ "bytes": 1000 })))
        .await;
    assert_eq!(out.result.unwrap().as_str().unwrap().len(), 1000);
    assert_next_call_works().await;
}

#[tokio::test]
async fn panic() {
    let out = rt()
        .call(&card(test_cards::PANIC), CallRequest::new(ctx(), json!({ "message": "boom 1234" })))
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Trap, "{e:?}");
    // The panic message and its location, for the card author.
    assert!(e.message.contains("boom 1234") && e.message.contains("src/lib.rs"), "{e:?}");
    let detail = e.detail.as_deref().unwrap();
    assert!(detail.contains("stderr:") && detail.contains("boom 1234"), "{detail}");
    // A symbolized backtrace with the card's own function and line.
    assert!(detail.contains("panic") && detail.contains("lib.rs:"), "{detail}");
    // What it printed before panicking is in the log.
    assert!(out.logs.iter().any(|l| l.level == "stdout" && l.message == "about to panic"), "{:?}", out.logs);
    assert_next_call_works().await;
}

#[tokio::test]
async fn read_file() {
    let out = rt()
        .call(&card(test_cards::READ_FILE), CallRequest::new(ctx(), json!({ "path": "/etc/passwd" })))
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Internal, "the card could read: {:?}", out.result);
    assert!(e.message.starts_with("read /etc/passwd:"), "{e:?}");
    assert_next_call_works().await;
}

#[tokio::test]
async fn env_var() {
    // The host process has a PATH; the card must not see it (nor anything else).
    assert!(std::env::var_os("PATH").is_some());
    let out = rt()
        .call(&card(test_cards::ENV_VAR), CallRequest::new(ctx(), json!({ "name": "PATH" })))
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Internal, "the card saw something: {:?}", out.result);
    assert_eq!(e.message, "no variable PATH, no environment, no arguments");
    assert_next_call_works().await;
}

#[tokio::test]
async fn open_socket() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let input = json!({ "addr": addr.to_string(), "name": format!("localhost:{}", addr.port()) });
    let out = rt().call(&card(test_cards::OPEN_SOCKET), CallRequest::new(ctx(), input)).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Internal, "the card reached the network: {:?}", out.result);
    assert!(e.message.starts_with("connect: "), "{e:?}");
    // Had a connection been made, the kernel would have completed it before
    // the card returned: nothing may be waiting to be accepted.
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the card connected: {other:?}"),
    }
    assert_next_call_works().await;
}

/// The caps card here plays the card whose host call never returns.
#[tokio::test]
async fn caps() {
    let caps = Capabilities { okta: Some(Arc::new(FakeOkta::hanging())), ..Capabilities::none() };
    let deadline = Duration::from_millis(300);
    let mut req = caps_call(json!({ "op": "get-user", "id": "00u1" }), grants(&["okta:okta.users.read"]), caps);
    req.limits.deadline = Some(deadline);
    let start = Instant::now();
    let out = rt().call(&caps_card(), req).await;
    let took = start.elapsed();
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Deadline, "{e:?}");
    assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
    assert_next_call_works().await;
}

// -- The registry's test cards (cards that must not be published, and the two
// versions of test.greeter). The registry's own tests, in lanyard-server, check
// the refusals it builds on these; here: what the runtime itself makes of them.

#[test]
fn describe_traps() {
    let e = rt().load(test_cards::DESCRIBE_TRAPS).unwrap_err();
    match &e {
        lanyard_runtime::LoadError::Describe(e) => {
            assert_eq!(e.kind, ErrorKind::Trap, "{e:?}");
            assert!(e.message.contains("describe() is broken on purpose") && e.message.contains("src/lib.rs"), "{e:?}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn describe_lies() {
    // The runtime checks only the shape; the registry refuses what is wrong.
    let card = card(test_cards::DESCRIBE_LIES);
    assert_eq!(card.info().name, "Acme..Offboard");
    assert_eq!(card.info().version, "latest");
}

#[test]
fn wrong_world() {
    let e = rt().load(test_cards::WRONG_WORLD).unwrap_err();
    assert!(e.to_string().contains("does not export `describe`"), "{e}");
}

#[test]
fn future_world() {
    let e = rt().load(test_cards::FUTURE_WORLD).unwrap_err();
    assert!(matches!(&e, lanyard_runtime::LoadError::IncompatibleVersion { found, .. } if found == "0.2.0"), "{e}");
}

#[tokio::test]
async fn greeter_v1() {
    let card = card(test_cards::GREETER_V1);
    assert_eq!(card.label(), "test.greeter@1.0.0");
    let out = rt().call(&card, CallRequest::new(ctx(), json!({ "name": "ada" }))).await;
    assert_eq!(out.result.unwrap(), json!({ "greeting": "hello, ada", "version": "1.0.0" }));
}

#[tokio::test]
async fn greeter_v2() {
    let card = card(test_cards::GREETER_V2);
    assert_eq!(card.label(), "test.greeter@1.1.0");
    assert!(card.info().requested_grants().allows_table("anything"));
    // Without a grant, its table write is denied (an error the card passes on).
    let out = rt().call(&card, CallRequest::new(ctx(), json!({ "name": "ada" }))).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied, "{:?}", out.result);
}

// -- Cards that wait in the host, exit, hold handles, or flood the host with
// text (issue 12).

/// A runtime of its own (a describe() deadline, a clock, a memory cap),
/// sharing the tests' compiled-card cache.
fn runtime_with(config: RuntimeConfig) -> Runtime {
    Runtime::new(RuntimeConfig { cache_dir: Some(cache_dir()), max_instances: 4, ..config }).expect("runtime starts")
}

/// `f` on a thread of its own, which must end within `bound`: a load or a
/// call that hangs fails the test instead of hanging it.
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound).unwrap_or_else(|_| panic!("still running after {bound:?}"))
}

fn describe_deadline(e: LoadError) -> lanyard_core::CardError {
    match e {
        LoadError::Describe(e) => {
            assert_eq!(e.kind, ErrorKind::Deadline, "{e:?}");
            e
        }
        other => panic!("{other}"),
    }
}

/// describe() sleeps in the host: the load ends with `deadline` at the
/// describe() deadline, and frees the thread it was called on (a tokio
/// blocking pool of one thread takes the next load).
#[test]
fn describe_sleeps() {
    let deadline = Duration::from_millis(500);
    let rt = runtime_with(RuntimeConfig {
        default_limits: lanyard_runtime::Limits { deadline, ..Default::default() },
        ..RuntimeConfig::default()
    });
    let pool = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    );
    for _ in 0..2 {
        let (rt, pool) = (rt.clone(), pool.clone());
        let start = Instant::now();
        let result = within(Duration::from_secs(60), move || {
            pool.block_on(pool.spawn_blocking(move || rt.load(test_cards::DESCRIBE_SLEEPS))).unwrap()
        });
        let took = start.elapsed();
        let e = describe_deadline(result.unwrap_err());
        assert_eq!(e.message, "the call ran past its deadline of 500ms", "{e:?}");
        assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
    }
    // Called from an async body too (it runs on a thread of its own).
    let e = pool.block_on(async { rt.load(test_cards::DESCRIBE_SLEEPS) }).unwrap_err();
    describe_deadline(e);
}

/// describe() answers today and sleeps once the host's clock is past 2100:
/// the same bytes load with the system clock and stall, cut off at the
/// deadline, with a clock past that date.
#[test]
fn clock_stall() {
    let today = card(test_cards::CLOCK_STALL);
    assert_eq!(today.label(), "test.clock-stall@1.0.0");
    let later: Arc<dyn Clock> = Arc::new(ManualClock::new("2100-01-02T00:00:00Z".parse().unwrap()));
    let rt = runtime_with(RuntimeConfig {
        default_limits: lanyard_runtime::Limits { deadline: Duration::from_millis(300), ..Default::default() },
        clock: later,
        ..RuntimeConfig::default()
    });
    let e = within(Duration::from_secs(60), move || rt.load(test_cards::CLOCK_STALL)).unwrap_err();
    describe_deadline(e);
}

/// run() waits in the host (a sleep, a pollable that never becomes ready):
/// the call ends at its deadline.
#[tokio::test]
async fn blocks() {
    let card = card(test_cards::BLOCKS);
    for how in ["sleep", "poll"] {
        let deadline = Duration::from_millis(300);
        let limits = LimitOverrides { deadline: Some(deadline), ..Default::default() };
        let start = Instant::now();
        let out = rt().call(&card, with_limits(limits, json!({ "how": how }))).await;
        let took = start.elapsed();
        assert_eq!(err(&out).kind, ErrorKind::Deadline, "{how}: {:?}", out.result);
        assert!(took >= deadline && took < deadline + SLACK, "{how}: took {took:?}");
    }
    assert_next_call_works().await;
}

/// One line to act on; the backtrace goes to the detail.
fn one_actionable_line(e: &lanyard_core::CardError) {
    assert!(!e.message.contains('\n') && !e.message.contains("backtrace"), "{e:?}");
    assert!(e.detail.as_deref().unwrap_or("").contains("wasm backtrace"), "{e:?}");
}

#[tokio::test]
async fn exits() {
    // wasi:cli/exit says success or failure (Rust's exit(3) is a failure: 1).
    for (code, status) in [(3, 1), (0, 0)] {
        let out = rt().call(&card(test_cards::EXITS), CallRequest::new(ctx(), json!({ "code": code }))).await;
        let e = err(&out);
        assert_eq!(e.kind, ErrorKind::Trap, "{e:?}");
        assert_eq!(e.message, format!("the card called exit({status}) instead of returning a result"));
        one_actionable_line(e);
        assert!(out.logs.iter().any(|l| l.message == format!("exiting with {code}")), "{:?}", out.logs);
    }
    assert_next_call_works().await;
}

#[tokio::test]
async fn handles() {
    let start = Instant::now();
    let out = rt().call(&card(test_cards::HANDLES), CallRequest::new(ctx(), json!({}))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Trap, "{e:?}");
    assert!(e.message.starts_with("the card holds too many handles at once (at most 16384"), "{e:?}");
    one_actionable_line(e);
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    assert_next_call_works().await;
}

/// What a call made the host keep, as its run record stores it.
fn record_size(out: &CallOutcome) -> usize {
    let error = out.result.as_ref().err();
    serde_json::to_string(&json!({ "logs": out.logs, "effects": out.effects, "denied": out.denied, "error": error }))
        .unwrap()
        .len()
}

/// Text of the card's making is all counted against one cap: past it, it is
/// dropped and counted with a note, and the call goes on.
#[tokio::test]
async fn flood() {
    let cap = rt().config().default_limits.max_record_bytes;
    // The cap, plus the notes and the JSON around the items.
    let bound = cap + 2048;
    let flood = card(test_cards::FLOOD);
    // Tables are there: a dry run compares a put with the row it would replace.
    let tables = crate::support::Fakes::new().caps();
    let call = |input: serde_json::Value, grants: &[&str], dry_run: bool| {
        let mut req = caps_call(input, crate::support::grants(grants), tables.clone());
        req.ctx.dry_run = dry_run;
        let flood = flood.clone();
        async move { rt().call(&flood, req).await }
    };
    let note = |out: &CallOutcome, what: &str| {
        let last = out.logs.last().map(|l| l.message.clone()).unwrap_or_default();
        assert!(last.contains(what) && last.contains("were dropped") && last.contains("max_record_bytes"), "{last}");
    };

    // 64 denied reads of a table named with 1 MiB: each denial quotes the
    // name cut to a few hundred bytes.
    let out = call(json!({ "what": "denied-tables", "count": 64, "bytes": 1 << 20 }), &[], false).await;
    assert_eq!(out.result.as_ref().unwrap(), &json!(64));
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    assert_eq!(out.denied.len(), 64);
    assert!(out.denied.iter().all(|d| d.len() < 1024), "{}", out.denied[0]);
    assert!(out.denied[0].contains("...(1048324 more bytes): missing grant `table:xxx"), "{}", out.denied[0]);
    // More of them than the cap holds: the rest are counted.
    let out = call(json!({ "what": "denied-tables", "count": 256, "bytes": 1 << 20 }), &[], false).await;
    assert_eq!(out.result.as_ref().unwrap(), &json!(256));
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    assert!(out.denied.len() < 256);
    note(&out, "denied capability calls");

    // 64 denied GETs of a 1 MiB host name.
    let out = call(json!({ "what": "denied-urls", "count": 64, "bytes": 1 << 20 }), &[], false).await;
    assert_eq!(out.result.as_ref().unwrap(), &json!(64));
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    assert!(out.denied.iter().all(|d| d.len() < 1024), "{}", out.denied[0]);

    // 8 log lines with 4 MiB of fields each: counted at their size, not parsed.
    let out = call(json!({ "what": "log-fields", "count": 8, "bytes": 4 << 20 }), &[], false).await;
    assert_eq!(out.result.as_ref().unwrap(), &json!(8));
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    note(&out, "log lines");

    // 16 dry-run writes of 1 MiB rows.
    let out = call(json!({ "what": "dry-run-puts", "count": 16, "bytes": 1 << 20 }), &["table:t"], true).await;
    assert_eq!(out.result.as_ref().unwrap(), &json!(16));
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    assert!(out.effects.is_empty(), "a 1 MiB row is over the cap on its own");
    note(&out, "dry-run writes");

    // Small ones are kept, up to the cap.
    let out = call(json!({ "what": "dry-run-puts", "count": 1000, "bytes": 100 }), &["table:t"], true).await;
    assert!(!out.effects.is_empty() && out.effects.len() < 1000, "{}", out.effects.len());
    assert!(record_size(&out) < bound, "{} bytes", record_size(&out));
    note(&out, "dry-run writes");
    assert_next_call_works().await;
}

/// A newline in a denied table name is escaped in the host's log: the card
/// cannot forge a line there.
#[test]
fn a_newline_in_a_denied_name_forges_no_log_line() {
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    // The daemon's text format.
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let flood = card(test_cards::FLOOD);
    let out = tracing::subscriber::with_default(subscriber, || {
        let exec = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        exec.block_on(rt().call(&flood, CallRequest::new(ctx(), json!({ "what": "forged-denial" }))))
    });
    assert_eq!(out.denied.len(), 1, "{:?}", out.denied);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("capability call denied"), "{text}");
    assert!(text.contains("\\n2026-01-01T00:00:00.000000Z  INFO lanyard: FORGED"), "escaped: {text}");
    for line in text.lines() {
        assert!(!line.starts_with("2026-01-01T00:00:00.000000Z"), "a forged line: {line}\n{text}");
    }
}
