//! The card registry: bad cards refused with their message and the registry
//! untouched; publish → flows use it without a restart; a new version reaches
//! only runs that start after it; pins by version and digest; grants pending →
//! refused → granted → working; removal refused while a flow uses the card;
//! the admin routes and their token.

use crate::support::*;
use lanyard_cards::test_cards;
use lanyard_runtime::Runtime;
use lanyard_server::registry::{self, GrantMode, GrantState, PublishError, Registry, RegistryError, RegistryOptions};
use lanyard_store::{CardSelector, Store, StoreOptions};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// A registry over a fresh store, compiling into a cache of its own: a
/// registry takes a refused or removed card's code out of its cache, which
/// must not reach into the tests' shared one while other tests use it.
fn registry_at(dir: &std::path::Path, max_card_bytes: usize) -> Registry {
    let store = Store::open_with(dir.join("data"), StoreOptions::default()).unwrap();
    let runtime = Runtime::new(lanyard_runtime::RuntimeConfig {
        cache_dir: Some(dir.join("cache")),
        max_instances: 8,
        ..Default::default()
    })
    .unwrap();
    Registry::new(Arc::new(store), runtime, RegistryOptions { max_card_bytes, ..Default::default() })
}

/// The same component with a custom section appended: other bytes (another
/// sha256), same card.
fn rebuilt(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm.to_vec();
    let name = b"rebuilt";
    let payload = b"2";
    out.push(0);
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(payload);
    out
}

fn digest(wasm: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(wasm))
}

fn cached_in(dir: &std::path::Path, digest: &str) -> bool {
    std::fs::read_dir(dir.join("cache"))
        .map(|d| d.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with(&format!("{digest}-"))))
        .unwrap_or(false)
}

