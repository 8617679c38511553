//! One runtime (and one compiled-card cache) shared by every test, the cards,
//! and fake capabilities.

use lanyard_cards::test_cards;
pub use lanyard_core::testing::{FakeHttp, FakeMail, FakeOkta, FakeTables};
use lanyard_core::testing::{app, group, user};
use lanyard_core::{CallContext, CardError, Grant, Grants};
use lanyard_runtime::{CallOutcome, CallRequest, Capabilities, LoadedCard, Runtime, RuntimeConfig};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// Where compiled cards are cached across test binaries and runs.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("LANYARD_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lanyard-card-cache"),
    }
}

pub fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(RuntimeConfig {
            cache_dir: Some(cache_dir()),
            max_instances: 64,
            ..RuntimeConfig::default()
        })
        .expect("runtime starts")
    })
}

/// A card loaded once per test binary.
pub fn card(wasm: &'static [u8]) -> Arc<LoadedCard> {
    static CARDS: OnceLock<Mutex<HashMap<usize, Arc<LoadedCard>>>> = OnceLock::new();
    let cards = CARDS.get_or_init(Default::default);
    let key = wasm.as_ptr() as usize;
    if let Some(c) = cards.lock().unwrap().get(&key) {
        return c.clone();
    }
    let c = rt().load(wasm).expect("card loads");
    cards.lock().unwrap().insert(key, c.clone());
    c
}

pub fn echo() -> Arc<LoadedCard> {
    card(lanyard_cards::builtin_card("echo").unwrap().wasm)
}

pub fn caps_card() -> Arc<LoadedCard> {
    card(test_cards::CAPS)
}

pub fn ctx() -> CallContext {
    CallContext::new("run-1", "test-flow", "step", 1, false)
}

pub fn grants(list: &[&str]) -> Arc<Grants> {
    let list: Vec<Grant> = list.iter().map(|g| g.parse().unwrap()).collect();
    Arc::new(Grants::from_list(&list).unwrap())
}

/// After whatever a hostile card did, the same runtime still runs cards.
pub async fn assert_next_call_works() {
    let out = rt()
        .call(&echo(), CallRequest::new(ctx(), json!({ "message": "still here" })))
        .await;
    assert_eq!(out.result.unwrap()["message"], "still here");
}

pub fn err(out: &CallOutcome) -> &CardError {
    match &out.result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e,
    }
}

/// An org of one user, Ada (`00u1`), a member of `00g2` but not of `00g1`,
/// and one app, `0oa1`.
fn okta() -> FakeOkta {
    let okta = FakeOkta::default();
    {
        let mut org = okta.org.lock().unwrap();
        let ada = user("00u1", "ada@example.com", "ACTIVE", json!({ "firstName": "Ada", "title": "Engineer" }));
        org.users.insert(ada.id.clone(), ada);
        for g in [group("00g1", "Engineering", "OKTA_GROUP"), group("00g2", "Contractors", "OKTA_GROUP")] {
            org.groups.insert(g.id.clone(), g);
        }
        org.members.insert(("00g2".into(), "00u1".into()));
        org.apps.insert("0oa1".into(), app("0oa1", "GitHub", "github"));
    }
    okta
}

pub struct Fakes {
    pub okta: Arc<FakeOkta>,
    pub http: Arc<FakeHttp>,
    pub tables: Arc<FakeTables>,
    pub mail: Arc<FakeMail>,
}

impl Fakes {
    pub fn new() -> Self {
        Fakes {
            okta: Arc::new(okta()),
            http: Arc::new(FakeHttp::echoing()),
            tables: Arc::default(),
            mail: Arc::default(),
        }
    }

    pub fn caps(&self) -> Capabilities {
        Capabilities {
            okta: Some(self.okta.clone()),
            http: Some(self.http.clone()),
            tables: Some(self.tables.clone()),
            mail: Some(self.mail.clone()),
            ..Capabilities::none()
        }
    }
}

/// A call of the caps test card.
pub fn caps_call(input: Value, grants: Arc<Grants>, caps: Capabilities) -> CallRequest {
    CallRequest {
        grants,
        caps,
        ..CallRequest::new(ctx(), input)
    }
}
