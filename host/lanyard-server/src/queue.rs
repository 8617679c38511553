//! The run queue: bounded, in memory, with one lane per subject.
//!
//! Runs about the same subject (the user an event targets) execute one at a
//! time, earliest `published` first; runs about different subjects (and runs
//! with no subject: API, schedules) run concurrently, as many as there are
//! workers. A subject's lane is scheduled as one item: the worker that picks it
//! takes the lane's earliest run at that moment, so a run that arrives late but
//! was published earlier still goes first if the lane has not reached it.
//!
//! The queue is only a cache of the store: every run in it is also `queued` in
//! the store, and crash recovery rebuilds the queue from there. One mutex, held
//! for O(log n) work per operation.

use chrono::{DateTime, Utc};
use lanyard_core::history::RunRecord;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Notify};

use crate::flows::FlowSet;
use lanyard_flow::model::Flow;

/// One run waiting for a worker.
pub struct RunTask {
    pub run: RunRecord,
    /// The flow and snapshot it was created for; `None` for a recovered run
    /// (looked up when it starts).
    pub flow: Option<(Arc<Flow>, Arc<FlowSet>)>,
    /// Consult the journal (a run that was interrupted).
    pub resume: bool,
    /// The ordering key within its subject: the event's `published`.
    pub published: DateTime<Utc>,
    /// Ties and subject-less order: arrival.
    pub order: u64,
    /// Told when the run ends (a synchronous invoke waits on it).
    pub done: Option<oneshot::Sender<RunRecord>>,
    /// Steps go here as well (`lanyard run`).
    pub observer: Option<tokio::sync::mpsc::UnboundedSender<lanyard_core::history::StepRecord>>,
}

struct Laned(RunTask);

