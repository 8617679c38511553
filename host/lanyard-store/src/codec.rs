//! How records are laid out as bytes.
//!
//! Every value starts with one format byte, then the record as JSON. Readers
//! refuse a format byte they do not know instead of guessing, so a later
//! lanyard can change a record's layout by bumping the byte and reading both.
//! Key layouts are versioned through the tree names (`v1/...`) and the store
//! format number in the meta tree.

use crate::error::{Result, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The current value format: one byte, then JSON.
pub(crate) const FORMAT_JSON_V1: u8 = 1;

pub(crate) fn encode<T: Serialize + ?Sized>(tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_JSON_V1);
    serde_json::to_writer(&mut out, value)
        .map_err(|e| StoreError::corrupt(tree, key, format!("cannot encode: {e}")))?;
    Ok(out)
}

pub(crate) fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T> {
    match bytes.split_first() {
        Some((&FORMAT_JSON_V1, body)) => {
            serde_json::from_slice(body).map_err(|e| StoreError::corrupt(tree, key, e.to_string()))
        }
        _ => Err(unknown_format(tree, key, bytes)),
    }
}

/// What a value whose format byte this build does not know (or an empty
/// value) is reported as.
pub(crate) fn unknown_format(tree: &str, key: &[u8], bytes: &[u8]) -> StoreError {
    match bytes.first() {
        Some(other) => StoreError::corrupt(
            tree,
            key,
            format!("unknown record format {other} (written by a newer lanyard?)"),
        ),
        None => StoreError::corrupt(tree, key, "empty record"),
    }
}

/// The bytes behind a length (u32 BE), and what follows them; `None` if the
/// length runs past the end.
pub(crate) fn split_prefixed(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    (len <= rest.len()).then(|| rest.split_at(len))
}

/// Records each behind its length (u32 BE), back to back; `None` if one runs
/// past the end.
pub(crate) fn prefixed_records(mut bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (record, rest) = split_prefixed(bytes)?;
        out.push(record);
        bytes = rest;
    }
    Some(out)
}

/// A raw payload (a card's wasm) behind the format byte.
pub(crate) fn encode_raw(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(FORMAT_JSON_V1);
    out.extend_from_slice(bytes);
    out
}

pub(crate) fn decode_raw<'a>(tree: &str, key: &[u8], bytes: &'a [u8]) -> Result<&'a [u8]> {
    match bytes.split_first() {
        Some((&FORMAT_JSON_V1, body)) => Ok(body),
        _ => Err(unknown_format(tree, key, bytes)),
    }
}
