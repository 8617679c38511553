//! The interpreter, step kind by step kind, with nesting, errors and retries.

use crate::support::*;
use lanyard_core::history::{RunStatus, StepRecord};
use lanyard_core::{CardError, ErrorKind};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn flow(steps: &str) -> Arc<Flow> {
    compile_ok(
        "t.yaml",
        &format!("name: t\ndescription: test flow\ntrigger: manual\nsteps:\n{steps}"),
    )
}

async fn run(flow: &Flow, h: &Harness, input: Value) -> RunOutcome {
    run_flow(flow, RunStart::new("run1", input), &h.env).await
}

fn paths(records: &[StepRecord]) -> Vec<String> {
    let mut r: Vec<&StepRecord> = records.iter().collect();
    r.sort_by_key(|s| s.seq);
    r.iter()
        .map(|s| format!("{}{}", s.path, if s.error.is_some() { " ✗" } else { "" }))
        .collect()
}

#[tokio::test]
async fn offboarding_runs_every_step_in_order() {
    let cards = FakeCards::new()
        .on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))])
        .on("okta.clear-sessions", vec![Ok(json!(null))])
        .on(
            "okta.list-user-groups",
            vec![Ok(json!([{"id": "g1"}, {"id": "g2"}, {"id": "g3"}]))],
        );
    let h = harness(cards, vec![]);
    let out = run(&good("offboarding.yaml"), &h, deactivate_event("00u1")).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.steps.executed, 9);
    let calls = h.cards.calls();
    assert_eq!(calls[0].input, json!({"id": "00u1"}));
    assert_eq!(
        calls[1].input,
        json!({"user": "00u1", "oauth_tokens": true})
    );
    let removes: Vec<&Value> = calls
        .iter()
        .filter(|c| c.card.name == "okta.remove-from-group")
        .map(|c| &c.input)
        .collect();
    assert_eq!(removes.len(), 3);
    let slack = calls.iter().find(|c| c.card.name == "slack.post").unwrap();
    assert_eq!(
        slack.input["text"],
        "Offboarded jo@acme.com (3 groups removed)"
    );
    assert_eq!(slack.ctx.step, "card-2");
    assert_eq!(slack.ctx.idempotency_key, "run1/card-2/1");
    let audit = calls.iter().find(|c| c.card.name == "tables.put").unwrap();
    assert_eq!(
        audit.input["row"],
        json!({"login": "jo@acme.com", "at": "2026-03-02T14:00:00.000Z"})
    );
    assert_eq!(
        paths(&h.journal.records()),
        [
            "user",
            "sessions",
            "groups",
            "remove-groups",
            "remove-groups[0]/remove",
            "remove-groups[1]/remove",
            "remove-groups[2]/remove",
            "card-2",
            "card-3"
        ]
    );
    let rec = h
        .journal
        .records()
        .into_iter()
        .find(|r| r.path == "user")
        .unwrap();
    assert_eq!(rec.card.as_deref(), Some("okta.get-user@1.0.0"));
    assert_eq!(rec.input, Some(json!({"id": "00u1"})));
    assert_eq!(rec.fuel_used, 1000);
    assert_eq!(rec.attempts, 1);
}

