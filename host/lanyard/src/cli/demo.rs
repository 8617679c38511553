//! `lanyard demo`: the main job on the embedded default.
//!
//! Starts everything the seed's five use cases need on this machine, the way
//! an operator would run them, and makes the seed's events happen:
//!
//! 1. the sandbox Okta org (seeded, on `127.0.0.1:8099` or a free port), its
//!    URL and admin API token printed;
//! 2. stand-ins for Slack (Web API), an SMTP relay (STARTTLS and AUTH), JAMF
//!    Pro, Zoom and Asana (the last two knowing the org's people), each
//!    printing what it receives as it arrives;
//! 3. a `lanyard.toml` in the data directory (default `.lanyard/demo`) that
//!    points the daemon at all of them, with the card grants `flows/README.md`
//!    documents; the daemon runs on it with the flows in `./flows` (or the seed
//!    flows built into the binary when there is no `./flows`);
//! 4. the custom cards `acme.jamf-offboard`, `acme.zoom-deprovision` and
//!    `acme.asana-offboard` (built from `cards/examples/rust-*` into the
//!    binary) published to the card registry, and the Event Hook registered
//!    and verified in the sandbox org, as an Okta admin would;
//! 5. the seed's events, one after another, each through the org's real API
//!    as a human admin: a hire in Engineering, a deactivation, a lockout, a
//!    title and department change, and the daily MFA sweep (run now through
//!    the admin API). Each run's trace is printed as it completes;
//! 6. where to look next (the console, the admin API with curl, `lanyard
//!    history`, `lanyard run`, `lanyard sandbox event`), then it serves until
//!    Ctrl-C (or SIGTERM) and shuts down gracefully.
//!
//! The data directory keeps the compiled-card cache between starts (so the
//! second start is quick); its store is emptied at every start, because the
//! sandbox org is new at every start too. This module never touches a
//! directory it did not create (a marker file says so).

mod saas;

use super::admin_client::{AdminClient, Reached};
use super::toml_text::toml_string;
use anyhow::{Context as _, bail};
use lanyard_sandbox::daemon_config::{Services, services_toml};
use lanyard_sandbox::{
    JamfConfig, JamfStandIn, JamfStandInHandle, SlackConfig, SlackStandIn, SlackStandInHandle, SmtpSink, SmtpSinkConfig,
    SmtpSinkHandle, SmtpTls,
};
use lanyard_core::history::{RunRecord, RunStatus};
use lanyard_core::okta::{LifecycleOp, User};
use lanyard_core::SystemClock;
use lanyard_sandbox::okta::{SandboxAdmin, SandboxConfig, SandboxOrg};
use lanyard_okta::{Auth, EventHookSpec, OktaClient, OktaConfig};
use lanyard_server::{Config, Engine, EngineOptions};
use lanyard_store::RunFilter;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The daemon, the sandbox Okta org and the flows in flows/, with the seed's
/// events made to happen.
///
/// Starts the sandbox org, local stand-ins for Slack, an SMTP relay, JAMF
/// Pro, Zoom and Asana, and the daemon with the flows in ./flows; publishes
/// the custom cards acme.jamf-offboard, acme.zoom-deprovision and
/// acme.asana-offboard and registers the Event Hook; then makes the five seed
/// events happen (a hire, a deactivation, a lockout, a department change, the
/// daily MFA sweep) and prints each run's trace. Keeps serving until Ctrl-C.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the daemon (0 picks a free one) [default: 8080, or a free one if it is taken]
    #[arg(long)]
    pub port: Option<u16>,
    /// Port of the sandbox Okta org [default: 8099, or a free one if it is taken]
    #[arg(long)]
    pub sandbox_port: Option<u16>,
    /// Make no events happen: start everything and serve.
    #[arg(long)]
    pub no_events: bool,
    /// Where the demo keeps its lanyard.toml, store and compiled cards.
    #[arg(long, default_value = ".lanyard/demo", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The flows folder [default: ./flows, else the seed flows built into lanyard].
    #[arg(long, value_name = "DIR")]
    pub flows: Option<PathBuf>,
}

