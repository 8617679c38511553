//! The card's logic: find the leaver's computers in JAMF Pro, then send each
//! an MDM lock or erase command.
//!
//! It talks to the world only through [`Io`] (the host's `http` and `log`
//! imports, and its random source), so its tests run natively with a fake
//! JAMF. It must not read files, the environment or the clock, and holds no
//! credential: the host injects the JAMF credentials of the named connection.

use lanyard_sdk::http::{Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::{CardError, ErrorKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub const NAME: &str = "acme.jamf-offboard";
pub const DESCRIPTION: &str = "Find the computers JAMF Pro has for a leaver (by email) and send each an MDM lock or erase command, through the JAMF connection the flow names.";

/// A leaver with more machines than this is a data problem worth a look, not
/// something to page through for minutes.
pub const PAGE_SIZE: usize = 100;
pub const MAX_PAGES: usize = 10;
const MAX_EMAIL: usize = 320;
const HTTP_TIMEOUT_MS: u32 = 15_000;

/// What the card needs from the world.
pub trait Io {
    fn send(&mut self, request: &Request) -> Result<Response, CardError>;
    fn log(&mut self, level: Level, message: &str, fields: Value);
    fn random_u32(&mut self) -> Result<u32, CardError>;
}

/// The leaver: an Okta user (the output of okta.get-user), or just its id and email.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Leaver {
    #[schemars(length(min = 1))]
    pub id: String,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    #[schemars(length(max = 320))]
    pub email: Option<String>,
    #[serde(default)]
    pub profile: Option<LeaverProfile>,
}

/// The part of an Okta profile the card reads.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LeaverProfile {
    #[serde(default)]
    pub email: Option<String>,
}

/// What to do to each computer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Only report the devices.
    Report,
    /// Send DEVICE_LOCK (the default).
    #[default]
    Lock,
    /// Send ERASE_DEVICE.
    Erase,
}

impl Action {
    fn command_type(self) -> Option<&'static str> {
        match self {
            Action::Report => None,
            Action::Lock => Some("DEVICE_LOCK"),
            Action::Erase => Some("ERASE_DEVICE"),
        }
    }
}

/// The card's input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct In {
    /// The leaver: an Okta user, or just its id and email.
    pub user: Leaver,
    /// The JAMF Pro connection ops configured, for example `jamf`.
    #[schemars(length(min = 1, max = 64))]
    pub connection: String,
    /// What to do to each computer: lock it (default), erase it, or only report it.
    #[serde(default)]
    pub action: Action,
    /// Six-digit PIN for the lock/erase command; generated when absent.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[0-9]{6}$"))]
    pub pin: Option<String>,
    /// Shown on the locked screen.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub message: Option<String>,
}

/// One computer JAMF has for the leaver.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub serial: Option<String>,
    pub management_id: Option<String>,
    pub last_contact: Option<String>,
}

/// What happened to one computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Sent,
    Planned,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DeviceAction {
    pub device_id: String,
    pub command: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The card's output.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Out {
    pub email: String,
    pub devices: Vec<Device>,
    pub actions: Vec<DeviceAction>,
    /// How many computers the command was sent to (for a message: "Macs locked: 1").
    pub sent: usize,
    /// The PIN the card generated (only when the input gave none): IT needs it to unlock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

fn invalid(message: String) -> CardError {
    CardError::invalid_input(message)
}

/// `^[^@\s"\\]+@[^@\s"\\]+$`, as the Python card checks it.
fn is_email(s: &str) -> bool {
    let ok = |part: &str| !part.is_empty() && !part.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\');
    match s.split_once('@') {
        Some((local, domain)) => ok(local) && ok(domain) && !domain.contains('@'),
        None => false,
    }
}

/// The checks the schema states, with messages that name the field.
fn check(input: &In) -> Result<String, CardError> {
    if input.user.id.is_empty() {
        return Err(invalid("`user.id` must be a non-empty string".into()));
    }
    let email = input
        .user
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .or(input.user.profile.as_ref().and_then(|p| p.email.as_deref()));
    match email {
        Some(e) if e.len() <= MAX_EMAIL && is_email(e) => {}
        other => {
            return Err(invalid(format!(
                "`user.email` (or `user.profile.email`) must be an email address, got {other:?}"
            )));
        }
    }
    if input.connection.is_empty() || input.connection.chars().count() > 64 {
        return Err(invalid("`connection` must name a connection (1 to 64 characters)".into()));
    }
    if let Some(pin) = &input.pin {
        if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("`pin` must be six digits".into()));
        }
    }
    if input.message.as_ref().is_some_and(|m| m.chars().count() > 200) {
        return Err(invalid("`message` must be a string of at most 200 characters".into()));
    }
    Ok(email.unwrap_or_default().to_string())
}

