//! A loop that produces values across its iterations: `collect` (one value
//! per item, `none`s left out) and `reduce` (variables folded over the
//! iterations in the list's order, whatever the concurrency).

use crate::support::*;
use lanyard_core::history::{RunStatus, StepRecord};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::sync::Arc;

fn flow(steps: &str) -> Arc<Flow> {
    manual_flow("a.yaml", steps)
}

fn errors(steps: &str) -> Vec<String> {
    manual_flow_diagnostics("a.yaml", steps)
}

async fn run(flow: &Flow, h: &Harness, input: Value) -> RunOutcome {
    run_flow(flow, RunStart::new("run1", input), &h.env).await
}

const COUNT_AND_KEEP: &str = r#"  - id: each
    for_each: "{{ event.items }}"
    concurrency: 3
    steps:
      - id: echo
        card: test.echo
        with: { i: "{{ item }}" }
    collect: "{{ echo.i * 10 if echo.i is odd else none }}"
    reduce:
      total: { start: 0, each: "{{ acc + echo.i }}" }
      order: { start: [], each: "{{ acc + [echo.i] }}" }
      seen: { start: "{{ event.items | length }} items:", each: "{{ acc }} {{ echo.i }}@{{ loop.index }}" }
  - return: { odd: "{{ each }}", total: "{{ vars.total }}", order: "{{ vars.order }}", seen: "{{ vars.seen }}" }
"#;

/// Earlier items take longer, so concurrent iterations end out of order.
fn slow_first(n: u64) -> Arc<FakeCards> {
    let cards = FakeCards::new();
    for i in 0..n {
        cards.yields.lock().unwrap().insert(json!({ "i": i }).to_string(), (n - i) as usize * 3);
    }
    cards
}

#[tokio::test]
async fn collect_keeps_a_value_per_item_and_reduce_folds_in_the_lists_order() {
    let f = flow(COUNT_AND_KEEP);
    let h = harness(slow_first(6), vec![]);
    let out = run(&f, &h, json!({ "items": [0, 1, 2, 3, 4, 5] })).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(
        out.output,
        Some(json!({
            "odd": [10, 30, 50],
            "total": 15,
            "order": [0, 1, 2, 3, 4, 5],
            "seen": "6 items: 0@1 1@2 2@3 3@4 4@5 5@6",
        }))
    );
    let done: Vec<String> = h.journal.records().iter().map(|r| r.path.clone()).collect();
    assert_ne!(done[0], "each[0]/echo", "the iterations ended out of order: {done:?}");
    // The history shows what the loop produced.
    let record = h.journal.records().into_iter().find(|r| r.path == "each").unwrap();
    assert_eq!(
        record.output,
        Some(json!({ "iterations": 6, "collected": 3, "vars": { "total": 15, "order": [0, 1, 2, 3, 4, 5], "seen": "6 items: 0@1 1@2 2@3 3@4 4@5 5@6" } }))
    );
}

#[tokio::test]
async fn a_resumed_loop_reduces_to_the_same_values_without_calling_cards_again() {
    let f = flow(COUNT_AND_KEEP);
    let h = harness(slow_first(4), vec![]);
    let first = run(&f, &h, json!({ "items": [0, 1, 2, 3] })).await;
    // The run crashed after every iteration's card, before the loop's own record.
    let kept: Vec<StepRecord> = h.journal.records().into_iter().filter(|r| r.path.contains('/')).collect();
    assert_eq!(kept.len(), 4);
    let h2 = harness_with(FakeCards::new(), vec![], MemoryJournal::with_records(kept));
    let mut start = RunStart::new("run1", json!({ "items": [0, 1, 2, 3] }));
    start.resume = true;
    let again = run_flow(&f, start, &h2.env).await;
    assert_eq!(again.output, first.output);
    assert!(h2.cards.called().is_empty(), "{:?}", h2.cards.called());
}

