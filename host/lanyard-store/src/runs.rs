//! Runs and the step journal.
//!
//! The layout keeps inserts of new keys few, because in sled 0.34 a new key
//! costs 15 to 60 µs (leaf splits rewrite whole nodes) where overwriting an
//! existing key costs about 3 µs. A run costs three new keys here (record, flow
//! index, active index) plus one per 64 steps.
//!
//! Trees (run ids are 26-character ULIDs, so id order is creation order):
//! - `v1/runs`: id → the run, in one of two formats:
//!   - format 1 (runs started by the API, schedules, helpers, by hand): head
//!     length (u32 BE), the head as JSON (everything but the input), the input
//!     as JSON. A status change rewrites the head and copies the input's bytes
//!     without decoding them.
//!   - format 2 (runs an Okta event started): the event's arrival seq (u64 BE),
//!     the number of other runs the same event started (u16 BE) and their ids,
//!     then the head as JSON. The input is the event, kept once in `v1/events`
//!     (see `inbox`) however many runs it starts, so neither creating the run
//!     nor changing its status copies the event. Deleting the last run that
//!     refers to an event deletes the event.
//!
//!   Written last when a run is created and removed first when it is deleted:
//!   index entries whose run is missing are leftovers that readers skip and
//!   prune removes.
//! - `v1/runs-by-flow`: flow, 0x00, id → empty.
//! - `v1/runs-by-status`: status bucket byte, id → empty, for the selective
//!   statuses only: queued and running share the "active" bucket (so starting a
//!   run rewrites nothing but its record); succeeded, the common case, is not
//!   indexed (a succeeded filter scans runs, where matches are dense).
//! - `v1/steps`: run id, chunk number (u32 BE) → format byte, then records,
//!   each a length (u32 BE) and a step as JSON. Recording a step appends to the
//!   run's last chunk (an overwrite) until it holds 64 steps or 32 KiB.
//!
//! A status change writes the record, then the new index entry, then removes
//! the old one: a crash between leaves a stale entry that readers filter out by
//! the record's status.

use crate::api::{PruneStats, RetentionPolicy, RunFilter, RunEnd, RunPage};
use crate::codec::{prefixed_records, split_prefixed, unknown_format};
use crate::error::{Result, StoreError};
use crate::{Store, T_RUNS, T_RUNS_BY_FLOW, T_RUNS_BY_STATUS, T_STEPS};
use chrono::{DateTime, Utc};
use lanyard_core::history::{ErrorInfo, RunRecord, RunStatus, StepRecord, TriggerInfo, WaitState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::Bound;

const ID_LEN: usize = 26;
const MAX_FLOW_BYTES: usize = 256;
/// A step record's serialized size limit. Card outputs are capped far below
/// this by the runtime; this only stops a runaway record.
pub const MAX_STEP_BYTES: usize = 8 * 1024 * 1024;
/// A run input's serialized size limit.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;
const DEFAULT_LIST_LIMIT: usize = 50;
pub const MAX_LIST_LIMIT: usize = 1000;
/// Index entries one `list_runs` call looks at before it returns a short page
/// with a cursor, so a rare filter cannot turn one call into a full scan.
const MAX_EXAMINED: usize = 20_000;
/// Runs a search (text, card, error kind) reads with their steps for one
/// page; it then answers what it found and where to go on.
const MAX_SEARCHED: usize = 5_000;
/// A journal chunk takes steps until it holds this many, or this many bytes.
const CHUNK_STEPS: usize = 64;
const CHUNK_BYTES: usize = 32 * 1024;

/// The format byte of a run record (head length, head, input).
const FORMAT_RUN_V1: u8 = 1;
/// The format byte of a run record whose input is an event in `v1/events`
/// (event seq, sibling runs, head).
const FORMAT_RUN_EVENT: u8 = 2;
/// The format byte of a journal chunk (length-prefixed step records).
const FORMAT_CHUNK_V1: u8 = 1;

#[derive(Serialize)]
struct HeadRef<'a> {
    id: &'a str,
    flow: &'a str,
    flow_digest: &'a str,
    trigger: &'a TriggerInfo,
    status: RunStatus,
    created: DateTime<Utc>,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    output: &'a Option<Value>,
    error: &'a Option<ErrorInfo>,
    reason: &'a Option<String>,
    subject: &'a Option<String>,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: &'a Option<WaitState>,
}

impl<'a> HeadRef<'a> {
    fn of(r: &'a RunRecord) -> Self {
        HeadRef {
            id: &r.id,
            flow: &r.flow,
            flow_digest: &r.flow_digest,
            trigger: &r.trigger,
            status: r.status,
            created: r.created,
            started: r.started,
            ended: r.ended,
            output: &r.output,
            error: &r.error,
            reason: &r.reason,
            subject: &r.subject,
            dry_run: r.dry_run,
            wait: &r.wait,
        }
    }
}

#[derive(Clone, Deserialize)]
pub(crate) struct Head {
    pub(crate) id: String,
    pub(crate) flow: String,
    flow_digest: String,
    trigger: TriggerInfo,
    pub(crate) status: RunStatus,
    created: DateTime<Utc>,
    #[serde(default)]
    started: Option<DateTime<Utc>>,
    #[serde(default)]
    ended: Option<DateTime<Utc>>,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    error: Option<ErrorInfo>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    wait: Option<WaitState>,
}

