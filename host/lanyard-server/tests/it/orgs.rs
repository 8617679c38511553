//! Several Okta orgs in one daemon: two embedded sandbox orgs, each delivering
//! its events on its own hook path with its own secret; a flow triggered by
//! one org's event whose card writes to the other; per-org deduplication; the
//! admin API listing the orgs; validation of `org:` against them.

use crate::support::*;
use lanyard_core::history::RunStatus;
use lanyard_core::okta::{LifecycleOp, OktaApi};
use serde_json::{json, Value};

const PROD_HOOK: &str = "Bearer prod-hook-secret";
const PREVIEW_HOOK: &str = "Bearer preview-hook-secret";

fn two_orgs() -> String {
    format!(
        r#"
[okta.orgs.prod]
sandbox = true
hook_secret = {{ value = "{PROD_HOOK}" }}

[okta.orgs.preview]
sandbox = true
hook_secret = {{ value = "{PREVIEW_HOOK}" }}
"#
    )
}

/// A user suspended in prod gets a staged copy in preview.
const MIRROR: &str = r#"
name: mirror-to-preview
description: A user suspended in prod is copied into the preview org, staged.
trigger:
  okta: user.lifecycle.suspend
  org: prod
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.target[0].id }}" }
  - id: copy
    card: okta.create-user
    org: preview
    with:
      profile:
        login: "{{ user.profile.login }}"
        email: "{{ user.profile.email }}"
        firstName: "{{ user.profile.firstName }}"
        lastName: "{{ user.profile.lastName }}"
      activate: false
  - return: { login: "{{ user.profile.login }}", preview_id: "{{ copy.user.id }}" }
"#;

/// A flow that says which user was created in `org` (lanyard's own
/// creations too: the mirror's, in preview, are its identity's there).
fn created_in(org: &str) -> String {
    format!(
        "name: {org}-created\ndescription: Say which user was created in the {org} org.\ntrigger:\n  okta: user.lifecycle.create\n  org: {org}\n  include_own_events: true\nsteps:\n  - return: {{ id: \"{{{{ event.target[0].id }}}}\", actor: \"{{{{ event.actor.id }}}}\" }}\n"
    )
}

fn admin_of(sandbox: &lanyard_sandbox::okta::RunningSandbox) -> lanyard_okta::OktaCapability {
    let cfg = lanyard_okta::OktaConfig::new(&sandbox.base_url, lanyard_okta::Auth::Ssws(sandbox.org.admin_token().into())).unwrap();
    lanyard_okta::OktaCapability::new(lanyard_okta::OktaClient::new(cfg).unwrap())
}

#[tokio::test]
async fn an_event_of_one_org_runs_a_flow_that_writes_to_the_other() {
    let d = daemon()
        .okta_tables(&two_orgs())
        .flow("mirror.yaml", MIRROR)
        .flow("preview-created.yaml", &created_in("preview"))
        .flow("prod-created.yaml", &created_in("prod"))
        .start()
        .await;
    for org in ["prod", "preview"] {
        let path = d.engine.orgs().hook_path(org);
        assert_eq!(path, format!("/hooks/okta/{org}"), "no default org: every hook on its own path");
        d.engine.register_sandbox_hook_of(org, &d.url(&path)).await.unwrap();
    }
    let prod = d.engine.orgs().get("prod").unwrap().sandbox().unwrap();
    let preview = d.engine.orgs().get("preview").unwrap().sandbox().unwrap();
    let user = prod.org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    assert!(preview.org.user_by_login(&user.login()).is_none(), "preview starts without the user");

    admin_of(prod).lifecycle(&user.id, LifecycleOp::Suspend).await.unwrap();
    let runs = d.wait_for_runs("mirror-to-preview", 1).await;
    assert_eq!(runs[0].status, RunStatus::Succeeded, "{:?}", runs[0]);
    let output = runs[0].output.clone().unwrap();
    assert_eq!(output["login"], user.login());

    // The copy is in preview, staged, and prod has no second user.
    let copy = preview.org.user_by_login(&user.login()).expect("the user was created in preview");
    assert_eq!((copy.id.as_str(), copy.status.as_str()), (output["preview_id"].as_str().unwrap(), "STAGED"));
    assert_eq!(prod.org.user(&user.id).unwrap().status, "SUSPENDED");
    assert!(prod.org.user(&copy.id).is_none());

    // Preview's event (caused by lanyard's identity in preview) came in on
    // preview's path and started preview's flow only.
    let created = d.wait_for_runs("preview-created", 1).await;
    assert_eq!(created[0].output.clone().unwrap(), json!({ "id": copy.id, "actor": preview.org.service_user_id() }));
    let orgs = d.engine.orgs();
    assert!(orgs.get("preview").unwrap().is_self_actor(preview.org.service_user_id()));
    assert!(!orgs.get("prod").unwrap().is_self_actor(preview.org.service_user_id()));
    assert_eq!(d.runs_of("mirror-to-preview").await.len(), 1);
    // The event's runs were created together, at its dispatch: prod's flow has none.
    assert!(d.runs_of("prod-created").await.is_empty());
    d.stop().await;
}