#[tokio::test]
async fn bad_cards_are_refused_with_a_clear_message_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry_at(dir.path(), 64 << 20);
    let cached = |digest: &str| cached_in(dir.path(), digest);
    let v1 = reg.publish(test_cards::GREETER_V1.to_vec(), None).await.unwrap();
    assert!(v1.new);
    let before = reg.store().list_cards().await.unwrap();
    assert_eq!(before.len(), 1);

    let refuse = |wasm: Vec<u8>| {
        let reg = reg.clone();
        async move {
            let d = digest(&wasm);
            let e = reg.publish(wasm, None).await.unwrap_err();
            (e, d)
        }
    };

    let (e, _) = refuse(b"hello, I am a card".to_vec()).await;
    assert!(matches!(e, PublishError::NotWasm), "{e}");
    assert_eq!(e.to_string(), "not a WebAssembly file (it does not start with `\\0asm`)");

    let (e, _) = refuse(b"\0asm\x01\0\0\0".to_vec()).await;
    assert!(matches!(e, PublishError::CoreModule), "{e}");
    let m = e.to_string();
    assert!(m.contains("core WebAssembly module, not a component"), "{m}");
    assert!(m.contains("cargo build --target wasm32-wasip2") && m.contains("componentize-py") && m.contains("jco componentize"), "{m}");

    let (e, d) = refuse(test_cards::WRONG_WORLD.to_vec()).await;
    assert!(matches!(e, PublishError::WrongWorld(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "not a lanyard card: it does not export `describe` or `run` (it exports `render`); build it for the world \
         `lanyard:card/card@0.1.0` in wit/card.wit"
    );
    assert!(!cached(&d), "refused before compiling");

    let (e, d) = refuse(test_cards::FUTURE_WORLD.to_vec()).await;
    assert!(matches!(&e, PublishError::IncompatibleVersion { found } if found == "0.2.0"), "{e}");
    assert!(e.to_string().contains("built against lanyard:card@0.2.0") && e.to_string().contains("lanyard:card@0.1.x"), "{e}");
    assert!(!cached(&d));

    let (e, d) = refuse(test_cards::DESCRIBE_TRAPS.to_vec()).await;
    match &e {
        PublishError::DescribeFailed { message, detail } => {
            // The author's panic message and where it is.
            assert!(message.contains("describe() is broken on purpose"), "{message}");
            assert!(message.contains("describe-traps/src/lib.rs:"), "{message}");
            assert!(detail.as_deref().unwrap_or("").contains("stderr:"), "{detail:?}");
        }
        other => panic!("{other}"),
    }
    assert!(!cached(&d), "the refused card's compiled code is not kept");

    let (e, d) = refuse(test_cards::DESCRIBE_LIES.to_vec()).await;
    let PublishError::BadDescribe { problems } = &e else { panic!("{e}") };
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert!(problems[0].starts_with("name `Acme..Offboard` is not a card name"), "{}", problems[0]);
    assert!(problems[1].starts_with("version `latest` is not a semantic version"), "{}", problems[1]);
    assert!(problems[2].starts_with("the input schema is not a valid JSON Schema"), "{}", problems[2]);
    assert!(problems[3].starts_with("the output schema is not a valid JSON Schema"), "{}", problems[3]);
    assert!(problems[4].starts_with("grant `connection:`: names no connection"), "{}", problems[4]);
    assert!(e.to_string().contains("\n  - name `Acme..Offboard`"), "every problem is listed: {e}");
    assert!(!cached(&d));

    // A built-in's namespace (here: the built-in echo card itself).
    let (e, _) = refuse(lanyard_cards::builtin_card("echo").unwrap().wasm.to_vec()).await;
    assert!(matches!(e, PublishError::Reserved { .. }), "{e}");
    assert!(e.to_string().contains("`lanyard.echo` is in `lanyard.`") && e.to_string().contains("acme.echo"), "{e}");

    // Truncated: a component header, then half a card.
    let half = &test_cards::GREETER_V2[..test_cards::GREETER_V2.len() / 2];
    let (e, _) = refuse(half.to_vec()).await;
    assert!(matches!(e, PublishError::Invalid(_)), "{e}");

    // Versions never change: other bytes under a published name@version.
    let (e, d) = refuse(rebuilt(test_cards::GREETER_V1)).await;
    match &e {
        PublishError::VersionExists { name, version, existing } => {
            assert_eq!((name.as_str(), version.as_str()), ("test.greeter", "1.0.0"));
            assert_eq!(existing, &v1.card.digest);
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("give this build a new version"), "{e}");
    assert!(!cached(&d));

    // The wrong name for the route it was sent to.
    let e = reg.publish(test_cards::GREETER_V2.to_vec(), Some("test.other")).await.unwrap_err();
    assert!(matches!(e, PublishError::NameMismatch { .. }), "{e}");

    // Over the size cap, before anything else is looked at.
    let small = registry_at(tempfile::tempdir().unwrap().path(), 100_000);
    let e = small.publish(test_cards::GREETER_V2.to_vec(), None).await.unwrap_err();
    assert!(matches!(e, PublishError::TooLarge { max: 100_000, .. }), "{e}");

    assert_eq!(reg.store().list_cards().await.unwrap(), before, "the registry is untouched");

    // The same bytes again: nothing changes, and it says so.
    let again = reg.publish(test_cards::GREETER_V1.to_vec(), None).await.unwrap();
    assert!(!again.new);
    assert!(again.compiled_before);
    assert_eq!(reg.store().list_cards().await.unwrap(), before);
}

#[tokio::test]
async fn grants_are_only_ever_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry_at(dir.path(), 64 << 20);
    let p = reg.publish(test_cards::GREETER_V2.to_vec(), None).await.unwrap();
    assert_eq!(p.card.state, GrantState::Pending);
    assert_eq!(p.card.requested, vec!["table:*"]);
    assert_eq!(p.card.approve.as_deref(), Some("lanyard card grant test.greeter@1.1.0 table:<name>"));

    let latest = CardSelector::Latest;
    let e = reg
        .grant("test.greeter", &latest, &["okta:okta.users.read".parse().unwrap(), "mail".parse().unwrap()], GrantMode::Add, None)
        .await
        .unwrap_err();
    let RegistryError::GrantRefused { problems, .. } = &e else { panic!("{e}") };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(e.to_string().contains("`okta:okta.users.read`: it does not ask for this"), "{e}");
    assert!(e.to_string().contains("(it asks for: table:*)"), "{e}");
    assert_eq!(reg.store().list_cards().await.unwrap()[0].granted, None, "nothing was stored");

    let entry = reg.grant("test.greeter", &latest, &["table:greetings".parse().unwrap()], GrantMode::Add, None).await.unwrap();
    let view = reg.view(&entry, None);
    assert_eq!(view.state, GrantState::Granted);
    assert_eq!(view.effective, vec!["table:greetings"]);
    let entry = reg.grant("test.greeter", &latest, &["table:audit".parse().unwrap()], GrantMode::Add, None).await.unwrap();
    assert_eq!(reg.view(&entry, None).effective, vec!["table:audit", "table:greetings"]);
    let entry = reg.grant("test.greeter", &latest, &[], GrantMode::Replace, None).await.unwrap();
    let view = reg.view(&entry, None);
    assert_eq!((view.state, view.effective.len()), (GrantState::Partial, 0), "decided: nothing");

    let e = reg.grant("test.nothing", &latest, &[], GrantMode::Add, None).await.unwrap_err();
    assert_eq!(e.to_string(), "no card `test.nothing` is published");
    let e = reg
        .grant("test.greeter", &CardSelector::Version("9.9.9".into()), &[], GrantMode::Add, None)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "no published version of `test.greeter` matches `9.9.9` (published: 1.1.0)");
}

