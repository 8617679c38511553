//! The seed flows in `flows/` validate with no diagnostics at all (no error,
//! no warning) against the real card set: the built-in cards embedded in the
//! binary, with the names, versions and input schemas their `describe()`
//! gives, plus the registry's custom cards (JAMF, Zoom, Asana).

use crate::harness::card_cache;
use lanyard_server::card_set::{load_builtins, CardSet};
use lanyard_server::registry::{runtime_config, Registry, RegistryOptions};
use lanyard_server::Config;

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

    let store = lanyard_store::memory::MemoryStore::new().shared();
    let registry = Registry::new(store.clone(), runtime, RegistryOptions::default());
    for (dir, _) in crate::harness::CUSTOM_CARDS {
        registry.publish(lanyard_cards::examples::example(dir).unwrap().to_vec(), None).await.unwrap();
    }
    let cards = CardSet::build(&builtins, store.list_cards().await.unwrap(), &Default::default());

    let dir = crate::harness::repo().join("flows");
    let files = lanyard_server::flows::read_flow_files(&dir).unwrap();
    assert_eq!(files.len(), 6);
    let v = lanyard_flow::validate(&files, &cards);
    assert!(v.diagnostics.is_empty(), "{}", v.render(&files));
    assert_eq!(v.flows.len(), 6);

    // Without the custom cards, the offboarding flow names unknown cards.
    let without = CardSet::build(&builtins, Vec::new(), &Default::default());
    let v = lanyard_flow::validate(&files, &without);
    let errors: Vec<_> = v.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 3, "{}", v.render(&files));
    for (e, (_, card)) in errors.iter().zip(crate::harness::CUSTOM_CARDS) {
        assert!(e.file.ends_with("offboarding.yaml") && e.message.contains(card), "{}", e.message);
    }
}

/// The onboarding flow (a `switch` of `okta.add-to-group` steps) and the
/// profile-change flow (its `policy` step's `apps`) give each department the
/// same app groups: one map, written in two flows, kept in step.
#[test]
fn onboarding_and_profile_change_share_one_department_map() {
    use lanyard_flow::expr::Template;
    use lanyard_flow::model::{Step, StepKind};
    use std::collections::BTreeMap;

    let dir = crate::harness::repo().join("flows");
    let files = lanyard_server::flows::read_flow_files(&dir).unwrap();
    let cards = lanyard_flow::StaticCatalog::from_names([
        "okta.get-user",
        "okta.add-to-group",
        "okta.remove-from-group",
        "okta.list-user-groups",
        "okta.list-app-links",
        "tables.get",
        "tables.put",
        "slack.post",
    ]);
    let v = lanyard_flow::validate(&files, &cards);
    let flow = |name: &str| v.flows.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} compiles")).clone();
    let literal = |t: &Template| match t {
        Template::Lit { json, .. } => json.clone(),
        other => panic!("not a literal: {other:?}"),
    };

    let onboarding = flow(crate::harness::ONBOARDING);
    let switch = onboarding
        .steps
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Switch(sw) => Some(sw),
            _ => None,
        })
        .expect("the department switch");
    let group_of = |s: &Step| match &s.kind {
        StepKind::Card(c) if c.card.name == "okta.add-to-group" => match &c.with {
            Template::Map(kv) => kv.iter().find(|(k, _)| &**k == "group").map(|(_, t)| literal(t).as_str().unwrap().to_string()),
            _ => None,
        },
        _ => None,
    };
    let from_onboarding: BTreeMap<String, Vec<String>> =
        switch.cases.iter().map(|c| (c.value.clone(), c.steps.iter().filter_map(group_of).collect())).collect();

    let profile = flow(crate::harness::PROFILE_CHANGE);
    let policy = profile.steps.iter().find(|s| &*s.id == "policy").expect("the policy step");
    let StepKind::Assign(values) = &policy.kind else { panic!("policy assigns") };
    let apps = values.iter().find(|(k, _)| &**k == "apps").map(|(_, t)| literal(t)).expect("policy.apps");
    let from_profile: BTreeMap<String, Vec<String>> = serde_json::from_value(apps).unwrap();

    assert_eq!(from_onboarding.len(), 3, "{from_onboarding:?}");
    assert_eq!(from_onboarding, from_profile);
}
