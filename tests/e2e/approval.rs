//! An approval in Slack, end to end (issue 17): the flow library's access
//! request (`flows/library/access-request.yaml`), invoked as a request form
//! would, posts a message with Approve and Reject links (`signal_link`) to
//! the Slack stand-in and waits for the `approval` signal; a person opens
//! the Approve link (a page that changes nothing), confirms it (a POST, no
//! admin token), and the run goes on down the approve branch: the user is in
//! the group in the sandbox org. The Reject link is spent with it.

use crate::harness::{FlowsDir, Options, World, ADMIN_TOKEN};
use crate::library::{api, ACCESS_REQUEST as NAME};
use lanyard_core::history::RunStatus;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const GROUP: &str = "Jira";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approve_link_in_slack_resumes_the_run_down_the_approve_branch() {
    let w = World::start(Options {
        flows: FlowsDir::Empty,
        grants: Some(lanyard_server::library::GRANTS.to_string()),
        ..Options::default()
    })
    .await;
    let entry = lanyard_server::library::FLOWS.iter().find(|e| e.id == "access-request").expect("the library's access request");
    std::fs::write(w.flows_dir.join("access-request.yaml"), entry.source).unwrap();
    w.engine.reload().await.expect("the flow loads");
    let r = w.http.put(api(&w, &["flows", NAME, "enabled"])).bearer_auth(ADMIN_TOKEN).json(&json!({ "enabled": true })).send().await.unwrap();
    assert_eq!(r.status(), 200, "turn it on: {}", r.text().await.unwrap());

    let user = w
        .seeded_users(|u| u.status == "ACTIVE" && !w.group_names(&u.id).contains(GROUP))
        .into_iter()
        .next()
        .expect("an active user outside the group");
    let request = json!({ "requester": "jo@acme.example", "user": user.login(), "group": GROUP, "reason": "sprint planning" });
    let r = w.http.post(api(&w, &["flows", NAME, "invoke"])).bearer_auth(ADMIN_TOKEN).json(&request).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let id = r.json::<Value>().await.unwrap()["run_id"].as_str().unwrap().to_string();
    until(&w, &id, RunStatus::Waiting).await;

    // The message in Slack, with its two links.
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let text = posted[0].json.as_ref().and_then(|j| j["text"].as_str()).expect("the message's text").to_string();
    assert!(text.starts_with(&format!(":key: jo@acme.example asks to add {} to *{GROUP}*: sprint planning.", user.login())), "{text}");
    let link = |label: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(label)).unwrap_or_else(|| panic!("no {label} link in:\n{text}"));
        line.trim().to_string()
    };
    let (approve, reject) = (link("Approve: "), link("Reject: "));
    assert!(approve.starts_with(&format!("{}/signals/", w.base)), "{approve}");
    assert_ne!(approve, reject);

    // A person opens the link: a page, no token, and the run still waits.
    let person = reqwest::Client::new();
    let page = person.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm: approve") && html.contains("Access Request") && html.contains(&id), "{html}");
    assert_eq!(w.engine.store().get_run(&id).await.unwrap().unwrap().status, RunStatus::Waiting);
    assert!(!w.group_names(&user.id).contains(GROUP));

    // Confirms it: the run goes on down the approve branch.
    let done = person.post(&approve).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Recorded: approve"));
    let run = until(&w, &id, RunStatus::Succeeded).await;
    assert_eq!(run.output.as_ref().map(|o| o["approved"].clone()), Some(Value::Bool(true)), "{}", w.trace(&run).await);
    let step = w.step(&run, "approval").await;
    let output = step.output.expect("the wait's output");
    assert_eq!((output["choice"].as_str(), output["by"].as_str()), (Some("approve"), Some("link")));
    assert!(w.group_names(&user.id).contains(GROUP), "the user is in {GROUP} now");
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert_eq!(posted[1].json.as_ref().unwrap()["text"], format!(":white_check_mark: Approved: {} is in *{GROUP}*.", user.login()));

    // The Reject link is spent with it, and the Approve link too.
    for spent in [&reject, &approve] {
        let r = person.post(spent).send().await.unwrap();
        assert_eq!(r.status(), 410, "{spent}");
    }
    w.stop().await;
}

/// The run once it has `status` (within a minute).
async fn until(w: &World, id: &str, status: RunStatus) -> lanyard_core::history::RunRecord {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = w.engine.store().get_run(id).await.unwrap().expect("the run");
        if run.status == status {
            return run;
        }
        assert!(Instant::now() < deadline, "run {id} is {} after a minute, not {status}", run.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
