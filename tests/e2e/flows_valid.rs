//! The seed flows in `flows/` validate with no diagnostics at all (no error,
//! no warning) against the real card set: the built-in cards embedded in the
//! binary, with the names, versions and input schemas their `describe()`
//! gives, plus the registry's `acme.jamf-offboard`.

use crate::harness::card_cache;
use lanyard_server::cards::{load_builtins, CardSet};
use lanyard_server::registry::{runtime_config, Registry, RegistryOptions};
use lanyard_server::Config;
use lanyard_store::CardStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_flows_validate_with_no_diagnostics() {
    let config = Config::parse(
        &format!("[server]\ncache_dir = \"{}\"\n", card_cache().display()),
        None,
        &std::collections::BTreeMap::<String, String>::new(),
    )
    .unwrap();
    let runtime = lanyard_runtime::Runtime::new(runtime_config(&config)).unwrap();
    let rt = runtime.clone();
    let (builtins, errors) = tokio::task::spawn_blocking(move || load_builtins(&rt)).await.unwrap();
    assert!(errors.is_empty(), "{errors:#?}");

    let store = lanyard_store::Store::temporary().unwrap();
    let registry = Registry::new(store.clone(), runtime, RegistryOptions::default());
    let wasm = lanyard_cards::examples::example("rust-jamf-offboard").unwrap();
    registry.publish(wasm.to_vec(), None).await.unwrap();
    let cards = CardSet::build(&builtins, store.list_cards().await.unwrap(), &Default::default());

    let dir = crate::harness::repo().join("flows");
    let files = lanyard_server::flows::read_flow_files(&dir).unwrap();
    assert_eq!(files.len(), 5);
    let v = lanyard_flow::validate(&files, &cards);
    assert!(v.diagnostics.is_empty(), "{}", v.render(&files));
    assert_eq!(v.flows.len(), 5);

    // Without the custom card, the offboarding flow names an unknown card.
    let without = CardSet::build(&builtins, Vec::new(), &Default::default());
    let v = lanyard_flow::validate(&files, &without);
    let errors: Vec<_> = v.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{}", v.render(&files));
    assert!(errors[0].file.ends_with("offboarding.yaml") && errors[0].message.contains("acme.jamf-offboard"), "{}", errors[0].message);
}
