//! Inspecting a component without compiling it: its layer (a component, not
//! a core module) and its world, from its top-level import and export names,
//! so a wrong file is refused in milliseconds. [`crate::Runtime::load`] starts
//! with the same layer check and then checks the compiled component's world
//! itself; this module neither compiles nor runs anything.

use crate::WORLD_VERSION;

/// What a component's top level says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Its instance and function imports (type imports name a type and grant
    /// nothing, so they are left out).
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// The `lanyard:card` version it imports, if it imports any of it.
    pub world_version: Option<String>,
}

/// Why a file is not a card the runtime could load. The messages are the
/// caller's to word (the registry has its own); these carry the facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    #[error("not a WebAssembly file")]
    NotWasm,
    #[error("a core module, not a component")]
    CoreModule,
    #[error("not a valid component: {0}")]
    Invalid(String),
    /// `found` is the version it imports, `(no version)` when it names none.
    #[error("built against lanyard:card@{found}")]
    IncompatibleVersion { found: String },
    #[error("not a lanyard card: {0}")]
    WrongWorld(String),
}

/// The layer check: a component, not a core module or something else.
pub(crate) fn layer(wasm: &[u8]) -> Result<(), InspectError> {
    if !wasm.starts_with(b"\0asm") {
        return Err(InspectError::NotWasm);
    }
    if wasmparser::Parser::is_core_wasm(wasm) {
        return Err(InspectError::CoreModule);
    }
    if !wasmparser::Parser::is_component(wasm) {
        return Err(InspectError::Invalid("unknown WebAssembly encoding version".to_string()));
    }
    Ok(())
}

/// Check the layer and the world of a `.wasm` file: it imports only
/// `lanyard:card/*` (at a version this host implements) and `wasi:*`, and
/// exports `describe` and `run`.
pub fn inspect(wasm: &[u8]) -> Result<Inspection, InspectError> {
    use wasmparser::{Parser, Payload};
    layer(wasm)?;
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    let invalid = |e: wasmparser::BinaryReaderError| InspectError::Invalid(e.to_string());
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            Payload::ComponentImportSection(r) if depth == 0 => {
                for i in r {
                    let i = i.map_err(invalid)?;
                    // A type import (`card-info`, `json`: the types the world
                    // `use`s at its top level) names a type; it grants nothing.
                    if matches!(i.ty, wasmparser::ComponentTypeRef::Type(_)) {
                        continue;
                    }
                    imports.push(i.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(r) if depth == 0 => {
                for e in r {
                    exports.push(e.map_err(invalid)?.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    let world_version = match world_version(&imports) {
        Ok(v) => v.map(str::to_string),
        Err(ImportProblem::Incompatible(v)) => {
            return Err(InspectError::IncompatibleVersion {
                found: if v.is_empty() { "(no version)".to_string() } else { v.to_string() },
            });
        }
        Err(ImportProblem::Foreign(name)) => {
            return Err(InspectError::WrongWorld(format!(
                "it imports `{name}`, which lanyard does not provide (cards may import lanyard:card/* and wasi:* only)"
            )));
        }
    };
    let missing: Vec<&str> = ["describe", "run"].into_iter().filter(|w| !exports.iter().any(|e| e == w)).collect();
    if !missing.is_empty() {
        let found = if exports.is_empty() { "nothing".to_string() } else { exports.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ") };
        let hint = if exports.iter().any(|e| e.starts_with("wasi:http/")) {
            " (it is an HTTP handler component)"
        } else {
            ""
        };
        return Err(InspectError::WrongWorld(format!(
            "it does not export {} (it exports {found}{hint}); build it for the world `lanyard:card/card@{WORLD_VERSION}` in wit/card.wit",
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" or ")
        )));
    }
    Ok(Inspection { imports, exports, world_version })
}

/// What is wrong with a component's imports; each caller words it.
pub(crate) enum ImportProblem<'a> {
    /// A `lanyard:card` version this host does not implement (the text after `@`).
    Incompatible(&'a str),
    /// Neither `lanyard:card/*` nor `wasi:*`.
    Foreign(&'a str),
}

/// The `lanyard:card` version a component's imports name (the first one), if
/// they import only `lanyard:card/*` at a version this host implements and
/// `wasi:*`.
pub(crate) fn world_version(imports: &[String]) -> Result<Option<&str>, ImportProblem<'_>> {
    let mut version = None;
    for name in imports {
        if let Some(rest) = name.strip_prefix("lanyard:card/") {
            let v = rest.split_once('@').map(|(_, v)| v).unwrap_or("");
            if !compatible(v) {
                return Err(ImportProblem::Incompatible(v));
            }
            version.get_or_insert(v);
        } else if !name.starts_with("wasi:") {
            return Err(ImportProblem::Foreign(name));
        }
    }
    Ok(version)
}

/// Any `0.1.x`.
pub(crate) fn compatible(version: &str) -> bool {
    let mut parts = version.split('.');
    matches!((parts.next(), parts.next()), (Some("0"), Some("1")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn any_0_1_x_is_compatible() {
        assert!(super::compatible("0.1.0"));
        assert!(super::compatible("0.1.7"));
        assert!(!super::compatible("0.2.0"));
        assert!(!super::compatible("1.1.0"));
        assert!(!super::compatible(""));
    }
}
