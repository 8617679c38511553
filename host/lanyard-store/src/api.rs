//! The store's backend-neutral interface: what the daemon needs from any store.
//!
//! [`crate::Store`] implements these traits on sled. A shared backend (PostgreSQL,
//! for several daemons) would implement the same traits; nothing here names sled.
//! Tables are served through `lanyard_core::caps::TablesApi`.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crate::health::{StoreHealth, StoreStatus};
use crate::tables::{ImportMode, ImportStats, RowPage, TableInfo};
use lanyard_core::caps::{TableQuery, TableRow, TablesApi};
use lanyard_core::history::{ErrorInfo, RunRecord, RunStatus, StepRecord};
use lanyard_core::{CardInfo, Grants, LogEvent, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// What [`EventInbox::accept`] did with one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub uuid: String,
    /// `false`: seen before (within the dedupe window), or refused; not
    /// stored.
    pub new: bool,
    /// Why the event was refused (it breaks a limit: its uuid, its size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// An event waiting in the inbox for the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEvent {
    /// Arrival order: unique, and the tie-break between events published at
    /// the same time.
    pub seq: u64,
    pub uuid: String,
    /// Where it came from: `hook`, `poll`, ...
    pub source: String,
    /// The Okta org it came from; `None` is the default org (and every event
    /// stored before there were several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub received: DateTime<Utc>,
    pub event: LogEvent,
}

impl InboxEvent {
    /// The event `event` as the inbox keeps it: its uuid is the event's own,
    /// the one it is deduplicated by.
    pub fn new(
        seq: u64,
        source: impl Into<String>,
        org: Option<String>,
        received: DateTime<Utc>,
        event: LogEvent,
    ) -> Self {
        InboxEvent {
            seq,
            uuid: event.uuid.clone(),
            source: source.into(),
            org,
            received,
            event,
        }
    }

    /// Its place in dispatch order; pass the last one read as `after` to
    /// page on.
    pub fn position(&self) -> InboxPosition {
        InboxPosition {
            published: self.event.published,
            seq: self.seq,
        }
    }
}

/// A place in dispatch order: `published`, then arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InboxPosition {
    pub published: DateTime<Utc>,
    pub seq: u64,
}

/// Durable event intake.
///
/// Okta delivers at least once and unordered; the inbox keeps each event uuid
/// for the dedupe window and stores an event only the first time.
#[async_trait]
pub trait EventInbox: Send + Sync + 'static {
    /// Store every event not seen before and return once they are on disk (the
    /// hook is answered only after this returns). One entry per input event, in
    /// input order. An event that breaks a limit (its uuid, its size) is
    /// refused alone ([`Accepted::refused`]); the call fails without storing
    /// anything only if the batch itself does (its source, its length).
    async fn accept(&self, events: Vec<LogEvent>, source: &str) -> Result<Vec<Accepted>> {
        self.accept_from(events, source, None).await
    }

    /// [`EventInbox::accept`] for the events of one Okta org: `None` is the
    /// default org. Deduplication is per org (two orgs may send the same
    /// uuid), and the org is kept with the event ([`InboxEvent::org`]).
    async fn accept_from(
        &self,
        events: Vec<LogEvent>,
        source: &str,
        org: Option<&str>,
    ) -> Result<Vec<Accepted>>;

    /// Events not dispatched yet, in dispatch order: earliest `published`
    /// first, then arrival, whatever deliveries they came in; after `after`
    /// (exclusive), or from the first.
    ///
    /// The dispatcher reads from the first every time, so that an event
    /// accepted after a later-published one was read still goes first.
    async fn undispatched(
        &self,
        after: Option<InboxPosition>,
        limit: usize,
    ) -> Result<Vec<InboxEvent>>;

    /// How many events are accepted and not yet dispatched, counting any
    /// being dispatched at this moment (which [`EventInbox::undispatched`]
    /// skips): zero means every event accepted so far has its runs in the
    /// store. Counts the inbox; meant for tests and occasional looks, not
    /// for every request.
    async fn inbox_depth(&self) -> Result<usize>;

    /// Mark an event dispatched and create its runs (none, if no flow wants it),
    /// atomically: after a crash either both happened or neither did. Not
    /// durable until the next [`RunStore::sync`].
    ///
    /// Each run's input is the event: the store keeps the event once, as it
    /// was accepted, and the runs refer to it; their `input` field is not
    /// written.
    async fn dispatch(&self, uuid: &str, runs: &[RunRecord]) -> Result<()> {
        self.dispatch_from(None, uuid, runs).await
    }

    /// [`EventInbox::dispatch`] for an event of `org` ([`InboxEvent::org`]).
    async fn dispatch_from(&self, org: Option<&str>, uuid: &str, runs: &[RunRecord]) -> Result<()>;
}

