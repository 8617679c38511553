//! Shared test plumbing: a sandbox on a loopback port with a hand-moved clock,
//! clients that wait without sleeping, and an Event Hook receiver.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lanyard_core::ManualClock;
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use lanyard_okta::{Auth, OktaClient, OktaConfig, RecordingSleeper};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub struct Env {
    pub clock: Arc<ManualClock>,
    pub sleeper: Arc<RecordingSleeper>,
    pub sandbox: RunningSandbox,
}

impl Env {
    pub async fn new() -> Env {
        Self::with_config(SandboxConfig::default()).await
    }

    pub async fn with_config(config: SandboxConfig) -> Env {
        let clock = Arc::new(ManualClock::new(start_time()));
        let org = SandboxOrg::new(config, clock.clone());
        let sandbox = RunningSandbox::start(org).await.expect("sandbox starts");
        let sleeper = Arc::new(RecordingSleeper::advancing(clock.clone()));
        Env {
            clock,
            sleeper,
            sandbox,
        }
    }

    pub fn org(&self) -> &Arc<SandboxOrg> {
        &self.sandbox.org
    }

    pub fn config(&self, auth: Auth) -> OktaConfig {
        let mut c = OktaConfig::new(&self.sandbox.base_url, auth).unwrap();
        c.request_timeout = Duration::from_secs(10);
        c
    }

    pub fn client_with(&self, config: OktaConfig) -> OktaClient {
        OktaClient::with_time(config, self.clock.clone(), self.sleeper.clone()).unwrap()
    }

    /// lanyard's own identity: the service account's API token.
    pub fn service(&self) -> OktaClient {
        self.client_with(self.config(Auth::Ssws(self.org().service_token().to_string())))
    }

    /// The human admin's API token.
    pub fn admin(&self) -> OktaClient {
        self.client_with(self.config(Auth::Ssws(self.org().admin_token().to_string())))
    }
}

/// The writes (every request but GETs) the org received since recording
/// started (or since the last take), as `METHOD /path`.
pub fn writes_sent(env: &Env) -> Vec<String> {
    env.org()
        .take_recording()
        .into_iter()
        .filter(|e| e.method != "GET")
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

/// What a hook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A minimal Event Hook endpoint, the way the daemon will answer: the
/// verification GET with the challenge, deliveries with scripted statuses
/// (200 once the script runs out).
pub struct HookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub script: Arc<Mutex<VecDeque<u16>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl HookReceiver {
    pub async fn start() -> HookReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (rec, scr) = (received.clone(), script.clone());
        serve(
            listener,
            rx,
            hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let (rec, scr) = (rec.clone(), scr.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    let headers = parts
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                        })
                        .collect();
                    rec.lock().unwrap().push(Received {
                        method: parts.method.to_string(),
                        headers,
                        body,
                    });
                    if parts.method == hyper::Method::GET {
                        let challenge = parts
                            .headers
                            .get(lanyard_okta::hooks::VERIFICATION_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        let body = lanyard_okta::hooks::verification_response(challenge)
                            .unwrap_or_default();
                        return Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(200)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        );
                    }
                    let mut status = scr.lock().unwrap().pop_front().unwrap_or(200);
                    if status == 0 {
                        // Scripted 0: answer far too late (the sender times out first).
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        status = 200;
                    }
                    Ok(Response::builder()
                        .status(status)
                        .body(Full::new(Bytes::new()))
                        .unwrap())
                }
            }),
        );
        HookReceiver {
            url: format!("http://{addr}/okta/events"),
            received,
            script,
            _shutdown: tx,
        }
    }

    pub fn posts(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == "POST")
            .cloned()
            .collect()
    }

    pub fn gets(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == "GET")
            .cloned()
            .collect()
    }
}

pub fn header<'a>(r: &'a Received, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A fresh P-256 key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn ec_key_pair() -> (String, String) {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(s) = p256::SecretKey::from_slice(&bytes) {
            break s;
        }
    };
    let private = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (private, public)
}

/// An HTTP proxy in front of the sandbox that loses answers: the first `drops`
/// requests with `method` whose path ends with `path_suffix` go through (the
/// sandbox applies them), then the connection closes without the answer, as
/// when a network drops it on the way back. Everything else passes through.
pub struct LossyProxy {
    pub url: String,
    /// Requests that matched, answered or not.
    pub matched: Arc<std::sync::atomic::AtomicUsize>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl LossyProxy {
    pub async fn start(
        upstream: &str,
        method: &str,
        path_suffix: &str,
        drops: usize,
    ) -> LossyProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let matched = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let upstream = upstream.to_string();
        let (method, suffix) = (method.to_string(), path_suffix.to_string());
        let counter = matched.clone();
        serve(
            listener,
            rx,
            hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let (http, upstream, method, suffix, counter) = (
                    http.clone(),
                    upstream.clone(),
                    method.clone(),
                    suffix.clone(),
                    counter.clone(),
                );
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                    let mut fwd = http.request(parts.method.clone(), format!("{upstream}{target}"));
                    for (k, v) in &parts.headers {
                        if !matches!(
                            k.as_str(),
                            "content-length" | "connection" | "transfer-encoding"
                        ) {
                            fwd = fwd.header(k, v);
                        }
                    }
                    let answer = fwd.body(body).send().await.unwrap();
                    let status = answer.status();
                    let headers = answer.headers().clone();
                    let bytes = answer.bytes().await.unwrap();
                    let hit =
                        parts.method.as_str() == method && parts.uri.path().ends_with(&suffix);
                    if hit && counter.fetch_add(1, Ordering::SeqCst) < drops {
                        // Applied upstream; the answer goes nowhere.
                        return Err(std::io::Error::other("answer dropped"));
                    }
                    let mut resp = Response::builder().status(status);
                    for (k, v) in &headers {
                        if !matches!(
                            k.as_str(),
                            "content-length" | "connection" | "transfer-encoding"
                        ) {
                            resp = resp.header(k, v);
                        }
                    }
                    Ok(resp.body(Full::new(bytes)).unwrap())
                }
            }),
        );
        LossyProxy {
            url: format!("http://{addr}"),
            matched,
            _shutdown: tx,
        }
    }
}

/// Serve `svc` on every connection `listener` accepts, until `stop` fires.
fn serve<S, B>(
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    svc: S,
) where
    S: hyper::service::Service<Request<hyper::body::Incoming>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                a = listener.accept() => a.unwrap(),
                _ = &mut stop => return,
            };
            let svc = svc.clone();
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}
