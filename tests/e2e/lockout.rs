//! Use case 4, manager notification on lockout: failed sign-ins lock users
//! out; the sandbox delivers `user.account.lock`; the flow looks the manager
//! up through `managerId` and emails them over a real SMTP conversation
//! (STARTTLS, AUTH) with the sink. A user without a manager is IT's to check,
//! in Slack.

use crate::harness::{by_card, mail_text, prof, World, LOCKOUT, MAIL_FROM, MAIL_FROM_NAME, SMTP_USER};
use lanyard_connect::sandbox::{MailAddress, SlackRequestKind};
use lanyard_core::history::TriggerInfo;
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_out_users_manager_is_told() {
    let w = World::start(Default::default()).await;
    managers_are_told(&w, LOCKOUT).await;
    w.stop().await;
}

/// The use case's outcomes, for the shipped flow and for the one an admin
/// builds in the browser (`built::lockout`): two lockouts, one manager's
/// email, one Slack notice, nobody unlocked. Steps are found by their cards,
/// so any step names do.
pub async fn managers_are_told(w: &World, flow: &str) {

    // An employee whose manager is active and has an email, and the CEO, who
    // has no manager.
    let (user, manager) = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee" && !prof(u, "managerId").is_empty())
        .into_iter()
        .find_map(|u| {
            let m = w.org.user(prof(&u, "managerId"))?;
            (m.status == "ACTIVE" && !prof(&m, "email").is_empty()).then_some((u, m))
        })
        .expect("a seeded employee with an active manager");
    let ceo = w
        .seeded_users(|u| prof(u, "title") == "Chief Executive Officer")
        .pop()
        .expect("the seeded CEO");
    assert!(prof(&ceo, "managerId").is_empty() && ceo.status == "ACTIVE");

    w.sandbox_admin.lock(user.login()).await.expect("failed sign-ins lock the user");
    w.sandbox_admin.lock(ceo.login()).await.expect("failed sign-ins lock the CEO");
    w.settle().await;

    assert_eq!(w.run_counts().await, BTreeMap::from([(flow.to_string(), 2)]));
    let runs = w.runs(flow).await;
    let run_of = |id: &str| runs.iter().find(|r| r.subject.as_deref() == Some(id)).expect("a run about the user").clone();

    // The manager's email.
    let run = run_of(&user.id);
    w.assert_succeeded(&run).await;
    let locked = w.events_about("user.account.lock", &user.id);
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].actor.id, user.id, "Okta locks the user as the one signing in");
    assert!(matches!(&run.trigger, TriggerInfo::Okta { event_type, event_uuid, .. }
        if event_type == "user.account.lock" && *event_uuid == locked[0].uuid));
    let steps = w.steps(&run).await;
    assert!(by_card(&steps, "mail.send").is_some() && by_card(&steps, "slack.post").is_none(), "{}", w.trace(&run).await);
    assert_eq!(by_card(&steps, "okta.get-manager").unwrap().output.unwrap()["found"], true);

    let mail = w.smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let m = &mail[0];
    let manager_email = prof(&manager, "email");
    assert_eq!(m.envelope_from, MAIL_FROM);
    assert_eq!(m.envelope_to, [manager_email]);
    assert_eq!(m.authenticated_as.as_deref(), Some(SMTP_USER));
    assert!(m.tls, "the message went over STARTTLS");
    assert_eq!(m.from, [MailAddress { name: Some(MAIL_FROM_NAME.into()), address: MAIL_FROM.into() }]);
    assert_eq!(m.to.iter().map(|a| a.address.as_str()).collect::<Vec<_>>(), [manager_email]);
    let (first, last, login) = (prof(&user, "firstName"), prof(&user, "lastName"), user.login());
    assert_eq!(m.subject.as_deref(), Some(format!("{first} {last} is locked out of Okta").as_str()));
    let ip = run.input["client"]["ipAddress"].as_str().expect("the event names the client's address");
    assert_eq!(
        mail_text(m),
        format!(
            "Hi {},\n\n\
             Okta locked the account of {first} {last} ({login})\n\
             at {} after too many failed sign-ins from {ip}.\n\n\
             If that was not them, please tell IT right away. If it was, IT can unlock the account.",
            prof(&manager, "firstName"),
            run.input["published"].as_str().unwrap()
        )
    );
    let sent = by_card(&steps, "mail.send").unwrap().output.unwrap();
    assert_eq!(sent["to"], json!([manager_email]));
    let id = sent["message_id"].as_str().unwrap().trim_matches(|c| c == '<' || c == '>');
    assert_eq!(m.message_id.as_deref(), Some(id));

    // No manager: IT hears of it in Slack.
    let run = run_of(&ceo.id);
    w.assert_succeeded(&run).await;
    assert_eq!(by_card(&w.steps(&run).await, "okta.get-manager").unwrap().output.unwrap()["found"], false);
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let p = &posted[0];
    assert!(p.accepted, "{}", p.outcome);
    assert_eq!((p.kind, p.path.as_str()), (SlackRequestKind::PostMessage, "/api/chat.postMessage"));
    assert_eq!(p.header("authorization"), Some(format!("Bearer {}", w.slack.config().bot_token).as_str()));
    assert_eq!(
        p.json,
        Some(json!({
            "channel": "#it-ops",
            "text": format!(":lock: {} is locked out of Okta and has no manager on record; please check with them.", ceo.login())
        }))
    );

    // The flow tells people; it does not unlock anyone.
    for u in [&user, &ceo] {
        assert_eq!(w.org.user(&u.id).unwrap().status, "LOCKED_OUT");
    }
}