impl Head {
    fn into_record(self, input: Value) -> RunRecord {
        RunRecord {
            id: self.id,
            flow: self.flow,
            flow_digest: self.flow_digest,
            trigger: self.trigger,
            input,
            status: self.status,
            created: self.created,
            started: self.started,
            ended: self.ended,
            output: self.output,
            error: self.error,
            reason: self.reason,
            subject: self.subject,
            dry_run: self.dry_run,
            wait: self.wait,
        }
    }
}

/// A run as the runs tree stores it.
fn encode_run_parts(run: &RunRecord, input_json: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512 + input_json.len());
    out.push(FORMAT_RUN_V1);
    out.extend_from_slice(&[0; 4]);
    serde_json::to_writer(&mut out, &HeadRef::of(run))
        .map_err(|e| StoreError::corrupt(T_RUNS, &run.id, format!("cannot encode: {e}")))?;
    let head_len = (out.len() - 5) as u32;
    out[1..5].copy_from_slice(&head_len.to_be_bytes());
    out.extend_from_slice(input_json);
    Ok(out)
}

/// Encode a new run, enforcing the input limit.
pub(crate) fn encode_run(run: &RunRecord) -> Result<Vec<u8>> {
    let input = serde_json::to_vec(&run.input).map_err(|e| {
        StoreError::corrupt(T_RUNS, &run.id, format!("cannot encode the input: {e}"))
    })?;
    if input.len() > MAX_INPUT_BYTES {
        return Err(StoreError::Invalid(format!(
            "run {}: input is {} bytes; at most {MAX_INPUT_BYTES}",
            run.id,
            input.len()
        )));
    }
    encode_run_parts(run, &input)
}

/// Encode a run an event started, for `dispatch`: its input is the event at
/// `seq` in `v1/events` and is not written here. `siblings` are the other runs
/// the same event started.
pub(crate) fn encode_event_run(run: &RunRecord, seq: u64, siblings: &[&str]) -> Result<Vec<u8>> {
    let n = u16::try_from(siblings.len()).map_err(|_| {
        StoreError::Invalid(format!(
            "one event starts {} runs; at most {}",
            siblings.len() + 1,
            u16::MAX
        ))
    })?;
    let mut out = Vec::with_capacity(512 + siblings.len() * ID_LEN);
    out.push(FORMAT_RUN_EVENT);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    for s in siblings {
        check_id(s)?;
        out.extend_from_slice(s.as_bytes());
    }
    serde_json::to_writer(&mut out, &HeadRef::of(run))
        .map_err(|e| StoreError::corrupt(T_RUNS, &run.id, format!("cannot encode: {e}")))?;
    Ok(out)
}

/// Where a stored run's input is.
pub(crate) enum InputAt<'a> {
    /// Its JSON, inline (format 1).
    Inline(&'a [u8]),
    /// The event at this seq in `v1/events`, shared with the sibling runs
    /// (ids, concatenated) (format 2).
    Event { seq: u64, siblings: &'a [u8] },
}

/// A stored run, split: the bytes before the head (kept as they are when the
/// head changes), the head's JSON, and where the input is.
pub(crate) struct Parts<'a> {
    before_head: &'a [u8],
    pub(crate) head: &'a [u8],
    pub(crate) input: InputAt<'a>,
}

pub(crate) fn run_parts<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Parts<'a>> {
    match bytes.split_first() {
        Some((&FORMAT_RUN_V1, rest)) => {
            let (head, input) = split_prefixed(rest)
                .ok_or_else(|| StoreError::corrupt(T_RUNS, key, "head length past the end"))?;
            Ok(Parts {
                before_head: &bytes[..5],
                head,
                input: InputAt::Inline(input),
            })
        }
        Some((&FORMAT_RUN_EVENT, rest)) => {
            let truncated = || StoreError::corrupt(T_RUNS, key, "truncated event reference");
            let (seq, rest) = rest.split_first_chunk::<8>().ok_or_else(truncated)?;
            let (n, rest) = rest.split_first_chunk::<2>().ok_or_else(truncated)?;
            let sib_len = u16::from_be_bytes(*n) as usize * ID_LEN;
            if sib_len > rest.len() {
                return Err(StoreError::corrupt(
                    T_RUNS,
                    key,
                    "sibling runs past the end",
                ));
            }
            let (siblings, head) = rest.split_at(sib_len);
            Ok(Parts {
                before_head: &bytes[..bytes.len() - head.len()],
                head,
                input: InputAt::Event {
                    seq: u64::from_be_bytes(*seq),
                    siblings,
                },
            })
        }
        _ => Err(unknown_format(T_RUNS, key, bytes)),
    }
}

/// The stored run with its head replaced by `run`'s (the input stays as is).
fn with_head(key: &[u8], old: &[u8], run: &RunRecord) -> Result<Vec<u8>> {
    let parts = run_parts(key, old)?;
    match parts.input {
        InputAt::Inline(input) => encode_run_parts(run, input),
        InputAt::Event { .. } => {
            let mut out = Vec::with_capacity(parts.before_head.len() + 512);
            out.extend_from_slice(parts.before_head);
            serde_json::to_writer(&mut out, &HeadRef::of(run))
                .map_err(|e| StoreError::corrupt(T_RUNS, key, format!("cannot encode: {e}")))?;
            Ok(out)
        }
    }
}

pub(crate) fn decode_head(key: &[u8], bytes: &[u8]) -> Result<Head> {
    let parts = run_parts(key, bytes)?;
    serde_json::from_slice(parts.head).map_err(|e| StoreError::corrupt(T_RUNS, key, e.to_string()))
}

