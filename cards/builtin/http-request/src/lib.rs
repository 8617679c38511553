//! `http.request`: one HTTP request to an API through a named connection.
//!
//! Only through connections: ops configure a connection (base URL, credentials,
//! whether a private address is allowed) and the flow names it with a path under
//! its base URL. The card asks for no `http-host` grant, because a card cannot
//! usefully ask for every host, and an API worth calling from a flow has
//! credentials that belong in a connection, not in the flow.

use builtin_kit::remote::status_error;
use builtin_kit::check_text;
use lanyard_sdk::http::{Method, Request, Response};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const MAX_PATH: usize = 4_096;
const MAX_HEADERS: usize = 50;
const MAX_QUERY: usize = 100;
const MAX_TIMEOUT_MS: u32 = 120_000;

/// The HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum HttpMethod {
    #[serde(alias = "get")]
    Get,
    #[serde(alias = "head")]
    Head,
    #[serde(alias = "post")]
    Post,
    #[serde(alias = "put")]
    Put,
    #[serde(alias = "patch")]
    Patch,
    #[serde(alias = "delete")]
    Delete,
    #[serde(alias = "options")]
    Options,
}

impl HttpMethod {
    fn wit(self) -> Method {
        match self {
            HttpMethod::Get => Method::Get,
            HttpMethod::Head => Method::Head,
            HttpMethod::Post => Method::Post,
            HttpMethod::Put => Method::Put,
            HttpMethod::Patch => Method::Patch,
            HttpMethod::Delete => Method::Delete,
            HttpMethod::Options => Method::Options,
        }
    }

    fn name(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
        }
    }
}

/// Which statuses are answers rather than errors.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Expect {
    /// Exactly this status.
    One(u16),
    /// Any of these statuses.
    Many(Vec<u16>),
    /// `any`: every status is an answer; the flow looks at `status` itself.
    Any(AnyStatus),
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum AnyStatus {
    Any,
}

impl Expect {
    fn allows(&self, status: u16) -> bool {
        match self {
            Expect::One(s) => *s == status,
            Expect::Many(list) => list.contains(&status),
            Expect::Any(_) => true,
        }
    }
}

/// The request.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The connection ops configured for the API, for example `hr-api`; it
    /// holds the base URL and the credentials.
    connection: String,
    /// GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
    method: HttpMethod,
    /// The path under the connection's base URL, for example `/v1/employees/{{ user.profile.employeeNumber }}`.
    /// `""` is the base URL itself.
    path: String,
    /// Query parameters, encoded for you: `{ "email": "{{ user.profile.email }}" }`.
    /// A list value repeats the parameter.
    #[serde(default)]
    query: Map<String, Value>,
    /// Request headers. `authorization` and `cookie` are the connection's to set.
    #[serde(default)]
    headers: Map<String, Value>,
    /// A JSON body (sets `content-type: application/json` unless `headers` does).
    #[serde(default)]
    json: Option<Value>,
    /// A text body (sets `content-type: text/plain; charset=utf-8` unless `headers` does).
    #[serde(default)]
    body: Option<String>,
    /// The statuses that are answers: one, a list, or `any`. Default: any 2xx;
    /// others fail the step with an error whose kind follows the status
    /// (404 not-found, 401/403 denied, 429 rate-limited, 5xx unavailable, ...).
    #[serde(default)]
    expect_status: Option<Expect>,
    /// Give up after this many milliseconds (default: the connection's timeout).
    #[serde(default)]
    #[schemars(range(min = 1, max = 120000))]
    timeout_ms: Option<u32>,
}

/// The answer.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// The HTTP status.
    status: u16,
    /// Response headers, names in lowercase; repeated headers joined with `, `.
    headers: Map<String, Value>,
    /// The body parsed as JSON, when the response says it is JSON and it parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<Value>,
    /// The body as text otherwise (invalid UTF-8 replaced), if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn scalar(name: &str, v: &Value) -> Result<String, CardError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(CardError::invalid_input(format!(
            "`query.{name}` must be a string, a number, a boolean or a list of them"
        ))),
    }
}

