//! AWS Signature Version 4, the way the AWS CLI, boto3 and the AWS SDKs authenticate every call.
//!
//! Sandstep speaks the Step Functions JSON 1.0 API, so its clients sign requests exactly as they
//! would for AWS. This module checks those signatures ([`verify`]), reads the caller's access key
//! without checking anything ([`access_key_id`], for the default mode that accepts any
//! credentials), and signs requests itself ([`sign`], for tests and the `sandstep module upload`
//! client).
//!
//! Everything here is pure: the caller extracts the request's parts, passes the current time and
//! a lookup from access key to secret, and renders an [`Error`] with [`Error::aws_error`].
//!
//! ```
//! use sandstep::api::sigv4::{sign, verify, Request, Scope};
//!
//! let now = 1_705_314_600; // 2024-01-15T10:30:00Z
//! let mut headers = vec![
//!     ("Host".to_owned(), "127.0.0.1:8080".to_owned()),
//!     ("X-Amz-Target".to_owned(), "AWSStepFunctions.ListStateMachines".to_owned()),
//! ];
//! let req = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
//! let added = sign(&req, "AKID", "secret", "us-east-1", "states", now);
//! headers.extend(added);
//!
//! let req = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
//! let scope = Scope { region: "us-east-1", service: "states" };
//! let secret = |key: &str| (key == "AKID").then(|| "secret".to_owned());
//! let caller = verify(&req, now, scope, secret).unwrap();
//! assert_eq!((caller.access_key_id.as_str(), caller.service.as_str()), ("AKID", "states"));
//!
//! // Signed for another region: refused as AWS refuses it.
//! let scope = Scope { region: "eu-west-1", service: "states" };
//! let refused = verify(&req, now, scope, secret).unwrap_err();
//! assert_eq!(
//!     refused.aws_error(),
//!     ("InvalidSignatureException", "Credential should be scoped to a valid region. ".to_owned())
//! );
//! ```
//!
//! Only header authentication (`Authorization: AWS4-HMAC-SHA256 ...`) is accepted: the SDKs use
//! it for every Step Functions call, and presigned URLs are refused with [`Error::Malformed`].
//! A session token (`X-Amz-Security-Token`) is signed like any other header but not checked.

use crate::store::data::hex;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use canonical::uri_encode;
use canonical::*;
use dates::*;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm SigV4 defines for header authentication.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every credential scope.
const TERMINATOR: &str = "aws4_request";

/// How far the signing time may be from the server's clock, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The payload hash a client sends when it chose not to hash the body.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Headers [`sign`] leaves out, as botocore does: they are hop-by-hop or rewritten by proxies
/// and HTTP clients, so signing them would break a request that is otherwise intact.
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "date",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amz-date",
    "x-amzn-trace-id",
];

/// What the caller extracted from the HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path exactly as sent on the request line (still percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The raw query string without the `?`, possibly empty.
    pub query: &'a str,
    /// Every header, names in any case; a name may repeat.
    pub headers: &'a [(String, String)],
    /// The whole body.
    pub body: &'a [u8],
}

/// The credential scope a request must be signed for: the server's region and the signing
/// name of the service the request addresses (`states` for Step Functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The server's region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, e.g. `states`.
    pub service: &'a str,
}

