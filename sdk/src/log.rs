//! Structured log lines into the run's history. Use the [`info!`](crate::info)
//! family of macros, or [`write`] for lines with structured fields. Lines past
//! the host's log cap are dropped and counted.

use crate::bindings::lanyard::card::log as wit;
use serde_json::Value;

pub use wit::Level;

/// Write one line, with an optional JSON object of structured fields.
pub fn write(level: Level, message: &str, fields: Option<&Value>) {
    let fields = fields.map(|f| f.to_string());
    wit::write(level, message, fields.as_deref());
}

/// Log at trace level, `format!`-style.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)*), None) };
}

/// Log at debug level, `format!`-style.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)*), None) };
}

/// Log at info level, `format!`-style.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)*), None) };
}

/// Log at warn level, `format!`-style.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)*), None) };
}

/// Log at error level, `format!`-style.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)*), None) };
}
