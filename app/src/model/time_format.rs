//! Timestamps as people read them on the dashboard. The server renders in UTC and the browser
//! hydrates the same text, so both sides must format identically.

use time::OffsetDateTime;

/// `2026-11-23 14:05 UTC` for a Unix-millisecond timestamp. Written out by hand rather than with
/// `time`'s format descriptions: their parser and formatter would ship to the browser for one
/// fixed layout.
pub fn utc_minutes(millis: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000) {
        Ok(t) => {
            let (year, month, day) = t.to_calendar_date();
            format!(
                "{year:04}-{:02}-{day:02} {:02}:{:02} UTC",
                u8::from(month),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => "—".to_owned(),
    }
}

/// `2026-11-23 14:05:09` (UTC) for a Unix-millisecond timestamp: the activity export's time.
pub fn utc_seconds(millis: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000) {
        Ok(t) => {
            let (year, month, day) = t.to_calendar_date();
            format!(
                "{year:04}-{:02}-{day:02} {:02}:{:02}:{:02}",
                u8::from(month),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => String::new(),
    }
}

/// `2026-11-23T14:05:09.123Z` for a Unix-millisecond timestamp: ISO 8601 (RFC 3339) in UTC, as an
/// event's payload says when it happened and the REST API writes every time.
pub fn iso8601(millis: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000) {
        Ok(t) => {
            let (year, month, day) = t.to_calendar_date();
            format!(
                "{year:04}-{:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
                u8::from(month),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        }
        Err(_) => String::new(),
    }
}

/// The Unix-millisecond time of `2026-11-23T14:05` (what a `datetime-local` field sends, read as
/// UTC like every time the dashboard shows); a date alone (`2026-11-23`) is its midnight. `None`
/// for anything else.
pub fn parse_utc_minutes(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, clock) = text.split_once(['T', ' ']).unwrap_or((text, "00:00"));
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.splitn(2, ':').map(|p| p.parse::<u8>().ok());
    let (hour, minute) = (c.next()??, c.next()??);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let time = time::Time::from_hms(hour, minute, 0).ok()?;
    Some(
        (time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp_nanos()
            / 1_000_000) as i64,
    )
}

/// The `datetime-local` text of a Unix-millisecond time (UTC): the inverse of
/// [`parse_utc_minutes`], to show a filter's time back in its field.
pub fn datetime_local(millis: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000) {
        Ok(t) => {
            let (year, month, day) = t.to_calendar_date();
            format!(
                "{year:04}-{:02}-{day:02}T{:02}:{:02}",
                u8::from(month),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => String::new(),
    }
}

/// How long before `now` `then` was, coarsely: `12 s ago`, `5 min ago`, `3 h ago`, `2 days ago`.
/// Both in Unix ms, both from the server, so the server's render and the browser's agree.
pub fn ago(now: i64, then: i64) -> String {
    let secs = ((now - then) / 1000).max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=172_799 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// How long after `now` `then` is: `in 3 s`, `in 2 min`; `now` once it has passed.
pub fn until(now: i64, then: i64) -> String {
    let secs = (then - now + 999) / 1000;
    match secs {
        ..=0 => "now".to_owned(),
        1..=59 => format!("in {secs} s"),
        _ => format!("in {} min", (secs + 59) / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_and_waits() {
        use super::{ago, until};
        assert_eq!(ago(10_000, 9_500), "0 s ago");
        assert_eq!(ago(100_000, 0), "1 min ago");
        assert_eq!(ago(7_200_000, 0), "2 h ago");
        assert_eq!(ago(3 * 86_400_000, 0), "3 days ago");
        assert_eq!(until(0, 2_500), "in 3 s");
        assert_eq!(until(0, 61_000), "in 2 min");
        assert_eq!(until(5_000, 0), "now");
    }

    #[test]
    fn formats_in_utc() {
        assert_eq!(super::utc_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            super::utc_minutes(1_795_000_000_000),
            "2026-11-18 11:06 UTC"
        );
    }

    #[test]
    fn a_datetime_local_field_reads_as_utc_and_back() {
        use super::{datetime_local, parse_utc_minutes, utc_seconds};
        let t = parse_utc_minutes("2026-12-02T05:30").unwrap();
        assert_eq!(utc_seconds(t), "2026-12-02 05:30:00");
        assert_eq!(datetime_local(t), "2026-12-02T05:30");
        assert_eq!(
            parse_utc_minutes("2026-12-02").map(utc_seconds).as_deref(),
            Some("2026-12-02 00:00:00")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00",
            "2026-02-30",
            "2026-12-02T25:00",
            "2026-12-02T05",
        ] {
            assert_eq!(parse_utc_minutes(bad), None, "{bad:?}");
        }
    }
}
