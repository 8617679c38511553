//! The flow library (`flows/library/`, `lanyard_server::library`): every
//! library flow validates against the real card set, imports through the
//! admin API (off, once), and does its job against the sandbox org from its
//! real trigger: Event Hooks the sandbox delivers, schedules fired by the
//! scheduler on the world's manual clock, and the invoke API.
//!
//! Each world loads all twelve flows as an admin would have them after importing
//! the library (off), with `flows/library/grants.toml` as its grants, and turns
//! on only the flow under test through the admin API, so the others are
//! loaded but start nothing.

use crate::browser::scenario;
use crate::harness::{mail_text, prof, FlowsDir, Options, World, ADMIN_TOKEN, MAIL_FROM};
use chrono::{DateTime, Duration, TimeZone, Utc};
use lanyard_core::history::{RunRecord, RunStatus, TriggerInfo};
use lanyard_core::okta::{LifecycleOp, User};
use lanyard_server::library::FLOWS;
use lanyard_server::schedule::Scheduler;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const CONTRACTOR: &str = "Contractor Expiry: Warn the Manager, Then Deactivate";
const STALE: &str = "Stale Accounts: Report, Then Suspend After 90 Days Without Sign-In";
const PRIVILEGED: &str = "Privileged Group Change: Alert Security";
const APP_REVIEW: &str = "App Assignment Review: Tell the Owner, Take Back Unapproved Access";
const PASSWORD: &str = "Password Expiry Reminder: Email Users Before Their Password Expires";
const RECONCILE: &str = "Group Membership Reconciliation: Make Groups Match Their Table";
const LEAVER_FILES: &str = "Leaver's Files: Remind the Manager to Take Ownership";
const SIGN_INS: &str = "Suspicious Sign-Ins: Alert Security on Failed-Sign-In Bursts and New Countries";
const ADMIN_REPORT: &str = "Weekly Report: Who Is in the Okta Admin Groups";
const REHIRE: &str = "Re-hire: Reactivate the Returning Employee's Account";
const ONBOARDING_APPS: &str = "Onboarding: Assign Department Apps Directly";
/// Its end-to-end test is `approval.rs`: a person answers it with a link.
pub(crate) const ACCESS_REQUEST: &str = "Access Request: Approve in Slack, Then Add to the Group";

fn library_grants() -> String {
    lanyard_server::library::GRANTS.to_string()
}

/// A world with every library flow loaded (off) and `on` turned on.
async fn library_world(clock: Option<DateTime<Utc>>, on: &[&str]) -> World {
    let w = World::start(Options {
        manual_clock: clock,
        flows: FlowsDir::Empty,
        grants: Some(library_grants()),
        ..Options::default()
    })
    .await;
    for e in FLOWS {
        std::fs::write(w.flows_dir.join(format!("{}.yaml", e.id)), e.source).expect("write a library flow");
    }
    w.engine.reload().await.expect("the library flows load together");
    assert_eq!(w.engine.flows().len(), FLOWS.len());
    assert!(w.engine.flows().flows().all(|f| !f.enabled), "library flows load off");
    for name in on {
        let r = w
            .http
            .put(api(&w, &["flows", name, "enabled"]))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "enabled": true, "note": "tested in the library's e2e test" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "turn on {name}: {}", r.text().await.unwrap());
        assert!(w.engine.flows().get(name).unwrap().enabled);
    }
    w
}

/// `{base}/api/v1/<segments, each percent-encoded>`.
pub(crate) fn api(w: &World, segments: &[&str]) -> String {
    let mut u = url::Url::parse(&format!("{}/api/v1/", w.base)).unwrap();
    u.path_segments_mut().unwrap().pop_if_empty().extend(segments);
    u.to_string()
}

/// A table row written through the admin API, as an admin (the Tables page)
/// or an HR system would.
async fn put_row(w: &World, table: &str, key: &str, value: Value) {
    let r = w.http.put(api(w, &["tables", table, "rows", key])).bearer_auth(ADMIN_TOKEN).json(&value).send().await.unwrap();
    assert_eq!(r.status(), 200, "PUT row {table}/{key}: {}", r.text().await.unwrap());
}

/// The texts posted to Slack `channel` (`#it-ops`, `#security`), in order.
fn posts(w: &World, channel: &str) -> Vec<String> {
    w.slack
        .requests()
        .into_iter()
        .filter(|p| p.accepted && p.json.as_ref().is_some_and(|j| j["channel"] == channel))
        .map(|p| p.json.unwrap()["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Mail to `address`, as (subject, text).
fn mail_to(w: &World, address: &str) -> Vec<(String, String)> {
    w.smtp
        .messages()
        .iter()
        .filter(|m| m.envelope_to.iter().any(|a| a == address))
        .map(|m| {
            assert_eq!(m.envelope_from, MAIL_FROM);
            (m.subject.clone().unwrap_or_default(), mail_text(m))
        })
        .collect()
}

/// The schedule of `flow` fired at `at` by the scheduler on the world's
/// clock (a tick a minute before learns or moves the next fire time), and the
/// run it started, settled and succeeded.
async fn fire(w: &World, scheduler: &Scheduler, flow: &str, at: DateTime<Utc>) -> RunRecord {
    let clock = w.clock.clone().expect("a manual clock");
    clock.set(at - Duration::minutes(1));
    let before = scheduler.tick(at - Duration::minutes(1)).await.unwrap();
    assert!(before.fired.iter().all(|f| f.flow != flow), "{before:?}");
    clock.set(at);
    let report = scheduler.tick(at).await.unwrap();
    let fired: Vec<_> = report.fired.iter().filter(|f| f.flow == flow).collect();
    assert_eq!(fired.len(), 1, "{flow} fires at {at}: {report:?}");
    let run_id = fired[0].run_id.clone();
    w.settle().await;
    let run = w.runs(flow).await.into_iter().find(|r| r.id == run_id).expect("the fired run");
    w.assert_succeeded(&run).await;
    assert!(matches!(&run.trigger, TriggerInfo::Schedule { fire_time, .. } if *fire_time == at), "{:?}", run.trigger);
    run
}

fn manager_of(w: &World, u: &User) -> User {
    w.org.user(prof(u, "managerId")).expect("the user's manager")
}

/// A seeded manager with an email, of `department`.
fn a_manager(w: &World, department: &str) -> User {
    w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == department && prof(u, "title").contains("Manager"))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("a seeded manager in {department}"))
}

async fn hire(w: &World, first: &str, last: &str, extra: &[(&str, &str)]) -> User {
    let profile = lanyard_sandbox::okta::new_user_profile(first, last, "acme.example", extra);
    w.admin.create_user(&profile, true, &[]).await.expect("the admin creates the user")
}

/// Monday 2 March 2026, 06:00 in New York (EST, UTC-5).
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()
}

/// The committed sample (`flows/library/samples/<id>.json`, for `lanyard run
/// --event`) is an Event Hook delivery of an event shaped as the sandbox
/// sends this one: the same type, the same kinds of targets in the same
/// order. With `LANYARD_WRITE_SAMPLES=1` it is written anew from `event`.
fn sample_is_like(id: &str, event: &lanyard_core::LogEvent) {
    let path = crate::harness::repo().join("flows/library/samples").join(format!("{id}.json"));
    let real = serde_json::to_value(event).unwrap();
    if std::env::var_os("LANYARD_WRITE_SAMPLES").is_some() {
        let delivery = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": "https://acme.okta.com/api/v1/eventHooks/whoLanyardSeed0001",
            "eventId": format!("library-sample-{id}"),
            "eventTime": real["published"],
            "contentType": "application/json",
            "data": { "events": [real] },
        });
        std::fs::write(&path, serde_json::to_string_pretty(&delivery).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sample: Value = serde_json::from_str(&text).unwrap();
    let e = &sample["data"]["events"][0];
    let kinds = |v: &Value| -> Vec<Value> { v["target"].as_array().unwrap().iter().map(|t| t["type"].clone()).collect() };
    assert_eq!(e["eventType"], real["eventType"], "{}", path.display());
    assert_eq!(kinds(e), kinds(&real), "{}", path.display());
}