const GREET: &str = r#"
name: greet
description: Greet with whatever test.greeter is newest.
trigger: manual
steps:
  - id: hello
    card: test.greeter
    with: { name: "{{ event.who }}" }
  - return: "{{ hello }}"
"#;

const GREET_PINNED: &str = r#"
name: greet-pinned
description: Greet with test.greeter 1.0.x only.
trigger: manual
steps:
  - id: hello
    card: test.greeter@~1.0
    with: { name: "{{ event.who }}" }
  - return: "{{ hello }}"
"#;

const HELLO: &str = r#"
name: hello
description: Say hello.
trigger: manual
steps:
  - id: echo
    card: lanyard.echo
    with: { message: "hi" }
  - return: "{{ echo.message }}"
"#;

/// A flow that waits at an HTTP gate, then greets: a run in flight across a publish.
const GATED: &str = r#"
name: gated
description: Wait at the gate, then greet.
trigger: manual
steps:
  - id: gate
    card: http.request
    with: { connection: gate, method: GET, path: /open }
  - id: hello
    card: test.greeter
    with: { name: "{{ event.who }}" }
  - return: "{{ hello }}"
"#;

/// An HTTP server that answers each request only when the test says so.
struct Gate {
    port: u16,
    arrived: mpsc::Receiver<()>,
    open: mpsc::Sender<()>,
}

