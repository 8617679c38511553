//! Cron schedules: fire `trigger: schedule` flows at their times.
//!
//! [`Scheduler::tick`]`(now)` is the whole job: it reconciles the persisted
//! schedule states with the loaded flows (new flows get a first fire time,
//! changed schedules are recomputed, removed ones forgotten), fires every flow
//! that is due at `now`, and persists each flow's next fire time **before** it
//! starts the run, so a crash right after a fire never fires it again (a
//! schedule fire is at most once; the run itself, once created, is durable).
//! The daemon's loop ([`run`]) sleeps on a [`Timer`] until the earliest next
//! fire or a flow reload, then ticks; tests and the end-to-end suite call
//! `tick` with a [`ManualClock`](lanyard_core::ManualClock) time, or drive the
//! loop with a [`ManualTimer`].
//!
//! Fire times come from the compiled schedule (croner + chrono-tz, computed in
//! the schedule's time zone, so `0 9 * * *` in America/New_York stays at 09:00
//! local across daylight-saving changes).
//!
//! Rules, per flow:
//! - **On time** means at most [`MISFIRE_GRACE`] after the fire time (the
//!   loop wakes within milliseconds; the grace absorbs a busy machine).
//! - **Late** fires (the daemon was down, or the machine slept) follow the
//!   flow's `catch_up:` (or `[schedules] catch_up` when the flow does not say):
//!   `skip` fires only future times and records the missed ones; `once` starts
//!   one run for all of them (`missed` in its input says how many were folded in).
//! - **No overlap** by default: when a run of the flow is still queued or
//!   running, the fire is skipped and recorded (log, metric, [`TickReport`]);
//!   `overlap: true` in the schedule allows it.
//! - **Off** (`enabled: false`): every due fire is skipped and recorded, and the
//!   next fire still advances, so turning the flow on owes no missed fires.
//! - A run started by a fire has trigger `schedule` and sees as `event`:
//!   `{ "fire_time": "<RFC 3339>", "cron": "...", "timezone": "...", "missed": <n> }`.
//! - "Run now" (`POST /api/v1/flows/{name}/run`, the CLI) is **not** a fire: it
//!   starts a `manual` run whose `event` has the same shape with `fire_time` =
//!   now ([`run_now_input`]), ignores overlap (an operator asked for it) and
//!   leaves the schedule's next fire alone.
//!
//! This module starts runs only through [`ScheduleHost`] (the engine); it
//! knows nothing of HTTP, and it never sleeps on the system clock directly.

use crate::engine::{Engine, StartError, StartOptions};
use crate::shutdown::Shutdown;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lanyard_core::history::TriggerInfo;
use lanyard_core::{Clock, ManualClock};
use lanyard_flow::model::{CatchUp, Flow, Schedule, Trigger};
use lanyard_store::{ScheduleState, SharedStore, StoreError};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How late a fire may be and still count as on time.
pub const MISFIRE_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// The most missed fire times counted for one flow after downtime (a
/// every-second cron down for a month would otherwise be millions).
pub const MAX_MISSED_COUNTED: usize = 100_000;
/// The longest the real timer sleeps before looking at the clock again, so a
/// wall-clock step (NTP, a suspended machine) delays a fire by at most this.
pub const MAX_NAP: Duration = Duration::from_secs(30);
/// After a failed tick (the store), wait this long before the next try.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);

/// Schedule fires, by `flow` and `result`: `fired`, `caught_up` (a late fire
/// run once for all missed times), `skipped_overlap`, `skipped_missed`,
/// `skipped_off` (the flow is `enabled: false`), `failed`.
pub const METRIC_FIRES: &str = "lanyard_schedule_fires_total";
/// The next fire time of each schedule, as Unix seconds, by `flow`.
pub const METRIC_NEXT_FIRE: &str = "lanyard_schedule_next_fire_timestamp_seconds";

// ---------------------------------------------------------------------------
// What the scheduler needs from the daemon

/// The daemon as the scheduler sees it. [`Engine`] implements it; tests may
/// use a small fake around a real [`Store`].
#[async_trait]
pub trait ScheduleHost: Send + Sync + 'static {
    /// The loaded flows with a `schedule` trigger, and when that set was loaded.
    fn scheduled_flows(&self) -> (Vec<Arc<Flow>>, DateTime<Utc>);
    /// Whether a run of `flow` is queued or running.
    fn is_running(&self, flow: &str) -> bool;
    /// Start a run (durable before it returns) and return its id.
    async fn start(&self, flow: &str, trigger: TriggerInfo, input: Value) -> Result<String, StartError>;
    /// Where schedule states live.
    fn store(&self) -> &SharedStore;
    fn clock(&self) -> &Arc<dyn Clock>;
    /// `[schedules] catch_up`: the policy of schedules that do not say.
    fn default_catch_up(&self) -> CatchUp;
}

#[async_trait]
impl ScheduleHost for Engine {
    fn scheduled_flows(&self) -> (Vec<Arc<Flow>>, DateTime<Utc>) {
        let set = self.flows();
        let flows = set.schedules().map(|(f, _)| f.clone()).collect();
        (flows, set.loaded_at)
    }

