//! What the HTTP stand-ins (Slack, Zoom, Asana, JAMF, scripted) share: serving
//! a bound listener over HTTP/1, reading a bounded body, bearer-token checks,
//! injected faults and the record of every request with the status it got
//! (and what the service noted about it, [`Api::Note`]).
//!
//! Knows nothing of any one service: its routes, its token and the shape of its
//! error bodies come in through [`Api`]. It must not answer a request on a
//! service's behalf except through that trait, so every answer a client sees
//! is in the service's own shape.

use crate::{StartError, WaitTimeout};
use lanyard_connect::config::{AuthConfig, ConnectionConfig, UrlSource};
use lanyard_connect::secret::SecretSource;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// An answer, as the stand-ins build them.
pub(crate) type Reply = Response<Full<Bytes>>;

/// Largest request body read; a longer one is answered 413.
const MAX_BODY: usize = 1024 * 1024;
/// How much of a body too large the stand-in reads on (and drops) before it
/// answers.
const MAX_DRAINED: usize = 16 * 1024 * 1024;
/// How long a client may take to send its headers, then its body.
const READ_TIME: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 256;
/// The record keeps the latest requests up to both bounds.
const KEPT_REQUESTS: usize = 10_000;
const KEPT_BODY_BYTES: usize = 64 * 1024 * 1024;

/// One request a stand-in received, and how it answered.
#[derive(Debug, Clone)]
pub struct StandInRequest {
    pub method: String,
    /// Path and query, as received (still percent-encoded).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body, if it was JSON.
    pub json: Option<Value>,
    /// The status the stand-in answered.
    pub status: u16,
}

impl StandInRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is declared JSON (`application/json`, any parameters).
    pub(crate) fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
        })
    }
}

/// A request as a service's routes see it: the record, and its target decoded.
pub(crate) struct Route<'a> {
    pub request: &'a StandInRequest,
    /// The path's segments, percent-decoded, without the leading empty one.
    pub segments: Vec<String>,
    /// The query's pairs, form-decoded, in order.
    pub query: Vec<(String, String)>,
}

impl Route<'_> {
    pub fn method(&self) -> &str {
        &self.request.method
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn segments(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

/// One service a stand-in pretends to be.
pub(crate) trait Api: Send + Sync + 'static {
    /// What [`WaitTimeout`] and the logs call its requests ("zoom requests").
    const WHAT: &'static str;
    /// What the service writes down about a request beside the shared record
    /// (`()` for nothing): a reply carries it in its extensions
    /// ([`with_note`]), and the record keeps it next to the request.
    type Note: Clone + Send + Sync + 'static;
    /// The bearer token it accepts; `None` when its routes check credentials
    /// themselves (Slack's webhook takes none, and its Web API answers a bad
    /// token `200 {"ok": false}`).
    fn token(&self) -> Option<&str>;
    /// Its answer to a missing or wrong token.
    fn unauthorized(&self) -> Reply;
    /// Its answer with `status` when nothing more specific is known (an
    /// injected fault, a body too large, a route it does not have).
    fn error(&self, status: StatusCode) -> Reply;
    /// Its answer to an authorized request.
    fn route(&self, route: &Route<'_>) -> Reply;
}

/// `body` as a JSON answer.
pub(crate) fn json_reply(status: StatusCode, body: &Value) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}

/// An answer without a body (`204 No Content`).
pub(crate) fn no_content() -> Reply {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Full::new(Bytes::new()))
        .expect("static response")
}

/// `reply` carrying `note`, which the record keeps beside the request
/// ([`Api::Note`]); the client never sees it.
pub(crate) fn with_note<N: Clone + Send + Sync + 'static>(mut reply: Reply, note: N) -> Reply {
    reply.extensions_mut().insert(note);
    reply
}

/// `reply` with one more header.
pub(crate) fn with_header(mut reply: Reply, name: &'static str, value: &str) -> Reply {
    reply.headers_mut().insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(value).expect("a header value the stand-in wrote"),
    );
    reply
}

/// A connection to a stand-in: its base URL, its token inline (a
/// development-only secret) and `allow_private`, since it listens on loopback.
pub(crate) fn bearer_connection(
    base_url: String,
    token: &str,
    description: &str,
) -> ConnectionConfig {
    ConnectionConfig {
        base_url: UrlSource::Plain(base_url),
        auth: AuthConfig::Bearer(SecretSource::Value(token.to_owned())),
        headers: Default::default(),
        timeout: None,
        allow_private: true,
        max_response_bytes: None,
        description: Some(description.to_owned()),
    }
}

