//! `lanyard table ...` while the daemon runs: the daemon holds the data
//! directory, so each command goes through its admin API (found through the
//! same config) and does what it does offline, an import still all or
//! nothing.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::{Daemon, Setup, free_port, lanyard};

const ADMIN: &str = "admin-secret-tables";
const FLOW: &str = "name: echo\ndescription: Says what it is given.\ntrigger: manual\nsteps:\n  - card: lanyard.echo\n    with: { message: hi }\n";

#[test]
fn table_commands_go_through_the_daemon_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("listen = \"127.0.0.1:{port}\"");
    let setup = Setup { flow_file: "echo.yaml", flow_yaml: FLOW, data: Path::new("data"), cache: "cli-table-cache", admin: ADMIN, secret: "Bearer s", server: &listen, extra: "" };
    setup.write(dir.path());
    let daemon = Daemon::start_as_configured(&dir.path().join("lanyard.toml"), "warn,lanyard=info");
    let t = |args: &[&str]| {
        let mut all = vec!["table"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data-dir", "data"]);
        lanyard(dir.path(), &all)
    };

    let out = t(&["put", "people", "u1", r#"{"name": "Ada", "n": 1}"#]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("wrote row `u1` in table `people`"), "{out}");
    assert!(out.stderr.contains(&format!("going through its admin API at {}", daemon.url)), "the daemon holds the directory: {out}");
    let out = t(&["put", "people", "u1", r#"{"n": 1, "name": "Ada"}"#]);
    assert!(out.stderr.contains("was already so"), "{out}");
    let out = t(&["get", "people", "u1"]);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap(), json!({"name": "Ada", "n": 1}), "{out}");
    assert_eq!(t(&["get", "people", "nobody"]).code, Some(1));

    // A good file lands; a bad one changes nothing and says which line.
    std::fs::write(dir.path().join("more.csv"), "key,name\nu2,Grace\nu3,Linus\n").unwrap();
    let out = t(&["import", "people", "more.csv"]);
    assert!(out.stderr.contains("2 inserted, 0 updated, 0 unchanged, 0 deleted"), "{out}");
    std::fs::write(dir.path().join("bad.csv"), "key,name\nu4,Ken\n,no key\n").unwrap();
    let out = t(&["import", "people", "bad.csv", "--replace"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("bad.csv was not imported") && out.stderr.contains("line 3"), "{out}");

    let out = t(&["export", "people", "--output", "people.csv"]);
    assert!(out.stderr.contains("exported 3 rows of table `people` to people.csv"), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("people.csv")).unwrap();
    assert_eq!(csv, "key,name,n\nu1,Ada,1\nu2,Grace,\nu3,Linus,\n");
    let out = t(&["list", "--json"]);
    let tables: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((tables[0]["name"].clone(), tables[0]["rows"].clone()), (json!("people"), json!(3)), "{out}");

    let out = t(&["delete", "people", "u2"]);
    assert!(out.stderr.contains("deleted row `u2` from table `people`"), "{out}");
    // What the daemon holds now, to standard output.
    let out = t(&["export", "people"]);
    assert_eq!(out.stdout, "key,name,n\nu1,Ada,1\nu3,Linus,\n", "{out}");
    drop(daemon);
}
