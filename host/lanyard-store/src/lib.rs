//! The embedded store: the only module that names sled.
//!
//! One sled database per data directory keeps everything the daemon must not
//! lose: the event inbox (durable intake, deduplicated by event uuid), runs and
//! their step journal (the execution history), tables, schedule states and
//! cursors, and the card registry's entries and wasm blobs.
//!
//! The daemon and the CLI talk to it through the backend-neutral traits in
//! [`api`] ([`EventInbox`], [`RunStore`], [`StateStore`], [`CardStore`],
//! [`FlowHistory`], [`TableStore`], [`StoreControl`], and core's `TablesApi`),
//! gathered as [`DataStore`] and held as a [`SharedStore`], so another backend
//! (PostgreSQL) can serve the same engine. [`Store`] is the sled
//! implementation; sled types never leave this crate. `memory::MemoryStore`
//! (feature `memory`, which `test-support` turns on) is the second one, for
//! tests: it keeps nothing across a restart. The rules both keep (checks,
//! limits, listing pages, card selectors, table pages and CSV) are functions
//! in the sled modules that both call, and `tests/it/seam.rs` runs one suite
//! of scenarios on both, so a backend that differs fails there.
//!
//! # Layout and durability
//!
//! Each kind of record lives in its own tree (`v1/inbox`, `v1/runs`, ...); the
//! tree names carry the key layout version and every value starts with a format
//! byte (see `codec`). The meta tree holds the store format, checked at open.
//!
//! Writes are in memory until a flush. [`EventInbox::accept`] returns only once
//! its events are on disk; [`RunStore::sync`] makes everything written before it
//! durable. Concurrent callers share fsyncs (group commit, `commit`).
//!
//! No hot write path uses sled transactions or batches: in sled 0.34 both take
//! a process-wide write lock that waits behind every running flush, which under
//! a steady stream of flushes cut throughput tenfold (measured: 2,100
//! three-tree transactions/s against 19,000 plain three-key writes/s).
//! Multi-record updates are instead ordered so that a crash at any point leaves
//! a state that reads as consistent and that `open` repairs: see `inbox`
//! (dispatch writes an intent record first) and `runs` (a run's record is
//! written after its index entries and deleted before them). sled recovers a
//! prefix of its log, so a later write surviving a crash implies every earlier
//! write of the same thread survived. (A CSV import, rare and operator-driven,
//! is one sled batch so that it lands whole or not at all.)
//!
//! A disk that refuses a write (full, failing) leaves sled unable to write
//! until the database is opened again: the store then reopens it in-process,
//! with backoff, behind its clones (`health`), and opening removes what a
//! start interrupted on a full disk leaves behind (`leftovers`).
//! [`Store::health`] says whether the store can write; [`Store::epoch`] tells a
//! caller that writes it had not flushed may be gone.
//!
//! Blocking: calls other than flushes work in sled's page cache (at worst a
//! short read of an evicted page of old history) and are fine on a runtime
//! thread; flushes happen on the store's own thread, and `RunStore::prune` on
//! the blocking pool. [`Store::import_csv`], [`Store::export_csv`] and
//! [`Store::sync_blocking`] block: call them from `spawn_blocking` in async code.

pub mod api;
mod cards;
mod codec;
mod commit;
mod csv_io;
mod flow_history;
pub mod error;
mod health;
mod inbox;
mod leftovers;
#[cfg(feature = "memory")]
pub mod memory;
mod runs;
mod state;
mod tables;
#[cfg(feature = "test-support")]
pub mod testing;

pub use api::{
    Accepted, AuditEntry, BrokenMark, CardEntry, CardSelector, CardStore, DataStore, EventInbox, FlowHistory, FlowVersion, InboxEvent,
    InboxPosition, PageQuery, PruneStats, RetentionPolicy, RunFilter, RunEnd, RunPage, RunStore, ScheduleState, SharedStore, SortBy,
    StateStore, StoreControl, TableStore, MAX_AUDIT_ENTRIES, MAX_FLOW_VERSIONS, wait_writable,
};
pub use error::{LineError, Result, StoreError, StoreErrorKind};
pub use health::{StoreHealth, StoreStatus};
pub use tables::{ImportMode, ImportStats, RowPage, TableInfo, limits as table_limits};

