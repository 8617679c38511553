//! Local servers for the tests: a recording HTTP server, a raw TCP responder and
//! a server that never answers. All bind 127.0.0.1:0.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use lanyard_connect::{Connections, ConnectionsConfig, HttpCapability, HttpSettings, StaticLookup};
use lanyard_core::caps::{HttpMethod, HttpRequest};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Recorded) -> Response<Full<Bytes>> + Send + Sync;

/// An HTTP/1 server that records each request and answers with `handler`.
pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(
        handler: impl Fn(&Recorded) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, conns) = (requests.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (reqs, handler) = (reqs.clone(), handler.clone());
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (reqs, handler) = (reqs.clone(), handler.clone());
                            async move {
                                let method = req.method().to_string();
                                let target = req
                                    .uri()
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default();
                                let headers = req
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.to_string(),
                                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                        )
                                    })
                                    .collect();
                                let body =
                                    req.into_body().collect().await.unwrap().to_bytes().to_vec();
                                let recorded = Recorded {
                                    method,
                                    target,
                                    headers,
                                    body,
                                };
                                let response = handler(&recorded);
                                reqs.lock().unwrap().push(recorded);
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            requests,
            connections,
            task,
        }
    }

    /// Answers every request with 200 and `ok`.
    pub async fn ok() -> Self {
        Self::start(|_| text(StatusCode::OK, "ok")).await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests().pop().expect("the server got a request")
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

pub fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// A server that answers every connection with the same raw bytes.
pub async fn raw_server(response: Vec<u8>) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let response = Arc::new(response);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let response = response.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, task)
}

/// A server that accepts connections and never answers.
pub async fn silent_server() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            held.push(stream);
        }
    });
    (addr, task)
}

/// Parse `[connections.*]` TOML into a config.
pub fn connections_toml(toml_text: &str) -> ConnectionsConfig {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        connections: ConnectionsConfig,
    }
    toml::from_str::<File>(toml_text).unwrap().connections
}

pub fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Connections from TOML and an environment, and the capability over them with
/// a fixed resolver.
pub fn capability(
    toml_text: &str,
    env_pairs: &[(&str, &str)],
    lookup: StaticLookup,
) -> HttpCapability {
    let connections =
        Connections::from_config_with_env(&connections_toml(toml_text), &env(env_pairs)).unwrap();
    HttpCapability::with_lookup(
        Arc::new(connections),
        HttpSettings::default(),
        Arc::new(lookup),
    )
    .unwrap()
}

pub fn request(method: HttpMethod, url: &str, connection: Option<&str>) -> HttpRequest {
    HttpRequest {
        method,
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
        connection: connection.map(str::to_owned),
        timeout_ms: None,
    }
}

pub fn get(url: &str, connection: Option<&str>) -> HttpRequest {
    request(HttpMethod::Get, url, connection)
}
