//! Loop protection: the runaway breaker and the global error flow.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};

const LOOPY: &str = r#"
name: loopy
description: Runs on every profile update (as a flow that causes its own trigger would).
trigger:
  okta: user.account.update_profile
steps:
  - return: "ok"
"#;

const FAILING: &str = r#"
name: failing
description: Always fails.
trigger: api
steps:
  - fail: "boom {{ event.n }}"
"#;

const ERRORS: &str = r#"
name: on-errors
description: The global error flow.
trigger:
  flow:
    inputs:
      run: { type: object, required: true }
steps:
  - return: { flow: "{{ inputs.run.flow }}", status: "{{ inputs.run.status }}" }
"#;

#[tokio::test]
async fn the_breaker_suppresses_runaway_runs_and_alerts_the_error_flow_once() {
    let d = daemon()
        .flow("loopy.yaml", LOOPY)
        .flow("errors.yaml", ERRORS)
        .config("[loop_protection]\nwindow = \"10m\"\nmax_runs = 2\n[error_flow]\nname = \"on-errors\"")
        .start()
        .await;
    let events: Vec<_> = (0..5)
        .map(|i| event(&format!("loop-{i}"), "user.account.update_profile", "00uloop", "00uhuman", &format!("2026-01-05T10:00:0{i}Z")))
        .collect();
    assert_eq!(d.deliver(&events).await.0, 200);
    let runs = d.wait_for_runs("loopy", 5).await;
    let mut st = statuses(&runs);
    st.sort_by_key(|s| s.as_str());
    assert_eq!(st, [RunStatus::Succeeded, RunStatus::Succeeded, RunStatus::Suppressed, RunStatus::Suppressed, RunStatus::Suppressed]);
    for r in runs.iter().filter(|r| r.status == RunStatus::Suppressed) {
        assert!(r.reason.as_ref().unwrap().contains("runaway breaker"), "{:?}", r.reason);
    }
    // One alert for the trip, not one per suppressed run.
    let alerts = d.wait_for_runs("on-errors", 1).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].output.as_ref().unwrap()["flow"], "loopy");
    assert_eq!(alerts[0].output.as_ref().unwrap()["status"], "suppressed");
    assert!(matches!(&alerts[0].trigger, TriggerInfo::Flow { parent_step, .. } if parent_step == "error_flow"));
    // Another user is not held back.
    d.deliver(&[event("loop-x", "user.account.update_profile", "00uother", "00uhuman", "2026-01-05T10:01:00Z")]).await;
    let runs = d.wait_for_runs("loopy", 6).await;
    assert!(runs.iter().any(|r| r.subject.as_deref() == Some("00uother") && r.status == RunStatus::Succeeded));
    let metrics = d.http.get(d.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("lanyard_runs_suppressed_total{flow=\"loopy\"} 3"), "{metrics}");
    d.stop().await;
}

#[tokio::test]
async fn every_failed_run_is_told_to_the_error_flow_but_not_its_own_failures() {
    let d = daemon()
        .flow("failing.yaml", FAILING)
        .flow("errors.yaml", ERRORS)
        .config("[error_flow]\nname = \"on-errors\"")
        .start()
        .await;
    for n in 0..2 {
        let r = d
            .http
            .post(d.url("/api/v1/flows/failing/invoke?mode=async"))
            .bearer_auth(INVOKE)
            .json(&serde_json::json!({ "n": n }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let failed = d.wait_for_runs("failing", 2).await;
    assert_eq!(statuses(&failed), [RunStatus::Failed, RunStatus::Failed]);
    let told = d.wait_for_runs("on-errors", 2).await;
    let parents: Vec<String> = told
        .iter()
        .map(|r| match &r.trigger {
            TriggerInfo::Flow { parent_run, .. } => parent_run.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    for f in &failed {
        assert!(parents.contains(&f.id));
    }
    d.stop().await;
}
