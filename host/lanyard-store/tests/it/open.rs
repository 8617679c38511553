use lanyard_store::{Store, StoreError, StoreOptions};

#[test]
fn a_directory_in_use_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the data directory {} is in use by another lanyard process (is the daemon running? stop it, or go through its admin API)",
            dir.path().display()
        )
    );
    drop(first);
    // Released with the last handle.
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_missing_directory_is_created_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let err = Store::open_with(
        &path,
        StoreOptions {
            create: false,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("there is no lanyard data directory at {}", path.display())
    );
    assert!(!path.exists());
    drop(Store::open(&path).unwrap());
    Store::open_with(
        &path,
        StoreOptions {
            create: false,
            ..Default::default()
        },
    )
    .unwrap();
}

#[tokio::test]
async fn busy_flushes_are_spaced_and_each_covers_every_waiting_writer() {
    use lanyard_store::RunStore;
    let interval = std::time::Duration::from_millis(200);
    let store = Store::temporary_with(StoreOptions {
        flush_interval: interval,
        ..Default::default()
    })
    .unwrap();
    let start = std::time::Instant::now();
    store.sync().await.unwrap();
    // Right after a flush: the next waits out the interval, and the writers
    // that come meanwhile share it.
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.sync().await })
        })
        .collect();
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    let took = start.elapsed();
    assert!(took >= interval, "flushed again after {took:?}");
    assert!(
        took < interval * 10,
        "twenty writers took {took:?}: not one shared flush"
    );
}

#[tokio::test]
async fn a_torn_snapshot_is_rebuilt_from_the_log() {
    use lanyard_store::EventInbox;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2 {
        // The second start writes a snapshot of what the first wrote.
        let store = Store::open(dir.path()).unwrap();
        let uuid = format!("e{i}");
        store
            .accept(vec![crate::support::event(&uuid, "00u1")], "hook")
            .await
            .unwrap();
    }
    let snapshot = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("snap."))
        .expect("sled wrote a snapshot");
    // Cut short, as a write on a full disk or a crash leaves it.
    let len = std::fs::metadata(&snapshot).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&snapshot).unwrap();
    f.set_len(len - 5).unwrap();
    drop(f);
    let store = Store::open(dir.path()).expect("opens from the log");
    let uuids: Vec<String> = store
        .undispatched(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.uuid)
        .collect();
    assert_eq!(uuids, ["e0", "e1"]);
}
