//! Cards in other languages, end to end: the Python `acme.jamf-offboard` card
//! (componentize-py) and the JavaScript `acme.zoom-deprovision` card (jco), as
//! their authors build them, published through the registry's admin API,
//! granted a connection, and run in an offboarding flow against local JAMF-like
//! and Zoom-like HTTP stand-ins that check every request. And the seed's own
//! offboarding flow with the JavaScript Zoom card and the Python
//! `acme.asana-offboard` card in place of their Rust twins, asserted exactly
//! as the Rust twins are (`offboarding::leavers_are_offboarded`).
//!
//! The test installs the pinned toolchains itself (`scripts/toolchains.sh`,
//! into `$LANYARD_TOOLCHAINS` or `~/.cache/lanyard-toolchains`) and builds each
//! card with its `build.sh`. Both are expensive, so the built card is kept under
//! `CARGO_TARGET_TMPDIR` keyed by the hash of its sources, build script, the
//! contract and the toolchain pins, and the compiled code in a card cache there
//! (or `$LANYARD_CACHE_DIR`): CI keeps both between runs with the target dir.

use lanyard_core::history::{RunRecord, RunStatus, TriggerInfo};
use lanyard_sandbox::{Script, ScriptedStandIn, ScriptedStandInHandle, StandInRequest};
use lanyard_server::{Config, Engine, EngineOptions, StartOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "polyglot-admin-token";
const JAMF_TOKEN: &str = "jamf-secret-token-7f3a";
const ZOOM_TOKEN: &str = "zoom-secret-token-91c2";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn card_cache() -> PathBuf {
    match std::env::var_os("LANYARD_CACHE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-e2e-card-cache"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Build a card with its build script (after installing its toolchain), or
/// take the one built from exactly these inputs before.
fn build_card(lang: &str, dir: &str, out_name: &str, sources: &[&str]) -> (PathBuf, Duration) {
    let started = Instant::now();
    let root = repo();
    let mut inputs = Vec::new();
    for f in sources.iter().map(|s| format!("cards/examples/{dir}/{s}")).chain([
        format!("cards/examples/{dir}/build.sh"),
        "wit/card.wit".to_string(),
        "cards/examples/toolchain/requirements.txt".to_string(),
        "cards/examples/toolchain/package-lock.json".to_string(),
        "scripts/toolchains.sh".to_string(),
    ]) {
        inputs.extend_from_slice(f.as_bytes());
        inputs.extend(std::fs::read(root.join(&f)).unwrap_or_else(|e| panic!("{f}: {e}")));
    }
    let key = &sha256_hex(&inputs)[..16];
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("polyglot").join(format!("{dir}-{key}"));
    let out = out_dir.join(out_name);
    if out.is_file() {
        eprintln!("polyglot: {lang} card {} (built before from the same sources)", out.display());
        return (out, started.elapsed());
    }
    std::fs::create_dir_all(&out_dir).unwrap();

    // The pinned toolchain, as an author would install it.
    let status = Command::new("bash")
        .arg(root.join("scripts/toolchains.sh"))
        .arg(lang)
        .status()
        .expect("run scripts/toolchains.sh");
    assert!(status.success(), "scripts/toolchains.sh {lang} failed ({status}); it needs python3 with venv (python) or node 18+ and npm (js), and the package registry");
    let status = Command::new("bash")
        .arg(root.join(format!("cards/examples/{dir}/build.sh")))
        .arg(&out)
        .status()
        .expect("run the card's build.sh");
    assert!(status.success(), "cards/examples/{dir}/build.sh failed ({status})");
    eprintln!("polyglot: built the {lang} card in {:.1?}", started.elapsed());
    (out, started.elapsed())
}

// -- HTTP stand-ins ----------------------------------------------------------

/// A stand-in on 127.0.0.1:0 that checks the bearer `token`, records every
/// request and answers with `script`.
async fn stand_in(token: &str, script: Arc<Script>) -> ScriptedStandInHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ScriptedStandIn::start(listener, token, script).expect("the stand-in starts")
}

// -- the daemon ---------------------------------------------------------------

struct Daemon {
    engine: Engine,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn daemon(flows: &[(&str, &str)], extra: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    for (file, text) in flows {
        std::fs::write(dir.path().join("flows").join(file), text).unwrap();
    }
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
data_dir = "data"
flows_dir = "flows"
cache_dir = "{cache}"
admin_token = {{ value = "{ADMIN}" }}
watch_flows = false

[okta]
sandbox = true

[cards."tables.put"]
grants = ["table:offboarding-audit"]
{extra}
"#,
        cache = card_cache().display()
    );
    let path = dir.path().join("lanyard.toml");
    std::fs::write(&path, config).unwrap();
    let config = Config::load(&path).unwrap();
    let engine = Engine::new(EngineOptions::new(config)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
    engine.start();
    tokio::time::timeout(Duration::from_secs(300), engine.wait_ready()).await.expect("the daemon got ready");
    assert!(engine.is_ready(), "{:?}", engine.reload_status().last_error);
    Daemon {
        engine,
        base,
        http: reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap(),
        _dir: dir,
    }
}

impl Daemon {
    /// Publish through the admin API (as `lanyard card publish` does while the
    /// daemon runs); the answer's `published` object and how long it took.
    async fn publish(&self, wasm: &Path) -> (Value, Duration) {
        let bytes = std::fs::read(wasm).unwrap();
        let started = Instant::now();
        let r = self
            .http
            .post(format!("{}/api/v1/cards", self.base))
            .bearer_auth(ADMIN)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["reload"]["ok"], true, "{body}");
        (body["published"].clone(), started.elapsed())
    }

    async fn grant(&self, card: &str, grants: &[&str]) -> Value {
        let r = self
            .http
            .post(format!("{}/api/v1/cards/{card}/latest/grants", self.base))
            .bearer_auth(ADMIN)
            .json(&json!({ "grants": grants }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body["card"].clone()
    }

    async fn reload(&self) {
        let r = self.http.post(format!("{}/api/v1/admin/reload", self.base)).bearer_auth(ADMIN).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
    }

    async fn run(&self, flow: &str, input: Value) -> RunRecord {
        let opts = StartOptions {
            wait: true,
            timeout: Some(Duration::from_secs(300)),
            force: true,
            ..StartOptions::default()
        };
        let started = self.engine.start_run(flow, TriggerInfo::Manual, input, opts).await.unwrap();
        started.outcome.expect("the run ended")
    }

    /// A seeded, active sandbox user with an email.
    fn leaver(&self) -> lanyard_core::okta::User {
        let org = &self.engine.sandbox().expect("the sandbox org").org;
        let mut users: Vec<_> =
            org.users().into_iter().filter(|u| u.status == "ACTIVE" && u.profile.get("email").is_some()).collect();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        users.into_iter().next().expect("a seeded user")
    }

    async fn stop(self) {
        self.engine.shutdown(Duration::from_secs(5)).await;
    }
}

fn history_text(steps: &[lanyard_core::history::StepRecord]) -> String {
    serde_json::to_string(steps).unwrap()
}

// -- Python: JAMF ---------------------------------------------------------------

const OFFBOARD_MACS: &str = r#"
name: offboard-macs
description: Offboarding's external-systems step for Macs, as a custom card.
trigger: manual
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.user }}" }
  - id: macs
    card: acme.jamf-offboard@1.0
    with:
      user: "{{ user }}"
      connection: jamf
      action: lock
      pin: "482913"
      message: "This Mac belongs to Acme IT. Please return it."
  - card: tables.put
    with:
      table: offboarding-audit
      key: "{{ user.id }}"
      value: { login: "{{ user.profile.login }}", macs_locked: "{{ macs.actions | length }}" }
  - return: "{{ macs }}"
"#;

#[tokio::test]
async fn a_python_card_offboards_macs_through_a_jamf_connection() {
    let started = Instant::now();
    let (wasm, build_time) = build_card("python", "python-jamf", "jamf_offboard.wasm", &["app.py", "offboard.py"]);

    let jamf = stand_in(JAMF_TOKEN, Arc::new(|r: &StandInRequest| match (r.method.as_str(), r.target.split('?').next().unwrap_or("")) {
        ("GET", "/api/v1/computers-inventory") => (
            200,
            json!({
                "totalCount": 2,
                "results": [
                    { "id": 17, "general": { "name": "Ada's MacBook Pro", "managementId": "mgmt-17", "lastContactTime": "2026-01-02T10:00:00Z" },
                      "hardware": { "serialNumber": "C02XK1" } },
                    { "id": 23, "general": { "name": "Lab Mac mini", "managementId": null }, "hardware": { "serialNumber": "C07LAB" } }
                ]
            }),
        ),
        ("POST", "/api/v2/mdm/commands") => (201, json!([{ "id": "cmd-9001", "href": "/api/v2/mdm/commands/cmd-9001" }])),
        _ => (404, json!({ "httpStatus": 404, "errors": [{ "code": "NOT_FOUND", "description": "no such route" }] })),
    }))
    .await;
    let d = daemon(
        &[],
        &format!(
            "[connections.jamf]\nbase_url = \"http://127.0.0.1:{}\"\nauth = {{ bearer = {{ value = \"{JAMF_TOKEN}\" }} }}\nallow_private = true\n",
            jamf.addr().port()
        ),
    )
    .await;

    let (published, publish_time) = d.publish(&wasm).await;
    let card = &published["card"];
    assert_eq!((card["name"].as_str(), card["version"].as_str()), (Some("acme.jamf-offboard"), Some("1.0.0")));
    assert_eq!(card["state"], "pending");
    assert_eq!(card["requested"], json!(["connection:*"]));
    assert_eq!(card["approve"], "lanyard card grant acme.jamf-offboard@1.0.0 connection:<name>");
    eprintln!(
        "polyglot: python card {} bytes, published (checked, compiled, described) in {publish_time:.1?}{}",
        card["size"],
        if published["compiled_before"] == true { " (compiled code cached before)" } else { "" }
    );

    std::fs::write(d._dir.path().join("flows/offboard-macs.yaml"), OFFBOARD_MACS).unwrap();
    d.reload().await;
    let leaver = d.leaver();
    let email = leaver.profile["email"].as_str().unwrap().to_string();

    // Pending: the step is refused before the card runs; JAMF hears nothing.
    let run = d.run("offboard-macs", json!({ "user": leaver.id })).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let e = run.error.as_ref().unwrap();
    assert_eq!(e.kind.as_str(), "denied");
    assert!(e.message.contains("acme.jamf-offboard@1.0.0 is held"), "{e:?}");
    assert!(jamf.requests().is_empty());

    let granted = d.grant("acme.jamf-offboard", &["connection:jamf"]).await;
    assert_eq!(granted["state"], "granted");

    let run_started = Instant::now();
    let run = d.run("offboard-macs", json!({ "user": leaver.id })).await;
    let run_time = run_started.elapsed();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let out = run.output.clone().unwrap();
    assert_eq!(out["email"], email.as_str());
    assert_eq!(out["devices"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(out["devices"][0], json!({ "id": "17", "name": "Ada's MacBook Pro", "serial": "C02XK1", "management_id": "mgmt-17", "last_contact": "2026-01-02T10:00:00Z" }));
    assert_eq!(out["actions"][0], json!({ "device_id": "17", "command": "DEVICE_LOCK", "command_id": "cmd-9001", "status": "sent" }));
    assert_eq!(out["actions"][1], json!({ "device_id": "23", "command": "DEVICE_LOCK", "status": "skipped", "reason": "not managed (no management id)" }));
    assert!(out.get("pin").is_none(), "the flow gave the PIN; the card generated none");

    // Exactly these requests, with the connection's credentials injected by the host.
    let seen = jamf.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    let filter = format!("userAndLocation.email%3D%3D%22{}%22", email.replace('@', "%40"));
    assert_eq!(
        seen[0].target,
        format!("/api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION&page=0&page-size=100&filter={filter}")
    );
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].target, "/api/v2/mdm/commands");
    assert_eq!(
        seen[1].json.clone().unwrap_or_default(),
        json!({
            "clientData": [{ "managementId": "mgmt-17" }],
            "commandData": { "commandType": "DEVICE_LOCK", "pin": "482913", "message": "This Mac belongs to Acme IT. Please return it." }
        })
    );
    for r in &seen {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {JAMF_TOKEN}").as_str()));
    }
    assert_eq!(seen[1].header("idempotency-key").unwrap(), format!("{}/macs/1/17", run.id));

    // The history: every step, the card's own log line, the audit row, no secret.
    let steps = d.engine.store().steps(&run.id).await.unwrap();
    let macs = steps.iter().find(|s| s.path == "macs").expect("the macs step");
    assert_eq!(macs.card.as_deref(), Some("acme.jamf-offboard@1.0.0"));
    assert!(macs.logs.iter().any(|l| l.message == format!("jamf has 2 computer(s) for {email}")), "{:?}", macs.logs);
    assert!(macs.fuel_used > 0);
    assert_eq!(steps.len(), 4, "{steps:#?}");
    assert!(!history_text(&steps).contains(JAMF_TOKEN), "the connection's secret never reaches the history");
    let row = d.engine.store().get("offboarding-audit", &leaver.id).await.unwrap().unwrap();
    assert_eq!(row["macs_locked"], 2);

    eprintln!(
        "polyglot: python end to end in {:.1?} (build {build_time:.1?}, publish {publish_time:.1?}, offboarding run {run_time:.1?})",
        started.elapsed()
    );
    d.stop().await;
}

// -- JavaScript: Zoom -------------------------------------------------------------

const OFFBOARD_ZOOM: &str = r#"
name: offboard-zoom
description: Offboarding's Zoom step, as a custom card.
trigger: manual
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.user }}" }
  - id: zoom
    card: acme.zoom-deprovision
    with: { user: "{{ user }}", connection: zoom }
  - return: "{{ zoom }}"
