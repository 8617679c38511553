//! The console in a real browser, against the seed's world (see `browser`).

use crate::browser::scenario;
use crate::harness::{FlowsDir, Options, World, ADMIN_TOKEN, HOOK_SECRET};
use serde_json::json;

/// The text of the file in the world's flows folder that names `flow`
/// (one the builder wrote).
fn flow_text(world: &World, flow: &str) -> String {
    std::fs::read_dir(&world.flows_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|t| t.contains(flow))
        .unwrap_or_else(|| panic!("no file in {} names {flow}", world.flows_dir.display()))
}

/// An Okta delivery with one event that cannot be read among good ones: the
/// good ones run, and the Runs page tells the admin which one was refused and
/// why (Okta does not send it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_shown_on_the_runs_page() {
    let world = World::start(Options::default()).await;
    let user = world.seeded_users(|u| u.status == "ACTIVE" && crate::harness::prof(u, "managerId") != "")[0].clone();
    let good = json!({
        "uuid": "console-good-1", "published": "2026-12-01T09:00:00.000Z", "eventType": "user.account.lock",
        "version": "0", "severity": "INFO", "displayMessage": "Max sign in attempts exceeded",
        "actor": { "id": user.id, "type": "User", "alternateId": crate::harness::prof(&user, "login"), "displayName": "A User" },
        "client": {}, "outcome": { "result": "SUCCESS" },
        "target": [{ "id": user.id, "type": "User", "alternateId": crate::harness::prof(&user, "login"), "displayName": "A User" }],
        "transaction": { "type": "WEB", "id": "t1", "detail": {} }, "debugContext": { "debugData": {} }
    });
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("uuid");
    let delivery = json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/who1", "eventId": "console-delivery-1",
        "eventTime": "2026-12-01T09:00:00.000Z", "contentType": "application/json",
        "data": { "events": [bad, good] }
    });
    let r = world
        .http
        .post(format!("{}/hooks/okta", world.base))
        .header("authorization", HOOK_SECRET)
        .json(&delivery)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    world.settle().await;
    let runs = world.runs("Lockout: Notify the User's Manager").await;
    assert_eq!(runs.len(), 1, "the good event ran");

    scenario(
        "rejected-events",
        &world.base,
        ADMIN_TOKEN,
        json!({ "flow": "Lockout: Notify the User's Manager", "reason_part": "uuid" }),
    )
    .await;
    world.stop().await;
}

