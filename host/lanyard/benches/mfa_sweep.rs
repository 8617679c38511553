//! The MFA sweep over a large org (issue 15): the seed's own
//! `flows/mfa-reminder.yaml`, run once by the real daemon (`lanyard serve`,
//! built as the bench is) with the default limits, against the sandbox Okta
//! org grown by `LANYARD_SWEEP_USERS` generated people (default 50,000; four
//! in five have an MFA factor) and an SMTP sink. Prints how long the run took,
//! what it did (users checked, pages read, steps, reminders sent) and the
//! daemon's peak resident memory (`VmHWM`), sampled while it ran.
//!
//! ```sh
//! cargo bench -p lanyard --bench mfa_sweep
//! LANYARD_SWEEP_USERS=5000 cargo bench -p lanyard --bench mfa_sweep
//! ```

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

use lanyard_sandbox::{SmtpSink, SmtpSinkConfig};
use lanyard_core::clock::SystemClock;
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLOW: &str = "MFA Enrollment Reminder: Email Users Without a Factor";
const ADMIN: &str = "bench-admin-token";

fn main() {
    let extra: usize = std::env::var("LANYARD_SWEEP_USERS").ok().map_or(50_000, |v| v.trim().parse().expect("LANYARD_SWEEP_USERS: a whole number"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(sweep(extra));
}

async fn sweep(extra: usize) {
    let seeded = Instant::now();
    let org = SandboxOrg::new(SandboxConfig { extra_users: extra, ..SandboxConfig::default() }, Arc::new(SystemClock));
    let users = org.counts().users;
    eprintln!("mfa_sweep: sandbox org of {users} users seeded in {:.1?}", seeded.elapsed());
    let sandbox = RunningSandbox::start(org.clone()).await.expect("the sandbox org serves");
    let smtp = SmtpSink::start(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), SmtpSinkConfig::default()).expect("the SMTP sink starts");

    let dir = tempfile::tempdir().unwrap();
    let extra_config = format!(
        r#"
[okta]
org_url = "{okta}"
auth = {{ ssws = {{ value = "{token}" }} }}

[schedules]
enabled = false

[mail]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = {{ address = "it@acme.example", name = "Acme IT" }}

[cards."mail.send"]
grants = ["mail"]

[cards."tables.get"]
grants = ["table:mfa-reminders"]

[cards."tables.put"]
grants = ["table:mfa-reminders"]
"#,
        okta = sandbox.base_url,
        token = org.service_token(),
        smtp = smtp.addr().port(),
    );
    let config = support::Setup {
        flow_file: "mfa-reminder.yaml",
        flow_yaml: include_str!("../../../flows/mfa-reminder.yaml"),
        data: &dir.path().join("data"),
        cache: "bench-mfa-sweep-cards",
        admin: ADMIN,
        secret: "bench-hook-secret",
        server: "",
        extra: &extra_config,
    }
    .write(dir.path());
    let daemon = support::Daemon::start(&config, "warn");
    let pid = daemon.pid();
    let http = reqwest::Client::new();
    // Ready once the flow is loaded (the built-in cards compile on a cold cache).
    let ready = Instant::now();
    loop {
        let flows: Value = http.get(format!("{}/api/v1/flows", daemon.url)).bearer_auth(ADMIN).send().await.unwrap().json().await.unwrap_or_default();
        if flows["flows"].as_array().is_some_and(|f| f.iter().any(|f| f["name"] == FLOW)) {
            break;
        }
        assert!(ready.elapsed() < Duration::from_secs(900), "the flow did not load:\n{flows:#}\n{}", daemon.logs());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let base_rss = memory(pid).0;

    let started = Instant::now();
    let r = http
        .post(format!("{}/api/v1/flows/{}/run", daemon.url, FLOW.replace(' ', "%20").replace(':', "%3A")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("run now");
    assert!(r.status().is_success(), "{}: {}\n{}", r.status(), r.text().await.unwrap_or_default(), daemon.logs());
    let run_id = r.json::<Value>().await.unwrap()["run_id"].as_str().expect("a run id").to_string();
    let mut peak = base_rss;
    let run = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(memory(pid).1);
        let list: Value = http.get(format!("{}/api/v1/runs?limit=5", daemon.url)).bearer_auth(ADMIN).send().await.unwrap().json().await.unwrap();
        let run = list["runs"].as_array().unwrap().iter().find(|r| r["id"] == run_id.as_str()).cloned().expect("the run is listed");
        if !matches!(run["status"].as_str(), Some("queued" | "running")) {
            break run;
        }
        assert!(started.elapsed() < Duration::from_secs(3600), "the sweep took over an hour: {:#}\n{}", run, daemon.logs());
    };
    let took = started.elapsed();
    assert_eq!(run["status"], "succeeded", "{run:#}\n{}", daemon.logs());
    let output = &run["output"];
    let checked = output["checked"].as_u64().unwrap();
    let mails = smtp.messages().len();
    println!(
        "mfa_sweep: {users} users in the org, {checked} checked in {} pages, {mails} reminders sent: {:.1} s ({:.0} users/s); daemon memory: {} MiB at rest, {} MiB at most (VmHWM)",
        output["pages"],
        took.as_secs_f64(),
        checked as f64 / took.as_secs_f64(),
        base_rss / 1024,
        peak / 1024,
    );
    assert!(checked as usize > users * 9 / 10, "every active user older than three days was checked");
    assert!(mails > 0);
}

/// The process's resident memory now and at most so far, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0);
    (field("VmRSS:"), field("VmHWM:"))
}
