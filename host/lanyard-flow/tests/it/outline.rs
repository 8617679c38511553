//! The builder's outline of the five seed flows in `flows/`: every node's YAML
//! path addresses its step in the parsed file, a run's step records land on
//! the nodes, and branches, loops, handlers, calls and ends appear as such.

use crate::support::*;
use lanyard_core::CardError;
use lanyard_flow::outline::{Branch, Node, YamlKey};
use lanyard_flow::yaml::{self, NodeKind};
use lanyard_flow::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

const SEEDS: [&str; 5] = [
    "offboarding",
    "onboarding",
    "mfa-reminder",
    "lockout-manager",
    "profile-change",
];

fn seed_text(stem: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../flows/{stem}.yaml"));
    std::fs::read_to_string(p).unwrap()
}

/// The cards the seeds name, without input schemas (the real cards' schemas
/// are the card crate's to test).
fn seed_catalog() -> StaticCatalog {
    let names = [
        "okta.get-user",
        "okta.clear-sessions",
        "okta.remove-from-all-groups",
        "okta.get-manager",
        "okta.find-users",
        "okta.list-factors",
        "okta.list-user-groups",
        "okta.remove-from-group",
        "okta.add-to-group",
        "okta.list-app-links",
        "acme.jamf-offboard",
        "acme.zoom-deprovision",
        "acme.asana-offboard",
        "slack.post",
        "mail.send",
        "tables.get",
        "tables.put",
        "tables.delete",
    ];
    StaticCatalog::new(
        names
            .iter()
            .map(|n| CardSummary::new(*n).with_version("1.0.0"))
            .collect::<Vec<_>>(),
    )
}

fn compile_seed(stem: &str) -> (Arc<Flow>, String) {
    let text = seed_text(stem);
    let c = compile(&format!("{stem}.yaml"), &text, &seed_catalog());
    let flow = c.flow.unwrap_or_else(|| {
        panic!(
            "{stem} did not compile:\n{}",
            diag::render_all(&c.diagnostics, |_| Some(text.as_str()))
        )
    });
    (Arc::new(flow), text)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-12-04T15:00:00Z".parse().unwrap()
}

fn all_nodes(nodes: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    for n in nodes {
        out.push(n);
        for b in &n.branches {
            out.extend(all_nodes(&b.steps));
        }
    }
    out
}

fn all_branches(nodes: &[Node]) -> Vec<&Branch> {
    let mut out = Vec::new();
    for n in nodes {
        for b in &n.branches {
            out.push(b);
            out.extend(all_branches(&b.steps));
        }
    }
    out
}

