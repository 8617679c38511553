//! `lanyard`: the command line. Each subcommand lives in its own module under
//! `cli/`; this file only parses and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

/// mimalloc instead of glibc malloc: under load the daemon allocates and frees
/// from many threads (hyper, the store, card calls), where glibc's arenas
/// spent about a quarter of its CPU (measured with perf while `loadgen` ran).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A self-hosted automation engine for identity teams.
///
/// Okta events and schedules trigger flows of action cards; every card is a
/// sandboxed WebAssembly component. Start with `lanyard demo`.
#[derive(Debug, Parser)]
#[command(name = "lanyard", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    /// Log filter (tracing EnvFilter syntax), for example `info` or `lanyard=debug`.
    #[arg(long, global = true, env = "LANYARD_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job on the embedded default: the daemon, the sandbox Okta org,
    /// the flows in flows/, and the seed's events made to happen.
    Demo(cli::demo::Args),
    /// Run the daemon.
    Serve(cli::serve::Args),
    /// Check flows; report every problem with file:line:col.
    Validate(cli::flow::ValidateArgs),
    /// Test Flow: run a flow once against an event and print a step-by-step trace.
    Run(cli::flow::RunArgs),
    /// Read the execution history.
    History(cli::history::Args),
    /// Act on runs in the running daemon: answer a waiting one.
    #[command(subcommand)]
    Runs(cli::runs::Command),
    /// Inspect, run, scaffold and publish cards.
    #[command(subcommand)]
    Card(cli::card::Command),
    /// Read and write tables.
    #[command(subcommand)]
    Table(cli::table::Command),
    /// Run the simulated Okta org on its own, and make events happen in it.
    Sandbox(cli::sandbox::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo(args) => cli::demo::run(args).await,
            Command::Serve(args) => cli::serve::run(args).await,
            Command::Validate(args) => cli::flow::validate(args).await,
            Command::Run(args) => cli::flow::run(args).await,
            Command::History(args) => cli::history::run(args).await,
            Command::Runs(cmd) => cli::runs::run(cmd).await,
            Command::Card(cmd) => cli::card::run(cmd).await,
            Command::Table(cmd) => cli::table::run(cmd).await,
            Command::Sandbox(args) => cli::sandbox::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
