//! Event Hook delivery, as Okta does it: events that happen close together go
//! out in one POST (up to a batch size), with the hook's headers and its
//! `Authorization` secret, a 3-second timeout, and one retry on 5xx or timeout
//! (never on 4xx). At-least-once: an option delivers duplicates and reverses
//! order on purpose, to test the receiver's dedupe.
//!
//! Deliveries run in background tasks; [`Delivery::wait_idle`] waits on a
//! counter of undelivered events, so tests wait on the condition, not a timer.

use lanyard_core::{Clock, LogEvent};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

use lanyard_okta::hooks::{EventHookPayload, VERIFICATION_HEADER};

const MAX_VERIFICATION_ANSWER: usize = 16 * 1024;

/// Where and how to deliver to one hook (a snapshot taken when the event happened).
#[derive(Debug, Clone)]
pub struct HookTarget {
    pub id: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub auth: Option<(String, String)>,
    /// `https://<org>/api/v1/eventHooks/<id>`.
    pub source: String,
}

/// What the sandbox did with one batch, for tests and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub hook_id: String,
    /// The `uuid`s in the batch, in the order sent.
    pub event_ids: Vec<String>,
    /// One entry per POST: the status, or the transport error.
    pub attempts: Vec<Result<u16, String>>,
    pub delivered: bool,
    /// Sent again on purpose (at-least-once testing).
    pub duplicate: bool,
}

/// Delivery behaviour; the defaults are Okta's.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How long to gather events that happen close together into one POST.
    pub batch_window: Duration,
    pub max_batch: usize,
    /// Okta waits 3 s for an answer.
    pub timeout: Duration,
    /// Deliver every batch twice.
    pub duplicate: bool,
    /// Reverse the order of events in a batch.
    pub reverse: bool,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            batch_window: Duration::from_millis(20),
            max_batch: 50,
            timeout: Duration::from_secs(3),
            duplicate: false,
            reverse: false,
        }
    }
}

pub(crate) struct Delivery {
    queue: Mutex<VecDeque<(HookTarget, LogEvent)>>,
    notify: Notify,
    outstanding: watch::Sender<usize>,
    paused: watch::Sender<bool>,
    started: AtomicBool,
    records: Mutex<Vec<DeliveryRecord>>,
    http: reqwest::Client,
    cfg: Mutex<DeliveryConfig>,
    clock: Arc<dyn Clock>,
}

