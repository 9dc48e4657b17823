//! `lake-ingest`: the data-lake sample's ingestion of one object that arrived in the
//! landing bucket.
//!
//! Input: `{"bucket": "landing-zone", "key": "uploads/clicks.csv"}` (from the S3 event).
//! The object must be CSV whose header starts with `event_date,user_id,action`, every row
//! with a `YYYY-MM-DD` date and a user and action that are not empty. A good file is
//! partitioned by date into bucket `data-lake` (`events/date=<date>/<file name>`, each
//! part with the header), and the landing copy is deleted: output `{"valid": true,
//! "partitions": [{"date", "key", "rows"}]}`. A bad file is moved to bucket `quarantine`
//! under its key: output `{"valid": false, "reason", "quarantineKey"}`. A key already gone
//! from the landing bucket (a repeated event) fails with `NoSuchKey`.
use std::collections::BTreeMap;

use sandstep_sdk::{blob, json, Context, TaskError, Value};

const LAKE: &str = "data-lake";
const QUARANTINE: &str = "quarantine";
const HEADER: [&str; 3] = ["event_date", "user_id", "action"];

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && matches!(s.get(5..7).and_then(|m| m.parse::<u8>().ok()), Some(1..=12))
        && matches!(
            s.get(8..10).and_then(|d| d.parse::<u8>().ok()),
            Some(1..=31)
        )
}

/// The file's rows grouped by date, or why it is refused.
fn partition(text: &str) -> Result<(String, BTreeMap<String, Vec<String>>), String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("the file is empty")?.trim().to_string();
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    if columns.get(..3) != Some(&HEADER[..]) {
        return Err(format!("the header must start with {}", HEADER.join(",")));
    }
    let mut parts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(format!(
                "line {}: {} cells, the header has {}",
                i + 2,
                cells.len(),
                columns.len()
            ));
        }
        let date = cells.first().copied().unwrap_or_default();
        if !is_date(date) {
            return Err(format!("line {}: {date:?} is not a YYYY-MM-DD date", i + 2));
        }
        if cells.get(1).is_none_or(|u| u.is_empty()) || cells.get(2).is_none_or(|a| a.is_empty()) {
            return Err(format!(
                "line {}: user_id and action must not be empty",
                i + 2
            ));
        }
        parts
            .entry(date.to_string())
            .or_default()
            .push(line.trim().to_string());
    }
    if parts.is_empty() {
        return Err("the file has no rows".into());
    }
    Ok((header, parts))
}

fn ingest(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let field = |name: &str| {
        input[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| TaskError::new("InvalidInput", format!("{name} is required")))
    };
    let (bucket, key) = (field("bucket")?, field("key")?);
    let bytes = blob::get(bucket, key)?.ok_or_else(|| {
        TaskError::new(
            "NoSuchKey",
            format!("{bucket}/{key} is not there (already ingested?)"),
        )
    })?;
    let name = key.rsplit('/').next().unwrap_or(key);
    let outcome = match std::str::from_utf8(&bytes)
        .map_err(|_| "the file is not UTF-8 text".to_string())
        .and_then(partition)
    {
        Ok((header, parts)) => {
            let mut written = Vec::new();
            for (date, rows) in parts {
                let part_key = format!("events/date={date}/{name}");
                let body = format!("{header}\n{}\n", rows.join("\n"));
                blob::put(LAKE, &part_key, body.as_bytes(), Some("text/csv"))?;
                written.push(json!({"date": date, "key": part_key, "rows": rows.len()}));
            }
            json!({"valid": true, "partitions": written})
        }
        Err(reason) => {
            blob::put(QUARANTINE, key, &bytes, None)?;
            json!({"valid": false, "reason": reason, "quarantineKey": key})
        }
    };
    blob::delete(bucket, key)?;
    Ok(outcome)
}

sandstep_sdk::task!(ingest);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_good_files_by_date_and_says_what_is_wrong_with_bad_ones() {
        let (header, parts) = partition("event_date,user_id,action\n2026-12-01,u1,view\n2026-12-02,u2,buy\n2026-12-01,u3,view\n").unwrap();
        assert_eq!(header, "event_date,user_id,action");
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts["2026-12-01"],
            ["2026-12-01,u1,view", "2026-12-01,u3,view"]
        );
        assert!(partition("date,user\n").unwrap_err().contains("header"));
        assert!(partition("event_date,user_id,action\n2026-13-01,u,v\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(partition("event_date,user_id,action\n2026-12-01,,v\n")
            .unwrap_err()
            .contains("empty"));
        assert!(partition("event_date,user_id,action\n")
            .unwrap_err()
            .contains("no rows"));
    }
}
