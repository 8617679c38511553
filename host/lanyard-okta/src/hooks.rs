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

/// The whole envelope of a delivery body.
pub fn parse_payload(body: &[u8]) -> Result<EventHookPayload, HookError> {
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
        return Ok(payload);
    }
    // Anything else in two steps, so a bad event is reported by its index,
    // not as a bad envelope.
    let raw: Value =
        serde_json::from_slice(body).map_err(|e| HookError::NotEnvelope(e.to_string()))?;
    let event_type = raw
        .get("eventType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if event_type != ENVELOPE_EVENT_TYPE {
        return Err(HookError::WrongEnvelopeType(event_type.to_string()));
    }
    let events = raw
        .pointer("/data/events")
        .and_then(Value::as_array)
        .ok_or_else(|| HookError::NotEnvelope("`data.events` is not an array".into()))?;
    if events.len() > MAX_DELIVERY_EVENTS {
        return Err(HookError::TooManyEvents(events.len()));
    }
    for (index, ev) in events.iter().enumerate() {
        if let Err(e) = serde_json::from_value::<LogEvent>(ev.clone()) {
            return Err(HookError::BadEvent {
                index,
                reason: e.to_string(),
            });
        }
    }
    serde_json::from_value(raw).map_err(|e| HookError::NotEnvelope(e.to_string()))
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
