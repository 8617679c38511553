//! `wait`: a run pauses without holding anything, and the engine resumes it
//! from its journal once the time or the signal comes.

use crate::support::*;
use chrono::{DateTime, Duration as Span, Utc};
use lanyard_core::ErrorKind;
use lanyard_core::history::{RunStatus, StepRecord, WaitState};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::sync::Arc;

fn flow(steps: &str) -> Arc<Flow> {
    manual_flow("w.yaml", steps)
}

fn errors(steps: &str) -> Vec<String> {
    manual_flow_diagnostics("w.yaml", steps)
}

fn paths(records: &[StepRecord]) -> Vec<String> {
    let mut r: Vec<&StepRecord> = records.iter().collect();
    r.sort_by_key(|s| s.seq);
    r.iter().map(|s| s.path.clone()).collect()
}

/// Run the flow once; it must pause. Returns what it waits for and the
/// journal it left.
async fn until_paused(f: &Flow, cards: Arc<FakeCards>, helpers: Vec<Arc<Flow>>) -> (WaitState, Vec<StepRecord>, Harness) {
    let h = harness(cards, helpers);
    let out = run_flow(f, RunStart::new("run1", json!({})), &h.env).await;
    assert_eq!(out.status, RunStatus::Waiting, "{:?}", out.error);
    let wait = out.wait.clone().expect("a waiting run says what it waits for");
    let mut run = lanyard_core::history::RunRecord {
        id: "run1".into(),
        flow: "w".into(),
        flow_digest: String::new(),
        trigger: lanyard_core::history::TriggerInfo::Manual,
        input: json!({}),
        status: RunStatus::Running,
        created: t0(),
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject: None,
        dry_run: false,
        wait: None,
    };
    out.apply_to(&mut run);
    assert_eq!((run.status, run.ended, run.wait.as_ref()), (RunStatus::Waiting, None, Some(&wait)));
    (wait, h.journal.records(), h)
}

/// What the engine does when the wait ends: write the step's record, then run
/// the flow again with `resume`, at `now`.
async fn resume(
    f: &Flow,
    journal: Vec<StepRecord>,
    wait: &WaitState,
    end: Option<WaitEnd>,
    cards: Arc<FakeCards>,
    helpers: Vec<Arc<Flow>>,
    now: DateTime<Utc>,
) -> (RunOutcome, Harness) {
    let mut journal = journal;
    journal.push(wait_record("run1", wait, end, now));
    let h = harness_with(cards, helpers, MemoryJournal::with_records(journal));
    h.clock.set(now);
    let mut start = RunStart::new("run1", json!({}));
    start.resume = true;
    let out = run_flow(f, start, &h.env).await;
    (out, h)
}

#[tokio::test]
async fn a_run_waits_a_while_then_goes_on_from_where_it_paused() {
    let f = flow(
        r#"
  - id: user
    card: okta.get-user
    with: { id: 00u1 }
  - id: cool_off
    wait: { for: 3d }
  - id: post
    card: slack.post
    with: { channel: it, text: "{{ user.profile.login }} after {{ cool_off.resumed }}" }
"#,
    );
    let cards = FakeCards::new().on("okta.get-user", vec![Ok(user("00u1", "jo@acme.com"))]);
    let (wait, journal, h) = until_paused(&f, cards, vec![]).await;
    assert_eq!(wait.step, "cool_off");
    assert_eq!(wait.until, Some(t0() + Span::days(3)));
    assert_eq!((wait.signal.as_deref(), wait.since), (None, t0()));
    assert_eq!(h.cards.called(), ["user okta.get-user"], "nothing after the wait ran");
    assert_eq!(paths(&journal), ["user"], "the wait itself is not recorded until it ends");

    let later = t0() + Span::days(3);
    let cards = FakeCards::new();
    let end = WaitEnd::Time { until: later };
    let (out, h) = resume(&f, journal, &wait, Some(end), cards, vec![], later).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(h.cards.called(), ["post slack.post"], "the card before the wait is not called again");
    assert_eq!(h.cards.calls()[0].input["text"], "jo@acme.com after time");
    assert_eq!(paths(&h.journal.records()), ["user", "cool_off", "post"]);
    let rec = h.journal.records().into_iter().find(|r| r.path == "cool_off").unwrap();
    assert_eq!((rec.kind.as_str(), rec.duration_ms), ("wait", 3 * 86_400_000));
}

