//! `cards/examples/python-asana/test_asana.py`, case for case, against the
//! same fake Asana, expecting the same requests, logs, outputs and messages to
//! the letter: change them together.

use super::*;

const LEAVER: &str = "ada@example.com";
const MANAGER: &str = "bob@example.com";
/// Asana's offsets are opaque tokens; this one needs percent-encoding in a query.
const OFFSET: &str = "eyJ0+b/c=";

struct User {
    gid: String,
    email: String,
    workspaces: Vec<String>,
}

struct Task {
    gid: String,
    assignee: String,
    workspace: String,
    completed: bool,
}

/// Just enough of Asana's users, tasks and workspaces API.
#[derive(Default)]
struct FakeAsana {
    workspaces: Vec<(&'static str, &'static str)>,
    users: Vec<User>,
    tasks: Vec<Task>,
    /// The next request with this method answers with this status.
    fail: Option<(Method, u16)>,
    requests: Vec<Request>,
    logs: Vec<(Level, String, Value)>,
}

fn method(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Post => "POST",
        _ => "OTHER",
    }
}

fn answer(status: u16, doc: Option<Value>) -> Response {
    Response { status, headers: Vec::new(), body: doc.map(|d| d.to_string().into_bytes()).unwrap_or_default() }
}

/// Percent-decoding; with `form`, `+` is a space, as Python's `parse_qs` reads
/// it, so that a `+` the card failed to encode shows.
fn decode(s: &str, form: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
                continue;
            }
            b'+' if form => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

impl FakeAsana {
    fn user(&mut self, gid: &str, email: &str, workspaces: &[&str]) {
        let workspaces = workspaces.iter().map(|w| w.to_string()).collect();
        self.users.push(User { gid: gid.into(), email: email.into(), workspaces });
    }

    fn open_tasks(&mut self, assignee: &str, workspace: &str, count: usize, completed: bool) {
        for _ in 0..count {
            let gid = format!("t-{workspace}-{}", self.tasks.len() + 1);
            self.tasks.push(Task { gid, assignee: assignee.into(), workspace: workspace.into(), completed });
        }
    }

    fn find_user(&mut self, key: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.gid == key || u.email == key)
    }

    fn workspaces_of(&mut self, email: &str) -> Vec<String> {
        self.find_user(email).unwrap().workspaces.clone()
    }

    fn assigned(&self, user_gid: &str) -> Vec<&str> {
        self.tasks.iter().filter(|t| t.assignee == user_gid && !t.completed).map(|t| t.gid.as_str()).collect()
    }

    fn run_as(&mut self, dry_run: bool, input: Value) -> Result<Value, CardError> {
        run(self, dry_run, &input).map(|out| serde_json::to_value(out).unwrap())
    }

    fn run(&mut self, dry_run: bool, extra: Value) -> Result<Value, CardError> {
        let mut input = json!({"user": {"id": "00u1", "email": LEAVER}, "connection": "asana"});
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        self.run_as(dry_run, input)
    }

    fn sent(&self) -> Vec<String> {
        self.requests.iter().map(|r| format!("{} {}", method(r.method), r.url)).collect()
    }

    fn methods(&self) -> Vec<&'static str> {
        self.requests.iter().map(|r| method(r.method)).collect()
    }
}

