//! The card registry's rules: what may be published, what an operator may
//! grant, and what may be removed. Storage is the store's [`CardStore`];
//! resolution of references and the per-run card snapshot are [`CardSet`]'s.
//!
//! # Publishing
//!
//! Everything is checked before anything is written to the registry:
//!
//! 1. size (at most [`RegistryOptions::max_card_bytes`], 64 MiB by default);
//! 2. the WebAssembly layer: a core module is refused with how to build a component;
//! 3. the world, read from the component's import and export names before any
//!    compiling: it must export `describe` and `run` and import only
//!    `lanyard:card/*@0.1.x` and `wasi:*` (another version is refused with both
//!    versions named);
//! 4. [`Runtime::load`]: compile (into the compiled-card cache, which is what
//!    "precompiled" means: the daemon then loads it without compiling),
//!    pre-instantiate, and `describe()` with every import denied; a trap is
//!    refused with the card's panic message and location;
//! 5. what `describe()` says: a name flows can reference, outside the built-in
//!    namespaces ([`RESERVED_NAMESPACES`]); a semver version without build
//!    metadata; a description; input and output schemas that are valid JSON
//!    Schemas and compile; grants with sane values. Every problem is reported
//!    at once;
//! 6. versions are immutable: `name@version` already published with other bytes
//!    is refused; the same bytes again change nothing.
//!
//! Only then are the wasm (once per digest) and its entry stored and synced. A
//! refused card's compiled code is taken out of the cache again unless another
//! card (a built-in, a registry entry) has the same bytes.
//!
//! # Grants
//!
//! A published version that asks for capabilities is *held* until an operator
//! decides: `lanyard card grant` (stored per version) or `[cards."name"] grants`
//! in `lanyard.toml` (every version of that name). Granted ⊆ requested: an
//! operator can narrow what a card asks for, never widen it; `connection:*` (or
//! `table:*`) asked for lets the operator name concrete connections (tables).
//! [`CardSet`] resolves references to versions that are not held when it can, so
//! publishing a new version does not break flows running on the one before it
//! until its grants are approved; a step that can only resolve to a held
//! version fails with `denied` naming the command that approves it.
//!
//! # Removing
//!
//! A version is refused removal while a loaded flow's card step resolves to it
//! (by name, semver requirement or digest); the error names the flows.
//!
//! This module knows nothing of HTTP (`registry_api` does) and does not swap the
//! engine's card set: its callers reload the engine after a change.

use crate::card_set::{CardSet, CardSource};
use crate::config::Config;
use lanyard_core::okta::OktaScope;
use lanyard_core::grants::effective_grants;
use lanyard_core::{Grant, Grants};
use lanyard_flow::model::{CardRef, CardVersion, Flow};
use lanyard_flow::{CardCatalog, CardSummary, SourceFile};
use lanyard_runtime::{InspectError, Inspection, LoadError, LoadedCard, Runtime, RuntimeConfig};
use lanyard_store::{CardEntry, CardSelector, SharedStore, StoreError};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest card the registry takes unless configured otherwise (and the
/// most the store keeps). A Python card is about 19 MiB, a JavaScript one 13.
pub const DEFAULT_MAX_CARD_BYTES: usize = 64 << 20;

/// Name prefixes of lanyard's built-in cards: nobody publishes over them.
pub const RESERVED_NAMESPACES: [&str; 6] = ["okta", "slack", "mail", "http", "tables", "lanyard"];

/// The `lanyard:card` versions this host runs (any `0.1.x`).
const WORLD_MAJOR_MINOR: &str = "0.1";

const MAX_DESCRIPTION: usize = 2000;

/// How the registry is set up.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// The largest `.wasm` accepted, in bytes.
    pub max_card_bytes: usize,
    /// `[cards."name"] grants` from lanyard.toml, for the grant state of views.
    pub configured_grants: BTreeMap<String, Grants>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            max_card_bytes: DEFAULT_MAX_CARD_BYTES,
            configured_grants: BTreeMap::new(),
        }
    }
}

impl RegistryOptions {
    /// The options `config` sets.
    pub fn from_config(config: &Config) -> Self {
        RegistryOptions {
            max_card_bytes: config.server.max_card_bytes,
            configured_grants: config.card_grants.clone(),
        }
    }
}