/// A caller whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// The region of the credential scope, e.g. `us-east-1`.
    pub region: String,
    /// The service of the credential scope, `states` for Step Functions clients.
    pub service: String,
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request has no `Authorization` header.
    #[error("the request is not signed")]
    Missing,
    /// The `Authorization` header, the date or a signed header cannot be used; the text says
    /// which, in AWS's words where AWS has some.
    #[error("{0}")]
    Malformed(String),
    /// No secret is known for this access key id.
    #[error("unknown access key id {0:?}")]
    UnknownKey(String),
    /// The request was signed more than 15 minutes away from the server's clock.
    #[error("the request was signed {skew_seconds} s from the server's clock, beyond 15 minutes")]
    Expired {
        /// Signing time minus `now`: negative when the request is stale, positive when the
        /// client's clock is ahead.
        skew_seconds: i64,
        /// The server's time, seconds since the Unix epoch; kept so that the AWS message can
        /// name both instants as AWS does.
        now: i64,
    },
    /// The signature (or the body's declared hash) differs from the one computed here.
    #[error("the signature does not match")]
    Mismatch,
    /// The `Authorization` header names another scheme than `AWS4-HMAC-SHA256`.
    #[error("unsupported authorization algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The credential scope names another region or service than the request addresses.
    #[error("the credential scope names another region or service")]
    WrongScope {
        /// Whether the scope's region is not the server's.
        region: bool,
        /// The service the request addresses, when the scope names another one.
        service: Option<String>,
    },
}

impl Error {
    /// The `__type` and `message` AWS's JSON services answer with; all of them use HTTP 400.
    ///
    /// The names and messages are the ones AWS sends (seen in SDK bug reports): an unsigned
    /// call to a JSON 1.0 service gets `MissingAuthenticationTokenException` "Request is missing
    /// Authentication Token", an unknown key `UnrecognizedClientException`, a bad signature,
    /// clock or credential scope `InvalidSignatureException`, a malformed header
    /// `IncompleteSignatureException`. A scope wrong in both region and service names both,
    /// in that order, each sentence ending in a space, as AWS's JSON services do.
    pub fn aws_error(&self) -> (&'static str, String) {
        match self {
            Self::Missing => (
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token".to_owned(),
            ),
            Self::Malformed(message) => ("IncompleteSignatureException", message.clone()),
            Self::UnknownKey(_) => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            Self::Expired { skew_seconds, now } => {
                let signed = format_amz_date(now.saturating_add(*skew_seconds));
                let message = if *skew_seconds < 0 {
                    format!(
                        "Signature expired: {signed} is now earlier than {} ({} - 15 min.)",
                        format_amz_date(now.saturating_sub(MAX_SKEW_SECONDS)),
                        format_amz_date(*now),
                    )
                } else {
                    format!(
                        "Signature not yet current: {signed} is still later than {} ({} + 15 min.)",
                        format_amz_date(now.saturating_add(MAX_SKEW_SECONDS)),
                        format_amz_date(*now),
                    )
                };
                ("InvalidSignatureException", message)
            }
            Self::Mismatch => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details."
                    .to_owned(),
            ),
            Self::UnsupportedAlgorithm(algorithm) => (
                "IncompleteSignatureException",
                format!("Unsupported AWS 'algorithm': '{algorithm}'. Use '{ALGORITHM}'."),
            ),
            Self::WrongScope { region, service } => {
                let mut message = String::new();
                if *region {
                    message.push_str("Credential should be scoped to a valid region. ");
                }
                if let Some(service) = service {
                    message.push_str(&format!(
                        "Credential should be scoped to correct service: '{service}'. "
                    ));
                }
                ("InvalidSignatureException", message)
            }
        }
    }
}

/// Verifies a header-signed request.
///
/// `scope` is what the credential scope must name: the server's region and the signing name of
/// the service the request addresses. `secret_for` maps an access key id to its secret (`None`:
/// unknown key). `now` is seconds since the Unix epoch. The signature is compared in constant time; a declared body hash
/// (`X-Amz-Content-Sha256`) must match the body. `UNSIGNED-PAYLOAD` (the body left unhashed) is
/// accepted only on PUT uploads, and `X-Amz-Target`, when sent, must be signed: otherwise a
/// captured request could be replayed with another body or as another action.
///
/// # Errors
///
/// [`Error::Missing`] without an `Authorization` header, [`Error::UnsupportedAlgorithm`] for
/// another scheme, [`Error::Malformed`] when the header, the date or a signed header is unusable
/// (or `host` is not signed), [`Error::UnknownKey`], [`Error::Expired`] beyond 15 minutes of
/// skew, [`Error::WrongScope`] when the credential is scoped to another region or service (checked
/// before the key is looked up, so it answers the same for any key), and [`Error::Mismatch`] when
/// the signature or the body hash differs.
pub fn verify(
    req: &Request<'_>,
    now: i64,
    scope: Scope<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
) -> Result<Verified, Error> {
    verify_as(req, now, scope, secret_for, false)
}

