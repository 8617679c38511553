//! Group rules: created inactive, evaluated when activated and when a
//! profile changes, refused where Okta refuses them.

use crate::rest::Org;
use serde_json::{Value, json};

fn rule(name: &str, expression: &str, groups: &[&str]) -> Value {
    json!({
        "type": "group_rule",
        "name": name,
        "conditions": {
            "people": {"users": {"exclude": []}, "groups": {"exclude": []}},
            "expression": {"value": expression, "type": "urn:okta:expression:1.0"},
        },
        "actions": {"assignUserToGroups": {"groupIds": groups}},
    })
}

#[tokio::test]
async fn a_rule_assigns_matching_users_while_it_is_active() {
    let o = Org::new().await;
    let g = o
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "London Engineers"}}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_string();
    let expression =
        r#"user.department == "Engineering" && String.stringContains(user.city, "London")"#;
    let a = o
        .post(
            "/api/v1/groups/rules",
            rule("London engineers", expression, &[&gid]),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "INACTIVE");
    assert_eq!(a.body["type"], "group_rule");
    assert_eq!(a.body["conditions"]["expression"]["value"], expression);
    assert_eq!(
        a.body["actions"]["assignUserToGroups"]["groupIds"],
        json!([gid])
    );
    let rid = a.body["id"].as_str().unwrap().to_string();
    assert!(rid.starts_with("0pr"));
    assert!(
        o.org().members_of(&gid).is_empty(),
        "an inactive rule assigns nobody"
    );

    let expected: Vec<String> = o
        .org()
        .users()
        .into_iter()
        .filter(|u| {
            u.status != "DEPROVISIONED"
                && u.profile.get("department") == Some(&json!("Engineering"))
                && u.profile.get("city") == Some(&json!("London"))
        })
        .map(|u| u.id)
        .collect();
    assert!(!expected.is_empty());
    let since = o.log_len();
    let a = o
        .post_empty(&format!("/api/v1/groups/rules/{rid}/lifecycle/activate"))
        .await;
    assert_eq!(a.status, 204);
    let mut members = o.org().members_of(&gid);
    members.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(members, want);
    assert_eq!(
        o.events_since(since, "group.user_membership.add").len(),
        expected.len()
    );
    assert_eq!(
        o.get(&format!("/api/v1/groups/rules/{rid}")).await.body["status"],
        "ACTIVE"
    );

    // A profile change that makes someone match assigns them; one that makes
    // them stop matching takes them out again.
    let mover = o
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE" && u.profile["department"] == "Sales")
        .unwrap();
    let a = o
        .post(
            &format!("/api/v1/users/{}", mover.id),
            json!({"profile": {"department": "Engineering", "city": "London"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(o.org().members_of(&gid).contains(&mover.id));
    let since = o.log_len();
    o.post(
        &format!("/api/v1/users/{}", mover.id),
        json!({"profile": {"city": "Dublin"}}),
    )
    .await;
    assert!(!o.org().members_of(&gid).contains(&mover.id));
    assert_eq!(
        o.events_since(since, "group.user_membership.remove").len(),
        1
    );
    // A user created matching is assigned at once.
    let mut profile = lanyard_sandbox::okta::new_user_profile(
        "Ada",
        "Rule",
        "acme.example",
        &[("department", "Engineering")],
    );
    profile.insert("city".into(), json!("London"));
    let a = o
        .post("/api/v1/users?activate=true", json!({"profile": profile}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        o.org()
            .members_of(&gid)
            .contains(&a.body["id"].as_str().unwrap().to_string())
    );

    // Okta refuses to update an ACTIVE rule; once inactive, its condition
    // can change, its actions never.
    let replaced = rule(
        "London engineers",
        r#"user.department == "Engineering""#,
        &[&gid],
    );
    let a = o
        .put(&format!("/api/v1/groups/rules/{rid}"), replaced.clone())
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"), "{}", a.body);
    assert!(a.causes().contains("ACTIVE"), "{}", a.causes());
    assert_eq!(
        o.post_empty(&format!("/api/v1/groups/rules/{rid}/lifecycle/deactivate"))
            .await
            .status,
        204
    );
    let a = o
        .put(&format!("/api/v1/groups/rules/{rid}"), replaced)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["conditions"]["expression"]["value"],
        r#"user.department == "Engineering""#
    );
    let sales = o.group_id("Sales");
    let a = o
        .put(
            &format!("/api/v1/groups/rules/{rid}"),
            rule("London engineers", r#"user.city == "X""#, &[&sales]),
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
    assert!(a.causes().contains("actions"), "{}", a.causes());

    // Deleting with removeUsers takes out whom the rule put in.
    let before = o.org().members_of(&gid).len();
    assert!(before > 0);
    let a = o
        .delete(&format!("/api/v1/groups/rules/{rid}?removeUsers=true"))
        .await;
    assert_eq!(a.status, 202);
    assert!(
        o.org().members_of(&gid).is_empty(),
        "{:?}",
        o.org().members_of(&gid)
    );
    assert_eq!(
        o.get(&format!("/api/v1/groups/rules/{rid}")).await.status,
        404
    );
    assert_eq!(
        o.delete(&format!("/api/v1/groups/rules/{rid}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn rules_are_listed_searched_and_refused_as_okta_refuses_them() {
    let o = Org::new().await;
    let jira = o.group_id("Jira");
    let everyone = o.group_id("Everyone");
    for (i, dept) in ["Product", "Support", "Engineering"].iter().enumerate() {
        let a = o
            .post(
                "/api/v1/groups/rules",
                rule(
                    &format!("Jira for {dept} {i}"),
                    &format!(r#"user.department == "{dept}""#),
                    &[&jira],
                ),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let all = o.all("/api/v1/groups/rules?limit=2").await;
    assert_eq!(all.len(), 3);
    let a = o.get("/api/v1/groups/rules?search=support").await;
    assert_eq!(a.items().len(), 1);
    assert_eq!(a.items()[0]["name"], "Jira for Support 1");
    let a = o
        .get("/api/v1/groups/rules?expand=groupIdToGroupNameMap")
        .await;
    assert_eq!(
        a.items()[0]["_embedded"]["groupIdToGroupNameMap"][&jira],
        "Jira"
    );

    for (body, cause) in [
        (
            rule("Bad", r#"isMemberOfAnyGroup("00g1")"#, &[&jira]),
            "Invalid expression",
        ),
        (
            rule("Bad", r#"user.favouriteColour == "green""#, &[&jira]),
            "Invalid property favouriteColour",
        ),
        (
            rule("Bad", r#"user.department = "Sales""#, &[&jira]),
            "Invalid expression",
        ),
        (
            rule("Bad", "", &[&jira]),
            "conditions.expression.value: The field cannot be left blank",
        ),
        (
            rule("Bad", r#"user.city == "X""#, &[]),
            "at least one group",
        ),
        (
            rule("Bad", r#"user.city == "X""#, &["00gnotagroup00000000"]),
            "does not exist",
        ),
        (rule("Bad", r#"user.city == "X""#, &[&everyone]), "BUILT_IN"),
        (
            rule(&"x".repeat(51), r#"user.city == "X""#, &[&jira]),
            "name: The field is too long",
        ),
        (
            rule("", r#"user.city == "X""#, &[&jira]),
            "name: The field cannot be left blank",
        ),
    ] {
        let a = o.post("/api/v1/groups/rules", body.clone()).await;
        assert_eq!((a.status, a.code()), (400, "E0000001"), "{body}");
        assert!(a.causes().contains(cause), "{body}: {}", a.causes());
    }
    let mut bad_type = rule("Bad", r#"user.city == "X""#, &[&jira]);
    bad_type["conditions"]["expression"]["type"] = json!("urn:okta:expression:2.0");
    assert_eq!(o.post("/api/v1/groups/rules", bad_type).await.status, 400);
    let a = o.get("/api/v1/groups/rules/0prnotarule000000000").await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    let a = o
        .post_empty("/api/v1/groups/rules/0prnotarule000000000/lifecycle/activate")
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
}