/// RFC 3986 percent-encoding of everything but the unreserved characters
/// (Python's `quote(s, safe='')`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn retry_after_ms(response: &Response) -> Option<u64> {
    let secs: f64 = response.header("retry-after")?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0) as u64)
}

/// A short reason from a JAMF error body, for the flow author.
fn remote_detail(body: &[u8]) -> String {
    let cut = |s: &str| s.chars().take(200).collect::<String>();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(doc)) => {
            if let Some(first) = doc.get("errors").and_then(Value::as_array).and_then(|e| e.first()).and_then(Value::as_object) {
                let text = |k: &str| first.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
                return cut(text("description").or(text("code")).unwrap_or(""));
            }
            let text = |k: &str| doc.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            cut(text("message").or(text("error")).unwrap_or(""))
        }
        Ok(_) => String::new(),
        Err(_) => cut(String::from_utf8_lossy(&body[..body.len().min(200)]).trim()),
    }
}

/// Map a non-2xx JAMF answer to the card-error kind a flow can act on.
fn check_status(what: &str, response: &Response) -> Result<(), CardError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let detail = remote_detail(&response.body);
    let mut message = format!("{what}: jamf answered {status}");
    if !detail.is_empty() {
        message.push_str(&format!(" ({detail})"));
    }
    let (kind, retryable) = match status {
        404 => (ErrorKind::NotFound, false),
        401 | 403 => {
            message.push_str("; check the connection's credentials and API role");
            (ErrorKind::Denied, false)
        }
        409 => (ErrorKind::Conflict, false),
        429 => (ErrorKind::RateLimited, true),
        408 | 504 => (ErrorKind::Timeout, true),
        500.. => (ErrorKind::Unavailable, true),
        400 | 422 => (ErrorKind::InvalidInput, false),
        _ => (ErrorKind::Internal, false),
    };
    let mut e = CardError::new(kind, message).retryable(retryable);
    if kind == ErrorKind::RateLimited {
        e.retry_after_ms = retry_after_ms(response);
    }
    Err(e)
}