/// A stand-in serving on its listener. Dropping it stops the server.
pub(crate) struct Running<A: Api> {
    addr: SocketAddr,
    shared: Arc<Shared<A>>,
    task: JoinHandle<()>,
}

impl<A: Api> Drop for Running<A> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared<A: Api> {
    api: A,
    log: watch::Sender<Log<A::Note>>,
    /// Requests still to fail, and with which status.
    faults: Mutex<(usize, StatusCode)>,
}

/// A request as kept: the record, and the service's note if its reply had one.
pub(crate) type Noted<N> = (StandInRequest, Option<N>);

struct Log<N> {
    total: usize,
    kept: VecDeque<Noted<N>>,
    kept_bytes: usize,
}

impl<N> Default for Log<N> {
    fn default() -> Self {
        Log {
            total: 0,
            kept: VecDeque::new(),
            kept_bytes: 0,
        }
    }
}

impl<N> Log<N> {
    fn push(&mut self, request: StandInRequest, note: Option<N>) {
        self.total += 1;
        self.kept_bytes += request.body.len();
        self.kept.push_back((request, note));
        while self.kept.len() > KEPT_REQUESTS || self.kept_bytes > KEPT_BODY_BYTES {
            let Some((old, _)) = self.kept.pop_front() else {
                break;
            };
            self.kept_bytes -= old.body.len();
        }
    }
}

impl<A: Api> Running<A> {
    /// Serve `listener` as the service `api(addr)` describes.
    pub fn start(
        listener: TcpListener,
        api: impl FnOnce(SocketAddr) -> A,
    ) -> Result<Self, StartError> {
        let addr = listener.local_addr().map_err(StartError::Addr)?;
        let shared = Arc::new(Shared {
            api: api(addr),
            log: watch::channel(Log::default()).0,
            faults: Mutex::new((0, StatusCode::INTERNAL_SERVER_ERROR)),
        });
        let task = tokio::spawn(serve(listener, shared.clone()));
        Ok(Running { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn api(&self) -> &A {
        &self.shared.api
    }

    /// The requests so far, oldest first (the latest 10 000 at most).
    pub fn requests(&self) -> Vec<StandInRequest> {
        self.shared.log.borrow().kept.iter().map(|(r, _)| r.clone()).collect()
    }

    /// The requests so far with the service's notes, oldest first.
    pub fn noted(&self) -> Vec<Noted<A::Note>> {
        self.shared.log.borrow().kept.iter().cloned().collect()
    }

    /// The next `n` authorized requests are answered `status`, with the
    /// service's error body (and `Retry-After: 1` for 429). Replaces what an
    /// earlier call left.
    ///
    /// # Panics
    /// If `status` is not an HTTP status (100 to 999).
    pub fn fail_next(&self, n: usize, status: u16) {
        let status = StatusCode::from_u16(status)
            .unwrap_or_else(|_| panic!("fail_next: {status} is not an HTTP status"));
        *lock(&self.shared.faults) = (n, status);
    }

    /// Wait until at least `n` requests were received; returns them.
    pub async fn wait_for(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<StandInRequest>, WaitTimeout> {
        let started = Instant::now();
        let mut rx = self.shared.log.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|log| log.total >= n)).await;
        match waited {
            Ok(Ok(_)) => Ok(self.requests()),
            _ => Err(WaitTimeout {
                what: A::WHAT,
                wanted: n,
                got: self.shared.log.borrow().total,
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }

    /// Wait until at least `n` of the kept requests are `counted`; `what`
    /// names them in the timeout ("slack messages").
    pub async fn wait_for_noted(
        &self,
        n: usize,
        timeout: Duration,
        what: &'static str,
        counted: impl Fn(&Noted<A::Note>) -> bool,
    ) -> Result<(), WaitTimeout> {
        let started = Instant::now();
        let count = |log: &Log<A::Note>| log.kept.iter().filter(|r| counted(r)).count();
        let mut rx = self.shared.log.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|log| count(log) >= n)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(WaitTimeout {
                what,
                wanted: n,
                got: count(&self.shared.log.borrow()),
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }
}

/// The methods a stand-in's handle forwards to its [`Running`] server (the
/// handle's field `running`): `addr`, `requests` and `wait_for`; with
/// `fail_next:`, injected faults too, documented with what a faulted request
/// is answered (`" with Zoom's error body"`).
macro_rules! recorded_handle {
    ($handle:ident) => {
        impl $handle {
            pub fn addr(&self) -> std::net::SocketAddr {
                self.running.addr()
            }

            /// Every request so far, with the status it got.
            pub fn requests(&self) -> Vec<$crate::StandInRequest> {
                self.running.requests()
            }

            /// Wait until at least `n` requests were received; returns them all.
            pub async fn wait_for(
                &self,
                n: usize,
                timeout: std::time::Duration,
            ) -> Result<Vec<$crate::StandInRequest>, $crate::WaitTimeout> {
                self.running.wait_for(n, timeout).await
            }
        }
    };
    ($handle:ident, fail_next: $answered:literal) => {
        $crate::record::recorded_handle!($handle);

        impl $handle {
            #[doc = concat!(
                "The next `n` requests that pass the token check are answered `status`",
                $answered,
                "."
            )]
            pub fn fail_next(&self, n: usize, status: u16) {
                self.running.fail_next(n, status);
            }
        }
    };
}
pub(crate) use recorded_handle;

/// The lock's data even if a holder panicked: the stand-ins' state stays
/// consistent between statements, and a test's panic must not hide behind
/// another.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve<A: Api>(listener: TcpListener, shared: Arc<Shared<A>>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(stand_in = A::WHAT, %error, "stand-in: accept failed");
                // Out of descriptors, most likely: give them time to come back.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&shared, req).await) }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIME)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(stand_in = A::WHAT, %peer, %error, "stand-in: connection ended");
            }
            drop(slot);
        });
    }
}

