//! `okta.query-logs`: System Log events, oldest first.

use builtin_kit::{List, check_text};
use lanyard_sdk::okta::LogQuery;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

const MAX_LIMIT: u32 = 10_000;
const MAX_EXPR: usize = 2_048;

/// Which events.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// RFC 3339 lower bound, inclusive (for example `{{ add_days(now(), -1) }}`).
    /// Okta's default is 7 days ago.
    #[serde(default)]
    since: Option<String>,
    /// RFC 3339 upper bound, exclusive.
    #[serde(default)]
    until: Option<String>,
    /// An Okta filter expression, for example
    /// `eventType eq "user.session.start" and outcome.result eq "FAILURE"`.
    #[serde(default)]
    filter: Option<String>,
    /// Keywords that must all appear in the event.
    #[serde(default)]
    q: Option<String>,
    /// At most this many events (1 to 10000; default and cap set by the host).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10000))]
    limit: Option<u32>,
}

struct QueryLogs;

impl Card for QueryLogs {
    const NAME: &'static str = "okta.query-logs";
    const DESCRIPTION: &'static str = "Reads events from the Okta System Log, oldest first, by time range, filter and keywords. Output: `items` (LogEvents: `uuid`, `published`, `eventType`, `actor`, `target`, `outcome`, ...) and `count`.";
    type Input = In;
    type Output = List<Value>;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.logs.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<List<Value>, CardError> {
        for (name, value) in [
            ("since", &input.since),
            ("until", &input.until),
            ("filter", &input.filter),
            ("q", &input.q),
        ] {
            if let Some(v) = value {
                check_text(name, v, MAX_EXPR)?;
            }
        }
        if let Some(limit) = input.limit {
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(CardError::invalid_input(format!("`limit` must be between 1 and {MAX_LIMIT}, not {limit}")));
            }
        }
        let query = LogQuery {
            since: input.since,
            until: input.until,
            filter: input.filter,
            q: input.q,
            limit: input.limit,
        };
        Ok(okta::query_logs(&query)?.into())
    }
}

lanyard_sdk::export_card!(QueryLogs);
