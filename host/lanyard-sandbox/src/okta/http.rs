//! The sandbox's HTTP face: Okta's Management API routes, the token endpoint,
//! and the `/sandbox/v1` admin routes, served with hyper on a bound listener.
//!
//! Each request: injected fault? → credential (SSWS, bearer or DPoP) → the
//! scope or admin role the route needs → rate-limit bookkeeping → the route,
//! which runs its change under the org lock and answers in Okta's shapes and
//! with Okta's headers (`Link`, `X-Rate-Limit-*`, `X-Okta-Request-Id`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

mod apps;
mod groups;
mod users;

use super::delivery::HookTarget;
use super::filter;
use super::oauth;
use super::state::{ApiError, Ctx, HookRec, OrgState, Principal, Role, ts};
use super::{Exchange, FaultRule, SandboxOrg};

// What one request may make the sandbox hold, besides what hyper bounds
// itself (the request head). Filters are bounded in `filter`, pages by Okta's
// documented `limit` maxima, and listings keep ids, rendering only the page.
const MAX_REQUEST_BODY: usize = 1024 * 1024;
const MAX_QUERY: usize = 16 * 1024;
/// How much of a too-large body is read (and dropped) before answering.
const MAX_DRAIN: usize = 8 * 1024 * 1024;

/// Serve `org` on `listener` until `shutdown` completes, then let open
/// connections finish (at most 5 s).
pub async fn serve<F>(
    listener: TcpListener,
    org: Arc<SandboxOrg>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "sandbox accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let org = Arc::clone(&org);
                let service = hyper::service::service_fn(move |req| {
                    let org = Arc::clone(&org);
                    async move { Ok::<_, Infallible>(handle(org, peer, req).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "sandbox connection ended with an error");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}

struct Req {
    method: Method,
    path: String,
    segs: Vec<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    /// `http://<host>` as the client addressed us: links point back there.
    base: String,
    peer: SocketAddr,
    request_id: String,
}

impl Req {
    fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|_| ApiError::new(400, "E0000003", "The request body was not well-formed."))
    }
}

/// An answer before it becomes a hyper response (so it can be recorded).
struct Out {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Out {
    fn json(status: u16, body: Value) -> Out {
        Out {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Out {
        Out {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    fn header(mut self, k: &str, v: impl Into<String>) -> Out {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

fn error_out(e: ApiError) -> Out {
    let mut body = serde_json::to_value(&e.body).expect("an error body serializes");
    body["errorId"] = json!(format!(
        "oae{}",
        &super::delivery::random_uuid().replace('-', "")[..19]
    ));
    body["errorLink"] = json!(e.body.error_code);
    let mut out = Out::json(e.status, body);
    if let Some(w) = e.www_authenticate {
        out = out.header("www-authenticate", w);
    }
    out
}

async fn handle(
    org: Arc<SandboxOrg>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let request_id = super::delivery::random_uuid().replace('-', "")[..20].to_string();
    // The body is read before any answer, refusals included (see `read_body`).
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return to_response(error_out(e), &request_id),
    };
    if parts.uri.query().is_some_and(|q| q.len() > MAX_QUERY) {
        let out = error_out(ApiError::validation(
            "query",
            &format!("the query string is longer than {MAX_QUERY} bytes"),
        ));
        return to_response(out, &request_id);
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let raw_path = parts.uri.path().to_string();
    let segs: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let r = Req {
        method: parts.method.clone(),
        path: raw_path,
        segs,
        query,
        headers: parts.headers,
        body,
        base: format!("http://{host}"),
        peer,
        request_id: request_id.clone(),
    };
    org.note_base(&r.base);
    let out = route(&org, &r).await;
    org.record(|| Exchange {
        method: r.method.to_string(),
        path: r.path.clone(),
        query: r.query.clone(),
        request_headers: r
            .headers
            .iter()
            .map(|(k, v)| {
                let name = k.as_str().to_ascii_lowercase();
                let value = if matches!(name.as_str(), "authorization" | "dpop") {
                    "<redacted>".to_string()
                } else {
                    v.to_str().unwrap_or("").to_string()
                };
                (name, value)
            })
            .collect(),
        request_body: if r.path == "/oauth2/v1/token" {
            let form: Map<String, Value> = url::form_urlencoded::parse(&r.body)
                .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                .collect();
            Some(Value::Object(form))
        } else {
            serde_json::from_slice(&r.body).ok()
        },
        status: out.status,
        response_headers: out.headers.clone(),
        response_body: out.body.clone(),
    });
    to_response(out, &request_id)
}

/// The request body, at most [`MAX_REQUEST_BODY`] bytes. The rest of a larger
/// one is read and dropped (up to [`MAX_DRAIN`]), so the client reads the
/// answer instead of a connection reset while it is still sending.
async fn read_body(mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| ApiError::new(400, "E0000003", "The request body was not well-formed."))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > MAX_DRAIN {
            break;
        }
        if seen <= MAX_REQUEST_BODY {
            buf.extend_from_slice(&data);
        }
    }
    if seen > MAX_REQUEST_BODY {
        // Okta's documented codes have none for "too large": its validation
        // error, as for any other request it will not take.
        return Err(ApiError::validation(
            "body",
            &format!("the request body is larger than {MAX_REQUEST_BODY} bytes"),
        ));
    }
    Ok(buf.freeze())
}

fn to_response(out: Out, request_id: &str) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-okta-request-id", request_id);
    let body = match &out.body {
        Some(v) => {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
            Bytes::from(serde_json::to_vec(v).expect("json serializes"))
        }
        None => Bytes::new(),
    };
    for (k, v) in &out.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            builder = builder.header(k.as_str(), v);
        }
    }
    builder
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// One route of Okta's Management API that the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// The path template exactly as Okta's OpenAPI spec spells it.
    pub path: &'static str,
    /// The OAuth scope a service app's token needs (the spec's `security`).
    pub scope: &'static str,
}

const fn r(method: &'static str, path: &'static str, scope: &'static str) -> Route {
    Route {
        method,
        path,
        scope,
    }
}

/// Every Okta API route the sandbox serves; anything else answers 404
/// (`E0000008`) or, on a known path, 405 (`E0000022`). The property test in
/// `tests/sandbox_routes.rs` checks each against Okta's spec.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    r("GET",    "/api/v1/users",                                         "okta.users.read"),
    r("POST",   "/api/v1/users",                                         "okta.users.manage"),
    r("GET",    "/api/v1/users/{id}",                                    "okta.users.read"),
    r("POST",   "/api/v1/users/{id}",                                    "okta.users.manage"),
    r("GET",    "/api/v1/users/{id}/groups",                             "okta.users.read"),
    r("GET",    "/api/v1/users/{id}/appLinks",                           "okta.users.read"),
    r("GET",    "/api/v1/users/{userId}/factors",                        "okta.users.read"),
    r("DELETE", "/api/v1/users/{userId}/sessions",                       "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/activate",                 "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/reactivate",               "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/deactivate",               "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/suspend",                  "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/unsuspend",                "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/unlock",                   "okta.users.manage"),
    r("GET",    "/api/v1/groups",                                        "okta.groups.read"),
    r("GET",    "/api/v1/groups/{groupId}",                              "okta.groups.read"),
    r("GET",    "/api/v1/groups/{groupId}/users",                        "okta.groups.read"),
    r("PUT",    "/api/v1/groups/{groupId}/users/{userId}",               "okta.groups.manage"),
    r("DELETE", "/api/v1/groups/{groupId}/users/{userId}",               "okta.groups.manage"),
    r("GET",    "/api/v1/logs",                                          "okta.logs.read"),
    r("GET",    "/api/v1/eventHooks",                                    "okta.eventHooks.read"),
    r("POST",   "/api/v1/eventHooks",                                    "okta.eventHooks.manage"),
    r("GET",    "/api/v1/eventHooks/{eventHookId}",                      "okta.eventHooks.read"),
    r("DELETE", "/api/v1/eventHooks/{eventHookId}",                      "okta.eventHooks.manage"),
    r("POST",   "/api/v1/eventHooks/{eventHookId}/lifecycle/activate",   "okta.eventHooks.manage"),
    r("POST",   "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", "okta.eventHooks.manage"),
    r("POST",   "/api/v1/eventHooks/{eventHookId}/lifecycle/verify",     "okta.eventHooks.manage"),
    r("DELETE", "/api/v1/users/{id}",                                    "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/expire_password",          "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/expire_password_with_temp_password", "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/reset_password",           "okta.users.manage"),
    r("POST",   "/api/v1/users/{id}/lifecycle/reset_factors",            "okta.users.manage"),
    r("DELETE", "/api/v1/users/{userId}/factors/{factorId}",             "okta.users.manage"),
    r("POST",   "/api/v1/groups",                                        "okta.groups.manage"),
    r("PUT",    "/api/v1/groups/{groupId}",                              "okta.groups.manage"),
    r("DELETE", "/api/v1/groups/{groupId}",                              "okta.groups.manage"),
    r("GET",    "/api/v1/groups/rules",                                  "okta.groups.read"),
    r("POST",   "/api/v1/groups/rules",                                  "okta.groups.manage"),
    r("GET",    "/api/v1/groups/rules/{groupRuleId}",                    "okta.groups.read"),
    r("PUT",    "/api/v1/groups/rules/{groupRuleId}",                    "okta.groups.manage"),
    r("DELETE", "/api/v1/groups/rules/{groupRuleId}",                    "okta.groups.manage"),
    r("POST",   "/api/v1/groups/rules/{groupRuleId}/lifecycle/activate", "okta.groups.manage"),
    r("POST",   "/api/v1/groups/rules/{groupRuleId}/lifecycle/deactivate", "okta.groups.manage"),
    r("GET",    "/api/v1/apps",                                          "okta.apps.read"),
    r("GET",    "/api/v1/apps/{appId}",                                  "okta.apps.read"),
    r("GET",    "/api/v1/apps/{appId}/users",                            "okta.apps.read"),
    r("POST",   "/api/v1/apps/{appId}/users",                            "okta.apps.manage"),
    r("GET",    "/api/v1/apps/{appId}/users/{userId}",                   "okta.apps.read"),
    r("POST",   "/api/v1/apps/{appId}/users/{userId}",                   "okta.apps.manage"),
    r("DELETE", "/api/v1/apps/{appId}/users/{userId}",                   "okta.apps.manage"),
    r("GET",    "/api/v1/apps/{appId}/groups",                           "okta.apps.read"),
    r("GET",    "/api/v1/apps/{appId}/groups/{groupId}",                 "okta.apps.read"),
    r("PUT",    "/api/v1/apps/{appId}/groups/{groupId}",                 "okta.apps.manage"),
    r("DELETE", "/api/v1/apps/{appId}/groups/{groupId}",                 "okta.apps.manage"),
];

/// Why a request matched no route.
enum Miss {
    /// No route has this path.
    Path,
    /// A route has this path, with another method.
    Method,
}

/// The route of `method` and a raw (percent-encoded) path's segments; a
/// literal segment beats a `{parameter}` (`/users/me` is `/users/{id}`).
fn find_route(method: &str, segs: &[&str]) -> Result<&'static Route, Miss> {
    let mut best: Option<(usize, &'static Route)> = None;
    let mut path_known = false;
    for route in ROUTES {
        let Some(literal) = match_template(route.path, segs) else {
            continue;
        };
        path_known = true;
        if route.method == method && best.is_none_or(|(l, _)| literal > l) {
            best = Some((literal, route));
        }
    }
    match best {
        Some((_, route)) => Ok(route),
        None if path_known => Err(Miss::Method),
        None => Err(Miss::Path),
    }
}

/// How many literal segments of `template` match `segs`, if all of it matches.
fn match_template(template: &str, segs: &[&str]) -> Option<usize> {
    let tsegs: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if tsegs.len() != segs.len() {
        return None;
    }
    let mut literal = 0;
    for (t, s) in tsegs.iter().zip(segs) {
        if t.starts_with('{') {
            continue;
        }
        if t != s {
            return None;
        }
        literal += 1;
    }
    Some(literal)
}

/// The Okta scope an OAuth token needs for `method path` (percent-encoded path).
pub fn required_scope(method: &str, path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    find_route(method, &segs).ok().map(|route| route.scope)
}

fn path_not_found() -> ApiError {
    ApiError::new(404, "E0000008", "The requested path was not found")
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "E0000022",
        "The endpoint does not support the provided HTTP method",
    )
}

async fn route(org: &SandboxOrg, r: &Req) -> Out {
    let api = r.path.starts_with("/api/") || r.path.starts_with("/oauth2/");
    if api && let Some(fault) = org.take_fault(r.method.as_str(), &r.path) {
        return fault_out(org, &fault);
    }
    if r.path == "/oauth2/v1/token" {
        return token_route(org, r);
    }
    if r.path.starts_with("/sandbox/v1/") {
        return match authenticate(org, r) {
            Ok(Principal::User {
                role: Role::SuperAdmin,
                ..
            }) => sandbox_route(org, r).await,
            Ok(_) => error_out(ApiError::forbidden()),
            Err(out) => out,
        };
    }
    let segs: Vec<&str> = r.segs.iter().map(String::as_str).collect();
    // Templates match on the raw path so an encoded `/` stays inside its segment.
    let raw: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
    let (bucket, scope) = match find_route(r.method.as_str(), &raw) {
        Ok(route) => (format!("{} {}", route.method, route.path), route.scope),
        Err(Miss::Path) => return error_out(path_not_found()),
        Err(Miss::Method) => return error_out(method_not_allowed()),
    };
    let principal = match authenticate(org, r) {
        Ok(p) => p,
        Err(out) => return out,
    };
    let allowed = match &principal {
        Principal::User {
            role: Role::SuperAdmin,
            ..
        } => Ok(()),
        Principal::User {
            role: Role::ReadOnlyAdmin,
            ..
        } => {
            if r.method == Method::GET {
                Ok(())
            } else {
                Err(ApiError::forbidden())
            }
        }
        Principal::App { scopes, .. } => {
            if scopes.contains(scope) {
                Ok(())
            } else {
                let mut e = ApiError::forbidden();
                e.www_authenticate = Some(format!(
                    "Bearer authorization_uri=\"{}/oauth2/v1/authorize\", realm=\"IdpApiRealm\", scope=\"{scope}\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"{}\"",
                    r.base, r.path
                ));
                Err(e)
            }
        }
    };
    if let Err(e) = allowed {
        return error_out(e);
    }
    let (limit, remaining, reset, exhausted) = rate_account(org, &bucket);
    let out = if exhausted {
        error_out(ApiError::new(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        ))
    } else {
        let ctx = Ctx {
            principal,
            ip: r.peer.ip().to_string(),
            user_agent: r.header("user-agent").unwrap_or("unknown").to_string(),
            request_id: r.request_id.clone(),
        };
        api_route(org, r, &segs, &ctx)
            .await
            .unwrap_or_else(error_out)
    };
    out.header("x-rate-limit-limit", limit.to_string())
        .header("x-rate-limit-remaining", remaining.to_string())
        .header("x-rate-limit-reset", reset.to_string())
}

fn rate_account(org: &SandboxOrg, bucket: &str) -> (u64, u64, i64, bool) {
    let now = org.now().timestamp();
    let window = now.div_euclid(60);
    let limit = org.config.rate_limit_per_minute;
    let mut rate = org.rate.lock().expect("rate lock");
    let entry = rate.entry(bucket.to_string()).or_insert((window, 0));
    if entry.0 != window {
        *entry = (window, 0);
    }
    entry.1 += 1;
    let used = entry.1;
    let enforced = org.config.enforce_rate_limits;
    let exhausted = enforced && used > limit;
    // Unenforced, the bucket never reads empty: a client that waits for the
    // reset on `remaining: 0` (as lanyard's does) would otherwise throttle
    // itself against a limit that does not exist.
    let remaining = if enforced {
        limit.saturating_sub(used)
    } else {
        limit.saturating_sub(used).max(1)
    };
    (limit, remaining, (window + 1) * 60, exhausted)
}

fn fault_out(org: &SandboxOrg, f: &FaultRule) -> Out {
    if f.status == 429 {
        let reset = org.now().timestamp() + f.reset_after_seconds as i64;
        return error_out(ApiError::new(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        ))
        .header(
            "x-rate-limit-limit",
            org.config.rate_limit_per_minute.to_string(),
        )
        .header("x-rate-limit-remaining", "0")
        .header("x-rate-limit-reset", reset.to_string());
    }
    let (code, summary) = match f.status {
        503 => ("E0000010", "Service is in read only mode"),
        _ => ("E0000009", "Internal Server Error"),
    };
    error_out(ApiError::new(f.status, code, summary))
}

fn authenticate(org: &SandboxOrg, r: &Req) -> Result<Principal, Out> {
    let invalid = || error_out(ApiError::new(401, "E0000011", "Invalid token provided"));
    let Some(auth) = r.header("authorization") else {
        return Err(invalid());
    };
    let (scheme, token) = auth.split_once(' ').unwrap_or((auth, ""));
    let token = token.trim();
    match scheme {
        "SSWS" => org.lock().ssws.get(token).cloned().ok_or_else(invalid),
        "Bearer" | "DPoP" => {
            let htu = format!("{}{}", r.base, r.path);
            let now = org.now();
            let mut s = org.lock();
            oauth::resource_principal(
                &mut s,
                now,
                scheme,
                token,
                r.header("dpop"),
                r.method.as_str(),
                &htu,
                org.config.dpop_resource_nonce,
            )
            .map_err(|(e, nonce)| {
                let out = error_out(e);
                match nonce {
                    Some(n) => out.header("dpop-nonce", n),
                    None => out,
                }
            })
        }
        _ => Err(invalid()),
    }
}

fn token_route(org: &SandboxOrg, r: &Req) -> Out {
    if r.method != Method::POST {
        return Out::json(
            405,
            json!({"error": "invalid_request", "error_description": "The token endpoint only accepts POST."}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&r.body).into_owned().collect();
    let token_url = format!("{}/oauth2/v1/token", r.base);
    let now = org.now();
    let answer = oauth::token(&mut org.lock(), now, &form, r.header("dpop"), &token_url);
    let mut out = Out::json(answer.status, answer.body)
        .header("cache-control", "no-store")
        .header("pragma", "no-cache");
    if let Some(n) = answer.dpop_nonce {
        out = out.header("dpop-nonce", n);
    }
    out
}

// ------------------------------------------------------------------ routes

async fn api_route(org: &SandboxOrg, r: &Req, segs: &[&str], ctx: &Ctx) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    match (r.method.clone(), &segs[2..]) {
        (Method::GET, ["users"]) => users::list(org, r),
        (Method::POST, ["users"]) => {
            let body = r.json()?;
            let profile = body
                .get("profile")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| {
                    ApiError::validation("profile", "profile: The field cannot be left blank")
                })?;
            let has_password = body
                .pointer("/credentials/password/value")
                .and_then(Value::as_str)
                .is_some_and(|p| !p.is_empty());
            let activate = r.q("activate").is_none_or(|v| v != "false");
            let group_ids: Vec<String> = match body.get("groupIds") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|g| {
                        g.as_str().map(String::from).ok_or_else(|| {
                            ApiError::validation("groupIds", "groupIds: must be group ids")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(ApiError::validation(
                        "groupIds",
                        "groupIds: must be an array",
                    ));
                }
            };
            let id = org.mutate(
                |s, now| s.create_user(now, ctx, profile, has_password, activate, &group_ids),
                base,
            )?;
            Ok(Out::json(200, org.lock().users[&id].to_json(base)))
        }
        // The current user: the admin an SSWS token was made by. A service
        // app's token has no user, so Okta answers as for an unknown id.
        (Method::GET, ["users", "me"]) => match &ctx.principal {
            Principal::User { id, .. } => Ok(Out::json(200, org.lock().user(id)?.to_json(base))),
            Principal::App { .. } => Ok(Out::json(200, org.lock().user("me")?.to_json(base))),
        },
        (Method::GET, ["users", id]) => Ok(Out::json(200, org.lock().user(id)?.to_json(base))),
        (Method::DELETE, ["users", id]) => users::delete(org, r, ctx, id),
        (Method::POST, ["users", id]) => {
            let body = r.json()?;
            let uid = org.lock().user_id(id)?;
            match body.get("profile") {
                None | Some(Value::Null) => {}
                Some(Value::Object(changes)) => {
                    let changes = changes.clone();
                    org.mutate(|s, now| s.update_profile(now, ctx, &uid, &changes), base)?;
                }
                Some(_) => {
                    return Err(ApiError::validation(
                        "profile",
                        "profile: must be an object",
                    ));
                }
            }
            Ok(Out::json(200, org.lock().users[&uid].to_json(base)))
        }
        (Method::GET, ["users", id, "groups"]) => {
            let s = org.lock();
            let uid = s.user_id(id)?;
            Ok(Out::json(
                200,
                Value::Array(s.groups_of(&uid).iter().map(|g| g.to_json(base)).collect()),
            ))
        }
        (Method::GET, ["users", id, "appLinks"]) => {
            let s = org.lock();
            let uid = s.user_id(id)?;
            Ok(Out::json(200, Value::Array(s.app_links(&uid, base))))
        }
        (Method::GET, ["users", id, "factors"]) => {
            let s = org.lock();
            let uid = s.user_id(id)?;
            let factors = s
                .factors
                .get(&uid)
                .map(|fs| fs.iter().map(|f| f.to_json(base, &uid)).collect())
                .unwrap_or_default();
            Ok(Out::json(200, Value::Array(factors)))
        }
        (Method::DELETE, ["users", id, "factors", fid]) => {
            users::unenroll_factor(org, r, ctx, id, fid)
        }
        (Method::POST, ["users", id, "lifecycle", "expire_password"]) => {
            users::expire_password(org, r, ctx, id, false)
        }
        (
            Method::POST,
            [
                "users",
                id,
                "lifecycle",
                "expire_password_with_temp_password",
            ],
        ) => users::expire_password(org, r, ctx, id, true),
        (Method::POST, ["users", id, "lifecycle", "reset_password"]) => {
            users::reset_password(org, r, ctx, id)
        }
        (Method::POST, ["users", id, "lifecycle", "reset_factors"]) => {
            users::reset_factors(org, r, ctx, id)
        }
        (Method::DELETE, ["users", id, "sessions"]) => {
            let oauth_tokens = r.q("oauthTokens") == Some("true");
            org.mutate(|s, now| s.clear_sessions(now, ctx, id, oauth_tokens), base)?;
            Ok(Out::empty(204))
        }
        (Method::POST, ["users", id, "lifecycle", op]) => {
            org.mutate(|s, now| s.lifecycle(now, ctx, id, op), base)?;
            if matches!(*op, "activate" | "reactivate") {
                let send_email = r.q("sendEmail").map_or(*op == "activate", |v| v == "true");
                if send_email {
                    return Ok(Out::json(200, json!({})));
                }
                let token = org.lock().random_token(20);
                return Ok(Out::json(
                    200,
                    json!({"activationToken": token, "activationUrl": format!("{base}/welcome/{token}")}),
                ));
            }
            Ok(Out::empty(200))
        }
        (Method::GET, ["groups"]) => list_groups(org, r),
        (Method::POST, ["groups"]) => groups::create(org, r, ctx),
        // Rules before `{groupId}`: `rules` is a literal segment.
        (Method::GET, ["groups", "rules"]) => groups::list_rules(org, r),
        (Method::POST, ["groups", "rules"]) => groups::create_rule(org, r),
        (Method::GET, ["groups", "rules", id]) => groups::get_rule(org, r, id),
        (Method::PUT, ["groups", "rules", id]) => groups::replace_rule(org, r, id),
        (Method::DELETE, ["groups", "rules", id]) => groups::delete_rule(org, r, ctx, id),
        (Method::POST, ["groups", "rules", id, "lifecycle", op]) => {
            groups::rule_lifecycle(org, r, ctx, id, op)
        }
        (Method::GET, ["groups", gid]) => Ok(Out::json(200, org.lock().group(gid)?.to_json(base))),
        (Method::PUT, ["groups", gid]) => groups::replace(org, r, ctx, gid),
        (Method::DELETE, ["groups", gid]) => groups::delete(org, r, ctx, gid),
        (Method::GET, ["groups", gid, "users"]) => groups::members(org, r, gid),
        (Method::PUT, ["groups", gid, "users", uid]) => {
            org.mutate(|s, now| s.assign(now, ctx, gid, uid), base)?;
            Ok(Out::empty(204))
        }
        (Method::DELETE, ["groups", gid, "users", uid]) => {
            org.mutate(|s, now| s.unassign(now, ctx, gid, uid), base)?;
            Ok(Out::empty(204))
        }
        (Method::GET, ["apps"]) => apps::list(org, r),
        (Method::GET, ["apps", app]) => apps::get(org, r, app),
        (Method::GET, ["apps", app, "users"]) => apps::list_users(org, r, app),
        (Method::POST, ["apps", app, "users"]) => apps::assign_user(org, r, ctx, app),
        (Method::GET, ["apps", app, "users", uid]) => apps::get_user(org, r, app, uid),
        (Method::POST, ["apps", app, "users", uid]) => apps::update_user(org, r, ctx, app, uid),
        (Method::DELETE, ["apps", app, "users", uid]) => apps::unassign_user(org, r, ctx, app, uid),
        (Method::GET, ["apps", app, "groups"]) => apps::list_groups(org, r, app),
        (Method::GET, ["apps", app, "groups", gid]) => apps::get_group(org, r, app, gid),
        (Method::PUT, ["apps", app, "groups", gid]) => apps::assign_group(org, r, ctx, app, gid),
        (Method::DELETE, ["apps", app, "groups", gid]) => {
            apps::unassign_group(org, r, ctx, app, gid)
        }
        (Method::GET, ["logs"]) => list_logs(org, r),
        (Method::GET, ["eventHooks"]) => {
            let s = org.lock();
            Ok(Out::json(
                200,
                Value::Array(s.hooks.values().map(|h| h.to_json(base)).collect()),
            ))
        }
        (Method::POST, ["eventHooks"]) => create_hook(org, r, ctx),
        (Method::GET, ["eventHooks", id]) => {
            let s = org.lock();
            let h = s
                .hooks
                .get(*id)
                .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
            Ok(Out::json(200, h.to_json(base)))
        }
        (Method::DELETE, ["eventHooks", id]) => {
            let mut s = org.lock();
            let h = s
                .hooks
                .get(*id)
                .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
            if h.status == "ACTIVE" {
                // deleteEventHook documents 403 (no 400): "you can only
                // delete event hooks with a status of `INACTIVE`".
                return Err(ApiError::forbidden()
                    .cause("Event hook must be deactivated before it can be deleted"));
            }
            s.hooks.shift_remove(*id);
            Ok(Out::empty(204))
        }
        (Method::POST, ["eventHooks", id, "lifecycle", op]) => hook_lifecycle(org, r, id, op).await,
        // `ROUTES` let the request through, so a handler is missing here.
        _ => Err(
            ApiError::new(500, "E0000009", "Internal Server Error").cause(format!(
                "the sandbox has no handler for {} {}",
                r.method, r.path
            )),
        ),
    }
}

fn parse_expr(kind: &str, expr: &str) -> Result<filter::Expr, ApiError> {
    parse_expr_with(kind, expr, |_| Ok(()))
}

/// A filter or search expression, and what the operation accepts of it:
/// what it does not is Okta's invalid search criteria (400 `E0000031`).
fn parse_expr_with(
    kind: &str,
    expr: &str,
    accepts: impl Fn(&filter::Expr) -> Result<(), String>,
) -> Result<filter::Expr, ApiError> {
    filter::parse(expr)
        .and_then(|e| accepts(&e).map(|()| e))
        .map_err(|e| {
            ApiError::new(400, "E0000031", "Invalid search criteria.").cause(format!("{kind}: {e}"))
        })
}

/// `limit`: an integer, or Okta's validation error; outside the operation's
/// documented range, the nearest end of it (a larger page than the maximum is
/// the maximum, as Okta serves it).
fn parse_limit(r: &Req, default: usize, min: usize, max: usize) -> Result<usize, ApiError> {
    match r.q("limit") {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(|n| (n.max(0) as usize).clamp(min, max))
            .map_err(|_| ApiError::validation("limit", "limit: must be an integer")),
    }
}

/// `items` (id, item) in id order after the `after` cursor: Okta pages by
/// id, and any text is a place in that order (a deleted item's id too).
fn by_id_after<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    after: Option<&str>,
) -> Vec<(&'a String, T)> {
    let mut v: Vec<(&'a String, T)> = items
        .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
        .collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// Up to `limit` of `items` (already positioned after the request's cursor),
/// with Okta's `Link` headers: `self`, and `next` (the last item's cursor)
/// when there are more. Only the page is rendered, and `items` is read one
/// past the page at most.
fn page<T>(
    r: &Req,
    limit: usize,
    items: impl Iterator<Item = T>,
    cursor: impl Fn(&T) -> String,
    render: impl Fn(T) -> Value,
) -> Out {
    let mut taken: Vec<T> = items.take(limit + 1).collect();
    let more = taken.len() > limit;
    taken.truncate(limit);
    let next = if more {
        taken.last().map(&cursor)
    } else {
        None
    };
    let body: Vec<Value> = taken.into_iter().map(render).collect();
    let mut out = Out::json(200, Value::Array(body))
        .header("link", format!("<{}>; rel=\"self\"", link(r, None)));
    if let Some(after) = next {
        out = out.header("link", format!("<{}>; rel=\"next\"", link(r, Some(&after))));
    }
    out
}

/// This request's URL with `after` set (or removed).
fn link(r: &Req, after: Option<&str>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &r.query {
        if k != "after" {
            ser.append_pair(k, v);
        }
    }
    if let Some(a) = after {
        ser.append_pair("after", a);
    }
    let q = ser.finish().replace('+', "%20");
    if q.is_empty() {
        format!("{}{}", r.base, r.path)
    } else {
        format!("{}{}?{}", r.base, r.path, q)
    }
}

fn list_groups(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let expr = match (r.q("search"), r.q("filter")) {
        (Some(e), _) => Some(parse_expr("search", e)?),
        (_, Some(e)) => Some(parse_expr("filter", e)?),
        _ => None,
    };
    let q = r.q("q").map(str::to_lowercase);
    let s = org.lock();
    if let Some(q) = &q {
        // "Paging and searching are currently mutually exclusive. You can't
        // page a query. The default limit for a query is 300 results."
        let limit = parse_limit(r, 300, 1, 10_000)?;
        let found: Vec<Value> = by_id_after(s.groups.iter(), None)
            .into_iter()
            .map(|(_, g)| g)
            .filter(|g| g.name.to_lowercase().starts_with(q))
            .take(limit)
            .map(|g| g.to_json(base))
            .collect();
        return Ok(Out::json(200, Value::Array(found)));
    }
    let limit = parse_limit(r, 200, 1, 10_000)?;
    let groups = by_id_after(s.groups.iter(), r.q("after"))
        .into_iter()
        .map(|(_, g)| g)
        .filter(|g| expr.as_ref().is_none_or(|e| e.matches(&g.to_json(base))));
    Ok(page(
        r,
        limit,
        groups,
        |g| g.id.clone(),
        |g| g.to_json(base),
    ))
}

fn parse_time(r: &Req, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    match r.q(name) {
        None => Ok(None),
        Some(v) => chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| ApiError::new(400, "E0000030", "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00.")),
    }
}

/// `GET /api/v1/logs`: bounded (with `until`) or polling (without: a `next`
/// link always, to poll again from).
fn list_logs(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let now = org.now();
    let until = parse_time(r, "until")?;
    let polling = until.is_none();
    let until_t = until.unwrap_or(now + chrono::Duration::days(36500));
    let since =
        parse_time(r, "since")?.unwrap_or_else(|| until.unwrap_or(now) - chrono::Duration::days(7));
    // "Integer between 0 and 1000" (Okta's spec): 0 is a page of none.
    let limit = match r.q("limit") {
        None => 100,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(1000))
            .ok_or_else(|| {
                ApiError::validation("limit", "limit: must be an integer between 0 and 1000")
            })?,
    };
    let descending = match r.q("sortOrder") {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") if !polling => true,
        Some("DESCENDING") => {
            return Err(ApiError::validation(
                "sortOrder",
                "sortOrder: DESCENDING needs `until` (polling requests are ascending)",
            ));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "sortOrder",
                "sortOrder: must be ASCENDING or DESCENDING",
            ));
        }
    };
    let expr = r.q("filter").map(|f| parse_expr("filter", f)).transpose()?;
    let terms: Vec<String> = r
        .q("q")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let after: Option<usize> = match r.q("after") {
        None => None,
        Some(a) => Some(
            a.parse()
                .map_err(|_| ApiError::validation("after", "after: the cursor is not valid"))?,
        ),
    };
    let s = org.lock();
    let start = after.map_or(0, |a| a + 1);
    let mut matched: Vec<(usize, Value)> = Vec::new();
    let candidates: Box<dyn Iterator<Item = usize>> = if descending {
        Box::new(
            (0..s.log.len())
                .rev()
                .filter(|i| after.is_none_or(|a| *i < a)),
        )
    } else {
        Box::new(start..s.log.len())
    };
    let mut more = false;
    for i in candidates {
        let ev = &s.log[i];
        if ev.published < since || ev.published >= until_t {
            continue;
        }
        let v = ev.to_value();
        if !expr.as_ref().is_none_or(|e| e.matches(&v)) {
            continue;
        }
        if !terms.is_empty() {
            let text = format!(
                "{} {} {} {}",
                ev.event_type,
                ev.display_message.as_deref().unwrap_or(""),
                v["actor"],
                v["target"]
            )
            .to_lowercase();
            if !terms.iter().all(|t| text.contains(t)) {
                continue;
            }
        }
        if matched.len() == limit {
            more = true;
            break;
        }
        matched.push((i, v));
    }
    let last_cursor = matched
        .last()
        .map(|(i, _)| i.to_string())
        .or_else(|| r.q("after").map(str::to_string));
    let page: Vec<Value> = matched.into_iter().map(|(_, v)| v).collect();
    let mut out = Out::json(200, Value::Array(page))
        .header("link", format!("<{}>; rel=\"self\"", link(r, None)));
    if polling || more {
        let next = match &last_cursor {
            Some(c) => link(r, Some(c)),
            None => link(r, None),
        };
        out = out.header("link", format!("<{next}>; rel=\"next\""));
    }
    Ok(out)
}

