//! ISO-8601 / RFC 3339 timestamps without a clock: parsing and formatting.
//!
//! The engine is pure, so it cannot ask the system for the time; it receives instants as
//! numbers and only needs to read and write their text form. The accepted grammar is the one
//! the Amazon States Language specifies for `Timestamp*` comparisons and `Wait` states:
//!
//! ```text
//! YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
//! ```
//!
//! `T` and `Z` must be upper case (the ASL spec says so explicitly), the offset is mandatory
//! (AWS refuses `2016-12-05T21:29:29`), and every field is range-checked with real calendar
//! rules (AWS refuses `2016-13-05T…` and `…T25:…`).
//!
//! ```
//! use sandstep_engine::timestamp::{format_millis, parse_nanos};
//!
//! let nanos = parse_nanos("2016-03-14T01:59:00.5+01:00").unwrap();
//! assert_eq!(format_millis((nanos / 1_000_000) as i64), "2016-03-14T00:59:00.500Z");
//! assert_eq!(parse_nanos("2016-12-05 21:29:29Z"), None);
//! ```

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
const MILLIS_PER_DAY: i64 = SECONDS_PER_DAY * 1_000;
/// Java's `ZoneOffset` (which AWS's parser follows) refuses offsets beyond ±18:00.
const MAX_OFFSET_HOURS: i64 = 18;