/// The flow page and the builder, driven as an admin would (scenario
/// `builder`), on a copy of the seed flows: what the browser saved is the
/// file on disk, a hand-written comment included, and the daemon acts on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reads_tests_edits_saves_and_turns_off_flows_in_the_builder() {
    const FLOW: &str = "Lockout: Notify the User's Manager";
    const COMMENT: &str = "# Reviewed by security in November: keep the manager lookup.";
    const NEW_FLOW: &str = "Suspended: Tell IT";
    let world = World::start(Options { flows: FlowsDir::Copy, ..Options::default() }).await;
    // A developer's comment in the file, as git would have it.
    let file = world.flows_dir.join("lockout-manager.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace("  - id: manager\n", &format!("  {COMMENT}\n  - id: manager\n"));
    std::fs::write(&file, &text).unwrap();
    world.engine.reload().await.expect("the commented file loads");
    // Real lockouts for the replay.
    let users = world.seeded_users(|u| u.status == "ACTIVE" && crate::harness::prof(u, "userType") == "Employee");
    world.sandbox_admin.lock(users[0].login()).await.unwrap();
    world.settle().await;
    assert_eq!(world.runs(FLOW).await.len(), 1);

    scenario(
        "builder",
        &world.base,
        ADMIN_TOKEN,
        json!({ "flow": FLOW, "comment": COMMENT, "new_flow": NEW_FLOW, "new_event_type": "user.lifecycle.suspend" }),
    )
    .await;

    // What the builder saved is the file, the developer's comment kept.
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains(COMMENT), "{saved}");
    assert!(saved.contains("channel: \"#it-help\"") || saved.contains("channel: '#it-help'"), "{saved}");
    assert!(saved.contains("id: tell_it") && saved.contains("text: \"Locked out: {{ user.profile.login }}\""), "{saved}");
    assert!(saved.contains("description: Who was locked out"), "the second admin's save: {saved}");
    assert!(!saved.contains("Their manager"), "the first admin's stale save was refused: {saved}");
    assert!(saved.contains("enabled: false"), "{saved}");
    // Every line the builder did not change is as the developer wrote it.
    let untouched: Vec<&str> = text.lines().filter(|l| !l.contains("#it-ops") && !l.trim().is_empty()).collect();
    for line in untouched.iter().filter(|l| !l.contains("channel:")) {
        assert!(saved.lines().any(|s| s == *line), "the line `{line}` changed:\n{saved}");
    }

    // Off: a lockout starts no run of it.
    world.sandbox_admin.lock(users[1].login()).await.unwrap();
    world.settle().await;
    assert_eq!(world.runs(FLOW).await.len(), 1, "the flow is off");

    // The new flow runs on its event.
    let created = flow_text(&world, NEW_FLOW);
    assert!(created.contains("okta: user.lifecycle.suspend"), "{created}");
    assert!(created.contains("filter: event.outcome.result == \"SUCCESS\""), "{created}");
    assert!(created.contains("enabled: true"), "a new flow starts off and the admin turned it on: {created}");
    world.admin.lifecycle(&users[2].id, lanyard_core::okta::LifecycleOp::Suspend).await.unwrap();
    world.settle().await;
    let runs = world.ended_runs(NEW_FLOW, 1).await;
    assert_eq!(runs.len(), 1);
    world.assert_succeeded(&runs[0]).await;
    let posted = world.slack.requests();
    assert!(
        posted.iter().any(|p| p.json.as_ref().is_some_and(|j| j["text"].as_str() == Some(users[2].login()))),
        "{posted:#?}"
    );

    // Every write is in the audit.
    let audit = world.admin_get("audit").await;
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["save", "disable", "create", "enable"] {
        assert!(actions.contains(&a), "{a}: {audit}");
    }
    world.stop().await;
}

