//! Reading a Distributed Map's items as its `ItemReader` says: a JSON array, JSON Lines,
//! CSV (a header row, or headers given) or an S3 inventory manifest, from a stream, one
//! item at a time. Nothing holds the whole object: the caller gets each item as it is
//! parsed and may stop the reading.

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};

/// Why reading failed: the cause of the run's `States.ItemReaderFailed`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(pub String);

/// What the caller says after each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Go on.
    More,
    /// Stop reading (enough items, or the run ended).
    Stop,
}

/// The format of an object's items.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// A JSON array.
    Json,
    /// One JSON value per line.
    Jsonl,
    /// CSV rows as objects of strings.
    Csv {
        /// Headers given (`CSVHeaderLocation: GIVEN`), or `None` for the first row.
        headers: Option<Vec<String>>,
        /// The delimiter byte.
        delimiter: u8,
    },
}

impl Format {
    /// The format a `ReaderConfig` names.
    ///
    /// # Errors
    /// An unknown `InputType`, delimiter or header location, or headers missing.
    pub fn of(config: &Map<String, Value>) -> Result<Format, ReadError> {
        let text = |name: &str| config.get(name).and_then(Value::as_str);
        match text("InputType").unwrap_or("JSON") {
            "JSON" => Ok(Format::Json),
            "JSONL" => Ok(Format::Jsonl),
            "CSV" => {
                let delimiter = match text("CSVDelimiter").unwrap_or("COMMA") {
                    "COMMA" => b',',
                    "PIPE" => b'|',
                    "SEMICOLON" => b';',
                    "SPACE" => b' ',
                    "TAB" => b'\t',
                    other => return Err(ReadError(format!("Unknown CSVDelimiter '{other}'"))),
                };
                let headers = match text("CSVHeaderLocation").unwrap_or("FIRST_ROW") {
                    "FIRST_ROW" => None,
                    "GIVEN" => Some(
                        config
                            .get("CSVHeaders")
                            .and_then(Value::as_array)
                            .ok_or_else(|| {
                                ReadError(
                                    "CSVHeaders are required when CSVHeaderLocation is GIVEN"
                                        .into(),
                                )
                            })?
                            .iter()
                            .map(|h| h.as_str().unwrap_or_default().to_string())
                            .collect(),
                    ),
                    other => return Err(ReadError(format!("Unknown CSVHeaderLocation '{other}'"))),
                };
                Ok(Format::Csv { headers, delimiter })
            }
            other => Err(ReadError(format!(
                "InputType {other} is not supported by Sandstep"
            ))),
        }
    }
}

/// Reads the items of `body` in `format`, handing each to `each`, until the end, `limit`
/// items, or `each` says stop; answers how many it handed over.
///
/// # Errors
/// [`ReadError`] with AWS's words where AWS has them.
pub fn read(
    body: impl Read,
    format: &Format,
    limit: Option<u64>,
    each: &mut dyn FnMut(Value) -> Next,
) -> Result<u64, ReadError> {
    let limit = limit.filter(|n| *n > 0).unwrap_or(u64::MAX);
    let mut count = 0u64;
    let mut take = |item: Value| -> Next {
        if count >= limit {
            return Next::Stop;
        }
        count += 1;
        match each(item) {
            Next::More if count < limit => Next::More,
            _ => Next::Stop,
        }
    };
    match format {
        Format::Json => json_array(body, &mut take)?,
        Format::Jsonl => json_lines(body, &mut take)?,
        Format::Csv { headers, delimiter } => {
            csv_rows(body, headers.as_deref(), *delimiter, &mut take)?
        }
    }
    Ok(count)
}

fn json_array(body: impl Read, each: &mut dyn FnMut(Value) -> Next) -> Result<(), ReadError> {
    struct Items<'a>(&'a mut dyn FnMut(Value) -> Next);
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<Value>()? {
                if (self.0)(item) == Next::Stop {
                    // The rest is not read: drain nothing, the caller is done.
                    return Err(serde::de::Error::custom(STOPPED));
                }
            }
            Ok(())
        }
    }
    const STOPPED: &str = "sandstep: stopped";
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(body));
    match de.deserialize_any(Items(each)) {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(()),
        Err(e) if e.is_data() && e.to_string().starts_with("invalid type") => Err(ReadError(
            "Attempting to map over non-iterable node.".into(),
        )),
        Err(e) => Err(ReadError(format!("The object is not valid JSON: {e}"))),
    }
}

