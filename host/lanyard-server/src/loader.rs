//! Loading a flow set: the card registry and every flow file read, validated
//! as one set against the cards, and built into a [`FlowSet`] — or refused
//! whole, with every diagnostic. [`FlowSet::load`] owns it; the engine only
//! swaps the result in (a reload) or shows it (a draft check).

use crate::card_set::{load_builtins, CardSet, Invoker};
use crate::config::Config;
use crate::flows::{read_flow_file, read_flow_files, FlowSet, LoadError};
use crate::orgs::Orgs;
use lanyard_core::Clock;
use lanyard_flow::{Diagnostic, SourceFile};
use lanyard_runtime::{Capabilities, LoadedCard, Runtime};
use lanyard_store::SharedStore;
use std::path::PathBuf;
use std::sync::Arc;

/// What a flow set is loaded from, and with.
pub(crate) struct FlowSources {
    pub config: Arc<Config>,
    /// The daemon: an error in any flow refuses the set, the flows directory
    /// must exist and `[error_flow]` must name a loaded flow. Not strict
    /// (`lanyard run`): broken flows the run does not need are warnings.
    pub strict: bool,
    /// One more flow file (`lanyard run path.yaml`); it wins over a flow of the same name.
    pub extra_flow: Option<PathBuf>,
    pub store: SharedStore,
    pub runtime: Runtime,
    pub caps: Capabilities,
    pub orgs: Arc<Orgs>,
    pub clock: Arc<dyn Clock>,
    /// The built-in cards, loaded at the first load.
    pub loaded_builtins: tokio::sync::OnceCell<Arc<Vec<Arc<LoadedCard>>>>,
}

impl FlowSources {
    async fn builtins(&self) -> Arc<Vec<Arc<LoadedCard>>> {
        self.loaded_builtins
            .get_or_init(|| async {
                let rt = self.runtime.clone();
                let started = std::time::Instant::now();
                let (cards, errors) = tokio::task::spawn_blocking(move || load_builtins(&rt))
                    .await
                    .unwrap_or_else(|e| (Vec::new(), vec![format!("loading the built-in cards failed: {e}")]));
                for e in &errors {
                    tracing::error!(error = %e, "a built-in card does not load");
                }
                let stats = self.runtime.stats();
                tracing::info!(
                    cards = cards.len(),
                    compiled = stats.compiled,
                    from_cache = stats.cache_hits,
                    ms = started.elapsed().as_millis() as u64,
                    "built-in cards loaded"
                );
                Arc::new(cards)
            })
            .await
            .clone()
    }

}

impl FlowSet {
    /// Load the set from `sources` (with `draft` in place of, or besides, the
    /// file at its path): the set and the digest of the files it was read
    /// from, and every diagnostic of the validation. `previous` is the set in
    /// use (its generation is counted on; cards marked broken stay broken).
    pub(crate) async fn load(
        sources: &FlowSources,
        previous: &FlowSet,
        draft: Option<SourceFile>,
    ) -> (Result<(FlowSet, String), LoadError>, Vec<Diagnostic>) {
        let mut all = Vec::new();
        let result = Self::load_into(sources, previous, draft, &mut all).await;
        (result, all)
    }

