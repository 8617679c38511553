//! The card registry's admin routes, on top of [`crate::registry`]:
//!
//! - `PUT /api/v1/cards/{name}`, or `POST /api/v1/cards` when the caller does
//!   not know the name (`lanyard card publish` without `--name`): publish. The body is the `.wasm`
//!   (`Content-Type: application/wasm` or `application/octet-stream`), at most
//!   `[server] max_card_bytes`: over it the answer is 413 at once, even while
//!   the client is still sending (the rest is read and dropped for a while, so
//!   the client reads the answer instead of a reset connection). 201 with the
//!   card when it is new, 200 when exactly these bytes were already published
//!   (either way a card marked broken with these bytes is not any more); then
//!   the engine reloads so flows see the card without a restart.
//! - `GET /api/v1/cards/{name}` (`?version=SEL`): every version (or one), with
//!   grants, the loaded flows that use it, and `broken` (why) for a version the
//!   daemon could not load.
//! - `GET /api/v1/cards/{name}/{version}`: one version.
//! - `POST /api/v1/cards/{name}/{version}/grants`: `{"grants": ["connection:jamf"],
//!   "replace": false}`; then the engine reloads.
//! - `DELETE /api/v1/cards/{name}/{version}`: remove one version (exact version
//!   or `sha256:<hex>`), refused with 409 while a loaded flow uses it.
//!
//! `{version}` is a selector: `latest`, an exact version, a semver requirement
//! or `sha256:<hex>`. All routes take the admin token. Errors are the server's
//! `{"error": {"code", "message"}}`, with `problems` (a bad `describe()`),
//! `detail` (a trap's stderr and backtrace) or `flows` (in use) where they apply.

use crate::engine::Engine;
use crate::registry::{
    flows_using, parse_selector, GrantMode, PublishError, Registry, RegistryError, RegistryOptions,
};
use crate::server::{
    allow, bad_request, decode_segment, header, json_response, parse_json, query, query_get, read_body, require_admin,
    ApiError, Resp,
};
use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;
use lanyard_core::Grant;
use lanyard_flow::model::CardRef;
use lanyard_store::CardSelector;
use lanyard_core::admin_api as wire;
use serde_json::Value;

/// Whether `rest` (the path after `/api/v1/`) is one of this module's routes.
/// `GET /api/v1/cards` (the loaded card set) stays with the server.
pub fn is_registry_route(method: &Method, rest: &[&str]) -> bool {
    match rest {
        ["cards"] => method == Method::POST,
        ["cards", _] | ["cards", _, _] | ["cards", _, _, "grants"] => true,
        _ => false,
    }
}

/// Serve one registry route (see the module docs).
pub async fn handle(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    let m = req.method().clone();
    if rest == ["cards"] {
        require_admin(engine, &req)?;
        let registry = registry(engine);
        return match publish(engine, &registry, req, None).await {
            Ok(r) => Ok(r),
            Err(Refusal::Api(e)) => Err(e),
            Err(Refusal::Publish(e)) => Ok(publish_error(e)),
            Err(Refusal::Registry(e)) => Ok(registry_error(e)),
        };
    }
    let methods = match rest {
        ["cards", _] => "GET, PUT",
        ["cards", _, _] => "GET, DELETE",
        _ => "POST",
    };
    if !methods.split(", ").any(|x| x == m.as_str()) {
        return Err(allow(methods));
    }
    require_admin(engine, &req)?;
    let name = decode_segment(rest[1])?;
    if CardRef::parse(&name).map(|r| r.name != name).unwrap_or(true) {
        return Err(bad_request(format!(
            "`{name}` is not a card name (lowercase dotted words such as `acme.jamf-offboard`)"
        )));
    }
    let version = match rest.get(2) {
        Some(v) => Some(decode_segment(v)?),
        None => None,
    };
    let registry = registry(engine);
    let result = match (m, rest) {
        (Method::PUT, _) => publish(engine, &registry, req, Some(&name)).await,
        (Method::GET, ["cards", _]) => {
            let q = query(&req);
            let version = query_get(&q, "version").map(str::to_string);
            show(engine, &registry, &name, version.as_deref()).await
        }
        (Method::GET, _) => show(engine, &registry, &name, version.as_deref()).await,
        (Method::DELETE, _) => remove(engine, &registry, &name, version.as_deref().unwrap_or_default()).await,
        _ => grant(engine, &registry, req, &name, version.as_deref().unwrap_or_default()).await,
    };
    match result {
        Ok(r) => Ok(r),
        Err(Refusal::Api(e)) => Err(e),
        Err(Refusal::Publish(e)) => Ok(publish_error(e)),
        Err(Refusal::Registry(e)) => Ok(registry_error(e)),
    }
}