/// The builder's structure edits (scenario `builder-logic`): move, duplicate,
/// delete, undo and redo; an if/else from the condition builder; an error
/// path; a schedule flow from words. What they saved is valid, reads as a
/// developer would write it, and loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_moves_duplicates_deletes_branches_and_schedules() {
    const FLOW: &str = "Onboarding: Department Groups for New Hires";
    const SCHEDULED: &str = "Good Morning IT";
    let world = World::start(Options { flows: FlowsDir::Copy, ..Options::default() }).await;
    let file = world.flows_dir.join("onboarding.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    // A flow written as one flow-style mapping: valid, but not what the builder edits.
    let compact = r#"{ name: compact, description: "A flow written on one line.", trigger: manual, steps: [ { return: done } ] }"#;
    std::fs::write(world.flows_dir.join("compact.yaml"), compact).unwrap();
    world.engine.reload().await.expect("the compact flow loads");

    const MANUAL: &str = "Ask a User to Check Their Account";
    let asked = world.seeded_users(|u| u.status == "ACTIVE" && !world.group_names(&u.id).is_empty())[0].clone();
    let login = asked.login().to_string();
    scenario(
        "builder-logic",
        &world.base,
        ADMIN_TOKEN,
        json!({ "flow": FLOW, "schedule_flow": SCHEDULED, "compact": "compact", "manual_flow": MANUAL, "login": login }),
    )
    .await;
    // The form's run: its answers were the run's input, checked and read as `inputs`.
    let runs = world.ended_runs(MANUAL, 1).await;
    world.assert_succeeded(&runs[0]).await;
    assert_eq!(runs[0].input, json!({ "login": login, "days": null }));
    assert!(
        world.slack.requests().iter().any(|p| p.json.as_ref().is_some_and(|j| j["text"] == format!("Please check your account, {login}").as_str())),
        "{:#?}",
        world.slack.requests()
    );
    // The second message: in words that the first ran, and the user's
    // groups by name, each item's name picked from the list.
    let second = world
        .slack
        .requests()
        .into_iter()
        .filter_map(|p| p.json)
        .find(|j| j["text"].as_str().is_some_and(|t| t.starts_with("Asked: ")))
        .expect("the second Slack message");
    assert_eq!(second["channel"], "#it-ops", "the second step kept the first one's channel");
    let text = second["text"].as_str().unwrap();
    let (said, groups) = text.strip_prefix("Asked: ").unwrap().split_once(". Groups: ").expect("both parts");
    assert_eq!(said, "yes");
    let listed: std::collections::BTreeSet<String> = groups.split(", ").map(str::to_string).collect();
    assert_eq!(listed, world.group_names(&asked.id), "{text}");
    assert_eq!(std::fs::read_to_string(world.flows_dir.join("compact.yaml")).unwrap(), compact, "a read-only file is not written");

    let saved = std::fs::read_to_string(&file).unwrap();
    let at = |needle: &str| saved.find(needle).unwrap_or_else(|| panic!("`{needle}` is not in:\n{saved}"));
    assert!(at("- id: jira") < at("- id: github"), "jira moved above github:\n{saved}");
    assert!(!saved.contains("jira_2"), "the duplicate was deleted (redo):\n{saved}");
    assert!(saved.contains("if: user.profile.userType == \"Contractor\""), "{saved}");
    assert!(at("- id: user") < at("id: contractor") && at("id: contractor") < at("id: department"), "{saved}");
    assert!(saved.contains("stop: contractors get no app groups"), "{saved}");
    assert!(at("- id: user") < at("attempts: 3") && at("attempts: 3") < at("id: contractor"), "Retry from the palette went on `user`:\n{saved}");
    assert!(at("on_error:") < at("id: contractor") && saved.contains("Onboarding could not read the new user"), "{saved}");
    // The developer's comment on the trigger and the untouched steps' lines stay as written.
    for line in before.lines().filter(|l| l.contains('#') || l.contains("salesforce") || l.contains("BambooHR")) {
        assert!(saved.contains(line), "`{line}` changed:\n{saved}");
    }
    let scheduled = flow_text(&world, SCHEDULED);
    assert!(scheduled.contains("cron: 30 8 * * 1-5") || scheduled.contains("cron: \"30 8 * * 1-5\""), "{scheduled}");
    assert!(scheduled.contains("timezone: Europe/Paris"), "{scheduled}");
    // Every file the builder wrote loads.
    let manual = flow_text(&world, MANUAL);
    assert!(manual.contains("manual:\n    inputs:\n      login:"), "{manual}");
    assert!(manual.contains("text: \"Asked: {{ 'yes' if post else 'no' }}. Groups: {{ list_user_groups.items | map(attribute='name') | join(', ') }}\""), "{manual}");
    // The loop the loop form wrote: a value kept per group, and two totals.
    assert!(manual.contains("    for_each: \"{{ list_user_groups.items }}\"\n    as: group\n"), "{manual}");
    assert!(manual.contains("    collect: \"{{ group.name }}\"\n    reduce:\n      total:\n        start: 0\n        each: \"{{ acc + 1 }}\"\n      total_2:\n        start: \"Groups:\"\n        each: \"{{ acc ~ group.name ~ ';' }}\"\n"), "{manual}");
    let loop_step = world.step(&runs[0], "each").await;
    let names = world.group_names(&asked.id);
    let out = loop_step.output.clone().expect("the loop's record");
    assert_eq!((&out["iterations"], &out["collected"], &out["vars"]["total"]), (&json!(names.len()), &json!(names.len()), &json!(names.len())), "{out}");
    let listed = out["vars"]["total_2"].as_str().and_then(|t| t.strip_prefix("Groups:")).expect("the names after the start");
    assert_eq!(listed.split_terminator(';').map(str::to_string).collect::<std::collections::BTreeSet<_>>(), names, "{out}");
    assert_eq!(world.engine.flows().len(), 9, "{:?}", world.engine.reload_status().last_error);
    world.stop().await;
}

