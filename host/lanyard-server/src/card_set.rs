//! The card set: every card a flow can name, with the grants it gets, and the
//! [`CardInvoker`] that runs them.
//!
//! Two sources: the built-in cards embedded in the binary (loaded once at start,
//! in parallel, through the runtime's compiled-card cache) and the cards
//! published to the registry in the store (loaded on first use). A reference
//! (`okta.get-user`, `acme.wipe@1.2`, `acme.wipe@sha256:<hex>`) resolves to the
//! newest version that fits.
//!
//! Grants, deny by default: a card gets what operators granted it
//! (`[cards."name"] grants` in `lanyard.toml`, plus what `lanyard card grant`
//! stored for a registry version), intersected with what the card asks for in
//! `describe()`. The one default: a built-in `okta.*` card gets the Okta scopes
//! it declares (each does one Okta operation, and the org's own credential
//! bounds it). Grants are computed once per card per load, never per call.
//!
//! A registry card whose load fails (its `describe()` runs past its deadline,
//! say, because it depends on the clock and behaved when it was published) is
//! marked broken in [`CardHealth`], by digest, until it is published again:
//! its steps then fail at once with that error instead of loading it again
//! (and waiting out its deadline) at every call. The marks outlive reloads
//! (each new set takes over the health of the set before it) and restarts
//! (the registry keeps them in the card's entry, `CardEntry::broken`).
//!
//! This module does not read flows and does not touch HTTP.

use crate::metrics as m;
use async_trait::async_trait;
use lanyard_core::grants::effective_grants;
use lanyard_core::{CardError, Grants};
use lanyard_flow::interp::{CardCall, CardResult, CardInvoker};
use lanyard_flow::model::{CardRef, CardVersion};
use lanyard_flow::{CardCatalog, CardSummary};
use lanyard_runtime::{CallRequest, Capabilities, Input, LoadError, LoadedCard, Runtime};
use lanyard_store::{CardEntry, SharedStore};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Where a card came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSource {
    Builtin,
    Registry,
}

/// One version of one card.
pub struct CardVersionEntry {
    pub name: String,
    pub version: String,
    semver: Option<semver::Version>,
    pub digest: String,
    pub source: CardSource,
    pub description: String,
    pub input_schema: Value,
    /// What the card answers (its `describe()`): the builder's field picker.
    pub output_schema: Value,
    /// Bytes of wasm.
    pub size: u64,
    /// What the card asks for.
    pub requested: Grants,
    /// What it gets: granted ∩ requested.
    pub grants: Arc<Grants>,
    /// Registry cards only: it asks for capabilities and no operator has
    /// decided yet. Resolution prefers other versions; a call is refused
    /// (see `crate::registry`).
    pub held: bool,
    loaded: OnceCell<Arc<LoadedCard>>,
    calls_ok: metrics::Counter,
    calls_err: metrics::Counter,
    seconds: metrics::Histogram,
    fuel: metrics::Counter,
}

impl std::fmt::Debug for CardVersionEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardVersionEntry")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Registry cards whose load failed, by digest, until they are published
/// again, and how much each card's bytes were used since the daemon started.
/// Cheap to clone; clones share the marks and the counts.
#[derive(Debug, Clone, Default)]
pub struct CardHealth {
    broken: Arc<Mutex<HashMap<String, Broken>>>,
    usage: Arc<Mutex<HashMap<String, Usage>>>,
}

/// A card's calls since the daemon started (its bytes, across reloads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub calls: u64,
    pub errors: u64,
    /// Wasm fuel burned by those calls.
    pub fuel: u64,
}

/// Why a card version is broken, for listings and for the steps that name it.
#[derive(Debug, Clone, Serialize)]
pub struct Broken {
    /// What its steps fail with: the load's error, and what to do.
    pub message: String,
    /// The load's error kind (`deadline` for a describe() that stalled).
    pub kind: lanyard_core::ErrorKind,
    pub since: chrono::DateTime<chrono::Utc>,
    #[serde(skip)]
    error: CardError,
}

