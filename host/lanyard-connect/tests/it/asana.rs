//! The Asana stand-in over a real socket: what an `acme.asana-offboard` card
//! sends (find the leaver, page through their open tasks, hand them over,
//! remove the leaver from the workspace), and what Asana refuses.

use crate::standin::{Answer, call, lanyard_get};
use lanyard_sandbox::{
    AsanaConfig, AsanaStandIn, AsanaStandInHandle, AsanaTask, AsanaUser, AsanaWorkspace,
};
use serde_json::{Value, json};
use std::time::Duration;

const ACME: &str = "1200000000000001";
const LABS: &str = "1200000000000002";
const ANN: &str = "1300000000000001";
const BOB: &str = "1300000000000002";
const HELP: &str = "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors";

async fn asana() -> AsanaStandInHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let asana = AsanaStandIn::start(listener, AsanaConfig::default()).unwrap();
    for (gid, name) in [(ACME, "acme.example"), (LABS, "Acme Labs")] {
        asana.add_workspace(AsanaWorkspace {
            gid: gid.to_owned(),
            name: name.to_owned(),
        });
    }
    for (gid, email, name) in [
        (ANN, "ann@acme.example", "Ann Leaver"),
        (BOB, "bob@acme.example", "Bob Manager"),
    ] {
        asana.add_user(AsanaUser {
            gid: gid.to_owned(),
            email: email.to_owned(),
            name: name.to_owned(),
            workspaces: vec![ACME.to_owned(), LABS.to_owned()],
        });
    }
    // Ann's: three open in Acme (added out of order, one gid shorter), one
    // done there, one in Labs; and one of Bob's.
    for (gid, workspace, assignee, completed) in [
        ("1400000000000003", ACME, ANN, false),
        ("140000000000001", ACME, ANN, false),
        ("1400000000000002", ACME, ANN, true),
        ("1400000000000004", ACME, ANN, false),
        ("1400000000000005", LABS, ANN, false),
        ("1400000000000006", ACME, BOB, false),
    ] {
        asana.add_task(AsanaTask {
            gid: gid.to_owned(),
            name: format!("task {gid}"),
            workspace: workspace.to_owned(),
            assignee: Some(assignee.to_owned()),
            completed,
        });
    }
    asana
}

fn token() -> String {
    AsanaConfig::default().token
}

async fn get(asana: &AsanaStandInHandle, path: &str) -> Answer {
    call(
        reqwest::Method::GET,
        &format!("{}{path}", asana.base_url()),
        Some(&token()),
        None,
    )
    .await
}

