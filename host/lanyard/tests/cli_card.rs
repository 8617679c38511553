//! `lanyard card inspect` and `lanyard card run`, through the real binary: what
//! a card author sees on stdout and stderr, and the exit status.
//!
//! Every test shares one compiled-card cache (`LANYARD_CACHE_DIR`), so a card
//! is compiled once per build, not once per test.

use lanyard_cards::test_cards;
use lanyard_sandbox::{SlackConfig, SlackStandIn};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Output {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-card-cache")
}

/// The lanyard binary, started with `args`, its stdout and stderr piped.
fn spawn(args: &[&str], stdin: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .args(args)
        .env("LANYARD_CACHE_DIR", cache_dir())
        .env_remove("LANYARD_LOG")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the lanyard binary")
}

fn output(child: std::process::Child) -> Output {
    let out = child.wait_with_output().unwrap();
    Output {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn lanyard_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args, Stdio::piped());
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    output(child)
}

fn lanyard(args: &[&str]) -> Output {
    lanyard_with_stdin(args, b"")
}

/// `bytes` in a file of its own under `dir`.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn inspect_shows_a_builtin_card() {
    let out = lanyard(&["card", "inspect", "builtin:echo"]);
    assert!(out.ok, "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "lanyard.echo 0.1.0", "{out}");
    assert!(lines[1].contains("Returns the message"), "{out}");
    assert!(out.stdout.contains("\nworld    lanyard:card/card@0.1.0\n"), "{out}");
    let sha = lines.iter().find_map(|l| l.strip_prefix("sha256   ")).expect("a sha256 line");
    assert_eq!(sha.len(), 64, "{out}");
    assert!(sha.chars().all(|c| c.is_ascii_hexdigit()), "{out}");
    assert!(out.stdout.contains("\ngrants   (none)\n"), "{out}");
    // The imports, one per line, and the schemas, indented.
    let imports = out.stdout.split("\nimports\n").nth(1).expect("an imports section");
    assert!(imports.lines().next().unwrap().starts_with("  "), "{out}");
    assert!(out.stdout.contains("  lanyard:card/"), "{out}");
    assert!(out.stdout.contains("input schema\n  {"), "{out}");
    assert!(out.stdout.contains("\"message\""), "{out}");
    assert!(out.stdout.contains("output schema\n  {"), "{out}");

    let out = lanyard(&["card", "inspect", "builtin:echo", "--json"]);
    assert!(out.ok, "{out}");
    let doc = out.json();
    assert_eq!(doc["name"], "lanyard.echo");
    assert_eq!(doc["version"], "0.1.0");
    assert_eq!(doc["world"], "lanyard:card/card@0.1.0");
    assert_eq!(doc["sha256"].as_str().unwrap(), sha);
    assert!(doc["size"].as_u64().unwrap() > 1000);
    assert_eq!(doc["grants"], json!([]));
    assert_eq!(doc["input_schema"]["required"], json!(["message"]));
    assert!(doc["output_schema"]["properties"]["length"].is_object());
    assert!(doc["imports"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().starts_with("wasi:")));

    // A card that asks for grants lists them; it is named as flows name it
    // (or by its folder).
    for name in ["builtin:okta.get-user", "builtin:okta-get-user"] {
        let out = lanyard(&["card", "inspect", name]);
        assert!(out.ok, "{out}");
        assert!(out.stdout.contains("\ngrants   okta:okta.users.read\n"), "{out}");
    }
    let out = lanyard(&["card", "inspect", "builtin:okta.nothing"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("no built-in card `okta.nothing`") && out.stderr.contains("http.request, "), "{out}");
}

#[test]
fn run_prints_the_output_and_exits_zero() {
    let input = r#"{"message": "héllo", "fields": {"user": "00u1", "n": 3}}"#;
    let out = lanyard(&["card", "run", "builtin:echo", "--input", input]);
    assert!(out.ok, "{out}");
    assert_eq!(out.json(), json!({ "message": "héllo", "length": 5, "fields": { "user": "00u1", "n": 3 } }));
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("ok: lanyard.echo@0.1.0 in "), "{out}");
    assert!(last.contains("fuel used "), "{out}");

    // The same input from a file, and from stdin.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "in.json", input.as_bytes());
    let out = lanyard(&["card", "run", "builtin:echo", "--input-file", &file]);
    assert!(out.ok, "{out}");
    assert_eq!(out.json()["length"], 5);
    let out = lanyard_with_stdin(&["card", "run", "builtin:echo", "--input-file", "-"], input.as_bytes());
    assert!(out.ok, "{out}");
    assert_eq!(out.json()["message"], "héllo");

    // The card's own error is typed, and a failure.
    let out = lanyard(&["card", "run", "builtin:echo", "--input", "{}"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("error[invalid-input]"), "{out}");
    assert!(out.stderr.contains("message"), "{out}");
    assert!(out.stderr.lines().last().unwrap().starts_with("failed: lanyard.echo@0.1.0 in "), "{out}");
}

#[test]
fn hostile_cards_end_in_typed_errors_and_a_failure_status() {
    let dir = tempfile::tempdir().unwrap();
    let looping = write(dir.path(), "infinite-loop.wasm", test_cards::INFINITE_LOOP);

    let out = lanyard(&["card", "run", &looping, "--fuel", "5000000"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("error[fuel-exhausted]: the card used up its fuel (5000000 units)"), "{out}");
    assert!(out.stderr.contains("fuel used 5000000"), "{out}");

    let out = lanyard(&["card", "run", &looping, "--fuel", "100000000000000", "--timeout", "300ms"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error[deadline]: the call ran past its deadline of 300ms"), "{out}");

    let hog = write(dir.path(), "memory-hog.wasm", test_cards::MEMORY_HOG);
    let out = lanyard(&["card", "run", &hog, "--memory", "16MiB"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains(&format!("error[memory-limit]: the card tried to use more than its memory limit of {} bytes", 16 << 20)), "{out}");

    let panics = write(dir.path(), "panic.wasm", test_cards::PANIC);
    let out = lanyard(&["card", "run", &panics, "--input", r#"{"message": "boom 1234"}"#]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("[stdout] about to panic"), "{out}");
    assert!(out.stderr.contains("error[trap]: the card panicked at"), "{out}");
    assert!(out.stderr.contains("boom 1234"), "{out}");

    let reads = write(dir.path(), "read-file.wasm", test_cards::READ_FILE);
    let out = lanyard(&["card", "run", &reads, "--input", r#"{"path": "/etc/passwd"}"#]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error[internal]: read /etc/passwd:"), "{out}");
    assert!(!out.stdout.contains("root:") && !out.stderr.contains("root:"), "{out}");
}

#[test]
fn bad_files_and_inputs_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.wasm");
    let missing = missing.to_str().unwrap();
    let out = lanyard(&["card", "run", missing]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains(&format!("error: cannot read {missing}")), "{out}");

    let text = write(dir.path(), "notes.wasm", b"not a card at all");
    for cmd in ["inspect", "run"] {
        let out = lanyard(&["card", cmd, &text]);
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.stderr.contains(&format!("error: cannot load {text}: not a WebAssembly file")), "{out}");
    }

    // A core module (the smallest there is) is not a component.
    let core = write(dir.path(), "core.wasm", b"\0asm\x01\0\0\0");
    let out = lanyard(&["card", "inspect", &core]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("core WebAssembly module, not a component"), "{out}");
    assert!(out.stderr.contains("wasm32-wasip2"), "{out}");

    // Half a card.
    let echo = lanyard_cards::builtin_card("echo").unwrap().wasm;
    let half = write(dir.path(), "half.wasm", &echo[..echo.len() / 2]);
    let out = lanyard(&["card", "run", &half]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains(&format!("error: cannot load {half}: ")), "{out}");

    let out = lanyard(&["card", "inspect", "builtin:nope"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("no built-in card `nope` (built in: "), "{out}");
    assert!(out.stderr.contains("echo"), "{out}");

    let out = lanyard(&["card", "run", "builtin:echo", "--input", "{not json"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error: the input is not JSON"), "{out}");

    let out = lanyard(&["card", "run", "builtin:echo", "--timeout", "5 weeks"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("5 weeks"), "{out}");
}

#[test]
fn okta_cards_run_against_the_sandbox_org_with_their_grants() {
    let find = ["card", "run", "builtin:okta-find-users", "--input", r#"{"limit": 2}"#];
    let out = lanyard(&[&find[..], &["--grant", "okta:okta.users.read"]].concat());
    assert!(out.ok, "{out}");
    assert!(out.stderr.contains("okta is the embedded sandbox org at http://127.0.0.1:"), "{out}");
    let users = out.json();
    assert_eq!(users["count"], 2, "{out}");
    let login = users["items"][0]["profile"]["login"].as_str().unwrap().to_string();

    let out = lanyard(&[
        "card",
        "run",
        "builtin:okta-get-user",
        "--grant",
        "okta:okta.users.read",
        "--input",
        &json!({ "user": login }).to_string(),
    ]);
    assert!(out.ok, "{out}");
    assert_eq!(out.json()["profile"]["login"], login.as_str());

    // Not granted: denied, and said so.
    let out = lanyard(&find);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error[denied]"), "{out}");
    assert!(out.stderr.contains("denied: okta list-users: missing grant `okta:okta.users.read`"), "{out}");

    // A grant the card does not ask for is not given.
    let out = lanyard(&["card", "run", "builtin:echo", "--input", r#"{"message": "x"}"#, "--grant", "mail"]);
    assert!(out.ok, "{out}");
    assert!(out.stderr.contains("note: lanyard.echo@0.1.0 does not ask for `mail`; not granted"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_gives_the_connections_and_okta_it_names() {
    let slack = SlackStandIn::start(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), SlackConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[server]
data_dir = "data"

[connections.it-slack]
base_url = "{}"
auth = {{ bearer = {{ value = "{}" }} }}
allow_private = true
"#,
        slack.api_base_url(),
        slack.config().bot_token
    );
    let config = write(dir.path(), "lanyard.toml", config.as_bytes());

    let post = json!({ "connection": "it-slack", "channel": "#it-ops", "text": "hello from card run" }).to_string();
    let args = ["card", "run", "builtin:slack-post", "--grant", "connection:it-slack", "--input", &post];
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();

    // Without the config there is no HTTP.
    let without = args.clone();
    let out = tokio::task::spawn_blocking(move || lanyard(&without.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error[unavailable]"), "{out}");
    assert!(slack.requests().is_empty());

    let mut with = args.clone();
    with.extend(["--config".to_string(), config.clone()]);
    let out = tokio::task::spawn_blocking(move || lanyard(&with.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();
    assert!(out.ok, "{out}");
    let posted = slack.posted();
    assert_eq!(posted.len(), 1, "{out}");
    assert_eq!(posted[0].text(), Some("hello from card run"));
    assert_eq!(posted[0].channel.as_deref(), Some("C0ITOPS0001"));

    // The config has no [okta] table: Okta cards answer `unavailable`, and
    // no sandbox org is started.
    let out = tokio::task::spawn_blocking(move || {
        lanyard(&[
            "card",
            "run",
            "builtin:okta-find-users",
            "--grant",
            "okta:okta.users.read",
            "--config",
            &config,
        ])
    })
    .await
    .unwrap();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("error[unavailable] (retryable): okta is not configured on this host"), "{out}");
    assert!(!out.stderr.contains("sandbox org"), "{out}");

    // A config that does not check out is an error naming the file.
    let bad = write(dir.path(), "bad.toml", b"[server]\nlisten = 12\n");
    let out = lanyard(&["card", "run", "builtin:echo", "--config", &bad]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("bad.toml"), "{out}");
}

// -- Cards that stall, and publishing to a daemon (issue 12) --------------------

const ADMIN: &str = "admin-secret-cli";

/// A daemon in this process, on 127.0.0.1:0, over a data directory under
/// `dir`, with `server` added to its [server] table and `extra` appended.
struct Daemon {
    engine: lanyard_server::Engine,
    url: String,
}

impl Daemon {
    async fn start(dir: &Path, server: &str, extra: &str) -> Daemon {
        std::fs::create_dir_all(dir.join("flows")).unwrap();
        let config = write(
            dir,
            "daemon.toml",
            format!(
                "[server]\ndata_dir = \"daemon-data\"\nflows_dir = \"flows\"\ncache_dir = \"{}\"\nadmin_token = {{ value = \"{ADMIN}\" }}\nwatch_flows = false\n{server}\n{extra}\n",
                cache_dir().display()
            )
            .as_bytes(),
        );
        let config = lanyard_server::Config::load(Path::new(&config)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let engine = lanyard_server::Engine::new(lanyard_server::EngineOptions::new(config)).await.unwrap();
        tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
        engine.start();
        tokio::time::timeout(std::time::Duration::from_secs(120), engine.wait_ready()).await.expect("the daemon got ready");
        Daemon { engine, url }
    }
}

/// `lanyard args...`, which must end within `bound` (it is killed, and the
/// test fails, if it does not).
fn lanyard_within(bound: std::time::Duration, args: &[&str]) -> Output {
    let mut child = spawn(args, Stdio::null());
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > bound {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("`lanyard {}` still ran after {bound:?}:\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    output(child)
}

/// A card whose describe() sleeps in the host: `card inspect`, `card run` and
/// `card publish` (to a data directory, and to a daemon) each end with the
/// deadline error, not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_whose_describe_never_answers_is_cut_off_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let sleeps = write(dir.path(), "describe-sleeps.wasm", test_cards::DESCRIBE_SLEEPS);
    let limits = "[limits]\ntimeout = \"2s\"\n";
    let config = write(dir.path(), "lanyard.toml", format!("[server]\ndata_dir = \"data\"\n\n{limits}").as_bytes());
    let daemon = Daemon::start(dir.path(), "", limits).await;

    let commands: Vec<(Vec<String>, &str)> = vec![
        (vec!["card".into(), "inspect".into(), sleeps.clone()], "10s"),
        (vec!["card".into(), "run".into(), sleeps.clone(), "--config".into(), config.clone()], "2s"),
        (vec!["card".into(), "publish".into(), sleeps.clone(), "--config".into(), config.clone()], "2s"),
        (
            vec!["card".into(), "publish".into(), sleeps.clone(), "--url".into(), daemon.url.clone(), "--token".into(), ADMIN.into()],
            "2s",
        ),
    ];
    let runs: Vec<_> = commands
        .into_iter()
        .map(|(args, deadline)| {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                (lanyard_within(std::time::Duration::from_secs(90), &args), deadline)
            })
        })
        .collect();
    for run in runs {
        let (out, deadline) = run.await.unwrap();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.stderr.contains("describe() failed"), "{out}");
        assert!(out.stderr.contains(&format!("the call ran past its deadline of {deadline}")), "{out}");
    }
    assert!(daemon.engine.store().list_cards().await.unwrap().is_empty(), "nothing was published");
    daemon.engine.shutdown(std::time::Duration::from_secs(5)).await;
}

/// A card over the daemon's size cap: the CLI prints the daemon's 413 answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_a_card_over_the_daemons_size_cap_prints_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), "max_card_bytes = \"1MiB\"", "").await;
    let big = write(dir.path(), "big.wasm", &vec![0u8; 64 << 20]);
    for _ in 0..3 {
        let (big, url) = (big.clone(), daemon.url.clone());
        let out = tokio::task::spawn_blocking(move || {
            lanyard_within(std::time::Duration::from_secs(90), &["card", "publish", &big, "--url", &url, "--token", ADMIN])
        })
        .await
        .unwrap();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(
            out.stderr.contains("big.wasm refused: the card is larger than the registry takes: at most 1048576 bytes ([server] max_card_bytes)"),
            "{out}"
        );
    }
    daemon.engine.shutdown(std::time::Duration::from_secs(5)).await;
}
