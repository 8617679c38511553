//! The flow library: ready-made flows for what identity teams automate most
//! (`flows/library/` in the repository), embedded in the daemon and served
//! read-only to the console, where an admin reads what each one does and
//! needs, then imports it.
//!
//! Routes (admin token; wire types `lanyard_core::admin_api::LibraryList`
//! and `LibraryFlowDetail`):
//! - `GET /api/v1/library` → `{"flows": [LibraryFlow]}`: each flow's `id`
//!   (its file name without `.yaml`), `file`, `name`, `description`, `summary`
//!   (the description's first paragraph), `trigger` (`kind`, `words`,
//!   `event_types`), `cards`, `needs` (`tables` with `read`/`write`,
//!   `connections`, `mail`), `grants` (the `lanyard.toml` lines it needs, as
//!   TOML text), `imported` (a loaded flow has its name: importing again is
//!   refused) and `problems` (why this daemon could not load it, e.g. a card
//!   it does not have; empty when it can).
//! - `GET /api/v1/library/{id}` → the same with `source` (the file's text,
//!   `enabled: false` in it) and `outline` (the builder's diagram model).
//!
//! Importing is not here: the console creates the flow through the
//! flow-writing routes (`crate::flow_api`, `POST /api/v1/flows`), as it
//! creates any flow, so an import is validated, written, versioned, audited
//! and reloaded like every other write. This module writes nothing and holds
//! nothing; what it says about a flow is computed from the embedded text and
//! the daemon's card set on each request.

use crate::engine::Engine;
use crate::server::{allow, decode_segment, json_response, require_admin, ApiError, Resp};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use lanyard_flow::catalog::CardCatalog;
use lanyard_flow::expr::Template;
use lanyard_flow::model::Flow;
use lanyard_flow::SourceFile;
use lanyard_core::admin_api::{LibraryFlow, LibraryFlowDetail, LibraryList, LibraryTrigger, Needs, TableNeed};
use std::collections::{BTreeMap, BTreeSet};

/// One flow of the library, as embedded.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The file name without `.yaml`: the flow's id in the routes.
    pub id: &'static str,
    pub source: &'static str,
}

macro_rules! entry {
    ($id:literal) => {
        Entry {
            id: $id,
            source: include_str!(concat!("../../../flows/library/", $id, ".yaml")),
        }
    };
}

/// Every flow of `flows/library/`, in the order the console lists them (a test
/// checks this list against the folder).
pub const FLOWS: &[Entry] = &[
    entry!("contractor-expiry"),
    entry!("stale-accounts"),
    entry!("privileged-group-alert"),
    entry!("app-assignment-review"),
    entry!("password-expiry-reminder"),
    entry!("group-reconciliation"),
    entry!("leaver-file-transfer"),
    entry!("suspicious-sign-ins"),
    entry!("weekly-admin-report"),
    entry!("rehire-reactivation"),
    entry!("onboarding-apps"),
    entry!("access-request"),
];

/// `flows/library/grants.toml`: every grant the library's flows need.
pub const GRANTS: &str = include_str!("../../../flows/library/grants.toml");

/// The library flow `id`, if there is one.
pub fn entry(id: &str) -> Option<&'static Entry> {
    FLOWS.iter().find(|e| e.id == id)
}

/// `GET /api/v1/library` and `GET /api/v1/library/{id}`.
pub fn is_library_route(rest: &[&str]) -> bool {
    matches!(rest, ["library"] | ["library", _])
}

/// Serve one library route (see the module docs).
pub async fn handle(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    if req.method() != Method::GET {
        return Err(allow("GET"));
    }
    require_admin(engine, &req)?;
    let set = engine.flows();
    let cards = set.cards().clone();
    let now = engine.clock().now();
    let loaded = |name: &str| set.get(name).is_some();
    match rest {
        ["library"] => {
            let flows: Vec<LibraryFlow> = FLOWS.iter().map(|e| describe(e, cards.as_ref(), now, &loaded).0).collect();
            Ok(json_response(StatusCode::OK, &LibraryList { flows }))
        }
        ["library", id] => {
            let id = decode_segment(id)?;
            let e = entry(&id).ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("the flow library has no flow `{id}`"))
            })?;
            let (flow, compiled) = describe(e, cards.as_ref(), now, &loaded);
            let outline = compiled.map(|f| {
                let mut o = lanyard_flow::outline(&f, now);
                o.file = flow.file.clone();
                crate::admin_wire::outline(&o)
            });
            Ok(json_response(StatusCode::OK, &LibraryFlowDetail { flow, source: e.source.to_string(), outline }))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such library route")),
    }
}