impl CardHealth {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Broken>> {
        self.broken.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One call of the card with these bytes: failed or not, and its fuel.
    pub fn record(&self, digest: &str, ok: bool, fuel: u64) {
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let u = usage.entry(digest.to_string()).or_default();
        u.calls += 1;
        u.errors += u64::from(!ok);
        u.fuel = u.fuel.saturating_add(fuel);
    }

    /// The calls of the card with these bytes so far.
    pub fn usage(&self, digest: &str) -> Usage {
        self.usage.lock().unwrap_or_else(|p| p.into_inner()).get(digest).copied().unwrap_or_default()
    }

    /// Whether (and why) the card with these bytes is broken.
    pub fn broken(&self, digest: &str) -> Option<Broken> {
        self.map().get(digest).cloned()
    }

    fn mark(&self, digest: &str, error: CardError) -> Broken {
        let broken = Broken {
            message: error.message.clone(),
            kind: error.kind,
            since: chrono::Utc::now(),
            error,
        };
        self.map().insert(digest.to_string(), broken.clone());
        broken
    }

    /// A mark the store kept from before (a restart), unless there is one.
    fn keep(&self, digest: &str, mark: &lanyard_store::BrokenMark) {
        self.map().entry(digest.to_string()).or_insert_with(|| Broken {
            message: mark.message.clone(),
            kind: mark.kind,
            since: mark.since,
            error: CardError::new(mark.kind, mark.message.clone()),
        });
    }

    /// These bytes were published again (and `describe()` answered): their
    /// steps load them again.
    pub fn clear(&self, digest: &str) {
        if self.map().remove(digest).is_some() {
            tracing::info!(digest, "a broken card was published again; it loads at its next use");
        }
    }
}

/// What `GET /api/v1/cards` shows of a card version.
#[derive(Debug, Clone, Serialize)]
pub struct CardListing {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub source: CardSource,
    pub description: String,
    /// The palette group: Okta, Slack, Mail, HTTP, Tables or Custom.
    pub group: &'static str,
    /// The card's `describe()` JSON Schemas (the builder's forms and picker).
    pub input_schema: Value,
    pub output_schema: Value,
    pub requested: Grants,
    pub granted: Grants,
    /// Bytes of wasm.
    pub size: u64,
    /// The loaded flows whose steps resolve to this version.
    pub used_by: Vec<String>,
    /// Its calls since the daemon started.
    pub usage: Usage,
    pub loaded: bool,
    /// Waiting for an operator to decide on its grants (`crate::registry`).
    pub held: bool,
    /// Its load failed: its steps fail at once until it is published again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<Broken>,
}

/// Every card a flow can name. Immutable once built; a reload builds a new one.
#[derive(Default)]
pub struct CardSet {
    /// Versions of each card, newest first.
    by_name: BTreeMap<String, Vec<Arc<CardVersionEntry>>>,
    health: CardHealth,
    /// The configured Okta orgs, for flows' `org:` (validation asks the catalog).
    orgs: lanyard_flow::OktaOrgs,
}

impl std::fmt::Debug for CardSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSet").field("cards", &self.by_name.len()).finish()
    }
}

fn version_of(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text).ok()
}

