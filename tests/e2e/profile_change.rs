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
    profile_changes_resync_groups(&w, PROFILE_CHANGE).await;
    w.stop().await;
}

/// What `flow` does over three profile changes and one it must ignore,
/// asserted whole: the shipped flow's outcome, and the one an admin builds
/// in the browser (`built::profile_change`) must match it (groups, Okta
/// events, snapshots, Slack text). Its steps `apps` and `notify` are read by
/// name.
pub async fn profile_changes_resync_groups(w: &World, flow: &str) {
    let service = w.org.service_user_id().to_string();
    let user = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Engineering" && prof(u, "title") == "Software Engineer")
        .into_iter()
        .find(|u| w.group_names(&u.id) == names(&["Everyone", "Engineering", "GitHub", "Jira"]))
        .expect("a seeded engineer in exactly Engineering, GitHub and Jira");
    let login = user.login().to_string();
    // 1. Engineering -> Sales, with a new title. No snapshot yet: the old
    // department's app groups stay, and IT is asked to review them.
    update(w, &user.id, &[("department", "Sales"), ("title", "Account Executive")]).await;
    w.settle().await;
    let runs = w.runs(flow).await;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    w.assert_succeeded(run).await;
    assert_eq!(run.input["debugContext"]["debugData"]["changedAttributes"], "department,title");
    assert_eq!(w.group_names(&user.id), names(&["Everyone", "Sales", "Salesforce", "Gong", "GitHub", "Jira"]));
    let apps_now = apps(w, run).await;
    assert_eq!(
        apps_now,
        names(&["GitHub Enterprise Cloud", "Jira Software", "Salesforce", "Gong", "Slack", "Google Workspace", "Zoom"])
    );
    let text = notice(w, run).await;
    let apps_line = text.lines().find(|l| l.starts_with("Apps now: ")).unwrap().to_string();
    assert_eq!(
        text,
        format!(
            ":arrows_counterclockwise: {login} changed (department,title)\n\
             Department: ? → Sales · Title: ? → Account Executive\n\
             Groups added: Sales, Salesforce, Gong\n\
             Groups removed: Engineering\n\
             {apps_line}\n\
             No earlier snapshot: please review app groups from the old department by hand."
        )
    );
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
    assert!(!text.contains("No earlier snapshot") && !text.ends_with('\n'), "{text:?}");

    // 3. Back to Engineering: the snapshot says Sales, so Sales' app groups go.
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
             Groups added: Engineering\n\
             Groups removed: Sales, Salesforce, Gong\n"
        )),
        "{text}"
    );

    // 4. Another attribute: the trigger's filter leaves it alone.
    update(w, &user.id, &[("mobilePhone", "+14155550199")]).await;
    w.settle().await;

    // Every event was delivered, the flow's own writes included (made as the
    // service account: 4 in the first change, 4 in the third), and the only
    // runs are the three the admin's changes asked for.
    let own: Vec<_> = ["group.user_membership.add", "group.user_membership.remove"]
        .iter()
        .flat_map(|t| w.events_about(t, &user.id))
        .collect();
    assert_eq!(own.len(), 8, "{own:#?}");
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
}
