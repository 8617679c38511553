//! Property: any valid flow, over any card outcomes, either completes or fails
//! with a recorded error. It never panics and never fails silently.

use crate::support::*;
use lanyard_core::history::RunStatus;
use lanyard_core::{CardError, ErrorKind};
use lanyard_flow::*;
use proptest::prelude::*;
use serde_json::json;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
enum G {
    Card {
        retry: bool,
        handler: Option<Vec<G>>,
    },
    If {
        k: u8,
        then: Vec<G>,
        otherwise: Vec<G>,
    },
    Switch {
        cases: Vec<Vec<G>>,
        default: Vec<G>,
    },
    ForEach {
        n: usize,
        concurrency: usize,
        body: Vec<G>,
        handler: Option<Vec<G>>,
    },
    Assign,
    Return,
    Stop,
    Fail,
    Call,
}

fn leaf() -> impl Strategy<Value = G> {
    prop_oneof![
        4 => any::<bool>().prop_map(|retry| G::Card { retry, handler: None }),
        1 => Just(G::Assign),
        1 => Just(G::Return),
        1 => Just(G::Stop),
        1 => Just(G::Fail),
        1 => Just(G::Call),
    ]
}

fn step() -> impl Strategy<Value = G> {
    leaf().prop_recursive(3, 24, 3, |inner| {
        let block = prop::collection::vec(inner.clone(), 0..3);
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 1..3)).prop_map(|(retry, h)| {
                G::Card {
                    retry,
                    handler: Some(h),
                }
            }),
            (0u8..10, block.clone(), block.clone()).prop_map(|(k, then, otherwise)| G::If {
                k,
                then,
                otherwise
            }),
            (prop::collection::vec(block.clone(), 1..3), block.clone())
                .prop_map(|(cases, default)| G::Switch { cases, default }),
            (0usize..4, 1usize..3, block.clone(), prop::option::of(block)).prop_map(
                |(n, concurrency, body, handler)| G::ForEach {
                    n,
                    concurrency,
                    body,
                    handler
                }
            ),
        ]
    })
}

struct Emit {
    out: String,
    n: usize,
}

