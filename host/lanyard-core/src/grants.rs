//! Grants: what a card may do. Deny by default.
//!
//! A card asks for [`Grant`]s in `describe()`; an operator grants them in
//! configuration (or with `lanyard card grant`). The runtime computes a card's
//! [`Grants`] once when it loads the card and checks every capability call
//! against it.

use crate::okta::OktaScope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One capability a card asks for (the WIT `grant` variant).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Grant {
    Okta(String),
    HttpHost(String),
    Connection(String),
    Table(String),
    Mail,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::Okta(s) => write!(f, "okta:{s}"),
            Grant::HttpHost(h) => write!(f, "http-host:{h}"),
            Grant::Connection(c) => write!(f, "connection:{c}"),
            Grant::Table(t) => write!(f, "table:{t}"),
            Grant::Mail => f.write_str("mail"),
        }
    }
}

impl std::str::FromStr for Grant {
    type Err = String;

    /// `okta:okta.users.read`, `http-host:api.example.com`, `connection:it-slack`,
    /// `table:audit`, `mail`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "mail" {
            return Ok(Grant::Mail);
        }
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| format!("grant `{s}` is not `kind:value` or `mail`"))?;
        if value.is_empty() {
            return Err(format!("grant `{s}` has an empty value"));
        }
        let value = value.to_string();
        match kind {
            "okta" => {
                check_okta_scope(&value)?;
                Ok(Grant::Okta(value))
            }
            "http-host" => Ok(Grant::HttpHost(value)),
            "connection" => Ok(Grant::Connection(value)),
            "table" => Ok(Grant::Table(value)),
            _ => Err(format!(
                "unknown grant kind `{kind}` (expected okta, http-host, connection, table or mail)"
            )),
        }
    }
}

/// An `okta` grant's value: one of lanyard's scopes ([`OktaScope`]), or
/// `api:` and an OAuth scope Okta's spec lists for some operation (the custom
/// API action).
fn check_okta_scope(value: &str) -> Result<(), String> {
    if let Some(scope) = value.strip_prefix("api:") {
        // `*`: a card asks for whatever scopes the operator names (the
        // operator's own `*` grants nothing; see `allows_okta_api`).
        if scope == "*" || crate::okta_api::known_scopes().contains(scope) {
            return Ok(());
        }
        return Err(format!(
            "unknown Okta OAuth scope `{scope}` in `okta:{value}` (the custom API action takes a scope Okta's API spec lists, like api:okta.users.read)"
        ));
    }
    if OktaScope::parse(value).is_none() {
        return Err(format!("unknown okta scope `{value}`"));
    }
    Ok(())
}

/// What one card is granted. Empty (the default) grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(default)]
    pub okta: BTreeSet<OktaScope>,
    /// Okta OAuth scopes the custom API action may use (`okta:api:<scope>`).
    #[serde(default)]
    pub okta_api: BTreeSet<String>,
    /// Host names for direct HTTPS; `*.example.com` matches subdomains only.
    #[serde(default)]
    pub http_hosts: BTreeSet<String>,
    /// Connection names; `*` grants every configured connection.
    #[serde(default)]
    pub connections: BTreeSet<String>,
    /// Table names; `*` grants every table.
    #[serde(default)]
    pub tables: BTreeSet<String>,
    #[serde(default)]
    pub mail: bool,
}

