//! The custom API action's map of Okta's Management API: every operation's
//! method, path template and the OAuth scopes Okta's spec lists for it
//! (`data/okta-api-operations.json`, written by `scripts/okta-api-scopes.py`
//! from Okta's published spec). A card's call is allowed only when it holds
//! `okta:api:<scope>` for one of its operation's scopes, so this table bounds
//! what the action can reach: a path the spec does not list is refused.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One Management API operation.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiOperation {
    pub method: String,
    /// The spec's template, for example `/api/v1/users/{id}/lifecycle/activate`.
    pub path: String,
    /// The spec's `operationId`, for example `activateUser`.
    pub operation: String,
    /// The OAuth scopes the spec lists; any one of them is enough.
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    source: String,
    operations: Vec<ApiOperation>,
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| {
        serde_json::from_str(include_str!("../data/okta-api-operations.json"))
            .expect("data/okta-api-operations.json is valid")
    })
}

/// Which release of Okta's spec the table was made from.
pub fn source() -> &'static str {
    &file().source
}

/// Every operation in the table.
pub fn operations() -> &'static [ApiOperation] {
    &file().operations
}

/// Every OAuth scope some operation lists: what `okta:api:<scope>` may name.
pub fn known_scopes() -> &'static BTreeSet<String> {
    static SCOPES: OnceLock<BTreeSet<String>> = OnceLock::new();
    SCOPES.get_or_init(|| {
        operations()
            .iter()
            .flat_map(|o| o.scopes.iter().cloned())
            .collect()
    })
}

/// The operation a request is, by method and concrete path (no query). A
/// literal segment beats a `{parameter}` at the same place, so
/// `/api/v1/users/me` is `getUser`'s sibling, not a user named `me`.
///
/// The path must be plain: it starts with `/`, and no segment is empty, `.`,
/// `..`, or holds `%2F`, `\`, `?` or `#` — what could make the URL Okta
/// receives differ from the one checked here.
pub fn operation(method: &str, path: &str) -> Result<&'static ApiOperation, String> {
    let method = method.to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(format!("method `{method}` is not one of GET, POST, PUT, PATCH, DELETE"));
    }
    let segments = plain_segments(path)?;
    let mut best: Option<(&ApiOperation, usize)> = None;
    for op in operations().iter().filter(|o| o.method == method) {
        let template: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let matched = template.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') && t.ends_with('}') {
                true
            } else if t == s {
                literal += 1;
                true
            } else {
                false
            }
        });
        if matched && best.is_none_or(|(_, l)| literal > l) {
            best = Some((op, literal));
        }
    }
    best.map(|(op, _)| op).ok_or_else(|| {
        format!("`{method} {path}` is not an operation of Okta's Management API ({})", source())
    })
}

fn plain_segments(path: &str) -> Result<Vec<&str>, String> {
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("the path `{path}` must start with `/` (a path under the org, like /api/v1/users)"))?;
    let segments: Vec<&str> = rest.split('/').collect();
    for s in &segments {
        let lower = s.to_ascii_lowercase();
        if s.is_empty()
            || *s == "."
            || *s == ".."
            || lower.contains("%2f")
            || lower.contains("%5c")
            || lower.contains("%2e")
            || s.contains(['\\', '?', '#'])
            || s.chars().any(char::is_control)
        {
            return Err(format!(
                "the path `{path}` has a segment `{s}` that is not allowed (empty, dot, encoded slash, or a query); give the query separately"
            ));
        }
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_paths_find_their_operation_and_scopes() {
        let op = operation("post", "/api/v1/users/00u1/lifecycle/activate").unwrap();
        assert_eq!(op.operation, "activateUser");
        assert_eq!(op.scopes, vec!["okta.users.manage"]);
        let op = operation("GET", "/api/v1/groups/00g1/users").unwrap();
        assert_eq!(op.operation, "listGroupUsers");
        assert!(op.scopes.contains(&"okta.groups.read".to_string()));
        assert_eq!(operation("GET", "/api/v1/users/00u1").unwrap().operation, "getUser");
    }

    #[test]
    fn a_literal_segment_beats_a_parameter() {
        let op = operation("GET", "/api/v1/apps/0oa1/users").unwrap();
        assert_eq!(op.operation, "listApplicationUsers");
        let op = operation("GET", "/api/v1/groups/rules").unwrap();
        assert_eq!(op.operation, "listGroupRules");
    }

    #[test]
    fn paths_outside_the_spec_or_not_plain_are_refused() {
        assert!(operation("GET", "/api/v1/nothing-here").is_err());
        assert!(operation("GET", "/api/v1/users/../apps").is_err());
        assert!(operation("GET", "/api/v1/users/a%2Fb").is_err());
        assert!(operation("GET", "/api/v1/users/a%2e%2e").is_err());
        assert!(operation("GET", "/api/v1/users?limit=1").is_err());
        assert!(operation("GET", "api/v1/users").is_err());
        assert!(operation("GET", "/api/v1/users/").is_err());
        assert!(operation("TRACE", "/api/v1/users").is_err());
        assert!(operation("GET", "//evil.example/api/v1/users").is_err());
    }

    #[test]
    fn every_operation_has_a_scope_it_is_reached_by() {
        assert!(operations().len() > 500, "{}", operations().len());
        assert!(known_scopes().contains("okta.users.read"));
        assert!(known_scopes().contains("okta.apps.manage"));
    }
}