    fn is_running(&self, flow: &str) -> bool {
        Engine::is_running(self, flow)
    }

    async fn start(&self, flow: &str, trigger: TriggerInfo, input: Value) -> Result<String, StartError> {
        let opts = StartOptions {
            // A fire is not refused for a full queue: it is rare, and its time
            // would be lost.
            force: true,
            ..StartOptions::default()
        };
        Ok(self.start_run(flow, trigger, input, opts).await?.run_id)
    }

    fn store(&self) -> &SharedStore {
        Engine::store(self)
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        Engine::clock(self)
    }

    fn default_catch_up(&self) -> CatchUp {
        self.config().schedules.catch_up
    }
}

// ---------------------------------------------------------------------------
// Waiting

/// How the scheduler loop waits for a fire time. The daemon uses
/// [`SystemTimer`]; tests use [`ManualTimer`] and move time by hand.
#[async_trait]
pub trait Timer: Send + Sync + 'static {
    /// Return once the clock reads `deadline` or later.
    async fn sleep_until(&self, deadline: DateTime<Utc>);
}

/// Sleeps in real time until a clock reads the deadline, looking at the clock
/// at least every [`MAX_NAP`].
pub struct SystemTimer {
    clock: Arc<dyn Clock>,
}

impl SystemTimer {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        SystemTimer { clock }
    }
}

#[async_trait]
impl Timer for SystemTimer {
    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        loop {
            let now = self.clock.now();
            if now >= deadline {
                return;
            }
            let left = (deadline - now).to_std().unwrap_or(Duration::ZERO);
            // tokio rounds up to whole milliseconds; one more keeps the
            // wake from landing a hair before the deadline.
            tokio::time::sleep(left.min(MAX_NAP) + Duration::from_millis(1)).await;
        }
    }
}

/// A timer over a [`ManualClock`]: sleepers wake only when time is moved
/// through [`ManualTimer::set`] or [`ManualTimer::advance`] (moving the
/// clock directly does not wake them).
pub struct ManualTimer {
    clock: Arc<ManualClock>,
    moved: watch::Sender<DateTime<Utc>>,
}

impl ManualTimer {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        let now = clock.now();
        ManualTimer {
            clock,
            moved: watch::channel(now).0,
        }
    }

    /// Set the clock and wake every sleeper whose deadline has come.
    pub fn set(&self, to: DateTime<Utc>) {
        self.clock.set(to);
        self.moved.send_replace(to);
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.moved.send_replace(self.clock.now());
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[async_trait]
impl Timer for ManualTimer {
    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        let mut rx = self.moved.subscribe();
        let clock = self.clock.clone();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = rx.wait_for(|_| clock.now() >= deadline).await;
    }
}

// ---------------------------------------------------------------------------
// Ticks

/// A run a tick started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    pub flow: String,
    /// The scheduled time this run stands for (the latest one, when missed
    /// times were folded in).
    pub fire_time: DateTime<Utc>,
    pub run_id: String,
    /// Earlier fire times this run also stands for (`catch_up: once`), or
    /// that were dropped (`catch_up: skip`) when the latest was on time.
    pub missed: u32,
}

/// Why a fire started no run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SkipReason {
    /// A run of the flow was still queued or running and the schedule does not
    /// allow overlap.
    Overlap,
    /// Late (the daemon was down) and the flow's catch-up policy is `skip`.
    Missed,
    /// The engine refused the run (shutting down, flow gone, store error).
    StartFailed { error: String },
    /// The flow is off (`enabled: false`); the next fire still advances.
    Off,
}

/// Fire times that started no run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub flow: String,
    /// The latest skipped fire time.
    pub fire_time: DateTime<Utc>,
    /// How many fire times (1 for an ordinary skip).
    pub count: u32,
    pub reason: SkipReason,
}

/// What one [`Scheduler::tick`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub now: DateTime<Utc>,
    pub fired: Vec<Fired>,
    pub skipped: Vec<Skipped>,
    /// The earliest next fire time of any schedule (when the loop wakes next).
    pub next_wake: Option<DateTime<Utc>>,
    /// Schedules seen for the first time (or whose cron or time zone changed)
    /// and given a first fire time.
    pub initialized: Vec<String>,
    /// Schedule states dropped because their flow is gone or no longer scheduled.
    pub forgotten: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule state: {0}")]
    Store(#[from] StoreError),
}

/// One tick at a time in a process, whoever ticks (the daemon's loop, a test,
/// a second scheduler over the same store): each tick reads the persisted
/// states afresh, so serialized ticks never fire one time twice.
static TICK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Fires scheduled flows. Cheap to share (`Arc`).
pub struct Scheduler {
    host: Arc<dyn ScheduleHost>,
    ticks: watch::Sender<Arc<TickReport>>,
}

impl Scheduler {
    /// A scheduler for the engine's flows.
    pub fn new(engine: Engine) -> Arc<Scheduler> {
        Self::with_host(Arc::new(engine))
    }