/// The seed flows and the error flow the demo's config names, for a demo
/// started outside a checkout.
const SEED_FLOWS: [(&str, &str); 6] = [
    ("onboarding.yaml", include_str!("../../../../flows/onboarding.yaml")),
    ("offboarding.yaml", include_str!("../../../../flows/offboarding.yaml")),
    ("mfa-reminder.yaml", include_str!("../../../../flows/mfa-reminder.yaml")),
    ("lockout-manager.yaml", include_str!("../../../../flows/lockout-manager.yaml")),
    ("profile-change.yaml", include_str!("../../../../flows/profile-change.yaml")),
    ("failures-to-it.yaml", include_str!("../../../../flows/failures-to-it.yaml")),
];

const MARKER: &str = ".lanyard-demo";
const SMTP_USER: &str = "lanyard";
const MFA_FLOW: &str = "MFA Enrollment Reminder: Email Users Without a Factor";
/// Longest the demo waits for one scenario's runs.
const SCENE_PATIENCE: Duration = Duration::from_secs(300);
/// Longest trace printed in full; longer ones are cut (the history has all).
const MAX_TRACE_LINES: usize = 60;

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut stop = StopSignal::new()?;
    say("lanyard demo: the seed's five use cases, end to end, on this machine\n");

    // -- where things live ----------------------------------------------------
    let data_dir = absolute(&args.data_dir)?;
    prepare_data_dir(&data_dir)?;
    let flows_dir = match &args.flows {
        Some(p) => absolute(p)?,
        None if Path::new("flows").is_dir() => absolute(Path::new("flows"))?,
        None => {
            let dir = data_dir.join("flows");
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in SEED_FLOWS {
                std::fs::write(dir.join(name), text).with_context(|| format!("cannot write {}", dir.join(name).display()))?;
            }
            say(&format!("no ./flows here: using the seed flows built into lanyard, written to {}", dir.display()));
            dir
        }
    };

    // -- the sandbox org and the stand-ins ------------------------------------
    let org = SandboxOrg::new(SandboxConfig::default(), Arc::new(SystemClock));
    let sandbox_listener = bind_or_any(args.sandbox_port, 8099, "the sandbox org").await?;
    let sandbox_addr = sandbox_listener.local_addr()?;
    let sandbox_url = format!("http://{sandbox_addr}");
    let (sandbox_stop, sandbox_stopped) = tokio::sync::oneshot::channel::<()>();
    let sandbox_task = tokio::spawn(lanyard_sandbox::okta::serve(sandbox_listener, org.clone(), async move {
        let _ = sandbox_stopped.await;
    }));
    let counts = org.counts();
    say(&format!(
        "sandbox Okta org   {sandbox_url}   ({} users, {} groups, {} apps)\n                   admin API token {}",
        counts.users,
        counts.groups,
        counts.apps,
        org.admin_token()
    ));

    // The workspace has the people whose Okta profiles name a Slack member id.
    let slack_config = SlackConfig { members: org.slack_member_ids(), ..SlackConfig::default() };
    let slack = SlackStandIn::start(loopback().await?, slack_config).context("cannot start the Slack stand-in")?;
    let smtp_password = random_token("smtp");
    let smtp = SmtpSink::start(
        loopback().await?,
        SmtpSinkConfig {
            tls: SmtpTls::StarttlsRequired,
            credentials: Some((SMTP_USER.into(), smtp_password.clone())),
            ..SmtpSinkConfig::default()
        },
    )
    .context("cannot start the SMTP stand-in")?;
    let jamf_token = random_token("jamf");
    // Every user has one managed MacBook, so an offboarding run has a Mac to lock.
    let jamf = JamfStandIn::start(loopback().await?, JamfConfig { token: jamf_token.clone(), everyone_has_a_mac: true })
        .context("cannot start the JAMF stand-in")?;
    let jamf_url = jamf.base_url();
    let (zoom_token, asana_token) = (random_token("zoom"), random_token("asana"));
    let (zoom, asana) = saas::start(&org.users(), &zoom_token, &asana_token).await?;
    say(&format!(
        "stand-ins          Slack {}   SMTP {} (STARTTLS, AUTH)   JAMF Pro {jamf_url}\n                   Zoom {}   Asana {}",
        slack.api_base_url(),
        smtp.addr(),
        zoom.base_url(),
        asana.base_url()
    ));

    // -- the daemon -----------------------------------------------------------
    let listener = bind_or_any(args.port, 8080, "the daemon").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let admin_token = random_token("admin");
    let hook_secret = format!("Bearer {}", random_token("hook"));
    let config_path = data_dir.join("lanyard.toml");
    let text = config_text(&ConfigParts {
        addr,
        flows_dir: &flows_dir,
        admin_token: &admin_token,
        hook_secret: &hook_secret,
        sandbox_url: &sandbox_url,
        service_token: org.service_token(),
        slack: &slack,
        smtp: &smtp,
        smtp_password: &smtp_password,
        jamf_url: &jamf_url,
        jamf_token: &jamf_token,
        zoom: (&zoom.base_url(), &zoom_token),
        asana: (&asana.base_url(), &asana_token),
    })?;
    std::fs::write(&config_path, text).with_context(|| format!("cannot write {}", config_path.display()))?;
    let config = Config::load(&config_path)?;
    let cache_dir = config.server.cache_dir.clone();
    let first_start = std::fs::read_dir(&cache_dir).map(|mut d| d.next().is_none()).unwrap_or(true);
    let grace = config.server.shutdown_grace;

    let mut options = EngineOptions::new(config);
    options.handle_sighup = true;
    let engine = Engine::new(options).await.context("cannot start lanyard")?;

    // The custom cards, as `lanyard card publish` would, before the flows
    // that name them are loaded.
    let registry = lanyard_server::registry::Registry::new(
        engine.store().clone(),
        engine.runtime().clone(),
        lanyard_server::registry::RegistryOptions::from_config(engine.config()),
    );
    // Every Rust example card (offboarding's JAMF, Zoom and Asana steps).
    for (dir, wasm) in lanyard_cards::examples::ALL {
        let published = registry
            .publish(wasm.to_vec(), None)
            .await
            .map_err(|e| anyhow::anyhow!("cannot publish the card in cards/examples/{dir}: {e}"))?;
        say(&format!(
            "card registry      published {}@{} (cards/examples/{dir}, {} KiB), granted {}",
            published.card.name,
            published.card.version,
            published.card.size / 1024,
            published.card.effective.join(", ")
        ));
    }

    let server = tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
    let builtins = lanyard_cards::builtin().len();
    if first_start {
        say(&format!("compiling {builtins} built-in cards (first run only; later starts read them from {})...", cache_dir.display()));
    } else {
        say(&format!("loading {builtins} built-in cards from the cache..."));
    }
    let loading = Instant::now();
    engine.start();
    tokio::select! {
        _ = engine.wait_ready() => {}
        _ = stop.wait() => {
            say("lanyard demo: stopping before it was ready");
            engine.shutdown(Duration::ZERO).await;
            return Ok(ExitCode::SUCCESS);
        }
    }
    if !engine.is_ready() {
        let why = engine.reload_status().last_error.map(|e| e.rendered).unwrap_or_default();
        engine.shutdown(Duration::ZERO).await;
        bail!("the daemon could not load the flows in {}:\n{why}", flows_dir.display());
    }
    say(&format!(
        "lanyard            {base}   ({} flows from {}, ready in {:.1?})",
        engine.flows().len(),
        flows_dir.display(),
        loading.elapsed()
    ));

    // -- the Event Hook, as an Okta admin registers it ---------------------------
    let admin = OktaClient::new(OktaConfig::new(&sandbox_url, Auth::Ssws(org.admin_token().to_string()))?)?;
    let hook = admin
        .create_event_hook(&EventHookSpec {
            name: "lanyard demo".into(),
            uri: format!("{base}/hooks/okta"),
            authorization: Some(hook_secret.clone()),
            headers: Vec::new(),
            event_types: lanyard_core::event::hook_event_types().iter().cloned().collect(),
        })
        .await
        .context("cannot register the Event Hook in the sandbox org")?;
    let hook = admin
        .verify_event_hook(&hook.id)
        .await
        .context("the sandbox org could not verify the Event Hook")?;
    say(&format!(
        "event hook         {} -> {base}/hooks/okta ({} event types, {})",
        hook.id,
        hook.event_types.len(),
        hook.verification_status.to_lowercase()
    ));

    // -- printing what happens ------------------------------------------------
    let printed = spawn_trace_printer(engine.clone(), config_path.clone());
    let slack_task = tokio::spawn(print_slack(slack));
    let smtp_task = tokio::spawn(print_mail(smtp));
    let jamf_print = tokio::spawn(print_jamf(jamf));
    let zoom_print = tokio::spawn(saas::print_zoom(zoom));
    let asana_print = tokio::spawn(saas::print_asana(asana));

    let world = Demo {
        org: org.clone(),
        engine: engine.clone(),
        admin,
        sandbox_admin: SandboxAdmin::new(&sandbox_url, org.admin_token()),
        base: base.clone(),
        admin_token: admin_token.clone(),
        printed,
        api: AdminClient::new(&base, &admin_token, Reached::AtUrl, None)?,
    };
    let mut stopped_early = false;
    if !args.no_events {
        tokio::select! {
            r = world.scenes() => r?,
            _ = stop.wait() => stopped_early = true,
        }
    }
    if !stopped_early {
        where_next(&world, &config_path, &sandbox_url, org.admin_token(), started.elapsed());
        stop.wait().await;
    }

    say("\nlanyard demo: stopping (runs in flight get their grace period)...");
    engine.shutdown(grace).await;
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the HTTP server stopped with an error"),
        Err(e) => tracing::warn!(error = %e, "the HTTP server task failed"),
    }
    let _ = sandbox_stop.send(());
    let _ = sandbox_task.await;
    for t in [slack_task, smtp_task, jamf_print, zoom_print, asana_print] {
        t.abort();
    }
    say("lanyard demo: stopped");
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------
// The seed's events

