//! Okta: the Management API client, the `okta` capability built on it, Event Hook
//! payloads, and the sandbox org that speaks the same API on a real socket.
