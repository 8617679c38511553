//! The daemon's admin API, typed: one method per route the CLI uses, each
//! answering with the API's wire types (`lanyard_core::admin_api`).
//!
//! The paths, the admin token and how a refusal reads live here once;
//! commands never build a URL or read an answer by key. Whether to go
//! through the daemon at all is not this module's to decide: that is
//! `access` (a data directory the daemon holds) or a command's `--url`.

use anyhow::Context as _;
use lanyard_core::admin_api as wire;
use lanyard_core::Grant;
use lanyard_store::RunFilter;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// A daemon's admin API.
pub(crate) struct AdminClient {
    /// `http://host:port`, no trailing slash.
    base: String,
    token: String,
    http: reqwest::Client,
    reached: Reached,
}

/// Why the CLI talks to the daemon: it holds the data directory, or the
/// command was given its URL. Says what an unanswered request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reached {
    HoldsTheDataDir,
    AtUrl,
}

/// A table as CSV, and how many rows it holds.
pub(crate) struct CsvExport {
    pub csv: Vec<u8>,
    pub rows: u64,
}

/// A request's body.
enum Body {
    None,
    Json(Vec<u8>),
    Csv(Vec<u8>),
    Wasm(Vec<u8>),
}

/// The daemon refused a request: its status and its error answer.
#[derive(Debug)]
pub(crate) struct Refused {
    pub status: StatusCode,
    /// The answer's `error`, when it had one; else its text.
    pub error: Result<wire::ErrorBody, String>,
}

