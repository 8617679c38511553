//! `lanyard sandbox`: run the simulated Okta org on its own, and make events
//! happen in a running one.
//!
//! Serving prints the base URL and the API tokens; the `event` subcommands
//! call a running sandbox through the real Okta client (and the sandbox's own
//! `/sandbox/v1` routes for what Okta has no API for, like failed sign-ins),
//! then print the System Log events that the change raised.

use anyhow::{Context, bail};
use lanyard_core::okta::{LifecycleOp, LogQuery, OktaApi};
use lanyard_sandbox::okta::{self, FaultRule, SandboxAdmin, SandboxConfig, SandboxOrg};
use lanyard_okta::{Auth, OktaCapability, OktaClient, OktaConfig};
use serde_json::{Map, Value};
use std::process::ExitCode;
use std::sync::Arc;

/// Run a simulated Okta org (Okta's Management API on a local port), or make
/// events happen in one that is running.
///
/// The org is seeded with a company of a few hundred people, department and
/// app groups, factors and sessions. Every change writes Okta's System Log
/// event (served at /api/v1/logs and delivered to registered Event Hooks).
///
/// Examples:
///   lanyard sandbox --port 8099
///   lanyard sandbox --extra-users 50000     # a large org, for sweeps that page
///   lanyard sandbox event create-user --first Ada --last Lovelace --department Engineering
///   lanyard sandbox event lock ada.lovelace@acme.example
///   lanyard sandbox event update ada.lovelace@acme.example --title "Staff Engineer"
///   lanyard sandbox event deactivate ada.lovelace@acme.example
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8099)]
    port: u16,
    /// Address to listen on. The sandbox prints its tokens: keep it on loopback.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Seed of the org: the same seed gives the same people, ids and tokens.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// About how many people the company has (at least 40): departments,
    /// managers, apps, factors and history.
    #[arg(long, default_value_t = 240)]
    users: usize,
    /// This many more generated people on top of the company, for a large
    /// org (e.g. 50000: four in five with an MFA factor, listed a page at a time).
    #[arg(long, default_value_t = 0, value_name = "N")]
    extra_users: usize,
    /// Email domain of every login.
    #[arg(long, default_value = "acme.example")]
    domain: String,
    /// Print the connection details as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Make something happen in a running sandbox.
    Event(EventArgs),
    /// Make the next requests to a running sandbox fail (429 or 5xx).
    Fault(FaultArgs),
}

#[derive(Debug, clap::Args)]
struct Target {
    /// Base URL of the running sandbox.
    #[arg(
        long,
        env = "LANYARD_SANDBOX_URL",
        default_value = "http://127.0.0.1:8099",
        global = true
    )]
    url: String,
    /// Admin API token (default: the one the sandbox made from --seed).
    #[arg(
        long,
        env = "LANYARD_SANDBOX_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    /// The seed the sandbox was started with (to find its default token).
    #[arg(long, default_value_t = 7, global = true)]
    seed: u64,
}

impl Target {
    fn token(&self) -> String {
        self.token
            .clone()
            .unwrap_or_else(|| okta::default_tokens(self.seed).admin)
    }
}

