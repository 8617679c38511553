//! `okta.find-users`: the users matching one Okta search, filter or name
//! prefix: all of them, or one page at a time (`after`, `page_size`) for an
//! org too large for one step's output.

use builtin_kit::okta::{MAX_USER_PAGE, check_cursor, check_page_size};
use builtin_kit::check_text;
use lanyard_sdk::okta::{User, UserQuery};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most users one call returns: a flow that needs more should narrow its
/// search (the output must stay under the call's output cap too).
const MAX_LIMIT: u32 = 10_000;
const MAX_EXPR: usize = 2_048;

/// Which users. At most one of `search`, `filter`, `q`; none lists every user.
/// `status` and `created_before` narrow a search (or are one) without
/// writing Okta's search syntax.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// Only users in this state.
    #[serde(default)]
    status: Option<Status>,
    /// Only users created before this time (RFC 3339), for example three
    /// days ago: `{{ add_days(now(), -3) }}`.
    #[serde(default)]
    created_before: Option<String>,
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
    /// One page at a time: where to start, the `next` of the page before.
    /// Leave it out (and give `page_size`) for the first page.
    #[serde(default)]
    after: Option<String>,
    /// One page at a time: how many users a page holds (1 to 200). With
    /// `page_size` or `after` the output is one page and its `next`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    page_size: Option<u32>,
    /// Also read each user's MFA factors (one more Okta call per user, so
    /// only one page at a time: give `page_size`): each user then has `mfa`,
    /// with `enrolled` (whether any factor is ACTIVE) and `factors` (the
    /// ACTIVE factors' types).
    #[serde(default)]
    mfa: bool,
}

/// A user found, with their MFA enrollment when `mfa` was asked for.
#[derive(Serialize, JsonSchema)]
struct Found {
    #[serde(flatten)]
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa: Option<Mfa>,
}

/// A user's MFA enrollment, as okta.list-factors tells it.
#[derive(Serialize, JsonSchema)]
struct Mfa {
    /// Whether at least one factor is ACTIVE; one still PENDING_ACTIVATION does not count.
    enrolled: bool,
    /// The types of the ACTIVE factors (`push`, `token:software:totp`, ...).
    factors: Vec<String>,
}

fn found(users: Vec<User>, mfa: bool) -> Result<Vec<Found>, CardError> {
    users
        .into_iter()
        .map(|user| {
            let mfa = if mfa {
                let factors: Vec<String> = okta::list_factors(&user.id)?.into_iter().filter(|f| f.status == "ACTIVE").map(|f| f.factor_type).collect();
                Some(Mfa { enrolled: !factors.is_empty(), factors })
            } else {
                None
            };
            Ok(Found { user, mfa })
        })
        .collect()
}

/// The users found.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// The users, as okta.get-user returns them (with `mfa` when asked).
    items: Vec<Found>,
    /// How many users there are (on this page, when paging).
    count: usize,
    /// Only when paging (`after` or `page_size` given): the cursor of the next
    /// page, to pass as `after`; null on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Option<String>>,
}

/// An Okta user's status, as Okta spells it.
#[derive(Deserialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Status {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl Status {
    fn okta(self) -> &'static str {
        match self {
            Status::Staged => "STAGED",
            Status::Provisioned => "PROVISIONED",
            Status::Active => "ACTIVE",
            Status::Recovery => "RECOVERY",
            Status::PasswordExpired => "PASSWORD_EXPIRED",
            Status::LockedOut => "LOCKED_OUT",
            Status::Suspended => "SUSPENDED",
            Status::Deprovisioned => "DEPROVISIONED",
        }
    }
}

/// `search` with `status` and `created_before` added as search clauses.
fn narrowed(input: &In) -> Result<Option<String>, CardError> {
    let mut parts = Vec::new();
    if let Some(s) = &input.search {
        parts.push(if input.status.is_some() || input.created_before.is_some() { format!("({s})") } else { s.clone() });
    }
    if let Some(status) = input.status {
        parts.push(format!("status eq \"{}\"", status.okta()));
    }
    if let Some(t) = &input.created_before {
        let t = t.trim();
        if !looks_like_time(t) {
            return Err(CardError::invalid_input(format!("`created_before` must be a date and time (RFC 3339), not {t:?}")));
        }
        parts.push(format!("created lt \"{t}\""));
    }
    Ok((!parts.is_empty()).then(|| parts.join(" and ")))
}

/// `2026-03-02T14:00:00Z` or with a fraction or an offset: digits and the
/// separators of RFC 3339 only, so nothing can leave the quoted clause.
fn looks_like_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 20
        && b.len() <= 40
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && t.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b':' | b'.' | b'T' | b'Z' | b'+'))
}

struct FindUsers;

impl Card for FindUsers {
    const NAME: &'static str = "okta.find-users";
    const DESCRIPTION: &'static str = "Finds Okta users by search expression, filter or name prefix, following every page; or, with `page_size` or `after`, one page at a time (and with `mfa`, each user's MFA enrollment). Output: `items` (users, as okta.get-user returns them), `count`, and when paging `next`, the cursor of the next page.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // factors.read only for `mfa`.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.factors.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let narrowing = input.status.is_some() || input.created_before.is_some();
        let given: Vec<&str> = [("search", input.search.is_some() || narrowing), ("filter", input.filter.is_some()), ("q", input.q.is_some())]
            .into_iter()
            .filter_map(|(name, v)| v.then_some(name))
            .collect();
        if given.len() > 1 && narrowing {
            return Err(CardError::invalid_input(format!(
                "`status` and `created_before` are search clauses: give them with `search` or alone, not with {}",
                given[1..].join(" and ")
            )));
        }
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
        if let Some(limit) = input.limit
            && !(1..=MAX_LIMIT).contains(&limit)
        {
            return Err(CardError::invalid_input(format!("`limit` must be between 1 and {MAX_LIMIT}, not {limit}")));
        }
        let paging = input.after.is_some() || input.page_size.is_some();
        if paging && input.limit.is_some() {
            return Err(CardError::invalid_input(
                "give `limit` (at most this many users, every page followed) or `page_size` and `after` (one page at a time), not both",
            ));
        }
        check_page_size(input.page_size, MAX_USER_PAGE)?;
        if input.mfa && !paging {
            return Err(CardError::invalid_input("`mfa` reads every user's factors, so one page at a time: give `page_size` (and `after` for the pages after the first)"));
        }
        let after = input.after.as_deref().map(str::trim).map(str::to_string);
        check_cursor(after.as_deref())?;
        let search = narrowed(&input)?;
        let query = UserQuery {
            search,
            filter: input.filter,
            q: input.q,
            limit: if paging { input.page_size } else { input.limit },
        };
        if paging {
            let page = okta::list_users_page(&query, after.as_deref())?;
            return Ok(Out {
                count: page.users.len(),
                items: found(page.users, input.mfa)?,
                next: Some(page.next),
            });
        }
        let items = okta::list_users(&query)?;
        Ok(Out {
            count: items.len(),
            items: found(items, false)?,
            next: None,
        })
    }
}

lanyard_sdk::export_card!(FindUsers);
