//! Dates as Sage 300 carries them. `DateLastMaintained` is an
//! `Edm.DateTimeOffset` with no time of day (`"2010-08-18T00:00:00"`, facts
//! §1.4, §1.6); payloads send dates as `"2020-01-15"` or
//! `"2020-06-20T00:00:00Z"` (facts §1.4). The simulator stores every date as
//! `YYYY-MM-DDT00:00:00Z` and answers it per [`super::variants::DateStyle`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

/// A date as the simulator stores it: midnight, UTC.
pub fn fmt_date(date: NaiveDate) -> String {
    format!("{}T00:00:00Z", date.format("%Y-%m-%d"))
}

/// Parses a date or date-time (any of the literal forms) to its date part.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_datetime(text).map(|dt| dt.date())
}

/// Parses `2015-12-31`, `2015-12-31T12:00`, `2015-12-31T12:00:00[.fff]`, with
/// an optional `Z` or `±hh:mm` offset (converted to UTC).
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(NaiveTime::MIN));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.naive_utc());
        }
    }
    let bare = text.strip_suffix('Z').unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(bare, format) {
            return Some(dt);
        }
    }
    None
}

/// Normalises a date field of a payload; empty stays empty.
pub fn normalise(field: &str, value: &str) -> Result<String, super::errors::SageError> {
    if value.is_empty() {
        return Ok(String::new());
    }
    parse_date(value).map(fmt_date).ok_or_else(|| {
        super::errors::SageError::invalid_payload(format!(
            "The value '{value}' of {field} is not a valid date."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_forms() {
        let d = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
        assert_eq!(parse_date("2015-12-31"), Some(d));
        assert_eq!(parse_datetime("2015-12-31T12:00").unwrap().date(), d);
        assert_eq!(parse_datetime("2015-12-31T12:00:00Z").unwrap().date(), d);
        assert_eq!(
            parse_datetime("2015-12-31T12:00:00.000+00:00")
                .unwrap()
                .date(),
            d
        );
        assert_eq!(fmt_date(d), "2015-12-31T00:00:00Z");
    }
}