fn json_lines(body: impl Read, each: &mut dyn FnMut(Value) -> Next) -> Result<(), ReadError> {
    for (number, line) in BufReader::new(body).lines().enumerate() {
        let line = line.map_err(|e| ReadError(format!("Cannot read the object: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str(&line)
            .map_err(|e| ReadError(format!("Line {} is not valid JSON: {e}", number + 1)))?;
        if each(item) == Next::Stop {
            break;
        }
    }
    Ok(())
}

/// The largest header row AWS reads (10 KiB).
const MAX_HEADER_BYTES: usize = 10 * 1024;

fn csv_rows(
    body: impl Read,
    given: Option<&[String]>,
    delimiter: u8,
    each: &mut dyn FnMut(Value) -> Next,
) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(strip_bom(body));
    let failed = |e: csv::Error| ReadError(format!("The CSV is not valid: {e}"));
    let mut records = reader.records();
    let headers: Vec<String> = match given {
        Some(h) => h.to_vec(),
        None => match records.next() {
            None => return Ok(()),
            Some(row) => {
                let row = row.map_err(failed)?;
                if row.as_slice().len() > MAX_HEADER_BYTES {
                    return Err(ReadError(format!(
                        "The CSV header row is longer than {MAX_HEADER_BYTES} bytes"
                    )));
                }
                row.iter().map(str::to_string).collect()
            }
        },
    };
    let mut seen = std::collections::HashSet::new();
    if !headers.iter().all(|h| seen.insert(h)) {
        return Err(ReadError("CSV headers cannot contain duplicates.".into()));
    }
    for row in records {
        let row = row.map_err(failed)?;
        let mut item = Map::new();
        for (index, header) in headers.iter().enumerate() {
            let value = row.get(index).unwrap_or_default();
            item.insert(header.clone(), Value::String(value.to_string()));
        }
        if each(Value::Object(item)) == Next::Stop {
            break;
        }
    }
    Ok(())
}

/// Skips a UTF-8 byte order mark at the start of a stream.
fn strip_bom(body: impl Read) -> impl Read {
    let mut reader = BufReader::new(body);
    if let Ok(start) = reader.fill_buf() {
        if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
            reader.consume(3);
        }
    }
    reader
}

/// The data files an S3 inventory `manifest.json` names, with the columns of their CSV
/// rows (`fileSchema`).
///
/// # Errors
/// A manifest that is not an inventory manifest of CSV files.
pub fn manifest(body: impl Read) -> Result<(Vec<String>, Vec<String>), ReadError> {
    let manifest: Value = serde_json::from_reader(body)
        .map_err(|e| ReadError(format!("The manifest is not valid JSON: {e}")))?;
    if manifest.get("fileFormat").and_then(Value::as_str) != Some("CSV") {
        return Err(ReadError(
            "Only S3 inventory manifests of CSV files are supported by Sandstep".into(),
        ));
    }
    let schema = manifest
        .get("fileSchema")
        .and_then(Value::as_str)
        .ok_or_else(|| ReadError("The manifest has no fileSchema".into()))?
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    let files = manifest
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| ReadError("The manifest has no files".into()))?
        .iter()
        .filter_map(|f| f.get("key").and_then(Value::as_str).map(str::to_string))
        .collect();
    Ok((schema, files))
}

