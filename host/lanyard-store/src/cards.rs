//! Card registry storage.
//!
//! - `v1/cards`: name, 0x00, version → [`CardEntry`].
//! - `v1/card-blobs`: sha256 hex → the wasm, once per digest however many
//!   entries share it.
//!
//! A blob is written before the entry that names it and removed after the last
//! entry naming it, so an entry never points at a missing blob; a crash can
//! only leave an unreferenced blob behind, which the next removal of a card
//! with that digest (or a republish) takes care of.

use crate::api::{BrokenMark, CardEntry, CardSelector, CardStore};
use crate::codec::{decode, decode_raw, encode, encode_raw};
use crate::error::{Result, StoreError};
use crate::{Store, T_CARD_BLOBS, T_CARDS};
use async_trait::async_trait;
use lanyard_core::{Grants, WriteOutcome};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;

const MAX_NAME_BYTES: usize = 128;
const MAX_VERSION_BYTES: usize = 64;
/// The largest card the store keeps.
pub const MAX_WASM_BYTES: usize = 64 * 1024 * 1024;

fn entry_key(name: &str, version: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1 + version.len());
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k.extend_from_slice(version.as_bytes());
    k
}

fn name_prefix(name: &str) -> Vec<u8> {
    let mut k = name.as_bytes().to_vec();
    k.push(0);
    k
}

pub(crate) fn check_name_version(name: &str, version: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "card name must be 1 to {MAX_NAME_BYTES} bytes without NUL"
        )));
    }
    if version.is_empty() || version.len() > MAX_VERSION_BYTES || version.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "card {name}: version must be 1 to {MAX_VERSION_BYTES} bytes without NUL"
        )));
    }
    Ok(())
}

pub(crate) fn check_digest(digest: &str) -> Result<()> {
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(StoreError::Invalid(format!(
            "`{}` is not a sha256 digest (64 lowercase hex digits)",
            digest.escape_debug()
        )));
    }
    Ok(())
}

/// Check an entry against its wasm before it is stored: name, version,
/// digest and size, and that the digest is the wasm's.
pub(crate) fn check_card(entry: &CardEntry, wasm: &[u8]) -> Result<()> {
    check_name_version(&entry.name, &entry.version)?;
    check_digest(&entry.digest)?;
    let id = format!("{}@{}", entry.name, entry.version);
    if wasm.len() > MAX_WASM_BYTES {
        return Err(StoreError::Invalid(format!(
            "card {id} is {} bytes of wasm; at most {MAX_WASM_BYTES}",
            wasm.len()
        )));
    }
    if entry.size != wasm.len() as u64 {
        return Err(StoreError::Invalid(format!(
            "card {id}: entry says {} bytes, the wasm has {}",
            entry.size,
            wasm.len()
        )));
    }
    let actual = hex::encode(Sha256::digest(wasm));
    if actual != entry.digest {
        return Err(StoreError::Invalid(format!(
            "card {id}: entry says sha256 {}, the wasm's is {actual}",
            entry.digest
        )));
    }
    Ok(())
}

/// What publishing `entry` again does when `existing` has its name and
/// version: the same digest is unchanged (`Ok(true)`: its broken mark is to
/// go), another is refused.
pub(crate) fn republish(existing: &CardEntry, entry: &CardEntry) -> Result<bool> {
    if existing.digest == entry.digest {
        // The same bytes published again: whatever broke them at a load is
        // to be tried again.
        Ok(existing.broken.is_some())
    } else {
        Err(StoreError::Conflict(format!(
            "card {}@{} is already published with sha256 {}; publish a new version",
            entry.name, entry.version, existing.digest
        )))
    }
}

/// The version of card `name` a selector other than
/// [`CardSelector::Version`] finds among `entries`, the name's versions.
pub(crate) fn select_card(name: &str, entries: Vec<CardEntry>, selector: &CardSelector) -> Result<Option<CardEntry>> {
    let pick_max = |entries: Vec<CardEntry>| {
        entries
            .into_iter()
            .max_by(|a, b| version_order(&a.version, &b.version))
    };
    match selector {
        CardSelector::Version(version) => {
            check_name_version(name, version)?;
            Ok(entries.into_iter().find(|e| e.version == *version))
        }
        CardSelector::Digest(digest) => {
            check_digest(digest)?;
            Ok(pick_max(
                entries
                    .into_iter()
                    .filter(|e| e.digest == *digest)
                    .collect(),
            ))
        }
        CardSelector::Latest => {
            let (releases, pre): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
                semver::Version::parse(&e.version).is_ok_and(|v| v.pre.is_empty())
            });
            Ok(if releases.is_empty() {
                pick_max(pre)
            } else {
                pick_max(releases)
            })
        }
        CardSelector::Req(req) => {
            let parsed = semver::VersionReq::parse(req).map_err(|e| {
                StoreError::Invalid(format!("card {name}: version requirement `{req}`: {e}"))
            })?;
            Ok(pick_max(
                entries
                    .into_iter()
                    .filter(|e| {
                        semver::Version::parse(&e.version).is_ok_and(|v| parsed.matches(&v))
                    })
                    .collect(),
            ))
        }
    }
}

