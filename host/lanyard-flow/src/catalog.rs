//! What validation knows about cards: which exist, and what input they take.
//!
//! The compiler asks a [`CardCatalog`]; the daemon backs it with the embedded
//! cards and the registry, the CLI with whatever it has loaded, tests with a
//! [`StaticCatalog`]. This module never loads a card itself.
//!
//! The catalog also says which Okta orgs are configured ([`OktaOrgs`]): a
//! trigger or a card step that names an `org:` is checked against them. A
//! catalog that does not say has one org, [`DEFAULT_ORG`].

use crate::model::{CardRef, CardVersion};
use serde_json::Value;

/// What the compiler needs to know about one card.
#[derive(Debug, Clone, PartialEq)]
pub struct CardSummary {
    pub name: String,
    /// The version that a reference resolves to, if known.
    pub version: Option<String>,
    /// JSON Schema of the card's input (`describe().input-schema`); `with` keys
    /// are checked against its `properties` and `required`.
    pub input_schema: Option<Value>,
    /// The card may call Okta (it is granted Okta scopes), so its calls go to
    /// an org: with several orgs and no default, its step must name one.
    pub okta: bool,
}

impl CardSummary {
    pub fn new(name: &str) -> Self {
        CardSummary {
            name: name.to_string(),
            version: None,
            input_schema: None,
            okta: false,
        }
    }

    pub fn with_version(mut self, version: &str) -> Self {
        self.version = Some(version.to_string());
        self
    }

    pub fn with_input_schema(mut self, schema: Value) -> Self {
        self.input_schema = Some(schema);
        self
    }

    pub fn with_okta(mut self, okta: bool) -> Self {
        self.okta = okta;
        self
    }
}

/// The name of the org that the `[okta]` table configures, and of the org
/// a trigger or step uses when it names none and several are configured.
pub const DEFAULT_ORG: &str = "default";

/// The Okta orgs flows may name with `org:`, in name order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaOrgs {
    names: Vec<String>,
}

impl Default for OktaOrgs {
    fn default() -> Self {
        Self::single()
    }
}

impl OktaOrgs {
    /// One org, [`DEFAULT_ORG`]: a daemon with one `[okta]` table (or none).
    pub fn single() -> Self {
        OktaOrgs {
            names: vec![DEFAULT_ORG.to_string()],
        }
    }

    /// These orgs (none: [`OktaOrgs::single`]).
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut names: Vec<String> = names.into_iter().map(Into::into).collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Self::single();
        }
        OktaOrgs { names }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The org used where none is named: the one named [`DEFAULT_ORG`], else
    /// the only one; `None` when several are configured and none is `default`.
    pub fn default_org(&self) -> Option<&str> {
        match self.names.as_slice() {
            [only] => Some(only),
            names => names.iter().find(|n| *n == DEFAULT_ORG).map(String::as_str),
        }
    }

    /// `` `a`, `b` `` for messages.
    pub fn listed(&self) -> String {
        let quoted: Vec<String> = self.names.iter().map(|n| format!("`{n}`")).collect();
        quoted.join(", ")
    }
}

/// Which cards exist.
pub trait CardCatalog: Send + Sync {
    /// The card a reference resolves to, or `None` if there is no such card (or
    /// no version that satisfies the reference).
    fn lookup(&self, card: &CardRef) -> Option<CardSummary>;
    /// Every card name, for "did you mean" suggestions.
    fn names(&self) -> Vec<String>;
    /// The configured Okta orgs (`org:` of triggers and card steps).
    fn okta_orgs(&self) -> OktaOrgs {
        OktaOrgs::single()
    }
}

/// A fixed list of cards.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog {
    cards: Vec<CardSummary>,
    orgs: OktaOrgs,
}

impl StaticCatalog {
    pub fn new(cards: impl IntoIterator<Item = CardSummary>) -> Self {
        StaticCatalog {
            cards: cards.into_iter().collect(),
            orgs: OktaOrgs::single(),
        }
    }

    /// The same cards, with these Okta orgs configured.
    pub fn with_okta_orgs(mut self, orgs: OktaOrgs) -> Self {
        self.orgs = orgs;
        self
    }

    /// Cards known by name only (no version, no schema).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(names.into_iter().map(CardSummary::new))
    }
}

impl CardCatalog for StaticCatalog {
    fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
        let mut best: Option<(&CardSummary, Option<semver::Version>)> = None;
        for c in self.cards.iter().filter(|c| c.name == card.name) {
            let v = c
                .version
                .as_deref()
                .and_then(|v| semver::Version::parse(v).ok());
            let fits = match (&card.version, &v) {
                (CardVersion::Req(req), Some(v)) => req.matches(v),
                // A version the catalog cannot check (no version known, or a
                // digest pin) is decided when the card is loaded.
                _ => true,
            };
            if fits && best.as_ref().is_none_or(|(_, bv)| v > *bv) {
                best = Some((c, v));
            }
        }
        best.map(|(c, _)| c.clone())
    }

    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cards.iter().map(|c| c.name.clone()).collect();
        v.dedup();
        v
    }

    fn okta_orgs(&self) -> OktaOrgs {
        self.orgs.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_org_is_the_only_one_or_the_one_named_default() {
        assert_eq!(OktaOrgs::single().default_org(), Some(DEFAULT_ORG));
        assert_eq!(OktaOrgs::new(Vec::<String>::new()), OktaOrgs::single());
        assert_eq!(OktaOrgs::new(["prod"]).default_org(), Some("prod"));
        assert_eq!(OktaOrgs::new(["prod", "preview"]).default_org(), None);
        let with_default = OktaOrgs::new(["preview", "default"]);
        assert_eq!(with_default.default_org(), Some("default"));
        assert_eq!(with_default.listed(), "`default`, `preview`");
    }

    #[test]
    fn picks_the_newest_version_that_fits() {
        let cat = StaticCatalog::new([
            CardSummary::new("acme.wipe").with_version("1.2.0"),
            CardSummary::new("acme.wipe").with_version("1.4.1"),
            CardSummary::new("acme.wipe").with_version("2.0.0"),
        ]);
        let found = cat
            .lookup(&CardRef::parse("acme.wipe@1.2").unwrap())
            .unwrap();
        assert_eq!(found.version.as_deref(), Some("1.4.1"));
        let found = cat.lookup(&CardRef::parse("acme.wipe").unwrap()).unwrap();
        assert_eq!(found.version.as_deref(), Some("2.0.0"));
        assert!(
            cat.lookup(&CardRef::parse("acme.wipe@3").unwrap())
                .is_none()
        );
        assert!(cat.lookup(&CardRef::parse("acme.nope").unwrap()).is_none());
    }
}
