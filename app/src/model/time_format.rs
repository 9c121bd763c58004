//! Timestamps as people read them on the dashboard. The server renders in UTC and the browser
//! hydrates the same text, so both sides must format identically.

use time::{OffsetDateTime, macros::format_description};

/// `2026-11-23 14:05 UTC` for a Unix-millisecond timestamp.
pub fn utc_minutes(millis: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "—".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_in_utc() {
        assert_eq!(super::utc_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            super::utc_minutes(1_795_000_000_000),
            "2026-11-18 11:06 UTC"
        );
    }
}
