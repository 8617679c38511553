//! Time: reading, writing and moving times, in UTC or in a time zone.
//!
//! A time is text in RFC 3339 (`2026-03-02T14:00:00.000Z`), a date
//! (`2026-03-02`, midnight), a date-time without an offset (read in UTC, or in
//! the `tz=` zone where a function takes one) or a number of seconds since
//! 1970. Every function answers in RFC 3339 UTC with milliseconds, but
//! `to_zone`, which answers with the zone's offset.
//!
//! Seconds, minutes and hours are exact durations. Days, weeks, months and
//! years are calendar steps taken on the wall clock of a zone (UTC unless
//! `tz=` says), so "one day later" in Europe/Berlin is the same local time the
//! next day, 23 or 25 hours away across a daylight-saving change, and one
//! month after January 31 is the last day of February. A local time the clocks
//! skipped is moved forward by the gap (02:30 becomes 03:30); one they passed
//! twice is the first of the two.
//!
//! Nothing here reads the clock: "now" is the run's (`context.rs`).

use super::invalid;
use crate::diag::suggestion;
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat,
    TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("parse_time", parse_time_fn);
    env.add_function("timestamp", |v: Value| -> Result<i64, Error> {
        Ok(parse_time(&v)?.timestamp())
    });
    env.add_function("add_days", |v: Value, n: f64| -> Result<String, Error> {
        add_seconds(parse_time(&v)?, n * 86_400.0).map(fmt_time)
    });
    env.add_function("add_hours", |v: Value, n: f64| -> Result<String, Error> {
        add_seconds(parse_time(&v)?, n * 3_600.0).map(fmt_time)
    });
    env.add_function("format_time", format_time);
    env.add_function("add_time", add_time);
    env.add_function("time_between", time_between);
    env.add_function("start_of", |t: Value, unit: &str, kwargs: Kwargs| {
        period(t, unit, kwargs, false)
    });
    env.add_function("end_of", |t: Value, unit: &str, kwargs: Kwargs| {
        period(t, unit, kwargs, true)
    });
    env.add_function("to_zone", to_zone);
    env.add_function("make_time", make_time);
}

pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time as [the module](self) reads them, a date-time without an offset in UTC.
pub(crate) fn parse_time(v: &Value) -> Result<DateTime<Utc>, Error> {
    parse_time_in(v, Tz::UTC)
}

/// A time, a date-time or date without an offset being local to `zone`.
fn parse_time_in(v: &Value, zone: Tz) -> Result<DateTime<Utc>, Error> {
    let bad = |what: &str| {
        invalid(format!(
            "cannot read {what} as a time (expected RFC 3339, like 2026-01-31T09:00:00Z)"
        ))
    };
    if let Some(s) = v.as_str() {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
            return resolve(zone, t);
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return resolve(zone, d.and_time(NaiveTime::MIN));
        }
        return Err(bad(&format!("`{s}`")));
    }
    if v.is_number() {
        let secs = f64::try_from(v.clone()).map_err(|_| bad("the number"))?;
        if secs.is_finite() {
            let whole = secs.floor();
            let nanos = ((secs - whole) * 1e9) as u32;
            if let Some(t) = DateTime::from_timestamp(whole as i64, nanos) {
                return Ok(t);
            }
        }
        return Err(bad(&format!("{v}")));
    }
    Err(bad(&format!("{} `{v}`", v.kind())))
}