/// Every entry, by name then version precedence.
pub(crate) fn sort_cards(cards: &mut [CardEntry]) {
    cards.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| version_order(&a.version, &b.version))
    });
}

/// Semver precedence; versions that are not semver sort first, by text.
fn version_order(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

impl Store {
    fn card_entries(&self, name: &str) -> Result<Vec<CardEntry>> {
        let b = self.b()?;
        b.t
            .cards
            .scan_prefix(name_prefix(name))
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", T_CARDS, name, e))?;
                decode(T_CARDS, &k, &v)
            })
            .collect()
    }

    fn digest_in_use(&self, digest: &str) -> Result<bool> {
        let b = self.b()?;
        for item in b.t.cards.iter() {
            let (k, v) = item.map_err(|e| StoreError::backend("scan", T_CARDS, b"", e))?;
            let entry: CardEntry = decode(T_CARDS, &k, &v)?;
            if entry.digest == digest {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn remove_blob_if_unused(&self, digest: &str) -> Result<()> {
        let b = self.b()?;
        if !self.digest_in_use(digest)? {
            b.t
                .card_blobs
                .remove(digest)
                .map_err(|e| StoreError::backend("remove", T_CARD_BLOBS, digest, e))?;
        }
        Ok(())
    }
}

impl Store {
    /// Change one card version's entry with `change` (compare-and-swap, so
    /// concurrent changes of other fields are kept).
    fn update_card(&self, name: &str, version: &str, change: impl Fn(&mut CardEntry)) -> Result<CardEntry> {
        let b = self.b()?;
        check_name_version(name, version)?;
        let key = entry_key(name, version);
        let cards = &b.t.cards;
        loop {
            let old = cards
                .get(&key)
                .map_err(|e| StoreError::backend("read", T_CARDS, &key, e))?
                .ok_or_else(|| StoreError::NotFound(format!("card {name}@{version}")))?;
            let mut entry: CardEntry = decode(T_CARDS, &key, &old)?;
            change(&mut entry);
            let bytes = encode(T_CARDS, &key, &entry)?;
            if cards
                .compare_and_swap(&key, Some(old), Some(bytes))
                .map_err(|e| StoreError::backend("write", T_CARDS, &key, e))?
                .is_ok()
            {
                return Ok(entry);
            }
        }
    }
}

#[async_trait]
impl CardStore for Store {
    async fn put_card(&self, entry: &CardEntry, wasm: &[u8]) -> Result<WriteOutcome> {
        let b = self.b()?;
        check_card(entry, wasm)?;
        let id = format!("{}@{}", entry.name, entry.version);
        let t = &b.t;
        let key = entry_key(&entry.name, &entry.version);
        if let Some(v) = t
            .cards
            .get(&key)
            .map_err(|e| StoreError::backend("read", T_CARDS, &key, e))?
        {
            let existing: CardEntry = decode(T_CARDS, &key, &v)?;
            if republish(&existing, entry)? {
                self.update_card(&entry.name, &entry.version, |e| e.broken = None)?;
            }
            return Ok(WriteOutcome::Unchanged);
        }
        // Blob first: an entry never names a missing blob.
        let _ = t
            .card_blobs
            .compare_and_swap(&entry.digest, None as Option<&[u8]>, Some(encode_raw(wasm)))
            .map_err(|e| StoreError::backend("write", T_CARD_BLOBS, &entry.digest, e))?;
        let bytes = encode(T_CARDS, &key, entry)?;
        let created = t
            .cards
            .compare_and_swap(&key, None as Option<&[u8]>, Some(bytes))
            .map_err(|e| StoreError::backend("write", T_CARDS, &key, e))?;
        if created.is_err() {
            return Err(StoreError::Conflict(format!(
                "card {id} was published by someone else meanwhile"
            )));
        }
        Ok(WriteOutcome::Changed)
    }

    async fn get_card(&self, name: &str, selector: &CardSelector) -> Result<Option<CardEntry>> {
        let b = self.b()?;
        match selector {
            CardSelector::Version(version) => {
                check_name_version(name, version)?;
                let key = entry_key(name, version);
                match b.t
                    .cards
                    .get(&key)
                    .map_err(|e| StoreError::backend("read", T_CARDS, &key, e))?
                {
                    Some(v) => decode(T_CARDS, &key, &v).map(Some),
                    None => Ok(None),
                }
            }
            // A digest is checked before the name's entries are read.
            CardSelector::Digest(digest) => {
                check_digest(digest)?;
                select_card(name, self.card_entries(name)?, selector)
            }
            // A requirement is checked as the entries are picked from.
            CardSelector::Latest | CardSelector::Req(_) => {
                select_card(name, self.card_entries(name)?, selector)
            }
        }
    }

    async fn card_wasm(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        let b = self.b()?;
        check_digest(digest)?;
        match b.t
            .card_blobs
            .get(digest)
            .map_err(|e| StoreError::backend("read", T_CARD_BLOBS, digest, e))?
        {
            Some(v) => decode_raw(T_CARD_BLOBS, digest.as_bytes(), &v).map(|b| Some(b.to_vec())),
            None => Ok(None),
        }
    }

    async fn list_cards(&self) -> Result<Vec<CardEntry>> {
        let b = self.b()?;
        let mut out: Vec<CardEntry> = b.t
            .cards
            .iter()
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", T_CARDS, b"", e))?;
                decode(T_CARDS, &k, &v)
            })
            .collect::<Result<_>>()?;
        sort_cards(&mut out);
        Ok(out)
    }

    async fn remove_card(&self, name: &str, version: &str) -> Result<Option<CardEntry>> {
        let b = self.b()?;
        check_name_version(name, version)?;
        let key = entry_key(name, version);
        let Some(v) = b.t
            .cards
            .remove(&key)
            .map_err(|e| StoreError::backend("remove", T_CARDS, &key, e))?
        else {
            return Ok(None);
        };
        let entry: CardEntry = decode(T_CARDS, &key, &v)?;
        self.remove_blob_if_unused(&entry.digest)?;
        Ok(Some(entry))
    }

    async fn set_broken(&self, name: &str, version: &str, broken: Option<BrokenMark>) -> Result<CardEntry> {
        self.update_card(name, version, |e| e.broken = broken.clone())
    }

    async fn set_grants(
        &self,
        name: &str,
        version: &str,
        granted: Option<Grants>,
    ) -> Result<CardEntry> {
        self.update_card(name, version, |e| e.granted = granted.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An entry as a data directory holds it (the registry's `info` JSON,
    /// here in its older shape: camelCase schemas, no world or imports) reads
    /// into the typed entry, and a changed entry keeps what it had.
    #[tokio::test]
    async fn an_existing_entry_reads_typed() {
        let store = Store::temporary().unwrap();
        let digest = "ab".repeat(32);
        let stored = json!({
            "name": "acme.wipe",
            "version": "1.0.0",
            "digest": digest,
            "size": 3,
            "info": {
                "name": "acme.wipe",
                "version": "1.0.0",
                "description": "wipes a device",
                "inputSchema": { "type": "object" },
                "grants": [{ "kind": "connection", "value": "jamf" }],
            },
            "requested": { "connections": ["jamf"] },
            "published_at": "2026-01-01T00:00:00Z",
        });
        let key = entry_key("acme.wipe", "1.0.0");
        let b = store.b().unwrap();
        b.t.cards.insert(&key, encode(T_CARDS, &key, &stored).unwrap()).unwrap();

        let entry = store.get_card("acme.wipe", &CardSelector::Latest).await.unwrap().unwrap();
        assert_eq!(entry.info.description, "wipes a device");
        assert_eq!(entry.info.input_schema, json!({ "type": "object" }));
        assert_eq!(entry.info.output_schema, json!(true));
        assert_eq!(entry.info.grants, vec![lanyard_core::Grant::Connection("jamf".into())]);
        assert_eq!(entry.info.world, None);
        let granted = store.set_grants("acme.wipe", "1.0.0", Some(entry.requested.clone())).await.unwrap();
        assert_eq!(granted.info, entry.info);
    }
}
