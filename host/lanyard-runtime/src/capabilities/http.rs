//! The `http` capability: a request through a named connection (the host
//! injects its credentials) or straight to an https host the card was granted.
//! The grant check is this unit's; SSRF rules, credentials and scrubbing are
//! the [`HttpApi`] implementation's, which this unit knows nothing of. No
//! request outlives the call's deadline.

use super::{CallCx, HostResult, tri, wit_err};
use crate::bindings::lanyard::card::http;
use crate::convert::*;
use crate::record::LogText;
use crate::state::HostState;
use lanyard_core::CardError;
use lanyard_core::caps::{HttpApi, HttpRequest};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use tracing::instrument;
use wasmtime::component::{HasData, Linker};

/// The capability's view of one call.
pub(crate) struct HttpView<'a> {
    cx: &'a mut CallCx,
    api: Option<&'a Arc<dyn HttpApi>>,
}

struct Http;

impl HasData for Http {
    type Data<'a> = HttpView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    http::add_to_linker::<HostState, Http>(linker, |s| HttpView { cx: &mut s.cx, api: s.caps.http.as_ref() })
}

impl HttpView<'_> {
    /// A named connection needs `connection:<name>`; a direct request must be
    /// an absolute https URL and needs `http-host:<host>`.
    fn check(&mut self, req: &HttpRequest) -> Result<(), CardError> {
        let operation = format!("{} {}", req.method.as_str(), req.url);
        match &req.connection {
            Some(name) => {
                let allowed = self.cx.grants.allows_connection(name);
                self.cx.check("http", &operation, allowed, || format!("connection:{name}"))
            }
            None => {
                let url = url::Url::parse(&req.url).map_err(|e| {
                    CardError::invalid_input(format!("`{}` is not an absolute URL ({e}); name a connection for paths", req.url))
                })?;
                if url.scheme() != "https" {
                    return Err(CardError::invalid_input(format!(
                        "direct requests must use https, not `{}`; use a named connection for other endpoints",
                        url.scheme()
                    )));
                }
                let host = url.host_str().unwrap_or_default().to_string();
                let allowed = self.cx.grants.allows_http_host(&host);
                self.cx.check("http", &operation, allowed, || format!("http-host:{host}"))
            }
        }
    }
}

/// A request body as the dry-run record shows it: JSON if it is JSON, text if
/// it is text, otherwise its size.
fn body_for_record(body: &Option<Vec<u8>>) -> Value {
    match body {
        None => Value::Null,
        Some(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => v,
            Err(_) => match std::str::from_utf8(bytes) {
                Ok(s) => Value::String(s.to_string()),
                Err(_) => json!({ "bytes": bytes.len() }),
            },
        },
    }
}

impl http::Host for HttpView<'_> {
    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "http", operation = "send"))]
    async fn send(&mut self, req: http::Request) -> HostResult<http::Response> {
        let mut req = request_from_wit(req);
        tri!(self.check(&req));
        if self.cx.dry_run && !req.method.is_read() {
            let operation = match &req.connection {
                Some(c) => format!("{} {c}:{}", req.method.as_str(), req.url),
                None => format!("{} {}", req.method.as_str(), req.url),
            };
            let hint = req.url.len()
                + req.connection.as_ref().map_or(0, String::len)
                + req.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
                + req.body.as_ref().map_or(0, Vec::len);
            let args = || {
                json!({
                    "method": req.method,
                    "url": req.url,
                    "connection": req.connection,
                    "headers": req.headers,
                    "body": body_for_record(&req.body),
                })
            };
            self.cx.effect("http", operation, hint, args);
            return Ok(Ok(http::Response {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            }));
        }
        let Some(api) = self.api.cloned() else {
            return wit_err(CardError::unavailable("http is not configured on this host"));
        };
        // No request may outlive the call.
        let left = self.cx.deadline.saturating_duration_since(Instant::now());
        let left_ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1);
        req.timeout_ms = Some(req.timeout_ms.map_or(left_ms, |t| t.min(left_ms)));
        Ok(api.send(req).await.map(response_to_wit).map_err(error_to_wit))
    }
}
