//! The built-in cards, built from `cards/` for wasm32-wasip2 and embedded.
