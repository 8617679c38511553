//! The inbox: durable, deduplicated event intake, and atomic dispatch.
//!
//! Trees:
//! - `v1/events`: arrival seq (u64 BE) → an event as received: format byte,
//!   the length (u32 BE) of the receipt (uuid, source, received time) as JSON,
//!   the receipt, then the event's JSON. Written once at accept; the runs an
//!   event starts refer to it as their input (see `runs`), and it is deleted
//!   with the last of them, or at dispatch if it starts none.
//! - `v1/inbox`: arrival seq → [`Entry`]: an event waiting for the dispatcher
//!   (with its `published` time, which places it in `v1/inbox-order`), or a
//!   dispatch intent whose runs are being written. Small: the event itself is
//!   in `v1/events`. (Stores written before `v1/events` existed hold the event
//!   in the waiting entry; those are read as they are.)
//! - `v1/inbox-order`: (`published`, arrival seq) → nothing: the waiting
//!   events in dispatch order. The dispatcher reads it from its start every
//!   time, so an event is dispatched after every earlier-published event that
//!   was waiting with it, however the events were split into deliveries and
//!   however long the backlog. An index only: `open` rebuilds what a crash left
//!   of it from `v1/inbox`.
//! - `v1/seen/<start>-<end>`: event uuid → arrival seq, one tree per generation
//!   of received times. Dedupe memory is bounded by dropping whole generations
//!   once the window has passed them: no per-uuid expiry index to maintain.
//!   Deduplication is per Okta org: an event of a named org is seen under
//!   [`seen_key`] (its org, a unit separator, its uuid); one of the default
//!   org under its bare uuid, as every store before orgs wrote it.
//!
//! Accept writes the inbox entry, then the event, then its place in
//! `v1/inbox-order`, then claims the uuid in the current generation with
//! compare-and-swap. The seen entry is the truth: an inbox entry whose uuid
//! does not point back at its seq is a loser of a race, or what a crash left
//! between the writes, and is skipped and removed (its place and its event
//! first, then the entry, so a crash between leaves an entry without an event,
//! which reads as half-written too).
//!
//! Dispatch replaces the waiting entry with an intent that carries the runs
//! (one single-key write: the commit point), writes the runs, then removes the
//! event's place in `v1/inbox-order` and the entry. `open` finishes any intent
//! it finds, and writing a run whose head already exists is a no-op, so a crash
//! creates every run exactly once; a place whose entry is no longer waiting is
//! skipped by readers and removed by `open`.
//!
//! The events accepted since the dispatcher last read are also kept decoded in
//! memory (a bounded number), so the dispatcher does not parse them back from
//! the disk; after a restart it reads them from `v1/events`.

use crate::api::{Accepted, InboxEvent, InboxPosition};
use crate::codec::{FORMAT_JSON_V1, prefixed_records, split_prefixed, unknown_format};
use crate::error::{Result, StoreError};
use crate::{Backend, Store, T_EVENTS, T_INBOX, T_INBOX_ORDER, T_SEEN_PREFIX};
use std::sync::Arc;
use chrono::{DateTime, Utc};
use lanyard_core::LogEvent;
use lanyard_core::history::RunRecord;
use serde::{Deserialize, Serialize};

/// An event's serialized size limit.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Events per [`crate::EventInbox::accept`] call.
pub const MAX_EVENTS_PER_ACCEPT: usize = 10_000;
const MAX_UUID_BYTES: usize = 128;
const MAX_SOURCE_BYTES: usize = 64;
const MAX_ORG_BYTES: usize = 64;

/// The key an event is deduplicated under: its uuid for the default org
/// (`None`), else its org and uuid with a unit separator between, which no
/// accepted uuid holds (they have no control characters).
pub(crate) fn seen_key<'a>(org: Option<&str>, uuid: &'a str) -> std::borrow::Cow<'a, str> {
    match org {
        None => uuid.into(),
        Some(org) => format!("{org}\u{1f}{uuid}").into(),
    }
}

/// Decoded events kept for the dispatcher at most (about 3 KiB each).
pub(crate) const FRESH_MAX: usize = 4096;

// An inbox value: the format byte, a kind byte, then the body.
const FORMAT_INBOX_V1: u8 = 1;
/// A waiting event: the body is its `published` time as [`published_key`]
/// writes it; the event is in `v1/events`.
const KIND_QUEUED: u8 = b'q';
/// A waiting event as format 2 stores wrote it: no body. `open` rewrites these
/// as [`KIND_QUEUED`] once their place is in `v1/inbox-order`.
const KIND_WAITING: u8 = b'w';
/// A waiting event as stores before `v1/events` wrote it: the body is
/// [`PendingRef`] as JSON. Read, never written.
const KIND_PENDING: u8 = b'p';
/// A dispatch intent: the body is the runs exactly as the runs tree stores
/// them, each behind its length (u32 BE), so recovery writes the same bytes.
const KIND_INTENT: u8 = b'd';

/// The format byte of a `v1/events` value.
const FORMAT_EVENT_V1: u8 = 1;

/// The value of every `v1/inbox-order` entry: the key is what matters.
const ORDER_VALUE: &[u8] = &[1];

/// `published` as bytes that sort as the times do: the seconds since the
/// epoch with the sign bit flipped, then the nanoseconds, big-endian.
type PublishedKey = [u8; 12];

fn published_key(t: DateTime<Utc>) -> PublishedKey {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    out[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    out
}

/// A `v1/inbox-order` key: the published time, then the arrival seq.
fn order_key(published: &PublishedKey, seq: u64) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[..12].copy_from_slice(published);
    out[12..].copy_from_slice(&seq.to_be_bytes());
    out
}

fn seq_from_order_key(key: &[u8]) -> Result<u64> {
    match <[u8; 20]>::try_from(key) {
        Ok(k) => Ok(u64::from_be_bytes(k[12..].try_into().expect("8 bytes"))),
        Err(_) => Err(StoreError::corrupt(
            T_INBOX_ORDER,
            key,
            "key is not a 20-byte place",
        )),
    }
}

fn queued_value(published: &PublishedKey) -> [u8; 14] {
    let mut out = [0u8; 14];
    out[0] = FORMAT_INBOX_V1;
    out[1] = KIND_QUEUED;
    out[2..].copy_from_slice(published);
    out
}

#[derive(Serialize)]
struct ReceiptRef<'a> {
    uuid: &'a str,
    source: &'a str,
    received: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<&'a str>,
}

