//! Groups: create, replace, delete, members paged, and what Okta forbids.

use crate::rest::Org;
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test]
async fn okta_groups_are_created_replaced_and_deleted() {
    let o = Org::new().await;
    let since = o.log_len();
    let a = o
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Contractors", "description": "Not employees"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["type"], "OKTA_GROUP");
    assert_eq!(a.body["objectClass"], json!(["okta:user_group"]));
    assert_eq!(
        a.body["profile"],
        json!({"name": "Contractors", "description": "Not employees"})
    );
    let id = a.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("00g") && id.len() == 20);
    let created = o.events_since(since, "group.lifecycle.create");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].target[0].id, id);
    assert_eq!(created[0].target[0].entity_type, "UserGroup");
    assert_eq!(
        o.get(&format!("/api/v1/groups/{id}")).await.body["profile"]["name"],
        "Contractors"
    );

    // Okta refuses a second group of the same name, and what its group
    // profile does not declare.
    for (body, cause) in [
        (
            json!({"profile": {"name": "contractors"}}),
            "name: An object with this field already exists",
        ),
        (json!({"profile": {"name": "Sales"}}), "already exists"),
        (
            json!({"profile": {"description": "no name"}}),
            "name: The field cannot be left blank",
        ),
        (
            json!({"profile": {"name": "  "}}),
            "name: The field cannot be left blank",
        ),
        (
            json!({"profile": {"name": "X", "owner": "me"}}),
            "owner: Property 'owner' is not defined",
        ),
        (
            json!({"profile": {"name": 7}}),
            "name: Does not match required type",
        ),
        (
            json!({"name": "no profile"}),
            "profile: The field cannot be left blank",
        ),
        (
            json!({"profile": {"name": "x".repeat(256)}}),
            "name: The field is too long",
        ),
    ] {
        let a = o.post("/api/v1/groups", body.clone()).await;
        assert_eq!((a.status, a.code()), (400, "E0000001"), "{body}");
        assert!(a.causes().contains(cause), "{body}: {}", a.causes());
    }

    // Replace: the whole profile (no description now).
    let since = o.log_len();
    let a = o
        .put(
            &format!("/api/v1/groups/{id}"),
            json!({"profile": {"name": "Contractors (EMEA)"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["profile"], json!({"name": "Contractors (EMEA)"}));
    assert_eq!(o.events_since(since, "group.profile.update").len(), 1);
    let a = o
        .put(
            &format!("/api/v1/groups/{id}"),
            json!({"profile": {"name": "Engineering"}}),
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
    let a = o
        .put(
            "/api/v1/groups/00gnotagroup00000000",
            json!({"profile": {"name": "A"}}),
        )
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    // Only an OKTA_GROUP's profile changes.
    let everyone = o.group_id("Everyone");
    let a = o
        .put(
            &format!("/api/v1/groups/{everyone}"),
            json!({"profile": {"name": "All"}}),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "E0000006"));

    // Delete: never Everyone; a group with members and an app assignment
    // takes both with it.
    let a = o.delete(&format!("/api/v1/groups/{everyone}")).await;
    assert_eq!((a.status, a.code()), (403, "E0000006"));
    let user = o
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE")
        .unwrap();
    o.call(
        "PUT",
        &format!("/api/v1/groups/{id}/users/{}", user.id),
        None,
    )
    .await;
    let since = o.log_len();
    assert_eq!(o.delete(&format!("/api/v1/groups/{id}")).await.status, 204);
    assert_eq!(o.events_since(since, "group.lifecycle.delete").len(), 1);
    assert_eq!(o.get(&format!("/api/v1/groups/{id}")).await.status, 404);
    assert!(o.org().groups_of(&user.id).iter().all(|g| g.id != id));
    assert_eq!(o.delete(&format!("/api/v1/groups/{id}")).await.status, 404);
}

#[tokio::test]
async fn built_in_memberships_are_forbidden() {
    let o = Org::new().await;
    let everyone = o.group_id("Everyone");
    let user = o.org().users()[0].clone();
    for method in ["PUT", "DELETE"] {
        let a = o
            .call(
                method,
                &format!("/api/v1/groups/{everyone}/users/{}", user.id),
                None,
            )
            .await;
        // assignUserToGroup / unassignUserFromGroup document 204, 403, 404, 429.
        assert_eq!(
            (a.status, a.code()),
            (403, "E0000006"),
            "{method}: {}",
            a.body
        );
        assert!(a.causes().contains("BUILT_IN"), "{}", a.causes());
    }
}

#[tokio::test]
async fn members_are_paged_by_id_with_next_links() {
    let o = Org::new().await;
    let everyone = o.group_id("Everyone");
    let first = o
        .get(&format!("/api/v1/groups/{everyone}/users?limit=50"))
        .await;
    assert_eq!(first.items().len(), 50);
    let next = first.next().expect("a next link");
    assert!(
        next.contains("limit=50") && next.contains("after="),
        "{next}"
    );
    let all = o
        .all(&format!("/api/v1/groups/{everyone}/users?limit=50"))
        .await;
    let ids: Vec<&str> = all.iter().map(|u| u["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());
    assert_eq!(ids.len(), o.org().users().len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "by id");
    // The default page (1000) holds them all.
    let a = o.get(&format!("/api/v1/groups/{everyone}/users")).await;
    assert_eq!(a.items().len(), ids.len());
    assert!(a.next().is_none());
    let a = o.get("/api/v1/groups/00gnotagroup00000000/users").await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    let a = o
        .get(&format!("/api/v1/groups/{everyone}/users?limit=ten"))
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
}

#[tokio::test]
async fn a_group_query_is_not_paged() {
    let o = Org::new().await;
    // "You can't page a query. The default limit for a query is 300 results."
    let a = o.get("/api/v1/groups?q=s&limit=1").await;
    assert_eq!(a.items().len(), 1);
    assert!(a.next().is_none(), "{:?}", a.links);
    let a = o.get("/api/v1/groups?q=s").await;
    let want = o
        .org()
        .groups()
        .iter()
        .filter(|g| g.name.to_lowercase().starts_with('s'))
        .count();
    assert_eq!(a.items().len(), want);
    assert!(want >= 3, "Sales, Salesforce, Support");
    // Without `q`, pages by id with next links.
    let a = o.get("/api/v1/groups?limit=3").await;
    assert_eq!(a.items().len(), 3);
    assert!(a.next().is_some());
}
