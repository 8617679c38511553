//! `lanyard table ...`: read and write tables in a data directory.
//!
//! These commands open the store directly when they can; while the daemon
//! runs it holds the directory's lock, and they go through its admin API
//! instead (its address and admin token from its config), with the same
//! results: an import still lands whole or not at all.

use anyhow::Context;
use lanyard_core::WriteOutcome;
use super::access::{self, Access};
use super::admin_client::AdminClient;
use lanyard_core::admin_api as wire;
use lanyard_store::{ImportMode, ImportStats, SharedStore, TableInfo};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Read and write tables: named, persistent rows of JSON keyed by a string.
///
/// Flows read and write tables through cards granted `table:<name>`; these
/// commands are for operators. They open the data directory directly, or,
/// while the daemon runs (it holds the directory's lock), go through its admin
/// API: its address and admin token come from its config (`--config`, else
/// ./lanyard.toml).
///
/// Examples:
///   lanyard table list
///   lanyard table get offboarding-audit 00u1abcd
///   lanyard table put mfa-reminded 00u1abcd '{"login": "jo@acme.com", "count": 1}'
///   lanyard table export offboarding-audit --output audit.csv
///   lanyard table import mfa-reminded reminded.csv --replace
#[derive(Debug, clap::Subcommand)]
#[command(verbatim_doc_comment)]
pub enum Command {
    /// List the tables and how many rows each has.
    List {
        #[command(flatten)]
        data: DataDir,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print one row as JSON.
    Get {
        #[command(flatten)]
        data: DataDir,
        table: String,
        key: String,
    },
    /// Write one row (compare-before-write: an equal row is left alone).
    Put {
        #[command(flatten)]
        data: DataDir,
        table: String,
        key: String,
        /// The row as JSON, for example '{"login": "jo@acme.com"}'; `-` reads
        /// it from standard input.
        value: String,
    },
    /// Delete one row.
    Delete {
        #[command(flatten)]
        data: DataDir,
        table: String,
        key: String,
    },
    /// Write a table as CSV: a `key` column, then one column per field.
    ///
    /// Nested values are written as JSON text; strings that would read back as
    /// something else (`42`, `true`) are written as JSON strings (`"42"`).
    Export {
        #[command(flatten)]
        data: DataDir,
        table: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read rows from a CSV file (as `export` writes it) into a table.
    ///
    /// The first column is the row key; the header names the fields. A cell
    /// that is JSON becomes that value, any other cell a string, an empty cell
    /// no field. Every bad line is reported and nothing is written unless the
    /// whole file is good.
    Import {
        #[command(flatten)]
        data: DataDir,
        table: String,
        /// The CSV file; `-` reads standard input.
        file: PathBuf,
        /// Make the table hold exactly the file's rows (delete the others);
        /// without it, rows the file does not mention are kept.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// The daemon's data directory.
    #[arg(long = "data-dir", value_name = "DIR", env = "LANYARD_DATA_DIR", default_value = "./lanyard-data")]
    path: PathBuf,
    /// The daemon's config, to reach its admin API while it runs (default:
    /// ./lanyard.toml).
    #[arg(long, value_name = "FILE", env = "LANYARD_CONFIG")]
    config: Option<PathBuf>,
}

/// Where a command reads and writes: the data directory, or the daemon
/// that holds it.
enum Target {
    Store(SharedStore),
    Daemon(AdminClient),
}

impl DataDir {
    /// Open the store; only writing commands create a missing directory.
    /// While the daemon holds it, its admin API.
    async fn open(&self, create: bool) -> anyhow::Result<Target> {
        match access::open(&self.path, create).await? {
            Access::Store(store) => Ok(Target::Store(store)),
            Access::Missing { path } => anyhow::bail!("there is no lanyard data directory at {}", path.display()),
            Access::HeldByDaemon { path } => {
                let config = super::load_config(self.config.as_deref())?;
                let api = AdminClient::of_daemon_holding(&config, &path, "work on its tables", Some(std::time::Duration::from_secs(600)))?;
                eprintln!("the daemon holds {}; going through its admin API at {}", path.display(), api.base());
                Ok(Target::Daemon(api))
            }
        }
    }
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { data, json } => {
            let tables: Vec<TableInfo> = match data.open(false).await? {
                Target::Store(store) => store.list_tables().await?,
                Target::Daemon(api) => api
                    .tables()
                    .await?
                    .tables
                    .into_iter()
                    .map(|t| TableInfo { name: t.name, rows: t.rows, bytes: t.bytes })
                    .collect(),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&tables)?);
            } else if tables.is_empty() {
                eprintln!("no tables in {}", data.path.display());
            } else {
                let width = tables.iter().map(|t| t.name.len()).max().unwrap_or(0).max(5);
                println!("{:width$}  ROWS", "TABLE");
                for t in tables {
                    println!("{:width$}  {}", t.name, t.rows);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Get { data, table, key } => {
            let row = match data.open(false).await? {
                Target::Store(store) => store.get(&table, &key).await.map_err(card_error)?,
                Target::Daemon(api) => api.row(&table, &key).await?.map(|r| r.value),
            };
            match row {
                Some(row) => {
                    println!("{}", serde_json::to_string_pretty(&row)?);
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no row `{key}` in table `{table}`");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Put { data, table, key, value } => {
            let text = if value == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the row from standard input")?;
                s
            } else {
                value
            };
            let row: Value = serde_json::from_str(&text).with_context(|| {
                format!("the row is not JSON (quote a string as '\"text\"'): `{}`", text.trim())
            })?;
            let outcome = match data.open(true).await? {
                Target::Store(store) => {
                    let outcome = store.put(&table, &key, row).await.map_err(card_error)?;
                    store.sync().await?;
                    outcome
                }
                Target::Daemon(api) => api.put_row(&table, &key, &row).await?.outcome,
            };
            eprintln!(
                "{}",
                match outcome {
                    WriteOutcome::Changed => format!("wrote row `{key}` in table `{table}`"),
                    WriteOutcome::Unchanged => format!("row `{key}` in table `{table}` was already so"),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete { data, table, key } => {
            let outcome = match data.open(false).await? {
                Target::Store(store) => {
                    let outcome = store.delete(&table, &key).await.map_err(card_error)?;
                    store.sync().await?;
                    outcome
                }
                Target::Daemon(api) => api.delete_row(&table, &key).await?.outcome,
            };
            match outcome {
                WriteOutcome::Changed => {
                    eprintln!("deleted row `{key}` from table `{table}`");
                    Ok(ExitCode::SUCCESS)
                }
                WriteOutcome::Unchanged => {
                    eprintln!("no row `{key}` in table `{table}`");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Export { data, table, output } => {
            // Through the daemon, the CSV arrives whole before it is written.
            let csv = match data.open(false).await? {
                Target::Store(store) => Export::Store(store),
                Target::Daemon(api) => match api.export_csv(&table).await? {
                    None => anyhow::bail!("table `{table}` not found"),
                    Some(export) => Export::Bytes(export.csv, export.rows),
                },
            };
            let write = |out: &mut dyn Write| -> anyhow::Result<u64> {
                match &csv {
                    Export::Store(store) => Ok(store.export_csv(&table, out)?),
                    Export::Bytes(bytes, rows) => {
                        out.write_all(bytes)?;
                        Ok(*rows)
                    }
                }
            };
            match output {
                Some(path) => {
                    let rows = export_to_file(&path, write)?;
                    eprintln!("exported {rows} rows of table `{table}` to {}", path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let rows = write(&mut stdout.lock())?;
                    if std::io::stderr().is_terminal() {
                        eprintln!("exported {rows} rows of table `{table}`");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { data, table, file, replace } => {
            let input: Box<dyn Read> = if file.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(
                    std::fs::File::open(&file)
                        .with_context(|| format!("cannot open {}", file.display()))?,
                )
            };
            let mode = if replace { ImportMode::Replace } else { ImportMode::Merge };
            let stats: ImportStats = match data.open(true).await? {
                Target::Store(store) => store
                    .import_csv(&table, &mut std::io::BufReader::new(input), mode)
                    .with_context(|| format!("{} was not imported", file.display()))?,
                Target::Daemon(api) => {
                    let mut bytes = Vec::new();
                    std::io::BufReader::new(input).read_to_end(&mut bytes).with_context(|| format!("cannot read {}", file.display()))?;
                    let wire::ImportCounts { inserted, updated, unchanged, deleted } = api
                        .import_csv(&table, bytes, replace)
                        .await
                        .with_context(|| format!("{} was not imported", file.display()))?
                        .imported;
                    ImportStats { inserted, updated, unchanged, deleted }
                }
            };
            eprintln!(
                "table `{table}`: {} inserted, {} updated, {} unchanged, {} deleted",
                stats.inserted, stats.updated, stats.unchanged, stats.deleted
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What an export writes from.
enum Export {
    Store(SharedStore),
    /// The daemon's CSV, and how many rows it holds.
    Bytes(Vec<u8>, u64),
}

/// Export through a temporary file next to `path`, so a failed export never
/// leaves a half-written file under the real name.
fn export_to_file(path: &Path, write: impl Fn(&mut dyn Write) -> anyhow::Result<u64>) -> anyhow::Result<u64> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".partial");
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?,
        );
        let rows = write(&mut file)?;
        file.flush().with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(rows)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The tables API speaks `CardError` (what cards see); here it is just an error.
fn card_error(e: lanyard_core::CardError) -> anyhow::Error {
    match e.kind {
        lanyard_core::ErrorKind::InvalidInput => anyhow::anyhow!("{}", e.message),
        _ => anyhow::anyhow!("{e}"),
    }
}