/// The card registry over a store and the card runtime. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    store: SharedStore,
    runtime: Runtime,
    options: RegistryOptions,
}

/// The runtime settings the daemon uses for `config`. Cards compiled with
/// them (by `lanyard card publish` without a daemon, say) are read from the
/// cache by the daemon instead of compiled again.
pub fn runtime_config(config: &Config) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: Some(config.server.cache_dir.clone()),
        default_limits: config.limits,
        max_instances: config.max_instances,
        max_memory_bytes: config.limits.memory_bytes.max(RuntimeConfig::default().max_memory_bytes),
        ..RuntimeConfig::default()
    }
}

/// A card that could not be published. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the card is {size} bytes; the registry takes cards of at most {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("not a WebAssembly file (it does not start with `\\0asm`)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component: build the card as a component of the world \
         `lanyard:card/card` (Rust: `cargo build --target wasm32-wasip2`; Python: `componentize-py`; \
         JavaScript: `jco componentize`; or wrap a module with `wasm-tools component new`)"
    )]
    CoreModule,
    #[error("not a lanyard card: {0}")]
    WrongWorld(String),
    #[error(
        "the card was built against lanyard:card@{found}; this lanyard runs cards built against \
         lanyard:card@{WORLD_MAJOR_MINOR}.x (rebuild it against this lanyard's wit/card.wit)"
    )]
    IncompatibleVersion { found: String },
    #[error("not a valid component: {0}")]
    Invalid(String),
    #[error("the card's describe() failed: {message}")]
    DescribeFailed {
        message: String,
        /// The card's stderr and backtrace, when it trapped.
        detail: Option<String>,
    },
    #[error("the card's describe() returned metadata that cannot be right:{}", bullets(.problems))]
    BadDescribe { problems: Vec<String> },
    #[error(
        "`{name}` is in `{namespace}.`, the namespace of lanyard's built-in cards; publish it under your \
         own, for example `acme.{rest}`"
    )]
    Reserved { name: String, namespace: String, rest: String },
    #[error("the request is for card `{expected}`, but the card says it is `{found}`")]
    NameMismatch { expected: String, found: String },
    #[error(
        "{name}@{version} is already published with sha256 {existing}; published versions never change: \
         give this build a new version"
    )]
    VersionExists { name: String, version: String, existing: String },
    #[error("the card registry: {0}")]
    Store(StoreError),
}

impl PublishError {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            PublishError::TooLarge { .. } => "too_large",
            PublishError::NotWasm => "not_wasm",
            PublishError::CoreModule => "core_module",
            PublishError::WrongWorld(_) => "wrong_world",
            PublishError::IncompatibleVersion { .. } => "incompatible_version",
            PublishError::Invalid(_) => "invalid_component",
            PublishError::DescribeFailed { .. } => "describe_failed",
            PublishError::BadDescribe { .. } => "bad_describe",
            PublishError::Reserved { .. } => "reserved_name",
            PublishError::NameMismatch { .. } => "name_mismatch",
            PublishError::VersionExists { .. } => "version_exists",
            PublishError::Store(_) => "store",
        }
    }
}

/// A grant, removal or lookup that was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("cannot grant {card} what it does not ask for:{}\n(it asks for: {requested})", bullets(.problems))]
    GrantRefused { card: String, problems: Vec<String>, requested: String },
    #[error(
        "{card} is used by {}: {}; change {} (or pin another version) first",
        if .flows.len() == 1 { "a loaded flow" } else { "loaded flows" },
        .flows.join(", "),
        if .flows.len() == 1 { "it" } else { "them" },
    )]
    InUse { card: String, flows: Vec<String> },
    #[error("the card registry: {0}")]
    Store(StoreError),
}

impl RegistryError {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::NotFound(_) => "not_found",
            RegistryError::BadRequest(_) => "bad_request",
            RegistryError::GrantRefused { .. } => "grant_refused",
            RegistryError::InUse { .. } => "in_use",
            RegistryError::Store(_) => "store",
        }
    }
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => RegistryError::NotFound(format!("{m} not found")),
            StoreError::Invalid(m) => RegistryError::BadRequest(m),
            other => RegistryError::Store(other),
        }
    }
}