/// A library flow compiled against `cards`, in words; with the compiled flow
/// when it compiles (`problems` says why when it does not).
pub fn describe(
    e: &Entry,
    cards: &dyn CardCatalog,
    now: chrono::DateTime<chrono::Utc>,
    loaded: &dyn Fn(&str) -> bool,
) -> (LibraryFlow, Option<std::sync::Arc<Flow>>) {
    let file = format!("{}.yaml", e.id);
    let v = lanyard_flow::validate(&[SourceFile::new(file.clone(), e.source)], cards);
    let problems: Vec<String> = v.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect();
    let flow = v.flows.into_iter().next();
    let (name, description) = match &flow {
        Some(f) => (f.name.clone(), f.description.clone()),
        None => header(e.source),
    };
    let trigger = flow
        .as_ref()
        .map(|f| {
            let t = lanyard_flow::outline(f, now).trigger;
            LibraryTrigger {
                kind: t.kind.to_string(),
                words: t.words,
                event_types: t.event_types,
            }
        })
        .unwrap_or_default();
    let (cards_used, needs, grants) = flow.as_ref().map(|f| needs_of(f)).unwrap_or_default();
    let summary = description.split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
    let out = LibraryFlow {
        id: e.id.to_string(),
        file,
        imported: loaded(&name),
        name,
        description,
        summary,
        trigger,
        cards: cards_used,
        needs,
        grants,
        problems,
    };
    (out, flow)
}

/// `name:` and `description:` read from the text, for a flow that does not
/// compile here (a card this daemon lacks), so the console can still say
/// what it is.
fn header(source: &str) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        name: String,
        #[serde(default)]
        description: String,
    }
    let (root, _) = lanyard_flow::yaml::parse("library", source);
    let json = root.map(|r| r.to_json()).unwrap_or_default();
    let head: Head = serde_json::from_value(json).unwrap_or(Head { name: String::new(), description: String::new() });
    (head.name, head.description)
}

/// The cards a flow calls, what they need configured, and the grants as
/// `lanyard.toml` text. Built-in `okta.*` cards get their Okta scopes by
/// default, so they need no line; tables and connections are read from the
/// steps' `with` where they are written out (a table named by an expression
/// cannot be known here, and none of the library's is).
pub fn needs_of(flow: &Flow) -> (Vec<String>, Needs, String) {
    let mut cards = BTreeSet::new();
    let mut tables: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let mut connections = BTreeSet::new();
    let mut mail = false;
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for step in flow.walk() {
        let Some(c) = step.card_step() else { continue };
        let card = c.card.name.clone();
        cards.insert(card.clone());
        if card.starts_with("okta.") && card != "okta.custom-api-action" {
            continue;
        }
        if card == "mail.send" {
            mail = true;
            grants.entry(card.clone()).or_default().insert("mail".into());
        }
        if let Some(table) = literal(&c.with, "table") {
            let t = tables.entry(table.clone()).or_insert((false, false));
            match card.as_str() {
                "tables.get" | "tables.find" => t.0 = true,
                _ => t.1 = true,
            }
            grants.entry(card.clone()).or_default().insert(format!("table:{table}"));
        }
        if let Some(conn) = literal(&c.with, "connection") {
            connections.insert(conn.clone());
            grants.entry(card.clone()).or_default().insert(format!("connection:{conn}"));
        }
    }
    let mut text = String::new();
    for (card, list) in &grants {
        let quoted: Vec<String> = list.iter().map(|g| format!("\"{g}\"")).collect();
        text.push_str(&format!("[cards.\"{card}\"]\ngrants = [{}]\n\n", quoted.join(", ")));
    }
    let needs = Needs {
        tables: tables.into_iter().map(|(name, (read, write))| TableNeed { name, read, write }).collect(),
        connections: connections.into_iter().collect(),
        mail,
    };
    (cards.into_iter().collect(), needs, text.trim_end().to_string())
}

