//! S3's XML: the documents its REST API answers (listings, multipart results, errors) and
//! the two small ones it reads (`Delete` and `CompleteMultipartUpload`), whose flat shapes
//! a scan of their elements reads without a general XML parser.

use crate::s3::{quoted, Listing};
use crate::store::blobs::{BucketDef, ObjectMeta};
use sandstep_engine::timestamp::{civil_from_days, format_millis};
use sandstep_engine::Millis;

/// S3's namespace.
const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Text escaped for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = tail.get(1..end).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(tail.get(..=end).unwrap_or_default()),
        }
        rest = tail.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// An error document.
pub fn error(code: &str, message: &str, resource: &str, request_id: &str) -> String {
    format!(
        "{HEAD}<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource><RequestId>{request_id}</RequestId></Error>",
        escape(code),
        escape(message),
        escape(resource)
    )
}

/// `ListAllMyBucketsResult`.
pub fn buckets(owner: &str, buckets: &[BucketDef]) -> String {
    let mut out = format!(
        "{HEAD}<ListAllMyBucketsResult xmlns=\"{NS}\"><Owner><ID>{owner}</ID><DisplayName>{owner}</DisplayName></Owner><Buckets>"
    );
    for b in buckets {
        out.push_str(&format!(
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
            escape(&b.name),
            format_millis(b.created)
        ));
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    out
}

/// What a listing request asked, echoed in its answer.
#[derive(Debug, Clone, Default)]
pub struct Asked<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// `prefix`.
    pub prefix: &'a str,
    /// `delimiter`.
    pub delimiter: Option<&'a str>,
    /// `max-keys`.
    pub max_keys: usize,
    /// v2: `continuation-token`; v1: `marker`.
    pub token: Option<&'a str>,
    /// v2: `start-after`.
    pub start_after: Option<&'a str>,
    /// `ListObjectsV2` rather than v1.
    pub v2: bool,
    /// `encoding-type=url`: keys and prefixes URL-encoded.
    pub url_encoded: bool,
}

/// `ListBucketResult` (v1 or v2).
pub fn listing(asked: &Asked<'_>, listing: &Listing, next_token: Option<&str>) -> String {
    let enc = |s: &str| match asked.url_encoded {
        true => escape(&url_encode(s)),
        false => escape(s),
    };
    let mut out = format!(
        "{HEAD}<ListBucketResult xmlns=\"{NS}\"><Name>{}</Name><Prefix>{}</Prefix>",
        escape(asked.bucket),
        enc(asked.prefix)
    );
    if let Some(d) = asked.delimiter {
        out.push_str(&format!("<Delimiter>{}</Delimiter>", enc(d)));
    }
    out.push_str(&format!(
        "<MaxKeys>{}</MaxKeys><IsTruncated>{}</IsTruncated>",
        asked.max_keys,
        listing.next.is_some()
    ));
    if asked.url_encoded {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    match asked.v2 {
        true => {
            out.push_str(&format!(
                "<KeyCount>{}</KeyCount>",
                listing.contents.len() + listing.common_prefixes.len()
            ));
            if let Some(t) = asked.token {
                out.push_str(&format!(
                    "<ContinuationToken>{}</ContinuationToken>",
                    escape(t)
                ));
            }
            if let Some(s) = asked.start_after {
                out.push_str(&format!("<StartAfter>{}</StartAfter>", enc(s)));
            }
            if let Some(n) = next_token {
                out.push_str(&format!(
                    "<NextContinuationToken>{}</NextContinuationToken>",
                    escape(n)
                ));
            }
        }
        false => {
            out.push_str(&format!(
                "<Marker>{}</Marker>",
                enc(asked.token.unwrap_or(""))
            ));
            if let (Some(next), Some(_)) = (&listing.next, asked.delimiter) {
                out.push_str(&format!("<NextMarker>{}</NextMarker>", enc(next)));
            }
        }
    }
    for m in &listing.contents {
        out.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            enc(&m.key),
            format_millis(m.modified),
            escape(&quoted(&m.etag)),
            m.size
        ));
    }
    for p in &listing.common_prefixes {
        out.push_str(&format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            enc(p)
        ));
    }
    out.push_str("</ListBucketResult>");
    out
}

