//! The embedded store: the only module that names sled.
