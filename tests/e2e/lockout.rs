//! Use case 4, manager notification on lockout: failed sign-ins lock users
//! out; the sandbox delivers `user.account.lock`; the flow looks the manager
//! up through `managerId` and reaches them as their profile says: a Slack
//! member id (`slackUserId`) means a Slack message, else an email over a real
//! SMTP conversation (STARTTLS, AUTH) with the sink. A Slack id Slack does not
//! know falls back to email. A user without a manager is IT's to check, in
//! Slack.

use crate::harness::{by_card, mail_text, prof, World, LOCKOUT, MAIL_FROM, MAIL_FROM_NAME, SMTP_USER};
use lanyard_sandbox::{MailAddress, SlackRequestKind};
use lanyard_core::history::TriggerInfo;
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_out_users_manager_is_told() {
    let w = World::start(Default::default()).await;
    managers_are_told(&w, LOCKOUT, Reach::AsTheirProfileSays).await;
    w.stop().await;
}

/// How the flow reaches a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Slack when the manager's profile has a Slack member id, else email,
    /// and email when Slack refuses (the shipped flow).
    AsTheirProfileSays,
    /// Always by email (the flow an admin builds in the browser in a few clicks).
    Email,
}

/// The use case's outcomes, for the shipped flow and for the one an admin
/// builds in the browser (`built::lockout`): lockouts, one manager's email,
/// one Slack notice to IT, nobody unlocked; with `Reach::AsTheirProfileSays`
/// also a manager told in Slack and one whose Slack id is stale emailed
/// instead. Steps are found by their cards, so any step names do.
pub async fn managers_are_told(w: &World, flow: &str, reach: Reach) {

    // Employees whose managers are active and have an email (and a Slack id
    // or not), each with a manager of their own, and the CEO, who has no manager.
    let employees = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee" && !prof(u, "managerId").is_empty());
    let mut managers_taken = std::collections::BTreeSet::new();
    let mut pick = |slack: bool| {
        employees
            .iter()
            .find_map(|u| {
                let m = w.org.user(prof(u, "managerId"))?;
                let fits = m.status == "ACTIVE" && !prof(&m, "email").is_empty() && prof(&m, "slackUserId").is_empty() != slack;
                (fits && managers_taken.insert(m.id.clone())).then(|| (u.clone(), m))
            })
            .expect("a seeded employee with an active manager")
    };
    let (user, manager) = pick(false);
    let by_slack = (reach == Reach::AsTheirProfileSays).then(|| (pick(true), pick(true)));
    let ceo = w
        .seeded_users(|u| prof(u, "title") == "Chief Executive Officer")
        .pop()
        .expect("the seeded CEO");
    assert!(prof(&ceo, "managerId").is_empty() && ceo.status == "ACTIVE");

    w.sandbox_admin.lock(user.login()).await.expect("failed sign-ins lock the user");
    w.sandbox_admin.lock(ceo.login()).await.expect("failed sign-ins lock the CEO");
    if let Some((_, (_, stale))) = &by_slack {
        // This manager's Slack account is gone; Okta still names it.
        let changes = serde_json::Map::from_iter([("slackUserId".to_string(), json!("U0GONE00000"))]);
        w.admin.update_profile(&stale.id, &changes).await.expect("the admin updates the profile");
    }
    if let Some(((a, _), (b, _))) = &by_slack {
        for u in [a, b] {
            w.sandbox_admin.lock(u.login()).await.expect("failed sign-ins lock the user");
        }
    }
    w.settle().await;

    let locked_out = if by_slack.is_some() { 4 } else { 2 };
    assert_eq!(w.run_counts().await, BTreeMap::from([(flow.to_string(), locked_out)]));
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

    let manager_email = prof(&manager, "email");
    let mail: Vec<_> = w.smtp.messages().into_iter().filter(|m| m.envelope_to == [manager_email]).collect();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let m = &mail[0];
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
    let posted: Vec<_> = w.slack.requests().into_iter().filter(|p| p.json.as_ref().is_some_and(|j| j["channel"] == "#it-ops")).collect();
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

    match &by_slack {
        None => {
            assert_eq!(w.smtp.messages().len(), 1);
            assert_eq!(w.slack.requests().len(), 1);
        }
        Some(((told, boss), (emailed, stale))) => {
            // A manager with a Slack id: a direct message, no email.
            let run = run_of(&told.id);
            w.assert_succeeded(&run).await;
            let steps = w.steps(&run).await;
            assert!(by_card(&steps, "mail.send").is_none(), "{}", w.trace(&run).await);
            let slack_id = prof(boss, "slackUserId");
            let dm: Vec<_> = w.slack.requests().into_iter().filter(|p| p.json.as_ref().is_some_and(|j| j["channel"] == slack_id)).collect();
            assert_eq!(dm.len(), 1, "{dm:#?}");
            assert!(dm[0].accepted, "{}", dm[0].outcome);
            assert_eq!(dm[0].channel.as_deref(), Some(format!("D{}", &slack_id[1..]).as_str()), "a direct message");
            let text = dm[0].json.as_ref().unwrap()["text"].as_str().unwrap().to_string();
            let ip = run.input["client"]["ipAddress"].as_str().unwrap();
            assert_eq!(
                text,
                format!(
                    ":lock: Hi {}, Okta locked the account of {} {} ({})\nat {} after too many failed sign-ins from {ip}.\nIf that was not them, please tell IT right away. If it was, IT can unlock the account.",
                    prof(boss, "firstName"),
                    prof(told, "firstName"),
                    prof(told, "lastName"),
                    told.login(),
                    run.input["published"].as_str().unwrap()
                )
            );
            assert!(w.smtp.messages().iter().all(|m| m.envelope_to != [prof(boss, "email")]));

            // A stale Slack id: Slack refuses it, the manager is emailed instead.
            let run = run_of(&emailed.id);
            w.assert_succeeded(&run).await;
            let refused: Vec<_> = w.slack.requests().into_iter().filter(|p| p.json.as_ref().is_some_and(|j| j["channel"] == "U0GONE00000")).collect();
            assert!(!refused.is_empty() && refused.iter().all(|p| !p.accepted && p.outcome == "channel_not_found"), "{refused:#?}");
            let mail: Vec<_> = w.smtp.messages().into_iter().filter(|m| m.envelope_to == [prof(stale, "email")]).collect();
            assert_eq!(mail.len(), 1, "{}", w.trace(&run).await);
            assert_eq!(mail[0].subject.as_deref(), Some(format!("{} {} is locked out of Okta", prof(emailed, "firstName"), prof(emailed, "lastName")).as_str()));
            assert_eq!(w.smtp.messages().len(), 2);
        }
    }

    // The flow tells people; it does not unlock anyone.
    let mut everyone = vec![&user, &ceo];
    if let Some(((a, _), (b, _))) = &by_slack {
        everyone.extend([a, b]);
    }
    for u in everyone {
        assert_eq!(w.org.user(&u.id).unwrap().status, "LOCKED_OUT");
    }
}
