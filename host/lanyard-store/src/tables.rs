//! Tables: named, persistent JSON rows keyed by string, one sled tree per table
//! (`v1/table/<name>`: key → row). Served to cards through core's `TablesApi`
//! (with `CardError`s a flow author can read) and to operators through
//! [`Store::list_tables`] and the CSV import and export in `csv_io`.
//!
//! Table writes are durable at the next sync: the daemon syncs after each step,
//! before the next side effect.

use crate::codec::{decode, encode};
use crate::error::{Result, StoreError};
use crate::{Store, T_TABLE_PREFIX};
use async_trait::async_trait;
use lanyard_core::caps::{TableQuery, TableRow, TablesApi};
use lanyard_core::{CardError, ErrorKind, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The limits on every table input.
pub mod limits {
    /// Table names: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most this long.
    pub const MAX_TABLE_NAME: usize = 64;
    /// Row keys: non-empty UTF-8 without control characters, at most this many bytes.
    pub const MAX_KEY_BYTES: usize = 512;
    /// A row, serialized as JSON.
    pub const MAX_ROW_BYTES: usize = 64 * 1024;
    /// Rows `find` returns when the query sets no limit.
    pub const DEFAULT_FIND_LIMIT: u32 = 100;
    /// The most rows one `find` returns.
    pub const MAX_FIND_LIMIT: u32 = 1000;
    /// Field conditions in one `find`.
    pub const MAX_FIND_EQUALS: usize = 16;
    /// Rows one `find` may look at; a query that must look at more is refused
    /// and should narrow itself with a key prefix.
    pub const MAX_FIND_EXAMINED: usize = 100_000;
}
use limits::*;

/// A table, how many rows it has and their size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub name: String,
    pub rows: u64,
    /// Keys and rows as stored, in bytes.
    #[serde(default)]
    pub bytes: u64,
}

/// One page of a table for a person (the console): see [`Store::table_page`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowPage {
    pub rows: Vec<TableRow>,
    /// Where the next page starts (`after`), when there may be more.
    pub next: Option<String>,
    /// Rows looked at for this page.
    pub examined: u64,
}

/// What an import does with rows the file does not mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Keep them.
    Merge,
    /// Delete them: afterwards the table holds exactly the file's rows.
    Replace,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStats {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

pub(crate) fn check_table_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = name.len() <= MAX_TABLE_NAME
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "table name `{}` is not valid: 1 to {MAX_TABLE_NAME} characters, letters, digits, `.`, `_` and `-`, starting with a letter or digit",
            name.escape_debug()
        )))
    }
}

pub(crate) fn check_key(table: &str, key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "table `{table}`: key `{}` is not valid: 1 to {MAX_KEY_BYTES} bytes, no control characters",
            key.escape_debug()
        )));
    }
    Ok(())
}

/// Encode a row, enforcing the size limit.
pub(crate) fn encode_row(table: &str, key: &str, value: &Value) -> Result<Vec<u8>> {
    let bytes = encode(&tree_name(table), key.as_bytes(), value)?;
    if bytes.len() - 1 > MAX_ROW_BYTES {
        return Err(StoreError::Invalid(format!(
            "table `{table}`: row `{key}` is {} bytes as JSON; at most {MAX_ROW_BYTES}",
            bytes.len() - 1
        )));
    }
    Ok(bytes)
}

/// Refuse a page query that breaks a limit.
pub(crate) fn check_page(table: &str, prefix: &str, after: Option<&str>, limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_FIND_LIMIT {
        return Err(StoreError::Invalid(format!("table `{table}`: a page has 1 to {MAX_FIND_LIMIT} rows, not {limit}")));
    }
    if prefix.len() > MAX_KEY_BYTES || after.is_some_and(|a| a.len() > MAX_KEY_BYTES) {
        return Err(StoreError::Invalid(format!("table `{table}`: key prefix or start longer than {MAX_KEY_BYTES} bytes")));
    }
    Ok(())
}

