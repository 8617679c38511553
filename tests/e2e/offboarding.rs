//! Use case 2, offboarding: an admin deactivates a user in Okta; the sandbox
//! delivers `user.lifecycle.deactivate`; the flow clears sessions and OAuth
//! tokens, removes every group Okta lets it change, locks the leaver's Macs
//! through the custom card `acme.jamf-offboard` (published to the registry,
//! granted `connection:jamf`) against the JAMF stand-in, posts the leaver's
//! details to IT in Slack, and writes an audit row.

use crate::harness::{prof, World, JAMF_TOKEN, OFFBOARDING, SMTP_PASSWORD};
use lanyard_core::history::TriggerInfo;
use lanyard_core::okta::LifecycleOp;
use lanyard_connect::sandbox::SlackRequestKind;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_is_offboarded_everywhere() {
    let w = World::start(Default::default()).await;
    leavers_are_offboarded(&w, OFFBOARDING).await;
    w.stop().await;
}

/// What `flow` does to a leaver, asserted whole: the shipped flow's outcome,
/// and the one an admin builds in the browser (`built::offboarding`) must
/// match it (same steps, Okta state, JAMF commands, Slack text, audit row).
pub async fn leavers_are_offboarded(w: &World, flow: &str) {
    let service = w.org.service_user_id().to_string();

    // A settled engineer, signed in (a session and an OAuth grant), with Macs.
    let leaver = w
        .seeded_users(|u| {
            u.status == "ACTIVE"
                && prof(u, "department") == "Engineering"
                && prof(u, "userType") == "Employee"
                && ["Software Engineer", "Senior Software Engineer", "Staff Engineer"].contains(&prof(u, "title"))
        })
        .into_iter()
        .find(|u| {
            let g = w.group_names(&u.id);
            ["Engineering", "GitHub", "Jira"].iter().all(|n| g.contains(*n))
        })
        .expect("a seeded engineer in GitHub and Jira");
    let (first, last, login, email, title) =
        (prof(&leaver, "firstName"), prof(&leaver, "lastName"), leaver.login(), prof(&leaver, "email"), prof(&leaver, "title"));
    w.sandbox_admin.sign_in(login).await.expect("the leaver signs in");
    assert!(w.org.sessions_of(&leaver.id) >= 1 && w.org.oauth_tokens_of(&leaver.id) >= 1);
    let groups_before = w.group_names(&leaver.id);
    let removable: BTreeSet<String> = groups_before.iter().filter(|g| *g != "Everyone").cloned().collect();
    let macbook = format!("{first}'s MacBook Pro");
    w.jamf.add_computers(email, &[(17, &macbook, Some("mgmt-17")), (23, "Lab Mac mini", None)]);

    w.admin.lifecycle(&leaver.id, LifecycleOp::Deactivate).await.expect("the admin deactivates the user");
    w.settle().await;

    // Exactly one run, from the hook, and it succeeded without its error paths.
    assert_eq!(w.run_counts().await, BTreeMap::from([(flow.to_string(), 1)]));
    let run = w.runs(flow).await.remove(0);
    w.assert_succeeded(&run).await;
    let deactivated = w.events_about("user.lifecycle.deactivate", &leaver.id);
    assert_eq!(deactivated.len(), 1);
    assert_eq!(
        run.trigger,
        TriggerInfo::Okta {
            event_type: "user.lifecycle.deactivate".into(),
            event_uuid: deactivated[0].uuid.clone(),
            source: "hook".into()
        }
    );
    let steps = w.steps(&run).await;
    let top: Vec<&str> = steps.iter().filter(|s| !s.path.contains('/')).map(|s| s.path.as_str()).collect();
    assert_eq!(top, ["user", "sessions", "groups", "devices", "notify", "audit"], "{}", w.trace(&run).await);
    assert!(steps.iter().all(|s| s.error.is_none() && s.attempts == 1), "{}", w.trace(&run).await);

    // Okta: deactivated, no session or OAuth token left, cleared by lanyard's
    // service account with token revocation, every group but Everyone gone.
    assert_eq!(w.org.user(&leaver.id).unwrap().status, "DEPROVISIONED");
    assert_eq!((w.org.sessions_of(&leaver.id), w.org.oauth_tokens_of(&leaver.id)), (0, 0));
    let cleared = w.events_about("user.session.clear", &leaver.id);
    assert_eq!(cleared.len(), 1, "{cleared:#?}");
    assert_eq!(cleared[0].actor.id, service);
    assert_eq!(cleared[0].rest["debugContext"]["debugData"]["revokeOAuthTokens"], "true");
    assert_eq!(w.group_names(&leaver.id), BTreeSet::from(["Everyone".to_string()]));
    let removed_events = w.events_about("group.user_membership.remove", &leaver.id);
    assert_eq!(removed_events.len(), removable.len());
    assert!(removed_events.iter().all(|e| e.actor.id == service && w.delivered(&e.uuid)));
    let groups_out = w.step(&run, "groups").await.output.unwrap();
    assert_eq!(groups_out["removed"], removable.len());
    assert_eq!(groups_out["skipped"], 1);
    let removed_names: Vec<String> = groups_out["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["outcome"] == "changed")
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(removed_names.iter().cloned().collect::<BTreeSet<_>>(), removable);

    // JAMF: the inventory search by email, then one lock command for the one
    // managed Mac, with the connection's token injected by the host.
    let devices = w.step(&run, "devices").await;
    assert_eq!(devices.card.as_deref(), Some("acme.jamf-offboard@1.0.0"));
    let out = devices.output.clone().unwrap();
    let pin = out["pin"].as_str().expect("the card generated a PIN").to_string();
    assert!(pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    assert_eq!(
        out["actions"],
        json!([
            { "device_id": "17", "command": "DEVICE_LOCK", "status": "sent", "command_id": "cmd-0001" },
            { "device_id": "23", "command": "DEVICE_LOCK", "status": "skipped", "reason": "not managed (no management id)" }
        ])
    );
    let seen = w.jamf.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    // The card percent-encodes the RSQL filter as RFC 3986 says.
    let filter = format!("userAndLocation.email%3D%3D%22{}%22", email.replace('@', "%40"));
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].target,
        format!(
            "/api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION&page=0&page-size=100&filter={filter}"
        )
    );
    assert_eq!((seen[1].method.as_str(), seen[1].target.as_str()), ("POST", "/api/v2/mdm/commands"));
    assert_eq!(
        seen[1].json(),
        json!({
            "clientData": [{ "managementId": "mgmt-17" }],
            "commandData": { "commandType": "DEVICE_LOCK", "pin": pin, "message": "This Mac belongs to Acme. Please return it to IT." }
        })
    );
    assert_eq!(seen[1].header("idempotency-key"), Some(format!("{}/devices/1/17", run.id).as_str()));
    for r in &seen {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {JAMF_TOKEN}").as_str()));
    }
    let logs: Vec<&str> = devices.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        logs,
        [
            format!("jamf has 2 computer(s) for {email}").as_str(),
            format!("sent DEVICE_LOCK to {macbook}").as_str(),
            "computer 23 is not managed; skipped"
        ]
    );

    // Slack: exactly this Web API request.
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let p = &posted[0];
    assert!(p.accepted, "{}", p.outcome);
    assert_eq!((p.kind, p.method.as_str(), p.path.as_str()), (SlackRequestKind::PostMessage, "POST", "/api/chat.postMessage"));
    assert_eq!(p.header("authorization"), Some(format!("Bearer {}", w.slack.config().bot_token).as_str()));
    assert!(p.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(
        p.json,
        Some(json!({
            "channel": "#it-ops",
            "text": format!(
                ":wave: Offboarded *{first} {last}* ({login})\n\
                 Department: Engineering · Title: {title}\n\
                 Sessions and OAuth tokens: revoked\n\
                 Groups removed: {} (kept 1 that Okta manages)\n\
                 Macs locked: 1",
                removable.len()
            )
        }))
    );
    let ts = w.step(&run, "notify").await.output.unwrap()["ts"].clone();
    assert!(ts.is_string());

    // The audit row.
    let row = w.row("offboarding-audit", &leaver.id).await.expect("the audit row");
    let offboarded_at = row["offboarded_at"].as_str().unwrap_or_default();
    assert!(chrono::DateTime::parse_from_rfc3339(offboarded_at).is_ok(), "{row}");
    let expected = json!({
        "login": login,
        "name": format!("{first} {last}"),
        "department": "Engineering",
        "deactivated_at": run.input["published"],
        "offboarded_at": offboarded_at,
        "run": run.id,
        "sessions_revoked": true,
        "groups_removed": removed_names,
        "devices": [macbook, "Lab Mac mini"],
        "pin": pin,
        "slack_ts": ts,
    });
    assert_eq!(row, expected);

    // No mail, and no secret in the history.
    assert!(w.smtp.messages().is_empty());
    let history = serde_json::to_string(&steps).unwrap() + &serde_json::to_string(&run).unwrap();
    for secret in [JAMF_TOKEN, w.slack.config().bot_token.as_str(), SMTP_PASSWORD, w.org.service_token()] {
        assert!(!history.contains(secret), "a secret reached the history");
    }
}
