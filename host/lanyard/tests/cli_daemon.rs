//! `lanyard history` and `lanyard card publish|list|show|grant|remove` while
//! the daemon runs: the daemon holds the data directory, so each command goes
//! through its admin API (the typed client, `cli/admin_client.rs`), found
//! through the same config, and prints what it prints offline.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::{Daemon, Setup, free_port, lanyard};

const ADMIN: &str = "admin-secret-daemon-cli";
const FLOW: &str = "name: echo\ndescription: Says what it is given.\ntrigger: manual\nsteps:\n  - card: lanyard.echo\n    with: { message: hi }\n";
/// An example card that asks for `connection:*`, and what it is called.
const CARD_DIR: &str = "rust-jamf-offboard";
const CARD: &str = "acme.jamf-offboard";

/// The daemon `setup` configures in `dir`, once it is ready (its flows loaded).
async fn ready(setup: &Setup<'_>, dir: &Path) -> Daemon {
    setup.write(dir);
    let daemon = Daemon::start_as_configured(&dir.join("lanyard.toml"), "warn,lanyard=info");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !http.get(format!("{}/readyz", daemon.url)).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "the daemon got ready:\n{}", daemon.logs());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    daemon
}

/// `lanyard args...` in `dir`, off the async threads.
fn in_dir(dir: &Path, args: &[&str]) -> impl std::future::Future<Output = support::Out> + use<> {
    let (dir, args): (std::path::PathBuf, Vec<String>) = (dir.to_path_buf(), args.iter().map(|a| a.to_string()).collect());
    async move { tokio::task::spawn_blocking(move || lanyard(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_card_commands_go_through_the_daemon_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("listen = \"127.0.0.1:{port}\"");
    let extra = "[connections.jamf]\nbase_url = \"https://jamf.example.com\"\nauth = { bearer = { value = \"jamf-token\" } }\n";
    let setup = Setup { flow_file: "echo.yaml", flow_yaml: FLOW, data: Path::new("data"), cache: "cli-daemon-cache", admin: ADMIN, secret: "Bearer s", server: &listen, extra };
    let daemon = ready(&setup, dir.path()).await;
    let run = |args: &[&str]| in_dir(dir.path(), args);

    // Ready (its flows loaded), then a run, started as "Run now" starts one.
    let http = reqwest::Client::new();
    let answer = http.post(format!("{}/api/v1/flows/echo/run?wait=true", daemon.url)).bearer_auth(ADMIN).send().await.unwrap();
    let status = answer.status();
    let started: Value = answer.json().await.unwrap();
    assert!(status.is_success(), "{status} {started}\n{}", daemon.logs());
    let id = started["run_id"].as_str().expect("the run's id").to_string();
    assert_eq!(started["run"]["status"], json!("succeeded"), "{started}");

    // The history, listed and shown, as the daemon keeps it.
    let out = run(&["history"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let line = out.stdout.lines().find(|l| l.contains(&id)).unwrap_or_else(|| panic!("the run is listed: {out}"));
    assert!(line.contains("echo") && line.contains("succeeded"), "{out}");
    let out = run(&["history", "--json", "--flow", "echo"]).await;
    let runs: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(runs["runs"].as_array().map(|r| r.len()), Some(1), "{out}");
    assert_eq!(runs["runs"][0]["id"], json!(id), "{out}");
    let out = run(&["history", "show", &id]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("lanyard.echo") && out.stdout.contains("succeeded"), "the trace: {out}");
    let out = run(&["history", "show", "no-such-run"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("run `no-such-run` not found"), "says which run: {out}");

    // A card published through the daemon waits for its grants.
    let wasm = lanyard_cards::examples::example(CARD_DIR).expect("the example card is embedded");
    std::fs::write(dir.path().join("card.wasm"), wasm).unwrap();
    let out = run(&["card", "publish", "card.wasm"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains(&format!("published {CARD}@1.0.0")) && out.stdout.contains("PENDING"), "{out}");
    assert!(out.stdout.contains("the daemon reloaded"), "it went through the daemon: {out}");
    let out = run(&["card", "list"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let line = out.stdout.lines().find(|l| l.starts_with(CARD)).unwrap_or_else(|| panic!("the card is listed: {out}"));
    assert!(line.contains("1.0.0") && line.contains("pending"), "{out}");
    let out = run(&["card", "show", CARD, "--json"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let shown: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(!shown.to_string().contains("\"granted\":[\"connection:jamf\"]"), "nothing granted yet: {out}");

    // Granted one connection, then removed.
    let out = run(&["card", "grant", CARD, "connection:jamf"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("granted (lanyard card grant): connection:jamf"), "{out}");
    let out = run(&["card", "show", &format!("{CARD}@1.0.0"), "--json"]).await;
    let shown: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(shown.to_string().contains("\"granted\":[\"connection:jamf\"]"), "{out}");
    let out = run(&["card", "grant", CARD, "okta:okta.users.manage"]).await;
    assert_eq!(out.code, Some(1), "a grant the card does not ask for is refused: {out}");
    assert!(out.stderr.contains("`okta:okta.users.manage`: it does not ask for this"), "the daemon's reason: {out}");
    let out = run(&["card", "remove", &format!("{CARD}@1.0.0")]).await;
    assert!(out.stdout.contains(&format!("removed {CARD}@1.0.0")), "{out}");
    let out = run(&["card", "list"]).await;
    assert!(!out.stdout.contains(CARD) && out.stderr.contains("no card is published"), "{out}");
    drop(daemon);
}

const APPROVAL: &str = "name: approval\ndescription: Waits for an answer.\ntrigger: manual\nsteps:\n  - id: ask\n    wait: { signal: approval, choices: [approve, reject], timeout: 1h }\n  - return: \"{{ ask.choice }} by {{ ask.by }}: {{ ask.data.note }}\"\n";

/// `lanyard runs signal` answers a waiting run through the daemon's admin
/// API, and says why when the daemon refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_signal_answers_a_waiting_run_through_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("listen = \"127.0.0.1:{port}\"");
    let setup = Setup { flow_file: "approval.yaml", flow_yaml: APPROVAL, data: Path::new("data"), cache: "cli-daemon-cache", admin: ADMIN, secret: "Bearer s", server: &listen, extra: "" };
    let daemon = ready(&setup, dir.path()).await;
    let run = |args: &[&str]| in_dir(dir.path(), args);
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let started: Value = http.post(format!("{}/api/v1/flows/approval/run", daemon.url)).bearer_auth(ADMIN).send().await.unwrap().json().await.unwrap();
    let id = started["run_id"].as_str().unwrap_or_else(|| panic!("{started}")).to_string();
    loop {
        let out = run(&["history", "--json", "--status", "waiting"]).await;
        if out.stdout.contains(&id) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run waits: {out}\n{}", daemon.logs());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let out = run(&["runs", "signal", &id, "approval"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("the `approval` signal needs a choice: approve, reject") && out.stderr.contains("pass one with --choice"), "{out}");
    let out = run(&["runs", "signal", &id, "approval", "--choice", "maybe"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("`maybe` is not a choice of the `approval` signal (it takes approve, reject)"), "{out}");
    let out = run(&["runs", "signal", &id, "approval", "--choice", "approve", "--data", "{note: ok}"]).await;
    assert_eq!(out.code, Some(2), "bad JSON is refused before anything is sent: {out}");
    assert!(out.stderr.contains("not JSON"), "{out}");
    let out = run(&["runs", "signal", &id, "aproval", "--choice", "approve"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("waits for the `approval` signal, not for the `aproval` signal"), "{out}");

    let out = run(&["runs", "signal", &id, "approval", "--choice", "approve", "--data", r#"{"note": "ok for a week"}"#]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(out.stdout.trim(), format!("run {id} took the `approval` signal (approve); it goes on"));
    let out = run(&["runs", "signal", &id, "approval", "--choice", "reject", "--json"]).await;
    assert_eq!(out.code, Some(1), "a wait takes one signal: {out}");
    assert!(out.stderr.contains("is not waiting") && out.stderr.contains(&format!("`lanyard history show {id}`")), "{out}");
    loop {
        let out = run(&["history", "show", &id, "--json"]).await;
        if out.stdout.contains("approve by api: ok for a week") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run went on with the answer: {out}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let out = run(&["runs", "signal", "--help"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("--choice <CHOICE>") && out.stdout.contains("One of the wait's `choices`"), "{out}");
    drop(daemon);
}
