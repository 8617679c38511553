//! The console in a real browser: Debian's `chromium` (`apt-get install
//! chromium`; `CHROMIUM` names another), driven by playwright-core (pinned in
//! `tests/browser/package.json`, installed by `scripts/toolchains.sh browser`
//! into the toolchain cache the first time). A scenario is a module in
//! `tests/browser/scenarios/`; `tests/browser/run.mjs` runs it against a daemon
//! the Rust test started, and fails on any assertion, console error, page error
//! or failed request. Screenshots go to `target/console-screenshots/`.

use crate::harness::repo;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Where the scenarios' screenshots go.
pub fn screenshots() -> PathBuf {
    repo().join("target").join("console-screenshots")
}

/// playwright-core's `node_modules`, installed once per test process.
fn playwright_modules() -> &'static str {
    static MODULES: OnceLock<String> = OnceLock::new();
    MODULES.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/toolchains.sh"))
            .args(["--print-env", "browser"])
            .output()
            .expect("run scripts/toolchains.sh");
        assert!(
            out.status.success(),
            "scripts/toolchains.sh browser failed; it needs node 20+ and npm, and the npm registry:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8_lossy(&out.stdout);
        env.lines()
            .find_map(|l| l.strip_prefix("PLAYWRIGHT_MODULES="))
            .map(|v| v.trim_matches('\'').to_string())
            .expect("toolchains.sh prints PLAYWRIGHT_MODULES")
    })
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    assert!(
        std::path::Path::new(&path).is_file(),
        "the console's browser tests need Debian's chromium at {path} (apt-get install chromium), or CHROMIUM=/path/to/chromium"
    );
    path
}

/// Run scenario `name` against the daemon at `base` with the admin `token`,
/// handing it `data`; panics with what the browser said if it fails, else
/// returns its output.
pub async fn scenario(name: &str, base: &str, token: &str, data: Value) -> String {
    let modules = playwright_modules().to_string();
    let chromium = chromium();
    let (name, base, token) = (name.to_string(), base.to_string(), token.to_string());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(repo().join("tests/browser/run.mjs"))
            .arg(&name)
            .env("LANYARD_URL", &base)
            .env("LANYARD_TOKEN", &token)
            .env("LANYARD_SCENARIO", data.to_string())
            .env("PLAYWRIGHT_MODULES", &modules)
            .env("CHROMIUM", &chromium)
            .env("SCREENSHOTS", screenshots())
            .output()
            .map(|o| (name, o))
    })
    .await
    .expect("the browser task")
    .expect("node runs (apt-get install nodejs)");
    let (name, out) = out;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "console scenario {name} failed:\n{text}");
    eprint!("{text}");
    text
}

/// What a scenario's `t.tally(what, hands)` reported: `(what, clicks, keys)`.
pub fn tallies(output: &str) -> Vec<(String, u64, u64)> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("tally "))
        .map(|j| {
            let v: Value = serde_json::from_str(j).expect("a tally line is JSON");
            (v["what"].as_str().unwrap_or("").to_string(), v["clicks"].as_u64().unwrap_or(0), v["keys"].as_u64().unwrap_or(0))
        })
        .collect()
}
