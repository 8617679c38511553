//! What each fuzz target does with one input, and the properties it checks.
//!
//! Shared by the cargo-fuzz targets (`fuzz_targets/`, nightly, sanitizers) and
//! by the plain test `tests/fuzz/corpus_test.rs` in `lanyard-e2e`, which feeds
//! the committed seeds and every crash reproducer through the same functions on
//! stable, so a regression shows up in the normal suite.
//!
//! A property that fails panics; that is what the fuzzer reports as a crash.
//! Nothing here may sleep, touch the network or read files.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use lanyard_core::{LogEvent, ManualClock};
use lanyard_flow::{
    CardCall, CardInvoker, CardResult, CardSummary, Env, Library, MemoryJournal, RecordingSleeper,
    RunLimits, RunStart, SourceFile, StaticCatalog, Trigger,
};
use lanyard_okta::hooks;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Several flow files in one input are separated by this line, so the checks
/// across files (duplicate names, helper calls, cycles) are fuzzed too.
pub const FILE_SEPARATOR: &str = "\n---8<---\n";
/// At most this many files per input.
pub const MAX_FILES: usize = 4;

/// The Event Hook delivery parser (`lanyard_okta::hooks`), as the daemon's hook
/// endpoint calls it on a request body.
///
/// Properties: never panics; `parse_payload` and `parse_delivery` agree; an
/// accepted payload respects the event limit, re-serializes and parses back to
/// the same value; each event round-trips through `LogEvent::to_value`; the
/// verification answer echoes the challenge.
pub fn hook_payload(data: &[u8]) {
    let payload = hooks::parse_payload(data);
    let delivery = hooks::parse_delivery(data);
    assert_eq!(
        payload.is_ok(),
        delivery.is_ok(),
        "parse_payload and parse_delivery disagree"
    );
    if let Ok(p) = payload {
        assert_eq!(p.event_type, hooks::ENVELOPE_EVENT_TYPE);
        assert!(p.data.events.len() <= hooks::MAX_DELIVERY_EVENTS);
        assert_eq!(delivery.expect("checked above"), p.data.events);
        for ev in &p.data.events {
            let _ = ev.subject_key();
            let _ = ev.outcome_result();
            let _ = ev.target_user();
            let back: LogEvent = serde_json::from_value(ev.to_value())
                .expect("an accepted event serializes to a valid event");
            assert_same_event(&back, ev);
        }
        let bytes = serde_json::to_vec(&p).expect("an accepted payload serializes");
        if bytes.len() <= hooks::MAX_DELIVERY_BYTES {
            let again = hooks::parse_payload(&bytes).expect("an accepted payload parses again");
            assert_eq!(again.event_id, p.event_id);
            assert_eq!(again.data.events.len(), p.data.events.len());
            for (a, b) in again.data.events.iter().zip(&p.data.events) {
                assert_same_event(a, b);
            }
        }
    }
    if let Ok(challenge) = std::str::from_utf8(data) {
        if let Ok(body) = hooks::verification_response(challenge) {
            let v: Value = serde_json::from_str(&body).expect("the verification answer is JSON");
            assert_eq!(v["verification"].as_str(), Some(challenge));
        }
    }
}

/// Equal, except that floating-point numbers kept in the untyped part of an
/// event (`rest`) only need to survive a second round trip unchanged: the
/// first parse of a float written with more digits than an f64 holds may round.
fn assert_same_event(a: &LogEvent, b: &LogEvent) {
    assert_eq!(a.uuid, b.uuid);
    assert_eq!(a.published, b.published);
    assert_eq!(a.event_type, b.event_type);
    assert_eq!(a.actor, b.actor);
    assert_eq!(a.target, b.target);
    assert_eq!(a.version, b.version);
    assert_eq!(a.severity, b.severity);
    assert_eq!(a.display_message, b.display_message);
    assert_eq!(a.rest.len(), b.rest.len());
}