"#;

#[tokio::test]
async fn a_javascript_card_deprovisions_zoom_through_a_connection() {
    let started = Instant::now();
    let (wasm, build_time) = build_card("js", "js-zoom", "zoom_deprovision.wasm", &["index.js", "zoom.js", "package.json", "rolldown.config.mjs"]);

    let zoom = stand_in(ZOOM_TOKEN, Arc::new(|r: &StandInRequest| {
        let path = r.target.split('?').next().unwrap_or("");
        match r.method.as_str() {
            "GET" if path.starts_with("/v2/users/") => (200, json!({ "id": "zu-42", "status": "active", "email": path.trim_start_matches("/v2/users/") })),
            "PUT" if path == "/v2/users/zu-42/status" => (204, Value::Null),
            _ => (404, json!({ "code": 1001, "message": "User does not exist" })),
        }
    }))
    .await;
    let d = daemon(
        &[],
        &format!(
            "[connections.zoom]\nbase_url = \"http://127.0.0.1:{}\"\nauth = {{ bearer = {{ value = \"{ZOOM_TOKEN}\" }} }}\nallow_private = true\n",
            zoom.addr().port()
        ),
    )
    .await;

    let (published, publish_time) = d.publish(&wasm).await;
    let card = &published["card"];
    assert_eq!((card["name"].as_str(), card["version"].as_str()), (Some("acme.zoom-deprovision"), Some("1.0.0")));
    assert_eq!(card["state"], "pending");
    eprintln!("polyglot: js card {} bytes, published in {publish_time:.1?}", card["size"]);
    d.grant("acme.zoom-deprovision", &["connection:zoom"]).await;
    std::fs::write(d._dir.path().join("flows/offboard-zoom.yaml"), OFFBOARD_ZOOM).unwrap();
    d.reload().await;

    let leaver = d.leaver();
    let email = leaver.profile["email"].as_str().unwrap().to_string();
    let run_started = Instant::now();
    let run = d.run("offboard-zoom", json!({ "user": leaver.id })).await;
    let run_time = run_started.elapsed();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        run.output,
        Some(json!({ "email": email, "zoom_user_id": "zu-42", "previous_status": "active", "outcome": "changed", "status": "inactive" }))
    );

    let seen = zoom.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("GET", format!("/v2/users/{}", email.replace('@', "%40")).as_str()));
    assert_eq!((seen[1].method.as_str(), seen[1].target.as_str()), ("PUT", "/v2/users/zu-42/status"));
    assert_eq!(seen[1].json.clone().unwrap_or_default(), json!({ "action": "deactivate" }));
    assert_eq!(seen[1].header("idempotency-key").unwrap(), format!("{}/zoom/1", run.id));
    for r in &seen {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {ZOOM_TOKEN}").as_str()));
    }

    let steps = d.engine.store().steps(&run.id).await.unwrap();
    let step = steps.iter().find(|s| s.path == "zoom").expect("the zoom step");
    assert_eq!(step.card.as_deref(), Some("acme.zoom-deprovision@1.0.0"));
    assert!(step.logs.iter().any(|l| l.message == "zoom user zu-42 inactive"), "{:?}", step.logs);
    assert!(!history_text(&steps).contains(ZOOM_TOKEN));

    eprintln!(
        "polyglot: js end to end in {:.1?} (build {build_time:.1?}, publish {publish_time:.1?}, run {run_time:.1?})",
        started.elapsed()
    );
    d.stop().await;
}

// -- the seed's offboarding, with the Python and JavaScript cards ------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_offboarding_runs_with_the_javascript_zoom_and_python_asana_cards() {
    let (zoom, _) = build_card("js", "js-zoom", "zoom_deprovision.wasm", &["index.js", "zoom.js", "package.json", "rolldown.config.mjs"]);
    let (asana, _) = build_card("python", "python-asana", "asana_offboard.wasm", &["app.py", "asana.py"]);
    let jamf = lanyard_cards::examples::example("rust-jamf-offboard").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jamf_file = dir.path().join("jamf_offboard.wasm");
    std::fs::write(&jamf_file, jamf).unwrap();

    let options = crate::harness::Options { custom_wasm: Some(vec![jamf_file, zoom, asana]), ..Default::default() };
    let w = crate::harness::World::start(options).await;
    crate::offboarding::leavers_are_offboarded(&w, crate::harness::OFFBOARDING, crate::offboarding::Apps::JamfZoomAsana).await;
    w.stop().await;
}
