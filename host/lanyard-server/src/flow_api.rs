//! Writing flows through the admin API: read a flow's file, check a draft,
//! create, save, turn on or off, list and revert versions, and the audit list.
//!
//! The file in the flows directory stays the truth. Every write is one step
//! under the engine's flow-write lock: compare the file on disk with the
//! caller's `If-Match` etag (a hand edit changes it too) → validate the whole
//! set with the draft in place of the file, exactly as a reload would
//! ([`Engine::check_flows_with`], the same diagnostics `lanyard validate`
//! gives) → refuse on errors → keep the text on disk as a version if the
//! history does not have it yet (a hand-written file's first save) → write
//! atomically (a hidden temp file in the same directory, fsync, rename, fsync
//! the directory) → record the version and an audit entry → reload, and answer
//! once the new set is loaded. The file watcher sees the write too; it reloads
//! only when the files differ from the loaded set, so a write is one
//! generation.
//!
//! Routes (all admin; errors are the server's `{"error": {"code", "message"}}`):
//! - `GET /api/v1/flows/{name}` → `{name, file, source, etag, enabled,
//!   diagnostics, outline}` (`ETag` header too)
//! - `POST /api/v1/flows/check` `{source, file?}` → `{ok, diagnostics, outline}`
//! - `POST /api/v1/flows` `{source, file?, note?}` → 201 `{name, file, etag, version}`
//! - `PUT /api/v1/flows/{name}` `{source, note?}`, `If-Match` → `{etag, version, generation}`
//! - `PUT /api/v1/flows/{name}/enabled` `{enabled}`, `If-Match` optional
//! - `GET /api/v1/flows/{name}/versions`, `GET /api/v1/flows/{name}/versions/{n}`
//! - `POST /api/v1/flows/{name}/revert` `{version, note?}`, `If-Match`
//! - `GET /api/v1/flows/{name}/audit`, `GET /api/v1/audit`
//!
//! `outline` is `null` here: the diagram model is another module's and is
//! wired in separately.
//!
//! This module must not write anywhere but a `.yaml` file inside the flows
//! directory (no hidden names, nothing through `..` or a symlink out), nor
//! hold more than the daemon's body limit and a 1 MiB file per request.

use crate::engine::{DraftCheck, Engine};
use crate::flows::MAX_FLOW_FILE_BYTES;
use crate::server::{
    allow, bad_request, decode_segment, header, internal, json_response, parse_json, query, query_get, read_body,
    require_admin, require_json, ApiError, Resp,
};
use chrono::Utc;
use http::header::{HeaderValue, ETAG, IF_MATCH};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use lanyard_flow::model::Flow;
use lanyard_flow::yaml::{self, NodeKind};
use lanyard_flow::{Diagnostic, SourceFile};
use crate::admin_wire;
use lanyard_core::admin_api as wire;
use lanyard_store::{AuditEntry, FlowVersion};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Audit entries one listing returns at most.
const AUDIT_PAGE: usize = 200;

/// Whether `rest` (the path after `/api/v1/`) is one of this module's routes.
/// `GET /api/v1/flows`, `POST /api/v1/flows/{name}/run` and `.../invoke` stay
/// with the server.
pub(crate) fn is_flow_api_route(method: &Method, rest: &[&str]) -> bool {
    match rest {
        ["flows"] => method == Method::POST,
        ["flows", _] | ["audit"] => true,
        ["flows", _, "enabled" | "versions" | "revert" | "audit"] | ["flows", _, "versions", _] => true,
        _ => false,
    }
}

enum Route {
    Check,
    Create,
    Show(String),
    Save(String),
    Enabled(String),
    Versions(String),
    Version(String, u64),
    Revert(String),
    Audit(Option<String>),
}

/// Serve one route of this module (see the module docs).
pub(crate) async fn handle(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    let m = req.method().clone();
    // Resolve first: an unknown route or method is answered whatever the token.
    let (methods, route): (&'static str, Route) = match (rest, &m) {
        (["flows"], _) => ("POST", Route::Create),
        (["flows", "check"], &Method::POST) => ("POST", Route::Check),
        (["flows", name], &Method::PUT) => ("GET, PUT", Route::Save(decode_segment(name)?)),
        (["flows", name], _) => ("GET, PUT", Route::Show(decode_segment(name)?)),
        (["flows", name, "enabled"], _) => ("PUT", Route::Enabled(decode_segment(name)?)),
        (["flows", name, "versions"], _) => ("GET", Route::Versions(decode_segment(name)?)),
        (["flows", name, "versions", n], _) => {
            let n = n.parse::<u64>().map_err(|_| bad_request(format!("a version is a number, not `{n}`")))?;
            ("GET", Route::Version(decode_segment(name)?, n))
        }
        (["flows", name, "revert"], _) => ("POST", Route::Revert(decode_segment(name)?)),
        (["flows", name, "audit"], _) => ("GET", Route::Audit(Some(decode_segment(name)?))),
        (["audit"], _) => ("GET", Route::Audit(None)),
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route {}", req.uri().path()))),
    };
    if !methods.split(", ").any(|x| x == m.as_str()) {
        return Err(allow(methods));
    }
    require_admin(engine, &req)?;
    match serve(engine, req, route).await {
        Ok(r) => Ok(r),
        Err(r) => r.into_result(),
    }
}