/// Why a registry route did not do what it was asked: the server's plain
/// errors, or the registry's, whose answers carry details.
enum Refusal {
    Api(ApiError),
    Publish(PublishError),
    Registry(RegistryError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        Refusal::Registry(e)
    }
}

/// The registry over the daemon's store and runtime (so a published card is
/// compiled into the cache the daemon loads from).
pub fn registry(engine: &Engine) -> Registry {
    Registry::new(engine.store().clone(), engine.runtime().clone(), RegistryOptions::from_config(engine.config()))
}

/// Reload the engine so flows see a change; what happened, for the answer.
async fn reload(engine: &Engine) -> wire::RegistryReload {
    match engine.reload().await {
        Ok(s) => wire::RegistryReload { ok: true, generation: Some(s.generation), error: None },
        Err(e) => wire::RegistryReload {
            ok: false,
            generation: None,
            error: Some(format!("the registry changed, but the flows did not reload (the flows loaded before stay in use): {}", e.0.message)),
        },
    }
}

async fn publish(engine: &Engine, registry: &Registry, req: Request<Incoming>, name: Option<&str>) -> Result<Resp, Refusal> {
    if let Some(ct) = header(&req, CONTENT_TYPE) {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/wasm" && mime != "application/octet-stream" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("the body must be the card's .wasm (`application/wasm`), not `{ct}`"),
            )
            .into());
        }
    }
    let wasm = read_card(req, registry.options().max_card_bytes).await?;
    match registry.publish(wasm.to_vec(), name).await {
        Ok(published) => {
            // `describe()` answered: a mark from a load that failed goes.
            engine.flows().cards().health().clear(&published.card.digest);
            let reload = if published.new { reload(engine).await } else { wire::RegistryReload { ok: true, generation: None, error: None } };
            let status = if published.new { StatusCode::CREATED } else { StatusCode::OK };
            Ok(json_response(status, &wire::Publication { published, reload }))
        }
        Err(e) => Err(Refusal::Publish(e)),
    }
}

/// How long a card upload may stall between two pieces.
const CARD_READ_IDLE: Duration = Duration::from_secs(30);
/// After a 413, how long and how much of the rest of the body is read and
/// dropped: enough for a client to finish sending and read the answer, bounded
/// so a client cannot hold the connection or the CPU.
const DRAIN_FOR: Duration = Duration::from_secs(10);
const DRAIN_MAX: u64 = 1 << 30;

/// The card's bytes, at most `max`. A body over it (by its Content-Length, or
/// as it arrives) is refused with 413 at once and `Connection: close`; the
/// rest of it is read and dropped in the background ([`drain`]), because
/// closing a connection with unread data resets it and the client, still
/// sending, would see "connection reset" or "broken pipe" instead of the answer.
async fn read_card(req: Request<Incoming>, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the card is larger than the registry takes: at most {max} bytes ([server] max_card_bytes)"),
        )
        .with_header(CONNECTION, "close")
    };
    let declared = header(&req, CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = req.into_body();
    if declared.is_some_and(|n| n > max as u64) {
        drain(body);
        return Err(too_large());
    }
    let mut wasm = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        let frame = match tokio::time::timeout(CARD_READ_IDLE, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!("the card upload stalled for {}s", CARD_READ_IDLE.as_secs()),
                )
                .with_header(CONNECTION, "close"))
            }
            Ok(None) => return Ok(wasm.freeze()),
            Ok(Some(Err(e))) => return Err(bad_request(format!("cannot read the request body: {e}"))),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if wasm.len() + data.len() > max {
                drain(body);
                return Err(too_large());
            }
            wasm.extend_from_slice(&data);
        }
    }
}

/// Read and drop what is left of a refused body, for [`DRAIN_FOR`] and
/// [`DRAIN_MAX`] bytes at most, while the answer goes out.
fn drain(mut body: Incoming) {
    tokio::spawn(async move {
        let mut read = 0u64;
        let _ = tokio::time::timeout(DRAIN_FOR, async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    read += data.len() as u64;
                    if read > DRAIN_MAX {
                        break;
                    }
                }
            }
        })
        .await;
    });
}

/// A refusal with its details (`problems`, `detail`) in the error object.
fn publish_error(e: PublishError) -> Resp {
    let status = match &e {
        PublishError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        PublishError::NameMismatch { .. } => StatusCode::BAD_REQUEST,
        PublishError::VersionExists { .. } => StatusCode::CONFLICT,
        PublishError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut error = wire::ErrorBody::new(e.code(), e.to_string());
    match &e {
        PublishError::BadDescribe { problems } => error.problems = Some(problems.clone()),
        PublishError::DescribeFailed { detail: Some(d), .. } => error.detail = Some(d.clone()),
        _ => {}
    }
    log_refusal(status, &e.to_string());
    json_response(status, &wire::ErrorAnswer { error })
}

fn log_refusal(status: StatusCode, message: &str) {
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error = ?message, "card registry request failed");
    } else {
        // `?`: the message can quote the card (its panic message), newlines and all.
        tracing::debug!(status = status.as_u16(), error = ?message, "card registry request refused");
    }
}

