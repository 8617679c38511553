//! The sandbox org's population and behaviour: realistic, deterministic, on
//! the injected clock, with admin endpoints and faults over HTTP.

use crate::support::{Env, start_time};
use chrono::Duration;
use lanyard_core::ManualClock;
use lanyard_sandbox::okta::{SandboxConfig, SandboxOrg};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[test]
fn the_seeded_org_looks_like_a_company() {
    let org = SandboxOrg::new(
        SandboxConfig::default(),
        Arc::new(ManualClock::new(start_time())),
    );
    let users = org.users();
    assert!(users.len() >= 200, "{}", users.len());
    let ids: HashSet<_> = users.iter().map(|u| u.id.as_str()).collect();
    let logins: HashSet<_> = users.iter().map(|u| u.login().to_lowercase()).collect();
    assert_eq!(ids.len(), users.len());
    assert_eq!(logins.len(), users.len());
    assert!(
        users
            .iter()
            .all(|u| u.id.len() == 20 && u.id.starts_with("00u"))
    );

    let mut by_dept: HashMap<String, usize> = HashMap::new();
    for u in &users {
        *by_dept
            .entry(u.profile["department"].as_str().unwrap().to_string())
            .or_default() += 1;
        assert!(u.profile["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    for d in [
        "Engineering",
        "Sales",
        "HR",
        "Finance",
        "Marketing",
        "Support",
        "IT",
        "Legal",
    ] {
        assert!(by_dept.get(d).is_some_and(|n| *n >= 3), "{d}: {by_dept:?}");
    }
    // Managers are real users; only the CEO has none.
    let without_manager: Vec<_> = users
        .iter()
        .filter(|u| u.profile.get("managerId").is_none())
        .collect();
    assert_eq!(without_manager.len(), 1);
    assert_eq!(
        without_manager[0].profile["title"],
        "Chief Executive Officer"
    );
    for u in &users {
        if let Some(m) = u.profile.get("managerId").and_then(|v| v.as_str()) {
            assert!(ids.contains(m), "{} reports to a missing {m}", u.id);
        }
    }
    // Statuses, ages, factors.
    let statuses: HashSet<_> = users.iter().map(|u| u.status.as_str()).collect();
    for s in [
        "ACTIVE",
        "LOCKED_OUT",
        "SUSPENDED",
        "DEPROVISIONED",
        "STAGED",
        "PROVISIONED",
    ] {
        assert!(statuses.contains(s), "{s}");
    }
    let now = start_time();
    let age = |u: &lanyard_core::okta::User| {
        now - chrono::DateTime::parse_from_rfc3339(&u.created)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    assert!(
        users.iter().any(|u| age(u) < Duration::days(3)),
        "some accounts are days old"
    );
    assert!(
        users.iter().any(|u| age(u) > Duration::days(4 * 365)),
        "some are years old"
    );
    let active_old_without_factors = users
        .iter()
        .filter(|u| {
            u.status == "ACTIVE" && age(u) > Duration::days(3) && org.factors_of(&u.id).is_empty()
        })
        .count();
    let active_with = users
        .iter()
        .filter(|u| u.status == "ACTIVE" && !org.factors_of(&u.id).is_empty())
        .count();
    assert!(
        active_old_without_factors >= 5,
        "{active_old_without_factors}"
    );
    assert!(active_with > active_old_without_factors * 3);

    // Groups of the use cases and their memberships.
    for g in [
        "Everyone",
        "Engineering",
        "Sales",
        "HR",
        "GitHub",
        "Jira",
        "Salesforce",
        "Gong",
        "BambooHR",
        "Okta Administrators",
    ] {
        assert!(org.group_by_name(g).is_some(), "{g}");
    }
    assert_eq!(
        org.group_by_name("Everyone").unwrap().group_type,
        "BUILT_IN"
    );
    assert_eq!(
        org.members_of(&org.group_by_name("Everyone").unwrap().id)
            .len(),
        users.len()
    );
    let github = org.members_of(&org.group_by_name("GitHub").unwrap().id);
    assert!(github.len() > 40);
    assert!(
        org.groups_of(org.service_user_id())
            .iter()
            .any(|g| g.name == "Okta Administrators")
    );
}

#[test]
fn the_same_seed_makes_the_same_org() {
    let a = SandboxOrg::new(
        SandboxConfig::default(),
        Arc::new(ManualClock::new(start_time())),
    );
    let b = SandboxOrg::new(
        SandboxConfig::default(),
        Arc::new(ManualClock::new(start_time())),
    );
    assert_eq!(a.users(), b.users());
    assert_eq!(a.admin_token(), b.admin_token());
    let c = SandboxOrg::new(
        SandboxConfig {
            seed: 8,
            ..SandboxConfig::default()
        },
        Arc::new(ManualClock::new(start_time())),
    );
    assert_ne!(a.users()[10].id, c.users()[10].id);
    assert_ne!(a.admin_token(), c.admin_token());
}

#[tokio::test]
async fn timestamps_follow_the_injected_clock() {
    let env = Env::new().await;
    env.clock.advance(std::time::Duration::from_secs(3600));
    let profile = lanyard_sandbox::okta::new_user_profile(
        "Tim",
        "Stamp",
        "acme.example",
        &[("department", "Legal")],
    );
    let user = env.admin().create_user(&profile, false, &[]).await.unwrap();
    assert_eq!(user.created, "2026-03-02T10:30:00.000Z");
    assert_eq!(user.status, "STAGED");
    let ev = env
        .org()
        .events_of_type("user.lifecycle.create")
        .pop()
        .unwrap();
    assert_eq!(
        ev.published
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "2026-03-02T10:30:00.000Z"
    );
}

#[tokio::test]
async fn admin_endpoints_make_things_happen_over_http() {
    let env = Env::new().await;
    let http = reqwest::Client::new();
    let base = &env.sandbox.base_url;
    let auth = format!("SSWS {}", env.org().admin_token());
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE")
        .unwrap();

    let info: serde_json::Value = http
        .get(format!("{base}/sandbox/v1/info"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["counts"]["users"], env.org().users().len());
    let r = http
        .post(format!(
            "{base}/sandbox/v1/users/{}/lock",
            user.profile["login"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(env.org().user(&user.id).unwrap().status, "LOCKED_OUT");
    let r = http
        .post(format!("{base}/sandbox/v1/users/{}/factors", user.id))
        .header("authorization", &auth)
        .json(&serde_json::json!({"factorType": "webauthn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        env.org()
            .factors_of(&user.id)
            .iter()
            .any(|f| f.factor_type == "webauthn")
    );

    // Faults over HTTP.
    let r = http
        .post(format!("{base}/sandbox/v1/faults"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"status": 429, "count": 1, "pathPrefix": "/api/v1/groups", "resetAfterSeconds": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{base}/api/v1/groups"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
    let reset: i64 = r.headers()["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(reset, env.org().now().timestamp() + 30);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000047");
    let r = http
        .get(format!("{base}/api/v1/groups"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-rate-limit-limit").is_some());

    // The read-only token cannot drive the admin endpoints.
    let r = http
        .get(format!("{base}/sandbox/v1/info"))
        .header(
            "authorization",
            format!("SSWS {}", env.org().readonly_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
