//! Tables: their list, rows, CSV imports.

use super::*;

// -- tables -------------------------------------------------------------------------

/// `GET /api/v1/tables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableList {
    pub tables: Vec<TableSummary>,
}

/// A table and its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    /// Keys and rows as stored, in bytes.
    #[serde(default)]
    pub bytes: u64,
}

/// `GET /api/v1/tables/{table}/rows/{key}`, and a row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub value: Value,
}

impl From<crate::caps::TableRow> for Row {
    fn from(r: crate::caps::TableRow) -> Row {
        Row { key: r.key, value: r.value }
    }
}

/// `GET /api/v1/tables/{table}/rows`: a page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowPage {
    pub table: String,
    pub rows: Vec<Row>,
    /// Where the next page starts (`after`), when there may be more.
    pub next: Option<String>,
    /// Rows looked at for this page.
    pub examined: u64,
}

/// `PUT` and `DELETE /api/v1/tables/{table}/rows/{key}`: whether it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowWritten {
    pub key: String,
    pub outcome: WriteOutcome,
}

/// `PUT /api/v1/tables/{table}/csv`: what the import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub table: String,
    pub imported: ImportCounts,
}

/// Rows an import inserted, updated, left as they were, and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

/// `DELETE /api/v1/tables/{table}`: every row gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cleared {
    pub table: String,
    pub deleted: u64,
}
