//! `lanyard card ...`: look inside a card, and run one call of it locally.
//!
//! `card run` gives the card only what the command line grants. Tables live in
//! memory for the one call. Okta is the embedded sandbox org (started only for a
//! card that asks for an Okta grant), and HTTP and mail answer `unavailable`;
//! with `--config lanyard.toml` Okta, the connections (HTTP), mail and the
//! default limits come from that file instead, as the daemon would use them.

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use lanyard_core::caps::{TableQuery, TableRow, TablesApi};
use lanyard_core::okta::OktaApi;
use lanyard_core::units::{self, parse_size};
use lanyard_core::{CallContext, CardError, Grant, Grants, WriteOutcome};
use lanyard_core::SystemClock;
#[cfg(feature = "sandbox")]
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use lanyard_okta::{OktaCapability, OktaClient, OktaConfig};
#[cfg(feature = "sandbox")]
use lanyard_okta::Auth;
use lanyard_runtime::{CallRequest, Capabilities, CardInfo, LimitOverrides, Limits, LoadedCard, Runtime, RuntimeConfig};
use lanyard_server::config::OktaSetup;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show a card's world version, describe() metadata, imports and size.
    Inspect(InspectArgs),
    /// Call a card once, in the same sandbox the daemon uses, and print its
    /// output or its typed error, the fuel it used and how long it took.
    Run(RunArgs),
    /// Scaffold a new card (Rust, Python or JS) that builds and has a test.
    New(super::card_new::NewArgs),
    /// Publish a card (.wasm) to the registry: check it, compile it, store it
    /// by name@version, and show the grants it waits for.
    Publish(super::card_registry::PublishArgs),
    /// List the published cards: version, sha256, size, grant state.
    List(super::card_registry::ListArgs),
    /// Show a published card: description, schemas, grants, the flows using it.
    Show(super::card_registry::ShowArgs),
    /// Grant a published card (some of) the capabilities it asks for.
    Grant(super::card_registry::GrantArgs),
    /// Remove a published version (refused while a flow uses it).
    Remove(super::card_registry::RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The card: a WebAssembly component (.wasm), or `builtin:<name>` (`builtin:http.request`).
    pub wasm: PathBuf,
    /// Print the metadata as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The card: a WebAssembly component (.wasm), or `builtin:<name>` (`builtin:http.request`).
    pub wasm: PathBuf,
    /// The JSON input.
    #[arg(long, conflicts_with = "input_file", value_name = "JSON")]
    pub input: Option<String>,
    /// Read the JSON input from this file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub input_file: Option<PathBuf>,
    /// Grant the card a capability; repeat for more. `okta:okta.users.read`,
    /// `http-host:api.example.com`, `connection:it-slack`, `table:audit`, `mail`.
    /// Nothing is granted by default, and only what the card asks for is given.
    #[arg(long = "grant", value_name = "GRANT")]
    pub grants: Vec<Grant>,
    /// Fuel for the call (about one unit per wasm instruction).
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Wall-clock deadline, for example `500ms`, `5s`, `1m`, `1.5s`.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Memory limit, for example `64MiB`, `512k`, `1g`.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub memory: Option<u64>,
    /// Record writes instead of doing them, as a Test Flow dry run does.
    #[arg(long)]
    pub dry_run: bool,
    /// Take Okta, connections (HTTP), mail and the default limits from this
    /// lanyard.toml, as the daemon does. Without it Okta is the embedded
    /// sandbox org and HTTP and mail answer `unavailable`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Inspect(args) => inspect(args).await,
        Command::Run(args) => run_card(args).await,
        Command::New(args) => super::card_new::run_new(args).await,
        Command::Publish(args) => super::card_registry::publish(args).await,
        Command::List(args) => super::card_registry::list(args).await,
        Command::Show(args) => super::card_registry::show(args).await,
        Command::Grant(args) => super::card_registry::grant(args).await,
        Command::Remove(args) => super::card_registry::remove(args).await,
    }
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LANYARD_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("lanyard").join("cards"))
}

fn runtime(default_limits: Option<Limits>) -> anyhow::Result<Runtime> {
    let defaults = RuntimeConfig::default();
    let default_limits = default_limits.unwrap_or(defaults.default_limits);
    Runtime::new(RuntimeConfig {
        cache_dir: cache_dir(),
        default_limits,
        max_instances: 4,
        max_memory_bytes: default_limits.memory_bytes.max(defaults.max_memory_bytes),
        ..defaults
    })
    .context("cannot start the card runtime")
}