#[tokio::test]
async fn a_signal_resumes_the_run_in_the_branch_it_paused_in_with_its_choice() {
    // The condition reads the clock: resumed a day later it would be false.
    // The branch recorded when the run paused is the one it resumes in.
    let f = flow(
        r#"
  - id: early
    if: "{{ now() < '2026-03-02T15:00:00.000Z' }}"
    then:
      - id: approval
        wait: { signal: approval, choices: [approve, reject], timeout: 2d }
      - id: decided
        switch: "{{ approval.choice }}"
        cases:
          approve:
            - card: slack.post
              with: { channel: it, text: "approved by {{ approval.data.who }} via {{ approval.by }}" }
        default:
          - stop: rejected
"#,
    );
    let (wait, journal, _) = until_paused(&f, FakeCards::new(), vec![]).await;
    assert_eq!(wait.step, "early/approval");
    assert_eq!((wait.signal.as_deref(), wait.choices.as_slice()), (Some("approval"), &["approve".to_string(), "reject".to_string()][..]));
    assert_eq!(wait.until, Some(t0() + Span::days(2)), "the timeout");
    assert_eq!(paths(&journal), ["early"], "the branch's decision is kept");

    let next_day = t0() + Span::days(1);
    let end = WaitEnd::Signal {
        name: "approval".into(),
        choice: Some("approve".into()),
        data: json!({"who": "manager@acme.com"}),
        by: "link".into(),
        at: next_day,
    };
    let (out, h) = resume(&f, journal, &wait, Some(end), FakeCards::new(), vec![], next_day).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(h.cards.calls()[0].input["text"], "approved by manager@acme.com via link");
    assert_eq!(paths(&h.journal.records()), ["early", "early/approval", "early/decided", "early/decided/card-1"]);
}

#[tokio::test]
async fn a_signal_that_does_not_come_in_time_fails_the_step_which_on_error_can_handle() {
    let f = flow(
        r#"
  - id: approval
    wait: { signal: approval, timeout: 1h }
    on_error:
      - return: "{{ error.kind }}: {{ error.message }}"
"#,
    );
    let (wait, journal, _) = until_paused(&f, FakeCards::new(), vec![]).await;
    let late = t0() + Span::hours(1);
    let (out, _) = resume(&f, journal, &wait, None, FakeCards::new(), vec![], late).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(
        out.output,
        Some(json!("timeout: no `approval` signal came before 2026-03-02T15:00:00.000Z"))
    );
    let unhandled = flow("  - id: approval\n    wait: { signal: approval, timeout: 1h }\n");
    let (wait, journal, _) = until_paused(&unhandled, FakeCards::new(), vec![]).await;
    let (out, _) = resume(&unhandled, journal, &wait, None, FakeCards::new(), vec![], late).await;
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(out.error.unwrap().kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn a_time_already_past_does_not_pause() {
    let f = flow(
        r#"
  - id: until
    wait: { until: "{{ add_days(now(), -1) }}" }
  - return: "{{ until }}"
"#,
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run_flow(&f, RunStart::new("run1", json!({})), &h.env).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!({"resumed": "time", "until": "2026-03-01T14:00:00.000Z"})));

    let bad = flow("  - id: until\n    wait: { until: \"{{ 'next tuesday' }}\" }\n");
    let out = run_flow(&bad, RunStart::new("run1", json!({})), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.starts_with("`wait.until` is not a time"), "{}", e.message);
}

#[tokio::test]
async fn a_wait_in_a_helper_pauses_the_caller_and_a_loop_resumes_at_its_iteration() {
    let helper = compile_ok(
        "h.yaml",
        r#"
name: remind
description: helper
trigger: { flow: { inputs: { login: string } } }
steps:
  - id: nudge
    card: slack.post
    with: { channel: it, text: "remind {{ inputs.login }}" }
  - id: pause
    wait: { for: 1d }
"#,
    );
    let f = flow(
        r#"
  - id: each
    for_each: [a, b]
    as: login
    steps:
      - id: remind
        call: remind
        with: { login: "{{ login }}" }
  - return: "{{ each | length }}"
"#,
    );
    let (wait, journal, h) = until_paused(&f, FakeCards::new(), vec![helper.clone()]).await;
    assert_eq!(wait.step, "each[0]/remind/pause");
    assert_eq!(h.cards.called(), ["each[0]/remind/nudge slack.post"]);
    let day = t0() + Span::days(1);
    let (out, h) = resume(&f, journal.clone(), &wait, Some(WaitEnd::Time { until: day }), FakeCards::new(), vec![helper.clone()], day).await;
    assert_eq!(out.status, RunStatus::Waiting, "the second iteration waits too");
    let second = out.wait.unwrap();
    assert_eq!(second.step, "each[1]/remind/pause");
    assert_eq!(h.cards.called(), ["each[1]/remind/nudge slack.post"], "the first iteration's card is not called again");
    let journal = h.journal.records();
    let two = day + Span::days(1);
    let (out, h) = resume(&f, journal, &second, Some(WaitEnd::Time { until: two }), FakeCards::new(), vec![helper], two).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!(2)));
    assert!(h.cards.called().is_empty());
}

