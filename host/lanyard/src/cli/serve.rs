//! `lanyard serve`: the daemon.
//!
//! Reads `lanyard.toml`, binds the listen address, serves HTTP at once (Event
//! Hooks are accepted while cards and flows load), starts the engine, and on
//! SIGINT or SIGTERM shuts down gracefully: intake stops (hooks answer 503 so
//! Okta retries), runs in flight get `[server] shutdown_grace` to finish, the
//! rest are checkpointed and resume at the next start. SIGHUP reloads flows.

use anyhow::Context as _;
use lanyard_server::{Config, Engine, EngineOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the daemon.
///
/// Every setting is in the configuration file; see the commented example
/// `lanyard.toml` for each key. Secrets come from environment variables or
/// files (`{ env = "NAME" }`, `{ file = "/run/secrets/name" }`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration file.
    #[arg(long, short, default_value = "lanyard.toml", env = "LANYARD_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
    /// Listen on this address instead of `[server] listen` (for example 127.0.0.1:0).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Check the configuration and the flows, print what would run, and exit.
    #[arg(long)]
    pub check: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(&args.config)?;
    if let Some(addr) = args.listen {
        config.server.listen = addr;
    }
    if args.check {
        return check(config).await;
    }
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {} ([server] listen)", config.server.listen))?;
    let addr = listener.local_addr()?;
    let grace = config.server.shutdown_grace;
    // Embedded sandbox orgs with a hook secret deliver their events here.
    #[cfg(feature = "sandbox")]
    let sandbox_hooks: Vec<String> = config
        .orgs
        .iter()
        .filter(|o| o.hook_secret.is_some() && matches!(o.setup, lanyard_server::config::OktaSetup::Sandbox { .. }))
        .map(|o| o.name.clone())
        .collect();
    let mut options = EngineOptions::new(config);
    options.handle_sighup = true;
    let engine = Engine::new(options).await.context("cannot start lanyard")?;
    let server = tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
    engine.start();
    let hooks: Vec<String> = engine.orgs().iter().map(|o| format!("http://{addr}{}", engine.orgs().hook_path(o.name()))).collect();
    if hooks.is_empty() {
        eprintln!("lanyard: serving on http://{addr}");
    } else {
        eprintln!("lanyard: serving on http://{addr} (Okta Event Hooks at {})", hooks.join(", "));
    }
    #[cfg(feature = "sandbox")]
    if !sandbox_hooks.is_empty() {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine.wait_ready().await;
            for org in sandbox_hooks {
                let url = format!("http://{addr}{}", engine.orgs().hook_path(&org));
                if let Err(e) = engine.register_sandbox_hook_of(&org, &url).await {
                    tracing::warn!(%org, error = %e, "the sandbox org will not deliver events");
                }
            }
        });
    }
    wait_for_stop_signal().await;
    eprintln!("lanyard: shutting down (runs in flight get {}s to finish)", grace.as_secs());
    let flushed = engine.shutdown_flushed(grace).await;
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP server stopped with an error"),
        Err(e) => tracing::warn!(error = %e, "the HTTP server task failed"),
    }
    if let Err(e) = flushed {
        // Acknowledged events were on disk before they were acknowledged; what
        // this loses is at most run progress, which resumes from the journal.
        eprintln!(
            "error: lanyard stopped, but its final flush of the data directory {} failed: {e}; free space or fix the disk, then start it again (runs resume from their last durable step)",
            engine.store().location()
        );
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("lanyard: stopped");
    Ok(ExitCode::SUCCESS)
}

async fn check(config: Config) -> anyhow::Result<ExitCode> {
    let mut options = EngineOptions::new(config);
    options.store = Some(std::sync::Arc::new(lanyard_store::Store::temporary().context("cannot open a temporary store")?));
    let engine = Engine::new(options).await.context("cannot start lanyard")?;
    let result = engine.reload().await;
    engine.shutdown(std::time::Duration::ZERO).await;
    match result {
        Ok(status) => {
            println!("configuration and {} flow(s) are valid", status.flows);
            for f in engine.flows().flows() {
                println!("  {:<40} {}", f.name, f.trigger.kind());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}", e.0.rendered);
            eprintln!("error: {}", e.0.message);
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
