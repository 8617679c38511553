//! In-memory stand-ins for the capability traits, shared by the tests of
//! every crate that calls cards (feature `testing`).
//!
//! Each records what it was asked and answers from memory, so a test can
//! say what a card did without a network, a store or a relay. Nothing here
//! is used by the daemon. [`FakeOkta`] is the one fake with rules of its own
//! (an Okta org's compare-before-write, its `not-found`s), kept here so that
//! the runtime's tests and the built-in cards' tests call the same org;
//! what is in an org is the test's ([`FakeOkta::org`]).

use crate::caps::{HttpApi, HttpRequest, HttpResponse, MailApi, MailMessage, TableQuery, TableRow, TablesApi};
use crate::{CardError, WriteOutcome};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

mod okta;
pub use okta::{FakeOkta, FakeOrg, app, group, rule, user};

type Responder = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse, CardError> + Send + Sync>;

/// Answers with a scripted function of the request (by default 200 and an
/// empty body); records every request.
pub struct FakeHttp {
    pub requests: Mutex<Vec<HttpRequest>>,
    respond: Mutex<Responder>,
}

impl Default for FakeHttp {
    fn default() -> Self {
        FakeHttp {
            requests: Mutex::default(),
            respond: Mutex::new(Box::new(|_| Ok(HttpResponse { status: 200, headers: vec![], body: vec![] }))),
        }
    }
}

impl FakeHttp {
    /// One that answers 200 with the request line (`GET https://…`) as body.
    pub fn echoing() -> Self {
        let http = FakeHttp::default();
        http.answer(|r| Ok(HttpResponse { status: 200, headers: vec![], body: format!("{} {}", r.method.as_str(), r.url).into_bytes() }));
        http
    }

    /// Answer every request from now on with `f`.
    pub fn answer(&self, f: impl Fn(&HttpRequest) -> Result<HttpResponse, CardError> + Send + Sync + 'static) {
        *self.respond.lock().unwrap() = Box::new(f);
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests.lock().unwrap().clone()
    }
}

#[async_trait]
impl HttpApi for FakeHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, CardError> {
        let answer = (self.respond.lock().unwrap())(&request);
        self.requests.lock().unwrap().push(request);
        answer
    }
}

/// Tables as one map from `(table, key)` to the row.
#[derive(Default)]
pub struct FakeTables {
    pub rows: Mutex<BTreeMap<(String, String), Value>>,
}

#[async_trait]
impl TablesApi for FakeTables {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Value>, CardError> {
        Ok(self.rows.lock().unwrap().get(&(table.into(), key.into())).cloned())
    }

    async fn put(&self, table: &str, key: &str, value: Value) -> Result<WriteOutcome, CardError> {
        let old = self.rows.lock().unwrap().insert((table.into(), key.into()), value.clone());
        Ok(if old == Some(value) { WriteOutcome::Unchanged } else { WriteOutcome::Changed })
    }

    async fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome, CardError> {
        let old = self.rows.lock().unwrap().remove(&(table.into(), key.into()));
        Ok(if old.is_some() { WriteOutcome::Changed } else { WriteOutcome::Unchanged })
    }

    async fn find(&self, table: &str, q: &TableQuery) -> Result<Vec<TableRow>, CardError> {
        let prefix = q.key_prefix.clone().unwrap_or_default();
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .iter()
            .filter(|((t, k), _)| t == table && k.starts_with(&prefix))
            .filter(|(_, v)| q.equals.iter().all(|(f, want)| v.get(f) == Some(want)))
            .take(q.limit.map_or(usize::MAX, |l| l as usize))
            .map(|((_, k), v)| TableRow { key: k.clone(), value: v.clone() })
            .collect())
    }
}

/// A relay that keeps every message; answers `<n@relay.example>`, the n-th.
#[derive(Default)]
pub struct FakeMail {
    pub sent: Mutex<Vec<MailMessage>>,
    /// What the relay answers instead, by recipient (`*`: everyone).
    pub refuse: Mutex<HashMap<String, CardError>>,
}

#[async_trait]
impl MailApi for FakeMail {
    async fn send(&self, message: MailMessage) -> Result<String, CardError> {
        let refuse = self.refuse.lock().unwrap();
        if let Some(e) = message.to.iter().chain(["*".to_string()].iter()).find_map(|to| refuse.get(to)) {
            return Err(e.clone());
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(message);
        Ok(format!("<{}@relay.example>", sent.len()))
    }
}
