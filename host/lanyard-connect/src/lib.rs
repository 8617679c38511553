//! Connections: named outbound services configured by ops. Implements the http and
//! mail capabilities; a card never sees a secret.