#[derive(Deserialize)]
struct Receipt {
    uuid: String,
    source: String,
    received: DateTime<Utc>,
    /// Absent in receipts of the default org and in every store before orgs.
    #[serde(default)]
    org: Option<String>,
}

/// Split a `v1/events` value into its receipt's and its event's JSON.
fn event_parts<'a>(key: &[u8], bytes: &'a [u8]) -> Result<(&'a [u8], &'a [u8])> {
    match bytes.split_first() {
        Some((&FORMAT_EVENT_V1, rest)) => split_prefixed(rest)
            .ok_or_else(|| StoreError::corrupt(T_EVENTS, key, "receipt length past the end")),
        _ => Err(unknown_format(T_EVENTS, key, bytes)),
    }
}

fn decode_receipt(key: &[u8], json: &[u8]) -> Result<Receipt> {
    serde_json::from_slice(json)
        .map_err(|e| StoreError::corrupt(T_EVENTS, key, format!("receipt: {e}")))
}

#[cfg(test)]
#[derive(Serialize)]
struct PendingRef<'a> {
    uuid: &'a str,
    source: &'a str,
    received: DateTime<Utc>,
    event: &'a LogEvent,
}

#[derive(Deserialize)]
struct Pending {
    uuid: String,
    source: String,
    received: DateTime<Utc>,
    event: LogEvent,
}

enum Entry<'a> {
    /// The event is in `v1/events`; its `published` time is here, except in
    /// entries format 2 wrote.
    Waiting(Option<PublishedKey>),
    /// The event is in the body (written before `v1/events`).
    Pending(&'a [u8]),
    Intent(Vec<&'a [u8]>),
}

fn entry<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Entry<'a>> {
    match bytes {
        [FORMAT_INBOX_V1, KIND_QUEUED, body @ ..] => PublishedKey::try_from(body)
            .map(|p| Entry::Waiting(Some(p)))
            .map_err(|_| StoreError::corrupt(T_INBOX, key, "truncated waiting entry")),
        [FORMAT_INBOX_V1, KIND_WAITING] => Ok(Entry::Waiting(None)),
        [FORMAT_INBOX_V1, KIND_PENDING, body @ ..] => Ok(Entry::Pending(body)),
        [FORMAT_INBOX_V1, KIND_INTENT, body @ ..] => prefixed_records(body)
            .map(Entry::Intent)
            .ok_or_else(|| StoreError::corrupt(T_INBOX, key, "truncated dispatch intent")),
        [FORMAT_INBOX_V1, other, ..] => Err(StoreError::corrupt(
            T_INBOX,
            key,
            format!("unknown inbox entry kind {other}"),
        )),
        _ => Err(unknown_format(T_INBOX, key, bytes)),
    }
}

fn decode_pending(key: &[u8], body: &[u8]) -> Result<Pending> {
    serde_json::from_slice(body).map_err(|e| StoreError::corrupt(T_INBOX, key, e.to_string()))
}

/// One generation of dedupe memory: the uuids received in `[start, end)`
/// (unix seconds).
#[derive(Clone)]
pub(crate) struct SeenGen {
    pub(crate) start: i64,
    pub(crate) end: i64,
    tree: sled::Tree,
    name: String,
}

impl SeenGen {
    pub(crate) fn from_name(range: &str, tree: sled::Tree, name: &str) -> Result<SeenGen> {
        let parsed = range
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        match parsed {
            Some((start, end)) => Ok(SeenGen {
                start,
                end,
                tree,
                name: name.to_string(),
            }),
            None => Err(StoreError::corrupt(
                name,
                b"",
                "a dedupe tree name is not `v1/seen/<start>-<end>`",
            )),
        }
    }

    fn seq_of(&self, uuid: &str) -> Result<Option<u64>> {
        let Some(v) = self
            .tree
            .get(uuid)
            .map_err(|e| StoreError::backend("read", &self.name, uuid, e))?
        else {
            return Ok(None);
        };
        decode_seq(&self.name, uuid.as_bytes(), &v).map(Some)
    }
}

fn seq_value(seq: u64) -> [u8; 9] {
    let mut v = [0u8; 9];
    v[0] = FORMAT_JSON_V1;
    v[1..].copy_from_slice(&seq.to_be_bytes());
    v
}

fn decode_seq(tree: &str, key: &[u8], v: &[u8]) -> Result<u64> {
    match v {
        [FORMAT_JSON_V1, rest @ ..] if rest.len() == 8 => {
            Ok(u64::from_be_bytes(rest.try_into().expect("8 bytes")))
        }
        _ => Err(StoreError::corrupt(tree, key, "not a seen-event record")),
    }
}

fn seq_from_key(key: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::corrupt(T_INBOX, key, "key is not an 8-byte sequence"))
}

/// An event as `v1/events` stores it, or why it is refused. Errs only if it
/// cannot be encoded at all.
pub(crate) fn encode_event(
    event: &LogEvent,
    source: &str,
    org: Option<&str>,
    received: DateTime<Utc>,
) -> Result<std::result::Result<Vec<u8>, String>> {
    let uuid = event.uuid.as_str();
    if uuid.is_empty() || uuid.len() > MAX_UUID_BYTES || uuid.chars().any(|c| c.is_control()) {
        return Ok(Err(format!(
            "unusable uuid `{}` (1 to {MAX_UUID_BYTES} bytes, no control characters)",
            shown(uuid)
        )));
    }
    let mut bytes = Vec::with_capacity(2048);
    bytes.extend_from_slice(&[FORMAT_EVENT_V1, 0, 0, 0, 0]);
    let receipt = ReceiptRef {
        uuid,
        source,
        received,
        org,
    };
    serde_json::to_writer(&mut bytes, &receipt)
        .map_err(|e| StoreError::corrupt(T_EVENTS, uuid, format!("cannot encode: {e}")))?;
    let receipt_len = (bytes.len() - 5) as u32;
    bytes[1..5].copy_from_slice(&receipt_len.to_be_bytes());
    serde_json::to_writer(&mut bytes, event)
        .map_err(|e| StoreError::corrupt(T_EVENTS, uuid, format!("cannot encode: {e}")))?;
    if bytes.len() > MAX_EVENT_BYTES {
        return Ok(Err(format!(
            "the event is {} bytes stored; at most {MAX_EVENT_BYTES}",
            bytes.len()
        )));
    }
    Ok(Ok(bytes))
}