async fn handle<A: Api>(shared: &Shared<A>, req: Request<hyper::body::Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let (body, unreadable) = match tokio::time::timeout(READ_TIME, read_body(body)).await {
        Ok(Ok(body)) => (body, None),
        Ok(Err(status)) => (Vec::new(), Some(status)),
        Err(_) => (Vec::new(), Some(StatusCode::REQUEST_TIMEOUT)),
    };
    let mut record = StandInRequest {
        method: parts.method.as_str().to_owned(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| parts.uri.path().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), value)
            })
            .collect(),
        json: serde_json::from_slice(&body).ok(),
        body,
        status: 0,
    };
    let mut reply = match unreadable {
        Some(status) => shared.api.error(status),
        None => answer(shared, &record),
    };
    let note = reply.extensions_mut().remove::<A::Note>();
    record.status = reply.status().as_u16();
    tracing::info!(
        stand_in = A::WHAT,
        method = %record.method,
        target = %record.target,
        status = record.status,
        "stand-in: request"
    );
    shared.log.send_modify(|log| log.push(record, note));
    reply
}

/// The body, at most [`MAX_BODY`] bytes of it. A longer one is read on to
/// its end (up to [`MAX_DRAINED`]) and dropped, so that the client, still
/// sending, reads the 413 instead of a reset connection.
async fn read_body(mut body: hyper::body::Incoming) -> Result<Vec<u8>, StatusCode> {
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_BODY {
            kept.extend_from_slice(&data);
        } else if seen > MAX_DRAINED {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        } else {
            kept = Vec::new();
        }
    }
    if seen > MAX_BODY {
        Err(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        Ok(kept)
    }
}

/// Auth first, then an injected fault, then the service's route: the order in
/// which a real gateway refuses.
fn answer<A: Api>(shared: &Shared<A>, record: &StandInRequest) -> Reply {
    if let Some(token) = shared.api.token()
        && bearer(record) != Some(token)
    {
        return shared.api.unauthorized();
    }
    let fault = {
        let mut faults = lock(&shared.faults);
        (faults.0 > 0).then(|| {
            faults.0 -= 1;
            faults.1
        })
    };
    if let Some(status) = fault {
        let reply = shared.api.error(status);
        return if status == StatusCode::TOO_MANY_REQUESTS {
            with_header(reply, "retry-after", "1")
        } else {
            reply
        };
    }
    match route(record) {
        Some(route) => shared.api.route(&route),
        // A path that does not decode names nothing the service has.
        None => shared.api.error(StatusCode::NOT_FOUND),
    }
}

/// The token of an `Authorization: Bearer …` header (the scheme is
/// case-insensitive, as in RFC 9110).
fn bearer(record: &StandInRequest) -> Option<&str> {
    let value = record.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn route(record: &StandInRequest) -> Option<Route<'_>> {
    let (path, query) = record
        .target
        .split_once('?')
        .unwrap_or((record.target.as_str(), ""));
    let segments = path
        .strip_prefix('/')?
        .split('/')
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()?;
    let query = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    Some(Route {
        request: record,
        segments,
        query,
    })
}

/// A path segment's `%XX` escapes decoded; `None` for a broken escape or bytes
/// that are not UTF-8. A `+` stays a `+` (it is a space only in a query).
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn path_segments_decode_strictly() {
        assert_eq!(
            percent_decode("ada%40acme.example").as_deref(),
            Some("ada@acme.example")
        );
        assert_eq!(percent_decode("a+b%2Bc").as_deref(), Some("a+b+c"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("100%"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
