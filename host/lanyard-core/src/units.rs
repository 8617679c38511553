//! Durations and sizes as people write them: the one grammar of the config
//! file, flow files and the CLI.
//!
//! **Durations.** One or more `<number><unit>` parts, added up: `250ms`,
//! `30s`, `5m`, `1h`, `7d`, `1h30m`, `1.5s`. Units: `ms`, `s`, `m`, `h`, `d`.
//! A number may have a fraction; spaces may stand between the parts. A bare
//! number (`30`) is seconds where a place takes one ([`parse_duration`]: the
//! config file, the CLI); flow files ask for the unit
//! ([`parse_duration_with_unit`]), so that `timeout: 5` is never read as five
//! of something the author did not mean.
//!
//! **Sizes.** A whole number of bytes and an optional unit, in any case:
//! `512`, `64k`, `64KiB`, `1MB`, `2g`. `k`/`KiB`, `m`/`MiB` and `g`/`GiB`
//! are powers of 1024; `KB`, `MB` and `GB` powers of 1000; `B` is bytes.
//!
//! [`format_duration`] and [`format_size`] write the shortest exact text,
//! which parses back to the same value; [`human_size`] is a size rounded for
//! people to read (the CLI's listings), not meant to be parsed back.
//!
//! This module knows no config key or flow field and no bounds: callers name
//! the place in their errors and check the range the place allows.

use serde::Deserialize;
use std::time::Duration;

/// What was wrong with a duration or a size, and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("empty {0}")]
    Empty(&'static str),
    #[error("`{0}` is not a duration (like 500ms, 2s, 1m30s, 1h)")]
    NotADuration(String),
    #[error("`{0}` is not a size (like 4096, 512KiB, 64MiB, 1GiB)")]
    NotASize(String),
    #[error("`{text}` needs a unit (ms, s, m, h or d), like `{number}s`")]
    NeedsUnit { text: String, number: String },
    #[error("unknown unit `{unit}` in `{text}` (use ms, s, m, h or d)")]
    UnknownDurationUnit { unit: String, text: String },
    #[error("unknown size unit `{unit}` in `{text}` (use B, KiB, MiB or GiB, k, m or g for short, or KB, MB or GB)")]
    UnknownSizeUnit { unit: String, text: String },
    #[error("`{0}` is too large")]
    TooLarge(String),
}

const NANOS: [(&str, u128); 5] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
];

/// A duration; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    duration(text, true)
}

/// A duration whose every number has its unit (flow files).
pub fn parse_duration_with_unit(text: &str) -> Result<Duration, UnitError> {
    duration(text, false)
}

fn duration(text: &str, bare_is_seconds: bool) -> Result<Duration, UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(UnitError::Empty("duration"));
    }
    let mut nanos: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let (number, after) = split_number(rest);
        if number.is_empty() {
            return Err(UnitError::NotADuration(t.to_string()));
        }
        let after = after.trim_start();
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &after[..unit_len];
        rest = after[unit_len..].trim_start();
        let per = match NANOS.iter().find(|(u, _)| *u == unit) {
            Some((_, per)) => *per,
            // The whole text a bare number: seconds, where that is allowed.
            None if unit.is_empty() && bare_is_seconds && nanos == 0 && rest.is_empty() => 1_000_000_000,
            None if unit.is_empty() => {
                return Err(UnitError::NeedsUnit { text: t.to_string(), number: number.to_string() });
            }
            None => return Err(UnitError::UnknownDurationUnit { unit: unit.to_string(), text: t.to_string() }),
        };
        let part = scaled(number, per).ok_or_else(|| UnitError::TooLarge(t.to_string()))?;
        nanos = nanos.saturating_add(part);
    }
    // Past ~584 billion years, as before, a duration saturates.
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// The leading `123`, `1.5`, `.5` or `5.` of `s`, and what follows it.
fn split_number(s: &str) -> (&str, &str) {
    let mut dot = false;
    let len = s
        .bytes()
        .take_while(|&b| {
            if b == b'.' && !dot {
                dot = true;
                true
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    let number = &s[..len];
    if number.bytes().any(|b| b.is_ascii_digit()) {
        (number, &s[len..])
    } else {
        ("", s)
    }
}

/// `number` (digits, perhaps a fraction) times `per`, exactly to the
/// nanosecond; `None` when the whole part does not fit in 64 bits.
fn scaled(number: &str, per: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = if whole.is_empty() { 0 } else { u128::from(whole.parse::<u64>().ok()?) };
    // Nanoseconds have nine digits and a day fourteen: more say nothing.
    let fraction = &fraction[..fraction.len().min(18)];
    let frac = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u128>().ok()? * per / 10u128.pow(fraction.len() as u32)
    };
    Some(whole.saturating_mul(per).saturating_add(frac))
}

/// The shortest exact text of a duration: `1m30s`, `500ms`, `0s`; below a
/// millisecond, a fraction of one (`1.25ms`).
pub fn format_duration(d: Duration) -> String {
    let mut rest = d.as_nanos();
    if rest == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, per) in NANOS {
        if rest >= per {
            out.push_str(&format!("{}", rest / per));
            rest %= per;
            if unit == "ms" && rest > 0 {
                out.push_str(format!(".{rest:06}").trim_end_matches('0'));
                rest = 0;
            }
            out.push_str(unit);
        }
    }
    if rest > 0 {
        out.push_str(format!("0.{rest:06}").trim_end_matches('0'));
        out.push_str("ms");
    }
    out
}

const SIZE_UNITS: [(&str, u64); 11] = [
    ("", 1),
    ("b", 1),
    ("k", 1 << 10),
    ("kib", 1 << 10),
    ("m", 1 << 20),
    ("mib", 1 << 20),
    ("g", 1 << 30),
    ("gib", 1 << 30),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
];

/// A size in bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(UnitError::Empty("size"));
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(UnitError::NotASize(t.to_string()));
    }
    let n: u64 = t[..digits].parse().map_err(|_| UnitError::TooLarge(t.to_string()))?;
    let unit = t[digits..].trim();
    let lower = unit.to_ascii_lowercase();
    let per = match SIZE_UNITS.iter().find(|(u, _)| *u == lower) {
        Some((_, per)) => *per,
        None => return Err(UnitError::UnknownSizeUnit { unit: unit.to_string(), text: t.to_string() }),
    };
    n.checked_mul(per).ok_or_else(|| UnitError::TooLarge(t.to_string()))
}

