//! The Okta actions beyond profiles and memberships, through the `okta`
//! capability against the sandbox org: groups and group rules as objects,
//! deleting a user, passwords and factors, app assignments, paged listings and
//! the custom API action. Every write compares first: `plan` (a dry run's
//! answer) and `write` agree, and a no-op sends nothing.

use crate::support::{Env, writes_sent};
use lanyard_core::WriteOutcome::{Changed, Unchanged};
use lanyard_core::okta::{ApiRequest, Assignee, LifecycleOp, OktaApi, OktaWrite, UserQuery};
use lanyard_okta::OktaCapability;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// `plan`, then `write`: both must say `expected`.
async fn planned_and_done(okta: &OktaCapability, write: OktaWrite, expected: lanyard_core::WriteOutcome) {
    assert_eq!(okta.plan(&write).await.unwrap(), expected, "plan of {write:?}");
    assert_eq!(okta.write(&write).await.unwrap(), expected, "write of {write:?}");
}

#[tokio::test]
async fn groups_and_group_rules_are_created_renamed_activated_and_deleted_once() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());

    let created = okta.create_group("Contractors 2027", Some("Fixed-term staff")).await.unwrap();
    assert_eq!(created.outcome, Changed);
    assert_eq!(created.group.group_type, "OKTA_GROUP");
    let again = okta.create_group("Contractors 2027", None).await.unwrap();
    assert_eq!((again.outcome, &again.group.id), (Unchanged, &created.group.id));
    let gid = created.group.id.clone();

    let same = OktaWrite::UpdateGroup {
        group_id: gid.clone(),
        name: "Contractors 2027".into(),
        description: Some("Fixed-term staff".into()),
    };
    env.org().start_recording();
    planned_and_done(&okta, same, Unchanged).await;
    assert!(writes_sent(&env).is_empty(), "an unchanged group is not written");
    let renamed = OktaWrite::UpdateGroup { group_id: gid.clone(), name: "Contractors".into(), description: None };
    planned_and_done(&okta, renamed, Changed).await;
    assert_eq!(env.org().group_by_name("Contractors").unwrap().id, gid);

    // A rule: created inactive, activated once, and it puts the matching users in.
    let expression = r#"user.department == "Engineering""#;
    let rule = okta.create_group_rule("Engineers are contractors", expression, &[gid.clone()]).await.unwrap();
    assert_eq!((rule.outcome, rule.rule.status.as_str()), (Changed, "INACTIVE"));
    let again = okta.create_group_rule("Engineers are contractors", expression, &[gid.clone()]).await.unwrap();
    assert_eq!((again.outcome, &again.rule.id), (Unchanged, &rule.rule.id));
    let other = okta.create_group_rule("Engineers are contractors", r#"user.department == "Sales""#, &[gid.clone()]).await;
    assert_eq!(other.unwrap_err().kind, lanyard_core::ErrorKind::Conflict);
    assert_eq!(okta.find_group_rule("Engineers are contractors").await.unwrap().unwrap().id, rule.rule.id);

    let activate = OktaWrite::SetGroupRuleActive { rule_id: rule.rule.id.clone(), active: true };
    planned_and_done(&okta, activate.clone(), Changed).await;
    planned_and_done(&okta, activate, Unchanged).await;
    let engineers: BTreeSet<String> = env
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status != "DEPROVISIONED" && u.profile.get("department") == Some(&json!("Engineering")))
        .map(|u| u.id)
        .collect();
    assert!(engineers.len() > 2);
    let members: BTreeSet<String> = env.org().members_of(&gid).into_iter().collect();
    assert_eq!(members, engineers, "the active rule assigned every engineer");

    // The members, two at a time, every one once.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = okta.list_group_members(&gid, after.as_deref(), Some(2)).await.unwrap();
        assert!(page.users.len() <= 2);
        paged.extend(page.users.into_iter().map(|u| u.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged.len(), engineers.len());
    assert_eq!(paged.into_iter().collect::<BTreeSet<_>>(), engineers);

    let deactivate = OktaWrite::SetGroupRuleActive { rule_id: rule.rule.id.clone(), active: false };
    planned_and_done(&okta, deactivate, Changed).await;
    let delete = OktaWrite::DeleteGroup { group_id: gid.clone() };
    planned_and_done(&okta, delete.clone(), Changed).await;
    assert!(env.org().group_by_name("Contractors").is_none());
    planned_and_done(&okta, delete, Unchanged).await;
    assert!(!env.org().events_of_type("group.lifecycle.delete").is_empty());
}