/// [`verify`] for a request whose body streams past it (S3 uploads): `req.body` is not
/// read. A declared SHA-256 is signed as usual and the caller checks the body against it
/// as it streams; on `PUT`, S3's streaming forms are accepted too
/// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`,
/// `aws-chunked` bodies), their chunk signatures unchecked, like `UNSIGNED-PAYLOAD`.
///
/// # Errors
/// As [`verify`].
pub fn verify_streamed(
    req: &Request<'_>,
    now: i64,
    scope: Scope<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
) -> Result<Verified, Error> {
    verify_as(req, now, scope, secret_for, true)
}

/// The streaming payload forms S3's SDKs sign with.
const STREAMING_PAYLOADS: [&str; 4] = [
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
];

fn verify_as(
    req: &Request<'_>,
    now: i64,
    scope: Scope<'_>,
    secret_for: impl Fn(&str) -> Option<String>,
    streamed: bool,
) -> Result<Verified, Error> {
    let Some(header) = header_value(req.headers, "authorization") else {
        return Err(if is_presigned(req.query) {
            Error::Malformed(
                "Presigned (query string) authentication is not supported; \
                 sign the Authorization header."
                    .to_owned(),
            )
        } else {
            Error::Missing
        });
    };
    let auth = parse_authorization(header)?;
    let signed_names: Vec<&str> = auth.signed_headers.split(';').collect();
    if signed_names.iter().any(|name| name.is_empty()) {
        return Err(Error::Malformed(format!(
            "SignedHeaders '{}' has an empty header name.",
            auth.signed_headers
        )));
    }
    if !signed_names
        .iter()
        .any(|name| name.eq_ignore_ascii_case("host"))
    {
        return Err(Error::Malformed(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    // The target names the action: unsigned, a captured request could be replayed as
    // another action within the skew window.
    if header_value(req.headers, "x-amz-target").is_some()
        && !signed_names
            .iter()
            .any(|name| name.eq_ignore_ascii_case("x-amz-target"))
    {
        return Err(Error::Malformed(
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    let (amz_date, signed_at) = request_date(req.headers)?;
    if !amz_date.starts_with(&auth.date) {
        return Err(Error::Malformed(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}'.",
            auth.date,
            amz_date.get(..8).unwrap_or_default(),
        )));
    }
    // A signature for another region or service is valid there, not here: without this check
    // a request captured on its way to one endpoint could be replayed against another.
    let wrong_region = auth.region != scope.region;
    let wrong_service = auth.service != scope.service;
    if wrong_region || wrong_service {
        return Err(Error::WrongScope {
            region: wrong_region,
            service: wrong_service.then(|| scope.service.to_owned()),
        });
    }
    let secret = secret_for(&auth.access_key_id)
        .ok_or_else(|| Error::UnknownKey(auth.access_key_id.clone()))?;
    let skew_seconds = signed_at.saturating_sub(now);
    if skew_seconds.saturating_abs() > MAX_SKEW_SECONDS {
        return Err(Error::Expired { skew_seconds, now });
    }
    if let Some(missing) = signed_names
        .iter()
        .find(|name| header_value(req.headers, name).is_none())
    {
        return Err(Error::Malformed(format!(
            "Signed header '{missing}' is not present in the request."
        )));
    }
    let payload_hash = match header_value(req.headers, "x-amz-content-sha256") {
        None => hex(&Sha256::digest(req.body)),
        // Only uploads (PUT, large bodies) may leave the body unhashed: an API call's body
        // is its meaning, and unsigned it could be swapped under a captured signature.
        Some(UNSIGNED_PAYLOAD) if req.method.eq_ignore_ascii_case("PUT") => {
            UNSIGNED_PAYLOAD.to_owned()
        }
        Some(UNSIGNED_PAYLOAD) => {
            return Err(Error::Malformed(
                "UNSIGNED-PAYLOAD is accepted only for uploads (PUT); sign the body's SHA-256."
                    .to_owned(),
            ))
        }
        Some(form)
            if streamed
                && req.method.eq_ignore_ascii_case("PUT")
                && STREAMING_PAYLOADS.contains(&form) =>
        {
            form.to_owned()
        }
        Some(declared) => {
            if declared.len() != 64 || !declared.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Malformed(format!(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 in hex, \
                     not '{declared}'."
                )));
            }
            // The header is what gets signed, so a body swapped under an intact signature is
            // only caught by checking the body against it.
            if !streamed && !declared.eq_ignore_ascii_case(&hex(&Sha256::digest(req.body))) {
                return Err(Error::Mismatch);
            }
            declared.to_owned()
        }
    };
    let provided = unhex(&auth.signature).ok_or_else(|| {
        Error::Malformed(format!(
            "Signature '{}' is not 64 hexadecimal digits.",
            auth.signature
        ))
    })?;

    let canonical = canonical_request(
        req,
        &auth.service,
        &signed_names,
        &auth.signed_headers,
        &payload_hash,
    );
    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        auth.date, auth.region, auth.service
    );
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let key =
        signing_key(&secret, &auth.date, &auth.region, &auth.service).ok_or(Error::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(&key).map_err(|_| Error::Mismatch)?;
    mac.update(to_sign.as_bytes());
    // `verify_slice` compares in constant time, so timing does not leak how much matched.
    mac.verify_slice(&provided).map_err(|_| Error::Mismatch)?;

    Ok(Verified {
        access_key_id: auth.access_key_id,
        region: auth.region,
        service: auth.service,
    })
}

/// Parses only the access key id from the `Authorization` header, checking nothing else.
///
/// This serves the default, unauthenticated mode, which accepts any credentials but still
/// tells callers apart by key.
pub fn access_key_id(headers: &[(String, String)]) -> Option<String> {
    let header = header_value(headers, "authorization")?;
    parse_authorization(header)
        .ok()
        .map(|auth| auth.access_key_id)
}

/// Signs a request: returns the headers to add to it.
///
/// They are `X-Amz-Date`, `X-Amz-Content-Sha256` when the service is `s3` (which requires it;
/// any other caller asks for it by putting the header in `req.headers`, and it is then signed as
/// given) and `Authorization`. Every header of `req` is signed except hop-by-hop ones,
/// `User-Agent`, `Date`, `X-Amz-Date` and `Authorization`, as botocore does; `req.headers` must
/// hold `Host`, which [`verify`] requires to be signed. `now` is seconds since the Unix epoch.
pub fn sign(
    req: &Request<'_>,
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    now: i64,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(now);
    let date = amz_date.get(..8).unwrap_or_default();
    let payload_hash = header_value(req.headers, "x-amz-content-sha256")
        .map(str::to_owned)
        .unwrap_or_else(|| hex(&Sha256::digest(req.body)));

    let mut added = vec![("X-Amz-Date".to_owned(), amz_date.clone())];
    if service == "s3" && header_value(req.headers, "x-amz-content-sha256").is_none() {
        added.push(("X-Amz-Content-Sha256".to_owned(), payload_hash.clone()));
    }
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(name, _)| !UNSIGNED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    headers.extend(added.iter().cloned());

    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let signed_line = names.join(";");
    let signed_names: Vec<&str> = names.iter().map(String::as_str).collect();

    let with_added = Request {
        headers: &headers,
        ..*req
    };
    let canonical = canonical_request(
        &with_added,
        service,
        &signed_names,
        &signed_line,
        &payload_hash,
    );
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    // HMAC takes keys of any length, so this is always `Some`; without a key there is nothing
    // worth sending, and an unsigned request is refused cleanly by the server.
    let Some(signature) = signing_key(secret, date, region, service)
        .and_then(|key| hmac_sha256(&key, to_sign.as_bytes()))
    else {
        return Vec::new();
    };
    added.push((
        "Authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed_line}, \
             Signature={}",
            hex(&signature)
        ),
    ));
    added
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug)]
struct Authorization {
    access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    date: String,
    region: String,
    service: String,
    /// As sent: it is part of the canonical request.
    signed_headers: String,
    signature: String,
}

