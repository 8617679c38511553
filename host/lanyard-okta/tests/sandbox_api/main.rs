//! The sandbox org's Okta API, driven over a real socket with plain HTTP
//! requests, as any Okta client would send them: apps and their assignments,
//! groups and group rules, users' deletion, passwords and factors, profile
//! validation, filters, status codes, Event Hook verification, and an org of
//! 50,000 users paged through.

mod apps;
mod fidelity;
mod groups;
mod rest;
mod rules;
mod scale;
mod users;
