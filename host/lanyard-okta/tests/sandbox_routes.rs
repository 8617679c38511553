//! Every Okta API route the sandbox serves, driven with generated requests over
//! a real socket.
//!
//! The routes are the sandbox's own table ([`ROUTES`]); each must be an
//! operation of Okta's OpenAPI spec (`tests/data/management-openapi.yaml`)
//! with the OAuth scope the spec names, and every spec operation outside the
//! table must be refused as unknown. Then proptest generates requests for the
//! routes: path parameters from real ids and hostile text, every query
//! parameter the spec declares for the operation (and some it does not) with
//! filter expressions, unusual whitespace, huge and mistyped values, bodies from
//! plausible to malformed and oversized, and tokens from the admin's to none.
//! Each answer must come within a generous bound, with a status the spec
//! declares for the operation or one of Okta's documented error codes, in
//! Okta's error shape for every 4xx; the process's memory must stay bounded.
//!
//! A test binary of its own: it measures the memory of its process, which
//! tests running beside it would blur.

#[path = "common/okta_spec.rs"]
mod okta_spec;

use lanyard_core::ManualClock;
use lanyard_sandbox::okta::{ROUTES, Route, RunningSandbox, SandboxConfig, SandboxOrg};
use okta_spec::{oauth_scopes, parameters, resolve, spec};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest any answer may take ("does not hang", not a performance bound).
const ANSWER_BOUND: Duration = Duration::from_secs(10);
/// How much the process may grow over the whole run. A request body is at most
/// 1 MiB; before the lexer fix one filter grew it by gigabytes a second.
const MEMORY_BOUND: u64 = 256 << 20;
/// Generated requests (proptest cases).
const CASES: u32 = 1500;

/// Okta's documented error codes the sandbox answers with, and the HTTP status
/// each comes with (Okta's "Error codes" reference).
const OKTA_ERRORS: &[(&str, u16)] = &[
    ("E0000001", 400), // API validation exception
    ("E0000003", 400), // the request body was not well-formed
    ("E0000006", 403), // access denied
    ("E0000007", 404), // resource not found
    ("E0000008", 404), // the requested path was not found
    ("E0000011", 401), // invalid token provided
    ("E0000016", 403), // activation failed because the user is already active
    ("E0000022", 405), // the endpoint does not support the provided HTTP method
    ("E0000030", 400), // invalid date
    ("E0000031", 400), // invalid search criteria
    ("E0000032", 403), // unlock is not allowed for this user
    ("E0000038", 403), // not allowed in the user's current status
    ("E0000047", 429), // rate limit exceeded
];

/// Whitespace a filter may contain besides the space: each of these (but the
/// ASCII ones) made the old lexer emit empty words forever.
const SPACES: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2003}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// What the spec says about one operation, as far as requests and statuses go.
#[derive(Debug, Clone)]
struct Operation {
    route: Route,
    id: String,
    statuses: BTreeSet<u16>,
    query: Vec<QueryParam>,
    takes_body: bool,
}

#[derive(Debug, Clone)]
struct QueryParam {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Integer,
    Boolean,
    Enum(Vec<String>),
    Text,
}

fn operation(spec: &Value, route: Route) -> Option<Operation> {
    let item = spec["paths"].get(route.path)?;
    let op = item.get(route.method.to_lowercase())?;
    let query = parameters(spec, item, op)
        .into_iter()
        .filter(|p| p["in"] == "query")
        .map(|p| {
            let schema = resolve(spec, &p["schema"]);
            let kind = match (schema["type"].as_str(), schema.get("enum")) {
                (_, Some(Value::Array(e))) => Kind::Enum(
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect(),
                ),
                (Some("integer"), _) => Kind::Integer,
                (Some("boolean"), _) => Kind::Boolean,
                _ => Kind::Text,
            };
            QueryParam {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                kind,
            }
        })
        .collect();
    Some(Operation {
        route,
        id: op["operationId"].as_str().unwrap_or("?").to_string(),
        statuses: op["responses"]
            .as_object()?
            .keys()
            .filter_map(|s| s.parse().ok())
            .collect(),
        query,
        takes_body: op.get("requestBody").is_some(),
    })
}