#[tokio::test]
async fn retries_back_off_and_honour_rate_limit_resets() {
    let f = flow(
        "  - id: s\n    card: okta.clear-sessions\n    with: { user: u1 }\n    retry: { attempts: 4, backoff: 2s, max_backoff: 3s }\n",
    );
    let cards = FakeCards::new().on(
        "okta.clear-sessions",
        vec![
            Err(CardError::unavailable("okta is down")),
            Err(CardError::new(ErrorKind::RateLimited, "slow down").with_retry_after_ms(7000)),
            Err(CardError::unavailable("still down")),
            Ok(json!({"cleared": true})),
        ],
    );
    let h = harness(cards, vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Succeeded);
    assert_eq!(
        h.sleeper.waits(),
        [
            Duration::from_secs(2),
            Duration::from_secs(7),
            Duration::from_secs(3)
        ]
    );
    assert_eq!(out.steps.retries, 3);
    let rec = &h.journal.records()[0];
    assert_eq!(rec.attempts, 4);
    assert_eq!(rec.logs.len(), 3);
    assert!(
        rec.logs[1].message.contains("retrying in 7s"),
        "{}",
        rec.logs[1].message
    );
    let attempts: Vec<u32> = h.cards.calls().iter().map(|c| c.ctx.attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
}

#[tokio::test]
async fn retries_stop_at_errors_that_are_not_retryable_and_at_the_last_attempt() {
    let f =
        flow("  - id: s\n    card: okta.clear-sessions\n    with: { user: u1 }\n    retry: 3\n");
    let h = harness(
        FakeCards::new().on(
            "okta.clear-sessions",
            vec![Err(CardError::not_found("no user u1"))],
        ),
        vec![],
    );
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(h.cards.calls().len(), 1);
    assert!(h.sleeper.waits().is_empty());
    let e = out.error.unwrap();
    assert_eq!(
        (e.kind, e.step.as_deref(), e.card.as_deref()),
        (
            ErrorKind::NotFound,
            Some("s"),
            Some("okta.clear-sessions@1.0.0")
        )
    );

    let h = harness(
        FakeCards::new().on(
            "okta.clear-sessions",
            vec![Err(CardError::unavailable("down"))],
        ),
        vec![],
    );
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(h.cards.calls().len(), 3);
    assert_eq!(h.journal.records()[0].attempts, 3);

    // A reset further away than the limit fails now instead of holding the run.
    let h = harness(
        FakeCards::new().on(
            "okta.clear-sessions",
            vec![Err(
                CardError::new(ErrorKind::RateLimited, "quota").with_retry_after_ms(3_600_000)
            )],
        ),
        vec![],
    );
    let out = run(&f, &h, json!({})).await;
    assert!(out.error.unwrap().message.contains("not retried"));
    assert_eq!(h.cards.calls().len(), 1);
}

#[tokio::test]
async fn on_error_sees_the_error_and_the_flow_continues() {
    let cards = FakeCards::new()
        .on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))])
        .on(
            "okta.clear-sessions",
            vec![Err(CardError::denied("missing okta.sessions.manage"))],
        )
        .on("okta.list-user-groups", vec![Ok(json!([]))]);
    let h = harness(cards, vec![]);
    let out = run(&good("offboarding.yaml"), &h, deactivate_event("00u1")).await;
    assert_eq!(out.status, RunStatus::Succeeded);
    assert_eq!(out.steps.failed, 1);
    let slack: Vec<Value> = h
        .cards
        .calls()
        .iter()
        .filter(|c| c.card.name == "slack.post")
        .map(|c| c.input.clone())
        .collect();
    assert_eq!(
        slack[0]["text"],
        "Could not revoke sessions of jo@acme.com: missing okta.sessions.manage"
    );
    assert_eq!(
        slack[1]["text"],
        "Offboarded jo@acme.com (0 groups removed)"
    );
    let p = paths(&h.journal.records());
    assert_eq!(&p[..3], ["user", "sessions ✗", "sessions/on_error/card-1"]);
}

#[tokio::test]
async fn an_unhandled_failure_fails_the_run_and_runs_on_failure() {
    let f = compile_ok(
        "t.yaml",
        r#"
name: t
description: d
trigger: manual
steps:
  - id: a
    card: test.echo
    with: { x: 1 }
  - id: b
    card: test.flaky
  - card: test.echo
    with: { never: true }
on_failure:
  - card: slack.post
    with: { text: "{{ flow.name }} failed at {{ error.step }}: {{ error.kind }} {{ error.message }}" }
"#,
    );
    let h = harness(
        FakeCards::new().on("test.flaky", vec![Err(CardError::internal("boom"))]),
        vec![],
    );
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(out.error.as_ref().unwrap().step.as_deref(), Some("b"));
    assert!(out.on_failure_error.is_none());
    let last = h.cards.calls().pop().unwrap();
    assert_eq!(last.input["text"], "t failed at b: internal boom");
    assert_eq!(
        paths(&h.journal.records()),
        ["a", "b ✗", "on_failure/card-2"]
    );
}

