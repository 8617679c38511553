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
