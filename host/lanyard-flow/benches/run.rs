//! Interpreter overhead for the shape the daemon's throughput target is about:
//! an API trigger → if → one card → return. The card invoker does nothing but
//! hand back a typical Okta user, so what is measured is the interpreter:
//! scope, expression evaluation, JSON in and out, building step records.
//!
//! cargo bench -p lanyard-flow --bench run

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lanyard_core::SystemClock;
use lanyard_core::history::StepRecord;
use lanyard_flow::*;
use serde_json::{Value, json};
use std::sync::Arc;

const FLOW: &str = r#"
name: api-check
description: check the input, look the user up, answer
trigger: { api: { sync_timeout: 10s } }
steps:
  - if: "event.user is defined and event.user != ''"
    then:
      - id: user
        card: okta.get-user
        with: { id: "{{ event.user }}" }
      - return: { ok: true, login: "{{ user.profile.login }}", status: "{{ user.status }}" }
    else:
      - fail: "missing `user` in the request"
"#;

struct NoopCards(Value);

#[async_trait]
impl CardInvoker for NoopCards {
    async fn invoke(&self, _call: CardCall) -> CardResult {
        CardResult::ok("okta.get-user@1.0.0", self.0.clone())
    }
}

/// Takes each record (so building it is measured) and drops it.
struct DropJournal;

#[async_trait]
impl Journal for DropJournal {
    fn completed(&self, _path: &str) -> Option<StepRecord> {
        None
    }
    async fn record(&self, step: StepRecord) -> Result<(), JournalError> {
        drop(std::hint::black_box(step));
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let catalog = StaticCatalog::from_names(["okta.get-user"]);
    let flow = compile("api-check.yaml", FLOW, &catalog)
        .flow
        .expect("the bench flow compiles");
    let user = json!({
        "id": "00u1abcd", "status": "ACTIVE", "created": "2025-01-01T00:00:00.000Z",
        "activated": "2025-01-01T00:00:00.000Z", "lastLogin": "2026-03-01T10:00:00.000Z",
        "lastUpdated": "2026-02-01T00:00:00.000Z", "passwordChanged": null, "statusChanged": null,
        "profile": {"login": "jo@acme.com", "email": "jo@acme.com", "firstName": "Jo", "lastName": "Doe",
                    "department": "Engineering", "title": "SRE", "managerId": "00u0boss"}
    });
    let env = Env {
        cards: Arc::new(NoopCards(user)),
        journal: Arc::new(DropJournal),
        clock: Arc::new(SystemClock),
        flows: Arc::new(NoHelpers),
        sleeper: Arc::new(RecordingSleeper::default()),
        links: Arc::new(lanyard_flow::NoSignalLinks),
        limits: RunLimits::default(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let input = json!({"user": "00u1abcd"});
    let mut g = c.benchmark_group("run_flow");
    g.throughput(Throughput::Elements(1));
    g.bench_function("api_if_card_return", |b| {
        b.to_async(&rt).iter(|| async {
            let out = run_flow(&flow, RunStart::new("01JBENCH", input.clone()), &env).await;
            assert!(out.error.is_none());
            out
        })
    });
    g.finish();

    // Parts of the above, to see where a run's time goes.
    let user_json = json!({
        "id": "00u1abcd", "status": "ACTIVE", "created": "2025-01-01T00:00:00.000Z",
        "profile": {"login": "jo@acme.com", "email": "jo@acme.com", "firstName": "Jo", "lastName": "Doe",
                    "department": "Engineering", "title": "SRE", "managerId": "00u0boss"}
    });
    let mut g = c.benchmark_group("parts");
    g.bench_function("from_json_user", |b| {
        b.iter(|| lanyard_flow::expr::from_json(std::hint::black_box(&user_json)))
    });
    let ctx = lanyard_flow::expr::from_json(&json!({"event": {"user": "00u1"}, "user": user_json}));
    let cond = Expr::compile("event.user is defined and event.user != ''", "if").unwrap();
    g.bench_function("eval_condition", |b| {
        b.iter(|| cond.eval_bool(&ctx).unwrap())
    });
    let text = Expr::compile("user.profile.login", "x").unwrap();
    g.bench_function("eval_path", |b| b.iter(|| text.eval(&ctx).unwrap()));
    let only_return = compile(
        "r.yaml",
        "name: r\ndescription: d\ntrigger: api\nsteps:\n  - return: { ok: true }\n",
        &catalog,
    )
    .flow
    .unwrap();
    g.bench_function("run_only_return", |b| {
        b.to_async(&rt).iter(|| async {
            run_flow(&only_return, RunStart::new("01JBENCH", input.clone()), &env).await
        })
    });
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.bench_function("api_check", |b| {
        b.iter(|| compile("api-check.yaml", FLOW, &catalog).flow.is_some())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
