//! The canonical request and the string to sign: how SigV4 turns an HTTP request into
//! the exact text both sides sign, byte for byte as the AWS SDKs build it.

use super::*;

/// The canonical request of SigV4: method, URI, query, signed headers, their names, body hash.
pub(super) fn canonical_request(
    req: &Request<'_>,
    service: &str,
    signed_names: &[&str],
    signed_line: &str,
    payload_hash: &str,
) -> String {
    let mut headers = String::new();
    for name in signed_names {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(&name.to_ascii_lowercase());
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{}\n{}\n{}\n{headers}\n{signed_line}\n{payload_hash}",
        req.method,
        canonical_uri(req.path, service),
        canonical_query(req.query),
    )
}

/// The canonical URI. S3 signs the path once-encoded and as is; every other service signs the
/// normalized path, URI-encoded once more on top of the encoding it was sent with. That second
/// encoding is what the SDKs do (botocore quotes the already-quoted path), so `%20` on the wire
/// is `%2520` here.
pub(super) fn canonical_uri(path: &str, service: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    if service == "s3" {
        return uri_encode(&percent_decode(path), false);
    }
    uri_encode(normalize_path(path).as_bytes(), false)
}

/// Removes `.` and `..` segments and empty ones (`//`), keeping the leading and trailing slash,
/// the same way botocore's `remove_dot_segments` does.
pub(super) fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let leading = if path.starts_with('/') { "/" } else { "" };
    let trailing = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    let normalized = format!("{leading}{}{trailing}", segments.join("/"));
    if normalized.is_empty() {
        "/".to_owned()
    } else {
        normalized
    }
}

/// The canonical query: each name and value decoded then strictly re-encoded, sorted by name
/// then value.
pub(super) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&percent_decode(key), true),
                uri_encode(&percent_decode(value), true),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// URI-encodes per SigV4: unreserved characters (`A-Za-z0-9-_.~`) stay, `/` stays unless
/// `encode_slash`, every other byte becomes `%XX` in upper case.
pub fn uri_encode(bytes: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (byte == b'/' && !encode_slash)
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX`; a `%` not followed by two hex digits is kept as it is. `+` stays `+`: SigV4
/// clients encode spaces as `%20`.
pub(super) fn percent_decode(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(text).collect()
}

pub(super) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}
