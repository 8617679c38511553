//! A stand-in for Zoom's API v2, the part a deprovisioning card uses: look a
//! user up by id or email, deactivate or reactivate them, delete them.
//!
//! Answers with Zoom's status codes and `{"code": …, "message": …}` bodies,
//! checks the bearer token, and refuses what Zoom refuses: an unknown user, a
//! bad `action`, a body that is not a JSON object, a transfer to nobody.
//! Routes Zoom has but the stand-in does not are 404 or 405; it must not
//! invent answers for them.

use crate::StartError;
use crate::record::{
    Api, Reply, Route, Running, StandInRequest, bearer_connection, json_reply, lock, no_content,
    recorded_handle,
    with_header,
};
use lanyard_connect::config::ConnectionConfig;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::sync::Mutex;
use tokio::net::TcpListener;

/// The account the stand-in pretends to be.
#[derive(Debug, Clone)]
pub struct ZoomConfig {
    /// The OAuth access token it accepts as `Authorization: Bearer …`.
    pub token: String,
}

impl Default for ZoomConfig {
    fn default() -> Self {
        ZoomConfig {
            token: "zoom-sandbox-access-token-0000000000000000".to_owned(),
        }
    }
}

/// A user of the account.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoomUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `active`, `inactive` or `pending`, as Zoom spells them.
    pub status: String,
}

/// The Zoom stand-in. See [`ZoomStandIn::start`].
pub struct ZoomStandIn;

/// A running stand-in. Dropping it stops the server.
pub struct ZoomStandInHandle {
    running: Running<Zoom>,
}

impl ZoomStandIn {
    /// Serve on `listener` until the handle is dropped. The account starts
    /// with no users: add them with [`ZoomStandInHandle::add_user`].
    pub fn start(
        listener: TcpListener,
        config: ZoomConfig,
    ) -> Result<ZoomStandInHandle, StartError> {
        let running = Running::start(listener, |_| Zoom {
            config,
            users: Mutex::new(Vec::new()),
        })?;
        Ok(ZoomStandInHandle { running })
    }
}

impl ZoomStandInHandle {
    /// `http://addr`: a card's paths start with `/v2`, as against
    /// `https://api.zoom.us`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A connection to the stand-in with its token inline (a development-only
    /// secret) and `allow_private`, since it listens on loopback.
    pub fn connection(&self) -> ConnectionConfig {
        bearer_connection(
            self.base_url(),
            &self.running.api().config.token,
            "Zoom API (sandbox stand-in)",
        )
    }

    /// Add a user, or replace the one with the same id.
    pub fn add_user(&self, user: ZoomUser) {
        let mut users = lock(&self.running.api().users);
        match users.iter_mut().find(|u| u.id == user.id) {
            Some(old) => *old = user,
            None => users.push(user),
        }
    }

    /// The user with this email (in any case), `None` once deleted.
    pub fn user(&self, email: &str) -> Option<ZoomUser> {
        lock(&self.running.api().users)
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .cloned()
    }

}

recorded_handle!(
    ZoomStandInHandle,
    fail_next: " with Zoom's error body (429 adds `Retry-After: 1`)"
);

struct Zoom {
    config: ZoomConfig,
    users: Mutex<Vec<ZoomUser>>,
}

/// Zoom's error body: its own code, a sentence.
fn zoom_error(status: StatusCode, code: u16, message: &str) -> Reply {
    json_reply(status, &json!({"code": code, "message": message}))
}

/// Zoom's answer to a request it cannot validate, naming the field.
fn validation_failed(field: &str, message: &str) -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        &json!({
            "code": 300,
            "message": "Validation Failed.",
            "errors": [{"field": field, "message": message}],
        }),
    )
}

fn no_such_user(who: &str, status: StatusCode) -> Reply {
    zoom_error(status, 1001, &format!("User does not exist: {who}."))
}

impl Api for Zoom {
    const WHAT: &'static str = "zoom requests";
    type Note = ();

    fn token(&self) -> Option<&str> {
        Some(&self.config.token)
    }

    fn unauthorized(&self) -> Reply {
        zoom_error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.")
    }

