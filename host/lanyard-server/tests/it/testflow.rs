//! `lanyard run`: Test Flow through the library function.

use crate::support::*;
use lanyard_core::history::RunStatus;
use lanyard_server::testflow::{run_once, TestFlow};
use lanyard_server::Config;

const OFFBOARD: &str = r#"
name: offboard-test
description: Look the user up, suspend them, write an audit row.
trigger:
  okta: user.lifecycle.deactivate
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.target[0].id }}" }
  - id: suspend
    card: okta.suspend
    with: { user: "{{ user.id }}" }
  - card: tables.put
    with: { table: audit, key: "{{ user.id }}", value: { login: "{{ user.profile.login }}" } }
  - return: "{{ user.profile.login }}"
"#;

#[tokio::test]
async fn a_dry_run_reads_for_real_and_records_writes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    let flow = dir.path().join("offboard.yaml");
    std::fs::write(&flow, OFFBOARD).unwrap();
    let cfg = dir.path().join("lanyard.toml");
    std::fs::write(&cfg, config_text("[cards.\"tables.put\"]\ngrants = [\"table:audit\"]")).unwrap();
    let config = Config::load(&cfg).unwrap();
    // The sandbox is seeded from a fixed seed: its first active user is known
    // before the engine starts it.
    let org = lanyard_sandbox::okta::SandboxOrg::with_defaults();
    let user = org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    let delivery = envelope(&[event("tf-1", "user.lifecycle.deactivate", &user.id, "00uhuman", "2026-01-05T10:00:00Z")]);
    let result = run_once(TestFlow {
        config,
        flow: flow.display().to_string(),
        event: delivery,
        dry_run: true,
        observer: None,
    })
    .await
    .unwrap();
    assert_eq!(result.run.status, RunStatus::Succeeded, "{}", result.trace);
    assert!(result.run.dry_run);
    assert_eq!(result.run.output.as_ref().unwrap(), user.login());
    assert!(result.trace.contains("would:"), "{}", result.trace);
    assert!(result.trace.contains("okta.get-user"), "{}", result.trace);
    let suspend = result.steps.iter().find(|s| s.path == "suspend").unwrap();
    assert!(!suspend.effects.is_empty(), "{suspend:?}");
    // Recorded in the history like any other run.
    let store = lanyard_store::Store::open(dir.path().join("data")).unwrap();
    let kept = lanyard_store::RunStore::get_run(&store, &result.run.id).await.unwrap().unwrap();
    assert_eq!(kept.status, RunStatus::Succeeded);
    assert!(store.table_get("audit", &user.id).unwrap().is_none(), "a dry run writes no table row");
}