/// The rows of one inventory data file (gzip-compressed when its key ends in `.gz`).
///
/// # Errors
/// As [`read`].
pub fn inventory_rows(
    body: impl Read,
    key: &str,
    schema: &[String],
    each: &mut dyn FnMut(Value) -> Next,
) -> Result<(), ReadError> {
    let format = Format::Csv {
        headers: Some(schema.to_vec()),
        delimiter: b',',
    };
    let mut stopped = false;
    let mut take = |item| {
        let next = each(item);
        stopped |= next == Next::Stop;
        next
    };
    match key.ends_with(".gz") {
        true => read(flate2::read::GzDecoder::new(body), &format, None, &mut take)?,
        false => read(body, &format, None, &mut take)?,
    };
    let _ = stopped;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(text: &str, format: &Format, limit: Option<u64>) -> Result<Vec<Value>, ReadError> {
        let mut items = Vec::new();
        read(text.as_bytes(), format, limit, &mut |item| {
            items.push(item);
            Next::More
        })?;
        Ok(items)
    }

    fn csv(headers: Option<&[&str]>) -> Format {
        Format::Csv {
            headers: headers.map(|h| h.iter().map(|s| s.to_string()).collect()),
            delimiter: b',',
        }
    }

    #[test]
    fn json_arrays_stream_and_other_documents_are_not_iterable() {
        assert_eq!(
            all("[1, {\"a\": 2}, \"x\"]", &Format::Json, None).unwrap(),
            [json!(1), json!({"a": 2}), json!("x")]
        );
        assert_eq!(
            all("[1, 2, 3]", &Format::Json, Some(2)).unwrap(),
            [json!(1), json!(2)]
        );
        assert_eq!(
            all("{\"Hello\": \"world\"}", &Format::Json, None)
                .unwrap_err()
                .0,
            "Attempting to map over non-iterable node."
        );
        assert!(all("[1, ", &Format::Json, None)
            .unwrap_err()
            .0
            .contains("not valid JSON"));
    }

    #[test]
    fn json_lines_skip_blank_lines_and_name_a_bad_one() {
        assert_eq!(
            all("1\n\n{\"a\":1}\n", &Format::Jsonl, None).unwrap(),
            [json!(1), json!({"a": 1})]
        );
        assert_eq!(
            all("1\nnope\n", &Format::Jsonl, None)
                .unwrap_err()
                .0
                .split(':')
                .next(),
            Some("Line 2 is not valid JSON")
        );
    }

    #[test]
    fn csv_rows_are_objects_of_strings_as_aws_reads_them() {
        let text = "\u{feff}Col1,Col2,Col3\nValue1,Value2,Value3\n,,,\ntrue,1,'HelloWorld'\n   \n";
        assert_eq!(
            all(text, &csv(None), None).unwrap(),
            [
                json!({"Col1": "Value1", "Col2": "Value2", "Col3": "Value3"}),
                json!({"Col1": "", "Col2": "", "Col3": ""}),
                json!({"Col1": "true", "Col2": "1", "Col3": "'HelloWorld'"}),
                json!({"Col1": "   ", "Col2": "", "Col3": ""}),
            ]
        );
        assert_eq!(
            all("a,b\n1,2\n3,4\n5,6\n", &csv(None), Some(2))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            all("1,2,3\n", &csv(Some(&["H1"])), None).unwrap(),
            [json!({"H1": "1"})]
        );
        assert_eq!(
            all("1,2,3\n", &csv(Some(&["H1", "H1", "H3"])), None)
                .unwrap_err()
                .0,
            "CSV headers cannot contain duplicates."
        );
        assert_eq!(
            all("\"a,b\",c\n\"x\"\"y\",z\n", &csv(None), None).unwrap(),
            [json!({"a,b": "x\"y", "c": "z"})]
        );
        let pipes = Format::Csv {
            headers: None,
            delimiter: b'|',
        };
        assert_eq!(
            all("a|b\n1|2\n", &pipes, None).unwrap(),
            [json!({"a": "1", "b": "2"})]
        );
        assert!(all("", &csv(None), None).unwrap().is_empty());
    }

    #[test]
    fn reader_configs_name_their_format() {
        let config = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            Format::of(&config(json!({"InputType": "JSONL"}))).unwrap(),
            Format::Jsonl
        );
        assert_eq!(
            Format::of(&config(json!({"InputType": "CSV", "CSVDelimiter": "TAB"}))).unwrap(),
            Format::Csv {
                headers: None,
                delimiter: b'\t'
            }
        );
        assert!(Format::of(&config(
            json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN"})
        ))
        .is_err());
        assert_eq!(
            Format::of(&config(json!({"InputType": "PARQUET"})))
                .unwrap_err()
                .0,
            "InputType PARQUET is not supported by Sandstep"
        );
    }

    #[test]
    fn inventory_manifests_name_their_files_and_columns() {
        let manifest_text = json!({"sourceBucket": "b", "fileFormat": "CSV",
            "fileSchema": "Bucket, Key, Size", "files": [{"key": "inv/data/1.csv.gz"}]})
        .to_string();
        let (schema, files) = manifest(manifest_text.as_bytes()).unwrap();
        assert_eq!(
            (schema.clone(), files),
            (
                vec!["Bucket".to_string(), "Key".into(), "Size".into()],
                vec!["inv/data/1.csv.gz".to_string()]
            )
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"b,k1,3\nb,k2,4\n").unwrap();
        let bytes = gz.finish().unwrap();
        let mut rows = Vec::new();
        inventory_rows(bytes.as_slice(), "1.csv.gz", &schema, &mut |row| {
            rows.push(row);
            Next::More
        })
        .unwrap();
        assert_eq!(
            rows,
            [
                json!({"Bucket": "b", "Key": "k1", "Size": "3"}),
                json!({"Bucket": "b", "Key": "k2", "Size": "4"})
            ]
        );
    }
}
