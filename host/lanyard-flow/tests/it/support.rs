//! Shared test parts: a card catalog, a scripted card invoker, an environment.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lanyard_core::{CardError, ManualClock};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub fn fixtures(dir: &str) -> Vec<SourceFile> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            SourceFile::new(name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn schema(props: &[&str], required: &[&str]) -> Value {
    let p: serde_json::Map<String, Value> =
        props.iter().map(|k| (k.to_string(), json!({}))).collect();
    json!({ "type": "object", "properties": p, "required": required, "additionalProperties": false })
}

/// The built-in card names, some with input schemas like the real cards'.
pub fn catalog() -> StaticCatalog {
    let mut cards = vec![
        CardSummary::new("okta.get-user")
            .with_version("1.0.0")
            .with_input_schema(schema(&["id"], &["id"])),
        CardSummary::new("okta.clear-sessions")
            .with_version("1.0.0")
            .with_input_schema(schema(&["user", "oauth_tokens"], &["user"])),
        CardSummary::new("slack.post")
            .with_version("1.0.0")
            .with_input_schema(schema(&["connection", "channel", "text"], &["text"])),
        CardSummary::new("acme.jamf-wipe").with_version("1.3.0"),
        CardSummary::new("test.pages")
            .with_version("1.0.0")
            .with_input_schema(schema(&["status", "page_size", "after"], &[])),
    ];
    for name in [
        "okta.find-users",
        "okta.update-profile",
        "okta.list-user-groups",
        "okta.add-to-group",
        "okta.remove-from-group",
        "okta.remove-from-all-groups",
        "okta.list-factors",
        "okta.get-manager",
        "mail.send",
        "http.request",
        "tables.get",
        "tables.put",
        "test.echo",
        "test.flaky",
    ] {
        cards.push(CardSummary::new(name).with_version("1.0.0"));
    }
    StaticCatalog::new(cards)
}

pub fn compile_ok(name: &str, text: &str) -> Arc<Flow> {
    let c = compile(name, text, &catalog());
    let flow = c.flow.unwrap_or_else(|| {
        panic!(
            "{name} did not compile:\n{}",
            lanyard_flow::diag::render_all(&c.diagnostics, |_| Some(text))
        )
    });
    Arc::new(flow)
}

pub fn good(name: &str) -> Arc<Flow> {
    let file = fixtures("good")
        .into_iter()
        .find(|f| f.path.ends_with(name))
        .unwrap();
    compile_ok(&file.path, &file.text)
}

type Responder = Box<dyn Fn(&CardCall) -> Result<Value, CardError> + Send + Sync>;

/// A card invoker scripted per card: queued answers (the last one repeats),
/// or a function of the call; echoes the input when nothing is scripted.
#[derive(Default)]
pub struct FakeCards {
    queues: Mutex<HashMap<String, VecDeque<Result<Value, CardError>>>>,
    responders: Mutex<HashMap<String, Responder>>,
    calls: Mutex<Vec<CardCall>>,
    /// Per-call yields before answering, by loop item (to finish out of order).
    pub yields: Mutex<HashMap<String, usize>>,
}

impl FakeCards {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn on(self: &Arc<Self>, card: &str, answers: Vec<Result<Value, CardError>>) -> Arc<Self> {
        self.queues
            .lock()
            .unwrap()
            .insert(card.to_string(), answers.into());
        self.clone()
    }

    pub fn respond(
        self: &Arc<Self>,
        card: &str,
        f: impl Fn(&CardCall) -> Result<Value, CardError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        self.responders
            .lock()
            .unwrap()
            .insert(card.to_string(), Box::new(f));
        self.clone()
    }

    pub fn calls(&self) -> Vec<CardCall> {
        self.calls.lock().unwrap().clone()
    }

    pub fn called(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| format!("{} {}", c.ctx.step, c.card))
            .collect()
    }
}