    pub fn with_host(host: Arc<dyn ScheduleHost>) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            host,
            ticks: watch::channel(Arc::new(TickReport::default())).0,
        })
    }

    /// Every finished tick's report, latest first (for tests that drive the
    /// loop with a [`ManualTimer`] and wait for it to act).
    pub fn subscribe_ticks(&self) -> watch::Receiver<Arc<TickReport>> {
        self.ticks.subscribe()
    }

    /// Reconcile schedule states with the loaded flows and fire everything due
    /// at `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, ScheduleError> {
        let _one = TICK.lock().await;
        let report = self.tick_locked(now).await?;
        self.ticks.send_replace(Arc::new(report.clone()));
        Ok(report)
    }

    async fn tick_locked(&self, now: DateTime<Utc>) -> Result<TickReport, ScheduleError> {
        let store = self.host.store();
        let (flows, loaded_at) = self.host.scheduled_flows();
        let mut states: HashMap<String, ScheduleState> = store.schedule_states().await?.into_iter().collect();
        let mut report = TickReport {
            now,
            ..TickReport::default()
        };
        // Forget schedules whose flow is gone or has another trigger now.
        let mut gone: Vec<String> = states
            .keys()
            .filter(|name| !flows.iter().any(|f| &f.name == *name))
            .cloned()
            .collect();
        gone.sort();
        for name in gone {
            store.remove_schedule_state(&name).await?;
            states.remove(&name);
            tracing::info!(flow = %name, "schedule removed; its state is forgotten");
            report.forgotten.push(name);
        }
        // A first fire time counts from when the flow was loaded, so a tick
        // that comes after a fire time the flow was already loaded for still
        // fires it.
        let base = loaded_at.min(now);
        // Fires to start once every state is persisted.
        let mut to_fire: Vec<(Arc<Flow>, DateTime<Utc>, u32, bool)> = Vec::new();
        for flow in &flows {
            let Trigger::Schedule(schedule) = &flow.trigger else {
                continue;
            };
            let name = flow.name.as_str();
            let mut state = match states.remove(name) {
                Some(s) if is_fire_time(schedule, s.next_fire) => s,
                previous => {
                    let Some(next_fire) = schedule.next_fire_after(base) else {
                        tracing::warn!(flow = %name, cron = %schedule.cron, "schedule has no next fire time; it will not fire");
                        continue;
                    };
                    if previous.is_some() {
                        tracing::info!(flow = %name, cron = %schedule.cron, timezone = %schedule.timezone, %next_fire, "schedule changed; next fire recomputed");
                    } else {
                        tracing::info!(flow = %name, cron = %schedule.cron, timezone = %schedule.timezone, %next_fire, "schedule added");
                    }
                    report.initialized.push(name.to_string());
                    let state = ScheduleState {
                        next_fire,
                        last_fire: previous.as_ref().and_then(|p| p.last_fire),
                        running_run: None,
                    };
                    store.set_schedule_state(name, &state).await?;
                    state
                }
            };
            if state.next_fire > now {
                metrics::gauge!(METRIC_NEXT_FIRE, "flow" => name.to_string()).set(state.next_fire.timestamp() as f64);
                report.next_wake = earliest(report.next_wake, state.next_fire);
                continue;
            }

            // Due: every fire time from `next_fire` up to `now`.
            let first = state.next_fire;
            let later = schedule.fires_between(first, now, MAX_MISSED_COUNTED);
            let latest = later.last().copied().unwrap_or(first);
            let count = u32::try_from(1 + later.len()).unwrap_or(u32::MAX);
            let on_time = now - latest <= MISFIRE_GRACE;
            let policy = if schedule.catch_up_explicit {
                schedule.catch_up
            } else {
                self.host.default_catch_up()
            };
            let fire = on_time || policy == CatchUp::Once;
            if !flow.enabled {
                // Off: nothing fires, late or not, and nothing is owed when it
                // is turned on again (the next fire moves on below).
                tracing::info!(flow = %name, fire_time = %latest, count, "the flow is off (`enabled: false`); schedule fire skipped");
                metrics::counter!(METRIC_FIRES, "flow" => name.to_string(), "result" => "skipped_off").increment(count.into());
                report.skipped.push(Skipped {
                    flow: name.to_string(),
                    fire_time: latest,
                    count,
                    reason: SkipReason::Off,
                });
                advance(store, name, schedule, state, now, &mut report).await?;
                continue;
            }
            let dropped = if fire { count - 1 } else { count };
            if dropped > 0 && policy == CatchUp::Skip {
                tracing::warn!(flow = %name, missed = dropped, first = %first, latest = %latest, "schedule fires missed while lanyard was not running; skipped (catch_up: skip)");
                metrics::counter!(METRIC_FIRES, "flow" => name.to_string(), "result" => "skipped_missed").increment(dropped.into());
                report.skipped.push(Skipped {
                    flow: name.to_string(),
                    fire_time: if fire { later.iter().rev().nth(1).copied().unwrap_or(first) } else { latest },
                    count: dropped,
                    reason: SkipReason::Missed,
                });
            }
            if fire {
                // A run of a late fire was already counted by the caller's
                // metric; `missed` says how many times it stands for.
                let missed = if policy == CatchUp::Once { count - 1 } else { 0 };
                if !schedule.overlap && self.host.is_running(name) {
                    tracing::warn!(flow = %name, fire_time = %latest, "previous run still going; this fire is skipped (set `overlap: true` to allow)");
                    metrics::counter!(METRIC_FIRES, "flow" => name.to_string(), "result" => "skipped_overlap").increment(1);
                    report.skipped.push(Skipped {
                        flow: name.to_string(),
                        fire_time: latest,
                        count: 1,
                        reason: SkipReason::Overlap,
                    });
                } else {
                    to_fire.push((flow.clone(), latest, missed, !on_time));
                    state.last_fire = Some(latest);
                }
            }
            advance(store, name, schedule, state, now, &mut report).await?;
        }
        // The next fire times are on disk before any run starts: a crash from
        // here on loses at most these fires, never repeats them.
        store.sync().await?;

        for (flow, fire_time, missed, late) in to_fire {
            let Trigger::Schedule(schedule) = &flow.trigger else {
                continue;
            };
            let trigger = TriggerInfo::Schedule {
                cron: schedule.cron.clone(),
                timezone: schedule.timezone.name().to_string(),
                fire_time,
            };
            let input = fire_input(schedule, fire_time, missed);
            match self.host.start(&flow.name, trigger, input).await {
                Ok(run_id) => {
                    let result = if late { "caught_up" } else { "fired" };
                    metrics::counter!(METRIC_FIRES, "flow" => flow.name.clone(), "result" => result).increment(1);
                    tracing::info!(flow = %flow.name, %fire_time, run = %run_id, missed, "schedule fired");
                    // Informational (the overlap check asks the engine), so
                    // it rides along with the next sync.
                    if let Some(mut state) = store.schedule_state(&flow.name).await? {
                        state.running_run = Some(run_id.clone());
                        store.set_schedule_state(&flow.name, &state).await?;
                    }
                    report.fired.push(Fired {
                        flow: flow.name.clone(),
                        fire_time,
                        run_id,
                        missed,
                    });
                }
                Err(e) => {
                    tracing::error!(flow = %flow.name, %fire_time, error = %e, "schedule fire could not start a run");
                    metrics::counter!(METRIC_FIRES, "flow" => flow.name.clone(), "result" => "failed").increment(1);
                    report.skipped.push(Skipped {
                        flow: flow.name.clone(),
                        fire_time,
                        count: 1,
                        reason: SkipReason::StartFailed { error: e.to_string() },
                    });
                }
            }
        }
        report.fired.sort_by(|a, b| a.flow.cmp(&b.flow));
        Ok(report)
    }

    /// The loop: tick, sleep on `timer` until the next fire time or a flow
    /// reload, tick again; return when `shutdown` fires.
    pub async fn run_with<T: Send + Sync + 'static>(
        self: Arc<Self>,
        timer: Arc<dyn Timer>,
        mut reloads: watch::Receiver<T>,
        shutdown: Shutdown,
    ) {
        let mut reloads_open = true;
        loop {
            if shutdown.is_triggered() {
                return;
            }
            let now = self.host.clock().now();
            let wake = match self.tick(now).await {
                Ok(report) => report.next_wake,
                Err(e) => {
                    tracing::error!(error = %e, "schedule tick failed; trying again shortly");
                    Some(now + chrono::TimeDelta::from_std(RETRY_AFTER_ERROR).unwrap_or(chrono::TimeDelta::seconds(5)))
                }
            };
            let sleep = async {
                match wake {
                    Some(t) => timer.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.wait() => return,
                changed = reloads.changed(), if reloads_open => {
                    if changed.is_err() {
                        reloads_open = false;
                    }
                }
                _ = sleep => {}
            }
        }
    }
}