/// `parse_time(t)`, `parse_time(t, "%d/%m/%Y %H:%M")`, `parse_time(t, tz=...)`.
fn parse_time_fn(v: Value, format: Option<&str>, kwargs: Kwargs) -> Result<String, Error> {
    let zone = zone_kwarg(&kwargs)?;
    kwargs.assert_all_used()?;
    let Some(format) = format else {
        return parse_time_in(&v, zone).map(fmt_time);
    };
    let text = v
        .as_str()
        .ok_or_else(|| {
            invalid(format!(
                "parse_time with a format reads text, not {}",
                v.kind()
            ))
        })?
        .trim();
    if let Ok(t) = DateTime::parse_from_str(text, format) {
        return Ok(fmt_time(t.with_timezone(&Utc)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
        return resolve(zone, t).map(fmt_time);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, format) {
        return resolve(zone, d.and_time(NaiveTime::MIN)).map(fmt_time);
    }
    Err(invalid(format!(
        "`{text}` does not match the format `{format}`"
    )))
}

/// The instant a wall-clock time in `zone` stands for (see [the module](self)
/// for skipped and repeated times).
fn resolve(zone: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, Error> {
    use chrono::LocalResult;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Clocks moved forward over it: read it with the offset in force
            // before the change, which lands as far past the change as it was
            // into the gap.
            let before = local
                .checked_sub_signed(TimeDelta::days(1))
                .ok_or_else(out_of_range)?;
            let offset = zone.offset_from_utc_datetime(&before).fix();
            let utc = local
                .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))
                .ok_or_else(out_of_range)?;
            Ok(Utc.from_utc_datetime(&utc))
        }
    }
}

fn out_of_range() -> Error {
    invalid("the time is out of range")
}

/// A time zone by its IANA name (`Europe/Berlin`) or `UTC`.
pub(crate) fn zone(name: &str) -> Result<Tz, Error> {
    name.parse().map_err(|_| {
        let hint = suggestion(name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()));
        invalid(format!("unknown time zone `{name}`{hint}"))
    })
}

fn zone_kwarg(kwargs: &Kwargs) -> Result<Tz, Error> {
    match kwargs.get::<Option<&str>>("tz")? {
        Some(name) => zone(name),
        None => Ok(Tz::UTC),
    }
}

fn add_seconds(t: DateTime<Utc>, secs: f64) -> Result<DateTime<Utc>, Error> {
    let ms = secs * 1000.0;
    if !ms.is_finite() || ms.abs() > 1e17 {
        return Err(invalid("the duration is out of range"));
    }
    let d = TimeDelta::try_milliseconds(ms as i64)
        .ok_or_else(|| invalid("the duration is out of range"))?;
    t.checked_add_signed(d).ok_or_else(out_of_range)
}

fn format_time(v: Value, fmt: &str, kwargs: Kwargs) -> Result<String, Error> {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    let t = parse_time(&v)?;
    let zone = zone_kwarg(&kwargs)?;
    kwargs.assert_all_used()?;
    let items: Vec<Item<'_>> = StrftimeItems::new(fmt).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(invalid(format!("`{fmt}` is not a valid strftime format")));
    }
    let mut out = String::new();
    write!(
        out,
        "{}",
        t.with_timezone(&zone).format_with_items(items.into_iter())
    )
    .map_err(|_| invalid(format!("cannot format with `{fmt}`")))?;
    Ok(out)
}

/// A unit of time, as `add_time`, `time_between`, `start_of` and `end_of` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

const UNITS: [(&str, Unit); 8] = [
    ("millisecond", Unit::Millisecond),
    ("second", Unit::Second),
    ("minute", Unit::Minute),
    ("hour", Unit::Hour),
    ("day", Unit::Day),
    ("week", Unit::Week),
    ("month", Unit::Month),
    ("year", Unit::Year),
];

impl Unit {
    /// `days`, `day`, `Days`.
    fn parse(name: &str) -> Result<Unit, Error> {
        let lower = name.trim().to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        UNITS
            .iter()
            .find(|(n, _)| *n == singular)
            .map(|(_, u)| *u)
            .ok_or_else(|| {
                let hint = suggestion(singular, UNITS.iter().map(|(n, _)| *n));
                invalid(format!(
                    "unknown unit `{name}`{hint}: use milliseconds, seconds, minutes, hours, days, weeks, months or years"
                ))
            })
    }

    /// Its length in milliseconds when it has one (days and weeks of 24 hours).
    fn millis(self) -> Option<i64> {
        Some(match self {
            Unit::Millisecond => 1,
            Unit::Second => 1_000,
            Unit::Minute => 60_000,
            Unit::Hour => 3_600_000,
            Unit::Day => 86_400_000,
            Unit::Week => 604_800_000,
            Unit::Month | Unit::Year => return None,
        })
    }