/// A refusal, with details beside `code` and `message` in the error object
/// (`diagnostics`, `current`) when it has them.
struct Refused {
    error: ApiError,
    body: Option<wire::ErrorBody>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused { error, body: None }
    }
}

impl Refused {
    /// `error`, its error object filled in by `details`.
    fn with(error: ApiError, details: impl FnOnce(&mut wire::ErrorBody)) -> Self {
        let mut body = wire::ErrorBody::new(error.code, error.message.clone());
        details(&mut body);
        Refused { error, body: Some(body) }
    }

    fn into_result(self) -> Result<Resp, ApiError> {
        let Some(body) = self.body else { return Err(self.error) };
        tracing::debug!(status = self.error.status.as_u16(), code = self.error.code, error = %self.error.message, "flow write refused");
        Ok(json_response(self.error.status, &wire::ErrorAnswer { error: body }))
    }
}

async fn serve(engine: &Engine, req: Request<Incoming>, route: Route) -> Result<Resp, Refused> {
    match route {
        Route::Show(name) => show(engine, &name).await,
        Route::Check => {
            let body: CheckBody = json_body(engine, req).await?;
            check(engine, body).await
        }
        Route::Create => {
            let body: CreateBody = json_body(engine, req).await?;
            create(engine, body).await
        }
        Route::Save(name) => {
            let expect = if_match(&req)?.ok_or_else(precondition_required)?;
            let body: SaveBody = json_body(engine, req).await?;
            let target = Target::of(engine, &name)?;
            let w = Write {
                source: body.source,
                action: Action::Save,
                note: body.note,
                expect: Expect::Etag(expect),
            };
            let done = write_flow(engine, &target, w).await?;
            Ok(json_response(StatusCode::OK, &done.saved()))
        }
        Route::Enabled(name) => {
            let expect = if_match(&req)?;
            let body: EnabledBody = json_body(engine, req).await?;
            set_enabled(engine, &name, body.enabled, body.note, expect).await
        }
        Route::Versions(name) => {
            let target = Target::of(engine, &name)?;
            let versions = engine.store().flow_versions(&target.rel).await.map_err(store_error)?;
            let versions = versions
                .into_iter()
                .map(|v| wire::FlowVersionSummary { version: v.version, at: v.at, etag: v.etag, note: v.note, action: v.action })
                .collect();
            Ok(json_response(StatusCode::OK, &wire::FlowVersions { file: target.rel, versions }))
        }
        Route::Version(name, n) => {
            let target = Target::of(engine, &name)?;
            let v = engine
                .store()
                .flow_version(&target.rel, n)
                .await
                .map_err(store_error)?
                .ok_or_else(|| not_found(format!("{} has no version {n} (only the last {} are kept)", target.rel, lanyard_store::MAX_FLOW_VERSIONS)))?;
            Ok(json_response(StatusCode::OK, &admin_wire::flow_version(v)))
        }
        Route::Revert(name) => {
            let expect = if_match(&req)?.ok_or_else(precondition_required)?;
            let body: RevertBody = json_body(engine, req).await?;
            let target = Target::of(engine, &name)?;
            let v = engine
                .store()
                .flow_version(&target.rel, body.version)
                .await
                .map_err(store_error)?
                .ok_or_else(|| not_found(format!("{} has no version {}", target.rel, body.version)))?;
            let w = Write {
                source: v.source,
                action: Action::Revert(body.version),
                note: body.note,
                expect: Expect::Etag(expect),
            };
            let done = write_flow(engine, &target, w).await?;
            Ok(json_response(StatusCode::OK, &done.saved()))
        }
        Route::Audit(name) => {
            let file = match &name {
                Some(n) => Some(Target::of(engine, n)?.rel),
                None => None,
            };
            let q = query(&req);
            let limit = match query_get(&q, "limit") {
                Some(l) => l.parse::<usize>().map_err(|_| bad_request(format!("`limit` must be a number, not `{l}`")))?,
                None => AUDIT_PAGE,
            }
            .min(AUDIT_PAGE);
            let entries = engine.store().audit(file.as_deref(), limit).await.map_err(store_error)?;
            Ok(json_response(StatusCode::OK, &wire::AuditList { entries: entries.into_iter().map(admin_wire::audit_entry).collect() }))
        }
    }
}

