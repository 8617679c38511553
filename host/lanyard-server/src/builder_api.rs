//! The flow builder's reference routes (admin token), read-only:
//!
//! - `GET /api/v1/okta/event-types`: every Okta event type Event Hooks deliver,
//!   in people's words: `{"event_types": [{"type", "name", "description",
//!   "category", "words"}]}` (`lanyard_core::event_catalog`).
//! - `GET /api/v1/okta/event-schema`: the JSON Schema of the LogEvent a flow
//!   reads as `event`, with titles, for the field picker.
//! - `GET /api/v1/schedule/preview?cron=…&timezone=…`: `{"words", "next"}` (the
//!   next three fire times, RFC 3339), or 422 `invalid_schedule` with the
//!   reason, exactly as the compiler would refuse the pair.
//!
//! The outline of a loaded or drafted flow is [`outline_of`]; the routes that
//! show it are the flow routes'. This module writes nothing and holds nothing.

use crate::engine::Engine;
use crate::server::{allow, bad_request, json_response, query, query_get, require_admin, ApiError, Resp};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use lanyard_core::admin_api as wire;
use lanyard_flow::model::Flow;
use lanyard_flow::outline::{self, Outline};

/// The longest cron or time zone text the preview reads.
const MAX_FIELD: usize = 256;

/// Whether `rest` (the path after `/api/v1/`) is one of this module's routes.
pub fn is_builder_route(rest: &[&str]) -> bool {
    matches!(rest, ["okta", "event-types"] | ["okta", "event-schema"] | ["schedule", "preview"])
}

/// The builder's outline of a flow, with schedule fire times counted from the
/// engine's clock and `file` relative to `flows_dir` (as the save routes name
/// files).
pub fn outline_of(engine: &Engine, flow: &Flow) -> Outline {
    let mut o = outline::outline(flow, engine.clock().now());
    if let Ok(rel) = std::path::Path::new(&flow.file).strip_prefix(&engine.config().server.flows_dir) {
        o.file = rel.to_string_lossy().into_owned();
    }
    o
}

/// Serve one builder route (see the module docs).
pub async fn handle(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    if req.method() != Method::GET {
        return Err(allow("GET"));
    }
    require_admin(engine, &req)?;
    match rest {
        ["okta", "event-types"] => {
            let event_types = lanyard_core::event_catalog::event_types().iter().map(Into::into).collect();
            Ok(json_response(StatusCode::OK, &wire::EventTypes { event_types }))
        }
        // The LogEvent JSON Schema is the answer itself, not wrapped.
        ["okta", "event-schema"] => Ok(json_response(StatusCode::OK, lanyard_core::event_catalog::log_event_schema())),
        _ => {
            let q = query(&req);
            let field = |key: &str, example: &str| -> Result<String, ApiError> {
                let v = query_get(&q, key)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| bad_request(format!("`{key}` is required, for example `{key}={example}`")))?;
                if v.len() > MAX_FIELD {
                    return Err(bad_request(format!("`{key}` is longer than {MAX_FIELD} bytes")));
                }
                Ok(v.to_string())
            };
            let cron = field("cron", "0 9 * * 1-5")?;
            let timezone = field("timezone", "America/New_York")?;
            match outline::schedule_preview(&cron, &timezone, engine.clock().now()) {
                Ok(p) => Ok(json_response(StatusCode::OK, &wire::SchedulePreview { words: p.words, next: p.next })),
                Err(reason) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_schedule", reason)),
            }
        }
    }
}
