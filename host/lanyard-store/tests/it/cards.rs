use crate::support::t0;
use lanyard_core::{Grant, Grants, WriteOutcome};
use lanyard_store::{BrokenMark, CardEntry, CardSelector, CardStore, Store, StoreError};
use serde_json::json;
use sha2::{Digest, Sha256};

fn entry(name: &str, version: &str, wasm: &[u8]) -> CardEntry {
    CardEntry {
        name: name.into(),
        version: version.into(),
        digest: hex::encode(Sha256::digest(wasm)),
        size: wasm.len() as u64,
        info: serde_json::from_value(json!({"name": name, "version": version, "description": "wipes a device"})).unwrap(),
        requested: Grants::from_list(&[Grant::Connection("jamf".into())]).unwrap(),
        granted: None,
        published_at: t0(),
        broken: None,
    }
}

#[tokio::test]
async fn wasm_is_stored_once_per_digest_and_goes_with_its_last_entry() {
    let store = Store::temporary().unwrap();
    let wasm = b"\0asm fake component bytes".to_vec();
    let one = entry("acme.jamf-wipe", "1.0.0", &wasm);
    let two = entry("acme.jamf-wipe", "1.0.1", &wasm);
    assert_eq!(
        store.put_card(&one, &wasm).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        store.put_card(&two, &wasm).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        store.put_card(&one, &wasm).await.unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(
        store.card_wasm(&one.digest).await.unwrap(),
        Some(wasm.clone())
    );

    assert_eq!(
        store.remove_card("acme.jamf-wipe", "1.0.0").await.unwrap(),
        Some(one.clone())
    );
    assert_eq!(
        store.card_wasm(&one.digest).await.unwrap(),
        Some(wasm.clone()),
        "1.0.1 still uses it"
    );
    assert_eq!(
        store.remove_card("acme.jamf-wipe", "1.0.0").await.unwrap(),
        None
    );
    store.remove_card("acme.jamf-wipe", "1.0.1").await.unwrap();
    assert_eq!(store.card_wasm(&one.digest).await.unwrap(), None);
    assert!(store.list_cards().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_entry_must_match_its_wasm_and_a_version_is_never_overwritten() {
    let store = Store::temporary().unwrap();
    let wasm = b"version one".to_vec();
    let mut bad = entry("acme.x", "1.0.0", &wasm);
    bad.digest = "0".repeat(64);
    let err = store.put_card(&bad, &wasm).await.unwrap_err();
    assert!(err.to_string().contains("the wasm's is"), "{err}");
    bad.digest = "XYZ".into();
    assert!(
        store
            .put_card(&bad, &wasm)
            .await
            .unwrap_err()
            .to_string()
            .contains("not a sha256")
    );
    let mut wrong_size = entry("acme.x", "1.0.0", &wasm);
    wrong_size.size += 1;
    assert!(store.put_card(&wrong_size, &wasm).await.is_err());

    store
        .put_card(&entry("acme.x", "1.0.0", &wasm), &wasm)
        .await
        .unwrap();
    let other = b"version one, rebuilt".to_vec();
    let err = store
        .put_card(&entry("acme.x", "1.0.0", &other), &other)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("publish a new version"), "{err}");
}

#[tokio::test]
async fn versions_are_found_by_selector() {
    let store = Store::temporary().unwrap();
    let mut digests = std::collections::HashMap::new();
    for v in ["1.2.0", "1.10.0", "1.2.7", "2.0.0-beta.1", "0.9.0"] {
        let wasm = format!("wasm {v}").into_bytes();
        let e = entry("acme.x", v, &wasm);
        digests.insert(v, e.digest.clone());
        store.put_card(&e, &wasm).await.unwrap();
    }
    store
        .put_card(&entry("acme.xy", "9.0.0", b"other"), b"other")
        .await
        .unwrap();
    let version = |sel: CardSelector| {
        let store = store.clone();
        async move {
            store
                .get_card("acme.x", &sel)
                .await
                .unwrap()
                .map(|e| e.version)
        }
    };
    assert_eq!(
        version(CardSelector::Latest).await.as_deref(),
        Some("1.10.0")
    );
    assert_eq!(
        version(CardSelector::Req("~1.2".into())).await.as_deref(),
        Some("1.2.7")
    );
    assert_eq!(
        version(CardSelector::Req("^0.9".into())).await.as_deref(),
        Some("0.9.0")
    );
    assert_eq!(version(CardSelector::Req("3".into())).await, None);
    assert_eq!(
        version(CardSelector::Version("1.2.0".into()))
            .await
            .as_deref(),
        Some("1.2.0")
    );
    assert_eq!(
        version(CardSelector::Digest(digests["1.2.7"].clone()))
            .await
            .as_deref(),
        Some("1.2.7")
    );
    assert!(
        store
            .get_card("acme.x", &CardSelector::Req("not a req".into()))
            .await
            .is_err()
    );

    let listed: Vec<_> = store
        .list_cards()
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}@{}", e.name, e.version))
        .collect();
    assert_eq!(
        listed,
        [
            "acme.x@0.9.0",
            "acme.x@1.2.0",
            "acme.x@1.2.7",
            "acme.x@1.10.0",
            "acme.x@2.0.0-beta.1",
            "acme.xy@9.0.0"
        ]
    );
}

#[tokio::test]
async fn grants_are_set_per_version() {
    let store = Store::temporary().unwrap();
    store
        .put_card(&entry("acme.x", "1.0.0", b"w"), b"w")
        .await
        .unwrap();
    let granted = Grants::from_list(&[Grant::Connection("jamf".into())]).unwrap();
    let e = store
        .set_grants("acme.x", "1.0.0", Some(granted.clone()))
        .await
        .unwrap();
    assert_eq!(e.granted.as_ref(), Some(&granted));
    let got = store
        .get_card("acme.x", &CardSelector::Version("1.0.0".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.granted, Some(granted));
    let err = store.set_grants("acme.x", "2.0.0", None).await.unwrap_err();
    assert_eq!(err.to_string(), "card acme.x@2.0.0 not found");
}

#[tokio::test]
async fn a_broken_mark_is_kept_until_the_same_bytes_are_published_again() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = b"\0asm fake component bytes".to_vec();
    let card = entry("acme.stalls", "1.0.0", &wasm);
    let mark = BrokenMark {
        message: "card acme.stalls@1.0.0 is broken: its describe() ran past its deadline".into(),
        kind: lanyard_core::ErrorKind::Deadline,
        since: t0(),
    };
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_card(&card, &wasm).await.unwrap();
        let marked = store.set_broken("acme.stalls", "1.0.0", Some(mark.clone())).await.unwrap();
        assert_eq!(marked.broken.as_ref(), Some(&mark));
        store.sync_blocking().unwrap();
    }
    // A restart keeps it.
    let store = Store::open(dir.path()).unwrap();
    let got = store.get_card("acme.stalls", &CardSelector::Latest).await.unwrap().unwrap();
    assert_eq!(got.broken, Some(mark));
    // Publishing the same bytes again clears it; the rest of the entry stays.
    assert_eq!(store.put_card(&card, &wasm).await.unwrap(), WriteOutcome::Unchanged);
    let got = store.get_card("acme.stalls", &CardSelector::Latest).await.unwrap().unwrap();
    assert_eq!(got.broken, None);
    assert_eq!(got.digest, card.digest);
    let e = store.set_broken("acme.gone", "1.0.0", None).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
}