async fn post_hook(d: &Daemon, path: &str, secret: &str, events: &[Value]) -> (u16, Value) {
    let r = d.http.post(d.url(path)).header("authorization", secret).json(&envelope(events)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_hook_path_takes_only_its_orgs_secret_and_deduplicates_per_org() {
    let d = daemon().okta_tables(&two_orgs()).start().await;
    let ev = event("same-uuid", "user.lifecycle.suspend", "00u1", "00uhuman", "2026-01-05T10:00:00Z");
    let one = std::slice::from_ref(&ev);
    // Another org's secret, an unknown org, and the default path (there is no default org).
    assert_eq!(post_hook(&d, "/hooks/okta/preview", PROD_HOOK, one).await.0, 401);
    assert_eq!(post_hook(&d, "/hooks/okta/prod", PREVIEW_HOOK, one).await.0, 401);
    let (status, body) = post_hook(&d, "/hooks/okta/staging", PROD_HOOK, one).await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("no Okta org named `staging`"), "{body}");
    let (status, body) = post_hook(&d, "/hooks/okta", PROD_HOOK, one).await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("/hooks/okta/preview or /hooks/okta/prod"), "{body}");
    // Okta's one-time verification, on each org's path with its secret only.
    for (path, secret, status) in [
        ("/hooks/okta/preview", PREVIEW_HOOK, 200),
        ("/hooks/okta/preview", PROD_HOOK, 401),
        ("/hooks/okta/prod", PROD_HOOK, 200),
    ] {
        let r = d.http.get(d.url(path)).header("authorization", secret).header("x-okta-verification-challenge", "c1");
        assert_eq!(r.send().await.unwrap().status(), status, "{path} with {secret}");
    }

    // The same uuid from each org is two events; again from one is a duplicate.
    let accepted = |b: &Value| (b["accepted"].as_u64(), b["duplicates"].as_u64());
    assert_eq!(accepted(&post_hook(&d, "/hooks/okta/prod", PROD_HOOK, one).await.1), (Some(1), Some(0)));
    assert_eq!(accepted(&post_hook(&d, "/hooks/okta/preview", PREVIEW_HOOK, one).await.1), (Some(1), Some(0)));
    assert_eq!(accepted(&post_hook(&d, "/hooks/okta/prod", PROD_HOOK, one).await.1), (Some(0), Some(1)));
    d.stop().await;
}

