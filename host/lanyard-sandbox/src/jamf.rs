//! A stand-in for JAMF Pro's API, the two endpoints `acme.jamf-offboard`
//! calls: the computer inventory search by the user's email
//! (`GET /api/v1/computers-inventory` with an RSQL `filter`) and MDM commands
//! (`POST /api/v2/mdm/commands`), with the bearer token its connection holds.
//!
//! Answers with JAMF's `{"httpStatus": …, "errors": [{"code", "description"}]}`
//! bodies. It knows the computers it was given ([`JamfStandInHandle::add_computers`]);
//! with [`JamfConfig::everyone_has_a_mac`] (the demo) anyone else has one managed
//! MacBook, so an offboarding run has a Mac to lock. Other filters and routes
//! are refused, never answered on a guess.

use crate::record::{Api, Reply, Route, Running, StandInRequest, bearer_connection, json_reply, lock, recorded_handle};
use crate::StartError;
use hyper::StatusCode;
use lanyard_connect::config::ConnectionConfig;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::net::TcpListener;

/// The JAMF Pro tenant the stand-in pretends to be.
#[derive(Debug, Clone)]
pub struct JamfConfig {
    /// The token it accepts as `Authorization: Bearer …`.
    pub token: String,
    /// Whether a user with no computers added has one managed MacBook (made
    /// up from the email), as the demo wants; otherwise they have none.
    pub everyone_has_a_mac: bool,
}

impl Default for JamfConfig {
    fn default() -> Self {
        JamfConfig {
            token: "jamf-sandbox-token-0000000000000000".to_owned(),
            everyone_has_a_mac: false,
        }
    }
}

/// The JAMF Pro stand-in. See [`JamfStandIn::start`].
pub struct JamfStandIn;

/// A running stand-in. Dropping it stops the server.
pub struct JamfStandInHandle {
    running: Running<Jamf>,
}

impl JamfStandIn {
    /// Serve on `listener` until the handle is dropped.
    pub fn start(listener: TcpListener, config: JamfConfig) -> Result<JamfStandInHandle, StartError> {
        let running = Running::start(listener, |_| Jamf {
            config,
            state: Mutex::new(State::default()),
        })?;
        Ok(JamfStandInHandle { running })
    }
}

impl JamfStandInHandle {
    /// `http://addr`: a card's paths start with `/api`, as against
    /// `https://<tenant>.jamfcloud.com`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn config(&self) -> &JamfConfig {
        &self.running.api().config
    }

    /// A connection to the stand-in with its token inline (a development-only
    /// secret) and `allow_private`, since it listens on loopback.
    pub fn connection(&self) -> ConnectionConfig {
        bearer_connection(self.base_url(), &self.config().token, "JAMF Pro API (sandbox stand-in)")
    }

    /// JAMF has these computers for the user with this email: `(id, name,
    /// management id)`; no management id means the computer is not managed.
    pub fn add_computers(&self, email: &str, computers: &[(u32, &str, Option<&str>)]) {
        let records = computers
            .iter()
            .map(|(id, name, mid)| {
                json!({
                    "id": id.to_string(),
                    "general": { "name": name, "managementId": mid, "lastContactTime": "2026-02-27T16:40:00Z" },
                    "hardware": { "serialNumber": format!("C02E2E{id:04}") },
                    "userAndLocation": { "email": email }
                })
            })
            .collect();
        lock(&self.running.api().state).computers.insert(email.to_string(), records);
    }

}

recorded_handle!(JamfStandInHandle, fail_next: "");

#[derive(Default)]
struct State {
    /// Computers (JAMF's inventory records) by the user's email.
    computers: BTreeMap<String, Vec<Value>>,
    commands: u32,
}

struct Jamf {
    config: JamfConfig,
    state: Mutex<State>,
}

fn jamf_error(status: StatusCode, code: &str, text: &str) -> Reply {
    json_reply(
        status,
        &json!({ "httpStatus": status.as_u16(), "errors": [{ "code": code, "description": text }] }),
    )
}

impl Api for Jamf {
    const WHAT: &'static str = "jamf requests";
    type Note = ();

    fn token(&self) -> Option<&str> {
        Some(&self.config.token)
    }

    fn unauthorized(&self) -> Reply {
        jamf_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", "missing or wrong bearer token")
    }

    fn error(&self, status: StatusCode) -> Reply {
        jamf_error(status, "ERROR", status.canonical_reason().unwrap_or("Error"))
    }

    fn route(&self, route: &Route<'_>) -> Reply {
        match (route.method(), route.segments().as_slice()) {
            ("GET", ["api", "v1", "computers-inventory"]) => self.inventory(route),
            ("POST", ["api", "v2", "mdm", "commands"]) => self.command(route.request),
            _ => jamf_error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route in the JAMF stand-in"),
        }
    }
}

impl Jamf {
    fn inventory(&self, route: &Route<'_>) -> Reply {
        let Some(email) = route
            .param("filter")
            .and_then(|f| f.strip_prefix("userAndLocation.email==\""))
            .and_then(|f| f.strip_suffix('"'))
        else {
            return jamf_error(
                StatusCode::BAD_REQUEST,
                "INVALID_FILTER",
                "only userAndLocation.email==\"...\" is supported here",
            );
        };
        let found = match lock(&self.state).computers.get(email) {
            Some(found) => found.clone(),
            None if self.config.everyone_has_a_mac => vec![made_up_mac(email)],
            None => Vec::new(),
        };
        json_reply(StatusCode::OK, &json!({ "totalCount": found.len(), "results": found }))
    }

    fn command(&self, request: &StandInRequest) -> Reply {
        let body = request.json.clone().unwrap_or(Value::Null);
        if body["clientData"][0]["managementId"].as_str().is_none()
            || body["commandData"]["commandType"].as_str().is_none()
        {
            return jamf_error(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                "clientData[0].managementId and commandData.commandType are required",
            );
        }
        let mut state = lock(&self.state);
        state.commands += 1;
        let id = format!("cmd-{:04}", state.commands);
        json_reply(
            StatusCode::CREATED,
            &json!([{ "id": id, "href": format!("/api/v2/mdm/commands/{id}") }]),
        )
    }
}

/// The one managed MacBook of someone JAMF was told nothing about, the same
/// for the same email.
fn made_up_mac(email: &str) -> Value {
    let local = email.split('@').next().unwrap_or("someone");
    let first = local.split('.').next().unwrap_or(local);
    let mut name: Vec<char> = first.chars().collect();
    if let Some(c) = name.first_mut() {
        *c = c.to_ascii_uppercase();
    }
    let id = 100 + (email.bytes().map(u32::from).sum::<u32>() % 900);
    json!({
        "id": id.to_string(),
        "general": {
            "name": format!("{}'s MacBook Pro", name.into_iter().collect::<String>()),
            "managementId": format!("mgmt-{id}"),
            "lastContactTime": "2026-02-27T16:40:00Z"
        },
        "hardware": { "serialNumber": format!("C02DEMO{id}") },
        "userAndLocation": { "email": email }
    })
}
