//! Use case 2, offboarding: an admin deactivates a user in Okta; the sandbox
//! delivers `user.lifecycle.deactivate`; the flow clears sessions and OAuth
//! tokens, removes every group Okta lets it change, locks the leaver's Macs
//! through the custom card `acme.jamf-offboard` (published to the registry,
//! granted `connection:jamf`) against the JAMF stand-in, deactivates their
//! Zoom user (`acme.zoom-deprovision`), hands their open Asana tasks to their
//! manager and removes them from Asana (`acme.asana-offboard`), posts the
//! leaver's details to IT in Slack, and writes an audit row. When Zoom and
//! Asana refuse, IT is told what to do by hand and the run goes on.

use crate::harness::{prof, World, ASANA_TOKEN, ASANA_WORKSPACE, JAMF_TOKEN, OFFBOARDING, SMTP_PASSWORD, ZOOM_TOKEN};
use lanyard_sandbox::AsanaTask;
use lanyard_core::history::TriggerInfo;
use lanyard_core::okta::LifecycleOp;
use lanyard_sandbox::SlackRequestKind;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_is_offboarded_everywhere() {
    let w = World::start(Default::default()).await;
    leavers_are_offboarded(&w, OFFBOARDING, Apps::JamfZoomAsana).await;
    w.stop().await;
}

/// Which services the flow under test offboards from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apps {
    /// The shipped flow: JAMF, Zoom and Asana.
    JamfZoomAsana,
    /// The flow an admin builds in the browser (`built::offboarding`): JAMF
    /// only (the Zoom and Asana steps are the same kind of custom-card step
    /// with an error path, which the JAMF step already shows).
    Jamf,
}

/// A seeded engineer in GitHub and Jira with an ACTIVE manager.
fn an_engineer(w: &World) -> lanyard_core::okta::User {
    w.seeded_users(|u| {
        u.status == "ACTIVE"
            && prof(u, "department") == "Engineering"
            && prof(u, "userType") == "Employee"
            && ["Software Engineer", "Senior Software Engineer", "Staff Engineer"].contains(&prof(u, "title"))
            && w.org.user(prof(u, "managerId")).is_some_and(|m| m.status == "ACTIVE")
    })
    .into_iter()
    .find(|u| {
        let g = w.group_names(&u.id);
        ["Engineering", "GitHub", "Jira"].iter().all(|n| g.contains(*n))
    })
    .expect("a seeded engineer in GitHub and Jira, with a manager")
}

/// Give `email` three open Asana tasks and one done; returns their gids (open first).
fn asana_tasks(w: &World, email: &str) -> Vec<String> {
    let gid = w.asana.user(email).expect("everyone ACTIVE is in Asana").gid;
    let mut gids = Vec::new();
    for (n, (name, completed)) in [("Quarterly access review", false), ("Update the runbook", false), ("Plan the offsite", false), ("Old report", true)]
        .into_iter()
        .enumerate()
    {
        let task = format!("12029000000000{n:02}");
        w.asana.add_task(AsanaTask { gid: task.clone(), name: name.into(), workspace: ASANA_WORKSPACE.0.into(), assignee: Some(gid.clone()), completed });
        gids.push(task);
    }
    gids
}