    fn error(&self, status: StatusCode) -> Reply {
        let message = match status {
            // The text of Zoom's per-second limit (its daily limit says "daily").
            StatusCode::TOO_MANY_REQUESTS => {
                "You have reached the maximum per-second rate limit for this API. Try again later."
            }
            other => other.canonical_reason().unwrap_or("Error"),
        };
        zoom_error(status, status.as_u16(), message)
    }

    fn route(&self, route: &Route<'_>) -> Reply {
        let not_allowed =
            |allow| with_header(self.error(StatusCode::METHOD_NOT_ALLOWED), "allow", allow);
        match route.segments().as_slice() {
            ["v2", "users", user] => match route.method() {
                "GET" => self.get_user(user),
                "DELETE" => self.delete_user(user, route),
                _ => not_allowed("GET, DELETE"),
            },
            // Zoom's "Update user status" is a PUT; a PATCH here is a client
            // bug that real Zoom would refuse too.
            ["v2", "users", user, "status"] => match route.method() {
                "PUT" => self.update_status(user, route.request),
                _ => not_allowed("PUT"),
            },
            _ => self.error(StatusCode::NOT_FOUND),
        }
    }
}

impl Zoom {
    /// Where the user named by id or email (in any case) is.
    fn find(users: &[ZoomUser], who: &str) -> Option<usize> {
        users
            .iter()
            .position(|u| u.id == who || u.email.eq_ignore_ascii_case(who))
    }

    fn get_user(&self, who: &str) -> Reply {
        let users = lock(&self.users);
        let Some(i) = Self::find(&users, who) else {
            return no_such_user(who, StatusCode::NOT_FOUND);
        };
        let u = &users[i];
        json_reply(
            StatusCode::OK,
            &json!({
                "id": u.id,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "display_name": format!("{} {}", u.first_name, u.last_name).trim(),
                "email": u.email,
                "type": 1,
                "role_name": "Member",
                "role_id": "2",
                "status": u.status,
                "timezone": "UTC",
                "verified": 1,
                "dept": "",
                "language": "en-US",
                "account_id": "sandboxacct000000000000",
                "cluster": "us01",
                "created_at": "2024-01-02T09:00:00Z",
                "user_created_at": "2024-01-02T09:00:00Z",
            }),
        )
    }

    fn update_status(&self, who: &str, request: &StandInRequest) -> Reply {
        let body = request.json.as_ref().filter(|_| request.is_json());
        let Some(body) = body.and_then(Value::as_object) else {
            return zoom_error(
                StatusCode::BAD_REQUEST,
                300,
                "Request Body should be a valid JSON object.",
            );
        };
        let status = match body.get("action") {
            None => return validation_failed("action", "Required field is missing."),
            Some(action) => match action.as_str() {
                Some("activate") => "active",
                Some("deactivate") => "inactive",
                _ => return validation_failed("action", "Invalid field."),
            },
        };
        let mut users = lock(&self.users);
        let Some(i) = Self::find(&users, who) else {
            return no_such_user(who, StatusCode::NOT_FOUND);
        };
        // Deactivating an inactive user changes nothing and is no error.
        users[i].status = status.to_owned();
        no_content()
    }

    fn delete_user(&self, who: &str, route: &Route<'_>) -> Reply {
        match route.param("action") {
            None | Some("delete" | "disassociate") => {}
            Some(_) => return validation_failed("action", "Invalid field."),
        }
        for flag in [
            "transfer_meeting",
            "transfer_webinar",
            "transfer_recording",
            "transfer_whiteboard",
        ] {
            if route
                .param(flag)
                .is_some_and(|v| v != "true" && v != "false")
            {
                return validation_failed(flag, "Invalid field.");
            }
        }
        let mut users = lock(&self.users);
        let Some(i) = Self::find(&users, who) else {
            return no_such_user(who, StatusCode::NOT_FOUND);
        };
        if let Some(to) = route.param("transfer_email")
            && !users.iter().any(|u| u.email.eq_ignore_ascii_case(to))
        {
            return no_such_user(to, StatusCode::BAD_REQUEST);
        }
        users.remove(i);
        no_content()
    }
}