/// The daemon's scheduler loop over the engine's clock; returns at shutdown.
pub async fn run(engine: Engine) {
    if !engine.config().schedules.enabled {
        tracing::info!("schedules are off ([schedules] enabled = false)");
        return;
    }
    let timer: Arc<dyn Timer> = Arc::new(SystemTimer::new(engine.clock().clone()));
    let reloads = engine.subscribe_reloads();
    let shutdown = engine.shutdown_signal();
    Scheduler::new(engine).run_with(timer, reloads, shutdown).await;
}

/// What a fired run sees as `event`.
pub fn fire_input(schedule: &Schedule, fire_time: DateTime<Utc>, missed: u32) -> Value {
    json!({
        "fire_time": fire_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "cron": schedule.cron,
        "timezone": schedule.timezone.name(),
        "missed": missed,
    })
}

/// What a "run now" of a schedule flow sees as `event`: a fire at `now`.
pub fn run_now_input(schedule: &Schedule, now: DateTime<Utc>) -> Value {
    fire_input(schedule, now, 0)
}

/// Whether `t` is one of the schedule's fire times (false when the cron or
/// time zone changed since `t` was computed).
fn is_fire_time(schedule: &Schedule, t: DateTime<Utc>) -> bool {
    // Fire times are whole seconds, so the first fire after `t - 1s` is `t`
    // exactly when `t` is a fire time.
    schedule.next_fire_after(t - chrono::TimeDelta::seconds(1)) == Some(t)
}

