//! Cards: the list, the registry (publish, grant, remove).

use super::*;

// -- cards ------------------------------------------------------------------------

/// `GET /api/v1/cards`: every version of every card flows can name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardList {
    pub cards: Vec<ListedCard>,
}

/// One version of one card, as the daemon has it loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedCard {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub source: CardSource,
    pub description: String,
    /// The palette group: Okta, Slack, Mail, HTTP, Tables or Custom.
    pub group: String,
    pub input_schema: Value,
    pub output_schema: Value,
    pub requested: Grants,
    pub granted: Grants,
    /// Bytes of wasm.
    pub size: u64,
    /// The loaded flows whose steps resolve to this version.
    pub used_by: Vec<String>,
    pub usage: CardUsage,
    pub loaded: bool,
    /// Waiting for an operator to decide on its grants.
    pub held: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<CardBroken>,
}

/// Where a card came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSource {
    Builtin,
    Registry,
}

/// A card's calls since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardUsage {
    pub calls: u64,
    pub errors: u64,
    /// Wasm fuel burned by those calls.
    pub fuel: u64,
}

/// Why a card version is broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardBroken {
    pub message: String,
    pub kind: ErrorKind,
    pub since: DateTime<Utc>,
}

/// `GET /api/v1/cards/{name}`: the registry's versions of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardVersions {
    pub name: String,
    pub versions: Vec<CardView>,
}

/// `POST /api/v1/cards`, `PUT /api/v1/cards/{name}`: what publishing did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publication {
    pub published: Published,
    pub reload: RegistryReload,
}

/// `POST /api/v1/cards/{name}/{version}/grants`: the version as granted now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantAnswer {
    pub card: CardView,
    pub reload: RegistryReload,
}

/// `DELETE /api/v1/cards/{name}/{version}`: the version removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub removed: CardView,
    pub reload: RegistryReload,
}

/// Whether the flows reloaded after a registry change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryReload {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// Why the flows did not reload (the ones loaded before stay in use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a version's grants stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantState {
    /// It asks for nothing.
    NoneNeeded,
    /// It asks for capabilities and nobody has decided: held.
    Pending,
    /// Everything it asks for is granted (a `*` by at least one concrete name).
    Granted,
    /// An operator decided, and left some of what it asks for out.
    Partial,
}

impl std::fmt::Display for GrantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrantState::NoneNeeded => "none needed",
            GrantState::Pending => "pending",
            GrantState::Granted => "granted",
            GrantState::Partial => "partial",
        })
    }
}

/// One published version, as `card show`, `card list` and the API present it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub size: u64,
    pub published_at: DateTime<Utc>,
    pub description: String,
    /// The `lanyard:card` version it was built against.
    pub world: Option<String>,
    pub input_schema: Value,
    pub output_schema: Value,
    /// What it asks for.
    pub requested: Vec<String>,
    /// What `lanyard card grant` stored; `None`: nobody has decided.
    pub granted: Option<Vec<String>>,
    /// What `[cards."name"] grants` in lanyard.toml gives every version of it.
    pub configured: Option<Vec<String>>,
    /// What its calls get: (granted ∪ configured) ∩ requested.
    pub effective: Vec<String>,
    pub state: GrantState,
    /// What it asks for and does not get.
    pub missing: Vec<String>,
    /// The command that grants what it asks for (with `<name>` where the
    /// operator chooses a connection or table), while something is missing.
    pub approve: Option<String>,
    /// Loaded flows whose steps resolve to this version (when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<Vec<String>>,
    /// The daemon could not load it (its describe() ran past its deadline, or
    /// failed): why. Its steps fail at once until it is published again.
    /// Known only to a running daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
}

/// What publishing a card did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub card: CardView,
    /// `false`: exactly these bytes were already published under this name
    /// and version; nothing changed.
    pub new: bool,
    /// The component's imports.
    pub imports: Vec<String>,
    /// How long validation, compiling and `describe()` took.
    pub load_ms: u64,
    /// Whether the compiled code was already in the cache.
    pub compiled_before: bool,
}
