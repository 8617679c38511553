//! Outbound HTTP to granted hosts (`http-host:api.example.com`, direct `https://`
//! URLs) or named connections (`connection:it-slack`), whose credentials the host
//! injects: a card never sees a secret, and the host refuses `authorization` and
//! `cookie` headers on connection requests.
//!
//! Non-2xx statuses are responses, not errors; errors are for requests that could
//! not be made (denied, unreachable, timed out). In a dry run only GET, HEAD and
//! OPTIONS are sent; other requests are recorded and answered with an empty 200.

use crate::CardError;
use crate::bindings::lanyard::card::http as wit;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use wit::Method;

/// One request. Build it with [`Request::get`], [`Request::post_json`], ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// With a connection, a path (`/api/chat.postMessage`) under its base URL;
    /// without, an absolute `https://` URL on a granted host.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The named connection to send through.
    pub connection: Option<String>,
    /// Per-request timeout in milliseconds, capped by the call's deadline.
    pub timeout_ms: Option<u32>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            connection: None,
            timeout_ms: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `DELETE url`.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// `POST url` with a JSON body.
    pub fn post_json<T: Serialize + ?Sized>(url: impl Into<String>, body: &T) -> Result<Self, CardError> {
        Self::new(Method::Post, url).json(body)
    }

    /// `PUT url` with a JSON body.
    pub fn put_json<T: Serialize + ?Sized>(url: impl Into<String>, body: &T) -> Result<Self, CardError> {
        Self::new(Method::Put, url).json(body)
    }

    /// Set a JSON body and `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, CardError> {
        self.body = Some(serde_json::to_vec(body)?);
        Ok(self.header("content-type", "application/json"))
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Send through the named connection.
    pub fn connection(mut self, name: impl Into<String>) -> Self {
        self.connection = Some(name.into());
        self
    }

    /// Give up after this many milliseconds.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Send it.
    pub fn send(&self) -> Result<Response, CardError> {
        send(self)
    }
}

/// A response, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// 200–299.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CardError> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// `Err` with the status and body for a non-2xx response: `not-found` for
    /// 404, `denied` for 401/403, `rate-limited` for 429, `unavailable` for 5xx,
    /// `internal` otherwise.
    pub fn error_for_status(self) -> Result<Self, CardError> {
        use crate::ErrorKind;
        if self.is_success() {
            return Ok(self);
        }
        let kind = match self.status {
            404 => ErrorKind::NotFound,
            401 | 403 => ErrorKind::Denied,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        let mut body = self.text();
        body.truncate(200);
        Err(CardError::new(kind, format!("http {}: {body}", self.status)))
    }
}

/// Send one request.
pub fn send(request: &Request) -> Result<Response, CardError> {
    let response = wit::send(&wit::Request {
        method: request.method,
        url: request.url.clone(),
        headers: request.headers.clone(),
        body: request.body.clone(),
        connection: request.connection.clone(),
        timeout_ms: request.timeout_ms,
    })?;
    Ok(Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    })
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, CardError> {
    send(&Request::get(url))
}

/// `GET url`, JSON body parsed as `T` (a non-2xx status is an error).
pub fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, CardError> {
    get(url)?.error_for_status()?.json()
}

/// `POST url` with a JSON body.
pub fn post_json<T: Serialize + ?Sized>(url: &str, body: &T) -> Result<Response, CardError> {
    send(&Request::post_json(url, body)?)
}
