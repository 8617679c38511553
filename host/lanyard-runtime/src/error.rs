//! The runtime's own failures: starting the engine and loading a card. A card
//! call never fails this way; its failures are `CardError`s in the outcome.

use lanyard_core::CardError;
use std::path::PathBuf;

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot configure the wasm engine: {0}")]
    Engine(String),
    #[error("cannot link the card imports: {0}")]
    Link(String),
    #[error("cannot create the card cache directory {path}: {source}")]
    CacheDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A card could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly file (it does not start with `\\0asm`)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component; build the card for \
         wasm32-wasip2 (or wrap the module with `wasm-tools component new`)"
    )]
    CoreModule,
    #[error("not a lanyard card: {0}")]
    NotACard(String),
    #[error(
        "the card was built against lanyard:card@{found}; this host runs cards built \
         against lanyard:card@{supported}"
    )]
    IncompatibleVersion { found: String, supported: String },
    #[error("invalid component: {0}")]
    Invalid(String),
    #[error("the card's imports cannot be satisfied: {0}")]
    Link(String),
    #[error("the card's describe() failed: {0}")]
    Describe(CardError),
    #[error("the card's describe() returned bad metadata: {0}")]
    BadDescribe(String),
}
