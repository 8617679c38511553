//! The loaded flow set: one immutable snapshot of the flows (and the cards they
//! were validated against), swapped whole on reload.
//!
//! Runs hold the snapshot they started with, so a reload never changes a run
//! in flight. Loading reads every `*.yaml` / `*.yml` file under the flows
//! directory (recursively, skipping hidden entries) and validates them as one
//! set; any error rejects the whole set (the caller keeps the old one).
//! This module knows nothing of HTTP or the store.

use crate::card_set::{CardSet, Invoker};
use chrono::{DateTime, Utc};
use lanyard_flow::interp::FlowLookup;
use lanyard_flow::model::{Flow, OktaTrigger, Schedule, Trigger};
use lanyard_flow::{Diagnostic, Library, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most flow files one flows directory may hold.
pub const MAX_FLOW_FILES: usize = 2000;
/// The largest flow file read.
pub const MAX_FLOW_FILE_BYTES: u64 = 1 << 20;

/// One loaded set of flows.
pub struct FlowSet {
    library: Library,
    /// The cards the flows were validated against, and what runs call them with.
    pub invoker: Arc<Invoker>,
    /// Okta-triggered flows by event type.
    okta: HashMap<String, Vec<Arc<Flow>>>,
    /// Counts up with every successful load.
    pub generation: u64,
    pub loaded_at: DateTime<Utc>,
    /// Warnings of the validation that produced this set.
    pub warnings: Vec<Diagnostic>,
    names: Vec<String>,
}

impl std::fmt::Debug for FlowSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowSet")
            .field("generation", &self.generation)
            .field("flows", &self.names)
            .finish_non_exhaustive()
    }
}

impl FlowSet {
    pub fn new(flows: Vec<Arc<Flow>>, invoker: Arc<Invoker>, generation: u64, loaded_at: DateTime<Utc>, warnings: Vec<Diagnostic>) -> Self {
        let mut okta: HashMap<String, Vec<Arc<Flow>>> = HashMap::new();
        let mut names: Vec<String> = flows.iter().map(|f| f.name.clone()).collect();
        names.sort();
        for f in &flows {
            if let Trigger::Okta(t) = &f.trigger {
                for ty in &t.event_types {
                    okta.entry(ty.clone()).or_default().push(f.clone());
                }
            }
        }
        for v in okta.values_mut() {
            v.sort_by(|a, b| a.name.cmp(&b.name));
        }
        FlowSet {
            library: Library::new(flows),
            invoker,
            okta,
            generation,
            loaded_at,
            warnings,
            names,
        }
    }

    /// An empty set (before the first load).
    pub fn empty(invoker: Arc<Invoker>) -> Self {
        Self::new(Vec::new(), invoker, 0, Utc::now(), Vec::new())
    }

    /// The cards the flows were validated against.
    pub fn cards(&self) -> &Arc<CardSet> {
        &self.invoker.cards
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Flow>> {
        self.library.get(name)
    }

    /// Every flow, by name.
    pub fn flows(&self) -> impl Iterator<Item = &Arc<Flow>> {
        self.names.iter().filter_map(|n| self.library.get(n))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Flows with a `schedule` trigger (for the scheduler).
    pub fn schedules(&self) -> impl Iterator<Item = (&Arc<Flow>, &Schedule)> {
        self.flows().filter_map(|f| match &f.trigger {
            Trigger::Schedule(s) => Some((f, s.as_ref())),
            _ => None,
        })
    }

    /// Flows an Okta event of this type may start, with their triggers.
    pub fn okta_flows(&self, event_type: &str) -> impl Iterator<Item = (&Arc<Flow>, &OktaTrigger)> {
        self.okta.get(event_type).into_iter().flatten().filter_map(|f| match &f.trigger {
            Trigger::Okta(t) => Some((f, t)),
            _ => None,
        })
    }

    /// Every event type some flow listens to (for registering Event Hooks).
    pub fn okta_event_types(&self) -> Vec<String> {
        let mut v: Vec<String> = self.okta.keys().cloned().collect();
        v.sort();
        v
    }

    pub fn library(&self) -> &Library {
        &self.library
    }
}

impl FlowLookup for FlowSet {
    fn helper(&self, name: &str) -> Option<Arc<Flow>> {
        self.library.helper(name)
    }
}

/// The flow files under a directory, sorted by path (not those of its
/// [`LIBRARY_DIR`]).
pub fn read_flow_files(dir: &Path) -> Result<Vec<SourceFile>, String> {
    let paths = flow_paths(dir).map_err(|e| format!("cannot read the flows directory {}: {e}", dir.display()))?;
    if paths.len() > MAX_FLOW_FILES {
        return Err(format!(
            "the flows directory {} holds {} flow files; at most {MAX_FLOW_FILES}",
            dir.display(),
            paths.len()
        ));
    }
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        files.push(read_flow_file(&p)?);
    }
    Ok(files)
}

/// One flow file, size-checked.
pub fn read_flow_file(p: &Path) -> Result<SourceFile, String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if meta.len() > MAX_FLOW_FILE_BYTES {
        return Err(format!("{} is {} bytes; a flow file is at most {MAX_FLOW_FILE_BYTES}", p.display(), meta.len()));
    }
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    Ok(SourceFile::new(p.display().to_string(), text))
}

/// The folder directly under a flows folder that is never loaded: the
/// repository keeps its flow library there (`flows/library/`, embedded in the
/// daemon and imported from the console), so the demo, which runs `flows/`,
/// runs the five seed flows and not the library's.
pub const LIBRARY_DIR: &str = "library";

/// The paths of the flow files a flows folder holds, sorted: every `*.yaml`
/// and `*.yml` under it (8 folders deep at most), hidden names and its
/// [`LIBRARY_DIR`] skipped. What the daemon loads, and `lanyard validate` checks.
pub fn flow_paths(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    collect(dir, &mut paths, 0)?;
    paths.sort();
    Ok(paths)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 8 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() && depth == 0 && name == LIBRARY_DIR {
            // The flow library's flows are imported from the console, not run.
            continue;
        }
        if ty.is_dir() {
            collect(&path, out, depth + 1)?;
        } else if is_flow_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether a path names a flow file (`.yaml` or `.yml`).
pub fn is_flow_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// A failed load (the admin API shows it as `lanyard_core::admin_api::LoadError`).
#[derive(Debug, Clone)]
pub struct LoadError {
    pub at: DateTime<Utc>,
    /// One line.
    pub message: String,
    /// Every diagnostic, as JSON.
    pub diagnostics: Vec<Diagnostic>,
    /// The diagnostics rendered for people (with source lines).
    pub rendered: String,
}
