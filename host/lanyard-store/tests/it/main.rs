//! lanyard-store's integration tests: one binary, one module per area.

mod cards;
mod crash;
mod csv;
mod full_disk;
mod inbox;
mod open;
mod runs;
mod seam;
mod state;
mod support;
mod tables;