/// `with.<key>` when it is written as plain text.
fn literal(with: &Template, key: &str) -> Option<String> {
    match with {
        Template::Lit { json, .. } => json.get(key).and_then(|v| v.as_str()).map(str::to_string),
        Template::Map(entries) => entries.iter().find(|(k, _)| &**k == key).and_then(|(_, t)| match t {
            Template::Lit { json, .. } => json.as_str().map(str::to_string),
            _ => None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard_flow::catalog::CardSummary;
    use lanyard_flow::model::CardRef;

    /// Any card exists (the real set is the e2e tests' business): these tests
    /// are about the library's own files.
    struct AnyCard;

    impl CardCatalog for AnyCard {
        fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
            Some(CardSummary::new(&card.name))
        }
        fn names(&self) -> Vec<String> {
            Vec::new()
        }
    }

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows/library")
    }

    fn all() -> Vec<(LibraryFlow, std::sync::Arc<Flow>)> {
        FLOWS
            .iter()
            .map(|e| {
                let (d, f) = describe(e, &AnyCard, chrono::Utc::now(), &|_| false);
                (d, f.unwrap_or_else(|| panic!("{} does not compile", e.id)))
            })
            .collect()
    }

    #[test]
    fn the_embedded_list_is_the_folder() {
        let mut on_disk: Vec<String> = std::fs::read_dir(dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FLOWS.iter().map(|e| format!("{}.yaml", e.id)).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "list every flows/library/*.yaml in FLOWS");
    }

    #[test]
    fn every_library_flow_is_off_named_and_described_with_what_it_needs() {
        let mut names = BTreeSet::new();
        for (d, f) in all() {
            assert!(!f.enabled, "{}: a library flow is imported off (`enabled: false`)", d.id);
            assert!(names.insert(d.name.clone()), "two library flows are named {}", d.name);
            assert!(d.description.contains("Needs:"), "{}: the description says what it needs", d.id);
            assert!(!d.summary.is_empty() && d.summary.len() < 600, "{}: {}", d.id, d.summary);
            assert!(!d.trigger.words.is_empty(), "{}", d.id);
            for t in &d.needs.tables {
                assert!(d.description.contains(&format!("`{}`", t.name)), "{}: the description names table `{}`", d.id, t.name);
            }
            for c in &d.needs.connections {
                assert!(d.description.contains(&format!("`{c}`")), "{}: the description names connection `{c}`", d.id);
            }
            if d.needs.mail {
                assert!(d.description.contains("mail"), "{}", d.id);
            }
        }
    }

    /// `grants.toml` grants what every flow needs, and nothing no flow needs.
    #[test]
    fn grants_toml_is_exactly_what_the_flows_need() {
        let parsed: toml::Table = toml::from_str(GRANTS).expect("grants.toml is TOML");
        let mut file: BTreeSet<(String, String)> = BTreeSet::new();
        for (card, t) in parsed["cards"].as_table().unwrap() {
            for g in t["grants"].as_array().unwrap() {
                file.insert((card.clone(), g.as_str().unwrap().to_string()));
            }
        }
        let mut needed: BTreeSet<(String, String)> = BTreeSet::new();
        for (d, _) in all() {
            let own: toml::Table = toml::from_str(&d.grants).unwrap_or_else(|e| panic!("{}: {e}\n{}", d.id, d.grants));
            for (card, t) in own.get("cards").and_then(|c| c.as_table()).into_iter().flatten() {
                for g in t["grants"].as_array().unwrap() {
                    needed.insert((card.clone(), g.as_str().unwrap().to_string()));
                }
            }
        }
        assert_eq!(needed, file, "flows/library/grants.toml vs. what the flows' steps need");
    }

    #[test]
    fn needs_are_read_from_the_steps() {
        let (d, _) = describe(entry("stale-accounts").unwrap(), &AnyCard, chrono::Utc::now(), &|n| n.starts_with("Stale"));
        assert!(d.imported);
        assert_eq!(
            d.needs,
            Needs {
                tables: vec![TableNeed { name: "stale-accounts".into(), read: true, write: true }],
                connections: vec!["it-slack".into()],
                mail: false,
            }
        );
        assert_eq!(
            d.grants,
            "[cards.\"slack.post\"]\ngrants = [\"connection:it-slack\"]\n\n\
             [cards.\"tables.delete\"]\ngrants = [\"table:stale-accounts\"]\n\n\
             [cards.\"tables.find\"]\ngrants = [\"table:stale-accounts\"]\n\n\
             [cards.\"tables.put\"]\ngrants = [\"table:stale-accounts\"]"
        );
        assert_eq!(d.trigger.kind, "schedule");
        assert!(d.cards.contains(&"okta.suspend".to_string()), "{:?}", d.cards);
    }

    /// An event-triggered flow has a sample delivery in `samples/` whose
    /// event it matches (type and filter), for `lanyard run --event`.
    #[test]
    fn event_flows_have_a_sample_that_starts_them() {
        for (d, f) in all() {
            let Some(t) = f.trigger.okta() else { continue };
            let path = dir().join("samples").join(format!("{}.json", d.id));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let delivery: serde_json::Value = serde_json::from_str(&text).unwrap();
            let event = &delivery["data"]["events"][0];
            assert!(t.event_types.iter().any(|x| event["eventType"] == x.as_str()), "{}: {}", d.id, event["eventType"]);
            assert!(t.matches(event).unwrap(), "{}: the sample event does not pass the filter", d.id);
        }
    }

    #[test]
    fn a_flow_this_daemon_cannot_load_still_says_what_it_is() {
        let none = lanyard_flow::StaticCatalog::from_names([]);
        let (d, f) = describe(entry("contractor-expiry").unwrap(), &none, chrono::Utc::now(), &|_| false);
        assert!(f.is_none());
        assert_eq!(d.name, "Contractor Expiry: Warn the Manager, Then Deactivate");
        assert!(d.summary.starts_with("Every morning, deactivate contractors"), "{}", d.summary);
        assert!(d.problems.iter().any(|p| p.contains("okta.find-users")), "{:?}", d.problems);
    }
}