impl Grants {
    /// Nothing at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Build from a list of grants; fails on an unknown Okta scope.
    pub fn from_list<'a>(grants: impl IntoIterator<Item = &'a Grant>) -> Result<Self, String> {
        let mut out = Grants::default();
        for g in grants {
            match g {
                Grant::Okta(s) => {
                    check_okta_scope(s)?;
                    match s.strip_prefix("api:") {
                        Some(scope) => {
                            out.okta_api.insert(scope.to_string());
                        }
                        None => {
                            out.okta.insert(OktaScope::parse(s).expect("checked"));
                        }
                    }
                }
                Grant::HttpHost(h) => {
                    out.http_hosts.insert(h.to_ascii_lowercase());
                }
                Grant::Connection(c) => {
                    out.connections.insert(c.clone());
                }
                Grant::Table(t) => {
                    out.tables.insert(t.clone());
                }
                Grant::Mail => out.mail = true,
            }
        }
        Ok(out)
    }

    pub fn allows_okta(&self, scope: OktaScope) -> bool {
        self.okta.contains(&scope)
    }

    /// Whether the custom API action may call an operation Okta's spec lists
    /// with these scopes: the card holds `okta:api:` one of them.
    pub fn allows_okta_api(&self, scopes: &[String]) -> bool {
        scopes.iter().any(|s| s != "*" && self.okta_api.contains(s))
    }

    pub fn allows_connection(&self, name: &str) -> bool {
        self.connections.contains("*") || self.connections.contains(name)
    }

    pub fn allows_table(&self, name: &str) -> bool {
        self.tables.contains("*") || self.tables.contains(name)
    }

    /// Exact host, or `*.suffix` for any subdomain of `suffix` (not `suffix` itself).
    pub fn allows_http_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.http_hosts.iter().any(|pattern| match pattern.strip_prefix("*.") {
            Some(suffix) => host
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
            None => *pattern == host,
        })
    }

    /// The grants of `self` that `requested` did not ask for, and so will not be
    /// given (an operator can only narrow what a card asks for).
    pub fn intersect(&self, requested: &Grants) -> Grants {
        Grants {
            okta: self.okta.intersection(&requested.okta).copied().collect(),
            okta_api: if requested.okta_api.contains("*") {
                self.okta_api.iter().filter(|s| *s != "*").cloned().collect()
            } else {
                self.okta_api.intersection(&requested.okta_api).cloned().collect()
            },
            http_hosts: self
                .http_hosts
                .intersection(&requested.http_hosts)
                .cloned()
                .collect(),
            connections: if requested.connections.contains("*") {
                self.connections.clone()
            } else {
                self.connections
                    .intersection(&requested.connections)
                    .cloned()
                    .collect()
            },
            tables: if requested.tables.contains("*") {
                self.tables.clone()
            } else {
                self.tables.intersection(&requested.tables).cloned().collect()
            },
            mail: self.mail && requested.mail,
        }
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Grants) -> Grants {
        Grants {
            okta: self.okta.union(&other.okta).copied().collect(),
            okta_api: self.okta_api.union(&other.okta_api).cloned().collect(),
            http_hosts: self.http_hosts.union(&other.http_hosts).cloned().collect(),
            connections: self.connections.union(&other.connections).cloned().collect(),
            tables: self.tables.union(&other.tables).cloned().collect(),
            mail: self.mail || other.mail,
        }
    }

    /// Every grant in the set, in a stable order.
    pub fn list(&self) -> Vec<Grant> {
        let mut out: Vec<Grant> = self.okta.iter().map(|s| Grant::Okta(s.as_str().to_string())).collect();
        out.extend(self.okta_api.iter().map(|s| Grant::Okta(format!("api:{s}"))));
        out.extend(self.http_hosts.iter().map(|h| Grant::HttpHost(h.clone())));
        out.extend(self.connections.iter().map(|c| Grant::Connection(c.clone())));
        out.extend(self.tables.iter().map(|t| Grant::Table(t.clone())));
        if self.mail {
            out.push(Grant::Mail);
        }
        out
    }

    /// The grants of `self` (what a card asks for) that `effective` leaves
    /// out. An asked `*` is met by any concrete name.
    pub fn missing_from(&self, effective: &Grants) -> Vec<Grant> {
        let mut out = Vec::new();
        for scope in &self.okta {
            if !effective.okta.contains(scope) {
                out.push(Grant::Okta(scope.as_str().to_string()));
            }
        }
        for h in &self.http_hosts {
            if !effective.http_hosts.contains(h) {
                out.push(Grant::HttpHost(h.clone()));
            }
        }
        let met = |asked: &str, given: &BTreeSet<String>| if asked == "*" { !given.is_empty() } else { given.contains(asked) };
        for c in &self.connections {
            if !met(c, &effective.connections) {
                out.push(Grant::Connection(c.clone()));
            }
        }
        for t in &self.tables {
            if !met(t, &effective.tables) {
                out.push(Grant::Table(t.clone()));
            }
        }
        if self.mail && !effective.mail {
            out.push(Grant::Mail);
        }
        out
    }
}