// -- bodies -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    source: String,
    file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    source: String,
    file: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    source: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnabledBody {
    enabled: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevertBody {
    version: u64,
    note: Option<String>,
}

/// The JSON body, at most the daemon's `max_body_bytes`.
async fn json_body<T: serde::de::DeserializeOwned>(engine: &Engine, req: Request<Incoming>) -> Result<T, ApiError> {
    require_json(&req, true)?;
    let body = read_body(req, engine.config().server.max_body_bytes).await?;
    let value = parse_json(&body)?;
    serde_json::from_value(value).map_err(|e| bad_request(format!("the body does not fit this route: {e}")))
}

// -- reading ------------------------------------------------------------------

/// A loaded flow's file: where it is, relative to the flows directory.
struct Target {
    /// `offboarding.yaml`, `team/offboarding.yaml`.
    rel: String,
    path: PathBuf,
    flow: Option<Arc<Flow>>,
}

impl Target {
    /// The file of the loaded flow `name`.
    fn of(engine: &Engine, name: &str) -> Result<Target, ApiError> {
        let flow = engine
            .flows()
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_flow", format!("no flow named `{name}` is loaded")))?;
        let dir = &engine.config().server.flows_dir;
        let path = PathBuf::from(&flow.file);
        let rel = path
            .strip_prefix(dir)
            .ok()
            .and_then(|r| r.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::new(StatusCode::CONFLICT, "not_in_flows_dir", format!("flow `{name}` is not a file of the flows directory ({})", flow.file))
            })?;
        Ok(Target { rel, path, flow: Some(flow) })
    }

    /// The file's text now (`None`: there is no such file).
    async fn read(&self) -> Result<Option<String>, ApiError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read_current(&path)).await.map_err(|e| internal(e.to_string()))?
    }

    fn gone(&self) -> ApiError {
        not_found(format!("{} is gone from the flows directory", self.rel))
    }

    /// A new file named by the caller (or after the flow): checked to be a
    /// plain `.yaml` name inside the flows directory.
    fn new_file(engine: &Engine, rel: &str) -> Result<Target, ApiError> {
        let dir = &engine.config().server.flows_dir;
        let path = safe_path(dir, rel)?;
        Ok(Target {
            rel: rel.to_string(),
            path,
            flow: None,
        })
    }
}

/// `rel` joined to `dir`, or why it may not be written: it must be relative,
/// plain (no `..`, `.`, hidden or empty parts, no backslash), end in `.yaml`,
/// and its folder must exist inside `dir` once symlinks are resolved.
fn safe_path(dir: &Path, rel: &str) -> Result<PathBuf, ApiError> {
    let refuse = |why: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_file", format!("`{rel}` cannot be a flow file: {why}"));
    if rel.is_empty() || rel.len() > 255 || rel.contains('\\') || rel.contains('\0') {
        return Err(refuse("give a relative path such as `offboarding.yaml`"));
    }
    let p = Path::new(rel);
    if p.components().next() == Some(Component::Normal(crate::flows::LIBRARY_DIR.as_ref())) && p.components().count() > 1 {
        return Err(refuse("the `library` folder is the flow library's, which is never loaded"));
    }
    for c in p.components() {
        match c {
            Component::Normal(part) => {
                if part.to_str().is_none_or(|s| s.starts_with('.')) {
                    return Err(refuse("hidden names are not loaded"));
                }
            }
            _ => return Err(refuse("it must stay inside the flows directory")),
        }
    }
    if p.extension().and_then(|e| e.to_str()) != Some("yaml") || p.file_stem().is_none() {
        return Err(refuse("a flow file name ends in `.yaml`"));
    }
    let path = dir.join(p);
    let parent = path.parent().ok_or_else(|| refuse("it has no folder"))?;
    let (Ok(parent), Ok(root)) = (parent.canonicalize(), dir.canonicalize()) else {
        return Err(refuse("its folder does not exist in the flows directory"));
    };
    if !parent.starts_with(&root) {
        return Err(refuse("it must stay inside the flows directory"));
    }
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse("it is a symbolic link"));
    }
    Ok(path)
}

fn etag_of(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// The file's text now, `None` if it does not exist; bounded like loading.
fn read_current(path: &Path) -> Result<Option<String>, ApiError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(internal(format!("cannot read {}: {e}", path.display()))),
        Ok(m) if m.len() > MAX_FLOW_FILE_BYTES => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "too_large",
                format!("{} is {} bytes; a flow file is at most {MAX_FLOW_FILE_BYTES}", path.display(), m.len()),
            ))
        }
        Ok(_) => {}
    }
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(internal(format!("cannot read {}: {e}", path.display()))),
    }
}

