//! A daemon in-process for tests: config and flows in a temporary directory,
//! the real server on 127.0.0.1:0, helpers to call it and to wait for runs.

use lanyard_core::history::{RunRecord, RunStatus};
use lanyard_server::{Config, Engine, EngineOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN: &str = "admin-secret-1";
pub const INVOKE: &str = "invoke-secret-1";
pub const HOOK: &str = "Bearer hook-secret-1";

/// Compiled cards shared by every test (so only the first test compiles them).
pub fn card_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-server-card-cache")
}

pub struct Daemon {
    pub engine: Engine,
    pub addr: SocketAddr,
    pub base: String,
    pub dir: Arc<tempfile::TempDir>,
    pub http: reqwest::Client,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// The config every test starts from; `extra` is appended (more tables).
pub fn config_text(extra: &str) -> String {
    config_text_with("", extra)
}

/// The Okta tables of [`config_text`]: the embedded sandbox org and its hook.
const ONE_SANDBOX_ORG: &str = r#"
[hooks.okta]
secret = { value = "Bearer hook-secret-1" }

[okta]
sandbox = true
"#;

/// [`config_text`], with `server` added to its `[server]` table.
pub fn config_text_with(server: &str, extra: &str) -> String {
    config_text_full(server, ONE_SANDBOX_ORG, extra)
}

/// [`config_text_with`], with `okta` in place of its Okta tables.
fn config_text_full(server: &str, okta: &str, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
data_dir = "data"
flows_dir = "flows"
cache_dir = "{cache}"
admin_token = {{ value = "{ADMIN}" }}
invoke_token = {{ value = "{INVOKE}" }}
max_body_bytes = "64KiB"
watch_flows = false
shutdown_grace = "5s"
{server}
{okta}
[workers]
concurrency = 8
{extra}
"#,
        cache = card_cache().display()
    )
}

pub struct Builder {
    flows: Vec<(String, String)>,
    extra: String,
    server: String,
    /// The Okta tables, in place of [`ONE_SANDBOX_ORG`].
    okta_tables: Option<String>,
    dir: Option<Arc<tempfile::TempDir>>,
    okta: Option<Arc<dyn lanyard_core::okta::OktaApi>>,
    clock: Option<Arc<dyn lanyard_core::Clock>>,
}

impl Builder {
    pub fn flow(mut self, file: &str, text: &str) -> Self {
        self.flows.push((file.to_string(), text.to_string()));
        self
    }

    pub fn config(mut self, extra: &str) -> Self {
        self.extra.push_str(extra);
        self.extra.push('\n');
        self
    }

    /// More keys of the `[server]` table.
    pub fn server(mut self, keys: &str) -> Self {
        self.server.push_str(keys);
        self.server.push('\n');
        self
    }

    /// These Okta tables (`[okta]`, `[okta.orgs.*]`, `[hooks.okta]`) instead
    /// of the one sandbox org with its hook.
    #[allow(dead_code)]
    pub fn okta_tables(mut self, tables: &str) -> Self {
        self.okta_tables = Some(tables.to_string());
        self
    }

    /// Replace the sandbox org's capability (a test double around it).
    #[allow(dead_code)]
    pub fn okta(mut self, api: Arc<dyn lanyard_core::okta::OktaApi>) -> Self {
        self.okta = Some(api);
        self
    }

