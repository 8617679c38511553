//! What validation knows about cards: which exist, and what input they take.
//!
//! The compiler asks a [`CardCatalog`]; the daemon backs it with the embedded
//! cards and the registry, the CLI with whatever it has loaded, tests with a
//! [`StaticCatalog`]. This module never loads a card itself.

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
}

impl CardSummary {
    pub fn new(name: &str) -> Self {
        CardSummary {
            name: name.to_string(),
            version: None,
            input_schema: None,
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
}

/// Which cards exist.
pub trait CardCatalog: Send + Sync {
    /// The card a reference resolves to, or `None` if there is no such card (or
    /// no version that satisfies the reference).
    fn lookup(&self, card: &CardRef) -> Option<CardSummary>;
    /// Every card name, for "did you mean" suggestions.
    fn names(&self) -> Vec<String>;
}

/// A fixed list of cards.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog {
    cards: Vec<CardSummary>,
}

impl StaticCatalog {
    pub fn new(cards: impl IntoIterator<Item = CardSummary>) -> Self {
        StaticCatalog {
            cards: cards.into_iter().collect(),
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
