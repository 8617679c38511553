//! The cards `lanyard validate` checks flows against: the built-in cards
//! embedded in this binary (names, versions and input schemas from each
//! card's `describe()`, loaded through the card runtime and its compiled-card
//! cache), plus the card registry of a data directory.
//!
//! Which registry:
//! - `--config FILE` (or `./lanyard.toml` when it loads): its `data_dir`;
//! - `--data-dir DIR`: that directory's store;
//! - neither: none. A card name outside the built-in namespaces (`okta.`,
//!   `slack.`, ...) is then a warning, "not checked", not an error: the flow
//!   may well be right for a daemon whose registry has the card.
//!
//! The store is opened read-only. When a running daemon holds it, the
//! registry's card names and versions are read through the daemon's admin API
//! (`GET /api/v1/cards`, the listen address and admin token from the config)
//! instead. When a registry was read, a card that is neither built in nor in it
//! is an error, as it would be when the daemon loads the flow.
//!
//! This module only reads: it never publishes, grants or writes a store.

use anyhow::Context as _;
use lanyard_flow::model::CardRef;
use lanyard_flow::{CardCatalog, CardSummary, Diagnostic, Severity, StaticCatalog};
use lanyard_server::Config;
use lanyard_server::card_set::CardSet;
use crate::cli::access::{self, Access};
use crate::cli::admin_client::{AdminClient, Reached};
use lanyard_core::admin_api::CardSource;
use std::path::{Path, PathBuf};

/// Where the registry for validation comes from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

/// The registry that was (or was not) read, for the messages.
#[derive(Debug, Clone)]
pub enum RegistrySource {
    /// The store in this directory.
    Store(PathBuf),
    /// A running daemon's admin API.
    Daemon(String),
    /// None; why.
    Unchecked(String),
}

/// Built-in cards plus the registry's.
pub struct Catalog {
    cards: CardSet,
    /// Registry cards known only by name and version (read through the API).
    listed: StaticCatalog,
    pub registry: RegistrySource,
}

impl CardCatalog for Catalog {
    fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
        self.cards.lookup(card).or_else(|| self.listed.lookup(card))
    }

    fn names(&self) -> Vec<String> {
        let mut names = self.cards.names();
        names.extend(self.listed.names());
        names.sort();
        names.dedup();
        names
    }

    /// The config's Okta orgs (one, `default`, without a config).
    fn okta_orgs(&self) -> lanyard_flow::OktaOrgs {
        self.cards.okta_orgs()
    }
}

impl Catalog {
    /// This catalog, taking card names outside the built-in namespaces on
    /// trust (for the flows that only an unchecked card kept from compiling).
    pub fn trusting(&self) -> Trusting<'_> {
        Trusting(self)
    }
}

/// See [`Catalog::trusting`].
pub struct Trusting<'a>(&'a Catalog);

impl CardCatalog for Trusting<'_> {
    fn lookup(&self, card: &CardRef) -> Option<CardSummary> {
        self.0
            .lookup(card)
            .or_else(|| (!is_builtin_namespace(&card.name)).then(|| CardSummary::new(&card.name)))
    }

    fn names(&self) -> Vec<String> {
        self.0.names()
    }

    fn okta_orgs(&self) -> lanyard_flow::OktaOrgs {
        self.0.okta_orgs()
    }
}

/// The namespaces of built-in cards: a name in them must be a built-in.
fn is_builtin_namespace(name: &str) -> bool {
    let ns = name.split('.').next().unwrap_or("");
    lanyard_server::registry::RESERVED_NAMESPACES.contains(&ns)
}

