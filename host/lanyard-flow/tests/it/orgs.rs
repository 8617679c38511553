//! Several Okta orgs: which org a trigger listens to and which org each card
//! step's Okta calls go to, and the errors when a name is unknown or missing.

use crate::support::*;
use lanyard_flow::*;
use serde_json::json;

fn orgs(names: &[&str]) -> StaticCatalog {
    let mut cards: Vec<CardSummary> = ["okta.get-user", "okta.create-user", "okta.add-to-group"]
        .into_iter()
        .map(|n| CardSummary::new(n).with_version("1.0.0").with_okta(true))
        .collect();
    cards.push(CardSummary::new("slack.post").with_version("1.0.0"));
    StaticCatalog::new(cards).with_okta_orgs(OktaOrgs::new(names.iter().copied()))
}

fn compiled(catalog: &StaticCatalog, text: &str) -> Flow {
    let c = compile("orgs.yaml", text, catalog);
    c.flow.unwrap_or_else(|| panic!("{}", diag::render_all(&c.diagnostics, |_| Some(text))))
}

/// Each error as `line:col code message`.
fn errors(catalog: &StaticCatalog, text: &str) -> Vec<String> {
    let c = compile("orgs.yaml", text, catalog);
    assert!(c.flow.is_none(), "expected errors");
    c.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}:{} {} {}", d.span.start.line, d.span.start.col, d.code, d.message))
        .collect()
}

fn card_orgs(flow: &Flow) -> Vec<Option<String>> {
    flow.walk()
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Card(c) => Some(c.org.clone()),
            _ => None,
        })
        .collect()
}

const COPY: &str = r#"
name: copy to preview
description: a new prod user gets an account in preview
trigger:
  okta: user.lifecycle.create
  org: prod
steps:
  - id: user
    card: okta.get-user
  - card: okta.create-user
    org: preview
  - card: slack.post
"#;

#[test]
fn a_trigger_names_its_org_and_card_steps_default_to_it() {
    let flow = compiled(&orgs(&["preview", "prod"]), COPY);
    assert_eq!(flow.trigger.okta().unwrap().org, "prod");
    assert_eq!(
        card_orgs(&flow),
        [Some("prod".to_string()), Some("preview".to_string()), Some("prod".to_string())]
    );
}

#[test]
fn one_org_is_the_default_whatever_its_name() {
    let text = "name: n\ndescription: d\ntrigger:\n  okta: user.lifecycle.create\nsteps:\n  - card: okta.get-user\n";
    let flow = compiled(&orgs(&[]), text);
    assert_eq!(flow.trigger.okta().unwrap().org, DEFAULT_ORG);
    assert_eq!(card_orgs(&flow), [Some(DEFAULT_ORG.to_string())]);
    let flow = compiled(&orgs(&["prod"]), text);
    assert_eq!(flow.trigger.okta().unwrap().org, "prod");
    // With several, the one named `default` is the default.
    let flow = compiled(&orgs(&["default", "preview"]), text);
    assert_eq!(flow.trigger.okta().unwrap().org, "default");
    // A catalog that knows of no orgs has the one `default`.
    let c = compile("f.yaml", &text.replace("okta.get-user", "test.echo\n    org: default"), &catalog());
    assert!(c.flow.is_some(), "{:?}", c.diagnostics);
}

#[test]
fn unknown_orgs_are_errors_at_their_place_with_a_suggestion() {
    let text = COPY.replace("org: prod", "org: prd").replace("org: preview", "org: staging");
    assert_eq!(
        errors(&orgs(&["preview", "prod"]), &text),
        [
            "6:8 unknown-org no Okta org named `prd` is configured (configured: `preview`, `prod`) (did you mean `prod`?)",
            "11:10 unknown-org no Okta org named `staging` is configured (configured: `preview`, `prod`)",
        ]
    );
    let one = errors(&catalog(), "name: n\ndescription: d\ntrigger: manual\nsteps:\n  - card: test.echo\n    org: prod\n");
    assert_eq!(one, ["6:10 unknown-org no Okta org named `prod` is configured (the one configured is `default`)"]);
    let empty = errors(&orgs(&["prod"]), "name: n\ndescription: d\ntrigger: manual\nsteps:\n  - card: slack.post\n    org: \"\"\n");
    assert_eq!(empty, ["6:10 type `org` must not be empty"]);
}

#[test]
fn with_several_orgs_and_no_default_an_okta_trigger_and_an_okta_card_must_say_which() {
    let text = COPY.replace("  org: prod\n", "");
    assert_eq!(
        errors(&orgs(&["preview", "prod"]), &text),
        ["5:9 org several Okta orgs are configured (`preview`, `prod`), none named `default`: say whose events start this flow with `org:`"]
    );
    let scheduled = r#"
name: nightly
description: d
trigger: manual
steps:
  - card: okta.get-user
  - card: slack.post
  - card: okta.create-user
    org: preview
"#;
    assert_eq!(
        errors(&orgs(&["preview", "prod"]), scheduled),
        ["6:11 org card `okta.get-user` calls Okta and several orgs are configured (`preview`, `prod`), none named `default`: say which with `org:`"]
    );
    // A card that calls no Okta needs no org.
    let fixed = scheduled.replace("  - card: okta.get-user\n", "");
    assert_eq!(card_orgs(&compiled(&orgs(&["preview", "prod"]), &fixed)), [None, Some("preview".to_string())]);
}

#[tokio::test]
async fn each_card_call_carries_its_steps_org() {
    let flow = compiled(&orgs(&["preview", "prod"]), COPY);
    let h = harness(FakeCards::new(), vec![]);
    let out = run_flow(&flow, RunStart::new("run1", json!({})), &h.env).await;
    assert_eq!(out.status, lanyard_core::history::RunStatus::Succeeded, "{out:?}");
    let orgs: Vec<Option<String>> = h.cards.calls().into_iter().map(|c| c.org).collect();
    assert_eq!(orgs, [Some("prod".to_string()), Some("preview".to_string()), Some("prod".to_string())]);
}