impl CardSet {
    /// Build the set from loaded built-ins and the registry's entries.
    pub fn build(
        builtins: &[Arc<LoadedCard>],
        registry: Vec<CardEntry>,
        card_grants: &BTreeMap<String, Grants>,
    ) -> CardSet {
        let mut by_name: BTreeMap<String, Vec<Arc<CardVersionEntry>>> = BTreeMap::new();
        let health = CardHealth::default();
        for card in builtins {
            let info = card.info();
            let requested = info.requested_grants();
            let grants = effective_grants(&requested, card_grants.get(&info.name), None, info.name.starts_with("okta."));
            let entry = CardVersionEntry::new(
                &info.name,
                &info.version,
                card.digest(),
                CardSource::Builtin,
                info.description.clone(),
                info.input_schema.clone(),
                info.output_schema.clone(),
                card.size() as u64,
                requested,
                grants,
            );
            let _ = entry.loaded.set(card.clone());
            by_name.entry(info.name.clone()).or_default().push(Arc::new(entry));
        }
        for e in registry {
            let description = e.info.description.clone();
            let input_schema = e.info.input_schema.clone();
            let output_schema = e.info.output_schema.clone();
            let grants = effective_grants(&e.requested, card_grants.get(&e.name), e.granted.as_ref(), false);
            let versions = by_name.entry(e.name.clone()).or_default();
            // A registry version never shadows a built-in of the same version.
            if versions.iter().any(|v| v.version == e.version) {
                continue;
            }
            let mut entry = CardVersionEntry::new(
                &e.name,
                &e.version,
                &e.digest,
                CardSource::Registry,
                description,
                input_schema,
                output_schema,
                e.size,
                e.requested.clone(),
                grants,
            );
            entry.held = crate::registry::is_held(&e, card_grants.get(&e.name));
            if let Some(mark) = &e.broken {
                health.keep(&e.digest, mark);
            }
            versions.push(Arc::new(entry));
        }
        for versions in by_name.values_mut() {
            versions.sort_by(|a, b| b.semver.cmp(&a.semver));
        }
        CardSet {
            by_name,
            health,
            orgs: lanyard_flow::OktaOrgs::default(),
        }
    }

    /// The same set, sharing `health` (the set before it's), so cards marked
    /// broken stay broken across reloads; marks the store kept (from before a
    /// restart) join it.
    /// The same cards, validating flows against these Okta orgs.
    pub fn with_okta_orgs(mut self, orgs: lanyard_flow::OktaOrgs) -> CardSet {
        self.orgs = orgs;
        self
    }

    pub fn with_health(mut self, health: CardHealth) -> CardSet {
        let kept: Vec<(String, Broken)> = self.health.map().iter().map(|(d, b)| (d.clone(), b.clone())).collect();
        for (digest, broken) in kept {
            health.map().entry(digest).or_insert(broken);
        }
        self.health = health;
        self
    }

    /// Which cards are broken (shared with every set built from this one).
    pub fn health(&self) -> &CardHealth {
        &self.health
    }

    /// The version a reference names, if any. A version held for its grants
    /// is chosen only when no other version fits (registry rules: publishing a
    /// version that needs approval does not take flows off the one before it).
    pub fn resolve(&self, r: &CardRef) -> Option<&Arc<CardVersionEntry>> {
        let versions = self.by_name.get(&r.name)?;
        let pick = |held: bool| {
            let mut fits = versions.iter().filter(move |v| v.held == held);
            match &r.version {
                // Newest first; a version that is not semver sorts last.
                CardVersion::Latest => {
                    let all: Vec<_> = fits.collect();
                    all.iter()
                        .find(|v| v.semver.as_ref().is_some_and(|s| s.pre.is_empty()))
                        .or_else(|| all.first())
                        .copied()
                }
                CardVersion::Req(req) => fits.find(|v| v.semver.as_ref().is_some_and(|s| req.matches(s))),
                CardVersion::Digest(d) => fits.find(|v| v.digest == *d),
            }
        };
        pick(false).or_else(|| pick(true))
    }

    pub fn len(&self) -> usize {
        self.by_name.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every version, with the flows among `flows` that use it.
    pub fn listing<'a>(&self, flows: impl IntoIterator<Item = &'a Arc<lanyard_flow::model::Flow>>) -> Vec<CardListing> {
        let mut used: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
        for flow in flows {
            for step in flow.walk() {
                if let Some(c) = step.card_step()
                    && let Some(e) = self.resolve(&c.card)
                {
                    used.entry((e.name.clone(), e.version.clone())).or_default().insert(flow.name.clone());
                }
            }
        }
        self.by_name
            .values()
            .flatten()
            .map(|e| CardListing {
                name: e.name.clone(),
                version: e.version.clone(),
                digest: e.digest.clone(),
                source: e.source,
                description: e.description.clone(),
                group: lanyard_flow::outline::card_group(&e.name),
                input_schema: e.input_schema.clone(),
                output_schema: e.output_schema.clone(),
                requested: e.requested.clone(),
                granted: (*e.grants).clone(),
                size: e.size,
                used_by: used.remove(&(e.name.clone(), e.version.clone())).map(|s| s.into_iter().collect()).unwrap_or_default(),
                usage: self.health.usage(&e.digest),
                loaded: e.loaded.initialized(),
                held: e.held,
                broken: self.health.broken(&e.digest),
            })
            .collect()
    }
}

