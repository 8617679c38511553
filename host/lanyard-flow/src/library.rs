//! Many flow files at once: what only shows across files.
//!
//! Flow names are unique; every `call` names a loaded helper flow (one with
//! `trigger: flow`) and gives it the inputs it declares; helper flows do not
//! call each other in a cycle. [`validate`] compiles a set of files and reports
//! all of it; [`Library`] holds the flows that passed and serves them to the
//! interpreter as [`FlowLookup`]. Reads no files itself.

use crate::catalog::CardCatalog;
use crate::compile::compile;
use crate::diag::{Diagnostic, render_all, suggestion};
use crate::interp::FlowLookup;
use crate::model::{Flow, Trigger};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One flow file's name (as diagnostics show it) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The outcome of validating a set of flow files.
#[derive(Debug)]
pub struct Validation {
    /// The flows with no errors of their own or across files.
    pub flows: Vec<Arc<Flow>>,
    /// Every problem, file by file in the order given, each file's in place order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics as people read them, with source lines.
    pub fn render(&self, files: &[SourceFile]) -> String {
        render_all(&self.diagnostics, |name| {
            files
                .iter()
                .find(|f| f.path == name)
                .map(|f| f.text.as_str())
        })
    }
}

/// Compile every file and check what spans files.
pub fn validate(files: &[SourceFile], catalog: &dyn CardCatalog) -> Validation {
    let mut diagnostics = Vec::new();
    let mut compiled: Vec<(usize, Flow)> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let c = compile(&f.path, &f.text, catalog);
        diagnostics.extend(c.diagnostics);
        if let Some(flow) = c.flow {
            compiled.push((i, flow));
        }
    }
    // Names of every flow that parsed far enough to have one, for the checks
    // below; flows with errors still count, so one broken file does not make
    // every caller report "unknown helper".
    let mut names: HashMap<String, (usize, bool)> = HashMap::new();
    let mut bad: BTreeSet<String> = BTreeSet::new();
    for (i, flow) in &compiled {
        if let Some((first, _)) = names.get(&flow.name) {
            diagnostics.push(Diagnostic::error(
                "duplicate-flow",
                &files[*i].path,
                flow.name_span,
                format!(
                    "flow name `{}` is already used by {}",
                    flow.name, files[*first].path
                ),
            ));
            bad.insert(flow.name.clone());
            continue;
        }
        names.insert(flow.name.clone(), (*i, flow.is_helper()));
    }
    let by_name: HashMap<&str, &Flow> =
        compiled.iter().map(|(_, f)| (f.name.as_str(), f)).collect();
    for (i, flow) in &compiled {
        for site in &flow.call_sites {
            let file = &files[*i].path;
            let step = Some(site.step.clone());
            let Some(helper) = by_name.get(site.flow.as_str()) else {
                let hint = suggestion(&site.flow, by_name.keys().copied());
                diagnostics.push(
                    Diagnostic::error(
                        "unknown-flow",
                        file,
                        site.span,
                        format!("unknown helper flow `{}`{hint}", site.flow),
                    )
                    .with_step(step),
                );
                bad.insert(flow.name.clone());
                continue;
            };
            let Trigger::Flow(h) = &helper.trigger else {
                diagnostics.push(
                    Diagnostic::error(
                        "not-helper",
                        file,
                        site.span,
                        format!("`{}` is not a helper flow (its trigger is {}); only `trigger: flow` flows can be called", site.flow, helper.trigger.kind()),
                    )
                    .with_step(step),
                );
                bad.insert(flow.name.clone());
                continue;
            };
            let Some(keys) = &site.keys else { continue };
            for (k, span) in keys {
                if !h.inputs.is_empty() && !h.inputs.iter().any(|i| &i.name == k) {
                    let hint = suggestion(k, h.inputs.iter().map(|i| i.name.as_str()));
                    diagnostics.push(
                        Diagnostic::error(
                            "unknown-input",
                            file,
                            *span,
                            format!("helper `{}` has no input `{k}`{hint}", site.flow),
                        )
                        .with_step(step.clone()),
                    );
                    bad.insert(flow.name.clone());
                }
            }
            for input in h.inputs.iter().filter(|i| i.required) {
                if !keys.iter().any(|(k, _)| k == &input.name) {
                    diagnostics.push(
                        Diagnostic::error(
                            "missing-input",
                            file,
                            site.with_span,
                            format!("helper `{}` needs input `{}`", site.flow, input.name),
                        )
                        .with_step(step.clone()),
                    );
                    bad.insert(flow.name.clone());
                }
            }
        }
    }
    for cycle in cycles(&by_name) {
        let first = cycle[0];
        let Some(flow) = by_name.get(first) else {
            continue;
        };
        let Some(site) = flow.call_sites.iter().find(|s| s.flow == cycle[1]) else {
            continue;
        };
        let file = names
            .get(first)
            .map(|(i, _)| files[*i].path.as_str())
            .unwrap_or_default();
        diagnostics.push(
            Diagnostic::error(
                "helper-cycle",
                file,
                site.span,
                format!(
                    "helper flows call each other in a cycle: {}",
                    cycle.join(" → ")
                ),
            )
            .with_step(Some(site.step.clone())),
        );
        for name in &cycle {
            bad.insert(name.to_string());
        }
    }
    // File by file in the order given, each in place order.
    let order: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    diagnostics.sort_by_key(|d| {
        (
            order.get(d.file.as_str()).copied().unwrap_or(usize::MAX),
            d.span.start,
        )
    });
    let flows = compiled
        .into_iter()
        .filter(|(_, f)| !bad.contains(&f.name))
        .map(|(_, f)| Arc::new(f))
        .collect();
    Validation { flows, diagnostics }
}

