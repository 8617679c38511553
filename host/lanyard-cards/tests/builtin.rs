//! The built-in cards, each run through the real card runtime with fake
//! capabilities that behave like the real ones (compare-before-write Okta,
//! scripted HTTP answers, tables, a mail relay), with the grants the card asks
//! for: inputs to outputs, error mapping, and what each card says about itself.
//!
//! Every successful output is checked against the card's own output schema,
//! and every schema against the JSON Schema 2020-12 meta-schema, so a card
//! cannot promise one shape and return another.

use async_trait::async_trait;
use lanyard_core::caps::{HttpMethod, HttpRequest, HttpResponse};
use lanyard_core::okta::{AppGroup, AppLink, AppUser, Factor};
use lanyard_core::testing::{FakeHttp, FakeMail, FakeOkta, FakeTables, app, group, rule, user};
use lanyard_core::{CallContext, CardError, ErrorKind, Grant, Grants};
use lanyard_runtime::{CallOutcome, CallRequest, Capabilities, LoadedCard, Runtime, RuntimeConfig};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

// ---------------------------------------------------------------------------
// The runtime and the cards

/// Compiled cards are cached across test binaries and runs (the runtime's own
/// tests use the same directory).
fn cache_dir() -> PathBuf {
    match std::env::var_os("LANYARD_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-card-cache"),
    }
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(RuntimeConfig {
            cache_dir: Some(cache_dir()),
            max_instances: 32,
            ..RuntimeConfig::default()
        })
        .expect("runtime starts")
    })
}

/// The directory under `cards/builtin/` of the card with this name: the name
/// with its first dot as a dash (`okta.get-user` → `okta-get-user`).
fn dir_of(name: &str) -> String {
    match name {
        "lanyard.echo" => "echo".to_string(),
        _ => name.replacen('.', "-", 1),
    }
}

/// A built-in card, loaded, with a validator for its output schema.
struct Tested {
    card: Arc<LoadedCard>,
    output: jsonschema::Validator,
}

fn tested(name: &str) -> Arc<Tested> {
    static CARDS: OnceLock<Mutex<HashMap<String, Arc<Tested>>>> = OnceLock::new();
    let cards = CARDS.get_or_init(Default::default);
    if let Some(t) = cards.lock().unwrap().get(name) {
        return t.clone();
    }
    let builtin = lanyard_cards::builtin_card(&dir_of(name)).unwrap_or_else(|| panic!("no built-in card {name}"));
    let card = rt().load(builtin.wasm).unwrap_or_else(|e| panic!("card {name} loads: {e}"));
    assert_eq!(card.info().name, name);
    let output = jsonschema::draft202012::new(&card.info().output_schema)
        .unwrap_or_else(|e| panic!("{name}: output schema does not compile: {e}"));
    let t = Arc::new(Tested { card, output });
    cards.lock().unwrap().insert(name.to_string(), t.clone());
    t
}

fn ctx(dry_run: bool) -> CallContext {
    CallContext::new("run-1", "builtin-tests", "step", 1, dry_run)
}

/// Call a card with the grants it asks for.
async fn call(name: &str, input: Value, fakes: &Fakes) -> CallOutcome {
    let grants = Arc::new(tested(name).card.info().requested_grants());
    call_with(name, input, fakes, grants, false).await
}

async fn call_with(name: &str, input: Value, fakes: &Fakes, grants: Arc<Grants>, dry_run: bool) -> CallOutcome {
    let t = tested(name);
    let request = CallRequest {
        grants,
        caps: fakes.caps(),
        ..CallRequest::new(ctx(dry_run), input)
    };
    rt().call(&t.card, request).await
}

/// The output of a call that must succeed, checked against the output schema.
fn ok(name: &str, out: CallOutcome) -> Value {
    let value = match out.result {
        Ok(v) => v,
        Err(e) => panic!("{name}: expected an output, got {e:?}; logs: {:?}", out.logs),
    };
    let t = tested(name);
    let problems: Vec<String> = t.output.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(problems.is_empty(), "{name}: output {value} breaks its own schema: {problems:#?}");
    value
}

fn err(out: &CallOutcome) -> &CardError {
    match &out.result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e,
    }
}

/// A call that must fail with `invalid-input` whose message holds `needle`.
async fn invalid(name: &str, input: Value, needle: &str) {
    let fakes = Fakes::new();
    let out = call(name, input.clone(), &fakes).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{name} {input}: {e:?}");
    assert!(e.message.contains(needle), "{name} {input}: `{}` does not say `{needle}`", e.message);
    assert!(!e.retryable);
    assert!(fakes.okta.writes().is_empty(), "{name} {input}: invalid input reached Okta");
    assert!(fakes.http.requests().is_empty(), "{name} {input}: invalid input reached HTTP");
}

fn grants(list: &[&str]) -> Arc<Grants> {
    let list: Vec<Grant> = list.iter().map(|g| g.parse().unwrap()).collect();
    Arc::new(Grants::from_list(&list).unwrap())
}

// ---------------------------------------------------------------------------
// Fake capabilities

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// The org most tests start from: four users, their groups, factors, apps
/// and a group rule.
fn seeded_okta() -> Arc<FakeOkta> {
    let okta = FakeOkta::default();
    {
        let mut org = okta.org.lock().unwrap();
        for u in [
            user("00uada", "ada.lovelace@example.com", "ACTIVE", json!({"department": "Engineering", "title": "Engineer", "managerId": "00ugrace"})),
            user("00ugrace", "grace.hopper@example.com", "ACTIVE", json!({"department": "Engineering", "title": "Director"})),
            user("00ulin", "lin.locked@example.com", "LOCKED_OUT", json!({"department": "Sales", "managerId": "00ugone"})),
            user("00ustaged", "sam.staged@example.com", "STAGED", json!({})),
        ] {
            org.users.insert(u.id.clone(), u);
        }
        for g in [
            group("00geveryone", "Everyone", "BUILT_IN"),
            group("00geng", "Engineering", "OKTA_GROUP"),
            group("00ggithub", "GitHub Users", "OKTA_GROUP"),
            group("00gjira", "Jira Users", "OKTA_GROUP"),
            group("00galumni", "Alumni", "OKTA_GROUP"),
            group("00gapp", "Salesforce Imported", "APP_GROUP"),
        ] {
            org.groups.insert(g.id.clone(), g);
        }
        for (g, u) in [
            ("00geveryone", "00uada"),
            ("00geng", "00uada"),
            ("00ggithub", "00uada"),
            ("00galumni", "00uada"),
            ("00gapp", "00uada"),
            ("00geveryone", "00ugrace"),
        ] {
            org.members.insert((g.into(), u.into()));
        }
        org.factors.insert(
            "00uada".into(),
            vec![
                Factor { id: "opf1".into(), factor_type: "push".into(), provider: "OKTA".into(), status: "ACTIVE".into(), created: None },
                Factor { id: "sms1".into(), factor_type: "sms".into(), provider: "OKTA".into(), status: "PENDING_ACTIVATION".into(), created: None },
            ],
        );
        org.factors.insert(
            "00ugrace".into(),
            vec![Factor { id: "sms2".into(), factor_type: "sms".into(), provider: "OKTA".into(), status: "PENDING_ACTIVATION".into(), created: None }],
        );
        org.app_links.insert(
            "00uada".into(),
            vec![AppLink {
                id: "0oa1".into(),
                label: "GitHub".into(),
                app_name: "github".into(),
                app_instance_id: "0oa1".into(),
                app_assignment_id: "0ua1".into(),
                link_url: "https://example.okta.com/home/github/0oa1/1".into(),
            }],
        );
        for a in [app("0oagithub", "GitHub", "github"), app("0oaslack", "Slack", "slack")] {
            org.apps.insert(a.id.clone(), a);
        }
        // Ada has GitHub directly (with a role), and Slack through GitHub Users.
        org.app_users.insert(
            ("0oagithub".into(), "00uada".into()),
            AppUser { id: "00uada".into(), scope: "USER".into(), status: "PROVISIONED".into(), user_name: Some("ada".into()), profile: object(json!({"role": "Developer"})) },
        );
        org.app_groups.insert(
            ("0oaslack".into(), "00ggithub".into()),
            AppGroup { id: "00ggithub".into(), priority: Some(0), profile: Map::new() },
        );
        org.rules.insert("0prsales".into(), rule("0prsales", "Sales department", "ACTIVE", "user.department == \"Sales\"", &["00gjira"]));
    }
    Arc::new(okta)
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn body_json(req: &HttpRequest) -> Value {
    serde_json::from_slice(req.body.as_deref().expect("a body")).expect("a JSON body")
}

struct Fakes {
    okta: Arc<FakeOkta>,
    http: Arc<FakeHttp>,
    tables: Arc<FakeTables>,
    mail: Arc<FakeMail>,
}

impl Fakes {
    fn new() -> Self {
        Fakes {
            okta: seeded_okta(),
            http: Arc::default(),
            tables: Arc::default(),
            mail: Arc::default(),
        }
    }

    fn caps(&self) -> Capabilities {
        Capabilities {
            okta: Some(self.okta.clone()),
            http: Some(self.http.clone()),
            tables: Some(self.tables.clone()),
            mail: Some(self.mail.clone()),
            ..Capabilities::none()
        }
    }
}

// ---------------------------------------------------------------------------
// What every card says about itself

#[test]
fn every_card_describes_itself() {
    let mut seen = BTreeSet::new();
    for builtin in lanyard_cards::builtin() {
        let card = rt().load(builtin.wasm).unwrap_or_else(|e| panic!("{}: {e}", builtin.name));
        let info = card.info();
        let name = info.name.as_str();
        assert_eq!(dir_of(name), builtin.name, "card {name} lives in cards/builtin/{}", builtin.name);
        assert!(seen.insert(name.to_string()), "two cards are named {name}");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"), "{name}: built-in cards carry lanyard's version");
        assert!(info.description.len() >= 20 && info.description.ends_with('.'), "{name}: description {:?}", info.description);

        for (which, schema) in [("input", &info.input_schema), ("output", &info.output_schema)] {
            assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name} {which}");
            if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
                panic!("{name}: the {which} schema is not a valid JSON Schema: {e}");
            }
            jsonschema::draft202012::new(schema).unwrap_or_else(|e| panic!("{name}: {which} schema: {e}"));
        }
        // The flow validator checks `with` keys against the top-level properties.
        let input = &info.input_schema;
        assert_eq!(input["type"], "object", "{name}: the input is an object");
        assert!(input["properties"].is_object(), "{name}: the input schema lists its properties");
        if name != "lanyard.echo" {
            assert_eq!(input["additionalProperties"], false, "{name}: unknown input fields are refused");
        }
        for field in input["properties"].as_object().unwrap().values() {
            assert!(
                field.get("description").is_some() || field.get("$ref").is_some(),
                "{name}: every input field is documented: {field}"
            );
        }

        let asked: BTreeSet<String> = info.grants.iter().map(|g| g.to_string()).collect();
        assert_eq!(asked, pinned_grants(builtin.name), "{name} asks for exactly the grants its Cargo.toml pins");
    }
    let built: BTreeSet<String> = seen.iter().map(|n| dir_of(n)).collect();
    let dirs: BTreeSet<String> = std::fs::read_dir(builtin_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|d| builtin_dir().join(d).join("Cargo.toml").is_file())
        .collect();
    assert_eq!(built, dirs, "every card under cards/builtin/ is built in");
}

fn builtin_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cards/builtin")
}

/// The grants `cards/builtin/<dir>/Cargo.toml` pins for its card
/// (`[package.metadata.lanyard] grants`): exactly what the card may ask for.
fn pinned_grants(dir: &str) -> BTreeSet<String> {
    let path = builtin_dir().join(dir).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let grants = manifest
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("lanyard"))
        .and_then(|l| l.get("grants"))
        .and_then(|g| g.as_array())
        .unwrap_or_else(|| panic!("{}: pin the card's grants in [package.metadata.lanyard] grants = [...]", path.display()));
    grants.iter().map(|g| g.as_str().expect("a grant is a string").to_string()).collect()
}

// ---------------------------------------------------------------------------
// Okta: users

