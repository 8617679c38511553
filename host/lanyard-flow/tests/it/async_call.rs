//! `call` with `wait: false`: the helper starts as a run of its own, the
//! caller goes on with the new run's id, and a resumed caller does not start
//! it again.

use crate::support::*;
use futures::future::BoxFuture;
use lanyard_core::history::{RunStatus, StepRecord};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The helpers, and a record of every start asked for.
struct Starter {
    library: Library,
    started: Mutex<Vec<StartHelper>>,
}

impl FlowLookup for Starter {
    fn helper(&self, name: &str) -> Option<Arc<Flow>> {
        self.library.helper(name)
    }

    fn start(&self, req: StartHelper) -> BoxFuture<'_, Result<String, String>> {
        let id = format!("child-of-{}", req.parent_step);
        self.started.lock().unwrap().push(req);
        Box::pin(async move { Ok(id) })
    }
}

fn helper() -> Arc<Flow> {
    compile_ok("notify.yaml", &helper_text())
}

const FAN_OUT: &str = r#"  - id: each
    for_each: "{{ event.logins }}"
    as: login
    concurrency: 4
    steps:
      - id: notify
        call: Notify
        wait: false
        with: { login: "{{ login }}" }
    collect: "{{ notify.run_id }}"
  - return: "{{ each }}"
"#;

fn with_starter(h: &mut Harness) -> Arc<Starter> {
    let starter = Arc::new(Starter { library: Library::new(vec![helper()]), started: Mutex::default() });
    h.env.flows = starter.clone();
    starter
}

#[tokio::test]
async fn a_loop_starts_a_helper_run_per_item_and_goes_on() {
    let f = manual_flow("fan.yaml", FAN_OUT);
    let mut h = harness(FakeCards::new(), vec![]);
    let starter = with_starter(&mut h);
    let out = run_flow(&f, RunStart::new("parent", json!({ "logins": ["a@x", "b@x", "c@x"] })), &h.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!(["child-of-each[0]/notify", "child-of-each[1]/notify", "child-of-each[2]/notify"])));
    let mut started = starter.started.lock().unwrap().clone();
    started.sort_by(|a, b| a.parent_step.cmp(&b.parent_step));
    assert_eq!(
        started,
        ["a@x", "b@x", "c@x"]
            .iter()
            .enumerate()
            .map(|(i, l)| StartHelper {
                flow: "Notify".into(),
                inputs: json!({ "login": l }),
                parent_run: "parent".into(),
                parent_step: format!("each[{i}]/notify"),
            })
            .collect::<Vec<_>>()
    );
    // The history has each start, with the run it started.
    let rec = h.journal.records().into_iter().find(|r| r.path == "each[1]/notify").unwrap();
    assert_eq!((rec.kind.as_str(), rec.output), ("call", Some(json!({ "flow": "Notify", "run_id": "child-of-each[1]/notify" }))));
}

#[tokio::test]
async fn a_resumed_caller_does_not_start_its_helpers_again() {
    let f = manual_flow("fan.yaml", FAN_OUT);
    let mut h = harness(FakeCards::new(), vec![]);
    with_starter(&mut h);
    let input = json!({ "logins": ["a@x", "b@x", "c@x"] });
    let first = run_flow(&f, RunStart::new("parent", input.clone()), &h.env).await;
    // The caller crashed after its first two starts were recorded.
    let kept: Vec<StepRecord> = h.journal.records().into_iter().filter(|r| r.path != "each[2]/notify" && r.path.contains('/')).collect();
    assert_eq!(kept.len(), 2);
    let mut h2 = harness_with(FakeCards::new(), vec![], MemoryJournal::with_records(kept));
    let starter = with_starter(&mut h2);
    let mut start = RunStart::new("parent", input);
    start.resume = true;
    let again = run_flow(&f, start, &h2.env).await;
    assert_eq!(again.output, first.output);
    let started: Vec<String> = starter.started.lock().unwrap().iter().map(|s| s.parent_step.clone()).collect();
    assert_eq!(started, ["each[2]/notify"], "only the start the crash cut off is asked again");
}

#[tokio::test]
async fn a_dry_run_starts_nothing_and_says_what_it_would_start() {
    let f = manual_flow("fan.yaml", FAN_OUT);
    let mut h = harness(FakeCards::new(), vec![]);
    let starter = with_starter(&mut h);
    let mut start = RunStart::new("parent", json!({ "logins": ["a@x"] }));
    start.dry_run = true;
    let out = run_flow(&f, start, &h.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!([])), "no run id to collect");
    assert!(starter.started.lock().unwrap().is_empty());
    let rec = h.journal.records().into_iter().find(|r| r.path == "each[0]/notify").unwrap();
    assert_eq!(rec.effects.len(), 1);
    assert_eq!((rec.effects[0].capability.as_str(), rec.effects[0].operation.as_str()), ("flow", "start Notify"));
    assert_eq!(rec.effects[0].args, json!({ "login": "a@x" }));
}

#[tokio::test]
async fn where_no_run_can_start_the_step_fails_and_says_why() {
    let f = manual_flow("one.yaml", "  - id: notify\n    call: Notify\n    wait: false\n    with: { login: a@x }\n");
    let h = harness(FakeCards::new(), vec![helper()]);
    let out = run_flow(&f, RunStart::new("parent", Value::Null), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert!(e.message.contains("only the daemon starts runs"), "{}", e.message);
    // Wrong inputs fail before anything starts.
    let f = manual_flow("bad.yaml", "  - call: Notify\n    wait: false\n    with: { login: 3 }\n");
    let mut h = harness(FakeCards::new(), vec![]);
    let starter = with_starter(&mut h);
    let out = run_flow(&f, RunStart::new("parent", Value::Null), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert!(starter.started.lock().unwrap().is_empty());
}

#[test]
fn on_a_call_wait_is_yes_or_no() {
    let text = "name: w\ndescription: test flow\ntrigger: manual\nsteps:\n  - call: Notify\n    wait: { for: 3d }\n";
    let v = validate(&[SourceFile::new("w.yaml", text), SourceFile::new("notify.yaml", &helper_text())], &catalog());
    let messages: Vec<String> = v.diagnostics.iter().map(|d| format!("{}: {}", d.code, d.message)).collect();
    assert_eq!(messages, ["type: on a `call`, `wait` is true (wait for the helper and use its result) or false (start it and go on), not a mapping"]);
}

fn helper_text() -> String {
    "name: Notify\ndescription: a helper\ntrigger:\n  flow:\n    inputs:\n      login: { type: string, required: true }\nsteps:\n  - return: \"{{ inputs.login }}\"\n".into()
}