/// The YAML node at a key/index path, as the browser's `doc.getIn(path)` finds it.
fn get_in<'a>(root: &'a yaml::Node, path: &[YamlKey]) -> Option<&'a yaml::Node> {
    let mut at = root;
    for k in path {
        at = match (k, &at.kind) {
            (YamlKey::Key(k), NodeKind::Map(entries)) => {
                &entries.iter().find(|(key, _)| &key.text == k)?.1
            }
            (YamlKey::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

fn find<'a>(o: &'a Outline, path: &str) -> &'a Node {
    let mut nodes = all_nodes(&o.steps);
    nodes.extend(all_nodes(&o.on_failure));
    nodes
        .into_iter()
        .find(|n| n.path == path)
        .unwrap_or_else(|| panic!("no node at {path}"))
}

/// A record's node path, as the console's `nodePath` finds it: iteration
/// indices out, and a loop's page read (`loop/pages[k]`) on the loop.
fn strip_indices(path: &str) -> String {
    let path = match path.rsplit_once("/pages[") {
        Some((head, tail)) if tail.strip_suffix(']').is_some_and(|k| k.chars().all(|c| c.is_ascii_digit())) => head,
        _ => path,
    };
    let mut out = String::with_capacity(path.len());
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => skipping = true,
            ']' if skipping => skipping = false,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn every_node_and_branch_addresses_its_place_in_the_yaml() {
    for stem in SEEDS {
        let (flow, text) = compile_seed(stem);
        let o = outline(&flow, now());
        let (root, _) = yaml::parse("f.yaml", &text);
        let root = root.unwrap();
        let mut nodes = all_nodes(&o.steps);
        nodes.extend(all_nodes(&o.on_failure));
        assert!(!nodes.is_empty());
        for n in nodes {
            let y = get_in(&root, &n.yaml)
                .unwrap_or_else(|| panic!("{stem}: {} has no YAML at {:?}", n.path, n.yaml));
            assert!(y.as_map().is_some(), "{stem}: {} is not a mapping", n.path);
            assert_eq!(
                (y.span.start.line, y.span.start.col),
                (n.line, n.col),
                "{stem}: {}",
                n.path
            );
            if n.id_given {
                let id = get_in(&root, &[n.yaml.clone(), vec![YamlKey::from("id")]].concat())
                    .and_then(|i| i.as_str());
                assert_eq!(id, Some(n.id.as_str()), "{stem}: {}", n.path);
            }
        }
        for b in all_branches(&o.steps) {
            if b.steps.is_empty() {
                continue;
            }
            let y = get_in(&root, &b.yaml).unwrap_or_else(|| {
                panic!("{stem}: branch {} has no YAML at {:?}", b.label, b.yaml)
            });
            assert!(
                matches!(&y.kind, NodeKind::Seq(items) if items.len() == b.steps.len()),
                "{stem}: branch {} at {:?}",
                b.label,
                b.yaml
            );
        }
    }
}

/// Scripted answers shaped like the real cards', so the runs go deep.
fn seed_cards() -> Arc<FakeCards> {
    let u = json!({
        "id": "00u1", "status": "ACTIVE", "created": "2026-01-01T00:00:00.000Z",
        "profile": {"login": "jo@acme.com", "email": "jo@acme.com", "firstName": "Jo",
                    "lastName": "Doe", "department": "Sales", "title": "AE", "managerId": "00u9"}
    });
    let cards = FakeCards::new();
    cards
        .on("okta.get-user", vec![Ok(u.clone())])
        .on("okta.clear-sessions", vec![Err(CardError::denied("no scope"))])
        .on(
            "okta.remove-from-all-groups",
            vec![Ok(json!({"removed": 2, "skipped": 1, "groups": []}))],
        )
        .on(
            "acme.jamf-offboard",
            vec![Err(CardError::denied("jamf said no"))],
        )
        .on(
            "acme.zoom-deprovision",
            vec![Ok(json!({"email": "jo@acme.com", "outcome": "changed", "status": "inactive"}))],
        )
        .on(
            "acme.asana-offboard",
            vec![Ok(json!({"email": "jo@acme.com", "outcome": "changed", "status": "removed",
                           "transfer_to": "m@acme.com", "tasks_reassigned": 2, "tasks_left": 0}))],
        )
        .on("slack.post", vec![Ok(json!({"ts": "1.2"}))])
        .on("tables.put", vec![Ok(json!({"written": true}))])
        .on("tables.delete", vec![Ok(json!({"deleted": true}))])
        .on("tables.get", vec![Ok(json!({"found": false}))])
        .on(
            "okta.get-manager",
            vec![Ok(json!({"found": true, "manager": {"profile": {"email": "m@acme.com", "firstName": "Mo"}}}))],
        )
        .on("mail.send", vec![Ok(json!({"message_id": "<m1@acme.com>"}))])
        .on(
            "okta.find-users",
            vec![Ok(json!({"items": [u.clone(), u], "count": 2, "next": null}))],
        )
        .on("okta.list-factors", vec![Ok(json!({"enrolled": false}))])
        .on(
            "okta.list-user-groups",
            vec![Ok(json!({"items": [{"name": "Engineering"}, {"name": "Everyone"}]}))],
        )
        .on(
            "okta.remove-from-group",
            vec![Ok(json!({"outcome": "changed", "group_name": "Engineering"}))],
        )
        .on(
            "okta.add-to-group",
            vec![Ok(json!({"outcome": "changed", "group_name": "Sales"}))],
        )
        .on("okta.list-app-links", vec![Ok(json!({"items": [{"label": "Gong"}]}))])
}

fn seed_event(stem: &str) -> Value {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../flows/samples/{stem}.json"));
    match std::fs::read_to_string(p) {
        Ok(text) => {
            let hook: Value = serde_json::from_str(&text).unwrap();
            hook["data"]["events"][0].clone()
        }
        // The scheduled flow has no event.
        Err(_) => json!({}),
    }
}

#[tokio::test]
async fn every_step_record_of_a_seed_run_lands_on_a_node() {
    let mut seen_handler = false;
    let mut seen_loop = false;
    for stem in SEEDS {
        let (flow, _) = compile_seed(stem);
        let o = outline(&flow, now());
        let mut paths: Vec<String> = all_nodes(&o.steps).iter().map(|n| n.path.clone()).collect();
        paths.extend(all_nodes(&o.on_failure).iter().map(|n| n.path.clone()));
        let h = harness(seed_cards(), vec![]);
        run_flow(&flow, RunStart::new("r1", seed_event(stem)), &h.env).await;
        let records = h.journal.records();
        assert!(records.len() >= 3, "{stem}: only {} records", records.len());
        for r in &records {
            let p = strip_indices(&r.path);
            assert!(
                paths.contains(&p),
                "{stem}: record {} ({p}) matches no node of {paths:?}",
                r.path
            );
            seen_handler |= p.contains("/on_error/");
            seen_loop |= r.path.contains('[');
        }
    }
    assert!(
        seen_handler && seen_loop,
        "the runs went through a handler and a loop"
    );
}

#[test]
fn offboarding_reads_as_the_admin_wrote_it() {
    let (flow, _) = compile_seed("offboarding");
    let o = outline(&flow, now());
    assert_eq!(o.trigger.kind, "okta");
    assert_eq!(o.trigger.words, "When a user is deactivated in Okta");
    assert_eq!(o.trigger.event_types, ["user.lifecycle.deactivate"]);
    assert_eq!(o.trigger.line, 29);
    assert_eq!(o.file, "offboarding.yaml");

    let sessions = find(&o, "sessions");
    assert_eq!(sessions.kind, "card");
    assert_eq!(sessions.summary, "Okta: Clear sessions");
    assert_eq!(sessions.card.as_deref(), Some("okta.clear-sessions"));
    assert_eq!(sessions.retry.as_deref(), Some("3 attempts, 2s backoff"));
    assert_eq!(
        serde_json::to_value(&sessions.inputs).unwrap(),
        json!([{"key": "user", "text": "{{ user.id }}"}, {"key": "oauth_tokens", "text": "true"}])
    );
    assert_eq!(sessions.yaml, [YamlKey::from("steps"), YamlKey::from(1)]);
    assert_eq!(sessions.scope, ["event", "flow", "vars", "user"]);
    let handler = &sessions.branches[0];
    assert_eq!(
        (handler.label.as_str(), handler.role),
        ("On error", "on_error")
    );
    let alert = &handler.steps[0];
    assert!(!alert.id_given);
    assert_eq!(alert.path, format!("sessions/on_error/{}", alert.id));
    assert_eq!(
        alert.yaml,
        [
            YamlKey::from("steps"),
            1.into(),
            "on_error".into(),
            0.into()
        ]
    );
    assert!(alert.scope.contains(&"error".to_string()));
    assert_eq!(alert.inputs.len(), 3);
    assert!(alert.inputs[2].text.chars().count() <= 80 && alert.inputs[2].text.ends_with('…'));

    let audit = find(&o, "audit");
    assert_eq!(
        audit.scope,
        [
            "event", "flow", "vars", "user", "sessions", "groups", "devices", "zoom", "manager",
            "asana", "notify"
        ]
    );
    assert!(!audit.ends && audit.branches.is_empty());
}

#[test]
fn branches_loops_switches_and_ends_appear_as_such() {
    let (flow, _) = compile_seed("lockout-manager");
    let o = outline(&flow, now());
    let cond = &o.steps[2];
    assert_eq!(cond.kind, "if");
    assert_eq!(cond.summary, "If manager.found");
    let labels: Vec<_> = cond
        .branches
        .iter()
        .map(|b| (b.label.as_str(), b.role))
        .collect();
    assert_eq!(labels, [("Then", "then"), ("Else", "else")]);
    assert_eq!(
        cond.branches[1].yaml,
        [YamlKey::from("steps"), 2.into(), "else".into()]
    );
    assert_eq!(cond.branches[0].steps[0].path, format!("{}/reach", cond.id));

    let (flow, _) = compile_seed("mfa-reminder");
    let o = outline(&flow, now());
    assert_eq!(o.trigger.words, "Every day at 09:00 (America/New_York)");
    let s = o.trigger.schedule.as_ref().unwrap();
    assert_eq!(
        s.next,
        [
            "2026-12-05T14:00:00Z",
            "2026-12-06T14:00:00Z",
            "2026-12-07T14:00:00Z"
        ]
    );
    let sweep = find(&o, "sweep");
    assert_eq!(sweep.kind, "for_each");
    assert_eq!(sweep.summary, "For each u in the pages of okta.find-users");
    assert_eq!(sweep.branches[0].label, "For each u");
    assert_eq!(sweep.branches[0].role, "loop");
    let email = all_nodes(&o.steps)
        .into_iter()
        .find(|n| n.id == "email")
        .unwrap();
    // Inside an `if` inside the loop: the `if`'s id is in the path, the
    // iteration index is not.
    assert!(email.path.starts_with("sweep/if-") && email.path.ends_with("/due/email"), "{}", email.path);
    for name in ["policy", "u", "loop", "reminded"] {
        assert!(
            email.scope.contains(&name.to_string()),
            "{name} in {:?}",
            email.scope
        );
    }
    assert!(!email.scope.contains(&"record".to_string()));
    let ret = o.steps.last().unwrap();
    assert!(ret.ends && ret.kind == "return" && ret.summary == "Return");
    assert_eq!(ret.inputs[0].key, "checked");

    let (flow, _) = compile_seed("onboarding");
    let o = outline(&flow, now());
    assert_eq!(
        o.trigger.words,
        "When a user is created or a user is added to a group in Okta, and the filter holds"
    );
    assert_eq!(
        o.trigger.filter.as_deref(),
        Some("event.target[0].type == \"User\"")
    );
    let sw = find(&o, "department");
    assert_eq!(
        sw.description.as_deref(),
        Some("The department decides the app groups.")
    );
    let labels: Vec<_> = sw.branches.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Case “Engineering”",
            "Case “Sales”",
            "Case “HR”",
            "Otherwise"
        ]
    );
    assert_eq!(
        sw.branches[1].yaml,
        [
            YamlKey::from("steps"),
            1.into(),
            "cases".into(),
            "Sales".into()
        ]
    );
    // Otherwise: IT is told, then the run stops.
    let told = &sw.branches[3].steps[0];
    assert_eq!((told.id.as_str(), told.card.as_deref()), ("unmapped", Some("slack.post")));
    let stop = &sw.branches[3].steps[1];
    assert!(stop.ends && stop.kind == "stop" && stop.summary.starts_with("Stop: no app groups"));
    assert_eq!(stop.path, format!("department/{}", stop.id));

    let (flow, _) = compile_seed("profile-change");
    let o = outline(&flow, now());
    let policy = find(&o, "policy");
    assert_eq!(policy.kind, "assign");
    assert_eq!(policy.summary, "Set vars.departments, vars.apps");
}

