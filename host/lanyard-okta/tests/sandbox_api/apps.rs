//! Apps, their users (direct or through groups) and their groups.

use crate::rest::{Org, target_types};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn labels(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|a| a["label"].as_str().unwrap().to_string())
        .collect()
}

async fn app_id(o: &Org, label: &str) -> String {
    let apps = o.all("/api/v1/apps").await;
    apps.iter()
        .find(|a| a["label"] == label)
        .unwrap_or_else(|| panic!("no app {label}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The labels of the apps a user's app links name.
async fn app_links(o: &Org, user: &str) -> BTreeSet<String> {
    labels(
        o.get(&format!("/api/v1/users/{user}/appLinks"))
            .await
            .items(),
    )
}

/// A seeded active engineer: GitHub and Jira through groups, no Asana.
fn engineer(o: &Org) -> lanyard_core::okta::User {
    let github = o.group_id("GitHub");
    o.org()
        .users()
        .into_iter()
        .find(|u| {
            u.status == "ACTIVE"
                && u.profile["department"] == "Engineering"
                && o.org().groups_of(&u.id).iter().any(|g| g.id == github)
        })
        .unwrap()
}

#[tokio::test]
async fn apps_are_listed_searched_filtered_and_paged() {
    let o = Org::new().await;
    let all = o.all("/api/v1/apps").await;
    assert_eq!(
        labels(&all),
        [
            "Asana",
            "BambooHR",
            "GitHub Enterprise Cloud",
            "Gong",
            "Google Workspace",
            "Jira Software",
            "Salesforce",
            "Slack",
            "Workday",
            "Zoom"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
    for app in &all {
        assert_eq!(app["status"], "ACTIVE");
        assert_eq!(app["signOnMode"], "SAML_2_0");
        assert!(app["id"].as_str().unwrap().starts_with("0oa"));
        assert!(
            app["_links"]["users"]["href"]
                .as_str()
                .unwrap()
                .ends_with("/users")
        );
    }

    // `q`: a prefix of the name or the label.
    let a = o.get("/api/v1/apps?q=sl").await;
    assert_eq!(labels(a.items()), ["Slack".to_string()].into());
    let a = o.get("/api/v1/apps?q=Google").await;
    assert_eq!(labels(a.items()), ["Google Workspace".to_string()].into());
    assert!(o.get("/api/v1/apps?q=workspace").await.items().is_empty());

    // `filter`: the properties Okta documents, `eq` only.
    let a = o
        .get("/api/v1/apps?filter=status%20eq%20%22ACTIVE%22")
        .await;
    assert_eq!(a.items().len(), 10);
    let a = o.get("/api/v1/apps?filter=name%20eq%20%22zoom%22").await;
    assert_eq!(labels(a.items()), ["Zoom".to_string()].into());
    let a = o
        .get("/api/v1/apps?filter=status%20eq%20%22INACTIVE%22")
        .await;
    assert!(a.items().is_empty());
    for bad in ["label%20eq%20%22Zoom%22", "name%20sw%20%22z%22", "status"] {
        let a = o.get(&format!("/api/v1/apps?filter={bad}")).await;
        assert_eq!((a.status, a.code()), (400, "E0000031"), "{bad}: {}", a.body);
    }
    // The apps a user has, as Okta's `user.id eq` filter.
    let user = engineer(&o);
    let a = o
        .get(&format!(
            "/api/v1/apps?filter=user.id%20eq%20%22{}%22",
            user.id
        ))
        .await;
    assert!(
        labels(a.items()).contains("GitHub Enterprise Cloud"),
        "{:?}",
        labels(a.items())
    );
    assert!(!labels(a.items()).contains("Asana"));

    // Pages of 3 by id, 10 apps in all, each once.
    let first = o.get("/api/v1/apps?limit=3").await;
    assert_eq!(first.items().len(), 3);
    assert!(
        first.next().unwrap().contains("after="),
        "{:?}",
        first.links
    );
    let paged = o.all("/api/v1/apps?limit=3").await;
    let ids: Vec<String> = paged
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "by id, no repeats");
    assert_eq!(ids.len(), 10);

    let zoom = app_id(&o, "Zoom").await;
    let a = o.get(&format!("/api/v1/apps/{zoom}")).await;
    assert_eq!((a.status, a.body["name"].as_str()), (200, Some("zoom")));
    let a = o.get("/api/v1/apps/0oanotanapp000000000").await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
}

#[tokio::test]
async fn a_user_assigned_directly_has_the_app_until_unassigned() {
    let o = Org::new().await;
    let asana = app_id(&o, "Asana").await;
    let user = engineer(&o);
    assert!(!app_links(&o, &user.id).await.contains("Asana"));
    let a = o
        .get(&format!("/api/v1/apps/{asana}/users/{}", user.id))
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));

    let since = o.log_len();
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"id": user.id, "scope": "USER", "credentials": {"userName": "eng@asana.example"}, "profile": {"role": "member"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["id"], user.id.as_str());
    assert_eq!(a.body["scope"], "USER");
    assert_eq!(a.body["status"], "ACTIVE");
    assert_eq!(a.body["credentials"]["userName"], "eng@asana.example");
    assert_eq!(a.body["profile"], json!({"role": "member"}));
    let added = o.events_since(since, "application.user_membership.add");
    assert_eq!(added.len(), 1);
    assert_eq!(target_types(&added[0]), ["AppUser", "AppInstance", "User"]);
    assert_eq!(added[0].target[1].id, asana);
    assert_eq!(added[0].target[2].id, user.id);
    assert!(app_links(&o, &user.id).await.contains("Asana"));

    // Assigning again updates the assignment, and says so once.
    let since = o.log_len();
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"id": user.id, "profile": {"role": "admin"}}),
        )
        .await;
    assert_eq!(
        (a.status, &a.body["profile"]["role"]),
        (200, &json!("admin"))
    );
    assert_eq!(
        o.events_since(since, "application.user_membership.update")
            .len(),
        1
    );
    assert!(
        o.events_since(since, "application.user_membership.add")
            .is_empty()
    );
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"id": user.id, "profile": {"role": "admin"}}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        o.log_len(),
        since + 1,
        "the same assignment again changes nothing"
    );

    // An update of the app profile.
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users/{}", user.id),
            json!({"profile": {"role": "guest"}}),
        )
        .await;
    assert_eq!(
        (a.status, &a.body["profile"]),
        (200, &json!({"role": "guest"}))
    );
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users/{}", user.id),
            json!({"credentials": {"userName": "e2@asana.example"}}),
        )
        .await;
    assert_eq!(a.body["credentials"]["userName"], "e2@asana.example");
    let a = o
        .get(&format!(
            "/api/v1/apps/{asana}/users/{}?expand=user",
            user.id
        ))
        .await;
    assert_eq!(a.body["_embedded"]["user"]["id"], user.id.as_str());
    let listed = o.all(&format!("/api/v1/apps/{asana}/users?limit=7")).await;
    assert!(listed.iter().any(|u| u["id"] == user.id.as_str()));
    assert!(
        listed.iter().all(|u| u["scope"] == "USER"),
        "Asana is assigned to people only"
    );

    let since = o.log_len();
    let a = o
        .delete(&format!(
            "/api/v1/apps/{asana}/users/{}?sendEmail=false",
            user.id
        ))
        .await;
    assert_eq!(a.status, 204);
    assert_eq!(
        o.events_since(since, "application.user_membership.remove")
            .len(),
        1
    );
    assert!(!app_links(&o, &user.id).await.contains("Asana"));
    let a = o
        .delete(&format!("/api/v1/apps/{asana}/users/{}", user.id))
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));

    // Bad assignments.
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"scope": "USER"}),
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "E0000001"));
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"id": "00unobody00000000000"}),
        )
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    let a = o
        .post(
            "/api/v1/apps/0oanotanapp000000000/users",
            json!({"id": user.id}),
        )
        .await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
}

