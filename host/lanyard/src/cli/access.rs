//! The one place a CLI command decides where its data is: the store in the
//! data directory, or — while the daemon holds it — the daemon's admin API.
//!
//! Commands must not open the store themselves: the rules (only writing
//! commands create a missing directory; a store held by another process
//! means "go through the daemon"; the daemon is reached on this machine when
//! it listens on every address) live here once.

use lanyard_store::{SharedStore, Store, StoreErrorKind, StoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is at the data directory.
pub(crate) enum Access {
    /// The store, opened by this process.
    Store(SharedStore),
    /// Another process (the daemon) holds the store: go through its admin API.
    HeldByDaemon { path: PathBuf },
    /// There is no data directory, and the command asked not to create one.
    Missing { path: PathBuf },
}

/// Open the store in `dir`; `create` only for commands that write.
pub(crate) async fn open(dir: &Path, create: bool) -> anyhow::Result<Access> {
    let dir = dir.to_path_buf();
    let path = dir.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open_with(&dir, StoreOptions { create, ..StoreOptions::default() })).await?;
    match opened {
        Ok(store) => Ok(Access::Store(Arc::new(store))),
        Err(e) => match e.kind() {
            StoreErrorKind::InUse => Ok(Access::HeldByDaemon { path }),
            StoreErrorKind::Missing => Ok(Access::Missing { path }),
            _ => Err(e.into()),
        },
    }
}

/// The daemon's admin API address from its config (`listen`, with an
/// unspecified address read as this machine).
pub(crate) fn admin_base(config: &lanyard_server::config::Config) -> String {
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_directory_is_created_only_when_asked_and_a_held_one_means_the_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(matches!(open(&data, false).await.unwrap(), Access::Missing { path } if path == data));
        let Access::Store(held) = open(&data, true).await.unwrap() else { panic!("created") };
        assert!(matches!(open(&data, false).await.unwrap(), Access::HeldByDaemon { path } if path == data));
        drop(held);
        assert!(matches!(open(&data, false).await.unwrap(), Access::Store(_)));
    }

    #[test]
    fn a_daemon_listening_everywhere_is_reached_on_this_machine() {
        let mut config = lanyard_server::config::Config::sandbox_defaults();
        config.server.listen = "0.0.0.0:8470".parse().unwrap();
        assert_eq!(admin_base(&config), "http://127.0.0.1:8470");
        config.server.listen = "10.1.2.3:9000".parse().unwrap();
        assert_eq!(admin_base(&config), "http://10.1.2.3:9000");
    }
}
