//! Users: delete, passwords, factors, profile validation, and the filters
//! and searches Okta accepts.

use crate::rest::{Org, target_ids};
use serde_json::json;

fn active_with_factors(o: &Org, min: usize) -> lanyard_core::okta::User {
    o.org()
        .users()
        .into_iter()
        .find(|u| {
            u.status == "ACTIVE"
                && u.id != o.org().admin_user_id()
                && u.id != o.org().service_user_id()
                && o.org().factors_of(&u.id).len() >= min
        })
        .unwrap()
}

#[tokio::test]
async fn delete_deactivates_first_and_deletes_second() {
    let o = Org::new().await;
    let user = active_with_factors(&o, 1);
    let since = o.log_len();
    let a = o
        .delete(&format!("/api/v1/users/{}?sendEmail=false", user.id))
        .await;
    assert_eq!(a.status, 204);
    assert_eq!(o.org().user(&user.id).unwrap().status, "DEPROVISIONED");
    assert_eq!(o.events_since(since, "user.lifecycle.deactivate").len(), 1);
    assert!(
        o.events_since(since, "user.lifecycle.delete.initiated")
            .is_empty()
    );

    let since = o.log_len();
    let a = o.delete(&format!("/api/v1/users/{}", user.id)).await;
    assert_eq!(a.status, 204);
    let deleted = o.events_since(since, "user.lifecycle.delete.initiated");
    assert_eq!(deleted.len(), 1);
    assert_eq!(target_ids(&deleted[0]), std::slice::from_ref(&user.id));
    let a = o.get(&format!("/api/v1/users/{}", user.id)).await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    let a = o.delete(&format!("/api/v1/users/{}", user.id)).await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    assert!(o.org().factors_of(&user.id).is_empty());
    assert!(
        o.org()
            .members_of(&o.group_id("Everyone"))
            .iter()
            .all(|m| *m != user.id)
    );
    let search = o
        .get("/api/v1/users?search=status%20eq%20%22DEPROVISIONED%22&limit=200")
        .await;
    assert!(!search.ids().contains(&user.id));
    // The login is free again.
    assert!(o.org().user(user.login()).is_none());

    // A cursor naming the deleted user is still a place in the list.
    let a = o
        .get(&format!("/api/v1/users?limit=5&after={}", user.id))
        .await;
    assert_eq!(a.status, 200);
    assert!(a.ids().iter().all(|id| *id > user.id));
}

#[tokio::test]
async fn passwords_expire_and_reset_in_the_statuses_okta_allows() {
    let o = Org::new().await;
    let user = active_with_factors(&o, 0);
    let since = o.log_len();
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/expire_password",
            user.id
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["id"], user.id.as_str());
    assert_eq!(a.body["status"], "PASSWORD_EXPIRED");
    assert_eq!(
        o.events_since(since, "user.account.expire_password").len(),
        1
    );
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/expire_password_with_temp_password",
            user.id
        ))
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body["tempPassword"]
            .as_str()
            .is_some_and(|p| p.len() >= 8),
        "{}",
        a.body
    );
    // Okta's older form of the same.
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/expire_password?tempPassword=true",
            user.id
        ))
        .await;
    assert!(a.body["tempPassword"].is_string(), "{}", a.body);

    let since = o.log_len();
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/reset_password?sendEmail=false",
            user.id
        ))
        .await;
    assert_eq!(a.status, 200);
    let url = a.body["resetPasswordUrl"].as_str().unwrap();
    assert!(
        url.starts_with(&o.sandbox.base_url) && url.contains("/reset-password/"),
        "{url}"
    );
    assert_eq!(o.org().user(&user.id).unwrap().status, "RECOVERY");
    assert_eq!(
        o.events_since(since, "user.account.reset_password").len(),
        1
    );
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/reset_password",
            user.id
        ))
        .await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!({})),
        "the link is emailed"
    );

    // Not in every status.
    let staged = o
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "STAGED")
        .unwrap();
    for op in ["expire_password", "reset_password"] {
        let a = o
            .post_empty(&format!("/api/v1/users/{}/lifecycle/{op}", staged.id))
            .await;
        assert_eq!((a.status, a.code()), (403, "E0000038"), "{op}");
    }
    let a = o
        .post_empty("/api/v1/users/00unobody00000000000/lifecycle/reset_password")
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
}

#[tokio::test]
async fn factors_are_reset_or_unenrolled() {
    let o = Org::new().await;
    let user = active_with_factors(&o, 1);
    let since = o.log_len();
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/reset_factors",
            user.id
        ))
        .await;
    assert_eq!((a.status, &a.body), (200, &serde_json::Value::Null));
    assert!(o.org().factors_of(&user.id).is_empty());
    assert_eq!(o.events_since(since, "user.mfa.factor.reset_all").len(), 1);
    assert_eq!(o.org().user(&user.id).unwrap().status, "ACTIVE");

    // Okta Verify: unenrolling push unenrolls its TOTP too.
    let push = o.org().enroll_factor(&user.id, "push").unwrap();
    let totp = o
        .org()
        .enroll_factor(&user.id, "token:software:totp")
        .unwrap();
    let sms = o.org().enroll_factor(&user.id, "sms").unwrap();
    let listed = o.get(&format!("/api/v1/users/{}/factors", user.id)).await;
    assert_eq!(listed.items().len(), 3);
    let since = o.log_len();
    let a = o
        .delete(&format!("/api/v1/users/{}/factors/{push}", user.id))
        .await;
    assert_eq!(a.status, 204);
    let left: Vec<String> = o
        .org()
        .factors_of(&user.id)
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(left, std::slice::from_ref(&sms));
    assert_eq!(o.events_since(since, "user.mfa.factor.deactivate").len(), 2);
    let a = o
        .delete(&format!("/api/v1/users/{}/factors/{totp}", user.id))
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    assert_eq!(
        o.delete(&format!("/api/v1/users/{}/factors/{sms}", user.id))
            .await
            .status,
        204
    );
    assert!(o.org().factors_of(&user.id).is_empty());

    // Not for a deactivated user.
    let gone = o
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "DEPROVISIONED")
        .unwrap();
    let a = o
        .post_empty(&format!(
            "/api/v1/users/{}/lifecycle/reset_factors",
            gone.id
        ))
        .await;
    assert_eq!((a.status, a.code()), (403, "E0000038"));
}

