//! End-to-end tests: see each module.
//!
//! The seed's five use cases (`onboarding`, `offboarding`, `mfa_reminder`,
//! `lockout`, `profile_change`) run on [`harness::World`]: the sandbox Okta
//! org delivering real Event Hooks to the daemon in-process, Slack, SMTP and
//! JAMF, Zoom and Asana stand-ins on real sockets, and the flows of `flows/`.
//! `approval` answers a waiting run with a signal link posted to Slack.
//! `console` drives the web console in a real browser (`browser`);
//! `example_cards` runs the example cards' own tests, `guest_tests` those of
//! the built-in and test cards and the SDK.

mod browser;
mod harness;

mod approval;
mod built;
mod console;
mod error_flow;
mod example_cards;
mod flows_valid;
mod guest_tests;
mod library;
mod lockout;
mod mfa_reminder;
mod offboarding;
mod onboarding;
mod polyglot;
mod profile_change;
