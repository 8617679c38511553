//! An in-memory store: every trait of [`DataStore`] over plain maps behind one
//! lock.
//!
//! It is for tests: of the consumers that hold a [`crate::SharedStore`] (the
//! daemon, the CLI), which it serves without a data directory or a flush, and
//! of the seam itself, where the trait suite (`tests/it/seam.rs`) runs the same
//! scenarios on it and on the sled [`crate::Store`]. It must not be used to run
//! the daemon for anyone: nothing it holds survives the process, so an event
//! acknowledged to Okta would be lost in a crash, and it keeps everything in
//! memory however much history there is.
//!
//! It keeps the sled store's rules by calling the same functions: the checks
//! and limits (`inbox`, `runs`, `cards`, `state`, `flow_history`, `tables`),
//! listing pages (`runs::PageBuilder`), table pages, sorts and finds, card
//! selectors and CSV parsing and writing. What is its own is only where the
//! records are. Writes are "durable" when they return: [`RunStore::sync`] does
//! nothing, the store is always writable and its epoch is always 0.
//!
//! Behind the `memory` feature (which `test-support` turns on), so that no
//! release build can hold a store that forgets.

use crate::api::{
    Accepted, AuditEntry, BrokenMark, CardEntry, CardSelector, CardStore, DataStore, EventInbox, FlowHistory,
    FlowVersion, InboxEvent, InboxPosition, MAX_AUDIT_ENTRIES, MAX_FLOW_VERSIONS, PageQuery, PruneStats,
    RetentionPolicy, RunFilter, RunEnd, RunPage, RunStore, ScheduleState, SortBy, StateStore, StoreControl,
    TableStore,
};
use crate::error::{Result, StoreError};
use crate::health::{StoreHealth, StoreStatus};
use crate::tables::{ImportMode, ImportStats, RowPage, TableInfo};
use crate::{StoreOptions, cards, csv_io, flow_history, inbox, runs, state, tables};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lanyard_core::caps::{TableQuery, TableRow, TablesApi};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord};
use lanyard_core::{CardError, Clock, Grants, LogEvent, WriteOutcome};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// How to make a [`MemoryStore`].
#[derive(Clone)]
pub struct MemoryOptions {
    /// How long a seen event uuid is remembered (as [`StoreOptions::dedupe_window`]).
    pub dedupe_window: Duration,
    /// Where received times and retention ages come from.
    pub clock: Arc<dyn Clock>,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        let sled = StoreOptions::default();
        MemoryOptions {
            dedupe_window: sled.dedupe_window,
            clock: sled.clock,
        }
    }
}

/// The in-memory store (see the module docs). Cheap to clone; every clone is
/// the same store.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

struct Inner {
    options: MemoryOptions,
    status: watch::Sender<StoreStatus>,
    state: Mutex<State>,
}

/// Everything the store holds. No lock is held across an await.
#[derive(Default)]
struct State {
    next_seq: u64,
    /// Dedupe memory by generation, as the sled store keeps it: start (unix
    /// seconds) → end, and seen key → arrival seq.
    seen: BTreeMap<i64, (i64, HashMap<String, u64>)>,
    /// Events waiting for the dispatcher, in dispatch order.
    waiting: BTreeMap<InboxPosition, InboxEvent>,
    waiting_at: HashMap<u64, InboxPosition>,
    /// Runs by id (ULIDs: creation order).
    runs: BTreeMap<String, RunRecord>,
    /// Each run's steps in the order they were recorded.
    steps: HashMap<String, Vec<StepRecord>>,
    schedules: BTreeMap<String, ScheduleState>,
    cursors: HashMap<String, String>,
    /// (name, version) → entry.
    cards: BTreeMap<(String, String), CardEntry>,
    blobs: HashMap<String, Vec<u8>>,
    versions: HashMap<String, BTreeMap<u64, FlowVersion>>,
    audit: VecDeque<AuditEntry>,
    tables: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store with the sled store's default window and the system clock.
    pub fn new() -> MemoryStore {
        Self::with_options(MemoryOptions::default())
    }

