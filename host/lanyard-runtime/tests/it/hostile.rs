//! One test per test card (enforced: `foreach_test_card!` names a test for each
//! card in cards/test/). Every hostile card must end in the right typed error
//! within its deadline, and the same runtime must run the next call.

use crate::support::*;
use lanyard_cards::test_cards;
use lanyard_core::ErrorKind;
use lanyard_runtime::{CallRequest, Capabilities, LimitOverrides};
use serde_json::json;
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
    let caps = Capabilities { okta: Some(FakeOkta::hanging()), ..Capabilities::none() };
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
