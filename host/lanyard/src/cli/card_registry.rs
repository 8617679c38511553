//! `lanyard card publish|list|show|grant|remove`: the card registry.
//!
//! The rules live in `lanyard_server::registry`; this module only finds the
//! registry and prints. Without a daemon it opens the data directory named by
//! the config and works on the store directly (compiling into the same
//! compiled-card cache the daemon reads). When the daemon holds the data
//! directory (the store is locked), or with `--url`, it goes through the
//! daemon's admin API with the admin token, and the daemon reloads so flows see
//! the change at once.

use anyhow::{bail, Context as _};
use lanyard_core::Grant;
use lanyard_server::registry::{
    self, flows_on_disk, flows_using, parse_selector, registry_card_set, split_reference, CardView, GrantMode,
    GrantState, Published, Registry, RegistryOptions,
};
use lanyard_server::Config;
use super::access::{self, Access};
use super::admin_client::{indent, AdminClient, Reached, Refused};
use lanyard_core::admin_api::CardSource;
use lanyard_store::CardSelector;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Where the registry (or the daemon, for `lanyard runs`) is: the config,
/// or a daemon's URL.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The configuration file [default: lanyard.toml if it exists].
    #[arg(long, short, env = "LANYARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Go through the daemon's admin API at this URL (for example
    /// http://127.0.0.1:8080) instead of the data directory or the address
    /// the config names.
    #[arg(long, env = "LANYARD_URL", value_name = "URL")]
    pub url: Option<String>,
    /// The admin token for the daemon [default: the config's [server] admin_token].
    #[arg(long, env = "LANYARD_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The card: a WebAssembly component (.wasm) of the world lanyard:card/card.
    pub wasm: PathBuf,
    /// The name the card must say it has (`PUT /api/v1/cards/{name}`); by
    /// default whatever its describe() says.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// `NAME` (every version) or `NAME@VERSION` (`1.2.0`, `1.2`, `latest`, `sha256:<hex>`).
    pub card: String,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct GrantArgs {
    /// `NAME` (the newest version) or `NAME@VERSION`.
    pub card: String,
    /// What to grant: `okta:okta.users.read`, `http-host:api.example.com`,
    /// `connection:jamf`, `table:audit`, `mail`. Only what the card asks for
    /// can be granted; a card asking for `connection:*` gets the connections
    /// named here.
    #[arg(value_name = "GRANT")]
    pub grants: Vec<Grant>,
    /// Grant exactly these, dropping what was granted before (with no GRANT:
    /// decide that it gets nothing).
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// `NAME@VERSION` (an exact version, or `sha256:<hex>`).
    pub card: String,
    #[command(flatten)]
    pub target: Target,
}

/// The registry: the store, or the daemon that holds it.
enum Source {
    Local { registry: Registry, config: Config },
    Daemon(AdminClient),
}

use super::load_config;

