use lanyard_core::caps::{TableQuery, TablesApi};
use lanyard_store::{ImportMode, ImportStats, LineError, Store, StoreError};
use serde_json::{Value, json};

async fn rows(store: &Store, table: &str) -> Vec<(String, Value)> {
    store
        .find(
            table,
            &TableQuery {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value))
        .collect()
}

#[tokio::test]
async fn export_then_import_gives_back_the_same_rows() {
    let store = Store::temporary().unwrap();
    let tricky = [
        (
            "00u1",
            json!({"login": "jo@acme.com", "count": 3, "active": true, "note": null}),
        ),
        (
            "00u2",
            json!({"login": "42", "count": 0.5, "tags": ["a", "b,c"], "profile": {"dept": "Sales", "n": [1, 2]}}),
        ),
        (
            "00u3",
            json!({"login": "", "note": "line one\nline \"two\"", "key": "a field named key"}),
        ),
        (
            "00u4",
            json!({"login": "true", "count": -1, "note": "\"already quoted\""}),
        ),
        ("00u5", json!({"login": "zoë, naïve", "extra": "{not json"})),
        ("00u6", json!({})),
        ("key with, comma", json!({"login": "null"})),
    ];
    for (k, v) in &tricky {
        store.put("people", k, v.clone()).await.unwrap();
    }
    let mut csv = Vec::new();
    assert_eq!(store.export_csv("people", &mut csv).unwrap(), 7);
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.starts_with("key,login,count,active,note,tags,profile,key,extra\n"),
        "{text}"
    );
    // Strings that look like something else are written as JSON strings.
    assert!(text.contains("\"\"\"42\"\"\""), "{text}");
    // Plain strings stay plain.
    assert!(
        text.contains("00u1,jo@acme.com,3,true,null,,,,\n"),
        "{text}"
    );

    let stats = store
        .import_csv("copy", csv.as_slice(), ImportMode::Merge)
        .unwrap();
    assert_eq!(
        stats,
        ImportStats {
            inserted: 7,
            ..Default::default()
        }
    );
    assert_eq!(rows(&store, "copy").await, rows(&store, "people").await);

    // Importing the same file again changes nothing.
    let stats = store
        .import_csv("copy", csv.as_slice(), ImportMode::Merge)
        .unwrap();
    assert_eq!(
        stats,
        ImportStats {
            unchanged: 7,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn hand_written_csv_reads_naturally() {
    let store = Store::temporary().unwrap();
    let csv = "key,name,zip,age,vip,groups\nu1,Jo,00123,41,true,\"[\"\"a\"\"]\"\nu2,Al,,7,,\n";
    store
        .import_csv("t", csv.as_bytes(), ImportMode::Merge)
        .unwrap();
    assert_eq!(
        rows(&store, "t").await,
        [
            (
                "u1".into(),
                json!({"name": "Jo", "zip": "00123", "age": 41, "vip": true, "groups": ["a"]})
            ),
            ("u2".into(), json!({"name": "Al", "age": 7})),
        ]
    );
}

#[tokio::test]
async fn a_bad_file_reports_every_line_and_writes_nothing() {
    let store = Store::temporary().unwrap();
    store.put("t", "keep", json!({"a": 1})).await.unwrap();
    let big = "x".repeat(70_000);
    let csv = format!("key,a,b\nok,1,2\n,1,2\nok,3,4\nshort,1\nbig,{big},1\nbad\u{7}key,1,1\n");
    let err = store
        .import_csv("t", csv.as_bytes(), ImportMode::Replace)
        .unwrap_err();
    let StoreError::Import { table, errors } = &err else {
        panic!("{err}")
    };
    assert_eq!(table, "t");
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7], "{err}");
    assert!(
        errors[1]
            .message
            .contains("key `ok` again (first on line 2)"),
        "{err}"
    );
    assert!(
        errors[2]
            .message
            .contains("2 columns, but the header has 3"),
        "{err}"
    );
    assert!(errors[3].message.contains("row `big` is"), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot import into table `t`: 5 problems, nothing written"),
        "{err}"
    );
    assert_eq!(rows(&store, "t").await, [("keep".into(), json!({"a": 1}))]);

    let err = store
        .import_csv("t", "id,a\nx,1\n".as_bytes(), ImportMode::Merge)
        .unwrap_err();
    let StoreError::Import { errors, .. } = err else {
        panic!()
    };
    assert_eq!(
        errors,
        [LineError {
            line: 1,
            message: "the first column must be `key`".into()
        }]
    );
    let err = store
        .import_csv("t", "key,a,a\nx,1,2\n".as_bytes(), ImportMode::Merge)
        .unwrap_err();
    assert!(
        err.to_string().contains("line 1: column `a` appears twice"),
        "{err}"
    );
    assert!(
        store
            .import_csv("t", "key,a\n\"x,1\n".as_bytes(), ImportMode::Merge)
            .is_err()
    );
    assert_eq!(rows(&store, "t").await, [("keep".into(), json!({"a": 1}))]);
}

#[tokio::test]
async fn replace_deletes_rows_the_file_leaves_out_and_merge_keeps_them() {
    let store = Store::temporary().unwrap();
    for k in ["a", "b", "c"] {
        store.put("t", k, json!({"v": k})).await.unwrap();
    }
    let csv = "key,v\na,a\nb,B\nd,d\n";
    let stats = store
        .import_csv("t", csv.as_bytes(), ImportMode::Merge)
        .unwrap();
    assert_eq!(
        stats,
        ImportStats {
            inserted: 1,
            updated: 1,
            unchanged: 1,
            deleted: 0
        }
    );
    assert_eq!(rows(&store, "t").await.len(), 4);
    let stats = store
        .import_csv("t", csv.as_bytes(), ImportMode::Replace)
        .unwrap();
    assert_eq!(
        stats,
        ImportStats {
            inserted: 0,
            updated: 0,
            unchanged: 3,
            deleted: 1
        }
    );
    let keys: Vec<String> = rows(&store, "t").await.into_iter().map(|r| r.0).collect();
    assert_eq!(keys, ["a", "b", "d"]);
}

#[tokio::test]
async fn export_needs_object_rows_and_an_existing_table() {
    let store = Store::temporary().unwrap();
    let err = store.export_csv("missing", Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "table `missing` not found");
    store.put("t", "k", json!([1, 2])).await.unwrap();
    let err = store.export_csv("t", Vec::new()).unwrap_err();
    assert!(
        err.to_string().contains("row `k` is not a JSON object"),
        "{err}"
    );
}