struct Demo {
    org: Arc<SandboxOrg>,
    engine: Engine,
    admin: OktaClient,
    sandbox_admin: SandboxAdmin,
    base: String,
    admin_token: String,
    /// How many finished runs the printer has printed.
    printed: watch::Receiver<usize>,
    /// The admin API, as the CLI's commands reach it.
    api: AdminClient,
}

fn prof<'a>(u: &'a User, key: &str) -> &'a str {
    u.profile.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Demo {
    async fn scenes(&self) -> anyhow::Result<()> {
        let mut users: Vec<User> = self.org.users();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        let engineer = |u: &&User, titles: &[&str]| {
            u.status == "ACTIVE" && prof(u, "department") == "Engineering" && titles.contains(&prof(u, "title"))
        };

        // 1. A hire in Engineering.
        let manager = users
            .iter()
            .find(|u| engineer(u, &["Engineering Manager"]))
            .context("the sandbox has no engineering manager")?;
        let mut profile = lanyard_sandbox::okta::new_user_profile(
            "Ada",
            "Lovelace",
            "acme.example",
            &[("department", "Engineering"), ("title", "Software Engineer")],
        );
        profile.insert("managerId".into(), json!(manager.id));
        profile.insert("manager".into(), json!(prof(manager, "displayName")));
        self.scene(
            1,
            "onboarding",
            "HR's Okta admin creates Ada Lovelace, a Software Engineer in Engineering (user.lifecycle.create)",
        );
        let ada = self.admin.create_user(&profile, true, &[]).await.context("creating Ada in the sandbox org")?;
        self.settle().await?;
        self.note(&format!("Ada's groups now: {}", self.groups(&ada.id)));

        // 2. A deactivation.
        let leaver = users
            .iter()
            .find(|u| engineer(u, &["Senior Software Engineer", "Software Engineer"]) && self.groups(&u.id).contains("GitHub"))
            .context("the sandbox has no engineer to offboard")?;
        self.sandbox_admin.sign_in(leaver.login()).await.map_err(anyhow::Error::msg)?;
        self.scene(
            2,
            "offboarding",
            &format!(
                "an admin deactivates {} ({}; {} session(s) open, groups {}) (user.lifecycle.deactivate)",
                prof(leaver, "displayName"),
                leaver.login(),
                self.org.sessions_of(&leaver.id),
                self.groups(&leaver.id)
            ),
        );
        self.admin.lifecycle(&leaver.id, LifecycleOp::Deactivate).await.context("deactivating in the sandbox org")?;
        self.settle().await?;
        self.note(&format!(
            "{}: sessions {}, OAuth tokens {}, groups {}",
            leaver.login(),
            self.org.sessions_of(&leaver.id),
            self.org.oauth_tokens_of(&leaver.id),
            self.groups(&leaver.id)
        ));

        // 3. A lockout.
        let locked = users
            .iter()
            .filter(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee" && u.id != leaver.id)
            .find(|u| {
                self.org
                    .user(prof(u, "managerId"))
                    .is_some_and(|m| m.status == "ACTIVE" && !prof(&m, "email").is_empty())
            })
            .context("the sandbox has no employee with a manager")?;
        self.scene(
            3,
            "lockout",
            &format!(
                "{} ({}) fails to sign in {} times; Okta locks the account (user.account.lock)",
                prof(locked, "displayName"),
                locked.login(),
                self.org.config().lockout_attempts
            ),
        );
        self.sandbox_admin.lock(locked.login()).await.map_err(anyhow::Error::msg)?;
        self.settle().await?;

        // 4. A title and department change.
        let mover = users
            .iter()
            .find(|u| engineer(u, &["Software Engineer", "QA Engineer", "Staff Engineer"]) && u.id != leaver.id && u.id != locked.id)
            .context("the sandbox has no engineer to move")?;
        self.scene(
            4,
            "title/department change",
            &format!(
                "an admin moves {} ({}) from Engineering to Sales as an Account Executive (user.account.update_profile; groups now {})",
                prof(mover, "displayName"),
                mover.login(),
                self.groups(&mover.id)
            ),
        );
        let runs_before = self.all_runs().await?.len();
        let events_before = self.org.events().len();
        let mut changes = Map::new();
        changes.insert("department".into(), json!("Sales"));
        changes.insert("title".into(), json!("Account Executive"));
        self.admin.update_profile(&mover.id, &changes).await.context("updating the profile in the sandbox org")?;
        self.settle().await?;
        let service = self.org.service_user_id();
        let own = self.org.events()[events_before..]
            .iter()
            .filter(|e| e.actor.id == service && e.event_type.starts_with("group.user_membership."))
            .count();
        let runs = self.all_runs().await?.len() - runs_before;
        self.note(&format!(
            "{}'s groups now: {}. The flow's own {own} membership change(s) came back as Okta events \
             (one of them a trigger of the onboarding flow) and started no run: {runs} run in all, no loop",
            mover.login(),
            self.groups(&mover.id)
        ));

        // 5. The daily MFA sweep, run now through the admin API.
        self.scene(
            5,
            "MFA enrollment reminder",
            "the daily 09:00 New York sweep, run now through the admin API (POST /api/v1/flows/{name}/run)",
        );
        self.api.run_flow(MFA_FLOW).await.context("running the MFA sweep through the admin API")?;
        self.settle().await?;

        let runs = self.all_runs().await?;
        let ok = runs.iter().filter(|r| r.status == RunStatus::Succeeded).count();
        say(&format!(
            "\nlanyard demo: the five use cases ran: {} run(s), {ok} succeeded",
            runs.len()
        ));
        Ok(())
    }

    fn scene(&self, n: u32, name: &str, what: &str) {
        say(&format!("\n=== {n}/5 {name}: {what}"));
    }

    fn note(&self, text: &str) {
        say(&format!("    {text}"));
    }

    fn groups(&self, user: &str) -> String {
        let mut names: Vec<String> = self.org.groups_of(user).into_iter().map(|g| g.name).collect();
        names.sort();
        names.join(", ")
    }

    async fn all_runs(&self) -> anyhow::Result<Vec<RunRecord>> {
        let filter = RunFilter {
            limit: Some(1000),
            ..RunFilter::default()
        };
        Ok(self.engine.store().list_runs(&filter).await?.runs)
    }

    /// Until the sandbox has delivered every event, the daemon has dispatched
    /// them, every run has ended and its trace is printed; again if the runs'
    /// own writes raised events.
    async fn settle(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + SCENE_PATIENCE;
        let mut finished = self.engine.subscribe_finished();
        let mut printed = self.printed.clone();
        loop {
            self.org.wait_for_deliveries().await;
            let events = self.org.events().len();
            loop {
                let inbox_done = self.engine.store().undispatched(None, 1).await?.is_empty();
                let runs = self.all_runs().await?;
                let ended = runs.iter().filter(|r| r.status.is_final()).count();
                if inbox_done && ended == runs.len() && *printed.borrow() >= ended {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("the runs of this step did not end within {SCENE_PATIENCE:?}");
                }
                // Dispatching signals nothing, so look again shortly as well.
                tokio::select! {
                    _ = finished.recv() => {}
                    _ = printed.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            if self.org.events().len() == events {
                return Ok(());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Printing

/// Print every run as it ends (its trace), oldest first; the receiver counts
/// the runs printed so far.
fn spawn_trace_printer(engine: Engine, config_path: PathBuf) -> watch::Receiver<usize> {
    let (tx, rx) = watch::channel(0usize);
    tokio::spawn(async move {
        let mut finished = engine.subscribe_finished();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            // A lagging receiver, or one that missed a run, catches up from the store.
            let filter = RunFilter {
                limit: Some(1000),
                ..RunFilter::default()
            };
            if let Ok(page) = engine.store().list_runs(&filter).await {
                let mut ended: Vec<RunRecord> = page
                    .runs
                    .into_iter()
                    .filter(|r| r.status.is_final() && !seen.contains(&r.id))
                    .collect();
                ended.reverse();
                for run in ended {
                    let steps = engine.store().steps(&run.id).await.unwrap_or_default();
                    say(&trace_text(&run, &steps, &config_path));
                    seen.insert(run.id.clone());
                }
                tx.send_replace(seen.len());
            }
            match finished.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    rx
}

fn trace_text(run: &RunRecord, steps: &[lanyard_core::history::StepRecord], config_path: &Path) -> String {
    let trigger = run.trigger.summary();
    let trace = lanyard_flow::render_trace(run, steps, &lanyard_flow::TraceOptions::default());
    let lines: Vec<&str> = trace.lines().collect();
    let mut out = format!("\n--- run of \"{}\" ({trigger}): {}\n", run.flow, run.status);
    if lines.len() <= MAX_TRACE_LINES {
        out.push_str(trace.trim_end());
    } else {
        out.push_str(&lines[..MAX_TRACE_LINES - 5].join("\n"));
        out.push_str(&format!(
            "\n  ... {} more lines: lanyard history show {} --config {}\n",
            lines.len() - (MAX_TRACE_LINES - 5),
            run.id,
            config_path.display()
        ));
        out.push_str(&lines[lines.len() - 4..].join("\n"));
    }
    out.push_str(&format!("\n    => {}: {} (run {})", run.flow, run.status, run.id));
    out
}

async fn print_slack(slack: SlackStandInHandle) {
    let mut n = 0;
    loop {
        let Ok(posted) = slack.wait_for(n + 1, Duration::from_secs(3600)).await else {
            continue;
        };
        for p in &posted[n..] {
            let channel = p
                .json
                .as_ref()
                .and_then(|j| j.get("channel"))
                .and_then(Value::as_str)
                .unwrap_or("(webhook)");
            let mut text = format!("    [slack] {} {} -> {channel}:", p.method, p.path);
            for line in p.text().unwrap_or("").lines() {
                text.push_str("\n    [slack]   ");
                text.push_str(line);
            }
            say(&text);
        }
        n = posted.len();
    }
}

async fn print_mail(smtp: SmtpSinkHandle) {
    let mut n = 0;
    loop {
        let Ok(mail) = smtp.wait_for(n + 1, Duration::from_secs(3600)).await else {
            continue;
        };
        for m in &mail[n..] {
            say(&format!(
                "    [mail]  to {}: \"{}\" ({}, AUTH {})",
                m.envelope_to.join(", "),
                m.subject.as_deref().unwrap_or(""),
                if m.tls { "STARTTLS" } else { "plain" },
                m.authenticated_as.as_deref().unwrap_or("none")
            ));
        }
        n = mail.len();
    }
}

async fn print_jamf(jamf: JamfStandInHandle) {
    let mut n = 0;
    loop {
        let Ok(seen) = jamf.wait_for(n + 1, Duration::from_secs(3600)).await else {
            continue;
        };
        for r in &seen[n..] {
            let body = r.json.clone().unwrap_or(Value::Null);
            let what = match body["commandData"]["commandType"].as_str() {
                Some(command) => format!(" {command} {}", body["clientData"][0]["managementId"].as_str().unwrap_or("")),
                None => String::new(),
            };
            let path = r.target.split('?').next().unwrap_or("");
            say(&format!("    [jamf]  {} {path}{what} -> {}", r.method, r.status));
        }
        n = seen.len();
    }
}

fn where_next(d: &Demo, config_path: &Path, sandbox_url: &str, sandbox_token: &str, elapsed: Duration) {
    let base = &d.base;
    let token = &d.admin_token;
    let cfg = shown_path(config_path);
    let sandbox_flag = if sandbox_url == "http://127.0.0.1:8099" {
        String::new()
    } else {
        format!(" --url {sandbox_url}")
    };
    let example = d
        .org
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE" && prof(u, "userType") == "Employee")
        .min_by(|a, b| a.id.cmp(&b.id))
        .map(|u| u.login().to_string())
        .unwrap_or_default();
    say(&format!(
        r#"
Where to look next (lanyard is serving; started {elapsed:.1?} ago):

  console        {base}/console   (admin token: {token})
  admin API      curl -H 'Authorization: Bearer {token}' {base}/api/v1/runs
                 curl -H 'Authorization: Bearer {token}' {base}/api/v1/flows
                 curl -H 'Authorization: Bearer {token}' {base}/api/v1/tables/offboarding-audit/rows
                 curl -X POST -H 'Authorization: Bearer {token}' {base}/api/v1/flows/{mfa}/run
  history        lanyard history --config {cfg}
                 lanyard history show <run id> --config {cfg}
  Test Flow      lanyard run flows/lockout-manager.yaml --event flows/samples/lockout-manager.json --dry-run --config {cfg}
  more events    lanyard sandbox event lock {example}{sandbox_flag}
                 lanyard sandbox event update {example} --department Sales --title "Account Executive"{sandbox_flag}
                 lanyard sandbox event create-user --first Grace --last Hopper --department Sales{sandbox_flag}
  sandbox org    curl -H 'Authorization: SSWS {sandbox_token}' '{sandbox_url}/api/v1/users?limit=3'
  config         {cfg} (written at every start; the store is emptied then too)

Runs that events cause from here on are printed as they complete. Press Ctrl-C to stop."#,
        mfa = encode_segment(MFA_FLOW),
    ));
}

/// Print to stdout in one write, so lines from concurrent printers never interleave.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------
// Setup

struct ConfigParts<'a> {
    addr: SocketAddr,
    flows_dir: &'a Path,
    admin_token: &'a str,
    hook_secret: &'a str,
    sandbox_url: &'a str,
    service_token: &'a str,
    slack: &'a SlackStandInHandle,
    smtp: &'a SmtpSinkHandle,
    smtp_password: &'a str,
    jamf_url: &'a str,
    jamf_token: &'a str,
    /// Base URL and token of each.
    zoom: (&'a str, &'a str),
    asana: (&'a str, &'a str),
}

/// The demo's `lanyard.toml`: what ops would write to run the seed flows
/// against this org and these services (inline secrets: a demo only).
fn config_text(p: &ConfigParts<'_>) -> anyhow::Result<String> {
    let services = services_toml(&Services {
        okta: (p.sandbox_url, p.service_token),
        slack: p.slack,
        smtp: p.smtp,
        smtp_login: (SMTP_USER, p.smtp_password),
        mail_from: ("it@acme.example", "Acme IT"),
        jamf: (p.jamf_url, p.jamf_token),
        zoom: p.zoom,
        asana: p.asana,
    })?;
    let flows = toml_string(&p.flows_dir.display().to_string());
    Ok(format!(
        r#"# Written by `lanyard demo` at every start: the daemon of the demo, pointed at
# the sandbox Okta org and the local Slack, SMTP, JAMF, Zoom and Asana stand-ins. The
# secrets are inline because they are the demo's own, made up at start.
# Use it with `lanyard history --config <this file>` and `lanyard run ... --config <this file>`.

[server]
listen = "{addr}"
data_dir = "data"
flows_dir = {flows}
cache_dir = "cache"
admin_token = {{ value = "{admin}" }}
watch_flows = true
shutdown_grace = "10s"

[hooks.okta]
secret = {{ value = "{hook}" }}

# Every failed run is posted to IT's Slack channel (flows/failures-to-it.yaml).
[error_flow]
name = "Failed Runs: Tell IT in Slack"

{services}
{seed_grants}"#,
        seed_grants = include_str!("../../../../flows/grants.toml"),
        addr = p.addr,
        admin = p.admin_token,
        hook = p.hook_secret,
    ))
}

/// Make the data directory the demo's own, with an empty store: a directory
/// that exists, is not empty and has no demo marker is refused, never emptied.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let marked = dir.join(MARKER).is_file();
        let empty = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_none();
        if !marked && !empty {
            bail!(
                "{} exists and is not a `lanyard demo` directory (no {MARKER} in it); pick another --data-dir",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "made by `lanyard demo`; its store is emptied at every start\n")
        .with_context(|| format!("cannot write {}", dir.join(MARKER).display()))?;
    let store = dir.join("data");
    if store.exists() {
        std::fs::remove_dir_all(&store).with_context(|| format!("cannot empty the demo's store {}", store.display()))?;
    }
    Ok(())
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir().context("cannot read the current directory")?.join(p))
}

/// The path as the user would type it: relative to the current directory when under it.
fn shown_path(p: &Path) -> String {
    match std::env::current_dir() {
        Ok(cwd) => p.strip_prefix(&cwd).unwrap_or(p).display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

async fn loopback() -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot listen on 127.0.0.1")
}

/// `port` if given (0: any free one); else `default`, or any free port if
/// that one is taken.
async fn bind_or_any(port: Option<u16>, default: u16, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    match port {
        Some(p) => tokio::net::TcpListener::bind(("127.0.0.1", p))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{p} for {what}")),
        None => match tokio::net::TcpListener::bind(("127.0.0.1", default)).await {
            Ok(l) => Ok(l),
            Err(e) => {
                say(&format!("(127.0.0.1:{default} is not free for {what}: {e}; using another port)"));
                loopback().await
            }
        },
    }
}

/// A made-up secret for this start of the demo.
fn random_token(what: &str) -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    let hex: String = (0..24).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect();
    format!("demo-{what}-{hex}")
}

/// A path segment, percent-encoded (everything but RFC 3986's unreserved characters).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Ctrl-C (SIGINT) or SIGTERM, listened for from the moment it is made, so a
/// signal sent right after the demo says it serves is never missed.
struct StopSignal {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn new() -> anyhow::Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                int: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
                term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A demo outside a checkout runs every flow in flows/ (the error flow
    /// its config names too), as they are in the repository.
    #[test]
    fn the_embedded_seed_flows_are_the_flows_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        files.sort();
        let mut embedded: Vec<(String, String)> = SEED_FLOWS.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
        embedded.sort();
        assert_eq!(embedded, files);
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(
            encode_segment("MFA Reminder: Email"),
            "MFA%20Reminder%3A%20Email"
        );
    }

    #[test]
    fn a_foreign_directory_is_never_emptied() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "keep").unwrap();
        let e = prepare_data_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not a `lanyard demo` directory"), "{e}");
        assert!(dir.path().join("precious.txt").is_file());

        let demo = dir.path().join("demo");
        prepare_data_dir(&demo).unwrap();
        std::fs::create_dir_all(demo.join("data")).unwrap();
        std::fs::write(demo.join("data/db"), "old").unwrap();
        std::fs::create_dir_all(demo.join("cache")).unwrap();
        prepare_data_dir(&demo).unwrap();
        assert!(!demo.join("data").exists(), "the store is emptied");
        assert!(demo.join("cache").is_dir(), "the card cache stays");
    }
}