/// Parses an ISO-8601 extended offset date-time as AWS accepts it
/// (`2016-03-14T01:59:00Z`, `2016-03-14T01:59:00.123+02:00`) into nanoseconds since the epoch.
///
/// Returns `None` for anything outside the grammar in the [module docs](self), including
/// impossible dates such as `2023-02-29` and leap seconds (`:60`), which AWS's strict resolver
/// refuses as well.
pub fn parse_nanos(text: &str) -> Option<i128> {
    let mut cursor = Cursor::new(text);
    let year = cursor.digits(4)?;
    cursor.literal(b'-')?;
    let month = cursor.digits(2)?;
    cursor.literal(b'-')?;
    let day = cursor.digits(2)?;
    cursor.literal(b'T')?;
    let hour = cursor.digits(2)?;
    cursor.literal(b':')?;
    let minute = cursor.digits(2)?;
    cursor.literal(b':')?;
    let second = cursor.digits(2)?;
    let fraction = if cursor.peek() == Some(b'.') {
        cursor.literal(b'.')?;
        cursor.fraction()?
    } else {
        0
    };
    let offset_seconds = match cursor.next()? {
        b'Z' => 0,
        sign @ (b'+' | b'-') => {
            let hours = cursor.digits(2)?;
            cursor.literal(b':')?;
            let minutes = cursor.digits(2)?;
            if hours > MAX_OFFSET_HOURS || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3_600 + minutes * 60;
            if sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    if !cursor.at_end() {
        return None;
    }
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour <= 23
        && minute <= 59
        && second <= 59;
    if !valid {
        return None;
    }
    let local_seconds =
        days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3_600 + minute * 60 + second;
    let utc_seconds = i128::from(local_seconds - offset_seconds);
    Some(utc_seconds * NANOS_PER_SECOND + fraction)
}

/// Like [`parse_nanos`], truncated towards the past to whole milliseconds, the resolution the
/// rest of the engine keeps time in.
pub fn parse_millis(text: &str) -> Option<Millis> {
    let nanos = parse_nanos(text)?;
    Millis::try_from(nanos.div_euclid(1_000_000)).ok()
}

/// Formats `ms` as AWS prints timestamps in the context object: `2024-07-02T13:49:50.123Z`.
///
/// AWS always prints exactly three fraction digits and the `Z` designator for
/// `$$.Execution.StartTime` and `$$.State.EnteredTime`, so this does too, even for `.000`.
pub fn format_millis(ms: Millis) -> String {
    let days = ms.div_euclid(MILLIS_PER_DAY);
    let in_day = ms.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let millis = in_day % 1_000;
    let seconds = in_day / 1_000;
    let year_text = if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    };
    format!(
        "{year_text}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
    )
}

/// A forward-only reader over the ASCII bytes of a timestamp; every method returns `None`
/// when the text does not continue as required, so the parser reads as the grammar.
struct Cursor<'a> {
    bytes: std::slice::Iter<'a, u8>,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes().iter(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.clone().next().copied()
    }

    fn next(&mut self) -> Option<u8> {
        self.bytes.next().copied()
    }

    fn at_end(&self) -> bool {
        self.bytes.len() == 0
    }

    fn literal(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn digit(&mut self) -> Option<i64> {
        let byte = self.next()?;
        byte.is_ascii_digit().then(|| i64::from(byte - b'0'))
    }

    /// Exactly `count` decimal digits: the extended format has fixed-width fields.
    fn digits(&mut self, count: usize) -> Option<i64> {
        (0..count).try_fold(0, |value, _| Some(value * 10 + self.digit()?))
    }

    /// One to nine digits after the decimal point, scaled to nanoseconds.
    fn fraction(&mut self) -> Option<i128> {
        let mut nanos: i128 = 0;
        let mut count = 0;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            nanos = nanos * 10 + i128::from(self.digit()?);
            count += 1;
            if count > 9 {
                return None;
            }
        }
        if count == 0 {
            return None;
        }
        Some(nanos * 10_i128.pow(9 - count))
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// Public for the server's other date formats (SigV4's), so there is one calendar.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (month + 9) % 12; // March = 0, so leap days fall at the end
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: `(year, month, day)`.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = NANOS_PER_SECOND;

    #[test]
    fn parses_utc_seconds() {
        assert_eq!(parse_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_nanos("2016-03-14T01:59:00Z"),
            Some(1_457_920_740 * SECOND)
        );
        assert_eq!(
            parse_nanos("2012-10-09T19:00:55Z"),
            Some(1_349_809_255 * SECOND)
        );
    }

    #[test]
    fn parses_fractions_of_any_length_up_to_nanoseconds() {
        let base = 1_457_920_740 * SECOND;
        assert_eq!(
            parse_nanos("2016-03-14T01:59:00.5Z"),
            Some(base + 500_000_000)
        );
        assert_eq!(parse_nanos("2016-03-14T01:59:00.00Z"), Some(base));
        assert_eq!(parse_nanos("2016-03-14T01:59:00.000000Z"), Some(base));
        assert_eq!(
            parse_nanos("2016-03-05T21:29:29.243167252Z"),
            Some(1_457_213_369 * SECOND + 243_167_252)
        );
        assert_eq!(parse_nanos("2016-03-14T01:59:00.1234567891Z"), None);
        assert_eq!(parse_nanos("2016-03-14T01:59:00.Z"), None);
    }

    #[test]
    fn applies_offsets() {
        let utc = parse_nanos("2012-10-09T18:00:55Z");
        assert_eq!(parse_nanos("2012-10-09T19:00:55+01:00"), utc);
        assert_eq!(parse_nanos("2012-10-09T16:30:55-01:30"), utc);
        assert_eq!(parse_nanos("2012-10-09T18:00:55+00:00"), utc);
        assert!(parse_nanos("2012-10-09T18:00:55+18:00").is_some());
        assert_eq!(parse_nanos("2012-10-09T18:00:55+19:00"), None);
        assert_eq!(parse_nanos("2012-10-09T18:00:55+01:60"), None);
        assert_eq!(parse_nanos("2012-10-09T18:00:55+0100"), None);
        assert_eq!(parse_nanos("2012-10-09T18:00:55+01"), None);
    }

    #[test]
    fn refuses_what_aws_refuses() {
        for text in [
            "2016-12-05 21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-13-05T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05T21:29:29",
            "2023-12-13T07:10:32.000000",
            "2023-02-24",
            "2023-02-24 12:15:56.832957",
            "2016-12-05t21:29:29Z",
            "2016-12-05T21:29:29z",
            "2016-12-05T21:29Z",
            "2016-12-05T21:29:60Z",
            "2016-12-05T21:60:00Z",
            "2016-00-05T21:29:29Z",
            "2016-12-00T21:29:29Z",
            "2016-12-32T21:29:29Z",
            "2016-12-05T21:29:29Z ",
            " 2016-12-05T21:29:29Z",
            "+2016-12-05T21:29:29Z",
            "2016-1-05T21:29:29Z",
            "２016-12-05T21:29:29Z",
            "",
        ] {
            assert_eq!(parse_nanos(text), None, "{text:?} should be refused");
        }
    }

    #[test]
    fn knows_month_lengths_and_leap_years() {
        assert!(parse_nanos("2024-02-29T00:00:00Z").is_some());
        assert!(parse_nanos("2000-02-29T00:00:00Z").is_some());
        assert!(parse_nanos("2023-02-29T00:00:00Z").is_none());
        assert!(parse_nanos("1900-02-29T00:00:00Z").is_none());
        assert!(parse_nanos("2023-04-30T00:00:00Z").is_some());
        assert!(parse_nanos("2023-04-31T00:00:00Z").is_none());
        assert!(parse_nanos("2023-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn handles_instants_before_the_epoch() {
        assert_eq!(parse_nanos("1969-12-31T23:59:59.5Z"), Some(-SECOND / 2));
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_millis("1969-12-31T23:59:59.9995Z"), Some(-1));
    }

    #[test]
    fn formats_with_three_fraction_digits() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_719_928_190_123), "2024-07-02T13:49:50.123Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            format_millis(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn format_and_parse_round_trip() {
        for ms in [
            0,
            1,
            -1,
            86_399_999,
            86_400_000,
            1_457_920_740_007,
            -62_135_596_800_000, // 0001-01-01
            4_102_444_800_000,   // 2100-01-01, not a leap year
        ] {
            assert_eq!(parse_millis(&format_millis(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn civil_conversion_agrees_day_by_day() {
        let mut expected = days_from_civil(1899, 12, 31);
        for year in 1900..=2100 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    expected += 1;
                    assert_eq!(days_from_civil(year, month, day), expected);
                    assert_eq!(civil_from_days(expected), (year, month, day));
                }
            }
        }
    }
}
