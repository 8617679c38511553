//! The HTTP server: Okta Event Hooks, the invoke API, the admin API, health,
//! readiness and metrics. hyper 1 (HTTP/1.1), one task per connection.
//!
//! [`run`] takes a bound listener, so tests bind `127.0.0.1:0` and run the real
//! server in-process. Every error answer is JSON `{"error": {"code",
//! "message"}}` with the status that says what went wrong; bad input is
//! rejected before anything is written (bodies are size-checked, typed and
//! parsed first). Tokens are compared in constant time.
//!
//! Routes:
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`
//! - `GET /console/` and `GET /console/{file}`: the web console (`crate::console`)
//! - `GET /hooks/okta` (verification), `POST /hooks/okta` (deliveries) for the
//!   default Okta org, and `GET|POST /hooks/okta/{org}` for each named org
//!   (`crate::orgs`), each checked against its own org's secret
//! - `POST /api/v1/flows/{name}/invoke` (invoke token, or the admin token)
//! - admin (`Authorization: Bearer <admin_token>`): `GET /api/v1/runs`,
//!   `GET /api/v1/runs/{id}`, `POST /api/v1/runs/{id}/cancel`,
//!   `GET /api/v1/flows`, `POST /api/v1/flows/{name}/run`,
//!   `POST /api/v1/admin/reload`, `GET /api/v1/cards` (each version with its
//!   `group` and `describe()` schemas), `GET /api/v1/events/rejected`
//!   (events refused at intake, `crate::intake`), `GET /api/v1/okta/orgs`
//!   (the Okta orgs), `GET /api/v1/tables`,
//!   `GET /api/v1/tables/{table}/rows?prefix=&limit=`,
//!   `GET|PUT|DELETE /api/v1/tables/{table}/rows/{key}`
//! - testing from the builder (admin token; `crate::test_api`): `POST /api/v1/flows/test`,
//!   `POST /api/v1/flows/{name}/replay`, `POST /api/v1/cards/{name}/test`,
//!   `GET /api/v1/okta/event-types/{type}/sample`
//! - the card registry (admin token; `crate::registry_api`): `POST /api/v1/cards`, `PUT|GET /api/v1/cards/{name}`,
//!   `GET|DELETE /api/v1/cards/{name}/{version}`, `POST /api/v1/cards/{name}/{version}/grants`
//! - the flow builder's reference (admin token; `crate::builder_api`): `GET /api/v1/okta/event-types`,
//!   `GET /api/v1/okta/event-schema`, `GET /api/v1/schedule/preview?cron=&timezone=`
//! - writing flows (admin token; `crate::flow_api`): `GET|PUT /api/v1/flows/{name}`,
//!   `POST /api/v1/flows/check`, `POST /api/v1/flows`, `PUT /api/v1/flows/{name}/enabled`,
//!   `GET /api/v1/flows/{name}/versions`, `GET /api/v1/flows/{name}/versions/{n}`,
//!   `POST /api/v1/flows/{name}/revert`, `GET /api/v1/flows/{name}/audit`, `GET /api/v1/audit`
//! - the flow library (admin token; `crate::library`): `GET /api/v1/library`, `GET /api/v1/library/{id}`
//! - signal links (no token: the link's own is the credential; `crate::signal_pages`):
//!   `GET /signals/{token}` (a page that asks to confirm), `POST /signals/{token}` (answers
//!   the run's wait through the same `Runner::signal` as `POST /api/v1/runs/{id}/signal`)
//!
//! Clients are bounded (connections at once, time to send a request head, time
//! to send a body), with room kept for health checks and the admin API: see
//! [`run`].

use crate::engine::{CancelError, Engine, StartError, StartOptions};
use crate::intake::IntakeError;
use crate::metrics as m;
use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use crate::admin_wire;
use lanyard_core::admin_api as wire;
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_flow::model::Trigger;
use lanyard_store::RunFilter;
use serde::Serialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;

/// Longest a synchronous invoke waits when the flow sets no `sync_timeout`.
const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(30);
/// How long open connections get to finish after shutdown starts.
const DRAIN: Duration = Duration::from_secs(10);
/// The pause after a failed accept (out of file descriptors, most likely).
const ACCEPT_RETRY: Duration = Duration::from_millis(20);
/// Failed accepts are logged at most this often, with how many there were.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// Serve `engine` on `listener` until `shutdown` fires, then stop accepting
/// connections and let open ones finish (for a few seconds at most).
///
/// Clients are bounded by `[server]` (see `Conns`): at most `max_connections`
/// at once, the connection idle the longest closed to make room for a new
/// one, `reserved_connections` more for health checks and the admin API when
/// every connection is busy, `idle_timeout` to send a request head and
/// `body_timeout` for a body.
pub async fn run(listener: TcpListener, engine: Engine, shutdown: Shutdown) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        engine.signal_links().listening_at(addr);
    }
    let settings = &engine.config().server;
    let conns = Arc::new(Conns::new(settings.max_connections, settings.reserved_connections));
    let body_timeout = settings.body_timeout;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's head timeout runs whenever a connection waits for a request
    // head: on a new connection and on a kept-alive one between requests.
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(settings.idle_timeout)
        .keep_alive(true);
    let mut accept_errors = Throttle::new(ACCEPT_ERROR_LOG_EVERY);
    loop {
        // Not accepting while full leaves new connections in the kernel's
        // listen queue until a slot frees, instead of holding them open here.
        tokio::select! {
            _ = conns.room() => {}
            _ = shutdown.wait() => break,
        }
        tokio::select! {
            conn = listener.accept() => {
                let (stream, _) = match conn {
                    Ok(c) => c,
                    Err(e) => {
                        if is_out_of_descriptors(&e) {
                            conns.shed_idle();
                        }
                        if let Some(failures) = accept_errors.hit(std::time::Instant::now()) {
                            tracing::warn!(error = %e, failures, "cannot accept connections (failures since the last report)");
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(ACCEPT_RETRY) => continue,
                            _ = shutdown.wait() => break,
                        }
                    }
                };
                // Full again since `room` (the idle connection turned busy):
                // closed at once, and its client connects again.
                let Some(slot) = conns.admit() else { continue };
                let _ = stream.set_nodelay(true);
                let engine = engine.clone();
                let served = slot.clone();
                let svc = service_fn(move |mut req: Request<Incoming>| {
                    let engine = engine.clone();
                    let slot = served.clone();
                    async move {
                        if !slot.begin() {
                            // Chosen to be closed a moment before this head arrived.
                            return Ok::<_, Infallible>(busy("lanyard closed this connection to make room; connect again").into_response());
                        }
                        req.extensions_mut().insert(BodyDeadline(tokio::time::Instant::now() + body_timeout));
                        let resp = if slot.reserved {
                            handle_reserved(&engine, req).await
                        } else {
                            handle(&engine, req).await
                        };
                        slot.end();
                        Ok(resp)
                    }
                });
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
                tokio::spawn(async move {
                    tokio::select! {
                        ended = conn => if let Err(e) = ended {
                            tracing::debug!(error = %e, "connection ended with an error");
                        },
                        _ = slot.shed.notified() => tracing::debug!("idle connection closed to make room for a new one"),
                    }
                    slot.close();
                });
            }
            _ = shutdown.wait() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::info!("connections still open after the drain time; closing"),
    }
    Ok(())
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    // EMFILE (the process's limit), ENFILE (the system's).
    matches!(e.raw_os_error(), Some(24 | 23))
}

// -- connection limits --------------------------------------------------------

/// The open connections, oldest first, and the room left for more.
///
/// A connection is idle while it waits for a request head (new, or kept alive
/// between requests) and busy while a request is handled. Idle ones cost
/// nothing to close, so a new connection past `max` closes the one idle the
/// longest (a flood of silent connections cannot lock clients out); with none
/// idle, it gets one of `reserved` slots that serve only health checks and
/// the admin API (a flood of stalled requests cannot blind monitoring); with
/// those taken too, nothing is accepted until a connection ends or turns idle.
struct Conns {
    max: usize,
    reserved: usize,
    open: Mutex<ConnsOpen>,
    /// A connection ended, or turned idle: there may be room.
    freed: tokio::sync::Notify,
}

#[derive(Default)]
struct ConnsOpen {
    next_id: u64,
    /// By id: oldest first.
    slots: std::collections::BTreeMap<u64, Arc<Slot>>,
}

/// One connection's place in [`Conns`].
struct Slot {
    id: u64,
    /// Served only the reserved routes (see [`handle_reserved`]).
    reserved: bool,
    state: AtomicU8,
    /// Told to close (it was idle, and room was needed).
    shed: tokio::sync::Notify,
    conns: Arc<Conns>,
}

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const SHED: u8 = 2;

impl Conns {
    fn new(max: usize, reserved: usize) -> Conns {
        Conns {
            max: max.max(1),
            reserved,
            open: Mutex::new(ConnsOpen::default()),
            freed: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ConnsOpen> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn has_room(&self, open: &ConnsOpen) -> bool {
        open.slots.len() < self.max + self.reserved
            || open.slots.values().any(|s| s.state.load(Ordering::Acquire) == IDLE)
    }

    /// Until a new connection can be admitted.
    async fn room(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.has_room(&self.lock()) {
                return;
            }
            freed.await;
        }
    }

    /// A slot for a connection just accepted, `None` if there is no room.
    fn admit(self: &Arc<Self>) -> Option<Arc<Slot>> {
        let mut open = self.lock();
        if open.slots.len() >= self.max {
            Self::shed_oldest_idle(&mut open);
        }
        let reserved = if open.slots.len() < self.max {
            false
        } else if open.slots.len() < self.max + self.reserved {
            true
        } else {
            return None;
        };
        open.next_id += 1;
        let slot = Arc::new(Slot {
            id: open.next_id,
            reserved,
            state: AtomicU8::new(IDLE),
            shed: tokio::sync::Notify::new(),
            conns: self.clone(),
        });
        open.slots.insert(slot.id, slot.clone());
        metrics::gauge!(m::HTTP_CONNECTIONS).set(open.slots.len() as f64);
        Some(slot)
    }

    /// Close the connection idle the longest, if one is (out of descriptors).
    fn shed_idle(&self) {
        Self::shed_oldest_idle(&mut self.lock());
    }

    fn shed_oldest_idle(open: &mut ConnsOpen) -> bool {
        let victim = open
            .slots
            .values()
            .find(|s| s.state.compare_exchange(IDLE, SHED, Ordering::AcqRel, Ordering::Acquire).is_ok())
            .cloned();
        let Some(victim) = victim else { return false };
        open.slots.remove(&victim.id);
        // A permit: the connection's task may not be waiting yet.
        victim.shed.notify_one();
        metrics::counter!(m::HTTP_CONNECTIONS_SHED).increment(1);
        true
    }
}

impl Slot {
    /// A request head arrived: busy, unless the connection is being closed.
    fn begin(&self) -> bool {
        self.state.compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The request was answered: idle again (and closable to make room).
    fn end(&self) {
        let _ = self.state.compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire);
        self.conns.freed.notify_one();
    }

    /// The connection ended.
    fn close(&self) {
        let mut open = self.conns.lock();
        open.slots.remove(&self.id);
        metrics::gauge!(m::HTTP_CONNECTIONS).set(open.slots.len() as f64);
        drop(open);
        self.conns.freed.notify_one();
    }
}

/// Reports an event that keeps happening at most once per `every`, with how
/// many times it happened since the last report.
struct Throttle {
    every: Duration,
    last: Option<std::time::Instant>,
    count: u64,
}

impl Throttle {
    fn new(every: Duration) -> Throttle {
        Throttle { every, last: None, count: 0 }
    }

    /// It happened at `now`: `Some(times)` if it is time to report.
    fn hit(&mut self, now: std::time::Instant) -> Option<u64> {
        self.count += 1;
        if self.last.is_some_and(|l| now.duration_since(l) < self.every) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}

/// When the body of a request must have arrived (`[server] body_timeout`
/// after its head); [`read_body`] answers 408 past it.
#[derive(Debug, Clone, Copy)]
struct BodyDeadline(tokio::time::Instant);

fn busy(message: &str) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        .with_header(RETRY_AFTER, "1")
        .with_header(CONNECTION, "close")
}

/// A request on a reserved connection (every other one is busy): health,
/// readiness, metrics and the admin API are served, the rest answered 503.
/// The connection closes after it, so the reserve is free for the next check.
async fn handle_reserved(engine: &Engine, req: Request<Incoming>) -> Resp {
    let path = req.uri().path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let served = match segments.as_slice() {
        ["healthz" | "readyz" | "metrics"] => true,
        ["api", "v1", "flows", _, "invoke"] => false,
        ["api", "v1", ..] => true,
        _ => false,
    };
    let mut resp = if served {
        handle(engine, req).await
    } else {
        busy("lanyard is at its connection limit; try again shortly").into_response()
    };
    resp.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

pub(crate) type Resp = Response<Full<Bytes>>;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    headers: Vec<(http::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: http::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub(crate) fn into_response(self) -> Resp {
        let mut r = json_response(self.status, &wire::ErrorAnswer { error: wire::ErrorBody::new(self.code, self.message) });
        for (k, v) in self.headers {
            r.headers_mut().insert(k, v);
        }
        r
    }
}

pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn not_found(what: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
}

pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

pub(crate) fn internal(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

async fn handle(engine: &Engine, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = route(engine, req).await;
    match result {
        Ok(r) => r,
        Err(e) => {
            if e.status.is_server_error() {
                tracing::warn!(%method, %path, status = e.status.as_u16(), error = %e.message, "request failed");
            } else {
                tracing::debug!(%method, %path, status = e.status.as_u16(), error = %e.message, "request refused");
            }
            e.into_response()
        }
    }
}

/// Percent-decode one path segment.
pub(crate) fn decode_segment(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => return Err(bad_request(format!("bad percent-encoding in the path segment `{s}`"))),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad_request(format!("the path segment `{s}` is not UTF-8")))
}

pub(crate) fn allow(methods: &'static str) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("this route takes {methods}"))
        .with_header(ALLOW, methods)
}

async fn route(engine: &Engine, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let m = req.method().clone();
    match segments.as_slice() {
        ["healthz"] => match m {
            Method::GET | Method::HEAD => Ok(json_response(StatusCode::OK, &json!({ "status": "ok" }))),
            _ => Err(allow("GET, HEAD")),
        },
        ["readyz"] => match m {
            Method::GET | Method::HEAD => Ok(readyz(engine)),
            _ => Err(allow("GET, HEAD")),
        },
        ["metrics"] => match m {
            Method::GET => {
                crate::metrics::store_health(&engine.store().health());
                let mut r = Response::new(Full::new(Bytes::from(crate::metrics::render())));
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
                Ok(r)
            }
            _ => Err(allow("GET")),
        },
        ["hooks", "okta"] => match m {
            Method::GET => hook_verify(engine, None, &req),
            Method::POST => hook_delivery(engine, None, req).await,
            _ => Err(allow("GET, POST")),
        },
        ["hooks", "okta", org] => {
            let org = decode_segment(org)?;
            match m {
                Method::GET => hook_verify(engine, Some(&org), &req),
                Method::POST => hook_delivery(engine, Some(&org), req).await,
                _ => Err(allow("GET, POST")),
            }
        }
        ["api", "v1", "flows", name, "invoke"] => match m {
            Method::POST => {
                let name = decode_segment(name)?;
                invoke(engine, req, &name).await
            }
            _ => Err(allow("POST")),
        },
        ["api", "v1", ..] => admin(engine, req, &segments[2..]).await,
        // The web console (crate::console): static files only, no token; its
        // pages read everything through the admin API above.
        ["console", rest @ ..] => crate::console::serve(&req, rest),
        // Signal links (crate::signal_pages): no token; the link is the credential.
        ["signals", token] => Ok(crate::signal_pages::handle(engine, req, &decode_segment(token)?).await),
        _ => Err(not_found(format!("no route {path}"))),
    }
}

fn readyz(engine: &Engine) -> Resp {
    let status = engine.reload_status();
    let store = engine.store().health();
    let ready = engine.is_ready() && store == lanyard_store::StoreHealth::Writable;
    let reason = if engine.is_shutting_down() {
        Some("shutting down".to_string())
    } else if let lanyard_store::StoreHealth::Failing { since, error, .. } = &store {
        Some(format!("the store cannot write since {}: {error}", since.format("%Y-%m-%dT%H:%M:%SZ")))
    } else if !ready {
        Some(match &status.last_error {
            Some(e) => format!("no valid flow set is loaded: {}", e.message),
            None => "loading cards and flows".to_string(),
        })
    } else {
        None
    };
    let body = json!({
        "ready": ready,
        "reason": reason,
        "flows": status.flows,
        "hooks": engine.intake().is_accepting(),
        "store": store,
    });
    json_response(if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, &body)
}

pub(crate) fn header<'a>(req: &'a Request<Incoming>, name: http::HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn bearer(req: &Request<Incoming>) -> Option<&str> {
    let v = header(req, AUTHORIZATION)?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub(crate) fn require_admin(engine: &Engine, req: &Request<Incoming>) -> Result<(), ApiError> {
    let Some(expected) = &engine.config().server.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "the admin API is disabled: set [server] admin_token in lanyard.toml",
        ));
    };
    match bearer(req) {
        None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing `Authorization: Bearer <admin token>`")
            .with_header(http::header::WWW_AUTHENTICATE, "Bearer")),
        Some(t) if ct_eq(t, expected.expose()) => Ok(()),
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "wrong admin token")
            .with_header(http::header::WWW_AUTHENTICATE, "Bearer")),
    }
}

fn require_invoke(engine: &Engine, req: &Request<Incoming>) -> Result<(), ApiError> {
    let server = &engine.config().server;
    if server.invoke_token.is_none() && server.admin_token.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invoke_disabled",
            "the invoke API is disabled: set [server] invoke_token in lanyard.toml",
        ));
    }
    let Some(t) = bearer(req) else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing `Authorization: Bearer <invoke token>`")
            .with_header(http::header::WWW_AUTHENTICATE, "Bearer"));
    };
    // Both compared, always, so timing does not tell which one exists.
    let invoke = server.invoke_token.as_ref().is_some_and(|s| ct_eq(t, s.expose()));
    let admin = server.admin_token.as_ref().is_some_and(|s| ct_eq(t, s.expose()));
    if invoke | admin {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "wrong invoke token")
            .with_header(http::header::WWW_AUTHENTICATE, "Bearer"))
    }
}

/// Read a body of at most `max` bytes, by the request's deadline (408 after).
pub(crate) async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is over the limit of {max} bytes"),
        )
    };
    if let Some(len) = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()) {
        if len > max as u64 {
            return Err(too_large());
        }
    }
    let deadline = req.extensions().get::<BodyDeadline>().copied();
    let collect = Limited::new(req.into_body(), max).collect();
    let collected = match deadline {
        Some(BodyDeadline(at)) => match tokio::time::timeout_at(at, collect).await {
            Ok(c) => c,
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the request body did not arrive in time ([server] body_timeout)",
                )
                .with_header(CONNECTION, "close"));
            }
        },
        None => collect.await,
    };
    match collected {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                Err(too_large())
            } else {
                Err(bad_request(format!("cannot read the request body: {e}")))
            }
        }
    }
}

/// The body must be JSON (`Content-Type: application/json`), if there is one.
pub(crate) fn require_json(req: &Request<Incoming>, body_expected: bool) -> Result<(), ApiError> {
    match header(req, CONTENT_TYPE) {
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or("").trim();
            if mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json") {
                Ok(())
            } else {
                Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    format!("the body must be `application/json`, not `{ct}`"),
                ))
            }
        }
        None if body_expected => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "missing `Content-Type: application/json`",
        )),
        None => Ok(()),
    }
}

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {e}")))
}

pub(crate) fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

pub(crate) fn query_get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn query_bool(q: &[(String, String)], key: &str) -> Result<bool, ApiError> {
    match query_get(q, key) {
        None => Ok(false),
        Some("" | "1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(other) => Err(bad_request(format!("`{key}` must be true or false, not `{other}`"))),
    }
}

// -- hooks --------------------------------------------------------------------

/// The org a hook route is for (`None`: `/hooks/okta`, the default org),
/// once the request carries that org's secret. Returns the org's name.
fn hook_org<'e>(engine: &'e Engine, org: Option<&str>, req: &Request<Incoming>) -> Result<&'e str, ApiError> {
    let orgs = engine.orgs();
    let found = match org {
        Some(name) => orgs
            .get(name)
            .ok_or_else(|| not_found(format!("no Okta org named `{name}` is configured")))?,
        None => orgs.default_org().ok_or_else(|| {
            let paths: Vec<String> = orgs.iter().map(|o| format!("/hooks/okta/{}", o.name())).collect();
            if paths.is_empty() {
                not_found("okta event hooks are not enabled: set [hooks.okta] secret in lanyard.toml")
            } else {
                not_found(format!("several Okta orgs are configured and none is the default: deliver to {}", paths.join(" or ")))
            }
        })?,
    };
    let Some(secret) = found.hook_secret() else {
        return Err(not_found(match org {
            None => "okta event hooks are not enabled: set [hooks.okta] secret in lanyard.toml".to_string(),
            Some(name) => format!("okta event hooks of the org `{name}` are not enabled: set `hook_secret` in [okta.orgs.{name}]"),
        }));
    };
    // Each org's secret is checked on its own path only.
    if !lanyard_okta::hooks::authorization_matches(secret.expose(), header(req, AUTHORIZATION)) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the Authorization header is not the configured event hook secret",
        ));
    }
    Ok(found.name())
}

fn hook_verify(engine: &Engine, org: Option<&str>, req: &Request<Incoming>) -> Result<Resp, ApiError> {
    hook_org(engine, org, req)?;
    let challenge = header(req, http::HeaderName::from_static(lanyard_okta::hooks::VERIFICATION_HEADER))
        .ok_or_else(|| bad_request(format!("missing the `{}` header", lanyard_okta::hooks::VERIFICATION_HEADER)))?;
    let body = lanyard_okta::hooks::verification_response(challenge).map_err(|e| bad_request(e.to_string()))?;
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

async fn hook_delivery(engine: &Engine, org: Option<&str>, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let org = hook_org(engine, org, &req)?;
    let stored_org = engine.orgs().store_org(org);
    if !engine.intake().is_accepting() {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "lanyard is shutting down; deliver again later")
            .with_header(RETRY_AFTER, "5"));
    }
    require_json(&req, true)?;
    let max = engine.config().server.max_body_bytes.min(lanyard_okta::hooks::MAX_DELIVERY_BYTES);
    let body = read_body(req, max).await?;
    // Event by event: Okta does not deliver again what was answered with a
    // 4xx, so one bad event must not cost the others. Only a body that is not
    // a delivery at all is refused.
    let delivery = lanyard_okta::hooks::parse_events(&body).map_err(|e| {
        // Report a syntax error like any malformed JSON, with its place.
        match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Err(j) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {j}")),
            Ok(_) => ApiError::new(StatusCode::BAD_REQUEST, "bad_delivery", e.to_string()),
        }
    })?;
    match engine.intake().accept_from(delivery.payload.data.events, "hook", stored_org).await {
        Ok(s) => {
            // Recorded once the delivery is answered 200: a 503 is delivered again.
            for bad in &delivery.bad {
                let reason = format!("event {} of the delivery is not a system log event: {}", bad.index, bad.reason);
                engine.intake().reject("hook", bad.uuid.as_deref(), bad.event_type.as_deref(), &reason);
            }
            let rejected = s.rejected + delivery.bad.len();
            Ok(json_response(StatusCode::OK, &json!({ "accepted": s.new, "duplicates": s.duplicate, "rejected": rejected })))
        }
        Err(IntakeError::ShuttingDown) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "lanyard is shutting down; deliver again later")
            .with_header(RETRY_AFTER, "5")),
        Err(IntakeError::Invalid(m)) => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_delivery", m)),
        Err(IntakeError::Store(e)) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", format!("cannot store the events: {e}"))),
    }
}

// -- invoke -------------------------------------------------------------------

async fn invoke(engine: &Engine, req: Request<Incoming>, name: &str) -> Result<Resp, ApiError> {
    require_invoke(engine, &req)?;
    let snapshot = engine.flows();
    let flow = snapshot
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_flow", format!("no flow named `{name}` is loaded")))?;
    if !flow.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "flow_off",
            format!("flow `{name}` is off (`enabled: false` in {}); turn it on to invoke it", flow.file),
        ));
    }
    let Trigger::Api(api) = &flow.trigger else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_invocable",
            format!("flow `{name}` has a `{}` trigger; only `trigger: api` flows can be invoked", flow.trigger.kind()),
        ));
    };
    let q = query(&req);
    let sync = match query_get(&q, "mode") {
        None => api.sync_timeout.is_some(),
        Some("sync") => true,
        Some("async") => false,
        Some(other) => return Err(bad_request(format!("`mode` must be sync or async, not `{other}`"))),
    };
    let wait = api.sync_timeout.unwrap_or(DEFAULT_SYNC_WAIT);
    require_json(&req, false)?;
    let body = read_body(req, engine.config().server.max_body_bytes).await?;
    // No body: the flow sees `{}`.
    let input = if body.iter().all(u8::is_ascii_whitespace) { json!({}) } else { parse_json(&body)? };
    let opts = StartOptions {
        wait: sync,
        timeout: Some(wait),
        ..StartOptions::default()
    };
    let started = engine.start_run(name, TriggerInfo::Api, input, opts).await.map_err(start_error)?;
    let id = started.run_id;
    let location = format!("/api/v1/runs/{id}");
    let mut resp = match started.outcome {
        None => {
            let mut r = json_response(StatusCode::ACCEPTED, &json!({ "run_id": id, "status": if sync { "running" } else { "queued" } }));
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        Some(run) => match run.status {
            RunStatus::Succeeded | RunStatus::Stopped => json_response(StatusCode::OK, &run.output.clone().unwrap_or(Value::Null)),
            RunStatus::Failed => {
                let e = run.error.clone();
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({
                        "error": {
                            "code": "run_failed",
                            "message": e.as_ref().map(|e| e.message.as_str()).unwrap_or("the run failed"),
                            "kind": e.as_ref().map(|e| e.kind.as_str()),
                            "step": e.as_ref().and_then(|e| e.step.clone()),
                        },
                        "run_id": id,
                    }),
                )
            }
            other => ApiError::new(StatusCode::CONFLICT, "run_not_completed", format!("the run ended {other}")).into_response(),
        },
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-lanyard-run-id", v);
    }
    Ok(resp)
}

fn start_error(e: StartError) -> ApiError {
    match e {
        StartError::UnknownFlow(name) => ApiError::new(StatusCode::NOT_FOUND, "unknown_flow", format!("no flow named `{name}` is loaded")),
        StartError::NotRunnable { .. } => ApiError::new(StatusCode::CONFLICT, "not_runnable", e.to_string()),
        StartError::BadInput { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", e.to_string()),
        StartError::Busy(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()).with_header(RETRY_AFTER, "1"),
        StartError::ShuttingDown => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", e.to_string()).with_header(RETRY_AFTER, "5"),
        StartError::Store(s) => internal(format!("cannot record the run: {s}")),
    }
}

// -- admin --------------------------------------------------------------------

async fn admin(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    // Resolve the route first, so an unknown route is 404 whatever the token.
    let m = req.method().clone();
    // Testing drafts and cards: `crate::test_api` (before the registry's
    // `cards/{name}/{version}`).
    if crate::test_api::is_test_route(&m, rest) {
        return crate::test_api::handle(engine, req, rest).await;
    }
    // The card registry: `crate::registry_api` (publish, show, grant, remove).
    if crate::registry_api::is_registry_route(&m, rest) {
        return crate::registry_api::handle(engine, req, rest).await;
    }
    // The builder's reference routes: `crate::builder_api`.
    if crate::builder_api::is_builder_route(rest) {
        return crate::builder_api::handle(engine, req, rest).await;
    }
    // Writing flows, their versions and the audit list: `crate::flow_api`.
    if crate::flow_api::is_flow_api_route(&m, rest) {
        return crate::flow_api::handle(engine, req, rest).await;
    }
    // The flow library, read-only: `crate::library`.
    if crate::library::is_library_route(rest) {
        return crate::library::handle(engine, req, rest).await;
    }
    let route = match rest {
        ["runs"] => ("GET", Route::Runs),
        ["runs", id] => ("GET", Route::Run(decode_segment(id)?)),
        ["runs", id, "cancel"] => ("POST", Route::Cancel(decode_segment(id)?)),
        ["runs", id, "signal"] => ("POST", Route::Signal(decode_segment(id)?)),
        ["runs", id, "rerun"] => ("POST", Route::Rerun(decode_segment(id)?)),
        ["flows"] => ("GET", Route::Flows),
        ["flows", name, "run"] => ("POST", Route::RunNow(decode_segment(name)?)),
        ["admin", "reload"] => ("POST", Route::Reload),
        ["cards"] => ("GET", Route::Cards),
        ["events", "rejected"] => ("GET", Route::Rejected),
        ["okta", "orgs"] => ("GET", Route::Orgs),
        ["tables"] => ("GET", Route::Tables),
        ["tables", table] => ("DELETE", Route::ClearTable(decode_segment(table)?)),
        ["tables", table, "csv"] => ("GET, PUT", Route::TableCsv(decode_segment(table)?)),
        ["tables", table, "rows"] => ("GET", Route::Rows(decode_segment(table)?)),
        ["tables", table, "rows", key] => ("GET, PUT, DELETE", Route::Row(decode_segment(table)?, decode_segment(key)?)),
        _ => return Err(not_found(format!("no route {}", req.uri().path()))),
    };
    let (methods, route) = route;
    if !methods.split(", ").any(|x| x == m.as_str()) {
        return Err(allow(methods));
    }
    require_admin(engine, &req)?;
    let store = engine.store();
    match route {
        Route::Runs => {
            let q = query(&req);
            let mut filter = RunFilter {
                flow: query_get(&q, "flow").map(str::to_string),
                ..RunFilter::default()
            };
            if let Some(s) = query_get(&q, "status") {
                filter.status = Some(RunStatus::parse(s).ok_or_else(|| {
                    bad_request(format!("unknown status `{s}` (queued, running, waiting, succeeded, failed, stopped, suppressed, cancelled)"))
                })?);
            }
            for (key, slot) in [("since", &mut filter.since), ("until", &mut filter.until)] {
                if let Some(t) = query_get(&q, key) {
                    *slot = Some(
                        chrono::DateTime::parse_from_rfc3339(t)
                            .map_err(|e| bad_request(format!("`{key}` must be an RFC 3339 time such as 2026-01-31T09:00:00Z: {e}")))?
                            .with_timezone(&chrono::Utc),
                    );
                }
            }
            if let Some(l) = query_get(&q, "limit") {
                filter.limit = Some(l.parse().map_err(|_| bad_request(format!("`limit` must be a number, not `{l}`")))?);
            }
            filter.cursor = query_get(&q, "cursor").map(str::to_string);
            filter.text = query_get(&q, "text").map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
            filter.card = query_get(&q, "card").filter(|c| !c.is_empty()).map(str::to_string);
            filter.error_kind = query_get(&q, "error").filter(|e| !e.is_empty()).map(str::to_string);
            if filter.text.as_ref().is_some_and(|t| t.len() > 200) {
                return Err(bad_request("`text` is at most 200 characters".to_string()));
            }
            let page = store.list_runs(&filter).await.map_err(store_error)?;
            let runs = page
                .runs
                .into_iter()
                .map(|mut r| {
                    // Listings stay small (`GET /api/v1/runs/{id}` has the
                    // input); whom a run is about is kept, in people's words.
                    let who = who_of(&r.input);
                    r.input = Value::Null;
                    wire::ListedRun { run: r.into(), who }
                })
                .collect();
            Ok(json_response(StatusCode::OK, &wire::RunList { runs, next_cursor: page.next_cursor }))
        }
        Route::Run(id) => {
            let run = run_or_404(store, &id).await?;
            let steps = store.steps(&id).await.map_err(store_error)?;
            let trace = lanyard_flow::render_trace(&run, &steps, &lanyard_flow::TraceOptions::default());
            Ok(json_response(StatusCode::OK, &wire::RunDetail::new(run, steps, trace)))
        }
        // The same event through the flow as it is now: `{"dry_run": bool}`,
        // said explicitly (a real re-run writes to Okta again).
        Route::Rerun(id) => {
            require_json(&req, true)?;
            let body = read_body(req, engine.config().server.max_body_bytes).await?;
            let dry_run = parse_json(&body)?
                .get("dry_run")
                .and_then(Value::as_bool)
                .ok_or_else(|| bad_request("say `\"dry_run\": true` (record what it would write) or `false` (do it again)".to_string()))?;
            let old = run_or_404(store, &id).await?;
            if let TriggerInfo::Flow { parent_run, .. } = &old.trigger {
                return Err(bad_request(format!("run `{id}` was called by run `{parent_run}`: re-run that one")));
            }
            let opts = StartOptions { dry_run, force: true, ..StartOptions::default() };
            let started = engine
                .start_run(&old.flow, TriggerInfo::Rerun { of: old.id.clone() }, old.input, opts)
                .await
                .map_err(start_error)?;
            Ok(json_response(StatusCode::ACCEPTED, &wire::Rerun { run_id: started.run_id, dry_run }))
        }
        Route::Cancel(id) => match engine.cancel_run(&id).await {
            Ok(o) => Ok(json_response(StatusCode::OK, &wire::Cancelled { run_id: id, cancelled: o.into() })),
            Err(CancelError::NotFound(m)) => Err(not_found(format!("run {m} not found"))),
            Err(e @ CancelError::Finished(..)) => Err(ApiError::new(StatusCode::CONFLICT, "finished", e.to_string())),
            Err(CancelError::Store(e)) => Err(store_error(e)),
        },
        // A waiting run's signal: `{"signal": "approval", "choice": "approve", "data": {...}}`.
        Route::Signal(id) => {
            require_json(&req, true)?;
            let body = read_body(req, engine.config().server.max_body_bytes).await?;
            let asked: wire::SignalRequest = serde_json::from_value(parse_json(&body)?)
                .map_err(|e| bad_request(format!("the body must be {{\"signal\": name, \"choice\": optional, \"data\": optional}}: {e}")))?;
            let signal = crate::runner::Signal {
                name: asked.signal.clone(),
                choice: asked.choice.clone(),
                data: asked.data.unwrap_or(Value::Null),
                by: "api".into(),
                after: None,
            };
            match engine.signal_run(&id, signal).await {
                Ok(()) => Ok(json_response(
                    StatusCode::ACCEPTED,
                    &wire::Signalled { run_id: id, signal: asked.signal, choice: asked.choice },
                )),
                Err(e) => Err(signal_error(e)),
            }
        }
        Route::Flows => {
            let set = engine.flows();
            // The listing answers even when the store cannot: the numbers
            // are then missing, and `stats_error` says why.
            let names: Vec<String> = set.flows().map(|f| f.name.clone()).collect();
            let (mut stats, stats_error) = match engine.flow_stats(&names).await {
                Ok(s) => (s, None),
                Err(e) => (Default::default(), Some(e)),
            };
            let flows: Vec<wire::ListedFlow> = set
                .flows()
                .map(|f| wire::ListedFlow {
                    name: f.name.clone(),
                    description: f.description.clone(),
                    file: f.file.clone(),
                    digest: f.digest.clone(),
                    enabled: f.enabled,
                    trigger: admin_wire::flow_trigger(&f.trigger),
                    running: engine.is_running(&f.name),
                    stats: stats.remove(&f.name).map(Into::into),
                    // `[error_flow]`: the daemon calls it for every failed run.
                    error_flow: engine.config().error_flow.as_deref() == Some(f.name.as_str()),
                })
                .collect();
            Ok(json_response(StatusCode::OK, &wire::FlowList { flows, status: engine.reload_status().into(), stats_error }))
        }
        Route::RunNow(name) => {
            let q = query(&req);
            let dry_run = query_bool(&q, "dry_run")?;
            let wait = query_bool(&q, "wait")?;
            require_json(&req, false)?;
            let body = read_body(req, engine.config().server.max_body_bytes).await?;
            let input = if body.iter().all(u8::is_ascii_whitespace) {
                // A schedule flow run by hand sees a fire at now (crate::schedule).
                let flow = engine.flows().get(&name).cloned();
                match flow.as_ref().and_then(|f| f.trigger.schedule()) {
                    Some(s) => crate::schedule::run_now_input(s, engine.clock().now()),
                    None => json!({}),
                }
            } else {
                parse_json(&body)?
            };
            let opts = StartOptions {
                dry_run,
                wait,
                timeout: Some(DEFAULT_SYNC_WAIT),
                force: true,
                ..StartOptions::default()
            };
            let started = engine.start_run(&name, TriggerInfo::Manual, input, opts).await.map_err(start_error)?;
            match started.outcome {
                Some(run) => Ok(json_response(StatusCode::OK, &wire::RunStarted { run_id: started.run_id, run: Some(run.into()) })),
                None => Ok(json_response(StatusCode::ACCEPTED, &wire::RunStarted { run_id: started.run_id, run: None })),
            }
        }
        Route::Reload => match engine.reload().await {
            Ok(status) => Ok(json_response(StatusCode::OK, &wire::ReloadStatus::from(status))),
            Err(e) => {
                let e = wire::LoadError::from(e.0);
                let error = wire::ErrorBody { diagnostics: Some(e.diagnostics), rendered: Some(e.rendered), ..wire::ErrorBody::new("invalid_flows", e.message) };
                Ok(json_response(StatusCode::UNPROCESSABLE_ENTITY, &wire::ErrorAnswer { error }))
            }
        },
        Route::Cards => {
            let set = engine.flows();
            let cards = set.cards().listing(set.flows()).into_iter().map(Into::into).collect();
            Ok(json_response(StatusCode::OK, &wire::CardList { cards }))
        }
        Route::Rejected => Ok(json_response(StatusCode::OK, &wire::Rejections::from(engine.intake().rejected()))),
        Route::Orgs => Ok(json_response(StatusCode::OK, &wire::OrgList { orgs: engine.orgs().views() })),
        Route::Tables => {
            let tables = store.list_tables().await.map_err(store_error)?;
            Ok(json_response(StatusCode::OK, &wire::TableList { tables: tables.into_iter().map(admin_wire::table).collect() }))
        }
        Route::Rows(table) => {
            let q = query(&req);
            let limit = match query_get(&q, "limit") {
                Some(l) => Some(l.parse::<u32>().map_err(|_| bad_request(format!("`limit` must be a number, not `{l}`")))?),
                None => None,
            };
            let (prefix, find) = (query_get(&q, "prefix").unwrap_or(""), query_get(&q, "q"));
            // `in`: the column the text is looked for in (else any).
            let column = query_get(&q, "in").filter(|c| !c.is_empty());
            let limit = limit.unwrap_or(lanyard_store::table_limits::DEFAULT_FIND_LIMIT);
            // Sorted by a field: the whole (found) table, a page from `after`
            // (an offset); else key order, a page after the key `after`.
            let mut page_query = lanyard_store::PageQuery { prefix, after: None, contains: find, column, limit };
            let page = match query_get(&q, "sort").filter(|f| !f.is_empty()) {
                Some(field) => {
                    let offset = match query_get(&q, "after").filter(|a| !a.is_empty()) {
                        Some(a) => a.parse::<usize>().map_err(|_| bad_request(format!("sorted, `after` is a row number, not `{a}`")))?,
                        None => 0,
                    };
                    let sort = lanyard_store::SortBy { field, desc: query_get(&q, "desc") == Some("true"), offset };
                    store.table_page_sorted(&table, &page_query, &sort).await
                }
                None => {
                    page_query.after = query_get(&q, "after").filter(|a| !a.is_empty());
                    store.table_page(&table, &page_query).await
                }
            }
            .map_err(store_error)?;
            let rows = page.rows.into_iter().map(Into::into).collect();
            Ok(json_response(StatusCode::OK, &wire::RowPage { table, rows, next: page.next, examined: page.examined }))
        }
        Route::ClearTable(table) => {
            // A replace with no rows: every row goes, in one durable write.
            let name = table.clone();
            let stats = blocking(store, move |s| s.import_csv(&name, &mut &b"key\n"[..], lanyard_store::ImportMode::Replace)).await?;
            Ok(json_response(StatusCode::OK, &wire::Cleared { table, deleted: stats.deleted }))
        }
        Route::TableCsv(table) => match m {
            Method::GET => {
                let name = table.clone();
                let (rows, out) = blocking(store, move |s| {
                    let mut out = Vec::new();
                    s.export_csv(&name, &mut out).map(|rows| (rows, out))
                })
                .await?;
                let mut r = Response::new(Full::new(Bytes::from(out)));
                let headers = r.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
                headers.insert(
                    http::header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("attachment; filename=\"{table}.csv\"")).map_err(|e| internal(e.to_string()))?,
                );
                headers.insert("x-rows", HeaderValue::from(rows));
                Ok(r)
            }
            _ => {
                let q = query(&req);
                let mode = match query_get(&q, "mode").unwrap_or("merge") {
                    "merge" => lanyard_store::ImportMode::Merge,
                    "replace" => lanyard_store::ImportMode::Replace,
                    other => return Err(bad_request(format!("`mode` is merge or replace, not `{other}`"))),
                };
                let body = read_body(req, MAX_IMPORT_BYTES).await?;
                let name = table.clone();
                let stats = blocking(store, move |s| s.import_csv(&name, &mut &body[..], mode)).await?;
                Ok(json_response(StatusCode::OK, &wire::Imported { table, imported: admin_wire::import_counts(stats) }))
            }
        },
        Route::Row(table, key) => match m {
            Method::GET => {
                let v = store.table_get(&table, &key).await.map_err(store_error)?;
                match v {
                    Some(value) => Ok(json_response(StatusCode::OK, &wire::Row { key, value })),
                    None => Err(not_found(format!("table `{table}` has no row `{key}`"))),
                }
            }
            Method::PUT => {
                require_json(&req, true)?;
                let body = read_body(req, engine.config().server.max_body_bytes).await?;
                let value = parse_json(&body)?;
                let outcome = store.table_put(&table, &key, &value).await.map_err(store_error)?;
                store.sync().await.map_err(store_error)?;
                Ok(json_response(StatusCode::OK, &wire::RowWritten { key, outcome }))
            }
            _ => {
                let outcome = store.table_delete(&table, &key).await.map_err(store_error)?;
                store.sync().await.map_err(store_error)?;
                Ok(json_response(StatusCode::OK, &wire::RowWritten { key, outcome }))
            }
        },
    }
}

