//! Loading a card: validate, compile (through the content-addressed cache),
//! check the world, pre-instantiate, describe.

use crate::bindings::CardPre;
use crate::call::{self, CallRequest, Input};
use crate::convert::grant_from_wit;
use crate::error::LoadError;
use crate::inspect::{self, ImportProblem, InspectError};
use crate::capabilities::Capabilities;
use crate::{Inner, WORLD_VERSION};
use lanyard_core::{CallContext, Grant, Grants};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use wasmtime::component::Component;
use wasmtime::component::types::{ComponentExtern, ComponentItem};

pub use lanyard_core::CardInfo;

/// A validated, compiled, pre-instantiated card. Share it with `Arc`; every
/// call instantiates it afresh.
pub struct LoadedCard {
    info: CardInfo,
    digest: String,
    size: usize,
    from_cache: bool,
    pub(crate) label: Arc<str>,
    pub(crate) pre: CardPre<crate::state::HostState>,
}

impl std::fmt::Debug for LoadedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedCard")
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl LoadedCard {
    pub fn info(&self) -> &CardInfo {
        &self.info
    }

    /// sha256 of the wasm bytes, lowercase hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Size of the wasm bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The component's imports (`lanyard:card/okta@0.1.0`, `wasi:cli/stdout@0.2.x`, ...).
    pub fn imports(&self) -> &[String] {
        self.info.imports.as_deref().unwrap_or_default()
    }

    /// The `lanyard:card` version the card was built against.
    pub fn world_version(&self) -> &str {
        self.info.world.as_deref().unwrap_or("unknown")
    }

    /// Whether the compiled code came from the cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// `name@version`.
    pub fn label(&self) -> &str {
        &self.label
    }
}

pub(crate) fn load(inner: &Arc<Inner>, wasm: &[u8]) -> Result<Arc<LoadedCard>, LoadError> {
    inspect::layer(wasm).map_err(|e| match e {
        InspectError::NotWasm => LoadError::NotWasm,
        InspectError::CoreModule => LoadError::CoreModule,
        InspectError::Invalid(m) => LoadError::Invalid(m),
        other => LoadError::Invalid(other.to_string()),
    })?;
    let digest = hex::encode(Sha256::digest(wasm));
    if let Some(card) = inner.cards.lock().unwrap().get(&digest).and_then(|w| w.upgrade()) {
        return Ok(card);
    }

    let (component, from_cache) = compile(inner, wasm, &digest)?;
    let (imports, world_version) = check_world(inner, &component)?;
    let instance_pre = inner
        .linker
        .instantiate_pre(&component)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let pre = CardPre::new(instance_pre).map_err(|e| LoadError::NotACard(format!("{e:#}")))?;

    let mut info = describe(inner, &pre, &digest)?;
    info.world = Some(world_version);
    info.imports = Some(imports);
    let card = Arc::new(LoadedCard {
        label: format!("{}@{}", info.name, info.version).into(),
        info,
        digest: digest.clone(),
        size: wasm.len(),
        from_cache,
        pre,
    });
    let mut cards = inner.cards.lock().unwrap();
    cards.retain(|_, w| w.strong_count() > 0);
    cards.insert(digest, Arc::downgrade(&card));
    Ok(card)
}

