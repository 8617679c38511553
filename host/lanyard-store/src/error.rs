//! The store's one error type. Every variant names the record or place it
//! concerns, so an operator can tell which data directory, tree and key failed.

use std::path::PathBuf;

/// A boxed error from the storage backend (sled today). Kept opaque so that no
/// other crate names sled.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (usually the daemon) holds the data directory's lock.
    #[error(
        "the data directory {} is in use by another lanyard process (is the daemon running? stop it, or go through its admin API)",
        path.display()
    )]
    Locked { path: PathBuf },

    /// The directory was written by a newer lanyard whose format this build cannot read.
    #[error(
        "the data directory {} holds store format {found}, newer than the format {supported} this lanyard reads; upgrade lanyard",
        path.display()
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The data directory does not exist and the caller asked not to create it.
    #[error("there is no lanyard data directory at {}", path.display())]
    Missing { path: PathBuf },

    /// The backend failed to open the directory.
    #[error("cannot open the data directory {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: BackendError,
    },

    /// The backend failed while reading or writing a record.
    #[error("store {op} failed in `{tree}` at `{key}`: {source}")]
    Backend {
        op: &'static str,
        tree: String,
        key: String,
        #[source]
        source: BackendError,
    },

    /// A stored record could not be decoded.
    #[error("cannot decode record `{key}` in `{tree}`: {reason}")]
    Corrupt {
        tree: String,
        key: String,
        reason: String,
    },

    /// Making writes durable failed; what was written since the last good flush
    /// may be lost.
    #[error("cannot flush the store to disk: {0}")]
    Flush(String),

    /// The store cannot write: a write or a flush failed (a full disk) and the
    /// database is being reopened. Nothing of the operation is durable; retry
    /// once [`crate::Store::health`] is writable again.
    #[error(
        "the store cannot write since {}: {reason}; it is reopened as soon as the disk takes writes again",
        since.format("%Y-%m-%dT%H:%M:%SZ")
    )]
    Unavailable {
        since: chrono::DateTime<chrono::Utc>,
        reason: String,
    },

    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),

    /// The write contradicts what is stored.
    #[error("{0}")]
    Conflict(String),

    /// The input breaks a rule or a limit.
    #[error("{0}")]
    Invalid(String),

    /// A CSV import was refused; nothing was written.
    #[error("cannot import into table `{table}`: {}", format_line_errors(errors))]
    Import {
        table: String,
        errors: Vec<LineError>,
    },

    /// A background task of the store failed (panicked or was cancelled).
    #[error("a store task failed: {0}")]
    Task(String),

    /// Reading or writing outside the store (a CSV file).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// One problem in an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line in the file.
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn format_line_errors(errors: &[LineError]) -> String {
    let mut out = format!(
        "{} problem{}, nothing written",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    out
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the error is the disk's, not the request's: the store cannot
    /// write now (unavailable, a failed flush, or an I/O error from the
    /// backend), and the same request may succeed once it can.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } | StoreError::Flush(_) => true,
            StoreError::Backend { source, .. } => {
                matches!(source.downcast_ref::<sled::Error>(), Some(sled::Error::Io(_)))
            }
            _ => false,
        }
    }

    pub(crate) fn backend(
        op: &'static str,
        tree: &str,
        key: impl AsRef<[u8]>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            op,
            tree: tree.to_string(),
            key: show_key(key.as_ref()),
            source: Box::new(source),
        }
    }

    pub(crate) fn corrupt(tree: &str, key: impl AsRef<[u8]>, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            tree: tree.to_string(),
            key: show_key(key.as_ref()),
            reason: reason.into(),
        }
    }
}

/// A key as text: UTF-8 where it is, with other bytes escaped.
pub(crate) fn show_key(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

/// What a caller can do about a [`StoreError`], whatever the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// Another process holds the store: go through it (the daemon's admin API).
    InUse,
    /// There is no store there, and the caller asked not to create one.
    Missing,
    /// A newer lanyard wrote the store: upgrade.
    TooNew,
    /// The store cannot write now (a full disk, a database down); the same
    /// request may succeed later.
    Unavailable,
    /// What was asked for does not exist.
    NotFound,
    /// The write contradicts what is stored.
    Conflict,
    /// The request breaks a rule or a limit: tell whoever sent it.
    Invalid,
    /// The store or what it holds failed (a corrupt record, a backend error, a
    /// failed task, a file outside the store): an operator's problem.
    Internal,
}

impl StoreError {
    /// What kind of failure this is, for callers that must not depend on the backend.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Locked { .. } => StoreErrorKind::InUse,
            StoreError::Missing { .. } => StoreErrorKind::Missing,
            StoreError::NewerFormat { .. } => StoreErrorKind::TooNew,
            e if e.is_unavailable() => StoreErrorKind::Unavailable,
            StoreError::NotFound(_) => StoreErrorKind::NotFound,
            StoreError::Conflict(_) => StoreErrorKind::Conflict,
            StoreError::Invalid(_) | StoreError::Import { .. } => StoreErrorKind::Invalid,
            StoreError::Open { .. }
            | StoreError::Backend { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Flush(_)
            | StoreError::Unavailable { .. }
            | StoreError::Task(_)
            | StoreError::Io { .. } => StoreErrorKind::Internal,
        }
    }
}