#[tokio::test]
async fn calls_failures_and_on_failure_are_outlined_and_painted() {
    let helper = compile_ok(
        "notify.yaml",
        "name: notify\ndescription: helper\ntrigger:\n  flow:\n    inputs:\n      who: { type: string, description: Whom to tell }\n      loud: { type: boolean, default: false }\nsteps:\n  - id: say\n    card: slack.post\n    with: { text: \"{{ inputs.who }}\" }\n",
    );
    let main = compile_ok(
        "main.yaml",
        "name: main\ndescription: calls and fails\ntrigger: manual\nsteps:\n  - id: tell\n    call: notify\n    with: { who: \"{{ event.who }}\" }\n  - fail: \"gave up on {{ event.who }}\"\non_failure:\n  - id: alarm\n    card: slack.post\n    with: { text: \"{{ error.message }}\" }\n",
    );
    let o = outline(&helper, now());
    assert_eq!(o.trigger.words, "When another flow calls it");
    assert_eq!(
        serde_json::to_value(&o.trigger.inputs).unwrap(),
        json!([
            {"name": "who", "type": "string", "required": true, "description": "Whom to tell", "default": null},
            {"name": "loud", "type": "boolean", "required": false, "description": null, "default": false}
        ])
    );
    assert!(o.steps[0].scope.contains(&"inputs".to_string()));

    let o = outline(&main, now());
    assert_eq!(o.trigger.kind, "manual");
    assert_eq!(o.trigger.words, "When someone runs it by hand (Run now, or `lanyard run`)");
    assert!(o.trigger.inputs.is_none() && o.trigger.schedule.is_none());
    let tell = find(&o, "tell");
    assert_eq!(tell.call.as_deref(), Some("notify"));
    assert_eq!(tell.summary, "Call flow “notify”");
    let fail = &o.steps[1];
    assert!(fail.ends && fail.kind == "fail");
    let alarm = find(&o, "on_failure/alarm");
    assert_eq!(alarm.yaml, [YamlKey::from("on_failure"), 0.into()]);
    assert!(alarm.scope.contains(&"error".to_string()));

    let h = harness(FakeCards::new(), vec![helper]);
    run_flow(&main, RunStart::new("r1", json!({"who": "jo"})), &h.env).await;
    let records = h.journal.records();
    let paths: Vec<String> = all_nodes(&o.steps)
        .into_iter()
        .chain(all_nodes(&o.on_failure))
        .map(|n| n.path.clone())
        .collect();
    assert!(records.len() >= 4, "{records:?}");
    for r in &records {
        // A helper's own steps sit under the call step: they paint its box.
        let p = strip_indices(&r.path);
        assert!(
            paths.contains(&p) || p.starts_with("tell/"),
            "{} matches no node",
            r.path
        );
    }
    assert!(records.iter().any(|r| r.path == "on_failure/alarm"));
}

/// The whole outline of one seed, as the browser receives it: a change to the
/// shape other parts are written against shows up here.
#[test]
fn the_lockout_outline_as_json() {
    let (flow, _) = compile_seed("lockout-manager");
    insta::assert_json_snapshot!("outline-lockout-manager", outline(&flow, now()));
}

#[test]
fn api_triggers_say_how_they_answer() {
    let text = |t: &str| format!("name: a\ndescription: d\ntrigger:\n  {t}\nsteps:\n  - return: 1\n");
    let o = outline(&compile_ok("a.yaml", &text("api: { sync_timeout: 10s }")), now());
    assert_eq!(
        (o.trigger.kind, o.trigger.words.as_str()),
        ("api", "When an API client invokes it (answering with its output within 10s)")
    );
    let o = outline(&compile_ok("a.yaml", &text("api:")), now());
    assert_eq!(o.trigger.words, "When an API client invokes it");
    assert_eq!(o.trigger.line, 3);
}