    fn name(self) -> &'static str {
        UNITS
            .iter()
            .find(|(_, u)| *u == self)
            .map(|(n, _)| *n)
            .unwrap_or("unit")
    }
}

/// `add_time(t, n, unit, tz=...)`: `n` units later (earlier when negative).
fn add_time(t: Value, n: f64, unit: &str, kwargs: Kwargs) -> Result<String, Error> {
    let zone = zone_kwarg(&kwargs)?;
    kwargs.assert_all_used()?;
    let unit = Unit::parse(unit)?;
    let t = parse_time_in(&t, zone)?;
    match unit {
        Unit::Millisecond | Unit::Second | Unit::Minute | Unit::Hour => {
            let ms = unit.millis().unwrap_or(1) as f64;
            add_seconds(t, n * ms / 1000.0).map(fmt_time)
        }
        _ => {
            if !n.is_finite() || n.abs() > 1e7 {
                return Err(out_of_range());
            }
            if n.fract() != 0.0 {
                return Err(invalid(format!(
                    "add_time moves by a whole number of {}s, not {n} (use hours for parts of a day)",
                    unit.name()
                )));
            }
            let local = t.with_timezone(&zone).naive_local();
            resolve(zone, calendar_step(local, n as i64, unit)?).map(fmt_time)
        }
    }
}

/// A wall-clock time moved by `n` calendar days, weeks, months or years.
fn calendar_step(local: NaiveDateTime, n: i64, unit: Unit) -> Result<NaiveDateTime, Error> {
    let (days, months) = match unit {
        Unit::Week => (n.checked_mul(7), None),
        Unit::Month => (None, Some(n)),
        Unit::Year => (None, n.checked_mul(12)),
        _ => (Some(n), None),
    };
    let moved = match (days, months) {
        (Some(d), _) if d >= 0 => local.checked_add_days(Days::new(d as u64)),
        (Some(d), _) => local.checked_sub_days(Days::new(d.unsigned_abs())),
        (None, Some(m)) => {
            let m32 = u32::try_from(m.unsigned_abs()).map_err(|_| out_of_range())?;
            if m >= 0 {
                local.checked_add_months(Months::new(m32))
            } else {
                local.checked_sub_months(Months::new(m32))
            }
        }
        (None, None) => None,
    };
    moved.ok_or_else(out_of_range)
}

/// `time_between(start, end, unit="days", tz=...)`: how far `end` is after
/// `start` (negative if before). Milliseconds to weeks are exact and may have
/// fractions; months and years are whole calendar months completed on the
/// zone's wall clock.
fn time_between(
    start: Value,
    end: Value,
    unit: Option<&str>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let zone = zone_kwarg(&kwargs)?;
    kwargs.assert_all_used()?;
    let unit = Unit::parse(unit.unwrap_or("days"))?;
    let (a, b) = (parse_time_in(&start, zone)?, parse_time_in(&end, zone)?);
    if let Some(ms) = unit.millis() {
        let elapsed = (b - a).num_milliseconds() as f64;
        let v = elapsed / ms as f64;
        // Whole results read as integers (`2`, not `2.0`).
        return Ok(if v.fract() == 0.0 && v.abs() < 9e15 {
            Value::from(v as i64)
        } else {
            Value::from(v)
        });
    }
    let (la, lb) = (
        a.with_timezone(&zone).naive_local(),
        b.with_timezone(&zone).naive_local(),
    );
    let (lo, hi, sign) = if la <= lb { (la, lb, 1) } else { (lb, la, -1) };
    let mut months = (i64::from(hi.year()) - i64::from(lo.year())) * 12
        + (i64::from(hi.month()) - i64::from(lo.month()));
    if months > 0 && calendar_step(lo, months, Unit::Month)? > hi {
        months -= 1;
    }
    let whole = if unit == Unit::Year {
        months / 12
    } else {
        months
    };
    Ok(Value::from(sign * whole))
}

