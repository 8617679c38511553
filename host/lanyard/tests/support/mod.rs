//! The real daemon as a child process, for the tests that run `lanyard serve`
//! (`crash.rs`, `disk_full.rs`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `lanyard serve` and everything it printed.
pub struct Daemon {
    child: Child,
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Start `lanyard serve --config config` on a free port with the log
    /// filter `log`, and wait until it says where it serves.
    #[allow(dead_code)] // not every test binary starts it so
    pub fn start(config: &Path, log: &str) -> Daemon {
        Self::start_with(config, log, &["--listen", "127.0.0.1:0"])
    }

    /// As `start`, on the address the config says (for the commands that
    /// find the daemon through the same config).
    #[allow(dead_code)] // not every test binary needs it
    pub fn start_as_configured(config: &Path, log: &str) -> Daemon {
        Self::start_with(config, log, &[])
    }

    fn start_with(config: &Path, log: &str, args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lanyard"))
            .args(["serve", "--config"])
            .arg(config)
            .args(args)
            .env("LANYARD_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the lanyard binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        // Drained for the daemon's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or_default().to_string();
                    let _ = tx.send(url);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("lanyard did not say where it serves:\n{}", log.lock().unwrap().join("\n")));
        Daemon { child, url, log }
    }

    /// The daemon's process id.
    #[allow(dead_code)] // not every test binary reads it
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL: no shutdown code runs.
    #[allow(dead_code)] // not every test binary kills
    pub fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait (at most 60 s) for the exit.
    #[allow(dead_code)] // not every test binary stops it so
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "kill -TERM {}", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the daemon's status") {
                return status;
            }
            assert!(Instant::now() < deadline, "lanyard did not stop within 60 s of SIGTERM:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon's configuration for the tests that post Event Hooks at it: one
/// flow, the data directory at `data` (a tmpfs, in some tests), compiled cards
/// cached across runs off that disk, the admin token and hook secret given.
#[allow(dead_code)] // not every test binary writes one
pub struct Setup<'a> {
    pub flow_file: &'a str,
    pub flow_yaml: &'a str,
    pub data: &'a Path,
    /// The card cache's directory name under the test target's temp dir.
    pub cache: &'a str,
    pub admin: &'a str,
    pub secret: &'a str,
    /// More keys of `[server]`.
    pub server: &'a str,
    /// More tables.
    pub extra: &'a str,
}

#[allow(dead_code)]
impl Setup<'_> {
    /// Write the flow and `lanyard.toml` into `dir`; the config's path.
    pub fn write(&self, dir: &Path) -> std::path::PathBuf {
        std::fs::create_dir_all(dir.join("flows")).unwrap();
        std::fs::write(dir.join("flows").join(self.flow_file), self.flow_yaml).unwrap();
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join(self.cache);
        let config = dir.join("lanyard.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[server]
data_dir = "{data}"
flows_dir = "flows"
cache_dir = "{cache}"
admin_token = {{ value = "{admin}" }}
watch_flows = false
shutdown_grace = "1s"
{server}
[hooks.okta]
secret = {{ value = "{secret}" }}
{extra}
"#,
                data = self.data.display(),
                cache = cache.display(),
                admin = self.admin,
                secret = self.secret,
                server = self.server,
                extra = self.extra,
            ),
        )
        .unwrap();
        config
    }
}

/// Every run of `flow`, through the admin API's pages.
#[allow(dead_code)]
pub async fn runs(http: &reqwest::Client, url: &str, admin: &str, flow: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = http.get(format!("{url}/api/v1/runs")).bearer_auth(admin).query(&[("flow", flow), ("limit", "1000")]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c.as_str())]);
        }
        let page: serde_json::Value = req.send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
        out.extend(page["runs"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// [`runs`] by the event that started them: event uuid → their statuses.
#[allow(dead_code)]
pub async fn runs_by_event(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    flow: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in runs(http, url, admin, flow).await {
        let uuid = r["trigger"]["event_uuid"].as_str().unwrap_or_default().to_string();
        out.entry(uuid).or_default().push(r["status"].as_str().unwrap_or_default().to_string());
    }
    out
}

/// An Event Hook delivery of `events` as Okta sends it, the `n`th from `hook`.
#[allow(dead_code)]
pub fn hook_delivery(events: &[serde_json::Value], n: usize, hook: &str, event_time: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": format!("https://acme.okta.com/api/v1/eventHooks/{hook}"), "eventId": format!("delivery-{n}"),
        "eventTime": event_time, "contentType": "application/json",
        "data": {"events": events}
    }))
    .unwrap()
}