/// `CopyObjectResult`.
pub fn copied(meta: &ObjectMeta) -> String {
    format!(
        "{HEAD}<CopyObjectResult xmlns=\"{NS}\"><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        format_millis(meta.modified),
        escape(&quoted(&meta.etag))
    )
}

/// `InitiateMultipartUploadResult`.
pub fn initiated(bucket: &str, key: &str, id: &str) -> String {
    format!(
        "{HEAD}<InitiateMultipartUploadResult xmlns=\"{NS}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
        escape(bucket),
        escape(key),
        escape(id)
    )
}

/// `CompleteMultipartUploadResult`.
pub fn completed(location: &str, bucket: &str, meta: &ObjectMeta) -> String {
    format!(
        "{HEAD}<CompleteMultipartUploadResult xmlns=\"{NS}\"><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
        escape(location),
        escape(bucket),
        escape(&meta.key),
        escape(&quoted(&meta.etag))
    )
}

/// `DeleteResult`: the keys deleted, and those that failed with code and message.
pub fn deleted(done: &[String], failed: &[(String, String, String)]) -> String {
    let mut out = format!("{HEAD}<DeleteResult xmlns=\"{NS}\">");
    for k in done {
        out.push_str(&format!("<Deleted><Key>{}</Key></Deleted>", escape(k)));
    }
    for (k, code, message) in failed {
        out.push_str(&format!(
            "<Error><Key>{}</Key><Code>{}</Code><Message>{}</Message></Error>",
            escape(k),
            escape(code),
            escape(message)
        ));
    }
    out.push_str("</DeleteResult>");
    out
}

/// The texts of every `<tag>` element in `doc`, in order.
fn elements(doc: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find(&open) {
        let after = rest.get(start + open.len()..).unwrap_or_default();
        let Some(end) = after.find(&close) else {
            break;
        };
        out.push(after.get(..end).unwrap_or_default().to_string());
        rest = after.get(end + close.len()..).unwrap_or_default();
    }
    out
}

/// A `Delete` document's keys and its `Quiet` flag.
pub fn delete_request(doc: &str) -> (Vec<String>, bool) {
    let keys = elements(doc, "Object")
        .iter()
        .filter_map(|o| elements(o, "Key").into_iter().next())
        .map(|k| unescape(&k))
        .collect();
    let quiet = elements(doc, "Quiet")
        .first()
        .is_some_and(|q| q.trim() == "true");
    (keys, quiet)
}

/// A `CompleteMultipartUpload` document's parts: number and ETag. `None` when a part is
/// malformed.
pub fn complete_request(doc: &str) -> Option<Vec<(u32, String)>> {
    elements(doc, "Part")
        .iter()
        .map(|p| {
            let number = elements(p, "PartNumber").first()?.trim().parse().ok()?;
            let etag = unescape(elements(p, "ETag").first()?.trim());
            Some((number, etag))
        })
        .collect()
}

/// RFC 7231's date (`Last-Modified`): `Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn http_date(ms: Millis) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day_ms = 86_400_000;
    let days = ms.div_euclid(day_ms);
    let seconds = ms.rem_euclid(day_ms) / 1000;
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// S3's `encoding-type=url`: every byte but unreserved ones and `/` percent-encoded.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_documents_read_their_keys_and_parts() {
        let (keys, quiet) = delete_request(
            "<Delete><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>x</VersionId></Object><Quiet>true</Quiet></Delete>",
        );
        assert_eq!(
            (keys, quiet),
            (vec!["a&b".to_string(), "c".to_string()], true)
        );
        let parts = complete_request(
            "<CompleteMultipartUpload><Part><ETag>&quot;e1&quot;</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part></CompleteMultipartUpload>",
        );
        assert_eq!(
            parts,
            Some(vec![(1, "\"e1\"".into()), (2, "\"e2\"".into())])
        );
        assert_eq!(
            complete_request("<Part><PartNumber>x</PartNumber></Part>"),
            None
        );
    }

    #[test]
    fn dates_and_escapes_are_s3s() {
        assert_eq!(
            http_date(1_445_412_480_000),
            "Wed, 21 Oct 2015 07:28:00 GMT"
        );
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(escape("a<b&\u{1}"), "a&lt;b&amp;&#x1;");
        assert_eq!(url_encode("a b/ü"), "a%20b/%C3%BC");
    }
}