/// Whether a request path (raw segments) is one of the sandbox's templates.
fn routed(method: &str, segs: &[&str]) -> bool {
    ROUTES.iter().any(|r| {
        let t: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
        r.method == method
            && t.len() == segs.len()
            && t.iter()
                .zip(segs)
                .all(|(t, s)| t.starts_with('{') || t == s)
    })
}

// ------------------------------------------------------------- generation

#[derive(Debug, Clone, Copy)]
enum Token {
    Admin,
    ReadOnly,
    Bogus,
    Missing,
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Raw(Vec<u8>),
    /// This many bytes of a JSON string.
    Big(usize),
}

#[derive(Clone)]
struct Case {
    /// Index into the operations; `None`: an unrouted path.
    op: Option<usize>,
    method: String,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    /// Appended to the query as is (bad percent-encoding and the like).
    raw_query: String,
    body: Body,
    token: Token,
}

/// Short enough to read in a failure message.
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            Body::None => "none".to_string(),
            Body::Json(v) => shorten(&v.to_string()),
            Body::Raw(b) => shorten(&format!("{:?}", String::from_utf8_lossy(b))),
            Body::Big(n) => format!("a JSON string of {n} bytes"),
        };
        f.debug_struct("Case")
            .field("op", &self.op)
            .field("method", &self.method)
            .field(
                "segments",
                &self
                    .segments
                    .iter()
                    .map(|s| shorten(&format!("{s:?}")))
                    .collect::<Vec<_>>(),
            )
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(k, v)| (shorten(&format!("{k:?}")), shorten(&format!("{v:?}"))))
                    .collect::<Vec<_>>(),
            )
            .field("raw_query", &self.raw_query)
            .field("body", &body)
            .field("token", &self.token)
            .finish()
    }
}

/// Ids of the org, for path parameters that name something real.
#[derive(Debug, Clone)]
struct Pool {
    ids: Vec<String>,
}

fn spaced(words: Vec<(String, char)>) -> String {
    words.into_iter().map(|(w, s)| format!("{w}{s}")).collect()
}

fn space() -> impl Strategy<Value = char> {
    prop_oneof![3 => Just(' '), 2 => proptest::sample::select(SPACES)]
}

/// Something shaped like an Okta filter, with any whitespace between words.
fn expression() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        proptest::sample::select(vec![
            "status",
            "profile.login",
            "profile.department",
            "id",
            "created",
            "lastUpdated",
            "type",
            "profile.name",
            "eventType",
            "target.id",
            "actor.id",
            "published",
        ])
        .prop_map(String::from),
        proptest::sample::select(vec![
            "eq",
            "ne",
            "sw",
            "co",
            "gt",
            "ge",
            "lt",
            "le",
            "pr",
            "EQ",
            "and",
            "or",
            "not",
            "AND",
            "(",
            ")",
            "((",
            "))",
            "\"ACTIVE\"",
            "\"Sales\"",
            "\"2024-01-01T00:00:00.000Z\"",
            "true",
            "null",
            "1.5",
            "-7",
            "\"",
            "\\",
            "\"a\\\"b\"",
            "in",
            "[",
            "]",
        ])
        .prop_map(String::from),
        "\\PC{1,8}",
    ];
    prop::collection::vec((word, space()), 0..24).prop_map(spaced)
}

/// Text from plain to hostile: unusual whitespace, any Unicode, control
/// characters, and long runs (past the query limit too).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => expression(),
        2 => "\\PC{0,24}",
        2 => any::<String>(),
        1 => prop::collection::vec(proptest::sample::select(SPACES), 1..8)
            .prop_map(|v| v.into_iter().collect()),
        // Long runs: past the sandbox's 16 KiB query limit, within the 64 KiB
        // a request target can have at all.
        1 => (1usize..30_000).prop_map(|n| "a".repeat(n)),
        1 => (1usize..2_000, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
        1 => proptest::sample::select(vec!["", "-1", "0", "99999999999999999999", "1e9", "NaN", "%00"])
            .prop_map(String::from),
    ]
}