impl Io for FakeAsana {
    fn send(&mut self, r: &Request) -> Result<Response, CardError> {
        self.requests.push(r.clone());
        if let Some((m, status)) = self.fail
            && m == r.method
        {
            self.fail = None;
            let doc = json!({"errors": [{"message": "injected", "help": "see the docs"}]});
            return Ok(Response { headers: vec![("Retry-After".into(), "7".into())], ..answer(status, Some(doc)) });
        }
        let (path, query) = r.url.split_once('?').unwrap_or((&r.url, ""));
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split_once('=').unwrap())
            .map(|(k, v)| (decode(k, true), decode(v, true)))
            .collect();
        let q = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let segments: Vec<String> = path.split('/').skip(1).map(|s| decode(s, false)).collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let body = || -> Value { serde_json::from_slice(r.body.as_ref().unwrap()).unwrap() };
        match (method(r.method), segments.as_slice()) {
            ("GET", ["users", key]) => {
                let Some(user) = self.users.iter().find(|u| u.gid == *key || u.email == *key) else {
                    return Ok(answer(404, Some(json!({"errors": [{"message": format!("user: Unknown object: {key}"), "help": "..."}]}))));
                };
                assert_eq!(query, [("opt_fields".to_string(), "email,name,workspaces.name".to_string())]);
                let listed: Vec<Value> = user
                    .workspaces
                    .iter()
                    .map(|w| json!({"gid": w, "name": self.workspaces.iter().find(|(g, _)| g == w).unwrap().1}))
                    .collect();
                let name = user.email.split('@').next().unwrap();
                Ok(answer(200, Some(json!({"data": {"gid": user.gid, "email": user.email, "name": name, "workspaces": listed}}))))
            }
            ("GET", ["tasks"]) => {
                assert_eq!((q("completed_since"), q("opt_fields")), (Some("now"), Some("name")));
                let limit: usize = q("limit").unwrap().parse().unwrap();
                let start: usize = q("offset").map_or(0, |o| o.strip_prefix(OFFSET).unwrap().parse().unwrap());
                let (assignee, workspace) = (q("assignee").unwrap(), q("workspace").unwrap());
                let found: Vec<&Task> =
                    self.tasks.iter().filter(|t| t.assignee == assignee && t.workspace == workspace && !t.completed).collect();
                let page: Vec<Value> =
                    found.iter().skip(start).take(limit).map(|t| json!({"gid": t.gid, "name": format!("task {}", t.gid)})).collect();
                let following = (start + limit < found.len()).then(|| {
                    json!({"offset": format!("{OFFSET}{}", start + limit), "path": "/tasks?...", "uri": "https://app.asana.com/api/1.0/tasks?..."})
                });
                Ok(answer(200, Some(json!({"data": page, "next_page": following}))))
            }
            ("PUT", ["tasks", gid]) => {
                let assignee = body()["data"]["assignee"].as_str().unwrap().to_string();
                let Some(to) = self.find_user(&assignee).map(|u| u.gid.clone()) else {
                    return Ok(answer(400, Some(json!({"errors": [{"message": "assignee: Not a recognized ID"}]}))));
                };
                let Some(task) = self.tasks.iter_mut().find(|t| t.gid == *gid) else {
                    return Ok(answer(404, Some(json!({"errors": [{"message": "task: Unknown object"}]}))));
                };
                task.assignee = to.clone();
                Ok(answer(200, Some(json!({"data": {"gid": gid, "assignee": {"gid": to}}}))))
            }
            ("POST", ["workspaces", workspace, "removeUser"]) => {
                let user_gid = body()["data"]["user"].as_str().unwrap().to_string();
                let workspace = workspace.to_string();
                self.find_user(&user_gid).unwrap().workspaces.retain(|w| *w != workspace);
                Ok(answer(204, None))
            }
            (m, _) => Ok(answer(404, Some(json!({"errors": [{"message": format!("no route {m} {path}")}]})))),
        }
    }

    fn log(&mut self, level: Level, message: &str, fields: Value) {
        self.logs.push((level, message.to_string(), fields));
    }
}

/// Ada in two workspaces (listed out of numeric order), with 3 open tasks in
/// one and two pages of them in the other; Bob, her manager, in both.
fn acme() -> FakeAsana {
    let mut fake = FakeAsana { workspaces: vec![("1201", "Acme"), ("98", "Acme Labs"), ("5", "Elsewhere")], ..Default::default() };
    fake.user("501", LEAVER, &["1201", "98"]);
    fake.user("502", MANAGER, &["1201", "98"]);
    fake.open_tasks("501", "98", 3, false);
    fake.open_tasks("501", "98", 1, true);
    fake.open_tasks("502", "98", 1, false);
    fake.open_tasks("501", "1201", PAGE_SIZE + 2, false);
    fake
}

fn tasks_url(workspace: &str, offset: Option<&str>) -> String {
    let url = format!("GET /tasks?assignee=501&workspace={workspace}&completed_since=now&limit=100&opt_fields=name");
    offset.map_or(url.clone(), |o| format!("{url}&offset={o}"))
}