/// Load the built-in cards and read the registry.
pub async fn load(sources: &Sources) -> anyhow::Result<Catalog> {
    let (config, mut registry) = config_for(sources)?;
    let mut runtime_config = lanyard_server::registry::runtime_config(&config);
    if matches!(registry, RegistrySource::Unchecked(_)) && sources.config.is_none() {
        // No data directory of the user's: keep compiled cards in the user's cache.
        runtime_config.cache_dir = Some(user_cache_dir());
    }
    let cache = runtime_config.cache_dir.clone().unwrap_or_default();
    let cold = std::fs::read_dir(&cache).map(|mut d| d.next().is_none()).unwrap_or(true);
    if cold {
        eprintln!(
            "compiling {} built-in cards (first run only; cached in {})...",
            lanyard_cards::builtin().len(),
            cache.display()
        );
    }
    let runtime = lanyard_runtime::Runtime::new(runtime_config).context("cannot start the card runtime")?;
    let (builtins, errors) = tokio::task::spawn_blocking(move || lanyard_server::card_set::load_builtins(&runtime))
        .await
        .context("loading the built-in cards")?;
    if let Some(e) = errors.first() {
        anyhow::bail!("{e} (this lanyard build is broken; {} card(s) failed)", errors.len());
    }

    let mut entries = Vec::new();
    let mut listed = Vec::new();
    if let RegistrySource::Store(dir) = &registry {
        match access::open(dir, false).await {
            Ok(Access::Store(store)) => entries = store.list_cards().await.context("cannot read the card registry")?,
            Ok(Access::HeldByDaemon { .. }) => match daemon_cards(&config).await {
                Ok(cards) => {
                    listed = cards;
                    registry = RegistrySource::Daemon(access::admin_base(&config));
                }
                Err(e) => {
                    registry = RegistrySource::Unchecked(format!(
                        "the daemon holds {} and its admin API did not answer ({e:#})",
                        dir.display()
                    ))
                }
            },
            Ok(Access::Missing { path }) => {
                registry = RegistrySource::Unchecked(format!("no card registry at {} (there is no lanyard data directory at {})", dir.display(), path.display()))
            }
            Err(e) => registry = RegistrySource::Unchecked(format!("no card registry at {} ({e})", dir.display())),
        }
    }
    Ok(Catalog {
        cards: CardSet::build(&builtins, entries, &config.card_grants).with_okta_orgs(config.okta_orgs()),
        listed: StaticCatalog::new(listed),
        registry,
    })
}

/// The config to take the data directory (and cache) from, and the registry to read.
fn config_for(sources: &Sources) -> anyhow::Result<(Config, RegistrySource)> {
    if let Some(path) = &sources.config {
        let mut config = Config::load(path)?;
        if let Some(dir) = &sources.data_dir {
            config.server.cache_dir = dir.join("cache");
            config.server.data_dir = dir.clone();
        }
        let dir = config.server.data_dir.clone();
        return Ok((config, RegistrySource::Store(dir)));
    }
    if let Some(dir) = &sources.data_dir {
        let mut config = Config::sandbox_defaults();
        config.server.data_dir = dir.clone();
        config.server.cache_dir = dir.join("cache");
        return Ok((config, RegistrySource::Store(dir.clone())));
    }
    let local = Path::new("lanyard.toml");
    if local.is_file() {
        match Config::load(local) {
            Ok(config) => {
                let dir = config.server.data_dir.clone();
                return Ok((config, RegistrySource::Store(dir)));
            }
            Err(e) => {
                return Ok((
                    Config::sandbox_defaults(),
                    RegistrySource::Unchecked(format!("./lanyard.toml does not load ({e})")),
                ));
            }
        }
    }
    Ok((
        Config::sandbox_defaults(),
        RegistrySource::Unchecked("no --config, --data-dir or ./lanyard.toml".into()),
    ))
}

/// The registry's cards (name and version) through a running daemon's admin API.
async fn daemon_cards(config: &Config) -> anyhow::Result<Vec<CardSummary>> {
    let token = config.server.admin_token.as_ref().context("the config has no admin_token")?;
    let api = AdminClient::new(&access::admin_base(config), token.expose(), Reached::HoldsTheDataDir, Some(std::time::Duration::from_secs(10)))?;
    Ok(api
        .cards()
        .await?
        .cards
        .into_iter()
        .filter(|c| c.source == CardSource::Registry)
        .map(|c| CardSummary::new(&c.name).with_version(&c.version))
        .collect())
}

/// `$XDG_CACHE_HOME/lanyard/cards`, `~/.cache/lanyard/cards`, else the temp dir's.
fn user_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("lanyard").join("cards")
}

/// With no registry read, a card outside the built-in namespaces that the
/// built-ins do not have is not known to be wrong: its `unknown-card` error
/// becomes a warning that says what was not checked. Returns how many.
pub fn relax_unchecked(diagnostics: &mut [Diagnostic], catalog: &Catalog) -> usize {
    let RegistrySource::Unchecked(why) = &catalog.registry else {
        return 0;
    };
    let mut n = 0;
    for d in diagnostics.iter_mut().filter(|d| d.code == "unknown-card" && d.is_error()) {
        let Some(name) = d.message.split('`').nth(1).map(str::to_string) else {
            continue;
        };
        if is_builtin_namespace(&name) {
            continue;
        }
        d.severity = Severity::Warning;
        d.message = format!("card `{name}` is not built in, and no card registry was checked: {why}");
        d.help = Some("give --config or --data-dir to check it against the registry (`lanyard card publish` puts it there)".into());
        n += 1;
    }
    n
}

impl std::fmt::Display for RegistrySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistrySource::Store(dir) => write!(f, "the card registry in {}", dir.display()),
            RegistrySource::Daemon(url) => write!(f, "the card registry of the daemon at {url}"),
            RegistrySource::Unchecked(_) => f.write_str("no card registry"),
        }
    }
}
