//! The example cards' own tests, as `cards/examples/README.md` tells their
//! authors to run them: each card keeps its logic in a module that runs
//! natively (Rust `cargo test`, Python `unittest`, JavaScript `node --test`),
//! and the twins in different languages test the same cases. They are not
//! part of the host workspace, so without this `cargo test --workspace` would
//! never run them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    crate::harness::repo().join("cards/examples")
}

/// The example card folders whose name starts with `prefix`.
fn cards(prefix: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples())
        .expect("cards/examples")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cards/examples/{prefix}*");
    dirs
}

/// Run `cmd` in `dir`; panics with its output unless it succeeds.
fn run(dir: &Path, cmd: &mut Command) {
    let out = cmd.current_dir(dir).output().unwrap_or_else(|e| panic!("{}: cannot run {cmd:?}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "{}: {cmd:?} failed ({}):\n{}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}: {cmd:?} passed", dir.display());
}

#[test]
fn the_rust_example_cards_own_tests_pass() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Their own target dir, shared by the three (the same dependencies);
    // none of the outer build's flags, which are for this workspace.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-cards");
    for dir in cards("rust-") {
        let mut cmd = Command::new(&cargo);
        cmd.args(["test", "--quiet", "--target-dir"]).arg(&target);
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTC_WRAPPER"] {
            cmd.env_remove(var);
        }
        run(&dir, &mut cmd);
    }
}

#[test]
fn the_python_example_cards_own_tests_pass() {
    for dir in cards("python-") {
        run(&dir, Command::new("python3").args(["-B", "-m", "unittest", "--quiet"]));
    }
}

#[test]
fn the_javascript_example_cards_own_tests_pass() {
    for dir in cards("js-") {
        run(&dir, Command::new("node").arg("--test"));
    }
}
