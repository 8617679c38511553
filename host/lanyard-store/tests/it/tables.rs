use lanyard_core::caps::{TableQuery, TableRow, TablesApi};
use lanyard_core::{ErrorKind, WriteOutcome};
use lanyard_store::{Store, TableInfo, table_limits};
use serde_json::{Value, json};

#[tokio::test]
async fn put_get_delete_with_compare_before_write() {
    let store = Store::temporary().unwrap();
    assert_eq!(
        store.get("audit", "00u1").await.unwrap(),
        None,
        "a table that does not exist is empty"
    );
    let row = json!({"login": "jo@acme.com", "reminded": 1, "groups": ["a", "b"]});
    assert_eq!(
        store.put("audit", "00u1", row.clone()).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(store.get("audit", "00u1").await.unwrap(), Some(row.clone()));
    assert_eq!(
        store.put("audit", "00u1", row.clone()).await.unwrap(),
        WriteOutcome::Unchanged
    );
    // Field order does not make a row different.
    let reordered = json!({"groups": ["a", "b"], "reminded": 1, "login": "jo@acme.com"});
    assert_eq!(
        store.put("audit", "00u1", reordered).await.unwrap(),
        WriteOutcome::Unchanged
    );
    let changed = json!({"login": "jo@acme.com", "reminded": 2, "groups": ["a", "b"]});
    assert_eq!(
        store.put("audit", "00u1", changed.clone()).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(store.get("audit", "00u1").await.unwrap(), Some(changed));
    assert_eq!(
        store.delete("audit", "00u1").await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        store.delete("audit", "00u1").await.unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(
        store.delete("nope", "00u1").await.unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(store.get("audit", "00u1").await.unwrap(), None);
}

#[tokio::test]
async fn find_filters_by_prefix_and_fields_in_key_order() {
    let store = Store::temporary().unwrap();
    for (k, dept, n) in [
        ("user:3", "Sales", 1),
        ("user:1", "Engineering", 1),
        ("user:2", "Sales", 2),
        ("group:1", "Sales", 1),
        ("user:4", "Sales", 1),
    ] {
        store
            .put(
                "people",
                k,
                json!({"dept": dept, "n": n, "nested": {"x": 1}}),
            )
            .await
            .unwrap();
    }
    store
        .put("people", "user:5", json!("not an object"))
        .await
        .unwrap();
    let keys = |rows: Vec<TableRow>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();

    let all = store.find("people", &TableQuery::default()).await.unwrap();
    assert_eq!(
        keys(all),
        ["group:1", "user:1", "user:2", "user:3", "user:4", "user:5"]
    );
    let q = TableQuery {
        key_prefix: Some("user:".into()),
        equals: vec![("dept".into(), json!("Sales")), ("n".into(), json!(1))],
        limit: None,
    };
    assert_eq!(
        keys(store.find("people", &q).await.unwrap()),
        ["user:3", "user:4"]
    );
    let q = TableQuery {
        limit: Some(1),
        ..q
    };
    assert_eq!(keys(store.find("people", &q).await.unwrap()), ["user:3"]);
    let q = TableQuery {
        equals: vec![("nested".into(), json!({"x": 1}))],
        ..Default::default()
    };
    assert_eq!(store.find("people", &q).await.unwrap().len(), 5);
    assert!(
        store
            .find("empty", &TableQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn every_input_has_a_limit_and_a_clear_error() {
    let store = Store::temporary().unwrap();
    let err = store.put("bad name!", "k", json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.contains("table name `bad name!` is not valid"),
        "{}",
        err.message
    );
    let long_name = "t".repeat(table_limits::MAX_TABLE_NAME + 1);
    assert!(store.get(&long_name, "k").await.is_err());

    let err = store.put("t", "", json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.contains("key `` is not valid"),
        "{}",
        err.message
    );
    let long_key = "k".repeat(table_limits::MAX_KEY_BYTES + 1);
    assert!(store.put("t", &long_key, json!({})).await.is_err());
    assert!(store.put("t", "a\nb", json!({})).await.is_err());
    store
        .put("t", &"k".repeat(table_limits::MAX_KEY_BYTES), json!({}))
        .await
        .unwrap();

    let big = json!({"blob": "x".repeat(table_limits::MAX_ROW_BYTES)});
    let err = store.put("t", "big", big).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("row `big` is"), "{}", err.message);
    assert_eq!(store.get("t", "big").await.unwrap(), None);

    let err = store
        .find(
            "t",
            &TableQuery {
                limit: Some(table_limits::MAX_FIND_LIMIT + 1),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.message.contains("find returns 1 to 1000 rows"),
        "{}",
        err.message
    );
    let many: Vec<(String, Value)> = (0..17).map(|i| (format!("f{i}"), json!(i))).collect();
    assert!(
        store
            .find(
                "t",
                &TableQuery {
                    equals: many,
                    ..Default::default()
                }
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn tables_are_listed_with_their_row_counts() {
    let store = Store::temporary().unwrap();
    for i in 0..3 {
        store
            .put("b-table", &format!("k{i}"), json!({"i": i}))
            .await
            .unwrap();
    }
    store.put("a.table", "k", json!(1)).await.unwrap();
    assert_eq!(
        store.list_tables().unwrap(),
        [
            TableInfo {
                name: "a.table".into(),
                rows: 1
            },
            TableInfo {
                name: "b-table".into(),
                rows: 3
            }
        ]
    );
}