/// Which runs [`RunStore::list_runs`] returns, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    #[serde(default)]
    pub flow: Option<String>,
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Created at or after.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Created at or before.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many runs (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Text anywhere in the run's event, output or error, or in its steps'
    /// inputs and outputs (any case): a user's login or name finds their runs.
    #[serde(default)]
    pub text: Option<String>,
    /// A card one of its steps called (`okta.get-user`, or `name@version`).
    #[serde(default)]
    pub card: Option<String>,
    /// The kind of error the run or one of its steps failed with (`timeout`).
    #[serde(default)]
    pub error_kind: Option<String>,
}

impl RunFilter {
    /// Whether the filter reads each run's steps (text, card or error kind).
    pub fn searches(&self) -> bool {
        self.text.as_deref().is_some_and(|t| !t.is_empty()) || self.card.is_some() || self.error_kind.is_some()
    }
}

/// One page of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// Pass as [`RunFilter::cursor`] for the next (older) page; `None` when
    /// there is nothing older.
    pub next_cursor: Option<String>,
}

/// How a run ended, for [`RunStore::finish_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEnd {
    pub status: RunStatus,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What history to keep. Only finished runs are ever deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Delete finished runs created longer ago than this.
    pub max_age: Option<Duration>,
    /// Keep at most this many runs per flow (the newest); older finished ones go.
    pub max_runs_per_flow: Option<usize>,
}

/// What [`RunStore::prune`] deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneStats {
    pub runs: u64,
    pub steps: u64,
    /// Dedupe memory past the window, in generations (one per day by default).
    pub dedupe_generations: u64,
    /// Index entries and inputs left behind by a crash mid-delete.
    pub leftovers: u64,
}

/// The execution history: runs and the step journal.
///
/// Run ids are ULIDs ([`crate::new_run_id`]); the store refuses others, because
/// id order is creation order everywhere (listing, retention).
///
/// Per-subject ordering: the store keeps runs in creation order and each run's
/// `subject`; putting runs about one subject in `published` order is the
/// dispatcher's in-memory queue's job. After a crash, [`RunStore::unfinished_runs`]
/// (creation order) is what that queue is rebuilt from.
#[async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// Create a run (API, schedule, manual triggers; events go through
    /// [`EventInbox::dispatch`]). Fails if the id exists.
    async fn create_run(&self, run: &RunRecord) -> Result<()>;

    /// Replace a run's record. The input is fixed at creation and not rewritten.
    async fn update_run(&self, run: &RunRecord) -> Result<()>;

    /// Move a run to `status`, stamping `started` (running) or `ended` (final).
    async fn set_status(&self, id: &str, status: RunStatus, at: DateTime<Utc>) -> Result<()>;

    /// End a run: final status, output or error, `ended = at`.
    async fn finish_run(&self, id: &str, outcome: RunEnd, at: DateTime<Utc>) -> Result<()>;

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>>;

    async fn list_runs(&self, filter: &RunFilter) -> Result<RunPage>;

    /// Queued and running runs, oldest first: what crash recovery resumes.
    /// A run whose wait has ended is queued, its `wait` holding the `wait`
    /// step's record for the runner to journal before it resumes.
    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>>;

    /// Runs paused at a `wait` step, oldest first: what the wait timer
    /// watches.
    async fn waiting_runs(&self) -> Result<Vec<RunRecord>>;

    /// End the wait of a run paused at `step`, with the step's `record`: the
    /// run is queued again and keeps the record with its wait until its
    /// journal has it. Not durable until [`RunStore::sync`]. A run that is not
    /// waiting at `step` (resumed already, cancelled, waiting elsewhere) is a
    /// conflict, so a signal resumes a run once.
    async fn end_wait(&self, id: &str, step: &str, record: &StepRecord) -> Result<()>;

    /// Journal one finished step. Not durable until [`RunStore::sync`]; call it
    /// before the next side effect (or use [`RunStore::record_step_durable`]).
    async fn record_step(&self, step: &StepRecord) -> Result<()>;

    /// [`RunStore::record_step`] then [`RunStore::sync`].
    async fn record_step_durable(&self, step: &StepRecord) -> Result<()> {
        self.record_step(step).await?;
        self.sync().await
    }

    /// The steps of a run in the order they started (`StepRecord::seq`), then
    /// in the order they were recorded.
    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>>;

    /// Make every write finished before this call durable. Concurrent callers
    /// share one fsync.
    async fn sync(&self) -> Result<()>;

    /// Delete old history (runs with their steps and index entries) and dedupe
    /// memory older than the window.
    async fn prune(&self, policy: &RetentionPolicy) -> Result<PruneStats>;

    /// Drop the inputs and outputs of a run's steps (its flow keeps no step
    /// data), marking each step withheld, in one atomic write. Returns how
    /// many steps had any.
    async fn withhold_step_data(&self, run_id: &str) -> Result<usize>;
}