fn create_hook(org: &SandboxOrg, r: &Req, ctx: &Ctx) -> Result<Out, ApiError> {
    let body = r.json()?;
    let mut causes: Vec<String> = Vec::new();
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() || name.len() > 255 {
        causes.push("name: The field cannot be left blank".into());
    }
    if body.pointer("/events/type").and_then(Value::as_str) != Some("EVENT_TYPE") {
        causes.push("events.type: must be EVENT_TYPE".into());
    }
    let items: Vec<String> = body
        .pointer("/events/items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        causes.push("events.items: at least one event type is required".into());
    }
    for t in &items {
        if !lanyard_core::event::is_hook_event_type(t) {
            causes.push(format!(
                "events.items: the event type `{t}` is not eligible for event hooks"
            ));
        }
    }
    if body.pointer("/channel/type").and_then(Value::as_str) != Some("HTTP") {
        causes.push("channel.type: must be HTTP".into());
    }
    if body
        .pointer("/channel/version")
        .and_then(Value::as_str)
        .is_none()
    {
        causes.push("channel.version: The field cannot be left blank".into());
    }
    let uri = body
        .pointer("/channel/config/uri")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match url::Url::parse(&uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => causes.push("channel.config.uri: must be an absolute http(s) URL".into()),
    }
    let mut headers = Vec::new();
    if let Some(hs) = body
        .pointer("/channel/config/headers")
        .and_then(Value::as_array)
    {
        for h in hs {
            match (
                h.get("key").and_then(Value::as_str),
                h.get("value").and_then(Value::as_str),
            ) {
                (Some(k), Some(v)) if http::HeaderName::from_bytes(k.as_bytes()).is_ok() => {
                    headers.push((k.to_string(), v.to_string()))
                }
                _ => causes.push(
                    "channel.config.headers: each header needs a valid key and a value".into(),
                ),
            }
        }
    }
    let auth = match body.pointer("/channel/config/authScheme") {
        None | Some(Value::Null) => None,
        Some(a) => match (
            a.get("type").and_then(Value::as_str),
            a.get("key").and_then(Value::as_str),
            a.get("value").and_then(Value::as_str),
        ) {
            (Some("HEADER"), Some(k), Some(v))
                if http::HeaderName::from_bytes(k.as_bytes()).is_ok() =>
            {
                Some((k.to_string(), v.to_string()))
            }
            _ => {
                causes
                    .push("channel.config.authScheme: needs type HEADER, a key and a value".into());
                None
            }
        },
    };
    let mut s = org.lock();
    if s.hooks.values().filter(|h| h.status == "ACTIVE").count() >= 10 {
        causes.push("Your org has reached the maximum of 10 active event hooks".into());
    }
    if !causes.is_empty() {
        let mut e = ApiError::new(400, "E0000001", "Api validation failed: eventHook");
        for c in causes {
            e = e.cause(c);
        }
        return Err(e);
    }
    let now = org.now();
    let id = s.new_id("who");
    let created_by = match &ctx.principal {
        Principal::User { id, .. } => id.clone(),
        Principal::App { client_id, .. } => client_id.clone(),
    };
    let hook = HookRec {
        id: id.clone(),
        name,
        status: "ACTIVE".into(),
        verification_status: "UNVERIFIED".into(),
        uri,
        headers,
        auth,
        events: items,
        created: now,
        last_updated: now,
        created_by,
    };
    let out = hook.to_json(&r.base);
    s.hooks.insert(id, hook);
    Ok(Out::json(200, out))
}

