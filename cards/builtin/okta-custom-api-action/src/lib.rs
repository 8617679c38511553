//! `okta.custom-api-action`: Okta Workflows' "Custom API Action": any
//! Management API operation, by method and path, sent with the daemon's own
//! Okta credentials, for what no other `okta.*` card does.
//!
//! It asks for `okta:api:*` and so gets nothing until an operator grants it
//! Okta OAuth scopes by name (`okta:api:okta.users.read`): the host then allows
//! only the operations Okta's API spec lists under one of those scopes. It
//! gets none of the built-in cards' `okta.*` scopes.

use builtin_kit::remote::{ExpectStatus, query_pairs, status_kind};
use lanyard_sdk::okta::{ApiRequest, ApiResponse};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const MAX_PATH: usize = 2_048;
const MAX_QUERY: usize = 100;

/// The HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum Method {
    #[serde(alias = "get")]
    Get,
    #[serde(alias = "post")]
    Post,
    #[serde(alias = "put")]
    Put,
    #[serde(alias = "patch")]
    Patch,
    #[serde(alias = "delete")]
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The request.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// GET, POST, PUT, PATCH or DELETE.
    method: Method,
    /// The operation's path in Okta's API reference with its values filled
    /// in, for example `/api/v1/users/{{ user.id }}/roles`; without the query
    /// (that goes in `query`).
    path: String,
    /// Query parameters, encoded for you, for example `{ "limit": 50 }`. A list
    /// value repeats the parameter.
    #[serde(default)]
    query: Map<String, Value>,
    /// The JSON body, for POST, PUT and PATCH.
    #[serde(default)]
    body: Option<Value>,
    /// The statuses that are answers: one, a list, or `any`. Default: any 2xx;
    /// others fail the step with an error whose kind follows the status
    /// (404 not-found, 401/403 denied, 429 rate-limited, 5xx unavailable, ...).
    #[serde(default)]
    expect_status: Option<ExpectStatus>,
}

/// Okta's answer.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// The HTTP status.
    status: u16,
    /// Okta's JSON answer (null when it sent none).
    body: Value,
    /// When Okta has more pages: the cursor of the next one, to pass as
    /// `query.after` in the next call. Null on the last page.
    next: Option<String>,
}

fn check_path(path: &str) -> Result<(), CardError> {
    if !path.starts_with('/') {
        return Err(CardError::invalid_input(format!(
            "`path` must start with `/`, for example `/api/v1/users`, not `{}`",
            path.chars().take(60).collect::<String>()
        )));
    }
    if path.len() > MAX_PATH {
        return Err(CardError::invalid_input(format!("`path` is over the limit of {MAX_PATH} bytes")));
    }
    if path.contains(['?', '#']) || path.chars().any(char::is_whitespace) {
        return Err(CardError::invalid_input(
            "`path` must not hold spaces, line breaks, `?` or `#`; put parameters in `query`",
        ));
    }
    Ok(())
}

/// The error for a status the flow did not expect, with Okta's own words.
fn status_error(method: Method, path: &str, response: &ApiResponse) -> CardError {
    let said = match (&response.body["errorCode"], &response.body["errorSummary"]) {
        (Value::String(code), Value::String(summary)) => format!("{code}: {summary}"),
        _ if response.body.is_null() => String::new(),
        _ => builtin_kit::remote::quote(response.body.to_string().as_bytes()),
    };
    let mut message = format!("{} {path}: Okta answered {}", method.name(), response.status);
    if !said.is_empty() {
        message.push_str(": ");
        message.push_str(&said);
    }
    CardError::new(status_kind(response.status), message)
}

struct CustomApiAction;

impl Card for CustomApiAction {
    const NAME: &'static str = "okta.custom-api-action";
    const DESCRIPTION: &'static str = "Calls any Okta Management API operation (method, path, query, JSON body) with lanyard's Okta credentials. It can do nothing until an operator grants it Okta OAuth scopes in the configuration (for example `okta:api:okta.users.read`); each call is checked against the scopes Okta lists for that operation. Output: `status`, `body`, `next` (the next page's cursor).";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // Whatever Okta OAuth scopes the operator names; no `okta.*` scope.
        vec![Grant::okta("api:*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let path = input.path.trim();
        check_path(path)?;
        if input.query.len() > MAX_QUERY {
            return Err(CardError::invalid_input(format!("`query` has over {MAX_QUERY} parameters")));
        }
        if input.body.is_some() && input.method == Method::Get {
            return Err(CardError::invalid_input("a GET request takes no `body`; put parameters in `query`"));
        }
        let request = ApiRequest {
            method: input.method.name().to_string(),
            path: path.to_string(),
            query: query_pairs(&input.query)?,
            body: input.body.as_ref().map(Value::to_string),
        };
        let response = okta::api_call(&request)?;
        if !ExpectStatus::allows(input.expect_status.as_ref(), response.status) {
            return Err(status_error(input.method, path, &response));
        }
        Ok(Out {
            status: response.status,
            body: response.body,
            next: response.next,
        })
    }
}

lanyard_sdk::export_card!(CustomApiAction);