impl Delivery {
    pub fn new(cfg: DeliveryConfig, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Delivery {
            queue: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            outstanding: watch::channel(0).0,
            paused: watch::channel(false).0,
            started: AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a default reqwest client builds"),
            cfg: Mutex::new(cfg),
            clock,
        })
    }

    pub fn set_config(&self, cfg: DeliveryConfig) {
        *self.cfg.lock().expect("delivery config lock") = cfg;
    }

    pub fn config(&self) -> DeliveryConfig {
        self.cfg.lock().expect("delivery config lock").clone()
    }

    pub fn enqueue(self: &Arc<Self>, items: Vec<(HookTarget, LogEvent)>) {
        if items.is_empty() {
            return;
        }
        let n = items.len();
        self.outstanding.send_modify(|c| *c += n);
        self.queue
            .lock()
            .expect("delivery queue lock")
            .extend(items);
        self.notify.notify_one();
        self.ensure_started();
    }

    fn ensure_started(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let me = Arc::clone(self);
                handle.spawn(me.run());
            }
            // Outside a runtime: start on the next enqueue or wait from inside one.
            Err(_) => self.started.store(false, Ordering::SeqCst),
        }
    }

    /// Hold deliveries (events keep queueing) until [`Delivery::resume`]:
    /// lets a test decide exactly which events travel together.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    pub fn records(&self) -> Vec<DeliveryRecord> {
        self.records.lock().expect("delivery records lock").clone()
    }

    /// Until every queued event has been delivered or given up on.
    pub async fn wait_idle(self: &Arc<Self>) {
        self.ensure_started();
        let mut rx = self.outstanding.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    async fn run(self: Arc<Self>) {
        loop {
            loop {
                if !self.queue.lock().expect("delivery queue lock").is_empty() {
                    break;
                }
                self.notify.notified().await;
            }
            let mut paused = self.paused.subscribe();
            // The sender lives as long as `self`, so this cannot fail.
            let _ = paused.wait_for(|p| !*p).await;
            let cfg = self.config();
            // Events that happen close together travel together.
            tokio::time::sleep(cfg.batch_window).await;
            let items: Vec<(HookTarget, LogEvent)> = self
                .queue
                .lock()
                .expect("delivery queue lock")
                .drain(..)
                .collect();
            let mut per_hook: Vec<(HookTarget, Vec<LogEvent>)> = Vec::new();
            for (hook, event) in items {
                match per_hook.iter_mut().find(|(h, _)| h.id == hook.id) {
                    Some((_, evs)) => evs.push(event),
                    None => per_hook.push((hook, vec![event])),
                }
            }
            for (hook, events) in per_hook {
                let me = Arc::clone(&self);
                let cfg = cfg.clone();
                tokio::spawn(async move {
                    let mut batches: Vec<Vec<LogEvent>> = events
                        .chunks(cfg.max_batch.max(1))
                        .map(<[LogEvent]>::to_vec)
                        .collect();
                    if cfg.reverse {
                        batches.reverse();
                    }
                    for mut batch in batches {
                        if cfg.reverse {
                            batch.reverse();
                        }
                        let n = batch.len();
                        me.deliver(&hook, batch.clone(), &cfg, false).await;
                        if cfg.duplicate {
                            me.deliver(&hook, batch, &cfg, true).await;
                        }
                        me.outstanding.send_modify(|c| *c = c.saturating_sub(n));
                    }
                });
            }
        }
    }

    async fn deliver(
        &self,
        hook: &HookTarget,
        events: Vec<LogEvent>,
        cfg: &DeliveryConfig,
        duplicate: bool,
    ) {
        let event_ids: Vec<String> = events.iter().map(|e| e.uuid.clone()).collect();
        let payload =
            EventHookPayload::new(hook.source.clone(), random_uuid(), self.clock.now(), events);
        let body = serde_json::to_vec(&payload).expect("an envelope always serializes");
        let mut attempts = Vec::new();
        let mut delivered = false;
        for attempt in 1..=2 {
            let mut req = self
                .http
                .post(&hook.uri)
                .timeout(cfg.timeout)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::USER_AGENT, "Okta Event Hooks Sandbox")
                .body(body.clone());
            for (k, v) in &hook.headers {
                req = req.header(k, v);
            }
            if let Some((k, v)) = &hook.auth {
                req = req.header(k, v);
            }
            let retry = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    attempts.push(Ok(status.as_u16()));
                    if status.is_success() {
                        delivered = true;
                        false
                    } else {
                        status.is_server_error()
                    }
                }
                Err(e) => {
                    let timeout = e.is_timeout();
                    attempts.push(Err(if timeout {
                        "timeout".to_string()
                    } else {
                        e.to_string()
                    }));
                    timeout || e.is_connect() || e.is_request()
                }
            };
            if !retry || attempt == 2 {
                break;
            }
            tracing::debug!(hook = %hook.id, "event hook delivery failed, retrying once");
        }
        if !delivered {
            tracing::warn!(hook = %hook.id, attempts = ?attempts, "event hook delivery failed");
        }
        self.records
            .lock()
            .expect("delivery records lock")
            .push(DeliveryRecord {
                hook_id: hook.id.clone(),
                event_ids,
                attempts,
                delivered,
                duplicate,
            });
    }

    /// The one-time verification GET: the receiver must echo the challenge.
    /// As Okta documents for verifyEventHook: "If a response is not received
    /// within 3 seconds, the outbound request times out. One retry is
    /// attempted after a timeout or error response." An answer that does not
    /// echo the challenge is no error response: it is not retried.
    pub async fn verify(&self, hook: &HookTarget) -> Result<(), String> {
        let challenge = format!("{}{}", random_uuid(), random_uuid()).replace('-', "");
        match self.verify_once(hook, &challenge).await {
            Err(Verification::Retry(why)) => {
                tracing::debug!(hook = %hook.id, %why, "event hook verification failed, retrying once");
                self.verify_once(hook, &challenge).await
            }
            other => other,
        }
        .map_err(|e| match e {
            Verification::Retry(why) | Verification::Final(why) => why,
        })
    }

    async fn verify_once(&self, hook: &HookTarget, challenge: &str) -> Result<(), Verification> {
        let mut req = self
            .http
            .get(&hook.uri)
            .timeout(self.config().timeout)
            .header(VERIFICATION_HEADER, challenge)
            .header(http::header::ACCEPT, "application/json");
        for (k, v) in &hook.headers {
            req = req.header(k, v);
        }
        if let Some((k, v)) = &hook.auth {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| {
            Verification::Retry(format!("verification request to {} failed: {e}", hook.uri))
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Verification::Retry(format!(
                "the endpoint answered the verification request with {status}"
            )));
        }
        // The answer is `{"verification": "<challenge>"}`; a receiver cannot
        // make the sandbox hold more than a small multiple of that.
        let mut resp = resp;
        let mut text = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            Verification::Retry(format!("reading the verification answer failed: {e}"))
        })? {
            if text.len() + chunk.len() > MAX_VERIFICATION_ANSWER {
                return Err(Verification::Final(format!(
                    "the verification answer is longer than {MAX_VERIFICATION_ANSWER} bytes"
                )));
            }
            text.extend_from_slice(&chunk);
        }
        let body: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
            Verification::Final(format!("the verification answer is not JSON: {e}"))
        })?;
        if body.get("verification").and_then(|v| v.as_str()) != Some(challenge) {
            return Err(Verification::Final(
                "the verification answer does not echo the challenge".into(),
            ));
        }
        Ok(())
    }
}

/// Why one verification request failed: a timeout or an error answer (tried
/// once more), or an answer that is wrong (not).
enum Verification {
    Retry(String),
    Final(String),
}

pub(crate) fn random_uuid() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