/// Where a schedule stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    pub next_fire: DateTime<Utc>,
    #[serde(default)]
    pub last_fire: Option<DateTime<Utc>>,
    /// The run of the last fire while it is unfinished (to skip overlapping fires).
    #[serde(default)]
    pub running_run: Option<String>,
}

/// Schedule states and named cursors (the System Log polling position).
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    async fn schedule_state(&self, flow: &str) -> Result<Option<ScheduleState>>;
    async fn set_schedule_state(&self, flow: &str, state: &ScheduleState) -> Result<()>;
    async fn remove_schedule_state(&self, flow: &str) -> Result<()>;
    async fn schedule_states(&self) -> Result<Vec<(String, ScheduleState)>>;
    async fn cursor(&self, name: &str) -> Result<Option<String>>;
    async fn set_cursor(&self, name: &str, value: &str) -> Result<()>;
}

/// One published card version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardEntry {
    pub name: String,
    pub version: String,
    /// sha256 of the wasm, lowercase hex.
    pub digest: String,
    /// Bytes of wasm.
    pub size: u64,
    /// What `describe()` returned, with the world and imports the runtime found.
    pub info: CardInfo,
    /// What the card asks for.
    pub requested: Grants,
    /// What an operator granted; `None` until someone decides.
    #[serde(default)]
    pub granted: Option<Grants>,
    pub published_at: DateTime<Utc>,
    /// Set when the daemon could not load the card for what the card does
    /// (its `describe()` failed or ran past its deadline); cleared when the
    /// same bytes are published again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenMark>,
}

/// Why a published card is broken (see [`CardEntry::broken`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrokenMark {
    /// What its steps fail with.
    pub message: String,
    pub kind: lanyard_core::ErrorKind,
    pub since: DateTime<Utc>,
}

/// Which version of a card [`CardStore::get_card`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardSelector {
    /// The highest version (semver precedence; pre-releases only if nothing else).
    Latest,
    /// Exactly this version string.
    Version(String),
    /// The highest version matching a semver requirement (`1.2`, `^1`, `>=1.0, <2`).
    Req(String),
    /// The version whose wasm has this sha256.
    Digest(String),
}