/// `start_of(t, unit, tz=...)` and `end_of(...)`: the first (last) millisecond
/// of the minute, hour, day, week (from Monday), month or year `t` is in.
fn period(t: Value, unit: &str, kwargs: Kwargs, end: bool) -> Result<String, Error> {
    let zone = zone_kwarg(&kwargs)?;
    kwargs.assert_all_used()?;
    let unit = Unit::parse(unit)?;
    let t = parse_time_in(&t, zone)?;
    let local = t.with_timezone(&zone).naive_local();
    let date = local.date();
    let start = match unit {
        Unit::Minute => local.with_second(0).and_then(|l| l.with_nanosecond(0)),
        Unit::Hour => NaiveTime::from_hms_opt(local.hour(), 0, 0).map(|h| date.and_time(h)),
        Unit::Day => Some(date.and_time(NaiveTime::MIN)),
        Unit::Week => date
            .checked_sub_days(Days::new(date.weekday().num_days_from_monday().into()))
            .map(|d| d.and_time(NaiveTime::MIN)),
        Unit::Month => date.with_day(1).map(|d| d.and_time(NaiveTime::MIN)),
        Unit::Year => {
            NaiveDate::from_ymd_opt(date.year(), 1, 1).map(|d| d.and_time(NaiveTime::MIN))
        }
        Unit::Millisecond | Unit::Second => {
            return Err(invalid(format!(
                "start_of and end_of take minute, hour, day, week, month or year, not {}",
                unit.name()
            )));
        }
    }
    .ok_or_else(out_of_range)?;
    if !end {
        return resolve(zone, start).map(fmt_time);
    }
    let next = match unit {
        Unit::Minute => start.checked_add_signed(TimeDelta::minutes(1)),
        Unit::Hour => start.checked_add_signed(TimeDelta::hours(1)),
        _ => Some(calendar_step(start, 1, unit)?),
    }
    .ok_or_else(out_of_range)?;
    let next = resolve(zone, next)?;
    Ok(fmt_time(next - TimeDelta::milliseconds(1)))
}

