//! The dates a signed request carries (`X-Amz-Date`, or HTTP's `Date`) and the one
//! SigV4 signs with.

use sandstep_engine::timestamp::{civil_from_days, days_from_civil};

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the Unix epoch.
pub(super) fn parse_amz_date(text: &str) -> Option<i64> {
    if text.len() != 16 || text.get(8..9)? != "T" || text.get(15..16)? != "Z" {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    epoch_seconds(
        number(0..4)?,
        number(4..6)?,
        number(6..8)?,
        number(9..11)?,
        number(11..13)?,
        number(13..15)?,
    )
}

/// Parses an HTTP date (`Sun, 30 Aug 2015 12:36:00 GMT`, RFC 7231's IMF-fixdate).
pub(super) fn parse_http_date(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let (Some(_weekday), Some(day), Some(month), Some(year), Some(time), Some("GMT"), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)?;
    let mut clock = time.split(':');
    let (Some(hour), Some(minute), Some(second), None) =
        (clock.next(), clock.next(), clock.next(), clock.next())
    else {
        return None;
    };
    epoch_seconds(
        year.parse().ok()?,
        i64::try_from(month).ok()? + 1,
        day.parse().ok()?,
        hour.parse().ok()?,
        minute.parse().ok()?,
        second.parse().ok()?,
    )
}

/// Seconds since the Unix epoch of a UTC civil time, `None` if it is not a real one.
pub(super) fn epoch_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..60).contains(&second) {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 31 February and the like come back as another date.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Formats seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`.
pub(super) fn format_amz_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60
    )
}