fn gate() -> Gate {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (arrived_tx, arrived) = mpsc::channel();
    let (open, open_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = arrived_tx.send(());
            if open_rx.recv().is_err() {
                return;
            }
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    Gate { port, arrived, open }
}

async fn run_flow(d: &Daemon, flow: &str, who: &str) -> Value {
    let (status, body) = d.admin_post(&format!("/api/v1/flows/{flow}/run?wait=true"), Some(json!({ "who": who }))).await;
    assert_eq!(status, 200, "{body}");
    body["run"].clone()
}

async fn put_card(d: &Daemon, name: &str, wasm: &[u8]) -> (u16, Value) {
    let r = d
        .http
        .put(d.url(&format!("/api/v1/cards/{name}")))
        .bearer_auth(ADMIN)
        .header("content-type", "application/wasm")
        .body(wasm.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn published_cards_reach_flows_without_a_restart_and_new_versions_only_new_runs() {
    let Gate { port, arrived, open } = gate();
    let d = daemon()
        .flow("hello.yaml", HELLO)
        .config(&format!(
            "[connections.gate]\nbase_url = \"http://127.0.0.1:{port}\"\nallow_private = true\n\n[cards.\"http.request\"]\ngrants = [\"connection:gate\"]\n"
        ))
        .start()
        .await;

    // Flows that need the card are written while the daemon runs; they load
    // with the publish (which reloads), not before.
    for (file, text) in [("greet.yaml", GREET), ("greet-pinned.yaml", GREET_PINNED), ("gated.yaml", GATED)] {
        std::fs::write(d.path().join("flows").join(file), text).unwrap();
    }
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 422, "test.greeter is not published yet: {body}");
    assert!(body["error"]["rendered"].as_str().unwrap().contains("test.greeter"), "{body}");

    let (status, body) = put_card(&d, "test.greeter", test_cards::GREETER_V1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["published"]["card"]["version"], "1.0.0");
    assert_eq!(body["published"]["card"]["state"], "none-needed");
    assert_eq!(body["reload"]["ok"], true, "{body}");
    let run = run_flow(&d, "greet", "ada").await;
    assert_eq!(run["output"], json!({ "greeting": "hello, ada", "version": "1.0.0" }), "{run}");

    // A run starts with 1.0.0 and waits at the gate while 1.1.0 is published.
    let engine = d.engine.clone();
    let in_flight = tokio::spawn(async move {
        let opts = lanyard_server::StartOptions {
            wait: true,
            timeout: Some(Duration::from_secs(60)),
            force: true,
            ..Default::default()
        };
        let started = engine
            .start_run("gated", lanyard_core::history::TriggerInfo::Manual, json!({ "who": "grace" }), opts)
            .await
            .unwrap();
        started.outcome.expect("the gated run ended")
    });
    tokio::task::spawn_blocking(move || arrived.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the gated run reached the gate");

    let (status, body) = put_card(&d, "test.greeter", test_cards::GREETER_V2).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["published"]["card"]["state"], "pending");
    assert_eq!(body["published"]["card"]["approve"], "lanyard card grant test.greeter@1.1.0 table:<name>");
    // Held: new runs keep using 1.0.0 until an operator decides.
    let run = run_flow(&d, "greet", "alan").await;
    assert_eq!(run["output"]["version"], "1.0.0", "{run}");

    let (status, body) = d.admin_post("/api/v1/cards/test.greeter/1.1.0/grants", Some(json!({ "grants": ["table:greetings"] }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["card"]["state"], "granted");
    assert_eq!(body["card"]["used_by"], json!(["gated", "greet"]));

    // A run that starts now gets 1.1.0 (and its grant: the row is written).
    let run = run_flow(&d, "greet", "alan").await;
    assert_eq!(run["output"], json!({ "greeting": "hi, alan", "version": "1.1.0", "recorded": true }), "{run}");
    let (status, row) = d.admin_get("/api/v1/tables/greetings/rows/alan").await;
    assert_eq!((status, &row["value"]), (200, &json!({ "greeting": "hi, alan" })));
    // A semver pin keeps its version.
    let run = run_flow(&d, "greet-pinned", "alan").await;
    assert_eq!(run["output"]["version"], "1.0.0", "{run}");

    // The run that started before 1.1.0 was published finishes with 1.0.0.
    open.send(()).unwrap();
    let run = in_flight.await.unwrap();
    assert_eq!(run.status, lanyard_core::history::RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.output, Some(json!({ "greeting": "hello, grace", "version": "1.0.0" })));
    let steps = d.engine.store().steps(&run.id).await.unwrap();
    let hello = steps.iter().find(|s| s.path.ends_with("hello")).unwrap();
    assert_eq!(hello.card.as_deref(), Some("test.greeter@1.0.0"), "{hello:?}");

    d.stop().await;
}

#[tokio::test]
async fn held_versions_digest_pins_and_removal_while_in_use() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    // Only 1.1.0, which needs a grant nobody has given: a step that can only
    // use it is refused with the command that approves it.
    let (status, body) = put_card(&d, "test.greeter", test_cards::GREETER_V2).await;
    assert_eq!(status, 201, "{body}");
    let v2 = body["published"]["card"]["digest"].as_str().unwrap().to_string();
    std::fs::write(d.path().join("flows/greet.yaml"), GREET).unwrap();
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = d.admin_post("/api/v1/flows/greet/run?wait=true", Some(json!({ "who": "ada" }))).await;
    assert_eq!(status, 200, "{body}");
    let run = &body["run"];
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["error"]["kind"], "denied", "{run}");
    let message = run["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("card test.greeter@1.1.0 is held until an operator decides on the grants it asks for (table:*)")
            && message.contains("`lanyard card grant test.greeter@1.1.0 table:<name>`"),
        "{message}"
    );

    // Granted through the API: the next run works, without a restart.
    let (status, body) = d.admin_post("/api/v1/cards/test.greeter/latest/grants", Some(json!({ "grants": ["table:greetings"] }))).await;
    assert_eq!(status, 200, "{body}");
    let run = run_flow(&d, "greet", "ada").await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"]["version"], "1.1.0");

    // Widening is refused, and says what the card asks for.
    let (status, body) =
        d.admin_post("/api/v1/cards/test.greeter/1.1.0/grants", Some(json!({ "grants": ["mail", "connection:nope"] }))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "grant_refused");
    assert_eq!(body["error"]["problems"].as_array().unwrap().len(), 3, "{body}");

    // 1.0.0 published later is older: unpinned flows stay on 1.1.0; a digest pin picks exactly one.
    let (status, body) = put_card(&d, "test.greeter", test_cards::GREETER_V1).await;
    assert_eq!(status, 201, "{body}");
    let v1 = body["published"]["card"]["digest"].as_str().unwrap().to_string();
    std::fs::write(
        d.path().join("flows/greet-digest.yaml"),
        GREET.replace("name: greet\n", "name: greet-digest\n").replace("card: test.greeter", &format!("card: test.greeter@sha256:{v1}")),
    )
    .unwrap();
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(run_flow(&d, "greet", "x").await["output"]["version"], "1.1.0");
    assert_eq!(run_flow(&d, "greet-digest", "x").await["output"]["version"], "1.0.0");

    // Removal is refused while a loaded flow resolves to the version, naming it.
    let r = d.http.delete(d.url("/api/v1/cards/test.greeter/1.1.0")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "in_use");
    assert_eq!(body["error"]["flows"], json!(["greet"]));
    assert_eq!(
        body["error"]["message"],
        "test.greeter@1.1.0 is used by a loaded flow: greet; change it (or pin another version) first"
    );
    let r = d.http.delete(d.url(&format!("/api/v1/cards/test.greeter/sha256:{v1}"))).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 409, "the digest pin uses 1.0.0");

    // Once the flows stop using it, it goes.
    std::fs::remove_file(d.path().join("flows/greet-digest.yaml")).unwrap();
    let (status, _) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200);
    let r = d.http.delete(d.url("/api/v1/cards/test.greeter/1.0.0")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = d.admin_get("/api/v1/cards/test.greeter").await;
    assert_eq!(status, 200);
    let versions: Vec<&str> = body["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.1.0"]);
    assert_eq!(body["versions"][0]["digest"], v2.as_str());
    assert_eq!(body["versions"][0]["used_by"], json!(["greet"]));
    d.stop().await;
}

