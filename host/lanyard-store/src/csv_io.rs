//! Tables as CSV: a `key` column, then one column per top-level field.
//!
//! Cells: an empty cell is an absent field; a cell that parses as JSON is that
//! JSON value (`42`, `true`, `null`, `{"a":1}`, `"quoted text"`); any other
//! cell is a string. Export writes strings raw unless they would read back as
//! something else (`42`, `true`, the empty string), which it writes as JSON
//! strings (`"42"`), so export then import gives back exactly the same rows.
//! Columns are matched by position: the first column is the row key whatever
//! its header, so a field named `key` still has a column of its own.

use crate::Store;
use crate::codec::decode;
use crate::error::{LineError, Result, StoreError};
use crate::tables::{ImportMode, ImportStats, check_key, check_table_name, encode_row, tree_name};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::{Read, Write};

/// Import errors kept before giving up on a file.
const MAX_REPORTED_ERRORS: usize = 50;

fn cell_of(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() || serde_json::from_str::<Value>(s).is_ok() => {
            Value::String(s.clone()).to_string()
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn value_of(cell: &str) -> Option<Value> {
    if cell.is_empty() {
        return None;
    }
    Some(serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_string())))
}

impl Store {
    /// Write a table as CSV. Returns the rows written. Every row must be a JSON
    /// object.
    pub fn export_csv(&self, table: &str, out: impl Write) -> Result<u64> {
        check_table_name(table)?;
        let tree = self
            .table_tree(table, false)?
            .ok_or_else(|| StoreError::NotFound(format!("table `{table}`")))?;
        let name = tree_name(table);
        let rows = || {
            tree.iter().map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", &name, b"", e))?;
                let key = String::from_utf8(k.to_vec())
                    .map_err(|_| StoreError::corrupt(&name, &k, "key is not UTF-8"))?;
                csv_row(table, key, decode::<Value>(&name, &k, &v)?)
            })
        };
        write_csv(table, rows, out)
    }

    /// Read a CSV into a table: all of it or nothing. Every problem is reported
    /// with its line; on any problem nothing is written. Durable on return.
    pub fn import_csv(
        &self,
        table: &str,
        input: impl Read,
        mode: ImportMode,
    ) -> Result<ImportStats> {
        let ParsedCsv { rows, keys: first_line } = parse_csv(table, input)?;
        let tree = self.table_tree(table, true)?.expect("created");
        let name = tree_name(table);
        let mut stats = ImportStats::default();
        let mut batch = sled::Batch::default();
        for (key, value, bytes) in &rows {
            let old = tree
                .get(key)
                .map_err(|e| StoreError::backend("read", &name, key, e))?
                .map(|old| decode::<Value>(&name, key.as_bytes(), &old))
                .transpose()?;
            if tally(&mut stats, old.as_ref(), value) {
                batch.insert(key.as_bytes(), bytes.clone());
            }
        }
        if mode == ImportMode::Replace {
            for item in tree.iter().keys() {
                let k = item.map_err(|e| StoreError::backend("scan", &name, b"", e))?;
                let keep = std::str::from_utf8(&k).is_ok_and(|k| first_line.contains_key(k));
                if !keep {
                    stats.deleted += 1;
                    batch.remove(k);
                }
            }
        }
        // One batch: a crash applies all of the import or none of it. (Batches
        // take sled's global write lock; an import is rare enough for that.)
        tree.apply_batch(batch)
            .map_err(|e| StoreError::backend("import", &name, b"", e))?;
        self.sync_blocking()?;
        Ok(stats)
    }
}