// ---------------------------------------------------------------------------
// Validation and import

/// Every library flow validates with no diagnostics at all against the real
/// built-in cards, alone and together with the seed flows (so none reuses a
/// seed flow's name), and the names above are the files' names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_library_flow_validates_with_no_diagnostics() {
    use lanyard_server::card_set::{load_builtins, CardSet};
    use lanyard_server::registry::{runtime_config, Registry, RegistryOptions};

    let config = lanyard_server::Config::parse(
        &format!("[server]\ncache_dir = \"{}\"\n", crate::harness::card_cache().display()),
        None,
        &BTreeMap::<String, String>::new(),
    )
    .unwrap();
    let runtime = lanyard_runtime::Runtime::new(runtime_config(&config)).unwrap();
    let rt = runtime.clone();
    let (builtins, errors) = tokio::task::spawn_blocking(move || load_builtins(&rt)).await.unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    let builtin_only = CardSet::build(&builtins, Vec::new(), &Default::default());

    let library = lanyard_server::flows::read_flow_files(&crate::harness::repo().join("flows/library")).unwrap();
    assert_eq!(library.len(), FLOWS.len(), "flows/library/ holds the embedded flows and no other");
    let v = lanyard_flow::validate(&library, &builtin_only);
    assert!(v.diagnostics.is_empty(), "{}", v.render(&library));
    let names: BTreeSet<String> = v.flows.iter().map(|f| f.name.clone()).collect();
    let expected: BTreeSet<String> =
        [CONTRACTOR, STALE, PRIVILEGED, APP_REVIEW, PASSWORD, RECONCILE, LEAVER_FILES, SIGN_INS, ADMIN_REPORT, REHIRE, ONBOARDING_APPS, ACCESS_REQUEST].iter().map(|s| s.to_string()).collect();
    assert_eq!(names, expected);
    assert!(v.flows.iter().all(|f| !f.enabled), "every library flow is off");

    // With the seed flows (and the custom card offboarding needs).
    let store = lanyard_store::memory::MemoryStore::new().shared();
    let registry = Registry::new(store.clone(), runtime, RegistryOptions::default());
    for (dir, _) in crate::harness::CUSTOM_CARDS {
        registry.publish(lanyard_cards::examples::example(dir).unwrap().to_vec(), None).await.unwrap();
    }
    let cards = CardSet::build(&builtins, store.list_cards().await.unwrap(), &Default::default());
    let mut all = lanyard_server::flows::read_flow_files(&crate::harness::repo().join("flows")).unwrap();
    let seeds = all.len();
    all.extend(library);
    let v = lanyard_flow::validate(&all, &cards);
    assert!(v.diagnostics.is_empty(), "{}", v.render(&all));
    assert_eq!(v.flows.len(), seeds + FLOWS.len());
}

/// The library as the console reads it, and an import of each flow through
/// the flow-writing API: created off, in a file named as in the library,
/// listed as imported; a second import is refused with a clear reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_flows_import_off_and_only_once() {
    let w = World::start(Options { flows: FlowsDir::Empty, grants: Some(library_grants()), ..Options::default() }).await;
    let list = w.admin_get("library").await;
    let flows = list["flows"].as_array().unwrap();
    assert_eq!(flows.len(), FLOWS.len());
    for f in flows {
        assert_eq!(f["problems"], json!([]), "this daemon has every card {} needs: {f}", f["name"]);
        assert_eq!(f["imported"], false);
        assert!(!f["trigger"]["words"].as_str().unwrap().is_empty(), "{f}");
    }
    let by_id = |id: &str| flows.iter().find(|f| f["id"] == id).unwrap().clone();
    assert_eq!(by_id("privileged-group-alert")["trigger"]["event_types"], json!(["group.user_membership.add"]));
    assert_eq!(by_id("rehire-reactivation")["trigger"]["kind"], "api");
    assert_eq!(by_id("contractor-expiry")["needs"]["tables"], json!([{ "name": "contractor-end-dates", "read": true, "write": true }]));
    assert_eq!(by_id("contractor-expiry")["needs"]["mail"], true);

    for e in FLOWS {
        let one = w.admin_get(&format!("library/{}", e.id)).await;
        assert_eq!(one["source"], e.source);
        assert!(one["outline"]["steps"].as_array().is_some_and(|s| !s.is_empty()), "{one}");
        let r = w
            .http
            .post(api(&w, &["flows"]))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "source": e.source, "file": format!("{}.yaml", e.id), "note": "imported from the flow library" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}: {}", e.id, r.text().await.unwrap());
        let name = one["name"].as_str().unwrap();
        let loaded = w.engine.flows().get(name).cloned().expect("the imported flow is loaded");
        assert!(!loaded.enabled, "{name} is imported off");
        assert_eq!(std::fs::read_to_string(w.flows_dir.join(format!("{}.yaml", e.id))).unwrap(), e.source);
    }
    let list = w.admin_get("library").await;
    assert!(list["flows"].as_array().unwrap().iter().all(|f| f["imported"] == true), "{list}");

    // Twice: the same file, or the same name in another file.
    let e = &FLOWS[0];
    for file in [format!("{}.yaml", e.id), "copy.yaml".to_string()] {
        let r = w.http.post(api(&w, &["flows"])).bearer_auth(ADMIN_TOKEN).json(&json!({ "source": e.source, "file": file })).send().await.unwrap();
        assert_eq!(r.status(), 409, "{file}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "exists", "{body}");
    }
    assert_eq!(w.engine.flows().len(), FLOWS.len());
    assert!(!w.flows_dir.join("copy.yaml").exists());
    w.stop().await;
}