#[tokio::test]
async fn deleting_a_user_deactivates_first_then_deletes_and_then_is_unchanged() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env.org().users().into_iter().find(|u| u.status == "ACTIVE" && u.id != env.org().service_user_id() && u.id != env.org().admin_user_id()).unwrap();

    let delete = OktaWrite::DeleteUser { user_id: user.id.clone(), send_email: false };
    planned_and_done(&okta, delete.clone(), Changed).await;
    assert!(env.org().user(&user.id).is_none(), "deleted, not just deactivated");
    assert!(!env.org().events_of_type("user.lifecycle.deactivate").is_empty());
    planned_and_done(&okta, delete, Unchanged).await;
}

#[tokio::test]
async fn passwords_and_factors_are_reset_once() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE" && !env.org().factors_of(&u.id).is_empty() && u.id != env.org().service_user_id())
        .expect("a seeded user with factors");

    let expire = OktaWrite::ExpirePassword { user_id: user.id.clone() };
    planned_and_done(&okta, expire.clone(), Changed).await;
    assert_eq!(env.org().user(&user.id).unwrap().status, "PASSWORD_EXPIRED");
    planned_and_done(&okta, expire, Unchanged).await;

    let link = okta.reset_password(&user.id, false).await.unwrap();
    assert!(link.as_deref().is_some_and(|l| l.starts_with("http")), "{link:?}");
    assert_eq!(okta.reset_password(&user.id, true).await.unwrap(), None, "emailed, so no link");

    let one = env.org().factors_of(&user.id)[0].id.clone();
    let reset_one = OktaWrite::ResetFactor { user_id: user.id.clone(), factor_id: one.clone() };
    planned_and_done(&okta, reset_one.clone(), Changed).await;
    assert!(env.org().factors_of(&user.id).iter().all(|f| f.id != one));
    planned_and_done(&okta, reset_one, Unchanged).await;

    env.org().enroll_factor(&user.id, "sms").unwrap();
    let reset_all = OktaWrite::ResetFactors { user_id: user.id.clone() };
    planned_and_done(&okta, reset_all.clone(), Changed).await;
    assert!(env.org().factors_of(&user.id).is_empty());
    planned_and_done(&okta, reset_all, Unchanged).await;
}

#[tokio::test]
async fn apps_are_assigned_to_users_and_groups_and_taken_back_once() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let apps = okta
        .api_call(&ApiRequest { method: "GET".into(), path: "/api/v1/apps".into(), query: vec![], body: None })
        .await
        .unwrap();
    assert_eq!(apps.status, 200);
    assert!(okta.find_app("No Such App Anywhere").await.unwrap().is_none());
    // An app and someone without it yet.
    let mut pair = None;
    for listed in apps.body.as_array().expect("the sandbox has apps") {
        let label = listed["label"].as_str().unwrap();
        let app = okta.find_app(label).await.unwrap().expect("found by its label");
        assert_eq!(app.id, listed["id"].as_str().unwrap());
        let holders: BTreeSet<String> = okta.list_app_users(&app.id).await.unwrap().into_iter().map(|u| u.id).collect();
        let without = env
            .org()
            .users()
            .into_iter()
            .find(|u| u.status == "ACTIVE" && u.id != env.org().service_user_id() && !holders.contains(&u.id));
        if let Some(user) = without {
            pair = Some((app, user));
            break;
        }
    }
    let (app, user) = pair.expect("some app some active user lacks");

    let assign = OktaWrite::AssignApp { app_id: app.id.clone(), to: Assignee::User(user.id.clone()), profile: None };
    planned_and_done(&okta, assign.clone(), Changed).await;
    let assigned = okta.list_app_users(&app.id).await.unwrap();
    assert!(assigned.iter().any(|u| u.id == user.id && u.scope == "USER"), "{assigned:?}");
    assert!(okta.list_app_links(&user.id).await.unwrap().iter().any(|l| l.app_instance_id == app.id));
    env.org().start_recording();
    planned_and_done(&okta, assign, Unchanged).await;
    assert!(writes_sent(&env).is_empty());

    let unassign = OktaWrite::UnassignApp { app_id: app.id.clone(), from: Assignee::User(user.id.clone()) };
    planned_and_done(&okta, unassign.clone(), Changed).await;
    planned_and_done(&okta, unassign, Unchanged).await;

    // A group: its members get the app through it.
    let group = okta.create_group("App testers", None).await.unwrap().group;
    okta.add_to_group(&group.id, &user.id).await.unwrap();
    let to_group = OktaWrite::AssignApp { app_id: app.id.clone(), to: Assignee::Group(group.id.clone()), profile: None };
    planned_and_done(&okta, to_group.clone(), Changed).await;
    planned_and_done(&okta, to_group, Unchanged).await;
    assert!(okta.list_app_groups(&app.id).await.unwrap().iter().any(|g| g.id == group.id));
    let through_group = okta.list_app_users(&app.id).await.unwrap();
    assert!(through_group.iter().any(|u| u.id == user.id && u.scope == "GROUP"), "{through_group:?}");
    // Not directly assigned: nothing to take away from the user.
    planned_and_done(&okta, OktaWrite::UnassignApp { app_id: app.id.clone(), from: Assignee::User(user.id.clone()) }, Unchanged).await;
    planned_and_done(&okta, OktaWrite::UnassignApp { app_id: app.id.clone(), from: Assignee::Group(group.id.clone()) }, Changed).await;
}