fn parse_authorization(header: &str) -> Result<Authorization, Error> {
    let header = header.trim();
    let (algorithm, params) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(Error::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = param.split_once('=') else {
            return Err(Error::Malformed(format!(
                "'{param}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{header}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            // Unknown parameters are ignored, as AWS does.
            _ => continue,
        };
        if slot.replace(value.trim()).is_some() {
            return Err(Error::Malformed(format!(
                "Authorization header has the '{}' parameter twice.",
                key.trim()
            )));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        let missing: Vec<String> = [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
        ]
        .iter()
        .filter(|(_, absent)| *absent)
        .map(|(name, _)| format!("Authorization header requires '{name}' parameter."))
        .collect();
        return Err(Error::Malformed(missing.join(" ")));
    };

    let mut scope = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(Error::Malformed(format!(
            "Credential '{credential}' should be <access key>/<YYYYMMDD>/<region>/<service>/\
             {TERMINATOR}."
        )));
    };
    if terminator != TERMINATOR {
        return Err(Error::Malformed(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not \
             '{terminator}'."
        )));
    }
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(Error::Malformed(format!(
            "Credential '{credential}' has an empty access key, region or service."
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Malformed(format!(
            "Credential should be scoped to a valid date (YYYYMMDD), not '{date}'."
        )));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}

/// Presigned URLs carry the signature in the query, so they must not be answered "missing".
fn is_presigned(query: &str) -> bool {
    query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        key == "X-Amz-Signature" || key == "X-Amz-Algorithm"
    })
}

/// The signing time, from `X-Amz-Date` or else `Date`, as `YYYYMMDDTHHMMSSZ` and as epoch
/// seconds.
fn request_date(headers: &[(String, String)]) -> Result<(String, i64), Error> {
    if let Some(value) = header_value(headers, "x-amz-date") {
        let value = value.trim();
        let seconds = parse_amz_date(value).ok_or_else(|| {
            Error::Malformed(format!(
                "X-Amz-Date '{value}' is not a date of the form YYYYMMDDTHHMMSSZ."
            ))
        })?;
        return Ok((value.to_owned(), seconds));
    }
    if let Some(value) = header_value(headers, "date") {
        let value = value.trim();
        let seconds = parse_http_date(value)
            .or_else(|| parse_amz_date(value))
            .ok_or_else(|| {
                Error::Malformed(format!(
                    "Date '{value}' is not an HTTP date (e.g. 'Sun, 30 Aug 2015 12:36:00 GMT')."
                ))
            })?;
        return Ok((format_amz_date(seconds), seconds));
    }
    Err(Error::Malformed(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            .to_owned(),
    ))
}

/// The key chain `AWS4`+secret → date → region → service → `aws4_request`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Option<[u8; 32]> {
    let key = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes())?;
    let key = hmac_sha256(&key, region.as_bytes())?;
    let key = hmac_sha256(&key, service.as_bytes())?;
    hmac_sha256(&key, TERMINATOR.as_bytes())
}

/// HMAC-SHA256. `None` cannot happen (HMAC accepts any key length) but is kept rather than a
/// panic so that a surprise fails closed.
fn hmac_sha256(key: &[u8], data: &[u8]) -> Option<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().into())
}

/// The value of a header, names compared without case; the first if it repeats.
fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes a 64-digit hex signature.
fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let (high, low) = match pair {
            [high, low] => (hex_digit(*high)?, hex_digit(*low)?),
            _ => return None,
        };
        *slot = (high << 4) | low;
    }
    Some(out)
}

mod canonical;
mod dates;
#[cfg(test)]
mod tests;