/// Storage for the card registry: entries, and wasm blobs stored once per digest.
/// The registry's rules (validation, refusing removal while flows use a card)
/// live above this.
#[async_trait]
pub trait CardStore: Send + Sync + 'static {
    /// Store an entry and its wasm. The digest and size must match the bytes.
    /// Storing the same name, version and digest again changes nothing; the same
    /// name and version with another digest is refused.
    async fn put_card(&self, entry: &CardEntry, wasm: &[u8]) -> Result<lanyard_core::WriteOutcome>;
    async fn get_card(&self, name: &str, selector: &CardSelector) -> Result<Option<CardEntry>>;
    /// The wasm stored under a digest.
    async fn card_wasm(&self, digest: &str) -> Result<Option<Vec<u8>>>;
    /// Every entry, by name then version precedence.
    async fn list_cards(&self) -> Result<Vec<CardEntry>>;
    /// Remove one version; its wasm goes too unless another entry shares it.
    async fn remove_card(&self, name: &str, version: &str) -> Result<Option<CardEntry>>;
    /// Mark a card version broken (or, with `None`, no longer broken).
    async fn set_broken(&self, name: &str, version: &str, broken: Option<BrokenMark>) -> Result<CardEntry>;
    /// Replace what an operator granted a version.
    async fn set_grants(
        &self,
        name: &str,
        version: &str,
        granted: Option<Grants>,
    ) -> Result<CardEntry>;
}

/// How many versions of one flow file are kept; older ones are dropped.
pub const MAX_FLOW_VERSIONS: usize = 100;
/// How many audit entries are kept in all; older ones are dropped.
pub const MAX_AUDIT_ENTRIES: usize = 10_000;

/// One saved text of a flow file (what the builder wrote, or the hand-written
/// text it replaced). Numbered from 1 per file, never reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowVersion {
    pub version: u64,
    pub at: DateTime<Utc>,
    /// The file, relative to the flows directory (`offboarding.yaml`).
    pub file: String,
    /// `sha256:<hex>` of `source`.
    pub etag: String,
    /// `create`, `save`, `enable`, `disable`, `revert`, or `found` (a file
    /// written by hand, kept before its first save).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub source: String,
}

/// One write to a flow file, for people: who did what, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The flow's name when it was written.
    pub flow: String,
    /// The file, relative to the flows directory.
    pub file: String,
    /// `create`, `save`, `enable`, `disable`, `revert`.
    pub action: String,
    /// The version the write made.
    pub version: Option<u64>,
    pub note: Option<String>,
    /// What changed, in words ("added step notify; turned off").
    pub summary: String,
}

/// The history of flow files written through the admin API: their versions
/// (the last [`MAX_FLOW_VERSIONS`] per file) and the audit list. Keyed by the
/// file's path, so renaming the flow inside keeps its history. What a version
/// or an entry says is decided above this.
#[async_trait]
pub trait FlowHistory: Send + Sync + 'static {
    /// Record `source` as the next version of `file` (its `version` field is
    /// ignored and assigned here), dropping the oldest past the limit.
    /// Returns the version as stored.
    async fn add_flow_version(&self, version: &FlowVersion) -> Result<FlowVersion>;
    /// Every kept version of `file`, newest first.
    async fn flow_versions(&self, file: &str) -> Result<Vec<FlowVersion>>;
    async fn flow_version(&self, file: &str, version: u64) -> Result<Option<FlowVersion>>;
    /// Append an audit entry, dropping the oldest past [`MAX_AUDIT_ENTRIES`].
    async fn add_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// Audit entries, newest first: of one file, or (`None`) of all; at most `limit`.
    async fn audit(&self, file: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>>;
}