/// Each cycle in the call graph once, as names ending where they began.
fn cycles<'a>(by_name: &HashMap<&'a str, &'a Flow>) -> Vec<Vec<&'a str>> {
    let mut names: Vec<&'a str> = by_name.keys().copied().collect();
    names.sort();
    let mut seen: BTreeSet<Vec<&'a str>> = BTreeSet::new();
    let mut out = Vec::new();
    // Flows are few (tens), so a depth-first search from each is plenty.
    for start in &names {
        let mut stack: Vec<(&'a str, Vec<&'a str>)> = vec![(start, vec![start])];
        while let Some((at, trail)) = stack.pop() {
            let Some(flow) = by_name.get(at) else {
                continue;
            };
            let mut callees: Vec<&str> = flow.calls().collect();
            callees.sort();
            callees.dedup();
            for next in callees {
                let Some((&next, _)) = by_name.get_key_value(next) else {
                    continue;
                };
                if next == *start {
                    let mut cycle = trail.clone();
                    let mut key = cycle.clone();
                    key.sort();
                    if seen.insert(key) {
                        cycle.push(next);
                        out.push(cycle);
                    }
                } else if !trail.contains(&next) && trail.len() < 64 {
                    let mut t = trail.clone();
                    t.push(next);
                    stack.push((next, t));
                }
            }
        }
    }
    out
}

/// The loaded flows, by name.
#[derive(Debug, Default, Clone)]
pub struct Library {
    by_name: HashMap<String, Arc<Flow>>,
}

impl Library {
    pub fn new(flows: impl IntoIterator<Item = Arc<Flow>>) -> Self {
        Library {
            by_name: flows.into_iter().map(|f| (f.name.clone(), f)).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Flow>> {
        self.by_name.get(name)
    }

    pub fn flows(&self) -> impl Iterator<Item = &Arc<Flow>> {
        self.by_name.values()
    }
}

impl FlowLookup for Library {
    fn helper(&self, name: &str) -> Option<Arc<Flow>> {
        self.by_name.get(name).filter(|f| f.is_helper()).cloned()
    }
}