/// Where a page's rows start: after `after` when it is past the prefix, else
/// at the prefix.
pub(crate) fn page_start(prefix: &str, after: Option<&str>) -> std::ops::Bound<Vec<u8>> {
    match after {
        Some(a) if a.as_bytes() >= prefix.as_bytes() => std::ops::Bound::Excluded(a.as_bytes().to_vec()),
        _ => std::ops::Bound::Included(prefix.as_bytes().to_vec()),
    }
}

/// One page of a table, for any backend: `rows` are the table's rows in key
/// order from [`page_start`], read with `key_of` and `value_of` only as far
/// as the page goes.
pub(crate) fn page_of<K: AsRef<[u8]>, V>(
    prefix: &str,
    contains: Option<&str>,
    column: Option<&str>,
    limit: u32,
    rows: impl Iterator<Item = Result<(K, V)>>,
    key_of: impl Fn(&K) -> Result<String>,
    value_of: impl Fn(&K, &V) -> Result<Value>,
) -> Result<RowPage> {
    let needle = contains.map(str::to_lowercase).filter(|n| !n.is_empty());
    let mut page = RowPage { rows: Vec::new(), next: None, examined: 0 };
    // Whether the scan stopped with rows still to look at.
    let mut more = false;
    for item in rows {
        let (k, v) = item?;
        if !k.as_ref().starts_with(prefix.as_bytes()) {
            break;
        }
        let key = key_of(&k)?;
        if page.rows.len() >= limit as usize || page.examined >= MAX_FIND_EXAMINED as u64 {
            more = true;
            break;
        }
        page.examined += 1;
        page.next = Some(key.clone());
        let value = value_of(&k, &v)?;
        let text_of = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string().to_lowercase());
        let hit = match (&needle, column) {
            (None, _) => true,
            (Some(n), Some("key")) => key.to_lowercase().contains(n),
            (Some(n), Some(c)) => value.get(c).is_some_and(|v| text_of(v).contains(n)),
            (Some(n), None) => key.to_lowercase().contains(n) || value.to_string().to_lowercase().contains(n),
        };
        if hit {
            page.rows.push(TableRow { key, value });
        }
    }
    // `next` only when the scan stopped with rows left (a full page, or
    // the rows it may look at), not when the table ran out.
    if !more {
        page.next = None;
    }
    Ok(page)
}

/// A sorted page, for any backend: reads every matching row through `page`
/// (unsorted pages of at most [`MAX_FIND_LIMIT`] rows from an `after`), at
/// most [`MAX_FIND_EXAMINED`], then sorts and cuts.
pub(crate) fn sorted_page(
    table: &str,
    field: &str,
    desc: bool,
    offset: usize,
    limit: u32,
    mut page: impl FnMut(Option<&str>) -> Result<RowPage>,
) -> Result<RowPage> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    let mut examined = 0u64;
    loop {
        let page = page(after.as_deref())?;
        examined += page.examined;
        all.extend(page.rows);
        if examined >= MAX_FIND_EXAMINED as u64 && page.next.is_some() {
            return Err(StoreError::Invalid(format!(
                "table `{table}`: sorting reads at most {MAX_FIND_EXAMINED} rows; find fewer (text or a key prefix) first"
            )));
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let value_of = |r: &TableRow| -> Option<Value> {
        if field == "key" {
            return Some(Value::String(r.key.clone()));
        }
        r.value.get(field).cloned().filter(|v| !v.is_null())
    };
    all.sort_by(|a, b| {
        use std::cmp::Ordering;
        match (value_of(a), value_of(b)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
                    _ => {
                        let text = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string().to_lowercase());
                        text(&x).cmp(&text(&y))
                    }
                };
                if desc { o.reverse() } else { o }
            }
        }
    });
    let total = all.len();
    let rows: Vec<TableRow> = all.into_iter().skip(offset).take(limit as usize).collect();
    let end = offset + rows.len();
    Ok(RowPage { rows, next: (end < total).then(|| end.to_string()), examined })
}