fn bullets(items: &[String]) -> String {
    items.iter().map(|p| format!("\n  - {p}")).collect()
}

// The views are the admin API's wire types: the CLI prints them and the API
// answers with them.
pub use lanyard_core::admin_api::{CardView, GrantState, Published};

/// How [`Registry::grant`] combines the new grants with what was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrantMode {
    /// Add to what the version was granted.
    #[default]
    Add,
    /// Grant exactly these (none: decide that it gets nothing).
    Replace,
}

fn strings(g: &Grants) -> Vec<String> {
    g.list().iter().map(Grant::to_string).collect()
}

/// Whether a version is held: it asks for something and no operator has
/// decided (neither `lanyard card grant` nor `[cards."name"]`).
pub fn is_held(entry: &CardEntry, configured: Option<&Grants>) -> bool {
    entry.requested != Grants::none() && entry.granted.is_none() && configured.is_none()
}

/// Why a call of a held version is refused: what it asks for and the command
/// that approves it. Kind `denied`, not retryable (an operator must act).
pub fn held_error(entry: &crate::card_set::CardVersionEntry) -> lanyard_core::CardError {
    let asked = strings(&entry.requested).join(", ");
    let approve = approve_command(&entry.name, &entry.version, &entry.requested.missing_from(&Grants::none()))
        .unwrap_or_default();
    lanyard_core::CardError::denied(format!(
        "card {}@{} is held until an operator decides on the grants it asks for ({asked}); approve them with `{approve}` \
         (or [cards.\"{}\"] grants in lanyard.toml)",
        entry.name, entry.version, entry.name
    ))
}

/// `lanyard card grant name@version ...` for what `missing` lists, with
/// `<name>` for a `*` the operator replaces with a concrete connection or table.
pub fn approve_command(name: &str, version: &str, missing: &[Grant]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let args: Vec<String> = missing
        .iter()
        .map(|g| match g {
            Grant::Connection(c) if c == "*" => "connection:<name>".to_string(),
            Grant::Table(t) if t == "*" => "table:<name>".to_string(),
            other => other.to_string(),
        })
        .collect();
    Some(format!("lanyard card grant {name}@{version} {}", args.join(" ")))
}

/// The view of one entry, given what lanyard.toml grants its name.
pub fn card_view(entry: &CardEntry, configured: Option<&Grants>, used_by: Option<Vec<String>>) -> CardView {
    let info = &entry.info;
    let effective = effective_grants(&entry.requested, configured, entry.granted.as_ref(), false);
    let missing = entry.requested.missing_from(&effective);
    let state = if entry.requested == Grants::none() {
        GrantState::NoneNeeded
    } else if is_held(entry, configured) {
        GrantState::Pending
    } else if missing.is_empty() {
        GrantState::Granted
    } else {
        GrantState::Partial
    };
    CardView {
        name: entry.name.clone(),
        version: entry.version.clone(),
        digest: entry.digest.clone(),
        size: entry.size,
        published_at: entry.published_at,
        description: info.description.clone(),
        world: info.world.clone(),
        input_schema: info.input_schema.clone(),
        output_schema: info.output_schema.clone(),
        requested: strings(&entry.requested),
        granted: entry.granted.as_ref().map(strings),
        configured: configured.map(strings),
        effective: strings(&effective),
        state,
        approve: approve_command(&entry.name, &entry.version, &missing),
        missing: missing.iter().map(Grant::to_string).collect(),
        used_by,
        // What the registry kept; a running daemon's view adds what it found
        // since (see `registry_api`).
        broken: entry.broken.as_ref().map(|b| b.message.clone()),
    }
}