#[tokio::test]
async fn if_switch_assign_and_return() {
    let f = flow(
        r#"  - assign: { n: "{{ event.n }}", name: "x{{ event.n }}" }
  - id: big
    if: vars.n > 2
    then:
      - assign: { size: big }
    else:
      - assign: { size: small }
  - id: pick
    switch: vars.size
    cases:
      big:
        - assign: { label: "B" }
      small:
        - assign: { label: "S" }
    default:
      - assign: { label: "?" }
  - return: { n: "{{ vars.n }}", name: "{{ vars.name }}", label: "{{ vars.label }}", big: "{{ big }}", pick: "{{ pick }}" }
"#,
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({"n": 5})).await;
    assert_eq!(
        out.output,
        Some(json!({"n": 5, "name": "x5", "label": "B", "big": true, "pick": "big"}))
    );
    let out = run(&f, &h, json!({"n": 1})).await;
    assert_eq!(
        out.output,
        Some(json!({"n": 1, "name": "x1", "label": "S", "big": false, "pick": "small"}))
    );
}

#[tokio::test]
async fn switch_falls_to_default_and_stop_ends_the_run() {
    let cards = FakeCards::new().on(
        "okta.get-user",
        vec![Ok(json!({"id": "u", "profile": {"department": "Legal"}}))],
    );
    let h = harness(cards, vec![]);
    let out = run(
        &good("onboarding.yaml"),
        &h,
        json!({"target": [{"id": "u", "type": "User"}]}),
    )
    .await;
    assert_eq!(out.status, RunStatus::Stopped);
    assert_eq!(
        out.reason.as_deref(),
        Some("no groups for department Legal")
    );
    assert_eq!(h.cards.calls().len(), 1);

    let cards = FakeCards::new().on(
        "okta.get-user",
        vec![Ok(
            json!({"id": "u", "profile": {"department": "Engineering"}}),
        )],
    );
    let h = harness(cards, vec![]);
    let out = run(
        &good("onboarding.yaml"),
        &h,
        json!({"target": [{"id": "u", "type": "User"}]}),
    )
    .await;
    assert_eq!(out.status, RunStatus::Succeeded);
    let groups: Vec<Value> = h.cards.calls()[1..]
        .iter()
        .map(|c| c.input["group"].clone())
        .collect();
    assert_eq!(groups, [json!("GitHub"), json!("Jira")]);
    assert_eq!(
        paths(&h.journal.records()),
        ["user", "dept", "dept/card-1", "dept/card-2"]
    );
}

#[tokio::test]
async fn fail_step_message_and_kind() {
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&good("api-check.yaml"), &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!(e.message, "missing `user` in the request");
    assert_eq!(e.step.as_deref(), Some("if-1/fail-1"));

    let h = harness(
        FakeCards::new().on("okta.get-user", vec![Ok(user("00u9", "al@acme.com"))]),
        vec![],
    );
    let out = run(&good("api-check.yaml"), &h, json!({"user": "00u9"})).await;
    assert_eq!(
        out.output,
        Some(json!({"ok": true, "login": "al@acme.com"}))
    );
    let call = &h.cards.calls()[0];
    assert_eq!(call.limits.deadline, Some(Duration::from_secs(5)));
    assert_eq!(call.limits.fuel, Some(1_000_000));
}

#[tokio::test]
async fn for_each_inside_if_inside_on_error() {
    let f = flow(
        r#"  - id: first
    card: test.flaky
    on_error:
      - if: "error.kind == 'unavailable'"
        then:
          - id: fallback
            for_each: "{{ event.backups }}"
            as: b
            steps:
              - id: try
                card: test.echo
                with: { backup: "{{ b }}", why: "{{ error.message }}", n: "{{ loop.index }}" }
        else:
          - fail: "gave up: {{ error.message }}"
  - return: "{{ first }}"
"#,
    );
    let h = harness(
        FakeCards::new().on(
            "test.flaky",
            vec![Err(CardError::unavailable("primary down"))],
        ),
        vec![],
    );
    let out = run(&f, &h, json!({"backups": ["x", "y"]})).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(
        out.output,
        Some(json!(null)),
        "a handled step's output is none"
    );
    let inputs: Vec<Value> = h.cards.calls()[1..]
        .iter()
        .map(|c| c.input.clone())
        .collect();
    assert_eq!(
        inputs,
        [
            json!({"backup": "x", "why": "primary down", "n": 1}),
            json!({"backup": "y", "why": "primary down", "n": 2})
        ]
    );
    assert_eq!(
        paths(&h.journal.records()),
        [
            "first ✗",
            "first/on_error/if-1",
            "first/on_error/if-1/fallback",
            "first/on_error/if-1/fallback[0]/try",
            "first/on_error/if-1/fallback[1]/try",
            "return-1"
        ]
    );

    let h = harness(
        FakeCards::new().on("test.flaky", vec![Err(CardError::denied("nope"))]),
        vec![],
    );
    let out = run(&f, &h, json!({"backups": []})).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(out.error.unwrap().message, "gave up: nope");
}

