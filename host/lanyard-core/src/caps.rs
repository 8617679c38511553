//! The non-Okta capabilities a card can be granted: HTTP, tables and mail.
//!
//! The card runtime checks grants before it calls these; implementations do the
//! work (and enforce what only they can know: connection secrets, SSRF rules,
//! table sizes). Each is a trait so the runtime, the interpreter's tests and the
//! dry-run recorder can stand in different implementations.

use crate::error::CardError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteOutcome {
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
        }
    }

    /// GET, HEAD and OPTIONS: the requests a dry run still performs.
    pub fn is_read(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Head | HttpMethod::Options)
    }
}

/// An outbound request from a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: HttpMethod,
    /// Absolute URL, or (with `connection`) a path under the connection's base URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<Vec<u8>>,
    #[serde(default)]
    pub connection: Option<String>,
    #[serde(default)]
    pub timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Outbound HTTP: resolves connections (injecting their credentials), refuses
/// private and metadata addresses unless a connection points there, and caps
/// response sizes.
#[async_trait]
pub trait HttpApi: Send + Sync + 'static {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, CardError>;
}

/// A mail message from a card; the sender is the relay's configured address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// Mail through the configured relay. Returns the Message-ID.
#[async_trait]
pub trait MailApi: Send + Sync + 'static {
    async fn send(&self, message: MailMessage) -> Result<String, CardError>;
}

/// One table row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub key: String,
    pub value: Value,
}

/// Which rows `find` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableQuery {
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Top-level field equals this value, for every pair.
    #[serde(default)]
    pub equals: Vec<(String, Value)>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Named persistent tables of JSON rows keyed by string.
#[async_trait]
pub trait TablesApi: Send + Sync + 'static {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Value>, CardError>;
    async fn put(&self, table: &str, key: &str, value: Value) -> Result<WriteOutcome, CardError>;
    async fn delete(&self, table: &str, key: &str) -> Result<WriteOutcome, CardError>;
    async fn find(&self, table: &str, query: &TableQuery) -> Result<Vec<TableRow>, CardError>;
}