/// `to_zone(t, "Europe/Berlin")`: the same instant, written with the zone's offset.
fn to_zone(t: Value, name: &str) -> Result<String, Error> {
    let zone = zone(name)?;
    let t = parse_time(&t)?;
    Ok(t.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `make_time(2026, 3, 2, hour=9, minute=30, second=0, tz="Europe/Berlin")`.
fn make_time(year: i64, month: i64, day: i64, kwargs: Kwargs) -> Result<String, Error> {
    let zone = zone_kwarg(&kwargs)?;
    let hour: i64 = kwargs.get::<Option<i64>>("hour")?.unwrap_or(0);
    let minute: i64 = kwargs.get::<Option<i64>>("minute")?.unwrap_or(0);
    let second: i64 = kwargs.get::<Option<i64>>("second")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let field = |v: i64| u32::try_from(v).ok();
    let date = i32::try_from(year)
        .ok()
        .zip(field(month))
        .zip(field(day))
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| invalid(format!("{year}-{month}-{day} is not a date")))?;
    let time = field(hour)
        .zip(field(minute))
        .zip(field(second))
        .and_then(|((h, m), s)| NaiveTime::from_hms_opt(h, m, s))
        .ok_or_else(|| invalid(format!("{hour}:{minute}:{second} is not a time of day")))?;
    resolve(zone, date.and_time(time)).map(fmt_time)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fails, ok};
    use serde_json::json;

    #[test]
    fn reading_and_writing_times() {
        assert_eq!(
            ok("parse_time('2026-01-31')"),
            json!("2026-01-31T00:00:00.000Z")
        );
        assert_eq!(
            ok("parse_time('2026-01-31T09:00:00', tz='Europe/Berlin')"),
            json!("2026-01-31T08:00:00.000Z")
        );
        assert_eq!(
            ok("parse_time('02/03/2026 14:05', '%d/%m/%Y %H:%M', tz='America/New_York')"),
            json!("2026-03-02T19:05:00.000Z")
        );
        assert_eq!(
            ok("parse_time('02/03/2026', '%d/%m/%Y')"),
            json!("2026-03-02T00:00:00.000Z")
        );
        assert!(fails("parse_time('March 2', '%d/%m/%Y')").contains("does not match"));
        assert!(fails("parse_time('yesterday')").contains("cannot read"));
        assert_eq!(ok("timestamp('1970-01-02T00:00:00Z')"), json!(86400));
        assert_eq!(
            ok("format_time('2026-01-31T14:00:00Z', '%H:%M', tz='America/New_York')"),
            json!("09:00")
        );
        assert!(fails("format_time('2026-01-31', '%Q')").contains("strftime"));
        assert_eq!(
            ok("to_zone('2026-07-01T12:00:00Z', 'Europe/Berlin')"),
            json!("2026-07-01T14:00:00.000+02:00")
        );
        let e = fails("to_zone('2026-07-01', 'Europe/Berln')");
        assert!(
            e.contains("unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`?)"),
            "{e}"
        );
        assert_eq!(
            ok("make_time(2026, 3, 29, hour=9, tz='Europe/Berlin')"),
            json!("2026-03-29T07:00:00.000Z")
        );
        assert!(fails("make_time(2026, 2, 30)").contains("not a date"));
        assert!(fails("make_time(2026, 2, 3, hour=25)").contains("not a time of day"));
    }

    #[test]
    fn calendar_steps_keep_the_wall_clock_and_clamp_month_ends() {
        assert_eq!(
            ok("add_time('2026-01-31T10:00:00Z', 1, 'month')"),
            json!("2026-02-28T10:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2028-01-31T10:00:00Z', 1, 'months')"),
            json!("2028-02-29T10:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2026-03-31', -1, 'month')"),
            json!("2026-02-28T00:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2024-02-29', 1, 'year')"),
            json!("2025-02-28T00:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2026-03-02', 2, 'weeks')"),
            json!("2026-03-16T00:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2026-03-02T10:00:00Z', 90, 'minutes')"),
            json!("2026-03-02T11:30:00.000Z")
        );
        assert_eq!(
            ok("add_time('2026-03-02T10:00:00Z', 1.5, 'hours')"),
            json!("2026-03-02T11:30:00.000Z")
        );
        // Berlin moves to summer time on 2026-03-29 at 02:00 (UTC+1 to UTC+2).
        // 09:00 local the day before is 08:00Z; a day later it is 09:00 local, 07:00Z: 23 hours.
        assert_eq!(
            ok("add_time('2026-03-28T08:00:00Z', 1, 'day', tz='Europe/Berlin')"),
            json!("2026-03-29T07:00:00.000Z")
        );
        assert_eq!(
            ok("add_time('2026-03-28T08:00:00Z', 24, 'hours', tz='Europe/Berlin')"),
            json!("2026-03-29T08:00:00.000Z")
        );
        // A month later across the change keeps 09:00 local too.
        assert_eq!(
            ok("add_time('2026-03-15T08:00:00Z', 1, 'month', tz='Europe/Berlin')"),
            json!("2026-04-15T07:00:00.000Z")
        );
        // 02:30 on the 29th does not exist in Berlin: it becomes 03:30 (01:30Z).
        assert_eq!(
            ok("add_time('2026-03-28T01:30:00Z', 1, 'day', tz='Europe/Berlin')"),
            json!("2026-03-29T01:30:00.000Z")
        );
        // Back to winter time on 2026-10-25: 02:30 happens twice; the first is taken.
        assert_eq!(
            ok("add_time('2026-10-24T00:30:00Z', 1, 'day', tz='Europe/Berlin')"),
            json!("2026-10-25T00:30:00.000Z")
        );
        assert!(fails("add_time('2026-03-02', 1.5, 'days')").contains("whole number of days"));
        let e = fails("add_time('2026-03-02', 1, 'fortnight')");
        assert!(e.contains("unknown unit `fortnight`"), "{e}");
        assert!(fails("add_time('2026-03-02', 1, 'mnths')").contains("did you mean `month`"));
        assert!(fails("add_time('2026-03-02', 1e9, 'years')").contains("out of range"));
        assert!(fails("add_time('2026-03-02', 10000000, 'years')").contains("out of range"));
        assert!(
            fails("add_time('2026-03-02', 1, 'day', tz='Mars/Olympus')")
                .contains("unknown time zone")
        );
        assert_eq!(
            ok("add_days('2026-01-31T00:00:00Z', 1)"),
            json!("2026-02-01T00:00:00.000Z")
        );
        assert_eq!(
            ok("add_hours('2026-01-31T00:00:00Z', -1)"),
            json!("2026-01-30T23:00:00.000Z")
        );
    }

    #[test]
    fn differences_in_units() {
        assert_eq!(ok("time_between('2026-03-01', '2026-03-15')"), json!(14));
        assert_eq!(
            ok("time_between('2026-03-01', '2026-03-01T12:00:00Z', 'days')"),
            json!(0.5)
        );
        assert_eq!(
            ok("time_between('2026-03-01T10:00:00Z', '2026-03-01T09:00:00Z', 'minutes')"),
            json!(-60)
        );
        assert_eq!(
            ok("time_between('2026-01-31', '2026-02-28', 'months')"),
            json!(1)
        );
        assert_eq!(
            ok("time_between('2026-01-31', '2026-02-27', 'months')"),
            json!(0)
        );
        assert_eq!(
            ok("time_between('2026-03-15', '2026-01-20', 'months')"),
            json!(-1)
        );
        assert_eq!(
            ok("time_between('2020-06-01', '2026-05-31', 'years')"),
            json!(5)
        );
        assert_eq!(
            ok("time_between('2020-06-01', '2026-06-01', 'years')"),
            json!(6)
        );
        // Months on Berlin's wall clock: from 09:00 to 09:30 local, across the
        // change to summer time, is a month there but not quite one in UTC.
        let (a, b) = ("'2026-03-15T08:00:00Z'", "'2026-04-15T07:30:00Z'");
        assert_eq!(
            ok(&format!(
                "time_between({a}, {b}, 'months', tz='Europe/Berlin')"
            )),
            json!(1)
        );
        assert_eq!(ok(&format!("time_between({a}, {b}, 'months')")), json!(0));
        assert!(fails("time_between('2026-03-01', '2026-03-15', 'eons')").contains("unknown unit"));
    }

    #[test]
    fn periods_start_and_end_on_the_zone_clock() {
        assert_eq!(
            ok("start_of('2026-03-04T15:20:00Z', 'day')"),
            json!("2026-03-04T00:00:00.000Z")
        );
        assert_eq!(
            ok("end_of('2026-03-04T15:20:00Z', 'day')"),
            json!("2026-03-04T23:59:59.999Z")
        );
        // 2026-03-04 is a Wednesday; the week starts on Monday the 2nd.
        assert_eq!(
            ok("start_of('2026-03-04T15:20:00Z', 'week')"),
            json!("2026-03-02T00:00:00.000Z")
        );
        assert_eq!(
            ok("end_of('2026-03-04T15:20:00Z', 'week')"),
            json!("2026-03-08T23:59:59.999Z")
        );
        assert_eq!(
            ok("end_of('2028-02-10', 'month')"),
            json!("2028-02-29T23:59:59.999Z")
        );
        assert_eq!(
            ok("start_of('2026-07-04T15:20:10Z', 'year')"),
            json!("2026-01-01T00:00:00.000Z")
        );
        assert_eq!(
            ok("start_of('2026-07-04T15:20:10Z', 'hour')"),
            json!("2026-07-04T15:00:00.000Z")
        );
        assert_eq!(
            ok("end_of('2026-07-04T15:20:10Z', 'minute')"),
            json!("2026-07-04T15:20:59.999Z")
        );
        assert_eq!(
            ok("start_of('2026-03-04T23:30:00Z', 'day', tz='Europe/Berlin')"),
            json!("2026-03-04T23:00:00.000Z")
        );
        // The day of the change to summer time is 23 hours long in Berlin.
        assert_eq!(
            ok("end_of('2026-03-29T12:00:00Z', 'day', tz='Europe/Berlin')"),
            json!("2026-03-29T21:59:59.999Z")
        );
        assert!(fails("start_of('2026-03-04', 'second')").contains("minute, hour, day"));
    }
}