/// Write rows as CSV, for any backend: `rows` gives the table's rows in key
/// order, each time it is called (once to find the columns, once to write).
pub(crate) fn write_csv<I>(table: &str, rows: impl Fn() -> I, out: impl Write) -> Result<u64>
where
    I: Iterator<Item = Result<(String, Map<String, Value>)>>,
{
    // Pass one finds the columns (in first-seen order), pass two writes.
    let mut columns: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows() {
        let (_, map) = row?;
        for field in map.keys() {
            if !index.contains_key(field) {
                index.insert(field.clone(), columns.len());
                columns.push(field.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| StoreError::Io {
        context: format!("cannot write the CSV of table `{table}`"),
        source: std::io::Error::other(e),
    };
    w.write_record(std::iter::once("key").chain(columns.iter().map(String::as_str)))
        .map_err(io)?;
    let mut written = 0u64;
    let mut record: Vec<String> = vec![String::new(); columns.len() + 1];
    for row in rows() {
        let (key, map) = row?;
        record.iter_mut().for_each(String::clear);
        record[0] = key;
        for (field, value) in &map {
            let Some(&col) = index.get(field) else {
                return Err(StoreError::Conflict(format!(
                    "table `{table}` changed during the export (new field `{field}`); export again"
                )));
            };
            record[col + 1] = cell_of(value);
        }
        w.write_record(&record).map_err(io)?;
        written += 1;
    }
    w.flush().map_err(|e| StoreError::Io {
        context: format!("cannot write the CSV of table `{table}`"),
        source: e,
    })?;
    Ok(written)
}

/// A CSV file read into rows, each with its encoding, and the line each key is on.
pub(crate) struct ParsedCsv {
    pub(crate) rows: Vec<(String, Value, Vec<u8>)>,
    pub(crate) keys: HashMap<String, u64>,
}

/// Read a CSV for an import, for any backend: every problem reported with its
/// line (at most [`MAX_REPORTED_ERRORS`]), and nothing returned if there is one.
pub(crate) fn parse_csv(table: &str, input: impl Read) -> Result<ParsedCsv> {
    check_table_name(table)?;
    let fail = |errors: Vec<LineError>| StoreError::Import {
        table: table.to_string(),
        errors,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| fail(vec![csv_line_error(&e, 1)]))?
        .clone();
    let mut errors = Vec::new();
    if headers.get(0) != Some("key") {
        errors.push(LineError {
            line: 1,
            message: "the first column must be `key`".into(),
        });
    }
    let fields: Vec<String> = headers.iter().skip(1).map(str::to_string).collect();
    for (i, f) in fields.iter().enumerate() {
        if f.is_empty() {
            errors.push(LineError {
                line: 1,
                message: format!("column {} has no name", i + 2),
            });
        } else if fields[..i].contains(f) {
            errors.push(LineError {
                line: 1,
                message: format!("column `{f}` appears twice"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    let mut rows: Vec<(String, Value, Vec<u8>)> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for result in reader.records() {
        if errors.len() >= MAX_REPORTED_ERRORS {
            errors.push(LineError {
                line: 0,
                message: format!("stopped after {MAX_REPORTED_ERRORS} problems"),
            });
            break;
        }
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_line_error(&e, 0));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let key = record.get(0).unwrap_or("").to_string();
        if let Err(e) = check_key(table, &key) {
            errors.push(LineError {
                line,
                message: e.to_string(),
            });
            continue;
        }
        if let Some(first) = first_line.get(&key) {
            errors.push(LineError {
                line,
                message: format!("key `{key}` again (first on line {first})"),
            });
            continue;
        }
        first_line.insert(key.clone(), line);
        let mut map = Map::new();
        for (field, cell) in fields.iter().zip(record.iter().skip(1)) {
            if let Some(v) = value_of(cell) {
                map.insert(field.clone(), v);
            }
        }
        let value = Value::Object(map);
        match encode_row(table, &key, &value) {
            Ok(bytes) => rows.push((key, value, bytes)),
            Err(e) => errors.push(LineError {
                line,
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(fail(errors));
    }

    Ok(ParsedCsv { rows, keys: first_line })
}

/// A row for the CSV of `table`: its fields, if it is an object.
pub(crate) fn csv_row(table: &str, key: String, value: Value) -> Result<(String, Map<String, Value>)> {
    match value {
        Value::Object(map) => Ok((key, map)),
        _ => Err(StoreError::Invalid(format!(
            "table `{table}`: row `{key}` is not a JSON object, and CSV needs one column per field"
        ))),
    }
}

/// Count an imported row against the stored one; whether it is to be written.
pub(crate) fn tally(stats: &mut ImportStats, old: Option<&Value>, new: &Value) -> bool {
    match old {
        Some(old) if old == new => {
            stats.unchanged += 1;
            false
        }
        Some(_) => {
            stats.updated += 1;
            true
        }
        None => {
            stats.inserted += 1;
            true
        }
    }
}

fn csv_line_error(e: &csv::Error, fallback: u64) -> LineError {
    let line = e.position().map_or(fallback, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} columns, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    LineError { line, message }
}
