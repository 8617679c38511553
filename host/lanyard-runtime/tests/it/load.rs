//! Loading: metadata, refusals with clear messages, the compiled-card cache.

use crate::support::*;
use lanyard_core::Grant;
use lanyard_runtime::{CallRequest, LoadError, Runtime, RuntimeConfig};
use serde_json::json;
use std::sync::Arc;

#[test]
fn a_card_describes_itself() {
    let card = echo();
    let info = card.info();
    assert_eq!(info.name, "lanyard.echo");
    assert_eq!(info.version, "0.1.0");
    assert!(info.description.contains("message"));
    assert_eq!(info.input_schema["type"], "object");
    assert_eq!(info.input_schema["required"], json!(["message"]));
    assert!(info.output_schema["properties"]["length"].is_object());
    assert!(info.grants.is_empty());
    assert_eq!(card.world_version(), "0.1.0");
    assert_eq!(card.digest().len(), 64);
    assert!(card.imports().iter().any(|i| i.starts_with("lanyard:card/")));
    assert_eq!(card.label(), "lanyard.echo@0.1.0");

    let caps = caps_card();
    assert_eq!(
        caps.info().grants,
        vec![Grant::Okta("okta.users.read".into()), Grant::Table("*".into()), Grant::Mail]
    );
    assert!(caps.info().requested_grants().allows_table("anything"));
}

#[test]
fn loading_the_same_bytes_twice_shares_one_card() {
    let a = echo();
    let b = rt().load(lanyard_cards::builtin_card("echo").unwrap().wasm).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
}

/// A component with one import of an empty instance type named `name`.
fn component_importing(name: &str) -> Vec<u8> {
    let mut out = b"\0asm\x0d\0\x01\0".to_vec();
    // type section: one instance type with no declarations
    out.extend_from_slice(&[0x07, 0x03, 0x01, 0x42, 0x00]);
    // import section: one import, a plain name, of instance type 0
    let mut body = vec![0x01, 0x00, name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(&[0x05, 0x00]);
    out.push(0x0a);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    out
}

#[test]
fn what_is_not_a_card_is_refused_with_a_clear_message() {
    let e = rt().load(b"hello").unwrap_err();
    assert!(matches!(e, LoadError::NotWasm), "{e}");

    let e = rt().load(b"\0asm\x01\0\0\0").unwrap_err();
    assert!(matches!(e, LoadError::CoreModule), "{e}");
    assert!(e.to_string().contains("wasm32-wasip2"));

    let e = rt().load(b"\0asm\x0d\0\x01\0").unwrap_err();
    assert!(matches!(e, LoadError::NotACard(_)), "{e}");
    assert!(e.to_string().contains("does not export `describe`"), "{e}");

    let e = rt().load(&component_importing("acme:net/sockets")).unwrap_err();
    assert!(e.to_string().contains("imports `acme:net/sockets`"), "{e}");

    let e = rt().load(&component_importing("lanyard:card/okta@0.2.0")).unwrap_err();
    match &e {
        LoadError::IncompatibleVersion { found, .. } => assert_eq!(found, "0.2.0"),
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("lanyard:card@0.2.0"), "{e}");

    // Truncated: a valid header, then garbage.
    let echo = lanyard_cards::builtin_card("echo").unwrap().wasm;
    let e = rt().load(&echo[..echo.len() / 2]).unwrap_err();
    assert!(matches!(e, LoadError::Invalid(_)), "{e}");
}

#[tokio::test]
async fn a_restart_reads_compiled_cards_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        max_instances: 4,
        ..RuntimeConfig::default()
    };
    let wasm = lanyard_cards::builtin_card("echo").unwrap().wasm;

    let first = Runtime::new(config.clone()).unwrap();
    let card = first.load(wasm).unwrap();
    assert!(!card.from_cache());
    assert_eq!((first.stats().compiled, first.stats().cache_hits), (1, 0));
    drop((card, first));

    let second = Runtime::new(config).unwrap();
    let card = second.load(wasm).unwrap();
    assert!(card.from_cache());
    assert_eq!((second.stats().compiled, second.stats().cache_hits), (0, 1));
    let out = second.call(&card, CallRequest::new(ctx(), json!({ "message": "cached" }))).await;
    assert_eq!(out.result.unwrap()["length"], 6);

    // A damaged cache file is recompiled, not trusted. (Damaged once nothing
    // maps it: the runtime itself only ever replaces cache files by rename.)
    drop((card, second));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let card = third.load(wasm).unwrap();
    assert!(!card.from_cache());
    assert_eq!(third.stats().compiled, 1);
}
