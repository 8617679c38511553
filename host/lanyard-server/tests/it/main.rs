//! lanyard-server's integration tests: the real server on 127.0.0.1:0, a
//! temporary store, the built-in cards, the embedded sandbox org, and small
//! flows written by each test. Every wait is on a condition (a run ended, a
//! count reached), never on a timer.

mod support;

mod admin;
mod async_calls;
mod backlog;
mod bad_input;
mod builder;
mod drafts;
mod console;
mod flow_api;
mod hooks;
mod invoke;
mod lifecycle;
mod loops;
mod orgs;
mod registry;
mod secrets;
mod slow_clients;
mod testflow;
mod waits;
