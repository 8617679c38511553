//! `lanyard table ...`: read and write tables in a data directory.
//!
//! These commands open the store directly, so they need the data directory to
//! themselves: while the daemon runs it holds the directory's lock, and the
//! store's error says to stop the daemon or go through its admin API.

use anyhow::Context;
use lanyard_core::WriteOutcome;
use lanyard_core::caps::TablesApi;
use lanyard_store::{ImportMode, RunStore, Store, StoreOptions};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Read and write tables: named, persistent rows of JSON keyed by a string.
///
/// Flows read and write tables through cards granted `table:<name>`; these
/// commands are for operators. They open the data directory directly, so the
/// daemon must not be running (it holds the directory's lock).
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
}

impl DataDir {
    /// Open the store; only writing commands create a missing directory.
    fn open(&self, create: bool) -> anyhow::Result<Store> {
        Ok(Store::open_with(&self.path, StoreOptions { create, ..Default::default() })?)
    }
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { data, json } => {
            let store = data.open(false)?;
            let tables = store.list_tables()?;
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
            let store = data.open(false)?;
            match store.get(&table, &key).await.map_err(card_error)? {
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
            let store = data.open(true)?;
            let outcome = store.put(&table, &key, row).await.map_err(card_error)?;
            store.sync().await?;
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
            let store = data.open(false)?;
            let outcome = store.delete(&table, &key).await.map_err(card_error)?;
            store.sync().await?;
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
            let store = data.open(false)?;
            match output {
                Some(path) => {
                    let rows = export_to_file(&store, &table, &path)?;
                    eprintln!("exported {rows} rows of table `{table}` to {}", path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let rows = store.export_csv(&table, stdout.lock())?;
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
            let store = data.open(true)?;
            let stats = store
                .import_csv(&table, std::io::BufReader::new(input), mode)
                .with_context(|| format!("{} was not imported", file.display()))?;
            eprintln!(
                "table `{table}`: {} inserted, {} updated, {} unchanged, {} deleted",
                stats.inserted, stats.updated, stats.unchanged, stats.deleted
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Export through a temporary file next to `path`, so a failed export never
/// leaves a half-written file under the real name.
fn export_to_file(store: &Store, table: &str, path: &Path) -> anyhow::Result<u64> {
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
        let rows = store.export_csv(table, &mut file)?;
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
