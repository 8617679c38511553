//! Everything the seed use cases need, started the way the daemon really runs:
//!
//! - the sandbox Okta org ([`SandboxOrg`], seeded) served on `127.0.0.1:0`,
//!   on the system clock or on a [`ManualClock`] shared with the daemon;
//! - the Slack stand-in (Web API, bot token checked) and the SMTP sink
//!   (STARTTLS required, AUTH required), both from `lanyard-sandbox`;
//! - the JAMF Pro stand-in for the custom card, which records every request
//!   and checks its credentials (no computers: a test adds those it needs),
//!   and the Zoom and Asana stand-ins, which know every ACTIVE person of the
//!   org (by email; no Asana tasks: a test adds those it needs);
//! - a `lanyard.toml` in a temporary directory that points at all of them
//!   (the same tables `lanyard demo` writes, `lanyard_sandbox::daemon_config`):
//!   Okta is the sandbox reached over HTTP with the *service account's* API
//!   token (so the daemon's own writes carry that actor, and the daemon finds
//!   out who it is through `GET /api/v1/users/me`), connections `it-slack`,
//!   `jamf`, `zoom` and `asana`, `[mail]`, and the card grants
//!   `flows/README.md` documents;
//! - the real [`Engine`] and [`lanyard_server::server::run`] on `127.0.0.1:0`,
//!   running the flows of the repository's `flows/` directory;
//! - the custom cards `acme.jamf-offboard`, `acme.zoom-deprovision` and
//!   `acme.asana-offboard`, built from `cards/examples/rust-*` (lanyard-cards'
//!   `examples` feature) and published through the card registry before the
//!   flows load;
//! - the Event Hook registered in the sandbox through Okta's Event Hooks API
//!   (create, then verify) with the daemon's hook secret, as an Okta admin
//!   would.
//!
//! Tests make events happen with the *admin* token (a human admin), then
//! [`World::settle`] waits until the sandbox has delivered every event, the
//! daemon has dispatched them all and every run has ended, including the runs
//! and events that the runs' own writes caused. Nothing sleeps for a guess.

use chrono::{DateTime, Utc};
use lanyard_sandbox::daemon_config::{Services, services_toml};
use lanyard_sandbox::{
    AsanaConfig, AsanaStandIn, AsanaStandInHandle, AsanaUser, AsanaWorkspace, JamfConfig, JamfStandIn, JamfStandInHandle, SlackConfig,
    SlackStandIn, SlackStandInHandle, SmtpSink, SmtpSinkConfig, SmtpSinkHandle, SmtpTls, ZoomConfig, ZoomStandIn, ZoomStandInHandle,
    ZoomUser,
};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord};
use lanyard_core::{Clock, ManualClock, SystemClock};
use lanyard_sandbox::okta::{DeliveryConfig, RunningSandbox, SandboxAdmin, SandboxConfig, SandboxOrg};
use lanyard_okta::{Auth, EventHookSpec, OktaClient, OktaConfig};
use lanyard_server::{Config, Engine, EngineOptions};
use lanyard_store::RunFilter;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub const ADMIN_TOKEN: &str = "e2e-admin-token-4c1f";
/// The `Authorization` header value the sandbox sends with every delivery.
pub const HOOK_SECRET: &str = "Bearer e2e-hook-secret-9d2b";
pub const JAMF_TOKEN: &str = "jamf-e2e-token-58aa";
pub const ZOOM_TOKEN: &str = "zoom-e2e-token-3b07";
pub const ASANA_TOKEN: &str = "asana-e2e-token-c45e";
/// The second Okta org of [`Options::preview_org`], and the `Authorization`
/// value its Event Hook sends.
pub const PREVIEW_ORG: &str = "preview";
pub const PREVIEW_HOOK_SECRET: &str = "Bearer e2e-preview-hook-secret-61fa";
/// The one Asana workspace, (gid, name).
pub const ASANA_WORKSPACE: (&str, &str) = ("1200000000000001", "Acme");
/// The custom cards offboarding uses, from `cards/examples/<dir>`: (dir, card).
pub const CUSTOM_CARDS: [(&str, &str); 3] = [
    ("rust-jamf-offboard", "acme.jamf-offboard"),
    ("rust-zoom-deprovision", "acme.zoom-deprovision"),
    ("rust-asana-offboard", "acme.asana-offboard"),
];
pub const SMTP_USER: &str = "lanyard";
pub const SMTP_PASSWORD: &str = "smtp-e2e-password-17";
pub const MAIL_FROM: &str = "it@acme.example";
pub const MAIL_FROM_NAME: &str = "Acme IT";