/// The index bucket of a status; `None` for succeeded, which is not indexed.
fn bucket(status: RunStatus) -> Option<u8> {
    match status {
        RunStatus::Queued | RunStatus::Running => Some(b'a'),
        RunStatus::Succeeded => None,
        RunStatus::Failed => Some(b'f'),
        RunStatus::Stopped => Some(b'p'),
        RunStatus::Suppressed => Some(b'u'),
        RunStatus::Cancelled => Some(b'c'),
        RunStatus::Waiting => Some(b'w'),
    }
}

const ALL_BUCKETS: [u8; 6] = [b'a', b'f', b'p', b'u', b'c', b'w'];

fn bucket_key(bucket: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + ID_LEN);
    k.push(bucket);
    k.extend_from_slice(id.as_bytes());
    k
}

fn flow_key(flow: &str, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(flow.len() + 1 + ID_LEN);
    k.extend_from_slice(flow.as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

fn chunk_key(run_id: &str, chunk: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(ID_LEN + 4);
    k.extend_from_slice(run_id.as_bytes());
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// A run id must be a canonical ULID: the store's orderings depend on it.
pub(crate) fn check_id(id: &str) -> Result<()> {
    match ulid::Ulid::from_string(id) {
        Ok(u) if u.to_string() == id => Ok(()),
        _ => Err(StoreError::Invalid(format!(
            "run id `{}` is not a ULID (make ids with lanyard_store::new_run_id)",
            id.escape_debug()
        ))),
    }
}

pub(crate) fn check_new_run(run: &RunRecord) -> Result<()> {
    check_id(&run.id)?;
    if run.flow.is_empty() || run.flow.len() > MAX_FLOW_BYTES || run.flow.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "run {}: flow name must be 1 to {MAX_FLOW_BYTES} bytes without NUL",
            run.id
        )));
    }
    Ok(())
}

/// Whether a listing by `f` goes through the index holding a run of `flow`
/// in `status`: the flow's when it names one, else the status's bucket, else
/// every run. What counts towards a listing's examined cap depends on it.
#[cfg_attr(not(feature = "memory"), allow(dead_code))] // only the memory store walks every run
pub(crate) fn in_listing_index(f: &RunFilter, flow: &str, status: RunStatus) -> bool {
    match (&f.flow, f.status.and_then(bucket)) {
        (Some(wanted), _) => wanted == flow,
        (None, Some(b)) => bucket(status) == Some(b),
        (None, None) => true,
    }
}

/// The run ids a listing by `f` looks at: from `since` (or the first) up to
/// the cursor (exclusive) or `until` (inclusive).
pub(crate) fn id_bounds(f: &RunFilter) -> (Bound<String>, Bound<String>) {
    let lo = Bound::Included(f.since.map_or_else(|| "0".repeat(ID_LEN), |s| ulid_bound(s, false)));
    let hi = match (&f.cursor, f.until) {
        (Some(c), Some(u)) if *c <= ulid_bound(u, true) => Bound::Excluded(c.clone()),
        (_, Some(u)) => Bound::Included(ulid_bound(u, true)),
        (Some(c), None) => Bound::Excluded(c.clone()),
        (None, None) => Bound::Included("Z".repeat(ID_LEN)),
    };
    (lo, hi)
}

/// One page of [`crate::RunStore::list_runs`] as it fills, for any backend:
/// the backend walks the runs of its index newest first, calling
/// [`PageBuilder::examine`] for each entry and [`PageBuilder::offer`] for each
/// run it finds; this decides what matches, when the page is full, and when
/// one call has looked at enough.
pub(crate) struct PageBuilder<'f> {
    f: &'f RunFilter,
    limit: usize,
    runs: Vec<RunRecord>,
    examined: usize,
}

impl<'f> PageBuilder<'f> {
    /// Check the filter's limit and cursor.
    pub(crate) fn new(f: &'f RunFilter) -> Result<Self> {
        let limit = f.limit.unwrap_or(DEFAULT_LIST_LIMIT);
        if limit == 0 || limit > MAX_LIST_LIMIT {
            return Err(StoreError::Invalid(format!(
                "a page holds 1 to {MAX_LIST_LIMIT} runs, not {limit}"
            )));
        }
        if let Some(c) = &f.cursor {
            check_id(c).map_err(|_| StoreError::Invalid(format!("`{c}` is not a run cursor")))?;
        }
        Ok(PageBuilder { f, limit, runs: Vec::new(), examined: 0 })
    }

    /// Count one index entry looked at (whether or not its run is there).
    pub(crate) fn examine(&mut self) {
        self.examined += 1;
    }

    /// The run `id` (status, flow, created: `head`), read whole with `run` and
    /// its steps with `steps` only if needed. Returns the page once it is done.
    pub(crate) fn offer(
        &mut self,
        id: &str,
        head: (RunStatus, &str, DateTime<Utc>),
        run: impl FnOnce() -> Result<RunRecord>,
        steps: impl FnOnce(&RunRecord) -> Result<Vec<StepRecord>>,
    ) -> Result<Option<RunPage>> {
        let f = self.f;
        let (status, flow, created) = head;
        let matches = f.status.is_none_or(|s| status == s)
            && f.flow.as_deref().is_none_or(|fl| fl == flow)
            && f.since.is_none_or(|s| created >= s)
            && f.until.is_none_or(|u| created <= u);
        if matches {
            let run = run()?;
            if f.searches() && !search_matches(&run, &steps(&run)?, f) {
                if self.examined >= MAX_SEARCHED {
                    return Ok(Some(self.cut(id)));
                }
                return Ok(None);
            }
            self.runs.push(run);
            if self.runs.len() == self.limit {
                return Ok(Some(self.cut(id)));
            }
        }
        if self.examined >= MAX_EXAMINED {
            return Ok(Some(self.cut(id)));
        }
        Ok(None)
    }