/// The import in the browser (scenario `library-import`): the Flows page
/// leads to the library, the library to a flow, "Add to my flows" creates it
/// off and lands on its page; a second visit says it is there already.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_library_flow_in_the_console() {
    let w = World::start(Options { flows: FlowsDir::Empty, grants: Some(library_grants()), ..Options::default() }).await;
    scenario("library-import", &w.base, ADMIN_TOKEN, json!({ "id": "stale-accounts", "name": STALE, "count": FLOWS.len() })).await;
    let flow = w.engine.flows().get(STALE).cloned().expect("the browser imported the flow");
    assert!(!flow.enabled);
    let file = std::fs::read_to_string(w.flows_dir.join("stale-accounts.yaml")).unwrap();
    assert_eq!(file, lanyard_server::library::entry("stale-accounts").unwrap().source);
    assert_eq!(w.engine.flows().len(), 1, "imported once");
    let audit = w.admin_get("audit").await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[0]["note"], "imported from the flow library (stale-accounts)");
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 1. Contractor expiry

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contractors_are_warned_then_deactivated_by_their_end_date() {
    let start = monday();
    let w = library_world(Some(start), &[CONTRACTOR]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    let boss = a_manager(&w, "Engineering");
    let other_boss = a_manager(&w, "Sales");
    let mut made = BTreeMap::new();
    for (first, m) in [("Ann", Some(&boss)), ("Ben", Some(&other_boss)), ("Cat", Some(&boss)), ("Dan", Some(&boss)), ("Eve", None)] {
        let mut extra = vec![("userType", "Contractor"), ("department", "Engineering"), ("title", "Contract Engineer")];
        if let Some(m) = m {
            extra.push(("managerId", m.id.as_str()));
        }
        made.insert(first, hire(&w, first, "Contractor", &extra).await);
    }
    let (ann, ben, cat, dan, eve) = (&made["Ann"], &made["Ben"], &made["Cat"], &made["Dan"], &made["Eve"]);
    // An employee with a row that passed is not a contractor: left alone.
    let employee = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee" && prof(u, "department") == "Legal")[0].clone();
    for (u, end) in [(ann, "2026-03-01"), (ben, "2026-03-10"), (dan, "2026-06-30"), (eve, "2026-03-05"), (&employee, "2026-02-01")] {
        put_row(&w, "contractor-end-dates", u.login(), json!({ "end_date": end })).await;
    }
    w.settle().await;

    // Monday 07:00 New York.
    let seven = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let run = fire(&w, &scheduler, CONTRACTOR, seven).await;
    assert_eq!(
        run.output,
        Some(json!({
            "contractors": 5,
            "deactivated": [ann.login()],
            "warned": [ben.login(), eve.login()],
            "no_end_date": [cat.login()],
        })),
        "{}",
        w.trace(&run).await
    );
    assert_eq!(w.org.user(&ann.id).unwrap().status, "DEPROVISIONED");
    for u in [ben, cat, dan, eve, &employee] {
        assert_eq!(w.org.user(&u.id).unwrap().status, u.status, "{} is as it was", u.login());
    }
    let deactivated = w.events_about("user.lifecycle.deactivate", &ann.id);
    assert_eq!(deactivated.len(), 1);
    assert_eq!(deactivated[0].actor.id, w.org.service_user_id(), "lanyard deactivated the account");

    let to_boss = mail_to(&w, prof(&boss, "email"));
    assert_eq!(to_boss.len(), 1, "{to_boss:#?}");
    assert_eq!(to_boss[0].0, "Ann Contractor's contract has ended: account deactivated");
    assert_eq!(
        to_boss[0].1,
        format!(
            "Hi {},\n\nThe contract of Ann Contractor ({}) ended on 2026-03-01, so their Okta account was deactivated today.\n\n\
             If the contract was extended, ask IT to reactivate the account and update the end date.\n\nIT",
            prof(&boss, "firstName"),
            ann.login()
        )
    );
    let to_other = mail_to(&w, prof(&other_boss, "email"));
    assert_eq!(to_other.len(), 1, "{to_other:#?}");
    assert_eq!(to_other[0].0, "Ben Contractor's contract ends on 2026-03-10");
    assert!(to_other[0].1.contains(&format!("The contract of Ben Contractor ({}) ends on 2026-03-10.", ben.login())), "{}", to_other[0].1);
    assert_eq!(w.smtp.messages().len(), 2);

    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 2, "{it:#?}");
    assert_eq!(it[0], format!(":hourglass: The contract of {} ends on 2026-03-05; they have no manager on record to warn.", eve.login()));
    assert_eq!(
        it[1],
        format!(
            ":clipboard: Contractor end dates (5 contractors with an account)\nDeactivated (contract ended): {}\n\
             Managers warned (ending within 14 days): {}, {}\nNo end date on record in table contractor-end-dates: {}",
            ann.login(),
            ben.login(),
            eve.login(),
            cat.login()
        )
    );
    let row = w.row("contractor-end-dates", ann.login()).await.unwrap();
    assert_eq!(row["end_date"], "2026-03-01");
    assert_eq!(row["deactivated_at"], "2026-03-02T12:00:00.000Z");
    assert_eq!(w.row("contractor-end-dates", ben.login()).await.unwrap()["warned_for"], "2026-03-10");

    // Tuesday: nobody is warned twice; the row without a date is still news.
    let tuesday = seven + Duration::days(1);
    let run = fire(&w, &scheduler, CONTRACTOR, tuesday).await;
    assert_eq!(run.output.as_ref().unwrap()["warned"], json!([]));
    assert_eq!(run.output.as_ref().unwrap()["deactivated"], json!([]));
    assert_eq!(run.output.as_ref().unwrap()["contractors"], 4);
    assert_eq!(w.smtp.messages().len(), 2);

    // Ben's contract is extended by HR (a new row): a new date is warned of again when due.
    put_row(&w, "contractor-end-dates", ben.login(), json!({ "end_date": "2026-03-13" })).await;
    let run = fire(&w, &scheduler, CONTRACTOR, tuesday + Duration::days(1)).await;
    assert_eq!(run.output.as_ref().unwrap()["warned"], json!([ben.login()]));
    let to_other = mail_to(&w, prof(&other_boss, "email"));
    assert_eq!(to_other.last().unwrap().0, "Ben Contractor's contract ends on 2026-03-13");
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 2. Stale accounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_accounts_are_reported_then_suspended_a_week_later() {
    let w = library_world(Some(monday()), &[STALE]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    // Eleven weeks on (the seed's last sign-ins are all in its last month),
    // Monday 18 May 2026, 08:00 in New York (EDT, UTC-4).
    let first = Utc.with_ymd_and_hms(2026, 5, 18, 12, 0, 0).unwrap();
    let clock = w.clock.clone().unwrap();
    clock.set(first - Duration::hours(1));
    let stale_at = |at: DateTime<Utc>| -> BTreeSet<String> {
        let cutoff = at - Duration::days(90);
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "userType") != "Service" && t(&u.created) < cutoff)
            .into_iter()
            .filter(|u| u.last_login.as_deref().is_none_or(|l| t(l) < cutoff))
            .map(|u| u.login().to_string())
            .collect()
    };
    // Two would-be-stale people sign in the hour before: they are not stale.
    let before = stale_at(first);
    let back: Vec<String> = before.iter().take(2).cloned().collect();
    for login in &back {
        w.sandbox_admin.sign_in(login).await.unwrap();
    }
    let expected = stale_at(first);
    assert_eq!(expected.len(), before.len() - 2);
    assert!(expected.len() > 20, "a real sweep: {}", expected.len());

    let run = fire(&w, &scheduler, STALE, first).await;
    let out = run.output.clone().unwrap();
    let reported: BTreeSet<String> = out["reported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let missing: Vec<String> = expected
        .difference(&reported)
        .map(|l| {
            let u = w.org.user(l).unwrap();
            format!("{l}: {} created {} last login {:?}", u.status, u.created, u.last_login)
        })
        .collect();
    assert_eq!(reported, expected, "missing {missing:#?}\n{}", w.trace(&run).await);
    assert_eq!(out["stale"], expected.len());
    assert_eq!(out["suspended"], json!([]));
    for login in &expected {
        let u = w.org.user(login).unwrap();
        assert_eq!(u.status, "ACTIVE", "reported, not suspended yet");
        let row = w.row("stale-accounts", &u.id).await.expect("a row per stale account");
        assert_eq!(row["login"], login.as_str());
        assert_eq!(row["reported_at"], "2026-05-18T12:00:00.000Z");
    }
    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 1);
    let lines: Vec<&str> = it[0].lines().collect();
    assert_eq!(lines[0], format!(":zzz: Active accounts with no sign-in for 90 days: {}", expected.len()));
    assert!(lines[1].starts_with(&format!("Newly found ({}): ", expected.len())) && lines[1].ends_with(&format!(" and {} more", expected.len() - 20)), "{}", lines[1]);
    assert_eq!(lines[2], "Suspended after 7 days' notice (0): none");

    // A week later: one of them signed in meanwhile; the rest are suspended.
    let next = first + Duration::days(7);
    clock.set(next - Duration::hours(1));
    let returning = expected.iter().next().unwrap().clone();
    w.sandbox_admin.sign_in(&returning).await.unwrap();
    // Those whose last sign-in turned 90 days old during the week are new.
    let newly: BTreeSet<String> = stale_at(next).difference(&expected).cloned().collect();
    let run = fire(&w, &scheduler, STALE, next).await;
    let out = run.output.clone().unwrap();
    let suspended: BTreeSet<String> = out["suspended"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let mut want = expected.clone();
    want.remove(&returning);
    assert_eq!(suspended, want);
    assert_eq!(out["forgotten"], json!([returning]));
    let reported: BTreeSet<String> = out["reported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(reported, newly, "reported this week, suspended next week");
    for login in &newly {
        assert_eq!(w.org.user(login).unwrap().status, "ACTIVE");
    }
    for login in &want {
        let u = w.org.user(login).unwrap();
        assert_eq!(u.status, "SUSPENDED", "{login}");
        assert_eq!(w.events_about("user.lifecycle.suspend", &u.id)[0].actor.id, w.org.service_user_id());
        assert_eq!(w.row("stale-accounts", &u.id).await.unwrap()["suspended_at"], "2026-05-25T12:00:00.000Z");
    }
    let u = w.org.user(&returning).unwrap();
    assert_eq!(u.status, "ACTIVE");
    assert!(w.row("stale-accounts", &u.id).await.is_none(), "signed in again: off the list");
    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 2);
    assert!(it[1].contains(&format!("Suspended after 7 days' notice ({}): ", want.len())), "{}", it[1]);
    assert!(it[1].contains(&format!("Signed in again, off the list: {returning}")), "{}", it[1]);
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 3. Privileged group change

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_hears_of_every_admin_group_addition_with_who_did_it() {
    let w = library_world(None, &[PRIVILEGED]).await;
    let admins = w.group_id("Okta Administrators");
    let people = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Support" && !prof(u, "title").contains("Manager"));
    let (eve, fay, gus) = (&people[0], &people[1], &people[2]);
    let admin_user = w.org.user(w.org.admin_user_id()).unwrap();

    // A human admin adds Eve to the admin group, and Fay to an ordinary one.
    w.admin.add_user_to_group(&admins, &eve.id).await.unwrap();
    w.admin.add_user_to_group(&w.group_id("GitHub"), &fay.id).await.unwrap();
    // lanyard's own identity adds Gus: alerted too.
    let service = lanyard_okta::OktaClient::new(
        lanyard_okta::OktaConfig::new(&w.sandbox_url, lanyard_okta::Auth::Ssws(w.org.service_token().to_string())).unwrap(),
    )
    .unwrap();
    service.add_user_to_group(&admins, &gus.id).await.unwrap();
    w.settle().await;

    let runs = w.runs(PRIVILEGED).await;
    assert_eq!(runs.len(), 2, "one run per admin group addition, none for GitHub");
    for r in &runs {
        w.assert_succeeded(r).await;
    }
    let security = posts(&w, "#security");
    assert_eq!(security.len(), 2, "{security:#?}");
    // The two runs are about different people, so they may end in either order.
    let about = |u: &User| security.iter().find(|t| t.contains(&format!("({}) was added", u.login()))).unwrap_or_else(|| panic!("no alert about {}: {security:#?}", u.login())).clone();
    let name = |u: &User| format!("{} {}", prof(u, "firstName"), prof(u, "lastName"));
    let service_user = w.org.user(w.org.service_user_id()).unwrap();
    let added = w.events_about("group.user_membership.add", &eve.id);
    let ev = added.iter().find(|e| e.target.iter().any(|t| t.id == admins)).unwrap();
    sample_is_like("privileged-group-alert", ev);
    assert_eq!(
        about(eve),
        format!(
            ":rotating_light: *{} {}* ({}) was added to the admin group *Okta Administrators*\n\
             By: {} ({}, User)\nFrom: 127.0.0.1, San Francisco, United States\nWhen: {}\n\
             Their title: {} · Department: Support\n\
             If nobody asked for this, remove them from the group and check what {} did.",
            prof(eve, "firstName"),
            prof(eve, "lastName"),
            eve.login(),
            name(&admin_user),
            admin_user.login(),
            serde_json::to_value(ev).unwrap()["published"].as_str().unwrap(),
            prof(eve, "title"),
            admin_user.login(),
        )
    );
    let by_lanyard = about(gus);
    assert!(by_lanyard.contains(&format!("By: {} ({}, User)", name(&service_user), service_user.login())), "{by_lanyard}");
    assert!(w.smtp.messages().is_empty());

    // The channel is renamed and nobody told the flow: the alert goes by email.
    let flow = w.admin_get(&format!("flows/{}", url_segment(PRIVILEGED))).await;
    let edited = flow["source"].as_str().unwrap().replace("channel: \"#security\"", "channel: \"#security-alerts\"");
    let r = w
        .http
        .put(api(&w, &["flows", PRIVILEGED]))
        .bearer_auth(ADMIN_TOKEN)
        .header("if-match", flow["etag"].as_str().unwrap())
        .json(&json!({ "source": edited }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    w.admin.add_user_to_group(&admins, &fay.id).await.unwrap();
    w.settle().await;
    let runs = w.runs(PRIVILEGED).await;
    assert_eq!(runs.len(), 3);
    w.assert_succeeded(&runs[2]).await;
    let mail = mail_to(&w, "security@acme.example");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, format!("Admin group change: {} added to Okta Administrators", fay.login()));
    assert!(mail[0].1.contains("(Sent by email because Slack failed: not-found:"), "{}", mail[0].1);
    w.stop().await;
}

fn url_segment(s: &str) -> String {
    let mut u = url::Url::parse("http://x/").unwrap();
    u.path_segments_mut().unwrap().push(s);
    u.path().trim_start_matches('/').to_string()
}

// ---------------------------------------------------------------------------
// 4. App assignment review

/// An app's id by its label, through Okta's API as the admin.
async fn app_id(w: &World, label: &str) -> String {
    let apps = w.admin.list_apps(label).await.unwrap();
    apps.into_iter().find(|a| a.label == label).unwrap_or_else(|| panic!("no app labelled {label}")).id
}

/// The admin assigns the app to the user directly (`POST /api/v1/apps/{id}/users`).
async fn assign(w: &World, app: &str, user: &User) {
    w.admin.assign_user_to_app(app, &user.id, None).await.unwrap_or_else(|e| panic!("assign {app} to {}: {e}", user.login()));
}

/// Whether the user has the app (directly or through a group).
async fn has_app(w: &World, app: &str, user: &User) -> bool {
    w.admin.get_app_user(app, &user.id).await.unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_owners_hear_of_new_assignments_and_unapproved_ones_are_taken_back() {
    let w = library_world(None, &[APP_REVIEW]).await;
    let (asana, workday, gong, salesforce) = (app_id(&w, "Asana").await, app_id(&w, "Workday").await, app_id(&w, "Gong").await, app_id(&w, "Salesforce").await);
    let owner = a_manager(&w, "Marketing");
    let hr_owner = a_manager(&w, "HR");
    put_row(&w, "reviewed-apps", "Asana", json!({ "owner": prof(&owner, "email"), "take_back": true })).await;
    put_row(&w, "reviewed-apps", "Workday", json!({ "owner": prof(&hr_owner, "email"), "take_back": false })).await;
    put_row(&w, "reviewed-apps", "Salesforce", json!({ "owner": prof(&owner, "email"), "take_back": true })).await;
    let people = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Engineering" && !prof(u, "title").contains("Manager"));
    let (ann, bob, cy, di, ed) = (&people[0], &people[1], &people[2], &people[3], &people[4]);
    put_row(&w, "app-access-approvals", &format!("Asana/{}", ann.login()), json!({ "approved_by": prof(&owner, "email"), "ticket": "IT-4711" })).await;
    w.settle().await;
    let admin_user = w.org.user(w.org.admin_user_id()).unwrap();

    assign(&w, &asana, ann).await; // approved
    assign(&w, &asana, bob).await; // not approved: taken back
    assign(&w, &workday, cy).await; // not approved, not taken back: the owner is asked
    assign(&w, &gong, di).await; // not a reviewed app
    w.admin.add_user_to_group(&w.group_id("Salesforce"), &ed.id).await.unwrap(); // through a group
    w.settle().await;

    let runs = w.runs(APP_REVIEW).await;
    let run_about = |u: &User| {
        let found: Vec<&RunRecord> = runs.iter().filter(|r| r.input["target"].as_array().unwrap().iter().any(|t| t["id"] == u.id.as_str())).collect();
        assert_eq!(found.len(), 1, "one run about {}", u.login());
        found[0].clone()
    };
    for (u, decision) in [(ann, "approved"), (bob, "take-back"), (cy, "ask"), (ed, "take-back")] {
        let r = run_about(u);
        w.assert_succeeded(&r).await;
        assert_eq!(r.output.as_ref().unwrap()["decision"], decision, "{}", u.login());
    }
    let r = run_about(di);
    assert_eq!(r.status, RunStatus::Stopped, "{}", w.trace(&r).await);

    // Okta: Ann keeps Asana, Bob lost it, Cy keeps Workday, Ed keeps Salesforce (his group's).
    assert!(has_app(&w, &asana, ann).await);
    assert!(!has_app(&w, &asana, bob).await, "the unapproved assignment was taken back");
    assert!(has_app(&w, &workday, cy).await);
    assert!(has_app(&w, &salesforce, ed).await);
    assert!(w.group_names(&ed.id).contains("Salesforce"), "groups are not changed");
    sample_is_like("app-assignment-review", &w.events_about("application.user_membership.add", &bob.id)[0]);
    let removed = w.events_about("application.user_membership.remove", &bob.id);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].actor.id, w.org.service_user_id());

    let to_owner = mail_to(&w, prof(&owner, "email"));
    assert_eq!(to_owner.len(), 3, "{to_owner:#?}");
    let subject = |s: &str| to_owner.iter().find(|(subj, _)| subj == s).unwrap_or_else(|| panic!("no mail `{s}` in {to_owner:#?}")).1.clone();
    let approved = subject(&format!("Asana: {} has access (approved)", ann.login()));
    assert!(approved.contains(&format!("was given Asana by {}", prof(&admin_user, "displayName"))), "{approved}");
    assert!(approved.contains(&format!("Approved by {}, ticket IT-4711.", prof(&owner, "email"))), "{approved}");
    let taken = subject(&format!("Asana: unapproved access for {} taken back", bob.login()));
    assert!(taken.ends_with(&format!("The assignment was taken back. If it should stay, record the approval (table app-access-approvals, key Asana/{}) and assign it again.", bob.login())), "{taken}");
    let group = subject(&format!("Salesforce: unapproved access for {} needs your review", ed.login()));
    assert!(group.contains("They have it through a group"), "{group}");
    let asked = mail_to(&w, prof(&hr_owner, "email"));
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].0, format!("Workday: please review access for {}", cy.login()));
    let it = posts(&w, "#it-ops");
    assert_eq!(it, [format!(":no_entry: Took Asana back from {}: assigned by {} with no approval on record. The owner ({}) was told.", bob.login(), admin_user.login(), prof(&owner, "email"))]);
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 5. Password expiry

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_reminded_before_their_password_expires_once_per_stage() {
    let start = monday();
    let w = library_world(Some(start), &[PASSWORD]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    // Someone whose password (set when the account was made) is 20 to 70 days old.
    let target = w
        .seeded_users(|u| {
            u.status == "ACTIVE"
                && prof(u, "userType") == "Employee"
                && u.password_changed.as_deref().is_some_and(|p| (20..70).contains(&(start - t(p)).num_days()))
        })
        .into_iter()
        .next()
        .expect("a seeded user with a password 20 to 70 days old");
    let changed = t(target.password_changed.as_deref().unwrap());
    // 09:00 New York on the day it is 80 days old (10 days left), then 88 (2 left), then 89.
    let nine_on = |d: DateTime<Utc>| {
        let day = d.with_timezone(&new_york(d)).date_naive().and_hms_opt(9, 0, 0).unwrap();
        // 09:00 that day, in the offset New York has at that hour.
        let guess = Utc.from_utc_datetime(&day) + Duration::hours(5);
        new_york(guess).from_local_datetime(&day).unwrap().with_timezone(&Utc)
    };
    let due_at = |now: DateTime<Utc>| -> BTreeMap<String, i64> {
        w.seeded_users(|u| u.status == "ACTIVE" && t(&u.created) < now - Duration::days(76))
            .into_iter()
            .filter_map(|u| {
                let p = t(u.password_changed.as_deref()?);
                (p > now - Duration::days(90) && p <= now - Duration::days(76)).then(|| (u.id.clone(), 90 - (now - p).num_days()))
            })
            .collect()
    };
    let mut sent: BTreeMap<String, &str> = BTreeMap::new(); // user → stage reminded
    let mut seen = 0;
    for (k, days) in [80, 88, 89].into_iter().enumerate() {
        let at = nine_on(changed + Duration::days(days));
        let due = due_at(at);
        assert!(due.contains_key(&target.id), "day {days}: {due:?}");
        let run = fire(&w, &scheduler, PASSWORD, at).await;
        let mail = w.smtp.messages();
        let today = &mail[seen..];
        seen = mail.len();
        let mut expected = BTreeSet::new();
        for (id, left) in &due {
            let stage = if *left <= 3 { "last" } else { "first" };
            match sent.get(id.as_str()) {
                Some(&"last") => {}
                Some(s) if *s == stage => {}
                _ => {
                    expected.insert(id.clone());
                    sent.insert(id.clone(), stage);
                }
            }
        }
        let got: BTreeSet<String> = today.iter().map(|m| w.org.user(&m.envelope_to[0]).unwrap().id).collect();
        assert_eq!(got, expected, "day {days} (run {})", run.id);
        assert_eq!(today.len(), expected.len(), "one email each");
        let left = 90 - (at - changed).num_days();
        let to_target: Vec<_> = today.iter().filter(|m| m.envelope_to[0] == prof(&target, "email")).collect();
        if k < 2 {
            assert_eq!(to_target.len(), 1, "day {days}");
            let m = to_target[0];
            assert_eq!(m.subject.as_deref(), Some(format!("Your Acme password expires in {left} days").as_str()));
            let expires = in_new_york(changed + Duration::days(90), "%A %d %B");
            assert_eq!(
                mail_text(m),
                format!(
                    "Hi {},\n\nYour Acme password expires on {expires}, in {left} days.\n\
                     Change it before then at https://acme.okta.com/enduser/settings (\"Change password\"), so you are not locked out of your apps.\n\nThank you,\nIT",
                    prof(&target, "firstName")
                )
            );
            let row = w.row("password-reminders", &target.id).await.unwrap();
            assert_eq!(row["stage"], if k == 0 { "first" } else { "last" });
            assert_eq!(row["password_changed"], target.password_changed.as_deref().unwrap());
        } else {
            assert!(to_target.is_empty(), "no third reminder");
        }
    }
    w.stop().await;
}

/// New York's offset at `t`: EDT (UTC-4) from 02:00 on the second Sunday of
/// March to 02:00 on the first Sunday of November, EST (UTC-5) otherwise
/// (US rules since 2007).
fn new_york(t: DateTime<Utc>) -> chrono::FixedOffset {
    use chrono::{Datelike, NaiveDate, Weekday};
    let year = t.year();
    let sunday = |month: u32, nth: u8| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, nth).unwrap();
    // 02:00 local is 07:00 UTC in EST (March) and 06:00 UTC in EDT (November).
    let from = Utc.from_utc_datetime(&sunday(3, 2).and_hms_opt(7, 0, 0).unwrap());
    let to = Utc.from_utc_datetime(&sunday(11, 1).and_hms_opt(6, 0, 0).unwrap());
    chrono::FixedOffset::west_opt(if t >= from && t < to { 4 * 3600 } else { 5 * 3600 }).unwrap()
}

/// `t` on New York's clock, formatted.
fn in_new_york(t: DateTime<Utc>, format: &str) -> String {
    t.with_timezone(&new_york(t)).format(format).to_string()
}

// ---------------------------------------------------------------------------
// 6. Group reconciliation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_made_to_match_their_table_within_a_limit() {
    let w = library_world(Some(monday()), &[RECONCILE]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    let legal = w.org.members_of(&w.group_id("Legal"));
    let finance = w.org.members_of(&w.group_id("Finance"));
    assert!(legal.len() >= 3 && finance.len() > 11, "legal {} finance {}", legal.len(), finance.len());
    let login = |id: &String| w.org.user(id).unwrap().login().to_string();
    // Legal: everyone but the last member, plus a newcomer and a login Okta does not know.
    let extra = login(legal.last().unwrap());
    let newcomer = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Product")[0].clone();
    let mut wanted: Vec<String> = legal[..legal.len() - 1].iter().map(login).collect();
    wanted.push(newcomer.login().to_string());
    wanted.push("nobody.here@acme.example".into());
    for l in &wanted {
        put_row(&w, "group-membership", &format!("Legal/{l}"), json!({})).await;
    }
    // Finance: one row, so all but one would go: over the limit, untouched.
    put_row(&w, "group-membership", &format!("Finance/{}", login(&finance[0])), json!({})).await;

    // 06:30 New York.
    let run = fire(&w, &scheduler, RECONCILE, Utc.with_ymd_and_hms(2026, 3, 2, 11, 30, 0).unwrap()).await;
    let mut now_in: Vec<String> = w.org.members_of(&w.group_id("Legal")).iter().map(login).collect();
    now_in.sort();
    let mut expected: Vec<String> = wanted.iter().filter(|l| !l.starts_with("nobody")).cloned().collect();
    expected.sort();
    assert_eq!(now_in, expected, "Legal holds exactly the table's people Okta knows");
    assert_eq!(w.org.members_of(&w.group_id("Finance")), finance, "Finance is untouched");
    let out = run.output.unwrap();
    assert_eq!(out[0]["group"], "Legal");
    assert_eq!(out[1]["group"], "Finance");
    assert_eq!(out[0]["added"], json!([newcomer.login().to_lowercase()]));
    assert_eq!(out[0]["removed"], json!([extra.to_lowercase()]));
    assert_eq!(out[0]["failed"], json!(["nobody.here@acme.example"]));
    let it = posts(&w, "#it-ops");
    assert_eq!(
        it,
        [format!(
            ":busts_in_silhouette: Group membership from table group-membership\n\
             Legal: added {}; removed {}; FAILED for nobody.here@acme.example (see the run)\n\
             Finance: {} people would be removed, over the limit of 10: not changed, please check the table",
            newcomer.login().to_lowercase(),
            extra.to_lowercase(),
            finance.len() - 1
        )]
    );
    // The next morning there is nothing to do.
    let run = fire(&w, &scheduler, RECONCILE, Utc.with_ymd_and_hms(2026, 3, 3, 11, 30, 0).unwrap()).await;
    assert_eq!(run.output.unwrap()[0]["added"], json!([]));
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 7. Leaver's files

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_manager_is_reminded_to_take_over_their_files() {
    let w = library_world(None, &[LEAVER_FILES]).await;
    let leaver = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee" && prof(u, "department") == "Sales" && !prof(u, "title").contains("Manager"))
        .into_iter()
        .find(|u| w.org.user(prof(u, "managerId")).is_some_and(|m| m.status == "ACTIVE"))
        .unwrap();
    let boss = manager_of(&w, &leaver);
    let ceo = w.seeded_users(|u| prof(u, "title") == "Chief Executive Officer").pop().unwrap();
    w.admin.lifecycle(&leaver.id, LifecycleOp::Deactivate).await.unwrap();
    w.admin.lifecycle(&ceo.id, LifecycleOp::Deactivate).await.unwrap();
    w.settle().await;
    let runs = w.runs(LEAVER_FILES).await;
    assert_eq!(runs.len(), 2);
    sample_is_like("leaver-file-transfer", &w.events_about("user.lifecycle.deactivate", &leaver.id)[0]);
    for r in &runs {
        w.assert_succeeded(r).await;
    }
    let run = runs.iter().find(|r| r.subject.as_deref() == Some(leaver.id.as_str())).expect("the leaver's run");
    let published = DateTime::parse_from_rfc3339(run.input["published"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let by = published + Duration::days(30);
    let ny = |d: DateTime<Utc>, f: &str| in_new_york(d, f);
    let mail = mail_to(&w, prof(&boss, "email"));
    assert_eq!(mail.len(), 1);
    let (first, last) = (prof(&leaver, "firstName"), prof(&leaver, "lastName"));
    assert_eq!(mail[0].0, format!("{first} {last} has left: please take over their files by {}", ny(by, "%d %B")));
    assert!(mail[0].1.starts_with(&format!("Hi {},\n\n{first} {last} ({}) left and their account was deactivated on", prof(&boss, "firstName"), leaver.login())), "{}", mail[0].1);
    assert!(mail[0].1.contains(&format!("Their files stay for 30 days, until {}.", ny(by, "%A %d %B %Y"))), "{}", mail[0].1);
    assert!(mail[0].1.contains("In the Google Admin console, open Data transfer"), "{}", mail[0].1);
    assert_eq!(w.smtp.messages().len(), 1);
    let row = w.row("file-transfers", &leaver.id).await.unwrap();
    assert_eq!(row["manager"], boss.login());
    assert_eq!(row["asked"], "manager");
    assert_eq!(row["done"], false);
    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 1);
    assert!(it[0].starts_with(&format!(":file_folder: {} was deactivated and has no manager on record", ceo.login())), "{}", it[0]);
    assert_eq!(w.row("file-transfers", &ceo.id).await.unwrap()["asked"], "IT");
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 8. Suspicious sign-ins

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_failed_sign_ins_and_new_countries_reach_security() {
    let ten = Utc.with_ymd_and_hms(2026, 3, 2, 10, 5, 0).unwrap();
    let w = library_world(Some(ten), &[SIGN_INS]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    let people = w.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Engineering" && !prof(u, "title").contains("Manager"));
    let (guessed, forgot, traveller, newbie) = (&people[0], &people[1], &people[2], &people[3]);
    let fail = |u: &User, attempts: u32| {
        let (http, url, token) = (w.http.clone(), format!("{}/sandbox/v1/users/{}/lock", w.sandbox_url, u.id), w.org.admin_token().to_string());
        async move {
            let r = http.post(url).header("authorization", format!("SSWS {token}")).json(&json!({ "attempts": attempts })).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
    };
    fail(guessed, 6).await;
    fail(forgot, 2).await;
    // The traveller signed in from Canada before; the newbie never (as far as the table knows).
    put_row(&w, "sign-in-countries", &traveller.id, json!({ "login": traveller.login(), "countries": ["Canada"] })).await;
    w.sandbox_admin.sign_in(traveller.login()).await.unwrap();
    w.sandbox_admin.sign_in(newbie.login()).await.unwrap();
    w.settle().await;

    let quarter = Utc.with_ymd_and_hms(2026, 3, 2, 10, 15, 0).unwrap();
    let run = fire(&w, &scheduler, SIGN_INS, quarter).await;
    let out = run.output.unwrap();
    assert_eq!(out["since"], "2026-03-02T10:00:00.000Z");
    assert_eq!(out["failed"], 8);
    assert_eq!(out["signed_in"], 2);
    assert_eq!(out["bursts"], json!([guessed.login()]));
    assert_eq!(out["new_countries"], json!([traveller.login()]));
    let security = posts(&w, "#security");
    assert_eq!(
        security,
        [format!(
            ":rotating_light: Suspicious sign-ins between 10:00 and 10:15 UTC on 2026-03-02\n\
             *1 account(s) with 5 or more failed sign-ins*\n{}: 6 failed sign-ins from 127.0.0.1 (United States)\n\
             *Sign-ins from a new country*\n{} signed in from United States; before only from Canada",
            guessed.login(),
            traveller.login()
        )]
    );
    assert_eq!(w.row("sign-in-countries", &traveller.id).await.unwrap()["countries"], json!(["Canada", "United States"]));
    assert_eq!(w.row("sign-in-countries", &newbie.id).await.unwrap()["countries"], json!(["United States"]));

    // The next quarter: they sign in again from where they were; nothing to say.
    w.clock.clone().unwrap().set(quarter + Duration::minutes(5));
    w.sandbox_admin.sign_in(traveller.login()).await.unwrap();
    w.sandbox_admin.sign_in(newbie.login()).await.unwrap();
    w.settle().await;
    let run = fire(&w, &scheduler, SIGN_INS, quarter + Duration::minutes(15)).await;
    assert_eq!(run.output.unwrap()["signed_in"], 2);
    assert_eq!(posts(&w, "#security").len(), 1, "no alert");
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 9. Weekly admin report

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_gets_the_weekly_list_of_admins_with_changes() {
    let w = library_world(Some(monday()), &[ADMIN_REPORT]).await;
    let scheduler = Scheduler::new(w.engine.clone());
    let admins = w.group_id("Okta Administrators");
    let members: BTreeSet<String> = w.org.members_of(&admins).iter().map(|id| w.org.user(id).unwrap().login().to_string()).collect();
    assert_eq!(members.len(), 3, "the seed's admins: the super admin, the read-only admin, lanyard");

    // Monday 09:00 New York.
    let nine = Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap();
    fire(&w, &scheduler, ADMIN_REPORT, nine).await;
    let mail = mail_to(&w, "security@acme.example");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "Okta admin groups, week of 02 March 2026");
    let text = &mail[0].1;
    assert!(text.starts_with("Who is in the Okta admin groups on Monday 02 March 2026.\n\nOkta Administrators (3 members)\n- "), "{text}");
    for login in &members {
        let u = w.org.user(login).unwrap();
        let factors: Vec<String> = w.org.factors_of(&u.id).into_iter().filter(|f| f.status == "ACTIVE").map(|f| f.factor_type).collect();
        assert!(!factors.is_empty(), "the seed's admins have MFA");
        let line = format!("{} {} ({}) · ACTIVE", prof(&u, "firstName"), prof(&u, "lastName"), login);
        assert!(text.contains(&line), "{line}\n{text}");
        assert!(text.contains(&format!("MFA: {}", factors.join(", "))), "{text}");
    }
    assert!(text.contains("Since last week: joined nobody; left nobody.\nWithout an MFA factor: nobody."), "{text}");
    assert!(text.ends_with("Admin roles given to people directly are in the Admin Console (Security > Administrators)."), "{text}");
    assert_eq!(posts(&w, "#security"), [":shield: Weekly admin report, members per group: Okta Administrators: 3 (the list is emailed to security@acme.example)\nJoined since last week: nobody · Left: nobody\nWithout an MFA factor: nobody".to_string()]);

    // During the week someone without MFA joins, and the read-only admin leaves.
    let newcomer = w
        .seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "IT")
        .into_iter()
        .find(|u| !members.contains(u.login()) && w.org.factors_of(&u.id).is_empty())
        .expect("someone in IT without a factor");
    w.admin.add_user_to_group(&admins, &newcomer.id).await.unwrap();
    let readonly = w.org.user(w.org.readonly_user_id()).unwrap();
    w.admin.remove_user_from_group(&admins, &readonly.id).await.unwrap();
    w.settle().await;
    // A week on, New York is on summer time: 09:00 is 13:00 UTC.
    fire(&w, &scheduler, ADMIN_REPORT, Utc.with_ymd_and_hms(2026, 3, 9, 13, 0, 0).unwrap()).await;
    let mail = mail_to(&w, "security@acme.example");
    assert_eq!(mail.len(), 2);
    let text = &mail[1].1;
    assert!(text.contains(&format!("Since last week: joined {}; left {}.\nWithout an MFA factor: {}.", newcomer.login(), readonly.login(), newcomer.login())), "{text}");
    assert!(text.contains(&format!("({}) · ACTIVE · last sign-in", newcomer.login())) && text.contains("NO MFA FACTOR"), "{text}");
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 10. Re-hire

async fn invoke(w: &World, body: Value) -> (u16, Value) {
    let r = w.http.post(api(w, &["flows", REHIRE, "invoke"])).bearer_auth(ADMIN_TOKEN).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_employee_gets_their_old_account_back_not_a_second_one() {
    let w = library_world(None, &[REHIRE]).await;
    let leaver = w
        .seeded_users(|u| u.status == "DEPROVISIONED" && prof(u, "department") == "Engineering")
        .into_iter()
        .next()
        .or_else(|| w.seeded_users(|u| u.status == "DEPROVISIONED").into_iter().next())
        .expect("a deactivated seeded user");
    let old_department = prof(&leaver, "department").to_string();
    let sales_manager = a_manager(&w, "Sales");
    // What the offboarding flow recorded when they left.
    w.engine.store().put(
        "offboarding-audit",
        &leaver.id,
        json!({ "login": leaver.login(), "groups_removed": [old_department.clone(), "GitHub", "Okta Administrators"] }),
    )
    .await
    .unwrap();
    let users_before = w.org.users().len();

    let (status, body) = invoke(
        &w,
        json!({
            "email": prof(&leaver, "email"), "firstName": prof(&leaver, "firstName"), "lastName": prof(&leaver, "lastName"),
            "department": "Sales", "title": "Account Executive", "manager": sales_manager.login()
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "reactivated", "{body}");
    assert_eq!(body["user_id"], leaver.id.as_str());
    assert_eq!(w.org.users().len(), users_before, "no second account");
    w.settle().await;
    let back = w.org.user(&leaver.id).unwrap();
    assert_ne!(back.status, "DEPROVISIONED");
    assert_eq!(w.events_about("user.lifecycle.activate", &leaver.id).len(), 1);
    assert_eq!((prof(&back, "department"), prof(&back, "title"), prof(&back, "managerId")), ("Sales", "Account Executive", sales_manager.id.as_str()));
    let groups = w.group_names(&leaver.id);
    for g in ["Sales", "Salesforce", "Gong"] {
        assert!(groups.contains(g), "{g}: {groups:?}");
    }
    if old_department != "Sales" {
        assert!(!groups.contains(&old_department), "left the old department's group: {groups:?}");
    }
    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 1);
    let lines: Vec<&str> = it[0].lines().collect();
    assert_eq!(lines[0], format!(":wave: Welcome back: {} {} ({}), Account Executive in Sales", prof(&leaver, "firstName"), prof(&leaver, "lastName"), prof(&leaver, "email")));
    assert_eq!(lines[1], "Okta account: the earlier account, activated again (Okta emailed an activation link)");
    assert!(lines[2].starts_with("Groups added: ") && lines[2].contains("Salesforce"), "{}", lines[2]);
    let mut before: Vec<&str> = vec![old_department.as_str(), "GitHub", "Okta Administrators"];
    before.retain(|g| !["Sales", "Salesforce", "Gong"].contains(g));
    assert_eq!(lines[3], format!("Before leaving they also had: {}. Give back what they still need.", before.join(", ")));

    // Called again (HR sent it twice): nothing changes, the answer says why.
    let (status, again) = invoke(&w, json!({ "email": prof(&leaver, "email"), "firstName": "x", "lastName": "y", "department": "Sales" })).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], format!("already-{}", back.status.to_lowercase()), "{again}");
    assert_eq!(w.org.users().len(), users_before);

    // Someone who never worked here: a new account, in their groups.
    let (status, new) = invoke(&w, json!({ "email": "noor.haddad@acme.example", "firstName": "Noor", "lastName": "Haddad", "department": "Engineering", "title": "Staff Engineer" })).await;
    assert_eq!(status, 200, "{new}");
    assert_eq!(new["outcome"], "created", "{new}");
    w.settle().await;
    let noor = w.org.user("noor.haddad@acme.example").expect("the new account");
    assert_eq!(w.group_names(&noor.id), ["Engineering", "Everyone", "GitHub", "Jira"].iter().map(|s| s.to_string()).collect());
    assert_eq!(w.org.users().len(), users_before + 1);

    // A call without a department is refused before anything is done.
    let (status, bad) = invoke(&w, json!({ "email": "x.y@acme.example" })).await;
    assert_eq!((status, bad["error"]["kind"].as_str()), (500, Some("failed")), "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().starts_with("give `email` (a work email address) and `department`"), "{bad}");
    assert!(w.org.user("x.y@acme.example").is_none());
    w.stop().await;
}

// ---------------------------------------------------------------------------
// 11. Onboarding by direct app assignment

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_hires_get_their_departments_apps_assigned_directly() {
    let w = library_world(None, &[ONBOARDING_APPS]).await;
    let (github, jira, salesforce, gong) =
        (app_id(&w, "GitHub Enterprise Cloud").await, app_id(&w, "Jira Software").await, app_id(&w, "Salesforce").await, app_id(&w, "Gong").await);
    // Okta refuses the first assignment of Gong (as it does an app the admin
    // turned off for provisioning): IT is told, and the rest still happens.
    w.sandbox_admin
        .inject(&lanyard_sandbox::okta::FaultRule {
            status: 403,
            count: 1,
            path_prefix: Some(format!("/api/v1/apps/{gong}/users")),
            method: Some("POST".into()),
            reset_after_seconds: 0,
        })
        .await
        .unwrap();

    let ada = hire(&w, "Ada", "Quillfeather", &[("department", "Engineering"), ("title", "Software Engineer")]).await;
    let sam = hire(&w, "Sam", "Ferrando", &[("department", "Sales"), ("title", "Account Executive")]).await;
    let max = hire(&w, "Max", "Ondine", &[("department", "Marketing"), ("title", "Designer")]).await;
    w.settle().await;
    let runs = w.runs(ONBOARDING_APPS).await;
    assert_eq!(runs.len(), 3, "one run per hire, none for the flow's own assignments");
    let run_of = |u: &User| runs.iter().find(|r| r.subject.as_deref() == Some(u.id.as_str())).unwrap_or_else(|| panic!("the run about {}", u.login())).clone();
    sample_is_like("onboarding-apps", &w.events_about("user.lifecycle.create", &ada.id)[0]);

    // Engineering: GitHub and Jira, each assigned to the user directly, and no group changed.
    let run = run_of(&ada);
    w.assert_succeeded(&run).await;
    assert_eq!(run.output, Some(json!({ "user": ada.login(), "department": "Engineering", "assigned": ["GitHub Enterprise Cloud", "Jira Software"], "failed": 0 })));
    for app in [&github, &jira] {
        let a = w.admin.get_app_user(app, &ada.id).await.unwrap().expect("assigned");
        assert_eq!(a.scope, "USER", "directly, not through a group");
    }
    assert_eq!(w.group_names(&ada.id), BTreeSet::from(["Everyone".to_string()]));
    let added = w.events_about("application.user_membership.add", &ada.id);
    assert!(added.len() >= 2 && added.iter().all(|e| e.actor.id == w.org.service_user_id()), "{added:#?}");

    // Sales: Salesforce assigned; Gong refused once, reported to IT, the run still succeeds.
    let run = run_of(&sam);
    w.assert_succeeded(&run).await;
    assert_eq!(run.output, Some(json!({ "user": sam.login(), "department": "Sales", "assigned": ["Salesforce"], "failed": 1 })));
    assert_eq!(w.admin.get_app_user(&salesforce, &sam.id).await.unwrap().map(|a| a.scope), Some("USER".to_string()));
    assert!(w.admin.get_app_user(&gong, &sam.id).await.unwrap().is_none());

    // Marketing is not in the map: IT is told, and the run stops saying why.
    let run = run_of(&max);
    assert_eq!(run.status, RunStatus::Stopped, "{}", w.trace(&run).await);
    assert_eq!(run.reason.as_deref(), Some(format!("no apps for department `Marketing` of {}", max.login()).as_str()));
    assert!(w.events_about("application.user_membership.add", &max.id).is_empty());

    let it = posts(&w, "#it-ops");
    assert_eq!(it.len(), 2, "{it:#?}");
    assert!(it.iter().any(|t| t.starts_with(&format!(":warning: Onboarding {}: could not assign Gong (denied: ", sam.login())) && t.ends_with("Please assign it by hand.")), "{it:#?}");
    assert!(it.contains(&format!(":question: New hire Max Ondine ({}) is in department `Marketing`, which has no apps in the onboarding flow. Please give them their access by hand, or add the department to the flow.", max.login())), "{it:#?}");
    w.stop().await;
}