fn workspace(gid: &str, name: &str, open_tasks: usize, reassigned: usize) -> Value {
    json!({"gid": gid, "name": name, "open_tasks": open_tasks, "reassigned": reassigned, "removed": true, "was_member": true})
}

const LOOKUP: &str = "GET /users/ada%40example.com?opt_fields=email,name,workspaces.name";

#[test]
fn moves_open_tasks_and_removes_from_every_workspace() {
    let mut fake = acme();
    let out = fake.run(false, json!({"transfer_to": MANAGER})).unwrap();
    assert_eq!(
        out,
        json!({
            "email": LEAVER,
            "asana_user_id": "501",
            "outcome": "changed",
            "status": "removed",
            "transfer_to": MANAGER,
            "tasks_reassigned": 105,
            "tasks_left": 0,
            "workspaces": [workspace("98", "Acme Labs", 3, 3), workspace("1201", "Acme", 102, 102)],
        })
    );
    let sent = fake.sent();
    let mut expected = vec![LOOKUP.to_string(), tasks_url("98", None)];
    expected.extend((1..=3).map(|i| format!("PUT /tasks/t-98-{i}")));
    expected.extend(["POST /workspaces/98/removeUser".to_string(), tasks_url("1201", None)]);
    assert_eq!(sent[..7], expected[..]);
    assert_eq!(sent[7], tasks_url("1201", Some("eyJ0%2Bb%2Fc%3D100")));
    let mut rest: Vec<String> = (6..108).map(|i| format!("PUT /tasks/t-1201-{i}")).collect();
    rest.push("POST /workspaces/1201/removeUser".into());
    assert_eq!(sent[8..], rest[..]);
    assert_eq!(fake.requests[2].body.as_deref(), Some(&br#"{"data":{"assignee":"bob@example.com"}}"#[..]));
    assert_eq!(fake.requests[5].body.as_deref(), Some(&br#"{"data":{"user":"501"}}"#[..]));
    for r in &fake.requests {
        assert_eq!((r.connection.as_deref(), r.timeout_ms), (Some("asana"), Some(15_000)));
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        if r.body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        assert_eq!(r.headers, headers, "{}", r.url);
    }
    assert!(fake.workspaces_of(LEAVER).is_empty());
    assert!(fake.assigned("501").is_empty());
    assert_eq!(fake.assigned("502").len(), 106);
    assert_eq!(
        fake.logs,
        [
            (
                Level::Info,
                "removed ada@example.com from asana Acme Labs (98); moved 3 open task(s) to bob@example.com".to_string(),
                json!({"user": "00u1", "workspace": "98", "reassigned": 3, "left": 0})
            ),
            (
                Level::Info,
                "removed ada@example.com from asana Acme (1201); moved 102 open task(s) to bob@example.com".to_string(),
                json!({"user": "00u1", "workspace": "1201", "reassigned": 102, "left": 0})
            ),
        ]
    );
}

#[test]
fn without_transfer_to_tasks_are_counted_not_moved() {
    for extra in [json!({}), json!({"transfer_to": null})] {
        let mut fake = acme();
        let out = fake.run(false, extra.clone()).unwrap();
        assert_eq!(
            (&out["outcome"], &out["transfer_to"], &out["tasks_reassigned"], &out["tasks_left"]),
            (&json!("changed"), &Value::Null, &json!(0), &json!(105)),
            "{extra}"
        );
        assert_eq!(out["workspaces"], json!([workspace("98", "Acme Labs", 3, 0), workspace("1201", "Acme", 102, 0)]));
        assert_eq!(fake.methods(), ["GET", "GET", "POST", "GET", "GET", "POST"]);
        assert_eq!(fake.assigned("501").len(), 105);
        assert_eq!(fake.logs[0].1, "removed ada@example.com from asana Acme Labs (98); 3 open task(s) left assigned to them");
        assert_eq!(fake.logs[0].2, json!({"user": "00u1", "workspace": "98", "reassigned": 0, "left": 3}));
    }
}

#[test]
fn a_leaver_asana_does_not_know_is_absent() {
    let mut fake = FakeAsana::default();
    let out = fake.run(false, json!({"transfer_to": MANAGER})).unwrap();
    assert_eq!(
        out,
        json!({
            "email": LEAVER, "asana_user_id": null, "outcome": "unchanged", "status": "absent", "transfer_to": MANAGER,
            "tasks_reassigned": 0, "tasks_left": 0, "workspaces": [],
        })
    );
    assert_eq!(fake.requests.len(), 1);
    assert_eq!(fake.logs, [(Level::Info, "no asana user for ada@example.com; nothing to do".to_string(), json!({"user": "00u1"}))]);
}

#[test]
fn running_it_again_changes_nothing() {
    let mut fake = acme();
    assert_eq!(fake.run(false, json!({"transfer_to": MANAGER})).unwrap()["outcome"], "changed");
    fake.requests.clear();
    fake.logs.clear();
    let out = fake.run(false, json!({"transfer_to": MANAGER})).unwrap();
    assert_eq!(
        out,
        json!({
            "email": LEAVER, "asana_user_id": "501", "outcome": "unchanged", "status": "removed", "transfer_to": MANAGER,
            "tasks_reassigned": 0, "tasks_left": 0, "workspaces": [],
        })
    );
    assert_eq!(fake.sent(), [LOOKUP]);
    assert_eq!(
        fake.logs,
        [(Level::Info, "ada@example.com is in no asana workspace the connection sees; nothing to do".to_string(), json!({"user": "00u1"}))]
    );
}

#[test]
fn a_named_workspace_the_leaver_is_not_in() {
    let mut fake = acme();
    let out = fake.run(false, json!({"workspace": "5", "transfer_to": MANAGER})).unwrap();
    assert_eq!((&out["outcome"], &out["status"]), (&json!("unchanged"), &json!("removed")));
    assert_eq!(
        out["workspaces"],
        json!([{"gid": "5", "name": "", "open_tasks": 0, "reassigned": 0, "removed": false, "was_member": false}])
    );
    assert_eq!(fake.requests.len(), 1);
    assert_eq!(
        fake.logs,
        [(
            Level::Info,
            "ada@example.com is not a member of asana workspace 5; nothing to do".to_string(),
            json!({"user": "00u1", "workspace": "5"})
        )]
    );
}

#[test]
fn a_named_workspace_is_the_only_one_touched() {
    let mut fake = acme();
    let out = fake.run(false, json!({"workspace": "98", "transfer_to": MANAGER})).unwrap();
    assert_eq!(out["workspaces"], json!([workspace("98", "Acme Labs", 3, 3)]));
    assert_eq!((&out["tasks_reassigned"], &out["tasks_left"]), (&json!(3), &json!(0)));
    assert_eq!(fake.workspaces_of(LEAVER), ["1201"]);
    assert_eq!(fake.assigned("501").len(), 102);
}

#[test]
fn a_dry_run_reads_but_does_not_write() {
    let mut fake = acme();
    let out = fake.run(true, json!({"transfer_to": MANAGER})).unwrap();
    assert_eq!(out["planned"], true);
    assert_eq!((&out["outcome"], &out["tasks_reassigned"], &out["tasks_left"]), (&json!("changed"), &json!(105), &json!(0)));
    assert_eq!(out["workspaces"], json!([workspace("98", "Acme Labs", 3, 3), workspace("1201", "Acme", 102, 102)]));
    assert_eq!(
        fake.sent(),
        [LOOKUP.to_string(), tasks_url("98", None), tasks_url("1201", None), tasks_url("1201", Some("eyJ0%2Bb%2Fc%3D100"))]
    );
    assert_eq!((fake.workspaces_of(LEAVER), fake.assigned("501").len()), (vec!["1201".to_string(), "98".to_string()], 105));
    assert_eq!(fake.logs[0].1, "would remove ada@example.com from asana Acme Labs (98); would move 3 open task(s) to bob@example.com");
    let absent = FakeAsana::default().run(true, json!({})).unwrap();
    assert_eq!((&absent["status"], &absent["planned"]), (&json!("absent"), &json!(true)));
    assert!(acme().run(false, json!({})).unwrap().get("planned").is_none());
}

#[test]
fn remote_failures_map_to_card_error_kinds() {
    use ErrorKind::*;
    let looking_up = "looking up ada@example.com";
    let moving = "moving task t-98-1 to bob@example.com";
    let removing = "removing ada@example.com from workspace 98";
    for (m, status, kind, retryable, after, what) in [
        (Method::Get, 401, Denied, false, None, looking_up),
        (Method::Get, 403, Denied, false, None, looking_up),
        (Method::Get, 409, Conflict, false, None, looking_up),
        (Method::Get, 429, RateLimited, true, Some(7000), looking_up),
        (Method::Get, 408, Timeout, true, None, looking_up),
        (Method::Get, 504, Timeout, true, None, looking_up),
        (Method::Get, 500, Unavailable, true, None, looking_up),
        (Method::Get, 503, Unavailable, true, None, looking_up),
        (Method::Get, 400, InvalidInput, false, None, looking_up),
        (Method::Get, 422, InvalidInput, false, None, looking_up),
        (Method::Get, 418, Internal, false, None, looking_up),
        (Method::Get, 302, Internal, false, None, looking_up),
        (Method::Put, 404, NotFound, false, None, moving),
        (Method::Put, 429, RateLimited, true, Some(7000), moving),
        (Method::Post, 404, NotFound, false, None, removing),
        (Method::Post, 403, Denied, false, None, removing),
    ] {
        let mut fake = acme();
        fake.fail = Some((m, status));
        let e = fake.run(false, json!({"transfer_to": MANAGER})).unwrap_err();
        assert_eq!((e.kind, e.retryable, e.retry_after_ms), (kind, retryable, after), "{} {status}", method(m));
        let hint = if kind == Denied { DENIED_HINT } else { "" };
        assert_eq!(e.message, format!("{what}: asana answered {status} (injected){hint}"));
    }
}

#[test]
fn error_details_and_retry_after() {
    assert_eq!(remote_detail(br#"{"errors":[{"message":"workspace: Not a member","help":"..."}]}"#), "workspace: Not a member");
    assert_eq!(remote_detail(json!({"errors": [{"message": "x".repeat(300)}]}).to_string().as_bytes()), "x".repeat(200));
    assert_eq!(remote_detail(b"  <html>bad gateway</html>\n"), "<html>bad gateway</html>");
    assert_eq!(remote_detail(br#"{"message":"not asana's shape"}"#), "");
    assert_eq!(remote_detail(br#"{"errors":[]}"#), "");
    assert_eq!(remote_detail(b""), "");
    assert_eq!(remote_detail(b"NaN"), "NaN");
    assert_eq!(remote_detail(b"\xff\xfeoops"), "\u{fffd}\u{fffd}oops");
    let after = |headers: &[(&str, &str)]| {
        retry_after_ms(&Response { headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..answer(429, None) })
    };
    assert_eq!(after(&[("Retry-After", " 12 ")]), Some(12_000));
    assert_eq!(after(&[("retry-after", "0")]), Some(0));
    assert_eq!(after(&[("Retry-After", "1.5")]), None);
    assert_eq!(after(&[("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT")]), None);
    assert_eq!(after(&[("Retry-After", "99999999999999999999")]), Some(u64::MAX));
    assert_eq!(after(&[]), None);
}

#[test]
fn bad_input_names_the_field() {
    let leaver = json!({"id": "00u1", "email": LEAVER});
    let gid_33 = "1".repeat(33);
    for (data, message) in [
        (json!([]), "input must be a JSON object".to_string()),
        (json!({"user": leaver, "connection": "asana", "extra": 1, "b": 2}), "unknown input field(s): b, extra".into()),
        (json!({"connection": "asana"}), "`user` must be an object with `id` and `email`".into()),
        (json!({"user": {"id": "", "email": LEAVER}, "connection": "asana"}), "`user.id` must be a non-empty string".into()),
        (
            json!({"user": {"id": "00u1"}, "connection": "asana"}),
            "`user.email` (or `user.profile.email`) must be an email address, got null".into(),
        ),
        (
            json!({"user": {"id": "00u1", "email": "", "profile": {"email": "nope"}}, "connection": "asana"}),
            r#"`user.email` (or `user.profile.email`) must be an email address, got "nope""#.into(),
        ),
        (
            json!({"user": {"id": "00u1", "email": "a b@example.com"}, "connection": "asana"}),
            r#"`user.email` (or `user.profile.email`) must be an email address, got "a b@example.com""#.into(),
        ),
        (
            json!({"user": {"id": "00u1", "email": ["ada@example.com"]}, "connection": "asana"}),
            r#"`user.email` (or `user.profile.email`) must be an email address, got ["ada@example.com"]"#.into(),
        ),
        (json!({"user": leaver, "connection": ""}), "`connection` must name a connection (1 to 64 characters)".into()),
        (json!({"user": leaver, "connection": "c".repeat(65)}), "`connection` must name a connection (1 to 64 characters)".into()),
        (
            json!({"user": leaver, "connection": "asana", "workspace": "12a"}),
            r#"`workspace` must be an Asana workspace gid (1 to 32 digits), got "12a""#.into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "workspace": 1201}),
            "`workspace` must be an Asana workspace gid (1 to 32 digits), got 1201".into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "workspace": null}),
            "`workspace` must be an Asana workspace gid (1 to 32 digits), got null".into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "workspace": gid_33}),
            format!(r#"`workspace` must be an Asana workspace gid (1 to 32 digits), got "{gid_33}""#),
        ),
        (
            json!({"user": leaver, "connection": "asana", "workspace": "１２"}),
            r#"`workspace` must be an Asana workspace gid (1 to 32 digits), got "１２""#.into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "transfer_to": "bob"}),
            r#"`transfer_to` must be an email address, got "bob""#.into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "transfer_to": {"email": MANAGER}}),
            r#"`transfer_to` must be an email address, got {"email":"bob@example.com"}"#.into(),
        ),
        (
            json!({"user": leaver, "connection": "asana", "transfer_to": "ADA@Example.com"}),
            "`transfer_to` is the leaver's own email (ada@example.com); name someone else, usually their manager".into(),
        ),
    ] {
        let e = check_input(&data).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::InvalidInput, message.as_str()), "{data}");
    }
    // Text that is not JSON never reaches `run`: the SDK refuses it as invalid-input.
    for text in ["not json", "NaN", r#"{"user": 1e999}"#] {
        assert!(serde_json::from_str::<RawInput>(text).is_err(), "{text}");
    }
}

#[test]
fn percent_encodes_path_segments_and_query_values() {
    let mut fake = acme();
    fake.user("503", "ada+asana@example.com", &["98"]);
    fake.open_tasks("503", "98", 1, false);
    let input = json!({"user": {"id": "00u2", "email": "ada+asana@example.com"}, "connection": "asana", "transfer_to": MANAGER});
    let out = fake.run_as(false, input).unwrap();
    assert_eq!((&out["asana_user_id"], &out["tasks_reassigned"]), (&json!("503"), &json!(1)));
    assert_eq!(
        fake.sent()[..2],
        [
            "GET /users/ada%2Basana%40example.com?opt_fields=email,name,workspaces.name",
            "GET /tasks?assignee=503&workspace=98&completed_since=now&limit=100&opt_fields=name",
        ]
    );
    assert_eq!(quote("a+b/c d=é~_.-"), "a%2Bb%2Fc%20d%3D%C3%A9~_.-");
}

#[test]
fn refuses_an_unbounded_task_list() {
    let mut fake = acme();
    fake.open_tasks("501", "98", PAGE_SIZE * MAX_PAGES, false);
    let e = fake.run(false, json!({"transfer_to": MANAGER})).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::Internal,
            "more than 2000 open tasks are assigned to ada@example.com in workspace 98; refusing to go through them all"
        )
    );
    assert_eq!(fake.methods(), ["GET"; 1 + MAX_PAGES]);
}

/// Answers every request with 200 and the next of these bodies.
struct Canned(std::vec::IntoIter<Vec<u8>>);

impl Io for Canned {
    fn send(&mut self, _: &Request) -> Result<Response, CardError> {
        Ok(Response { status: 200, headers: Vec::new(), body: self.0.next().unwrap() })
    }

    fn log(&mut self, _: Level, _: &str, _: Value) {}
}

#[test]
fn an_answer_that_is_not_asana_json_is_internal() {
    let user = json!({"data": {"gid": "501", "workspaces": [{"gid": "98", "name": "Acme Labs"}]}}).to_string();
    let not_a_user = "looking up ada@example.com: asana's answer is not a user with `gid` and `workspaces`";
    let listing = "listing the open tasks of ada@example.com in workspace 98";
    let not_a_page = format!("{listing}: asana's answer is not a page of tasks (`data`, `next_page`)");
    for (bodies, message) in [
        (vec!["<html>"], "looking up ada@example.com: asana answered with something that is not JSON".to_string()),
        (vec![r#"{"data":{"gid":"501"}}"#], not_a_user.into()),
        (vec![r#"{"data":{"gid":"","workspaces":[]}}"#], not_a_user.into()),
        (vec![r#"{"data":{"gid":"501","workspaces":[{"name":"x"}]}}"#], not_a_user.into()),
        (vec![&user, "[]"], not_a_page.clone()),
        (vec![&user, r#"{"data":[{"name":"x"}],"next_page":null}"#], not_a_page.clone()),
        (vec![&user, r#"{"data":[],"next_page":{"offset":""}}"#], not_a_page.clone()),
        (vec![&user, r#"{"data":[],"next_page":"next"}"#], not_a_page.clone()),
        (vec![&user, "\u{feff}{}"], format!("{listing}: asana answered with something that is not JSON")),
    ] {
        let mut io = Canned(bodies.iter().map(|b| b.as_bytes().to_vec()).collect::<Vec<_>>().into_iter());
        let e = run(&mut io, false, &json!({"user": {"id": "00u1", "email": LEAVER}, "connection": "asana"})).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Internal, message.as_str()), "{bodies:?}");
    }
}

#[test]
fn host_errors_pass_through_unchanged() {
    struct Refused;
    impl Io for Refused {
        fn send(&mut self, _: &Request) -> Result<Response, CardError> {
            Err(CardError::denied("connection asana: not granted").retryable(false))
        }
        fn log(&mut self, _: Level, _: &str, _: Value) {}
    }
    let e = run(&mut Refused, false, &json!({"user": {"id": "00u1", "email": LEAVER}, "connection": "asana"})).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str(), e.retryable, e.retry_after_ms),
        (ErrorKind::Denied, "connection asana: not granted", false, None)
    );
}

#[test]
fn takes_the_email_from_an_okta_user_profile() {
    let mut fake = acme();
    let okta_user = json!({"id": "00u1", "status": "ACTIVE", "profile": {"login": LEAVER, "email": LEAVER, "firstName": "Ada"}});
    let out = fake.run_as(false, json!({"user": okta_user, "connection": "asana"})).unwrap();
    assert_eq!((&out["email"], &out["asana_user_id"]), (&json!(LEAVER), &json!("501")));
}

#[test]
fn schemas_describe_every_field() {
    let generated = |s: Schema| serde_json::to_value(s).unwrap();
    let input = generated(SchemaGenerator::default().into_root_schema_for::<RawInput>());
    let output = generated(SchemaGenerator::default().into_root_schema_for::<Out>());
    // What `describe` publishes is the schema as written, untouched by schemars.
    assert_eq!((&input, &output), (&input_schema(), &output_schema()));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<String>>();
    assert_eq!(keys(&input["properties"]), INPUT_FIELDS.iter().map(|f| f.to_string()).collect());
    assert_eq!(input["additionalProperties"], false);
    let required = |v: &Value| v.as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect::<std::collections::BTreeSet<_>>();
    let item = &output["properties"]["workspaces"]["items"];
    for out in [
        acme().run(false, json!({"transfer_to": MANAGER})).unwrap(),
        acme().run(true, json!({})).unwrap(),
        FakeAsana::default().run(false, json!({})).unwrap(),
    ] {
        assert!(keys(&out).is_subset(&keys(&output["properties"])));
        assert!(required(&output["required"]).is_subset(&keys(&out)));
        for entry in out["workspaces"].as_array().unwrap() {
            assert_eq!(keys(entry), keys(&item["properties"]));
            assert_eq!(keys(entry), required(&item["required"]));
        }
    }
}

#[test]
fn whitespace_is_pythons() {
    // `[c for c in range(0x110000) if chr(c).isspace()]`, from CPython 3.11.
    let python: Vec<u32> = vec![
        0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
        0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
    ];
    let ours: Vec<u32> = (0..=0x10ffff).filter(|&c| char::from_u32(c).is_some_and(is_py_space)).collect();
    assert_eq!(ours, python);
}