    /// The daemon's clock (the one its cards see, in calls and in describe()).
    #[allow(dead_code)]
    pub fn clock(mut self, clock: Arc<dyn lanyard_core::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Reuse a directory (a restart over the same store and flows).
    pub fn dir(mut self, dir: Arc<tempfile::TempDir>) -> Self {
        self.dir = Some(dir);
        self
    }

    pub async fn start(self) -> Daemon {
        let d = self.serve().await;
        d.boot().await;
        d
    }

    /// The engine and the server, without [`Daemon::boot`]: hooks are taken
    /// (into the durable inbox), but no flow is loaded and nothing is
    /// dispatched yet.
    pub async fn serve(self) -> Daemon {
        let dir = self.dir.unwrap_or_else(|| Arc::new(tempfile::tempdir().unwrap()));
        let flows = dir.path().join("flows");
        std::fs::create_dir_all(&flows).unwrap();
        for (file, text) in &self.flows {
            std::fs::write(flows.join(file), text).unwrap();
        }
        let cfg_path = dir.path().join("lanyard.toml");
        let okta = self.okta_tables.as_deref().unwrap_or(ONE_SANDBOX_ORG);
        std::fs::write(&cfg_path, config_text_full(&self.server, okta, &self.extra)).unwrap();
        let config = Config::load(&cfg_path).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut options = EngineOptions::new(config);
        options.okta = self.okta;
        if let Some(clock) = self.clock {
            options.clock = clock;
        }
        let engine = Engine::new(options).await.unwrap();
        let server = tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
        Daemon {
            engine,
            addr,
            base: format!("http://{addr}"),
            dir,
            http: reqwest::Client::new(),
            server: Some(server),
        }
    }
}

pub fn daemon() -> Builder {
    Builder {
        flows: Vec::new(),
        extra: String::new(),
        server: String::new(),
        okta_tables: None,
        dir: None,
        okta: None,
        clock: None,
    }
}

impl Daemon {
    /// Load cards and flows, start the dispatcher and workers, and wait until ready.
    pub async fn boot(&self) {
        self.engine.start();
        tokio::time::timeout(Duration::from_secs(120), self.engine.wait_ready()).await.expect("the engine got ready");
        assert!(self.engine.is_ready(), "not ready: {:?}", self.engine.reload_status().last_error);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(ADMIN).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Until run `id` has status `want` (within 30 s); the run as the admin
    /// API shows it (`{run, steps, trace}`).
    pub async fn until_status(&self, id: &str, want: &str) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (code, body) = self.admin_get(&format!("/api/v1/runs/{id}")).await;
            assert_eq!(code, 200, "{body}");
            if body["run"]["status"] == want {
                return body;
            }
            assert!(tokio::time::Instant::now() < deadline, "run {id} did not become {want}: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn admin_post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).bearer_auth(ADMIN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POST one Event Hook delivery of these events.
    pub async fn deliver(&self, events: &[Value]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/hooks/okta"))
            .header("authorization", HOOK)
            .json(&envelope(events))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Every run of a flow in the store, oldest first.
    pub async fn runs_of(&self, flow: &str) -> Vec<RunRecord> {
        let page = self
            .engine
            .store()
            .list_runs(&lanyard_store::RunFilter {
                flow: Some(flow.to_string()),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut runs = page.runs;
        runs.reverse();
        runs
    }

    /// Until `n` runs of `flow` have ended; those runs, oldest first.
    pub async fn wait_for_runs(&self, flow: &str, n: usize) -> Vec<RunRecord> {
        let mut finished = self.engine.subscribe_finished();
        let wait = async {
            loop {
                let done: Vec<RunRecord> = self.runs_of(flow).await.into_iter().filter(|r| r.status.is_final()).collect();
                if done.len() >= n {
                    return done;
                }
                let _ = finished.recv().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("{n} runs of `{flow}` did not end"))
    }

    pub async fn stop(mut self) {
        self.engine.shutdown(Duration::from_secs(5)).await;
        if let Some(s) = self.server.take() {
            s.await.unwrap().unwrap();
        }
    }
}

pub fn envelope(events: &[Value]) -> Value {
    json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/who1",
        "eventId": "delivery-1",
        "eventTime": "2026-01-05T10:00:00.000Z",
        "contentType": "application/json",
        "data": { "events": events }
    })
}

/// A System Log event: `event_type` about user `target`, caused by `actor`.
pub fn event(uuid: &str, event_type: &str, target: &str, actor: &str, published: &str) -> Value {
    json!({
        "uuid": uuid,
        "published": published,
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": event_type,
        "actor": { "id": actor, "type": "User", "alternateId": "admin@acme.example", "displayName": "Admin" },
        "client": {},
        "outcome": { "result": "SUCCESS" },
        "target": [{ "id": target, "type": "User", "alternateId": format!("{target}@acme.example"), "displayName": target }],
        "transaction": { "type": "WEB", "id": "t1", "detail": {} },
        "debugContext": { "debugData": {} }
    })
}

/// `any-suspend`: a run per `user.lifecycle.suspend` event, returning its uuid.
pub const ANY_SUSPEND: &str = r#"
name: any-suspend
description: Runs on every suspension.
trigger:
  okta: user.lifecycle.suspend
steps:
  - return: "{{ event.uuid }}"
"#;

pub fn statuses(runs: &[RunRecord]) -> Vec<RunStatus> {
    runs.iter().map(|r| r.status).collect()
}
