//! `loadgen`: drive a running lanyard daemon and measure it.
//!
//! Two modes, both against a daemon URL:
//!
//! - `hook`: POSTs Okta Event Hook deliveries to `/hooks/okta` (realistic
//!   System Log events, unique `uuid`s, one target user each unless
//!   `--targets-from-okta` picks real users), `--batch` events per delivery,
//!   `--concurrency` deliveries in flight, with the hook secret. Records the
//!   ack latency of every delivery, then watches `/metrics` until every run
//!   the events started has finished (`lanyard_runs_total` for `--flow` grew by
//!   `events × --runs-per-event`), and reports events/s end to end.
//! - `invoke`: `POST /api/v1/flows/{flow}/invoke` with a JSON body, the flow
//!   answering synchronously (webhook in, response out: what n8n's figure
//!   measures). Latency is the whole request; runs/s is requests answered per
//!   second, checked against `/metrics` at the end.
//!
//! Every body is built before the clock starts; latencies are kept whole and
//! sorted for exact percentiles. The generator shares the machine with the
//! daemon, so its own CPU time is printed beside the figures.
//!
//! Output: a human summary on stderr and one JSON object on stdout.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "load a running lanyard daemon and measure it")]
struct Cli {
    /// The daemon, for example http://127.0.0.1:8080.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Bearer token for /metrics and the admin API, if the daemon asks for one.
    #[arg(long, env = "LANYARD_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Give up waiting for runs to finish after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Okta Event Hook deliveries to /hooks/okta.
    Hook {
        /// The hook's shared secret (the `Authorization` header Okta sends).
        #[arg(long, env = "LANYARD_HOOK_SECRET")]
        secret: String,
        /// Events in all.
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Events per delivery (Okta batches up to 50 or so).
        #[arg(long, default_value_t = 50)]
        batch: usize,
        #[arg(long, default_value = "user.lifecycle.deactivate")]
        event_type: String,
        /// The flow the events start (its runs are counted).
        #[arg(long)]
        flow: String,
        /// Runs each event starts (flows subscribed to the type).
        #[arg(long, default_value_t = 1)]
        runs_per_event: usize,
        /// Target real users of this Okta org (or sandbox) instead of made-up ids.
        #[arg(long)]
        targets_from_okta: Option<String>,
        /// API token for --targets-from-okta.
        #[arg(long, env = "OKTA_API_TOKEN")]
        okta_token: Option<String>,
    },
    /// Synchronous API invocations of one flow.
    Invoke {
        #[arg(long)]
        flow: String,
        /// Requests in all.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Bearer token of the invoke API.
        #[arg(long, env = "LANYARD_INVOKE_TOKEN")]
        token: Option<String>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        // One core for the generator; the daemon gets the rest.
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let summary = rt.block_on(run(cli))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

async fn run(cli: Cli) -> Result<Value> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(cli.concurrency * 2)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the http client")?;
    let base = cli.url.trim_end_matches('/').to_string();
    let metrics = Metrics {
        http: http.clone(),
        url: format!("{base}/metrics"),
        token: cli.admin_token.clone(),
    };
    match cli.mode {
        Mode::Hook {
            secret,
            events,
            batch,
            event_type,
            flow,
            runs_per_event,
            targets_from_okta,
            okta_token,
        } => {
            if batch == 0 || events == 0 {
                bail!("--events and --batch must be at least 1");
            }
            let targets = match &targets_from_okta {
                Some(org) => okta_users(&http, org, okta_token.as_deref().context("--targets-from-okta needs --okta-token")?)
                    .await
                    .context("reading target users from okta")?,
                None => Vec::new(),
            };
            let bodies = hook_bodies(events, batch, &event_type, &targets);
            let before = metrics.runs(&flow).await.context("reading /metrics before the load")?;
            let cpu0 = cpu_seconds();
            let started = Instant::now();
            let (lat, failures) = fire(&http, cli.concurrency, bodies, {
                let url = format!("{base}/hooks/okta");
                move |http: &reqwest::Client, body: bytes::Bytes| {
                    http.post(&url)
                        .header("authorization", &secret)
                        .header("content-type", "application/json")
                        .body(body)
                }
            })
            .await;
            let acked = started.elapsed();
            let gen_cpu = cpu_seconds() - cpu0;
            let expected = events * runs_per_event;
            let done = metrics
                .wait_runs(&flow, &before, expected, Duration::from_secs(cli.timeout))
                .await?;
            let total = started.elapsed();
            let runs = done.delta(&before);
            let lat_ms = percentiles(lat);
            let eps = events as f64 / total.as_secs_f64();
            eprintln!(
                "hook: {events} events in {} deliveries of {batch}, concurrency {}: acked in {:.2}s, all {expected} runs finished in {:.2}s",
                events.div_ceil(batch),
                cli.concurrency,
                acked.as_secs_f64(),
                total.as_secs_f64()
            );
            eprintln!(
                "  {eps:.0} events/s end to end ({:.1}x n8n's 110/s); ack latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; failed deliveries {failures}; runs by status {}; generator cpu {gen_cpu:.1}s",
                eps / 110.0,
                lat_ms.p50,
                lat_ms.p99,
                lat_ms.max,
                serde_json::to_string(&runs.by_status)?,
            );
            Ok(json!({
                "mode": "hook",
                "flow": flow,
                "events": events,
                "batch": batch,
                "concurrency": cli.concurrency,
                "deliveries": events.div_ceil(batch),
                "failed_deliveries": failures,
                "ack_seconds": acked.as_secs_f64(),
                "total_seconds": total.as_secs_f64(),
                "events_per_second": eps,
                "ratio_to_n8n_110": eps / 110.0,
                "ack_latency_ms": lat_ms.to_json(),
                "runs": runs.to_json(),
                "generator_cpu_seconds": gen_cpu,
            }))
        }
        Mode::Invoke { flow, requests, token } => {
            if requests == 0 {
                bail!("--requests must be at least 1");
            }
            let bodies: Vec<bytes::Bytes> = (0..requests)
                .map(|i| bytes::Bytes::from(json!({"user": format!("user{i}@acme.example"), "n": i}).to_string()))
                .collect();
            let before = metrics.runs(&flow).await.context("reading /metrics before the load")?;
            let cpu0 = cpu_seconds();
            let started = Instant::now();
            let (lat, failures) = fire(&http, cli.concurrency, bodies, {
                let url = format!("{base}/api/v1/flows/{flow}/invoke");
                move |http: &reqwest::Client, body: bytes::Bytes| {
                    let mut r = http.post(&url).header("content-type", "application/json").body(body);
                    if let Some(t) = &token {
                        r = r.bearer_auth(t);
                    }
                    r
                }
            })
            .await;
            let answered = started.elapsed();
            let gen_cpu = cpu_seconds() - cpu0;
            let done = metrics
                .wait_runs(&flow, &before, requests, Duration::from_secs(cli.timeout))
                .await?;
            let runs = done.delta(&before);
            let rps = requests as f64 / answered.as_secs_f64();
            let lat_ms = percentiles(lat);
            eprintln!(
                "invoke: {requests} synchronous requests, concurrency {}: answered in {:.2}s",
                cli.concurrency,
                answered.as_secs_f64()
            );
            eprintln!(
                "  {rps:.0} runs/s ({:.1}x n8n's 110/s); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; failed requests {failures}; runs by status {}; generator cpu {gen_cpu:.1}s",
                rps / 110.0,
                lat_ms.p50,
                lat_ms.p99,
                lat_ms.max,
                serde_json::to_string(&runs.by_status)?,
            );
            Ok(json!({
                "mode": "invoke",
                "flow": flow,
                "requests": requests,
                "concurrency": cli.concurrency,
                "failed_requests": failures,
                "total_seconds": answered.as_secs_f64(),
                "runs_per_second": rps,
                "ratio_to_n8n_110": rps / 110.0,
                "latency_ms": lat_ms.to_json(),
                "runs": runs.to_json(),
                "generator_cpu_seconds": gen_cpu,
            }))
        }
    }
}

/// Send every body with `concurrency` requests in flight; return each
/// successful request's latency (µs) and the number that failed (non-2xx or
/// transport error; each failure is printed once per kind).
async fn fire<F>(http: &reqwest::Client, concurrency: usize, bodies: Vec<bytes::Bytes>, request: F) -> (Vec<u64>, usize)
where
    F: Fn(&reqwest::Client, bytes::Bytes) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (bodies, next, request, http) = (bodies.clone(), next.clone(), request.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            let mut reported: Option<String> = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let t = Instant::now();
                let outcome = match request(&http, body.clone()).send().await {
                    Ok(resp) if resp.status().is_success() => {
                        // Read the answer: a synchronous invoke's run output.
                        resp.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    Ok(resp) => {
                        let status = resp.status();
                        let text = resp.text().await.unwrap_or_default();
                        Err(format!("{status}: {}", text.chars().take(300).collect::<String>()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                match outcome {
                    Ok(()) => lat.push(t.elapsed().as_micros() as u64),
                    Err(e) => {
                        failed += 1;
                        if reported.as_deref() != Some(e.as_str()) {
                            eprintln!("request failed: {e}");
                            reported = Some(e);
                        }
                    }
                }
            }
            (lat, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (lat, f) = t.await.expect("a load task panicked");
        all.extend(lat);
        failed += f;
    }
    (all, failed)
}

/// Delivery bodies: Okta's Event Hook envelope around `batch` events each.
fn hook_bodies(events: usize, batch: usize, event_type: &str, targets: &[(String, String)]) -> Vec<bytes::Bytes> {
    let now = chrono::Utc::now();
    let mut out = Vec::with_capacity(events.div_ceil(batch));
    let mut n = 0usize;
    while n < events {
        let k = batch.min(events - n);
        let evs: Vec<Value> = (n..n + k)
            .map(|i| {
                let (id, login) = match targets.get(i % targets.len().max(1)) {
                    Some(t) if !targets.is_empty() => t.clone(),
                    // A distinct made-up user per event: distinct subjects, as a
                    // day of real offboarding would be.
                    _ => (format!("00u{:017x}", rand::random::<u64>() >> 4), format!("user{i}@acme.example")),
                };
                let published = now + chrono::TimeDelta::milliseconds(i as i64);
                log_event(event_type, &id, &login, published)
            })
            .collect();
        let body = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": "https://acme.okta.com/api/v1/eventHooks/whoload0000000000001",
            "eventId": uuid(),
            "eventTime": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "contentType": "application/json",
            "data": {"events": evs},
        });
        out.push(bytes::Bytes::from(body.to_string()));
        n += k;
    }
    out
}

/// One System Log event as Okta writes it for an admin acting on a user.
fn log_event(event_type: &str, user_id: &str, login: &str, published: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "uuid": uuid(),
        "published": published.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "legacyEventType": "core.user.config.user_deactivated",
        "displayMessage": "Deactivate Okta user",
        "actor": {"id": "00uadmin0000000000001", "type": "User", "alternateId": "it-admin@acme.example", "displayName": "IT Admin", "detailEntry": null},
        "client": {
            "userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15", "os": "Mac OS X", "browser": "SAFARI"},
            "zone": "null", "device": "Computer", "id": null, "ipAddress": "203.0.113.10",
            "geographicalContext": {"city": "San Francisco", "state": "California", "country": "United States", "postalCode": "94105", "geolocation": {"lat": 37.7749, "lon": -122.4194}}
        },
        "device": null,
        "authenticationContext": {"authenticationProvider": null, "credentialProvider": null, "credentialType": null, "issuer": null, "interface": null, "authenticationStep": 0, "externalSessionId": "102bT5ccMdqQ9mH7ZP1q3wHkQ"},
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": [{"id": user_id, "type": "User", "alternateId": login, "displayName": login, "detailEntry": null}],
        "transaction": {"type": "WEB", "id": format!("Zt{:x}", rand::random::<u64>()), "detail": {"requestApiTokenId": "00T1h2j3k4l5m6n7o8p9"}},
        "debugContext": {"debugData": {"requestId": format!("Zt{:x}", rand::random::<u64>()), "requestUri": format!("/api/v1/users/{user_id}/lifecycle/deactivate"), "url": format!("/api/v1/users/{user_id}/lifecycle/deactivate?")}},
        "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
        "request": {"ipChain": [{"ip": "203.0.113.10", "geographicalContext": null, "version": "V4", "source": null}]}
    })
}