/// The flow names in `flows/`.
pub const ONBOARDING: &str = "Onboarding: Department Groups for New Hires";
pub const OFFBOARDING: &str = "Offboarding: Revoke Sessions + Notify IT";
pub const MFA_REMINDER: &str = "MFA Enrollment Reminder: Email Users Without a Factor";
pub const LOCKOUT: &str = "Lockout: Notify the User's Manager";
pub const PROFILE_CHANGE: &str = "Title or Department Change: Re-sync Groups + Notify IT";
/// The global error flow (`flows/failures-to-it.yaml`).
pub const ERROR_FLOW: &str = "Failed Runs: Tell IT in Slack";

/// Longest any wait in these tests may take before it fails with what it saw.
const PATIENCE: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the repository root")
}

/// Compiled cards, shared by every test of this binary (and with the other
/// end-to-end modules), so only the first test of a run compiles them.
pub fn card_cache() -> PathBuf {
    match std::env::var_os("LANYARD_CACHE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-e2e-card-cache"),
    }
}

/// How to start a [`World`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run the org and the daemon on a manual clock starting here.
    pub manual_clock: Option<DateTime<Utc>>,
    /// The daemon's flows folder: the repository's `flows/` (read only), or
    /// a copy of its flow files the test may change (the builder writes).
    pub flows: FlowsDir,
    /// Leave the custom card's grants out of the config: `acme.jamf-offboard`
    /// is held until an admin decides (the Cards page).
    pub hold_custom_card: bool,
    /// The store's directory (a small tmpfs, to fill), instead of `data`
    /// beside the config.
    pub data_dir: Option<PathBuf>,
    /// The card grants of `lanyard.toml` (a TOML fragment such as
    /// `flows/library/grants.toml`) instead of `flows/grants.toml`.
    pub grants: Option<String>,
    /// Set `[error_flow]` to `flows/failures-to-it.yaml`'s flow, as
    /// `lanyard.example.toml` and the demo do.
    pub error_flow: bool,
    /// The custom cards to publish (`.wasm` files, one per card of
    /// [`CUSTOM_CARDS`]) instead of the embedded Rust ones: their Python and
    /// JavaScript twins.
    pub custom_wasm: Option<Vec<PathBuf>>,
    /// A second Okta org, [`PREVIEW_ORG`]: an embedded sandbox (a seed of
    /// its own) beside the world's org, which becomes the org `default`
    /// (`[okta.orgs.default]`, its hook still at `/hooks/okta`); the
    /// preview org's Event Hook delivers to `/hooks/okta/preview`.
    pub preview_org: bool,
}

/// Which flows the daemon loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FlowsDir {
    /// The repository's `flows/`.
    #[default]
    Repository,
    /// A copy of the seed flows in the world's temporary directory.
    Copy,
    /// An empty folder in the world's temporary directory.
    Empty,
}

/// The sandbox org, the stand-ins and the daemon, wired together. Not every
/// test reads every field.
#[allow(dead_code)]
pub struct World {
    pub org: Arc<SandboxOrg>,
    pub sandbox_url: String,
    /// The manual clock, when the world runs on one.
    pub clock: Option<Arc<ManualClock>>,
    pub slack: SlackStandInHandle,
    pub smtp: SmtpSinkHandle,
    pub jamf: JamfStandInHandle,
    pub zoom: ZoomStandInHandle,
    pub asana: AsanaStandInHandle,
    pub engine: Engine,
    /// The daemon's base URL, `http://127.0.0.1:<port>`.
    pub base: String,
    /// Okta's Management API as the human super admin.
    pub admin: OktaClient,
    /// The sandbox's own routes (failed sign-ins, enrolling a factor) as the admin.
    pub sandbox_admin: SandboxAdmin,
    pub hook_id: String,
    pub http: reqwest::Client,
    /// The second org of [`Options::preview_org`] (the daemon runs it).
    pub preview: Option<Arc<SandboxOrg>>,
    _sandbox: RunningSandbox,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The daemon's flows folder.
    pub flows_dir: PathBuf,
    _dir: tempfile::TempDir,
}