impl CardVersionEntry {
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: &str,
        version: &str,
        digest: &str,
        source: CardSource,
        description: String,
        input_schema: Value,
        output_schema: Value,
        size: u64,
        requested: Grants,
        grants: Grants,
    ) -> Self {
        let label = format!("{name}@{version}");
        CardVersionEntry {
            name: name.to_string(),
            version: version.to_string(),
            semver: version_of(version),
            digest: digest.to_string(),
            source,
            description,
            input_schema,
            output_schema,
            size,
            requested,
            grants: Arc::new(grants),
            held: false,
            loaded: OnceCell::new(),
            calls_ok: metrics::counter!(m::CARD_CALLS, "card" => label.clone(), "outcome" => "ok"),
            calls_err: metrics::counter!(m::CARD_CALLS, "card" => label.clone(), "outcome" => "error"),
            seconds: metrics::histogram!(m::CARD_SECONDS, "card" => label.clone()),
            fuel: metrics::counter!(m::CARD_FUEL, "card" => label),
        }
    }

    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The loaded card: built-ins are loaded already, registry cards on first
    /// use. Concurrent first uses share one load. A load that fails for what
    /// the card does (its `describe()` ran past its deadline or failed) marks
    /// it broken in `health`; later calls, and calls that waited on the same
    /// load, fail at once with that error.
    async fn load(&self, runtime: &Runtime, store: &SharedStore, health: &CardHealth) -> Result<Arc<LoadedCard>, CardError> {
        if let Some(card) = self.loaded.get() {
            return Ok(card.clone());
        }
        if let Some(b) = health.broken(&self.digest) {
            return Err(b.error);
        }
        self.loaded
            .get_or_try_init(|| async {
                // Waited on a load that failed: do not wait out another.
                if let Some(b) = health.broken(&self.digest) {
                    return Err(b.error);
                }
                let label = self.label();
                let wasm = store
                    .card_wasm(&self.digest)
                    .await
                    .map_err(|e| CardError::internal(format!("card {label}: cannot read it from the registry: {e}")))?
                    .ok_or_else(|| CardError::not_found(format!("card {label}: its wasm is missing from the registry")))?;
                let rt = runtime.clone();
                let loaded = tokio::task::spawn_blocking(move || rt.load(&wasm))
                    .await
                    .map_err(|e| CardError::internal(format!("card {label}: loading failed: {e}")))?;
                loaded.map_err(|e| {
                    let error = load_failure(&label, e);
                    if !error.retryable {
                        tracing::warn!(card = %label, kind = %error.kind, error = ?error.message, "a published card does not load; it is marked broken until it is published again");
                        let broken = health.mark(&self.digest, error.clone());
                        // Kept in the registry too, so a restart does not
                        // wait out the same stalled load again.
                        let (store, name, version) = (store.clone(), self.name.clone(), self.version.clone());
                        let mark = lanyard_store::BrokenMark { message: broken.message, kind: broken.kind, since: broken.since };
                        tokio::spawn(async move {
                            if let Err(e) = store.set_broken(&name, &version, Some(mark)).await {
                                tracing::warn!(card = %name, %version, error = %e, "cannot keep the card's broken mark in the registry; it holds until a restart");
                            }
                        });
                    }
                    error
                })
            })
            .await
            .cloned()
    }
}

/// A registry card that does not load, as its steps see it: the load's kind
/// (`deadline` when its `describe()` stalled), one line saying what to do, and
/// the card's stderr and backtrace as the detail.
fn load_failure(label: &str, e: LoadError) -> CardError {
    match e {
        // Not the card's doing (no free instance slot): the next call tries again.
        LoadError::Describe(e) if e.retryable => CardError {
            message: format!("card {label} cannot be loaded now: {}", e.message),
            ..e
        },
        LoadError::Describe(e) => {
            let message = format!(
                "card {label} is broken: its describe() failed when it was loaded ({}); its steps fail until it is published again",
                e.message
            );
            CardError { message, ..e }
        }
        other => CardError::internal(format!(
            "card {label} is broken: it does not load ({other}); its steps fail until it is published again"
        )),
    }
}

