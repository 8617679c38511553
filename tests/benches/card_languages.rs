//! What a card costs per call in each language, through the real runtime
//! (fresh instance per call, limits, grants, capabilities linked, JSON in and
//! out), against an in-process HTTP capability that answers at once: the Rust
//! built-in `lanyard.echo`, the Rust and Python `acme.jamf-offboard` twins
//! (`action: report`: one JAMF search, no writes) and the JavaScript
//! `acme.zoom-deprovision` (one lookup of a user already inactive).
//!
//! ```sh
//! LANYARD_RUST_JAMF_CARD=cards/examples/rust-jamf-offboard/target/wasm32-wasip2/release/acme_jamf_offboard.wasm \
//! LANYARD_PY_CARD=cards/examples/python-jamf/jamf_offboard.wasm \
//! LANYARD_JS_CARD=cards/examples/js-zoom/zoom_deprovision.wasm \
//!   cargo bench -p lanyard-e2e --bench card_languages
//! ```
//!
//! A card whose variable is unset is skipped. Prints, per card: size, load
//! (compile or cache) time, the first call, and the median and p90 of N calls
//! after a warm-up. Plain timing, not criterion: these are figures for the
//! documentation, not a target that gates anything.

use async_trait::async_trait;
use lanyard_core::caps::{HttpApi, HttpRequest, HttpResponse};
use lanyard_core::{CallContext, CardError, Grant, Grants};
use lanyard_runtime::{CallRequest, Capabilities, Runtime, RuntimeConfig};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WARMUP: usize = 20;
const CALLS: usize = 200;

struct CannedHttp;

#[async_trait]
impl HttpApi for CannedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, CardError> {
        let body = if request.url.starts_with("/api/v1/computers-inventory") {
            json!({ "totalCount": 1, "results": [
                { "id": 17, "general": { "name": "Ada's MacBook Pro", "managementId": "mgmt-17" }, "hardware": { "serialNumber": "C02XK1" } }
            ]})
        } else if request.url.starts_with("/v2/users/") {
            json!({ "id": "zu-42", "status": "inactive" })
        } else {
            return Ok(HttpResponse { status: 404, headers: Vec::new(), body: b"{}".to_vec() });
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&body).unwrap(),
        })
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let cache = std::env::var_os("LANYARD_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-e2e-card-cache"));
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache),
        max_instances: 16,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let user = json!({ "id": "00u1", "email": "ada@acme.example" });
    let cards: Vec<(&str, Option<Vec<u8>>, Value)> = vec![
        ("rust lanyard.echo", Some(lanyard_cards::builtin_card("echo").unwrap().wasm.to_vec()), json!({ "message": "hi" })),
        (
            "rust acme.jamf-offboard",
            std::env::var_os("LANYARD_RUST_JAMF_CARD").map(|p| std::fs::read(p).unwrap()),
            json!({ "user": user, "connection": "jamf", "action": "report" }),
        ),
        (
            "python acme.jamf-offboard",
            std::env::var_os("LANYARD_PY_CARD").map(|p| std::fs::read(p).unwrap()),
            json!({ "user": user, "connection": "jamf", "action": "report" }),
        ),
        (
            "js acme.zoom-deprovision",
            std::env::var_os("LANYARD_JS_CARD").map(|p| std::fs::read(p).unwrap()),
            json!({ "user": user, "connection": "zoom" }),
        ),
    ];
    let caps = Capabilities {
        http: Some(Arc::new(CannedHttp)),
        ..Capabilities::none()
    };
    let grants = Arc::new(Grants::from_list(&[Grant::Connection("*".into())]).unwrap());
    println!("{:28} {:>10} {:>10} {:>12} {:>12} {:>12}", "card", "size", "load", "first call", "median", "p90");
    for (label, wasm, input) in cards {
        let Some(wasm) = wasm else {
            println!("{label:28} skipped (set its variable, see the module docs)");
            continue;
        };
        let started = Instant::now();
        let card = runtime.load(&wasm).unwrap_or_else(|e| panic!("{label}: {e}"));
        let load = started.elapsed();
        let request = || CallRequest {
            ctx: CallContext::new("bench-run", "bench", "step", 1, false),
            input: input.clone().into(),
            grants: grants.clone(),
            caps: caps.clone(),
            limits: Default::default(),
        };
        let (first, times) = rt.block_on(async {
            let started = Instant::now();
            let out = runtime.call(&card, request()).await;
            let first = started.elapsed();
            if let Err(e) = &out.result {
                panic!("{label}: {e:?}");
            }
            for _ in 0..WARMUP {
                runtime.call(&card, request()).await.result.unwrap();
            }
            let mut times = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                let started = Instant::now();
                let out = runtime.call(&card, request()).await;
                times.push(started.elapsed());
                out.result.unwrap();
            }
            (first, times)
        });
        let mut sorted = times;
        sorted.sort();
        println!(
            "{label:28} {:>9.1}M {:>9.2}s {:>12.2?} {:>12.2?} {:>12.2?}{}",
            wasm.len() as f64 / (1 << 20) as f64,
            load.as_secs_f64(),
            first,
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.9),
            if card.from_cache() { "  (load: from the cache)" } else { "  (load: compiled)" }
        );
    }
}
