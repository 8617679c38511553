//! Writing flows through the admin API (`crate::flow_api`) and turning them
//! on and off: a real daemon, a real flows directory, real files.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};
use serde_json::{json, Value};

/// A flow as a person writes it: comments, a folded description, blank lines.
const HAND: &str = r#"# Offboarding helper, written by hand.
# Keep this comment: reviewers rely on it.
name: on-suspend
description: >
  Returns the suspended user's id,
  so the audit log has it.

# Okta tells us when someone is suspended.
trigger:
  okta: user.lifecycle.suspend   # only suspensions
steps:
  - id: who
    return: "{{ event.target[0].id }}"
"#;

const API_FLOW: &str = r#"
name: ping
description: Answers pong.
trigger: api
steps:
  - return: pong
"#;

impl Daemon {
    async fn send(&self, method: reqwest::Method, path: &str, etag: Option<&str>, body: Option<Value>) -> (u16, Value, Option<String>) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(ADMIN);
        if let Some(e) = etag {
            req = req.header("if-match", format!("\"{e}\""));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let etag = r.headers().get("etag").map(|v| v.to_str().unwrap().trim_matches('"').to_string());
        (status, r.json().await.unwrap_or(Value::Null), etag)
    }

    fn flow_file(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join("flows").join(file)).unwrap()
    }
}

fn suspend(uuid: &str, user: &str) -> Value {
    event(uuid, "user.lifecycle.suspend", user, "00uadmin", "2026-01-05T10:00:00.000Z")
}

