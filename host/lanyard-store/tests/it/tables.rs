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
    let tables: Vec<(String, u64)> = store.list_tables().unwrap().into_iter().map(|t: TableInfo| (t.name, t.rows)).collect();
    assert_eq!(tables, [("a.table".to_string(), 1), ("b-table".to_string(), 3)]);
}

#[tokio::test]
async fn a_page_goes_on_after_a_key_and_finds_text_in_any_field() {
    let store = Store::temporary().unwrap();
    for i in 0..25 {
        let who = if i % 5 == 0 { "Ada Lovelace" } else { "Grace Hopper" };
        store.put("people", &format!("u{i:02}"), json!({"name": who, "n": i})).await.unwrap();
    }
    store.put("people", "zz", json!({"name": "Zed"})).await.unwrap();
    let keys = |p: &lanyard_store::RowPage| p.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();

    let first = store.table_page("people", "u", None, None, 10).unwrap();
    assert_eq!(keys(&first), (0..10).map(|i| format!("u{i:02}")).collect::<Vec<_>>());
    assert_eq!(first.next.as_deref(), Some("u09"));
    let rest = store.table_page("people", "u", first.next.as_deref(), None, 100).unwrap();
    assert_eq!(rest.rows.len(), 15);
    assert_eq!(rest.next, None, "the prefix ran out");

    // Text in any field, any case; the key counts too.
    let ada = store.table_page("people", "", None, Some("ada LOVE"), 100).unwrap();
    assert_eq!(keys(&ada), ["u00", "u05", "u10", "u15", "u20"]);
    assert_eq!(ada.examined, 26);
    assert_eq!(keys(&store.table_page("people", "", None, Some("zz"), 10).unwrap()), ["zz"]);
    // In one column only: the key, or a field.
    assert_eq!(keys(&store.table_page_in("people", "", None, Some("U05"), Some("key"), 10).unwrap()), ["u05"]);
    assert_eq!(keys(&store.table_page_in("people", "", None, Some("zed"), Some("name"), 10).unwrap()), ["zz"]);
    assert!(store.table_page_in("people", "", None, Some("zz"), Some("name"), 10).unwrap().rows.is_empty());
    assert!(store.table_page_in("people", "", None, Some("ada"), Some("nothing"), 10).unwrap().rows.is_empty());

    // Bounds, and a table that does not exist.
    assert!(store.table_page("people", "", None, None, 0).is_err());
    assert!(store.table_page("people", "", None, None, table_limits::MAX_FIND_LIMIT + 1).is_err());
    assert!(store.table_page("nothing", "", None, None, 10).unwrap().rows.is_empty());
    let info = store.list_tables().unwrap();
    assert_eq!((info[0].name.as_str(), info[0].rows), ("people", 26));
    assert!(info[0].bytes > 26 * 20, "{info:?}");
}

#[tokio::test]
async fn a_sorted_page_orders_the_whole_table_by_a_field() {
    let store = Store::temporary().unwrap();
    for (k, v) in [("a", json!({"n": 10, "who": "bob"})), ("b", json!({"n": 9, "who": "Alice"})), ("c", json!({"who": "carol"})), ("d", json!({"n": 100, "who": "dave"}))] {
        store.put("t", k, v).await.unwrap();
    }
    let keys = |p: lanyard_store::RowPage| (p.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), p.next);
    // Numbers as numbers, rows without the field last; pages by offset.
    assert_eq!(keys(store.table_page_sorted("t", "", None, "n", false, 0, 2).unwrap()), (vec!["b".into(), "a".into()], Some("2".into())));
    assert_eq!(keys(store.table_page_sorted("t", "", None, "n", false, 2, 2).unwrap()), (vec!["d".into(), "c".into()], None));
    assert_eq!(keys(store.table_page_sorted("t", "", None, "n", true, 0, 10).unwrap()).0, ["d", "a", "b", "c"]);
    // Text without case; by key; with a text filter.
    assert_eq!(keys(store.table_page_sorted("t", "", None, "who", false, 0, 10).unwrap()).0, ["b", "a", "c", "d"]);
    assert_eq!(keys(store.table_page_sorted("t", "", None, "key", true, 0, 10).unwrap()).0, ["d", "c", "b", "a"]);
    assert_eq!(keys(store.table_page_sorted("t", "", Some("AR"), "n", false, 0, 10).unwrap()).0, ["c"]);
}

#[test]
fn a_table_of_a_hundred_thousand_rows_pages_searches_and_sorts() {
    let store = Store::temporary().unwrap();
    const N: usize = 100_000;
    for i in 0..N {
        let row = json!({ "login": format!("user{i:06}@acme.example"), "n": (i * 7919) % N });
        store.table_put("big", &format!("u{i:06}"), &row).unwrap();
    }
    let keys = |p: &lanyard_store::RowPage| p.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    // A page anywhere, by the key it goes on after.
    let page = store.table_page("big", "", Some("u099949"), None, 50).unwrap();
    assert_eq!(keys(&page).first().map(String::as_str), Some("u099950"));
    assert_eq!(page.rows.len(), 50);
    assert_eq!(page.next, None, "the last page");
    // Text in the last row is found (every row is read, within the bound).
    let found = store.table_page("big", "", None, Some("USER099999@"), 50).unwrap();
    assert_eq!(keys(&found), ["u099999"]);
    // The whole table sorted by a number, a page from the middle.
    let sorted = store.table_page_sorted("big", "", None, "n", false, 50_000, 3).unwrap();
    let ns: Vec<u64> = sorted.rows.iter().map(|r| r.value["n"].as_u64().unwrap()).collect();
    assert_eq!(ns, [50_000, 50_001, 50_002]);
    assert_eq!(sorted.next.as_deref(), Some("50003"));
    // One row more than sorting reads: refused, with what to do.
    store.table_put("big", "zzz", &json!({ "n": 1 })).unwrap();
    let err = store.table_page_sorted("big", "", None, "n", false, 0, 3).unwrap_err();
    assert!(err.to_string().contains("sorting reads at most 100000 rows"), "{err}");
}