/// The defects found trying the console as a new admin (scenario
/// `console-defects`), at a desktop and a phone size, on the seed's world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_defects_found_by_a_new_admin_stay_fixed() {
    let world = World::start(Options::default()).await;
    scenario("console-defects", &world.base, ADMIN_TOKEN, json!({ "flow": crate::harness::OFFBOARDING })).await;
    world.stop().await;
}

/// The Cards page (scenario `console-cards`): the custom card is held (its
/// grants are not in the config), a leaver's offboarding runs meanwhile
/// (its JAMF step fails, its error path tells IT), and the operator grants
/// the card only the `jamf` connection with the page's buttons: the
/// registry records that, and the card runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_grants_a_held_card_from_the_cards_page() {
    let world = World::start(Options { hold_custom_card: true, ..Options::default() }).await;
    let run = world.offboard_an_engineer().await;
    let devices = world.step(&run, "devices").await;
    assert!(devices.error.as_ref().is_some_and(|e| e.message.contains("held")), "{devices:?}");

    scenario("console-cards", &world.base, ADMIN_TOKEN, json!({ "flow": crate::harness::OFFBOARDING })).await;

    let card = world.admin_get("cards/acme.jamf-offboard/1.0.0").await;
    let version = &card["versions"][0];
    assert_eq!((&version["granted"], &version["state"]), (&json!(["connection:jamf"]), &json!("granted")), "{card}");
    world.stop().await;
}

/// Every page says when the daemon cannot be reached (scenario
/// `console-daemon-down`): the daemon really stops while the page is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_says_when_the_daemon_cannot_be_reached() {
    let world = World::start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("stop-the-daemon");
    let base = world.base.clone();
    let data = json!({ "marker": marker });
    let browser = tokio::spawn(async move { scenario("console-daemon-down", &base, ADMIN_TOKEN, data).await });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !marker.exists() {
        assert!(std::time::Instant::now() < deadline && !browser.is_finished(), "the scenario asked to stop the daemon");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    world.stop().await;
    browser.await.expect("the scenario");
}

/// The Flows page's last runs and counts come from the listing the daemon
/// keeps (scenario `console-flows-counts`), after a real offboarding run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flows_page_counts_runs_from_what_the_daemon_keeps() {
    let world = World::start(Options::default()).await;
    let run = world.offboard_an_engineer().await;
    let listing = world.admin_get("flows").await;
    let flow = listing["flows"].as_array().unwrap().iter().find(|f| f["name"] == crate::harness::OFFBOARDING).unwrap();
    assert_eq!(flow["stats"]["last_24h"], json!({ "succeeded": 1 }), "{listing}");
    assert_eq!(flow["stats"]["last_run"]["id"], run.id.as_str());
    scenario("console-flows-counts", &world.base, ADMIN_TOKEN, json!({ "flow": crate::harness::OFFBOARDING, "run": run.id })).await;
    world.stop().await;
}

/// A table kept in the console (scenario `console-tables`): 120 audit rows
/// the test writes, then everything an admin does to a table; the table is
/// cleared at the end, another table is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_keeps_a_table_in_the_console() {
    const TABLE: &str = "offboarding-audit";
    const ROWS: usize = 120;
    let world = World::start(Options::default()).await;
    let store = world.engine.store();
    for i in 0..ROWS {
        let name = if i % 50 == 3 { "Ada Lovelace".to_string() } else { format!("User {i}") };
        let row = json!({ "login": format!("user{i:03}@acme.example"), "name": name, "department": "Engineering", "groups": ["Everyone", "Engineering"] });
        store.table_put(TABLE, &format!("u{i:03}"), &row).await.unwrap();
    }
    store.table_put("mfa-reminders", "keep", &json!({ "login": "kept@acme.example" })).await.unwrap();
    store.sync_blocking().unwrap();
    scenario("console-tables", &world.base, ADMIN_TOKEN, json!({ "table": TABLE, "rows": ROWS })).await;
    assert!(store.table_page(TABLE, &lanyard_store::PageQuery { limit: 10, ..Default::default() }).await.unwrap().rows.is_empty(), "the admin cleared the table");
    assert_eq!(store.table_get("mfa-reminders", "keep").await.unwrap(), Some(json!({ "login": "kept@acme.example" })));
    world.stop().await;
}

