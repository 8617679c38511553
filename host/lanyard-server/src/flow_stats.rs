//! What the Flows page shows of each flow's runs, kept by the daemon: the
//! last run that ended, and how many runs created in the last 24 hours (to
//! the hour) ended with each status. Runs update it as they end; the first
//! request seeds it once from the store (at most [`SEED_LIMIT`] runs a flow),
//! so a console no longer downloads a day of runs every few seconds to count
//! them.
//!
//! A run is in the store as ended a moment before it is counted (the end is
//! written and synced first), and the seed may read it in between. So the
//! runner says a run is `ending` before it writes the end: the seed leaves
//! such runs to [`FlowStats::ended`]. Runs that end while the seed reads the
//! store wait in `pending` (bounded) and are added once it is done, unless
//! the seed counted them.

use chrono::{DateTime, Duration, Utc};
use lanyard_core::history::{RunRecord, RunStatus};
use lanyard_store::{RunFilter, SharedStore};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The most runs of one flow the seed reads.
pub const SEED_LIMIT: usize = 10_000;
/// The most runs that may end while the seed runs and still be counted.
const MAX_PENDING: usize = 10_000;
const PAGE: usize = 1000;

/// One flow's numbers, as `GET /api/v1/flows` shows them (`stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowRunStats {
    /// The newest run that ended.
    pub last_run: Option<LastRun>,
    /// Runs created in the last 24 hours (to the hour), by how they ended.
    pub last_24h: BTreeMap<RunStatus, u64>,
    /// The seed stopped at [`SEED_LIMIT`] runs: there were more.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    pub id: String,
    pub status: RunStatus,
    pub created: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
struct PerFlow {
    last: Option<LastRun>,
    /// Hour (seconds since the epoch / 3600) of creation → counts.
    hours: BTreeMap<i64, BTreeMap<RunStatus, u64>>,
    more: bool,
}

impl PerFlow {
    fn add(&mut self, run: &RunRecord) {
        *self.hours.entry(hour(run.created)).or_default().entry(run.status).or_default() += 1;
        if self.last.as_ref().is_none_or(|l| l.created <= run.created) {
            self.last = Some(LastRun { id: run.id.clone(), status: run.status, created: run.created, ended: run.ended });
        }
    }

    fn view(&self, now: DateTime<Utc>) -> FlowRunStats {
        let from = hour(now) - 23;
        let mut last_24h = BTreeMap::new();
        for counts in self.hours.range(from..).map(|(_, c)| c) {
            for (s, n) in counts {
                *last_24h.entry(*s).or_default() += n;
            }
        }
        FlowRunStats { last_run: self.last.clone(), last_24h, more: self.more }
    }
}

fn hour(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(3600)
}

#[derive(Debug, Default)]
struct State {
    seeded: bool,
    flows: HashMap<String, PerFlow>,
    pending: Vec<Arc<RunRecord>>,
    /// Runs whose end is being written: counted by `ended`, not the seed.
    /// As many as runs end at once.
    ending: HashSet<String>,
}

/// The daemon's numbers for every flow. Cheap to share.
#[derive(Debug, Default)]
pub struct FlowStats {
    state: Mutex<State>,
    seed: OnceCell<()>,
}

impl FlowStats {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A run's end is about to be written to the store; [`FlowStats::ended`]
    /// follows (or [`FlowStats::not_ending`], if it was not written).
    pub fn ending(&self, id: &str) {
        self.state().ending.insert(id.to_string());
    }

    /// The end [`FlowStats::ending`] announced was not written after all.
    pub fn not_ending(&self, id: &str) {
        self.state().ending.remove(id);
    }

    /// A run ended.
    pub fn ended(&self, run: &Arc<RunRecord>) {
        let mut s = self.state();
        s.ending.remove(&run.id);
        if s.seeded {
            s.flows.entry(run.flow.clone()).or_default().add(run);
        } else if s.pending.len() < MAX_PENDING {
            s.pending.push(run.clone());
        }
    }

    /// The numbers of `flows` at `now`, seeding them from the store first
    /// if no request has yet. A store that cannot be read leaves them
    /// unseeded (the next request tries again) and answers the error.
    pub async fn of(&self, store: &SharedStore, flows: &[String], now: DateTime<Utc>) -> Result<HashMap<String, FlowRunStats>, String> {
        self.seed.get_or_try_init(|| self.seed_from(store, flows, now)).await?;
        let s = self.state();
        Ok(flows
            .iter()
            .map(|f| (f.clone(), s.flows.get(f).map(|p| p.view(now)).unwrap_or_default()))
            .collect())
    }

