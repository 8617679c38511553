//! `lanyard table ...`: read and write tables in a data directory.
//!
//! These commands open the store directly when they can; while the daemon
//! runs it holds the directory's lock, and they go through its admin API
//! instead (its address and admin token from its config), with the same
//! results: an import still lands whole or not at all.

use anyhow::Context;
use lanyard_core::WriteOutcome;
use super::access::{self, Access};
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
    Daemon(Api),
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
                let Some(token) = &config.server.admin_token else {
                    anyhow::bail!(
                        "the daemon holds {}; to go through its admin API, set [server] admin_token in its config (--config)",
                        path.display()
                    );
                };
                let base = super::admin_base(&config);
                eprintln!("the daemon holds {}; going through its admin API at {base}", path.display());
                Ok(Target::Daemon(Api {
                    base,
                    token: token.expose().to_string(),
                    client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(600)).build()?,
                }))
            }
        }
    }
}

/// The daemon's admin API, for the table routes.
struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    /// One request; the answer's status and body. `404` is the caller's to
    /// read; any other error is the daemon's message.
    /// `segments` after `/api/v1/`, each percent-encoded by `Url`.
    async fn send(&self, method: reqwest::Method, segments: &[&str], query: &[(&str, &str)], body: Option<(&'static str, Vec<u8>)>) -> anyhow::Result<(u16, Vec<u8>, Option<u64>)> {
        let mut url = reqwest::Url::parse(&self.base).with_context(|| format!("the daemon's address {} is not a URL", self.base))?;
        url.path_segments_mut()
            .map_err(|_| anyhow::anyhow!("the daemon's address {} cannot take a path", self.base))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        let mut req = self.client.request(method, url).query(query).bearer_auth(&self.token);
        if let Some((kind, bytes)) = body {
            req = req.header("content-type", kind).body(bytes);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("the daemon holds the data directory, but its admin API at {} does not answer", self.base))?;
        let status = resp.status().as_u16();
        // An export says how many rows it holds.
        let rows = resp.headers().get("x-rows").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bytes = resp.bytes().await?.to_vec();
        if status >= 400 && status != 404 {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            anyhow::bail!("the daemon answered {status}: {message}");
        }
        Ok((status, bytes, rows))
    }

    async fn json(&self, method: reqwest::Method, segments: &[&str], query: &[(&str, &str)], body: Option<(&'static str, Vec<u8>)>) -> anyhow::Result<(u16, Value)> {
        let (status, bytes, _) = self.send(method, segments, query, body).await?;
        Ok((status, serde_json::from_slice(&bytes).context("the daemon's answer is not JSON")?))
    }
}


pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { data, json } => {
            let tables: Vec<TableInfo> = match data.open(false).await? {
                Target::Store(store) => store.list_tables().await?,
                Target::Daemon(api) => serde_json::from_value(api.json(reqwest::Method::GET, &["tables"], &[], None).await?.1["tables"].take())?,
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
                Target::Daemon(api) => match api.json(reqwest::Method::GET, &["tables", &table, "rows", &key], &[], None).await? {
                    (404, _) => None,
                    (_, mut v) => Some(v["value"].take()),
                },
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
                Target::Daemon(api) => {
                    let body = ("application/json", serde_json::to_vec(&row)?);
                    let (_, v) = api.json(reqwest::Method::PUT, &["tables", &table, "rows", &key], &[], Some(body)).await?;
                    serde_json::from_value(v["outcome"].clone())?
                }
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
                Target::Daemon(api) => {
                    let (_, v) = api.json(reqwest::Method::DELETE, &["tables", &table, "rows", &key], &[], None).await?;
                    serde_json::from_value(v["outcome"].clone())?
                }
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
                Target::Daemon(api) => match api.send(reqwest::Method::GET, &["tables", &table, "csv"], &[], None).await? {
                    (404, ..) => anyhow::bail!("table `{table}` not found"),
                    (_, bytes, rows) => Export::Bytes(bytes, rows.unwrap_or_default()),
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
                    let mode = [("mode", if replace { "replace" } else { "merge" })];
                    let (_, v) = api
                        .json(reqwest::Method::PUT, &["tables", &table, "csv"], &mode, Some(("text/csv", bytes)))
                        .await
                        .with_context(|| format!("{} was not imported", file.display()))?;
                    serde_json::from_value(v["imported"].clone())?
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