/// How an operator names a version: nothing or `latest` (the newest release),
/// `sha256:<hex>`, an exact version (`1.2.0`), or a semver requirement (`1.2`,
/// `^1`) for the newest version that matches.
pub fn parse_selector(text: Option<&str>) -> Result<CardSelector, RegistryError> {
    let Some(text) = text.map(str::trim) else { return Ok(CardSelector::Latest) };
    if text.is_empty() || text == "latest" {
        return Ok(CardSelector::Latest);
    }
    if let Some(hex) = text.strip_prefix("sha256:") {
        let hex = hex.to_ascii_lowercase();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RegistryError::BadRequest(format!("`{text}` is not a sha256 digest (64 hex digits)")));
        }
        return Ok(CardSelector::Digest(hex));
    }
    if semver::Version::parse(text).is_ok() {
        return Ok(CardSelector::Version(text.to_string()));
    }
    semver::VersionReq::parse(text)
        .map_err(|e| RegistryError::BadRequest(format!("`{text}` is not a version, a version requirement or sha256:<digest>: {e}")))?;
    Ok(CardSelector::Req(text.to_string()))
}

/// `name`, `name@selector`.
pub fn split_reference(text: &str) -> (&str, Option<&str>) {
    match text.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (text, None),
    }
}

fn selector_text(s: &CardSelector) -> String {
    match s {
        CardSelector::Latest => "latest".to_string(),
        CardSelector::Version(v) => v.clone(),
        CardSelector::Req(r) => r.clone(),
        CardSelector::Digest(d) => format!("sha256:{d}"),
    }
}