enum Route {
    Rerun(String),
    ClearTable(String),
    TableCsv(String),
    Runs,
    Run(String),
    Cancel(String),
    Signal(String),
    Flows,
    RunNow(String),
    Reload,
    Cards,
    Rejected,
    Orgs,
    Tables,
    Rows(String),
    Row(String, String),
}

/// How a refused signal is answered.
fn signal_error(e: crate::runner::SignalError) -> ApiError {
    use crate::runner::SignalError as E;
    match e {
        E::NotFound(_) => not_found(e.to_string()),
        E::NotWaiting { .. } => ApiError::new(StatusCode::CONFLICT, "not_waiting", e.to_string()),
        E::OtherSignal { .. } => ApiError::new(StatusCode::CONFLICT, "other_signal", e.to_string()),
        E::Answered { .. } => ApiError::new(StatusCode::GONE, "answered", e.to_string()),
        E::BadChoice(_) | E::TooLarge(_) => bad_request(e.to_string()),
        E::Store(s) => store_error(s),
    }
}

/// A run by id; 404 for an id that is not one or names no run.
async fn run_or_404(store: &lanyard_store::SharedStore, id: &str) -> Result<lanyard_core::history::RunRecord, ApiError> {
    store
        .get_run(id)
        .await
        .map_err(|e| match e.kind() {
            lanyard_store::StoreErrorKind::Invalid => not_found(format!("run `{id}` not found")),
            _ => store_error(e),
        })?
        .ok_or_else(|| not_found(format!("run `{id}` not found")))
}