fn with_etag(mut resp: Resp, etag: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

/// `If-Match`, unquoted (`W/` and quotes dropped); `None` without one.
fn if_match(req: &Request<Incoming>) -> Result<Option<String>, ApiError> {
    if req.headers().get(IF_MATCH).is_some() && header(req, IF_MATCH).is_none() {
        return Err(bad_request("`If-Match` is not text"));
    }
    Ok(header(req, IF_MATCH).map(|v| v.trim().trim_start_matches("W/").trim_matches('"').to_string()))
}

fn precondition_required() -> ApiError {
    ApiError::new(
        StatusCode::PRECONDITION_REQUIRED,
        "etag_required",
        "send `If-Match: <etag>` with the etag of the text you edited (from `GET /api/v1/flows/{name}`)",
    )
}

fn not_found(what: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
}

fn store_error(e: lanyard_store::StoreError) -> ApiError {
    match e {
        lanyard_store::StoreError::Invalid(m) => bad_request(m),
        other => internal(format!("the flow history: {other}")),
    }
}

async fn show(engine: &Engine, name: &str) -> Result<Resp, Refused> {
    let target = Target::of(engine, name)?;
    let source = target.read().await?.ok_or_else(|| target.gone())?;
    let etag = etag_of(&source);
    let file_str = target.path.display().to_string();
    // The file as loaded: the loaded set already says all there is to say.
    // Changed on disk since: checked as it is now, as a reload would.
    let loaded = target.flow.clone().filter(|f| etag == format!("sha256:{}", f.digest));
    let (flow, diagnostics) = match loaded {
        Some(f) => {
            let set = engine.flows();
            let diagnostics: Vec<Diagnostic> = set.warnings.iter().filter(|d| d.file == file_str).cloned().collect();
            (Some(f), diagnostics)
        }
        None => {
            let check = engine.check_flows_with(SourceFile::new(file_str.clone(), source.clone())).await;
            let diagnostics = check.diagnostics.into_iter().filter(|d| d.file == file_str).collect();
            (check.flow.or_else(|| target.flow.clone()), diagnostics)
        }
    };
    let body = wire::FlowFile {
        name: name.to_string(),
        file: target.rel.clone(),
        source,
        etag: etag.clone(),
        enabled: target.flow.as_ref().is_none_or(|f| f.enabled),
        diagnostics: diagnostics.iter().map(admin_wire::diagnostic).collect(),
        outline: flow.as_ref().map(|f| admin_wire::outline(&crate::builder_api::outline_of(engine, f))),
    };
    Ok(with_etag(json_response(StatusCode::OK, &body), &etag))
}

async fn check(engine: &Engine, body: CheckBody) -> Result<Resp, Refused> {
    check_size(&body.source)?;
    let rel = match body.file {
        Some(f) => f,
        None => default_file(&body.source).unwrap_or_else(|| "draft.yaml".into()),
    };
    let target = Target::new_file(engine, &rel)?;
    let check = engine.check_flows_with(SourceFile::new(target.path.display().to_string(), body.source)).await;
    let ok = check.refused.is_none();
    let outline = check.flow.as_ref().map(|f| admin_wire::outline(&crate::builder_api::outline_of(engine, f)));
    Ok(json_response(StatusCode::OK, &wire::FlowCheck { ok, diagnostics: all_diagnostics(&check), outline }))
}

/// The diagnostics of a check; a refusal with none (a set-wide rule) as one,
/// which has no place.
fn all_diagnostics(check: &DraftCheck) -> Vec<wire::Diagnostic> {
    let mut out: Vec<wire::Diagnostic> = check.diagnostics.iter().map(admin_wire::diagnostic).collect();
    if let Some(r) = &check.refused
        && r.diagnostics.is_empty()
    {
        out.push(wire::Diagnostic {
            severity: wire::Severity::Error,
            code: "flow-set".into(),
            file: String::new(),
            span: None,
            message: r.message.clone(),
            step: None,
            help: None,
        });
    }
    out
}

fn check_size(source: &str) -> Result<(), ApiError> {
    if source.len() as u64 > MAX_FLOW_FILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the flow is {} bytes; a flow file is at most {MAX_FLOW_FILE_BYTES}", source.len()),
        ));
    }
    Ok(())
}

/// `<slug of the flow's name>.yaml`, if the draft has a name.
fn default_file(source: &str) -> Option<String> {
    let name = draft_name(source)?;
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    (!slug.is_empty()).then(|| format!("{}.yaml", &slug[..slug.len().min(100)]))
}

/// The draft's `name:`, if it has one.
fn draft_name(source: &str) -> Option<String> {
    let (root, _) = yaml::parse("draft", source);
    let name = root?.as_map()?.iter().find(|(k, _)| k.text == "name")?.1.as_str()?.trim().to_string();
    Some(name)
}