/// Built-in cards compile once per test process, before any daemon starts,
/// so that tests running side by side do not all compile the same built-in cards.
fn warm_card_cache(config: &Config) {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        let started = Instant::now();
        let runtime = lanyard_runtime::Runtime::new(lanyard_server::registry::runtime_config(config))
            .expect("the card runtime starts");
        let (cards, errors) = lanyard_server::card_set::load_builtins(&runtime);
        assert!(errors.is_empty(), "built-in cards do not load: {errors:#?}");
        eprintln!("e2e: {} built-in cards ready in {:.1?}", cards.len(), started.elapsed());
    });
}

impl World {
    pub async fn start(options: Options) -> World {
        let (clock, manual): (Arc<dyn Clock>, Option<Arc<ManualClock>>) = match options.manual_clock {
            Some(t) => {
                let c = Arc::new(ManualClock::new(t));
                (c.clone(), Some(c))
            }
            None => (Arc::new(SystemClock), None),
        };
        // Okta gives a delivery 3 s (twice); the suite shares two cores with
        // builds and other worlds, where an fsync'd acknowledgement can take
        // longer. The 3 s limit itself is tested in lanyard-sandbox; here a
        // late acknowledgement must not lose the event the test is about.
        let delivery = DeliveryConfig { timeout: Duration::from_secs(30), ..DeliveryConfig::default() };
        let org = SandboxOrg::new(SandboxConfig { delivery, ..SandboxConfig::default() }, clock.clone());
        let sandbox = RunningSandbox::start(org.clone()).await.expect("the sandbox org serves");
        let sandbox_url = sandbox.base_url.clone();

        // The workspace has the people whose Okta profiles name a Slack member id.
        let slack_config = SlackConfig { members: org.slack_member_ids(), ..SlackConfig::default() };
        let slack = SlackStandIn::start(bind().await, slack_config).expect("the slack stand-in starts");
        let smtp = SmtpSink::start(
            bind().await,
            SmtpSinkConfig {
                tls: SmtpTls::StarttlsRequired,
                credentials: Some((SMTP_USER.into(), SMTP_PASSWORD.into())),
                ..SmtpSinkConfig::default()
            },
        )
        .expect("the smtp sink starts");
        let jamf_config = JamfConfig { token: JAMF_TOKEN.into(), ..JamfConfig::default() };
        let jamf = JamfStandIn::start(bind().await, jamf_config).expect("the jamf stand-in starts");
        let (zoom, asana) = saas_stand_ins(&org).await;

        let dir = tempfile::tempdir().expect("a temporary directory");
        let flows_dir = match options.flows {
            FlowsDir::Repository => repo().join("flows"),
            FlowsDir::Copy | FlowsDir::Empty => {
                let d = dir.path().join("flows");
                std::fs::create_dir_all(&d).expect("create the flows folder");
                if options.flows == FlowsDir::Copy {
                    for entry in std::fs::read_dir(repo().join("flows")).expect("read flows/") {
                        let p = entry.expect("a flows/ entry").path();
                        if p.extension().is_some_and(|e| e == "yaml") {
                            std::fs::copy(&p, d.join(p.file_name().unwrap())).expect("copy a seed flow");
                        }
                    }
                }
                d
            }
        };
        let mut text = config_text(&org, &sandbox_url, &slack, &smtp, &[&jamf.base_url(), &zoom.base_url(), &asana.base_url()], &flows_dir, options.hold_custom_card);
        if let Some(grants) = &options.grants {
            let seed = include_str!("../../flows/grants.toml");
            assert!(text.contains(seed), "`grants` replaces flows/grants.toml whole (so not with `hold_custom_card`)");
            text = text.replace(seed, grants);
        }
        if options.error_flow {
            text.push_str(&format!("\n[error_flow]\nname = {ERROR_FLOW:?}\n"));
        }
        if options.preview_org {
            text = with_preview_org(&text);
        }
        let text = text
            .replace("data_dir = \"data\"", &format!("data_dir = {:?}", options.data_dir.as_deref().unwrap_or(Path::new("data")).display().to_string()));
        let path = dir.path().join("lanyard.toml");
        std::fs::write(&path, &text).expect("write lanyard.toml");
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n--- lanyard.toml ---\n{text}"));
        warm_card_cache(&config);

        let mut engine_options = EngineOptions::new(config);
        engine_options.clock = clock.clone();
        let engine = Engine::new(engine_options).await.expect("the engine starts");

        // The custom cards, published as `lanyard card publish` would,
        // before the flows that name them load.
        let registry = lanyard_server::registry::Registry::new(
            engine.store().clone(),
            engine.runtime().clone(),
            lanyard_server::registry::RegistryOptions::from_config(engine.config()),
        );
        let wasm: Vec<Vec<u8>> = match &options.custom_wasm {
            None => CUSTOM_CARDS
                .iter()
                .map(|(dir, _)| lanyard_cards::examples::example(dir).unwrap_or_else(|| panic!("the {dir} example is embedded")).to_vec())
                .collect(),
            Some(files) => files.iter().map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()))).collect(),
        };
        let mut published = BTreeSet::new();
        for bytes in wasm {
            let p = registry.publish(bytes, None).await.unwrap_or_else(|e| panic!("a custom card publishes: {e}"));
            assert_eq!(p.card.version, "1.0.0");
            published.insert(p.card.name);
        }
        assert_eq!(published, CUSTOM_CARDS.iter().map(|(_, c)| c.to_string()).collect::<BTreeSet<_>>());

        let listener = bind().await;
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(lanyard_server::server::run(listener, engine.clone(), engine.shutdown_signal()));
        engine.start();
        tokio::time::timeout(PATIENCE, engine.wait_ready()).await.expect("the daemon got ready in time");
        assert!(engine.is_ready(), "the daemon is not ready: {:?}", engine.reload_status().last_error);
        let expected = if options.flows == FlowsDir::Empty { 0 } else { 6 };
        assert_eq!(engine.flows().len(), expected, "the seed flows load");
        assert!(
            engine.self_actor_ids().contains(&org.service_user_id().to_string()),
            "the daemon knows its own Okta identity: {:?}",
            engine.self_actor_ids()
        );

        let admin = OktaClient::new(
            OktaConfig::new(&sandbox_url, Auth::Ssws(org.admin_token().to_string())).expect("the admin client config"),
        )
        .expect("the admin client");
        let hook = admin
            .create_event_hook(&EventHookSpec {
                name: "lanyard".into(),
                uri: format!("{base}/hooks/okta"),
                authorization: Some(HOOK_SECRET.into()),
                headers: Vec::new(),
                event_types: lanyard_core::event::hook_event_types().iter().cloned().collect(),
            })
            .await
            .expect("the event hook registers");
        let hook = admin.verify_event_hook(&hook.id).await.expect("the daemon answers the verification challenge");
        assert_eq!((hook.status.as_str(), hook.verification_status.as_str()), ("ACTIVE", "VERIFIED"));
        let preview = if options.preview_org {
            let path = engine.orgs().hook_path(PREVIEW_ORG);
            engine.register_sandbox_hook_of(PREVIEW_ORG, &format!("{base}{path}")).await.expect("the preview org's event hook registers");
            Some(engine.orgs().get(PREVIEW_ORG).and_then(|o| o.sandbox()).expect("the preview org is an embedded sandbox").org.clone())
        } else {
            None
        };

        World {
            sandbox_admin: SandboxAdmin::new(&sandbox_url, org.admin_token()),
            org,
            sandbox_url,
            clock: manual,
            slack,
            smtp,
            jamf,
            zoom,
            asana,
            engine,
            base,
            admin,
            hook_id: hook.id,
            http: reqwest::Client::new(),
            preview,
            _sandbox: sandbox,
            server: Some(server),
            flows_dir,
            _dir: dir,
        }
    }

    /// An engineer deactivated by the admin, and the offboarding run that
    /// followed (settled).
    pub async fn offboard_an_engineer(&self) -> RunRecord {
        let leaver = self.seeded_users(|u| u.status == "ACTIVE" && prof(u, "department") == "Engineering").remove(0);
        self.admin.lifecycle(&leaver.id, lanyard_core::okta::LifecycleOp::Deactivate).await.expect("the admin deactivates the user");
        self.settle().await;
        self.runs(OFFBOARDING).await.remove(0)
    }

    /// `GET {base}/api/v1/{path}` with the admin token, as JSON.
    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        let r = self.http.get(format!("{}/api/v1/{path}", self.base)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Until every event the sandbox has raised is delivered and dispatched,
    /// and every run has ended; again if those runs' writes raised events.
    /// Returns the number of System Log events at that point.
    pub async fn settle(&self) -> usize {
        let deadline = Instant::now() + PATIENCE;
        let mut finished = self.engine.subscribe_finished();
        loop {
            self.org.wait_for_deliveries().await;
            if let Some(preview) = &self.preview {
                preview.wait_for_deliveries().await;
            }
            self.assert_delivered();
            let events = self.event_count();
            while !self.quiet().await {
                if Instant::now() > deadline {
                    let runs: Vec<String> =
                        self.all_runs().await.iter().map(|r| format!("{} {} {}", r.id, r.flow, r.status)).collect();
                    panic!("waited {PATIENCE:?} for the inbox to be dispatched and every run to end; runs: {runs:#?}");
                }
                // A run ending wakes this at once; dispatching signals
                // nothing, so look again shortly as well.
                tokio::select! {
                    _ = finished.recv() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            // Runs may have written to Okta, which raises (and delivers) events.
            if self.event_count() == events {
                return events;
            }
        }
    }

    /// Every Event Hook delivery so far was acknowledged: one the sandbox gave
    /// up on would leave a run missing with no word why.
    fn assert_delivered(&self) {
        let orgs = std::iter::once(&self.org).chain(self.preview.as_ref());
        let lost: Vec<_> = orgs.flat_map(|o| o.deliveries()).filter(|d| !d.delivered).collect();
        assert!(lost.is_empty(), "the daemon did not acknowledge these Event Hook deliveries: {lost:#?}");
    }

    /// System Log events of the world's org and, with one, the preview org.
    fn event_count(&self) -> usize {
        self.org.events().len() + self.preview.as_ref().map_or(0, |p| p.events().len())
    }

    /// Every event in the inbox dispatched, and every run ended, seen twice
    /// 100 ms apart: the store marks an event as being dispatched a moment
    /// before it writes the event's runs (its crash-safe order), and a look
    /// inside that moment finds neither the event nor its run.
    /// The inbox is empty (no event waiting or being dispatched) and every
    /// run has ended. The inbox first: once it is empty, every run its
    /// events made is in the history.
    async fn quiet(&self) -> bool {
        let depth = self.engine.store().inbox_depth().await.expect("read the inbox");
        depth == 0 && self.all_runs().await.iter().all(|r| r.status.is_final())
    }

    /// Every run in the history, oldest first.
    pub async fn all_runs(&self) -> Vec<RunRecord> {
        self.runs_where(RunFilter { limit: Some(1000), ..RunFilter::default() }).await
    }

    /// The runs of `flow` once `n` of them have ended (bounded by the
    /// world's patience), oldest first. For an event whose run is not yet
    /// in the history when [`World::settle`] looks, as on a loaded machine.
    pub async fn ended_runs(&self, flow: &str, n: usize) -> Vec<RunRecord> {
        let deadline = Instant::now() + PATIENCE;
        let mut finished = self.engine.subscribe_finished();
        loop {
            let runs = self.runs(flow).await;
            if runs.iter().filter(|r| r.status.is_final()).count() >= n {
                return runs;
            }
            if Instant::now() > deadline {
                let all: Vec<String> = self.all_runs().await.iter().map(|r| format!("{} {} {}", r.id, r.flow, r.status)).collect();
                panic!("waited {PATIENCE:?} for {n} ended runs of `{flow}`; loaded flows {:?}; runs: {all:#?}", self.engine.flows().len());
            }
            tokio::select! {
                _ = finished.recv() => {}
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
    }

    /// The runs of one flow, oldest first.
    pub async fn runs(&self, flow: &str) -> Vec<RunRecord> {
        self.runs_where(RunFilter {
            flow: Some(flow.to_string()),
            limit: Some(1000),
            ..RunFilter::default()
        })
        .await
    }

    async fn runs_where(&self, filter: RunFilter) -> Vec<RunRecord> {
        let mut runs = self.engine.store().list_runs(&filter).await.expect("list runs").runs;
        runs.reverse();
        runs
    }

    /// A run's steps, in the order they started.
    pub async fn steps(&self, run: &RunRecord) -> Vec<StepRecord> {
        let mut steps = self.engine.store().steps(&run.id).await.expect("read the steps");
        steps.sort_by_key(|s| s.seq);
        steps
    }

    /// The step at `path` (panics with the whole trace if there is none).
    pub async fn step(&self, run: &RunRecord, path: &str) -> StepRecord {
        let steps = self.steps(run).await;
        match steps.iter().find(|s| s.path == path) {
            Some(s) => s.clone(),
            None => panic!("no step `{path}` in run {}:\n{}", run.id, self.trace(run).await),
        }
    }

    /// The readable trace of a run, as `lanyard history show` prints it.
    pub async fn trace(&self, run: &RunRecord) -> String {
        let steps = self.engine.store().steps(&run.id).await.expect("read the steps");
        lanyard_flow::render_trace(run, &steps, &lanyard_flow::TraceOptions::default())
    }

    /// Panic with the trace unless the run succeeded.
    pub async fn assert_succeeded(&self, run: &RunRecord) {
        assert_eq!(run.status, RunStatus::Succeeded, "run {} of `{}`:\n{}", run.id, run.flow, self.trace(run).await);
    }

    /// A table row, read as a card would.
    pub async fn row(&self, table: &str, key: &str) -> Option<Value> {
        self.engine.store().get(table, key).await.expect("read the table")
    }

    /// How many runs each flow has, by flow name.
    pub async fn run_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in self.all_runs().await {
            *counts.entry(r.flow).or_insert(0) += 1;
        }
        counts
    }

    /// System Log events of `event_type` about `user_id`, oldest first.
    pub fn events_about(&self, event_type: &str, user_id: &str) -> Vec<lanyard_core::LogEvent> {
        self.org
            .events_of_type(event_type)
            .into_iter()
            .filter(|e| e.target.iter().any(|t| t.id == user_id))
            .collect()
    }

    /// Whether the sandbox delivered the event with this uuid to the daemon's hook.
    pub fn delivered(&self, uuid: &str) -> bool {
        self.org
            .deliveries()
            .iter()
            .any(|d| d.hook_id == self.hook_id && d.delivered && d.event_ids.iter().any(|id| id == uuid))
    }

    /// A group's id by name.
    pub fn group_id(&self, name: &str) -> String {
        self.org.group_by_name(name).unwrap_or_else(|| panic!("no group `{name}` in the sandbox")).id
    }

    /// The names of a user's groups, sorted.
    pub fn group_names(&self, user: &str) -> BTreeSet<String> {
        self.org.groups_of(user).into_iter().map(|g| g.name).collect()
    }

    /// Seeded users that fit, sorted by id (the seed is fixed, so this is stable).
    pub fn seeded_users(&self, fits: impl Fn(&lanyard_core::okta::User) -> bool) -> Vec<lanyard_core::okta::User> {
        let mut users: Vec<_> = self.org.users().into_iter().filter(|u| fits(u)).collect();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        users
    }

    pub async fn stop(mut self) {
        self.engine.shutdown(Duration::from_secs(5)).await;
        if let Some(s) = self.server.take() {
            s.await.expect("the server task").expect("the server stopped cleanly");
        }
    }
}

/// `profile.<key>` as text ("" when absent).
pub fn prof<'a>(u: &'a lanyard_core::okta::User, key: &str) -> &'a str {
    u.profile.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Zoom and Asana as the company has them: every ACTIVE person of the org a
/// Zoom user (by email) and a member of the one Asana workspace, no tasks.
async fn saas_stand_ins(org: &SandboxOrg) -> (ZoomStandInHandle, AsanaStandInHandle) {
    let zoom = ZoomStandIn::start(bind().await, ZoomConfig { token: ZOOM_TOKEN.into() }).expect("the zoom stand-in starts");
    let asana = AsanaStandIn::start(bind().await, AsanaConfig { token: ASANA_TOKEN.into() }).expect("the asana stand-in starts");
    asana.add_workspace(AsanaWorkspace { gid: ASANA_WORKSPACE.0.into(), name: ASANA_WORKSPACE.1.into() });
    let mut people = org.users();
    people.sort_by(|a, b| a.id.cmp(&b.id));
    for (i, u) in people.iter().filter(|u| u.status == "ACTIVE" && !prof(u, "email").is_empty()).enumerate() {
        let (email, first, last) = (prof(u, "email"), prof(u, "firstName"), prof(u, "lastName"));
        zoom.add_user(ZoomUser { id: zoom_id(i), email: email.into(), first_name: first.into(), last_name: last.into(), status: "active".into() });
        asana.add_user(AsanaUser { gid: asana_gid(i), email: email.into(), name: format!("{first} {last}"), workspaces: vec![ASANA_WORKSPACE.0.into()] });
    }
    (zoom, asana)
}

/// The Zoom user id and Asana user gid of the `i`th ACTIVE person (by Okta id).
pub fn zoom_id(i: usize) -> String {
    format!("zm{i:06}")
}

pub fn asana_gid(i: usize) -> String {
    format!("1201{i:012}")
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0")
}

/// `text` (from [`config_text`]) with the world's org as the org `default`
/// of `[okta.orgs.<name>]` and the embedded [`PREVIEW_ORG`] beside it.
fn with_preview_org(text: &str) -> String {
    let hook = format!("[hooks.okta]\nsecret = {{ value = \"{HOOK_SECRET}\" }}\n");
    assert_eq!(text.matches(&hook).count(), 1, "config_text names its hook in [hooks.okta]");
    assert_eq!(text.matches("\n[okta]\n").count(), 1, "config_text names one org in [okta]");
    let default = format!(
        "\n# The org `default`, whose hook delivers to /hooks/okta.\n[okta.orgs.default]\nhook_secret = {{ value = \"{HOOK_SECRET}\" }}\n"
    );
    format!(
        "{}\n# A second org, embedded in the daemon; its hook delivers to /hooks/okta/{PREVIEW_ORG}.\n[okta.orgs.{PREVIEW_ORG}]\nsandbox = true\nhook_secret = {{ value = \"{PREVIEW_HOOK_SECRET}\" }}\n",
        text.replace(&hook, "").replace("\n[okta]\n", &default)
    )
}

/// `lanyard.toml` for this world: what ops would write to run the seed flows
/// against this org and these services.
/// `custom` is the base URLs of JAMF, Zoom and Asana.
fn config_text(org: &SandboxOrg, sandbox_url: &str, slack: &SlackStandInHandle, smtp: &SmtpSinkHandle, custom: &[&str; 3], flows: &Path, hold_custom: bool) -> String {
    let mut seed_grants = include_str!("../../flows/grants.toml").to_string();
    if hold_custom {
        const CUSTOM: &str = "[cards.\"acme.jamf-offboard\"]\ngrants = [\"connection:jamf\"]\n";
        assert!(seed_grants.contains(CUSTOM), "flows/grants.toml grants the custom card");
        seed_grants = seed_grants.replace(CUSTOM, "");
    }
    let services = services_toml(&Services {
        okta: (sandbox_url, org.service_token()),
        slack,
        smtp,
        smtp_login: (SMTP_USER, SMTP_PASSWORD),
        mail_from: (MAIL_FROM, MAIL_FROM_NAME),
        jamf: (custom[0], JAMF_TOKEN),
        zoom: (custom[1], ZOOM_TOKEN),
        asana: (custom[2], ASANA_TOKEN),
    })
    .expect("the sink offers TLS");
    format!(
        r#"# The seed use cases' daemon (written by tests/e2e/harness.rs).
[server]
listen = "127.0.0.1:0"
data_dir = "data"
flows_dir = "{flows}"
cache_dir = "{cache}"
admin_token = {{ value = "{ADMIN_TOKEN}" }}
watch_flows = false
shutdown_grace = "5s"

[hooks.okta]
secret = {{ value = "{HOOK_SECRET}" }}

# The tests fire schedules themselves (with the manual clock).
[schedules]
enabled = false

{services}
{seed_grants}"#,
        flows = flows.display(),
        cache = card_cache().display(),
    )
}

/// The one step whose path is `<id>` or ends in `/<id>`.
pub fn step_named(steps: &[StepRecord], id: &str) -> StepRecord {
    let found: Vec<_> = steps.iter().filter(|s| s.path == id || s.path.ends_with(&format!("/{id}"))).collect();
    assert_eq!(found.len(), 1, "steps named {id}: {:?}", steps.iter().map(|s| &s.path).collect::<Vec<_>>());
    found[0].clone()
}

/// The one step of `steps` that ran card `name` (any version), if any;
/// panics if several did.
pub fn by_card(steps: &[StepRecord], name: &str) -> Option<StepRecord> {
    let prefix = format!("{name}@");
    let found: Vec<_> = steps.iter().filter(|s| s.card.as_deref().is_some_and(|c| c.starts_with(&prefix))).collect();
    assert!(found.len() <= 1, "several steps ran {name}: {:?}", found.iter().map(|s| &s.path).collect::<Vec<_>>());
    found.first().map(|s| (*s).clone())
}

/// A message's text with CRLF line ends made LF and the trailing newline dropped.
pub fn mail_text(m: &lanyard_sandbox::ReceivedMail) -> String {
    m.text.clone().unwrap_or_default().replace("\r\n", "\n").trim_end_matches('\n').to_string()
}
