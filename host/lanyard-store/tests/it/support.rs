//! Realistic records for the tests.

use chrono::{DateTime, TimeZone, Utc};
use lanyard_core::LogEvent;
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use serde_json::json;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
}

/// An Okta `user.lifecycle.deactivate` event as Event Hooks deliver it.
pub fn event(uuid: &str, user: &str) -> LogEvent {
    serde_json::from_value(json!({
        "uuid": uuid,
        "published": "2026-11-28T10:00:00.123Z",
        "eventType": "user.lifecycle.deactivate",
        "version": "0",
        "severity": "INFO",
        "displayMessage": "Deactivate Okta user",
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.com", "displayName": "Admin", "detailEntry": null},
        "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"}, "zone": "null", "device": "Computer", "ipAddress": "10.0.0.1",
                   "geographicalContext": {"city": "Paris", "state": "Ile-de-France", "country": "France", "postalCode": "75001", "geolocation": {"lat": 48.86, "lon": 2.35}}},
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": [{"id": user, "type": "User", "alternateId": format!("{user}@acme.com"), "displayName": "Jo Doe", "detailEntry": null}],
        "transaction": {"type": "WEB", "id": "WbXyZ123", "detail": {}},
        "debugContext": {"debugData": {"requestId": "XyZ123", "requestUri": "/api/v1/users/00u1/lifecycle/deactivate", "url": "/api/v1/users/00u1/lifecycle/deactivate?"}},
        "legacyEventType": "core.user.config.user_deactivated",
        "authenticationContext": {"authenticationStep": 0, "externalSessionId": "102abc"},
        "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null}
    }))
    .expect("a valid LogEvent")
}

pub fn run(id: String, flow: &str, status: RunStatus, created: DateTime<Utc>) -> RunRecord {
    RunRecord {
        id,
        flow: flow.to_string(),
        flow_digest: "ab".repeat(32),
        trigger: TriggerInfo::Manual,
        input: json!({"user": {"id": "00u1", "profile": {"login": "jo@acme.com"}}}),
        status,
        created,
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject: Some("00u1".into()),
        dry_run: false,
        wait: None,
    }
}

pub fn run_for_event(ev: &LogEvent, flow: &str, created: DateTime<Utc>) -> RunRecord {
    RunRecord {
        trigger: TriggerInfo::Okta {
            event_type: ev.event_type.clone(),
            event_uuid: ev.uuid.clone(),
            source: "hook".into(),
        },
        input: ev.to_value(),
        subject: Some(ev.subject_key()),
        ..run(
            lanyard_store::new_run_id(created),
            flow,
            RunStatus::Queued,
            created,
        )
    }
}

pub fn step(run_id: &str, path: &str) -> StepRecord {
    StepRecord {
        run_id: run_id.to_string(),
        path: path.to_string(),
        kind: "card".into(),
        card: Some("okta.get-user@0.1.0".into()),
        input: Some(json!({"id": "00u1"})),
        output: Some(
            json!({"id": "00u1", "status": "DEPROVISIONED", "profile": {"login": "jo@acme.com", "department": "Engineering"}}),
        ),
        error: None,
        attempts: 1,
        started: t0(),
        duration_ms: 3,
        fuel_used: 12_345,
        logs: vec![],
        effects: vec![],
        seq: 0,
        withheld: false,
    }
}