/// The history searched in the console (scenario `console-history`): an
/// offboarding whose JAMF step was refused (the custom card is held), and a
/// lockout run by hand for a user Okta does not have, which fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_finds_runs_by_user_card_and_error() {
    let world = World::start(Options { hold_custom_card: true, ..Options::default() }).await;
    let run = world.offboard_an_engineer().await;
    let target = &run.input["target"][0];
    fail_a_lockout(&world).await;
    world.settle().await;
    let data = json!({
        "login": target["alternateId"],
        "name": target["displayName"],
        "offboarding": crate::harness::OFFBOARDING,
        "lockout": crate::harness::LOCKOUT,
    });
    let events = world.org.events().len();
    scenario("console-history", &world.base, ADMIN_TOKEN, data).await;
    // The re-run: the same event, as a dry run, and nothing written to Okta.
    world.settle().await;
    let again = world.runs(crate::harness::OFFBOARDING).await;
    assert_eq!(again.len(), 2, "{again:#?}");
    let rerun = again.iter().find(|r| r.id != run.id).unwrap();
    assert_eq!(rerun.trigger, lanyard_core::history::TriggerInfo::Rerun { of: run.id.clone() });
    assert!(rerun.dry_run && rerun.input == run.input, "{rerun:#?}");
    assert_eq!(world.org.events().len(), events, "a dry run writes nothing to Okta");
    world.stop().await;
}

/// A lockout run by hand for a user Okta does not have: it fails at `user`.
pub(crate) async fn fail_a_lockout(world: &World) {
    let r = world
        .http
        .post(format!("{}/api/v1/flows/{}/run?wait=true", world.base, urlencoding(crate::harness::LOCKOUT)))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "eventType": "user.account.lock", "target": [{ "id": "00unobody000000000000", "type": "User" }] }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

pub(crate) fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A run with hundreds of steps (scenario `console-big-run`): the MFA sweep
/// run by hand over the seeded org, read by iteration and searched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_hundreds_of_steps_reads_by_iteration() {
    let world = World::start(Options::default()).await;
    let r = world
        .http
        .post(format!("{}/api/v1/flows/{}/run?wait=true", world.base, urlencoding(crate::harness::MFA_REMINDER)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    world.settle().await;
    let run = world.runs(crate::harness::MFA_REMINDER).await.remove(0);
    let steps = world.steps(&run).await;
    let items = steps.iter().find(|s| s.path == "sweep").and_then(|s| s.output.as_ref()).and_then(|o| o["count"].as_u64()).expect("the loop's items") as usize;
    assert!(steps.iter().any(|s| s.path == "sweep/pages[1]"), "the org is read a page at a time");
    assert!(steps.len() > 300, "a big run: {} steps", steps.len());
    let reminded = steps
        .iter()
        .find(|s| s.card.as_deref().is_some_and(|c| c.starts_with("mail.send")))
        .expect("someone was reminded");
    let login = reminded.input.as_ref().unwrap()["to"].as_str().unwrap().to_string();
    scenario("console-big-run", &world.base, ADMIN_TOKEN, json!({ "run": run.id, "login": login, "items": items })).await;
    world.stop().await;
}

/// A flow that keeps no step data (`keep_step_data: false`): its run's steps
/// lose their inputs and outputs when it ends, and the console says so
/// (scenario `console-withheld`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_that_keeps_no_step_data_withholds_it() {
    const FLOW: &str = "Private: Look a User Up";
    let world = World::start(Options { flows: FlowsDir::Copy, ..Options::default() }).await;
    let user = world.seeded_users(|u| u.status == "ACTIVE")[0].clone();
    std::fs::write(
        world.flows_dir.join("private.yaml"),
        format!("name: \"{FLOW}\"\ndescription: Reads a user; keeps none of it.\nkeep_step_data: false\ntrigger: manual\nsteps:\n  - id: user\n    card: okta.get-user\n    with: {{ user: \"{{{{ event.user }}}}\" }}\n  - return: {{ login: \"{{{{ user.profile.login }}}}\" }}\n"),
    )
    .unwrap();
    world.engine.reload().await.expect("the flows reload");
    let r = world
        .http
        .post(format!("{}/api/v1/flows/{}/run?wait=true", world.base, urlencoding(FLOW)))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "user": user.id }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let run = world.runs(FLOW).await.remove(0);
    assert_eq!(run.output, Some(json!({ "login": user.login() })), "the run itself had the data");
    let steps = world.steps(&run).await;
    assert!(!steps.is_empty() && steps.iter().all(|s| s.withheld && s.input.is_none() && s.output.is_none()), "{steps:#?}");
    scenario("console-withheld", &world.base, ADMIN_TOKEN, json!({ "run": run.id, "flow": FLOW })).await;
    world.stop().await;
}