use lanyard_core::{Clock, SystemClock};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The store format this build writes and reads. Bump it (and add a migration
/// in `check_format`) when a tree's key layout changes.
///
/// - 1: the first.
/// - 2: events in `v1/events`, referred to by the runs they start (format 2
///   run records) instead of copied into each. Format 1 records stay readable
///   as they are, so opening a format 1 store only records the new number.
/// - 3: `v1/inbox-order`, the undispatched events in dispatch order, and
///   waiting inbox entries that carry their event's `published` time (a kind
///   of entry format 2 cannot read). Opening an older store records the number;
///   `open`'s inbox recovery, which runs at every open, builds the index and
///   rewrites the older waiting entries (see `inbox`).
pub const STORE_FORMAT: u32 = 3;

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// Create the data directory if it does not exist (the daemon); the CLI's
    /// read commands say so instead.
    pub create: bool,
    /// How long a seen event uuid is remembered for deduplication.
    pub dedupe_window: Duration,
    /// Upper bound of sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// Where received times and retention ages come from.
    pub clock: Arc<dyn Clock>,
    /// Share fsyncs between concurrent callers. Only turned off to measure what
    /// it buys.
    pub group_commit: bool,
    /// With group commit, the least time between two flushes: a durable write
    /// waits up to this much longer, and a busy store flushes far less often
    /// (see `commit`).
    pub flush_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            create: true,
            dedupe_window: Duration::from_secs(7 * 24 * 3600),
            cache_capacity: 64 * 1024 * 1024,
            clock: Arc::new(SystemClock),
            group_commit: true,
            flush_interval: Duration::from_millis(1),
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("create", &self.create)
            .field("dedupe_window", &self.dedupe_window)
            .field("cache_capacity", &self.cache_capacity)
            .field("group_commit", &self.group_commit)
            .field("flush_interval", &self.flush_interval)
            .finish_non_exhaustive()
    }
}

/// The sled store. Cheap to clone; every clone is the same database, usable
/// from any number of threads and tokio tasks.
///
/// When the disk refuses a write (full, failing), sled 0.34 records the error
/// once and fails every later write and flush of that database until it is
/// opened again. The store then reopens it in-process, behind its clones (see
/// `health`): operations fail with [`StoreError::Unavailable`] meanwhile, and
/// [`Store::health`] says since when and why.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Trees {
    pub(crate) meta: sled::Tree,
    pub(crate) inbox: sled::Tree,
    pub(crate) inbox_order: sled::Tree,
    pub(crate) events: sled::Tree,
    pub(crate) runs: sled::Tree,
    pub(crate) runs_by_flow: sled::Tree,
    pub(crate) runs_by_status: sled::Tree,
    pub(crate) steps: sled::Tree,
    pub(crate) schedules: sled::Tree,
    pub(crate) cursors: sled::Tree,
    pub(crate) cards: sled::Tree,
    pub(crate) card_blobs: sled::Tree,
    pub(crate) flow_versions: sled::Tree,
    pub(crate) flow_audit: sled::Tree,
}

/// One opening of the database and everything in memory that belongs to it:
/// replaced whole when the store reopens, so no cache outlives the database
/// it describes.
pub(crate) struct Backend {
    /// Which opening this is (0 the first); see [`Store::epoch`].
    pub(crate) epoch: u64,
    // Dropped first: joins the flush thread, which holds its own handle on the db.
    pub(crate) commit: commit::GroupCommit,
    /// Shares sled's record of a failed write with the open database.
    pub(crate) config: sled::Config,
    pub(crate) db: sled::Db,
    pub(crate) t: Trees,
    pub(crate) seen: RwLock<Vec<inbox::SeenGen>>,
    /// Events accepted and not yet read by the dispatcher, decoded (bounded).
    pub(crate) fresh: Mutex<BTreeMap<u64, InboxEvent>>,
    pub(crate) tables: RwLock<HashMap<String, sled::Tree>>,
}

pub(crate) struct Inner {
    pub(crate) path: PathBuf,
    pub(crate) options: StoreOptions,
    /// The open database; `None` while it is being reopened.
    pub(crate) slot: RwLock<Option<Arc<Backend>>>,
    pub(crate) health: health::Monitor,
}