/// A uuid in a message: escaped, and cut short (a refused one can be long).
fn shown(uuid: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String = uuid.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if uuid.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Refuse a delivery that breaks a limit: its length, its source, its org.
pub(crate) fn check_delivery(events: usize, source: &str, org: Option<&str>) -> Result<()> {
    if source.is_empty() || source.len() > MAX_SOURCE_BYTES {
        return Err(StoreError::Invalid(format!(
            "event source must be 1 to {MAX_SOURCE_BYTES} bytes"
        )));
    }
    if let Some(org) = org
        && (org.is_empty() || org.len() > MAX_ORG_BYTES || org.chars().any(|c| c.is_control()))
    {
        return Err(StoreError::Invalid(format!(
            "an event's org must be 1 to {MAX_ORG_BYTES} bytes, no control characters"
        )));
    }
    if events > MAX_EVENTS_PER_ACCEPT {
        return Err(StoreError::Invalid(format!(
            "{events} events in one delivery; at most {MAX_EVENTS_PER_ACCEPT}"
        )));
    }
    Ok(())
}

/// Refuse the runs of a dispatch of event `uuid` that are not new: an invalid
/// run, an id twice, or one that `exists`.
pub(crate) fn check_dispatch(uuid: &str, runs: &[RunRecord], exists: impl Fn(&str) -> Result<bool>) -> Result<()> {
    for (i, run) in runs.iter().enumerate() {
        crate::runs::check_new_run(run)?;
        if runs[..i].iter().any(|r| r.id == run.id) {
            return Err(StoreError::Invalid(format!(
                "run {} appears twice in the dispatch of event {uuid}",
                run.id
            )));
        }
        if exists(&run.id)? {
            return Err(StoreError::Conflict(format!(
                "run {} already exists",
                run.id
            )));
        }
    }
    Ok(())
}

/// How many seconds of received times one generation of dedupe memory takes:
/// a seventh of the window, from a second to a day.
pub(crate) fn generation_secs(window: std::time::Duration) -> i64 {
    (window.as_secs() as i64 / 7).clamp(1, 86_400)
}

/// Whether the generation ending at `end` (unix seconds) is past the window at `now`.
pub(crate) fn generation_expired(end: i64, window: std::time::Duration, now: i64) -> bool {
    end.saturating_add(window.as_secs() as i64) <= now
}

pub(crate) struct InboxRecovery {
    pub(crate) orphans: u64,
    pub(crate) redone: u64,
}

impl Store {
    fn generation_secs(&self) -> i64 {
        generation_secs(self.inner.options.dedupe_window)
    }

    /// The generation that takes uuids received at `now`, created if needed.
    fn current_generation(&self, now: DateTime<Utc>) -> Result<SeenGen> {
        let b = self.b()?;
        let t = now.timestamp();
        {
            let gens = b.seen.read().unwrap_or_else(|p| p.into_inner());
            if let Some(g) = gens.iter().find(|g| g.start <= t && t < g.end) {
                return Ok(g.clone());
            }
        }
        let mut gens = b.seen.write().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = gens.iter().find(|g| g.start <= t && t < g.end) {
            return Ok(g.clone());
        }
        let len = self.generation_secs();
        let start = t.div_euclid(len) * len;
        // A generation made under another window length may overlap; start
        // after it so that each received time has one home.
        let start = gens
            .iter()
            .filter(|g| g.end > start && g.start <= t)
            .map(|g| g.end)
            .max()
            .unwrap_or(start);
        let end = start + len;
        let name = format!("{T_SEEN_PREFIX}{start}-{end}");
        let tree = b.db
            .open_tree(&name)
            .map_err(|e| StoreError::backend("open tree", &name, b"", e))?;
        let generation = SeenGen {
            start,
            end,
            tree,
            name,
        };
        gens.push(generation.clone());
        gens.sort_by_key(|g| std::cmp::Reverse(g.start));
        Ok(generation)
    }

    fn generations(&self) -> Result<Vec<SeenGen>> {
        let b = self.b()?;
        Ok(b.seen.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// The arrival seq of a uuid, if it was seen within the window. With `skip`,
    /// ignore that generation.
    fn seen_seq(&self, uuid: &str, skip: Option<&str>) -> Result<Option<u64>> {
        let b = self.b()?;
        let gens = b.seen.read().unwrap_or_else(|p| p.into_inner());
        for g in gens.iter() {
            if skip == Some(g.name.as_str()) {
                continue;
            }
            if let Some(seq) = g.seq_of(uuid)? {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// The write half of `accept`: everything but waiting for the disk.
    /// Returns the database written to, whose flush the accept waits for.
    pub(crate) fn accept_write(
        &self,
        events: Vec<LogEvent>,
        source: &str,
        org: Option<&str>,
    ) -> Result<(Arc<Backend>, Vec<Accepted>)> {
        // Checked first: an invalid delivery is refused as such even while the
        // store cannot write.
        check_delivery(events.len(), source, org)?;
        let received = self.now();
        // Encode and check every event before writing any: one that breaks a
        // limit is refused alone.
        let mut encoded = Vec::with_capacity(events.len());
        for event in &events {
            encoded.push(encode_event(event, source, org, received)?);
        }
        // Every write below goes to this opening of the database (it cannot be
        // replaced while it is held), so its flush covers them all.
        let b = self.b()?;
        let generation = self.current_generation(received)?;
        let (inbox, stored, order) = (&b.t.inbox, &b.t.events, &b.t.inbox_order);
        let mut out = Vec::with_capacity(events.len());
        let mut fresh = Vec::with_capacity(events.len());
        for (event, bytes) in events.into_iter().zip(encoded) {
            let key_text = seen_key(org, &event.uuid);
            let uuid = key_text.as_ref();
            let bytes = match bytes {
                Ok(b) => b,
                Err(why) => {
                    out.push(Accepted {
                        uuid: event.uuid.clone(),
                        new: false,
                        refused: Some(why),
                    });
                    continue;
                }
            };
            if self.seen_seq(uuid, None)?.is_some() {
                out.push(Accepted {
                    uuid: event.uuid.clone(),
                    new: false,
                    refused: None,
                });
                continue;
            }
            let seq = b.db
                .generate_id()
                .map_err(|e| StoreError::backend("generate id", T_INBOX, b"", e))?;
            let key = seq.to_be_bytes();
            let published = published_key(event.published);
            let place = order_key(&published, seq);
            inbox
                .insert(key, &queued_value(&published))
                .map_err(|e| StoreError::backend("write", T_INBOX, key, e))?;
            stored
                .insert(key, bytes)
                .map_err(|e| StoreError::backend("write", T_EVENTS, key, e))?;
            order
                .insert(place, ORDER_VALUE)
                .map_err(|e| StoreError::backend("write", T_INBOX_ORDER, place, e))?;
            let claim = generation
                .tree
                .compare_and_swap(uuid, None as Option<&[u8]>, Some(&seq_value(seq)[..]))
                .map_err(|e| StoreError::backend("write", &generation.name, uuid, e))?;
            let mut new = claim.is_ok();
            // A concurrent duplicate may have claimed the uuid in another
            // generation (across a generation boundary): the lower seq wins.
            if new
                && let Some(other) = self.seen_seq(uuid, Some(&generation.name))?
                && other < seq
            {
                new = false;
                let _ = generation
                    .tree
                    .compare_and_swap(uuid, Some(&seq_value(seq)[..]), None as Option<&[u8]>)
                    .map_err(|e| StoreError::backend("write", &generation.name, uuid, e))?;
            }
            if !new {
                self.remove_place(&place)?;
                self.remove_event(seq)?;
                inbox
                    .remove(key)
                    .map_err(|e| StoreError::backend("remove", T_INBOX, key, e))?;
            }
            out.push(Accepted {
                uuid: event.uuid.clone(),
                new,
                refused: None,
            });
            if new {
                fresh.push(InboxEvent::new(seq, source, org.map(str::to_string), received, event));
            }
        }
        {
            let mut cache = b.fresh.lock().unwrap_or_else(|p| p.into_inner());
            for ev in fresh {
                if cache.len() >= FRESH_MAX {
                    break; // the dispatcher reads the rest from the disk
                }
                cache.insert(ev.seq, ev);
            }
        }
        Ok((b, out))
    }

    fn stored_event(&self, key: &[u8; 8]) -> Result<Option<sled::IVec>> {
        let b = self.b()?;
        b.t
            .events
            .get(key)
            .map_err(|e| StoreError::backend("read", T_EVENTS, key, e))
    }

    /// An event's JSON, as a run's input.
    pub(crate) fn event_input(&self, seq: u64) -> Result<serde_json::Value> {
        let key = seq.to_be_bytes();
        let bytes = self
            .stored_event(&key)?
            .ok_or_else(|| StoreError::NotFound(format!("event {seq}")))?;
        let (_, event) = event_parts(&key, &bytes)?;
        serde_json::from_slice(event).map_err(|e| StoreError::corrupt(T_EVENTS, key, e.to_string()))
    }

    pub(crate) fn remove_event(&self, seq: u64) -> Result<()> {
        let b = self.b()?;
        let key = seq.to_be_bytes();
        b.t
            .events
            .remove(key)
            .map_err(|e| StoreError::backend("remove", T_EVENTS, key, e))?;
        Ok(())
    }

    fn remove_place(&self, place: &[u8; 20]) -> Result<()> {
        self.b()?
            .t
            .inbox_order
            .remove(place)
            .map_err(|e| StoreError::backend("remove", T_INBOX_ORDER, place, e))?;
        Ok(())
    }

    /// The receipt of the event at `seq` in `v1/events` if its accept finished:
    /// `None` if it was cut short (no event, or a uuid that does not point back
    /// at it). Also returns the event's JSON.
    fn claimed_event(&self, seq: u64) -> Result<Option<(Receipt, sled::IVec)>> {
        let key = seq.to_be_bytes();
        let Some(bytes) = self.stored_event(&key)? else {
            return Ok(None);
        };
        let (receipt, _) = event_parts(&key, &bytes)?;
        let r = decode_receipt(&key, receipt)?;
        if self.seen_seq(&seen_key(r.org.as_deref(), &r.uuid), None)? != Some(seq) {
            return Ok(None);
        }
        Ok(Some((r, bytes)))
    }

    /// A waiting event from `v1/events`: `None` if its accept was cut short.
    fn waiting_event(&self, seq: u64) -> Result<Option<InboxEvent>> {
        let Some((r, bytes)) = self.claimed_event(seq)? else {
            return Ok(None);
        };
        let key = seq.to_be_bytes();
        let (_, event) = event_parts(&key, &bytes)?;
        let event = serde_json::from_slice(event)
            .map_err(|e| StoreError::corrupt(T_EVENTS, key, e.to_string()))?;
        Ok(Some(InboxEvent::new(seq, r.source, r.org, r.received, event)))
    }

    /// A waiting event as stores before `v1/events` kept it: `None` if it lost
    /// its uuid's race or its accept was cut short.
    fn pending_event(&self, key: &[u8], body: &[u8]) -> Result<Option<InboxEvent>> {
        let seq = seq_from_key(key)?;
        let p = decode_pending(key, body)?;
        if self.seen_seq(&p.uuid, None)? != Some(seq) {
            return Ok(None);
        }
        Ok(Some(InboxEvent::new(seq, p.source, None, p.received, p.event)))
    }

    pub(crate) fn undispatched_page(
        &self,
        after: Option<InboxPosition>,
        limit: usize,
    ) -> Result<Vec<InboxEvent>> {
        use std::ops::Bound;
        let b = self.b()?;
        let start = match after {
            Some(p) => Bound::Excluded(order_key(&published_key(p.published), p.seq)),
            None => Bound::Unbounded,
        };
        let mut out = Vec::new();
        let mut fresh = b.fresh.lock().unwrap_or_else(|p| p.into_inner());
        for item in b.t.inbox_order.range((start, Bound::Unbounded)) {
            if out.len() >= limit {
                break;
            }
            let (place, _) = item.map_err(|e| StoreError::backend("scan", T_INBOX_ORDER, b"", e))?;
            let seq = seq_from_order_key(&place)?;
            // Only events that won their uuid are kept decoded, and only until
            // read: one found here is waiting.
            if let Some(ev) = fresh.remove(&seq) {
                out.push(ev);
                continue;
            }
            let key = seq.to_be_bytes();
            let Some(v) = b.t
                .inbox
                .get(key)
                .map_err(|e| StoreError::backend("read", T_INBOX, key, e))?
            else {
                continue; // dispatched meanwhile, or what a crash left
            };
            let ev = match entry(&key, &v)? {
                Entry::Waiting(_) => self.waiting_event(seq)?,
                Entry::Pending(body) => self.pending_event(&key, body)?,
                // Being dispatched (or a dispatch cut short: `open` ends it).
                Entry::Intent(_) => None,
            };
            // `None`: a lost race or a half-written accept.
            out.extend(ev);
        }
        Ok(out)
    }

    pub(crate) fn dispatch_now(&self, org: Option<&str>, uuid: &str, runs: &[RunRecord]) -> Result<()> {
        let b = self.b()?;
        let (key, place, encoded) = self.write_dispatch_intent(org, uuid, runs)?;
        // Checked new above; a concurrent create of the same id loses its
        // compare-and-swap on the record and is reported there.
        for (run, bytes) in runs.iter().zip(&encoded) {
            self.write_run_unchecked(&run.id, &run.flow, run.status, bytes)?;
        }
        let seq = u64::from_be_bytes(key);
        if runs.is_empty() {
            self.remove_event(seq)?;
        }
        self.remove_place(&place)?;
        b.t
            .inbox
            .remove(key)
            .map_err(|e| StoreError::backend("remove", T_INBOX, key, e))?;
        // Dispatched without being read (not the dispatcher's way).
        b.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&seq);
        Ok(())
    }

    /// The `published` time of a waiting entry.
    fn entry_published(&self, key: &[u8; 8], entry: &Entry<'_>) -> Result<Option<PublishedKey>> {
        let seq = u64::from_be_bytes(*key);
        Ok(match entry {
            Entry::Waiting(Some(p)) => Some(*p),
            Entry::Waiting(None) => self
                .waiting_event(seq)?
                .map(|ev| published_key(ev.event.published)),
            Entry::Pending(body) => Some(published_key(decode_pending(key, body)?.event.published)),
            Entry::Intent(_) => None,
        })
    }

    /// Dispatch up to its commit point: check the runs and replace the pending
    /// event with the intent. Returns the inbox key, the event's place in
    /// `v1/inbox-order` and the encoded runs.
    fn write_dispatch_intent(
        &self,
        org: Option<&str>,
        uuid: &str,
        runs: &[RunRecord],
    ) -> Result<([u8; 8], [u8; 20], Vec<Vec<u8>>)> {
        let b = self.b()?;
        check_dispatch(uuid, runs, |id| self.run_exists(id))?;
        let seq = self
            .seen_seq(&seen_key(org, uuid), None)?
            .ok_or_else(|| StoreError::NotFound(format!("event {uuid} in the inbox")))?;
        let key = seq.to_be_bytes();
        let inbox = &b.t.inbox;
        let current = inbox
            .get(key)
            .map_err(|e| StoreError::backend("read", T_INBOX, key, e))?
            .ok_or_else(|| StoreError::Conflict(format!("event {uuid} is already dispatched")))?;
        // The runs refer to the stored event; an event from before `v1/events`
        // is in the inbox entry, which goes, so its runs carry a copy.
        let current_entry = entry(&key, &current)?;
        let by_reference = match current_entry {
            Entry::Intent(_) => {
                return Err(StoreError::Conflict(format!(
                    "event {uuid} is already dispatched"
                )));
            }
            Entry::Waiting(_) => true,
            Entry::Pending(_) => false,
        };
        let published = self
            .entry_published(&key, &current_entry)?
            .ok_or_else(|| StoreError::NotFound(format!("event {uuid} in `{T_EVENTS}`")))?;
        let place = order_key(&published, seq);
        let mut intent = vec![FORMAT_INBOX_V1, KIND_INTENT];
        let mut encoded = Vec::with_capacity(runs.len());
        for run in runs {
            let bytes = if by_reference {
                let siblings: Vec<&str> = runs
                    .iter()
                    .filter(|r| r.id != run.id)
                    .map(|r| r.id.as_str())
                    .collect();
                crate::runs::encode_event_run(run, seq, &siblings)?
            } else {
                crate::runs::encode_run(run)?
            };
            intent.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            intent.extend_from_slice(&bytes);
            encoded.push(bytes);
        }
        // The commit point: one single-key write. From here on a crash is
        // finished by `recover_inbox`.
        inbox
            .compare_and_swap(key, Some(current), Some(intent))
            .map_err(|e| StoreError::backend("write", T_INBOX, key, e))?
            .map_err(|_| {
                StoreError::Conflict(format!(
                    "event {uuid} was dispatched by someone else meanwhile"
                ))
            })?;
        Ok((key, place, encoded))
    }

    /// Drop half-written accepts, finish interrupted dispatches, and make
    /// `v1/inbox-order` hold exactly the waiting events (building it for a
    /// store from before it existed).
    pub(crate) fn recover_inbox(&self) -> Result<InboxRecovery> {
        let b = self.b()?;
        let mut rec = InboxRecovery {
            orphans: 0,
            redone: 0,
        };
        let mut placed = 0u64;
        let t = &b.t;
        let remove_entry = |k: &[u8]| {
            t.inbox
                .remove(k)
                .map_err(|e| StoreError::backend("remove", T_INBOX, k, e))
        };
        for item in t.inbox.iter() {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_INBOX, b"", e))?;
            let seq = seq_from_key(&k)?;
            let key = seq.to_be_bytes();
            let published = match entry(&k, &v)? {
                Entry::Waiting(Some(published)) => {
                    if self.claimed_event(seq)?.is_none() {
                        self.remove_place(&order_key(&published, seq))?;
                        self.remove_event(seq)?;
                        remove_entry(&k)?;
                        rec.orphans += 1;
                        continue;
                    }
                    published
                }
                Entry::Waiting(None) => {
                    let Some(ev) = self.waiting_event(seq)? else {
                        self.remove_event(seq)?;
                        remove_entry(&k)?;
                        rec.orphans += 1;
                        continue;
                    };
                    // A format 2 entry: its place first, then the entry that
                    // names it (a crash between redoes both).
                    let published = published_key(ev.event.published);
                    self.place(&published, seq)?;
                    t.inbox
                        .compare_and_swap(key, Some(&v), Some(&queued_value(&published)[..]))
                        .map_err(|e| StoreError::backend("write", T_INBOX, key, e))?
                        .map_err(|_| StoreError::Conflict(format!("inbox entry {seq} changed while the store opened")))?;
                    placed += 1;
                    continue;
                }
                Entry::Pending(body) => {
                    let p = decode_pending(&k, body)?;
                    let published = published_key(p.event.published);
                    if self.seen_seq(&p.uuid, None)? != Some(seq) {
                        self.remove_place(&order_key(&published, seq))?;
                        remove_entry(&k)?;
                        rec.orphans += 1;
                        continue;
                    }
                    published
                }
                Entry::Intent(runs) => {
                    for bytes in &runs {
                        self.write_new_run(bytes)?;
                    }
                    if runs.is_empty() {
                        self.remove_event(seq)?;
                    }
                    remove_entry(&k)?;
                    rec.redone += 1;
                    continue;
                }
            };
            if self.place(&published, seq)? {
                placed += 1;
            }
        }
        // Places whose event is no longer waiting: a dispatch or a removed
        // accept cut short after its entry changed.
        for item in t.inbox_order.iter() {
            let (place, _) = item.map_err(|e| StoreError::backend("scan", T_INBOX_ORDER, b"", e))?;
            let key = seq_from_order_key(&place)?.to_be_bytes();
            let waiting = match t
                .inbox
                .get(key)
                .map_err(|e| StoreError::backend("read", T_INBOX, key, e))?
            {
                Some(v) => matches!(entry(&key, &v)?, Entry::Waiting(Some(p)) if place[..12] == p)
                    || matches!(entry(&key, &v)?, Entry::Pending(_)),
                None => false,
            };
            if !waiting {
                t.inbox_order
                    .remove(&place)
                    .map_err(|e| StoreError::backend("remove", T_INBOX_ORDER, &place, e))?;
                rec.orphans += 1;
            }
        }
        if placed > 0 {
            tracing::info!(events = placed, "store placed waiting events in dispatch order");
        }
        Ok(rec)
    }

    /// Put a waiting event in `v1/inbox-order` unless it is there. Returns
    /// whether it was missing.
    fn place(&self, published: &PublishedKey, seq: u64) -> Result<bool> {
        let b = self.b()?;
        let order = &b.t.inbox_order;
        let place = order_key(published, seq);
        let missing = !order
            .contains_key(place)
            .map_err(|e| StoreError::backend("read", T_INBOX_ORDER, place, e))?;
        if missing {
            order
                .insert(place, ORDER_VALUE)
                .map_err(|e| StoreError::backend("write", T_INBOX_ORDER, place, e))?;
        }
        Ok(missing)
    }

    /// Drop dedupe generations the window has passed. Returns how many.
    pub(crate) fn prune_seen(&self) -> Result<u64> {
        let b = self.b()?;
        let now = self.now().timestamp();
        let window = self.inner.options.dedupe_window;
        let expired: Vec<SeenGen> = self
            .generations()?
            .into_iter()
            .filter(|g| generation_expired(g.end, window, now))
            .collect();
        for g in &expired {
            // Forget it in memory first: no accept looks into a dropped tree.
            b.seen
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|x| x.name != g.name);
            b.db
                .drop_tree(&g.name)
                .map_err(|e| StoreError::backend("drop tree", &g.name, b"", e))?;
        }
        Ok(expired.len() as u64)
    }
}

#[async_trait::async_trait]
impl crate::api::EventInbox for Store {
    async fn accept_from(
        &self,
        events: Vec<LogEvent>,
        source: &str,
        org: Option<&str>,
    ) -> Result<Vec<Accepted>> {
        let (b, accepted) = self.accept_write(events, source, org)?;
        // Duplicates wait too: their first copy may still be on its way to disk.
        self.sync_backend(b).await?;
        Ok(accepted)
    }

    async fn undispatched(
        &self,
        after: Option<InboxPosition>,
        limit: usize,
    ) -> Result<Vec<InboxEvent>> {
        self.undispatched_page(after, limit)
    }

    async fn inbox_depth(&self) -> Result<usize> {
        // The inbox holds waiting events and dispatch intents only: an entry
        // goes when its dispatch has written the runs.
        Ok(self.b()?.t.inbox.len())
    }

    async fn dispatch_from(&self, org: Option<&str>, uuid: &str, runs: &[RunRecord]) -> Result<()> {
        self.dispatch_now(org, uuid, runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EventInbox, RunStore};
    use lanyard_core::history::{RunStatus, TriggerInfo};
    use serde_json::json;

    fn event(uuid: &str) -> LogEvent {
        serde_json::from_value(json!({
            "uuid": uuid,
            "published": "2026-11-28T10:00:00.123Z",
            "eventType": "user.lifecycle.deactivate",
            "actor": {"id": "00uadmin", "type": "User"},
            "target": [{"id": "00u1", "type": "User"}]
        }))
        .unwrap()
    }

    fn run(ev: &LogEvent, flow: &str) -> RunRecord {
        let now = chrono::Utc::now();
        RunRecord {
            id: crate::new_run_id(now),
            flow: flow.into(),
            flow_digest: "00".repeat(32),
            trigger: TriggerInfo::Okta {
                event_type: ev.event_type.clone(),
                event_uuid: ev.uuid.clone(),
                source: "hook".into(),
            },
            input: ev.to_value(),
            status: RunStatus::Queued,
            created: now,
            started: None,
            ended: None,
            output: None,
            error: None,
            reason: None,
            subject: Some(ev.subject_key()),
            dry_run: false,
            wait: None,
        }
    }

    /// A waiting entry as a format 1 store wrote it: the event inside.
    fn format1_waiting(ev: &LogEvent) -> Vec<u8> {
        let mut bytes = vec![FORMAT_INBOX_V1, KIND_PENDING];
        let pending = PendingRef {
            uuid: &ev.uuid,
            source: "hook",
            received: chrono::Utc::now(),
            event: ev,
        };
        serde_json::to_writer(&mut bytes, &pending).unwrap();
        bytes
    }

    #[tokio::test]
    async fn events_are_deduplicated_per_org_and_keep_their_org_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let ev = event("same-uuid");
        {
            let store = Store::open(dir.path()).unwrap();
            // The default org, then a named org with the same uuid (two
            // sandbox orgs with one seed do send the same uuids), then each again.
            let first = store.accept(vec![ev.clone()], "hook").await.unwrap();
            let other = store.accept_from(vec![ev.clone()], "hook", Some("preview")).await.unwrap();
            assert!(first[0].new && other[0].new);
            let again = store.accept_from(vec![ev.clone()], "poll", Some("preview")).await.unwrap();
            assert!(!again[0].new);
            assert!(!store.accept(vec![ev.clone()], "poll").await.unwrap()[0].new);
            let e = store.accept_from(vec![ev.clone()], "hook", Some("bad\norg")).await.unwrap_err();
            assert!(matches!(e, StoreError::Invalid(_)), "{e}");
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let waiting = store.undispatched(None, 10).await.unwrap();
        let orgs: Vec<Option<&str>> = waiting.iter().map(|e| e.org.as_deref()).collect();
        assert_eq!(orgs, [None, Some("preview")]);
        // Dispatching one org's event leaves the other's waiting.
        store.dispatch_from(Some("preview"), "same-uuid", &[]).await.unwrap();
        let left = store.undispatched(None, 10).await.unwrap();
        assert_eq!((left.len(), left[0].org.as_deref()), (1, None));
        assert!(store.dispatch_from(Some("preview"), "same-uuid", &[]).await.is_err());
        store.dispatch("same-uuid", &[]).await.unwrap();
        assert!(store.undispatched(None, 10).await.unwrap().is_empty());
    }

    #[test]
    fn a_receipt_without_an_org_is_of_the_default_org() {
        let r = decode_receipt(b"k", br#"{"uuid":"u","source":"hook","received":"2026-11-28T10:00:00Z"}"#).unwrap();
        assert_eq!(r.org, None);
        assert_eq!(seen_key(None, "u"), "u");
        assert_eq!(seen_key(Some("prod"), "u"), "prod\u{1f}u");
    }

    #[tokio::test]
    async fn open_finishes_a_dispatch_interrupted_after_its_commit_point() {
        let dir = tempfile::tempdir().unwrap();
        let ev = event("e1");
        let runs = vec![run(&ev, "a"), run(&ev, "b")];
        {
            let store = Store::open(dir.path()).unwrap();
            store.accept(vec![ev.clone()], "hook").await.unwrap();
            // The crash: the intent is written, only the first run after it,
            // and that run has already moved on.
            let (_, _, encoded) = store.write_dispatch_intent(None, "e1", &runs).unwrap();
            // Mid-dispatch: not done yet.
            assert_eq!(store.inbox_depth().await.unwrap(), 1);
            store.write_new_run(&encoded[0]).unwrap();
            store
                .set_status_now(&runs[0].id, RunStatus::Running, chrono::Utc::now())
                .unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let first = store.get_run(&runs[0].id).await.unwrap().unwrap();
        assert_eq!(
            first.status,
            RunStatus::Running,
            "a run already written is not rewritten"
        );
        assert_eq!(
            store.get_run(&runs[1].id).await.unwrap().as_ref(),
            Some(&runs[1])
        );
        assert!(store.undispatched(None, 10).await.unwrap().is_empty());
        assert!(store.b().unwrap().t.inbox.is_empty(), "the intent is gone");
        assert_eq!(store.inbox_depth().await.unwrap(), 0);
        assert!(store.b().unwrap().t.inbox_order.is_empty(), "and the event's place");
        let again = store.dispatch("e1", &[run(&ev, "a")]).await.unwrap_err();
        assert_eq!(again.to_string(), "event e1 is already dispatched");
    }

    #[tokio::test]
    async fn open_drops_an_accept_interrupted_before_its_uuid_was_claimed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.accept(vec![event("kept")], "hook").await.unwrap();
            // The crash: the inbox entry is written, the seen entry is not.
            store.b().unwrap().t
                .inbox
                .insert(u64::MAX.to_be_bytes(), format1_waiting(&event("half")))
                .unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let pending = store.undispatched(None, 10).await.unwrap();
        assert_eq!(
            pending.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(),
            ["kept"]
        );
        assert_eq!(store.b().unwrap().t.inbox.len(), 1);
        // Okta's redelivery of the unacknowledged event is new.
        assert!(store.accept(vec![event("half")], "hook").await.unwrap()[0].new);
    }

    async fn finish(store: &Store, id: &str) {
        let outcome = crate::api::RunEnd {
            status: RunStatus::Succeeded,
            output: None,
            error: None,
            reason: None,
        };
        store
            .finish_run(id, outcome, chrono::Utc::now())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn runs_share_their_event_which_goes_with_the_last_of_them() {
        let store = Store::temporary().unwrap();
        let ev = event("shared");
        store.accept(vec![ev.clone()], "hook").await.unwrap();
        let runs = vec![run(&ev, "a"), run(&ev, "b")];
        store.dispatch("shared", &runs).await.unwrap();
        assert_eq!(store.b().unwrap().t.events.len(), 1, "one copy of the event");
        for r in &runs {
            let stored = store.get_run(&r.id).await.unwrap().unwrap();
            assert_eq!(&stored, r, "the input is read back from the event");
            // A status change keeps the reference.
            finish(&store, &r.id).await;
            let done = store.get_run(&r.id).await.unwrap().unwrap();
            assert_eq!((done.status, &done.input), (RunStatus::Succeeded, &r.input));
        }
        let listed = store.list_runs(&Default::default()).await.unwrap();
        assert!(listed.runs.iter().all(|r| r.input == runs[0].input));

        // Keep one run per flow of two flows: nothing goes.
        let keep_one = crate::api::RetentionPolicy {
            max_age: None,
            max_runs_per_flow: Some(1),
        };
        store.prune(&keep_one).await.unwrap();
        assert_eq!(store.b().unwrap().t.events.len(), 1);
        // The first run goes: its sibling still needs the event.
        let mut stats = Default::default();
        let bytes = store.b().unwrap().t.runs.get(&runs[0].id).unwrap().unwrap();
        store
            .delete_run(&runs[0].id, "a", &bytes, &mut stats)
            .unwrap();
        assert_eq!(store.b().unwrap().t.events.len(), 1);
        assert_eq!(
            store.get_run(&runs[1].id).await.unwrap().unwrap().input,
            runs[1].input
        );
        // The last one takes the event with it.
        let bytes = store.b().unwrap().t.runs.get(&runs[1].id).unwrap().unwrap();
        store
            .delete_run(&runs[1].id, "b", &bytes, &mut stats)
            .unwrap();
        assert!(
            store.b().unwrap().t.events.is_empty(),
            "the event went with its last run"
        );
    }

    #[tokio::test]
    async fn an_event_no_flow_wants_is_not_kept() {
        let store = Store::temporary().unwrap();
        store
            .accept(vec![event("nobody"), event("kept")], "hook")
            .await
            .unwrap();
        assert_eq!(store.b().unwrap().t.events.len(), 2);
        store.dispatch("nobody", &[]).await.unwrap();
        assert_eq!(store.b().unwrap().t.events.len(), 1);
        assert_eq!(store.b().unwrap().t.inbox.len(), 1);
        // A duplicate stores nothing.
        assert!(!store.accept(vec![event("kept")], "hook").await.unwrap()[0].new);
        assert_eq!(store.b().unwrap().t.events.len(), 1);
    }

    #[tokio::test]
    async fn the_dispatcher_reads_the_same_event_from_memory_and_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let from_memory = {
            let store = Store::open(dir.path()).unwrap();
            store
                .accept(vec![event("e1"), event("e2")], "hook")
                .await
                .unwrap();
            assert_eq!(store.b().unwrap().fresh.lock().unwrap().len(), 2);
            let page = store.undispatched(None, 10).await.unwrap();
            assert!(store.b().unwrap().fresh.lock().unwrap().is_empty(), "taken");
            page
        };
        let store = Store::open(dir.path()).unwrap();
        assert!(store.b().unwrap().fresh.lock().unwrap().is_empty());
        let from_disk = store.undispatched(None, 10).await.unwrap();
        assert_eq!(from_disk.len(), 2);
        for (m, d) in from_memory.iter().zip(&from_disk) {
            assert_eq!(
                (m.seq, &m.uuid, &m.source, &m.event),
                (d.seq, &d.uuid, &d.source, &d.event)
            );
            // Received times go through RFC 3339 on disk.
            assert_eq!(m.received.timestamp_micros(), d.received.timestamp_micros());
        }
    }

    #[tokio::test]
    async fn open_drops_an_accept_cut_short_before_its_event_was_written() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.accept(vec![event("kept")], "hook").await.unwrap();
            // The crash: the waiting entry is written, the event is not.
            store.b().unwrap().t
                .inbox
                .insert(u64::MAX.to_be_bytes(), &[FORMAT_INBOX_V1, KIND_WAITING])
                .unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let pending = store.undispatched(None, 10).await.unwrap();
        assert_eq!(
            pending.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(),
            ["kept"]
        );
        assert_eq!(store.b().unwrap().t.inbox.len(), 1);
        assert_eq!(store.b().unwrap().t.events.len(), 1);
    }

    #[tokio::test]
    async fn an_event_waiting_in_an_older_store_is_dispatched_with_its_copy() {
        let dir = tempfile::tempdir().unwrap();
        let ev = event("old");
        {
            let store = Store::open(dir.path()).unwrap();
            // What a format 1 store held: the event in the inbox entry, the
            // uuid claimed.
            let seq = store.b().unwrap().db.generate_id().unwrap();
            store.b().unwrap().t
                .inbox
                .insert(seq.to_be_bytes(), format1_waiting(&ev))
                .unwrap();
            let generation = store.current_generation(chrono::Utc::now()).unwrap();
            generation.tree.insert("old", &seq_value(seq)[..]).unwrap();
            store.b().unwrap().t
                .meta
                .insert(b"format", &1u32.to_be_bytes())
                .unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.b().unwrap().t.meta.get(b"format").unwrap().unwrap().as_ref(),
            crate::STORE_FORMAT.to_be_bytes(),
            "upgraded"
        );
        let pending = store.undispatched(None, 10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].event, ev);
        let r = run(&ev, "a");
        store
            .dispatch("old", std::slice::from_ref(&r))
            .await
            .unwrap();
        assert!(store.b().unwrap().t.inbox.is_empty());
        assert_eq!(store.get_run(&r.id).await.unwrap().unwrap(), r);
        let stored = store.b().unwrap().t.runs.get(&r.id).unwrap().unwrap();
        assert_eq!(stored[0], 1, "a format 1 record: the input is in it");
    }

    fn published_at(mut ev: LogEvent, second: i64) -> LogEvent {
        ev.published = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::TimeDelta::seconds(second);
        ev
    }

    fn uuids(events: &[InboxEvent]) -> Vec<&str> {
        events.iter().map(|e| e.uuid.as_str()).collect()
    }

    #[tokio::test]
    async fn open_puts_the_waiting_events_of_a_format_2_store_in_published_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let events = vec![
                published_at(event("late"), 5),
                published_at(event("early"), 1),
                published_at(event("gone"), 3),
            ];
            store.accept(events, "hook").await.unwrap();
            store.dispatch("gone", &[]).await.unwrap();
            // What format 2 wrote: waiting entries without a time, no order.
            let b = store.b().unwrap();
            let t = &b.t;
            for item in t.inbox.iter() {
                let (k, _) = item.unwrap();
                t.inbox.insert(k, &[FORMAT_INBOX_V1, KIND_WAITING]).unwrap();
            }
            t.inbox_order.clear().unwrap();
            t.meta.insert(b"format", &2u32.to_be_bytes()).unwrap();
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let b = store.b().unwrap();
            let t = &b.t;
        assert_eq!(
            t.meta.get(b"format").unwrap().unwrap().as_ref(),
            crate::STORE_FORMAT.to_be_bytes()
        );
        assert_eq!(uuids(&store.undispatched(None, 10).await.unwrap()), ["early", "late"]);
        for item in t.inbox.iter() {
            assert_eq!(item.unwrap().1[..2], [FORMAT_INBOX_V1, KIND_QUEUED], "rewritten");
        }
        store.dispatch("early", &[]).await.unwrap();
        assert_eq!(t.inbox_order.len(), 1, "a dispatch takes the event's place out");
        assert_eq!(uuids(&store.undispatched(None, 10).await.unwrap()), ["late"]);
    }

    #[tokio::test]
    async fn open_drops_what_a_crash_left_of_the_dispatch_order() {
        let dir = tempfile::tempdir().unwrap();
        let kept = published_at(event("kept"), 2);
        let cut = published_at(event("cut"), 1);
        {
            let store = Store::open(dir.path()).unwrap();
            store.accept(vec![kept.clone()], "hook").await.unwrap();
            let b = store.b().unwrap();
            let t = &b.t;
            // An accept cut short after its place, before its uuid was claimed.
            let seq = u64::MAX;
            let published = published_key(cut.published);
            let bytes = encode_event(&cut, "hook", None, Utc::now()).unwrap().unwrap();
            t.inbox.insert(seq.to_be_bytes(), &queued_value(&published)).unwrap();
            t.events.insert(seq.to_be_bytes(), bytes).unwrap();
            t.inbox_order.insert(order_key(&published, seq), ORDER_VALUE).unwrap();
            // A place left by a dispatch cut short after it removed the entry.
            t.inbox_order
                .insert(order_key(&published_key(cut.published), 7), ORDER_VALUE)
                .unwrap();
            // A place whose event was dispatched up to its commit point.
            let (_, place, _) = store.write_dispatch_intent(None, "kept", &[run(&kept, "a")]).unwrap();
            assert!(t.inbox_order.contains_key(place).unwrap());
            store.sync_blocking().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let b = store.b().unwrap();
            let t = &b.t;
        assert!(t.inbox_order.is_empty(), "{:?}", t.inbox_order.iter().keys().collect::<Vec<_>>());
        assert!(t.inbox.is_empty());
        assert_eq!(t.events.len(), 1, "the dispatched event, kept for its run");
        assert!(store.undispatched(None, 10).await.unwrap().is_empty());
        // Okta's redelivery of the unacknowledged event is new.
        assert!(store.accept(vec![cut], "hook").await.unwrap()[0].new);
        assert_eq!(uuids(&store.undispatched(None, 10).await.unwrap()), ["cut"]);
    }
}
