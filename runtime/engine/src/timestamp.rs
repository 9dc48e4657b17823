//! ISO-8601 / RFC 3339 timestamps without a clock: parsing and formatting.
//! HELPER-OWNED: replaced by the real implementation; API contract below must be kept.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Parses an ISO-8601 extended offset date-time as AWS accepts it
/// (`2016-03-14T01:59:00Z`, `2016-03-14T01:59:00.123+02:00`) into nanoseconds since the epoch.
pub fn parse_nanos(text: &str) -> Option<i128> {
    let _ = text;
    None
}

/// Formats `ms` as AWS prints timestamps in the context object: `2024-07-02T13:49:50.123Z`.
pub fn format_millis(ms: Millis) -> String {
    ms.to_string()
}
