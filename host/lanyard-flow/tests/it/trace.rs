//! The text trace of runs, from their history records.

use crate::support::*;
use lanyard_core::CardError;
use lanyard_core::history::{RunRecord, RunStatus, TriggerInfo};
use lanyard_flow::*;
use serde_json::json;

#[tokio::test]
async fn a_failed_dry_run_reads_step_by_step() {
    let cards = FakeCards::new()
        .on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))])
        .on(
            "okta.clear-sessions",
            vec![
                Err(CardError::unavailable("okta answered 503")),
                Err(CardError::denied("missing okta.sessions.manage")),
            ],
        )
        .on(
            "okta.list-user-groups",
            vec![Ok(
                json!([{"id": "g1", "name": "Everyone"}, {"id": "g2", "name": "GitHub"}]),
            )],
        )
        .on(
            "tables.put",
            vec![Err(CardError::denied(
                "no grant for table offboarding-audit",
            ))],
        );
    let h = harness(cards, vec![]);
    let mut start = RunStart::new("01JRUN", deactivate_event("00u1"));
    start.dry_run = true;
    let flow = good("offboarding.yaml");
    let out = run_flow(&flow, start.clone(), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    let mut record = RunRecord {
        id: start.run_id.clone(),
        flow: flow.name.clone(),
        flow_digest: flow.digest.clone(),
        trigger: TriggerInfo::Okta {
            event_type: "user.lifecycle.deactivate".into(),
            event_uuid: "8a2a1b3c-0000-11ef-9e0d-8f1b2c3d4e5f".into(),
            source: "hook".into(),
        },
        input: start.input.clone(),
        status: RunStatus::Running,
        created: t0(),
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject: Some("00u1".into()),
        dry_run: true,
        wait: None,
    };
    out.apply_to(&mut record);
    let text = render_trace(&record, &h.journal.records(), &TraceOptions::default());
    insta::assert_snapshot!("trace-offboarding-dry-run", text);
}

#[tokio::test]
async fn a_successful_run_with_branches_and_a_return() {
    let cards = FakeCards::new().on("okta.get-user", vec![Ok(user("00u9", "al@acme.com"))]);
    let h = harness(cards, vec![]);
    let flow = good("api-check.yaml");
    let start = RunStart::new("01JAPI", json!({"user": "00u9"}));
    let out = run_flow(&flow, start.clone(), &h.env).await;
    let mut record = RunRecord {
        id: start.run_id.clone(),
        flow: flow.name.clone(),
        flow_digest: flow.digest.clone(),
        trigger: TriggerInfo::Api,
        input: start.input.clone(),
        status: RunStatus::Running,
        created: t0(),
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject: None,
        dry_run: false,
        wait: None,
    };
    out.apply_to(&mut record);
    insta::assert_snapshot!(
        "trace-api-check",
        render_trace(&record, &h.journal.records(), &TraceOptions::default())
    );
}