#[async_trait]
impl CardInvoker for FakeCards {
    async fn invoke(&self, call: CardCall) -> CardResult {
        self.calls.lock().unwrap().push(call.clone());
        let wait = self
            .yields
            .lock()
            .unwrap()
            .get(&call.input.to_string())
            .copied()
            .unwrap_or(0);
        for _ in 0..wait {
            tokio::task::yield_now().await;
        }
        let name = call.card.name.clone();
        let result = if let Some(f) = self.responders.lock().unwrap().get(&name) {
            f(&call)
        } else {
            let mut queues = self.queues.lock().unwrap();
            match queues.get_mut(&name) {
                Some(q) if q.len() > 1 => q.pop_front().unwrap(),
                Some(q) if q.len() == 1 => q[0].clone(),
                _ => Ok(call.input.clone()),
            }
        };
        let mut r = match result {
            Ok(v) => CardResult::ok(&format!("{name}@1.0.0"), v),
            Err(e) => CardResult::err(&format!("{name}@1.0.0"), e),
        };
        r.fuel_used = 1000;
        if call.ctx.dry_run && name.starts_with("okta.remove") {
            r.effects.push(lanyard_core::history::Effect {
                capability: "okta".into(),
                operation: "remove-from-group".into(),
                args: call.input.clone(),
            });
        }
        r
    }
}

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T14:00:00Z".parse().unwrap()
}

pub struct Harness {
    pub cards: Arc<FakeCards>,
    pub journal: Arc<MemoryJournal>,
    pub sleeper: Arc<RecordingSleeper>,
    #[allow(dead_code)]
    pub clock: Arc<ManualClock>,
    pub links: Arc<FakeLinks>,
    pub env: Env,
}

/// Signal links as `https://links.test/<run>/<signal>/<choice>/<after_seq>`,
/// each request kept.
#[derive(Debug, Default)]
pub struct FakeLinks {
    pub made: Mutex<Vec<MadeLink>>,
}

/// One link [`FakeLinks`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeLink {
    pub run_id: String,
    pub signal: String,
    pub choice: Option<String>,
    pub after_seq: u64,
}

impl SignalLinks for FakeLinks {
    fn link(&self, req: LinkRequest<'_>) -> Result<String, String> {
        if req.signal == "refused" {
            return Err("no links for `refused`".into());
        }
        let choice = req.choice.map(str::to_string);
        self.made.lock().unwrap().push(MadeLink {
            run_id: req.run_id.into(),
            signal: req.signal.into(),
            choice: choice.clone(),
            after_seq: req.after_seq,
        });
        Ok(format!(
            "https://links.test/{}/{}/{}/{}",
            req.run_id,
            req.signal,
            choice.unwrap_or_default(),
            req.after_seq
        ))
    }
}

pub fn harness(cards: Arc<FakeCards>, helpers: Vec<Arc<Flow>>) -> Harness {
    harness_with(cards, helpers, MemoryJournal::new())
}

pub fn harness_with(
    cards: Arc<FakeCards>,
    helpers: Vec<Arc<Flow>>,
    journal: MemoryJournal,
) -> Harness {
    let journal = Arc::new(journal);
    let sleeper = Arc::new(RecordingSleeper::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let links = Arc::new(FakeLinks::default());
    let env = Env {
        cards: cards.clone(),
        journal: journal.clone(),
        clock: clock.clone(),
        flows: Arc::new(Library::new(helpers)),
        sleeper: sleeper.clone(),
        links: links.clone(),
        limits: RunLimits::default(),
    };
    Harness {
        cards,
        journal,
        sleeper,
        clock,
        links,
        env,
    }
}

pub fn deactivate_event(user: &str) -> Value {
    json!({
        "uuid": "8a2a1b3c-0000-11ef-9e0d-8f1b2c3d4e5f",
        "published": "2026-03-02T13:59:58.123Z",
        "eventType": "user.lifecycle.deactivate",
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.com", "displayName": "Admin"},
        "target": [{"id": user, "type": "User", "alternateId": "jo@acme.com", "displayName": "Jo Doe"}],
        "outcome": {"result": "SUCCESS"}
    })
}

pub fn user(id: &str, login: &str) -> Value {
    json!({
        "id": id,
        "status": "DEPROVISIONED",
        "created": "2025-01-01T00:00:00.000Z",
        "profile": {"login": login, "email": login, "firstName": "Jo", "department": "Engineering"}
    })
}

/// A flow run by hand, `steps` its steps' YAML (indented two spaces).
pub fn manual_flow(file: &str, steps: &str) -> Arc<Flow> {
    compile_ok(file, &format!("name: {file}\ndescription: test flow\ntrigger: manual\nsteps:\n{steps}"))
}

/// What validation says of [`manual_flow`]`(file, steps)`: `severity code: message` each.
pub fn manual_flow_diagnostics(file: &str, steps: &str) -> Vec<String> {
    let text = format!("name: {file}\ndescription: test flow\ntrigger: manual\nsteps:\n{steps}");
    compile(file, &text, &catalog())
        .diagnostics
        .iter()
        .map(|d| format!("{} {}: {}", d.severity.as_str(), d.code, d.message))
        .collect()
}
