//! The runtime's integration tests: real cards from `cards/` (built and embedded
//! by lanyard-cards with `test-cards`), fake capabilities, one shared runtime.

mod caps;
mod hostile;
mod load;
mod support;