impl Registry {
    pub fn new(store: SharedStore, runtime: Runtime, options: RegistryOptions) -> Self {
        Registry { store, runtime, options }
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// The view of an entry, with what lanyard.toml grants its name.
    pub fn view(&self, entry: &CardEntry, used_by: Option<Vec<String>>) -> CardView {
        card_view(entry, self.options.configured_grants.get(&entry.name), used_by)
    }

    /// Validate a card and, if it passes everything, store it (see the module
    /// docs for the checks, in order). `expected_name`: the name the caller
    /// publishes under (the API's path), which the card must say it has.
    pub async fn publish(&self, wasm: Vec<u8>, expected_name: Option<&str>) -> Result<Published, PublishError> {
        if wasm.len() > self.options.max_card_bytes {
            return Err(PublishError::TooLarge {
                size: wasm.len(),
                max: self.options.max_card_bytes,
            });
        }
        let world = check_world(&wasm)?;
        let digest = hex::encode(Sha256::digest(&wasm));
        let cached_before = self.compiled_files(&digest).next().is_some();

        let started = Instant::now();
        let runtime = self.runtime.clone();
        let (loaded, wasm) = tokio::task::spawn_blocking(move || {
            let r = runtime.load(&wasm);
            (r, wasm)
        })
        .await
        .map_err(|e| PublishError::Invalid(format!("loading the card failed: {e}")))?;
        let load_ms = started.elapsed().as_millis() as u64;
        let card = match loaded {
            Ok(c) => c,
            Err(e) => {
                self.forget_compiled(&digest).await;
                return Err(load_error(e));
            }
        };
        if let Err(e) = self.check_card(&card, expected_name) {
            drop(card);
            self.forget_compiled(&digest).await;
            return Err(e);
        }
        let info = card.info();
        tracing::info!(card = %card.label(), digest = %digest, ms = load_ms, "card validated");

        if let Some(existing) = self
            .store
            .get_card(&info.name, &CardSelector::Version(info.version.clone()))
            .await
            .map_err(PublishError::Store)?
        {
            if existing.digest != digest {
                let e = PublishError::VersionExists {
                    name: info.name.clone(),
                    version: info.version.clone(),
                    existing: existing.digest,
                };
                drop(card);
                self.forget_compiled(&digest).await;
                return Err(e);
            }
            // The same bytes again, and describe() answered this time: a mark
            // left by a load that failed goes.
            let existing = if existing.broken.is_some() {
                self.store
                    .set_broken(&existing.name, &existing.version, None)
                    .await
                    .map_err(PublishError::Store)?
            } else {
                existing
            };
            return Ok(Published {
                card: self.view(&existing, None),
                new: false,
                imports: world.imports,
                load_ms,
                compiled_before: cached_before,
            });
        }

        let entry = CardEntry {
            name: info.name.clone(),
            version: info.version.clone(),
            digest: digest.clone(),
            size: wasm.len() as u64,
            // With the world and imports the runtime found.
            info: info.clone(),
            requested: info.requested_grants(),
            granted: None,
            published_at: chrono::Utc::now(),
            broken: None,
        };
        match self.store.put_card(&entry, &wasm).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                // Someone published this name and version meanwhile.
                let existing = self
                    .store
                    .get_card(&entry.name, &CardSelector::Version(entry.version.clone()))
                    .await
                    .map_err(PublishError::Store)?;
                return match existing {
                    Some(e) if e.digest == digest => Ok(Published {
                        card: self.view(&e, None),
                        new: false,
                        imports: world.imports,
                        load_ms,
                        compiled_before: cached_before,
                    }),
                    Some(e) => {
                        drop(card);
                        self.forget_compiled(&digest).await;
                        Err(PublishError::VersionExists {
                            name: entry.name,
                            version: entry.version,
                            existing: e.digest,
                        })
                    }
                    None => Err(PublishError::Store(StoreError::Conflict(format!(
                        "card {}@{} changed while it was being published; try again",
                        entry.name, entry.version
                    )))),
                };
            }
            Err(e) => return Err(PublishError::Store(e)),
        }
        self.store.sync().await.map_err(PublishError::Store)?;
        tracing::info!(card = %card.label(), digest = %digest, size = entry.size, pending = entry.requested != Grants::none(), "card published");
        Ok(Published {
            card: self.view(&entry, None),
            new: true,
            imports: world.imports,
            load_ms,
            compiled_before: cached_before,
        })
    }

    /// What `describe()` says, beyond the runtime's shape checks.
    fn check_card(&self, card: &LoadedCard, expected_name: Option<&str>) -> Result<(), PublishError> {
        let info = card.info();
        let problems = describe_problems(info);
        if !problems.is_empty() {
            return Err(PublishError::BadDescribe { problems });
        }
        let (first, rest) = info.name.split_once('.').unwrap_or((info.name.as_str(), ""));
        if RESERVED_NAMESPACES.contains(&first) {
            return Err(PublishError::Reserved {
                name: info.name.clone(),
                namespace: first.to_string(),
                rest: rest.to_string(),
            });
        }
        if let Some(expected) = expected_name {
            if expected != info.name {
                return Err(PublishError::NameMismatch {
                    expected: expected.to_string(),
                    found: info.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Every published version, by name then version.
    pub async fn list(&self) -> Result<Vec<CardEntry>, RegistryError> {
        Ok(self.store.list_cards().await?)
    }

    /// The published versions of one card, oldest first.
    pub async fn versions(&self, name: &str) -> Result<Vec<CardEntry>, RegistryError> {
        Ok(self.store.list_cards().await?.into_iter().filter(|e| e.name == name).collect())
    }

    /// The version a selector names, or a not-found error that lists the
    /// published versions.
    pub async fn find(&self, name: &str, selector: &CardSelector) -> Result<CardEntry, RegistryError> {
        if let Some(e) = self.store.get_card(name, selector).await? {
            return Ok(e);
        }
        let versions = self.versions(name).await?;
        Err(RegistryError::NotFound(if versions.is_empty() {
            format!("no card `{name}` is published")
        } else {
            let list: Vec<&str> = versions.iter().map(|e| e.version.as_str()).collect();
            format!("no published version of `{name}` matches `{}` (published: {})", selector_text(selector), list.join(", "))
        }))
    }

    /// Grant a version some of what it asks for. Every grant must be within
    /// what it asks for, and every named connection must exist when
    /// `connections` is given (the daemon's or the config's).
    pub async fn grant(
        &self,
        name: &str,
        selector: &CardSelector,
        grants: &[Grant],
        mode: GrantMode,
        connections: Option<&lanyard_connect::Connections>,
    ) -> Result<CardEntry, RegistryError> {
        let entry = self.find(name, selector).await?;
        let label = format!("{}@{}", entry.name, entry.version);
        let mut problems = Vec::new();
        for g in grants {
            match Grants::from_list([g]) {
                Ok(single) => {
                    if single.intersect(&entry.requested) != single {
                        problems.push(match g {
                            Grant::Connection(c) if c == "*" => format!(
                                "`{g}`: it asks for {}; name the connections it may use",
                                describe_list(&entry.requested.connections, "connection")
                            ),
                            _ => format!("`{g}`: it does not ask for this"),
                        });
                    }
                }
                Err(e) => problems.push(format!("`{g}`: {e}")),
            }
            if let (Grant::Connection(c), Some(conns)) = (g, connections) {
                if c != "*" && !conns.contains(c) {
                    problems.push(format!("`{g}`: no connection `{c}` is configured (add [connections.{c}] to lanyard.toml)"));
                }
            }
        }
        if !problems.is_empty() {
            let requested = strings(&entry.requested);
            return Err(RegistryError::GrantRefused {
                card: label,
                problems,
                requested: if requested.is_empty() { "nothing".to_string() } else { requested.join(", ") },
            });
        }
        let given = Grants::from_list(grants).map_err(RegistryError::BadRequest)?;
        let granted = match (mode, &entry.granted) {
            (GrantMode::Add, Some(before)) => before.union(&given),
            _ => given,
        };
        let updated = self.store.set_grants(&entry.name, &entry.version, Some(granted)).await?;
        self.store.sync().await?;
        tracing::info!(card = %label, granted = ?strings(updated.granted.as_ref().unwrap_or(&Grants::none())), "grants decided");
        Ok(updated)
    }

    /// Remove one version unless `used_by` (the loaded flows that resolve to
    /// it, from [`flows_using`]) names any flow.
    pub async fn remove(&self, entry: &CardEntry, used_by: Vec<String>) -> Result<CardEntry, RegistryError> {
        let label = format!("{}@{}", entry.name, entry.version);
        if !used_by.is_empty() {
            return Err(RegistryError::InUse { card: label, flows: used_by });
        }
        let removed = self
            .store
            .remove_card(&entry.name, &entry.version)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("card {label} is not published")))?;
        self.store.sync().await?;
        self.forget_compiled(&removed.digest).await;
        tracing::info!(card = %label, digest = %removed.digest, "card removed");
        Ok(removed)
    }

    /// The compiled-card cache files of a digest (the runtime names them
    /// `<sha256>-<engine hash>.cwasm`).
    fn compiled_files(&self, digest: &str) -> impl Iterator<Item = PathBuf> {
        let prefix = format!("{digest}-");
        let dir = self.runtime.config().cache_dir.clone();
        dir.and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(move |p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".cwasm"))
            })
    }

    /// Take a digest's compiled code out of the cache, unless a built-in card or
    /// a registry entry has those bytes.
    async fn forget_compiled(&self, digest: &str) {
        if self.compiled_files(digest).next().is_none() {
            return;
        }
        let used = match self.store.list_cards().await {
            Ok(entries) => entries.iter().any(|e| e.digest == digest),
            Err(_) => true,
        };
        if used || lanyard_cards::builtin().iter().any(|c| hex::encode(Sha256::digest(c.wasm)) == digest) {
            return;
        }
        for path in self.compiled_files(digest).collect::<Vec<_>>() {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a refused card's compiled code");
            }
        }
    }
}