/// Send a request head with no body (a Content-Length the server must refuse
/// before reading anything).
fn raw_put_head(addr: std::net::SocketAddr, path: &str, headers: &str) -> (u16, Value) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "PUT {path} HTTP/1.1\r\nhost: x\r\n{headers}\r\n").unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("null");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_registry_routes_need_the_admin_token_and_refuse_bad_cards() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let put = |token: Option<&'static str>, path: &str, ct: &'static str, body: &'static [u8]| {
        let mut r = d.http.put(d.url(path)).header("content-type", ct).body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let wasm = "application/wasm";
    let (status, body) = put(None, "/api/v1/cards/test.greeter", wasm, test_cards::GREETER_V1).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = put(Some(INVOKE), "/api/v1/cards/test.greeter", wasm, test_cards::GREETER_V1).await;
    assert_eq!(status, 401, "the invoke token is not the admin token");
    let r = d.http.delete(d.url("/api/v1/cards/test.greeter/1.0.0")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = d.http.post(d.url("/api/v1/cards/test.greeter/1.0.0/grants")).json(&json!({ "grants": [] })).send().await.unwrap();
    assert_eq!(r.status(), 401);

    let (status, body) = put(Some(ADMIN), "/api/v1/cards/test.greeter", wasm, b"not a card").await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("not_wasm")), "{body}");
    let (status, body) = put(Some(ADMIN), "/api/v1/cards/test.lies", wasm, test_cards::DESCRIBE_LIES).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("bad_describe")), "{body}");
    assert_eq!(body["error"]["problems"].as_array().unwrap().len(), 5, "{body}");
    let (status, body) = put(Some(ADMIN), "/api/v1/cards/test.traps", wasm, test_cards::DESCRIBE_TRAPS).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("describe_failed")), "{body}");
    assert!(body["error"]["detail"].as_str().unwrap().contains("stderr:"), "{body}");
    let (status, body) = put(Some(ADMIN), "/api/v1/cards/test.greeter", "application/json", b"{}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{body}");
    let (status, body) = put(Some(ADMIN), "/api/v1/cards/test.other", wasm, test_cards::GREETER_V1).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("name_mismatch")), "{body}");
    let (status, body) = put(Some(ADMIN), "/api/v1/cards/Not%20A%20Name", wasm, test_cards::GREETER_V1).await;
    assert_eq!(status, 400, "{body}");
    let addr = d.addr;
    let (status, body) = tokio::task::spawn_blocking(move || {
        raw_put_head(
            addr,
            "/api/v1/cards/test.greeter",
            &format!("authorization: Bearer {ADMIN}\r\ncontent-type: application/wasm\r\ncontent-length: {}\r\n", (64 << 20) + 1),
        )
    })
    .await
    .unwrap();
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("too_large")), "{body}");
    assert!(d.engine.store().list_cards().await.unwrap().is_empty(), "nothing was stored");

    // Publishing without naming the card; the same bytes again change nothing.
    let post = |body: &'static [u8]| {
        let r = d.http.post(d.url("/api/v1/cards")).bearer_auth(ADMIN).header("content-type", "application/wasm").body(body);
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = post(test_cards::GREETER_V1).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(test_cards::GREETER_V1).await;
    assert_eq!((status, &body["published"]["new"]), (200, &json!(false)), "{body}");

    let (status, body) = d.admin_get("/api/v1/cards/test.nothing").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = d.admin_get("/api/v1/cards/test.greeter/1.0.0").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["versions"][0]["used_by"], json!([]));
    let r = d.http.delete(d.url("/api/v1/cards/test.greeter/latest")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 400, "removal names an exact version");
    let r = d.http.patch(d.url("/api/v1/cards/test.greeter")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["allow"].to_str().unwrap()), (405, "GET, PUT"));
    let (_, cards) = d.admin_get("/api/v1/cards").await;
    let greeter = cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == "test.greeter").unwrap();
    assert_eq!((greeter["source"].as_str(), greeter["held"].as_bool()), (Some("registry"), Some(false)));
    d.stop().await;
}