async fn hook_lifecycle(org: &SandboxOrg, r: &Req, id: &str, op: &str) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let target = {
        let s = org.lock();
        let h = s
            .hooks
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
        HookTarget {
            id: h.id.clone(),
            uri: h.uri.clone(),
            headers: h.headers.clone(),
            auth: h.auth.clone(),
            source: format!("{base}/api/v1/eventHooks/{id}"),
        }
    };
    match op {
        "verify" => {
            // The one-time GET goes out without holding the org lock.
            if let Err(why) = org.delivery.verify(&target).await {
                return Err(ApiError::validation(
                    "eventHook",
                    &format!("Verification of the event hook failed: {why}"),
                ));
            }
            set_hook(
                &mut org.lock(),
                id,
                |h| h.verification_status = "VERIFIED".into(),
                org.now(),
                base,
            )
        }
        "activate" => set_hook(
            &mut org.lock(),
            id,
            |h| h.status = "ACTIVE".into(),
            org.now(),
            base,
        ),
        "deactivate" => set_hook(
            &mut org.lock(),
            id,
            |h| h.status = "INACTIVE".into(),
            org.now(),
            base,
        ),
        _ => Err(path_not_found()),
    }
}

fn set_hook(
    s: &mut OrgState,
    id: &str,
    f: impl FnOnce(&mut HookRec),
    now: chrono::DateTime<chrono::Utc>,
    base: &str,
) -> Result<Out, ApiError> {
    let h = s
        .hooks
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
    f(h);
    h.last_updated = now;
    Ok(Out::json(200, h.to_json(base)))
}