async fn write(
    asana: &AsanaStandInHandle,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Answer {
    let url = format!("{}{path}", asana.base_url());
    call(
        method,
        &url,
        Some(&token()),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

fn error(message: &str) -> Value {
    json!({"errors": [{"message": message, "help": HELP}]})
}

fn gids(answer: &Answer) -> Vec<String> {
    let data = answer.json.as_ref().unwrap()["data"]
        .as_array()
        .unwrap()
        .clone();
    data.iter()
        .map(|t| t["gid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_user_is_found_by_gid_email_or_me() {
    let asana = asana().await;
    let ann = get(&asana, "/users/ANN%40acme.example?opt_fields=name").await;
    assert_eq!(ann.status, 200);
    let workspaces = json!([
        {"gid": ACME, "name": "acme.example", "resource_type": "workspace"},
        {"gid": LABS, "name": "Acme Labs", "resource_type": "workspace"},
    ]);
    let data = &ann.json.as_ref().unwrap()["data"];
    assert_eq!(
        (
            &data["gid"],
            &data["email"],
            &data["name"],
            &data["resource_type"],
            &data["workspaces"]
        ),
        (
            &json!(ANN),
            &json!("ann@acme.example"),
            &json!("Ann Leaver"),
            &json!("user"),
            &workspaces
        )
    );
    assert_eq!(get(&asana, &format!("/users/{ANN}")).await.json, ann.json);
    let me = get(&asana, "/users/me").await.json.unwrap();
    assert_eq!(
        (&me["data"]["resource_type"], &me["data"]["workspaces"]),
        (&json!("user"), &workspaces)
    );

    let nobody = get(&asana, "/users/nobody%40acme.example").await;
    assert_eq!(
        (nobody.status, nobody.json.unwrap()),
        (404, error("user: Unknown object: nobody@acme.example"))
    );
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_not_authorized() {
    let asana = asana().await;
    let url = format!("{}/workspaces/{ACME}/removeUser", asana.base_url());
    let body = json!({"data": {"user": ANN}}).to_string().into_bytes();
    for token in [None, Some("0/wrong")] {
        let answer = call(
            reqwest::Method::POST,
            &url,
            token,
            Some(("application/json", body.clone())),
        )
        .await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (401, error("Not Authorized"))
        );
    }
    assert_eq!(asana.user("ann@acme.example").unwrap().workspaces.len(), 2);
    let seen = asana.requests();
    assert_eq!(
        (seen[0].status, seen[0].header("authorization")),
        (401, None)
    );
    assert_eq!(seen[1].json, Some(json!({"data": {"user": ANN}})));
}

#[tokio::test]
async fn open_tasks_come_in_pages_that_follow_each_other() {
    let asana = asana().await;
    let first = get(
        &asana,
        &format!("/tasks?assignee=ann%40acme.example&workspace={ACME}&completed_since=now&limit=2&opt_fields=name,completed"),
    )
    .await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    // By gid as a number: the shorter gid first; the completed task left out.
    assert_eq!(gids(&first), ["140000000000001", "1400000000000003"]);
    let body = first.json.as_ref().unwrap();
    assert_eq!(
        body["data"][0],
        json!({"gid": "140000000000001", "name": "task 140000000000001", "resource_type": "task", "completed": false})
    );
    let next = &body["next_page"];
    let offset = next["offset"].as_str().unwrap();
    let path = next["path"].as_str().unwrap();
    assert!(
        path.starts_with("/tasks?assignee=ann%40acme.example&"),
        "{path}"
    );
    assert!(path.ends_with(&format!("&offset={offset}")), "{path}");
    assert_eq!(next["uri"], format!("{}{path}", asana.base_url()));

    let second = call(
        reqwest::Method::GET,
        next["uri"].as_str().unwrap(),
        Some(&token()),
        None,
    )
    .await;
    assert_eq!(second.status, 200);
    assert_eq!(gids(&second), ["1400000000000004"]);
    assert_eq!(second.json.as_ref().unwrap()["next_page"], Value::Null);

    // Without `completed_since` completed tasks count; without `limit`, one
    // answer and no `next_page` at all.
    let all = get(&asana, &format!("/tasks?assignee={ANN}&workspace={ACME}")).await;
    assert_eq!(
        gids(&all),
        [
            "140000000000001",
            "1400000000000002",
            "1400000000000003",
            "1400000000000004"
        ]
    );
    assert!(all.json.as_ref().unwrap().get("next_page").is_none());
    let labs = get(
        &asana,
        &format!("/tasks?assignee=me&workspace={LABS}&limit=100"),
    )
    .await;
    assert_eq!(
        (gids(&labs).len(), &labs.json.unwrap()["next_page"]),
        (0, &Value::Null)
    );
}

#[tokio::test]
async fn a_task_query_asana_would_refuse_is_refused() {
    let asana = asana().await;
    let query = format!("assignee={ANN}&workspace={ACME}");
    let page = get(&asana, &format!("/tasks?{query}&limit=1")).await;
    let offset = page.json.unwrap()["next_page"]["offset"]
        .as_str()
        .unwrap()
        .to_owned();
    let exactly_one = "Must specify exactly one of project, tag, section, user task list, or assignee + workspace";
    for (path, status, message) in [
        (
            format!("/tasks?{query}&limit=0"),
            400,
            "limit: Must be between 1 and 100, inclusive".to_owned(),
        ),
        (
            format!("/tasks?{query}&limit=101"),
            400,
            "limit: Must be between 1 and 100, inclusive".to_owned(),
        ),
        (
            format!("/tasks?{query}&limit=ten"),
            400,
            "limit: Must be between 1 and 100, inclusive".to_owned(),
        ),
        (
            format!("/tasks?{query}&limit=1&offset=bm9wZQ"),
            400,
            "offset: Your pagination token is invalid or has expired".to_owned(),
        ),
        // An offset belongs to its query.
        (
            format!("/tasks?assignee={BOB}&workspace={ACME}&limit=1&offset={offset}"),
            400,
            "offset: Your pagination token is invalid or has expired".to_owned(),
        ),
        (
            format!("/tasks?assignee={ANN}"),
            400,
            exactly_one.to_owned(),
        ),
        (
            format!("/tasks?workspace={ACME}"),
            400,
            exactly_one.to_owned(),
        ),
        ("/tasks".to_owned(), 400, exactly_one.to_owned()),
        (
            format!("/tasks?{query}&project=1500000000000001"),
            400,
            exactly_one.to_owned(),
        ),
        (
            "/tasks?project=1500000000000001".to_owned(),
            404,
            "project: Unknown object: 1500000000000001".to_owned(),
        ),
        (
            format!("/tasks?assignee=nobody&workspace={ACME}"),
            400,
            "assignee: Not a recognized ID: nobody".to_owned(),
        ),
        (
            format!("/tasks?assignee={ANN}&workspace=999"),
            404,
            "workspace: Unknown object: 999".to_owned(),
        ),
    ] {
        let answer = get(&asana, &path).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (status, error(&message)),
            "{path}"
        );
    }
    // The offset itself still works for its own query.
    let next = get(&asana, &format!("/tasks?{query}&limit=1&offset={offset}")).await;
    assert_eq!(gids(&next), ["1400000000000002"]);
}

#[tokio::test]
async fn reassigning_a_task_answers_the_task() {
    let asana = asana().await;
    let task = "1400000000000003";
    let path = format!("/tasks/{task}");
    let expected = json!({"data": {
        "gid": task,
        "resource_type": "task",
        "resource_subtype": "default_task",
        "name": "task 1400000000000003",
        "completed": false,
        "assignee": {"gid": BOB, "resource_type": "user", "name": "Bob Manager"},
        "workspace": {"gid": ACME, "resource_type": "workspace", "name": "acme.example"},
    }});
    for _ in 0..2 {
        // Again: the same answer, nothing else changes.
        let answer = write(
            &asana,
            reqwest::Method::PUT,
            &path,
            &json!({"data": {"assignee": "BOB@acme.example"}}),
        )
        .await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (200, expected.clone())
        );
    }
    let by_gid = write(
        &asana,
        reqwest::Method::PUT,
        &path,
        &json!({"data": {"assignee": BOB}}),
    )
    .await;
    assert_eq!(by_gid.json.unwrap(), expected);
    let tasks = asana.tasks();
    assert_eq!(
        tasks
            .iter()
            .find(|t| t.gid == task)
            .unwrap()
            .assignee
            .as_deref(),
        Some(BOB)
    );
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.assignee.as_deref() == Some(BOB))
            .count(),
        2
    );
    assert_eq!(tasks[0].gid, "140000000000001", "tasks() are in gid order");

    let unassigned = write(
        &asana,
        reqwest::Method::PUT,
        &path,
        &json!({"data": {"assignee": null}}),
    )
    .await;
    assert_eq!(
        (
            unassigned.status,
            &unassigned.json.unwrap()["data"]["assignee"]
        ),
        (200, &Value::Null)
    );
    assert_eq!(
        asana
            .tasks()
            .iter()
            .find(|t| t.gid == task)
            .unwrap()
            .assignee,
        None
    );
}

#[tokio::test]
async fn a_task_write_asana_would_refuse_is_refused() {
    let asana = asana().await;
    let path = "/tasks/1400000000000003";
    for (body, status, message) in [
        (
            json!({"data": {"assignee": "nobody@acme.example"}}),
            400,
            "assignee: Not a recognized ID: nobody@acme.example",
        ),
        (json!({"assignee": BOB}), 400, "data: Missing input"),
        (json!({"data": [BOB]}), 400, "data: Value is not an object"),
        (
            json!({"data": {"asignee": BOB}}),
            400,
            "asignee: Unknown property",
        ),
    ] {
        let answer = write(&asana, reqwest::Method::PUT, path, &body).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (status, error(message)),
            "{body}"
        );
    }
    let unknown = write(
        &asana,
        reqwest::Method::PUT,
        "/tasks/1400000000000099",
        &json!({"data": {"assignee": BOB}}),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.json.unwrap()),
        (404, error("task: Unknown object: 1400000000000099"))
    );
    let url = format!("{}{path}", asana.base_url());
    for (content_type, bytes) in [
        ("application/json", b"{\"data\":".to_vec()),
        ("text/plain", br#"{"data":{"assignee":null}}"#.to_vec()),
    ] {
        let answer = call(
            reqwest::Method::PUT,
            &url,
            Some(&token()),
            Some((content_type, bytes)),
        )
        .await;
        assert_eq!(answer.status, 400, "{content_type}");
        assert!(answer.json.unwrap()["errors"][0]["message"].is_string());
    }
    assert_eq!(
        asana
            .tasks()
            .iter()
            .find(|t| t.gid == "1400000000000003")
            .unwrap()
            .assignee
            .as_deref(),
        Some(ANN)
    );
}

