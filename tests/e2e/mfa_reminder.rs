//! Use case 3, the MFA enrollment reminder: the flow runs from its schedule
//! (`0 9 * * *`, America/New_York), with the org and the daemon on one
//! manual clock and the scheduler ticked by hand. Each morning it emails
//! exactly the active users with no enrolled factor whose account is more
//! than three days old, never the same user twice, records who was reminded,
//! and forgets users once they enroll.

use crate::harness::{mail_text, prof, Options, World, MAIL_FROM, MFA_REMINDER};
use chrono::{DateTime, TimeZone, Utc};
use lanyard_core::history::TriggerInfo;
use lanyard_server::schedule::Scheduler;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Who the reminder is for at `now`, by the org's own records.
fn due(w: &World, now: DateTime<Utc>) -> BTreeSet<String> {
    w.seeded_users(|u| u.status == "ACTIVE")
        .into_iter()
        .filter(|u| created(u) < now - chrono::Duration::days(3))
        .filter(|u| !w.org.factors_of(&u.id).iter().any(|f| f.status == "ACTIVE"))
        .map(|u| u.id)
        .collect()
}

fn created(u: &lanyard_core::okta::User) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&u.created).expect("an RFC 3339 time").with_timezone(&Utc)
}

/// Monday 2 March 2026, 08:30 in New York (EST, UTC-5): where the world's
/// manual clock starts.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 13, 30, 0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_sweep_reminds_each_user_without_mfa_once() {
    let w = World::start(Options { manual_clock: Some(monday_morning()), ..Options::default() }).await;
    each_user_without_mfa_is_reminded_once(&w, MFA_REMINDER).await;
    w.stop().await;
}