/// A helper started as a run of its own, built in the builder (scenario
/// `builder-async-call`): a helper flow with one input, a flow run by hand
/// that calls it without waiting. The call form lists the helper's inputs;
/// the caller's page links the run it started, which links back; the helper
/// greeted the user in Slack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_builds_a_flow_that_starts_a_helper_and_goes_on() {
    const HELPER: &str = "Greet a User";
    const CALLER: &str = "Greet Without Waiting";
    let world = World::start(Options { flows: FlowsDir::Copy, ..Options::default() }).await;
    let login = "pat@acme.example";
    let out = scenario("builder-async-call", &world.base, ADMIN_TOKEN, json!({ "helper": HELPER, "caller": CALLER, "login": login })).await;
    let line = out.lines().find_map(|l| l.strip_prefix("caller run ")).expect("the scenario names its runs");
    let (caller, child) = line.trim().split_once(" started ").expect("caller and child");
    let saved = flow_text(&world, CALLER);
    assert!(saved.contains(&format!("call: {HELPER}\n    wait: false\n    with:\n      login: {login}\n")), "{saved}");
    let run = world.engine.wait_for_run(child).await.unwrap();
    world.assert_succeeded(&run).await;
    assert_eq!(run.flow, HELPER);
    assert_eq!(run.trigger, lanyard_core::history::TriggerInfo::Flow { parent_run: caller.to_string(), parent_step: "call".into() });
    assert!(
        world.slack.requests().iter().any(|p| p.json.as_ref().is_some_and(|j| j["text"] == format!("Hello {login}").as_str())),
        "{:#?}",
        world.slack.requests()
    );
    world.stop().await;
}

/// A flow that waits for an approval, built in the builder (scenario
/// `console-waiting`): the Wait step from the palette set to "For an
/// answer", then a Slack message with the answer. Run by hand, the Runs page
/// lists it as waiting, its page says for what and until when, and the
/// admin's Approve makes it go on with that answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_builds_an_approval_and_answers_the_waiting_run() {
    const FLOW: &str = "Approval: Ask IT";
    let world = World::start(Options { flows: FlowsDir::Copy, ..Options::default() }).await;
    let out = scenario("console-waiting", &world.base, ADMIN_TOKEN, json!({ "flow": FLOW })).await;
    let id = out.lines().find_map(|l| l.strip_prefix("waited run ")).expect("the scenario names its run").trim().to_string();
    let saved = flow_text(&world, FLOW);
    assert!(saved.contains("  - id: ask\n    wait:\n      signal: approval\n      choices:\n        - approve\n        - reject\n      timeout: 3d\n"), "{saved}");
    let run = world.engine.wait_for_run(&id).await.unwrap();
    world.assert_succeeded(&run).await;
    let ask = world.step(&run, "ask").await;
    let out = ask.output.expect("the wait's output");
    assert_eq!((&out["resumed"], &out["choice"], &out["by"]), (&json!("signal"), &json!("approve"), &json!("api")), "{out}");
    assert!(
        world.slack.requests().iter().any(|p| p.json.as_ref().is_some_and(|j| j["text"] == "IT answered: approve")),
        "{:#?}",
        world.slack.requests()
    );
    world.stop().await;
}