/// Tables as operators see them (the console, `lanyard table`): listing,
/// pages, sorted views and CSV. Cards reach rows through core's `TablesApi`.
///
/// The limits and the matching rules (what `contains` and `column` mean, how a
/// sort orders mixed values) are the same for every backend: see
/// [`crate::table_limits`] and the sled implementation's docs.
#[async_trait]
pub trait TableStore: Send + Sync + 'static {
    /// Every table, by name, with its row count and size.
    async fn list_tables(&self) -> Result<Vec<TableInfo>>;

    /// Rows in key order that start with `prefix`, after the key `after`, and
    /// whose JSON text contains `contains` (any case; only in the top-level
    /// field `column` when one is given, `key` meaning the key): at most
    /// `limit` (1 to `MAX_FIND_LIMIT`), looking at no more than
    /// `MAX_FIND_EXAMINED` rows; `next` is where to go on from.
    async fn table_page(&self, table: &str, query: &PageQuery<'_>) -> Result<RowPage>;

    /// The rows [`TableStore::table_page`] would find, sorted by the top-level
    /// field `field` (`key`: the key; numbers as numbers, the rest as text
    /// without case, rows without it last; `desc` turns it round), `limit`
    /// of them from `offset`. Refused past `MAX_FIND_EXAMINED` matching rows.
    async fn table_page_sorted(&self, table: &str, query: &PageQuery<'_>, sort: &SortBy<'_>) -> Result<RowPage>;

    async fn table_get(&self, table: &str, key: &str) -> Result<Option<Value>>;

    /// Write a row; `Unchanged` (and no write) if the stored row is equal.
    async fn table_put(&self, table: &str, key: &str, value: &Value) -> Result<WriteOutcome>;

    async fn table_delete(&self, table: &str, key: &str) -> Result<WriteOutcome>;

    /// Rows in key order that start with the query's prefix and whose top-level
    /// fields equal every condition.
    async fn table_find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>>;

    /// Write a table as CSV (see `csv_io` for the cell rules); returns the rows
    /// written. Blocking: call it from `spawn_blocking` in async code.
    fn export_csv(&self, table: &str, out: &mut dyn std::io::Write) -> Result<u64>;

    /// Read a CSV into a table: all of it or nothing, every problem reported
    /// with its line. Durable on return. Blocking, as [`TableStore::export_csv`].
    fn import_csv(&self, table: &str, input: &mut dyn std::io::Read, mode: ImportMode) -> Result<ImportStats>;
}

/// Which rows a table page holds (see [`TableStore::table_page`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageQuery<'a> {
    pub prefix: &'a str,
    /// Start after this key (ignored by sorted pages, which use `SortBy::offset`).
    pub after: Option<&'a str>,
    pub contains: Option<&'a str>,
    pub column: Option<&'a str>,
    pub limit: u32,
}

/// How [`TableStore::table_page_sorted`] orders and cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortBy<'a> {
    pub field: &'a str,
    pub desc: bool,
    pub offset: usize,
}

/// The store as a whole: whether it can write, and durability for callers
/// that cannot await.
pub trait StoreControl: Send + Sync + 'static {
    /// Whether the store can write now.
    fn health(&self) -> StoreHealth;

    /// Which "life" of the store is in use: it changes when the backend lost
    /// writes it had not made durable (a reopened database, a failed-over
    /// server). A caller that needs its writes durable compares the epoch
    /// from before its writes with the one after its [`RunStore::sync`].
    fn epoch(&self) -> u64;

    /// Health and epoch, as they change.
    fn subscribe(&self) -> tokio::sync::watch::Receiver<StoreStatus>;

    /// Make every write finished before this call durable, blocking the
    /// thread. Async code uses [`RunStore::sync`].
    fn sync_blocking(&self) -> Result<()>;

    /// Where the store is, for people (`/var/lib/lanyard`, a database URL
    /// without its password).
    fn location(&self) -> String;
}

/// Until the store can write.
pub async fn wait_writable(store: &dyn StoreControl) {
    let mut rx = store.subscribe();
    let _ = rx.wait_for(|s| matches!(s.health, StoreHealth::Writable)).await;
}

/// Everything the daemon and the CLI need from a store. Consumers hold a
/// [`SharedStore`]; the sled [`crate::Store`] and the in-memory
/// `MemoryStore` (feature `memory`, for tests) implement it, and a new backend implements the
/// traits above to serve the same engine unchanged.
pub trait DataStore:
    EventInbox + RunStore + StateStore + CardStore + FlowHistory + TableStore + StoreControl + TablesApi
{
}

impl<T> DataStore for T where
    T: EventInbox + RunStore + StateStore + CardStore + FlowHistory + TableStore + StoreControl + TablesApi
{
}

/// A store as consumers hold it.
pub type SharedStore = std::sync::Arc<dyn DataStore>;