fn describe_list(set: &BTreeSet<String>, kind: &str) -> String {
    if set.is_empty() {
        format!("no {kind}")
    } else {
        set.iter().map(|s| format!("`{kind}:{s}`")).collect::<Vec<_>>().join(", ")
    }
}

fn load_error(e: LoadError) -> PublishError {
    match e {
        LoadError::NotWasm => PublishError::NotWasm,
        LoadError::CoreModule => PublishError::CoreModule,
        LoadError::NotACard(m) => PublishError::WrongWorld(m),
        LoadError::IncompatibleVersion { found, .. } => PublishError::IncompatibleVersion { found },
        LoadError::Invalid(m) => PublishError::Invalid(m),
        LoadError::Link(m) => PublishError::WrongWorld(format!("its imports cannot be satisfied: {m}")),
        LoadError::Describe(e) => PublishError::DescribeFailed {
            message: format!("{} ({})", e.message, e.kind),
            detail: e.detail,
        },
        LoadError::BadDescribe(m) => PublishError::BadDescribe { problems: vec![m] },
    }
}

/// The layer and the world of a `.wasm` file, as the runtime inspects it
/// without compiling: a wrong file is refused in milliseconds.
fn check_world(wasm: &[u8]) -> Result<Inspection, PublishError> {
    lanyard_runtime::inspect(wasm).map_err(|e| match e {
        InspectError::NotWasm => PublishError::NotWasm,
        InspectError::CoreModule => PublishError::CoreModule,
        InspectError::Invalid(m) => PublishError::Invalid(m),
        InspectError::IncompatibleVersion { found } => PublishError::IncompatibleVersion { found },
        InspectError::WrongWorld(m) => PublishError::WrongWorld(m),
    })
}