#[tokio::test]
async fn reduce_folds_every_page_of_a_loop_over_pages() {
    let f = flow(
        r#"  - id: each
    for_each:
      card: test.pages
      with: { page_size: 2 }
    as: u
    steps:
      - id: echo
        card: test.echo
        with: { id: "{{ u.id }}" }
    reduce:
      count: { start: 0, each: "{{ acc + 1 }}" }
      ids: { start: "", each: "{{ acc ~ echo.id }}" }
  - return: { count: "{{ vars.count }}", ids: "{{ vars.ids }}", loop: "{{ each }}" }
"#,
    );
    let cards = FakeCards::new().respond("test.pages", |c| {
        let from: usize = c.input["after"].as_str().map_or(0, |a| a.parse().unwrap());
        let items: Vec<Value> = (from..(from + 2).min(5)).map(|i| json!({ "id": format!("u{i}") })).collect();
        let next = (from + 2 < 5).then(|| (from + 2).to_string());
        Ok(json!({ "items": items, "next": next }))
    });
    let h = harness(cards, vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Succeeded, "{:?}", out.error);
    assert_eq!(
        out.output,
        Some(json!({ "count": 5, "ids": "u0u1u2u3u4", "loop": { "count": 5, "pages": 3, "vars": { "count": 5, "ids": "u0u1u2u3u4" } } }))
    );
}

#[tokio::test]
async fn a_failing_each_fails_the_loop_at_its_iteration() {
    let f = flow(
        r#"  - id: each
    for_each: [1, 2, 3]
    steps:
      - id: echo
        card: test.echo
        with: { i: "{{ item }}" }
    reduce:
      total: { start: 0, each: "{{ acc + echo.missing.deeper }}" }
    on_error:
      - return: { at: "{{ error.step }}", kind: "{{ error.kind }}" }
"#,
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.output, Some(json!({ "at": "each[0]", "kind": "expression" })), "{:?}", out.error);
}

#[tokio::test]
async fn a_reduced_value_may_not_grow_past_a_cards_output() {
    let f = flow(
        r#"  - id: each
    for_each: "{{ range(40) | list }}"
    steps:
      - assign: { x: 1 }
    reduce:
      text: { start: "", each: "{{ acc ~ ('x' * 40000) }}" }
"#,
    );
    let h = harness(FakeCards::new(), vec![]);
    let out = run(&f, &h, json!({})).await;
    assert_eq!(out.status, RunStatus::Failed);
    let e = out.error.unwrap();
    assert_eq!(e.kind, lanyard_core::ErrorKind::TooLarge);
    assert!(e.message.contains("`reduce.text` grew past 1024 KiB"), "{}", e.message);
}

#[test]
fn validation_says_where_collect_and_reduce_are_wrong() {
    let pages = r#"  - for_each: { card: test.pages }
    steps: [ { assign: { x: 1 } } ]
    collect: "{{ item }}"
"#;
    assert_eq!(errors(pages), ["error type: `collect` keeps a value per item, and a loop over pages holds no list"]);
    let bad = r#"  - for_each: [1, 2]
    as: n
    steps: [ { assign: { x: 1 } } ]
    reduce:
      acc: { start: 0, each: "{{ acc }}" }
      n: { start: 0, each: "{{ acc }}" }
      loop: { start: 0, each: "{{ acc }}" }
      half: { start: 0 }
      extra: { start: 0, each: "{{ acc }}", by: 2 }
"#;
    assert_eq!(
        errors(bad),
        [
            "error bad-id: `acc` is read inside `each`; give the variable another name",
            "error bad-id: `n` is read inside `each`; give the variable another name",
            "error bad-id: `loop` cannot be a variable name (letters, digits and `_`, not a reserved word)",
            "error missing-key: `reduce.half` needs `start` (its value before the loop) and `each` (its next value, from `acc`)",
            "error unknown-key: unknown key `by` in `reduce.extra`",
        ]
    );
    // After the loop its variables are known; a step inside it is not.
    let ok = r#"  - id: each
    for_each: [1, 2]
    steps: [ { id: inner, assign: { x: 1 } } ]
    reduce:
      total: { start: 0, each: "{{ acc + inner.x }}" }
  - return: "{{ vars.total }}"
"#;
    assert_eq!(errors(ok), Vec::<String>::new());
}