#[tokio::test]
async fn a_wait_in_a_concurrent_loop_fails_at_its_place() {
    let helper = compile_ok(
        "h.yaml",
        "name: pause\ndescription: helper\ntrigger: { flow: {} }\nsteps:\n  - id: p\n    wait: { for: 1h }\n",
    );
    let f = flow(
        r#"
  - id: each
    for_each: [a, b]
    concurrency: 2
    steps:
      - call: pause
"#,
    );
    let h = harness(FakeCards::new(), vec![helper]);
    let out = run_flow(&f, RunStart::new("run1", json!({})), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.step.as_deref(), Some("each[0]/call-1/p"));
    assert!(e.message.contains("concurrency"), "{}", e.message);
}

#[test]
fn validation_says_where_a_wait_cannot_stand_and_what_it_needs() {
    let concurrent = errors(
        "  - id: each\n    for_each: [a]\n    concurrency: 4\n    steps:\n      - wait: { for: 1h }\n",
    );
    assert!(concurrent.iter().any(|e| e.starts_with("error wait-place: a `wait` cannot stand inside a `for_each` whose `concurrency` is above 1")), "{concurrent:?}");
    let both = errors("  - wait: { for: 1h, signal: ok }\n");
    assert!(both.iter().any(|e| e == "error wait-kind: a `wait` waits for one thing; it has both `for` and `signal`"), "{both:?}");
    let none = errors("  - wait: {}\n");
    assert!(none.iter().any(|e| e.starts_with("error missing-key: a `wait` needs one of")), "{none:?}");
    let timeout = errors("  - wait: { for: 1h, timeout: 2h }\n");
    assert!(timeout.iter().any(|e| e.starts_with("error unknown-key: `timeout` is for a signal wait")), "{timeout:?}");
    let forever = errors("  - id: ok\n    wait: { signal: approval }\n");
    assert_eq!(forever, ["warning wait-forever: step `ok` waits for its signal with no `timeout`: a signal that never comes keeps the run waiting until it is cancelled"]);
    let choices = errors("  - wait: { signal: s, choices: [yes, yes, \"no way\"], timeout: 1d }\n");
    assert!(choices.iter().any(|e| e == "error duplicate: choice `yes` is listed twice"), "{choices:?}");
    assert!(choices.iter().any(|e| e.starts_with("error bad-signal: choice `no way`")), "{choices:?}");
    let bad_for = errors("  - wait: { for: 3 }\n");
    assert!(bad_for.iter().any(|e| e.contains("needs a unit")), "{bad_for:?}");
    let text = "name: w\ndescription: t\ntrigger: manual\nsteps:\n  - return: 1\non_failure:\n  - wait: { for: 1h }\n";
    let in_failure: Vec<String> = compile("w.yaml", text, &catalog()).diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(in_failure.iter().any(|m| m == "a `wait` cannot stand in `on_failure` (the run has already failed)"), "{in_failure:?}");
}

#[test]
fn a_wait_step_reads_back_as_it_was_written() {
    let f = flow("  - id: a\n    wait: { signal: approval, choices: [approve, reject], timeout: 2d }\n  - id: b\n    wait: { for: 90m }\n");
    let steps: Value = serde_json::to_value(&f.steps).unwrap();
    assert_eq!(steps[0]["wait"], json!({"signal": "approval", "choices": ["approve", "reject"], "timeout": "2d"}));
    assert_eq!(steps[1]["wait"], json!({"for": "1h30m"}));
}

#[tokio::test]
async fn signal_links_are_made_after_the_step_that_makes_them_and_answer_the_wait_after_it() {
    let f = flow(
        r#"
  - id: ask
    card: slack.post
    with:
      channel: it
      text: "Approve: {{ signal_link('approval', 'approve') }} Reject: {{ signal_link('approval', 'reject') }}"
  - id: approval
    wait: { signal: approval, choices: [approve, reject], timeout: 2d }
"#,
    );
    let (wait, journal, h) = until_paused(&f, FakeCards::new(), vec![]).await;
    let ask = journal.iter().find(|r| r.path == "ask").expect("the card step is journaled");
    let text = h.cards.calls()[0].input["text"].as_str().unwrap().to_string();
    let (a, r) = (format!("https://links.test/run1/approval/approve/{}", ask.seq), format!("https://links.test/run1/approval/reject/{}", ask.seq));
    assert_eq!(text, format!("Approve: {a} Reject: {r}"));
    assert!(wait.seq > ask.seq, "the wait a link answers comes after the step that made it");
    let made = h.links.made.lock().unwrap().clone();
    assert_eq!(made.iter().map(|m| m.choice.as_deref()).collect::<Vec<_>>(), [Some("approve"), Some("reject")]);
}