    fn cut(&mut self, id: &str) -> RunPage {
        RunPage { runs: std::mem::take(&mut self.runs), next_cursor: Some(id.to_string()) }
    }

    /// The page when the index ran out: nothing older.
    pub(crate) fn finish(self) -> RunPage {
        RunPage { runs: self.runs, next_cursor: None }
    }
}

/// Whether `run` and its `steps` have what a search (text, card, error kind) asks for.
pub(crate) fn search_matches(run: &RunRecord, steps: &[StepRecord], f: &RunFilter) -> bool {
    let card_of = |c: &str| c.split('@').next().unwrap_or(c).to_string();
    if let Some(card) = &f.card {
        let named = |c: &str| c == card || card_of(c) == *card;
        let used = steps.iter().any(|s| s.card.as_deref().is_some_and(named))
            || run.error.as_ref().and_then(|e| e.card.as_deref()).is_some_and(named);
        if !used {
            return false;
        }
    }
    if let Some(kind) = &f.error_kind {
        let failed = run.error.iter().chain(steps.iter().filter_map(|s| s.error.as_ref())).any(|e| e.kind.as_str() == kind);
        if !failed {
            return false;
        }
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
        let needle = text.to_lowercase();
        let has = |v: &serde_json::Value| v.to_string().to_lowercase().contains(&needle);
        let in_run = has(&run.input)
            || run.output.as_ref().is_some_and(has)
            || run.error.as_ref().is_some_and(|e| e.message.to_lowercase().contains(&needle))
            || run.subject.as_deref().is_some_and(|s| s.to_lowercase().contains(&needle));
        let in_steps = || steps.iter().any(|s| s.input.as_ref().is_some_and(has) || s.output.as_ref().is_some_and(has));
        if !in_run && !in_steps() {
            return false;
        }
    }
    true
}

/// A run moved to `status` at `at`: `started` stamped when it starts running,
/// `ended` when the status is final.
pub(crate) fn with_status(mut r: RunRecord, status: RunStatus, at: DateTime<Utc>) -> RunRecord {
    r.status = status;
    if status == RunStatus::Running && r.started.is_none() {
        r.started = Some(at);
    }
    if status.is_final() {
        r.ended = Some(at);
    }
    r
}

/// Refuse an outcome whose status is not final.
pub(crate) fn check_outcome(id: &str, outcome: &RunEnd) -> Result<()> {
    if !outcome.status.is_final() {
        return Err(StoreError::Invalid(format!(
            "run {id}: `{}` is not a final status",
            outcome.status
        )));
    }
    Ok(())
}

/// A run ended with `outcome` at `at`.
pub(crate) fn with_outcome(mut r: RunRecord, outcome: &RunEnd, at: DateTime<Utc>) -> RunRecord {
    r.status = outcome.status;
    r.wait = None;
    r.output = outcome.output.clone();
    r.error = outcome.error.clone();
    r.reason = outcome.reason.clone();
    r.ended = Some(at);
    r
}

/// A run whose wait at `step` ended with `record`: queued again, the record
/// kept with the wait until the run's journal has it. A run that is not
/// waiting there (resumed already, cancelled, another step) is a conflict:
/// a signal resumes a run once.
pub(crate) fn with_wait_ended(mut r: RunRecord, step: &str, record: &StepRecord) -> Result<RunRecord> {
    let id = r.id.clone();
    match &mut r.wait {
        Some(w) if r.status == RunStatus::Waiting && w.step == step && w.ended.is_none() => {
            w.ended = Some(Box::new(record.clone()));
            r.status = RunStatus::Queued;
            Ok(r)
        }
        Some(w) if w.step == step => Err(StoreError::Conflict(format!(
            "run {id} is no longer waiting at `{step}`: its wait has ended"
        ))),
        _ => Err(StoreError::Conflict(format!("run {id} is not waiting at `{step}` (it is {})", r.status))),
    }
}

/// Refuse a change to a run's id or flow.
pub(crate) fn check_same_run(id: &str, flow: &str, new: &RunRecord) -> Result<()> {
    if new.id != id || new.flow != flow {
        return Err(StoreError::Invalid(format!(
            "run {id}: the id and flow of a run cannot change"
        )));
    }
    Ok(())
}

/// A step as the journal records it: four bytes for its length (left to the
/// caller), then its JSON; checked against the journal's rules.
pub(crate) fn encode_step(step: &StepRecord) -> Result<Vec<u8>> {
    let run_id = step.run_id.as_str();
    check_id(run_id)?;
    if step.path.is_empty() {
        return Err(StoreError::Invalid(format!(
            "run {run_id}: a step needs a path"
        )));
    }
    let mut record = Vec::with_capacity(512);
    record.extend_from_slice(&[0; 4]);
    serde_json::to_writer(&mut record, step)
        .map_err(|e| StoreError::corrupt(T_STEPS, run_id, format!("cannot encode: {e}")))?;
    let len = record.len() - 4;
    if len > MAX_STEP_BYTES {
        return Err(StoreError::Invalid(format!(
            "run {run_id}: step `{}` is {len} bytes recorded; at most {MAX_STEP_BYTES}",
            step.path
        )));
    }
    Ok(record)
}