#[tokio::test]
async fn a_failure_inside_a_loop_goes_to_the_loop_handler() {
    let f = flow(
        r#"  - id: work-loop
    for_each: [1, 2, 3, 4]
    as: n
    steps:
      - id: work
        card: test.flaky
        with: { n: "{{ n }}" }
    on_error:
      - return: { at: "{{ error.step }}", message: "{{ error.message }}" }
  - return: finished
"#,
    );
    let cards = FakeCards::new().respond("test.flaky", |c| {
        if c.input["n"] == 3 {
            Err(CardError::internal("three"))
        } else {
            Ok(json!("done"))
        }
    });
    let h = harness(cards, vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(
        out.output,
        Some(json!({"at": "work-loop[2]/work", "message": "three"}))
    );
    assert_eq!(
        h.cards.calls().len(),
        3,
        "no iteration starts after a failure"
    );
}

#[tokio::test]
async fn concurrent_loops_keep_item_order_and_stay_within_the_bound() {
    let f = flow(
        r#"  - id: each
    for_each: "{{ event.items }}"
    concurrency: 3
    steps:
      - id: echo
        card: test.echo
        with: { i: "{{ item }}" }
  - return: "{{ each | map(attribute='echo') | map(attribute='i') | list }}"
"#,
    );
    let cards = FakeCards::new();
    // Earlier items take longer, so they finish last.
    for i in 0..6 {
        cards
            .yields
            .lock()
            .unwrap()
            .insert(json!({"i": i}).to_string(), (6 - i) * 3);
    }
    let h = harness(cards, vec![]);
    let out = run(&f, &h, json!({"items": [0, 1, 2, 3, 4, 5]})).await;
    assert_eq!(out.output, Some(json!([0, 1, 2, 3, 4, 5])));
    let started: Vec<Value> = h
        .cards
        .calls()
        .iter()
        .map(|c| c.input["i"].clone())
        .collect();
    assert_eq!(
        &started[..3],
        [json!(0), json!(1), json!(2)],
        "three at a time, in order"
    );
    let done: Vec<String> = h.journal.records().iter().map(|r| r.path.clone()).collect();
    assert_ne!(
        done[0], "each[0]/echo",
        "items finished out of order: {done:?}"
    );
}

#[tokio::test]
async fn loop_bounds_and_bad_lists_fail_with_a_message() {
    let f = flow("  - for_each: \"{{ event.items }}\"\n    steps:\n      - card: test.echo\n");
    let mut h = harness(FakeCards::new(), vec![]);
    h.env.limits.max_items = 3;
    let out = run(&f, &h, json!({"items": [1, 2, 3, 4]})).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(h.cards.calls().is_empty());
    let out = run(&f, &h, json!({"items": "abc"})).await;
    assert!(
        out.error
            .unwrap()
            .message
            .contains("needs a list, not string")
    );
    let out = run(&f, &h, json!({"items": {"a": 1}})).await;
    assert!(out.error.unwrap().message.contains("needs a list, not map"));
}

#[tokio::test]
async fn the_step_budget_stops_runaway_runs() {
    let f = flow(
        "  - for_each: \"{{ range(50) | list }}\"\n    steps:\n      - for_each: \"{{ range(50) | list }}\"\n        steps:\n          - assign: { x: 1 }\n",
    );
    let mut h = harness(FakeCards::new(), vec![]);
    h.env.limits.max_steps = 500;
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.error.unwrap().message.contains("more than 500 steps"));
}