#[tokio::test]
async fn removing_a_user_from_a_workspace() {
    let asana = asana().await;
    let path = format!("/workspaces/{ACME}/removeUser");
    for _ in 0..2 {
        // Again: already gone, nothing to do and no error.
        let answer = write(
            &asana,
            reqwest::Method::POST,
            &path,
            &json!({"data": {"user": "ann@acme.example"}}),
        )
        .await;
        assert_eq!((answer.status, answer.body.len()), (204, 0));
        assert_eq!(asana.user("ann@acme.example").unwrap().workspaces, [LABS]);
    }
    let workspaces =
        get(&asana, &format!("/users/{ANN}")).await.json.unwrap()["data"]["workspaces"].clone();
    assert_eq!(
        workspaces,
        json!([{"gid": LABS, "name": "Acme Labs", "resource_type": "workspace"}])
    );
    // Her tasks stay where they were, for someone to take over.
    let tasks = get(
        &asana,
        &format!("/tasks?assignee={ANN}&workspace={ACME}&completed_since=now"),
    )
    .await;
    assert_eq!(gids(&tasks).len(), 3);

    for (path, body, status, message) in [
        (
            "/workspaces/999/removeUser".to_owned(),
            json!({"data": {"user": BOB}}),
            404,
            "workspace: Unknown object: 999",
        ),
        (
            path.clone(),
            json!({"data": {"user": "nobody@acme.example"}}),
            404,
            "user: Unknown object: nobody@acme.example",
        ),
        (
            path.clone(),
            json!({"data": {}}),
            400,
            "user: Missing input",
        ),
    ] {
        let answer = write(&asana, reqwest::Method::POST, &path, &body).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (status, error(message)),
            "{path} {body}"
        );
    }
    assert_eq!(
        asana.user("bob@acme.example").unwrap().workspaces,
        [ACME, LABS]
    );
}