    async fn seed_from(&self, store: &SharedStore, flows: &[String], now: DateTime<Utc>) -> Result<(), String> {
        let since = now - Duration::hours(24);
        let mut seeded: HashMap<String, PerFlow> = HashMap::new();
        let mut counted = HashSet::new();
        for flow in flows {
            let per = seeded.entry(flow.clone()).or_default();
            let mut cursor = None;
            let mut read = 0;
            loop {
                let filter = RunFilter { flow: Some(flow.clone()), since: Some(since), limit: Some(PAGE), cursor, ..RunFilter::default() };
                let page = store.list_runs(&filter).await.map_err(|e| format!("cannot read the runs of {flow}: {e}"))?;
                let ending = self.state().ending.clone();
                for run in page.runs.iter().filter(|r| r.status.is_final() && !ending.contains(&r.id)) {
                    counted.insert(run.id.clone());
                    per.add(run);
                }
                read += page.runs.len();
                match page.next_cursor {
                    Some(next) if read < SEED_LIMIT => cursor = Some(next),
                    Some(_) => {
                        per.more = true;
                        break;
                    }
                    None => break,
                }
            }
            if per.last.is_none() {
                // Nothing in the last day: the newest run that ended before.
                let older = RunFilter { flow: Some(flow.clone()), limit: Some(20), ..RunFilter::default() };
                let page = store.list_runs(&older).await.map_err(|e| format!("cannot read the runs of {flow}: {e}"))?;
                if let Some(run) = page.runs.iter().find(|r| r.status.is_final()) {
                    per.last = Some(LastRun { id: run.id.clone(), status: run.status, created: run.created, ended: run.ended });
                }
            }
        }
        let mut s = self.state();
        for run in std::mem::take(&mut s.pending) {
            if !counted.contains(&run.id) {
                seeded.entry(run.flow.clone()).or_default().add(&run);
            }
        }
        s.flows = seeded;
        s.seeded = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard_store::memory::MemoryStore;
    use lanyard_core::history::TriggerInfo;
    use serde_json::json;

    fn run(flow: &str, status: RunStatus, created: DateTime<Utc>) -> RunRecord {
        RunRecord {
            id: lanyard_store::new_run_id(created),
            flow: flow.into(),
            flow_digest: "d".into(),
            trigger: TriggerInfo::Manual,
            input: json!({}),
            status,
            created,
            started: Some(created),
            ended: Some(created + Duration::seconds(1)),
            output: None,
            error: None,
            reason: None,
            subject: None,
            dry_run: false,
            wait: None,
        }
    }

    #[tokio::test]
    async fn seeded_once_from_the_store_then_kept_as_runs_end() {
        let store = MemoryStore::new().shared();
        let now: DateTime<Utc> = "2026-12-06T12:30:00Z".parse().unwrap();
        let old = run("a", RunStatus::Failed, now - Duration::hours(30));
        let recent = run("a", RunStatus::Succeeded, now - Duration::hours(2));
        for r in [&old, &recent] {
            store.create_run(r).await.unwrap();
        }
        let stats = FlowStats::default();
        // Ends while nothing asked yet: kept for the seed (and not twice).
        stats.ended(&Arc::new(recent.clone()));
        let late = run("a", RunStatus::Failed, now - Duration::minutes(5));
        stats.ended(&Arc::new(late.clone()));

        let flows = vec!["a".to_string(), "b".to_string()];
        let got = stats.of(&store, &flows, now).await.unwrap();
        assert_eq!(got["a"].last_24h, BTreeMap::from([(RunStatus::Succeeded, 1), (RunStatus::Failed, 1)]));
        assert_eq!(got["a"].last_run.as_ref().unwrap().id, late.id);
        assert_eq!(got["b"], FlowRunStats::default());

        // Then every run that ends counts, and a day later it is gone.
        stats.ended(&Arc::new(run("b", RunStatus::Stopped, now)));
        let got = stats.of(&store, &flows, now).await.unwrap();
        assert_eq!(got["b"].last_24h, BTreeMap::from([(RunStatus::Stopped, 1)]));
        let tomorrow = stats.of(&store, &flows, now + Duration::hours(25)).await.unwrap();
        assert!(tomorrow["a"].last_24h.is_empty() && tomorrow["b"].last_24h.is_empty());
        assert_eq!(tomorrow["b"].last_run.as_ref().unwrap().status, RunStatus::Stopped);
    }

    /// The end is written, the seed reads it, then the runner says it
    /// ended: counted once (the seed leaves a run that is `ending` alone).
    #[tokio::test]
    async fn a_run_the_seed_reads_while_its_end_is_being_told_counts_once() {
        let store = MemoryStore::new().shared();
        let now: DateTime<Utc> = "2026-12-06T12:30:00Z".parse().unwrap();
        let done = run("a", RunStatus::Succeeded, now - Duration::minutes(1));
        let stats = FlowStats::default();
        stats.ending(&done.id);
        store.create_run(&done).await.unwrap();
        let flows = vec!["a".to_string()];
        let seeded = stats.of(&store, &flows, now).await.unwrap();
        assert!(seeded["a"].last_24h.is_empty(), "the runner counts it: {seeded:?}");
        stats.ended(&Arc::new(done.clone()));
        let got = stats.of(&store, &flows, now).await.unwrap();
        assert_eq!(got["a"].last_24h, BTreeMap::from([(RunStatus::Succeeded, 1)]));
        assert_eq!(got["a"].last_run.as_ref().unwrap().id, done.id);
    }

    #[tokio::test]
    async fn a_flow_quiet_for_a_day_shows_its_last_run() {
        let store = MemoryStore::new().shared();
        let now: DateTime<Utc> = "2026-12-06T12:30:00Z".parse().unwrap();
        let old = run("a", RunStatus::Failed, now - Duration::days(3));
        store.create_run(&old).await.unwrap();
        let got = FlowStats::default().of(&store, &["a".to_string()], now).await.unwrap();
        assert!(got["a"].last_24h.is_empty());
        assert_eq!(got["a"].last_run.as_ref().unwrap().id, old.id);
    }
}
