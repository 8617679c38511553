//! The http capability against real local servers: URL joining and escapes,
//! header rules, credential injection, SSRF refusals, caps and timeouts.

use crate::support::{TestServer, capability, get, raw_server, request, silent_server, text};
use hyper::StatusCode;
use lanyard_connect::{Connections, HttpCapability, HttpSettings, StaticLookup};
use lanyard_core::ErrorKind;
use lanyard_core::caps::{HttpApi, HttpMethod, HttpRequest};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn api_connection(port: u16) -> String {
    format!(
        r#"
        [connections.api]
        base_url = "http://127.0.0.1:{port}/api"
        auth = {{ bearer = {{ env = "API_TOKEN" }} }}
        headers = {{ x-static = "from-config" }}
        allow_private = true
        "#
    )
}

fn api(server: &TestServer) -> HttpCapability {
    capability(
        &api_connection(server.port()),
        &[("API_TOKEN", "t0ken")],
        StaticLookup::new(),
    )
}

#[tokio::test]
async fn relative_urls_join_under_the_base() {
    let server = TestServer::ok().await;
    let http = api(&server);
    let port = server.port();
    for (card_url, sent) in [
        ("chat.postMessage", "/api/chat.postMessage"),
        ("/chat.postMessage", "/api/chat.postMessage"),
        (
            "users/U1/profile?fields=a,b",
            "/api/users/U1/profile?fields=a,b",
        ),
        ("", "/api"),
        ("/", "/api"),
        ("a%20b", "/api/a%20b"),
        (
            &format!("http://127.0.0.1:{port}/api/users.list?limit=2"),
            "/api/users.list?limit=2",
        ),
        (&format!("http://127.0.0.1:{port}/api"), "/api"),
    ] {
        let response = http.send(get(card_url, Some("api"))).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(server.last().target, sent, "card url {card_url}");
    }
}