async fn create(engine: &Engine, body: CreateBody) -> Result<Resp, Refused> {
    check_size(&body.source)?;
    let rel = match body.file {
        Some(f) => f,
        None => default_file(&body.source).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "the flow has no `name` to name its file after; give `name:` or `file`")
        })?,
    };
    let target = Target::new_file(engine, &rel)?;
    let w = Write {
        source: body.source,
        action: Action::Create,
        note: body.note,
        expect: Expect::Absent,
    };
    let done = write_flow(engine, &target, w).await?;
    Ok(with_etag(
        json_response(StatusCode::CREATED, &wire::FlowCreated { name: done.name, file: target.rel, etag: done.etag.clone(), version: done.version }),
        &done.etag,
    ))
}

async fn set_enabled(engine: &Engine, name: &str, enabled: bool, note: Option<String>, expect: Option<String>) -> Result<Resp, Refused> {
    let target = Target::of(engine, name)?;
    let current = target.read().await?.ok_or_else(|| target.gone())?;
    if let Some(e) = &expect {
        if *e != etag_of(&current) {
            return Err(changed(&current));
        }
    }
    let edited = set_enabled_text(&current, enabled)
        .map_err(|why| ApiError::new(StatusCode::CONFLICT, "not_editable", format!("cannot turn {} {}: {why}", name, if enabled { "on" } else { "off" })))?;
    let Some(source) = edited else {
        // Already so: nothing to write.
        let etag = etag_of(&current);
        let latest = engine.store().flow_versions(&target.rel).await.map_err(store_error)?;
        let version = latest.first().filter(|v| v.etag == etag).map(|v| v.version);
        let toggled = wire::FlowToggled { etag: etag.clone(), version, generation: None, changed: false };
        return Ok(with_etag(json_response(StatusCode::OK, &toggled), &etag));
    };
    let w = Write {
        source,
        action: if enabled { Action::Enable } else { Action::Disable },
        note,
        expect: Expect::Etag(etag_of(&current)),
    };
    let done = write_flow(engine, &target, w).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &wire::FlowToggled { etag: done.etag.clone(), version: Some(done.version), generation: Some(done.generation), changed: true }),
        &done.etag,
    ))
}

fn changed(current: &str) -> Refused {
    // The current text rides along so the client can show what changed.
    Refused::with(
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "changed",
            "the file changed since you opened it (another admin, or an edit on disk); reload it and apply your change again",
        ),
        |body| body.current = Some(wire::FlowText { etag: etag_of(current), source: current.to_string() }),
    )
}

// -- writing ------------------------------------------------------------------

enum Action {
    Create,
    Save,
    Enable,
    Disable,
    Revert(u64),
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Save => "save",
            Action::Enable => "enable",
            Action::Disable => "disable",
            Action::Revert(_) => "revert",
        }
    }
}

enum Expect {
    /// The file must not exist.
    Absent,
    /// The file must have this etag.
    Etag(String),
}

struct Write {
    source: String,
    action: Action,
    note: Option<String>,
    expect: Expect,
}

struct Written {
    name: String,
    etag: String,
    version: u64,
    generation: u64,
}

impl Written {
    fn saved(self) -> wire::FlowSaved {
        wire::FlowSaved { name: self.name, etag: self.etag, version: self.version, generation: self.generation }
    }
}