#[tokio::test]
async fn a_card_published_without_a_daemon_is_compiled_for_it() {
    // `lanyard card publish` with no daemon: the store directly, compiling
    // into the cache the daemon reads; the daemon then loads without compiling.
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    std::fs::write(dir.path().join("flows/greet.yaml"), GREET).unwrap();
    let cfg = dir.path().join("lanyard.toml");
    std::fs::write(&cfg, config_text("")).unwrap();
    let config = lanyard_server::Config::load(&cfg).unwrap();
    {
        let store = Store::open_with(&config.server.data_dir, StoreOptions::default()).unwrap();
        let runtime = Runtime::new(registry::runtime_config(&config)).unwrap();
        let reg = Registry::new(Arc::new(store), runtime, RegistryOptions::from_config(&config));
        reg.publish(test_cards::GREETER_V1.to_vec(), None).await.unwrap();
        // Offline removal sees the flows on disk.
        let entries = reg.list().await.unwrap();
        let cards = registry::registry_card_set(entries.clone(), &config);
        let flows = registry::flows_on_disk(&config.server.flows_dir, &cards).unwrap();
        let used = registry::flows_using(&flows, &cards, "test.greeter", "1.0.0");
        assert_eq!(used, ["greet"]);
        let e = reg.remove(&entries[0], used).await.unwrap_err();
        assert!(matches!(e, RegistryError::InUse { .. }), "{e}");
    }
    let d = daemon().dir(dir).start().await;
    let before = d.engine.runtime().stats();
    let run = run_flow(&d, "greet", "ada").await;
    assert_eq!(run["output"]["version"], "1.0.0", "{run}");
    let after = d.engine.runtime().stats();
    assert_eq!(after.compiled, before.compiled, "the published card was not compiled again");
    assert_eq!(after.cache_hits, before.cache_hits + 1, "it was read from the cache");
    d.stop().await;
}