fn value(kind: &Kind) -> BoxedStrategy<String> {
    let typed = match kind {
        Kind::Integer => proptest::sample::select(vec![
            "1",
            "2",
            "5",
            "200",
            "201",
            "1000",
            "1001",
            "10000",
            "10001",
            "0",
            "-1",
            "99999999999999999999",
            "1.5",
            "ten",
            " 3",
        ])
        .prop_map(String::from)
        .boxed(),
        Kind::Boolean => proptest::sample::select(vec!["true", "false", "TRUE", "1", "yes", ""])
            .prop_map(String::from)
            .boxed(),
        Kind::Enum(values) => proptest::sample::select(values.clone()).boxed(),
        Kind::Text => proptest::sample::select(vec![
            "2026-03-01T00:00:00.000Z",
            "2026-03-02T09:30:00Z",
            "not a date",
            "Sales",
            "a",
        ])
        .prop_map(String::from)
        .boxed(),
    };
    prop_oneof![3 => typed, 2 => text()].boxed()
}

fn segment(pool: &Pool) -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(pool.ids.clone()),
        1 => text(),
    ]
    // Empty and dot segments would make another path (the client refuses them too).
    .prop_filter("a path segment", |s| !matches!(s.as_str(), "" | "." | ".."))
    .prop_map(|s| s.chars().take(2_000).collect())
    .boxed()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like what the operation takes, with hostile values.
fn plausible_body(op: &Operation) -> BoxedStrategy<Value> {
    match (op.route.method, op.route.path) {
        ("POST", "/api/v1/eventHooks") => (
            text(),
            prop::collection::vec(
                prop_oneof![
                    Just("user.lifecycle.suspend".to_string()),
                    Just("group.user_membership.add".to_string()),
                    text()
                ],
                0..4,
            ),
            // Loopback or not a URL: verification must not wait on the network.
            proptest::sample::select(vec!["http://127.0.0.1:1/hook", "http://[::1]:1/h", "not a url", "ftp://x"]),
            prop::collection::vec((text(), text()), 0..3),
        )
            .prop_map(|(name, items, uri, headers)| {
                json!({
                    "name": name,
                    "events": {"type": "EVENT_TYPE", "items": items},
                    "channel": {"type": "HTTP", "version": "1.0.0", "config": {
                        "uri": uri,
                        "headers": headers.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
                        "authScheme": {"type": "HEADER", "key": "Authorization", "value": "secret"},
                    }},
                })
            })
            .boxed(),
        _ => (text(), text(), text(), json_value(), prop::collection::vec(text(), 0..3))
            .prop_map(|(first, last, login, extra, groups)| {
                json!({
                    "profile": {
                        "firstName": first, "lastName": last, "login": login,
                        "email": format!("{login}@acme.example"), "title": extra,
                    },
                    "groupIds": groups,
                })
            })
            .boxed(),
    }
}

fn body(op: &Operation) -> BoxedStrategy<Body> {
    let hostile = prop_oneof![
        json_value().prop_map(Body::Json),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Raw),
        (1usize..4096).prop_map(|n| Body::Raw(("[".repeat(n) + &"]".repeat(n)).into_bytes())),
        prop_oneof![Just(900 << 10), Just((1 << 20) + 1), Just(3 << 20)].prop_map(Body::Big),
    ];
    if op.takes_body {
        prop_oneof![4 => plausible_body(op).prop_map(Body::Json), 2 => hostile, 1 => Just(Body::None)]
            .boxed()
    } else {
        prop_oneof![6 => Just(Body::None), 1 => hostile].boxed()
    }
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        14 => Just(Token::Admin),
        3 => Just(Token::ReadOnly),
        2 => Just(Token::Bogus),
        1 => Just(Token::Missing),
    ]
}

fn raw_query() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(String::new()),
        1 => proptest::sample::select(vec!["%FF%FE", "%", "a=%zz", "&&=&", "limit=%00", "search=%C2%A0"])
            .prop_map(String::from),
    ]
}

