//! The fuzz targets' inputs as a plain test on stable: every committed seed
//! and every crash reproducer under `fuzz/regressions/<target>/` goes through
//! the same function the fuzzer calls (`fuzz/src/harness.rs`), so a fixed
//! crash stays fixed without nightly.

#[path = "src/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn run_all(target: &str, f: fn(&[u8])) {
    let files = inputs(target);
    assert!(files.len() >= 5, "the {target} seed corpus is missing");
    for p in files {
        let data = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        if std::panic::catch_unwind(|| f(&data)).is_err() {
            panic!("{target} fails on {name}");
        }
    }
}

#[test]
fn hook_payload_corpus() {
    run_all("hook_payload", harness::hook_payload);
}

#[test]
fn flow_loader_corpus() {
    run_all("flow_loader", harness::flow_loader);
}

/// The properties are checked, not just "does not panic": a payload that
/// parses must round-trip, and a valid flow must come out of the loader.
#[test]
fn the_harness_sees_valid_inputs() {
    let seed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/hook_payload/batch-five-types.json")).unwrap();
    assert_eq!(lanyard_okta::hooks::parse_delivery(&seed).unwrap().len(), 5);
    harness::hook_payload(&seed);
    let flow = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/flow_loader/multi-helper.yaml")).unwrap();
    assert!(flow.contains(harness::FILE_SEPARATOR));
}