#[tokio::test]
async fn a_group_assignment_gives_its_members_the_app_while_they_are_members() {
    let o = Org::new().await;
    let asana = app_id(&o, "Asana").await;
    let user = engineer(&o);
    let group = o
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Asana Engineers", "description": "Asana for engineers"}}),
        )
        .await;
    assert_eq!(group.status, 200);
    let gid = group.body["id"].as_str().unwrap().to_string();

    let since = o.log_len();
    let a = o
        .put(
            &format!("/api/v1/apps/{asana}/groups/{gid}"),
            json!({"priority": 0, "profile": {"team": "eng"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.body["id"].as_str(), &a.body["priority"]),
        (Some(gid.as_str()), &json!(0))
    );
    assert_eq!(a.body["profile"], json!({"team": "eng"}));
    assert_eq!(
        o.events_since(since, "group.application_assignment.add")
            .len(),
        1
    );
    let a = o
        .get(&format!("/api/v1/apps/{asana}/groups/{gid}?expand=group"))
        .await;
    assert_eq!(
        a.body["_embedded"]["group"]["profile"]["name"],
        "Asana Engineers"
    );
    assert!(
        o.get(&format!("/api/v1/apps/{asana}/groups"))
            .await
            .ids()
            .contains(&gid)
    );

    // Joining the group: the membership, then the app.
    let since = o.log_len();
    assert_eq!(
        o.call(
            "PUT",
            &format!("/api/v1/groups/{gid}/users/{}", user.id),
            None
        )
        .await
        .status,
        204
    );
    let types: Vec<String> = o.org().events()[since..]
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "group.user_membership.add",
            "application.user_membership.add"
        ]
    );
    let a = o
        .get(&format!("/api/v1/apps/{asana}/users/{}", user.id))
        .await;
    assert_eq!((a.status, &a.body["scope"]), (200, &json!("GROUP")));
    assert_eq!(
        a.body["profile"],
        json!({"team": "eng"}),
        "the group's app profile"
    );
    assert!(
        a.body["_links"]["group"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&gid)
    );
    let links = o.get(&format!("/api/v1/users/{}/appLinks", user.id)).await;
    assert!(labels(links.items()).contains("Asana"));

    // A group grants it: Okta refuses the direct unassignment.
    let a = o
        .delete(&format!("/api/v1/apps/{asana}/users/{}", user.id))
        .await;
    assert_eq!((a.status, a.code()), (403, "E0000046"), "{}", a.body);
    assert!(a.causes().contains("group memberships"));
    // Assigned directly as well: the scope is USER; still refused while the group grants it.
    let a = o
        .post(
            &format!("/api/v1/apps/{asana}/users"),
            json!({"id": user.id, "scope": "USER"}),
        )
        .await;
    assert_eq!(a.body["scope"], "USER");
    let a = o
        .delete(&format!("/api/v1/apps/{asana}/users/{}", user.id))
        .await;
    assert_eq!(a.status, 403);

    // Leaving the group with the direct assignment: the app stays.
    let since = o.log_len();
    assert_eq!(
        o.delete(&format!("/api/v1/groups/{gid}/users/{}", user.id))
            .await
            .status,
        204
    );
    assert!(
        o.events_since(since, "application.user_membership.remove")
            .is_empty()
    );
    assert_eq!(
        o.delete(&format!("/api/v1/apps/{asana}/users/{}", user.id))
            .await
            .status,
        204
    );

    // Through the group only: leaving it takes the app.
    o.call(
        "PUT",
        &format!("/api/v1/groups/{gid}/users/{}", user.id),
        None,
    )
    .await;
    let since = o.log_len();
    o.delete(&format!("/api/v1/groups/{gid}/users/{}", user.id))
        .await;
    let types: Vec<String> = o.org().events()[since..]
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "group.user_membership.remove",
            "application.user_membership.remove"
        ]
    );
    assert_eq!(
        o.get(&format!("/api/v1/apps/{asana}/users/{}", user.id))
            .await
            .status,
        404
    );

    // Unassigning the group takes the app from members who have it only so.
    o.call(
        "PUT",
        &format!("/api/v1/groups/{gid}/users/{}", user.id),
        None,
    )
    .await;
    let since = o.log_len();
    assert_eq!(
        o.delete(&format!("/api/v1/apps/{asana}/groups/{gid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        o.events_since(since, "application.user_membership.remove")
            .len(),
        1
    );
    assert_eq!(
        o.events_since(since, "group.application_assignment.remove")
            .len(),
        1
    );
    let links = o.get(&format!("/api/v1/users/{}/appLinks", user.id)).await;
    assert!(!labels(links.items()).contains("Asana"));
    let a = o.get(&format!("/api/v1/apps/{asana}/groups/{gid}")).await;
    assert_eq!((a.status, a.code()), (404, "E0000007"));
    assert_eq!(
        o.delete(&format!("/api/v1/apps/{asana}/groups/{gid}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn seeded_apps_come_through_groups_or_directly() {
    let o = Org::new().await;
    let github = app_id(&o, "GitHub Enterprise Cloud").await;
    let asana = app_id(&o, "Asana").await;
    let groups = o.get(&format!("/api/v1/apps/{github}/groups")).await;
    assert_eq!(groups.ids(), [o.group_id("GitHub")]);
    let members = o.org().members_of(&o.group_id("GitHub"));
    let app_users = o
        .all(&format!("/api/v1/apps/{github}/users?limit=20"))
        .await;
    assert_eq!(app_users.len(), members.len());
    assert!(app_users.iter().all(|u| u["scope"] == "GROUP"));
    let asana_users = o.all(&format!("/api/v1/apps/{asana}/users")).await;
    assert!(asana_users.len() > 10, "{}", asana_users.len());
    for u in &asana_users {
        let id = u["id"].as_str().unwrap();
        let dept = o.org().user(id).unwrap().profile["department"].clone();
        assert!(dept == "Marketing" || dept == "Product", "{dept}");
        assert_eq!(u["scope"], "USER");
    }
    // `q` is a prefix of the user name, first or last name, or email.
    let someone = &asana_users[0];
    let first = o
        .org()
        .user(someone["id"].as_str().unwrap())
        .unwrap()
        .profile["firstName"]
        .as_str()
        .unwrap()
        .to_string();
    let found = o
        .get(&format!("/api/v1/apps/{asana}/users?q={}", &first[..3]))
        .await;
    assert!(
        found
            .ids()
            .contains(&someone["id"].as_str().unwrap().to_string())
    );
}
