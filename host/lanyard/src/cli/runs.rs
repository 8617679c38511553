//! `lanyard runs ...`: act on runs the daemon holds. `signal` answers a
//! waiting run through the daemon's admin API (`POST /api/v1/runs/{id}/signal`),
//! as the console's buttons and signal links do; a waiting run lives in the
//! daemon, so there is no offline form.

use super::admin_client::{AdminClient, Reached, Refused};
use super::card_registry::Target;
use lanyard_core::admin_api as wire;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::ExitCode;

/// Act on runs in the running daemon.
///
/// Examples:
///   lanyard runs signal 01JF3X5V2K8Q4R7T9W1Y3Z5A7C approval --choice approve
///   lanyard runs signal 01JF3X5V2K8Q4R7T9W1Y3Z5A7C approval --choice reject --data '{"note": "not this week"}'
///   lanyard runs signal 01JF3X5V2K8Q4R7T9W1Y3Z5A7C laptop-returned --url http://10.0.0.5:8080
#[derive(Debug, clap::Subcommand)]
#[command(verbatim_doc_comment)]
pub enum Command {
    /// Answer a waiting run: give it the signal its `wait` step waits for.
    ///
    /// The run goes on from its `wait` step, which then reads
    /// `{resumed: signal, signal, choice, data, by: api, at}`. A run takes one
    /// signal per wait: a second one, or one for a run that is not waiting,
    /// is refused. `lanyard history show <RUN>` shows what a run waits for.
    Signal(SignalArgs),
}

#[derive(Debug, clap::Args)]
pub struct SignalArgs {
    /// The waiting run's id (`lanyard history --status waiting` lists them).
    pub run: String,
    /// The signal's name, as its `wait` step writes it (`wait: { signal: approval }`).
    pub signal: String,
    /// One of the wait's `choices` (`approve`); needed when it lists some.
    #[arg(long, value_name = "CHOICE")]
    pub choice: Option<String>,
    /// Anything else the flow should see as `<step>.data`: JSON, for example
    /// '{"note": "ok for a week"}' (at most 64 KiB).
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    pub data: Option<Value>,
    /// The daemon: its config (address and admin token), or its URL.
    #[command(flatten)]
    pub target: Target,
}

fn parse_json(s: &str) -> Result<Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON ({e}); quote it for the shell, for example '{{\"note\": \"ok\"}}'"))
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Signal(args) => signal(args).await,
    }
}

async fn signal(args: SignalArgs) -> anyhow::Result<ExitCode> {
    let target = &args.target;
    let config = super::load_config(target.config.as_deref())?;
    let token = super::admin_client::admin_token(target.token.as_deref(), &config)?;
    let (base, reached) = match &target.url {
        Some(url) => (url.clone(), Reached::AtUrl),
        None => (super::admin_base(&config), Reached::HoldsTheDataDir),
    };
    let api = AdminClient::new(&base, &token, reached, None)?;
    let asked = wire::SignalRequest { signal: args.signal.clone(), choice: args.choice.clone(), data: args.data.clone() };
    let answer = match api.signal(&args.run, &asked).await {
        Ok(a) => a,
        Err(e) => return Err(explained(e, &args)),
    };
    if target.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        let choice = answer.choice.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        println!("run {} took the `{}` signal{choice}; it goes on", answer.run_id, answer.signal);
    }
    Ok(ExitCode::SUCCESS)
}

/// The daemon's refusal, with what to do about it.
fn explained(e: anyhow::Error, args: &SignalArgs) -> anyhow::Error {
    let Some(refused) = e.downcast_ref::<Refused>() else { return e };
    let hint = match refused.status {
        StatusCode::CONFLICT => format!("`lanyard history show {}` shows what it is doing", args.run),
        StatusCode::BAD_REQUEST if !refused.to_string().contains("choice") => return e,
        StatusCode::BAD_REQUEST if args.choice.is_none() => "pass one with --choice".to_string(),
        StatusCode::BAD_REQUEST => "pass one of them with --choice".to_string(),
        StatusCode::NOT_FOUND => "`lanyard history` lists the runs".to_string(),
        _ => return e,
    };
    anyhow::anyhow!("{refused}\n  ({hint})")
}