/// The flow loader: YAML text → compiled flows → checks across files, then what
/// the daemon does with a loaded flow: render its diagnostics, serialize it
/// (admin API), compute schedule fire times, match an Okta trigger, and run it
/// once as a dry run with a card that echoes its input.
///
/// Properties: never panics; every diagnostic names a given file; a flow that
/// validates serializes; fire times are strictly increasing and after the
/// start; a dry run ends (bounded by small [`RunLimits`]).
pub fn flow_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: Vec<SourceFile> = text
        .split(FILE_SEPARATOR)
        .take(MAX_FILES)
        .enumerate()
        .map(|(i, t)| SourceFile::new(format!("flows/f{i}.yaml"), t))
        .collect();
    let v = lanyard_flow::validate(&files, catalog());
    for d in &v.diagnostics {
        assert!(
            files.iter().any(|f| f.path == d.file) || d.file.is_empty(),
            "a diagnostic names an unknown file `{}`",
            d.file
        );
    }
    let _ = v.render(&files);
    serde_json::to_string(&v.diagnostics).expect("diagnostics serialize");
    if v.has_errors() {
        assert!(
            v.diagnostics.iter().any(|d| d.is_error()),
            "has_errors without an error"
        );
    }
    let library = Arc::new(Library::new(v.flows.iter().cloned()));
    for flow in &v.flows {
        serde_json::to_value(&**flow).expect("a compiled flow serializes");
        let _ = flow.walk();
        match &flow.trigger {
            Trigger::Schedule(s) => {
                let t0 = start_time();
                if let Some(next) = s.next_fire_after(t0) {
                    assert!(next > t0, "next fire {next} is not after {t0}");
                }
                let fires = s.fires_between(t0, t0 + chrono::Duration::days(800), 8);
                for w in fires.windows(2) {
                    assert!(w[0] < w[1], "fire times do not increase: {fires:?}");
                }
            }
            Trigger::Okta(o) => {
                let _ = o.matches(&sample_event());
            }
            _ => {}
        }
        let env = Env {
            cards: Arc::new(Echo),
            journal: Arc::new(MemoryJournal::new()),
            clock: Arc::new(ManualClock::new(start_time())),
            flows: library.clone(),
            sleeper: Arc::new(RecordingSleeper::default()),
            links: Arc::new(lanyard_flow::NoSignalLinks),
            limits: RunLimits {
                max_items: 16,
                max_pages: 4,
                max_call_depth: 4,
                max_steps: 400,
                max_retry_wait: Duration::from_secs(1),
            },
        };
        let mut start = RunStart::new("01JFUZZ0000000000000000000", sample_event());
        start.dry_run = true;
        let outcome = futures::executor::block_on(lanyard_flow::run_flow(flow, start, &env));
        assert!(outcome.ended >= outcome.started);
    }
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 7, 12, 0, 0).single().expect("a valid time")
}

fn sample_event() -> Value {
    json!({
        "uuid": "8a2a1b3c-0000-11ef-9e0d-8f1b2c3d4e5f",
        "published": "2026-03-07T10:00:00.123Z",
        "eventType": "user.lifecycle.deactivate",
        "version": "0", "severity": "INFO", "displayMessage": "Deactivate Okta user",
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.example", "displayName": "Admin"},
        "client": {"ipAddress": "10.0.0.1"},
        "outcome": {"result": "SUCCESS"},
        "target": [{"id": "00u1", "type": "User", "alternateId": "jo@acme.example", "displayName": "Jo"}],
        "transaction": {"type": "WEB", "id": "t1", "detail": {}},
        "debugContext": {"debugData": {}}
    })
}

/// The built-in card names (as the daemon's catalog knows them), a few with
/// input schemas, so `with` keys are checked too.
fn catalog() -> &'static StaticCatalog {
    static CATALOG: OnceLock<StaticCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let schema = |props: &[&str], required: &[&str]| {
            let p: serde_json::Map<String, Value> =
                props.iter().map(|k| (k.to_string(), json!({}))).collect();
            json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
        };
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
            "lanyard.echo",
        ] {
            cards.push(CardSummary::new(name).with_version("1.0.0"));
        }
        StaticCatalog::new(cards)
    })
}

/// A card that answers with its input: every card step succeeds, so a dry run
/// walks as far into the flow as its logic goes.
struct Echo;

#[async_trait]
impl CardInvoker for Echo {
    async fn invoke(&self, call: CardCall) -> CardResult {
        CardResult::ok(&call.card.to_string(), call.input)
    }
}