async fn write_flow(engine: &Engine, target: &Target, w: Write) -> Result<Written, Refused> {
    check_size(&w.source)?;
    if let Some(n) = &w.note {
        if n.len() > 1000 {
            return Err(bad_request("a note is at most 1000 bytes").into());
        }
    }
    let _one_writer = engine.lock_flow_writes().await;
    let current = target.read().await?;
    match (&w.expect, &current) {
        (Expect::Absent, Some(_)) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "exists", format!("{} already exists; save it instead", target.rel)).into())
        }
        (Expect::Etag(_), None) => return Err(target.gone().into()),
        (Expect::Etag(e), Some(text)) if *e != etag_of(text) && e != "*" => return Err(changed(text)),
        _ => {}
    }
    if let (Expect::Absent, Some(name)) = (&w.expect, draft_name(&w.source)) {
        if engine.flows().get(&name).is_some() {
            return Err(ApiError::new(StatusCode::CONFLICT, "exists", format!("a flow named `{name}` is already loaded")).into());
        }
    }
    let file_str = target.path.display().to_string();
    let check = engine.check_flows_with(SourceFile::new(file_str.clone(), w.source.clone())).await;
    if let Some(refused) = &check.refused {
        let e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", refused.message.clone());
        return Err(Refused::with(e, |body| body.diagnostics = Some(all_diagnostics(&check))));
    }
    // The new flow, compiled alone against the loaded cards: for its name
    // and the audit's words.
    let set = engine.flows();
    let new = lanyard_flow::compile(&file_str, &w.source, set.cards().as_ref())
        .flow
        .ok_or_else(|| internal("the flow passed as a set but not alone"))?;
    let old = set.flows().find(|f| f.file == file_str).cloned().or_else(|| target.flow.clone());
    let mut summary = summarize(old.as_deref(), &new);
    if let Action::Revert(n) = w.action {
        summary = format!("reverted to version {n}; {summary}");
    }

    let store = engine.store();
    let now = Utc::now();
    // A file written by hand (or edited by hand since the last save) is kept
    // as it was, so a revert can go back to it.
    if let Some(text) = &current {
        let latest = store.flow_versions(&target.rel).await.map_err(store_error)?;
        if latest.first().is_none_or(|v| v.etag != etag_of(text)) {
            store
                .add_flow_version(&FlowVersion {
                    version: 0,
                    at: now,
                    file: target.rel.clone(),
                    etag: etag_of(text),
                    action: "found".into(),
                    note: Some("the file as it was before this save".into()),
                    source: text.clone(),
                })
                .await
                .map_err(store_error)?;
        }
    }
    let path = target.path.clone();
    let text = w.source.clone();
    tokio::task::spawn_blocking(move || write_atomically(&path, &text))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(format!("cannot write {}: {e}", target.path.display())))?;
    let etag = etag_of(&w.source);
    let version = store
        .add_flow_version(&FlowVersion {
            version: 0,
            at: now,
            file: target.rel.clone(),
            etag: etag.clone(),
            action: w.action.name().into(),
            note: w.note.clone(),
            source: w.source.clone(),
        })
        .await
        .map_err(store_error)?;
    store
        .add_audit(&AuditEntry {
            at: now,
            flow: new.name.clone(),
            file: target.rel.clone(),
            action: w.action.name().into(),
            version: Some(version.version),
            note: w.note.clone(),
            summary: summary.clone(),
        })
        .await
        .map_err(store_error)?;
    store.sync().await.map_err(store_error)?;
    tracing::info!(flow = %new.name, file = %target.rel, action = w.action.name(), version = version.version, %summary, "flow file written");
    let generation = match engine.reload_if_files_changed().await {
        Ok(s) => s.generation,
        Err(e) => {
            // Validated a moment ago with the same files: something else
            // changed in between (a hand edit, the card registry).
            return Err(internal(format!("{} was written, but the flows did not reload: {}", target.rel, e.0.message)).into());
        }
    };
    Ok(Written {
        name: new.name.clone(),
        etag,
        version: version.version,
        generation,
    })
}

/// Replace `path` with `text` so a reader sees the old file or the new one,
/// never part of either, and the change survives a crash: a hidden temp file
/// in the same folder (the loader skips hidden names), fsync, rename over,
/// fsync the folder. The old file's permissions are kept.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no folder"))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("flow");
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

// -- the `enabled` key ----------------------------------------------------------

/// `text` with its top-level `enabled` set, changing nothing else: the
/// value replaced in place, or `enabled: false` added on the line after
/// `description` (true needs no key). `None` when it already says so.
pub(crate) fn set_enabled_text(text: &str, enabled: bool) -> Result<Option<String>, String> {
    let (root, diags) = yaml::parse("flow", text);
    let root = root.ok_or_else(|| diags.first().map(|d| d.message.clone()).unwrap_or_else(|| "the file is not YAML".into()))?;
    let NodeKind::Map(entries) = &root.kind else {
        return Err("the file is not a mapping of keys".into());
    };
    let start = offset(text, root.span.start).ok_or("a position outside the file")?;
    if text[start..].starts_with('{') {
        return Err("the flow is written as one `{ ... }` mapping; set `enabled` by hand".into());
    }
    let word = if enabled { "true" } else { "false" };
    if let Some((_, value)) = entries.iter().find(|(k, _)| k.text == "enabled") {
        if value.kind == NodeKind::Bool(enabled) {
            return Ok(None);
        }
        let from = offset(text, value.span.start).ok_or("a position outside the file")?;
        let to = offset(text, value.span.end).ok_or("a position outside the file")?;
        if to < from || matches!(value.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
            return Err("`enabled` is not a plain value".into());
        }
        return Ok(Some(format!("{}{word}{}", &text[..from], &text[to..])));
    }
    if enabled {
        return Ok(None);
    }
    let (key, value) = entries.iter().find(|(k, _)| k.text == "description").ok_or("the flow has no `description` to put `enabled` after")?;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let indent = " ".repeat(key.span.start.col.saturating_sub(1) as usize);
    let line = format!("{indent}enabled: false{newline}");
    // After the description's last line (a block scalar's value may end at
    // the start of the line after it), and before the blank lines after it,
    // unless it is a block scalar that keeps them (`|+`, `>+`): those are its.
    let from = offset(text, value.span.start).ok_or("a position outside the file")?;
    let end = offset(text, value.span.end).ok_or("a position outside the file")?;
    let mut at = if value.span.end.col <= 1 {
        end
    } else {
        text[end..].find('\n').map_or(text.len(), |i| end + i + 1)
    };
    // A block scalar's span starts at its text; its header (`|+`) is
    // between the key and there.
    let key_end = offset(text, key.span.end).ok_or("a position outside the file")?;
    let header = text.get(key_end..from).and_then(|h| h.lines().next()).unwrap_or("");
    let header = header.split('#').next().unwrap_or("").trim_start_matches([':', ' ', '\t']);
    let is_blank = |a: usize, b: usize| text[a..b].trim().is_empty();
    if header.starts_with(['|', '>']) && header.contains('+') {
        while let Some(i) = text[at..].find('\n') {
            if !is_blank(at, at + i) {
                break;
            }
            at += i + 1;
        }
    } else {
        while at > from + 1 {
            let prev = text[..at - 1].rfind('\n').map_or(0, |i| i + 1);
            if prev <= from || !is_blank(prev, at) {
                break;
            }
            at = prev;
        }
    }
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    out.push_str(&text[..at]);
    if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        out.push_str(newline);
    }
    out.push_str(&line);
    out.push_str(&text[at..]);
    Ok(Some(out))
}

