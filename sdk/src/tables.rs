//! Named persistent tables of JSON rows keyed by string. Grant: `table:<name>`
//! (or `table:*` for the table the flow names).

use crate::bindings::lanyard::card::tables as wit;
use crate::{CardError, WriteOutcome};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T = Value> {
    /// The row's key.
    pub key: String,
    /// The row's value.
    pub value: T,
}

/// Which rows [`find`] returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only keys starting with this.
    pub key_prefix: Option<String>,
    /// Only rows whose top-level field equals the value, for every pair.
    pub equals: Vec<(String, Value)>,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// The row with this key, if any, as `T`.
pub fn get<T: DeserializeOwned>(table: &str, key: &str) -> Result<Option<T>, CardError> {
    match wit::get(table, key)? {
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
        None => Ok(None),
    }
}

/// Insert or replace a row; `unchanged` if it already held this value.
pub fn put<T: Serialize + ?Sized>(table: &str, key: &str, value: &T) -> Result<WriteOutcome, CardError> {
    wit::put(table, key, &serde_json::to_string(value)?)
}

/// Delete a row; `unchanged` if there was none.
pub fn delete(table: &str, key: &str) -> Result<WriteOutcome, CardError> {
    wit::delete(table, key)
}

/// Rows in key order.
pub fn find<T: DeserializeOwned>(table: &str, query: &Query) -> Result<Vec<Row<T>>, CardError> {
    let equals = query
        .equals
        .iter()
        .map(|(k, v)| Ok((k.clone(), serde_json::to_string(v)?)))
        .collect::<Result<Vec<_>, CardError>>()?;
    let rows = wit::find(
        table,
        &wit::Query {
            key_prefix: query.key_prefix.clone(),
            equals,
            limit: query.limit,
        },
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(Row {
                value: serde_json::from_str(&r.value)?,
                key: r.key,
            })
        })
        .collect()
}
