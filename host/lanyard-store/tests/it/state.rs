use crate::support::t0;
use chrono::Duration;
use lanyard_store::{ScheduleState, StateStore, Store};

#[tokio::test]
async fn schedule_states_and_cursors_persist() {
    let dir = tempfile::tempdir().unwrap();
    let state = ScheduleState {
        next_fire: t0() + Duration::days(1),
        last_fire: Some(t0()),
        running_run: Some(lanyard_store::new_run_id(t0())),
    };
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schedule_state("mfa-reminder").await.unwrap(), None);
        store
            .set_schedule_state("mfa-reminder", &state)
            .await
            .unwrap();
        store.set_schedule_state("gone", &state).await.unwrap();
        store.remove_schedule_state("gone").await.unwrap();
        assert_eq!(store.cursor("system-log").await.unwrap(), None);
        store
            .set_cursor("system-log", "2026-11-28T10:00:00.123Z|abc")
            .await
            .unwrap();
        store.sync_blocking().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.schedule_state("mfa-reminder").await.unwrap(),
        Some(state.clone())
    );
    assert_eq!(
        store.schedule_states().await.unwrap(),
        [("mfa-reminder".to_string(), state)]
    );
    assert_eq!(
        store.cursor("system-log").await.unwrap().as_deref(),
        Some("2026-11-28T10:00:00.123Z|abc")
    );
    assert!(store.set_cursor("", "x").await.is_err());
    assert!(store.set_cursor("big", &"x".repeat(100_000)).await.is_err());
}