// Tree names. The `v1/` prefix is the key layout version.
pub(crate) const T_META: &str = "v1/meta";
pub(crate) const T_INBOX: &str = "v1/inbox";
pub(crate) const T_INBOX_ORDER: &str = "v1/inbox-order";
pub(crate) const T_EVENTS: &str = "v1/events";
pub(crate) const T_RUNS: &str = "v1/runs";
pub(crate) const T_RUNS_BY_FLOW: &str = "v1/runs-by-flow";
pub(crate) const T_RUNS_BY_STATUS: &str = "v1/runs-by-status";
pub(crate) const T_STEPS: &str = "v1/steps";
pub(crate) const T_SCHEDULES: &str = "v1/schedules";
pub(crate) const T_CURSORS: &str = "v1/cursors";
pub(crate) const T_CARDS: &str = "v1/cards";
pub(crate) const T_CARD_BLOBS: &str = "v1/card-blobs";
pub(crate) const T_FLOW_VERSIONS: &str = "v1/flow-versions";
pub(crate) const T_FLOW_AUDIT: &str = "v1/flow-audit";
pub(crate) const T_SEEN_PREFIX: &str = "v1/seen/";
pub(crate) const T_TABLE_PREFIX: &str = "v1/table/";

impl Store {
    /// Open (or create) the store in `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Open the store in `path`.
    ///
    /// Fails with [`StoreError::Locked`] if another process has it open, and with
    /// [`StoreError::NewerFormat`] if a newer lanyard wrote it. What an
    /// interrupted start leaves behind (a half-written snapshot) is removed
    /// first: sled rebuilds its state from the log.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if !options.create && !path.join("db").exists() {
            return Err(StoreError::Missing { path });
        }
        let backend = open_waiting_for_lock(&path, &options)?;
        Self::start(backend, path, options, true)
    }

    /// A store in a temporary directory, deleted when the last clone drops.
    pub fn temporary() -> Result<Store> {
        Self::temporary_with(StoreOptions::default())
    }

    /// [`Store::temporary`] with options (a manual clock, a short dedupe window).
    ///
    /// sled deletes a temporary database's files when it closes it, so this
    /// store cannot be reopened: after a failed write it stays unavailable.
    pub fn temporary_with(options: StoreOptions) -> Result<Store> {
        let config = sled::Config::new()
            .temporary(true)
            .cache_capacity(options.cache_capacity);
        let path = config.get_path();
        let backend = backend_from(config, &path, &options, 0)?;
        Self::start(backend, path, options, true)
    }

    fn start(
        backend: Backend,
        path: PathBuf,
        options: StoreOptions,
        reopens: bool,
    ) -> Result<Store> {
        let store = Store {
            inner: Arc::new(Inner {
                path,
                health: health::Monitor::new(reopens),
                options,
                slot: RwLock::new(Some(Arc::new(backend))),
            }),
        };
        store.recover()?;
        Ok(store)
    }

    /// The open database. Fails with [`StoreError::Unavailable`] while it is
    /// being reopened, and starts the reopening when sled has recorded a
    /// failed write (every later write would fail too).
    pub(crate) fn b(&self) -> Result<Arc<Backend>> {
        let current = self
            .inner
            .slot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match current {
            Some(b) => match b.config.global_error() {
                Ok(()) => Ok(b),
                Err(e) => {
                    let epoch = b.epoch;
                    drop(b);
                    self.failed(epoch, &e.to_string());
                    Err(self.unavailable())
                }
            },
            None => Err(self.unavailable()),
        }
    }

    /// Repair what a crash may have left half-written.
    fn recover(&self) -> Result<()> {
        let inbox = self.recover_inbox()?;
        if inbox.orphans + inbox.redone > 0 {
            tracing::info!(
                orphans = inbox.orphans,
                redone_dispatches = inbox.redone,
                "store recovered the inbox after an unclean stop"
            );
        }
        Ok(())
    }

    /// The data directory (a temporary one for [`Store::temporary`]).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.b()?
            .db
            .size_on_disk()
            .map_err(|e| StoreError::backend("size", "db", b"", e))
    }

    /// Make every write finished before this call durable, blocking the thread.
    /// Async code uses [`RunStore::sync`], which shares fsyncs between callers.
    pub fn sync_blocking(&self) -> Result<()> {
        let b = self.b()?;
        b.commit.sync_blocking().map_err(|why| {
            let epoch = b.epoch;
            drop(b);
            self.failed(epoch, &why);
            StoreError::Flush(why)
        })
    }

    /// Wait until the writes made on `b` are on disk; a failed flush starts
    /// the reopening. The wait holds no handle on the database.
    pub(crate) async fn sync_backend(&self, b: Arc<Backend>) -> Result<()> {
        let epoch = b.epoch;
        let wait = b.commit.ticket();
        drop(b);
        wait.await.map_err(|why| {
            self.failed(epoch, &why);
            StoreError::Flush(why)
        })
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.options.clock.now()
    }
}

