//! The guest workspaces' own unit tests: the built-in cards, their shared
//! `builtin-kit`, the test cards (`cards/`) and the Rust SDK (`sdk/`). They
//! are built for `wasm32-wasip2` when embedded, but their logic runs natively,
//! so `cargo test` on the host target runs their tests. Neither workspace is
//! part of the host workspace, so without this `cargo test --workspace` would
//! never run them.
//!
//! Each runs in its own target directory under this test binary's
//! `CARGO_TARGET_TMPDIR`, never the host's own target dir (a nested cargo on
//! the same target dir waits on its build lock forever), and without the outer
//! build's flags.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo test --workspace` in `dir`; the number of tests that passed.
fn cargo_test(dir: &Path, target: &str) -> usize {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["test", "--workspace", "--target-dir"])
        .arg(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(target))
        .current_dir(dir);
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTC_WRAPPER"] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{}: cannot run {cmd:?}: {e}", dir.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {cmd:?} failed ({}):\n{stdout}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // One `test result: ok. N passed; ...` line per test binary.
    let passed = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    eprintln!("{}: {passed} guest tests passed", dir.display());
    passed
}

#[test]
fn the_guest_workspaces_own_tests_pass() {
    let repo = crate::harness::repo();
    let passed = cargo_test(&repo.join("cards"), "guest-cards") + cargo_test(&repo.join("sdk"), "guest-sdk");
    // As many as there were when this test was written: a guest test that
    // stops being compiled (a card left out of the workspace, a module behind
    // a cfg) shows here rather than silently not running.
    assert!(passed >= GUEST_TESTS, "{passed} guest tests ran, expected at least {GUEST_TESTS}");
}

/// Guest tests at the time of writing: `builtin-kit`'s 7 unit tests and the
/// SDK's 2 doctests (the built-in and test cards have none of their own).
const GUEST_TESTS: usize = 9;
