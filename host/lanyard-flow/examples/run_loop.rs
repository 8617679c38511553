//! Run the benchmark's flow shape (API trigger → if → one card → return) N
//! times and print the time per run. Made for deterministic profiles on a
//! busy machine, where wall-clock benchmarks are noisy:
//!
//! cargo build --release -p lanyard-flow --example run_loop
//! valgrind --tool=callgrind target/release/examples/run_loop 2000
//! callgrind_annotate --inclusive=yes callgrind.out.*

use async_trait::async_trait;
use lanyard_core::SystemClock;
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
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10000);
    let catalog = StaticCatalog::from_names(["okta.get-user"]);
    let flow = compile("api-check.yaml", FLOW, &catalog).flow.unwrap();
    let user = json!({
        "id": "00u1abcd", "status": "ACTIVE", "created": "2025-01-01T00:00:00.000Z",
        "activated": "2025-01-01T00:00:00.000Z", "lastLogin": "2026-03-01T10:00:00.000Z",
        "lastUpdated": "2026-02-01T00:00:00.000Z", "passwordChanged": null, "statusChanged": null,
        "profile": {"login": "jo@acme.com", "email": "jo@acme.com", "firstName": "Jo", "lastName": "Doe",
                    "department": "Engineering", "title": "SRE", "managerId": "00u0boss"}
    });
    let env = Env {
        cards: Arc::new(NoopCards(user)),
        journal: Arc::new(NullJournal),
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
    let t = std::time::Instant::now();
    rt.block_on(async {
        for _ in 0..n {
            let out = run_flow(&flow, RunStart::new("01JBENCH", input.clone()), &env).await;
            assert!(out.error.is_none());
        }
    });
    eprintln!("{:.2} us/run", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