/// Open the database in `path` as opening number `epoch`: remove what an
/// interrupted start left (see `leftovers`), then open sled and its trees.
pub(crate) fn open_backend(path: &Path, options: &StoreOptions, epoch: u64) -> Result<Backend> {
    leftovers::remove(path)?;
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .mode(sled::Mode::HighThroughput);
    backend_from(config, path, options, epoch)
}

/// How long an opening waits for a file lock that a store this process just
/// dropped may still hold: sled releases it from a background thread a moment
/// after the last handle goes (spacejam/sled#1234). Another process holding
/// the directory holds it far longer, and is reported once this has passed.
const LOCK_RELEASE_WAIT: Duration = Duration::from_secs(1);

fn open_waiting_for_lock(path: &Path, options: &StoreOptions) -> Result<Backend> {
    let started = std::time::Instant::now();
    loop {
        match open_backend(path, options, 0) {
            Err(StoreError::Locked { .. }) if started.elapsed() < LOCK_RELEASE_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn backend_from(
    config: sled::Config,
    path: &Path,
    options: &StoreOptions,
    epoch: u64,
) -> Result<Backend> {
    let db = config.open().map_err(|e| open_error(path, e))?;
    let open = |name: &str| {
        db.open_tree(name)
            .map_err(|e| StoreError::backend("open tree", name, b"", e))
    };
    let t = Trees {
        meta: open(T_META)?,
        inbox: open(T_INBOX)?,
        inbox_order: open(T_INBOX_ORDER)?,
        events: open(T_EVENTS)?,
        runs: open(T_RUNS)?,
        runs_by_flow: open(T_RUNS_BY_FLOW)?,
        runs_by_status: open(T_RUNS_BY_STATUS)?,
        steps: open(T_STEPS)?,
        schedules: open(T_SCHEDULES)?,
        cursors: open(T_CURSORS)?,
        cards: open(T_CARDS)?,
        card_blobs: open(T_CARD_BLOBS)?,
        flow_versions: open(T_FLOW_VERSIONS)?,
        flow_audit: open(T_FLOW_AUDIT)?,
    };
    check_format(path, &t.meta)?;
    let mut tables = HashMap::new();
    let mut seen = Vec::new();
    for name in db.tree_names() {
        let name = String::from_utf8_lossy(&name).into_owned();
        if let Some(table) = name.strip_prefix(T_TABLE_PREFIX) {
            tables.insert(table.to_string(), open(&name)?);
        } else if let Some(range) = name.strip_prefix(T_SEEN_PREFIX) {
            seen.push(inbox::SeenGen::from_name(range, open(&name)?, &name)?);
        }
    }
    seen.sort_by_key(|g| std::cmp::Reverse(g.start));
    let commit = commit::GroupCommit::start(db.clone(), options.group_commit, options.flush_interval)?;
    Ok(Backend {
        epoch,
        commit,
        config,
        db,
        t,
        seen: RwLock::new(seen),
        fresh: Mutex::new(BTreeMap::new()),
        tables: RwLock::new(tables),
    })
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    if let sled::Error::Io(io) = &e {
        // sled reports a held flock only through this message.
        if io.to_string().contains("could not acquire lock") {
            return StoreError::Locked {
                path: path.to_path_buf(),
            };
        }
    }
    StoreError::Open {
        path: path.to_path_buf(),
        source: Box::new(e),
    }
}

const META_FORMAT: &[u8] = b"format";

fn check_format(path: &Path, meta: &sled::Tree) -> Result<()> {
    let stored = meta
        .get(META_FORMAT)
        .map_err(|e| StoreError::backend("read", T_META, META_FORMAT, e))?;
    match stored {
        None => {
            meta.insert(META_FORMAT, &STORE_FORMAT.to_be_bytes())
                .map_err(|e| StoreError::backend("write", T_META, META_FORMAT, e))?;
            Ok(())
        }
        Some(bytes) => {
            let found = <[u8; 4]>::try_from(bytes.as_ref())
                .map(u32::from_be_bytes)
                .map_err(|_| {
                    StoreError::corrupt(T_META, META_FORMAT, "not a 4-byte format number")
                })?;
            if found > STORE_FORMAT {
                return Err(StoreError::NewerFormat {
                    path: path.to_path_buf(),
                    found,
                    supported: STORE_FORMAT,
                });
            }
            if found < STORE_FORMAT {
                // 1 → 2: nothing to rewrite; 2 → 3: `recover_inbox` builds
                // the dispatch-order index (see STORE_FORMAT).
                meta.insert(META_FORMAT, &STORE_FORMAT.to_be_bytes())
                    .map_err(|e| StoreError::backend("write", T_META, META_FORMAT, e))?;
                tracing::info!(from = found, to = STORE_FORMAT, "store format upgraded");
            }
            Ok(())
        }
    }
}

/// The id of the run a run starts at one of its steps without waiting for it
/// (`call` with `wait: false`): a ULID with the caller's time and bits drawn
/// from the caller's id and the step's path. The same caller and step always
/// name the same run, so a caller resumed after a crash that starts it again
/// finds it started ([`RunStore::create_run`] refuses an id that exists).
/// `None` when `parent` is not a run id.
pub fn child_run_id(parent: &str, step: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let parent_id = ulid::Ulid::from_string(parent).ok()?;
    let digest = Sha256::new().chain_update(parent.as_bytes()).chain_update(b"/").chain_update(step.as_bytes()).finalize();
    let mut bits = [0u8; 16];
    bits[6..].copy_from_slice(&digest[..10]);
    Some(ulid::Ulid::from_parts(parent_id.timestamp_ms(), u128::from_be_bytes(bits)).to_string())
}

/// A new run id: a ULID for `at`, strictly greater than every id this process
/// made before (ids made in the same millisecond still sort in creation order).
pub fn new_run_id(at: chrono::DateTime<chrono::Utc>) -> String {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match generator.generate_from_datetime(at.into()) {
        Ok(id) => id.to_string(),
        // 2^80 ids in one millisecond: fall back to a fresh random one.
        Err(_) => ulid::Ulid::from_datetime(at.into()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_held_open_is_locked_and_one_just_dropped_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let held = Store::open(dir.path()).unwrap();
        let started = std::time::Instant::now();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(started.elapsed() >= LOCK_RELEASE_WAIT);
        drop(held);
        // Over and over, as the tests that reopen a store do.
        for _ in 0..20 {
            let store = Store::open(dir.path()).unwrap();
            store.sync_blocking().unwrap();
        }
    }

    #[test]
    fn a_directory_from_a_newer_lanyard_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .b()
                .unwrap()
                .t
                .meta
                .insert(META_FORMAT, &(STORE_FORMAT + 1).to_be_bytes())
                .unwrap();
            store.sync_blocking().unwrap();
        }
        let err = Store::open(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the data directory {} holds store format {}, newer than the format {STORE_FORMAT} this lanyard reads; upgrade lanyard",
                dir.path().display(),
                STORE_FORMAT + 1
            )
        );
    }

    #[test]
    fn a_child_run_id_is_the_same_for_the_same_caller_and_step() {
        let parent = new_run_id(chrono::Utc::now());
        let a = child_run_id(&parent, "notify[3]/start").unwrap();
        assert_eq!(child_run_id(&parent, "notify[3]/start").unwrap(), a);
        assert_ne!(child_run_id(&parent, "notify[4]/start").unwrap(), a);
        assert_ne!(child_run_id(&new_run_id(chrono::Utc::now()), "notify[3]/start").unwrap(), a);
        // A run id in its own right, at the caller's time.
        let (p, c) = (ulid::Ulid::from_string(&parent).unwrap(), ulid::Ulid::from_string(&a).unwrap());
        assert_eq!(c.timestamp_ms(), p.timestamp_ms());
        assert_eq!(child_run_id("not a run id", "x"), None);
    }
}