/// Every way `describe()`'s answer cannot be right (beyond the runtime's checks).
pub fn describe_problems(info: &lanyard_runtime::CardInfo) -> Vec<String> {
    let mut problems = Vec::new();
    let name_ok = info.name.len() <= 128
        && CardRef::parse(&info.name).is_ok_and(|r| r.name == info.name && r.version == CardVersion::Latest);
    if !name_ok {
        problems.push(format!(
            "name `{}` is not a card name flows can use: two or more dot-separated parts of lowercase letters, \
             digits, `-` and `_`, for example `acme.jamf-offboard`",
            info.name.escape_debug()
        ));
    }
    match semver::Version::parse(&info.version) {
        Ok(v) if !v.build.is_empty() => problems.push(format!(
            "version `{}` has build metadata (`+{}`), which version order ignores; use a new version or a pre-release",
            info.version, v.build
        )),
        Ok(_) if info.version.len() > 64 => problems.push("the version is longer than 64 bytes".to_string()),
        Ok(_) => {}
        Err(e) => problems.push(format!(
            "version `{}` is not a semantic version such as `1.2.0`: {e}",
            info.version.escape_debug()
        )),
    }
    if info.description.trim().is_empty() {
        problems.push("the description is empty; say in a sentence or two what the card does".to_string());
    } else if info.description.chars().count() > MAX_DESCRIPTION {
        problems.push(format!("the description is longer than {MAX_DESCRIPTION} characters"));
    }
    for (what, schema) in [("input schema", &info.input_schema), ("output schema", &info.output_schema)] {
        if let Some(p) = schema_problem(schema) {
            problems.push(format!("the {what} {p}"));
        }
    }
    for g in &info.grants {
        if let Some(p) = grant_problem(g) {
            problems.push(format!("grant `{g}`: {p}"));
        }
    }
    problems
}

fn schema_problem(schema: &Value) -> Option<String> {
    if let Err(e) = jsonschema::meta::validate(schema) {
        let at = e.instance_path().to_string();
        let place = if at.is_empty() { String::new() } else { format!(" at `{at}`") };
        return Some(format!("is not a valid JSON Schema{place}: {e}"));
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        return Some(format!("does not compile as a JSON Schema: {e}"));
    }
    None
}

fn grant_problem(g: &Grant) -> Option<String> {
    let name_ok = |s: &str| !s.is_empty() && s.len() <= 128 && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    match g {
        Grant::Okta(s) if OktaScope::parse(s).is_none() => Some("unknown Okta scope".to_string()),
        Grant::Connection(c) if !name_ok(c) => {
            Some("names no connection (use `*` for whichever connection the flow names)".to_string())
        }
        Grant::Table(t) if !name_ok(t) => Some("names no table (use `*` for whichever table the flow names)".to_string()),
        Grant::HttpHost(h) => {
            let host = h.strip_prefix("*.").unwrap_or(h);
            let ok = !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            (!ok).then(|| "is not a host name (or `*.` and a domain), without scheme, port or path".to_string())
        }
        _ => None,
    }
}

// -- which flows use a version -------------------------------------------------

/// The flows whose card steps resolve, against `cards`, to `name@version`.
pub fn flows_using<'a>(flows: impl IntoIterator<Item = &'a Arc<Flow>>, cards: &CardSet, name: &str, version: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for flow in flows {
        for step in flow.walk() {
            if let Some(c) = step.card_step() {
                if c.card.name == name
                    && cards.resolve(&c.card).is_some_and(|e| e.version == version && e.source == CardSource::Registry)
                {
                    out.insert(flow.name.clone());
                }
            }
        }
    }
    out.into_iter().collect()
}