impl PartialEq for Laned {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Laned {}
impl PartialOrd for Laned {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Laned {
    // BinaryHeap is a max-heap: the earliest (published, order) is the greatest.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.0.published, other.0.order).cmp(&(self.0.published, self.0.order))
    }
}

enum Ready {
    Task(RunTask),
    Lane(String),
}

#[derive(Default)]
struct State {
    ready: VecDeque<Ready>,
    lanes: HashMap<String, BinaryHeap<Laned>>,
    /// Runs waiting (not running).
    len: usize,
}

/// The queue is at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

pub struct RunQueue {
    state: Mutex<State>,
    available: Notify,
    space: Notify,
    capacity: usize,
}

impl RunQueue {
    pub fn new(capacity: usize) -> Self {
        RunQueue {
            state: Mutex::new(State::default()),
            available: Notify::new(),
            space: Notify::new(),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs waiting for a worker.
    pub fn len(&self) -> usize {
        self.lock().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether there is room for one more run.
    pub fn has_room(&self) -> bool {
        self.len() < self.capacity
    }

    /// Add a run unless the queue is full.
    pub fn try_push(&self, task: RunTask) -> Result<(), (QueueFull, Box<RunTask>)> {
        let mut s = self.lock();
        if s.len >= self.capacity {
            return Err((QueueFull, Box::new(task)));
        }
        Self::insert(&mut s, task);
        drop(s);
        self.available.notify_one();
        Ok(())
    }

    /// Add a run even past capacity (recovery, and runs the dispatcher has
    /// already made durable: it waits for room before it reads more events).
    pub fn push(&self, task: RunTask) {
        let mut s = self.lock();
        Self::insert(&mut s, task);
        drop(s);
        self.available.notify_one();
    }

    fn insert(s: &mut State, task: RunTask) {
        s.len += 1;
        match task.run.subject.clone() {
            // A lane in `lanes` is ready or running already: wait in it.
            Some(subject) => match s.lanes.get_mut(&subject) {
                Some(lane) => lane.push(Laned(task)),
                None => {
                    let mut lane = BinaryHeap::new();
                    lane.push(Laned(task));
                    s.lanes.insert(subject.clone(), lane);
                    s.ready.push_back(Ready::Lane(subject));
                }
            },
            None => s.ready.push_back(Ready::Task(task)),
        }
    }

    /// The next run to execute, if one is ready.
    pub fn try_pop(&self) -> Option<RunTask> {
        let mut s = self.lock();
        while let Some(item) = s.ready.pop_front() {
            // A lane is in `lanes` exactly while it is ready or running; one
            // emptied by `remove` before a worker reached it goes here.
            let task = match item {
                Ready::Task(t) => Some(t),
                Ready::Lane(subject) => match s.lanes.get_mut(&subject).and_then(|l| l.pop()) {
                    Some(l) => Some(l.0),
                    None => {
                        s.lanes.remove(&subject);
                        None
                    }
                },
            };
            if let Some(t) = task {
                s.len -= 1;
                drop(s);
                self.space.notify_waiters();
                return Some(t);
            }
        }
        None
    }

    /// Wait for the next run; `None` once `stop` resolves.
    pub async fn next(&self, stop: &crate::shutdown::Shutdown) -> Option<RunTask> {
        loop {
            let notified = self.available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if stop.is_triggered() {
                return None;
            }
            if let Some(t) = self.try_pop() {
                // Others may be ready too.
                if !self.lock().ready.is_empty() {
                    self.available.notify_one();
                }
                return Some(t);
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = stop.wait() => return None,
            }
        }
    }

    /// A run of `subject` finished: its lane's next run (if any) becomes ready.
    pub fn done(&self, subject: Option<&str>) {
        let Some(subject) = subject else { return };
        let mut s = self.lock();
        let empty = s.lanes.get(subject).is_none_or(BinaryHeap::is_empty);
        if empty {
            s.lanes.remove(subject);
        } else {
            s.ready.push_back(Ready::Lane(subject.to_string()));
            drop(s);
            self.available.notify_one();
        }
    }

    /// Take a waiting run out (an operator cancelled it).
    pub fn remove(&self, run_id: &str) -> Option<RunTask> {
        let mut s = self.lock();
        let mut found = None;
        if let Some(pos) = s.ready.iter().position(|r| matches!(r, Ready::Task(t) if t.run.id == run_id)) {
            if let Some(Ready::Task(t)) = s.ready.remove(pos) {
                found = Some(t);
            }
        } else {
            for lane in s.lanes.values_mut() {
                if lane.iter().any(|l| l.0.run.id == run_id) {
                    let items: Vec<Laned> = std::mem::take(lane).into_vec();
                    for l in items {
                        if l.0.run.id == run_id {
                            found = Some(l.0);
                        } else {
                            lane.push(l);
                        }
                    }
                    break;
                }
            }
        }
        if found.is_some() {
            s.len -= 1;
        }
        found
    }

    /// Until there is room (the dispatcher's backpressure), or `stop`.
    pub async fn wait_for_room(&self, stop: &crate::shutdown::Shutdown) {
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.has_room() || stop.is_triggered() {
                return;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = stop.wait() => return,
            }
        }
    }

    /// Every waiting run's id (for tests and the admin API).
    pub fn waiting_ids(&self) -> Vec<String> {
        let s = self.lock();
        let mut out: Vec<String> = s
            .ready
            .iter()
            .filter_map(|r| match r {
                Ready::Task(t) => Some(t.run.id.clone()),
                Ready::Lane(_) => None,
            })
            .collect();
        for lane in s.lanes.values() {
            out.extend(lane.iter().map(|l| l.0.run.id.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use lanyard_core::history::{RunStatus, TriggerInfo};

    fn task(id: &str, subject: Option<&str>, published_s: i64, order: u64) -> RunTask {
        RunTask {
            run: RunRecord {
                id: id.into(),
                flow: "f".into(),
                flow_digest: String::new(),
                trigger: TriggerInfo::Api,
                input: serde_json::Value::Null,
                status: RunStatus::Queued,
                created: Utc::now(),
                started: None,
                ended: None,
                output: None,
                error: None,
                reason: None,
                subject: subject.map(str::to_string),
                dry_run: false,
                wait: None,
            },
            flow: None,
            resume: false,
            published: Utc.timestamp_opt(published_s, 0).unwrap(),
            order,
            done: None,
            observer: None,
        }
    }

    #[test]
    fn one_subject_runs_one_at_a_time_in_published_order() {
        let q = RunQueue::new(100);
        q.push(task("late", Some("u1"), 20, 1));
        q.push(task("other", Some("u2"), 5, 2));
        q.push(task("early", Some("u1"), 10, 3));
        q.push(task("api", None, 0, 4));
        let first = q.try_pop().unwrap();
        assert_eq!(first.run.id, "early");
        assert_eq!(q.try_pop().unwrap().run.id, "other");
        assert_eq!(q.try_pop().unwrap().run.id, "api");
        // u1's next run waits until `early` is done.
        assert!(q.try_pop().is_none());
        q.done(Some("u1"));
        assert_eq!(q.try_pop().unwrap().run.id, "late");
        q.done(Some("u1"));
        q.done(Some("u2"));
        assert!(q.is_empty());
    }

    #[test]
    fn capacity_and_removal() {
        let q = RunQueue::new(2);
        assert!(q.try_push(task("a", None, 0, 1)).is_ok());
        assert!(q.try_push(task("b", Some("s"), 0, 2)).is_ok());
        assert!(q.try_push(task("c", None, 0, 3)).is_err());
        assert_eq!(q.remove("b").unwrap().run.id, "b");
        assert_eq!(q.len(), 1);
        assert_eq!(q.try_pop().unwrap().run.id, "a");
        assert!(q.try_pop().is_none());
    }
}