/// Refuse a find that breaks a limit; its limit and key prefix.
pub(crate) fn check_find<'q>(table: &str, query: &'q TableQuery) -> Result<(u32, &'q str)> {
    let limit = query.limit.unwrap_or(DEFAULT_FIND_LIMIT);
    if limit == 0 || limit > MAX_FIND_LIMIT {
        return Err(StoreError::Invalid(format!(
            "table `{table}`: find returns 1 to {MAX_FIND_LIMIT} rows, not {limit}"
        )));
    }
    if query.equals.len() > MAX_FIND_EQUALS {
        return Err(StoreError::Invalid(format!(
            "table `{table}`: at most {MAX_FIND_EQUALS} field conditions, not {}",
            query.equals.len()
        )));
    }
    let prefix = query.key_prefix.as_deref().unwrap_or("");
    if prefix.len() > MAX_KEY_BYTES {
        return Err(StoreError::Invalid(format!(
            "table `{table}`: key prefix longer than {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok((limit, prefix))
}

/// What a find (checked by [`check_find`]) returns from `rows`, the rows
/// under its key prefix in key order, for any backend.
pub(crate) fn find_in<K, V>(
    table: &str,
    query: &TableQuery,
    limit: u32,
    rows: impl Iterator<Item = Result<(K, V)>>,
    key_of: impl Fn(&K) -> Result<String>,
    value_of: impl Fn(&K, &V) -> Result<Value>,
) -> Result<Vec<TableRow>> {
    let mut out = Vec::new();
    for (examined, item) in rows.enumerate() {
        if examined >= MAX_FIND_EXAMINED {
            return Err(StoreError::Invalid(format!(
                "table `{table}`: find looked at {MAX_FIND_EXAMINED} rows without filling its limit; narrow it with a key prefix"
            )));
        }
        let (k, v) = item?;
        let value = value_of(&k, &v)?;
        let matches = query
            .equals
            .iter()
            .all(|(field, want)| value.get(field) == Some(want));
        if matches {
            out.push(TableRow { key: key_of(&k)?, value });
            if out.len() >= limit as usize {
                break;
            }
        }
    }
    Ok(out)
}

/// A row's key as text, from the tree `name`.
fn row_key(name: &str, k: &sled::IVec) -> Result<String> {
    String::from_utf8(k.to_vec()).map_err(|_| StoreError::corrupt(name, k, "key is not UTF-8"))
}

pub(crate) fn tree_name(table: &str) -> String {
    format!("{T_TABLE_PREFIX}{table}")
}

impl Store {
    /// The table's tree; with `create`, made if missing.
    pub(crate) fn table_tree(&self, table: &str, create: bool) -> Result<Option<sled::Tree>> {
        let b = self.b()?;
        check_table_name(table)?;
        if let Some(t) = b.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(table)
        {
            return Ok(Some(t.clone()));
        }
        if !create {
            return Ok(None);
        }
        let mut tables = b.tables.write().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tables.get(table) {
            return Ok(Some(t.clone()));
        }
        let name = tree_name(table);
        let tree = b.db
            .open_tree(&name)
            .map_err(|e| StoreError::backend("open tree", &name, b"", e))?;
        tables.insert(table.to_string(), tree.clone());
        Ok(Some(tree))
    }

    /// Every table, by name, with its row count and size (counting walks the table).
    pub fn list_tables(&self) -> Result<Vec<TableInfo>> {
        let b = self.b()?;
        let mut tables: Vec<(String, sled::Tree)> = b.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        tables.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(tables.len());
        for (name, tree) in tables {
            let (mut rows, mut bytes) = (0u64, 0u64);
            for item in tree.iter() {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", &tree_name(&name), b"", e))?;
                rows += 1;
                bytes += (k.len() + v.len()) as u64;
            }
            out.push(TableInfo { name, rows, bytes });
        }
        Ok(out)
    }

    /// The rows that start with `prefix` and contain `contains` (as
    /// [`Store::table_page`]), sorted by the top-level field `field` (`key`:
    /// the key; numbers as numbers, the rest as text without case, rows
    /// without it last; `desc` turns it round), `limit` of them from
    /// `offset`. Sorting reads every matching row, at most
    /// [`MAX_FIND_EXAMINED`]: past that it is refused, to narrow first.
    #[allow(clippy::too_many_arguments)]
    pub fn table_page_sorted(&self, table: &str, prefix: &str, contains: Option<&str>, field: &str, desc: bool, offset: usize, limit: u32) -> Result<RowPage> {
        self.table_page_sorted_in(table, prefix, contains, None, field, desc, offset, limit)
    }

    /// [`Store::table_page_sorted`], the text looked for only in the field
    /// `column` (`key`: the key) when one is given.
    #[allow(clippy::too_many_arguments)]
    pub fn table_page_sorted_in(&self, table: &str, prefix: &str, contains: Option<&str>, column: Option<&str>, field: &str, desc: bool, offset: usize, limit: u32) -> Result<RowPage> {
        sorted_page(table, field, desc, offset, limit, |after| {
            self.table_page_in(table, prefix, after, contains, column, MAX_FIND_LIMIT)
        })
    }

    /// Rows in key order that start with `prefix`, after the key `after`,
    /// and whose JSON text contains `contains` (any case): at most `limit`
    /// (1 to [`MAX_FIND_LIMIT`]), looking at no more than
    /// [`MAX_FIND_EXAMINED`] rows; `next` is where to go on from.
    pub fn table_page(&self, table: &str, prefix: &str, after: Option<&str>, contains: Option<&str>, limit: u32) -> Result<RowPage> {
        self.table_page_in(table, prefix, after, contains, None, limit)
    }

    /// [`Store::table_page`], the text looked for only in the top-level
    /// field `column` (`key`: the key) when one is given.
    pub fn table_page_in(&self, table: &str, prefix: &str, after: Option<&str>, contains: Option<&str>, column: Option<&str>, limit: u32) -> Result<RowPage> {
        check_page(table, prefix, after, limit)?;
        let Some(tree) = self.table_tree(table, false)? else {
            return Ok(RowPage { rows: Vec::new(), next: None, examined: 0 });
        };
        let name = tree_name(table);
        let rows = tree
            .range::<Vec<u8>, _>((page_start(prefix, after), std::ops::Bound::Unbounded))
            .map(|item| item.map_err(|e| StoreError::backend("scan", &name, prefix, e)));
        page_of(
            prefix,
            contains,
            column,
            limit,
            rows,
            |k| row_key(&name, k),
            |k, v| decode(&name, k, v),
        )
    }

    pub fn table_get(&self, table: &str, key: &str) -> Result<Option<Value>> {
        check_key(table, key)?;
        let Some(tree) = self.table_tree(table, false)? else {
            return Ok(None);
        };
        let name = tree_name(table);
        match tree
            .get(key)
            .map_err(|e| StoreError::backend("read", &name, key, e))?
        {
            Some(v) => decode(&name, key.as_bytes(), &v).map(Some),
            None => Ok(None),
        }
    }

    /// Write a row; `Unchanged` (and no write) if the stored row is equal.
    pub fn table_put(&self, table: &str, key: &str, value: &Value) -> Result<WriteOutcome> {
        check_key(table, key)?;
        let bytes = encode_row(table, key, value)?;
        let tree = self.table_tree(table, true)?.expect("created");
        let name = tree_name(table);
        loop {
            let old = tree
                .get(key)
                .map_err(|e| StoreError::backend("read", &name, key, e))?;
            if let Some(old) = &old {
                let stored: Value = decode(&name, key.as_bytes(), old)?;
                if stored == *value {
                    return Ok(WriteOutcome::Unchanged);
                }
            }
            if tree
                .compare_and_swap(key, old, Some(bytes.clone()))
                .map_err(|e| StoreError::backend("write", &name, key, e))?
                .is_ok()
            {
                return Ok(WriteOutcome::Changed);
            }
        }
    }

    pub fn table_delete(&self, table: &str, key: &str) -> Result<WriteOutcome> {
        check_key(table, key)?;
        let Some(tree) = self.table_tree(table, false)? else {
            return Ok(WriteOutcome::Unchanged);
        };
        let removed = tree
            .remove(key)
            .map_err(|e| StoreError::backend("remove", &tree_name(table), key, e))?;
        Ok(if removed.is_some() {
            WriteOutcome::Changed
        } else {
            WriteOutcome::Unchanged
        })
    }

    /// Rows in key order that start with the prefix and whose top-level fields
    /// equal every condition.
    pub fn table_find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>> {
        let (limit, prefix) = check_find(table, query)?;
        let Some(tree) = self.table_tree(table, false)? else {
            return Ok(Vec::new());
        };
        let name = tree_name(table);
        let rows = tree
            .scan_prefix(prefix)
            .map(|item| item.map_err(|e| StoreError::backend("scan", &name, prefix, e)));
        find_in(
            table,
            query,
            limit,
            rows,
            |k| row_key(&name, k),
            |k, v| decode(&name, k, v),
        )
    }
}

/// How a card sees a store failure.
pub(crate) fn card_error(e: StoreError) -> CardError {
    match e {
        StoreError::Invalid(m) => CardError::invalid_input(m),
        StoreError::NotFound(m) => CardError::not_found(format!("{m} not found")),
        StoreError::Conflict(m) => CardError::new(ErrorKind::Conflict, m),
        // The disk, not the card: the same call may succeed in a moment.
        e if e.is_unavailable() => CardError::unavailable(format!("the table store cannot write: {e}")),
        other => CardError::internal(format!("the table store failed: {other}")),
    }
}

#[async_trait]
impl TablesApi for Store {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Value>, CardError> {
        self.table_get(table, key).map_err(card_error)
    }

    async fn put(&self, table: &str, key: &str, value: Value) -> Result<WriteOutcome, CardError> {
        self.table_put(table, key, &value).map_err(card_error)
    }

    async fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome, CardError> {
        self.table_delete(table, key).map_err(card_error)
    }

    async fn find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>, CardError> {
        self.table_find(table, query).map_err(card_error)
    }
}

#[async_trait]
impl crate::api::TableStore for Store {
    async fn list_tables(&self) -> Result<Vec<TableInfo>> {
        Store::list_tables(self)
    }

    async fn table_page(&self, table: &str, q: &crate::api::PageQuery<'_>) -> Result<RowPage> {
        self.table_page_in(table, q.prefix, q.after, q.contains, q.column, q.limit)
    }

    async fn table_page_sorted(&self, table: &str, q: &crate::api::PageQuery<'_>, sort: &crate::api::SortBy<'_>) -> Result<RowPage> {
        self.table_page_sorted_in(table, q.prefix, q.contains, q.column, sort.field, sort.desc, sort.offset, q.limit)
    }

    async fn table_get(&self, table: &str, key: &str) -> Result<Option<Value>> {
        Store::table_get(self, table, key)
    }

    async fn table_put(&self, table: &str, key: &str, value: &Value) -> Result<WriteOutcome> {
        Store::table_put(self, table, key, value)
    }

    async fn table_delete(&self, table: &str, key: &str) -> Result<WriteOutcome> {
        Store::table_delete(self, table, key)
    }

    async fn table_find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>> {
        Store::table_find(self, table, query)
    }

    fn export_csv(&self, table: &str, out: &mut dyn std::io::Write) -> Result<u64> {
        Store::export_csv(self, table, out)
    }

    fn import_csv(&self, table: &str, input: &mut dyn std::io::Read, mode: ImportMode) -> Result<ImportStats> {
        Store::import_csv(self, table, input, mode)
    }
}
