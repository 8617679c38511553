//! Use case 5, title/department change: an admin edits a user's profile; the
//! sandbox delivers `user.account.update_profile`; when `title` or
//! `department` changed, the flow re-syncs group memberships, keeps a
//! snapshot and tells IT. It must not loop: its own group writes raise Okta
//! events (delivered to the daemon like any other, and one of them,
//! `group.user_membership.add`, is a trigger of the onboarding flow), and the
//! number of runs is counted after every one of them was delivered.

use crate::harness::{prof, World, ONBOARDING, PROFILE_CHANGE};
use lanyard_core::history::RunRecord;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn update(w: &World, user: &str, changes: &[(&str, &str)]) {
    let changes: Map<String, Value> = changes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    w.admin.update_profile(user, &changes).await.expect("the admin updates the profile");
}

/// The labels of the apps a run listed for the user.
async fn apps(w: &World, run: &RunRecord) -> BTreeSet<String> {
    let out = w.step(run, "apps").await.output.unwrap();
    out["items"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap().to_string()).collect()
}

/// The Slack message of a run, by its `notify` step's input.
async fn notice(w: &World, run: &RunRecord) -> String {
    w.step(run, "notify").await.input.unwrap()["text"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_change_resyncs_groups_without_looping() {
    let w = World::start(Default::default()).await;
    let reviews = profile_changes_resync_groups(&w, PROFILE_CHANGE).await;
    // IT's access review: the groups outside the department map the user keeps.
    for tail in &reviews {
        assert_eq!(tail, "Access review (groups outside the department map, kept): none");
    }

    // A mover with a group given by hand (outside the map): it stays, and IT
    // is asked to review it; the old department's app groups go.
    let sam = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Sales" && prof(u, "title") == "Account Executive")
        .into_iter()
        .find(|u| w.group_names(&u.id) == names(&["Everyone", "Sales", "Salesforce", "Gong"]))
        .expect("a seeded account executive in exactly Sales, Salesforce and Gong");
    w.admin.add_user_to_group(&w.group_id("People Managers"), &sam.id).await.unwrap();
    update(&w, &sam.id, &[("department", "HR")]).await;
    w.settle().await;
    let run = w.runs(PROFILE_CHANGE).await.pop().unwrap();
    w.assert_succeeded(&run).await;
    assert_eq!(w.group_names(&sam.id), names(&["Everyone", "People Managers", "HR", "BambooHR"]));
    let text = notice(&w, &run).await;
    assert!(text.ends_with("\nAccess review (groups outside the department map, kept): People Managers"), "{text}");
    w.stop().await;
}

/// The lines of a notice after `Apps now: …`.
fn tail_after_apps(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("Apps now: ")).expect("an `Apps now` line");
    lines[at + 1..].join("\n")
}

/// What `flow` does over three profile changes and one it must ignore,
/// asserted whole: the shipped flow's outcome, and the one an admin builds
/// in the browser (`built::profile_change`) must match it (groups, Okta
/// events, snapshots, Slack text up to the apps). Its steps `apps` and
/// `notify` are read by name. Returns each notice's lines after the apps
/// (the access review), which the two flows word differently, for the
/// caller to check.
pub async fn profile_changes_resync_groups(w: &World, flow: &str) -> Vec<String> {
    let service = w.org.service_user_id().to_string();
    let user = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Engineering" && prof(u, "title") == "Software Engineer")
        .into_iter()
        .find(|u| w.group_names(&u.id) == names(&["Everyone", "Engineering", "GitHub", "Jira"]))
        .expect("a seeded engineer in exactly Engineering, GitHub and Jira");
    let login = user.login().to_string();
    // 1. Engineering -> Sales, with a new title. No snapshot yet, and none
    // needed: the map says GitHub and Jira are Engineering's, so they go.
    update(w, &user.id, &[("department", "Sales"), ("title", "Account Executive")]).await;
    w.settle().await;
    let runs = w.runs(flow).await;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    w.assert_succeeded(run).await;
    assert_eq!(run.input["debugContext"]["debugData"]["changedAttributes"], "department,title");
    assert_eq!(w.group_names(&user.id), names(&["Everyone", "Sales", "Salesforce", "Gong"]));
    let apps_now = apps(w, run).await;
    assert_eq!(apps_now, names(&["Salesforce", "Gong", "Slack", "Google Workspace", "Zoom"]));
    let text = notice(w, run).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            format!(":arrows_counterclockwise: {login} changed (department,title)"),
            "Department: ? → Sales · Title: ? → Account Executive".to_string(),
            "Groups added: Sales, Salesforce, Gong".to_string(),
        ],
        "{text}"
    );
    let removed: BTreeSet<String> = lines[3].strip_prefix("Groups removed: ").expect(&text).split(", ").map(str::to_string).collect();
    assert_eq!(removed, names(&["Engineering", "GitHub", "Jira"]), "{text}");
    assert!(lines[4].starts_with("Apps now: "), "{text}");
    let mut reviews = vec![tail_after_apps(&text)];
    assert_eq!(
        w.row("profile-snapshots", &user.id).await,
        Some(json!({ "login": login, "department": "Sales", "title": "Account Executive", "updated_at": run.input["published"] }))
    );

    // 2. A new title only: nothing to change, so the run writes nothing and
    // raises no event.
    let events = w.org.events().len();
    update(w, &user.id, &[("title", "Senior Account Executive")]).await;
    assert_eq!(w.settle().await, events + 1, "only the admin's update is new: {:#?}", &w.org.events()[events..]);
    let run = w.runs(flow).await.pop().unwrap();
    w.assert_succeeded(&run).await;
    let text = notice(w, &run).await;
    assert!(
        text.starts_with(&format!(
            ":arrows_counterclockwise: {login} changed (title)\n\
             Department: Sales → Sales · Title: Account Executive → Senior Account Executive\n\
             Groups added: none\n\
             Groups removed: none\n"
        )),
        "{text}"
    );
    assert!(!text.ends_with('\n'), "{text:?}");
    reviews.push(tail_after_apps(&text));

    // 3. Back to Engineering: Sales' app groups go, Engineering's come back.
    update(w, &user.id, &[("department", "Engineering")]).await;
    w.settle().await;
    let run = w.runs(flow).await.pop().unwrap();
    w.assert_succeeded(&run).await;
    assert_eq!(w.group_names(&user.id), names(&["Everyone", "Engineering", "GitHub", "Jira"]));
    let text = notice(w, &run).await;
    assert!(
        text.starts_with(&format!(
            ":arrows_counterclockwise: {login} changed (department)\n\
             Department: Sales → Engineering · Title: Senior Account Executive → Senior Account Executive\n\
             Groups added: Engineering, GitHub, Jira\n\
             Groups removed: Sales, Salesforce, Gong\n"
        )),
        "{text}"
    );
    reviews.push(tail_after_apps(&text));

    // 4. Another attribute: the trigger's filter leaves it alone.
    update(w, &user.id, &[("mobilePhone", "+14155550199")]).await;
    w.settle().await;

    // Every event was delivered, the flow's own writes included (made as the
    // service account: 6 in the first change, 6 in the third), and the only
    // runs are the three the admin's changes asked for.
    let own: Vec<_> = ["group.user_membership.add", "group.user_membership.remove"]
        .iter()
        .flat_map(|t| w.events_about(t, &user.id))
        .collect();
    assert_eq!(own.len(), 12, "{own:#?}");
    for e in &own {
        assert_eq!(e.actor.id, service);
        assert!(w.delivered(&e.uuid), "event {} ({}) reached the daemon", e.uuid, e.event_type);
    }
    assert_eq!(w.events_about("user.account.update_profile", &user.id).len(), 4);
    assert!(w.org.events().iter().all(|e| w.delivered(&e.uuid) || !lanyard_core::event::hook_event_types().contains(&e.event_type)));
    assert_eq!(w.run_counts().await, BTreeMap::from([(flow.to_string(), 3)]));
    assert!(w.runs(ONBOARDING).await.is_empty());

    // IT heard of each change, in order.
    let posted = w.slack.posted();
    assert_eq!(posted.len(), 3);
    let runs = w.runs(flow).await;
    for (p, run) in posted.iter().zip(&runs) {
        assert_eq!(p.json, Some(json!({ "channel": "#it-ops", "text": notice(w, run).await })));
    }
    assert_eq!(
        w.row("profile-snapshots", &user.id).await.unwrap()["department"],
        "Engineering"
    );
    reviews
}
