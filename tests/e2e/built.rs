//! The seed's use cases built in the browser (issue: the visual builder): an
//! admin starts from an empty flows folder, builds each flow in the console by
//! clicking and typing only names, descriptions, message texts and values
//! (scenarios `seed-*`), saves it and turns it on; the sandbox org's events
//! then produce the same outcomes as the shipped flow in `flows/`, checked by
//! the very function the shipped flow's own test uses.
//!
//! Each use case stays within 60 clicks or selections; the counts are printed
//! (`cargo test -p lanyard-e2e built -- --nocapture`) and the screenshots go to
//! `target/console-screenshots/seed-*.png`.

use crate::browser::{scenario, tallies};
use crate::harness::{FlowsDir, Options, World, ADMIN_TOKEN, LOCKOUT, MFA_REMINDER, OFFBOARDING, ONBOARDING, PROFILE_CHANGE};
use serde_json::json;

/// The bound on one use case.
const MAX_CLICKS: u64 = 60;

/// Build a use case in the browser and return the saved file's text.
async fn build(w: &World, name: &str, flow: &str, data: serde_json::Value) -> String {
    let out = scenario(name, &w.base, ADMIN_TOKEN, data).await;
    let counts = tallies(&out);
    assert_eq!(counts.len(), 1, "the scenario reports its clicks once:\n{out}");
    let (_, clicks, keys) = &counts[0];
    eprintln!("{name}: {clicks} clicks or selections, {keys} keystrokes");
    assert!(*clicks <= MAX_CLICKS, "{name} took {clicks} clicks (at most {MAX_CLICKS})");
    let flows = w.engine.flows();
    let loaded = flows.get(flow).unwrap_or_else(|| panic!("the built flow {flow} is loaded"));
    assert!(loaded.enabled, "the admin turned {flow} on");
    let file = std::fs::read_dir(&w.flows_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).unwrap().contains(flow))
        .expect("the built flow's file");
    std::fs::read_to_string(file).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_built_in_the_browser() {
    let w = World::start(Options { flows: FlowsDir::Empty, ..Options::default() }).await;
    let text = build(&w, "seed-lockout", LOCKOUT, json!({ "flow": LOCKOUT })).await;
    eprintln!("{text}");
    assert!(!text.contains("{%"), "{text}");
    crate::lockout::managers_are_told(&w, LOCKOUT, crate::lockout::Reach::Email).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_built_in_the_browser() {
    let w = World::start(Options { flows: FlowsDir::Empty, ..Options::default() }).await;
    let text = build(&w, "seed-onboarding", ONBOARDING, json!({ "flow": ONBOARDING })).await;
    eprintln!("{text}");
    crate::onboarding::new_hires_get_their_groups(&w, ONBOARDING, crate::onboarding::Unmapped::Stopped).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_reminder_built_in_the_browser() {
    let start = crate::mfa_reminder::monday_morning();
    // The flow built here forgets users once they enroll: it deletes rows.
    let grants = format!("{}\n[cards.\"tables.delete\"]\ngrants = [\"table:mfa-reminders\"]\n", include_str!("../../flows/grants.toml"));
    let w = World::start(Options { flows: FlowsDir::Empty, manual_clock: Some(start), grants: Some(grants), ..Options::default() }).await;
    let text = build(&w, "seed-mfa-reminder", MFA_REMINDER, json!({ "flow": MFA_REMINDER })).await;
    eprintln!("{text}");
    crate::mfa_reminder::users_without_mfa_are_reminded(&w, MFA_REMINDER, crate::mfa_reminder::Cadence::Once).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboarding_built_in_the_browser() {
    let w = World::start(Options { flows: FlowsDir::Empty, ..Options::default() }).await;
    let text = build(&w, "seed-offboarding", OFFBOARDING, json!({ "flow": OFFBOARDING })).await;
    eprintln!("{text}");
    crate::offboarding::leavers_are_offboarded(&w, OFFBOARDING, crate::offboarding::Apps::Jamf).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_change_built_in_the_browser() {
    let w = World::start(Options { flows: FlowsDir::Empty, ..Options::default() }).await;
    let text = build(&w, "seed-profile-change", PROFILE_CHANGE, json!({ "flow": PROFILE_CHANGE })).await;
    eprintln!("{text}");
    let reviews = crate::profile_change::profile_changes_resync_groups(&w, PROFILE_CHANGE).await;
    // The flow built here asks for a review when it had no snapshot.
    assert_eq!(reviews, ["No earlier snapshot: please review app groups from the old department by hand.", "", ""]);
    w.stop().await;
}