/// POST a delivery to the daemon's hook with the shared `secret`; its status,
/// 0 when there was no answer (the daemon was killed or the socket refused).
#[allow(dead_code)]
pub async fn post_hook(http: &reqwest::Client, url: &str, secret: &str, body: &[u8]) -> u16 {
    match http
        .post(format!("{url}/hooks/okta"))
        .header("authorization", secret)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// A flow of two `lanyard.echo` calls per deactivated user.
#[allow(dead_code)]
pub fn echo_flow(name: &str, test: &str) -> String {
    format!(
        r#"name: {name}
description: {test} - two card calls per deactivated user.
trigger:
  okta: user.lifecycle.deactivate
steps:
  - id: first
    card: lanyard.echo
    with: {{ message: "{{{{ event.uuid }}}}" }}
  - id: second
    card: lanyard.echo
    with: {{ message: "{{{{ first.message }}}}" }}
  - return: {{ ok: true }}
"#
    )
}

/// An RFC 3339 UTC time `millis` after the epoch, with no date library.
#[allow(dead_code)]
pub fn rfc3339_millis(millis: u64) -> String {
    let secs = millis / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, millis % 1000)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { era * 400 + yoe + 1 } else { era * 400 + yoe }, m, d)
}

/// What a `lanyard` command did.
#[allow(dead_code)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// `lanyard args...` in `dir`, with none of the environment that would
/// point it elsewhere.
#[allow(dead_code)]
pub fn lanyard(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .current_dir(dir)
        .args(args)
        .env_remove("LANYARD_LOG")
        .env_remove("LANYARD_DATA_DIR")
        .env_remove("LANYARD_CONFIG")
        .env_remove("LANYARD_URL")
        .env_remove("LANYARD_ADMIN_TOKEN")
        .output()
        .expect("run lanyard");
    Out { code: out.status.code(), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

/// A port nothing listens on (for a config that names where to serve).
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The first `n` active users of the sandbox org, `(id, login)` in id order.
#[allow(dead_code)]
pub fn active_users(org: &lanyard_sandbox::okta::SandboxOrg, n: usize) -> Vec<(String, String)> {
    let mut users: Vec<(String, String)> = org
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE")
        .filter_map(|u| Some((u.id.clone(), u.profile.get("login")?.as_str()?.to_string())))
        .collect();
    users.sort();
    users.truncate(n);
    assert_eq!(users.len(), n, "the sandbox has enough active users");
    users
}

/// A `user.lifecycle.deactivate` event of user `user_id`, as Okta writes
/// it, published `i` seconds from now (distinct, increasing times).
#[allow(dead_code)]
pub fn deactivate_event(uuid: &str, user_id: &str, login: &str, i: usize) -> serde_json::Value {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    serde_json::json!({
        "uuid": uuid, "published": rfc3339_millis((secs + i as u64) * 1000), "eventType": "user.lifecycle.deactivate",
        "version": "0", "severity": "INFO", "displayMessage": "Deactivate Okta user",
        "actor": {"id": "00uadmin0000000000001", "type": "User", "alternateId": "it-admin@acme.example", "displayName": "IT Admin"},
        "client": {"ipAddress": "203.0.113.10"}, "outcome": {"result": "SUCCESS"},
        "target": [{"id": user_id, "type": "User", "alternateId": login, "displayName": login}],
        "transaction": {"type": "WEB", "id": format!("tx{i}"), "detail": {}}, "debugContext": {"debugData": {}}
    })
}

/// The config tables for a daemon against the sandbox org at `okta_url`
/// (its service `token`) and the Slack stand-in at `slack_url`: `[okta]`,
/// `workers` workers, the `it-slack` connection and `slack.post`'s grant.
#[allow(dead_code)]
pub fn okta_and_slack(okta_url: &str, token: &str, slack_url: &str, workers: usize) -> String {
    format!(
        r#"
[okta]
org_url = "{okta_url}"
auth = {{ ssws = {{ value = "{token}" }} }}
detect_self = false

[workers]
concurrency = {workers}

[connections.it-slack]
base_url = "{slack_url}"
auth = {{ bearer = {{ value = "{slack_token}" }} }}
allow_private = true

[cards."slack.post"]
grants = ["connection:it-slack"]
"#,
        slack_token = lanyard_sandbox::SlackConfig::default().bot_token,
    )
}