#[tokio::test]
async fn an_off_flow_starts_no_run_from_any_trigger_but_run_now_runs_it_and_it_stays_off_after_a_restart() {
    let off = HAND.replace("\n# Okta tells", "enabled: false\n\n# Okta tells");
    let api_off = API_FLOW.replace("trigger: api", "enabled: false\ntrigger: api");
    let d = daemon()
        .flow("suspend.yaml", &off)
        .flow("any.yaml", ANY_SUSPEND)
        .flow("ping.yaml", &api_off)
        .start()
        .await;

    // An Okta event: the flow that is on runs; the one that is off does not.
    let (status, _) = d.deliver(&[suspend("e-1", "00u1")]).await;
    assert_eq!(status, 200);
    d.wait_for_runs("any-suspend", 1).await;
    assert!(d.runs_of("on-suspend").await.is_empty(), "an off flow was started by an event");

    // Invoke: 409 flow_off.
    let r = d.http.post(d.url("/api/v1/flows/ping/invoke")).bearer_auth(INVOKE).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "flow_off");
    assert!(d.runs_of("ping").await.is_empty());

    // Run now still runs it.
    let (status, body) = d.admin_post("/api/v1/flows/on-suspend/run?wait=true", Some(json!({ "target": [{ "id": "00u9" }] }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"]["status"], "succeeded");
    assert_eq!(body["run"]["output"], "00u9");

    // Shown as off in the list and the metrics.
    let (_, flows) = d.admin_get("/api/v1/flows").await;
    let enabled = |name: &str| flows["flows"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["enabled"].clone();
    assert_eq!((enabled("on-suspend"), enabled("any-suspend"), enabled("ping")), (json!(false), json!(true), json!(false)));
    let metrics = d.http.get(d.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("lanyard_flows{state=\"off\"}"), "{metrics}");

    // A restart reads the state from the file: still off.
    let dir = d.dir.clone();
    d.stop().await;
    let d = daemon().dir(dir).start().await;
    let (status, _) = d.deliver(&[suspend("e-2", "00u2")]).await;
    assert_eq!(status, 200);
    d.wait_for_runs("any-suspend", 2).await;
    let runs = d.runs_of("on-suspend").await;
    assert_eq!(runs.len(), 1, "only the Run now of before the restart");
    assert_eq!(runs[0].trigger, TriggerInfo::Manual);
    d.stop().await;
}

#[tokio::test]
async fn the_toggle_edits_one_line_then_events_skip_the_flow_and_turning_it_on_makes_them_run_it() {
    let d = daemon().flow("suspend.yaml", HAND).flow("any.yaml", ANY_SUSPEND).start().await;
    let (status, body, etag) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], HAND);
    assert_eq!(body["file"], "suspend.yaml");
    assert_eq!(body["enabled"], true);
    assert_eq!((&body["outline"]["name"], &body["outline"]["enabled"]), (&json!("on-suspend"), &json!(true)), "{body}");
    assert_eq!(body["outline"]["trigger"]["words"], "When a user is suspended in Okta");
    assert_eq!(etag.as_deref(), body["etag"].as_str());

    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend/enabled", None, Some(json!({ "enabled": false }))).await;
    assert_eq!(status, 200, "{body}");
    let text = d.flow_file("suspend.yaml");
    assert_eq!(text, HAND.replace("  so the audit log has it.\n", "  so the audit log has it.\nenabled: false\n"), "one line added, nothing else");
    assert!(!d.engine.flows().get("on-suspend").unwrap().enabled, "loaded before the answer");
    d.deliver(&[suspend("e-1", "00u1")]).await;
    d.wait_for_runs("any-suspend", 1).await;
    assert!(d.runs_of("on-suspend").await.is_empty());

    // On again: the value changes in place.
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend/enabled", None, Some(json!({ "enabled": true }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.flow_file("suspend.yaml"), text.replace("enabled: false", "enabled: true"));
    d.deliver(&[suspend("e-2", "00u2")]).await;
    let runs = d.wait_for_runs("on-suspend", 1).await;
    assert_eq!(runs[0].status, RunStatus::Succeeded);

    // The audit says it in words; the hand-written text was kept first.
    let (_, audit, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/audit", None, None).await;
    let entries = audit["entries"].as_array().unwrap();
    let said: Vec<(&str, &str)> = entries.iter().map(|e| (e["action"].as_str().unwrap(), e["summary"].as_str().unwrap())).collect();
    assert_eq!(said, [("enable", "turned on"), ("disable", "turned off")]);
    let (_, versions, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/versions", None, None).await;
    let actions: Vec<&str> = versions["versions"].as_array().unwrap().iter().map(|v| v["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["enable", "disable", "found"]);
    let (_, first, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/versions/1", None, None).await;
    assert_eq!(first["source"], HAND);
    d.stop().await;
}

#[tokio::test]
async fn a_save_writes_the_text_as_sent_keeps_comments_and_a_second_save_from_the_same_etag_is_refused() {
    let d = daemon().flow("suspend.yaml", HAND).start().await;
    let (_, body, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend", None, None).await;
    let etag = body["etag"].as_str().unwrap().to_string();

    // Without If-Match: 428.
    let edited = HAND.replace("    return: \"{{ event.target[0].id }}\"\n", "    return: \"{{ event.target[0].id }}\"   # the id\n")
        .replace("steps:\n", "steps:\n  - id: note\n    assign: { seen: true }\n");
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", None, Some(json!({ "source": edited }))).await;
    assert_eq!(status, 428, "{body}");

    let generation = d.engine.flows().generation;
    let (status, body, _) = d
        .send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", Some(&etag), Some(json!({ "source": edited, "note": "track it" })))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.flow_file("suspend.yaml"), edited, "written byte for byte, comments and all");
    assert_eq!(body["generation"], generation + 1);
    assert_eq!(d.engine.flows().generation, generation + 1);
    let new_etag = body["etag"].as_str().unwrap().to_string();
    assert_ne!(new_etag, etag);

    // A second admin, who opened the same text: 412 with the current text.
    let other = HAND.replace("description: >", "description: >\n  Edited elsewhere.");
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", Some(&etag), Some(json!({ "source": other }))).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"]["code"], "changed");
    assert_eq!(body["error"]["current"]["source"], edited);
    assert_eq!(body["error"]["current"]["etag"], new_etag);
    assert_eq!(d.flow_file("suspend.yaml"), edited);

    // A hand edit on disk changes the etag too.
    let by_hand = format!("{edited}# a late comment\n");
    std::fs::write(d.path().join("flows/suspend.yaml"), &by_hand).unwrap();
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", Some(&new_etag), Some(json!({ "source": edited }))).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"]["current"]["source"], by_hand);
    // Saved over with the etag of the hand edit: the hand edit is kept as a version first.
    let hand_etag = body["error"]["current"]["etag"].as_str().unwrap().to_string();
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", Some(&hand_etag), Some(json!({ "source": edited }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 4);
    let (_, versions, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/versions", None, None).await;
    let actions: Vec<&str> = versions["versions"].as_array().unwrap().iter().map(|v| v["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["save", "found", "save", "found"]);
    let (_, v3, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/versions/3", None, None).await;
    assert_eq!(v3["source"], by_hand);

    // The audit in words, the global list too.
    let (_, audit, _) = d.send(reqwest::Method::GET, "/api/v1/audit", None, None).await;
    assert_eq!(audit["entries"][0]["summary"], "no change to what the flow does (text, comments or layout only)");
    let e = &audit["entries"][1];
    assert_eq!((e["action"].as_str(), e["flow"].as_str(), e["file"].as_str()), (Some("save"), Some("on-suspend"), Some("suspend.yaml")));
    assert_eq!(e["summary"], "added step note");
    assert_eq!(e["note"], "track it");
    assert_eq!(e["version"], 2);
    d.stop().await;
}

#[tokio::test]
async fn an_invalid_flow_is_refused_with_the_validate_diagnostics_and_the_file_is_untouched() {
    let d = daemon().flow("suspend.yaml", HAND).start().await;
    let (_, body, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend", None, None).await;
    let etag = body["etag"].as_str().unwrap().to_string();
    let broken = HAND.replace("return: \"{{ event.target[0].id }}\"", "card: okta.no-such-card");
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend", Some(&etag), Some(json!({ "source": broken }))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    let diags = body["error"]["diagnostics"].as_array().unwrap();
    // Exactly what lanyard-flow's validation says of the set with the draft
    // in place (the same path and catalog as a reload).
    let path = d.path().join("flows/suspend.yaml").display().to_string();
    let set = d.engine.flows();
    let expected = lanyard_flow::validate(&[lanyard_flow::SourceFile::new(&path, &broken)], set.cards().as_ref());
    assert_eq!(json!(diags), serde_json::to_value(&expected.diagnostics).unwrap());
    assert_eq!(diags[0]["code"], "unknown-card");
    assert_eq!(diags[0]["span"]["start"]["line"], 13);
    assert_eq!(d.flow_file("suspend.yaml"), HAND, "untouched");
    let (_, versions, _) = d.send(reqwest::Method::GET, "/api/v1/flows/on-suspend/versions", None, None).await;
    assert_eq!(versions["versions"], json!([]), "nothing recorded");

    // Check says the same and never writes.
    let (status, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows/check", None, Some(json!({ "source": broken, "file": "suspend.yaml" }))).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], false);
    assert_eq!(body["diagnostics"], json!(diags));
    let (_, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows/check", None, Some(json!({ "source": API_FLOW }))).await;
    assert_eq!((body["ok"].clone(), body["diagnostics"].clone()), (json!(true), json!([])));
    assert!(!d.path().join("flows/ping.yaml").exists());
    d.stop().await;
}

#[tokio::test]
async fn create_then_revert_to_the_first_version() {
    let d = daemon().flow("suspend.yaml", HAND).start().await;
    let (status, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows", None, Some(json!({ "source": API_FLOW }))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["name"].as_str(), body["file"].as_str(), body["version"].as_u64()), (Some("ping"), Some("ping.yaml"), Some(1)));
    assert_eq!(d.flow_file("ping.yaml"), API_FLOW);
    let r = d.http.post(d.url("/api/v1/flows/ping/invoke?mode=sync")).bearer_auth(INVOKE).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), "pong", "loaded before the answer");
    // Again: the file exists; another file with the same flow name too.
    let (status, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows", None, Some(json!({ "source": API_FLOW }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("exists")));
    let (status, _, _) = d.send(reqwest::Method::POST, "/api/v1/flows", None, Some(json!({ "source": API_FLOW, "file": "other.yaml" }))).await;
    assert_eq!(status, 409);

    let v2 = API_FLOW.replace("return: pong", "return: pong!");
    let (_, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/ping", Some(body_etag(&d, "ping").await.as_str()), Some(json!({ "source": v2 }))).await;
    assert_eq!(body["version"], 2, "{body}");
    let (status, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows/ping/revert", Some(body_etag(&d, "ping").await.as_str()), Some(json!({ "version": 1 }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 3);
    assert_eq!(d.flow_file("ping.yaml"), API_FLOW);
    let (_, audit, _) = d.send(reqwest::Method::GET, "/api/v1/flows/ping/audit", None, None).await;
    let summaries: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries, ["reverted to version 1; changed return of return-1", "changed return of return-1", "created flow ping with 1 step"]);
    d.stop().await;
}

async fn body_etag(d: &Daemon, flow: &str) -> String {
    let (_, body, _) = d.send(reqwest::Method::GET, &format!("/api/v1/flows/{flow}"), None, None).await;
    body["etag"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_the_admin_token_writes_and_no_file_outside_the_flows_directory() {
    let d = daemon().flow("suspend.yaml", HAND).start().await;
    let etag = body_etag(&d, "on-suspend").await;
    for token in [None, Some(INVOKE), Some("wrong")] {
        let mut req = d.http.put(d.url("/api/v1/flows/on-suspend/enabled")).json(&json!({ "enabled": false }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), 401, "{token:?}");
        let mut req = d.http.put(d.url("/api/v1/flows/on-suspend")).header("if-match", &etag).json(&json!({ "source": HAND }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), 401, "{token:?}");
    }
    assert_eq!(d.flow_file("suspend.yaml"), HAND);
    for file in ["../escape.yaml", "/tmp/escape.yaml", ".hidden.yaml", "ping.txt", "sub/../../escape.yaml"] {
        let (status, body, _) = d.send(reqwest::Method::POST, "/api/v1/flows", None, Some(json!({ "source": API_FLOW, "file": file }))).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_file")), "{file}: {body}");
    }
    assert!(!d.path().join("escape.yaml").exists());
    // The body is bounded by the daemon's limit (64 KiB in these tests).
    let huge = format!("{API_FLOW}# {}\n", "x".repeat(70 * 1024));
    let (status, _, _) = d.send(reqwest::Method::POST, "/api/v1/flows", None, Some(json!({ "source": huge }))).await;
    assert_eq!(status, 413);
    d.stop().await;
}

#[tokio::test]
async fn the_watchers_reload_after_a_write_is_no_second_generation_but_a_hand_edit_reloads() {
    let d = daemon().flow("suspend.yaml", HAND).start().await;
    let g = d.engine.flows().generation;
    let (status, body, _) = d.send(reqwest::Method::PUT, "/api/v1/flows/on-suspend/enabled", None, Some(json!({ "enabled": false }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.engine.flows().generation, g + 1);
    // What the file watcher does when it sees that write.
    d.engine.reload_if_files_changed().await.unwrap();
    assert_eq!(d.engine.flows().generation, g + 1, "the same files: no reload");
    // A hand edit is a change.
    std::fs::write(d.path().join("flows/suspend.yaml"), HAND).unwrap();
    d.engine.reload_if_files_changed().await.unwrap();
    assert_eq!(d.engine.flows().generation, g + 2);
    assert!(d.engine.flows().get("on-suspend").unwrap().enabled);
    d.stop().await;
}

#[tokio::test]
async fn two_saves_at_once_from_the_same_etag_one_wins_and_a_call_still_reaches_an_off_helper() {
    let helper = "name: double\ndescription: Doubles.\nenabled: false\ntrigger:\n  flow:\n    inputs: { n: number }\nsteps:\n  - return: \"{{ inputs.n * 2 }}\"\n";
    let caller = "name: caller\ndescription: Calls the helper.\ntrigger: manual\nsteps:\n  - id: d\n    call: double\n    with: { n: 21 }\n  - return: \"{{ d }}\"\n";
    let d = daemon().flow("double.yaml", helper).flow("caller.yaml", caller).start().await;
    let (status, body) = d.admin_post("/api/v1/flows/caller/run?wait=true", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"]["status"], "succeeded", "{body}");
    assert_eq!(body["run"]["output"], 42);

    let etag = body_etag(&d, "caller").await;
    let a = caller.replace("Calls the helper.", "Calls the helper (a).");
    let b = caller.replace("Calls the helper.", "Calls the helper (b).");
    let (ra, rb) = tokio::join!(
        d.send(reqwest::Method::PUT, "/api/v1/flows/caller", Some(&etag), Some(json!({ "source": a }))),
        d.send(reqwest::Method::PUT, "/api/v1/flows/caller", Some(&etag), Some(json!({ "source": b }))),
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{ra:?} {rb:?}");
    let winner = if ra.0 == 200 { a } else { b };
    assert_eq!(d.flow_file("caller.yaml"), winner);
    let (_, versions, _) = d.send(reqwest::Method::GET, "/api/v1/flows/caller/versions", None, None).await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2, "the hand-written text and the winner: {versions}");
    d.stop().await;
}