fn routed_case(index: usize, op: &Operation, pool: &Pool) -> BoxedStrategy<Case> {
    let params = op
        .route
        .path
        .split('/')
        .filter(|s| s.starts_with('{'))
        .count();
    let declared = op.query.clone();
    let query = prop::collection::vec(
        prop_oneof![
            6 => proptest::sample::select((0..declared.len().max(1)).collect::<Vec<_>>())
                .prop_flat_map(move |i| match declared.get(i) {
                    Some(p) => (Just(p.name.clone()), value(&p.kind)).boxed(),
                    None => (text(), text()).boxed(),
                }),
            1 => (text(), text()),
        ],
        0..5,
    );
    let method = op.route.method.to_string();
    let template = op.route.path;
    (
        prop::collection::vec(segment(pool), params),
        query,
        raw_query(),
        body(op),
        token(),
    )
        .prop_map(move |(values, query, raw_query, body, token)| {
            let mut values = values.into_iter();
            let segments = template
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('{') {
                        values.next().expect("one value per parameter")
                    } else {
                        s.to_string()
                    }
                })
                .collect();
            Case {
                op: Some(index),
                method: method.clone(),
                segments,
                query,
                raw_query,
                body,
                token,
            }
        })
        .boxed()
}

/// A path under `/api/v1` the sandbox has no route for (checked when sent).
fn unrouted_case() -> BoxedStrategy<Case> {
    (
        proptest::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
        prop::collection::vec(
            prop_oneof![
                proptest::sample::select(vec![
                    "users",
                    "groups",
                    "logs",
                    "eventHooks",
                    "lifecycle",
                    "apps",
                    "roles",
                    "me",
                    "factors",
                    "sessions",
                    "activate",
                    "x",
                ])
                .prop_map(String::from),
                text(),
            ],
            0..5,
        ),
        token(),
    )
        .prop_map(|(method, rest, token)| {
            let mut segments = vec!["api".to_string(), "v1".to_string()];
            segments.extend(rest.into_iter().map(|s| s.chars().take(2_000).collect()));
            Case {
                op: None,
                method: method.to_string(),
                segments,
                query: Vec::new(),
                raw_query: String::new(),
                body: Body::None,
                token,
            }
        })
        .prop_filter("a path segment", |c| {
            c.segments
                .iter()
                .all(|s| !matches!(s.as_str(), "" | "." | ".."))
        })
        .boxed()
}

fn cases(ops: &[Operation], pool: &Pool) -> BoxedStrategy<Case> {
    let routed: Vec<BoxedStrategy<Case>> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| routed_case(i, op, pool))
        .collect();
    prop_oneof![
        12 => proptest::strategy::Union::new(routed),
        1 => unrouted_case(),
    ]
    .boxed()
}

// ------------------------------------------------------------ the checks

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

struct World {
    http: reqwest::Client,
    base: String,
    org: Arc<SandboxOrg>,
    ops: Vec<Operation>,
}

