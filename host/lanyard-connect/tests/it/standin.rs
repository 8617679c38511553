//! Driving the Zoom and Asana stand-ins: one request over a real socket with
//! `reqwest`, and one through lanyard's own HTTP capability.

use lanyard_connect::{
    ConnectionConfig, Connections, ConnectionsConfig, HttpCapability, HttpSettings,
};
use lanyard_core::caps::{HttpApi, HttpResponse};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::Arc;

/// A stand-in's answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body, if it was JSON.
    pub json: Option<Value>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `method url` with a bearer `token` and a `(content type, bytes)` body.
pub async fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    let json = serde_json::from_slice(&body).ok();
    Answer {
        status,
        headers,
        body,
        json,
    }
}

/// A GET of `url` through a capability whose only connection is `connection`.
pub async fn lanyard_get(connection: ConnectionConfig, url: &str) -> HttpResponse {
    let mut config = ConnectionsConfig::default();
    config.0.insert("svc".to_owned(), connection);
    let connections = Connections::from_config(&config).unwrap();
    let http = HttpCapability::new(Arc::new(connections), HttpSettings::default()).unwrap();
    http.send(crate::support::get(url, Some("svc")))
        .await
        .unwrap()
}