fn registry_error(e: RegistryError) -> Resp {
    let status = match &e {
        RegistryError::NotFound(_) => StatusCode::NOT_FOUND,
        RegistryError::BadRequest(_) => StatusCode::BAD_REQUEST,
        RegistryError::GrantRefused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        RegistryError::InUse { .. } => StatusCode::CONFLICT,
        RegistryError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut error = wire::ErrorBody::new(e.code(), e.to_string());
    match &e {
        RegistryError::InUse { flows, .. } => error.flows = Some(flows.clone()),
        RegistryError::GrantRefused { problems, .. } => error.problems = Some(problems.clone()),
        _ => {}
    }
    log_refusal(status, &e.to_string());
    json_response(status, &wire::ErrorAnswer { error })
}

async fn show(engine: &Engine, registry: &Registry, name: &str, version: Option<&str>) -> Result<Resp, Refusal> {
    let entries = match version {
        Some(v) => {
            let selector = parse_selector(Some(v))?;
            vec![registry.find(name, &selector).await?]
        }
        None => {
            let all = registry.versions(name).await?;
            if all.is_empty() {
                return Err(RegistryError::NotFound(format!("no card `{name}` is published")).into());
            }
            all
        }
    };
    let set = engine.flows();
    let versions: Vec<_> = entries
        .iter()
        .map(|e| {
            let mut view = registry.view(e, Some(flows_using(set.flows(), set.cards(), &e.name, &e.version)));
            if let Some(b) = set.cards().health().broken(&e.digest) {
                view.broken = Some(b.message);
            }
            view
        })
        .collect();
    Ok(json_response(StatusCode::OK, &wire::CardVersions { name: name.to_string(), versions }))
}

async fn grant(engine: &Engine, registry: &Registry, req: Request<Incoming>, name: &str, version: &str) -> Result<Resp, Refusal> {
    let selector = parse_selector(Some(version))?;
    crate::server::require_json(&req, true)?;
    let body = read_body(req, engine.config().server.max_body_bytes).await?;
    let doc = parse_json(&body)?;
    let list = doc
        .get("grants")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request("the body must be {\"grants\": [\"connection:jamf\", ...], \"replace\": false}"))?;
    let mut grants = Vec::with_capacity(list.len());
    let mut problems = Vec::new();
    for (i, g) in list.iter().enumerate() {
        match g.as_str().map(str::parse::<Grant>) {
            Some(Ok(g)) => grants.push(g),
            Some(Err(e)) => problems.push(format!("grants[{i}]: {e}")),
            None => problems.push(format!("grants[{i}]: not a string such as `connection:jamf`")),
        }
    }
    if !problems.is_empty() {
        return Err(bad_request(problems.join("; ")).into());
    }
    let mode = match doc.get("replace") {
        None | Some(Value::Bool(false)) => GrantMode::Add,
        Some(Value::Bool(true)) => GrantMode::Replace,
        Some(_) => return Err(bad_request("`replace` must be true or false").into()),
    };
    let entry = registry
        .grant(name, &selector, &grants, mode, Some(&engine.config().connections))
        .await
        ?;
    let reload = reload(engine).await;
    let set = engine.flows();
    let card = registry.view(&entry, Some(flows_using(set.flows(), set.cards(), &entry.name, &entry.version)));
    Ok(json_response(StatusCode::OK, &wire::GrantAnswer { card, reload }))
}

async fn remove(engine: &Engine, registry: &Registry, name: &str, version: &str) -> Result<Resp, Refusal> {
    let selector = parse_selector(Some(version))?;
    if !matches!(selector, CardSelector::Version(_) | CardSelector::Digest(_)) {
        return Err(bad_request(format!(
            "name the exact version to remove (`1.2.0` or `sha256:<hex>`), not `{version}`"
        ))
        .into());
    }
    let entry = registry.find(name, &selector).await?;
    let set = engine.flows();
    let used_by = flows_using(set.flows(), set.cards(), &entry.name, &entry.version);
    let removed = registry.remove(&entry, used_by).await?;
    let reload = reload(engine).await;
    let removed = registry.view(&removed, None);
    Ok(json_response(StatusCode::OK, &wire::Removal { removed, reload }))
}