/// The shortest exact text of a size: `64MiB`, `512KiB`, `1000`.
pub fn format_size(bytes: u64) -> String {
    for (unit, per) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= per && bytes.is_multiple_of(per) {
            return format!("{}{unit}", bytes / per);
        }
    }
    bytes.to_string()
}

/// A size rounded to a tenth for people to read: `512 bytes`, `1.5 KiB`,
/// `64.0 MiB`. Not the grammar: [`format_size`] is the exact text.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// A duration in a config file: a number of seconds, or text.
///
/// Parsed after the file is read, so a problem is reported with its key and
/// next to every other problem of the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawDuration {
    Seconds(u64),
    Text(String),
}

impl RawDuration {
    pub fn duration(&self) -> Result<Duration, UnitError> {
        match self {
            RawDuration::Seconds(n) => Ok(Duration::from_secs(*n)),
            RawDuration::Text(t) => parse_duration(t),
        }
    }
}

/// A size in a config file: a number of bytes, or text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RawSize {
    Bytes(u64),
    Text(String),
}

impl RawSize {
    pub fn bytes(&self) -> Result<u64, UnitError> {
        match self {
            RawSize::Bytes(n) => Ok(*n),
            RawSize::Text(t) => parse_size(t),
        }
    }
}

/// `#[serde(deserialize_with = "...")]` helpers for fields that are parsed
/// as they are read: a number (seconds, bytes) or text.
pub mod de {
    use super::{RawDuration, RawSize};
    use serde::{Deserialize, Deserializer, de::Error};
    use std::time::Duration;

    pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        RawDuration::deserialize(d)?.duration().map_err(D::Error::custom)
    }

    /// With `#[serde(default)]`: a missing key is `None`.
    pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        duration(d).map(Some)
    }

    pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        RawSize::deserialize(d)?.bytes().map_err(D::Error::custom)
    }

    /// With `#[serde(default)]`: a missing key is `None`.
    pub fn opt_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        size(d).map(Some)
    }

    /// A size that must fit in memory (`usize`).
    pub fn opt_usize_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        let n = size(d)?;
        usize::try_from(n).map(Some).map_err(|_| D::Error::custom(format!("{n} bytes is too large")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1;
    const S: u64 = 1000;

    #[test]
    fn durations_parse() {
        let table: &[(&str, u64)] = &[
            ("250ms", 250 * MS),
            ("30s", 30 * S),
            ("5m", 300 * S),
            ("1h", 3600 * S),
            ("7d", 7 * 86_400 * S),
            ("1h30m", 5400 * S),
            ("1m30s", 90 * S),
            ("1.5s", 1500 * MS),
            (".5s", 500 * MS),
            ("2.5m", 150 * S),
            (" 10 s ", 10 * S),
            ("1h 30m", 5400 * S),
            ("0s", 0),
            ("30", 30 * S),
            ("1.5", 1500 * MS),
        ];
        for (text, ms) in table {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(*ms)), "{text}");
        }
        assert_eq!(parse_duration("0.0001s"), Ok(Duration::from_micros(100)));
    }

    #[test]
    fn durations_refused_say_what_is_accepted() {
        let table: &[(&str, &str)] = &[
            ("", "empty duration"),
            ("soon", "`soon` is not a duration (like 500ms, 2s, 1m30s, 1h)"),
            ("-1s", "`-1s` is not a duration"),
            ("2w", "unknown unit `w` in `2w` (use ms, s, m, h or d)"),
            ("5 weeks", "unknown unit `weeks`"),
            ("1m30", "`1m30` needs a unit (ms, s, m, h or d), like `30s`"),
            ("99999999999999999999s", "`99999999999999999999s` is too large"),
        ];
        for (text, want) in table {
            let e = parse_duration(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn flow_files_ask_for_the_unit() {
        let e = parse_duration_with_unit("2").unwrap_err().to_string();
        assert_eq!(e, "`2` needs a unit (ms, s, m, h or d), like `2s`");
        assert_eq!(parse_duration_with_unit("1m30s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn durations_format_shortest_and_round_trip() {
        let table: &[(Duration, &str)] = &[
            (Duration::ZERO, "0s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(86_400 + 3600), "1d1h"),
            (Duration::from_millis(1500), "1s500ms"),
            (Duration::from_micros(1250), "1.25ms"),
            (Duration::from_micros(100), "0.1ms"),
            (Duration::from_nanos(1), "0.000001ms"),
        ];
        for (d, text) in table {
            assert_eq!(format_duration(*d), *text);
            assert_eq!(parse_duration(text), Ok(*d), "{text}");
        }
        for d in [Duration::new(123_456, 789_012_345), Duration::from_secs(7 * 86_400 + 1)] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }

    #[test]
    fn sizes_parse_in_any_case() {
        let table: &[(&str, u64)] = &[
            ("512", 512),
            ("0", 0),
            ("512B", 512),
            ("64k", 64 << 10),
            ("64K", 64 << 10),
            ("64KiB", 64 << 10),
            ("64kib", 64 << 10),
            ("1MiB", 1 << 20),
            ("1m", 1 << 20),
            ("2g", 2 << 30),
            ("1GiB", 1 << 30),
            ("1KB", 1000),
            ("1kB", 1000),
            ("1MB", 1_000_000),
            ("1mb", 1_000_000),
            ("1GB", 1_000_000_000),
            (" 64 MiB ", 64 << 20),
        ];
        for (text, bytes) in table {
            assert_eq!(parse_size(text), Ok(*bytes), "{text}");
        }
    }

    #[test]
    fn sizes_refused_say_what_is_accepted() {
        let table: &[(&str, &str)] = &[
            ("", "empty size"),
            ("MiB", "`MiB` is not a size (like 4096, 512KiB, 64MiB, 1GiB)"),
            ("12 parsecs", "unknown size unit `parsecs` in `12 parsecs` (use B, KiB, MiB or GiB"),
            ("1.5GiB", "unknown size unit `.5GiB`"),
            ("99999999999GiB", "`99999999999GiB` is too large"),
            ("99999999999999999999", "is too large"),
        ];
        for (text, want) in table {
            let e = parse_size(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn sizes_format_shortest_and_round_trip() {
        let table: &[(u64, &str)] = &[
            (0, "0"),
            (1000, "1000"),
            (1024, "1KiB"),
            (64 << 20, "64MiB"),
            (3 << 30, "3GiB"),
            ((1 << 20) + 1024, "1025KiB"),
        ];
        for (bytes, text) in table {
            assert_eq!(format_size(*bytes), *text);
            assert_eq!(parse_size(text), Ok(*bytes));
        }
    }

    #[test]
    fn human_sizes_round_to_a_tenth_of_the_largest_unit() {
        let table: &[(u64, &str)] = &[
            (0, "0 bytes"),
            (1023, "1023 bytes"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            ((1 << 20) - 1, "1024.0 KiB"),
            (1 << 20, "1.0 MiB"),
            (5 * (1 << 20) + (1 << 19), "5.5 MiB"),
            (3 << 30, "3072.0 MiB"),
        ];
        for (bytes, text) in table {
            assert_eq!(human_size(*bytes), *text, "{bytes}");
        }
    }

    #[test]
    fn config_values_are_a_number_or_text() {
        #[derive(Deserialize)]
        struct C {
            #[serde(deserialize_with = "de::duration")]
            a: Duration,
            #[serde(deserialize_with = "de::duration")]
            b: Duration,
            #[serde(deserialize_with = "de::size")]
            c: u64,
            d: RawSize,
            e: RawDuration,
        }
        let c: C = serde_json::from_str(r#"{"a": 30, "b": "1h30m", "c": "2g", "d": 512, "e": "7d"}"#).unwrap();
        assert_eq!((c.a, c.b, c.c), (Duration::from_secs(30), Duration::from_secs(5400), 2 << 30));
        assert_eq!((c.d.bytes(), c.e.duration()), (Ok(512), Ok(Duration::from_secs(7 * 86_400))));
        let e = serde_json::from_str::<C>(r#"{"a": "soon", "b": 1, "c": 1, "d": 1, "e": 1}"#).err().unwrap();
        assert!(e.to_string().contains("`soon` is not a duration"), "{e}");
    }
}
