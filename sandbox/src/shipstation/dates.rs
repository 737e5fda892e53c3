//! Dates. Everything is kept in UTC; V1 reads and writes local time without
//! offset (facts §4.1: Pacific, PST/PDT, UNVERIFIED, switchable with
//! `v1_timezone`), V2 ISO-8601 with an offset.
//!
//! Pacific time follows the US rule in force since 2007: daylight time from
//! the second Sunday of March 02:00 to the first Sunday of November 02:00.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

use super::V1TimeZone;

/// The `n`th (1-based) Sunday of `month` in `year`.
fn nth_sunday(year: i32, month: u32, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n).unwrap_or(NaiveDate::MIN)
}

/// Whether the UTC instant falls in Pacific daylight time.
fn pacific_dst(utc: NaiveDateTime) -> bool {
    let year = utc.year();
    // 02:00 PST = 10:00 UTC; 02:00 PDT = 09:00 UTC.
    let start = nth_sunday(year, 3, 2)
        .and_hms_opt(10, 0, 0)
        .unwrap_or_default();
    let end = nth_sunday(year, 11, 1)
        .and_hms_opt(9, 0, 0)
        .unwrap_or_default();
    utc >= start && utc < end
}

/// The UTC instant as local time in `tz`.
pub fn to_local(tz: V1TimeZone, utc: NaiveDateTime) -> NaiveDateTime {
    match tz {
        V1TimeZone::Utc => utc,
        V1TimeZone::Pacific => {
            let hours = if pacific_dst(utc) { 7 } else { 8 };
            utc - Duration::hours(hours)
        }
    }
}

/// Local time in `tz` as a UTC instant (in the hour that repeats in
/// November, the standard-time reading wins).
pub fn from_local(tz: V1TimeZone, local: NaiveDateTime) -> NaiveDateTime {
    match tz {
        V1TimeZone::Utc => local,
        V1TimeZone::Pacific => {
            let standard = local + Duration::hours(8);
            if pacific_dst(standard) {
                local + Duration::hours(7)
            } else {
                standard
            }
        }
    }
}

/// A V1 date-time as ShipStation answers it: `2015-06-29T08:46:27.0000000`.
pub fn v1_format(tz: V1TimeZone, utc: NaiveDateTime) -> String {
    // chrono has no 7-digit fraction: ticks of 100 ns, as .NET writes them.
    let local = to_local(tz, utc);
    format!(
        "{}.{:07}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.and_utc().timestamp_subsec_nanos() / 100
    )
}

/// A V1 date-time from a client: `yyyy-mm-dd hh:mm:ss`, ISO-8601 without
/// offset (fractions allowed) or a bare date, read in `tz`; a value with an
/// offset is taken at its offset.
pub fn v1_parse(tz: V1TimeZone, value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(value) {
        return Some(d.naive_utc());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(value, fmt) {
            return Some(from_local(tz, at));
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| from_local(tz, at))
}

/// A calendar date (`shipDate`): `yyyy-mm-dd` or the date part of a
/// date-time.
pub fn parse_day(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    let head = value.get(..10).unwrap_or(value);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// A V2 date-time: ISO-8601 in UTC with `Z`.
pub fn v2_format(utc: NaiveDateTime) -> String {
    utc.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A V2 date-time from a client: ISO-8601 with an offset, or without one
/// (then UTC), or a bare date.
pub fn v2_parse(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(value) {
        return Some(d.naive_utc());
    }
    v1_parse(V1TimeZone::Utc, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn pacific_switches_with_daylight_time() {
        let tz = V1TimeZone::Pacific;
        assert_eq!(
            to_local(tz, at("2024-01-15 20:00:00")),
            at("2024-01-15 12:00:00")
        );
        assert_eq!(
            to_local(tz, at("2024-07-15 20:00:00")),
            at("2024-07-15 13:00:00")
        );
        // 2024-03-10 02:00 PST: the switch.
        assert_eq!(
            to_local(tz, at("2024-03-10 09:59:59")),
            at("2024-03-10 01:59:59")
        );
        assert_eq!(
            to_local(tz, at("2024-03-10 10:00:00")),
            at("2024-03-10 03:00:00")
        );
        for s in [
            "2024-01-15 12:00:00",
            "2024-07-15 13:00:00",
            "2024-11-03 03:00:00",
        ] {
            assert_eq!(to_local(tz, from_local(tz, at(s))), at(s));
        }
    }

    #[test]
    fn v1_format_has_seven_fraction_digits() {
        assert_eq!(
            v1_format(V1TimeZone::Utc, at("2015-06-29 08:46:27")),
            "2015-06-29T08:46:27.0000000"
        );
    }
}
