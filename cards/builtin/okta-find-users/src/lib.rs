//! `okta.find-users`: the users matching one Okta search, filter or name prefix.

use builtin_kit::{List, check_text};
use lanyard_sdk::okta::{User, UserQuery};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// The most users one call returns: a flow that needs more should narrow its
/// search (the output must stay under the call's output cap too).
const MAX_LIMIT: u32 = 10_000;
const MAX_EXPR: usize = 2_048;

/// Which users. At most one of `search`, `filter`, `q`; none lists every user.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// An Okta search expression over any user property, for example
    /// `profile.department eq "Sales" and status eq "ACTIVE"` or
    /// `created lt "2024-06-01T00:00:00.000Z"`.
    #[serde(default)]
    search: Option<String>,
    /// An Okta filter expression (a smaller language: `status`, `lastUpdated`,
    /// `id`, `profile.login`, `profile.email`, `profile.firstName`,
    /// `profile.lastName`), for example `status eq "LOCKED_OUT"`.
    #[serde(default)]
    filter: Option<String>,
    /// A prefix of first name, last name or email.
    #[serde(default)]
    q: Option<String>,
    /// At most this many users (1 to 10000; default: all, up to the host's cap).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10000))]
    limit: Option<u32>,
}

struct FindUsers;

impl Card for FindUsers {
    const NAME: &'static str = "okta.find-users";
    const DESCRIPTION: &'static str = "Finds Okta users by search expression, filter or name prefix, following every page. Output: `items` (users, as okta.get-user returns them) and `count`.";
    type Input = In;
    type Output = List<User>;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.users.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<List<User>, CardError> {
        let given: Vec<&str> = [("search", &input.search), ("filter", &input.filter), ("q", &input.q)]
            .into_iter()
            .filter_map(|(name, v)| v.as_ref().map(|_| name))
            .collect();
        if given.len() > 1 {
            return Err(CardError::invalid_input(format!(
                "give at most one of `search`, `filter` and `q`, not {}",
                given.join(" and ")
            )));
        }
        for (name, value) in [("search", &input.search), ("filter", &input.filter), ("q", &input.q)] {
            if let Some(v) = value {
                check_text(name, v, MAX_EXPR)?;
            }
        }
        if let Some(limit) = input.limit {
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(CardError::invalid_input(format!("`limit` must be between 1 and {MAX_LIMIT}, not {limit}")));
            }
        }
        let query = UserQuery {
            search: input.search,
            filter: input.filter,
            q: input.q,
            limit: input.limit,
        };
        Ok(okta::list_users(&query)?.into())
    }
}

lanyard_sdk::export_card!(FindUsers);
