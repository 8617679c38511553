//! The console's pure ES modules (the builder's YAML model, undo, forms from
//! card schemas, the field picker) under node's test runner: the unit tests in
//! `tests/browser/unit/`. `validate.test.mjs` runs this binary's
//! `lanyard validate` on every flow the builder writes, so what the builder
//! writes is checked by the same validator the daemon uses.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_consoles_modules_pass_their_unit_tests_under_node() {
    let dir = repo().join("tests/browser/unit");
    // Named one by one: how `node --test` treats a directory argument changes
    // between node versions.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/browser/unit")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the unit tests are there: {files:?}");
    let out = Command::new("node")
        .arg("--test")
        .args(&files)
        .current_dir(repo())
        .env("LANYARD_BIN", env!("CARGO_BIN_EXE_lanyard"))
        .output()
        .expect("node runs (node 20 or newer; apt-get install nodejs)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the console's unit tests failed:\n{text}");
    assert!(text.contains("# skipped 0"), "no unit test may be skipped here:\n{text}");
    eprintln!("{text}");
}
