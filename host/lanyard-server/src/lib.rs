//! The daemon: hooks, admin API, durable intake, dispatcher, workers, schedules.
//! The only module that knows HTTP wire types (besides the Okta client).
