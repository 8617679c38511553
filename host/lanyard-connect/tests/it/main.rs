//! lanyard-connect's integration tests: real servers on 127.0.0.1, real
//! clients, no sleeping.

mod asana;
mod config;
mod http;
mod mail;
mod sink;
mod slack;
mod standin;
mod support;
mod zoom;