/// Drop a step's data, marking it withheld; whether it had any.
pub(crate) fn withhold(step: &mut StepRecord) -> bool {
    let had = step.input.is_some() || step.output.is_some();
    step.input = None;
    step.output = None;
    step.withheld = true;
    had
}

/// The error for a step of a run that does not exist.
pub(crate) fn no_run_for_step(step: &StepRecord) -> StoreError {
    StoreError::NotFound(format!("run {} (recording step `{}`)", step.run_id, step.path))
}

pub(crate) fn ulid_bound(t: DateTime<Utc>, high: bool) -> String {
    let ms = t.timestamp_millis().max(0) as u64;
    ulid::Ulid::from_parts(ms, if high { u128::MAX } else { 0 }).to_string()
}

fn id_of<'a>(tree: &str, key: &'a [u8], prefix_len: usize) -> Result<&'a str> {
    key.get(prefix_len..)
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or_else(|| StoreError::corrupt(tree, key, "no run id in the key"))
}

impl Store {
    pub(crate) fn run_exists(&self, id: &str) -> Result<bool> {
        let b = self.b()?;
        b.t
            .runs
            .contains_key(id)
            .map_err(|e| StoreError::backend("read", T_RUNS, id, e))
    }

    /// Write an encoded run (from [`encode_run`]) unless it exists. Index
    /// entries first, the record last. Returns whether it wrote.
    pub(crate) fn write_new_run(&self, encoded: &[u8]) -> Result<bool> {
        let head = decode_head(b"(new run)", encoded)?;
        if self.run_exists(&head.id)? {
            return Ok(false);
        }
        self.write_run_unchecked(&head.id, &head.flow, head.status, encoded)
    }

    /// [`Store::write_new_run`] for a caller that has just checked the run is new.
    pub(crate) fn write_run_unchecked(
        &self,
        id: &str,
        flow: &str,
        status: RunStatus,
        encoded: &[u8],
    ) -> Result<bool> {
        let b = self.b()?;
        let t = &b.t;
        let fk = flow_key(flow, id);
        t.runs_by_flow
            .insert(&fk, &[])
            .map_err(|e| StoreError::backend("write", T_RUNS_BY_FLOW, &fk, e))?;
        if let Some(b) = bucket(status) {
            let sk = bucket_key(b, id);
            t.runs_by_status
                .insert(&sk, &[])
                .map_err(|e| StoreError::backend("write", T_RUNS_BY_STATUS, &sk, e))?;
        }
        let created = t
            .runs
            .compare_and_swap(id, None as Option<&[u8]>, Some(encoded))
            .map_err(|e| StoreError::backend("write", T_RUNS, id, e))?;
        Ok(created.is_ok())
    }

    fn stored_run(&self, id: &str) -> Result<Option<sled::IVec>> {
        let b = self.b()?;
        b.t
            .runs
            .get(id)
            .map_err(|e| StoreError::backend("read", T_RUNS, id, e))
    }

    pub(crate) fn create_run_now(&self, run: &RunRecord) -> Result<()> {
        check_new_run(run)?;
        if self.run_exists(&run.id)?
            || !self.write_run_unchecked(&run.id, &run.flow, run.status, &encode_run(run)?)?
        {
            return Err(StoreError::Conflict(format!(
                "run {} already exists",
                run.id
            )));
        }
        Ok(())
    }

    /// A stored run, its input read from where it is.
    fn decode_run(&self, key: &[u8], bytes: &[u8]) -> Result<RunRecord> {
        let parts = run_parts(key, bytes)?;
        let head: Head = serde_json::from_slice(parts.head)
            .map_err(|e| StoreError::corrupt(T_RUNS, key, e.to_string()))?;
        let input = match parts.input {
            InputAt::Inline(json) => serde_json::from_slice(json)
                .map_err(|e| StoreError::corrupt(T_RUNS, key, format!("input: {e}")))?,
            InputAt::Event { seq, .. } => self.event_input(seq).map_err(|e| match e {
                StoreError::NotFound(what) => {
                    StoreError::corrupt(T_RUNS, key, format!("the run's input, {what}, is missing"))
                }
                e => e,
            })?,
        };
        Ok(head.into_record(input))
    }