    /// An empty store whose received times and retention ages come from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> MemoryStore {
        Self::with_options(MemoryOptions {
            clock,
            ..MemoryOptions::default()
        })
    }

    pub fn with_options(options: MemoryOptions) -> MemoryStore {
        let status = StoreStatus {
            epoch: 0,
            health: StoreHealth::Writable,
        };
        MemoryStore {
            inner: Arc::new(Inner {
                options,
                status: watch::channel(status).0,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// This store as consumers hold one.
    pub fn shared(&self) -> crate::SharedStore {
        Arc::new(self.clone())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.options.clock.now()
    }
}

impl State {
    fn seen_seq(&self, key: &str) -> Option<u64> {
        self.seen.values().find_map(|(_, uuids)| uuids.get(key).copied())
    }

    /// The generation that takes uuids received at `t` (unix seconds).
    fn generation(&mut self, t: i64, window: Duration) -> &mut HashMap<String, u64> {
        let start = match self.seen.iter().find(|(start, (end, _))| **start <= t && t < *end) {
            Some((start, _)) => *start,
            None => {
                let len = inbox::generation_secs(window);
                let start = t.div_euclid(len) * len;
                self.seen.insert(start, (start + len, HashMap::new()));
                start
            }
        };
        &mut self.seen.get_mut(&start).expect("just found or made").1
    }

    fn steps_in_order(&self, run_id: &str) -> Vec<StepRecord> {
        let mut steps = self.steps.get(run_id).cloned().unwrap_or_default();
        // As the sled journal: by the order they started, then recorded.
        steps.sort_by_key(|s| s.seq);
        steps
    }

    fn delete_run(&mut self, id: &str, stats: &mut PruneStats) {
        if self.runs.remove(id).is_some() {
            stats.runs += 1;
            stats.steps += self.steps.remove(id).map_or(0, |s| s.len() as u64);
        }
    }

    fn change_run(&mut self, id: &str, change: impl FnOnce(RunRecord) -> Result<RunRecord>) -> Result<()> {
        runs::check_id(id)?;
        let old = self
            .runs
            .get(id)
            .ok_or_else(|| StoreError::NotFound(format!("run {id}")))?;
        let input = old.input.clone();
        let flow = old.flow.clone();
        let new = change(old.clone())?;
        runs::check_same_run(id, &flow, &new)?;
        // The input is fixed at creation.
        self.runs.insert(id.to_string(), RunRecord { input, ..new });
        Ok(())
    }

    fn card_mut(&mut self, name: &str, version: &str) -> Result<&mut CardEntry> {
        cards::check_name_version(name, version)?;
        self.cards
            .get_mut(&(name.to_string(), version.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("card {name}@{version}")))
    }

    fn table(&self, table: &str) -> Result<Option<&BTreeMap<String, Value>>> {
        tables::check_table_name(table)?;
        Ok(self.tables.get(table))
    }
}

#[async_trait]
impl EventInbox for MemoryStore {
    async fn accept_from(&self, events: Vec<LogEvent>, source: &str, org: Option<&str>) -> Result<Vec<Accepted>> {
        inbox::check_delivery(events.len(), source, org)?;
        let received = self.now();
        let window = self.inner.options.dedupe_window;
        let mut state = self.state();
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            // The sled store's encoding decides what is refused (its size).
            if let Err(why) = inbox::encode_event(&event, source, org, received)? {
                out.push(Accepted {
                    uuid: event.uuid,
                    new: false,
                    refused: Some(why),
                });
                continue;
            }
            let key = inbox::seen_key(org, &event.uuid).into_owned();
            let new = state.seen_seq(&key).is_none();
            out.push(Accepted {
                uuid: event.uuid.clone(),
                new,
                refused: None,
            });
            if !new {
                continue;
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            state.generation(received.timestamp(), window).insert(key, seq);
            let waiting = InboxEvent::new(seq, source, org.map(str::to_string), received, event);
            state.waiting_at.insert(seq, waiting.position());
            state.waiting.insert(waiting.position(), waiting);
        }
        Ok(out)
    }

    async fn undispatched(&self, after: Option<InboxPosition>, limit: usize) -> Result<Vec<InboxEvent>> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let state = self.state();
        Ok(state
            .waiting
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn inbox_depth(&self) -> Result<usize> {
        // A dispatch here is one step under the lock: never half done.
        Ok(self.state().waiting.len())
    }

    async fn dispatch_from(&self, org: Option<&str>, uuid: &str, new_runs: &[RunRecord]) -> Result<()> {
        let mut state = self.state();
        inbox::check_dispatch(uuid, new_runs, |id| Ok(state.runs.contains_key(id)))?;
        let seq = state
            .seen_seq(&inbox::seen_key(org, uuid))
            .ok_or_else(|| StoreError::NotFound(format!("event {uuid} in the inbox")))?;
        let position = state
            .waiting_at
            .remove(&seq)
            .ok_or_else(|| StoreError::Conflict(format!("event {uuid} is already dispatched")))?;
        let event = state.waiting.remove(&position).expect("indexed by seq");
        // Each run's input is the event as it was accepted.
        let input = event.event.to_value();
        for run in new_runs {
            let run = RunRecord {
                input: input.clone(),
                ..run.clone()
            };
            state.runs.insert(run.id.clone(), run);
        }
        Ok(())
    }
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn create_run(&self, run: &RunRecord) -> Result<()> {
        runs::check_new_run(run)?;
        let mut state = self.state();
        if state.runs.contains_key(&run.id) {
            return Err(StoreError::Conflict(format!("run {} already exists", run.id)));
        }
        // The input limit, as the sled store encodes it.
        runs::encode_run(run)?;
        state.runs.insert(run.id.clone(), run.clone());
        Ok(())
    }

    async fn update_run(&self, run: &RunRecord) -> Result<()> {
        self.state().change_run(&run.id, |_| Ok(run.clone()))
    }

    async fn set_status(&self, id: &str, status: RunStatus, at: DateTime<Utc>) -> Result<()> {
        self.state().change_run(id, |r| Ok(runs::with_status(r, status, at)))
    }

    async fn finish_run(&self, id: &str, outcome: RunEnd, at: DateTime<Utc>) -> Result<()> {
        runs::check_outcome(id, &outcome)?;
        self.state().change_run(id, |r| Ok(runs::with_outcome(r, &outcome, at)))
    }

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        runs::check_id(id)?;
        Ok(self.state().runs.get(id).cloned())
    }

    async fn list_runs(&self, filter: &RunFilter) -> Result<RunPage> {
        let mut page = runs::PageBuilder::new(filter)?;
        let state = self.state();
        let candidates = state
            .runs
            .range(runs::id_bounds(filter))
            .rev()
            .filter(|(_, r)| runs::in_listing_index(filter, &r.flow, r.status));
        for (id, run) in candidates {
            page.examine();
            let found = page.offer(
                id,
                (run.status, &run.flow, run.created),
                || Ok(run.clone()),
                |r| Ok(state.steps_in_order(&r.id)),
            )?;
            if let Some(done) = found {
                return Ok(done);
            }
        }
        Ok(page.finish())
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        Ok(self
            .state()
            .runs
            .values()
            .filter(|r| matches!(r.status, RunStatus::Queued | RunStatus::Running))
            .cloned()
            .collect())
    }

    async fn waiting_runs(&self) -> Result<Vec<RunRecord>> {
        Ok(self.state().runs.values().filter(|r| r.status == RunStatus::Waiting).cloned().collect())
    }

    async fn end_wait(&self, id: &str, step: &str, record: &StepRecord) -> Result<()> {
        runs::encode_step(record)?;
        self.state().change_run(id, |r| runs::with_wait_ended(r, step, record))
    }

    async fn record_step(&self, step: &StepRecord) -> Result<()> {
        runs::encode_step(step)?;
        let mut state = self.state();
        if !state.runs.contains_key(&step.run_id) {
            return Err(runs::no_run_for_step(step));
        }
        state.steps.entry(step.run_id.clone()).or_default().push(step.clone());
        Ok(())
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        runs::check_id(run_id)?;
        Ok(self.state().steps_in_order(run_id))
    }

    async fn sync(&self) -> Result<()> {
        Ok(())
    }

    async fn prune(&self, policy: &RetentionPolicy) -> Result<PruneStats> {
        let now = self.now();
        let mut stats = PruneStats::default();
        let mut state = self.state();
        if let Some(max_age) = policy.max_age {
            let age = chrono::Duration::from_std(max_age)
                .map_err(|_| StoreError::Invalid("retention age out of range".into()))?;
            let cutoff = now - age;
            let old: Vec<String> = state
                .runs
                .range(..=runs::ulid_bound(cutoff, true))
                .filter(|(_, r)| r.status.is_final() && r.created < cutoff)
                .map(|(id, _)| id.clone())
                .collect();
            for id in old {
                state.delete_run(&id, &mut stats);
            }
        }
        if let Some(keep) = policy.max_runs_per_flow {
            let mut by_flow: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
            for (id, r) in state.runs.iter().rev() {
                by_flow.entry(&r.flow).or_default().push((id, r.status.is_final()));
            }
            // Past the newest `keep` of a flow, the finished ones go.
            let gone: Vec<String> = by_flow
                .values()
                .flat_map(|runs| runs.iter().skip(keep).filter(|(_, done)| *done))
                .map(|(id, _)| id.to_string())
                .collect();
            for id in gone {
                state.delete_run(&id, &mut stats);
            }
        }
        let window = self.inner.options.dedupe_window;
        let before = state.seen.len();
        state
            .seen
            .retain(|_, (end, _)| !inbox::generation_expired(*end, window, now.timestamp()));
        stats.dedupe_generations = (before - state.seen.len()) as u64;
        Ok(stats)
    }

    async fn withhold_step_data(&self, run_id: &str) -> Result<usize> {
        runs::check_id(run_id)?;
        let mut state = self.state();
        let steps = state.steps.get_mut(run_id).map(|s| s.as_mut_slice()).unwrap_or_default();
        Ok(steps.iter_mut().map(runs::withhold).filter(|had| *had).count())
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn schedule_state(&self, flow: &str) -> Result<Option<ScheduleState>> {
        state::check_name("flow", flow)?;
        Ok(self.state().schedules.get(flow).cloned())
    }

    async fn set_schedule_state(&self, flow: &str, schedule: &ScheduleState) -> Result<()> {
        state::check_name("flow", flow)?;
        self.state().schedules.insert(flow.to_string(), schedule.clone());
        Ok(())
    }

    async fn remove_schedule_state(&self, flow: &str) -> Result<()> {
        state::check_name("flow", flow)?;
        self.state().schedules.remove(flow);
        Ok(())
    }

    async fn schedule_states(&self) -> Result<Vec<(String, ScheduleState)>> {
        Ok(self
            .state()
            .schedules
            .iter()
            .map(|(f, s)| (f.clone(), s.clone()))
            .collect())
    }

    async fn cursor(&self, name: &str) -> Result<Option<String>> {
        state::check_name("cursor", name)?;
        Ok(self.state().cursors.get(name).cloned())
    }

    async fn set_cursor(&self, name: &str, value: &str) -> Result<()> {
        state::check_cursor(name, value)?;
        self.state().cursors.insert(name.to_string(), value.to_string());
        Ok(())
    }
}

#[async_trait]
impl CardStore for MemoryStore {
    async fn put_card(&self, entry: &CardEntry, wasm: &[u8]) -> Result<WriteOutcome> {
        cards::check_card(entry, wasm)?;
        let mut state = self.state();
        let key = (entry.name.clone(), entry.version.clone());
        if let Some(existing) = state.cards.get_mut(&key) {
            if cards::republish(existing, entry)? {
                existing.broken = None;
            }
            return Ok(WriteOutcome::Unchanged);
        }
        state.blobs.entry(entry.digest.clone()).or_insert_with(|| wasm.to_vec());
        state.cards.insert(key, entry.clone());
        Ok(WriteOutcome::Changed)
    }

    async fn get_card(&self, name: &str, selector: &CardSelector) -> Result<Option<CardEntry>> {
        let entries = self
            .state()
            .cards
            .values()
            .filter(|e| e.name == name)
            .cloned()
            .collect();
        cards::select_card(name, entries, selector)
    }

    async fn card_wasm(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        cards::check_digest(digest)?;
        Ok(self.state().blobs.get(digest).cloned())
    }

    async fn list_cards(&self) -> Result<Vec<CardEntry>> {
        let mut out: Vec<CardEntry> = self.state().cards.values().cloned().collect();
        cards::sort_cards(&mut out);
        Ok(out)
    }

    async fn remove_card(&self, name: &str, version: &str) -> Result<Option<CardEntry>> {
        cards::check_name_version(name, version)?;
        let mut state = self.state();
        let Some(entry) = state.cards.remove(&(name.to_string(), version.to_string())) else {
            return Ok(None);
        };
        if !state.cards.values().any(|e| e.digest == entry.digest) {
            state.blobs.remove(&entry.digest);
        }
        Ok(Some(entry))
    }

    async fn set_broken(&self, name: &str, version: &str, broken: Option<BrokenMark>) -> Result<CardEntry> {
        let mut state = self.state();
        let entry = state.card_mut(name, version)?;
        entry.broken = broken;
        Ok(entry.clone())
    }

    async fn set_grants(&self, name: &str, version: &str, granted: Option<Grants>) -> Result<CardEntry> {
        let mut state = self.state();
        let entry = state.card_mut(name, version)?;
        entry.granted = granted;
        Ok(entry.clone())
    }
}

#[async_trait]
impl FlowHistory for MemoryStore {
    async fn add_flow_version(&self, version: &FlowVersion) -> Result<FlowVersion> {
        flow_history::check_source(version)?;
        flow_history::check_file(&version.file)?;
        let mut state = self.state();
        let kept = state.versions.entry(version.file.clone()).or_default();
        // Numbered after the newest kept, which is never dropped: numbers are
        // not reused.
        let next = kept.last_key_value().map_or(1, |(n, _)| n + 1);
        let v = FlowVersion {
            version: next,
            ..version.clone()
        };
        kept.insert(next, v.clone());
        while kept.len() > MAX_FLOW_VERSIONS {
            kept.pop_first();
        }
        Ok(v)
    }

    async fn flow_versions(&self, file: &str) -> Result<Vec<FlowVersion>> {
        flow_history::check_file(file)?;
        Ok(self
            .state()
            .versions
            .get(file)
            .map(|kept| kept.values().rev().cloned().collect())
            .unwrap_or_default())
    }

    async fn flow_version(&self, file: &str, version: u64) -> Result<Option<FlowVersion>> {
        flow_history::check_file(file)?;
        Ok(self
            .state()
            .versions
            .get(file)
            .and_then(|kept| kept.get(&version).cloned()))
    }

    async fn add_audit(&self, entry: &AuditEntry) -> Result<()> {
        flow_history::check_file(&entry.file)?;
        let mut state = self.state();
        state.audit.push_back(entry.clone());
        while state.audit.len() > MAX_AUDIT_ENTRIES {
            state.audit.pop_front();
        }
        Ok(())
    }

    async fn audit(&self, file: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        Ok(self
            .state()
            .audit
            .iter()
            .rev()
            .filter(|e| file.is_none_or(|f| f == e.file))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// A table's rows in key order, as the shared table functions read them.
fn rows_from<'a>(
    rows: &'a BTreeMap<String, Value>,
    start: Bound<Vec<u8>>,
) -> impl Iterator<Item = Result<(&'a String, &'a Value)>> + 'a {
    // The bound is made from a `&str`.
    let start = start.map(|b| String::from_utf8(b).expect("a key bound is UTF-8"));
    rows.range::<String, _>((start, Bound::Unbounded)).map(Ok)
}

fn key_of(k: &&String) -> Result<String> {
    Ok((*k).clone())
}

fn value_of(_: &&String, v: &&Value) -> Result<Value> {
    Ok((*v).clone())
}

impl MemoryStore {
    fn page(&self, table: &str, q: &PageQuery<'_>) -> Result<RowPage> {
        tables::check_page(table, q.prefix, q.after, q.limit)?;
        let state = self.state();
        let Some(rows) = state.table(table)? else {
            return Ok(RowPage {
                rows: Vec::new(),
                next: None,
                examined: 0,
            });
        };
        let rows = rows_from(rows, tables::page_start(q.prefix, q.after));
        tables::page_of(q.prefix, q.contains, q.column, q.limit, rows, key_of, value_of)
    }

    fn get(&self, table: &str, key: &str) -> Result<Option<Value>> {
        tables::check_key(table, key)?;
        Ok(self.state().table(table)?.and_then(|rows| rows.get(key).cloned()))
    }

    fn put(&self, table: &str, key: &str, value: &Value) -> Result<WriteOutcome> {
        tables::check_key(table, key)?;
        tables::encode_row(table, key, value)?;
        tables::check_table_name(table)?;
        let mut state = self.state();
        let rows = state.tables.entry(table.to_string()).or_default();
        if rows.get(key) == Some(value) {
            return Ok(WriteOutcome::Unchanged);
        }
        rows.insert(key.to_string(), value.clone());
        Ok(WriteOutcome::Changed)
    }

    fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome> {
        tables::check_key(table, key)?;
        tables::check_table_name(table)?;
        let removed = self
            .state()
            .tables
            .get_mut(table)
            .and_then(|rows| rows.remove(key));
        Ok(if removed.is_some() {
            WriteOutcome::Changed
        } else {
            WriteOutcome::Unchanged
        })
    }

    fn find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>> {
        let (limit, prefix) = tables::check_find(table, query)?;
        let state = self.state();
        let Some(rows) = state.table(table)? else {
            return Ok(Vec::new());
        };
        let rows = rows_from(rows, Bound::Included(prefix.as_bytes().to_vec()))
            .take_while(|row| row.as_ref().is_ok_and(|(k, _)| k.starts_with(prefix)));
        tables::find_in(table, query, limit, rows, key_of, value_of)
    }
}

#[async_trait]
impl TableStore for MemoryStore {
    async fn list_tables(&self) -> Result<Vec<TableInfo>> {
        let state = self.state();
        Ok(state
            .tables
            .iter()
            .map(|(name, rows)| TableInfo {
                name: name.clone(),
                rows: rows.len() as u64,
                // As the sled store counts them: keys, and rows as stored
                // (a format byte, then JSON).
                bytes: rows.iter().map(|(k, v)| (k.len() + 1 + v.to_string().len()) as u64).sum(),
            })
            .collect())
    }

    async fn table_page(&self, table: &str, query: &PageQuery<'_>) -> Result<RowPage> {
        self.page(table, query)
    }

    async fn table_page_sorted(&self, table: &str, query: &PageQuery<'_>, sort: &SortBy<'_>) -> Result<RowPage> {
        tables::sorted_page(table, sort.field, sort.desc, sort.offset, query.limit, |after| {
            let page = PageQuery {
                after,
                limit: tables::limits::MAX_FIND_LIMIT,
                ..*query
            };
            self.page(table, &page)
        })
    }

    async fn table_get(&self, table: &str, key: &str) -> Result<Option<Value>> {
        self.get(table, key)
    }

    async fn table_put(&self, table: &str, key: &str, value: &Value) -> Result<WriteOutcome> {
        self.put(table, key, value)
    }

    async fn table_delete(&self, table: &str, key: &str) -> Result<WriteOutcome> {
        self.delete(table, key)
    }

    async fn table_find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>> {
        self.find(table, query)
    }

    fn export_csv(&self, table: &str, out: &mut dyn std::io::Write) -> Result<u64> {
        let state = self.state();
        let rows = state
            .table(table)?
            .ok_or_else(|| StoreError::NotFound(format!("table `{table}`")))?;
        let rows = || {
            rows.iter()
                .map(|(k, v)| csv_io::csv_row(table, k.clone(), v.clone()))
        };
        csv_io::write_csv(table, rows, out)
    }

    fn import_csv(&self, table: &str, input: &mut dyn std::io::Read, mode: ImportMode) -> Result<ImportStats> {
        let parsed = csv_io::parse_csv(table, input)?;
        let mut state = self.state();
        let rows = state.tables.entry(table.to_string()).or_default();
        let mut stats = ImportStats::default();
        for (key, value, _) in parsed.rows {
            if csv_io::tally(&mut stats, rows.get(&key), &value) {
                rows.insert(key, value);
            }
        }
        if mode == ImportMode::Replace {
            let before = rows.len();
            rows.retain(|k, _| parsed.keys.contains_key(k));
            stats.deleted = (before - rows.len()) as u64;
        }
        Ok(stats)
    }
}

#[async_trait]
impl TablesApi for MemoryStore {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Value>, CardError> {
        MemoryStore::get(self, table, key).map_err(tables::card_error)
    }

    async fn put(&self, table: &str, key: &str, value: Value) -> Result<WriteOutcome, CardError> {
        MemoryStore::put(self, table, key, &value).map_err(tables::card_error)
    }

    async fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome, CardError> {
        MemoryStore::delete(self, table, key).map_err(tables::card_error)
    }

    async fn find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>, CardError> {
        MemoryStore::find(self, table, query).map_err(tables::card_error)
    }
}

impl StoreControl for MemoryStore {
    fn health(&self) -> StoreHealth {
        StoreHealth::Writable
    }

    fn epoch(&self) -> u64 {
        0
    }

    fn subscribe(&self) -> watch::Receiver<StoreStatus> {
        self.inner.status.subscribe()
    }

    fn sync_blocking(&self) -> Result<()> {
        Ok(())
    }

    fn location(&self) -> String {
        "memory".to_string()
    }
}

/// A compile-time check that the memory store serves every consumer of the seam.
const _: fn(MemoryStore) -> Arc<dyn DataStore> = |s| Arc::new(s);
