//! Okta Event Hooks, the receiving side: the delivery envelope, its parsing, the
//! one-time verification answer and the shared-secret check.
//!
//! The daemon calls these from its HTTP handler; the sandbox builds its
//! deliveries with the same types, so both ends agree on the wire format. This
//! module does no I/O and keeps no state (dedupe by `uuid` is the inbox's job).

use chrono::{DateTime, Utc};
use lanyard_core::LogEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request header of the verification GET.
pub const VERIFICATION_HEADER: &str = "x-okta-verification-challenge";
/// `eventType` of every delivery envelope.
pub const ENVELOPE_EVENT_TYPE: &str = "com.okta.event_hook";
/// The largest delivery body accepted (Okta batches stay far below).
pub const MAX_DELIVERY_BYTES: usize = 4 * 1024 * 1024;
/// The most events accepted in one delivery.
pub const MAX_DELIVERY_EVENTS: usize = 1000;

/// One Event Hook delivery, as Okta POSTs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHookPayload {
    pub event_type: String,
    pub event_type_version: String,
    pub cloud_events_version: String,
    /// The hook's URL in the org: `https://<org>/api/v1/eventHooks/<id>`.
    pub source: String,
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    pub content_type: String,
    pub data: EventHookData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventHookData {
    pub events: Vec<LogEvent>,
}