// ------------------------------------------------------------ sandbox admin

async fn sandbox_route(org: &SandboxOrg, r: &Req) -> Out {
    let segs: Vec<&str> = r.segs.iter().map(String::as_str).collect();
    let base = r.base.as_str();
    let ctx = Ctx {
        principal: Principal::User {
            id: org.admin_id.clone(),
            role: Role::SuperAdmin,
        },
        ip: r.peer.ip().to_string(),
        user_agent: r.header("user-agent").unwrap_or("unknown").to_string(),
        request_id: r.request_id.clone(),
    };
    let result: Result<Out, ApiError> = match (r.method.clone(), &segs[2..]) {
        (Method::GET, ["info"]) => {
            let counts = org.counts();
            Ok(Out::json(
                200,
                json!({
                    "counts": counts,
                    "adminUserId": org.admin_id,
                    "serviceUserId": org.service_id,
                    "domain": org.config.domain,
                    "now": ts(org.now()),
                }),
            ))
        }
        (Method::POST, ["faults"]) => match r.json().and_then(|v| {
            serde_json::from_value::<FaultRule>(v)
                .map_err(|e| ApiError::validation("fault", &e.to_string()))
        }) {
            Ok(rule) => {
                org.inject(rule);
                Ok(Out::json(200, json!({"remaining": org.faults_remaining()})))
            }
            Err(e) => Err(e),
        },
        (Method::DELETE, ["faults"]) => {
            org.clear_faults();
            Ok(Out::empty(204))
        }
        (Method::POST, ["users", id, "lock"]) => {
            let attempts = r
                .json()
                .ok()
                .and_then(|v| v.get("attempts").and_then(Value::as_u64))
                .map_or(org.config.lockout_attempts, |n| n.clamp(1, 100) as u32);
            org.mutate(|s, now| s.fail_sign_ins(now, &ctx, id, attempts), base)
                .map(|_| Out::empty(204))
        }
        (Method::POST, ["users", id, "factors"]) => {
            let body = r.json().unwrap_or(Value::Null);
            let factor_type = body
                .get("factorType")
                .and_then(Value::as_str)
                .unwrap_or("push")
                .to_string();
            org.mutate(|s, now| s.enroll_factor(now, &ctx, id, &factor_type), base)
                .map(|fid| Out::json(200, json!({"id": fid, "factorType": factor_type})))
        }
        (Method::POST, ["users", id, "signIn"]) => org
            .mutate(|s, now| s.sign_in(now, &ctx, id), base)
            .map(|sid| Out::json(200, json!({"sessionId": sid}))),
        (Method::GET, ["deliveries"]) => {
            let records: Vec<Value> = org
                .deliveries()
                .into_iter()
                .map(|d| {
                    json!({
                        "hookId": d.hook_id, "eventIds": d.event_ids, "delivered": d.delivered, "duplicate": d.duplicate,
                        "attempts": d.attempts.iter().map(|a| match a { Ok(s) => json!(s), Err(e) => json!(e) }).collect::<Vec<_>>(),
                    })
                })
                .collect();
            Ok(Out::json(200, Value::Array(records)))
        }
        _ => Err(path_not_found()),
    };
    result.unwrap_or_else(error_out)
}
