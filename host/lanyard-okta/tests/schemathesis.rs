//! An independent conformance run: schemathesis, a schema-driven fuzzer that
//! knows nothing of this code, generates requests from Okta's own spec for
//! every operation the sandbox serves and checks each answer against it
//! (status codes, content types, response schemas and headers), over a real
//! socket.
//!
//! The spec is the committed subset `spec/okta-sandbox-subset.yaml`
//! (`scripts/okta-spec-subset.py` writes it from the route table; this test
//! fails when it is out of date). schemathesis is pinned in
//! `spec/schemathesis-requirements.txt`; the test installs it itself, once,
//! with `scripts/toolchains.sh schemathesis` (set `LANYARD_SCHEMATHESIS` to
//! use another install).
//!
//! What is not run, and why:
//! - `verifyEventHook`: it makes the sandbox call the hook's URI, which the
//!   fuzzer makes up; no request may leave this machine. Verification has its
//!   own tests on loopback receivers.
//! - `updateApplicationUser`: schemathesis cannot make a body for its
//!   `oneOf` of two write-only shapes (a schema error, not a finding); the
//!   sandbox's own tests and proptest cover it.
//! - Negative data (`--mode positive`): Okta answers invalid input with 400 in
//!   operations whose spec documents no 400 (`listUsers` with a bad search,
//!   say), and the sandbox answers as Okta does; the sandbox's own proptest
//!   (`tests/sandbox_routes.rs`) sends hostile input to every route.
//! - The spec's `search`/`filter` strings are free text: `spec/schemathesis_hooks.py`
//!   gives the fuzzer expressions the operation accepts instead, for the same
//!   reason.

use lanyard_core::ManualClock;
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Examples per operation and phase, and the time the whole run may take.
const MAX_EXAMPLES: &str = "10";
const MAX_TIME_SECONDS: &str = "90";
const SEED: &str = "20260302";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The pinned schemathesis: `LANYARD_SCHEMATHESIS`, else the one
/// `scripts/toolchains.sh schemathesis` installs (once) into its cache.
fn schemathesis() -> PathBuf {
    if let Some(tool) = std::env::var_os("LANYARD_SCHEMATHESIS") {
        let tool = PathBuf::from(tool);
        assert!(tool.exists(), "LANYARD_SCHEMATHESIS names {}, which does not exist", tool.display());
        return tool;
    }
    let out = std::process::Command::new("bash")
        .arg(workspace().join("scripts/toolchains.sh"))
        .args(["--print-env", "schemathesis"])
        .output()
        .expect("run scripts/toolchains.sh");
    assert!(
        out.status.success(),
        "scripts/toolchains.sh schemathesis failed; it needs python3 with venv, and PyPI:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("SCHEMATHESIS="))
        .map(|v| PathBuf::from(v.trim_matches('\'')))
        .expect("toolchains.sh prints SCHEMATHESIS")
}

/// schemathesis's configuration: path parameters drawn four times in five
/// from ids the org has (so requests reach more than "not found"), the rest
/// generated.
fn config_for(rt: &tokio::runtime::Runtime, sandbox: &RunningSandbox) -> String {
    let org = &sandbox.org;
    let http = reqwest::Client::new();
    let auth = format!("SSWS {}", org.admin_token());
    let post = |path: &str, body: serde_json::Value| {
        let req = http
            .post(format!("{}{path}", sandbox.base_url))
            .header("authorization", &auth)
            .json(&body);
        rt.block_on(async {
            let v: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
            v["id"].as_str().expect("an id").to_string()
        })
    };
    let engineering = org.group_by_name("Engineering").unwrap().id;
    let rule = post(
        "/api/v1/groups/rules",
        serde_json::json!({
            "type": "group_rule", "name": "Engineers",
            "conditions": {"expression": {"value": "user.department == \"Engineering\"", "type": "urn:okta:expression:1.0"}},
            "actions": {"assignUserToGroups": {"groupIds": [engineering]}},
        }),
    );
    // Loopback and closed: nothing is ever delivered (verification is not run).
    let hook = post(
        "/api/v1/eventHooks",
        serde_json::json!({
            "name": "fuzz", "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.create"]},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": "http://127.0.0.1:1/hook"}},
        }),
    );
    let users: Vec<_> = org
        .users()
        .into_iter()
        .filter(|u| u.id != org.admin_user_id() && u.id != org.service_user_id())
        .take(12)
        .collect();
    let factors: Vec<String> = users
        .iter()
        .flat_map(|u| org.factors_of(&u.id))
        .map(|f| f.id)
        .collect();
    let apps: Vec<String> = rt.block_on(async {
        let v: serde_json::Value = http
            .get(format!("{}/api/v1/apps", sandbox.base_url))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    });
    let groups: Vec<String> = org.groups().into_iter().map(|g| g.id).collect();
    let list = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let user_ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    format!(
        "[dictionaries.apps]\nvalues = [{}]\n\
         [dictionaries.users]\nvalues = [{}]\n\
         [dictionaries.groups]\nvalues = [{}]\n\
         [dictionaries.factors]\nvalues = [{}]\n\
         [dictionaries.rules]\nvalues = [{rule:?}]\n\
         [dictionaries.hooks]\nvalues = [{hook:?}]\n\
         \n[parameters]\n\
         \"path.appId\" = {{ dictionary = \"apps\", probability = 0.8 }}\n\
         \"path.id\" = {{ dictionary = \"users\", probability = 0.8 }}\n\
         \"path.userId\" = {{ dictionary = \"users\", probability = 0.8 }}\n\
         \"path.groupId\" = {{ dictionary = \"groups\", probability = 0.8 }}\n\
         \"path.factorId\" = {{ dictionary = \"factors\", probability = 0.8 }}\n\
         \"path.groupRuleId\" = {{ dictionary = \"rules\", probability = 0.8 }}\n\
         \"path.eventHookId\" = {{ dictionary = \"hooks\", probability = 0.8 }}\n",
        list(&apps),
        list(&user_ids),
        list(&groups),
        list(&factors),
    )
}