#[tokio::test]
async fn in_a_loop_each_round_links_after_the_last_rounds_wait() {
    // Round 2's link is made after round 1's wait ended, so a round-1 link
    // (made before it) can be told apart from a round-2 one by its seq.
    let f = flow(
        r#"
  - id: rounds
    for_each: [1, 2]
    steps:
      - id: ask
        assign: { link: "{{ signal_link('ok') }}" }
      - id: answer
        wait: { signal: ok, timeout: 1d }
"#,
    );
    let (first, journal, _) = until_paused(&f, FakeCards::new(), vec![]).await;
    assert_eq!(first.step, "rounds[0]/answer");
    let end = WaitEnd::Signal { name: "ok".into(), choice: None, data: json!(null), by: "api".into(), at: t0() };
    let (out, h) = resume(&f, journal, &first, Some(end), FakeCards::new(), vec![], t0()).await;
    assert_eq!(out.status, RunStatus::Waiting);
    let second = out.wait.expect("round 2 waits");
    assert_eq!(second.step, "rounds[1]/answer");
    let made = h.links.made.lock().unwrap().clone();
    let after = made.last().expect("round 2 made its link").after_seq;
    assert!(first.seq < after && after < second.seq, "{} < {after} < {}", first.seq, second.seq);
}

#[tokio::test]
async fn a_link_that_cannot_be_made_fails_its_step() {
    let f = flow("  - id: ask\n    assign: { link: \"{{ signal_link(event.name) }}\" }\n  - wait: { signal: refused, timeout: 1d }\n");
    let h = harness(FakeCards::new(), vec![]);
    let out = run_flow(&f, RunStart::new("run1", json!({"name": "refused"})), &h.env).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.step.as_deref(), Some("ask"));
    assert!(e.message.contains("no links for `refused`"), "{}", e.message);
}

#[test]
fn validation_checks_a_links_signal_and_choice_against_the_flows_waits() {
    let wait = "  - id: approval\n    wait: { signal: approval, choices: [approve, reject], timeout: 2d }\n";
    let with = |expr: &str| errors(&format!("  - assign: {{ a: \"{{{{ {expr} }}}}\" }}\n{wait}"));
    assert_eq!(with("signal_link('approval', 'approve')"), Vec::<String>::new());
    assert_eq!(with("signal_link('approval', event.choice)"), Vec::<String>::new(), "an expression is checked at run time");
    assert_eq!(with("signal_link('aproval', 'approve')"), ["error signal-link: no `wait` in this flow waits for the `aproval` signal, so its link could answer nothing"]);
    assert_eq!(with("signal_link('approval', 'aprove')"), ["error signal-link: `aprove` is not a choice of the `approval` signal"]);
    assert_eq!(with("signal_link('approval')"), ["error signal-link: the `approval` signal needs a choice: signal_link(\"approval\", \"approve\")"]);
    assert_eq!(with("signal_link()"), ["error signal-link: signal_link() takes a signal's name and one of its choices: signal_link(\"approval\", \"approve\")"]);
    assert_eq!(errors("  - assign: { a: \"{{ signal_link('done') }}\" }\n  - wait: { signal: done, timeout: 1d }\n"), Vec::<String>::new(), "no choices: none needed");

    let helper = "name: h\ndescription: t\ntrigger: flow\nsteps:\n  - return: \"{{ signal_link('approval', 'approve') }}\"\n";
    let d = compile("h.yaml", helper, &catalog()).diagnostics;
    assert!(d.is_empty(), "a helper's links may answer its caller's wait: {d:?}");
    let text = format!("name: w\ndescription: t\ntrigger: manual\nsteps:\n  - assign: {{ a: \"{{{{ signal_link('approval', 'aprove') }}}}\" }}\n{wait}");
    let d = compile("w.yaml", &text, &catalog()).diagnostics;
    assert_eq!((d[0].span.start.line, d[0].span.start.col), (5, 22), "at the call: {:?}", d[0].span);
    assert_eq!(d[0].help.as_deref(), Some("did you mean `approve`? Its choices: approve, reject"));
    let filter = "name: w\ndescription: t\ntrigger:\n  okta: user.lifecycle.deactivate\n  filter: signal_link('a', 'b') != ''\nsteps:\n  - return: 1\n";
    let d: Vec<String> = compile("w.yaml", filter, &catalog()).diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(d.iter().any(|m| m.contains("a trigger filter has no run")), "{d:?}");
}