#[tokio::test]
async fn helper_flows_run_inline_with_their_inputs_and_return_a_value() {
    let helper = good("notify-person.yaml");
    let cards = FakeCards::new()
        .on(
            "okta.get-manager",
            vec![Ok(
                json!({"id": "00um", "profile": {"email": "boss@acme.com"}}),
            )],
        )
        .on("mail.send", vec![Ok(json!({"message_id": "<1@acme>"}))]);
    let h = harness(cards, vec![helper]);
    let ev = json!({"target": [{"id": "00u1", "displayName": "Jo Doe"}]});
    let out = run(&good("lockout-manager.yaml"), &h, ev.clone()).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    let mail = &h.cards.calls()[1];
    assert_eq!(
        mail.input,
        json!({"to": ["boss@acme.com"], "subject": "A note from IT", "text": "Jo Doe is locked out of Okta."})
    );
    assert_eq!(mail.ctx.step, "call-1/sent");
    assert_eq!(mail.ctx.flow, "Manager notification on lockout");
    let call = h
        .journal
        .records()
        .into_iter()
        .find(|r| r.path == "call-1")
        .unwrap();
    assert_eq!(call.output, Some(json!({"message_id": "<1@acme>"})));
    assert_eq!(
        paths(&h.journal.records()),
        [
            "manager",
            "if-1",
            "call-1",
            "call-1/sent",
            "call-1/return-1"
        ]
    );

    // No manager: the handler stops the run before the call.
    let h = harness(
        FakeCards::new().on("okta.get-manager", vec![Ok(json!(null))]),
        vec![good("notify-person.yaml")],
    );
    let out = run(&good("lockout-manager.yaml"), &h, ev.clone()).await;
    assert_eq!(
        (out.status, out.reason.as_deref()),
        (RunStatus::Stopped, Some("the user has no manager"))
    );
}

/// A manual flow with typed inputs (Okta's delegated flow): its steps read
/// them as `inputs`, defaults are filled, and a wrong form fails the run
/// before any step; without declared inputs the input is the event, as ever.
#[tokio::test]
async fn a_manual_flow_reads_its_typed_inputs() {
    let f = compile_ok(
        "m.yaml",
        "name: m\ndescription: delegated\ntrigger:\n  manual:\n    inputs:\n      login: { type: string, description: Whose account }\n      days: { type: integer, default: 3 }\nsteps:\n  - return: \"{{ inputs.login }} for {{ inputs.days }} days ({{ event.login }})\"\n",
    );
    assert_eq!(f.declared_inputs().map(|h| h.inputs.len()), Some(2));
    assert_eq!(serde_json::to_value(&f.trigger).unwrap()["manual"]["inputs"][1]["default"], 3);
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({ "login": "ada@example.com" })).await;
    assert_eq!(out.output, Some(json!("ada@example.com for 3 days (ada@example.com)")));
    // Checked twice (by the API, then the run), an optional input stays fine.
    let filled = lanyard_flow::interp::prepare_inputs(f.declared_inputs().unwrap(), json!({ "login": "a", "days": null })).unwrap();
    assert_eq!(filled, json!({ "login": "a", "days": 3 }));
    assert_eq!(lanyard_flow::interp::prepare_inputs(f.declared_inputs().unwrap(), filled.clone()).unwrap(), filled);
    for (bad, why) in [
        (json!({}), "missing input `login`"),
        (json!({ "login": "a", "days": "x" }), "input `days` must be of type integer"),
        (json!({ "login": "a", "dayz": 1 }), "unknown input `dayz`"),
    ] {
        let e = run(&f, &h, bad).await.error.unwrap();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains(why), "{}", e.message);
    }
    // Plain `trigger: manual`: any input, read as the event; no `inputs`.
    let plain = flow("  - return: \"{{ event.x }}\"\n");
    assert_eq!(serde_json::to_value(&plain.trigger).unwrap(), json!("manual"));
    assert_eq!(run(&plain, &h, json!({ "x": 1 })).await.output, Some(json!(1)));
    let c = compile("p.yaml", "name: p\ndescription: d\ntrigger: manual\nsteps:\n  - return: \"{{ inputs.x }}\"\n", &catalog());
    assert!(c.flow.is_none());
    assert!(c.diagnostics.iter().any(|d| d.message.contains("manual flows that declare inputs")), "{:?}", c.diagnostics);
}