#[test]
fn schemathesis_finds_the_sandbox_answering_as_okta_documents() {
    let tool = schemathesis();
    let spec_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let python = tool.with_file_name("python");
    let check = std::process::Command::new(&python)
        .arg(workspace().join("scripts/okta-spec-subset.py"))
        .arg("--check")
        .output()
        .expect("the venv's python runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let org = SandboxOrg::new(SandboxConfig::default(), Arc::new(ManualClock::new(start)));
    let sandbox = rt
        .block_on(RunningSandbox::start(org.clone()))
        .expect("the sandbox starts");
    let report = workspace().join("target/schemathesis-report");
    std::fs::create_dir_all(&report).unwrap();
    let config = report.join("schemathesis.toml");
    std::fs::write(&config, config_for(&rt, &sandbox)).unwrap();
    let started = Instant::now();
    let mut run = tokio::process::Command::new(&tool);
    run.arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(spec_dir.join("okta-sandbox-subset.yaml"))
        .args(["--url", &sandbox.base_url])
        .args([
            "--header",
            &format!("Authorization: SSWS {}", org.admin_token()),
        ])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
                     response_schema_conformance,response_headers_conformance",
        ])
        .args(["--mode", "positive"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--exclude-operation-id", "verifyEventHook"])
        .args(["--exclude-operation-id", "updateApplicationUser"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--max-time", MAX_TIME_SECONDS])
        .args(["--seed", SEED])
        .args(["--workers", "2"])
        .args(["--request-timeout", "10"])
        .arg("--no-shrink")
        .args(["--generation-database", "none"])
        .arg("--continue-on-failure")
        .args(["--suppress-health-check", "all"])
        .args(["--report", "junit"])
        .arg("--report-dir")
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("PYTHONPATH", &spec_dir)
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .kill_on_drop(true);
    let out = rt
        .block_on(async { run.output().await })
        .expect("schemathesis runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    rt.block_on(sandbox.stop()).unwrap();
    // Its summary, for the log: operations, phases, test cases, time.
    let summary = stdout
        .find("SUMMARY")
        .map_or(stdout.as_ref(), |at| &stdout[at..]);
    eprintln!("schemathesis ran for {elapsed:.1?}:\n{summary}");
    assert!(
        out.status.success(),
        "schemathesis found departures from Okta's spec (report in {}):\n{stdout}\n{stderr}",
        report.display()
    );
}