/// Compile, or read the compiled code from the cache. The cache key is the
/// wasm's sha256 plus the engine's compatibility hash (wasmtime version and
/// every setting that changes the code), so a cached file always matches.
fn compile(inner: &Inner, wasm: &[u8], digest: &str) -> Result<(Component, bool), LoadError> {
    let engine = &inner.engine;
    let Some(dir) = &inner.config.cache_dir else {
        inner.compiled.fetch_add(1, Ordering::Relaxed);
        let c = Component::new(engine, wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        return Ok((c, false));
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path = dir.join(format!("{digest}-{:016x}.cwasm", hasher.finish()));
    if path.is_file() {
        match deserialize(engine, &path) {
            Ok(c) => {
                inner.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Ok((c, true));
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "unreadable cached card; recompiling");
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    inner.compiled.fetch_add(1, Ordering::Relaxed);
    let compiled = engine
        .precompile_component(wasm)
        .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = dir.join(format!(".{digest}.{}.{:?}.tmp", std::process::id(), std::thread::current().id()));
    let written = std::fs::write(&tmp, &compiled).and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        tracing::warn!(path = %path.display(), error = %e, "cannot write the card cache; going on without it");
    } else if let Ok(c) = deserialize(engine, &path) {
        // Mapped from the file: the code is shared with the page cache.
        return Ok((c, false));
    }
    // Our own bytes, just produced by this engine.
    #[allow(unsafe_code)]
    let c = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    Ok((c, false))
}

#[allow(unsafe_code)]
fn deserialize(engine: &wasmtime::Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is native code that only this runtime writes, into a
    // directory the operator gave it, under a name that binds it to the wasm's
    // hash and this engine's compatibility hash (wasmtime also checks its own
    // header). Whoever can write that directory can already replace the binary.
    unsafe { Component::deserialize_file(engine, path) }
}

/// The card's world: exports `describe` and `run`, imports only what lanyard
/// provides, at a compatible `lanyard:card` version.
fn check_world(inner: &Inner, component: &Component) -> Result<(Vec<String>, String), LoadError> {
    let engine = &inner.engine;
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(engine).map(|(name, _)| name.to_string()).collect();
    let version = match inspect::world_version(&imports) {
        Ok(v) => v.map(str::to_string),
        Err(ImportProblem::Incompatible(v)) => {
            return Err(LoadError::IncompatibleVersion {
                found: v.to_string(),
                supported: format!("{WORLD_VERSION} (any 0.1.x)"),
            });
        }
        Err(ImportProblem::Foreign(name)) => {
            return Err(LoadError::NotACard(format!(
                "it imports `{name}`, which lanyard does not provide (cards may import lanyard:card and wasi:* only)"
            )));
        }
    };
    let mut exports = std::collections::HashMap::new();
    for (name, item) in ty.exports(engine) {
        exports.insert(name.to_string(), item);
    }
    for want in ["describe", "run"] {
        match exports.get(want) {
            Some(ComponentExtern { ty: ComponentItem::ComponentFunc(_), .. }) => {}
            Some(_) => {
                return Err(LoadError::NotACard(format!("its export `{want}` is not a function")));
            }
            None => {
                let found: Vec<&str> = exports.keys().map(String::as_str).collect();
                return Err(LoadError::NotACard(format!(
                    "it does not export `{want}` (it exports: {}); build it for the world lanyard:card/card@{WORLD_VERSION}",
                    if found.is_empty() { "nothing".to_string() } else { found.join(", ") }
                )));
            }
        }
    }
    Ok((imports, version.unwrap_or_else(|| "unknown".to_string())))
}

fn describe(inner: &Inner, pre: &CardPre<crate::state::HostState>, digest: &str) -> Result<CardInfo, LoadError> {
    let limits = inner.config.default_limits;
    let request = CallRequest {
        ctx: CallContext::adhoc("describe"),
        input: Input::Text(String::new()),
        grants: Arc::new(Grants::none()),
        caps: Capabilities {
            clock: inner.config.clock.clone(),
            ..Capabilities::none()
        },
        limits: Default::default(),
    };
    let label: Arc<str> = format!("sha256:{}", &digest[..12]).into();
    let raw = call::describe(inner, pre, label, request, &limits).map_err(LoadError::Describe)?;
    let parse = |what: &str, text: &str| -> Result<Value, LoadError> {
        let v: Value = serde_json::from_str(text).map_err(|e| LoadError::BadDescribe(format!("{what} is not JSON: {e}")))?;
        if !(v.is_object() || v.is_boolean()) {
            return Err(LoadError::BadDescribe(format!("{what} is not a JSON Schema (an object or a boolean)")));
        }
        Ok(v)
    };
    if raw.name.is_empty() || !raw.name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(LoadError::BadDescribe(format!(
            "name `{}` must be non-empty and use only letters, digits, `.`, `_` and `-`",
            raw.name
        )));
    }
    if raw.version.is_empty() {
        return Err(LoadError::BadDescribe("the version is empty".to_string()));
    }
    let grants: Vec<Grant> = raw.grants.into_iter().map(grant_from_wit).collect();
    Grants::from_list(&grants).map_err(LoadError::BadDescribe)?;
    Ok(CardInfo {
        input_schema: parse("the input schema", &raw.input_schema)?,
        output_schema: parse("the output schema", &raw.output_schema)?,
        name: raw.name,
        version: raw.version,
        description: raw.description,
        grants,
        world: None,
        imports: None,
    })
}