#[tokio::test]
async fn helper_failures_and_missing_helpers_fail_the_call() {
    let f = flow(
        "  - id: c\n    call: notify-person\n    with: { email: a@b.c, text: hi }\n    on_error:\n      - return: \"{{ error.kind }} at {{ error.step }}\"\n",
    );
    let h = harness(
        FakeCards::new().on("mail.send", vec![Err(CardError::unavailable("smtp down"))]),
        vec![good("notify-person.yaml")],
    );
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.output, Some(json!("unavailable at c/sent")));

    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.output, Some(json!("failed at c")));

    let f = flow("  - call: notify-person\n    with: { email: 7, text: hi }\n");
    let h = harness(FakeCards::new(), vec![good("notify-person.yaml")]);
    let e = run(&f, &h, json!({})).await.error.unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message
            .contains("input `email` must be of type string, not number"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn expression_errors_name_the_flow_step_and_field() {
    let f = flow(
        "  - id: u\n    card: test.echo\n    with: { id: x }\n  - id: post\n    card: slack.post\n    with: { text: \"hi {{ u.profile.login }}\" }\n",
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Expression);
    assert_eq!(e.step.as_deref(), Some("post"));
    assert_eq!(
        e.message,
        "expression error in flow `t`, step `post`, field `with.text`: `u.profile.login`: `u.profile` is undefined: `u` has no `profile` (use `| default(...)` if it is optional)"
    );
    assert_eq!(
        h.cards.calls().len(),
        1,
        "the card with a bad input is never called"
    );
}

#[tokio::test]
async fn a_resumed_run_does_not_call_finished_cards_again() {
    let f = good("offboarding.yaml");
    let cards = FakeCards::new()
        .on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))])
        .on(
            "okta.list-user-groups",
            vec![Ok(json!([{"id": "g1"}, {"id": "g2"}]))],
        );
    let h = harness(cards, vec![]);
    let out = run(&f, &h, deactivate_event("00u1")).await;
    assert_eq!(out.status, RunStatus::Succeeded);
    // Pretend the run crashed after the first group was removed.
    let kept: Vec<StepRecord> = h.journal.records().into_iter().take(4).collect();
    assert_eq!(kept.last().unwrap().path, "remove-groups[0]/remove");
    let cards = FakeCards::new();
    let h2 = harness_with(cards, vec![], MemoryJournal::with_records(kept));
    let mut start = RunStart::new("run1", deactivate_event("00u1"));
    start.resume = true;
    let out = run_flow(&f, start, &h2.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.steps.replayed, 4);
    assert_eq!(
        h2.cards.called(),
        [
            "remove-groups[1]/remove okta.remove-from-group",
            "card-2 slack.post",
            "card-3 tables.put"
        ]
    );
    let slack = &h2.cards.calls()[1];
    assert_eq!(
        slack.input["text"],
        "Offboarded jo@acme.com (2 groups removed)"
    );
    let seqs: Vec<u64> = h2.journal.records().iter().map(|r| r.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        seqs.len(),
        "step numbers stay unique across a resume: {seqs:?}"
    );
}

#[tokio::test]
async fn dry_runs_tell_cards_and_keep_their_effects() {
    let cards = FakeCards::new()
        .on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))])
        .on("okta.list-user-groups", vec![Ok(json!([{"id": "g1"}]))]);
    let h = harness(cards, vec![]);
    let mut start = RunStart::new("dry1", deactivate_event("00u1"));
    start.dry_run = true;
    let out = run_flow(&good("offboarding.yaml"), start, &h.env).await;
    assert_eq!(out.status, RunStatus::Succeeded);
    assert!(h.cards.calls().iter().all(|c| c.ctx.dry_run));
    let rec = h
        .journal
        .records()
        .into_iter()
        .find(|r| r.path == "remove-groups[0]/remove")
        .unwrap();
    assert_eq!(rec.effects.len(), 1);
}

#[tokio::test]
async fn time_functions_read_the_run_clock() {
    let f = flow(
        "  - return: { now: \"{{ now() }}\", age: \"{{ age_days('2026-02-20T14:00:00Z') }}\", days: \"{{ days_since('2026-03-01T02:00:00Z') }}\" }\n",
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(
        out.output,
        Some(json!({"now": "2026-03-02T14:00:00.000Z", "age": 10, "days": 1.5}))
    );
}

#[tokio::test]
async fn a_journal_that_cannot_record_fails_the_run() {
    struct Broken;
    #[async_trait::async_trait]
    impl Journal for Broken {
        fn completed(&self, _: &str) -> Option<StepRecord> {
            None
        }
        async fn record(&self, _: StepRecord) -> Result<(), JournalError> {
            Err(JournalError("disk full".into()))
        }
    }
    let f = flow("  - card: test.echo\n  - card: test.echo\n");
    let mut h = harness(FakeCards::new(), vec![]);
    h.env.journal = Arc::new(Broken);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Internal);
    assert!(e.message.contains("disk full"));
    assert_eq!(h.cards.calls().len(), 1);
}

