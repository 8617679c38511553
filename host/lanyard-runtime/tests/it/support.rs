//! One runtime (and one compiled-card cache) shared by every test, the cards,
//! and fake capabilities.

use async_trait::async_trait;
use lanyard_cards::test_cards;
pub use lanyard_core::testing::{FakeHttp, FakeMail, FakeTables};
use lanyard_core::okta::{
    ApiRequest, ApiResponse, AppLink, Factor, Group, LifecycleOp, LogQuery, OktaApi, OktaWrite, ProfileUpdate, User, UserQuery,
};
use lanyard_core::{CallContext, CardError, Grant, Grants, WriteOutcome};
use lanyard_runtime::{CallOutcome, CallRequest, Capabilities, LoadedCard, Runtime, RuntimeConfig};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
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

pub fn user(id: &str, login: &str) -> User {
    let mut profile = Map::new();
    profile.insert("login".into(), json!(login));
    profile.insert("firstName".into(), json!("Ada"));
    profile.insert("title".into(), json!("Engineer"));
    User {
        id: id.into(),
        status: "ACTIVE".into(),
        created: "2024-01-01T00:00:00.000Z".into(),
        activated: None,
        status_changed: None,
        last_login: None,
        last_updated: "2024-01-01T00:00:00.000Z".into(),
        password_changed: None,
        profile,
    }
}

/// An Okta org of users that records every write. With `hang`, every call
/// waits forever (a remote that never answers).
#[derive(Default)]
pub struct FakeOkta {
    pub users: Mutex<BTreeMap<String, User>>,
    pub writes: Mutex<Vec<String>>,
    pub hang: bool,
}

impl FakeOkta {
    pub fn with_user(u: User) -> Arc<Self> {
        let okta = FakeOkta::default();
        okta.users.lock().unwrap().insert(u.id.clone(), u);
        Arc::new(okta)
    }

    pub fn hanging() -> Arc<Self> {
        Arc::new(FakeOkta {
            hang: true,
            ..Default::default()
        })
    }

    async fn wait(&self) {
        if self.hang {
            std::future::pending::<()>().await;
        }
    }

    fn note(&self, what: String) {
        self.writes.lock().unwrap().push(what);
    }
}

#[async_trait]
impl OktaApi for FakeOkta {
    async fn get_user(&self, id: &str) -> Result<User, CardError> {
        self.wait().await;
        let users = self.users.lock().unwrap();
        users
            .get(id)
            .or_else(|| users.values().find(|u| u.login() == id))
            .cloned()
            .ok_or_else(|| CardError::not_found(format!("user {id} not found")))
    }
    async fn list_users(&self, _q: &UserQuery) -> Result<Vec<User>, CardError> {
        self.wait().await;
        Ok(self.users.lock().unwrap().values().cloned().collect())
    }
    async fn create_user(&self, profile: &Map<String, Value>, _a: bool, _g: &[String]) -> Result<User, CardError> {
        self.note(format!("create-user {}", Value::Object(profile.clone())));
        Err(CardError::internal("not in the fake"))
    }
    async fn update_profile(&self, id: &str, changes: &Map<String, Value>) -> Result<ProfileUpdate, CardError> {
        self.note(format!("update-profile {id}"));
        let mut u = self.get_user(id).await?;
        u.profile.extend(changes.clone());
        Ok(ProfileUpdate { outcome: WriteOutcome::Changed, user: u })
    }
    async fn get_manager(&self, _id: &str) -> Result<Option<User>, CardError> {
        Ok(None)
    }
    async fn lifecycle(&self, id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
        self.note(format!("lifecycle {id} {}", op.as_str()));
        Ok(WriteOutcome::Changed)
    }
    async fn list_user_groups(&self, _id: &str) -> Result<Vec<Group>, CardError> {
        Ok(vec![])
    }
    async fn find_group(&self, _name: &str) -> Result<Option<Group>, CardError> {
        Ok(None)
    }
    async fn add_to_group(&self, g: &str, u: &str) -> Result<WriteOutcome, CardError> {
        self.note(format!("add-to-group {g} {u}"));
        Ok(WriteOutcome::Changed)
    }
    async fn remove_from_group(&self, g: &str, u: &str) -> Result<WriteOutcome, CardError> {
        self.note(format!("remove-from-group {g} {u}"));
        Ok(WriteOutcome::Changed)
    }
    async fn clear_sessions(&self, u: &str, _t: bool) -> Result<(), CardError> {
        self.note(format!("clear-sessions {u}"));
        Ok(())
    }
    async fn list_factors(&self, _u: &str) -> Result<Vec<Factor>, CardError> {
        Ok(vec![])
    }
    async fn list_app_links(&self, _u: &str) -> Result<Vec<AppLink>, CardError> {
        Ok(vec![])
    }
    async fn query_logs(&self, _q: &LogQuery) -> Result<Vec<Value>, CardError> {
        Ok(vec![])
    }
    async fn api_call(&self, request: &ApiRequest) -> Result<ApiResponse, CardError> {
        if request.method != "GET" {
            self.note(format!("api-call {} {}", request.method, request.path));
        }
        Ok(ApiResponse { status: 200, body: serde_json::json!({ "path": request.path }), next: None })
    }
    async fn write(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        match write {
            OktaWrite::Lifecycle { user_id, op } => self.lifecycle(user_id, *op).await,
            OktaWrite::AddToGroup { group_id, user_id } => self.add_to_group(group_id, user_id).await,
            OktaWrite::RemoveFromGroup { group_id, user_id } => self.remove_from_group(group_id, user_id).await,
            other => {
                self.note(other.operation());
                Ok(WriteOutcome::Changed)
            }
        }
    }
    /// Reads the user: deactivating a deactivated user changes nothing;
    /// everything else would change something.
    async fn plan(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        if let OktaWrite::Lifecycle { user_id, op: LifecycleOp::Deactivate } = write
            && self.get_user(user_id).await?.status == "DEPROVISIONED"
        {
            return Ok(WriteOutcome::Unchanged);
        }
        Ok(WriteOutcome::Changed)
    }
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
            okta: FakeOkta::with_user(user("00u1", "ada@example.com")),
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