/// A `.wasm` file, or `builtin:<name>` for a card shipped inside this binary.
async fn load(runtime: &Runtime, path: &Path) -> anyhow::Result<Arc<LoadedCard>> {
    let wasm = match path.to_str().and_then(|p| p.strip_prefix("builtin:")) {
        Some(name) => match lanyard_cards::builtin_card(name) {
            Some(card) => card.wasm.to_vec(),
            None => {
                let names: Vec<String> = lanyard_cards::builtin().iter().map(|c| lanyard_cards::card_name(c.name)).collect();
                bail!("no built-in card `{name}` (built in: {})", names.join(", "));
            }
        },
        None => tokio::fs::read(path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?,
    };
    let rt = runtime.clone();
    tokio::task::spawn_blocking(move || rt.load(&wasm))
        .await?
        .with_context(|| format!("cannot load {}", path.display()))
}

async fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let runtime = runtime(None)?;
    let card = load(&runtime, &args.wasm).await?;
    let info = card.info();
    if args.json {
        let doc = serde_json::json!({
            "name": info.name,
            "version": info.version,
            "description": info.description,
            "world": format!("lanyard:card/card@{}", card.world_version()),
            "sha256": card.digest(),
            "size": card.size(),
            "grants": info.grants.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
            "imports": card.imports(),
            "input_schema": info.input_schema,
            "output_schema": info.output_schema,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} {}", info.name, info.version);
    println!("  {}", info.description);
    println!();
    println!("world    lanyard:card/card@{}", card.world_version());
    println!("sha256   {}", card.digest());
    let size = card.size() as u64;
    // The exact count too, where the short form rounds.
    let exact = if size >= 1 << 10 { format!(" ({size} bytes)") } else { String::new() };
    println!("size     {}{exact}", units::human_size(size));
    if info.grants.is_empty() {
        println!("grants   (none)");
    } else {
        let grants: Vec<String> = info.grants.iter().map(|g| g.to_string()).collect();
        println!("grants   {}", grants.join(", "));
    }
    println!("imports");
    for import in card.imports() {
        println!("  {import}");
    }
    println!("input schema");
    println!("{}", indent(&serde_json::to_string_pretty(&info.input_schema)?));
    println!("output schema");
    println!("{}", indent(&serde_json::to_string_pretty(&info.output_schema)?));
    Ok(ExitCode::SUCCESS)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// One call of the card at `args.wasm`.
pub async fn run_card(args: RunArgs) -> anyhow::Result<ExitCode> {
    let input = match (&args.input, &args.input_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read the input from stdin")?;
            text
        }
        (None, Some(path)) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => "{}".to_string(),
    };
    let input: Value = serde_json::from_str(&input).context("the input is not JSON")?;
    let config = match &args.config {
        Some(path) => Some(lanyard_server::Config::load(path)?),
        None => None,
    };

    let runtime = runtime(config.as_ref().map(|c| c.limits))?;
    let card = load(&runtime, &args.wasm).await?;
    let requested = card.info().requested_grants();
    let given = Grants::from_list(&args.grants).map_err(anyhow::Error::msg)?;
    let grants = given.intersect(&requested);
    for grant in &args.grants {
        if Grants::from_list([grant]).map(|g| g.intersect(&requested)) == Ok(Grants::none()) {
            eprintln!("note: {} does not ask for `{grant}`; not granted", card.label());
        }
    }

    let services = Services::start(config.as_ref(), card.info()).await?;

    let mut ctx = CallContext::adhoc(&format!("adhoc-{}", std::process::id()));
    ctx.dry_run = args.dry_run;
    let request = CallRequest {
        ctx,
        input: input.into(),
        grants: Arc::new(grants),
        caps: services.caps.clone(),
        limits: LimitOverrides {
            fuel: args.fuel,
            memory_bytes: args.memory,
            deadline: args.timeout,
        },
    };
    let outcome = runtime.call(&card, request).await;

    for line in &outcome.logs {
        match &line.fields {
            Some(fields) => eprintln!("[{}] {} {fields}", line.level, line.message),
            None => eprintln!("[{}] {}", line.level, line.message),
        }
    }
    // Card text (a denied table name, a URL) is escaped: a newline in it must
    // not pass for a line of ours.
    for denied in &outcome.denied {
        eprintln!("denied: {}", denied.escape_debug());
    }
    for effect in &outcome.effects {
        eprintln!("would do: {} {} {}", effect.capability, effect.operation.escape_debug(), effect.args);
    }
    let stats = format!(
        "{} in {:.2?}, fuel used {}",
        card.label(),
        outcome.duration,
        outcome.fuel_used
    );
    match outcome.result {
        Ok(output) => {
            println!("{}", serde_json::to_string_pretty(&output)?);
            eprintln!("ok: {stats}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            print_error(&e);
            eprintln!("failed: {stats}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_error(e: &CardError) {
    let retry = if e.retryable { " (retryable)" } else { "" };
    eprintln!("error[{}]{retry}: {}", e.kind, e.message);
    if let Some(ms) = e.retry_after_ms {
        eprintln!("  retry after {ms} ms");
    }
    if let Some(detail) = &e.detail {
        eprintln!("{}", indent(detail));
    }
}

/// `--timeout`: a duration (`lanyard_core::units`), more than zero and less
/// than a day.
fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let d = units::parse_duration(s)?;
    if d.is_zero() || d >= Duration::from_secs(86_400) {
        bail!("`{}` is out of range", s.trim());
    }
    Ok(d)
}

/// What one `card run` call may use, and what has to stay up while it runs.
struct Services {
    caps: Capabilities,
    /// The embedded sandbox org, served until the command ends.
    #[cfg(feature = "sandbox")]
    _sandbox: Option<RunningSandbox>,
}

impl Services {
    /// With `config`: Okta, HTTP and mail as the daemon sets them up from it.
    /// Without: the sandbox org, if the card asks for Okta at all (seeding it
    /// takes a moment). Tables are in memory either way.
    async fn start(config: Option<&lanyard_server::Config>, card: &CardInfo) -> anyhow::Result<Services> {
        let wants_okta = card.grants.iter().any(|g| matches!(g, Grant::Okta(_)));
        let tables: Arc<dyn TablesApi> = Arc::new(MemoryTables::default());
        let mut caps = match config {
            Some(config) => lanyard_server::engine::capabilities(config, tables, None, Arc::new(SystemClock))?,
            None => Capabilities {
                tables: Some(tables),
                ..Capabilities::none()
            },
        };
        #[cfg(feature = "sandbox")]
        let mut sandbox = None;
        // `lanyard card run` calls one card, against the default org.
        let okta = match config.map(|c| c.default_org().map(|o| &o.setup)) {
            _ if !wants_okta => None,
            #[cfg(not(feature = "sandbox"))]
            None | Some(Some(OktaSetup::Sandbox { .. })) => {
                anyhow::bail!("the card asks for Okta, and this build of lanyard has no sandbox org (built without the `sandbox` feature): pass --config with a real org")
            }
            #[cfg(feature = "sandbox")]
            None | Some(Some(OktaSetup::Sandbox { .. })) => {
                let org = SandboxOrg::new(SandboxConfig::default(), Arc::new(SystemClock));
                let running = RunningSandbox::start(org.clone())
                    .await
                    .context("cannot start the sandbox Okta org")?;
                eprintln!("note: okta is the embedded sandbox org at {}", running.base_url);
                let auth = Auth::Ssws(org.service_token().to_string());
                let client = OktaConfig::new(&running.base_url, auth).and_then(OktaClient::new);
                sandbox = Some(running);
                Some(client.context("cannot reach the sandbox Okta org")?)
            }
            Some(None | Some(OktaSetup::None)) => None,
            Some(Some(OktaSetup::Org { org_url, auth, .. })) => {
                let client = OktaConfig::new(org_url, auth.clone()).and_then(OktaClient::new);
                Some(client.with_context(|| format!("cannot set up the Okta client for {org_url}"))?)
            }
        };
        caps.okta = okta.map(|c| Arc::new(OktaCapability::new(c)) as Arc<dyn OktaApi>);
        Ok(Services {
            caps,
            #[cfg(feature = "sandbox")]
            _sandbox: sandbox,
        })
    }
}

/// Tables for one `card run`: in memory, gone when the command ends.
#[derive(Default)]
struct MemoryTables {
    rows: Mutex<BTreeMap<String, BTreeMap<String, Value>>>,
}

#[async_trait]
impl TablesApi for MemoryTables {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Value>, CardError> {
        Ok(self.rows.lock().unwrap().get(table).and_then(|t| t.get(key)).cloned())
    }

    async fn put(&self, table: &str, key: &str, value: Value) -> Result<WriteOutcome, CardError> {
        let mut rows = self.rows.lock().unwrap();
        let old = rows.entry(table.to_string()).or_default().insert(key.to_string(), value.clone());
        Ok(if old == Some(value) { WriteOutcome::Unchanged } else { WriteOutcome::Changed })
    }

    async fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome, CardError> {
        let removed = self.rows.lock().unwrap().get_mut(table).and_then(|t| t.remove(key));
        Ok(if removed.is_some() { WriteOutcome::Changed } else { WriteOutcome::Unchanged })
    }

    async fn find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>, CardError> {
        let rows = self.rows.lock().unwrap();
        let Some(t) = rows.get(table) else { return Ok(Vec::new()) };
        let limit = query.limit.unwrap_or(1000) as usize;
        Ok(t.iter()
            .filter(|(k, _)| query.key_prefix.as_deref().is_none_or(|p| k.starts_with(p)))
            .filter(|(_, v)| query.equals.iter().all(|(f, want)| v.get(f) == Some(want)))
            .take(limit)
            .map(|(k, v)| TableRow { key: k.clone(), value: v.clone() })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("12 parsecs").is_err());
    }
}
