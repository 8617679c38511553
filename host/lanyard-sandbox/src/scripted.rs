//! A stand-in whose answers a test writes: for a service (or a version of
//! one) the named stand-ins do not cover, or a test that needs answers of its
//! own. The same plumbing as the others (`record`): HTTP/1 over hyper, the
//! bearer token checked, every request kept with the status it got.
//!
//! It must not grow routes of its own: a service worth more than one test is
//! a stand-in of its own, strict as the real one.

use crate::record::{Api, Reply, Route, Running, StandInRequest, json_reply, no_content, recorded_handle};
use crate::StartError;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::net::TcpListener;

/// The answer to an authorized request: a status and a JSON body (none for 204).
pub type Script = dyn Fn(&StandInRequest) -> (u16, Value) + Send + Sync;

/// The scripted stand-in. See [`ScriptedStandIn::start`].
pub struct ScriptedStandIn;

/// A running stand-in. Dropping it stops the server.
pub struct ScriptedStandInHandle {
    running: Running<Scripted>,
}

impl ScriptedStandIn {
    /// Serve on `listener` until the handle is dropped: a request without
    /// `Authorization: Bearer <token>` is answered 401, any other as `script` says.
    pub fn start(listener: TcpListener, token: &str, script: Arc<Script>) -> Result<ScriptedStandInHandle, StartError> {
        let running = Running::start(listener, |_| Scripted { token: token.to_owned(), script })?;
        Ok(ScriptedStandInHandle { running })
    }
}

impl ScriptedStandInHandle {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

}

recorded_handle!(ScriptedStandInHandle);

struct Scripted {
    token: String,
    script: Arc<Script>,
}

impl Api for Scripted {
    const WHAT: &'static str = "scripted requests";
    type Note = ();

    fn token(&self) -> Option<&str> {
        Some(&self.token)
    }

    fn unauthorized(&self) -> Reply {
        self.error(StatusCode::UNAUTHORIZED)
    }

    fn error(&self, status: StatusCode) -> Reply {
        json_reply(status, &json!({ "error": status.canonical_reason().unwrap_or("error") }))
    }

    fn route(&self, route: &Route<'_>) -> Reply {
        let (status, body) = (self.script)(route.request);
        match StatusCode::from_u16(status) {
            Ok(StatusCode::NO_CONTENT) => no_content(),
            Ok(status) => json_reply(status, &body),
            Err(_) => panic!("the script answered {status}, which is not an HTTP status"),
        }
    }
}