#[tokio::test]
async fn routes_asana_does_not_have_here_are_404_and_wrong_methods_405() {
    let asana = asana().await;
    for path in [
        "/projects",
        "/tasks/1400000000000003/subtasks",
        "/workspaces/1/addUser",
    ] {
        let answer = get(&asana, path).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (404, error("No matching route for request")),
            "{path}"
        );
    }
    let outside = format!("http://{}/users/me", asana.addr());
    assert_eq!(
        call(reqwest::Method::GET, &outside, Some(&token()), None)
            .await
            .status,
        404
    );
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/tasks/1400000000000003", "PUT"),
        (reqwest::Method::POST, "/users/me", "GET"),
        (reqwest::Method::POST, "/tasks", "GET"),
        (
            reqwest::Method::GET,
            "/workspaces/1200000000000001/removeUser",
            "POST",
        ),
    ] {
        let answer = write(&asana, method.clone(), path, &json!({"data": {}})).await;
        assert_eq!(
            (answer.status, answer.header("allow")),
            (405, Some(allow)),
            "{method} {path}"
        );
        assert_eq!(answer.json.unwrap(), error("Method Not Allowed"));
    }
}

#[tokio::test]
async fn injected_failures_answer_as_asana_then_stop() {
    let asana = asana().await;
    asana.fail_next(1, 429);
    let limited = get(&asana, "/users/me").await;
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (429, Some("1"))
    );
    assert_eq!(
        limited.json.unwrap(),
        error(
            "You've made too many requests and hit a rate limit. Please retry after the given amount of time."
        )
    );
    asana.fail_next(2, 500);
    for _ in 0..2 {
        let failed = write(
            &asana,
            reqwest::Method::POST,
            &format!("/workspaces/{ACME}/removeUser"),
            &json!({"data": {"user": ANN}}),
        )
        .await;
        assert_eq!(failed.status, 500);
        let error = &failed.json.unwrap()["errors"][0];
        assert_eq!(
            (&error["message"], error["phrase"].is_string()),
            (&json!("Server Error"), true)
        );
    }
    assert_eq!(
        asana.user("ann@acme.example").unwrap().workspaces.len(),
        2,
        "a failed request changes nothing"
    );
    assert_eq!(get(&asana, "/users/me").await.status, 200);
    let seen = asana.wait_for(4, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        seen.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 500, 500, 200]
    );
    let timeout = asana
        .wait_for(5, Duration::from_millis(20))
        .await
        .unwrap_err();
    assert_eq!((timeout.what, timeout.got), ("asana requests", 4));
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_unread() {
    let asana = asana().await;
    let body = json!({"data": {"user": ANN, "pad": "x".repeat(1024 * 1024)}});
    let answer = write(
        &asana,
        reqwest::Method::POST,
        &format!("/workspaces/{ACME}/removeUser"),
        &body,
    )
    .await;
    assert_eq!(
        (answer.status, answer.json.unwrap()),
        (413, error("Payload Too Large"))
    );
    assert_eq!(asana.user("ann@acme.example").unwrap().workspaces.len(), 2);
}

#[tokio::test]
async fn the_stand_ins_own_connection_reaches_it_through_lanyard() {
    let asana = asana().await;
    let connection = asana.connection();
    assert_eq!(
        connection.description.as_deref(),
        Some("Asana API (sandbox stand-in)")
    );
    let answer = lanyard_get(connection, "users/me").await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let me: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(me["data"]["resource_type"], "user");
    let seen = asana.requests();
    assert_eq!(seen[0].target, "/api/1.0/users/me");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {}", token()).as_str())
    );
}
