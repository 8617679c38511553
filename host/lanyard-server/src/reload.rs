//! What triggers a flow reload besides the admin call: changes under the flows
//! directory (watched with `notify`, debounced, so an editor's burst of writes
//! is one reload) and SIGHUP. The reload itself is [`Engine::reload`]: the
//! whole set is validated and swapped atomically, or the old set stays.

use crate::flows::is_flow_file;
use crate::shutdown::Shutdown;
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;

/// What the watchers ask of the engine that starts them.
#[async_trait]
pub(crate) trait Reload: Send + Sync + 'static {
    /// Reload the flows (the errors are logged and kept by the engine).
    async fn reload(&self);
    /// Reload, unless the flow files are those of the loaded set.
    async fn reload_if_files_changed(&self);
}

/// Quiet time after the last change before reloading.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Reload when the flow files under `dir` change, until `stop`.
pub(crate) async fn watch_flows(dir: PathBuf, stop: Shutdown, engine: impl Reload) {
    use notify::{RecursiveMode, Watcher};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            let relevant = ev.paths.is_empty()
                || ev.paths.iter().any(|p| is_flow_file(p) || p.extension().is_none());
            if relevant && !matches!(ev.kind, notify::EventKind::Access(_)) {
                let _ = tx.send(());
            }
        }
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the flows directory; reload with SIGHUP or the admin API");
            return;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::Recursive) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the flows directory; reload with SIGHUP or the admin API");
        return;
    }
    tracing::debug!(dir = %dir.display(), "watching the flows directory");
    loop {
        tokio::select! {
            got = rx.recv() => if got.is_none() { return },
            _ = stop.wait() => return,
        }
        // Debounce: wait until the directory has been quiet for a moment.
        loop {
            tokio::select! {
                got = tokio::time::timeout(DEBOUNCE, rx.recv()) => match got {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                },
                _ = stop.wait() => return,
            }
        }
        tracing::info!(dir = %dir.display(), "flow files changed; reloading");
        // An admin API write reloads before it answers; its own change seen
        // here again is not a second reload (no second generation).
        engine.reload_if_files_changed().await;
    }
}

/// Reload on every SIGHUP, until `stop`.
pub(crate) async fn on_sighup(stop: Shutdown, engine: impl Reload) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP");
                return;
            }
        };
        loop {
            tokio::select! {
                got = hup.recv() => {
                    if got.is_none() { return }
                    tracing::info!("SIGHUP: reloading flows");
                    engine.reload().await;
                }
                _ = stop.wait() => return,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (stop, engine);
    }
}