#[derive(Debug, clap::Args)]
struct EventArgs {
    #[command(subcommand)]
    event: Event,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
enum Event {
    /// Create (and activate) a user: `user.lifecycle.create`, `user.lifecycle.activate`.
    CreateUser {
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        department: String,
        #[arg(long)]
        title: Option<String>,
        /// The manager's login or id (sets `managerId`).
        #[arg(long)]
        manager: Option<String>,
        /// Email domain of the login.
        #[arg(long, default_value = "acme.example")]
        domain: String,
        /// Group names to put the user in at creation.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Leave the user STAGED.
        #[arg(long)]
        no_activate: bool,
    },
    /// Change profile attributes: `user.account.update_profile`.
    Update {
        login: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        department: Option<String>,
        /// Any attribute, as key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Deactivate: `user.lifecycle.deactivate`.
    Deactivate { login: String },
    /// Reactivate a deactivated user: `user.lifecycle.activate`.
    Activate { login: String },
    /// Suspend: `user.lifecycle.suspend`.
    Suspend { login: String },
    /// Unsuspend: `user.lifecycle.unsuspend`.
    Unsuspend { login: String },
    /// Failed sign-ins until Okta locks the account: `user.account.lock`.
    Lock { login: String },
    /// Unlock as an admin: `user.account.unlock_by_admin`.
    Unlock { login: String },
    /// Add to a group by name: `group.user_membership.add`.
    AddToGroup { login: String, group: String },
    /// Remove from a group by name: `group.user_membership.remove`.
    RemoveFromGroup { login: String, group: String },
    /// The user enrolls an MFA factor: `user.mfa.factor.activate`.
    EnrollFactor {
        login: String,
        /// push, token:software:totp, sms or webauthn.
        #[arg(long = "type", default_value = "push")]
        factor_type: String,
    },
    /// The user signs in: `user.session.start`.
    SignIn { login: String },
    /// End the user's sessions and OAuth tokens: `user.session.clear`.
    ClearSessions { login: String },
}

#[derive(Debug, clap::Args)]
struct FaultArgs {
    /// 429 (rate limited, with X-Rate-Limit-* headers) or a 5xx status.
    #[arg(long, default_value_t = 429)]
    status: u16,
    /// How many requests fail.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Only requests whose path starts with this, e.g. /api/v1/users.
    #[arg(long)]
    path: Option<String>,
    /// For 429: seconds until the rate limit resets.
    #[arg(long, default_value_t = 5)]
    reset_after: u64,
    /// Remove every pending fault instead.
    #[arg(long, conflicts_with_all = ["status", "count", "path"])]
    clear: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        None => serve(args.serve).await,
        Some(Command::Event(e)) => event(e).await,
        Some(Command::Fault(f)) => fault(f).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !args.host.is_loopback() {
        eprintln!(
            "warning: serving the sandbox on {}: its API tokens are printed below and grant admin access",
            args.host
        );
    }
    let config = SandboxConfig {
        seed: args.seed,
        users: args.users,
        extra_users: args.extra_users,
        domain: args.domain.clone(),
        ..SandboxConfig::default()
    };
    let org = SandboxOrg::new(config, Arc::new(lanyard_core::SystemClock));
    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let base = format!("http://{addr}");
    print_banner(&org, &base, args.seed, args.json);
    okta::serve(listener, Arc::clone(&org), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving the sandbox")?;
    eprintln!(
        "sandbox stopped ({} System Log events)",
        org.counts().events
    );
    Ok(ExitCode::SUCCESS)
}

fn print_banner(org: &SandboxOrg, base: &str, seed: u64, json: bool) {
    let counts = org.counts();
    let who = |id: &str| {
        org.user(id)
            .map(|u| {
                let title = u.profile.get("title").and_then(Value::as_str).unwrap_or("");
                format!(
                    "{} <{}>, {title}",
                    u.profile
                        .get("displayName")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                    u.login()
                )
            })
            .unwrap_or_default()
    };
    if json {
        let info = serde_json::json!({
            "baseUrl": base,
            "seed": seed,
            "adminToken": org.admin_token(),
            "serviceToken": org.service_token(),
            "readonlyToken": org.readonly_token(),
            "adminUser": org.user(org.admin_user_id()).map(|u| u.login().to_string()),
            "serviceUser": org.user(org.service_user_id()).map(|u| u.login().to_string()),
            "counts": counts,
        });
        println!("{info}");
        return;
    }
    let example = org
        .users()
        .into_iter()
        .find(|u| {
            u.status == "ACTIVE"
                && u.profile.get("userType").and_then(Value::as_str) == Some("Employee")
        })
        .map(|u| u.login().to_string())
        .unwrap_or_default();
    println!("lanyard sandbox org listening on {base}");
    println!(
        "  {} users ({} active, {} without MFA factors), {} groups, {} apps",
        counts.users, counts.active_users, counts.users_without_factors, counts.groups, counts.apps
    );
    println!(
        "  admin API token      {}  (acts as {})",
        org.admin_token(),
        who(org.admin_user_id())
    );
    println!(
        "  service API token    {}  (lanyard's service account {})",
        org.service_token(),
        who(org.service_user_id())
    );
    println!(
        "  read-only API token  {}  (acts as {})",
        org.readonly_token(),
        who(org.readonly_user_id())
    );
    println!();
    println!("try:");
    println!(
        "  curl -H 'Authorization: SSWS {}' '{base}/api/v1/users?limit=3'",
        org.admin_token()
    );
    let flags = if seed == 7 {
        String::new()
    } else {
        format!(" --seed {seed}")
    };
    let url = if base == "http://127.0.0.1:8099" {
        String::new()
    } else {
        format!(" --url {base}")
    };
    println!("  lanyard sandbox event lock {example}{url}{flags}");
    println!(
        "  lanyard sandbox event create-user --first Ada --last Lovelace --department Engineering{url}{flags}"
    );
    println!("press Ctrl-C to stop");
}

fn connect(target: &Target) -> anyhow::Result<(OktaCapability, SandboxAdmin)> {
    let token = target.token();
    let config =
        OktaConfig::new(&target.url, Auth::Ssws(token.clone())).context("the sandbox url")?;
    let client = OktaClient::new(config).context("building the okta client")?;
    Ok((
        OktaCapability::new(client),
        SandboxAdmin::new(&target.url, &token),
    ))
}

async fn event(args: EventArgs) -> anyhow::Result<ExitCode> {
    let (okta, admin) = connect(&args.target)?;
    // The sandbox's own clock marks where this command's events start.
    let info = admin
        .info()
        .await
        .map_err(anyhow::Error::msg)
        .context("is `lanyard sandbox` running there?")?;
    let since = info["now"].as_str().unwrap_or_default().to_string();
    let card = |e: lanyard_core::CardError| anyhow::anyhow!("{}: {}", e.kind, e.message);
    let outcome = |o: lanyard_core::WriteOutcome| match o {
        lanyard_core::WriteOutcome::Changed => "done",
        lanyard_core::WriteOutcome::Unchanged => "already so: nothing changed, no event",
    };
    let message = match args.event {
        Event::CreateUser {
            first,
            last,
            department,
            title,
            manager,
            domain,
            groups,
            no_activate,
        } => {
            let mut extra = vec![("department", department.as_str())];
            if let Some(t) = &title {
                extra.push(("title", t.as_str()));
            }
            let mut profile = okta::new_user_profile(&first, &last, &domain, &extra);
            if let Some(m) = manager {
                let m = okta.get_user(&m).await.map_err(card)?;
                profile.insert("managerId".into(), Value::from(m.id.clone()));
                profile.insert(
                    "manager".into(),
                    Value::from(m.profile.get("displayName").cloned().unwrap_or_default()),
                );
            }
            let mut group_ids = Vec::new();
            for g in &groups {
                match okta.find_group(g).await.map_err(card)? {
                    Some(found) => group_ids.push(found.id),
                    None => bail!("no group named `{g}`"),
                }
            }
            let user = okta
                .create_user(&profile, !no_activate, &group_ids)
                .await
                .map_err(card)?;
            format!("created {} ({}, {})", user.login(), user.id, user.status)
        }
        Event::Update {
            login,
            title,
            department,
            set,
        } => {
            let mut changes = Map::new();
            if let Some(t) = title {
                changes.insert("title".into(), Value::from(t));
            }
            if let Some(d) = department {
                changes.insert("department".into(), Value::from(d));
            }
            for kv in set {
                let (k, v) = kv
                    .split_once('=')
                    .with_context(|| format!("`{kv}` is not key=value"))?;
                changes.insert(k.to_string(), Value::from(v));
            }
            if changes.is_empty() {
                bail!("nothing to update: give --title, --department or --set key=value");
            }
            let update = okta
                .update_profile(&okta.get_user(&login).await.map_err(card)?.id, &changes)
                .await
                .map_err(card)?;
            format!("update {login}: {}", outcome(update.outcome))
        }
        Event::Deactivate { login } => lifecycle(&okta, &login, LifecycleOp::Deactivate)
            .await
            .map(|o| format!("deactivate {login}: {}", outcome(o)))?,
        Event::Activate { login } => lifecycle(&okta, &login, LifecycleOp::Activate)
            .await
            .map(|o| format!("activate {login}: {}", outcome(o)))?,
        Event::Suspend { login } => lifecycle(&okta, &login, LifecycleOp::Suspend)
            .await
            .map(|o| format!("suspend {login}: {}", outcome(o)))?,
        Event::Unsuspend { login } => lifecycle(&okta, &login, LifecycleOp::Unsuspend)
            .await
            .map(|o| format!("unsuspend {login}: {}", outcome(o)))?,
        Event::Unlock { login } => lifecycle(&okta, &login, LifecycleOp::Unlock)
            .await
            .map(|o| format!("unlock {login}: {}", outcome(o)))?,
        Event::Lock { login } => {
            admin.lock(&login).await.map_err(anyhow::Error::msg)?;
            format!("locked {login} after failed sign-ins")
        }
        Event::AddToGroup { login, group } => {
            let (uid, gid) = user_and_group(&okta, &login, &group).await?;
            format!(
                "add {login} to {group}: {}",
                outcome(okta.add_to_group(&gid, &uid).await.map_err(card)?)
            )
        }
        Event::RemoveFromGroup { login, group } => {
            let (uid, gid) = user_and_group(&okta, &login, &group).await?;
            format!(
                "remove {login} from {group}: {}",
                outcome(okta.remove_from_group(&gid, &uid).await.map_err(card)?)
            )
        }
        Event::EnrollFactor { login, factor_type } => {
            let id = admin
                .enroll_factor(&login, &factor_type)
                .await
                .map_err(anyhow::Error::msg)?;
            format!("{login} enrolled {factor_type} ({id})")
        }
        Event::SignIn { login } => {
            admin.sign_in(&login).await.map_err(anyhow::Error::msg)?;
            format!("{login} signed in")
        }
        Event::ClearSessions { login } => {
            let user = okta.get_user(&login).await.map_err(card)?;
            okta.clear_sessions(&user.id, true).await.map_err(card)?;
            format!("cleared the sessions and OAuth tokens of {login}")
        }
    };
    println!("{message}");
    let events = okta
        .query_logs(&LogQuery {
            since: Some(since),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .map_err(card)?;
    for e in events {
        let target = e["target"]
            .as_array()
            .and_then(|t| t.first())
            .and_then(|t| t["alternateId"].as_str())
            .unwrap_or("");
        println!(
            "  event {} {} {target} (actor {})",
            e["published"].as_str().unwrap_or(""),
            e["eventType"].as_str().unwrap_or(""),
            e["actor"]["alternateId"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn lifecycle(
    okta: &OktaCapability,
    login: &str,
    op: LifecycleOp,
) -> anyhow::Result<lanyard_core::WriteOutcome> {
    let user = okta
        .get_user(login)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.kind, e.message))?;
    okta.lifecycle(&user.id, op)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.kind, e.message))
}

async fn user_and_group(
    okta: &OktaCapability,
    login: &str,
    group: &str,
) -> anyhow::Result<(String, String)> {
    let user = okta
        .get_user(login)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.kind, e.message))?;
    let Some(g) = okta
        .find_group(group)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.kind, e.message))?
    else {
        bail!("no group named `{group}`");
    };
    Ok((user.id, g.id))
}

async fn fault(args: FaultArgs) -> anyhow::Result<ExitCode> {
    let admin = SandboxAdmin::new(&args.target.url, &args.target.token());
    if args.clear {
        admin.clear_faults().await.map_err(anyhow::Error::msg)?;
        println!("cleared every pending fault");
        return Ok(ExitCode::SUCCESS);
    }
    if args.status != 429 && !(500..=599).contains(&args.status) {
        bail!("--status must be 429 or a 5xx status, not {}", args.status);
    }
    let rule = FaultRule {
        status: args.status,
        count: args.count,
        path_prefix: args.path.clone(),
        method: None,
        reset_after_seconds: args.reset_after,
    };
    admin.inject(&rule).await.map_err(anyhow::Error::msg)?;
    println!(
        "the next {} request(s){} answer {}",
        args.count,
        args.path.map(|p| format!(" under {p}")).unwrap_or_default(),
        args.status
    );
    Ok(ExitCode::SUCCESS)
}
