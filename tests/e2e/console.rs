//! The console in a real browser, against the seed's world (see `browser`).

use crate::browser::scenario;
use crate::harness::{ADMIN_TOKEN, HOOK_SECRET, Options, World};
use serde_json::json;

/// An Okta delivery with one event that cannot be read among good ones: the
/// good ones run, and the Runs page tells the admin which one was refused and
/// why (Okta does not send it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_shown_on_the_runs_page() {
    let world = World::start(Options::default()).await;
    let user = world.seeded_users(|u| u.status == "ACTIVE" && crate::harness::prof(u, "managerId") != "")[0].clone();
    let good = json!({
        "uuid": "console-good-1", "published": "2026-12-01T09:00:00.000Z", "eventType": "user.account.lock",
        "version": "0", "severity": "INFO", "displayMessage": "Max sign in attempts exceeded",
        "actor": { "id": user.id, "type": "User", "alternateId": crate::harness::prof(&user, "login"), "displayName": "A User" },
        "client": {}, "outcome": { "result": "SUCCESS" },
        "target": [{ "id": user.id, "type": "User", "alternateId": crate::harness::prof(&user, "login"), "displayName": "A User" }],
        "transaction": { "type": "WEB", "id": "t1", "detail": {} }, "debugContext": { "debugData": {} }
    });
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("uuid");
    let delivery = json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/who1", "eventId": "console-delivery-1",
        "eventTime": "2026-12-01T09:00:00.000Z", "contentType": "application/json",
        "data": { "events": [bad, good] }
    });
    let r = world
        .http
        .post(format!("{}/hooks/okta", world.base))
        .header("authorization", HOOK_SECRET)
        .json(&delivery)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    world.settle().await;
    let runs = world.runs("Lockout: Notify the User's Manager").await;
    assert_eq!(runs.len(), 1, "the good event ran");

    scenario(
        "rejected-events",
        &world.base,
        ADMIN_TOKEN,
        json!({ "flow": "Lockout: Notify the User's Manager", "reason_part": "uuid" }),
    )
    .await;
    world.stop().await;
}
