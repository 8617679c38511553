//! Use case 3, the MFA enrollment reminder: the flow runs from its schedule
//! (`0 9 * * *`, America/New_York), with the org and the daemon on one
//! manual clock and the scheduler ticked by hand. Each morning it emails
//! exactly the active users with no enrolled factor whose account is more
//! than three days old and who were not reminded in the last three days,
//! walking the org a page of 200 users at a time; records who was reminded
//! and when; and stops once they enroll.

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
async fn the_daily_sweep_reminds_each_user_without_mfa_every_three_days() {
    let w = World::start(Options { manual_clock: Some(monday_morning()), ..Options::default() }).await;
    users_without_mfa_are_reminded(&w, MFA_REMINDER, Cadence::EveryDays(3)).await;
    w.stop().await;
}

/// How often the flow reminds a user who has not enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Once, ever; the row goes when they enroll (the flow an admin builds
    /// in the browser in a few clicks).
    Once,
    /// Again every this many days; the row keeps the first and last reminder
    /// and their number (the shipped flow).
    EveryDays(u32),
}

/// A user's reminders so far: the first and last morning, and how many.
#[derive(Debug, Clone, Copy)]
struct Reminders {
    first: u32,
    last: u32,
    count: u32,
}

/// The use case's outcomes over four mornings, for the shipped flow and for
/// the one an admin builds in the browser (`built::mfa_reminder_built_in_the_browser`):
/// `w` runs on a manual clock at `monday_morning()`.
pub async fn users_without_mfa_are_reminded(w: &World, flow: &str, cadence: Cadence) {
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

    let mut reminded: BTreeMap<String, Reminders> = BTreeMap::new();
    let mut enrolled: BTreeSet<String> = BTreeSet::new();
    let mut seen_mail = 0;
    for day in 0..4u32 {
        let now = nine + chrono::Duration::days(day.into());
        clock.set(now);
        let expected: BTreeSet<String> = due(w, now)
            .into_iter()
            .filter(|id| match (cadence, reminded.get(id)) {
                (_, None) => true,
                (Cadence::Once, Some(_)) => false,
                (Cadence::EveryDays(n), Some(r)) => day - r.last >= n,
            })
            .collect();

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
        let output = match cadence {
            Cadence::Once => json!({ "candidates": candidates }),
            Cadence::EveryDays(_) => json!({ "checked": candidates, "pages": candidates.div_ceil(200) }),
        };
        assert_eq!(run.output, Some(output));

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
            // Who was reminded, when, and with which message.
            let row = w.row("mfa-reminders", &u.id).await.expect("a reminder row");
            let time = |key: &str| DateTime::parse_from_rfc3339(row[key].as_str().unwrap()).unwrap().with_timezone(&Utc);
            match cadence {
                Cadence::Once => {
                    assert_eq!(
                        row,
                        json!({ "login": u.login(), "email": prof(&u, "email"), "reminded_at": row["reminded_at"], "message_id": row["message_id"] })
                    );
                    assert_eq!(time("reminded_at"), now, "reminded at the run's time");
                }
                Cadence::EveryDays(_) => {
                    let before = reminded.get(&u.id);
                    assert_eq!(
                        row,
                        json!({
                            "login": u.login(),
                            "email": prof(&u, "email"),
                            "first_reminded_at": row["first_reminded_at"],
                            "last_reminded_at": row["last_reminded_at"],
                            "reminders": before.map_or(1, |r| r.count + 1),
                            "message_id": row["message_id"],
                        })
                    );
                    assert_eq!(time("last_reminded_at"), now, "reminded at the run's time");
                    let first = nine + chrono::Duration::days(before.map_or(day, |r| r.first).into());
                    assert_eq!(time("first_reminded_at"), first);
                }
            }
            let id = row["message_id"].as_str().unwrap().trim_matches(|c| c == '<' || c == '>');
            assert_eq!(m.message_id.as_deref(), Some(id));
        }
        for id in got {
            let r = reminded.entry(id).or_insert(Reminders { first: day, last: day, count: 0 });
            r.last = day;
            r.count += 1;
        }

        // Once: the table lists exactly the people still to enroll. Every
        // few days: it keeps everyone reminded, enrolled since or not.
        for id in reminded.keys() {
            let row = w.row("mfa-reminders", id).await;
            assert_eq!(row.is_some(), cadence != Cadence::Once || !enrolled.contains(id), "day {day}: row of {id}");
        }

        // Before the next morning, one reminded user enrolls a factor.
        if day < 3 {
            let who = reminded.keys().find(|id| !enrolled.contains(*id)).unwrap().clone();
            let login = w.org.user(&who).unwrap().login().to_string();
            w.sandbox_admin.enroll_factor(&login, "push").await.expect("the user enrolls");
            enrolled.insert(who);
        }
    }

    // The users too new on the first morning were first reminded the day
    // their account turned three days old.
    for id in &young {
        let u = w.org.user(id).unwrap();
        let turned = created(&u) + chrono::Duration::days(3);
        let first_due = (0..4).find(|d| nine + chrono::Duration::days(*d) > turned);
        assert_eq!(reminded.get(id).map(|r| i64::from(r.first)), first_due, "{}", u.login());
    }
    assert!(reminded.values().any(|r| r.first > 0), "someone became due after the first morning");
    let addresses: Vec<String> = w.smtp.messages().into_iter().map(|m| m.envelope_to[0].clone()).collect();
    assert_eq!(addresses.len(), reminded.values().map(|r| r.count as usize).sum::<usize>());
    match cadence {
        Cadence::Once => assert_eq!(addresses.len(), addresses.iter().collect::<BTreeSet<_>>().len(), "nobody was mailed twice"),
        Cadence::EveryDays(_) => {
            // Those reminded on the first morning who never enrolled were reminded again on the fourth.
            let again: Vec<&Reminders> = reminded.values().filter(|r| r.count > 1).collect();
            assert!(!again.is_empty(), "someone was reminded a second time");
            assert!(again.iter().all(|r| (r.first, r.last, r.count) == (0, 3, 2)), "{again:?}");
            for id in &enrolled {
                assert!(reminded[id].last < 3, "{id} enrolled and was not reminded again");
            }
        }
    }
}