impl Target {
    /// Open the registry. `create`: make the data directory if it is missing
    /// (publishing does; reading commands say there is nothing).
    async fn open(&self, create: bool) -> anyhow::Result<Source> {
        let config = load_config(self.config.as_deref())?;
        let daemon = |base: String, reached: Reached, config: &Config| -> anyhow::Result<Source> {
            let token = super::admin_client::admin_token(self.token.as_deref(), config)?;
            // Publishing waits while the daemon compiles the card (a Python
            // card takes a minute on two cores).
            Ok(Source::Daemon(AdminClient::new(&base, &token, reached, Some(Duration::from_secs(600)))?))
        };
        if let Some(url) = &self.url {
            return daemon(url.clone(), Reached::AtUrl, &config);
        }
        match access::open(&config.server.data_dir, create).await? {
            Access::Store(store) => {
                let runtime = lanyard_runtime::Runtime::new(registry::runtime_config(&config)).context("cannot start the card runtime")?;
                let registry = Registry::new(store, runtime, RegistryOptions::from_config(&config));
                Ok(Source::Local { registry, config })
            }
            Access::HeldByDaemon { path } => {
                let base = super::admin_base(&config);
                tracing::info!(data_dir = %path.display(), %base, "the daemon holds the data directory; going through its admin API");
                daemon(base, Reached::HoldsTheDataDir, &config)
            }
            Access::Missing { path } => bail!("no card is published: there is no lanyard data directory at {}", path.display()),
        }
    }
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

// -- publish --------------------------------------------------------------------

pub async fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let wasm = tokio::fs::read(&args.wasm).await.with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let source = args.target.open(true).await?;
    let (published, reload) = match &source {
        Source::Local { registry, .. } => {
            let p = registry.publish(wasm, args.name.as_deref()).await.map_err(|e| publish_failure(&args.wasm, e))?;
            (p, None)
        }
        Source::Daemon(api) => match api.publish(wasm, args.name.as_deref()).await {
            Ok(answer) => (answer.published, Some(answer.reload)),
            Err(e) if e.is::<Refused>() => bail!("{} refused: {e}", args.wasm.display()),
            Err(e) => return Err(e),
        },
    };
    if args.target.json {
        print_json(&serde_json::json!({ "published": published, "reload": reload }))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_published(&published, matches!(source, Source::Local { .. }));
    if let Some(r) = reload {
        match r.ok {
            true if published.new => println!("the daemon reloaded: flows can use it now"),
            false => println!("warning: {}", r.error.as_deref().unwrap_or("the daemon did not reload")),
            true => {}
        }
    } else if published.new {
        println!("the daemon sees it when it starts (or reloads: POST /api/v1/admin/reload)");
    }
    Ok(ExitCode::SUCCESS)
}

fn publish_failure(path: &Path, e: registry::PublishError) -> anyhow::Error {
    let mut msg = format!("{} refused: {e}", path.display());
    if let registry::PublishError::DescribeFailed { detail: Some(d), .. } = &e {
        msg.push('\n');
        msg.push_str(&indent(d, "  "));
    }
    anyhow::anyhow!(msg)
}

fn print_published(p: &Published, local: bool) {
    let c = &p.card;
    if p.new {
        println!("published {}@{}", c.name, c.version);
    } else {
        println!("{}@{} is already published with exactly these bytes; nothing changed", c.name, c.version);
    }
    println!("  {}", c.description);
    println!();
    println!("sha256   {}", c.digest);
    println!(
        "size     {}{}",
        lanyard_core::units::human_size(c.size),
        c.world.as_deref().map(|w| format!(", built against lanyard:card@{w}")).unwrap_or_default()
    );
    let secs = p.load_ms as f64 / 1000.0;
    if p.compiled_before {
        println!("checked  in {secs:.1} s (its compiled code was already cached)");
    } else {
        let whose = if local { "the cache the daemon reads" } else { "the daemon's cache" };
        println!("checked  and compiled in {secs:.1} s, into {whose}: it loads without compiling again");
    }
    print_grants(c);
}

fn print_grants(c: &CardView) {
    if c.requested.is_empty() {
        println!("grants   none asked for");
        return;
    }
    println!("grants   asks for {}", c.requested.join(", "));
    if let Some(g) = &c.granted {
        println!("         granted (lanyard card grant): {}", if g.is_empty() { "nothing".to_string() } else { g.join(", ") });
    }
    if let Some(g) = &c.configured {
        println!("         granted (lanyard.toml): {}", if g.is_empty() { "nothing".to_string() } else { g.join(", ") });
    }
    match c.state {
        GrantState::Pending => {
            println!("         PENDING: nobody has decided yet. Until an operator does, flows keep using the");
            println!("         version before it (if there is one) and a step that can only use this version");
            println!("         fails with `denied`.");
        }
        GrantState::Partial => println!("         partly granted; not granted: {}", c.missing.join(", ")),
        GrantState::Granted => println!("         its calls get: {}", c.effective.join(", ")),
        GrantState::NoneNeeded => {}
    }
    if let Some(cmd) = &c.approve {
        println!("approve  {cmd}");
        if c.requested.iter().any(|g| g.ends_with(":*")) {
            println!("         (`*`: name the connections or tables it may use, for example connection:jamf)");
        }
    }
}

// -- list, show -------------------------------------------------------------------

pub async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let source = match args.target.open(false).await {
        Ok(s) => s,
        Err(e) if e.to_string().starts_with("no card is published") && !args.target.json => {
            eprintln!("{e}");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e),
    };
    let views: Vec<CardView> = match &source {
        Source::Local { registry, .. } => registry.list().await?.iter().map(|e| registry.view(e, None)).collect(),
        Source::Daemon(api) => {
            let all = api.cards().await?.cards;
            let mut names: Vec<String> = all.into_iter().filter(|c| c.source == CardSource::Registry).map(|c| c.name).collect();
            names.dedup();
            let mut views = Vec::new();
            for n in names {
                views.extend(api.card_versions(&n, None).await?.versions);
            }
            views
        }
    };
    if args.target.json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if views.is_empty() {
        eprintln!("no card is published (publish one with `lanyard card publish CARD.wasm`)");
        return Ok(ExitCode::SUCCESS);
    }
    let w = views.iter().map(|v| v.name.len()).max().unwrap_or(4).max(4);
    let vw = views.iter().map(|v| v.version.len()).max().unwrap_or(7).max(7);
    // Whether a version loads is known for sure only to a running daemon; the
    // registry keeps what a daemon found broken.
    let daemon = matches!(source, Source::Daemon(_));
    println!("{:w$}  {:vw$}  {:12}  {:>9}  {:11}  {:6}  PUBLISHED", "NAME", "VERSION", "SHA256", "SIZE", "GRANTS", "STATUS");
    for v in &views {
        let status = match (&v.broken, daemon) {
            (Some(_), _) => "broken",
            (None, true) => "ok",
            (None, false) => "-",
        };
        println!(
            "{:w$}  {:vw$}  {:12}  {:>9}  {:11}  {:6}  {}",
            v.name,
            v.version,
            &v.digest[..12.min(v.digest.len())],
            lanyard_core::units::human_size(v.size),
            v.state.to_string(),
            status,
            registry::age(v.published_at)
        );
    }
    for v in views.iter().filter(|v| v.broken.is_some()) {
        println!();
        println!("{}@{} is broken: {}", v.name, v.version, v.broken.as_deref().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let (name, version) = split_reference(&args.card);
    let source = args.target.open(false).await?;
    let views: Vec<CardView> = match &source {
        Source::Local { registry, config } => {
            let entries = match version {
                Some(v) => vec![registry.find(name, &parse_selector(Some(v))?).await?],
                None => registry.versions(name).await?,
            };
            if entries.is_empty() {
                bail!("no card `{name}` is published");
            }
            let cards = registry_card_set(registry.list().await?, config);
            let flows = flows_on_disk(&config.server.flows_dir, &cards).map_err(anyhow::Error::msg)?;
            entries.iter().map(|e| registry.view(e, Some(flows_using(&flows, &cards, &e.name, &e.version)))).collect()
        }
        Source::Daemon(api) => api.card_versions(name, version).await?.versions,
    };
    if args.target.json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (i, c) in views.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_view(c)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_view(c: &CardView) -> anyhow::Result<()> {
    println!("{}@{}", c.name, c.version);
    println!("  {}", c.description);
    println!();
    println!("sha256   {}", c.digest);
    println!(
        "size     {}{}",
        lanyard_core::units::human_size(c.size),
        c.world.as_deref().map(|w| format!(", built against lanyard:card@{w}")).unwrap_or_default()
    );
    println!("published {} ({})", c.published_at.format("%Y-%m-%d %H:%M:%S UTC"), registry::age(c.published_at));
    if let Some(why) = &c.broken {
        println!("BROKEN   {why}");
    }
    print_grants(c);
    match &c.used_by {
        Some(flows) if !flows.is_empty() => println!("used by  {}", flows.join(", ")),
        Some(_) => println!("used by  no loaded flow"),
        None => {}
    }
    println!("input schema");
    println!("{}", indent(&serde_json::to_string_pretty(&c.input_schema)?, "  "));
    println!("output schema");
    println!("{}", indent(&serde_json::to_string_pretty(&c.output_schema)?, "  "));
    Ok(())
}

// -- grant, remove ------------------------------------------------------------------

pub async fn grant(args: GrantArgs) -> anyhow::Result<ExitCode> {
    let (name, version) = split_reference(&args.card);
    if args.grants.is_empty() && !args.replace {
        bail!("name what to grant, for example `lanyard card grant {name} connection:jamf` (or --replace with nothing to grant nothing)");
    }
    let mode = if args.replace { GrantMode::Replace } else { GrantMode::Add };
    let source = args.target.open(false).await?;
    let (view, reload) = match &source {
        Source::Local { registry, config } => {
            let selector = parse_selector(version)?;
            let entry = registry.grant(name, &selector, &args.grants, mode, Some(&config.connections)).await?;
            (registry.view(&entry, None), None)
        }
        Source::Daemon(api) => {
            let answer = api.grant(name, version.unwrap_or("latest"), &args.grants, args.replace).await?;
            (answer.card, Some(answer.reload))
        }
    };
    if args.target.json {
        print_json(&serde_json::json!({ "card": view, "reload": reload }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}@{}", view.name, view.version);
    print_grants(&view);
    match &reload {
        Some(r) if r.ok => println!("the daemon reloaded: runs that start now get these grants"),
        Some(r) => println!("warning: {}", r.error.as_deref().unwrap_or("the daemon did not reload")),
        None => println!("the daemon applies it when it starts (or reloads: POST /api/v1/admin/reload)"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn remove(args: RemoveArgs) -> anyhow::Result<ExitCode> {
    let (name, version) = split_reference(&args.card);
    let Some(version) = version else {
        bail!("name the version to remove: `lanyard card remove {name}@VERSION` (see `lanyard card show {name}`)");
    };
    let source = args.target.open(false).await?;
    let removed = match &source {
        Source::Local { registry, config } => {
            let selector = parse_selector(Some(version))?;
            if !matches!(selector, CardSelector::Version(_) | CardSelector::Digest(_)) {
                bail!("name the exact version to remove (`1.2.0` or `sha256:<hex>`), not `{version}`");
            }
            let entry = registry.find(name, &selector).await?;
            let cards = registry_card_set(registry.list().await?, config);
            let flows = flows_on_disk(&config.server.flows_dir, &cards).map_err(anyhow::Error::msg)?;
            let used_by = flows_using(&flows, &cards, &entry.name, &entry.version);
            registry.view(&registry.remove(&entry, used_by).await?, None)
        }
        Source::Daemon(api) => api.remove(name, version).await?.removed,
    };
    if args.target.json {
        print_json(&removed)?;
    } else {
        println!("removed {}@{} (sha256 {})", removed.name, removed.version, &removed.digest[..12.min(removed.digest.len())]);
    }
    Ok(ExitCode::SUCCESS)
}