#[tokio::test]
async fn the_admin_api_lists_the_orgs_and_flows_are_checked_against_them() {
    let d = daemon().okta_tables(&two_orgs()).flow("mirror.yaml", MIRROR).start().await;
    let (status, body) = d.admin_get("/api/v1/okta/orgs").await;
    assert_eq!(status, 200);
    let orgs = body["orgs"].as_array().unwrap();
    let names: Vec<&str> = orgs.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["preview", "prod"]);
    for o in orgs {
        assert_eq!((o["kind"].as_str(), o["default"].as_bool()), (Some("sandbox"), Some(false)));
        assert_eq!(o["hook_path"], format!("/hooks/okta/{}", o["name"].as_str().unwrap()));
        assert!(o["url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{o}");
    }
    // The flow listing says which org a trigger listens to.
    let (_, flows) = d.admin_get("/api/v1/flows").await;
    assert_eq!(flows["flows"][0]["trigger"]["okta"]["org"], "prod");

    // A draft naming an org that is not configured, and one that names none.
    let bad = MIRROR.replace("org: preview", "org: staging");
    let (status, body) = d.admin_post("/api/v1/flows/check", Some(json!({ "source": bad, "file": "mirror.yaml" }))).await;
    assert_eq!(status, 200);
    let diags = body["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{body}");
    assert_eq!(diags[0]["code"], "unknown-org");
    assert_eq!(diags[0]["span"]["start"]["line"], 13);
    assert!(diags[0]["message"].as_str().unwrap().contains("`staging`"), "{body}");
    // The builder's one-card test, against the org it names.
    let preview = d.engine.orgs().get("preview").unwrap().sandbox().unwrap();
    let someone = preview.org.users()[0].id.clone();
    let test = |org: &str| json!({ "input": { "user": someone }, "org": org });
    let (status, body) = d.admin_post("/api/v1/cards/okta.get-user/test", Some(test("preview"))).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(body["output"]["id"], someone);
    let (_, body) = d.admin_post("/api/v1/cards/okta.get-user/test", Some(test("prod"))).await;
    assert_eq!((body["ok"].as_bool(), body["error"]["kind"].as_str()), (Some(false), Some("not-found")), "prod has no such user: {body}");
    let (status, body) = d.admin_post("/api/v1/cards/okta.get-user/test", Some(test("staging"))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_org")));
    let ambiguous = MIRROR.replace("  org: prod\n", "");
    let (_, body) = d.admin_post("/api/v1/flows/check", Some(json!({ "source": ambiguous, "file": "mirror.yaml" }))).await;
    assert_eq!(body["diagnostics"][0]["code"], "org", "{body}");
    assert!(body["diagnostics"][0]["message"].as_str().unwrap().contains("(`preview`, `prod`)"), "{body}");
    d.stop().await;
}

#[tokio::test]
async fn one_okta_table_is_still_the_default_org_on_the_old_path() {
    let d = daemon().start().await;
    let (_, body) = d.admin_get("/api/v1/okta/orgs").await;
    assert_eq!(body["orgs"][0]["name"], "default");
    assert_eq!(body["orgs"][0]["default"], true);
    assert_eq!(body["orgs"][0]["hook_path"], "/hooks/okta");
    // The default org answers on its name too.
    let ev = event("e-default", "user.lifecycle.suspend", "00u1", "00uhuman", "2026-01-05T10:00:00Z");
    assert_eq!(post_hook(&d, "/hooks/okta/default", HOOK, std::slice::from_ref(&ev)).await.1["accepted"], 1);
    assert_eq!(d.deliver(&[ev]).await.1["duplicates"], 1, "one org, whichever path");
    d.stop().await;
}

/// A flow that says who was suspended in `org`.
fn suspended_in(org: &str) -> String {
    format!(
        "name: {org}-suspended\ndescription: Say who was suspended in the {org} org.\ntrigger:\n  okta: user.lifecycle.suspend\n  org: {org}\nsteps:\n  - return: \"{{{{ event.target[0].id }}}}\"\n"
    )
}

#[tokio::test]
async fn each_org_is_polled_on_its_own_and_its_events_start_its_flows() {
    // No hooks: the System Log of each org is the only way in.
    let d = daemon()
        .okta_tables("[okta.orgs.prod]\nsandbox = true\n\n[okta.orgs.preview]\nsandbox = true\n")
        .config("[poll]\nenabled = true\ninterval = \"1s\"")
        .flow("prod.yaml", &suspended_in("prod"))
        .flow("preview.yaml", &suspended_in("preview"))
        .start()
        .await;
    let preview = d.engine.orgs().get("preview").unwrap().sandbox().unwrap();
    let user = preview.org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    admin_of(preview).lifecycle(&user.id, LifecycleOp::Suspend).await.unwrap();
    let runs = d.wait_for_runs("preview-suspended", 1).await;
    assert_eq!(runs[0].output, Some(json!(user.id)));
    assert!(matches!(&runs[0].trigger, lanyard_core::history::TriggerInfo::Okta { source, .. } if source == "poll"));

    let prod = d.engine.orgs().get("prod").unwrap().sandbox().unwrap();
    let other = prod.org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    admin_of(prod).lifecycle(&other.id, LifecycleOp::Suspend).await.unwrap();
    let runs = d.wait_for_runs("prod-suspended", 1).await;
    assert_eq!(runs[0].output, Some(json!(other.id)));
    assert_eq!(d.runs_of("preview-suspended").await.len(), 1, "prod's event is not preview's");
    d.stop().await;
}