/// The seven everyday tasks of the issue, each from the Flows page, clicks
/// and keys counted (scenario `console-daily-tasks`; building a flow is the
/// seed scenarios' `built::*`). Each must stay a handful of clicks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_everyday_tasks_take_a_few_clicks() {
    let world = World::start(Options { flows: FlowsDir::Copy, hold_custom_card: true, ..Options::default() }).await;
    let offboarded = world.offboard_an_engineer().await;
    let key = offboarded.input["target"][0]["id"].as_str().unwrap().to_string();
    fail_a_lockout(&world).await;
    world.settle().await;
    let data = json!({
        "failed": crate::harness::LOCKOUT,
        "mfa": crate::harness::MFA_REMINDER,
        "audit_key": key,
        "lockout": crate::harness::LOCKOUT,
    });
    let out = scenario("console-daily-tasks", &world.base, ADMIN_TOKEN, data).await;
    let counts = crate::browser::tallies(&out);
    assert_eq!(counts.len(), 6, "{out}");
    for (what, clicks, keys) in &counts {
        eprintln!("{what}: {clicks} clicks or selections, {keys} keystrokes");
        assert!(*clicks <= 6, "{what} took {clicks} clicks");
    }
    // What the admin did is done.
    world.settle().await;
    assert_eq!(world.engine.store().table_get("offboarding-audit", &key).await.unwrap().unwrap()["department"], "Finance");
    let flows = world.engine.flows();
    let lockout = flows.get(crate::harness::LOCKOUT).unwrap();
    assert!(!lockout.enabled, "turned off");
    assert!(std::fs::read_to_string(world.flows_dir.join("lockout-manager.yaml")).unwrap().contains("#it-help"));
    assert!(!world.runs(crate::harness::MFA_REMINDER).await.is_empty(), "the sweep ran");
    let card = world.admin_get("cards/acme.jamf-offboard/1.0.0").await;
    assert_eq!(card["versions"][0]["state"], "granted", "{card}");
    world.stop().await;
}

/// Every page says when the daemon's store cannot write (scenario
/// `console-store-full`): its data directory is on a 24 MiB tmpfs, filled
/// while the pages are open, then freed (root, or a user namespace: see
/// `lanyard_store::testing`).
#[test]
fn every_page_says_when_the_store_cannot_write() {
    lanyard_store::testing::with_mount_rights("console::every_page_says_when_the_store_cannot_write", || {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(store_full())
    });
}

async fn store_full() {
    let disk = lanyard_store::testing::Tmpfs::mount(24);
    let world = World::start(Options { data_dir: Some(disk.path().join("data")), ..Options::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = |n: &str| dir.path().join(n);
    let (open, full, freed) = (marker("open"), marker("full"), marker("freed"));
    let base = world.base.clone();
    let data = json!({ "open": open, "full": full, "freed": freed });
    let browser = tokio::spawn(async move { scenario("console-store-full", &base, ADMIN_TOKEN, data).await });
    let wait_for = |p: std::path::PathBuf| async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !p.exists() {
            assert!(std::time::Instant::now() < deadline, "the scenario did not write {}", p.display());
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    wait_for(open.clone()).await;

    // Full: writes fail until the store reports it cannot write.
    disk.fill();
    let readyz = || async { world.http.get(format!("{}/readyz", world.base)).send().await.unwrap().status().as_u16() };
    for i in 0.. {
        if readyz().await == 503 {
            break;
        }
        assert!(i < 500, "the store kept writing on a full disk");
        let _ = world
            .http
            .post(format!("{}/api/v1/flows/{}/run?dry_run=true", world.base, urlencoding(crate::harness::LOCKOUT)))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "eventType": "user.account.lock", "padding": "x".repeat(64 * 1024) }))
            .send()
            .await;
    }
    std::fs::write(&full, "full").unwrap();

    // The pages said so: space returns, and they say nothing any more.
    wait_for(freed).await;
    disk.free();
    browser.await.expect("the scenario");
    world.stop().await;
}