#[tokio::test]
async fn escapes_from_the_base_are_refused_before_sending() {
    let server = TestServer::ok().await;
    let http = api(&server);
    let port = server.port();
    let other = TestServer::ok().await;
    let escapes = [
        "../admin".to_owned(),
        "/../admin".to_owned(),
        "a/../../admin".to_owned(),
        "%2e%2e/admin".to_owned(),
        "a/%2E%2e/%2e%2E/admin".to_owned(),
        "..%2fadmin".to_owned(),
        "x%5c..%5cadmin".to_owned(),
        "./x".to_owned(),
        "//evil.example/api/x".to_owned(),
        format!("http://127.0.0.1:{port}/admin"),
        format!("http://127.0.0.1:{port}/apix"),
        format!("http://127.0.0.1:{port}/api/../admin"),
        format!("http://127.0.0.1:{port}/api/%2e%2e/admin"),
        format!("http://127.0.0.1:{}/api/x", other.port()),
        format!("https://127.0.0.1:{port}/api/x"),
        format!("http://localhost:{port}/api/x"),
        format!("http://127.0.0.1:{port}@127.0.0.2:{port}/api/x"),
        format!("http://user:pw@127.0.0.1:{port}/api/x"),
        format!("http://127.0.0.1:{port}#@evil.example/api"),
        "mailto:root@example.com".to_owned(),
        "file:///etc/passwd".to_owned(),
    ];
    for url in &escapes {
        let err = http.send(get(url, Some("api"))).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{url}: {err}");
        assert!(
            err.message.contains("not under the connection's base URL"),
            "{url}: {err}"
        );
    }
    assert_eq!(server.connections(), 0, "an escape reached the server");
    assert_eq!(other.connections(), 0, "an escape reached another port");
    let err = http.send(get("a\\b", Some("api"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn unknown_connection_is_not_found() {
    let server = TestServer::ok().await;
    let err = api(&server).send(get("x", Some("nope"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "no connection named `nope` is configured");
}

#[tokio::test]
async fn credentials_headers_are_the_hosts() {
    let server = TestServer::ok().await;
    let http = api(&server);
    for header in [
        "authorization",
        "Authorization",
        "cookie",
        "Proxy-Authorization",
    ] {
        let mut req = get("x", Some("api"));
        req.headers
            .push((header.to_owned(), "Bearer mine".to_owned()));
        let err = http.send(req).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{header}");
        assert!(
            err.message
                .contains("connection `api` injects its own credentials"),
            "{err}"
        );
    }
    for header in ["host", "content-length", "transfer-encoding", "connection"] {
        let mut req = get("x", Some("api"));
        req.headers.push((header.to_owned(), "1".to_owned()));
        let err = http.send(req).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{header}");
    }
    let mut req = get("x", Some("api"));
    req.headers
        .push(("x-ok".to_owned(), "line\r\nInjected: yes".to_owned()));
    assert_eq!(
        http.send(req).await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(server.connections(), 0);

    // The card's own headers pass; the config's static headers win.
    let mut req = request(HttpMethod::Post, "items", Some("api"));
    req.headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-static".to_owned(), "from-card".to_owned()),
        ("x-card".to_owned(), "yes".to_owned()),
    ];
    req.body = Some(br#"{"a":1}"#.to_vec());
    http.send(req).await.unwrap();
    let seen = server.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(seen.header("x-static"), Some("from-config"));
    assert_eq!(seen.header("x-card"), Some("yes"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.body, br#"{"a":1}"#);
    assert!(seen.header("user-agent").unwrap().starts_with("lanyard/"));
}

/// One connection per auth kind, named after it, under `/t` (bearer), `/b`
/// (basic), `/h` (header), `/q` (query) and `/n` (none) of `port`; secrets from
/// `BEARER`, `PW`, `KEY` and `QUERY`.
fn every_auth_kind(port: u16) -> String {
    format!(
        r#"
        [connections.bearer]
        base_url = "http://127.0.0.1:{port}/t"
        auth = {{ bearer = {{ env = "BEARER" }} }}
        allow_private = true

        [connections.basic]
        base_url = "http://127.0.0.1:{port}/b"
        auth = {{ basic = {{ username = "svc", password = {{ env = "PW" }} }} }}
        allow_private = true

        [connections.header]
        base_url = "http://127.0.0.1:{port}/h"
        auth = {{ header = {{ name = "X-Api-Key", value = {{ env = "KEY" }} }} }}
        allow_private = true

        [connections.query]
        base_url = "http://127.0.0.1:{port}/q"
        auth = {{ query = {{ name = "api_key", value = {{ env = "QUERY" }} }} }}
        allow_private = true

        [connections.none]
        base_url = "http://127.0.0.1:{port}/n"
        allow_private = true
        "#
    )
}

#[tokio::test]
async fn every_auth_kind_is_injected() {
    let server = TestServer::ok().await;
    let port = server.port();
    let http = capability(
        &every_auth_kind(port),
        &[
            ("BEARER", "t0ken"),
            ("PW", "p@ss:word"),
            ("KEY", "k&y=1"),
            ("QUERY", "k&y=1"),
        ],
        StaticLookup::new(),
    );
    http.send(get("x", Some("basic"))).await.unwrap();
    // base64("svc:p@ss:word")
    assert_eq!(
        server.last().header("authorization"),
        Some("Basic c3ZjOnBAc3M6d29yZA==")
    );

    http.send(get("x", Some("header"))).await.unwrap();
    assert_eq!(server.last().header("x-api-key"), Some("k&y=1"));
    let mut req = get("x", Some("header"));
    req.headers
        .push(("x-api-key".to_owned(), "mine".to_owned()));
    assert_eq!(http.send(req).await.unwrap_err().kind, ErrorKind::Denied);

    http.send(get("x?page=2", Some("query"))).await.unwrap();
    assert_eq!(server.last().target, "/q/x?page=2&api_key=k%26y%3D1");
    let err = http
        .send(get("x?api_key=mine", Some("query")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    // The URL the runtime may log carries no secret.
    let target = http.target(&get("x", Some("query"))).unwrap();
    assert!(!target.as_str().contains("k%26y"), "{target}");

    http.send(get("x", Some("none"))).await.unwrap();
    assert_eq!(server.last().header("authorization"), None);
}

#[tokio::test]
async fn direct_requests_must_be_https_without_credentials() {
    let http = capability("", &[], StaticLookup::new());
    let err = http
        .send(get("http://example.com/", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    assert!(err.message.contains("only https"), "{err}");
    let err = http
        .send(get("https://u:p@example.com/", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    let err = http.send(get("/relative", None)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    let mut req = get("https://example.com/", None);
    req.headers
        .push(("proxy-authorization".to_owned(), "x".to_owned()));
    assert_eq!(http.target(&req).unwrap_err().kind, ErrorKind::Denied);
}

#[tokio::test]
async fn literal_refused_addresses_are_refused_without_a_connection() {
    let server = TestServer::ok().await;
    let port = server.port();
    let http = capability("", &[], StaticLookup::new());
    for url in [
        format!("https://127.0.0.1:{port}/"),
        format!("https://[::1]:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
        format!("https://[::ffff:7f00:1]:{port}/"),
        format!("https://2130706433:{port}/"),
        format!("https://0x7f.1:{port}/"),
        format!("https://0.0.0.0:{port}/"),
    ] {
        let err = http.send(get(&url, None)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{url}: {err}");
        assert!(err.message.contains("refused"), "{url}: {err}");
    }
    assert_eq!(server.connections(), 0);
    // Checked without sending: addresses no test may ever dial.
    for (url, why) in [
        ("https://10.0.0.1/", "a private address"),
        ("https://172.16.5.4/", "a private address"),
        ("https://192.168.1.1/", "a private address"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "a cloud metadata address",
        ),
        ("https://[fd00:ec2::254]/", "a cloud metadata address"),
        (
            "https://[::ffff:169.254.169.254]/",
            "a cloud metadata address",
        ),
        ("https://[::ffff:10.1.2.3]/", "a private address"),
        ("https://100.64.0.1/", "a carrier-grade NAT address"),
        ("https://[fe80::1]/", "a link-local address"),
        ("https://[fc00::1]/", "a private address"),
        ("https://224.0.0.1/", "a multicast address"),
        ("https://255.255.255.255/", "the broadcast address"),
        (
            "https://metadata.google.internal/computeMetadata/v1/",
            "cloud metadata service",
        ),
    ] {
        let err = http.target(&get(url, None)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{url}: {err}");
        assert!(err.message.contains(why), "{url}: {err}");
    }
}

#[tokio::test]
async fn names_resolving_to_refused_addresses_are_refused() {
    let server = TestServer::ok().await;
    let port = server.port();
    let lookup = StaticLookup::new()
        .with("evil.test", &["127.0.0.1".parse().unwrap()])
        .with("mapped.test", &["::ffff:127.0.0.1".parse().unwrap()])
        .with("v6.test", &["::1".parse().unwrap()])
        .with("meta.test", &["169.254.169.254".parse().unwrap()])
        .with("private.test", &["10.0.0.7".parse().unwrap()])
        .with(
            "mixed.test",
            &[
                "93.184.216.34".parse().unwrap(),
                "192.168.0.10".parse().unwrap(),
            ],
        )
        .with("public.test", &["93.184.216.34".parse().unwrap()]);
    let http = capability("", &[], lookup);
    for host in ["evil.test", "mapped.test", "v6.test"] {
        let err = http
            .send(get(&format!("https://{host}:{port}/x"), None))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{host}: {err}");
        assert!(
            err.message.contains(&format!("{host} resolves to")),
            "{err}"
        );
        assert!(err.message.contains("a loopback address"), "{err}");
        assert!(!err.retryable);
    }
    assert_eq!(server.connections(), 0, "a refused name was dialled");
    // The same check without dialling anything, for addresses no test may reach.
    for (host, why) in [
        ("meta.test", "a cloud metadata address"),
        ("private.test", "a private address"),
        ("mixed.test", "a private address"),
        ("metadata.google.internal", "a cloud metadata address"),
    ] {
        let err = http.resolve(None, host).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Denied, "{host}");
        assert!(err.message.contains(why), "{host}: {err}");
    }
    let ips = http.resolve(None, "public.test").await.unwrap();
    assert_eq!(ips, vec!["93.184.216.34".parse::<IpAddr>().unwrap()]);
    let err = http
        .send(get("https://unknown.test/", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert!(err.retryable);
}

#[tokio::test]
async fn localhost_through_the_system_resolver_is_refused() {
    let server = TestServer::ok().await;
    let http =
        HttpCapability::new(Arc::new(Connections::empty()), HttpSettings::default()).unwrap();
    let err = http
        .send(get(&format!("https://localhost:{}/", server.port()), None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied, "{err}");
    assert!(err.message.contains("localhost resolves to"), "{err}");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn allow_private_opens_exactly_the_connections_host() {
    let server = TestServer::ok().await;
    let port = server.port();
    let lookup = StaticLookup::new()
        .with("intranet.test", &["127.0.0.1".parse().unwrap()])
        .with("other.test", &["127.0.0.1".parse().unwrap()]);
    let http = capability(
        &format!(
            r#"
            [connections.intranet]
            base_url = "http://intranet.test:{port}/"
            allow_private = true

            [connections.public]
            base_url = "https://other.test:{port}/"
            "#
        ),
        &[],
        lookup,
    );
    http.send(get("hello", Some("intranet"))).await.unwrap();
    assert_eq!(server.last().target, "/hello");
    assert_eq!(
        server.last().header("host"),
        Some(format!("intranet.test:{port}").as_str())
    );
    // Another connection to a name resolving to the same address: refused.
    let err = http.send(get("hello", Some("public"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied, "{err}");
    // And a direct request to the private connection's host: refused.
    let err = http
        .send(get(&format!("https://intranet.test:{port}/"), None))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied, "{err}");
    assert_eq!(server.connections(), 1);
    assert!(
        http.resolve(Some("intranet"), "intranet.test")
            .await
            .is_ok()
    );
    assert!(http.resolve(Some("intranet"), "other.test").await.is_err());
}

#[tokio::test]
async fn redirects_go_back_to_the_card() {
    let server = TestServer::start(|_| {
        let mut r = text(StatusCode::FOUND, "");
        r.headers_mut().insert(
            "location",
            "http://169.254.169.254/latest/meta-data/".parse().unwrap(),
        );
        r
    })
    .await;
    let response = api(&server).send(get("x", Some("api"))).await.unwrap();
    assert_eq!(response.status, 302);
    assert!(
        response
            .headers
            .iter()
            .any(|(k, v)| k == "location" && v.contains("169.254.169.254"))
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn non_2xx_is_a_response() {
    let server = TestServer::start(|_| text(StatusCode::SERVICE_UNAVAILABLE, "down")).await;
    let response = api(&server).send(get("x", Some("api"))).await.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.body, b"down");
}

fn capped(port: u16, cap: u64) -> HttpCapability {
    capability(
        &format!(
            r#"
            [connections.capped]
            base_url = "http://127.0.0.1:{port}/"
            max_response_bytes = {cap}
            allow_private = true
            "#
        ),
        &[],
        StaticLookup::new(),
    )
}

#[tokio::test]
async fn response_bodies_are_capped() {
    let body = "x".repeat(2048);
    let mut with_length =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    with_length.extend_from_slice(body.as_bytes());
    let (addr, _server) = raw_server(with_length).await;
    let err = capped(addr.port(), 1024)
        .send(get("", Some("capped")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge, "{err}");
    assert!(!err.retryable);
    assert!(
        capped(addr.port(), 4096)
            .send(get("", Some("capped")))
            .await
            .unwrap()
            .body
            .len()
            == 2048
    );

    // No content-length: the cap applies while streaming.
    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("200\r\n{}\r\n", "y".repeat(512)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (addr, _server) = raw_server(chunked).await;
    let err = capped(addr.port(), 1000)
        .send(get("", Some("capped")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge, "{err}");
    assert_eq!(
        capped(addr.port(), 2048)
            .send(get("", Some("capped")))
            .await
            .unwrap()
            .body
            .len(),
        2048
    );
}

#[tokio::test]
async fn request_bodies_are_capped() {
    let server = TestServer::ok().await;
    let connections = Connections::from_config_with_env(
        &crate::support::connections_toml(&api_connection(server.port())),
        &crate::support::env(&[("API_TOKEN", "t")]),
    )
    .unwrap();
    let settings = HttpSettings {
        max_request_bytes: 10,
        ..HttpSettings::default()
    };
    let http = HttpCapability::with_lookup(
        Arc::new(connections),
        settings,
        Arc::new(StaticLookup::new()),
    )
    .unwrap();
    let mut req = request(HttpMethod::Post, "x", Some("api"));
    req.body = Some(vec![0; 11]);
    assert_eq!(http.send(req).await.unwrap_err().kind, ErrorKind::TooLarge);
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (addr, _server) = silent_server().await;
    let http = capability(
        &format!(
            r#"
            [connections.slow]
            base_url = "http://127.0.0.1:{}/"
            timeout = "300ms"
            allow_private = true
            "#,
            addr.port()
        ),
        &[],
        StaticLookup::new(),
    );
    // The card's timeout, when shorter.
    let started = Instant::now();
    let mut req: HttpRequest = get("x", Some("slow"));
    req.timeout_ms = Some(100);
    let err = http.send(req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.retryable);
    assert!(err.message.contains("timed out after 100 ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The connection's cap, when the card asks for more.
    let mut req = get("x", Some("slow"));
    req.timeout_ms = Some(60_000);
    let err = http.send(req).await.unwrap_err();
    assert!(err.message.contains("timed out after 300 ms"), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_unavailable_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let http = capability(
        &format!(
            r#"
            [connections.down]
            base_url = "http://127.0.0.1:{port}/"
            auth = {{ query = {{ name = "key", value = {{ env = "K" }} }} }}
            allow_private = true
            "#
        ),
        &[("K", "query-very-secret")],
        StaticLookup::new(),
    );
    let err = http.send(get("x?a=1", Some("down"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(err.retryable);
    assert!(
        err.message
            .starts_with("connection `down`: GET x: cannot connect"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("very-secret"), "{err:?}");
}

// ---------------------------------------------------------------------------
// secrets echoed by an upstream never reach the card

/// An upstream that echoes what it got: the request target (with the query
/// the host appended a secret to) and every request header, in a JSON body, a
/// text line and response headers; `/redirect` answers 302 with a `Location`
/// that keeps the query, as many servers do.
async fn echoing_upstream() -> TestServer {
    TestServer::start(|req| {
        let mut headers = serde_json::Map::new();
        for (name, value) in &req.headers {
            headers.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
        let body = format!(
            "{}\nraw: {} {}\n",
            serde_json::json!({ "target": req.target, "headers": headers }),
            req.target,
            req.headers
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let status = if req.target.contains("/redirect") {
            StatusCode::FOUND
        } else {
            StatusCode::OK
        };
        let mut r = text(status, &body);
        let h = r.headers_mut();
        h.insert("location", req.target.parse().unwrap());
        h.insert(
            "link",
            format!("<{}>; rel=\"next\"", req.target).parse().unwrap(),
        );
        for name in ["authorization", "x-api-key"] {
            if let Some(v) = req.header(name) {
                h.insert(
                    hyper::header::HeaderName::from_bytes(format!("x-echo-{name}").as_bytes())
                        .unwrap(),
                    v.parse().unwrap(),
                );
            }
        }
        r
    })
    .await
}

/// Every form of `secret` an upstream may echo it in.
fn echo_forms(secret: &str) -> Vec<String> {
    let strict: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let json = serde_json::to_string(secret).unwrap();
    vec![
        secret.to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        strict,
        json[1..json.len() - 1].to_owned(),
    ]
}

/// What the card sees, as one text, lowercased (hex escapes come in both cases).
fn card_view(response: &lanyard_core::caps::HttpResponse) -> String {
    let mut all = format!("{}\n", response.status);
    for (k, v) in &response.headers {
        all.push_str(&format!("{k}: {v}\n"));
    }
    all.push_str(&String::from_utf8_lossy(&response.body));
    all.to_lowercase()
}

#[tokio::test]
async fn an_echoing_upstream_never_shows_the_card_a_secret() {
    use base64::Engine as _;
    let server = echoing_upstream().await;
    let port = server.port();
    let bearer = "bearer-\"tok/en\"-12345";
    let password = "p@ss:word-\"quoted\"";
    let header = "hdr-\"key\"&value=1";
    let query = "q&k\"y=1 two/three";
    let http = capability(
        &every_auth_kind(port),
        &[
            ("BEARER", bearer),
            ("PW", password),
            ("KEY", header),
            ("QUERY", query),
        ],
        StaticLookup::new(),
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("svc:{password}"));
    let cases: [(&str, Vec<String>); 4] = [
        ("bearer", echo_forms(bearer)),
        ("basic", {
            let mut forms = echo_forms(password);
            forms.push(basic.trim_end_matches('=').to_owned());
            forms
        }),
        ("header", echo_forms(header)),
        ("query", echo_forms(query)),
    ];
    for (connection, forms) in &cases {
        for path in ["echo?page=2", "redirect?page=2"] {
            let response = http.send(get(path, Some(connection))).await.unwrap();
            // The upstream did get the credential (so it had one to echo).
            let sent = server.last();
            let on_the_wire = format!("{} {:?}", sent.target, sent.headers).to_lowercase();
            assert!(
                forms
                    .iter()
                    .any(|f| on_the_wire.contains(&f.to_lowercase())),
                "{connection}: the upstream got no credential: {on_the_wire}"
            );
            let seen = card_view(&response);
            for form in forms {
                assert!(
                    !seen.contains(&form.to_lowercase()),
                    "{connection} {path}: the card sees the secret as `{form}`:\n{seen}"
                );
            }
            assert!(seen.contains("[redacted]"), "{connection} {path}:\n{seen}");
            // The body's length is the scrubbed body's.
            let length = response
                .headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse::<usize>().unwrap());
            assert_eq!(length, Some(response.body.len()), "{connection} {path}");
        }
    }

    // The appended query secret is taken out of the URLs the upstream points
    // to, not just masked: the card can follow the redirect through the
    // connection, which appends the secret again.
    let response = http
        .send(get("redirect?page=2", Some("query")))
        .await
        .unwrap();
    assert_eq!(response.status, 302);
    let location = response
        .headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(location, "/q/redirect?page=2");
    let link = response
        .headers
        .iter()
        .find(|(k, _)| k == "link")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(link, "</q/redirect?page=2>; rel=\"next\"");
    let followed = http
        .send(get(
            &format!("http://127.0.0.1:{port}{location}"),
            Some("query"),
        ))
        .await
        .unwrap();
    assert_eq!(followed.status, 302);
    assert!(server.last().target.contains("api_key="));

    // The daemon hands in its own redactor; one that misses a connection's
    // secret is refused.
    assert!(
        http.clone()
            .with_redactor(Arc::new(lanyard_core::Redactor::none()))
            .is_err()
    );
}