/// Everything wrong with the answer to one case (empty: all is well).
async fn check(
    w: &World,
    case: &Case,
    statuses: &std::sync::Mutex<BTreeMap<u16, usize>>,
) -> Vec<String> {
    let path: String = case
        .segments
        .iter()
        .map(|s| format!("/{}", encode(s)))
        .collect();
    // A request target cannot be longer than 64 KiB (`http::Uri`): pairs
    // that would make it so are left out.
    let mut query = String::new();
    for (k, v) in &case.query {
        let pair = format!("{}={}", encode(k), encode(v));
        if w.base.len() + path.len() + query.len() + pair.len() + 2 < 60_000 {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&pair);
        }
    }
    if !case.raw_query.is_empty() {
        query = if query.is_empty() {
            case.raw_query.clone()
        } else {
            format!("{query}&{}", case.raw_query)
        };
    }
    let url = if query.is_empty() {
        format!("{}{path}", w.base)
    } else {
        format!("{}{path}?{query}", w.base)
    };
    let name = format!("{} {}", case.method, shorten(&url));
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("a method");
    let mut req = w.http.request(method, &url);
    req = match case.token {
        Token::Admin => req.header("authorization", format!("SSWS {}", w.org.admin_token())),
        Token::ReadOnly => req.header("authorization", format!("SSWS {}", w.org.readonly_token())),
        Token::Bogus => req.header("authorization", "SSWS 00notatoken"),
        Token::Missing => req,
    };
    req = match &case.body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Raw(b) => req
            .header("content-type", "application/json")
            .body(b.clone()),
        Body::Big(n) => req
            .header("content-type", "application/json")
            .body(format!("\"{}\"", "a".repeat(*n))),
    };
    let started = Instant::now();
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return vec![format!("{name}: no answer within {ANSWER_BOUND:?}: {e}")],
    };
    let status = resp.status().as_u16();
    *statuses.lock().unwrap().entry(status).or_default() += 1;
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return vec![format!("{name}: the answer broke off: {e}")],
    };
    if started.elapsed() > ANSWER_BOUND {
        return vec![format!("{name}: answered after {:?}", started.elapsed())];
    }

    let mut errs = Vec::new();
    let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let op = case.op.map(|i| &w.ops[i]);
    if op.is_none() && routed(&case.method, &raw) {
        // Generated into a real route by chance: only its status is checked.
        return Vec::new();
    }
    let declared = op.is_some_and(|op| op.statuses.contains(&status));
    let error: Option<Value> = serde_json::from_slice(&body).ok();
    let code = error
        .as_ref()
        .and_then(|e| e["errorCode"].as_str())
        .unwrap_or("")
        .to_string();
    let documented = OKTA_ERRORS.iter().find(|(c, _)| *c == code);
    match status {
        200..=299 if op.is_none() => errs.push(format!(
            "{name}: {status} for a route the sandbox does not list (nor Okta's spec for it)"
        )),
        200..=299 if !declared => errs.push(format!(
            "{name}: {status} is not declared for {}",
            op_id(op)
        )),
        200..=299 => {}
        400..=499 => {
            errs.extend(error_shape(&name, status, error.as_ref(), &body));
            match documented {
                Some((_, s)) if *s != status => errs.push(format!(
                    "{name}: {code} comes with {s} in Okta's documentation, not {status}"
                )),
                Some(_) => {}
                None if declared => {}
                None => errs.push(format!(
                    "{name}: {status} {code} is neither declared for {} nor a documented Okta error",
                    op_id(op)
                )),
            }
            if op.is_none() && !matches!(code.as_str(), "E0000008" | "E0000022" | "E0000011") {
                errs.push(format!("{name}: an unrouted path answered {status} {code}"));
            }
        }
        _ => errs.push(format!(
            "{name}: {status} {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )),
    }
    errs
}

fn op_id(op: Option<&Operation>) -> &str {
    op.map_or("an unrouted path", |o| o.id.as_str())
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 160 {
        s.to_string()
    } else {
        format!(
            "{}… ({} bytes)",
            s.chars().take(160).collect::<String>(),
            s.len()
        )
    }
}

/// Okta's error body: `errorCode`, `errorSummary`, `errorLink`, `errorId`
/// strings and `errorCauses`, an array of `{errorSummary}`.
fn error_shape(name: &str, status: u16, error: Option<&Value>, body: &[u8]) -> Vec<String> {
    let Some(Value::Object(e)) = error else {
        return vec![format!(
            "{name}: {status} without Okta's error body: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )];
    };
    let mut errs = Vec::new();
    for field in ["errorCode", "errorSummary", "errorLink", "errorId"] {
        if e.get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            errs.push(format!("{name}: {status} error without `{field}`"));
        }
    }
    match e.get("errorCauses") {
        Some(Value::Array(causes)) if causes.iter().all(|c| c["errorSummary"].is_string()) => {}
        other => errs.push(format!("{name}: {status} error with errorCauses {other:?}")),
    }
    errs
}

/// Resident memory of this process (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Samples the process's memory until dropped; past `limit` it ends the process
/// at once, before a runaway allocation takes the machine with it.
struct MemoryWatch {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemoryWatch {
    fn start(baseline: u64, limit: u64) -> MemoryWatch {
        let peak = Arc::new(AtomicU64::new(baseline));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let now = rss();
                p.fetch_max(now, Ordering::Relaxed);
                if now > baseline + limit {
                    eprintln!(
                        "the sandbox grew this process by {} MiB, past the bound of {} MiB: stopping",
                        (now - baseline) >> 20,
                        limit >> 20
                    );
                    std::process::exit(101);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        MemoryWatch {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn every_sandbox_route_answers_generated_requests_as_okta_documents() {
    let spec = spec();

    // The table against the spec: every route is an operation there, with the
    // scope the spec names.
    let mut problems = Vec::new();
    let mut ops = Vec::new();
    for route in ROUTES {
        match operation(spec, *route) {
            Some(op) => ops.push(op),
            None => problems.push(format!(
                "the sandbox serves {} {}, which Okta's spec does not have",
                route.method, route.path
            )),
        }
        let scopes = oauth_scopes(&spec["paths"][route.path][route.method.to_lowercase()]);
        if !scopes.contains(&route.scope) {
            problems.push(format!(
                "{} {}: the sandbox asks for {}, the spec names {scopes:?}",
                route.method, route.path, route.scope
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

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
    let http = reqwest::Client::builder()
        .timeout(ANSWER_BOUND)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let users = org.users();
    let mut ids: Vec<String> = users.iter().take(12).map(|u| u.id.clone()).collect();
    ids.extend(users.iter().take(3).map(|u| u.login().to_string()));
    ids.push("me".into());
    ids.extend(org.groups().iter().take(8).map(|g| g.id.clone()));
    let world = World {
        http,
        base: sandbox.base_url.clone(),
        org: org.clone(),
        ops,
    };
    for hook in [json!("http://127.0.0.1:1/a"), json!("http://127.0.0.1:1/b")] {
        let created: Value = rt.block_on(async {
            world
                .http
                .post(format!("{}/api/v1/eventHooks", world.base))
                .header("authorization", format!("SSWS {}", org.admin_token()))
                .json(&json!({
                    "name": "fuzz", "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.suspend"]},
                    "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": hook}},
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        ids.push(created["id"].as_str().expect("a hook id").to_string());
    }
    let pool = Pool { ids };

    // Spec operations outside the table are refused as unknown, not served.
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let mut unserved = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let upper = method.to_uppercase();
            if item.get(method).is_none() || served.contains(&(upper.clone(), path.clone())) {
                continue;
            }
            let concrete: String = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('{') {
                        "/x1".to_string()
                    } else {
                        format!("/{s}")
                    }
                })
                .collect();
            let segs: Vec<&str> = concrete.split('/').filter(|s| !s.is_empty()).collect();
            if routed(&upper, &segs) {
                continue; // `/users/{id}/...` instantiated into a served template
            }
            let status = rt.block_on(async {
                world
                    .http
                    .request(
                        reqwest::Method::from_bytes(upper.as_bytes()).unwrap(),
                        format!("{}{concrete}", world.base),
                    )
                    .header("authorization", format!("SSWS {}", org.admin_token()))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            if !matches!(status, 404 | 405) {
                unserved.insert(format!("{upper} {concrete}"), status);
            }
        }
    }
    assert!(
        unserved.is_empty(),
        "the sandbox answers operations outside its route table: {unserved:?}"
    );

    // Generated requests.
    let baseline = rss();
    let watch = MemoryWatch::start(baseline, MEMORY_BOUND);
    let strategy = cases(&world.ops, &pool);
    let statuses: std::sync::Mutex<BTreeMap<u16, usize>> = Default::default();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 256,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    });
    let seen: std::cell::RefCell<BTreeSet<String>> = Default::default();
    let result = runner.run(&strategy, |case| {
        let errs = rt.block_on(check(&world, &case, &statuses));
        if let Some(i) = case.op {
            seen.borrow_mut().insert(world.ops[i].id.clone());
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(TestCaseError::fail(errs.join("\n")))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    let grown = watch.peak().saturating_sub(baseline);
    drop(watch);
    eprintln!(
        "{} generated requests over {} operations, answered {:?} (status: count); memory grew by at most {} MiB",
        CASES,
        seen.len(),
        statuses.lock().unwrap(),
        grown >> 20
    );
    let missed: Vec<&str> = world
        .ops
        .iter()
        .map(|o| o.id.as_str())
        .filter(|id| !seen.contains(*id))
        .collect();
    assert!(missed.is_empty(), "operations never generated: {missed:?}");
    assert!(grown < MEMORY_BOUND, "memory grew by {} MiB", grown >> 20);
    rt.block_on(sandbox.stop()).unwrap();
}