fn uuid() -> String {
    let b: u128 = rand::random::<u128>() & !(0xf << 76) & !(0x3 << 62) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{b:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Active users of an Okta org: `(id, login)`.
async fn okta_users(http: &reqwest::Client, org: &str, token: &str) -> Result<Vec<(String, String)>> {
    let mut url = format!("{}/api/v1/users?limit=200&filter=status%20eq%20%22ACTIVE%22", org.trim_end_matches('/'));
    let mut out = Vec::new();
    loop {
        let resp = http.get(&url).header("authorization", format!("SSWS {token}")).send().await?;
        if !resp.status().is_success() {
            bail!("GET {url}: {}", resp.status());
        }
        let next = resp
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("rel=\"next\""))
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_string());
        let users: Vec<Value> = resp.json().await?;
        for u in users {
            if let (Some(id), Some(login)) = (u["id"].as_str(), u["profile"]["login"].as_str()) {
                out.push((id.to_string(), login.to_string()));
            }
        }
        match next {
            Some(n) if out.len() < 100_000 => url = n,
            _ => break,
        }
    }
    if out.is_empty() {
        bail!("the org has no active users to target");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// /metrics

struct Metrics {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct RunCounts {
    /// `lanyard_runs_total{flow="..",status=".."}` by status.
    by_status: std::collections::BTreeMap<String, f64>,
}

impl RunCounts {
    fn total(&self) -> f64 {
        self.by_status.values().sum()
    }

    fn delta(&self, before: &RunCounts) -> RunCounts {
        RunCounts {
            by_status: self
                .by_status
                .iter()
                .map(|(k, v)| (k.clone(), v - before.by_status.get(k).copied().unwrap_or(0.0)))
                .filter(|(_, v)| *v > 0.0)
                .collect(),
        }
    }

    fn to_json(&self) -> Value {
        json!({"total": self.total(), "by_status": self.by_status})
    }
}

impl Metrics {
    async fn text(&self) -> Result<String> {
        let mut r = self.http.get(&self.url);
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        let resp = r.send().await.with_context(|| format!("GET {}", self.url))?;
        if !resp.status().is_success() {
            bail!("GET {}: {}", self.url, resp.status());
        }
        Ok(resp.text().await?)
    }

    async fn runs(&self, flow: &str) -> Result<RunCounts> {
        Ok(parse_runs(&self.text().await?, flow))
    }

    /// Until `expected` more runs of `flow` have finished than in `before`.
    async fn wait_runs(&self, flow: &str, before: &RunCounts, expected: usize, timeout: Duration) -> Result<RunCounts> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.runs(flow).await?;
            let done = now.total() - before.total();
            if done >= expected as f64 {
                return Ok(now);
            }
            if Instant::now() > deadline {
                bail!("only {done} of {expected} runs of `{flow}` finished within {}s", timeout.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sum `lanyard_runs_total` samples of one flow by status.
fn parse_runs(text: &str, flow: &str) -> RunCounts {
    let mut counts = RunCounts::default();
    let flow_label = format!("flow=\"{}\"", flow.replace('\\', "\\\\").replace('"', "\\\""));
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("lanyard_runs_total{") else { continue };
        let Some((labels, value)) = rest.rsplit_once("} ") else { continue };
        if !labels.split(',').any(|l| l == flow_label) {
            continue;
        }
        let status = labels
            .split(',')
            .find_map(|l| l.strip_prefix("status=\""))
            .map(|s| s.trim_end_matches('"').to_string())
            .unwrap_or_default();
        if let Ok(v) = value.trim().parse::<f64>() {
            *counts.by_status.entry(status).or_default() += v;
        }
    }
    counts
}

// ---------------------------------------------------------------------------
// numbers

struct Percentiles {
    count: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl Percentiles {
    fn to_json(&self) -> Value {
        json!({"count": self.count, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max, "mean": self.mean})
    }
}

/// Exact percentiles (nearest rank) of latencies in µs, as milliseconds.
fn percentiles(mut us: Vec<u64>) -> Percentiles {
    us.sort_unstable();
    let at = |q: f64| -> f64 {
        if us.is_empty() {
            return 0.0;
        }
        let rank = ((q * us.len() as f64).ceil() as usize).clamp(1, us.len());
        us[rank - 1] as f64 / 1000.0
    };
    Percentiles {
        count: us.len(),
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
        mean: if us.is_empty() { 0.0 } else { us.iter().sum::<u64>() as f64 / us.len() as f64 / 1000.0 },
    }
}

/// CPU time this process used so far (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // rest starts at field 3 (state): utime is field 14 → index 11.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let p = percentiles((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
    }

    #[test]
    fn runs_are_read_from_prometheus_text() {
        let text = "# TYPE lanyard_runs_total counter\nlanyard_runs_total{flow=\"a\",status=\"succeeded\"} 10\nlanyard_runs_total{flow=\"a\",status=\"failed\"} 2\nlanyard_runs_total{flow=\"ab\",status=\"succeeded\"} 7\n";
        let r = parse_runs(text, "a");
        assert_eq!(r.total(), 12.0);
        assert_eq!(r.by_status["failed"], 2.0);
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }

    #[test]
    fn hook_bodies_are_okta_deliveries_the_parser_accepts() {
        let bodies = hook_bodies(120, 50, "user.lifecycle.deactivate", &[]);
        assert_eq!(bodies.len(), 3);
        let events: Vec<_> = bodies
            .iter()
            .flat_map(|b| lanyard_okta::hooks::parse_delivery(b).unwrap())
            .collect();
        assert_eq!(events.len(), 120);
        let uuids: std::collections::BTreeSet<_> = events.iter().map(|e| e.uuid.clone()).collect();
        assert_eq!(uuids.len(), 120);
    }
}