/// The byte offset of a 1-based line and character column.
fn offset(text: &str, pos: lanyard_flow::diag::Pos) -> Option<usize> {
    let mut line_start = 0usize;
    for _ in 1..pos.line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let line = &text[line_start..];
    let col = pos.col.max(1) as usize - 1;
    match line.char_indices().nth(col) {
        Some((i, _)) => Some(line_start + i),
        None if line.chars().count() == col => Some(line_start + line.len()),
        None => None,
    }
}

// -- what changed, in words -----------------------------------------------------

/// What a write changed in the flow, in words: "added step notify; changed
/// inputs of sessions; turned off".
fn summarize(old: Option<&Flow>, new: &Flow) -> String {
    let Some(old) = old else {
        let mut s = format!("created flow {} with {} step{}", new.name, new.steps.len(), if new.steps.len() == 1 { "" } else { "s" });
        if !new.enabled {
            s.push_str(", off");
        }
        return s;
    };
    let mut parts = Vec::new();
    if old.name != new.name {
        parts.push(format!("renamed from {} to {}", old.name, new.name));
    }
    if old.description != new.description {
        parts.push("changed the description".to_string());
    }
    if json(&old.trigger) != json(&new.trigger) {
        parts.push(format!("changed the trigger ({})", new.trigger.kind()));
    }
    let steps = |f: &Flow| -> (Vec<String>, BTreeMap<String, BTreeMap<String, Value>>) {
        let walk = f.walk();
        let order = walk.iter().map(|s| s.id.to_string()).collect();
        let by_id = walk.iter().map(|s| (s.id.to_string(), own_fields(s))).collect();
        (order, by_id)
    };
    let (old_order, old_steps) = steps(old);
    let (new_order, new_steps) = steps(new);
    let added: Vec<&str> = new_order.iter().filter(|id| !old_steps.contains_key(*id)).map(String::as_str).collect();
    let removed: Vec<&str> = old_order.iter().filter(|id| !new_steps.contains_key(*id)).map(String::as_str).collect();
    if !added.is_empty() {
        parts.push(format!("added step{} {}", if added.len() == 1 { "" } else { "s" }, added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("removed step{} {}", if removed.len() == 1 { "" } else { "s" }, removed.join(", ")));
    }
    for id in &new_order {
        let (Some(a), Some(b)) = (old_steps.get(id), new_steps.get(id)) else { continue };
        if a == b {
            continue;
        }
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).collect();
        if keys.len() == 1 && keys.contains(&"with".to_string()) {
            parts.push(format!("changed inputs of {id}"));
        } else {
            let keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
            parts.push(format!("changed {} of {id}", keys.join(", ")));
        }
    }
    let kept_old: Vec<&String> = old_order.iter().filter(|id| new_steps.contains_key(*id)).collect();
    let kept_new: Vec<&String> = new_order.iter().filter(|id| old_steps.contains_key(*id)).collect();
    if kept_old != kept_new {
        parts.push("moved steps".to_string());
    }
    if old.enabled != new.enabled {
        parts.push(if new.enabled { "turned on" } else { "turned off" }.to_string());
    }
    if parts.is_empty() {
        return "no change to what the flow does (text, comments or layout only)".into();
    }
    parts.join("; ")
}