impl CardCatalog for CardSet {
    fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
        self.resolve(card).map(|e| {
            CardSummary::new(&e.name)
                .with_version(&e.version)
                .with_input_schema(e.input_schema.clone())
                .with_okta(!e.requested.okta.is_empty() || !e.requested.okta_api.is_empty())
        })
    }

    fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    fn okta_orgs(&self) -> lanyard_flow::OktaOrgs {
        self.orgs.clone()
    }
}

/// Load every built-in card, in parallel, through the runtime's cache.
/// A built-in that fails to load is a broken build: it is reported and left out.
pub fn load_builtins(runtime: &Runtime) -> (Vec<Arc<LoadedCard>>, Vec<String>) {
    let cards = lanyard_cards::builtin();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(cards.len()));
    std::thread::scope(|s| {
        for _ in 0..threads.min(cards.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(card) = cards.get(i) else { break };
                let r = runtime.load(card.wasm).map_err(|e| format!("built-in card {}: {e}", card.name));
                results.lock().unwrap_or_else(|p| p.into_inner()).push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for (_, r) in results {
        match r {
            Ok(c) => loaded.push(c),
            Err(e) => errors.push(e),
        }
    }
    (loaded, errors)
}

/// Runs cards for the interpreter: resolves the reference, applies the step's
/// limits, links the capabilities and calls the runtime.
pub struct Invoker {
    pub cards: Arc<CardSet>,
    pub runtime: Runtime,
    /// Every capability but Okta's, which is per org: `okta`.
    pub caps: Capabilities,
    /// The Okta capability of each org; a call gets its step's org's.
    pub okta: crate::orgs::OktaByOrg,
    pub store: SharedStore,
}

impl Invoker {
    pub async fn call(&self, call: CardCall) -> CardResult {
        let Some(entry) = self.cards.resolve(&call.card) else {
            let what = match &call.card.version {
                CardVersion::Latest => format!("card `{}` is not loaded", call.card.name),
                _ => format!("no loaded version of card `{}` matches `{}`", call.card.name, call.card),
            };
            return CardResult::err(&call.card.to_string(), CardError::not_found(what));
        };
        if entry.held {
            return CardResult::err(&entry.label(), crate::registry::held_error(entry));
        }
        let card = match entry.load(&self.runtime, &self.store, self.cards.health()).await {
            Ok(c) => c,
            Err(e) => return CardResult::err(&entry.label(), e),
        };
        let limits = call.limits;
        let mut caps = self.caps.clone();
        caps.okta = self.okta.for_step(call.org.as_deref());
        let request = CallRequest {
            ctx: call.ctx,
            input: Input::Json(call.input),
            grants: entry.grants.clone(),
            caps,
            limits,
        };
        let outcome = self.runtime.call(&card, request).await;
        match &outcome.result {
            Ok(_) => entry.calls_ok.increment(1),
            Err(_) => entry.calls_err.increment(1),
        }
        self.cards.health().record(&entry.digest, outcome.result.is_ok(), outcome.fuel_used);
        entry.seconds.record(outcome.duration.as_secs_f64());
        entry.fuel.increment(outcome.fuel_used);
        let mut logs = outcome.logs;
        for denied in outcome.denied {
            logs.push(lanyard_core::history::LogLine {
                level: "warn".into(),
                message: format!("denied: {denied}"),
                fields: Some(serde_json::json!({ "engine": "grants" })),
            });
        }
        CardResult {
            card: card.label().to_string(),
            result: outcome.result,
            fuel_used: outcome.fuel_used,
            logs,
            effects: outcome.effects,
        }
    }
}

#[async_trait]
impl CardInvoker for Invoker {
    async fn invoke(&self, call: CardCall) -> CardResult {
        self.call(call).await
    }
}