/// What a card gets: what operators granted (in the configuration, in the
/// registry), plus, for a built-in `okta.*` card (`builtin_okta`), the Okta
/// scopes it declares; all within what it asks for.
pub fn effective_grants(
    requested: &Grants,
    configured: Option<&Grants>,
    registry: Option<&Grants>,
    builtin_okta: bool,
) -> Grants {
    let mut given = configured.cloned().unwrap_or_default();
    if let Some(r) = registry {
        given = given.union(r);
    }
    if builtin_okta {
        given.okta.extend(requested.okta.iter().copied());
    }
    given.intersect(requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_granted_by_default() {
        let g = Grants::default();
        assert!(!g.allows_okta(OktaScope::UsersRead));
        assert!(!g.allows_http_host("example.com"));
        assert!(!g.allows_connection("slack"));
        assert!(!g.allows_table("audit"));
        assert!(!g.mail);
    }

    #[test]
    fn wildcard_hosts_match_subdomains_only() {
        let g = Grants::from_list(&[Grant::HttpHost("*.example.com".into())]).unwrap();
        assert!(g.allows_http_host("api.example.com"));
        assert!(g.allows_http_host("API.Example.com"));
        assert!(!g.allows_http_host("example.com"));
        assert!(!g.allows_http_host("evilexample.com"));
        assert!(!g.allows_http_host(".example.com"));
    }

    #[test]
    fn grants_parse_from_strings() {
        let g: Grant = "okta:okta.users.read".parse().unwrap();
        assert_eq!(g, Grant::Okta("okta.users.read".into()));
        assert!("okta:okta.everything".parse::<Grant>().is_err());
        assert!("okta:api:okta.users.read".parse::<Grant>().is_ok());
        assert!("okta:api:okta.everything".parse::<Grant>().is_err());
        let api = Grants::from_list(&["okta:api:okta.users.read".parse().unwrap()]).unwrap();
        assert!(api.okta.is_empty());
        assert!(api.allows_okta_api(&["okta.users.manage".into(), "okta.users.read".into()]));
        assert!(!api.allows_okta_api(&["okta.users.manage".into()]));
        assert!(!api.allows_okta_api(&[]));
        assert!("files:/etc".parse::<Grant>().is_err());
        assert_eq!("mail".parse::<Grant>().unwrap(), Grant::Mail);
        assert_eq!(Grant::Table("audit".into()).to_string(), "table:audit");
    }

    #[test]
    fn operators_can_only_narrow_what_a_card_asks_for() {
        let asked = Grants::from_list(&[
            Grant::Okta("okta.users.read".into()),
            Grant::Connection("*".into()),
        ])
        .unwrap();
        let given = Grants::from_list(&[
            Grant::Okta("okta.users.read".into()),
            Grant::Okta("okta.groups.manage".into()),
            Grant::Connection("it-slack".into()),
            Grant::Mail,
        ])
        .unwrap();
        let eff = given.intersect(&asked);
        assert!(eff.allows_okta(OktaScope::UsersRead));
        assert!(!eff.allows_okta(OktaScope::GroupsManage));
        assert!(eff.allows_connection("it-slack"));
        assert!(!eff.allows_connection("other"));
        assert!(!eff.mail);
    }

    #[test]
    fn missing_grants_count_a_wildcard_as_met_by_any_name() {
        let asked = Grants::from_list(&[Grant::Connection("*".into()), Grant::Okta("okta.users.read".into())]).unwrap();
        let given = Grants::from_list(&[Grant::Connection("jamf".into())]).unwrap();
        assert_eq!(asked.missing_from(&given.intersect(&asked)), vec![Grant::Okta("okta.users.read".into())]);
        assert_eq!(asked.list(), asked.missing_from(&Grants::none()));
    }

    #[test]
    fn builtin_okta_cards_get_their_scopes_and_nothing_else_is_given() {
        let requested = Grants::from_list(&[Grant::Okta("okta.users.read".into()), Grant::Table("*".into())]).unwrap();
        let g = effective_grants(&requested, None, None, true);
        assert!(g.allows_okta(OktaScope::UsersRead));
        assert!(!g.allows_table("audit"));
        let g = effective_grants(&requested, None, None, false);
        assert!(!g.allows_okta(OktaScope::UsersRead));
        let configured = Grants::from_list(&[Grant::Table("audit".into()), Grant::Mail]).unwrap();
        let g = effective_grants(&requested, Some(&configured), None, false);
        assert!(g.allows_table("audit"));
        assert!(!g.allows_table("other"));
        assert!(!g.mail, "mail was not asked for");
        let registry = Grants::from_list(&[Grant::Table("jobs".into())]).unwrap();
        let g = effective_grants(&requested, Some(&configured), Some(&registry), false);
        assert!(g.allows_table("audit") && g.allows_table("jobs"));
    }
}