fn json(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A step's own fields as written, without the steps nested in it (those
/// are compared as steps of their own).
fn own_fields(step: &lanyard_flow::model::Step) -> BTreeMap<String, Value> {
    let Value::Object(m) = json(step) else { return BTreeMap::new() };
    m.into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "id" | "then" | "else" | "default" | "steps" | "on_error"))
        .map(|(k, v)| match k.as_str() {
            // Case values stay; their steps are compared on their own.
            "cases" => {
                let values: Vec<Value> = v.as_object().map(|c| c.keys().map(|k| Value::String(k.clone())).collect()).unwrap_or_default();
                (k, Value::Array(values))
            }
            _ => (k, v),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAND: &str = "# Offboarding, written by hand.\nname: leaver   # the name people know\ndescription: >\n  Cleans up after\n  a leaver.\n\n# What starts it\ntrigger: manual\nsteps: []\n";

    #[test]
    fn turning_off_adds_one_line_after_the_description_and_keeps_the_rest() {
        let off = set_enabled_text(HAND, false).unwrap().unwrap();
        let expected = HAND.replace("a leaver.\n", "a leaver.\nenabled: false\n");
        assert_eq!(off, expected);
        // Back on: the value in place, nothing else.
        let on = set_enabled_text(&off, true).unwrap().unwrap();
        assert_eq!(on, expected.replace("enabled: false", "enabled: true"));
        assert_eq!(set_enabled_text(&on, true).unwrap(), None);
        assert_eq!(set_enabled_text(HAND, true).unwrap(), None);
    }

    #[test]
    fn a_plain_description_with_a_comment_and_crlf_lines() {
        let text = "name: a\r\ndescription: b # why\r\ntrigger: manual\r\nsteps: []";
        assert_eq!(
            set_enabled_text(text, false).unwrap().unwrap(),
            "name: a\r\ndescription: b # why\r\nenabled: false\r\ntrigger: manual\r\nsteps: []"
        );
        let text = "name: a\ndescription: \"b\"";
        assert_eq!(set_enabled_text(text, false).unwrap().unwrap(), "name: a\ndescription: \"b\"\nenabled: false\n");
        let text = "name: a\nenabled: yes  # not a boolean in YAML 1.2\n";
        assert_eq!(set_enabled_text(text, false).unwrap().unwrap(), "name: a\nenabled: false  # not a boolean in YAML 1.2\n");
        assert!(set_enabled_text("{ name: a, description: b }", false).is_err());
        // A block scalar that keeps its trailing blank line keeps it.
        let text = "name: a\ndescription: |+\n  b\n\ntrigger: manual\n";
        assert_eq!(set_enabled_text(text, false).unwrap().unwrap(), "name: a\ndescription: |+\n  b\n\nenabled: false\ntrigger: manual\n");
    }

    #[test]
    fn file_names_stay_plain_yaml_inside_the_flows_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("team")).unwrap();
        assert!(safe_path(dir.path(), "a.yaml").is_ok());
        assert!(safe_path(dir.path(), "team/a.yaml").is_ok());
        for bad in ["library/a.yaml", "../a.yaml", "/etc/a.yaml", ".a.yaml", "team/.a.yaml", "a.yml.txt", "a", "a.yml", "none/a.yaml", "team/../../a.yaml", ".yaml"] {
            assert!(safe_path(dir.path(), bad).is_err(), "{bad} was allowed");
        }
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
            assert!(safe_path(dir.path(), "out/a.yaml").is_err(), "a symlinked folder out of the flows dir");
        }
    }

    #[test]
    fn the_summary_says_what_changed_in_words() {
        let catalog = lanyard_flow::StaticCatalog::new([lanyard_flow::CardSummary::new("lanyard.echo").with_version("1.0.0")]);
        let compile = |text: &str| {
            let c = lanyard_flow::compile("f.yaml", text, &catalog);
            c.flow.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
        };
        let old = compile(
            "name: f\ndescription: one\ntrigger: manual\nsteps:\n  - id: sessions\n    card: lanyard.echo\n    with: { message: a }\n  - id: check\n    if: \"true\"\n    then:\n      - id: inner\n        return: 1\n",
        );
        let new = compile(
            "name: f\ndescription: two\nenabled: false\ntrigger: manual\nsteps:\n  - id: sessions\n    card: lanyard.echo\n    with: { message: b }\n  - id: notify\n    card: lanyard.echo\n    with: { message: c }\n",
        );
        assert_eq!(
            summarize(Some(&old), &new),
            "changed the description; added step notify; removed steps check, inner; changed inputs of sessions; turned off"
        );
        assert_eq!(summarize(Some(&old), &old), "no change to what the flow does (text, comments or layout only)");
        assert_eq!(summarize(None, &new), "created flow f with 2 steps, off");
    }

    #[test]
    fn default_file_names_are_slugs_of_the_flow_name() {
        assert_eq!(default_file("name: Offboard a Leaver!\n").as_deref(), Some("offboard-a-leaver.yaml"));
        assert_eq!(default_file("name: \"***\"\n"), None);
        assert_eq!(default_file("steps: []\n"), None);
    }
}
