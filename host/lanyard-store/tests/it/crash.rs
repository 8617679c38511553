//! A real crash: a child process writes through the store and is killed with
//! SIGKILL mid-stream; what it reported as acknowledged must all be there.

use crate::support::{event, run_for_event, step};
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_store::{EventInbox, RunFilter, RunStore, Store};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "LANYARD_STORE_CRASH_CHILD";
const TEST_NAME: &str = "crash::nothing_acknowledged_is_lost_when_the_process_is_killed";

#[test]
fn nothing_acknowledged_is_lost_when_the_process_is_killed() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut dispatched: HashMap<String, Vec<String>> = HashMap::new();
    let mut stepped: HashMap<String, usize> = HashMap::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 400 {
        let line = lines.next().expect("the child stopped early").unwrap();
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["acked", uuid] => acked.push(uuid.to_string()),
            ["dispatched", uuid, a, b] => {
                dispatched.insert(uuid.to_string(), vec![a.to_string(), b.to_string()]);
            }
            ["stepped", run, n] => {
                stepped.insert(run.to_string(), n.parse().unwrap());
            }
            _ => {} // the test harness's own output
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no final flush
    child.wait().unwrap();
    assert!(!dispatched.is_empty() && !stepped.is_empty());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(dir.path()).unwrap();
        let pending: HashSet<String> = store
            .undispatched(None, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.uuid)
            .collect();
        let mut runs_of: HashMap<String, Vec<String>> = HashMap::new();
        let mut cursor = None;
        loop {
            let page = store
                .list_runs(&RunFilter {
                    limit: Some(1000),
                    cursor,
                    ..Default::default()
                })
                .await
                .unwrap();
            for r in page.runs {
                let TriggerInfo::Okta { event_uuid, .. } = &r.trigger else {
                    panic!()
                };
                runs_of.entry(event_uuid.clone()).or_default().push(r.id);
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        // Every acknowledged event is there: waiting, or dispatched with its runs.
        for uuid in &acked {
            assert!(
                pending.contains(uuid) || runs_of.contains_key(uuid),
                "acknowledged event {uuid} was lost"
            );
        }
        // Dispatch is all or nothing: never dispatched without both runs, never twice.
        for (uuid, runs) in &runs_of {
            assert_eq!(runs.len(), 2, "event {uuid} has runs {runs:?}");
            assert!(
                !pending.contains(uuid),
                "event {uuid} has runs but is still waiting"
            );
        }
        for (uuid, runs) in &dispatched {
            let mut want = runs.clone();
            want.sort();
            let mut got = runs_of.get(uuid).cloned().unwrap_or_default();
            got.sort();
            assert_eq!(got, want, "dispatched event {uuid} after its sync");
        }
        for (run, n) in &stepped {
            assert!(
                store.steps(run).await.unwrap().len() >= *n,
                "run {run} lost durable steps"
            );
        }
        // Dedupe memory survived too.
        let again = store
            .accept(acked.iter().map(|u| event(u, "00u1")).collect(), "hook")
            .await
            .unwrap();
        assert!(again.iter().all(|a| !a.new));
    });
}

/// Accept, dispatch and journal from 8 tasks until killed, reporting on stdout
/// what has been made durable.
fn child(dir: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(dir).unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..100_000 {
                        let uuid = format!("ev-{task}-{i}");
                        let ev = event(&uuid, &format!("00u{task}"));
                        store.accept(vec![ev.clone()], "hook").await.unwrap();
                        println!("acked {uuid}");
                        let now = chrono::Utc::now();
                        let runs = vec![
                            run_for_event(&ev, "offboarding", now),
                            run_for_event(&ev, "audit", now),
                        ];
                        let ids: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
                        store.dispatch(&uuid, &runs).await.unwrap();
                        store
                            .set_status(&ids[0], RunStatus::Running, now)
                            .await
                            .unwrap();
                        store
                            .record_step_durable(&step(&ids[0], "user"))
                            .await
                            .unwrap();
                        println!("dispatched {uuid} {} {}", ids[0], ids[1]);
                        println!("stepped {} 1", ids[0]);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}
