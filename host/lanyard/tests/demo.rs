//! The README's main-job command, `lanyard demo`, as a user runs it: the real
//! binary from the repository root, read line by line until every seed
//! event's run is printed as succeeded and it says it is serving, then
//! interrupted with SIGINT, which must stop it cleanly. And `lanyard validate
//! flows/`, which must report no error for the seed flows.
//!
//! The demo's data directory lives in the target directory, so its compiled
//! card cache survives between test runs as it does between a user's starts.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FLOWS: [&str; 5] = [
    "Onboarding: Department Groups for New Hires",
    "Offboarding: Revoke Sessions + Notify IT",
    "Lockout: Notify the User's Manager",
    "Title or Department Change: Re-sync Groups + Notify IT",
    "MFA Enrollment Reminder: Email Users Without a Factor",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Kills the child if the test fails half-way.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_demo_runs_every_seed_use_case_and_stops_on_ctrl_c() {
    let data_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-demo-test");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_lanyard"))
            .args(["demo", "--port", "0", "--sandbox-port", "0", "--data-dir"])
            .arg(&data_dir)
            .current_dir(repo())
            .env("LANYARD_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lanyard demo"),
    );
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.0.stdout.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx2.send(line);
        }
    });
    let stderr = child.0.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    drop(tx);

    // Until it serves, with a cold card cache on a busy machine included.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains("Press Ctrl-C to stop");
                out.push(line);
                if done {
                    break;
                }
            }
            Err(e) => panic!("lanyard demo did not get to serving ({e}); it printed:\n{}", out.join("\n")),
        }
    }
    let text = out.join("\n");
    for flow in FLOWS {
        assert!(
            text.contains(&format!("=> {flow}: succeeded")),
            "no succeeded run of `{flow}` in:\n{text}"
        );
    }
    assert!(!text.contains(": failed (run "), "a run failed:\n{text}");
    for (scene, what) in [(1, "onboarding"), (2, "offboarding"), (3, "lockout"), (4, "title/department change"), (5, "MFA")] {
        assert!(text.contains(&format!("=== {scene}/5 {what}")), "scene {scene} missing:\n{text}");
    }
    // What the stand-ins received, as it arrived.
    assert!(text.contains("[slack] POST /api/chat.postMessage -> #it-ops:"), "{text}");
    assert!(text.contains("[mail]  to ") && text.contains("(STARTTLS, AUTH lanyard)"), "{text}");
    assert!(text.contains("[jamf]  POST /api/v2/mdm/commands DEVICE_LOCK"), "{text}");
    assert!(text.contains("[zoom]  PUT /v2/users/zm") && text.contains(r#"{"action":"deactivate"} -> 204"#), "{text}");
    assert!(text.contains("[asana] PUT /api/1.0/tasks/1202") && text.contains("/removeUser"), "{text}");
    for card in ["acme.jamf-offboard", "acme.zoom-deprovision", "acme.asana-offboard"] {
        assert!(text.contains(&format!("card registry      published {card}@1.0.0")), "{card} not published:\n{text}");
    }
    assert!(text.contains("started no run: 1 run in all, no loop"), "{text}");
    // Where to look next.
    for needle in ["/console", "/api/v1/runs", "lanyard history --config", "lanyard run flows/"] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }

    // Ctrl-C: a graceful stop, exit status 0.
    let status = Command::new("kill").args(["-INT", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let stopped = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(code) = child.0.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < stopped, "lanyard demo did not stop within 60 s of SIGINT");
        // Draining stdout: the stop message comes last.
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            out.push(line);
        }
    };
    out.extend(rx.try_iter());
    let errors = errors.join().unwrap();
    assert!(code.success(), "exit {code}; stderr:\n{errors}");
    assert_eq!(out.last().map(String::as_str), Some("lanyard demo: stopped"), "{}", out.join("\n"));
    assert!(data_dir.join("lanyard.toml").is_file());
}

/// `lanyard validate <path>` from the repository, without a lanyard.toml
/// (so the custom card is reported as not checked): success, stdout, stderr.
fn validate(path: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .args(["validate", path])
        .current_dir(repo())
        .env_remove("LANYARD_CONFIG")
        .env("XDG_CACHE_HOME", PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("validate-cache"))
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_seed_flows_validate_without_errors() {
    let (ok, stdout, stderr) = validate("flows/");
    assert!(ok, "{stdout}\n{stderr}");
    assert!(!stdout.contains("error:"), "{stdout}");
    assert!(stdout.contains("checked 6 flow files: 6 ok"), "{stdout}");
    // The cards that are not built in are named, with what was not checked.
    for card in ["acme.jamf-offboard", "acme.zoom-deprovision", "acme.asana-offboard"] {
        assert!(stdout.contains(&format!("warning: card `{card}` is not built in, and no card registry was checked")), "{stdout}");
    }
    assert!(!stdout.contains("flows/library/"), "the flow library is not part of the flows folder: {stdout}");

    // The library, named itself: every flow valid, every one off.
    let (ok, stdout, stderr) = validate("flows/library/");
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("checked 12 flow files: 12 ok"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("off: ")).count(), 12, "{stdout}");
}

#[test]
fn validate_names_the_flows_that_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let flow = |name: &str, enabled: &str| {
        format!("name: {name}\ndescription: a flow\n{enabled}trigger: manual\nsteps:\n  - card: lanyard.echo\n    with: {{ message: hi }}\n")
    };
    std::fs::write(dir.path().join("on.yaml"), flow("lit", "")).unwrap();
    std::fs::write(dir.path().join("off.yaml"), flow("dark", "enabled: false\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .arg("validate")
        .arg(dir.path())
        .current_dir(dir.path())
        .env_remove("LANYARD_CONFIG")
        .env("XDG_CACHE_HOME", PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("validate-cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let off: Vec<&str> = stdout.lines().filter(|l| l.starts_with("off: ")).collect();
    assert_eq!(off, [format!("off: dark ({})", dir.path().join("off.yaml").display())], "{stdout}");
    assert!(stdout.contains("checked 2 flow files: 2 ok"), "{stdout}");
}