#[tokio::test]
async fn users_are_listed_page_by_page_with_a_cursor() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let all = env.org().users().len();
    let query = UserQuery { limit: Some(3), ..Default::default() };
    let (mut seen, mut after, mut pages) = (BTreeSet::new(), None, 0);
    loop {
        let page = okta.list_users_page(&query, after.as_deref()).await.unwrap();
        pages += 1;
        assert!(page.users.len() <= 3);
        for u in page.users {
            assert!(seen.insert(u.id), "a user on two pages");
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert!(pages > 1);
    // Okta lists DEPROVISIONED users only when asked by filter.
    let listed = env.org().users().into_iter().filter(|u| u.status != "DEPROVISIONED").count();
    assert!(seen.len() == listed || seen.len() == all, "{} of {listed}", seen.len());
}

#[tokio::test]
async fn the_custom_api_action_answers_as_okta_does() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env.org().users().into_iter().find(|u| u.status == "ACTIVE" && u.id != env.org().service_user_id()).unwrap();
    let get = |path: String| ApiRequest { method: "GET".into(), path, query: vec![], body: None };

    let found = okta.api_call(&get(format!("/api/v1/users/{}", user.id))).await.unwrap();
    assert_eq!((found.status, found.body["id"].as_str()), (200, Some(user.id.as_str())));
    let missing = okta.api_call(&get("/api/v1/users/00unothere".into())).await.unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["errorCode"], "E0000007");

    let page = okta
        .api_call(&ApiRequest { query: vec![("limit".into(), "2".into())], ..get("/api/v1/users".into()) })
        .await
        .unwrap();
    assert_eq!(page.body.as_array().map(Vec::len), Some(2));
    assert!(page.next.is_some(), "the next page's cursor");

    let suspend = ApiRequest {
        method: "POST".into(),
        path: format!("/api/v1/users/{}/lifecycle/suspend", user.id),
        query: vec![],
        body: None,
    };
    let done = okta.api_call(&suspend).await.unwrap();
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(env.org().user(&user.id).unwrap().status, "SUSPENDED");
    let refused = okta.api_call(&suspend).await.unwrap();
    assert_eq!(refused.status, 403, "suspending a suspended user is Okta's error: {}", refused.body);
    assert_eq!(refused.body["errorCode"], "E0000038");

    let update = ApiRequest {
        method: "POST".into(),
        path: format!("/api/v1/users/{}", user.id),
        query: vec![],
        body: Some(json!({ "profile": { "title": "Principal" } })),
    };
    assert_eq!(okta.api_call(&update).await.unwrap().status, 200);
    assert_eq!(env.org().user(&user.id).unwrap().profile["title"], Value::from("Principal"));

    let outside = okta.api_call(&get("/api/v1/users/../../admin".into())).await.unwrap_err();
    assert_eq!(outside.kind, lanyard_core::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn unlocking_an_active_user_asks_okta_and_reads_a_refusal_as_unchanged() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env.org().users().into_iter().find(|u| u.status == "ACTIVE" && u.id != env.org().service_user_id()).unwrap();
    let events = env.org().events().len();
    env.org().start_recording();
    assert_eq!(okta.lifecycle(&user.id, LifecycleOp::Unlock).await.unwrap(), Unchanged);
    let sent = writes_sent(&env);
    assert_eq!(sent, vec![format!("POST /api/v1/users/{}/lifecycle/unlock", user.id)], "asked, since no read shows a device block");
    assert_eq!(env.org().events().len(), events, "and nothing happened");

    env.org().lock_user(&user.id).unwrap();
    assert_eq!(okta.lifecycle(&user.id, LifecycleOp::Unlock).await.unwrap(), Changed);
    assert_eq!(env.org().user(&user.id).unwrap().status, "ACTIVE");
}