    pub(crate) fn get_run_now(&self, id: &str) -> Result<Option<RunRecord>> {
        check_id(id)?;
        match self.stored_run(id)? {
            Some(bytes) => self.decode_run(id.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Replace a run's head with `change(head)` (the input's bytes are kept as
    /// they are), keeping the status index in step.
    fn change_run(&self, id: &str, change: impl Fn(Head) -> Result<RunRecord>) -> Result<()> {
        let b = self.b()?;
        check_id(id)?;
        let t = &b.t;
        loop {
            let old = self
                .stored_run(id)?
                .ok_or_else(|| StoreError::NotFound(format!("run {id}")))?;
            let head = decode_head(id.as_bytes(), &old)?;
            let (old_status, old_flow) = (head.status, head.flow.clone());
            let new = change(head)?;
            check_same_run(id, &old_flow, &new)?;
            let bytes = with_head(id.as_bytes(), &old, &new)?;
            let swapped = t
                .runs
                .compare_and_swap(id, Some(&old), Some(bytes))
                .map_err(|e| StoreError::backend("write", T_RUNS, id, e))?;
            if swapped.is_err() {
                continue; // changed underneath: apply the change to the new state
            }
            let (was, is) = (bucket(old_status), bucket(new.status));
            if was != is {
                if let Some(b) = is {
                    let k = bucket_key(b, id);
                    t.runs_by_status
                        .insert(&k, &[])
                        .map_err(|e| StoreError::backend("write", T_RUNS_BY_STATUS, &k, e))?;
                }
                if let Some(b) = was {
                    let k = bucket_key(b, id);
                    t.runs_by_status
                        .remove(&k)
                        .map_err(|e| StoreError::backend("remove", T_RUNS_BY_STATUS, &k, e))?;
                }
            }
            return Ok(());
        }
    }

    pub(crate) fn update_run_now(&self, run: &RunRecord) -> Result<()> {
        // The closure hands back the caller's record; its input is ignored,
        // as the stored input's bytes are kept.
        self.change_run(&run.id, |_| {
            Ok(RunRecord {
                input: Value::Null,
                ..run.clone()
            })
        })
    }

    pub(crate) fn set_status_now(
        &self,
        id: &str,
        status: RunStatus,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.change_run(id, |head| Ok(with_status(head.into_record(Value::Null), status, at)))
    }

    pub(crate) fn finish_run_now(
        &self,
        id: &str,
        outcome: &RunEnd,
        at: DateTime<Utc>,
    ) -> Result<()> {
        check_outcome(id, outcome)?;
        self.change_run(id, |head| Ok(with_outcome(head.into_record(Value::Null), outcome, at)))
    }

    pub(crate) fn list_runs_now(&self, f: &RunFilter) -> Result<RunPage> {
        let b = self.b()?;
        let mut page = PageBuilder::new(f)?;
        let t = &b.t;
        // The most selective index that answers the filter: the flow's, else
        // the status's (succeeded has none), else the runs themselves.
        let (tree, tree_name, prefix): (&sled::Tree, &str, Vec<u8>) =
            match (&f.flow, f.status.and_then(bucket)) {
                (Some(flow), _) => {
                    let mut p = flow.as_bytes().to_vec();
                    p.push(0);
                    (&t.runs_by_flow, T_RUNS_BY_FLOW, p)
                }
                (None, Some(b)) => (&t.runs_by_status, T_RUNS_BY_STATUS, vec![b]),
                (None, None) => (&t.runs, T_RUNS, Vec::new()),
            };
        let with = |id: String| {
            let mut k = prefix.clone();
            k.extend_from_slice(id.as_bytes());
            k
        };
        let (lo, hi) = id_bounds(f);
        for item in tree.range((lo.map(with), hi.map(with))).rev() {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", tree_name, b"", e))?;
            let id = id_of(tree_name, &k, prefix.len())?;
            page.examine();
            let bytes = if tree_name == T_RUNS {
                v
            } else {
                match self.stored_run(id)? {
                    Some(bytes) => bytes,
                    None => continue, // a leftover index entry
                }
            };
            let head = decode_head(id.as_bytes(), &bytes)?;
            let found = page.offer(
                id,
                (head.status, &head.flow, head.created),
                || self.decode_run(id.as_bytes(), &bytes),
                |run| self.steps_now(&run.id),
            )?;
            if let Some(done) = found {
                return Ok(done);
            }
        }
        Ok(page.finish())
    }

    pub(crate) fn unfinished_runs_now(&self) -> Result<Vec<RunRecord>> {
        let b = self.b()?;
        let mut out = Vec::new();
        for item in b.t.runs_by_status.scan_prefix([b'a']) {
            let (k, _) = item.map_err(|e| StoreError::backend("scan", T_RUNS_BY_STATUS, b"", e))?;
            let id = id_of(T_RUNS_BY_STATUS, &k, 1)?;
            if let Some(bytes) = self.stored_run(id)? {
                let run = self.decode_run(id.as_bytes(), &bytes)?;
                if !run.status.is_final() {
                    out.push(run);
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn waiting_runs_now(&self) -> Result<Vec<RunRecord>> {
        let b = self.b()?;
        let mut out = Vec::new();
        for item in b.t.runs_by_status.scan_prefix([b'w']) {
            let (k, _) = item.map_err(|e| StoreError::backend("scan", T_RUNS_BY_STATUS, b"", e))?;
            let id = id_of(T_RUNS_BY_STATUS, &k, 1)?;
            if let Some(bytes) = self.stored_run(id)? {
                let run = self.decode_run(id.as_bytes(), &bytes)?;
                if run.status == RunStatus::Waiting {
                    out.push(run);
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn end_wait_now(&self, id: &str, step: &str, record: &StepRecord) -> Result<()> {
        encode_step(record)?;
        self.change_run(id, |head| with_wait_ended(head.into_record(Value::Null), step, record))
    }

    pub(crate) fn record_step_now(&self, step: &StepRecord) -> Result<()> {
        let b = self.b()?;
        let run_id = step.run_id.as_str();
        let mut record = encode_step(step)?;
        let len = record.len() - 4;
        record[..4].copy_from_slice(&(len as u32).to_be_bytes());
        let steps = &b.t.steps;
        loop {
            let last = steps
                .scan_prefix(run_id)
                .next_back()
                .transpose()
                .map_err(|e| StoreError::backend("scan", T_STEPS, run_id, e))?;
            let (key, old, new) = match last {
                Some((key, old))
                    if old.len() + record.len() <= CHUNK_BYTES
                        && chunk_records(&key, &old)?.len() < CHUNK_STEPS =>
                {
                    let mut new = Vec::with_capacity(old.len() + record.len());
                    new.extend_from_slice(&old);
                    new.extend_from_slice(&record);
                    (key.to_vec(), Some(old), new)
                }
                last => {
                    // A run's first step (or a full chunk): the run must exist.
                    // Later steps find its chunk, which only a run's steps make.
                    if !self.run_exists(run_id)? {
                        return Err(no_run_for_step(step));
                    }
                    let next = match &last {
                        Some((key, _)) => chunk_number(key)? + 1,
                        None => 0,
                    };
                    let mut new = Vec::with_capacity(1 + record.len());
                    new.push(FORMAT_CHUNK_V1);
                    new.extend_from_slice(&record);
                    (chunk_key(run_id, next), None, new)
                }
            };
            let swapped = steps
                .compare_and_swap(&key, old, Some(new))
                .map_err(|e| StoreError::backend("write", T_STEPS, &key, e))?;
            if swapped.is_ok() {
                return Ok(());
            }
            // A concurrent step of the same run (a parallel for_each) won: retry.
        }
    }

    /// Drop the inputs and outputs of a run's steps (its flow keeps no step
    /// data), marking each step withheld; one atomic write. Returns how many
    /// steps had any.
    pub fn withhold_step_data(&self, run_id: &str) -> Result<usize> {
        let b = self.b()?;
        check_id(run_id)?;
        let mut batch = sled::Batch::default();
        let mut dropped = 0;
        for item in b.t.steps.scan_prefix(run_id) {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_STEPS, run_id, e))?;
            let mut chunk = vec![FORMAT_CHUNK_V1];
            for record in chunk_records(&k, &v)? {
                let mut step: StepRecord = serde_json::from_slice(record).map_err(|e| StoreError::corrupt(T_STEPS, &k, e.to_string()))?;
                dropped += usize::from(withhold(&mut step));
                let bytes = serde_json::to_vec(&step).map_err(|e| StoreError::corrupt(T_STEPS, &k, format!("cannot encode: {e}")))?;
                chunk.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                chunk.extend_from_slice(&bytes);
            }
            batch.insert(k.to_vec(), chunk);
        }
        b.t.steps.apply_batch(batch).map_err(|e| StoreError::backend("write", T_STEPS, run_id, e))?;
        Ok(dropped)
    }

    pub(crate) fn steps_now(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        let b = self.b()?;
        check_id(run_id)?;
        let mut steps = Vec::new();
        for item in b.t.steps.scan_prefix(run_id) {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_STEPS, run_id, e))?;
            for record in chunk_records(&k, &v)? {
                steps.push(
                    serde_json::from_slice(record)
                        .map_err(|e| StoreError::corrupt(T_STEPS, &k, e.to_string()))?,
                );
            }
        }
        // Records are written when a step ends (a loop after its children);
        // `seq` is the order they started. The sort is stable: equal seqs keep
        // the order they were recorded in.
        steps.sort_by_key(|s: &StepRecord| s.seq);
        Ok(steps)
    }

    /// Delete a run: its record first (from then on it does not exist), then
    /// its steps and index entries.
    pub(crate) fn delete_run(
        &self,
        id: &str,
        flow: &str,
        stored: &[u8],
        stats: &mut PruneStats,
    ) -> Result<()> {
        let b = self.b()?;
        let t = &b.t;
        t.runs
            .remove(id)
            .map_err(|e| StoreError::backend("remove", T_RUNS, id, e))?;
        // The event it shares with its siblings goes with the last of them.
        if let InputAt::Event { seq, siblings } = run_parts(id.as_bytes(), stored)?.input {
            let mut shared = false;
            for sibling in siblings.chunks(ID_LEN) {
                if t.runs
                    .contains_key(sibling)
                    .map_err(|e| StoreError::backend("read", T_RUNS, sibling, e))?
                {
                    shared = true;
                    break;
                }
            }
            if !shared {
                self.remove_event(seq)?;
            }
        }
        for item in t.steps.scan_prefix(id) {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_STEPS, id, e))?;
            stats.steps += chunk_records(&k, &v)?.len() as u64;
            t.steps
                .remove(&k)
                .map_err(|e| StoreError::backend("remove", T_STEPS, &k, e))?;
        }
        let fk = flow_key(flow, id);
        t.runs_by_flow
            .remove(&fk)
            .map_err(|e| StoreError::backend("remove", T_RUNS_BY_FLOW, &fk, e))?;
        // Every bucket: a crash mid status change may have left a second entry.
        for b in ALL_BUCKETS {
            let sk = bucket_key(b, id);
            t.runs_by_status
                .remove(&sk)
                .map_err(|e| StoreError::backend("remove", T_RUNS_BY_STATUS, &sk, e))?;
        }
        stats.runs += 1;
        Ok(())
    }

    pub(crate) fn prune_now(&self, policy: &RetentionPolicy) -> Result<PruneStats> {
        let b = self.b()?;
        let mut stats = PruneStats::default();
        let t = &b.t;
        if let Some(max_age) = policy.max_age {
            let age = chrono::Duration::from_std(max_age)
                .map_err(|_| StoreError::Invalid("retention age out of range".into()))?;
            let cutoff = self.now() - age;
            let bound = ulid_bound(cutoff, true);
            for item in t.runs.range(..=bound.as_bytes()) {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", T_RUNS, b"", e))?;
                let head = decode_head(&k, &v)?;
                if head.status.is_final() && head.created < cutoff {
                    self.delete_run(&head.id, &head.flow, &v, &mut stats)?;
                }
            }
            // Journal chunks whose run is gone: a crash mid-delete.
            for item in t.steps.range(..=bound.as_bytes()).keys() {
                let k = item.map_err(|e| StoreError::backend("scan", T_STEPS, b"", e))?;
                let id = k.get(..ID_LEN).unwrap_or(&k);
                if !t
                    .runs
                    .contains_key(id)
                    .map_err(|e| StoreError::backend("read", T_RUNS, id, e))?
                {
                    t.steps
                        .remove(&k)
                        .map_err(|e| StoreError::backend("remove", T_STEPS, &k, e))?;
                    stats.leftovers += 1;
                }
            }
        }
        if let Some(keep) = policy.max_runs_per_flow {
            // Visit each flow once: after its last key, jump past it.
            let mut from: Vec<u8> = Vec::new();
            loop {
                let Some(item) = t.runs_by_flow.range(from.clone()..).next() else {
                    break;
                };
                let (k, _) =
                    item.map_err(|e| StoreError::backend("scan", T_RUNS_BY_FLOW, b"", e))?;
                let Some(nul) = k.iter().position(|&b| b == 0) else {
                    return Err(StoreError::corrupt(T_RUNS_BY_FLOW, &k, "no flow separator"));
                };
                let mut prefix = k[..=nul].to_vec();
                let mut kept = 0usize;
                for item in t.runs_by_flow.scan_prefix(&prefix).rev() {
                    let (k, _) =
                        item.map_err(|e| StoreError::backend("scan", T_RUNS_BY_FLOW, b"", e))?;
                    let id = id_of(T_RUNS_BY_FLOW, &k, prefix.len())?;
                    match self.stored_run(id)? {
                        None => {
                            t.runs_by_flow.remove(&k).map_err(|e| {
                                StoreError::backend("remove", T_RUNS_BY_FLOW, &k, e)
                            })?;
                            stats.leftovers += 1;
                        }
                        Some(bytes) => {
                            kept += 1;
                            let head = decode_head(id.as_bytes(), &bytes)?;
                            if kept > keep && head.status.is_final() {
                                self.delete_run(&head.id, &head.flow, &bytes, &mut stats)?;
                            }
                        }
                    }
                }
                // The separator 0x00 becomes 0x01: the first key after this flow.
                *prefix.last_mut().expect("non-empty") = 1;
                from = prefix;
            }
        }
        stats.dedupe_generations = self.prune_seen()?;
        Ok(stats)
    }
}

fn chunk_number(key: &[u8]) -> Result<u32> {
    key.get(ID_LEN..)
        .and_then(|n| <[u8; 4]>::try_from(n).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| StoreError::corrupt(T_STEPS, key, "not a journal chunk key"))
}

/// The step records (JSON) in a journal chunk.
fn chunk_records<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Vec<&'a [u8]>> {
    match bytes.split_first() {
        Some((&FORMAT_CHUNK_V1, rest)) => prefixed_records(rest)
            .ok_or_else(|| StoreError::corrupt(T_STEPS, key, "record past the end of the chunk")),
        _ => Err(unknown_format(T_STEPS, key, bytes)),
    }
}

#[async_trait::async_trait]
impl crate::api::RunStore for Store {
    async fn create_run(&self, run: &RunRecord) -> Result<()> {
        self.create_run_now(run)
    }

    async fn update_run(&self, run: &RunRecord) -> Result<()> {
        self.update_run_now(run)
    }

    async fn set_status(&self, id: &str, status: RunStatus, at: DateTime<Utc>) -> Result<()> {
        self.set_status_now(id, status, at)
    }

    async fn finish_run(&self, id: &str, outcome: RunEnd, at: DateTime<Utc>) -> Result<()> {
        self.finish_run_now(id, &outcome, at)
    }

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        self.get_run_now(id)
    }

    async fn list_runs(&self, filter: &RunFilter) -> Result<RunPage> {
        self.list_runs_now(filter)
    }

    async fn waiting_runs(&self) -> Result<Vec<RunRecord>> {
        self.waiting_runs_now()
    }

    async fn end_wait(&self, id: &str, step: &str, record: &StepRecord) -> Result<()> {
        self.end_wait_now(id, step, record)
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        self.unfinished_runs_now()
    }

    async fn record_step(&self, step: &StepRecord) -> Result<()> {
        self.record_step_now(step)
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<StepRecord>> {
        self.steps_now(run_id)
    }

    async fn sync(&self) -> Result<()> {
        self.sync_backend(self.b()?).await
    }

    async fn prune(&self, policy: &RetentionPolicy) -> Result<PruneStats> {
        // Pruning walks whole trees: keep it off the runtime's worker threads.
        let store = self.clone();
        let policy = policy.clone();
        tokio::task::spawn_blocking(move || store.prune_now(&policy))
            .await
            .map_err(|e| StoreError::Task(format!("prune: {e}")))?
    }

    async fn withhold_step_data(&self, run_id: &str) -> Result<usize> {
        Store::withhold_step_data(self, run_id)
    }
}
