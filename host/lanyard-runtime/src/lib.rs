//! The card runtime: one wasmtime engine, one pre-instantiated component per card
//! version, a fresh store per call, limits (fuel, memory, deadline, sizes) and
//! every capability call checked against the card's grants.