/// Move a schedule's next fire past `now` and persist it (or forget a
/// schedule with no fire time left).
async fn advance(
    store: &SharedStore,
    name: &str,
    schedule: &Schedule,
    mut state: ScheduleState,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<(), StoreError> {
    match schedule.next_fire_after(now) {
        Some(next) => {
            state.next_fire = next;
            store.set_schedule_state(name, &state).await?;
            metrics::gauge!(METRIC_NEXT_FIRE, "flow" => name.to_string()).set(next.timestamp() as f64);
            report.next_wake = earliest(report.next_wake, next);
        }
        None => {
            tracing::warn!(flow = %name, cron = %schedule.cron, "schedule has no further fire time; it will not fire again");
            store.remove_schedule_state(name).await?;
        }
    }
    Ok(())
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

#[cfg(test)]
mod tests {
    //! The scheduling rules against a real store (the in-memory one; sled
    //! where a restart matters) and real compiled flows; the engine is
    //! replaced by a host that records the runs it is asked to
    //! start and says "still running" when told to.

    use lanyard_store::memory::MemoryStore;
    use lanyard_store::{DataStore, StateStore, Store};
    use super::*;
    use chrono::TimeZone;
    use lanyard_flow::{CardSummary, StaticCatalog};
    use std::collections::HashSet;
    use std::sync::Mutex;

    struct FakeHost {
        flows: Mutex<(Vec<Arc<Flow>>, DateTime<Utc>)>,
        running: Mutex<HashSet<String>>,
        started: Mutex<Vec<(String, TriggerInfo, Value)>>,
        /// Runs started keep running until `finish` (for overlap).
        keep_running: bool,
        fail_starts: Mutex<bool>,
        store: SharedStore,
        clock: Arc<dyn Clock>,
        default_catch_up: CatchUp,
    }

    #[async_trait]
    impl ScheduleHost for FakeHost {
        fn scheduled_flows(&self) -> (Vec<Arc<Flow>>, DateTime<Utc>) {
            self.flows.lock().unwrap().clone()
        }
        fn is_running(&self, flow: &str) -> bool {
            self.running.lock().unwrap().contains(flow)
        }
        async fn start(&self, flow: &str, trigger: TriggerInfo, input: Value) -> Result<String, StartError> {
            if *self.fail_starts.lock().unwrap() {
                return Err(StartError::ShuttingDown);
            }
            if self.keep_running {
                self.running.lock().unwrap().insert(flow.to_string());
            }
            self.started.lock().unwrap().push((flow.to_string(), trigger, input));
            Ok(lanyard_store::new_run_id(self.clock.now()))
        }
        fn store(&self) -> &SharedStore {
            &self.store
        }
        fn clock(&self) -> &Arc<dyn Clock> {
            &self.clock
        }
        fn default_catch_up(&self) -> CatchUp {
            self.default_catch_up
        }
    }

    impl FakeHost {
        fn started(&self) -> Vec<(String, TriggerInfo, Value)> {
            self.started.lock().unwrap().clone()
        }
        fn finish(&self, flow: &str) {
            self.running.lock().unwrap().remove(flow);
        }
        fn load(&self, flows: Vec<Arc<Flow>>, at: DateTime<Utc>) {
            *self.flows.lock().unwrap() = (flows, at);
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn flow(name: &str, schedule: &str) -> Arc<Flow> {
        let text = format!(
            "name: {name}\ndescription: a scheduled test flow\ntrigger:\n  schedule: {schedule}\nsteps:\n  - card: lanyard.echo\n    with: {{ message: \"{{{{ event.fire_time }}}}\" }}\n"
        );
        let catalog = StaticCatalog::new([CardSummary::new("lanyard.echo").with_version("1.0.0")]);
        let c = lanyard_flow::compile(&format!("{name}.yaml"), &text, &catalog);
        Arc::new(c.flow.unwrap_or_else(|| panic!("{text}\n{:?}", c.diagnostics)))
    }

    fn host(store: impl DataStore, clock: Arc<ManualClock>, flows: Vec<Arc<Flow>>, default_catch_up: CatchUp, keep_running: bool) -> Arc<FakeHost> {
        let now = clock.now();
        Arc::new(FakeHost {
            flows: Mutex::new((flows, now)),
            running: Mutex::new(HashSet::new()),
            started: Mutex::new(Vec::new()),
            keep_running,
            fail_starts: Mutex::new(false),
            store: Arc::new(store),
            clock,
            default_catch_up,
        })
    }

    fn fire_times(h: &FakeHost) -> Vec<DateTime<Utc>> {
        h.started()
            .into_iter()
            .map(|(_, trigger, _)| match trigger {
                TriggerInfo::Schedule { fire_time, .. } => fire_time,
                other => panic!("not a schedule trigger: {other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn daily_at_nine_new_york_stays_at_nine_across_both_dst_changes() {
        // Saturday 2026-03-07 07:00 EST; DST starts Sunday 2026-03-08 02:00.
        let clock = Arc::new(ManualClock::new(t("2026-03-07T12:00:00Z")));
        let f = flow("daily", r#"{ cron: "0 9 * * *", timezone: America/New_York }"#);
        let h = host(MemoryStore::new(), clock.clone(), vec![f], CatchUp::Skip, false);
        let s = Scheduler::with_host(h.clone());

        let r = s.tick(clock.now()).await.unwrap();
        assert_eq!(r.initialized, vec!["daily"]);
        assert!(r.fired.is_empty());
        assert_eq!(r.next_wake, Some(t("2026-03-07T14:00:00Z")), "09:00 EST is 14:00 UTC");

        // Not a second early.
        let r = s.tick(t("2026-03-07T13:59:59Z")).await.unwrap();
        assert!(r.fired.is_empty());

        let r = s.tick(t("2026-03-07T14:00:00Z")).await.unwrap();
        assert_eq!(r.fired.len(), 1);
        assert_eq!(r.fired[0].fire_time, t("2026-03-07T14:00:00Z"));
        assert_eq!(r.next_wake, Some(t("2026-03-08T13:00:00Z")), "09:00 EDT is 13:00 UTC");

        let r = s.tick(t("2026-03-08T13:00:00.250Z")).await.unwrap();
        assert_eq!(r.fired.len(), 1);
        assert_eq!(r.fired[0].fire_time, t("2026-03-08T13:00:00Z"));
        assert_eq!(r.next_wake, Some(t("2026-03-09T13:00:00Z")));

        // DST ends Sunday 2026-11-01 02:00: Saturday 09:00 EDT, Sunday 09:00 EST.
        let store = h.store().clone();
        let mut state = store.schedule_state("daily").await.unwrap().unwrap();
        state.next_fire = t("2026-10-31T13:00:00Z");
        store.set_schedule_state("daily", &state).await.unwrap();
        let r = s.tick(t("2026-10-31T13:00:00Z")).await.unwrap();
        assert_eq!(r.fired[0].fire_time, t("2026-10-31T13:00:00Z"));
        assert_eq!(r.next_wake, Some(t("2026-11-01T14:00:00Z")));
        let r = s.tick(t("2026-11-01T14:00:01Z")).await.unwrap();
        assert_eq!(r.fired[0].fire_time, t("2026-11-01T14:00:00Z"));

        assert_eq!(h.started().len(), 4);
        let (name, trigger, input) = &h.started()[0];
        assert_eq!(name, "daily");
        assert_eq!(
            trigger,
            &TriggerInfo::Schedule {
                cron: "0 9 * * *".into(),
                timezone: "America/New_York".into(),
                fire_time: t("2026-03-07T14:00:00Z")
            }
        );
        assert_eq!(input["fire_time"], "2026-03-07T14:00:00.000Z");
        assert_eq!(input["missed"], 0);
        let state = store.schedule_state("daily").await.unwrap().unwrap();
        assert_eq!(state.last_fire, Some(t("2026-11-01T14:00:00Z")));
        assert!(state.running_run.is_some());
    }

    /// An hourly schedule, then a downtime from 10:30 to 15:10: five fire
    /// times (11:00 .. 15:00) are missed.
    async fn after_downtime(schedule: &str, default_catch_up: CatchUp) -> (Arc<FakeHost>, TickReport, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t("2026-05-04T10:30:00Z")));
        let f = flow("hourly", schedule);
        {
            let store = Store::open(dir.path()).unwrap();
            let h = host(store, clock.clone(), vec![f.clone()], default_catch_up, false);
            let r = Scheduler::with_host(h.clone()).tick(clock.now()).await.unwrap();
            assert_eq!(r.next_wake, Some(t("2026-05-04T11:00:00Z")));
        }
        // The daemon was down; it starts again and loads its flows at 15:10.
        clock.set(t("2026-05-04T15:10:00Z"));
        let store = Store::open(dir.path()).unwrap();
        let h = host(store, clock.clone(), vec![f], default_catch_up, false);
        let r = Scheduler::with_host(h.clone()).tick(clock.now()).await.unwrap();
        assert_eq!(r.next_wake, Some(t("2026-05-04T16:00:00Z")));
        assert!(r.initialized.is_empty(), "the persisted state is used after a restart");
        (h, r, dir)
    }

    #[tokio::test]
    async fn catch_up_skip_fires_nothing_for_missed_times() {
        let (h, r, _dir) = after_downtime(r#"{ cron: "0 * * * *", timezone: UTC, catch_up: skip }"#, CatchUp::Once).await;
        assert!(h.started().is_empty());
        assert_eq!(
            r.skipped,
            vec![Skipped {
                flow: "hourly".into(),
                fire_time: t("2026-05-04T15:00:00Z"),
                count: 5,
                reason: SkipReason::Missed
            }]
        );
    }

    #[tokio::test]
    async fn catch_up_once_runs_once_for_all_missed_times() {
        let (h, r, _dir) = after_downtime(r#"{ cron: "0 * * * *", timezone: UTC, catch_up: once }"#, CatchUp::Skip).await;
        assert_eq!(fire_times(&h), vec![t("2026-05-04T15:00:00Z")]);
        assert_eq!(r.fired[0].missed, 4);
        assert_eq!(h.started()[0].2["missed"], 4);
        assert!(r.skipped.is_empty());
    }

    #[tokio::test]
    async fn a_schedule_that_does_not_say_follows_the_daemon_default() {
        let (h, _, _dir) = after_downtime(r#"{ cron: "0 * * * *", timezone: UTC }"#, CatchUp::Once).await;
        assert_eq!(fire_times(&h), vec![t("2026-05-04T15:00:00Z")]);
        let (h, r, _dir2) = after_downtime(r#"{ cron: "0 * * * *", timezone: UTC }"#, CatchUp::Skip).await;
        assert!(h.started().is_empty());
        assert_eq!(r.skipped[0].count, 5);
    }

    #[tokio::test]
    async fn a_fire_is_skipped_while_the_previous_run_is_still_going() {
        let clock = Arc::new(ManualClock::new(t("2026-05-04T10:00:30Z")));
        let f = flow("minutely", r#"{ cron: "* * * * *", timezone: UTC }"#);
        let h = host(MemoryStore::new(), clock.clone(), vec![f], CatchUp::Skip, true);
        let s = Scheduler::with_host(h.clone());
        s.tick(clock.now()).await.unwrap();

        let r = s.tick(t("2026-05-04T10:01:00Z")).await.unwrap();
        assert_eq!(r.fired.len(), 1);
        let r = s.tick(t("2026-05-04T10:02:00Z")).await.unwrap();
        assert!(r.fired.is_empty());
        assert_eq!(
            r.skipped,
            vec![Skipped {
                flow: "minutely".into(),
                fire_time: t("2026-05-04T10:02:00Z"),
                count: 1,
                reason: SkipReason::Overlap
            }]
        );
        assert_eq!(r.next_wake, Some(t("2026-05-04T10:03:00Z")), "a skipped fire still moves on");
        h.finish("minutely");
        let r = s.tick(t("2026-05-04T10:03:00Z")).await.unwrap();
        assert_eq!(r.fired.len(), 1);
        assert_eq!(fire_times(&h), vec![t("2026-05-04T10:01:00Z"), t("2026-05-04T10:03:00Z")]);
    }

    #[tokio::test]
    async fn overlap_true_fires_while_the_previous_run_is_going() {
        let clock = Arc::new(ManualClock::new(t("2026-05-04T10:00:30Z")));
        let f = flow("minutely", r#"{ cron: "* * * * *", timezone: UTC, overlap: true }"#);
        let h = host(MemoryStore::new(), clock.clone(), vec![f], CatchUp::Skip, true);
        let s = Scheduler::with_host(h.clone());
        s.tick(clock.now()).await.unwrap();
        s.tick(t("2026-05-04T10:01:00Z")).await.unwrap();
        let r = s.tick(t("2026-05-04T10:02:00Z")).await.unwrap();
        assert_eq!(r.fired.len(), 1);
        assert!(h.is_running("minutely"));
    }

    #[tokio::test]
    async fn an_off_flow_skips_its_fires_but_its_next_fire_advances() {
        let clock = Arc::new(ManualClock::new(t("2026-05-04T08:00:00Z")));
        let text = "name: nine\ndescription: a scheduled test flow\nenabled: false\ntrigger:\n  schedule: { cron: \"0 9 * * *\", timezone: UTC }\nsteps:\n  - card: lanyard.echo\n    with: { message: hi }\n";
        let catalog = StaticCatalog::new([CardSummary::new("lanyard.echo").with_version("1.0.0")]);
        let c = lanyard_flow::compile("nine.yaml", text, &catalog);
        let off = Arc::new(c.flow.unwrap_or_else(|| panic!("{:?}", c.diagnostics)));
        assert!(!off.enabled);
        let h = host(MemoryStore::new(), clock.clone(), vec![off], CatchUp::Skip, false);
        let s = Scheduler::with_host(h.clone());
        s.tick(clock.now()).await.unwrap();

        let r = s.tick(t("2026-05-04T09:00:00Z")).await.unwrap();
        assert!(r.fired.is_empty() && h.started().is_empty(), "an off flow starts no run");
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].reason, SkipReason::Off);
        assert_eq!(r.next_wake, Some(t("2026-05-05T09:00:00Z")));
        assert_eq!(h.store().schedule_state("nine").await.unwrap().unwrap().next_fire, t("2026-05-05T09:00:00Z"));

        // Turned on again: the next fire runs, nothing owed from the day it was off.
        h.load(vec![flow("nine", r#"{ cron: "0 9 * * *", timezone: UTC }"#)], t("2026-05-04T09:30:00Z"));
        let r = s.tick(t("2026-05-05T09:00:00Z")).await.unwrap();
        assert_eq!(fire_times(&h), vec![t("2026-05-05T09:00:00Z")]);
        assert_eq!(r.fired[0].missed, 0);
    }

    #[tokio::test]
    async fn the_next_fire_survives_a_restart_and_a_failed_start_is_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t("2026-05-04T08:00:00Z")));
        let f = flow("nine", r#"{ cron: "0 9 * * *", timezone: UTC }"#);
        {
            let h = host(Store::open(dir.path()).unwrap(), clock.clone(), vec![f.clone()], CatchUp::Skip, false);
            Scheduler::with_host(h).tick(clock.now()).await.unwrap();
        }
        // Restarted at 09:00:20 (flows loaded after the fire time): the
        // persisted 09:00 fire is still due and on time.
        clock.set(t("2026-05-04T09:00:20Z"));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schedule_state("nine").await.unwrap().unwrap().next_fire, t("2026-05-04T09:00:00Z"));
        let h = host(store, clock.clone(), vec![f.clone()], CatchUp::Skip, false);
        // The run cannot start (as if the daemon died right after persisting
        // the next fire time): the fire is lost, never repeated.
        *h.fail_starts.lock().unwrap() = true;
        let s = Scheduler::with_host(h.clone());
        let r = s.tick(clock.now()).await.unwrap();
        assert!(matches!(r.skipped[0].reason, SkipReason::StartFailed { .. }));
        *h.fail_starts.lock().unwrap() = false;
        let r = s.tick(clock.now()).await.unwrap();
        assert!(r.fired.is_empty() && r.skipped.is_empty());
        assert_eq!(r.next_wake, Some(t("2026-05-05T09:00:00Z")));
        drop(s);
        drop(h);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schedule_state("nine").await.unwrap().unwrap().next_fire, t("2026-05-05T09:00:00Z"));
    }

    #[tokio::test]
    async fn changed_schedules_are_recomputed_and_removed_ones_forgotten() {
        let clock = Arc::new(ManualClock::new(t("2026-05-04T08:00:00Z")));
        let a = flow("a", r#"{ cron: "0 9 * * *", timezone: UTC }"#);
        let b = flow("b", r#"{ cron: "0 9 * * *", timezone: UTC }"#);
        let h = host(MemoryStore::new(), clock.clone(), vec![a, b], CatchUp::Skip, false);
        let s = Scheduler::with_host(h.clone());
        s.tick(clock.now()).await.unwrap();
        // Reloaded at 08:30: `a` now fires at 09:00 Berlin (07:00 UTC), `b` is gone.
        clock.set(t("2026-05-04T08:30:00Z"));
        h.load(vec![flow("a", r#"{ cron: "0 9 * * *", timezone: Europe/Berlin }"#)], clock.now());
        let r = s.tick(clock.now()).await.unwrap();
        assert_eq!(r.initialized, vec!["a"]);
        assert_eq!(r.forgotten, vec!["b"]);
        assert_eq!(r.next_wake, Some(t("2026-05-05T07:00:00Z")));
        assert!(h.store().schedule_state("b").await.unwrap().is_none());
        // Unchanged on the next reload: the state is kept.
        h.load(vec![flow("a", r#"{ cron: "0 9 * * *", timezone: Europe/Berlin }"#)], clock.now());
        assert!(s.tick(clock.now()).await.unwrap().initialized.is_empty());
    }

    #[tokio::test]
    async fn the_loop_sleeps_until_the_fire_time_and_wakes_on_reload() {
        let clock = Arc::new(ManualClock::new(t("2026-05-04T08:00:00Z")));
        let timer = Arc::new(ManualTimer::new(clock.clone()));
        let h = host(MemoryStore::new(), clock.clone(), vec![], CatchUp::Skip, false);
        let s = Scheduler::with_host(h.clone());
        let (reload_tx, reload_rx) = watch::channel(0u32);
        let (stop, shutdown) = crate::shutdown::channel();
        let mut ticks = s.subscribe_ticks();
        let task = tokio::spawn(s.clone().run_with(timer.clone(), reload_rx, shutdown));
        ticks.wait_for(|r| r.now == t("2026-05-04T08:00:00Z")).await.unwrap();

        // A flow arrives by reload; the loop ticks and learns its next fire.
        h.load(vec![flow("nine", r#"{ cron: "0 9 * * *", timezone: UTC }"#)], clock.now());
        reload_tx.send_replace(1);
        ticks.wait_for(|r| r.initialized == ["nine"]).await.unwrap();
        assert!(h.started().is_empty());

        // Time moves to the fire time: the loop wakes and fires.
        timer.set(t("2026-05-04T09:00:00Z"));
        let r = ticks.wait_for(|r| !r.fired.is_empty()).await.unwrap().clone();
        assert_eq!(r.fired[0].fire_time, t("2026-05-04T09:00:00Z"));
        assert_eq!(r.next_wake, Some(t("2026-05-05T09:00:00Z")));

        stop.trigger();
        task.await.unwrap();
        assert_eq!(fire_times(&h), vec![t("2026-05-04T09:00:00Z")]);
    }

    #[tokio::test]
    async fn run_now_input_looks_like_a_fire() {
        let f = flow("nine", r#"{ cron: "0 9 * * *", timezone: UTC }"#);
        let Trigger::Schedule(s) = &f.trigger else { unreachable!() };
        let now = Utc.with_ymd_and_hms(2026, 5, 4, 12, 0, 0).unwrap();
        let v = run_now_input(s, now);
        assert_eq!(v["fire_time"], "2026-05-04T12:00:00.000Z");
        assert_eq!(v["cron"], "0 9 * * *");
        assert_eq!(v["timezone"], "UTC");
        assert_eq!(v["missed"], 0);
    }
}