fn json_body(what: &str, response: &Response) -> Result<Value, CardError> {
    serde_json::from_slice(&response.body)
        .map_err(|_| CardError::internal(format!("{what}: jamf answered with something that is not JSON")))
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Every computer whose user-and-location email is the leaver's, every page.
fn find_computers(io: &mut dyn Io, email: &str, connection: &str) -> Result<Vec<Device>, CardError> {
    let filter = quote(&format!("userAndLocation.email==\"{email}\""));
    let mut devices = Vec::new();
    for page in 0..MAX_PAGES {
        let url = format!(
            "/api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION&page={page}&page-size={PAGE_SIZE}&filter={filter}"
        );
        let request = Request::get(url)
            .header("accept", "application/json")
            .connection(connection)
            .timeout_ms(HTTP_TIMEOUT_MS);
        let response = io.send(&request)?;
        check_status("searching computers", &response)?;
        let doc = json_body("searching computers", &response)?;
        let Some(results) = doc.get("results").and_then(Value::as_array) else {
            return Err(CardError::internal("searching computers: jamf's answer has no `results` list"));
        };
        let empty = Map::new();
        for item in results {
            let general = item.get("general").and_then(Value::as_object).unwrap_or(&empty);
            let hardware = item.get("hardware").and_then(Value::as_object).unwrap_or(&empty);
            devices.push(Device {
                id: text_of(item.get("id")).unwrap_or_else(|| "None".into()),
                name: text_of(general.get("name")).unwrap_or_default(),
                serial: text_of(hardware.get("serialNumber")),
                management_id: text_of(general.get("managementId")).filter(|m| !m.is_empty()),
                last_contact: text_of(general.get("lastContactTime")),
            });
        }
        let total = doc.get("totalCount").and_then(Value::as_u64).map_or(devices.len(), |t| t as usize);
        if results.len() < PAGE_SIZE || devices.len() >= total {
            return Ok(devices);
        }
    }
    Err(CardError::internal(format!(
        "more than {} computers match {email}; refusing to act on all of them",
        MAX_PAGES * PAGE_SIZE
    )))
}

fn send_command(
    io: &mut dyn Io,
    input: &In,
    idempotency_key: &str,
    device: &Device,
    command_type: &str,
    pin: &str,
) -> Result<String, CardError> {
    let mut command = json!({ "commandType": command_type, "pin": pin });
    if command_type == "DEVICE_LOCK" {
        if let Some(message) = input.message.as_deref().filter(|m| !m.is_empty()) {
            command["message"] = json!(message);
        }
    }
    if command_type == "ERASE_DEVICE" {
        command["obliterationBehavior"] = json!("Default");
    }
    let body = json!({
        "clientData": [{ "managementId": device.management_id }],
        "commandData": command,
    });
    let what = format!("sending {command_type} to computer {}", device.id);
    let request = Request::post_json("/api/v2/mdm/commands", &body)?
        .header("accept", "application/json")
        // One key per device: a retried attempt of this step resends the same keys.
        .header("idempotency-key", format!("{idempotency_key}/{}", device.id))
        .connection(&input.connection)
        .timeout_ms(HTTP_TIMEOUT_MS);
    let response = io.send(&request)?;
    check_status(&what, &response)?;
    if response.body.is_empty() {
        return Ok(String::new());
    }
    Ok(match json_body(&what, &response)? {
        Value::Array(items) => text_of(items.first().and_then(|i| i.get("id"))).unwrap_or_default(),
        Value::Object(doc) => text_of(doc.get("id")).unwrap_or_default(),
        _ => String::new(),
    })
}

/// Six uniformly random digits.
fn new_pin(io: &mut dyn Io) -> Result<String, CardError> {
    // Rejection sampling: the largest multiple of 10^6 below 2^32 keeps every
    // PIN equally likely.
    const LIMIT: u32 = u32::MAX - (u32::MAX % 1_000_000);
    loop {
        let n = io.random_u32()?;
        if n < LIMIT {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// The card's `run`.
pub fn run(io: &mut dyn Io, idempotency_key: &str, dry_run: bool, input: In) -> Result<Out, CardError> {
    let email = check(&input)?;
    let command_type = input.action.command_type();
    let devices = find_computers(io, &email, &input.connection)?;
    io.log(
        Level::Info,
        &format!("jamf has {} computer(s) for {email}", devices.len()),
        json!({ "user": input.user.id, "count": devices.len(), "connection": input.connection }),
    );

    let mut out = Out {
        email,
        devices,
        actions: Vec::new(),
        sent: 0,
        pin: None,
    };
    let Some(command_type) = command_type else {
        return Ok(out);
    };
    if out.devices.is_empty() {
        return Ok(out);
    }
    let pin = match &input.pin {
        Some(pin) => pin.clone(),
        None => {
            let pin = new_pin(io)?;
            out.pin = Some(pin.clone());
            pin
        }
    };
    for device in out.devices.clone() {
        let mut action = DeviceAction {
            device_id: device.id.clone(),
            command: command_type.to_string(),
            status: Status::Planned,
            command_id: None,
            reason: None,
        };
        if device.management_id.is_none() {
            action.status = Status::Skipped;
            action.reason = Some("not managed (no management id)".into());
            io.log(Level::Warn, &format!("computer {} is not managed; skipped", device.id), json!({ "device": device.id }));
        } else if !dry_run {
            let command_id = send_command(io, &input, idempotency_key, &device, command_type, &pin)?;
            let shown = if device.name.is_empty() { &device.id } else { &device.name };
            io.log(
                Level::Info,
                &format!("sent {command_type} to {shown}"),
                json!({ "device": device.id, "command": command_id }),
            );
            action.command_id = Some(command_id);
            action.status = Status::Sent;
            out.sent += 1;
        }
        out.actions.push(action);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! The Python card's tests (`cards/examples/python-jamf/test_offboard.py`),
    //! case for case, against a fake JAMF Pro.

    use super::*;
    use lanyard_sdk::http::Method;
    use std::collections::HashMap;

    type Sent = (String, String, HashMap<String, String>, Option<Vec<u8>>, Option<String>);

    #[derive(Default)]
    struct FakeJamf {
        computers: HashMap<String, Vec<Value>>,
        fail_with: Option<u16>,
        requests: Vec<Sent>,
        logs: Vec<(Level, String, Value)>,
        random: Vec<u32>,
    }

    fn method(m: Method) -> &'static str {
        match m {
            Method::Get => "GET",
            Method::Post => "POST",
            _ => "OTHER",
        }
    }

    fn respond(status: u16, headers: &[(&str, &str)], body: Value) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.to_string().into_bytes(),
        }
    }

    fn unquote(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    impl Io for FakeJamf {
        fn send(&mut self, r: &Request) -> Result<Response, CardError> {
            let headers: HashMap<String, String> = r.headers.iter().cloned().collect();
            self.requests.push((method(r.method).into(), r.url.clone(), headers, r.body.clone(), r.connection.clone()));
            if let Some(status) = self.fail_with {
                return Ok(respond(status, &[("Retry-After", "2")], json!({"httpStatus": 0, "errors": [{"code": "X", "description": "injected"}]})));
            }
            let (path, query) = r.url.split_once('?').unwrap_or((&r.url, ""));
            if method(r.method) == "GET" && path == "/api/v1/computers-inventory" {
                let q: HashMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
                let rsql = unquote(q["filter"]);
                let email = rsql.trim_start_matches("userAndLocation.email==\"").trim_end_matches('"');
                let (page, size): (usize, usize) = (q["page"].parse().unwrap(), q["page-size"].parse().unwrap());
                let found = self.computers.get(email).cloned().unwrap_or_default();
                let results: Vec<Value> = found.iter().skip(page * size).take(size).cloned().collect();
                return Ok(respond(200, &[("content-type", "application/json")], json!({"totalCount": found.len(), "results": results})));
            }
            if method(r.method) == "POST" && path == "/api/v2/mdm/commands" {
                let command: Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
                let mid = command["clientData"][0]["managementId"].as_str().unwrap().to_string();
                return Ok(respond(201, &[], json!([{"id": format!("cmd-{mid}"), "href": format!("/api/v2/mdm/commands/cmd-{mid}")}])));
            }
            Ok(respond(404, &[], json!({"httpStatus": 404, "errors": [{"code": "NOT_FOUND", "description": "no route"}]})))
        }

        fn log(&mut self, level: Level, message: &str, fields: Value) {
            self.logs.push((level, message.to_string(), fields));
        }

        fn random_u32(&mut self) -> Result<u32, CardError> {
            Ok(self.random.pop().unwrap_or(4_242_424))
        }
    }

    fn computer(id: &str, name: &str, mid: Option<&str>) -> Value {
        json!({
            "id": id,
            "general": {"name": name, "managementId": mid.map(|m| format!("{m}-{id}")), "lastContactTime": "2026-01-02T03:04:05Z"},
            "hardware": {"serialNumber": format!("C02{id}")},
        })
    }

    fn jamf(computers: Vec<Value>) -> FakeJamf {
        FakeJamf {
            computers: HashMap::from([("ada@example.com".to_string(), computers)]),
            ..Default::default()
        }
    }

    fn input(extra: Value) -> In {
        let mut v = json!({"user": {"id": "00u1", "email": "ada@example.com"}, "connection": "jamf"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    fn out_json(out: Out) -> Value {
        serde_json::to_value(out).unwrap()
    }

    #[test]
    fn locks_every_computer_of_the_leaver() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", Some("mid")), computer("23", "Ada's mini", Some("mid"))]);
        let out = out_json(run(&mut j, "run1/jamf/1", false, input(json!({"pin": "123456", "message": "Return to IT"}))).unwrap());
        assert_eq!(out["devices"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect::<Vec<_>>(), vec![json!("17"), json!("23")]);
        assert_eq!(
            out["actions"],
            json!([
                {"device_id": "17", "command": "DEVICE_LOCK", "command_id": "cmd-mid-17", "status": "sent"},
                {"device_id": "23", "command": "DEVICE_LOCK", "command_id": "cmd-mid-23", "status": "sent"},
            ])
        );
        assert_eq!(out["sent"], 2);
        assert!(out.get("pin").is_none());
        let (search, posts) = j.requests.split_first().unwrap();
        assert_eq!(search.0, "GET");
        assert_eq!(unquote(&search.1).matches("userAndLocation.email==\"ada@example.com\"").count(), 1);
        for (_, _, headers, _, connection) in &j.requests {
            assert_eq!(connection.as_deref(), Some("jamf"));
            assert!(!headers.keys().any(|k| k.eq_ignore_ascii_case("authorization")));
        }
        let keys: Vec<&str> = posts.iter().map(|p| p.2["idempotency-key"].as_str()).collect();
        assert_eq!(keys, vec!["run1/jamf/1/17", "run1/jamf/1/23"]);
        let command: Value = serde_json::from_slice(posts[0].3.as_ref().unwrap()).unwrap();
        assert_eq!(command["commandData"], json!({"commandType": "DEVICE_LOCK", "pin": "123456", "message": "Return to IT"}));
        assert!(j.logs[0].1.contains("2 computer(s)"));
    }

    #[test]
    fn generates_and_reports_a_pin_when_none_is_given() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", Some("mid"))]);
        // The first draw is past the rejection limit and must be drawn again.
        j.random = vec![31_337, u32::MAX];
        let out = out_json(run(&mut j, "k", false, input(json!({"action": "erase"}))).unwrap());
        assert_eq!(out["pin"], "031337");
        let command: Value = serde_json::from_slice(j.requests[1].3.as_ref().unwrap()).unwrap();
        assert_eq!(command["commandData"]["commandType"], "ERASE_DEVICE");
        assert_eq!(command["commandData"]["obliterationBehavior"], "Default");
        assert_eq!(command["commandData"]["pin"], out["pin"]);
    }

    #[test]
    fn report_only_sends_no_command() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", Some("mid"))]);
        let out = out_json(run(&mut j, "k", false, input(json!({"action": "report"}))).unwrap());
        assert_eq!(out["devices"].as_array().unwrap().len(), 1);
        assert_eq!(out["actions"], json!([]));
        assert_eq!(j.requests.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), vec!["GET"]);
    }

    #[test]
    fn dry_run_plans_without_sending() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", Some("mid"))]);
        let out = out_json(run(&mut j, "k", true, input(json!({"pin": "123456"}))).unwrap());
        assert_eq!(out["actions"][0]["status"], "planned");
        assert_eq!(j.requests.len(), 1);
    }

    #[test]
    fn unmanaged_computers_are_skipped() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", None)]);
        let out = out_json(run(&mut j, "k", false, input(json!({"pin": "123456"}))).unwrap());
        assert_eq!(out["actions"][0]["status"], "skipped");
        assert_eq!(out["devices"][0]["management_id"], Value::Null);
        assert_eq!(j.logs.last().unwrap().0, Level::Warn);
    }

    #[test]
    fn a_leaver_without_computers_is_not_an_error() {
        let mut j = FakeJamf::default();
        let out = out_json(run(&mut j, "k", false, input(json!({}))).unwrap());
        assert_eq!(out, json!({"email": "ada@example.com", "devices": [], "actions": [], "sent": 0}));
    }

    #[test]
    fn pages_through_the_inventory() {
        let many = (0..PAGE_SIZE + 5).map(|i| computer(&i.to_string(), "mac", Some("mid"))).collect();
        let mut j = jamf(many);
        let out = run(&mut j, "k", false, input(json!({"action": "report"}))).unwrap();
        assert_eq!(out.devices.len(), PAGE_SIZE + 5);
        assert_eq!(j.requests.iter().filter(|r| r.0 == "GET").count(), 2);
    }

    #[test]
    fn refuses_an_unbounded_inventory() {
        let many = (0..PAGE_SIZE * MAX_PAGES + 1).map(|i| computer(&i.to_string(), "mac", Some("mid"))).collect();
        let mut j = jamf(many);
        let e = run(&mut j, "k", false, input(json!({}))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert_eq!(j.requests.len(), MAX_PAGES);
    }

    #[test]
    fn remote_failures_map_to_card_error_kinds() {
        for (status, kind, retryable, after) in [
            (404, ErrorKind::NotFound, false, None),
            (401, ErrorKind::Denied, false, None),
            (403, ErrorKind::Denied, false, None),
            (409, ErrorKind::Conflict, false, None),
            (429, ErrorKind::RateLimited, true, Some(2000)),
            (500, ErrorKind::Unavailable, true, None),
            (503, ErrorKind::Unavailable, true, None),
            (504, ErrorKind::Timeout, true, None),
            (400, ErrorKind::InvalidInput, false, None),
            (418, ErrorKind::Internal, false, None),
        ] {
            let mut j = FakeJamf { fail_with: Some(status), ..Default::default() };
            let e = run(&mut j, "k", false, input(json!({}))).unwrap_err();
            assert_eq!((e.kind, e.retryable, e.retry_after_ms), (kind, retryable, after), "{status}");
            assert!(e.message.contains(&format!("jamf answered {status} (injected)")), "{}", e.message);
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        for (extra, needle) in [
            (json!({"user": {"id": "", "email": "a@b.c"}}), "`user.id`"),
            (json!({"user": {"id": "1", "email": "nope"}}), "`user.email`"),
            (json!({"user": {"id": "1", "email": "a\"b@c.d"}}), "`user.email`"),
            (json!({"user": {"id": "1"}}), "`user.email`"),
            (json!({"connection": ""}), "`connection`"),
            (json!({"pin": "12"}), "`pin`"),
            (json!({"message": "x".repeat(201)}), "`message`"),
        ] {
            let e = run(&mut FakeJamf::default(), "k", false, input(extra.clone())).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{extra}");
            assert!(e.message.contains(needle), "{extra}: {}", e.message);
        }
        // What serde refuses before `run` (the SDK reports it as invalid-input).
        for (text, needle) in [
            (r#"{"connection":"jamf"}"#, "missing field `user`"),
            (r#"{"user":{"email":"a@b.c"},"connection":"jamf"}"#, "missing field `id`"),
            (r#"{"user":{"id":"1","email":"a@b.c"},"connection":"jamf","action":"nuke"}"#, "unknown variant `nuke`"),
            (r#"{"user":{"id":"1","email":"a@b.c"},"connection":"jamf","extra":1}"#, "unknown field `extra`"),
        ] {
            let e = serde_json::from_str::<In>(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn takes_the_email_from_an_okta_user_profile() {
        let mut j = jamf(vec![computer("17", "Ada's MacBook", Some("mid"))]);
        let input: In = serde_json::from_value(json!({
            "user": {"id": "00u1", "status": "ACTIVE", "profile": {"email": "ada@example.com", "login": "ada"}},
            "connection": "jamf",
            "action": "report",
        }))
        .unwrap();
        assert_eq!(run(&mut j, "k", false, input).unwrap().devices.len(), 1);
    }

    #[test]
    fn schemas_describe_every_input_field() {
        let schema = serde_json::to_value(schemars::schema_for!(In)).unwrap();
        let mut fields: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, vec!["action", "connection", "message", "pin", "user"]);
        assert_eq!(schema["additionalProperties"], false);
    }
}