impl Emit {
    fn line(&mut self, indent: usize, s: &str) {
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn block(&mut self, steps: &[G], indent: usize, handler: bool, looping: bool) {
        if steps.is_empty() {
            self.line(indent, "- assign: { empty: true }");
        }
        for s in steps {
            self.step(s, indent, handler, looping);
        }
    }

    fn step(&mut self, s: &G, i: usize, handler: bool, looping: bool) {
        self.n += 1;
        let n = self.n;
        let detail = match (handler, looping) {
            (true, true) => "\"{{ error.message }} {{ item }} {{ loop.index }}\"",
            (true, false) => "\"{{ error.kind }}: {{ error.message }}\"",
            (false, true) => "\"item {{ item }}\"",
            (false, false) => "\"{{ event.s }}\"",
        };
        match s {
            G::Card { retry, handler: h } => {
                self.line(i, &format!("- id: s{n}"));
                self.line(i + 2, "card: test.flaky");
                self.line(
                    i + 2,
                    &format!("with: {{ n: {n}, detail: {detail}, who: \"{{{{ event.n }}}}\" }}"),
                );
                if *retry {
                    self.line(i + 2, "retry: { attempts: 3, backoff: 10ms }");
                }
                if let Some(h) = h {
                    self.line(i + 2, "on_error:");
                    self.block(h, i + 4, true, looping);
                }
            }
            G::If { k, then, otherwise } => {
                self.line(i, &format!("- if: event.n > {k}"));
                self.line(i + 2, "then:");
                self.block(then, i + 4, handler, looping);
                self.line(i + 2, "else:");
                self.block(otherwise, i + 4, handler, looping);
            }
            G::Switch { cases, default } => {
                self.line(i, "- switch: event.s");
                self.line(i + 2, "cases:");
                for (c, body) in cases.iter().enumerate() {
                    self.line(i + 4, &format!("v{c}:"));
                    self.block(body, i + 6, handler, looping);
                }
                self.line(i + 2, "default:");
                self.block(default, i + 4, handler, looping);
            }
            G::ForEach {
                n: items,
                concurrency,
                body,
                handler: h,
            } => {
                self.line(i, &format!("- id: loop{n}"));
                self.line(
                    i + 2,
                    &format!("for_each: \"{{{{ range({items}) | list }}}}\""),
                );
                self.line(i + 2, &format!("concurrency: {concurrency}"));
                self.line(i + 2, "steps:");
                self.block(body, i + 4, handler, true);
                if let Some(h) = h {
                    self.line(i + 2, "on_error:");
                    self.block(h, i + 4, true, looping);
                }
            }
            G::Assign => self.line(i, &format!("- assign: {{ v{n}: {detail} }}")),
            G::Return => self.line(i, &format!("- return: {{ n: {n}, detail: {detail} }}")),
            G::Stop => self.line(i, &format!("- stop: {detail}")),
            G::Fail => self.line(i, &format!("- fail: {detail}")),
            G::Call => {
                self.line(i, &format!("- id: c{n}"));
                self.line(i + 2, "call: helper");
                self.line(i + 2, &format!("with: {{ n: {n} }}"));
            }
        }
    }
}

fn flow_text(steps: &[G]) -> String {
    let mut e = Emit {
        out: String::new(),
        n: 0,
    };
    e.out
        .push_str("name: generated\ndescription: a generated flow\ntrigger: manual\nsteps:\n");
    e.block(steps, 2, false, false);
    e.out
}

const HELPER: &str = r#"
name: helper
description: a helper that calls a card
trigger:
  flow:
    inputs:
      n: integer
steps:
  - id: h
    card: test.flaky
    with: { n: "{{ inputs.n }}" }
  - return: "{{ h }}"
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn any_valid_flow_completes_or_fails_with_a_recorded_error(
        steps in prop::collection::vec(step(), 1..5),
        outcomes in prop::collection::vec(0u8..6, 1..16),
        n in 0u8..10,
        s in 0u8..3,
    ) {
        let text = flow_text(&steps);
        let compiled = compile("gen.yaml", &text, &catalog());
        prop_assert!(compiled.flow.is_some(), "generated flow did not compile:\n{text}\n{:#?}", compiled.diagnostics);
        let flow = compiled.flow.unwrap();
        let helper = compile_ok("helper.yaml", HELPER);
        let next = Arc::new(Mutex::new(0usize));
        let cards = FakeCards::new().respond("test.flaky", move |call| {
            let mut i = next.lock().unwrap();
            let o = outcomes[*i % outcomes.len()];
            *i += 1;
            match o {
                0 | 1 => Ok(json!({"n": call.input["n"], "ok": true})),
                2 => Err(CardError::unavailable("down")),
                3 => Err(CardError::not_found("missing")),
                4 => Err(CardError::new(ErrorKind::RateLimited, "slow").with_retry_after_ms(20)),
                _ => Ok(json!(null)),
            }
        });
        let h = harness(cards, vec![helper]);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let input = json!({"n": n, "s": format!("v{s}")});
        let out = rt.block_on(run_flow(&flow, RunStart::new("p1", input), &h.env));
        let records = h.journal.records();
        match out.status {
            RunStatus::Succeeded | RunStatus::Stopped => prop_assert!(out.error.is_none()),
            RunStatus::Failed => {
                let e = out.error.clone();
                prop_assert!(e.is_some(), "failed without an error");
                let e = e.unwrap();
                let step = e.step.clone();
                prop_assert!(step.is_some(), "error without a step: {e:?}");
                prop_assert!(
                    records.iter().any(|r| Some(&r.path) == step.as_ref() && r.error.is_some()),
                    "the failing step {step:?} has no error record:\n{text}"
                );
            }
            other => prop_assert!(false, "unexpected status {other:?}"),
        }
        let mut seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
        seqs.sort();
        seqs.dedup();
        prop_assert_eq!(seqs.len(), records.len(), "duplicate step numbers");
        let mut paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        paths.sort();
        let before = paths.len();
        paths.dedup();
        prop_assert_eq!(before, paths.len(), "a path recorded twice in one run");
    }
}