const STALL: &str = r#"
name: stall
description: Call the card whose describe() stalls once the clock is past 2100.
trigger: manual
steps:
  - id: stall
    card: test.clock-stall
  - return: "{{ stall.ok }}"
"#;

/// A card that behaved when it was published and stalls when the daemon loads
/// it (its describe() sleeps once the daemon's clock is past 2100): the load
/// is cut off at the deadline, once, and every run that needs it fails with
/// `deadline` instead of staying `running`, even more of them than there are
/// workers; other flows keep running; the card is listed as broken until it is
/// published again.
#[tokio::test]
async fn a_card_that_stalls_when_loaded_fails_its_runs_and_is_broken_until_published_again() {
    let clock = std::sync::Arc::new(lanyard_core::ManualClock::new(chrono::Utc::now()));
    let d = daemon()
        .flow("hello.yaml", HELLO)
        .config("[limits]\ntimeout = \"1s\"\n")
        .clock(clock.clone())
        .start()
        .await;
    let (status, body) = put_card(&d, "test.clock-stall", test_cards::CLOCK_STALL).await;
    assert_eq!(status, 201, "{body}");
    std::fs::write(d.path().join("flows/stall.yaml"), STALL).unwrap();
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{body}");

    clock.set("2100-01-02T00:00:00Z".parse().unwrap());
    let loads = || d.engine.runtime().stats().cache_hits + d.engine.runtime().stats().compiled;
    let loads_before = loads();
    // More runs that need the card than there are workers (8), and runs of
    // another flow among them.
    let mut runs = Vec::new();
    for i in 0..12 {
        let flow = if i % 4 == 3 { "hello" } else { "stall" };
        let (http, url) = (d.http.clone(), d.url(&format!("/api/v1/flows/{flow}/run?wait=true")));
        runs.push(tokio::spawn(async move {
            let r = http.post(url).bearer_auth(ADMIN).json(&json!({})).send().await.unwrap();
            let status = r.status().as_u16();
            (flow, status, r.json::<Value>().await.unwrap())
        }));
    }
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        let mut out = Vec::new();
        for r in runs {
            out.push(r.await.unwrap());
        }
        out
    })
    .await
    .expect("every run ended");
    for (flow, status, body) in &ended {
        assert_eq!(*status, 200, "{flow}: {body}");
        let run = &body["run"];
        if *flow == "hello" {
            assert_eq!(run["status"], "succeeded", "{run}");
        } else {
            assert_eq!(run["status"], "failed", "{run}");
            assert_eq!(run["error"]["kind"], "deadline", "{run}");
            let message = run["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("card test.clock-stall@1.0.0 is broken: its describe() failed when it was loaded (the call ran past its deadline of 1s)"),
                "{message}"
            );
        }
    }
    assert_eq!(loads(), loads_before + 1, "the card was loaded once, not once per run");

    // Listed as broken: the loaded card set, and the registry's view.
    let (_, cards) = d.admin_get("/api/v1/cards").await;
    let entry = cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == "test.clock-stall").unwrap();
    assert_eq!(entry["broken"]["kind"], "deadline", "{entry}");
    assert!(entry["broken"]["message"].as_str().unwrap().contains("is broken"), "{entry}");
    let (_, view) = d.admin_get("/api/v1/cards/test.clock-stall").await;
    assert!(view["versions"][0]["broken"].as_str().unwrap().contains("ran past its deadline"), "{view}");
    // A reload keeps the mark; the next run fails at once, without loading it again.
    let (status, _) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200);
    let run = run_flow(&d, "stall", "x").await;
    assert_eq!((run["status"].as_str(), run["error"]["kind"].as_str()), (Some("failed"), Some("deadline")), "{run}");
    assert_eq!(loads(), loads_before + 1, "a broken card is not loaded again");
    let r = d.http.get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // A restart keeps the mark too (the registry has it): the first run fails
    // at once instead of waiting out the same stalled load again.
    let dir = d.dir.clone();
    d.stop().await;
    let d = daemon().dir(dir).config("[limits]\ntimeout = \"1s\"\n").clock(clock.clone()).start().await;
    let loads = || d.engine.runtime().stats().cache_hits + d.engine.runtime().stats().compiled;
    let loads_before = loads();
    let run = run_flow(&d, "stall", "x").await;
    assert_eq!((run["status"].as_str(), run["error"]["kind"].as_str()), (Some("failed"), Some("deadline")), "{run}");
    assert!(run["error"]["message"].as_str().unwrap().contains("is broken"), "{run}");
    assert_eq!(loads(), loads_before, "a card marked broken before the restart is not loaded again");

    // Published again (now that it answers): no longer broken, and it runs.
    clock.set(chrono::Utc::now());
    let (status, body) = put_card(&d, "test.clock-stall", test_cards::CLOCK_STALL).await;
    assert_eq!((status, &body["published"]["new"]), (200, &json!(false)), "{body}");
    let (_, cards) = d.admin_get("/api/v1/cards").await;
    let entry = cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == "test.clock-stall").unwrap();
    assert!(entry.get("broken").is_none(), "{entry}");
    let run = run_flow(&d, "stall", "x").await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(run["output"] == json!(true) || run["output"] == json!("true"), "{run}");
    d.stop().await;
}