#[tokio::test]
async fn runs_can_be_spawned_on_a_multi_threaded_runtime() {
    // The daemon spawns runs: the future must be Send (a compile-time check)
    // and work off the test's thread.
    let flow = good("offboarding.yaml");
    let cards = FakeCards::new().on("okta.list-user-groups", vec![Ok(json!([{"id": "g1"}]))]);
    let h = harness(cards, vec![]);
    let env = h.env.clone();
    let task = tokio::spawn(async move {
        run_flow(&flow, RunStart::new("r", deactivate_event("00u1")), &env).await
    });
    let out = task.await.unwrap();
    assert_eq!(
        out.status,
        RunStatus::Failed,
        "the echoed user has no profile: {:?}",
        out.error
    );
    assert_eq!(out.error.unwrap().kind, ErrorKind::Expression);
}

/// `test.pages`: three pages of users, `u0`..`u4`, two at a time, the
/// cursor being the next index.
fn paging_cards() -> Arc<FakeCards> {
    FakeCards::new().respond("test.pages", |c| {
        let from: usize = c.input["after"].as_str().map_or(0, |a| a.parse().unwrap());
        let items: Vec<Value> = (from..(from + 2).min(5)).map(|i| json!({ "id": format!("u{i}") })).collect();
        let next = (from + 2 < 5).then(|| (from + 2).to_string());
        Ok(json!({ "items": items, "next": next }))
    })
}

const OVER_PAGES: &str = r#"  - id: each
    for_each:
      card: test.pages
      with: { status: ACTIVE, page_size: 2 }
    as: u
    steps:
      - id: echo
        card: test.echo
        with: { id: "{{ u.id }}", index: "{{ loop.index0 }}", first: "{{ loop.first }}", length: "{{ loop.length is defined }}" }
  - return: "{{ each }}"
"#;

#[tokio::test]
async fn a_loop_over_pages_walks_every_page_one_at_a_time() {
    let f = flow(OVER_PAGES);
    let h = harness(paging_cards(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!({ "count": 5, "pages": 3 })));
    let calls = h.cards.calls();
    let pages: Vec<&Value> = calls.iter().filter(|c| c.card.name == "test.pages").map(|c| &c.input).collect();
    assert_eq!(
        pages,
        [
            &json!({ "status": "ACTIVE", "page_size": 2 }),
            &json!({ "status": "ACTIVE", "page_size": 2, "after": "2" }),
            &json!({ "status": "ACTIVE", "page_size": 2, "after": "4" }),
        ]
    );
    let echoed: Vec<Value> = calls.iter().filter(|c| c.card.name == "test.echo").map(|c| c.input.clone()).collect();
    assert_eq!(echoed.len(), 5);
    for (i, e) in echoed.iter().enumerate() {
        assert_eq!(e, &json!({ "id": format!("u{i}"), "index": i, "first": i == 0, "length": false }), "numbered across pages");
    }
    assert_eq!(
        paths(&h.journal.records()),
        [
            "each",
            "each/pages[0]",
            "each[0]/echo",
            "each[1]/echo",
            "each/pages[1]",
            "each[2]/echo",
            "each[3]/echo",
            "each/pages[2]",
            "each[4]/echo",
            "return-1"
        ]
    );
    let loop_record = h.journal.records().into_iter().find(|r| r.path == "each").unwrap();
    assert_eq!(loop_record.output, Some(json!({ "count": 5, "pages": 3 })));
}