/// What `flow` does to a leaver, asserted whole: the shipped flow's outcome,
/// and the one an admin builds in the browser (`built::offboarding`) must
/// match it (same steps, Okta state, JAMF commands, Slack text, audit row),
/// for the `apps` it offboards from.
pub async fn leavers_are_offboarded(w: &World, flow: &str, apps: Apps) {
    let service = w.org.service_user_id().to_string();

    // A settled engineer, signed in (a session and an OAuth grant), with Macs
    // and open Asana tasks.
    let leaver = an_engineer(w);
    let manager = w.org.user(prof(&leaver, "managerId")).unwrap();
    let manager_email = prof(&manager, "email").to_string();
    let tasks = asana_tasks(w, prof(&leaver, "email"));
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
    match apps {
        Apps::JamfZoomAsana => assert_eq!(top, ["user", "sessions", "groups", "devices", "zoom", "manager", "asana", "notify", "audit"], "{}", w.trace(&run).await),
        Apps::Jamf => assert_eq!(top, ["user", "sessions", "groups", "devices", "notify", "audit"], "{}", w.trace(&run).await),
    }
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
        seen[1].json.clone().unwrap_or_default(),
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

    // Zoom and Asana, as their APIs saw it.
    let zoom_user = w.zoom.user(email).expect("the Zoom user stays (deactivated, not deleted)");
    let asana_leaver = w.asana.user(email).unwrap();
    let asana_manager = w.asana.user(&manager_email).unwrap();
    let assignees: Vec<Option<String>> = w.asana.tasks().into_iter().filter(|t| tasks.contains(&t.gid)).map(|t| t.assignee).collect();
    if apps == Apps::Jamf {
        assert!(w.zoom.requests().is_empty() && w.asana.requests().is_empty());
        assert_eq!(zoom_user.status, "active");
    } else {
        assert_eq!(zoom_user.status, "inactive");
        let zoom_seen: Vec<(String, String)> = w.zoom.requests().into_iter().map(|r| (r.method, r.target)).collect();
        assert_eq!(
            zoom_seen,
            [
                ("GET".to_string(), format!("/v2/users/{}", email.replace('@', "%40"))),
                ("PUT".to_string(), format!("/v2/users/{}/status", zoom_user.id))
            ]
        );
        assert!(w.zoom.requests().iter().all(|r| r.header("authorization") == Some(format!("Bearer {ZOOM_TOKEN}").as_str())));
        assert_eq!(w.zoom.requests()[1].json, Some(json!({"action": "deactivate"})));
        assert_eq!(w.step(&run, "zoom").await.output.unwrap()["status"], "inactive");

        // The three open tasks are the manager's now; the done one stays.
        let m = Some(asana_manager.gid.clone());
        assert_eq!(assignees, [m.clone(), m.clone(), m, Some(asana_leaver.gid.clone())]);
        assert!(asana_leaver.workspaces.is_empty(), "{asana_leaver:?}");
        let asana_seen: Vec<(String, String)> = w.asana.requests().into_iter().map(|r| (r.method, r.target.split('?').next().unwrap().to_string())).collect();
        let put = |t: &String| ("PUT".to_string(), format!("/api/1.0/tasks/{t}"));
        assert_eq!(
            asana_seen,
            [
                ("GET".to_string(), format!("/api/1.0/users/{}", email.replace('@', "%40"))),
                ("GET".to_string(), "/api/1.0/tasks".to_string()),
                put(&tasks[0]),
                put(&tasks[1]),
                put(&tasks[2]),
                ("POST".to_string(), format!("/api/1.0/workspaces/{}/removeUser", ASANA_WORKSPACE.0)),
            ]
        );
        assert!(w.asana.requests().iter().all(|r| r.header("authorization") == Some(format!("Bearer {ASANA_TOKEN}").as_str())));
        let out = w.step(&run, "asana").await.output.unwrap();
        assert_eq!(
            (out["status"].clone(), out["tasks_reassigned"].clone(), out["tasks_left"].clone(), out["transfer_to"].clone()),
            (json!("removed"), json!(3), json!(0), json!(manager_email))
        );
    }

    // Slack: exactly this Web API request.
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let p = &posted[0];
    assert!(p.accepted, "{}", p.outcome);
    assert_eq!((p.kind, p.method.as_str(), p.path.as_str()), (SlackRequestKind::PostMessage, "POST", "/api/chat.postMessage"));
    assert_eq!(p.header("authorization"), Some(format!("Bearer {}", w.slack.config().bot_token).as_str()));
    assert!(p.header("content-type").unwrap().starts_with("application/json"));
    let mut text = format!(
        ":wave: Offboarded *{first} {last}* ({login})\n\
         Department: Engineering · Title: {title}\n\
         Sessions and OAuth tokens: revoked\n\
         Groups removed: {} (kept 1 that Okta manages)\n\
         Macs locked: 1",
        removable.len()
    );
    if apps == Apps::JamfZoomAsana {
        text.push_str(&format!("\nZoom: inactive\nAsana: removed, open tasks moved to {manager_email}: 3"));
    }
    assert_eq!(p.json, Some(json!({ "channel": "#it-ops", "text": text })));
    let ts = w.step(&run, "notify").await.output.unwrap()["ts"].clone();
    assert!(ts.is_string());

    // The audit row.
    let row = w.row("offboarding-audit", &leaver.id).await.expect("the audit row");
    let offboarded_at = row["offboarded_at"].as_str().unwrap_or_default();
    assert!(chrono::DateTime::parse_from_rfc3339(offboarded_at).is_ok(), "{row}");
    let mut expected = json!({
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
    if apps == Apps::JamfZoomAsana {
        expected["zoom"] = json!("inactive");
        expected["asana_tasks_to"] = json!(manager_email);
        expected["asana_tasks_moved"] = json!(3);
    }
    assert_eq!(row, expected);

    // No mail, and no secret in the history.
    assert!(w.smtp.messages().is_empty());
    let history = serde_json::to_string(&steps).unwrap() + &serde_json::to_string(&run).unwrap();
    for secret in [JAMF_TOKEN, ZOOM_TOKEN, ASANA_TOKEN, w.slack.config().bot_token.as_str(), SMTP_PASSWORD, w.org.service_token()] {
        assert!(!history.contains(secret), "a secret reached the history");
    }
}

/// Zoom refusing the token and Asana refusing the account: each step's error
/// path tells IT what to do by hand, and the rest of the offboarding happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoom_and_asana_refusing_are_reported_to_it_and_the_run_goes_on() {
    let w = World::start(Default::default()).await;
    let leaver = an_engineer(&w);
    let (login, email) = (leaver.login().to_string(), prof(&leaver, "email").to_string());
    let tasks = asana_tasks(&w, &email);
    w.zoom.fail_next(1, 401);
    w.asana.fail_next(1, 403);

    w.admin.lifecycle(&leaver.id, LifecycleOp::Deactivate).await.expect("the admin deactivates the user");
    w.settle().await;
    let run = w.runs(OFFBOARDING).await.remove(0);
    w.assert_succeeded(&run).await;
    for (step, kind) in [("zoom", "denied"), ("asana", "denied")] {
        let s = w.step(&run, step).await;
        let got = s.error.as_ref().map(|e| serde_json::to_value(e.kind).unwrap());
        assert_eq!((got, s.attempts), (Some(json!(kind)), 1), "{step}: not retried: {s:#?}");
    }

    let texts: Vec<String> = w.slack.posted().iter().map(|p| p.text().unwrap_or("").to_string()).collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts[0].starts_with(&format!(":warning: Offboarding {login}: Zoom could not deactivate their account (denied: ")), "{}", texts[0]);
    assert!(texts[0].ends_with("Please deactivate it by hand."), "{}", texts[0]);
    assert!(texts[1].starts_with(&format!(":warning: Offboarding {login}: Asana could not take them out (denied: ")), "{}", texts[1]);
    assert!(texts[1].contains("asana answered 403"), "{}", texts[1]);
    assert!(texts[2].contains("Zoom: unknown, see above\nAsana: unknown, see above"), "{}", texts[2]);

    // Nothing changed in Zoom or Asana; everything else happened.
    assert_eq!(w.zoom.user(&email).unwrap().status, "active");
    assert!(w.asana.tasks().iter().filter(|t| tasks.contains(&t.gid)).all(|t| t.assignee.as_deref() == Some(w.asana.user(&email).unwrap().gid.as_str())));
    assert_eq!(w.org.user(&leaver.id).unwrap().status, "DEPROVISIONED");
    assert_eq!(w.group_names(&leaver.id), BTreeSet::from(["Everyone".to_string()]));
    assert_eq!(w.jamf.requests().len(), 1, "JAMF was asked (the leaver has no Macs there)");
    let row = w.row("offboarding-audit", &leaver.id).await.expect("the audit row");
    assert_eq!((row["zoom"].clone(), row["asana_tasks_moved"].clone()), (Value::Null, Value::Null));
    w.stop().await;
}