/// A card over the size cap is answered 413 while the client is still
/// sending it, and the client reads that answer, not a reset connection or a
/// broken pipe: by its Content-Length, or (chunked) as it arrives.
#[tokio::test]
async fn a_card_over_the_size_cap_is_answered_413_while_it_is_still_being_sent() {
    let d = daemon().flow("hello.yaml", HELLO).server("max_card_bytes = \"1MiB\"").start().await;
    assert_eq!(d.engine.config().server.max_card_bytes, 1 << 20);
    for size in [(1 << 20) + 1, 32 << 20] {
        let r = d
            .http
            .put(d.url("/api/v1/cards/test.big"))
            .bearer_auth(ADMIN)
            .header("content-type", "application/wasm")
            .body(vec![0u8; size])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{size} bytes: the client saw no answer: {e:?}"));
        assert_eq!(r.status(), 413, "{size} bytes");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_large", "{body}");
        assert_eq!(
            body["error"]["message"],
            "the card is larger than the registry takes: at most 1048576 bytes ([server] max_card_bytes)"
        );
    }
    let addr = d.addr;
    let answer = tokio::task::spawn_blocking(move || put_chunked(addr, "/api/v1/cards/test.big", 32 << 20)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    assert!(d.engine.store().list_cards().await.unwrap().is_empty(), "nothing was stored");
    d.stop().await;
}

/// PUT `total` bytes of zeros, chunked, then read the whole answer.
fn put_chunked(addr: std::net::SocketAddr, path: &str, total: usize) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ADMIN}\r\ncontent-type: application/wasm\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![0u8; 64 << 10];
    let mut sent = 0;
    while sent < total {
        write!(s, "{:x}\r\n", chunk.len()).unwrap();
        s.write_all(&chunk).unwrap_or_else(|e| panic!("the connection failed after {sent} bytes: {e}"));
        s.write_all(b"\r\n").unwrap();
        sent += chunk.len();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