/// The use case's outcomes over four mornings, for the shipped flow and for
/// the one an admin builds in the browser (`built::mfa_reminder_built_in_the_browser`):
/// `w` runs on a manual clock at `monday_morning()`.
pub async fn each_user_without_mfa_is_reminded_once(w: &World, flow: &str) {
    let start = monday_morning();
    let clock = w.clock.clone().unwrap();
    let scheduler = Scheduler::new(w.engine.clone());

    // The first tick only learns the schedule: the next fire is 09:00 New York.
    let report = scheduler.tick(start).await.unwrap();
    assert_eq!(report.initialized, [flow]);
    assert!(report.fired.is_empty());
    let nine = Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap();
    assert_eq!(report.next_wake, Some(nine));

    // The seed has people the reminder is for, and people without a factor
    // who are too new for it (they become due on a later morning).
    let young: BTreeSet<String> = w
        .seeded_users(|u| u.status == "ACTIVE" && created(u) >= nine - chrono::Duration::days(3))
        .into_iter()
        .filter(|u| w.org.factors_of(&u.id).is_empty())
        .map(|u| u.id)
        .collect();
    assert!(!young.is_empty(), "the seed has an active user without a factor younger than three days");

    let mut reminded: BTreeMap<String, u32> = BTreeMap::new(); // user id -> day
    let mut enrolled: BTreeSet<String> = BTreeSet::new();
    let mut seen_mail = 0;
    for day in 0..4u32 {
        let now = nine + chrono::Duration::days(day.into());
        clock.set(now);
        let expected: BTreeSet<String> = due(w, now).into_iter().filter(|id| !reminded.contains_key(id)).collect();

        let report = scheduler.tick(now).await.unwrap();
        assert_eq!(report.fired.len(), 1, "day {day}: {report:?}");
        assert_eq!((report.fired[0].flow.as_str(), report.fired[0].fire_time), (flow, now));
        assert_eq!(report.next_wake, Some(now + chrono::Duration::days(1)));
        w.settle().await;

        // A second tick the same morning fires nothing.
        clock.set(now + chrono::Duration::minutes(5));
        assert!(scheduler.tick(now + chrono::Duration::minutes(5)).await.unwrap().fired.is_empty());

        let runs = w.runs(flow).await;
        assert_eq!(runs.len(), day as usize + 1);
        let run = runs.last().unwrap();
        w.assert_succeeded(run).await;
        assert_eq!(run.id, report.fired[0].run_id);
        assert_eq!(
            run.trigger,
            TriggerInfo::Schedule { cron: "0 9 * * *".into(), timezone: "America/New_York".into(), fire_time: now }
        );
        let candidates = w
            .seeded_users(|u| u.status == "ACTIVE" && created(u) < now - chrono::Duration::days(3))
            .len();
        assert_eq!(run.output, Some(json!({ "candidates": candidates })));

        // Exactly the users due and not reminded before, one message each.
        let mail = w.smtp.messages();
        let today = &mail[seen_mail..];
        seen_mail = mail.len();
        let by_address: BTreeMap<String, String> =
            w.org.users().into_iter().map(|u| (prof(&u, "email").to_string(), u.id.clone())).collect();
        let mut got = BTreeSet::new();
        for m in today {
            assert_eq!(m.envelope_to.len(), 1);
            let id = by_address[&m.envelope_to[0]].clone();
            assert!(got.insert(id.clone()), "day {day}: {} got two reminders", m.envelope_to[0]);
            assert!(!reminded.contains_key(&id), "day {day}: {} was reminded before", m.envelope_to[0]);
        }
        assert_eq!(got, expected, "day {day}: who was reminded");
        if day == 0 {
            assert!(!got.is_empty());
            assert!(got.is_disjoint(&young), "nobody three days old or younger");
        }
        for m in today {
            let u = w.org.user(&by_address[&m.envelope_to[0]]).unwrap();
            assert_eq!(m.envelope_from, MAIL_FROM);
            assert_eq!(m.subject.as_deref(), Some("Action needed: set up multi-factor authentication"));
            assert_eq!(
                mail_text(m),
                format!(
                    "Hi {},\n\n\
                     Your Acme account does not have multi-factor authentication set up yet.\n\
                     It takes two minutes: open https://acme.okta.com/enduser/settings,\n\
                     choose \"Set up\" next to Okta Verify, and follow the steps.\n\n\
                     Thank you,\n\
                     IT",
                    prof(&u, "firstName")
                )
            );
            // Who was reminded, and with which message.
            let row = w.row("mfa-reminders", &u.id).await.expect("a reminder row");
            assert_eq!(
                row,
                json!({
                    "login": u.login(),
                    "email": prof(&u, "email"),
                    "reminded_at": row["reminded_at"],
                    "message_id": row["message_id"],
                })
            );
            let at = DateTime::parse_from_rfc3339(row["reminded_at"].as_str().unwrap()).unwrap();
            assert_eq!(at, now, "reminded at the run's time");
            let id = row["message_id"].as_str().unwrap().trim_matches(|c| c == '<' || c == '>');
            assert_eq!(m.message_id.as_deref(), Some(id));
        }
        for id in got {
            reminded.insert(id, day);
        }

        // The table lists exactly the people still to enroll.
        for (id, _) in &reminded {
            let row = w.row("mfa-reminders", id).await;
            assert_eq!(row.is_some(), !enrolled.contains(id), "day {day}: row of {id}");
        }

        // Before the next morning, one reminded user enrolls a factor.
        if day < 3 {
            let who = reminded.keys().find(|id| !enrolled.contains(*id)).unwrap().clone();
            let login = w.org.user(&who).unwrap().login().to_string();
            w.sandbox_admin.enroll_factor(&login, "push").await.expect("the user enrolls");
            enrolled.insert(who);
        }
    }

    // The users too new on the first morning were reminded once, the day
    // their account turned three days old, and nobody was mailed twice.
    for id in &young {
        let u = w.org.user(id).unwrap();
        let turned = created(&u) + chrono::Duration::days(3);
        let first_due = (0..4).find(|d| nine + chrono::Duration::days(*d) > turned);
        assert_eq!(reminded.get(id).map(|d| i64::from(*d)), first_due, "{}", u.login());
    }
    assert!(reminded.values().any(|d| *d > 0), "someone became due after the first morning");
    let addresses: Vec<String> = w.smtp.messages().into_iter().map(|m| m.envelope_to[0].clone()).collect();
    assert_eq!(addresses.len(), addresses.iter().collect::<BTreeSet<_>>().len());
    assert_eq!(addresses.len(), reminded.len());
}