#[tokio::test]
async fn profiles_are_checked_against_the_user_schema() {
    let o = Org::new().await;
    let good = lanyard_sandbox::okta::new_user_profile(
        "Grace",
        "Hopper",
        "acme.example",
        &[
            ("department", "Engineering"),
            ("title", "Rear Admiral"),
            ("employeeNumber", "E1906"),
        ],
    );
    let a = o
        .post("/api/v1/users?activate=false", json!({"profile": good}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();

    let cases = [
        (
            json!({"favouriteColour": "green"}),
            "favouriteColour: Property 'favouriteColour' is not defined",
        ),
        (
            json!({"firstName": "x".repeat(51)}),
            "firstName: The field is too long",
        ),
        (
            json!({"email": "not an email"}),
            "email: Does not match required pattern",
        ),
        (
            json!({"secondEmail": "nope"}),
            "secondEmail: Does not match required pattern",
        ),
        (
            json!({"department": 42}),
            "department: Does not match required type",
        ),
        (
            json!({"countryCode": "USA"}),
            "countryCode: The field is too long",
        ),
        (
            json!({"login": null}),
            "login: The field cannot be left blank",
        ),
        (
            json!({"login": "grace"}),
            "login: Username must be in the form of an email address",
        ),
    ];
    for (change, cause) in &cases {
        let a = o
            .post(&format!("/api/v1/users/{id}"), json!({"profile": change}))
            .await;
        assert_eq!((a.status, a.code()), (400, "E0000001"), "{change}");
        assert!(a.causes().contains(cause), "{change}: {}", a.causes());
        let mut whole = good.clone();
        whole.insert("login".into(), json!("other.grace@acme.example"));
        for (k, v) in change.as_object().unwrap() {
            whole.insert(k.clone(), v.clone());
        }
        let a = o.post("/api/v1/users", json!({"profile": whole})).await;
        assert_eq!(
            (a.status, a.code()),
            (400, "E0000001"),
            "create with {change}"
        );
        assert!(a.causes().contains(cause), "{change}: {}", a.causes());
    }
    // Required attributes, all named at once.
    let a = o
        .post("/api/v1/users", json!({"profile": {"title": "Nobody"}}))
        .await;
    assert_eq!(a.status, 400);
    for attr in ["login", "email", "firstName", "lastName"] {
        assert!(
            a.causes()
                .contains(&format!("{attr}: The field cannot be left blank")),
            "{}",
            a.causes()
        );
    }
    // What the seed and the flows write is declared.
    let a = o
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"profile": {"managerId": "00u1", "manager": "Ada", "costCenter": "CC-1", "nickName": null, "mobilePhone": "+1 415 555 0100"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn filters_and_searches_take_what_okta_documents() {
    let o = Org::new().await;
    let locked = o
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status == "LOCKED_OUT")
        .count();
    assert!(locked > 0);
    let a = o
        .get("/api/v1/users?filter=status%20eq%20%22LOCKED_OUT%22")
        .await;
    assert_eq!(a.items().len(), locked);
    // A filter's values compare with their case; a search's do not.
    let a = o
        .get("/api/v1/users?filter=status%20eq%20%22locked_out%22")
        .await;
    assert_eq!((a.status, a.items().len()), (200, 0));
    let a = o
        .get("/api/v1/users?search=status%20eq%20%22locked_out%22")
        .await;
    assert_eq!(a.items().len(), locked);
    let a = o
        .get("/api/v1/users?filter=lastUpdated%20gt%20%222020-01-01T00:00:00.000Z%22%20and%20status%20eq%20%22LOCKED_OUT%22")
        .await;
    assert_eq!(a.items().len(), locked);

    for (query, why) in [
        (
            "filter=profile.department%20eq%20%22Sales%22",
            "cannot be filtered",
        ),
        ("filter=status%20ne%20%22ACTIVE%22", "only `eq`"),
        ("filter=profile.login%20sw%20%22a%22", "only `eq`"),
        ("filter=not%20(status%20eq%20%22ACTIVE%22)", "`not`"),
        ("search=status%20ne%20%22STAGED%22", "`ne`"),
        (
            "search=profile.department%20co%20%22ale%22",
            "`co` works only with",
        ),
        ("search=status%20eq", "expected a value"),
    ] {
        let a = o.get(&format!("/api/v1/users?{query}")).await;
        assert_eq!(
            (a.status, a.code()),
            (400, "E0000031"),
            "{query}: {}",
            a.body
        );
        assert!(a.causes().contains(why), "{query}: {}", a.causes());
    }
    let a = o.get("/api/v1/users?search=profile.lastName%20co%20%22a%22%20and%20status%20eq%20%22ACTIVE%22").await;
    assert_eq!(a.status, 200);
    assert!(!a.items().is_empty());
    // Given a search and a filter (Okta's spec excludes neither), the search wins.
    let a = o
        .get("/api/v1/users?search=status%20eq%20%22locked_out%22&filter=status%20eq%20%22ACTIVE%22&q=zz")
        .await;
    assert_eq!((a.status, a.items().len()), (200, locked));
}