#[tokio::test]
async fn a_loop_over_pages_resumes_without_fetching_pages_again() {
    let f = flow(OVER_PAGES);
    let h = harness(paging_cards(), vec![]);
    run(&f, &h, json!({})).await;
    // The run crashed after the second page was read.
    let kept: Vec<StepRecord> = h.journal.records().into_iter().take(5).collect();
    assert_eq!(kept.last().unwrap().path, "each[2]/echo");
    let h2 = harness_with(paging_cards(), vec![], MemoryJournal::with_records(kept));
    let mut start = RunStart::new("run1", json!({}));
    start.resume = true;
    let out = run_flow(&f, start, &h2.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!({ "count": 5, "pages": 3 })));
    assert_eq!(h2.cards.called(), ["each[3]/echo test.echo", "each/pages[2] test.pages", "each[4]/echo test.echo"]);
}

#[tokio::test]
async fn a_loop_over_pages_stops_at_a_failure_and_at_its_bounds() {
    // A failing item: the handler sees where, no later item or page runs.
    let f = flow(
        r#"  - id: each
    for_each:
      card: test.pages
    steps:
      - card: test.flaky
        with: { id: "{{ item.id }}" }
    on_error:
      - return: { at: "{{ error.step }}" }
"#,
    );
    let cards = paging_cards().respond("test.flaky", |c| if c.input["id"] == "u2" { Err(CardError::internal("no")) } else { Ok(json!(1)) });
    let h = harness(cards, vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.output, Some(json!({ "at": "each[2]/card-1" })));
    assert_eq!(h.cards.called().iter().filter(|c| c.ends_with("test.pages")).count(), 2);

    // A card that answers no list, and more pages than allowed.
    let h = harness(FakeCards::new().on("test.pages", vec![Ok(json!({ "users": [] }))]), vec![]);
    let out = run(&flow(OVER_PAGES), &h, json!({})).await;
    let e = out.error.unwrap();
    assert_eq!((e.kind, e.step.as_deref()), (ErrorKind::BadOutput, Some("each/pages[0]")));
    assert!(e.message.contains("answered no `items` list"), "{}", e.message);
    let mut h = harness(paging_cards(), vec![]);
    h.env.limits.max_pages = 2;
    let out = run(&flow(OVER_PAGES), &h, json!({})).await;
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(e.message.contains("more than 2 pages of `test.pages`"), "{}", e.message);
}

#[tokio::test]
async fn uuid_and_random_repeat_when_a_step_runs_again_and_differ_elsewhere() {
    let f = flow(
        r#"  - id: make
    card: acme.jamf-wipe
    with: { id: "{{ uuid() }}", other: "{{ uuid() }}", n: "{{ random(1, 1000000) }}", f: "{{ random() }}" }
  - id: each
    for_each: "{{ [1, 2] }}"
    steps:
      - id: item
        card: acme.jamf-wipe
        with: { id: "{{ uuid() }}" }
"#,
    );
    let inputs =
        |h: &Harness| -> Vec<Value> { h.cards.calls().into_iter().map(|c| c.input).collect() };
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    let first = inputs(&h);
    let make = &first[0];
    assert_ne!(make["id"], make["other"], "each call draws anew");
    assert!(
        (1..=1_000_000).contains(&make["n"].as_i64().unwrap()),
        "{make}"
    );
    assert!((0.0..1.0).contains(&make["f"].as_f64().unwrap()), "{make}");
    assert_ne!(first[1]["id"], first[2]["id"], "loop iterations differ");
    assert_ne!(first[1]["id"], make["id"]);

    // The same run evaluated again (a resume re-runs unfinished steps) gets
    // the same values; here `make` finished and is replayed, the loop runs again.
    let kept: Vec<StepRecord> = h
        .journal
        .records()
        .into_iter()
        .filter(|r| r.path == "make")
        .collect();
    let h2 = harness_with(FakeCards::new(), vec![], MemoryJournal::with_records(kept));
    let mut start = RunStart::new("run1", json!({}));
    start.resume = true;
    let out = run_flow(&f, start, &h2.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(
        inputs(&h2),
        first[1..],
        "the loop's cards get what they got before"
    );
    let h3 = harness(FakeCards::new(), vec![]);
    run(&f, &h3, json!({})).await;
    assert_eq!(
        inputs(&h3),
        first,
        "run1 again, from the start: the same values"
    );

    // Another run, other values.
    let h4 = harness(FakeCards::new(), vec![]);
    run_flow(&f, RunStart::new("run2", json!({})), &h4.env).await;
    let other = inputs(&h4);
    assert_ne!(other[0]["id"], make["id"]);
    assert_ne!(other[1]["id"], first[1]["id"]);
}