/// The daemon's message, then the details it carries (`detail`, `problems`).
impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.error {
            Ok(body) => body,
            Err(text) if !text.trim().is_empty() => return f.write_str(text.trim()),
            Err(_) => return write!(f, "the daemon answered {}", self.status.as_u16()),
        };
        f.write_str(&body.message)?;
        if let Some(detail) = &body.detail {
            write!(f, "\n{}", indent(detail, "  "))?;
        }
        // A message that lists its problems already is not given them twice.
        if !body.message.contains("\n  - ") {
            for p in body.problems.iter().flatten() {
                write!(f, "\n  - {p}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Refused {}

impl AdminClient {
    /// The admin API at `base` (`http://host:port`). `timeout` bounds each
    /// request (publishing waits while the daemon compiles the card).
    pub(crate) fn new(base: &str, token: &str, reached: Reached, timeout: Option<Duration>) -> anyhow::Result<AdminClient> {
        let mut http = reqwest::Client::builder();
        if let Some(t) = timeout {
            http = http.timeout(t);
        }
        Ok(AdminClient { base: base.trim_end_matches('/').to_string(), token: token.to_string(), http: http.build()?, reached })
    }

    /// The admin API of the daemon that holds `path`: its address and admin
    /// token from its config. `to` says what for, in the error when the
    /// config has no token ("read the history").
    pub(crate) fn of_daemon_holding(config: &lanyard_server::Config, path: &Path, to: &str, timeout: Option<Duration>) -> anyhow::Result<AdminClient> {
        let Some(token) = &config.server.admin_token else {
            anyhow::bail!(
                "the daemon holds {}; to {to} through its admin API, set [server] admin_token in its config (--config)",
                path.display()
            );
        };
        AdminClient::new(&super::admin_base(config), token.expose(), Reached::HoldsTheDataDir, timeout)
    }

    /// Where the daemon is: `http://host:port`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    // -- runs -----------------------------------------------------------------------

    /// `GET /api/v1/runs`: the runs `filter` selects, newest first.
    pub(crate) async fn runs(&self, filter: &RunFilter) -> anyhow::Result<wire::RunList> {
        let time = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut q = vec![("limit", filter.limit.unwrap_or(20).to_string())];
        let optional = [
            ("flow", filter.flow.clone()),
            ("status", filter.status.map(|s| s.as_str().to_string())),
            ("since", filter.since.as_ref().map(time)),
            ("until", filter.until.as_ref().map(time)),
            ("cursor", filter.cursor.clone()),
            ("text", filter.text.clone()),
            ("card", filter.card.clone()),
            ("error", filter.error_kind.clone()),
        ];
        q.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        self.call(Method::GET, &["runs"], &q, Body::None).await
    }

    /// `POST /api/v1/flows/{name}/run`: start a run of `name` now, as
    /// "Run now" does (a schedule flow sees a fire at now).
    pub(crate) async fn run_flow(&self, name: &str) -> anyhow::Result<wire::RunStarted> {
        self.call(Method::POST, &["flows", name, "run"], &[], Body::None).await
    }

    /// `POST /api/v1/runs/{id}/signal`: answer a waiting run.
    pub(crate) async fn signal(&self, id: &str, asked: &wire::SignalRequest) -> anyhow::Result<wire::Signalled> {
        self.call(Method::POST, &["runs", id, "signal"], &[], Body::Json(serde_json::to_vec(asked)?)).await
    }

    /// `GET /api/v1/runs/{id}`: one run, its steps and its trace.
    pub(crate) async fn run(&self, id: &str) -> anyhow::Result<wire::RunDetail> {
        self.call(Method::GET, &["runs", id], &[], Body::None).await
    }

    // -- tables ---------------------------------------------------------------------

    /// `GET /api/v1/tables`.
    pub(crate) async fn tables(&self) -> anyhow::Result<wire::TableList> {
        self.call(Method::GET, &["tables"], &[], Body::None).await
    }

    /// `GET /api/v1/tables/{table}/rows/{key}`; `None`: no such row.
    pub(crate) async fn row(&self, table: &str, key: &str) -> anyhow::Result<Option<wire::Row>> {
        self.call_or_404(Method::GET, &["tables", table, "rows", key], &[], Body::None).await
    }

    /// `PUT /api/v1/tables/{table}/rows/{key}` (compare-before-write).
    pub(crate) async fn put_row(&self, table: &str, key: &str, value: &serde_json::Value) -> anyhow::Result<wire::RowWritten> {
        let body = Body::Json(serde_json::to_vec(value)?);
        self.call(Method::PUT, &["tables", table, "rows", key], &[], body).await
    }

    /// `DELETE /api/v1/tables/{table}/rows/{key}`.
    pub(crate) async fn delete_row(&self, table: &str, key: &str) -> anyhow::Result<wire::RowWritten> {
        self.call(Method::DELETE, &["tables", table, "rows", key], &[], Body::None).await
    }

    /// `GET /api/v1/tables/{table}/csv`, whole; `None`: no such table.
    pub(crate) async fn export_csv(&self, table: &str) -> anyhow::Result<Option<CsvExport>> {
        let answer = self.send(Method::GET, &["tables", table, "csv"], &[], Body::None).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let answer = answer.ok()?;
        Ok(Some(CsvExport { rows: answer.rows.unwrap_or_default(), csv: answer.bytes }))
    }

    /// `PUT /api/v1/tables/{table}/csv`: all of it or nothing; `replace`
    /// deletes the rows the file does not mention.
    pub(crate) async fn import_csv(&self, table: &str, csv: Vec<u8>, replace: bool) -> anyhow::Result<wire::Imported> {
        let mode = [("mode", if replace { "replace" } else { "merge" }.to_string())];
        self.call(Method::PUT, &["tables", table, "csv"], &mode, Body::Csv(csv)).await
    }

    // -- cards ----------------------------------------------------------------------

    /// `GET /api/v1/cards`: every version of every card the daemon has loaded.
    pub(crate) async fn cards(&self) -> anyhow::Result<wire::CardList> {
        self.call(Method::GET, &["cards"], &[], Body::None).await
    }

    /// `GET /api/v1/cards/{name}[?version=]`: the registry's versions of a card.
    pub(crate) async fn card_versions(&self, name: &str, version: Option<&str>) -> anyhow::Result<wire::CardVersions> {
        let q: Vec<_> = version.map(|v| ("version", v.to_string())).into_iter().collect();
        self.call(Method::GET, &["cards", name], &q, Body::None).await
    }

    /// `PUT /api/v1/cards/{name}` (the card must say it is `name`), else
    /// `POST /api/v1/cards`.
    pub(crate) async fn publish(&self, wasm: Vec<u8>, name: Option<&str>) -> anyhow::Result<wire::Publication> {
        match name {
            Some(n) => self.call(Method::PUT, &["cards", n], &[], Body::Wasm(wasm)).await,
            None => self.call(Method::POST, &["cards"], &[], Body::Wasm(wasm)).await,
        }
    }

    /// `POST /api/v1/cards/{name}/{version}/grants`.
    pub(crate) async fn grant(&self, name: &str, version: &str, grants: &[Grant], replace: bool) -> anyhow::Result<wire::GrantAnswer> {
        let body = serde_json::json!({ "grants": grants.iter().map(Grant::to_string).collect::<Vec<_>>(), "replace": replace });
        self.call(Method::POST, &["cards", name, version, "grants"], &[], Body::Json(serde_json::to_vec(&body)?)).await
    }

    /// `DELETE /api/v1/cards/{name}/{version}`.
    pub(crate) async fn remove(&self, name: &str, version: &str) -> anyhow::Result<wire::Removal> {
        self.call(Method::DELETE, &["cards", name, version], &[], Body::None).await
    }

    // -- one request ----------------------------------------------------------------

    /// A request whose answer must be a success of type `T`.
    async fn call<T: DeserializeOwned>(&self, method: Method, segments: &[&str], query: &[(&str, String)], body: Body) -> anyhow::Result<T> {
        self.send(method, segments, query, body).await?.ok()?.json()
    }

    /// As [`AdminClient::call`], with `404` read as "there is none".
    async fn call_or_404<T: DeserializeOwned>(&self, method: Method, segments: &[&str], query: &[(&str, String)], body: Body) -> anyhow::Result<Option<T>> {
        let answer = self.send(method, segments, query, body).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        answer.ok()?.json().map(Some)
    }

    /// `/api/v1/` and `segments` (each percent-encoded), with the token.
    async fn send(&self, method: Method, segments: &[&str], query: &[(&str, String)], body: Body) -> anyhow::Result<Answer> {
        let mut url = reqwest::Url::parse(&self.base).with_context(|| format!("the daemon's address {} is not a URL", self.base))?;
        url.path_segments_mut()
            .map_err(|_| anyhow::anyhow!("the daemon's address {} cannot take a path", self.base))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        let mut req = self.http.request(method, url).query(query).bearer_auth(&self.token);
        let mut upload = None;
        req = match body {
            Body::None => req,
            Body::Json(b) => req.header("content-type", "application/json").body(b),
            Body::Csv(b) => req.header("content-type", "text/csv").body(b),
            Body::Wasm(b) => {
                upload = Some(b.len());
                req.header("content-type", "application/wasm").body(b)
            }
        };
        let resp = req.send().await.with_context(|| match (upload, self.reached) {
            // The daemon answers an upload over its size cap with 413 while
            // the client sends; if the connection went down before that
            // answer could be read, say what the likely cause is.
            (Some(n), _) => format!(
                "the daemon's admin API at {} closed the connection while the card ({n} bytes) was being sent; \
                 is it over the daemon's [server] max_card_bytes?",
                self.base
            ),
            (None, Reached::HoldsTheDataDir) => {
                format!("the daemon holds the data directory, but its admin API at {} does not answer", self.base)
            }
            (None, Reached::AtUrl) => format!("the daemon's admin API at {} does not answer", self.base),
        })?;
        let status = resp.status();
        // An export says how many rows it holds.
        let rows = resp.headers().get("x-rows").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let bytes = resp.bytes().await.context("the daemon's answer was cut off")?.to_vec();
        Ok(Answer { status, bytes, rows })
    }
}

/// The admin token: `explicit` (`--token`), else the config's
/// `[server] admin_token`.
pub(crate) fn admin_token(explicit: Option<&str>, config: &lanyard_server::Config) -> anyhow::Result<String> {
    match (explicit, &config.server.admin_token) {
        (Some(t), _) => Ok(t.to_string()),
        (None, Some(t)) => Ok(t.expose().to_string()),
        (None, None) => anyhow::bail!(
            "the daemon's admin API needs its admin token: pass --token (or LANYARD_ADMIN_TOKEN), or set [server] admin_token in the config"
        ),
    }
}

/// An answer as it came.
struct Answer {
    status: StatusCode,
    bytes: Vec<u8>,
    rows: Option<u64>,
}

impl Answer {
    /// A success, else the daemon's refusal as the error.
    fn ok(self) -> anyhow::Result<Answer> {
        if self.status.is_success() {
            return Ok(self);
        }
        let error = serde_json::from_slice::<wire::ErrorAnswer>(&self.bytes)
            .map(|a| a.error)
            .map_err(|_| String::from_utf8_lossy(&self.bytes).into_owned());
        Err(Refused { status: self.status, error }.into())
    }

    fn json<T: DeserializeOwned>(self) -> anyhow::Result<T> {
        serde_json::from_slice(&self.bytes).context("the daemon's answer has an unexpected shape")
    }
}

/// `text` with every line indented by `by`.
pub(crate) fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    //! Against a real daemon the client is exercised by the commands' tests
    //! (`tests/cli_table.rs`, `tests/cli_card.rs`); here, how a refusal reads.

    use super::*;

    #[test]
    fn a_refusal_reads_as_the_daemons_message_and_its_details() {
        let mut body = wire::ErrorBody::new("bad_describe", "card.wasm: describe() is wrong");
        body.detail = Some("line one\nline two".into());
        body.problems = Some(vec!["no name".into()]);
        let r = Refused { status: StatusCode::UNPROCESSABLE_ENTITY, error: Ok(body) };
        assert_eq!(r.to_string(), "card.wasm: describe() is wrong\n  line one\n  line two\n  - no name");
        let listed = wire::ErrorBody { problems: Some(vec!["a".into()]), ..wire::ErrorBody::new("x", "refused:\n  - a") };
        assert_eq!(Refused { status: StatusCode::BAD_REQUEST, error: Ok(listed) }.to_string(), "refused:\n  - a");
        assert_eq!(Refused { status: StatusCode::BAD_GATEWAY, error: Err("upstream down".into()) }.to_string(), "upstream down");
        assert_eq!(Refused { status: StatusCode::BAD_GATEWAY, error: Err(String::new()) }.to_string(), "the daemon answered 502");
    }
}