/// What a flows directory's flows are, for [`flows_using`] without a daemon:
/// every flow that compiles, with cards it does not know taken on trust (the
/// built-ins are not loaded for this), and the card set of the registry.
pub fn flows_on_disk(dir: &Path, cards: &CardSet) -> Result<Vec<Arc<Flow>>, String> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let files: Vec<SourceFile> = crate::flows::read_flow_files(dir)?;
    struct Lenient<'a>(&'a CardSet);
    impl CardCatalog for Lenient<'_> {
        fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
            self.0.lookup(card).or_else(|| Some(CardSummary::new(&card.name)))
        }
        fn names(&self) -> Vec<String> {
            self.0.names()
        }
        fn okta_orgs(&self) -> lanyard_flow::OktaOrgs {
            self.0.okta_orgs()
        }
    }
    Ok(lanyard_flow::validate(&files, &Lenient(cards)).flows)
}

/// The registry's card set for `config` (no built-ins), for resolving
/// references without a daemon.
pub fn registry_card_set(entries: Vec<CardEntry>, config: &Config) -> CardSet {
    CardSet::build(&[], entries, &config.card_grants).with_okta_orgs(config.okta_orgs())
}

/// How long ago, for listings.
pub fn age(at: chrono::DateTime<chrono::Utc>) -> String {
    let d = (chrono::Utc::now() - at).to_std().unwrap_or(Duration::ZERO).as_secs();
    match d {
        0..=59 => format!("{d}s ago"),
        60..=3599 => format!("{}m ago", d / 60),
        3600..=86_399 => format!("{}h ago", d / 3600),
        _ => format!("{}d ago", d / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        assert_eq!(parse_selector(None).unwrap(), CardSelector::Latest);
        assert_eq!(parse_selector(Some("latest")).unwrap(), CardSelector::Latest);
        assert_eq!(parse_selector(Some("1.2.0")).unwrap(), CardSelector::Version("1.2.0".into()));
        assert_eq!(parse_selector(Some("1.2")).unwrap(), CardSelector::Req("1.2".into()));
        let d = "ab".repeat(32);
        assert_eq!(parse_selector(Some(&format!("sha256:{d}"))).unwrap(), CardSelector::Digest(d));
        assert!(parse_selector(Some("sha256:abc")).is_err());
        assert!(parse_selector(Some("one")).is_err());
    }

    #[test]
    fn approving_a_wildcard_asks_for_a_name() {
        let asked = Grants::from_list(&[Grant::Connection("*".into()), Grant::Okta("okta.users.read".into())]).unwrap();
        assert_eq!(
            approve_command("acme.x", "1.0.0", &asked.missing_from(&Grants::none())).unwrap(),
            "lanyard card grant acme.x@1.0.0 okta:okta.users.read connection:<name>"
        );
    }

    #[test]
    fn describe_lies_are_all_named() {
        let info = lanyard_runtime::CardInfo {
            name: "Acme..Offboard".into(),
            version: "1.0.0+build7".into(),
            description: " ".into(),
            input_schema: serde_json::json!({ "type": "banana" }),
            output_schema: serde_json::json!({ "$ref": "https://example.com/schema.json" }),
            grants: vec![Grant::Connection(String::new()), Grant::HttpHost("https://x.example.com/".into())],
            world: None,
            imports: None,
        };
        let p = describe_problems(&info);
        assert_eq!(p.len(), 7, "{p:#?}");
        assert!(p[0].contains("`Acme..Offboard` is not a card name"), "{}", p[0]);
        assert!(p[1].contains("build metadata"), "{}", p[1]);
        assert!(p[2].contains("description is empty"), "{}", p[2]);
        assert!(p[3].starts_with("the input schema is not a valid JSON Schema"), "{}", p[3]);
        assert!(p[4].starts_with("the output schema does not compile"), "{}", p[4]);
        assert!(p[5].contains("names no connection"), "{}", p[5]);
        assert!(p[6].contains("is not a host name"), "{}", p[6]);
    }
}