impl EventHookPayload {
    /// An envelope around `events` (how the sandbox delivers).
    pub fn new(
        source: String,
        event_id: String,
        event_time: DateTime<Utc>,
        events: Vec<LogEvent>,
    ) -> Self {
        EventHookPayload {
            event_type: ENVELOPE_EVENT_TYPE.to_string(),
            event_type_version: "1.0".to_string(),
            cloud_events_version: "0.1".to_string(),
            source,
            event_id,
            event_time,
            content_type: "application/json".to_string(),
            data: EventHookData { events },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("event hook delivery of {0} bytes is over the {MAX_DELIVERY_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("event hook delivery is not the okta envelope: {0}")]
    NotEnvelope(String),
    #[error("event hook delivery has eventType `{0}`, expected `{ENVELOPE_EVENT_TYPE}`")]
    WrongEnvelopeType(String),
    #[error("event hook delivery carries {0} events, over the {MAX_DELIVERY_EVENTS}-event limit")]
    TooManyEvents(usize),
    #[error("event hook delivery: event {index} is not a system log event: {reason}")]
    BadEvent { index: usize, reason: String },
    #[error("verification challenge is missing, empty or longer than 1024 characters")]
    BadChallenge,
}

/// The whole envelope of a delivery body; any bad event fails it.
pub fn parse_payload(body: &[u8]) -> Result<EventHookPayload, HookError> {
    let (mut payload, events) = match parse_parts(body)? {
        Parts::WellFormed(payload) => return Ok(payload),
        Parts::Raw(payload, events) => (payload, events),
    };
    for (index, ev) in events.iter().enumerate() {
        match LogEvent::deserialize(ev) {
            Ok(e) => payload.data.events.push(e),
            Err(e) => {
                return Err(HookError::BadEvent {
                    index,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(payload)
}

/// One event of a delivery that is not a System Log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEvent {
    /// Its place in the delivery's `data.events`.
    pub index: usize,
    /// Its `uuid` and `eventType`, when they are strings: what an operator
    /// finds it by in the org's System Log. Unbounded (the body is).
    pub uuid: Option<String>,
    pub event_type: Option<String>,
    /// Why it is not an event.
    pub reason: String,
}

/// A delivery read event by event: its envelope with the events that parse,
/// and the ones that do not.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub payload: EventHookPayload,
    pub bad: Vec<BadEvent>,
}

/// A delivery body, event by event: one bad event does not cost the others
/// (Okta does not deliver again what was answered with a 4xx). Fails only
/// if the body is not a delivery at all: not JSON, not the envelope, over a
/// limit.
pub fn parse_events(body: &[u8]) -> Result<Delivery, HookError> {
    let (mut payload, events) = match parse_parts(body)? {
        Parts::WellFormed(payload) => {
            return Ok(Delivery {
                payload,
                bad: Vec::new(),
            });
        }
        Parts::Raw(payload, events) => (payload, events),
    };
    let mut bad = Vec::new();
    for (index, ev) in events.iter().enumerate() {
        match LogEvent::deserialize(ev) {
            Ok(e) => payload.data.events.push(e),
            Err(e) => {
                let text = |key: &str| ev.get(key).and_then(Value::as_str).map(str::to_string);
                bad.push(BadEvent {
                    index,
                    uuid: text("uuid"),
                    event_type: text("eventType"),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(Delivery { payload, bad })
}

enum Parts {
    /// Every event parsed.
    WellFormed(EventHookPayload),
    /// The envelope with no events yet, and the events as JSON.
    Raw(EventHookPayload, Vec<Value>),
}

/// The envelope of a delivery, checked, and its events: parsed if they all
/// are events, else as JSON for the caller to take one by one.
fn parse_parts(body: &[u8]) -> Result<Parts, HookError> {
    if body.len() > MAX_DELIVERY_BYTES {
        return Err(HookError::TooLarge(body.len()));
    }
    // A well-formed delivery in one pass, straight into the envelope: the
    // daemon's hot path (the checks below cost three passes over every event,
    // a tenth of the daemon's time under hook load). What passes here passes
    // the checks below too, with the same events.
    if let Ok(payload) = serde_json::from_slice::<EventHookPayload>(body)
        && payload.event_type == ENVELOPE_EVENT_TYPE
        && payload.data.events.len() <= MAX_DELIVERY_EVENTS
    {
        return Ok(Parts::WellFormed(payload));
    }
    // Anything else in two steps, so a bad event is told apart from a bad
    // envelope.
    let mut raw: Value =
        serde_json::from_slice(body).map_err(|e| HookError::NotEnvelope(e.to_string()))?;
    let event_type = raw
        .get("eventType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if event_type != ENVELOPE_EVENT_TYPE {
        return Err(HookError::WrongEnvelopeType(event_type.to_string()));
    }
    let events = match raw.pointer_mut("/data/events").map(Value::take) {
        Some(Value::Array(events)) => events,
        _ => return Err(HookError::NotEnvelope("`data.events` is not an array".into())),
    };
    if events.len() > MAX_DELIVERY_EVENTS {
        return Err(HookError::TooManyEvents(events.len()));
    }
    // The rest of the envelope, with the events taken out.
    raw["data"]["events"] = Value::Array(Vec::new());
    let payload = serde_json::from_value(raw).map_err(|e| HookError::NotEnvelope(e.to_string()))?;
    Ok(Parts::Raw(payload, events))
}

/// The System Log events of a delivery, in the order Okta sent them (which need
/// not be `published` order; Okta may also deliver an event twice).
pub fn parse_delivery(body: &[u8]) -> Result<Vec<LogEvent>, HookError> {
    Ok(parse_payload(body)?.data.events)
}

/// The JSON body that answers the verification GET: `{"verification": "<challenge>"}`.
pub fn verification_response(challenge: &str) -> Result<String, HookError> {
    if challenge.is_empty() || challenge.len() > 1024 {
        return Err(HookError::BadChallenge);
    }
    Ok(serde_json::json!({ "verification": challenge }).to_string())
}

/// Whether the delivery's `Authorization` header is the configured secret
/// (compared in constant time).
pub fn authorization_matches(expected: &str, received: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match received {
        Some(got) => bool::from(expected.as_bytes().ct_eq(got.as_bytes())),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(uuid: &str) -> Value {
        json!({
            "uuid": uuid, "published": "2026-11-28T10:00:00.123Z", "eventType": "user.lifecycle.deactivate",
            "version": "0", "severity": "INFO", "displayMessage": "Deactivate Okta user",
            "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.example", "displayName": "Admin"},
            "client": {}, "outcome": {"result": "SUCCESS"},
            "target": [{"id": "00u1", "type": "User", "alternateId": "jo@acme.example", "displayName": "Jo"}],
            "transaction": {"type": "WEB", "id": "t1", "detail": {}}, "debugContext": {"debugData": {}}
        })
    }

    fn envelope(events: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
            "source": "https://acme.okta.com/api/v1/eventHooks/who8", "eventId": "e1",
            "eventTime": "2026-11-28T10:00:01.000Z", "contentType": "application/json",
            "data": {"events": events}
        }))
        .unwrap()
    }

    #[test]
    fn deliveries_parse_into_log_events() {
        let events = parse_delivery(&envelope(vec![event("a"), event("b")])).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].uuid, "b");
        assert_eq!(events[0].target_user().unwrap().id, "00u1");
    }

    #[test]
    fn bad_deliveries_say_what_is_wrong() {
        assert!(matches!(
            parse_delivery(b"{"),
            Err(HookError::NotEnvelope(_))
        ));
        let mut wrong = serde_json::from_slice::<Value>(&envelope(vec![])).unwrap();
        wrong["eventType"] = json!("com.example");
        assert!(matches!(
            parse_delivery(&serde_json::to_vec(&wrong).unwrap()),
            Err(HookError::WrongEnvelopeType(t)) if t == "com.example"
        ));
        let mut bad = event("c");
        bad.as_object_mut().unwrap().remove("actor");
        assert!(matches!(
            parse_delivery(&envelope(vec![event("a"), bad])),
            Err(HookError::BadEvent { index: 1, .. })
        ));
        assert!(matches!(
            parse_delivery(&vec![b' '; MAX_DELIVERY_BYTES + 1]),
            Err(HookError::TooLarge(_))
        ));
    }

    #[test]
    fn a_bad_event_costs_only_itself_when_read_event_by_event() {
        let mut no_uuid = event("x");
        no_uuid.as_object_mut().unwrap().remove("uuid");
        let mut bad_time = event("t1");
        bad_time["published"] = json!("yesterday");
        let body = envelope(vec![event("a"), no_uuid, event("b"), bad_time, json!(7)]);
        let d = parse_events(&body).unwrap();
        let good: Vec<&str> = d.payload.data.events.iter().map(|e| e.uuid.as_str()).collect();
        assert_eq!(good, ["a", "b"]);
        assert_eq!(d.payload.event_id, "e1", "the envelope is kept");
        let bad: Vec<(usize, Option<&str>, Option<&str>)> = d
            .bad
            .iter()
            .map(|b| (b.index, b.uuid.as_deref(), b.event_type.as_deref()))
            .collect();
        assert_eq!(
            bad,
            [
                (1, None, Some("user.lifecycle.deactivate")),
                (3, Some("t1"), Some("user.lifecycle.deactivate")),
                (4, None, None)
            ]
        );
        assert!(d.bad[0].reason.contains("missing field `uuid`"), "{}", d.bad[0].reason);
        // The strict reading refuses the same body at its first bad event.
        assert!(matches!(parse_payload(&body), Err(HookError::BadEvent { index: 1, .. })));
        // A well-formed delivery reads the same both ways.
        let fine = envelope(vec![event("a"), event("b")]);
        assert_eq!(parse_events(&fine).unwrap().payload, parse_payload(&fine).unwrap());
        assert!(parse_events(&fine).unwrap().bad.is_empty());
        // What is not a delivery is still refused whole.
        assert!(matches!(parse_events(b"[1]"), Err(HookError::WrongEnvelopeType(_))));
        let mut headless = serde_json::from_slice::<Value>(&envelope(vec![event("a")])).unwrap();
        headless.as_object_mut().unwrap().remove("eventId");
        assert!(matches!(
            parse_events(&serde_json::to_vec(&headless).unwrap()),
            Err(HookError::NotEnvelope(m)) if m.contains("eventId")
        ));
        let mut no_list = serde_json::from_slice::<Value>(&envelope(vec![])).unwrap();
        no_list["data"]["events"] = json!({});
        assert!(matches!(
            parse_events(&serde_json::to_vec(&no_list).unwrap()),
            Err(HookError::NotEnvelope(_))
        ));
    }

    #[test]
    fn verification_echoes_the_challenge() {
        let body = verification_response("abc-123").unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"verification": "abc-123"})
        );
        assert!(verification_response("").is_err());
        assert!(authorization_matches("s3cret", Some("s3cret")));
        assert!(!authorization_matches("s3cret", Some("s3cre")));
        assert!(!authorization_matches("s3cret", None));
    }
}
