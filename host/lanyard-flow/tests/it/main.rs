//! lanyard-flow's integration tests: one binary, one module per area.

mod support;

mod accumulate;
mod async_call;
mod compile;
mod diagnostics;
mod interp;
mod orgs;
mod outline;
mod props;
mod trace;
mod wait;