/// Two Okta orgs (scenario `builder-orgs`): an admin builds a flow started by
/// a user deactivated in the preview org whose Okta card acts in the default
/// org, choosing both orgs from selects in the builder. The saved file names
/// them where FORMAT.md does, and an event in preview then suspends the same
/// person's account in the default org, with lanyard's identity there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_picks_the_okta_org_of_a_trigger_and_of_a_card_step() {
    use crate::harness::{prof, PREVIEW_ORG};
    use lanyard_core::okta::LifecycleOp;
    const FLOW: &str = "Preview Leavers: Suspend Their Account";
    let world = World::start(Options { flows: FlowsDir::Empty, preview_org: true, ..Options::default() }).await;
    let preview = world.preview.clone().expect("the preview org");
    let preview_url = world.engine.orgs().get(PREVIEW_ORG).and_then(|o| o.sandbox()).unwrap().base_url.clone();
    let preview_admin = lanyard_okta::OktaClient::new(
        lanyard_okta::OktaConfig::new(&preview_url, lanyard_okta::Auth::Ssws(preview.admin_token().to_string())).unwrap(),
    )
    .unwrap();
    // A person with an account in both orgs, under the same login.
    let person = world.seeded_users(|u| u.status == "ACTIVE" && !prof(u, "email").is_empty())[0].clone();
    assert!(preview.user_by_login(person.login()).is_none(), "the preview org's seed is its own");
    let mut profile = serde_json::Map::new();
    for key in ["login", "email", "firstName", "lastName"] {
        profile.insert(key.into(), json!(prof(&person, key)));
    }
    let tester = preview_admin.create_user(&profile, true, &[]).await.expect("the preview admin adds the person");
    world.settle().await;

    scenario("builder-orgs", &world.base, ADMIN_TOKEN, json!({ "flow": FLOW, "preview": PREVIEW_ORG, "default": "default" })).await;

    let saved = flow_text(&world, FLOW);
    assert!(saved.contains("trigger:\n  okta: user.lifecycle.deactivate\n  org: preview\n"), "the trigger's org:\n{saved}");
    assert!(saved.contains("    card: okta.suspend\n    org: default\n    with:\n"), "the step's org, before its inputs:\n{saved}");
    let loaded = world.engine.flows();
    assert!(loaded.get(FLOW).expect("the built flow is loaded").enabled, "the admin turned it on");

    // The person leaves the preview org: their account in the default org is suspended.
    preview_admin.lifecycle(&tester.id, LifecycleOp::Deactivate).await.expect("the preview admin deactivates the tester");
    world.settle().await;
    let runs = world.ended_runs(FLOW, 1).await;
    assert_eq!(runs.len(), 1, "one run, for preview's event");
    world.assert_succeeded(&runs[0]).await;
    assert_eq!(world.org.user(&person.id).unwrap().status, "SUSPENDED", "{}", world.trace(&runs[0]).await);
    assert_eq!(preview.user(&tester.id).unwrap().status, "DEPROVISIONED");
    let suspended = world.events_about("user.lifecycle.suspend", &person.id);
    assert_eq!(suspended.len(), 1);
    assert_eq!(suspended[0].actor.id, world.org.service_user_id(), "lanyard's identity in the default org suspended them");
    assert!(preview.events_of_type("user.lifecycle.suspend").is_empty(), "nothing was suspended in preview");
    // The default org's suspension (lanyard's own event) started nothing.
    assert_eq!(world.run_counts().await.values().sum::<usize>(), 1);
    world.stop().await;
}
