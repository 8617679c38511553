//! `lanyard history`: read the execution history.
//!
//! Reads the store in the data directory. When the daemon holds it (the store
//! is locked), reads the same through the daemon's admin API instead, with the
//! listen address and admin token from the same config file.

use anyhow::bail;
use chrono::{DateTime, Utc};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord};
use lanyard_server::Config;
use super::access::{self, Access};
use super::admin_client::AdminClient;
use lanyard_store::{RunFilter, RunPage, SharedStore, StoreErrorKind};
use std::path::PathBuf;
use std::process::ExitCode;

/// List recent runs (newest first), or show one run's step-by-step trace.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub show: Option<Show>,
    /// Only runs of this flow.
    #[arg(long, value_name = "FLOW")]
    pub flow: Option<String>,
    /// Only runs with this status: queued, running, waiting, succeeded, failed,
    /// stopped, suppressed, cancelled.
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<RunStatus>,
    /// Only runs started at or after this time: RFC 3339
    /// (`2026-11-28T09:00:00Z`), or a span back from now (`90m`, `2h`, `7d`).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Only runs started before this time (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many runs.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// The configuration file [default: lanyard.toml if it exists].
    #[arg(long, short, env = "LANYARD_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Print JSON instead of a table or trace.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum Show {
    /// One run: what started it, how it ended, and every step.
    Show {
        /// The run id.
        run: String,
    },
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    match lanyard_core::units::parse_duration(s) {
        Ok(ago) => chrono::Duration::from_std(ago)
            .ok()
            .and_then(|ago| Utc::now().checked_sub_signed(ago))
            .ok_or_else(|| format!("`{s}` reaches too far back")),
        Err(_) => Err(format!(
            "`{s}` is neither an RFC 3339 time (2026-11-28T09:00:00Z) nor a span back from now (90m, 2h, 7d)"
        )),
    }
}

fn parse_status(s: &str) -> Result<RunStatus, String> {
    RunStatus::parse(s).ok_or_else(|| {
        let all: Vec<&str> = RunStatus::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown status `{s}` ({})", all.join(", "))
    })
}

/// Where the history is read from.
enum Source {
    Store(SharedStore),
    Daemon(AdminClient),
}

use super::load_config;

async fn source(config: &Config) -> anyhow::Result<Source> {
    match access::open(&config.server.data_dir, false).await? {
        Access::Store(store) => Ok(Source::Store(store)),
        Access::HeldByDaemon { path } => Ok(Source::Daemon(AdminClient::of_daemon_holding(config, &path, "read the history", None)?)),
        Access::Missing { path } => bail!("there is no history yet: no lanyard data directory at {}", path.display()),
    }
}

impl Source {
    async fn list(&self, filter: &RunFilter) -> anyhow::Result<RunPage> {
        match self {
            Source::Store(s) => Ok(s.list_runs(filter).await?),
            Source::Daemon(api) => {
                let list = api.runs(filter).await?;
                Ok(RunPage { runs: list.runs.into_iter().map(|r| r.run.into()).collect(), next_cursor: list.next_cursor })
            }
        }
    }

    async fn show(&self, id: &str) -> anyhow::Result<(RunRecord, Vec<StepRecord>)> {
        match self {
            Source::Store(s) => {
                let run = match s.get_run(id).await {
                    Ok(Some(r)) => r,
                    Ok(None) => bail!("no run `{id}` in the history"),
                    Err(e) if e.kind() == StoreErrorKind::Invalid => bail!("no run `{id}` in the history"),
                    Err(e) => return Err(e.into()),
                };
                let steps = s.steps(id).await?;
                Ok((run, steps))
            }
            Source::Daemon(api) => {
                let detail = api.run(id).await?;
                Ok((detail.run.into(), detail.steps.into_iter().map(Into::into).collect()))
            }
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let source = source(&config).await?;
    if let Some(Show::Show { run }) = &args.show {
        let (run, steps) = source.show(run).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "run": run, "steps": steps }))?);
        } else {
            print!("{}", lanyard_flow::render_trace(&run, &steps, &lanyard_flow::TraceOptions::default()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.limit == 0 || args.limit > 1000 {
        bail!("--limit must be 1 to 1000");
    }
    let filter = RunFilter {
        flow: args.flow.clone(),
        status: args.status,
        since: args.since,
        until: args.until,
        limit: Some(args.limit),
        ..RunFilter::default()
    };
    let page = source.list(&filter).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(ExitCode::SUCCESS);
    }
    if page.runs.is_empty() {
        println!("no runs");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", table(&page.runs));
    if page.next_cursor.is_some() && page.runs.len() == args.limit {
        println!("(older runs not shown; raise --limit or filter with --flow/--status)");
    }
    Ok(ExitCode::SUCCESS)
}

/// The run list as an aligned table.
pub fn table(runs: &[RunRecord]) -> String {
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            let started = r.started.unwrap_or(r.created);
            let duration = match (r.started, r.ended) {
                (Some(s), Some(e)) => lanyard_flow::trace::duration_text((e - s).num_milliseconds().max(0) as u64),
                _ => "-".into(),
            };
            let mut status = r.status.to_string();
            if r.dry_run {
                status.push_str(" (dry)");
            }
            [
                r.id.clone(),
                r.flow.clone(),
                status,
                r.trigger.summary(),
                started.format("%Y-%m-%d %H:%M:%S").to_string(),
                duration,
            ]
        })
        .collect();
    let header = ["RUN", "FLOW", "STATUS", "TRIGGER", "STARTED (UTC)", "DURATION"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count()).min(60);
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, cell) in cells.iter().enumerate() {
            let cell: String = cell.chars().take(widths[i]).collect();
            if i + 1 == cells.len() {
                out.push_str(&cell);
            } else {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push('\n');
    };
    line(&header.map(String::from), &mut out);
    for row in &rows {
        line(row, &mut out);
    }
    out
}