#[tokio::test]
async fn get_user_by_id_login_or_object() {
    let fakes = Fakes::new();
    let by_id = ok("okta.get-user", call("okta.get-user", json!({"user": "00uada"}), &fakes).await);
    assert_eq!(by_id["id"], "00uada");
    assert_eq!(by_id["profile"]["department"], "Engineering");
    assert_eq!(by_id["created"], "2024-01-02T03:04:05.000Z");
    let by_login = ok("okta.get-user", call("okta.get-user", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(by_login, by_id);
    let by_object = ok("okta.get-user", call("okta.get-user", json!({"user": by_id}), &fakes).await);
    assert_eq!(by_object["id"], "00uada");

    let missing = call("okta.get-user", json!({"user": "nobody@example.com"}), &fakes).await;
    let e = err(&missing);
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("nobody@example.com"), "{e:?}");

    invalid("okta.get-user", json!({}), "missing field `user`").await;
    invalid("okta.get-user", json!({"user": 42}), "`user` must be an Okta user id, a login, or a user object").await;
    invalid("okta.get-user", json!({"user": "  "}), "must not be empty").await;
    invalid("okta.get-user", json!({"user": {"login": "x"}}), "has no `id`").await;
    invalid("okta.get-user", json!({"user": "00uada", "usr": 1}), "unknown field `usr`").await;
}

#[tokio::test]
async fn find_users_passes_one_query_and_lists_in_the_convention() {
    let fakes = Fakes::new();
    let out = ok(
        "okta.find-users",
        call("okta.find-users", json!({"search": "profile.department eq \"Engineering\"", "limit": 2}), &fakes).await,
    );
    assert_eq!(out["count"], 2);
    assert_eq!(out["items"].as_array().unwrap().len(), 2);
    assert!(out["items"][0]["profile"]["login"].is_string());
    assert_eq!(
        fakes.okta.calls(),
        vec![r#"list-users {"search":"profile.department eq \"Engineering\"","filter":null,"q":null,"limit":2}"#]
    );
    let all = ok("okta.find-users", call("okta.find-users", json!({}), &fakes).await);
    assert_eq!(all["count"], 4);
    assert!(all.get("next").is_none(), "no paging asked, none answered");

    // Status and creation time without Okta's search syntax, alone or narrowing a search.
    let fakes = Fakes::new();
    ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE", "created_before": "2026-03-01T14:00:00Z"}), &fakes).await);
    ok("okta.find-users", call("okta.find-users", json!({"search": "profile.department eq \"Sales\" or profile.department eq \"HR\"", "status": "LOCKED_OUT"}), &fakes).await);
    assert_eq!(
        fakes.okta.calls(),
        vec![
            r#"list-users {"search":"status eq \"ACTIVE\" and created lt \"2026-03-01T14:00:00Z\"","filter":null,"q":null,"limit":null}"#,
            r#"list-users {"search":"(profile.department eq \"Sales\" or profile.department eq \"HR\") and status eq \"LOCKED_OUT\"","filter":null,"q":null,"limit":null}"#,
        ]
    );
    invalid("okta.find-users", json!({"created_before": "2026-03-01\" or status eq \"ACTIVE"}), "`created_before` must be a date and time").await;
    invalid("okta.find-users", json!({"status": "ACTIVE", "q": "ada"}), "give them with `search` or alone, not with q").await;
    invalid("okta.find-users", json!({"status": "active"}), "unknown variant `active`").await;

    invalid("okta.find-users", json!({"search": "a", "filter": "b"}), "at most one of `search`, `filter` and `q`, not search and filter").await;
    invalid("okta.find-users", json!({"limit": 0}), "`limit` must be between 1 and 10000").await;
    invalid("okta.find-users", json!({"filter": ""}), "`filter` must not be empty").await;
}

#[tokio::test]
async fn update_profile_reports_changed_then_unchanged() {
    let fakes = Fakes::new();
    let input = json!({"user": "ada.lovelace@example.com", "profile": {"title": "Staff Engineer"}});
    let first = ok("okta.update-profile", call("okta.update-profile", input.clone(), &fakes).await);
    assert_eq!(first["outcome"], "changed");
    assert_eq!(first["user"]["profile"]["title"], "Staff Engineer");
    let again = ok("okta.update-profile", call("okta.update-profile", input, &fakes).await);
    assert_eq!(again["outcome"], "unchanged");

    invalid("okta.update-profile", json!({"user": "00uada", "profile": {}}), "names no attribute").await;
    invalid("okta.update-profile", json!({"user": "00uada", "profile": {"": 1}}), "empty name").await;
    invalid("okta.update-profile", json!({"user": "00uada", "profile": "title=x"}), "invalid type").await;
}

#[tokio::test]
async fn get_manager_found_and_not() {
    let fakes = Fakes::new();
    let out = ok("okta.get-manager", call("okta.get-manager", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(out["found"], true);
    assert_eq!(out["manager"]["profile"]["login"], "grace.hopper@example.com");
    // No managerId at all, and a managerId naming no user: both "no manager".
    for who in ["00ugrace", "00ulin"] {
        let out = ok("okta.get-manager", call("okta.get-manager", json!({"user": who}), &fakes).await);
        assert_eq!(out, json!({"found": false, "manager": null}), "{who}");
    }
}

#[tokio::test]
async fn lifecycle_cards_move_users_and_report_no_ops() {
    let fakes = Fakes::new();
    for (card, user, outcome) in [
        ("okta.unlock", "lin.locked@example.com", "changed"),
        ("okta.unlock", "00ulin", "unchanged"),
        ("okta.suspend", "00uada", "changed"),
        ("okta.suspend", "00uada", "unchanged"),
        ("okta.unsuspend", "00uada", "changed"),
        ("okta.activate", "00ustaged", "changed"),
        ("okta.activate", "00ustaged", "unchanged"),
        ("okta.deactivate", "00ugrace", "changed"),
        ("okta.deactivate", "00ugrace", "unchanged"),
        ("okta.reactivate", "00ugrace", "changed"),
    ] {
        let out = ok(card, call(card, json!({"user": user}), &fakes).await);
        let op = card.strip_prefix("okta.").unwrap();
        assert_eq!(out["outcome"], outcome, "{card} {user}");
        assert_eq!(out["operation"], op);
        assert!(out["user_id"].as_str().unwrap().starts_with("00u"));
    }
    let lifecycle: Vec<String> = fakes.okta.writes();
    assert_eq!(lifecycle[0], "lifecycle 00ulin unlock", "a login is resolved to the id first");
    assert_eq!(lifecycle.len(), 10);

    let missing = call("okta.suspend", json!({"user": "00unobody"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn clear_sessions_with_and_without_oauth_tokens() {
    let fakes = Fakes::new();
    let out = ok("okta.clear-sessions", call("okta.clear-sessions", json!({"user": "ada.lovelace@example.com", "oauth_tokens": true}), &fakes).await);
    assert_eq!(out, json!({"outcome": "changed", "user_id": "00uada", "oauth_tokens": true}));
    ok("okta.clear-sessions", call("okta.clear-sessions", json!({"user": "00ugrace"}), &fakes).await);
    assert_eq!(
        fakes.okta.writes(),
        vec!["clear-sessions 00uada oauth_tokens=true", "clear-sessions 00ugrace oauth_tokens=false"]
    );
    // An id goes straight to Okta: no lookup first.
    assert!(!fakes.okta.calls().contains(&"get-user 00ugrace".to_string()));
    invalid("okta.clear-sessions", json!({"user": "00uada", "oauth_tokens": "yes"}), "invalid type").await;
}

#[tokio::test]
async fn a_rate_limit_from_okta_reaches_the_flow_retryable() {
    let fakes = Fakes::new();
    fakes.okta.fail(
        "clear-sessions",
        CardError::new(ErrorKind::RateLimited, "okta: rate limited on /api/v1/users/{id}/sessions").with_retry_after_ms(1500),
    );
    let out = call("okta.clear-sessions", json!({"user": "00uada", "oauth_tokens": true}), &fakes).await;
    let e = err(&out);
    assert_eq!((e.kind, e.retryable, e.retry_after_ms), (ErrorKind::RateLimited, true, Some(1500)), "{e:?}");
}

#[tokio::test]
async fn list_factors_says_whether_any_is_enrolled() {
    let fakes = Fakes::new();
    let ada = ok("okta.list-factors", call("okta.list-factors", json!({"user": "00uada"}), &fakes).await);
    assert_eq!((ada["count"].clone(), ada["enrolled"].clone()), (json!(2), json!(true)));
    assert_eq!(ada["items"][0]["factorType"], "push");
    let grace = ok("okta.list-factors", call("okta.list-factors", json!({"user": "grace.hopper@example.com"}), &fakes).await);
    assert_eq!((grace["count"].clone(), grace["enrolled"].clone()), (json!(1), json!(false)), "pending is not enrolled");
    let none = ok("okta.list-factors", call("okta.list-factors", json!({"user": "00ulin"}), &fakes).await);
    assert_eq!(none, json!({"items": [], "count": 0, "enrolled": false}));
}

#[tokio::test]
async fn create_user_resolves_group_names_and_checks_the_profile() {
    let fakes = Fakes::new();
    let profile = json!({"login": "new.hire@example.com", "email": "new.hire@example.com", "firstName": "New", "lastName": "Hire", "department": "Engineering"});
    let out = ok(
        "okta.create-user",
        call("okta.create-user", json!({"profile": profile, "groups": ["GitHub Users", "00gjira"]}), &fakes).await,
    );
    assert_eq!(out["outcome"], "changed");
    assert_eq!(out["user"]["status"], "ACTIVE");
    assert_eq!(out["user"]["profile"]["department"], "Engineering");
    assert_eq!(fakes.okta.writes(), vec![r#"create-user "new.hire@example.com" activate=true groups=00ggithub,00gjira"#]);

    let again = call("okta.create-user", json!({"profile": profile, "activate": false}), &fakes).await;
    assert_eq!(err(&again).kind, ErrorKind::Conflict);

    invalid("okta.create-user", json!({"profile": {"login": "x@example.com"}}), "`profile.email` is missing").await;
    invalid("okta.create-user", json!({"profile": {"login": "", "email": "e", "firstName": "f", "lastName": "l"}}), "`profile.login` must be a non-empty string").await;
    invalid("okta.create-user", json!({"profile": profile, "groups": ["Salesforce Imported"]}), "APP_GROUP").await;
}

#[tokio::test]
async fn list_app_links_and_query_logs() {
    let fakes = Fakes::new();
    let apps = ok("okta.list-app-links", call("okta.list-app-links", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(apps["count"], 1);
    assert_eq!(apps["items"][0]["appName"], "github");

    let logs = ok(
        "okta.query-logs",
        call("okta.query-logs", json!({"since": "2024-05-01T00:00:00Z", "filter": "eventType eq \"user.account.lock\"", "limit": 50}), &fakes).await,
    );
    assert_eq!(logs["count"], 2);
    assert_eq!(logs["items"][0]["eventType"], "user.account.lock");
    assert!(fakes.okta.calls().contains(
        &r#"query-logs {"since":"2024-05-01T00:00:00Z","until":null,"filter":"eventType eq \"user.account.lock\"","q":null,"limit":50}"#.to_string()
    ));
    invalid("okta.query-logs", json!({"limit": 20000}), "between 1 and 10000").await;
}

// ---------------------------------------------------------------------------
// Okta: groups

#[tokio::test]
async fn list_user_groups_and_find_group() {
    let fakes = Fakes::new();
    let out = ok("okta.list-user-groups", call("okta.list-user-groups", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(out["count"], 5);
    let names: Vec<&str> = out["items"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Everyone") && names.contains(&"GitHub Users"), "{names:?}");
    assert!(out["items"][0]["groupType"].is_string());

    let found = ok("okta.find-group", call("okta.find-group", json!({"name": "Jira Users"}), &fakes).await);
    assert_eq!(found["found"], true);
    assert_eq!(found["group"]["id"], "00gjira");
    let missing = ok("okta.find-group", call("okta.find-group", json!({"name": "Nope"}), &fakes).await);
    assert_eq!(missing, json!({"found": false, "group": null}));
    invalid("okta.find-group", json!({"name": ""}), "`name` must not be empty").await;
}

#[tokio::test]
async fn add_and_remove_by_name_or_id_compare_before_writing() {
    let fakes = Fakes::new();
    let add = |g: Value| call("okta.add-to-group", json!({"user": "grace.hopper@example.com", "group": g}), &fakes);
    let out = ok("okta.add-to-group", add(json!("Jira Users")).await);
    assert_eq!(out, json!({"outcome": "changed", "user_id": "00ugrace", "group_id": "00gjira", "group_name": "Jira Users"}));
    let out = ok("okta.add-to-group", add(json!("00gjira")).await);
    assert_eq!(out, json!({"outcome": "unchanged", "user_id": "00ugrace", "group_id": "00gjira"}));
    // A group object (an item of okta.list-user-groups) is used as is, name kept.
    let out = ok("okta.add-to-group", add(json!({"id": "00ggithub", "name": "GitHub Users", "groupType": "OKTA_GROUP"})).await);
    assert_eq!((out["outcome"].clone(), out["group_name"].clone()), (json!("changed"), json!("GitHub Users")));
    let e = add(json!({"id": "00gapp", "name": "Salesforce Imported", "groupType": "APP_GROUP"})).await;
    assert_eq!(err(&e).kind, ErrorKind::InvalidInput);

    let missing = add(json!("Jira users ")).await;
    let e = err(&missing);
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.message, "no Okta group is named `Jira users`");
    let e = add(json!("Everyone")).await;
    assert_eq!(err(&e).kind, ErrorKind::InvalidInput);
    assert!(err(&e).message.contains("BUILT_IN"), "{:?}", err(&e));

    let remove = |g: &str| call("okta.remove-from-group", json!({"user": "00ugrace", "group": g}), &fakes);
    assert_eq!(ok("okta.remove-from-group", remove("Jira Users").await)["outcome"], "changed");
    assert_eq!(ok("okta.remove-from-group", remove("Jira Users").await)["outcome"], "unchanged");
    let e = remove("Salesforce Imported").await;
    assert!(err(&e).message.contains("APP_GROUP"), "{:?}", err(&e));

    assert_eq!(
        fakes.okta.writes(),
        vec![
            "add-to-group 00gjira 00ugrace",
            "add-to-group 00gjira 00ugrace",
            "add-to-group 00ggithub 00ugrace",
            "remove-from-group 00gjira 00ugrace",
            "remove-from-group 00gjira 00ugrace",
        ]
    );
    invalid("okta.add-to-group", json!({"user": "00uada"}), "missing field `group`").await;
    invalid("okta.add-to-group", json!({"user": "00uada", "group": ["a"]}), "a group must be").await;
}

#[tokio::test]
async fn remove_from_all_groups_skips_what_okta_manages_and_what_to_keep() {
    let fakes = Fakes::new();
    let out = ok(
        "okta.remove-from-all-groups",
        call("okta.remove-from-all-groups", json!({"user": "ada.lovelace@example.com", "keep": ["Alumni"]}), &fakes).await,
    );
    assert_eq!(out["outcome"], "changed");
    assert_eq!(out["user_id"], "00uada");
    assert_eq!((out["removed"].clone(), out["skipped"].clone()), (json!(2), json!(3)));
    assert_eq!(out["removed_names"], json!(["Engineering", "GitHub Users"]));
    let by_name: BTreeMap<&str, (&str, Option<&str>)> = out["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), (g["outcome"].as_str().unwrap(), g["reason"].as_str())))
        .collect();
    assert_eq!(by_name["Engineering"], ("changed", None));
    assert_eq!(by_name["GitHub Users"], ("changed", None));
    assert_eq!(by_name["Alumni"], ("skipped", Some("in `keep`")));
    assert_eq!(by_name["Everyone"].0, "skipped");
    assert!(by_name["Salesforce Imported"].1.unwrap().contains("APP_GROUP"));
    assert_eq!(
        fakes.okta.writes(),
        vec!["remove-from-group 00geng 00uada", "remove-from-group 00ggithub 00uada"]
    );

    // Nothing left to do: unchanged, and nothing written.
    let again = ok("okta.remove-from-all-groups", call("okta.remove-from-all-groups", json!({"user": "00uada", "keep": ["00galumni"]}), &fakes).await);
    assert_eq!((again["outcome"].clone(), again["removed"].clone()), (json!("unchanged"), json!(0)));
    assert_eq!(again["removed_names"], json!([]));
    assert_eq!(fakes.okta.writes().len(), 2);
}

#[tokio::test]
async fn sync_groups_follows_the_value_and_leaves_unexplained_groups_alone() {
    let fakes = Fakes::new();
    let policy = json!({"Engineering": "Engineering, GitHub Users,Jira Users", "Alumni": ["Alumni"]});
    let exclusive = json!(["Engineering", "Alumni"]);
    // Ada moves to Alumni, no earlier value known: she leaves Engineering (an
    // exclusive group) and keeps GitHub Users, which nothing explains.
    let out = ok(
        "okta.sync-groups",
        call("okta.sync-groups", json!({"user": "ada.lovelace@example.com", "value": "Alumni", "groups": policy, "exclusive": exclusive}), &fakes).await,
    );
    assert_eq!(
        out,
        json!({"outcome": "changed", "user_id": "00uada", "wanted": ["Alumni"], "added": [], "removed": ["Engineering"]})
    );
    assert_eq!(fakes.okta.writes(), vec!["remove-from-group 00geng 00uada"]);

    // Back to Engineering, from Alumni: Alumni goes, the missing groups come.
    let back = json!({"user": "00uada", "value": "Engineering", "previous": "Alumni", "groups": policy, "exclusive": exclusive});
    let out = ok("okta.sync-groups", call("okta.sync-groups", back.clone(), &fakes).await);
    assert_eq!(out["added"], json!(["Engineering", "Jira Users"]));
    assert_eq!(out["removed"], json!(["Alumni"]));
    assert_eq!(out["wanted"], json!(["Engineering", "GitHub Users", "Jira Users"]));
    assert_eq!(fakes.okta.writes().len(), 4, "{:?}", fakes.okta.writes());

    // Once in line, nothing is written.
    let out = ok("okta.sync-groups", call("okta.sync-groups", back, &fakes).await);
    assert_eq!((out["outcome"].clone(), out["added"].clone(), out["removed"].clone()), (json!("unchanged"), json!([]), json!([])));
    assert_eq!(fakes.okta.writes().len(), 4);

    // A value no entry names brings nothing, and an unknown group is an error that names it.
    let out = ok("okta.sync-groups", call("okta.sync-groups", json!({"user": "00ugrace", "value": "Legal", "groups": policy}), &fakes).await);
    assert_eq!(out["outcome"], "unchanged");
    let out = call("okta.sync-groups", json!({"user": "00ugrace", "value": "X", "groups": {"X": "No Such Group"}}), &fakes).await;
    assert!(err(&out).message.contains("no Okta group is named `No Such Group`"), "{:?}", err(&out));
    invalid("okta.sync-groups", json!({"user": "00uada", "value": "X", "groups": {"X": 3}}), "expected group names").await;
}

#[tokio::test]
async fn remove_from_all_groups_tries_every_group_then_fails_with_the_worst() {
    let fakes = Fakes::new();
    fakes.okta.fail("remove-from-group 00geng 00uada", CardError::denied("okta: E0000006: You do not have permission"));
    let out = call("okta.remove-from-all-groups", json!({"user": "00uada"}), &fakes).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(!e.retryable);
    assert!(e.message.contains("from 2 of 5 groups"), "{}", e.message);
    assert!(e.message.contains("Engineering (denied: okta: E0000006"), "{}", e.message);
    // The other groups were still swept.
    assert_eq!(fakes.okta.writes().len(), 3);
    assert!(fakes.okta.writes().contains(&"remove-from-group 00galumni 00uada".to_string()));

    // A retryable failure makes the whole call retryable, and a retry only
    // meets what is left.
    let fakes = Fakes::new();
    fakes.okta.fail(
        "remove-from-group 00ggithub 00uada",
        CardError::new(ErrorKind::RateLimited, "okta: rate limited").with_retry_after_ms(2000),
    );
    fakes.okta.fail("remove-from-group 00geng 00uada", CardError::denied("nope"));
    let out = call("okta.remove-from-all-groups", json!({"user": "00uada"}), &fakes).await;
    let e = err(&out);
    assert_eq!((e.kind, e.retryable, e.retry_after_ms), (ErrorKind::RateLimited, true, Some(2000)), "{e:?}");
    fakes.okta.fail_nothing();
    let out = ok("okta.remove-from-all-groups", call("okta.remove-from-all-groups", json!({"user": "00uada"}), &fakes).await);
    assert_eq!(out["removed"], 2, "{out}");
}

#[tokio::test]
async fn a_dry_run_records_the_sweep_instead_of_doing_it() {
    let fakes = Fakes::new();
    let all = Arc::new(tested("okta.remove-from-all-groups").card.info().requested_grants());
    let out = call_with("okta.remove-from-all-groups", json!({"user": "00uada"}), &fakes, all, true).await;
    let effects = out.effects.clone();
    let value = ok("okta.remove-from-all-groups", out);
    assert_eq!(value["removed"], 3);
    assert!(fakes.okta.writes().is_empty(), "{:?}", fakes.okta.writes());
    assert_eq!(effects.len(), 3, "{effects:?}");
    assert!(effects.iter().all(|e| e.capability == "okta"));
}

#[tokio::test]
async fn a_missing_grant_is_denied_and_names_it() {
    let fakes = Fakes::new();
    let out = call_with("okta.add-to-group", json!({"user": "00uada", "group": "00gjira"}), &fakes, grants(&["okta:okta.groups.read"]), false).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(e.message.contains("okta:okta.groups.manage"), "{e:?}");
    assert!(fakes.okta.writes().is_empty());
}

#[tokio::test]
async fn find_users_pages_when_asked_and_only_then() {
    let fakes = Fakes::new();
    let first = ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE", "page_size": 1}), &fakes).await);
    assert_eq!((first["count"].clone(), first["items"][0]["id"].clone()), (json!(1), json!("00uada")));
    assert_eq!(first["next"], "00uada");
    let last = ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE", "page_size": 1, "after": first["next"]}), &fakes).await);
    assert_eq!(last["items"][0]["id"], "00ugrace");
    assert_eq!(last["next"], Value::Null, "the last page says so: {last}");
    assert_eq!(
        fakes.okta.calls(),
        vec![
            r#"list-users-page {"search":"status eq \"ACTIVE\"","filter":null,"q":null,"limit":1} after=None"#,
            r#"list-users-page {"search":"status eq \"ACTIVE\"","filter":null,"q":null,"limit":1} after=Some("00uada")"#,
        ]
    );
    // `after` alone pages with Okta's page size.
    let rest = ok("okta.find-users", call("okta.find-users", json!({"after": "00ugrace"}), &fakes).await);
    assert_eq!((rest["count"].clone(), rest["next"].clone()), (json!(2), Value::Null));
    // Without paging inputs: every user, and no `next` at all, as before.
    let all = ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE"}), &fakes).await);
    assert_eq!(all, json!({"items": all["items"], "count": 2}));

    invalid("okta.find-users", json!({"page_size": 201}), "`page_size` must be between 1 and 200").await;
    invalid("okta.find-users", json!({"page_size": 10, "limit": 10}), "one page at a time), not both").await;
    invalid("okta.find-users", json!({"after": " "}), "`after` must not be empty").await;
}

#[tokio::test]
async fn find_users_tells_each_users_mfa_enrollment_a_page_at_a_time() {
    let fakes = Fakes::new();
    let page = ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE", "page_size": 10, "mfa": true}), &fakes).await);
    let mfa: Vec<(Value, Value)> = page["items"].as_array().unwrap().iter().map(|u| (u["id"].clone(), u["mfa"].clone())).collect();
    assert_eq!(
        mfa,
        [
            (json!("00uada"), json!({"enrolled": true, "factors": ["push"]})),
            (json!("00ugrace"), json!({"enrolled": false, "factors": []})),
        ],
        "a factor still pending does not count"
    );
    assert_eq!(page["items"][0]["profile"]["login"], "ada.lovelace@example.com", "the user as okta.get-user returns them");
    assert_eq!(
        fakes.okta.calls()[1..],
        ["list-factors 00uada".to_string(), "list-factors 00ugrace".to_string()]
    );
    // Without `mfa`, no factor is read and no user has `mfa`.
    let fakes = Fakes::new();
    let page = ok("okta.find-users", call("okta.find-users", json!({"status": "ACTIVE", "page_size": 10}), &fakes).await);
    assert!(page["items"].as_array().unwrap().iter().all(|u| u.get("mfa").is_none()));
    assert_eq!(fakes.okta.calls().len(), 1);
    invalid("okta.find-users", json!({"status": "ACTIVE", "mfa": true}), "`mfa` reads every user's factors, so one page at a time").await;
}

// ---------------------------------------------------------------------------
// Okta: users' credentials and factors, deleting users

#[tokio::test]
async fn delete_user_deletes_once_and_names_a_missing_login() {
    let fakes = Fakes::new();
    let out = ok("okta.delete-user", call("okta.delete-user", json!({"user": "sam.staged@example.com"}), &fakes).await);
    assert_eq!(out, json!({"outcome": "changed", "user_id": "00ustaged"}));
    assert!(!fakes.okta.org.lock().unwrap().users.contains_key("00ustaged"));
    // Gone: by id that is `unchanged` (a retry is harmless) ...
    let again = ok("okta.delete-user", call("okta.delete-user", json!({"user": "00ustaged", "send_email": true}), &fakes).await);
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(fakes.okta.writes(), vec!["delete-user 00ustaged send_email=false", "delete-user 00ustaged send_email=true"]);
    // ... while a login that names nobody is an error that names it.
    let missing = call("okta.delete-user", json!({"user": "sam.staged@example.com"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    assert!(err(&missing).message.contains("sam.staged@example.com"), "{:?}", err(&missing));
    invalid("okta.delete-user", json!({"user": "00uada", "send_email": "no"}), "invalid type").await;
    invalid("okta.delete-user", json!({"user": "00uada", "notify": true}), "unknown field `notify`").await;
}

#[tokio::test]
async fn expire_password_then_unchanged() {
    let fakes = Fakes::new();
    let out = ok("okta.expire-password", call("okta.expire-password", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(out, json!({"outcome": "changed", "user_id": "00uada"}));
    assert_eq!(fakes.okta.find_user("00uada").unwrap().status, "PASSWORD_EXPIRED");
    let again = ok("okta.expire-password", call("okta.expire-password", json!({"user": "00uada"}), &fakes).await);
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(fakes.okta.writes(), vec!["expire-password 00uada", "expire-password 00uada"]);
    let missing = call("okta.expire-password", json!({"user": "00unobody"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.expire-password", json!({"user": ""}), "must not be empty").await;
}

#[tokio::test]
async fn reset_password_emails_the_link_or_hands_it_over() {
    let fakes = Fakes::new();
    let emailed = ok("okta.reset-password", call("okta.reset-password", json!({"user": "ada.lovelace@example.com"}), &fakes).await);
    assert_eq!(emailed, json!({"outcome": "changed", "user_id": "00uada", "emailed": true}));
    let link = ok("okta.reset-password", call("okta.reset-password", json!({"user": "00ugrace", "send_email": false}), &fakes).await);
    assert_eq!(link["emailed"], false);
    assert_eq!(link["reset_url"], "https://example.okta.com/reset_password/tok-00ugrace");
    assert_eq!(fakes.okta.writes(), vec!["reset-password 00uada send_email=true", "reset-password 00ugrace send_email=false"]);

    // A dry run sends nothing and hands over a link that leads nowhere.
    let all = Arc::new(tested("okta.reset-password").card.info().requested_grants());
    let out = call_with("okta.reset-password", json!({"user": "00uada", "send_email": false}), &fakes, all, true).await;
    assert_eq!(out.effects.len(), 1, "{:?}", out.effects);
    let dry = ok("okta.reset-password", out);
    assert!(dry["reset_url"].as_str().unwrap().starts_with("https://dry-run.invalid/"), "{dry}");
    assert_eq!(fakes.okta.writes().len(), 2);

    let missing = call("okta.reset-password", json!({"user": "nobody@example.com"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.reset-password", json!({"user": "00uada", "send_email": 1}), "invalid type").await;
}

#[tokio::test]
async fn reset_factors_one_by_type_or_id_or_all() {
    let fakes = Fakes::new();
    let reset = |input: Value| call("okta.reset-factors", input, &fakes);
    let sms = ok("okta.reset-factors", reset(json!({"user": "ada.lovelace@example.com", "factor": "SMS"})).await);
    assert_eq!(sms, json!({"outcome": "changed", "user_id": "00uada", "reset": 1, "factor_types": ["sms"]}));
    let again = ok("okta.reset-factors", reset(json!({"user": "00uada", "factor": "sms"})).await);
    assert_eq!(again, json!({"outcome": "unchanged", "user_id": "00uada", "reset": 0, "factor_types": []}));
    let all = ok("okta.reset-factors", reset(json!({"user": "00uada"})).await);
    assert_eq!((all["outcome"].clone(), all["factor_types"].clone()), (json!("changed"), json!(["push"])));
    let none = ok("okta.reset-factors", reset(json!({"user": "00uada"})).await);
    assert_eq!((none["outcome"].clone(), none["reset"].clone()), (json!("unchanged"), json!(0)));
    let by_id = ok("okta.reset-factors", reset(json!({"user": "00ugrace", "factor": "sms2"})).await);
    assert_eq!(by_id["reset"], 1);
    assert_eq!(
        fakes.okta.writes(),
        vec!["reset-factor 00uada sms1", "reset-factors 00uada", "reset-factor 00ugrace sms2"],
        "nothing to reset, nothing sent"
    );
    let missing = reset(json!({"user": "00unobody"})).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.reset-factors", json!({"user": "00uada", "factor": " "}), "`factor` must not be empty").await;
}

// ---------------------------------------------------------------------------
// Okta: apps

#[tokio::test]
async fn assign_and_unassign_apps_by_label_or_id_compare_before_writing() {
    let fakes = Fakes::new();
    let assign = |input: Value| call("okta.assign-app", input, &fakes);
    let out = ok("okta.assign-app", assign(json!({"app": "Slack", "user": "grace.hopper@example.com"})).await);
    assert_eq!(out, json!({"outcome": "changed", "app_id": "0oaslack", "app_label": "Slack", "user_id": "00ugrace"}));
    let out = ok("okta.assign-app", assign(json!({"app": "0oaslack", "user": "00ugrace"})).await);
    assert_eq!(out, json!({"outcome": "unchanged", "app_id": "0oaslack", "user_id": "00ugrace"}));
    // The app user profile: the same role is no change, another one is.
    let same = ok("okta.assign-app", assign(json!({"app": "GitHub", "user": "00uada", "profile": {"role": "Developer"}})).await);
    assert_eq!(same["outcome"], "unchanged");
    let admin = ok("okta.assign-app", assign(json!({"app": "GitHub", "user": "00uada", "profile": {"role": "Admin"}})).await);
    assert_eq!(admin["outcome"], "changed");
    let to_group = ok("okta.assign-app", assign(json!({"app": {"id": "0oagithub", "label": "GitHub"}, "group": "Jira Users"})).await);
    assert_eq!(to_group, json!({"outcome": "changed", "app_id": "0oagithub", "group_id": "00gjira", "group_name": "Jira Users"}));

    let unassign = |input: Value| call("okta.unassign-app", input, &fakes);
    assert_eq!(ok("okta.unassign-app", unassign(json!({"app": "Slack", "user": "00ugrace"})).await)["outcome"], "changed");
    assert_eq!(ok("okta.unassign-app", unassign(json!({"app": "Slack", "user": "00ugrace"})).await)["outcome"], "unchanged");
    // Ada has Slack through GitHub Users only: nothing direct to take away.
    assert_eq!(ok("okta.unassign-app", unassign(json!({"app": "Slack", "user": "00uada"})).await)["outcome"], "unchanged");
    let out = ok("okta.unassign-app", unassign(json!({"app": "0oagithub", "group": "00gjira"})).await);
    assert_eq!(out, json!({"outcome": "changed", "app_id": "0oagithub", "group_id": "00gjira"}));
    assert_eq!(
        fakes.okta.writes(),
        vec![
            "assign-app 0oaslack user:00ugrace",
            "assign-app 0oaslack user:00ugrace",
            r#"assign-app 0oagithub user:00uada profile={"role":"Developer"}"#,
            r#"assign-app 0oagithub user:00uada profile={"role":"Admin"}"#,
            "assign-app 0oagithub group:00gjira",
            "unassign-app 0oaslack user:00ugrace",
            "unassign-app 0oaslack user:00ugrace",
            "unassign-app 0oaslack user:00uada",
            "unassign-app 0oagithub group:00gjira",
        ]
    );

    let missing = assign(json!({"app": "Nope", "user": "00uada"})).await;
    assert_eq!((err(&missing).kind, err(&missing).message.as_str()), (ErrorKind::NotFound, "no Okta app is labelled `Nope`"));
    let missing = unassign(json!({"app": "0oanope", "user": "00uada"})).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.assign-app", json!({"app": "GitHub", "user": "00uada", "group": "00geng"}), "not both").await;
    invalid("okta.unassign-app", json!({"app": "GitHub"}), "give `user` (an Okta user) or `group`").await;
    invalid("okta.assign-app", json!({"app": "GitHub", "user": "00uada", "profile": {" ": 1}}), "empty name").await;
    invalid("okta.assign-app", json!({"app": 7, "user": "00uada"}), "`app` must be an Okta app id").await;
}

#[tokio::test]
async fn a_dry_run_assignment_is_compared_and_recorded_not_made() {
    let fakes = Fakes::new();
    let all = Arc::new(tested("okta.assign-app").card.info().requested_grants());
    let out = call_with("okta.assign-app", json!({"app": "Slack", "user": "00ugrace"}), &fakes, all.clone(), true).await;
    assert_eq!(out.effects.len(), 1, "{:?}", out.effects);
    assert_eq!(out.effects[0].operation, "assign-app");
    assert_eq!(ok("okta.assign-app", out)["outcome"], "changed");
    let out = call_with("okta.assign-app", json!({"app": "GitHub", "user": "00uada"}), &fakes, all, true).await;
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    assert_eq!(ok("okta.assign-app", out)["outcome"], "unchanged", "a dry run says unchanged when the real run would");
    assert!(fakes.okta.writes().is_empty(), "{:?}", fakes.okta.writes());
}

#[tokio::test]
async fn list_app_users_and_groups_and_find_app() {
    let fakes = Fakes::new();
    let users = ok("okta.list-app-users", call("okta.list-app-users", json!({"app": "GitHub"}), &fakes).await);
    assert_eq!(users["count"], 1);
    assert_eq!(users["items"][0], json!({"id": "00uada", "scope": "USER", "status": "PROVISIONED", "userName": "ada", "profile": {"role": "Developer"}}));
    let slack = ok("okta.list-app-users", call("okta.list-app-users", json!({"app": "0oaslack"}), &fakes).await);
    assert_eq!((slack["items"][0]["id"].clone(), slack["items"][0]["scope"].clone()), (json!("00uada"), json!("GROUP")));
    let groups = ok("okta.list-app-groups", call("okta.list-app-groups", json!({"app": "Slack"}), &fakes).await);
    assert_eq!(groups, json!({"items": [{"id": "00ggithub", "priority": 0, "profile": {}}], "count": 1}));
    let none = ok("okta.list-app-groups", call("okta.list-app-groups", json!({"app": "GitHub"}), &fakes).await);
    assert_eq!(none["count"], 0);

    let found = ok("okta.find-app", call("okta.find-app", json!({"label": "GitHub"}), &fakes).await);
    assert_eq!(found["found"], true);
    assert_eq!(found["app"], json!({"id": "0oagithub", "name": "github", "label": "GitHub", "status": "ACTIVE", "signOnMode": "SAML_2_0"}));
    let by_name = ok("okta.find-app", call("okta.find-app", json!({"label": " slack "}), &fakes).await);
    assert_eq!(by_name["app"]["id"], "0oaslack", "the catalog name, trimmed");
    let missing = ok("okta.find-app", call("okta.find-app", json!({"label": "Nope"}), &fakes).await);
    assert_eq!(missing, json!({"found": false, "app": null}));

    let unknown = call("okta.list-app-users", json!({"app": "Nope"}), &fakes).await;
    assert_eq!(err(&unknown).kind, ErrorKind::NotFound);
    let unknown = call("okta.list-app-groups", json!({"app": "0oanope"}), &fakes).await;
    assert_eq!(err(&unknown).kind, ErrorKind::NotFound);
    invalid("okta.find-app", json!({"label": ""}), "`label` must not be empty").await;
    invalid("okta.list-app-users", json!({}), "missing field `app`").await;
}

// ---------------------------------------------------------------------------
// Okta: groups and group rules

#[tokio::test]
async fn create_group_once_then_finds_it() {
    let fakes = Fakes::new();
    let input = json!({"name": "Project Falcon", "description": "People on Falcon"});
    let out = ok("okta.create-group", call("okta.create-group", input.clone(), &fakes).await);
    assert_eq!((out["outcome"].clone(), out["created"].clone()), (json!("changed"), json!(true)));
    assert_eq!(out["group"]["name"], "Project Falcon");
    assert_eq!(out["group"]["description"], "People on Falcon");
    assert_eq!(out["group"]["groupType"], "OKTA_GROUP");
    let again = ok("okta.create-group", call("okta.create-group", input, &fakes).await);
    assert_eq!((again["outcome"].clone(), again["created"].clone()), (json!("unchanged"), json!(false)));
    assert_eq!(again["group"]["id"], out["group"]["id"]);
    let existing = ok("okta.create-group", call("okta.create-group", json!({"name": " Engineering "}), &fakes).await);
    assert_eq!((existing["created"].clone(), existing["group"]["id"].clone()), (json!(false), json!("00geng")));
    assert_eq!(fakes.okta.writes().len(), 3);

    invalid("okta.create-group", json!({"name": ""}), "`name` must not be empty").await;
    invalid("okta.create-group", json!({"name": "a\nb"}), "`name` must be one line").await;
    invalid("okta.create-group", json!({"name": "x".repeat(256)}), "over the limit of 255").await;
}

#[tokio::test]
async fn update_group_keeps_what_is_left_out() {
    let fakes = Fakes::new();
    let update = |input: Value| call("okta.update-group", input, &fakes);
    let out = ok("okta.update-group", update(json!({"group": "Jira Users", "description": "Jira access"})).await);
    assert_eq!(out, json!({"outcome": "changed", "group_id": "00gjira", "name": "Jira Users", "description": "Jira access"}));
    let again = ok("okta.update-group", update(json!({"group": "Jira Users", "description": "Jira access"})).await);
    assert_eq!(again["outcome"], "unchanged");
    // Renamed, the description stays; by id, both are given.
    let renamed = ok("okta.update-group", update(json!({"group": "Jira Users", "name": "Jira"})).await);
    assert_eq!((renamed["name"].clone(), renamed["description"].clone()), (json!("Jira"), json!("Jira access")));
    let by_id = ok("okta.update-group", update(json!({"group": "00gjira", "name": "Jira", "description": ""})).await);
    assert_eq!((by_id["outcome"].clone(), by_id["description"].clone()), (json!("changed"), Value::Null));
    assert_eq!(
        fakes.okta.writes(),
        vec![
            r#"update-group 00gjira name="Jira Users" description=Some("Jira access")"#,
            r#"update-group 00gjira name="Jira Users" description=Some("Jira access")"#,
            r#"update-group 00gjira name="Jira" description=Some("Jira access")"#,
            r#"update-group 00gjira name="Jira" description=None"#,
        ]
    );

    let missing = update(json!({"group": "Nope", "name": "x"})).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    let missing = update(json!({"group": "00gnope", "name": "x", "description": "y"})).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.update-group", json!({"group": "00gjira", "name": "x"}), "give both `name` and `description`").await;
    invalid("okta.update-group", json!({"group": "Jira"}), "give a new `name`, a new `description`, or both").await;
    invalid("okta.update-group", json!({"group": "Everyone", "name": "All"}), "BUILT_IN").await;
}

#[tokio::test]
async fn delete_group_refuses_what_okta_manages() {
    let fakes = Fakes::new();
    let delete = |g: Value| call("okta.delete-group", json!({"group": g}), &fakes);
    let out = ok("okta.delete-group", delete(json!("Alumni")).await);
    assert_eq!(out, json!({"outcome": "changed", "group_id": "00galumni", "group_name": "Alumni"}));
    assert!(!fakes.okta.org.lock().unwrap().members.iter().any(|(g, _)| g == "00galumni"));
    let again = ok("okta.delete-group", delete(json!("00galumni")).await);
    assert_eq!(again, json!({"outcome": "unchanged", "group_id": "00galumni"}));
    let missing = delete(json!("Alumni")).await;
    assert_eq!(err(&missing).message, "no Okta group is named `Alumni`");

    for (group, kind) in [(json!("Everyone"), "BUILT_IN"), (json!("Salesforce Imported"), "APP_GROUP"), (json!({"id": "00gapp", "name": "Salesforce Imported", "groupType": "APP_GROUP"}), "APP_GROUP")] {
        let out = delete(group.clone()).await;
        let e = err(&out);
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{group}");
        assert!(e.message.contains(kind) && e.message.contains("cannot delete"), "{e:?}");
    }
    // By bare id the card cannot see the type; Okta refuses Everyone itself.
    let out = delete(json!("00geveryone")).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied);
    assert_eq!(fakes.okta.writes(), vec!["delete-group 00galumni", "delete-group 00galumni", "delete-group 00geveryone"]);
}

#[tokio::test]
async fn list_group_members_pages_with_a_cursor() {
    let fakes = Fakes::new();
    fakes.okta.org.lock().unwrap().members.insert(("00geveryone".into(), "00ulin".into()));
    let first = ok("okta.list-group-members", call("okta.list-group-members", json!({"group": "Everyone", "page_size": 2}), &fakes).await);
    let ids: Vec<&str> = first["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!((ids, first["count"].clone(), first["next"].clone()), (vec!["00uada", "00ugrace"], json!(2), json!("00ugrace")));
    let last = ok(
        "okta.list-group-members",
        call("okta.list-group-members", json!({"group": "00geveryone", "page_size": 2, "after": first["next"]}), &fakes).await,
    );
    assert_eq!(last, json!({"items": last["items"], "count": 1, "next": null}));
    assert_eq!(last["items"][0]["profile"]["login"], "lin.locked@example.com");
    let all = ok("okta.list-group-members", call("okta.list-group-members", json!({"group": "Jira Users"}), &fakes).await);
    assert_eq!(all, json!({"items": [], "count": 0, "next": null}));
    assert!(fakes.okta.calls().contains(&r#"list-group-members 00geveryone after=Some("00ugrace") limit=Some(2)"#.to_string()), "{:?}", fakes.okta.calls());

    let missing = call("okta.list-group-members", json!({"group": "Nope"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.list-group-members", json!({"group": "Everyone", "page_size": 0}), "between 1 and 1000").await;
    invalid("okta.list-group-members", json!({"group": "Everyone", "page_size": 1001}), "between 1 and 1000").await;
    invalid("okta.list-group-members", json!({"group": "Everyone", "after": ""}), "`after` must not be empty").await;
}

#[tokio::test]
async fn create_group_rule_creates_then_activates_once() {
    let fakes = Fakes::new();
    let input = json!({"name": "Engineering department", "expression": "user.department == \"Engineering\"", "groups": ["GitHub Users", "00gjira", "GitHub Users"]});
    let out = ok("okta.create-group-rule", call("okta.create-group-rule", input.clone(), &fakes).await);
    assert_eq!((out["outcome"].clone(), out["created"].clone()), (json!("changed"), json!(true)));
    assert_eq!(out["rule"]["status"], "ACTIVE");
    assert_eq!(out["rule"]["groupIds"], json!(["00ggithub", "00gjira"]), "each group once");
    let id = out["rule"]["id"].as_str().unwrap().to_string();
    let again = ok("okta.create-group-rule", call("okta.create-group-rule", input, &fakes).await);
    assert_eq!((again["outcome"].clone(), again["created"].clone(), again["rule"]["id"].clone()), (json!("unchanged"), json!(false), json!(id)));
    assert_eq!(
        fakes.okta.writes(),
        vec![
            r#"create-group-rule "Engineering department" "user.department == \"Engineering\"" 00ggithub,00gjira"#,
            format!("set-group-rule-active {id} active=true").as_str(),
            r#"create-group-rule "Engineering department" "user.department == \"Engineering\"" 00ggithub,00gjira"#,
        ]
    );
    // Left inactive for review when asked.
    let review = ok(
        "okta.create-group-rule",
        call("okta.create-group-rule", json!({"name": "Sales managers", "expression": "user.title == \"Manager\"", "groups": ["00gjira"], "activate": false}), &fakes).await,
    );
    assert_eq!((review["outcome"].clone(), review["rule"]["status"].clone()), (json!("changed"), json!("INACTIVE")));

    let clash = call("okta.create-group-rule", json!({"name": "Sales department", "expression": "true", "groups": ["00gjira"]}), &fakes).await;
    assert_eq!(err(&clash).kind, ErrorKind::Conflict);
    let missing = call("okta.create-group-rule", json!({"name": "r", "expression": "true", "groups": ["Nope"]}), &fakes).await;
    assert_eq!(err(&missing).message, "no Okta group is named `Nope`");
    invalid("okta.create-group-rule", json!({"name": "r", "expression": "true", "groups": []}), "`groups` names no group").await;
    invalid("okta.create-group-rule", json!({"name": "r", "expression": "true", "groups": ["Everyone"]}), "BUILT_IN").await;
    invalid("okta.create-group-rule", json!({"name": "x".repeat(51), "expression": "true", "groups": ["00gjira"]}), "over the limit of 50").await;
    invalid("okta.create-group-rule", json!({"name": "r", "expression": " ", "groups": ["00gjira"]}), "`expression` must not be empty").await;
}

#[tokio::test]
async fn activate_and_deactivate_group_rules_by_name_or_id() {
    let fakes = Fakes::new();
    let off = ok("okta.deactivate-group-rule", call("okta.deactivate-group-rule", json!({"rule": "Sales department"}), &fakes).await);
    assert_eq!(off, json!({"outcome": "changed", "rule_id": "0prsales", "rule_name": "Sales department"}));
    let off = ok("okta.deactivate-group-rule", call("okta.deactivate-group-rule", json!({"rule": "0prsales"}), &fakes).await);
    assert_eq!(off, json!({"outcome": "unchanged", "rule_id": "0prsales"}));
    let on = ok("okta.activate-group-rule", call("okta.activate-group-rule", json!({"rule": {"id": "0prsales", "name": "Sales department"}}), &fakes).await);
    assert_eq!(on["outcome"], "changed");
    assert_eq!(ok("okta.activate-group-rule", call("okta.activate-group-rule", json!({"rule": "0prsales"}), &fakes).await)["outcome"], "unchanged");
    assert_eq!(
        fakes.okta.writes(),
        vec!["set-group-rule-active 0prsales active=false", "set-group-rule-active 0prsales active=false", "set-group-rule-active 0prsales active=true", "set-group-rule-active 0prsales active=true"]
    );

    let missing = call("okta.activate-group-rule", json!({"rule": "Nope"}), &fakes).await;
    assert_eq!(err(&missing).message, "no Okta group rule is named `Nope`");
    let missing = call("okta.deactivate-group-rule", json!({"rule": "0prnope"}), &fakes).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);
    invalid("okta.activate-group-rule", json!({"rule": 42}), "`rule` must be an Okta group rule id").await;
}

// ---------------------------------------------------------------------------
// Okta: the custom API action

#[tokio::test]
async fn custom_api_action_calls_what_the_operator_granted() {
    let fakes = Fakes::new();
    let read = grants(&["okta:api:okta.users.read"]);
    let api = |input: Value, g: Arc<Grants>| call_with("okta.custom-api-action", input, &fakes, g, false);
    let out = ok("okta.custom-api-action", api(json!({"method": "get", "path": "/api/v1/users/00uada"}), read.clone()).await);
    assert_eq!((out["status"].clone(), out["body"]["profile"]["login"].clone(), out["next"].clone()), (json!(200), json!("ada.lovelace@example.com"), Value::Null));
    let page = ok("okta.custom-api-action", api(json!({"method": "GET", "path": "/api/v1/users", "query": {"limit": 2, "skip": null}}), read.clone()).await);
    assert_eq!((page["body"].as_array().unwrap().len(), page["next"].clone()), (2, json!("00ugrace")));

    // Okta's error is an error of the matching kind, or an answer when expected.
    let missing = api(json!({"method": "GET", "path": "/api/v1/users/00unobody"}), read.clone()).await;
    let e = err(&missing);
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.message, "GET /api/v1/users/00unobody: Okta answered 404: E0000007: Not found: Resource not found: /api/v1/users/00unobody (User)");
    let expected = ok("okta.custom-api-action", api(json!({"method": "GET", "path": "/api/v1/users/00unobody", "expect_status": [200, 404]}), read.clone()).await);
    assert_eq!(expected["status"], 404);
    assert_eq!(
        fakes.okta.calls(),
        vec![
            "api-call GET /api/v1/users/00uada",
            "api-call GET /api/v1/users limit=2",
            "api-call GET /api/v1/users/00unobody",
            "api-call GET /api/v1/users/00unobody",
        ]
    );

    // What the card asks for (`okta:api:*`) grants nothing by itself, and a
    // scope covers only the operations Okta lists under it.
    let out = call("okta.custom-api-action", json!({"method": "GET", "path": "/api/v1/users/00uada"}), &fakes).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied, "{:?}", err(&out));
    let out = api(json!({"method": "POST", "path": "/api/v1/users/00uada/lifecycle/deactivate"}), read).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(e.message.contains("okta:api:okta.users.manage"), "{e:?}");
    assert_eq!(fakes.okta.calls().len(), 4, "nothing denied reached Okta");
    let requested = tested("okta.custom-api-action").card.info().requested_grants();
    assert!(requested.okta.is_empty(), "no okta.* scope: {requested:?}");

    invalid("okta.custom-api-action", json!({"method": "GET", "path": "/api/v1/users", "body": {}}), "a GET request takes no `body`").await;
    invalid("okta.custom-api-action", json!({"method": "GET", "path": "api/v1/users"}), "must start with `/`").await;
    invalid("okta.custom-api-action", json!({"method": "GET", "path": "/api/v1/users?limit=1"}), "put parameters in `query`").await;
    invalid("okta.custom-api-action", json!({"method": "BREW", "path": "/api/v1/users"}), "unknown variant").await;
    invalid("okta.custom-api-action", json!({"method": "GET", "path": "/api/v1/users", "query": {"a": {"b": 1}}}), "`query.a` must be").await;
}

#[tokio::test]
async fn a_dry_run_custom_api_write_is_recorded_not_sent() {
    let fakes = Fakes::new();
    let manage = grants(&["okta:api:okta.users.manage"]);
    let out = call_with("okta.custom-api-action", json!({"method": "POST", "path": "/api/v1/users/00uada/lifecycle/suspend"}), &fakes, manage, true).await;
    assert_eq!(out.effects.len(), 1, "{:?}", out.effects);
    assert_eq!(ok("okta.custom-api-action", out)["status"], 200);
    assert!(fakes.okta.calls().is_empty(), "{:?}", fakes.okta.calls());
}

// ---------------------------------------------------------------------------
// What the new Okta cards offer the builder

/// The builder makes a form from each input schema and offers each output's
/// properties to later steps: every field it needs is there, described.
#[test]
fn the_new_okta_cards_name_their_fields() {
    for (name, required, optional, outputs) in [
        ("okta.assign-app", &["app"][..], &["user", "group", "profile"][..], &["outcome", "app_id", "app_label", "user_id", "group_id", "group_name"][..]),
        ("okta.unassign-app", &["app"], &["user", "group"], &["outcome", "app_id", "app_label", "user_id", "group_id", "group_name"]),
        ("okta.list-app-users", &["app"], &[], &["items", "count"]),
        ("okta.list-app-groups", &["app"], &[], &["items", "count"]),
        ("okta.find-app", &["label"], &[], &["found", "app"]),
        ("okta.create-group", &["name"], &["description"], &["outcome", "created", "group"]),
        ("okta.update-group", &["group"], &["name", "description"], &["outcome", "group_id", "name", "description"]),
        ("okta.delete-group", &["group"], &[], &["outcome", "group_id", "group_name"]),
        ("okta.list-group-members", &["group"], &["after", "page_size"], &["items", "count", "next"]),
        ("okta.create-group-rule", &["name", "expression", "groups"], &["activate"], &["outcome", "created", "rule"]),
        ("okta.activate-group-rule", &["rule"], &[], &["outcome", "rule_id", "rule_name"]),
        ("okta.deactivate-group-rule", &["rule"], &[], &["outcome", "rule_id", "rule_name"]),
        ("okta.delete-user", &["user"], &["send_email"], &["outcome", "user_id"]),
        ("okta.expire-password", &["user"], &[], &["outcome", "user_id"]),
        ("okta.reset-password", &["user"], &["send_email"], &["outcome", "user_id", "emailed", "reset_url"]),
        ("okta.reset-factors", &["user"], &["factor"], &["outcome", "user_id", "reset", "factor_types"]),
        ("okta.find-users", &[], &["search", "filter", "q", "status", "created_before", "limit", "after", "page_size", "mfa"], &["items", "count", "next"]),
        ("okta.custom-api-action", &["method", "path"], &["query", "body", "expect_status"], &["status", "body", "next"]),
    ] {
        let info = tested(name).card.info().clone();
        let input = &info.input_schema;
        let mut want: Vec<&str> = required.to_vec();
        let mut got: Vec<&str> = input["required"].as_array().map_or(Vec::new(), |r| r.iter().map(|v| v.as_str().unwrap()).collect());
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: required inputs");
        let mut fields: Vec<&str> = input["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut all: Vec<&str> = required.iter().chain(optional).copied().collect();
        fields.sort();
        all.sort();
        assert_eq!(fields, all, "{name}: inputs");
        for (field, schema) in input["properties"].as_object().unwrap() {
            let text = schema["description"].as_str().unwrap_or_default();
            assert!(text.len() >= 10, "{name}.{field}: the form's help text is {text:?}");
        }
        let out: BTreeSet<&str> = info.output_schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(out, outputs.iter().copied().collect(), "{name}: outputs");
        assert!(!info.description.contains('\n') && info.description.len() < 400, "{name}: the palette's line: {}", info.description);
    }
    let reset = tested("okta.reset-password").card.info().output_schema["properties"]["reset_url"]["description"].as_str().unwrap().to_string();
    assert!(reset.contains("like a password"), "{reset}");
    let delete = tested("okta.delete-user").card.info().description.clone();
    assert!(delete.contains("Permanently") && delete.contains("deactivated first"), "{delete}");
    let api = tested("okta.custom-api-action").card.info().description.clone();
    assert!(api.contains("okta:api:okta.users.read"), "{api}");
}

// ---------------------------------------------------------------------------
// Slack

fn slack_ok(req: &HttpRequest) -> Result<HttpResponse, CardError> {
    let body = body_json(req);
    Ok(response(
        200,
        &[("content-type", "application/json; charset=utf-8")],
        &json!({"ok": true, "channel": "C0IT", "ts": "1714557600.000100", "message": {"text": body["text"]}}).to_string(),
    ))
}

#[tokio::test]
async fn slack_web_api_posts_json_through_the_connection() {
    let fakes = Fakes::new();
    fakes.http.answer(slack_ok);
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Offboarded* ada"}}]);
    let out = ok(
        "slack.post",
        call("slack.post", json!({"connection": "it-slack", "channel": "#it-ops", "text": "Offboarded ada", "blocks": blocks, "thread_ts": "1.2"}), &fakes).await,
    );
    assert_eq!(out, json!({"mode": "web-api", "channel": "C0IT", "ts": "1714557600.000100"}));
    let reqs = fakes.http.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, HttpMethod::Post);
    assert_eq!(req.url, "chat.postMessage");
    assert_eq!(req.connection.as_deref(), Some("it-slack"));
    assert_eq!(header(req, "content-type"), Some("application/json; charset=utf-8"));
    assert!(header(req, "authorization").is_none(), "the host adds the token");
    assert_eq!(body_json(req), json!({"channel": "#it-ops", "text": "Offboarded ada", "blocks": blocks, "thread_ts": "1.2"}));
}

#[tokio::test]
async fn slack_errors_map_to_kinds_a_flow_can_act_on() {
    for (status, headers, body, kind, retry_after) in [
        (200, vec![], r#"{"ok":false,"error":"channel_not_found"}"#, ErrorKind::NotFound, None),
        (200, vec![], r#"{"ok":false,"error":"invalid_auth"}"#, ErrorKind::Denied, None),
        (200, vec![], r#"{"ok":false,"error":"not_authed"}"#, ErrorKind::Denied, None),
        (200, vec![], r#"{"ok":false,"error":"is_archived"}"#, ErrorKind::Conflict, None),
        (200, vec![], r#"{"ok":false,"error":"msg_too_long"}"#, ErrorKind::InvalidInput, None),
        (200, vec![], r#"{"ok":false,"error":"something_new"}"#, ErrorKind::Internal, None),
        (429, vec![("Retry-After", "7")], r#"{"ok":false,"error":"ratelimited"}"#, ErrorKind::RateLimited, Some(7000)),
        (503, vec![], "upstream unavailable", ErrorKind::Unavailable, None),
        (404, vec![], "<html>not here</html>", ErrorKind::NotFound, None),
        (200, vec![], "<html>a proxy page</html>", ErrorKind::Internal, None),
    ] {
        let fakes = Fakes::new();
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        fakes.http.answer(move |_| Ok(HttpResponse { status, headers: headers.clone(), body: body.as_bytes().to_vec() }));
        let out = call("slack.post", json!({"connection": "it-slack", "channel": "C1", "text": "hi"}), &fakes).await;
        let e = err(&out);
        assert_eq!(e.kind, kind, "{status} {body}: {e:?}");
        assert_eq!(e.retry_after_ms, retry_after, "{status} {body}");
        assert_eq!(e.retryable, matches!(kind, ErrorKind::RateLimited | ErrorKind::Unavailable), "{status} {body}");
        assert!(e.message.contains("it-slack"), "{e:?}");
    }
}

#[tokio::test]
async fn slack_webhook_posts_to_the_connection_itself() {
    let fakes = Fakes::new();
    fakes.http.answer(|_| Ok(response(200, &[("content-type", "text/html")], "ok")));
    let out = ok("slack.post", call("slack.post", json!({"connection": "it-webhook", "text": "hello"}), &fakes).await);
    assert_eq!(out, json!({"mode": "webhook"}));
    let req = &fakes.http.requests()[0];
    assert_eq!((req.url.as_str(), req.connection.as_deref()), ("", Some("it-webhook")));
    assert_eq!(body_json(req), json!({"text": "hello"}));

    for (status, body, kind) in [
        (404, "channel_not_found", ErrorKind::NotFound),
        (403, "action_prohibited", ErrorKind::Denied),
        (410, "channel_is_archived", ErrorKind::Conflict),
        (400, "invalid_payload", ErrorKind::InvalidInput),
        (500, "rollup_error", ErrorKind::Unavailable),
    ] {
        let fakes = Fakes::new();
        fakes.http.answer(move |_| Ok(response(status, &[], body)));
        let out = call("slack.post", json!({"connection": "it-webhook", "text": "hello", "mode": "webhook"}), &fakes).await;
        let e = err(&out);
        assert_eq!(e.kind, kind, "{status} {body}: {e:?}");
        assert!(e.message.contains(body), "{e:?}");
    }

    invalid("slack.post", json!({"connection": "c", "text": "x", "mode": "web-api"}), "needs a `channel`").await;
    invalid("slack.post", json!({"connection": "c", "text": "x", "channel": "C1", "mode": "webhook"}), "leave `channel` out").await;
    invalid("slack.post", json!({"connection": "c", "text": ""}), "`text` must not be empty").await;
    invalid("slack.post", json!({"connection": "c", "text": "x", "mode": "rtm"}), "unknown variant `rtm`").await;
}

#[tokio::test]
async fn a_dry_run_post_is_recorded_and_succeeds() {
    let fakes = Fakes::new();
    let all = Arc::new(tested("slack.post").card.info().requested_grants());
    let out = call_with("slack.post", json!({"connection": "it-slack", "channel": "C1", "text": "hi"}), &fakes, all, true).await;
    assert_eq!(out.effects.len(), 1);
    assert_eq!(ok("slack.post", out), json!({"mode": "web-api"}));
    assert!(fakes.http.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Mail

#[tokio::test]
async fn mail_takes_one_address_or_a_list() {
    let fakes = Fakes::new();
    let out = ok(
        "mail.send",
        call("mail.send", json!({"to": "grace.hopper@example.com", "cc": ["it@example.com", "sec@example.com"], "subject": "Ada is locked out", "text": "Hi Grace", "html": "<p>Hi Grace</p>"}), &fakes).await,
    );
    assert_eq!(out, json!({"message_id": "<1@relay.example>", "to": ["grace.hopper@example.com"], "cc": ["it@example.com", "sec@example.com"]}));
    let sent = fakes.mail.sent.lock().unwrap().clone();
    assert_eq!(sent[0].subject, "Ada is locked out");
    assert_eq!(sent[0].html.as_deref(), Some("<p>Hi Grace</p>"));
    assert_eq!(sent[0].cc.len(), 2);

    invalid("mail.send", json!({"to": [], "subject": "s", "text": "t"}), "`to` names no recipient").await;
    invalid("mail.send", json!({"to": "not-an-address", "subject": "s", "text": "t"}), "is not an email address").await;
    invalid("mail.send", json!({"to": "a@example.com, b@example.com", "subject": "s", "text": "t"}), "is not an email address").await;
    invalid("mail.send", json!({"to": "a@example.com", "subject": "s\nBcc: x@evil.example", "text": "t"}), "`subject` must be one line").await;
    invalid("mail.send", json!({"to": "a@example.com", "subject": "s", "text": " "}), "has no body").await;
    invalid("mail.send", json!({"to": 7, "subject": "s", "text": "t"}), "expected a string or a list of strings").await;
}

#[tokio::test]
async fn mail_without_the_grant_is_denied() {
    let fakes = Fakes::new();
    let out = call_with("mail.send", json!({"to": "a@example.com", "subject": "s", "text": "t"}), &fakes, grants(&[]), false).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied);
    assert!(fakes.mail.sent.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// HTTP

#[tokio::test]
async fn http_request_builds_the_request_and_reads_json_or_text() {
    let fakes = Fakes::new();
    fakes.http.answer(|req| {
        Ok(if req.method == HttpMethod::Get {
            response(200, &[("Content-Type", "application/json"), ("X-Page", "1"), ("x-page", "2")], r#"{"id": 7, "devices": []}"#)
        } else {
            response(201, &[("content-type", "text/plain")], "created")
        })
    });
    let out = ok(
        "http.request",
        call(
            "http.request",
            json!({"connection": "hr-api", "method": "get", "path": "/v1/people", "query": {"email": "ada+x@example.com", "tag": ["a b", 2], "skip": null}, "headers": {"Accept": "application/json"}}),
            &fakes,
        )
        .await,
    );
    assert_eq!(out["status"], 200);
    assert_eq!(out["json"], json!({"id": 7, "devices": []}));
    assert!(out.get("body").is_none());
    assert_eq!(out["headers"]["x-page"], "1, 2");
    assert_eq!(out["headers"]["content-type"], "application/json");

    let out = ok(
        "http.request",
        call("http.request", json!({"connection": "hr-api", "method": "POST", "path": "v1/people?dry=1", "json": {"name": "Ada"}}), &fakes).await,
    );
    assert_eq!((out["status"].clone(), out["body"].clone()), (json!(201), json!("created")));

    let reqs = fakes.http.requests();
    assert_eq!(reqs[0].url, "/v1/people?email=ada%2Bx%40example.com&tag=a%20b&tag=2");
    assert_eq!(reqs[0].connection.as_deref(), Some("hr-api"));
    assert_eq!(header(&reqs[0], "accept"), Some("application/json"));
    assert_eq!(reqs[1].url, "v1/people?dry=1");
    assert_eq!(header(&reqs[1], "content-type"), Some("application/json"));
    assert_eq!(body_json(&reqs[1]), json!({"name": "Ada"}));
}

#[tokio::test]
async fn http_request_statuses_outside_expect_status_fail() {
    let fakes = Fakes::new();
    fakes.http.answer(|req| {
        Ok(match req.url.as_str() {
            "/missing" => response(404, &[], r#"{"error":"no such person"}"#),
            "/slow" => response(429, &[("retry-after", "3")], ""),
            _ => response(502, &[], "bad gateway"),
        })
    });
    let get = |path: &str, expect: Value| {
        let mut input = json!({"connection": "hr-api", "method": "GET", "path": path});
        if !expect.is_null() {
            input["expect_status"] = expect;
        }
        call("http.request", input, &fakes)
    };
    let out = get("/missing", Value::Null).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.message, r#"GET /missing through `hr-api`: the remote answered 404: {"error":"no such person"}"#);
    let out = ok("http.request", get("/missing", json!([200, 404])).await);
    assert_eq!(out["status"], 404);
    assert_eq!(ok("http.request", get("/missing", json!(404)).await)["status"], 404);
    assert_eq!(ok("http.request", get("/down", json!("any")).await)["status"], 502);
    let out = get("/slow", Value::Null).await;
    let e = err(&out);
    assert_eq!((e.kind, e.retryable, e.retry_after_ms), (ErrorKind::RateLimited, true, Some(3000)));
    assert_eq!(err(&get("/down", Value::Null).await).kind, ErrorKind::Unavailable);

    invalid("http.request", json!({"connection": "c", "method": "GET", "path": "/", "headers": {"Authorization": "Bearer x"}}), "the connection sets the credentials").await;
    invalid("http.request", json!({"connection": "c", "method": "POST", "path": "/", "json": {}, "body": "x"}), "not both").await;
    invalid("http.request", json!({"connection": "c", "method": "GET", "path": "/a b"}), "put parameters in `query`").await;
    invalid("http.request", json!({"connection": "c", "method": "BREW", "path": "/"}), "unknown variant").await;
    invalid("http.request", json!({"connection": "c", "method": "GET", "path": "/", "query": {"a": {"b": 1}}}), "`query.a` must be").await;
    invalid("http.request", json!({"connection": "c", "method": "GET", "path": "/", "headers": {"x": "a\r\nb: c"}}), "one line").await;
}

#[tokio::test]
async fn http_request_only_through_granted_connections() {
    let fakes = Fakes::new();
    let out = call_with(
        "http.request",
        json!({"connection": "payroll", "method": "GET", "path": "/"}),
        &fakes,
        grants(&["connection:hr-api"]),
        false,
    )
    .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(e.message.contains("connection:payroll"), "{e:?}");
    assert!(fakes.http.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Tables

#[tokio::test]
async fn tables_get_put_delete_find() {
    let fakes = Fakes::new();
    let t = |card: &'static str, input: Value| {
        let fakes = &fakes;
        async move { ok(card, call(card, input, fakes).await) }
    };
    assert_eq!(
        t("tables.get", json!({"table": "mfa-reminders", "key": "00uada"})).await,
        json!({"found": false, "key": "00uada", "value": null})
    );
    let row = json!({"login": "ada.lovelace@example.com", "reminded_at": "2024-05-01T09:00:00Z"});
    assert_eq!(t("tables.put", json!({"table": "mfa-reminders", "key": "00uada", "value": row})).await["outcome"], "changed");
    assert_eq!(t("tables.put", json!({"table": "mfa-reminders", "key": "00uada", "value": row})).await["outcome"], "unchanged");
    t("tables.put", json!({"table": "mfa-reminders", "key": "00ugrace", "value": {"login": "grace", "count": 2}})).await;
    t("tables.put", json!({"table": "other", "key": "00uzed", "value": 1})).await;
    assert_eq!(
        t("tables.get", json!({"table": "mfa-reminders", "key": "00uada"})).await,
        json!({"found": true, "key": "00uada", "value": row})
    );

    let found = t("tables.find", json!({"table": "mfa-reminders", "key_prefix": "00u"})).await;
    assert_eq!(found["count"], 2);
    assert_eq!(found["items"][0], json!({"key": "00uada", "value": row}));
    let found = t("tables.find", json!({"table": "mfa-reminders", "equals": {"count": 2}})).await;
    assert_eq!(found["items"], json!([{"key": "00ugrace", "value": {"login": "grace", "count": 2}}]));

    assert_eq!(t("tables.delete", json!({"table": "mfa-reminders", "key": "00uada"})).await, json!({"outcome": "changed", "key": "00uada"}));
    assert_eq!(t("tables.delete", json!({"table": "mfa-reminders", "key": "00uada"})).await["outcome"], "unchanged");

    invalid("tables.put", json!({"table": "t", "key": "k"}), "missing field `value`").await;
    invalid("tables.get", json!({"table": "", "key": "k"}), "`table` must not be empty").await;
    invalid("tables.get", json!({"table": "t", "key": "a\nb"}), "`key` must be one line").await;
    invalid("tables.find", json!({"table": "t", "limit": 0}), "between 1 and 10000").await;
}

#[tokio::test]
async fn tables_outside_the_granted_ones_are_denied() {
    let fakes = Fakes::new();
    let out = call_with("tables.put", json!({"table": "payroll", "key": "k", "value": 1}), &fakes, grants(&["table:audit"]), false).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied);
    assert!(e.message.contains("table:payroll"), "{e:?}");
    assert!(fakes.tables.rows.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// The seed flows in flows/, against the real cards' schemas

/// The custom cards (not built in) the seed's offboarding flow uses.
const CUSTOM: [&str; 3] = ["acme.jamf-offboard", "acme.zoom-deprovision", "acme.asana-offboard"];

/// Every flow in `flows/` compiles against the built-in cards as they describe
/// themselves (names, versions, input schemas: `with` keys are checked), plus
/// the custom cards the offboarding flow uses (`CUSTOM`).
#[test]
fn the_seed_flows_validate_against_the_built_in_cards() {
    let mut summaries: Vec<lanyard_flow::CardSummary> = lanyard_cards::builtin()
        .iter()
        .map(|b| {
            let card = rt().load(b.wasm).unwrap();
            let info = card.info();
            lanyard_flow::CardSummary::new(&info.name)
                .with_version(&info.version)
                .with_input_schema(info.input_schema.clone())
        })
        .collect();
    summaries.extend(CUSTOM.map(|name| lanyard_flow::CardSummary::new(name).with_version("1.0.0")));
    let catalog = lanyard_flow::StaticCatalog::new(summaries);

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../flows");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = format!("flows/{}", path.file_name().unwrap().to_string_lossy());
            files.push(lanyard_flow::SourceFile::new(name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert_eq!(files.len(), 6, "the five seed use cases and the global error flow");
    let v = lanyard_flow::validate(&files, &catalog);
    assert!(v.diagnostics.is_empty(), "{}", v.render(&files));
    let mut names: Vec<&str> = v.flows.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Failed Runs: Tell IT in Slack",
            "Lockout: Notify the User's Manager",
            "MFA Enrollment Reminder: Email Users Without a Factor",
            "Offboarding: Revoke Sessions + Notify IT",
            "Onboarding: Department Groups for New Hires",
            "Title or Department Change: Re-sync Groups + Notify IT",
        ]
    );
}

// ---------------------------------------------------------------------------
// The seed flows, run: the interpreter, the real built-in cards, fake services

mod flows {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use lanyard_core::history::RunStatus;
    use lanyard_core::ManualClock;
    use lanyard_flow::interp::{CardCall, CardInvoker, CardResult, Env, MemoryJournal, NoHelpers, RecordingSleeper, RunOutcome, RunStart, run_flow};
    use lanyard_flow::model::Flow;

    fn now() -> DateTime<Utc> {
        "2026-11-28T17:13:30Z".parse().unwrap()
    }

    /// The flows in `flows/`, compiled, by file stem.
    fn flow(stem: &str) -> Arc<Flow> {
        static FLOWS: OnceLock<HashMap<String, Arc<Flow>>> = OnceLock::new();
        let flows = FLOWS.get_or_init(|| {
            let mut summaries: Vec<lanyard_flow::CardSummary> = lanyard_cards::builtin()
                .iter()
                .map(|b| {
                    let info = rt().load(b.wasm).unwrap().info().clone();
                    lanyard_flow::CardSummary::new(&info.name).with_version(&info.version).with_input_schema(info.input_schema)
                })
                .collect();
            summaries.extend(CUSTOM.map(|name| lanyard_flow::CardSummary::new(name).with_version("1.0.0")));
            let catalog = lanyard_flow::StaticCatalog::new(summaries);
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../flows");
            let mut out = HashMap::new();
            for stem in ["onboarding", "offboarding", "mfa-reminder", "lockout-manager", "profile-change"] {
                let text = std::fs::read_to_string(dir.join(format!("{stem}.yaml"))).unwrap();
                let files = [lanyard_flow::SourceFile::new(format!("flows/{stem}.yaml"), text)];
                let v = lanyard_flow::validate(&files, &catalog);
                assert!(v.diagnostics.is_empty(), "{}", v.render(&files));
                out.insert(stem.to_string(), v.flows[0].clone());
            }
            out
        });
        flows[stem].clone()
    }

    /// The LogEvent of `flows/samples/<stem>.json` (an Event Hook delivery).
    fn sample(stem: &str) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../flows/samples/{stem}.json"));
        let delivery: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(delivery["eventType"], "com.okta.event_hook");
        delivery["data"]["events"][0].clone()
    }

    /// Runs cards through the runtime with the fakes and the grants each card
    /// asks for; answers the custom cards (`CUSTOM`) itself, as their
    /// stand-ins would, and records their input.
    struct Invoker {
        caps: Capabilities,
        custom: Mutex<Vec<(String, Value)>>,
        /// Custom cards that fail (as their service refusing the token).
        failing: Vec<&'static str>,
    }

    impl Invoker {
        fn inputs(&self, card: &str) -> Vec<Value> {
            self.custom.lock().unwrap().iter().filter(|(c, _)| c == card).map(|(_, i)| i.clone()).collect()
        }
    }

    /// What a custom card answers for `input` when its service says yes.
    fn custom_output(card: &str, input: &Value) -> Value {
        let email = input["user"]["profile"]["email"].clone();
        match card {
            "acme.jamf-offboard" => json!({
                "email": email,
                "devices": [{"id": "17", "name": "Sofia's MacBook Pro", "serial": "C02X", "management_id": "m-17", "last_contact": null}],
                "actions": [{"device_id": "17", "command": "DEVICE_LOCK", "status": "sent", "command_id": "cmd-17"}],
                "sent": 1,
                "pin": "314159"
            }),
            "acme.zoom-deprovision" => json!({"email": email, "zoom_user_id": "zm17", "outcome": "changed", "status": "inactive", "previous_status": "active"}),
            "acme.asana-offboard" => {
                let moved = if input["transfer_to"].is_string() { 3 } else { 0 };
                json!({
                    "email": email, "asana_user_id": "1201", "outcome": "changed", "status": "removed",
                    "transfer_to": input["transfer_to"], "tasks_reassigned": moved, "tasks_left": 3 - moved,
                    "workspaces": [{"gid": "1200", "name": "Acme", "open_tasks": 3, "reassigned": moved, "removed": true, "was_member": true}]
                })
            }
            other => panic!("no answer for the custom card {other}"),
        }
    }

    #[async_trait]
    impl CardInvoker for Invoker {
        async fn invoke(&self, call: CardCall) -> CardResult {
            if let Some(card) = CUSTOM.iter().find(|c| **c == call.card.name) {
                self.custom.lock().unwrap().push((card.to_string(), call.input.clone()));
                let label = format!("{card}@1.0.0");
                if self.failing.contains(card) {
                    return CardResult::err(&label, CardError::denied("the service answered 401"));
                }
                return CardResult::ok(&label, custom_output(card, &call.input));
            }
            let t = tested(&call.card.name);
            let request = CallRequest {
                grants: Arc::new(t.card.info().requested_grants()),
                caps: self.caps.clone(),
                ..CallRequest::new(call.ctx, call.input)
            };
            let out = rt().call(&t.card, request).await;
            CardResult {
                card: t.card.label().to_string(),
                result: out.result,
                fuel_used: out.fuel_used,
                logs: out.logs,
                effects: out.effects,
            }
        }
    }

    /// A corner of the sandbox org (seed 7): the people the samples name.
    fn org() -> Arc<FakeOkta> {
        let okta = FakeOkta::default();
        {
            let mut org = okta.org.lock().unwrap();
            let mut add = |id: &str, login: &str, status: &str, extra: Value, groups: &[&str]| {
                let mut u = user(id, login, status, extra);
                u.created = "2021-01-27T17:12:28.210Z".into();
                org.users.insert(id.into(), u);
                for g in groups {
                    org.members.insert((g.to_string(), id.to_string()));
                }
            };
            add("00ul8sKB6HNYfqwB6Uk3", "sofia.williams@acme.example", "DEPROVISIONED",
                json!({"firstName": "Sofia", "lastName": "Williams", "department": "Engineering", "title": "Senior Software Engineer", "managerId": "00unaomi"}),
                &["00geveryone", "00gengineering", "00ggithub", "00gjira"]);
            add("00unaomi", "naomi.watson2@acme.example", "ACTIVE",
                json!({"firstName": "Naomi", "lastName": "Watson", "department": "Engineering", "title": "Engineering Manager"}),
                &["00geveryone", "00gengineering"]);
            add("00utfbe2OVw9NgPvjAHq", "julia.harris@acme.example", "STAGED",
                json!({"firstName": "Julia", "lastName": "Harris", "department": "Engineering", "title": "Software Engineer"}),
                &["00geveryone", "00gengineering"]);
            add("00uYDLPpHJbWyWh4FxiE", "caleb.reyes@acme.example", "LOCKED_OUT",
                json!({"firstName": "Caleb", "lastName": "Reyes", "department": "Engineering", "managerId": "00unaomi"}),
                &["00geveryone", "00gengineering"]);
            add("00ug6t7ubqOczZ6h5aHt", "nia.bell@acme.example", "ACTIVE",
                json!({"firstName": "Nia", "lastName": "Bell", "department": "Marketing", "title": "Growth Marketer"}),
                &["00geveryone", "00gsales", "00gsalesforce", "00ggong"]);
            for (id, name, t) in [
                ("00geveryone", "Everyone", "BUILT_IN"),
                ("00gengineering", "Engineering", "OKTA_GROUP"),
                ("00gsales", "Sales", "OKTA_GROUP"),
                ("00gmarketing", "Marketing", "OKTA_GROUP"),
                ("00ggithub", "GitHub", "OKTA_GROUP"),
                ("00gjira", "Jira", "OKTA_GROUP"),
                ("00gsalesforce", "Salesforce", "OKTA_GROUP"),
                ("00ggong", "Gong", "OKTA_GROUP"),
                ("00gbamboohr", "BambooHR", "OKTA_GROUP"),
            ] {
                org.groups.insert(id.into(), group(id, name, t));
            }
        }
        Arc::new(okta)
    }

    struct World {
        fakes: Fakes,
        invoker: Arc<Invoker>,
    }

    /// The fakes, with these custom cards failing.
    fn world(failing: &[&'static str]) -> World {
        let fakes = Fakes { okta: org(), ..Fakes::new() };
        fakes.http.answer(slack_ok);
        let invoker = Arc::new(Invoker {
            caps: Capabilities {
                clock: Arc::new(ManualClock::new(now())),
                ..fakes.caps()
            },
            custom: Mutex::default(),
            failing: failing.to_vec(),
        });
        World { fakes, invoker }
    }

    impl World {
        async fn run(&self, stem: &str, event: Value) -> RunOutcome {
            self.run_at(stem, event, now()).await
        }

        /// A run whose `now()` is `at` (the cards' clock stays at `now()`).
        async fn run_at(&self, stem: &str, event: Value, at: DateTime<Utc>) -> RunOutcome {
            let env = Env {
                cards: self.invoker.clone(),
                journal: Arc::new(MemoryJournal::new()),
                clock: Arc::new(ManualClock::new(at)),
                flows: Arc::new(NoHelpers),
                sleeper: Arc::new(RecordingSleeper::default()),
                links: Arc::new(lanyard_flow::NoSignalLinks),
                limits: Default::default(),
            };
            run_flow(&flow(stem), RunStart::new(format!("run-{stem}"), event), &env).await
        }

        fn slack_texts(&self) -> Vec<String> {
            self.fakes.http.requests().iter().map(|r| body_json(r)["text"].as_str().unwrap().to_string()).collect()
        }

        fn members(&self, user: &str) -> BTreeSet<String> {
            let org = self.fakes.okta.org.lock().unwrap();
            org.members.iter().filter(|(_, u)| u == user).map(|(g, _)| org.groups[g].name.clone()).collect()
        }
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn succeeded(out: &RunOutcome) {
        assert_eq!(out.status, RunStatus::Succeeded, "{out:#?}");
    }

    #[tokio::test]
    async fn onboarding_puts_a_new_engineer_in_github_and_jira_once() {
        let w = world(&[]);
        let event = sample("onboarding");
        assert!(flow("onboarding").trigger.okta().unwrap().matches(&event).unwrap());
        let out = w.run("onboarding", event.clone()).await;
        succeeded(&out);
        assert_eq!(out.output, Some(json!({"user": "julia.harris@acme.example", "department": "Engineering"})));
        assert_eq!(w.members("00utfbe2OVw9NgPvjAHq"), names(&["Everyone", "Engineering", "GitHub", "Jira"]));
        // The membership events it caused would start it again: nothing changes.
        let before = w.fakes.okta.writes().len();
        succeeded(&w.run("onboarding", event).await);
        assert_eq!(w.members("00utfbe2OVw9NgPvjAHq").len(), 4);
        assert_eq!(w.fakes.okta.writes().len(), before + 2, "two compare-before-write no-ops");

        // A department with no app groups stops, saying why.
        w.fakes.okta.org.lock().unwrap().users.get_mut("00utfbe2OVw9NgPvjAHq").unwrap().profile.insert("department".into(), json!("Legal"));
        let out = w.run("onboarding", sample("onboarding")).await;
        assert_eq!(out.status, RunStatus::Stopped);
        assert!(out.reason.unwrap().contains("`Legal`"));
    }

    #[tokio::test]
    async fn offboarding_revokes_removes_locks_tells_it_and_audits() {
        let w = world(&[]);
        let out = w.run("offboarding", sample("offboarding")).await;
        succeeded(&out);
        let writes = w.fakes.okta.writes();
        assert!(writes.contains(&"clear-sessions 00ul8sKB6HNYfqwB6Uk3 oauth_tokens=true".to_string()), "{writes:?}");
        assert_eq!(w.members("00ul8sKB6HNYfqwB6Uk3"), names(&["Everyone"]));
        let jamf = w.invoker.inputs("acme.jamf-offboard");
        assert_eq!(jamf.len(), 1);
        assert_eq!(jamf[0]["user"]["id"], "00ul8sKB6HNYfqwB6Uk3");
        assert_eq!((jamf[0]["connection"].clone(), jamf[0]["action"].clone()), (json!("jamf"), json!("lock")));
        let zoom = w.invoker.inputs("acme.zoom-deprovision");
        assert_eq!(zoom, [json!({"user": jamf[0]["user"], "connection": "zoom"})]);
        // Asana: the open tasks go to the manager (managerId 00unaomi).
        let asana = w.invoker.inputs("acme.asana-offboard");
        assert_eq!(asana, [json!({"user": jamf[0]["user"], "connection": "asana", "transfer_to": "naomi.watson2@acme.example"})]);

        let texts = w.slack_texts();
        assert_eq!(texts.len(), 1, "{texts:?}");
        let text = &texts[0];
        for needle in [
            "*Sofia Williams* (sofia.williams@acme.example)",
            "Department: Engineering",
            "Sessions and OAuth tokens: revoked",
            "Groups removed: 3",
            "Macs locked: 1",
            "Zoom: inactive",
            "Asana: removed, open tasks moved to naomi.watson2@acme.example: 3",
        ] {
            assert!(text.contains(needle), "`{needle}` not in:\n{text}");
        }
        let req = &w.fakes.http.requests()[0];
        assert_eq!((req.connection.as_deref(), body_json(req)["channel"].clone()), (Some("it-slack"), json!("#it-ops")));

        let audit = w.fakes.tables.rows.lock().unwrap()[&("offboarding-audit".to_string(), "00ul8sKB6HNYfqwB6Uk3".to_string())].clone();
        assert_eq!(audit["login"], "sofia.williams@acme.example");
        assert_eq!(audit["sessions_revoked"], true);
        assert_eq!(audit["groups_removed"], json!(["Engineering", "GitHub", "Jira"]));
        assert_eq!(audit["devices"], json!(["Sofia's MacBook Pro"]));
        assert_eq!(audit["pin"], "314159");
        assert_eq!((audit["zoom"].clone(), audit["asana_tasks_to"].clone(), audit["asana_tasks_moved"].clone()), (json!("inactive"), json!("naomi.watson2@acme.example"), json!(3)));
        assert_eq!(audit["deactivated_at"], "2026-11-28T17:12:57.546Z");
        assert_eq!(audit["slack_ts"], "1714557600.000100");
    }

    #[tokio::test]
    async fn offboarding_alerts_it_when_sessions_or_jamf_zoom_or_asana_fail_and_carries_on() {
        let w = world(&CUSTOM);
        w.fakes.okta.fail("clear-sessions", CardError::denied("okta: E0000006: You do not have permission"));
        let out = w.run("offboarding", sample("offboarding")).await;
        succeeded(&out);
        let texts = w.slack_texts();
        assert_eq!(texts.len(), 5, "{texts:?}");
        assert!(texts[0].contains("could not revoke sessions and OAuth tokens (denied: okta: E0000006"), "{}", texts[0]);
        assert!(texts[1].contains("JAMF could not lock their Macs (denied:"), "{}", texts[1]);
        assert!(texts[2].contains("Zoom could not deactivate their account (denied: the service answered 401). Please deactivate it by hand."), "{}", texts[2]);
        assert!(texts[3].contains("Asana could not take them out (denied: the service answered 401). Please reassign their tasks"), "{}", texts[3]);
        for needle in ["NOT revoked", "Macs locked: unknown", "Zoom: unknown, see above", "Asana: unknown, see above"] {
            assert!(texts[4].contains(needle), "`{needle}` not in:\n{}", texts[4]);
        }
        assert_eq!(w.members("00ul8sKB6HNYfqwB6Uk3"), names(&["Everyone"]), "the groups still went");
        let audit = w.fakes.tables.rows.lock().unwrap()[&("offboarding-audit".to_string(), "00ul8sKB6HNYfqwB6Uk3".to_string())].clone();
        assert_eq!((audit["sessions_revoked"].clone(), audit["devices"].clone(), audit["pin"].clone()), (json!(false), Value::Null, Value::Null));
        assert_eq!((audit["zoom"].clone(), audit["asana_tasks_moved"].clone()), (Value::Null, Value::Null));
    }

    #[tokio::test]
    async fn offboarding_leaves_asana_tasks_with_a_leaver_who_has_no_manager() {
        let w = world(&[]);
        w.fakes.okta.org.lock().unwrap().users.get_mut("00ul8sKB6HNYfqwB6Uk3").unwrap().profile.remove("managerId");
        succeeded(&w.run("offboarding", sample("offboarding")).await);
        assert_eq!(w.invoker.inputs("acme.asana-offboard")[0]["transfer_to"], Value::Null);
        let texts = w.slack_texts();
        assert!(texts[0].contains("Asana: removed, open tasks left with them (no manager): 3"), "{}", texts[0]);
    }

    #[tokio::test]
    async fn lockout_mails_the_manager_or_tells_it() {
        let w = world(&[]);
        succeeded(&w.run("lockout-manager", sample("lockout-manager")).await);
        let sent = w.fakes.mail.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, vec!["naomi.watson2@acme.example"]);
        assert_eq!(sent[0].subject, "Caleb Reyes is locked out of Okta");
        assert!(sent[0].text.contains("at 2026-11-28T17:12:57.632Z after too many failed sign-ins from 127.0.0.1"), "{}", sent[0].text);

        // A manager whose profile has a Slack member id hears in Slack instead.
        w.fakes.okta.org.lock().unwrap().users.get_mut("00unaomi").unwrap().profile.insert("slackUserId".into(), json!("U0NAOMI001"));
        succeeded(&w.run("lockout-manager", sample("lockout-manager")).await);
        assert_eq!(w.fakes.mail.sent.lock().unwrap().len(), 1);
        let dm = body_json(&w.fakes.http.requests()[0]);
        assert_eq!(dm["channel"], "U0NAOMI001");
        assert!(dm["text"].as_str().unwrap().starts_with(":lock: Hi Naomi, Okta locked the account of Caleb Reyes (caleb.reyes@acme.example)"), "{dm}");

        w.fakes.okta.org.lock().unwrap().users.get_mut("00uYDLPpHJbWyWh4FxiE").unwrap().profile.remove("managerId");
        succeeded(&w.run("lockout-manager", sample("lockout-manager")).await);
        assert_eq!(w.fakes.mail.sent.lock().unwrap().len(), 1);
        assert!(w.slack_texts()[1].contains("caleb.reyes@acme.example is locked out of Okta and has no manager"));
    }

    #[tokio::test]
    async fn a_department_change_resyncs_groups_and_never_loops() {
        let w = world(&[]);
        let event = sample("profile-change");
        let f = flow("profile-change");
        let trigger = f.trigger.okta().unwrap();
        assert!(trigger.matches(&event).unwrap());
        let mut other = event.clone();
        other["debugContext"]["debugData"]["changedAttributes"] = json!("nickName,mobilePhone");
        assert!(!trigger.matches(&other).unwrap(), "other attributes do not start it");
        other["debugContext"]["debugData"] = json!({});
        assert!(!trigger.matches(&other).unwrap());

        // No snapshot yet, and none needed: the old department's group and
        // the app groups the map gives another department go.
        succeeded(&w.run("profile-change", event.clone()).await);
        assert_eq!(w.members("00ug6t7ubqOczZ6h5aHt"), names(&["Everyone", "Marketing"]));
        let text = w.slack_texts()[0].clone();
        assert!(text.contains("Groups added: Marketing\nGroups removed: Gong, Sales, Salesforce\n"), "in Okta's order: {text}");
        assert!(text.ends_with("Access review (groups outside the department map, kept): none"), "{text}");
        let snapshot = w.fakes.tables.rows.lock().unwrap()[&("profile-snapshots".to_string(), "00ug6t7ubqOczZ6h5aHt".to_string())].clone();
        assert_eq!((snapshot["department"].clone(), snapshot["title"].clone()), (json!("Marketing"), json!("Growth Marketer")));

        // It never writes a profile, so it raises no update_profile event of its own.
        assert!(w.fakes.okta.writes().iter().all(|c| !c.starts_with("update-profile")));

        // Again, with a group given by hand that the map does not name: it
        // stays, and IT is asked to review it; nothing else changes.
        {
            let mut org = w.fakes.okta.org.lock().unwrap();
            org.groups.insert("00gboard".into(), group("00gboard", "Board Observers", "OKTA_GROUP"));
            org.members.insert(("00gboard".into(), "00ug6t7ubqOczZ6h5aHt".into()));
        }
        succeeded(&w.run("profile-change", event).await);
        assert_eq!(w.members("00ug6t7ubqOczZ6h5aHt"), names(&["Everyone", "Marketing", "Board Observers"]));
        let text = w.slack_texts()[1].clone();
        assert!(text.contains("Department: Marketing → Marketing"), "{text}");
        assert!(text.contains("Groups added: none") && text.contains("Groups removed: none"), "{text}");
        assert!(text.ends_with("Access review (groups outside the department map, kept): Board Observers"), "{text}");
    }

    #[tokio::test]
    async fn a_membership_okta_refuses_is_reported_and_the_others_go_on() {
        let w = world(&[]);
        let nia = "00ug6t7ubqOczZ6h5aHt";
        w.fakes.okta.fail(&format!("remove-from-group 00gsalesforce {nia}"), CardError::denied("okta: E0000006: You do not have permission"));
        w.fakes.okta.fail(&format!("add-to-group 00gmarketing {nia}"), CardError::new(ErrorKind::Conflict, "okta: E0000001: group membership is managed by a rule"));
        succeeded(&w.run("profile-change", sample("profile-change")).await);
        assert_eq!(w.members(nia), names(&["Everyone", "Salesforce"]), "Sales and Gong went; Salesforce stayed");
        let texts = w.slack_texts();
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert_eq!(
            texts[0],
            ":warning: nia.bell@acme.example moved to Marketing: could not remove them from Salesforce (denied: okta: E0000006: You do not have permission). Please remove them by hand."
        );
        assert_eq!(
            texts[1],
            ":warning: nia.bell@acme.example moved to Marketing: could not add them to Marketing (conflict: okta: E0000001: group membership is managed by a rule). Please add them by hand."
        );
        assert!(texts[2].contains("Groups added: none\nGroups removed: Gong, Sales\n"), "{}", texts[2]);
    }

    #[tokio::test]
    async fn mfa_reminders_go_every_three_days_and_stop_after_enrollment() {
        let w = world(&[]);
        {
            let mut org = w.fakes.okta.org.lock().unwrap();
            // A newcomer (one day old) is not reminded yet.
            let mut fresh = user("00ufresh", "fresh.hire@acme.example", "ACTIVE", json!({"firstName": "Fresh"}));
            fresh.created = (now() - Duration::days(1)).to_rfc3339();
            org.users.insert(fresh.id.clone(), fresh);
            // Naomi has an active factor; Nia only a pending one.
            org.factors.insert("00unaomi".into(), vec![Factor { id: "f1".into(), factor_type: "push".into(), provider: "OKTA".into(), status: "ACTIVE".into(), created: None }]);
            org.factors.insert("00ug6t7ubqOczZ6h5aHt".into(), vec![Factor { id: "f2".into(), factor_type: "sms".into(), provider: "OKTA".into(), status: "PENDING_ACTIVATION".into(), created: None }]);
        }
        let fire = json!({"scheduled": "2026-11-28T14:00:00Z"});
        let out = w.run("mfa-reminder", fire.clone()).await;
        succeeded(&out);
        // One page of users (the org is small), each user's factors read with it.
        let search = w.fakes.okta.calls().into_iter().find(|c| c.starts_with("list-users-page")).unwrap();
        assert!(search.contains(r#"status eq \"ACTIVE\" and created lt \"2026-11-25T17:13:30"#) && search.contains(r#""limit":200"#), "{search}");
        assert_eq!(out.output, Some(json!({ "checked": 2, "pages": 1 })), "{out:#?}");

        let reminded = |w: &World| -> BTreeSet<String> {
            w.fakes.mail.sent.lock().unwrap().iter().flat_map(|m| m.to.clone()).collect()
        };
        // Active, older than three days (Okta's search, as the fake reads
        // `created lt`, leaves the newcomer out), without an ACTIVE factor.
        assert_eq!(reminded(&w), names(&["nia.bell@acme.example"]));
        let mail = w.fakes.mail.sent.lock().unwrap()[0].clone();
        assert!(mail.text.starts_with("Hi Nia,") && mail.text.contains("https://acme.okta.com/enduser/settings"), "{}", mail.text);
        let row = |w: &World| w.fakes.tables.rows.lock().unwrap()[&("mfa-reminders".to_string(), "00ug6t7ubqOczZ6h5aHt".to_string())].clone();
        assert_eq!(
            row(&w),
            json!({
                "login": "nia.bell@acme.example",
                "email": "nia.bell@acme.example",
                "first_reminded_at": "2026-11-28T17:13:30.000Z",
                "last_reminded_at": "2026-11-28T17:13:30.000Z",
                "reminders": 1,
                "message_id": row(&w)["message_id"],
            })
        );

        // Two days later: not yet. Three days later: again (and the newcomer,
        // by then four days old, for the first time).
        let to_nia = |w: &World| w.fakes.mail.sent.lock().unwrap().iter().filter(|m| m.to == ["nia.bell@acme.example"]).count();
        succeeded(&w.run_at("mfa-reminder", fire.clone(), now() + Duration::days(2)).await);
        assert_eq!(w.fakes.mail.sent.lock().unwrap().len(), 1, "not reminded twice within three days");
        succeeded(&w.run_at("mfa-reminder", fire.clone(), now() + Duration::days(3)).await);
        assert_eq!(to_nia(&w), 2);
        assert_eq!(reminded(&w), names(&["nia.bell@acme.example", "fresh.hire@acme.example"]));
        let again = row(&w);
        assert_eq!((again["first_reminded_at"].clone(), again["reminders"].clone()), (json!("2026-11-28T17:13:30.000Z"), json!(2)));
        assert_eq!(again["last_reminded_at"], "2026-12-01T17:13:30.000Z");

        // Nia enrolls: the reminders stop; her row stays as their record.
        w.fakes.okta.org.lock().unwrap().factors.get_mut("00ug6t7ubqOczZ6h5aHt").unwrap()[0].status = "ACTIVE".into();
        succeeded(&w.run_at("mfa-reminder", fire, now() + Duration::days(9)).await);
        assert_eq!(to_nia(&w), 2);
        assert_eq!(row(&w)["reminders"], 2);
    }

    #[tokio::test]
    async fn mfa_reminders_keep_a_refused_address_and_stop_when_the_relay_fails() {
        let w = world(&[]);
        // Nia is the one user without an ACTIVE factor.
        w.fakes.okta.org.lock().unwrap().factors.insert("00unaomi".into(), vec![Factor { id: "f1".into(), factor_type: "push".into(), provider: "OKTA".into(), status: "ACTIVE".into(), created: None }]);
        let fire = json!({"scheduled": "2026-11-28T14:00:00Z"});
        let row = |w: &World| w.fakes.tables.rows.lock().unwrap().get(&("mfa-reminders".to_string(), "00ug6t7ubqOczZ6h5aHt".to_string())).cloned();

        // The relay refuses Nia's address: kept in her row, the sweep goes on.
        w.fakes.mail.refuse.lock().unwrap().insert("nia.bell@acme.example".into(), CardError::invalid_input("mail relay refused a recipient or address: 550 no such user"));
        let out = w.run("mfa-reminder", fire.clone()).await;
        succeeded(&out);
        assert_eq!(
            row(&w),
            Some(json!({
                "login": "nia.bell@acme.example",
                "email": "nia.bell@acme.example",
                "first_reminded_at": null,
                "last_reminded_at": "2026-11-28T17:13:30.000Z",
                "reminders": 0,
                "message_id": null,
                "undeliverable": "mail relay refused a recipient or address: 550 no such user",
            }))
        );
        // The address is fixed: three days later she is reminded, and the row says so.
        w.fakes.mail.refuse.lock().unwrap().clear();
        succeeded(&w.run_at("mfa-reminder", fire.clone(), now() + Duration::days(3)).await);
        let r = row(&w).unwrap();
        assert_eq!((r["reminders"].clone(), r["first_reminded_at"].clone(), r.get("undeliverable")), (json!(1), json!("2026-12-01T17:13:30.000Z"), None));

        // The relay is down: the run fails once, saying why, instead of
        // going through every user.
        w.fakes.mail.refuse.lock().unwrap().insert("*".into(), CardError::unavailable("mail relay 127.0.0.1:25 could not be reached"));
        let out = w.run_at("mfa-reminder", fire, now() + Duration::days(6)).await;
        assert_eq!(out.status, RunStatus::Failed, "{out:#?}");
        let e = out.error.expect("the failure");
        assert!(e.message.starts_with("The MFA sweep stopped at nia.bell@acme.example: the mail relay failed (unavailable: "), "{}", e.message);
        assert_eq!(row(&w).unwrap()["reminders"], 1, "nothing recorded for a reminder not sent");
    }
}
