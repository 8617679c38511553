//! Use case 1, onboarding by department: an admin creates users in Okta; the
//! sandbox delivers `user.lifecycle.create`; the flow puts each new hire in
//! their department's app groups (Engineering: GitHub + Jira, Sales:
//! Salesforce + Gong), or reports a hire it has no groups for to IT in Slack
//! and stops saying why. The flow's own membership changes
//! (made as lanyard's service account) reach the daemon as
//! `group.user_membership.add` events, a trigger of this very flow, and start
//! nothing; an admin's membership change does start it, and its writes are then
//! `unchanged`.

use crate::harness::{prof, step_named as steps_named, World, ONBOARDING};
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_core::okta::User;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

async fn hire(w: &World, first: &str, last: &str, department: &str, title: &str) -> User {
    let profile = lanyard_sandbox::okta::new_user_profile(
        first,
        last,
        "acme.example",
        &[("department", department), ("title", title)],
    );
    w.admin.create_user(&profile, true, &[]).await.expect("the admin creates the user")
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_hires_get_their_departments_app_groups() {
    let w = World::start(Default::default()).await;
    new_hires_get_their_groups(&w, ONBOARDING, Unmapped::ReportedToIt).await;
    w.stop().await;
}

/// What the flow does with a hire whose department it has no groups for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    /// Posts it to IT's Slack channel, then stops (the shipped flow).
    ReportedToIt,
    /// Only stops (the flow an admin builds in the browser in a few clicks).
    Stopped,
}

/// The use case's outcomes, for the shipped flow and for the one an admin
/// builds in the browser (`built::onboarding_built_in_the_browser`, whose
/// steps carry the same names).
pub async fn new_hires_get_their_groups(w: &World, flow: &str, unmapped: Unmapped) {
    let service = w.org.service_user_id().to_string();

    let ada = hire(w, "Ada", "Lovelace", "Engineering", "Software Engineer").await;
    let sam = hire(w, "Sam", "Okoye", "Sales", "Account Executive").await;
    let max = hire(w, "Max", "Mustermann", "Marketing", "Growth Marketer").await;
    w.settle().await;

    // One run per creation, none for anything the runs did themselves.
    let runs = w.runs(flow).await;
    assert_eq!(w.run_counts().await, BTreeMap::from([(flow.to_string(), 3)]), "{runs:#?}");
    let run_of = |user: &User| {
        runs.iter()
            .find(|r| r.subject.as_deref() == Some(user.id.as_str()))
            .unwrap_or_else(|| panic!("no run about {}", user.login()))
            .clone()
    };

    // Engineering.
    let run = run_of(&ada);
    w.assert_succeeded(&run).await;
    let created = w.events_about("user.lifecycle.create", &ada.id);
    assert_eq!(created.len(), 1);
    assert_eq!(
        run.trigger,
        TriggerInfo::Okta {
            event_type: "user.lifecycle.create".into(),
            event_uuid: created[0].uuid.clone(),
            source: "hook".into()
        }
    );
    assert_eq!(run.input["actor"]["id"], w.org.admin_user_id(), "a human admin created the user");
    assert_eq!(run.output, Some(json!({ "user": "ada.lovelace@acme.example", "department": "Engineering" })));
    assert_eq!(w.group_names(&ada.id), names(&["Everyone", "GitHub", "Jira"]));
    let steps = w.steps(&run).await;
    let cards: Vec<(String, Option<String>)> =
        steps.iter().filter(|s| s.kind == "card").map(|s| (s.path.clone(), s.card.clone())).collect();
    assert_eq!(cards.len(), 3, "{}", w.trace(&run).await);
    assert_eq!(cards[0].0, "user");
    assert!(cards[0].1.as_deref().unwrap().starts_with("okta.get-user@"));
    for (step, group) in [(&steps_named(&steps, "github"), "GitHub"), (&steps_named(&steps, "jira"), "Jira")] {
        let out = step.output.as_ref().unwrap();
        assert_eq!(
            (out["outcome"].as_str(), out["group_name"].as_str(), out["user_id"].as_str()),
            (Some("changed"), Some(group), Some(ada.id.as_str())),
            "{}",
            w.trace(&run).await
        );
        assert!(step.card.as_deref().unwrap().starts_with("okta.add-to-group@"));
    }
    // Its writes are the service account's, were delivered to the daemon, and
    // started nothing (counted above).
    let adds = w.events_about("group.user_membership.add", &ada.id);
    assert_eq!(adds.len(), 2, "{adds:#?}");
    for e in &adds {
        assert_eq!(e.actor.id, service);
        assert!(w.delivered(&e.uuid), "event {} was delivered to the hook", e.uuid);
    }

    // Sales.
    let run = run_of(&sam);
    w.assert_succeeded(&run).await;
    assert_eq!(w.group_names(&sam.id), names(&["Everyone", "Salesforce", "Gong"]));

    // A department with no app groups: the run stops and says why.
    let run = run_of(&max);
    assert_eq!(run.status, RunStatus::Stopped, "{}", w.trace(&run).await);
    assert_eq!(
        run.reason.as_deref(),
        Some("no app groups for department `Marketing` of max.mustermann@acme.example")
    );
    assert_eq!(w.group_names(&max.id), names(&["Everyone"]));
    assert!(w.events_about("group.user_membership.add", &max.id).is_empty());
    let posted = w.slack.requests();
    match unmapped {
        Unmapped::ReportedToIt => {
            assert_eq!(posted.len(), 1, "{posted:#?}");
            assert!(posted[0].accepted, "{}", posted[0].outcome);
            assert_eq!(
                posted[0].json,
                Some(json!({
                    "channel": "#it-ops",
                    "text": ":question: New hire Max Mustermann (max.mustermann@acme.example) is in department `Marketing`, which has no app groups in the onboarding flow. Please give them their access by hand, or add the department to the flow."
                }))
            );
        }
        Unmapped::Stopped => assert!(posted.is_empty(), "{posted:#?}"),
    }

    // An admin adds Sam to another group: the flow runs again (its other
    // trigger), finds Sam's app groups in place, and writes nothing.
    let events_before = w.org.events().len();
    let managers = w.group_id("People Managers");
    w.admin.add_user_to_group(&managers, &sam.id).await.expect("the admin adds the member");
    let events_after = w.settle().await;
    assert_eq!(events_after, events_before + 1, "the admin's change is the only new event: {:#?}", &w.org.events()[events_before..]);
    let runs = w.runs(flow).await;
    assert_eq!(runs.len(), 4);
    let again = runs.last().unwrap();
    w.assert_succeeded(again).await;
    assert!(matches!(&again.trigger, TriggerInfo::Okta { event_type, .. } if event_type == "group.user_membership.add"));
    let steps = w.steps(again).await;
    for id in ["salesforce", "gong"] {
        assert_eq!(steps_named(&steps, id).output.as_ref().unwrap()["outcome"], "unchanged", "{}", w.trace(again).await);
    }
    assert_eq!(w.group_names(&sam.id), names(&["Everyone", "People Managers", "Salesforce", "Gong"]));

    // Onboarding sends nothing anywhere else.
    assert_eq!(w.slack.requests().len(), posted.len());
    assert!(w.smtp.messages().is_empty());
    assert!(w.jamf.requests().is_empty());
    assert_eq!(prof(&ada, "department"), "Engineering");
}