/// Whom an Okta event is about, as people know them: the first target that
/// is a user, `{ login, name }`.
fn who_of(input: &Value) -> Option<wire::Who> {
    let user = input.get("target")?.as_array()?.iter().find(|t| t.get("type").and_then(Value::as_str) == Some("User"))?;
    let login = user.get("alternateId").and_then(Value::as_str);
    let name = user.get("displayName").and_then(Value::as_str);
    (login.is_some() || name.is_some()).then(|| wire::Who { login: login.map(str::to_string), name: name.map(str::to_string) })
}

/// A blocking store call (CSV import and export read or write a whole table)
/// on tokio's blocking pool, so it never holds up the runtime's threads.
async fn blocking<T: Send + 'static>(
    store: &lanyard_store::SharedStore,
    f: impl FnOnce(&dyn lanyard_store::DataStore) -> lanyard_store::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .map_err(|e| internal(format!("the table task failed: {e}")))?
        .map_err(store_error)
}

/// The largest CSV a table import takes through the admin API.
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

fn store_error(e: lanyard_store::StoreError) -> ApiError {
    use lanyard_store::{StoreError as E, StoreErrorKind as K};
    match (e.kind(), e) {
        (_, e @ E::Import { .. }) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_csv", e.to_string()),
        (K::Invalid, e) => bad_request(e.to_string()),
        (K::NotFound, e) => not_found(e.to_string()),
        (K::Conflict, e) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        (_, other) => internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_cap_the_oldest_idle_connection_goes_then_the_reserve_fills() {
        let conns = Arc::new(Conns::new(3, 1));
        let a = conns.admit().unwrap();
        let b = conns.admit().unwrap();
        let c = conns.admit().unwrap();
        assert!(a.begin(), "a is busy");
        // Full: the oldest idle one (b, not busy a) makes room.
        let d = conns.admit().unwrap();
        assert!(!d.reserved);
        assert!(!b.begin(), "b was told to close");
        assert!(c.begin() && d.begin());
        // Everyone busy: the reserve, then nothing.
        let r = conns.admit().unwrap();
        assert!(r.reserved);
        assert!(r.begin());
        assert!(!conns.has_room(&conns.lock()));
        assert!(conns.admit().is_none());
        // A request answered makes its connection closable again.
        c.end();
        assert!(conns.has_room(&conns.lock()));
        let e = conns.admit().unwrap();
        assert!(e.reserved, "over the cap still: the reserve, after closing c");
        assert!(!c.begin());
        for gone in [a, r, e] {
            gone.close();
        }
        assert!(!conns.admit().unwrap().reserved, "under the cap again");
    }

    #[test]
    fn failed_accepts_are_reported_at_most_once_a_period_with_their_count() {
        let mut t = Throttle::new(Duration::from_secs(10));
        let t0 = std::time::Instant::now();
        assert_eq!(t.hit(t0), Some(1));
        for i in 1..500u32 {
            // A failure every 20 ms, as the accept loop retries.
            assert_eq!(t.hit(t0 + Duration::from_millis(20) * i), None);
        }
        assert_eq!(t.hit(t0 + Duration::from_secs(10)), Some(500));
        assert_eq!(t.hit(t0 + Duration::from_secs(11)), None);
    }
}
