//! Flows: the YAML format, validation with exact places, expressions, and the
//! interpreter.
//!
//! Pure: no I/O of its own. The interpreter reaches cards, history and time through
//! traits, so it knows nothing of wasmtime, sled or HTTP.