    async fn load_into(sources: &FlowSources, previous: &FlowSet, draft: Option<SourceFile>, all: &mut Vec<Diagnostic>) -> Result<(FlowSet, String), LoadError> {
        let now = sources.clock.now();
        let fail = |message: String| LoadError {
            at: now,
            rendered: message.clone(),
            message,
            diagnostics: Vec::new(),
        };
        let strict = sources.strict;
        let builtins = sources.builtins().await;
        let registry = sources
            .store
            .list_cards()
            .await
            .map_err(|e| fail(format!("cannot read the card registry: {e}")))?;
        // Cards marked broken stay broken across reloads (`crate::card_set`).
        let health = previous.cards().health().clone();
        let cards = Arc::new(
            CardSet::build(&builtins, registry, &sources.config.card_grants)
                .with_health(health)
                .with_okta_orgs(sources.orgs.names()),
        );
        let files = read_files(sources, draft).await.map_err(fail)?;
        let files = match &sources.extra_flow {
            // `lanyard run path.yaml`: that file wins over a flow of the same name.
            Some(_) => prefer_last_by_name(files),
            None => files,
        };
        let validation = lanyard_flow::validate(&files, cards.as_ref());
        all.extend(validation.diagnostics.iter().cloned());
        let digest = files_digest(&files);
        let (errors, warnings): (Vec<_>, Vec<_>) = validation.diagnostics.iter().cloned().partition(|d| d.is_error());
        if !errors.is_empty() && strict {
            let rendered = lanyard_flow::diag::render_all(&errors, |name| files.iter().find(|f| f.path == name).map(|f| f.text.as_str()));
            return Err(LoadError {
                at: now,
                message: format!(
                    "{} error{} in the flows; the flows loaded before stay in use",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                diagnostics: errors,
                rendered,
            });
        }
        let mut warnings = warnings;
        if !strict {
            // Broken flows the run does not need are reported, not fatal.
            warnings.extend(errors);
        }
        let flows = validation.flows;
        if strict {
            check_error_flow(&sources.config, &flows).map_err(fail)?;
        }
        let invoker = Arc::new(Invoker {
            cards,
            runtime: sources.runtime.clone(),
            caps: sources.caps.clone(),
            okta: sources.orgs.capabilities(),
            store: sources.store.clone(),
        });
        let generation = previous.generation + 1;
        Ok((FlowSet::new(flows, invoker, generation, now, warnings), digest))
    }
}

/// The flow files of `sources` (the flows directory, then the extra file),
/// with `draft` in its place in path order, as it will be once written.
async fn read_files(sources: &FlowSources, draft: Option<SourceFile>) -> Result<Vec<SourceFile>, String> {
    let dir = sources.config.server.flows_dir.clone();
    let extra = sources.extra_flow.clone();
    let strict = sources.strict;
    tokio::task::spawn_blocking(move || -> Result<Vec<SourceFile>, String> {
        let mut files = if dir.is_dir() {
            read_flow_files(&dir)?
        } else if !strict {
            Vec::new()
        } else {
            return Err(format!("the flows directory {} does not exist", dir.display()));
        };
        if let Some(p) = extra {
            let canonical = std::fs::canonicalize(&p).ok();
            files.retain(|f| std::fs::canonicalize(&f.path).ok() != canonical || canonical.is_none());
            files.push(read_flow_file(&p)?);
        }
        if let Some(d) = draft {
            match files.iter().position(|f| f.path == d.path) {
                Some(i) => files[i] = d,
                None => {
                    files.push(d);
                    files.sort_by(|a, b| std::path::Path::new(&a.path).cmp(std::path::Path::new(&b.path)));
                }
            }
        }
        Ok(files)
    })
    .await
    .map_err(|e| format!("reading the flows failed: {e}"))?
}

/// `[error_flow]` names a loaded flow that takes the failed run's summary.
fn check_error_flow(config: &Config, flows: &[Arc<lanyard_flow::model::Flow>]) -> Result<(), String> {
    let Some(name) = &config.error_flow else { return Ok(()) };
    let Some(f) = flows.iter().find(|f| &f.name == name) else {
        return Err(format!("[error_flow] names `{name}`, but no such flow is loaded"));
    };
    if let lanyard_flow::model::Trigger::Flow(h) = &f.trigger {
        if !h.inputs.is_empty() && !h.inputs.iter().any(|i| i.name == "run") {
            return Err(format!("the error flow `{name}` must take an input named `run` (the failed run's summary)"));
        }
    }
    Ok(())
}

/// sha256 over the paths and texts of flow files, in their order.
pub(crate) fn files_digest(files: &[SourceFile]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in files {
        for part in [f.path.as_bytes(), f.text.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
    }
    hex::encode(h.finalize())
}

/// `lanyard run path.yaml` with a flow of the same name in the flows
/// directory: keep only the last file of each name (the extra file is last).
fn prefer_last_by_name(files: Vec<SourceFile>) -> Vec<SourceFile> {
    let name_of = |f: &SourceFile| -> Option<String> {
        f.text.lines().find_map(|l| {
            let rest = l.strip_prefix("name:")?;
            Some(rest.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    let last = files.last().and_then(name_of);
    let n = files.len();
    files
        .into_iter()
        .enumerate()
        .filter(|(i, f)| *i + 1 == n || last.is_none() || name_of(f) != last)
        .map(|(_, f)| f)
        .collect()
}