/// `path` with `query` appended.
fn url(path: &str, query: &Map<String, Value>) -> Result<String, CardError> {
    let mut url = path.to_string();
    let mut sep = if path.contains('?') { '&' } else { '?' };
    for (name, value) in query {
        let values = match value {
            Value::Array(items) => items.iter().map(|v| scalar(name, v)).collect::<Result<Vec<_>, _>>()?,
            Value::Null => continue,
            v => vec![scalar(name, v)?],
        };
        for v in values {
            url.push(sep);
            sep = '&';
            encode(name, &mut url);
            url.push('=');
            encode(&v, &mut url);
        }
    }
    Ok(url)
}

fn header_value(name: &str, v: &Value) -> Result<String, CardError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(CardError::invalid_input(format!("`headers.{name}` must be a string"))),
    };
    if text.contains(['\r', '\n']) {
        return Err(CardError::invalid_input(format!("`headers.{name}` must be one line")));
    }
    Ok(text)
}

fn build(input: &In) -> Result<Request, CardError> {
    check_text("connection", &input.connection, 64)?;
    if input.path.len() > MAX_PATH {
        return Err(CardError::invalid_input(format!("`path` is over the limit of {MAX_PATH} bytes")));
    }
    if input.path.contains(['\r', '\n', ' ']) {
        return Err(CardError::invalid_input("`path` must not hold spaces or line breaks; put parameters in `query`"));
    }
    if input.query.len() > MAX_QUERY {
        return Err(CardError::invalid_input(format!("`query` has over {MAX_QUERY} parameters")));
    }
    if input.headers.len() > MAX_HEADERS {
        return Err(CardError::invalid_input(format!("`headers` has over {MAX_HEADERS} headers")));
    }
    if input.json.is_some() && input.body.is_some() {
        return Err(CardError::invalid_input("give `json` or `body`, not both"));
    }
    if let Some(ms) = input.timeout_ms {
        if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
            return Err(CardError::invalid_input(format!("`timeout_ms` must be between 1 and {MAX_TIMEOUT_MS}")));
        }
    }
    let mut request = Request::new(input.method.wit(), url(&input.path, &input.query)?).connection(&input.connection);
    let mut has_content_type = false;
    for (name, value) in &input.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "authorization" | "cookie" | "proxy-authorization") {
            return Err(CardError::invalid_input(format!(
                "`headers.{name}`: the connection sets the credentials; a flow cannot"
            )));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
            return Err(CardError::invalid_input(format!("`headers`: `{name}` is not a valid header name")));
        }
        has_content_type |= lower == "content-type";
        request = request.header(lower, header_value(name, value)?);
    }
    if let Some(json) = &input.json {
        request.body = Some(serde_json::to_vec(json)?);
        if !has_content_type {
            request = request.header("content-type", "application/json");
        }
    } else if let Some(body) = &input.body {
        request.body = Some(body.clone().into_bytes());
        if !has_content_type {
            request = request.header("content-type", "text/plain; charset=utf-8");
        }
    }
    if let Some(ms) = input.timeout_ms {
        request = request.timeout_ms(ms);
    }
    Ok(request)
}

fn output(response: Response) -> Out {
    let mut headers = Map::new();
    for (name, value) in &response.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::String(value.clone()));
            }
        }
    }
    let is_json = response
        .header("content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().split(';').next().is_some_and(|m| m.trim().ends_with("json")));
    let json = if is_json && !response.body.is_empty() {
        serde_json::from_slice(&response.body).ok()
    } else {
        None
    };
    let body = (json.is_none() && !response.body.is_empty()).then(|| response.text());
    Out {
        status: response.status,
        headers,
        json,
        body,
    }
}

struct HttpRequestCard;

impl Card for HttpRequestCard {
    const NAME: &'static str = "http.request";
    const DESCRIPTION: &'static str = "Sends one HTTP request to an API through a connection ops configured (which holds the base URL and credentials). Output: `status`, `headers`, and `json` (a JSON answer) or `body` (text). A status outside `expect_status` (default 2xx) fails the step.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::connection("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let request = build(&input)?;
        let response = request.send()?;
        let expected = match &input.expect_status {
            Some(expect) => expect.allows(response.status),
            None => response.is_success(),
        };
        if !expected {
            let what = format!("{} {} through `{}`", input.method.name(), input.path, input.connection);
            return Err(status_error(&what, &response));
        }
        Ok(output(response))
    }
}

lanyard_sdk::export_card!(HttpRequestCard);
