//! End-to-end tests: see each module.
