//! HMAC signatures of webhook bodies, in the styles webhook senders use. Each style says
//! which header carries the signature, what was signed, and whether a timestamp bounds
//! how old a request may be:
//!
//! - `github`: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
//! - `stripe`: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` over `<t>.<body>`, with a
//!   tolerance on `t`.
//! - `slack`: `X-Slack-Signature: v0=<hex>` over `v0:<ts>:<body>`, `ts` from
//!   `X-Slack-Request-Timestamp`, with a tolerance.
//! - `sha256`: a header of the route's choosing (`X-Signature-256` by default) carrying
//!   `sha256=<hex>` or the bare hex over the raw body; with a `timestampHeader`, over
//!   `<ts>.<body>` and with a tolerance.
//!
//! Signatures are compared in constant time.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The default tolerance on a signed timestamp (Stripe's and Slack's 5 minutes).
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// How a sender signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// GitHub's `X-Hub-Signature-256`.
    Github,
    /// Stripe's `Stripe-Signature`.
    Stripe,
    /// Slack's `X-Slack-Signature` with its timestamp header.
    Slack,
    /// `sha256=<hex>` in a header of the route's choosing.
    Sha256,
}

/// A route's signature check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// The sender's style.
    pub style: Style,
    /// The shared secret.
    pub secret: String,
    /// `sha256` style: the header carrying the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `sha256` style: the header carrying the signed timestamp (Unix seconds), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// How far a signed timestamp may be from now, in seconds.
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: u64,
}

fn default_tolerance() -> u64 {
    DEFAULT_TOLERANCE_SECONDS
}

/// Why a request's signature is refused (all answered `401`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The signature header is missing or unreadable.
    #[error("the request has no readable {0} header")]
    Missing(String),
    /// The signed timestamp is too old or in the future.
    #[error("the signed timestamp is more than {0} seconds from now")]
    Stale(u64),
    /// The signature does not match the body.
    #[error("the signature does not match the request body")]
    Mismatch,
}

impl Check {
    /// The header a request must carry for this check.
    pub fn signature_header(&self) -> &str {
        match self.style {
            Style::Github => "x-hub-signature-256",
            Style::Stripe => "stripe-signature",
            Style::Slack => "x-slack-signature",
            Style::Sha256 => self.header.as_deref().unwrap_or("x-signature-256"),
        }
    }

    /// Verifies a request: `header` looks a header up by name (any case), `now` is Unix
    /// seconds.
    ///
    /// # Errors
    /// [`Refused`] saying why.
    pub fn verify<'a>(
        &self,
        header: impl Fn(&str) -> Option<&'a str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refused> {
        let name = self.signature_header();
        let value = header(name).ok_or_else(|| Refused::Missing(name.to_string()))?;
        let fresh = |ts: &str| -> Result<(), Refused> {
            let ts: i64 = ts
                .trim()
                .parse()
                .map_err(|_| Refused::Missing(name.into()))?;
            match now.abs_diff(ts) <= self.tolerance_seconds {
                true => Ok(()),
                false => Err(Refused::Stale(self.tolerance_seconds)),
            }
        };
        match self.style {
            Style::Github => self.expect(value.strip_prefix("sha256="), &[body]),
            Style::Stripe => {
                let mut ts = None;
                let mut signatures = Vec::new();
                for part in value.split(',') {
                    match part.trim().split_once('=') {
                        Some(("t", t)) => ts = Some(t),
                        Some(("v1", s)) => signatures.push(s),
                        _ => {}
                    }
                }
                let ts = ts.ok_or_else(|| Refused::Missing(name.into()))?;
                let signed = [ts.as_bytes(), b".", body];
                let matched = signatures
                    .iter()
                    .any(|s| self.expect(Some(s), &signed).is_ok());
                match matched {
                    true => fresh(ts),
                    false => Err(Refused::Mismatch),
                }
            }
            Style::Slack => {
                let ts_name = "x-slack-request-timestamp";
                let ts = header(ts_name).ok_or_else(|| Refused::Missing(ts_name.into()))?;
                self.expect(
                    value.strip_prefix("v0="),
                    &[b"v0:", ts.as_bytes(), b":", body],
                )?;
                fresh(ts)
            }
            Style::Sha256 => {
                let hex = value.strip_prefix("sha256=").unwrap_or(value);
                match &self.timestamp_header {
                    None => self.expect(Some(hex), &[body]),
                    Some(ts_name) => {
                        let ts =
                            header(ts_name).ok_or_else(|| Refused::Missing(ts_name.clone()))?;
                        self.expect(Some(hex), &[ts.as_bytes(), b".", body])?;
                        fresh(ts)
                    }
                }
            }
        }
    }

    /// Whether `hex` is the signature of the concatenated `parts`.
    fn expect(&self, hex: Option<&str>, parts: &[&[u8]]) -> Result<(), Refused> {
        let given = hex
            .and_then(decode_hex)
            .ok_or_else(|| Refused::Missing(self.signature_header().to_string()))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_bytes())
            .map_err(|_| Refused::Mismatch)?;
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(&given).map_err(|_| Refused::Mismatch)
    }
}

/// The HMAC-SHA256 of `parts` under `secret`, in lowercase hex: what a sender puts in its
/// header (tests and the console's "send test request" sign with it). `None` never
/// happens for HMAC (any key length is accepted), but the API is fallible.
pub fn sign(secret: &str, parts: &[&[u8]]) -> Option<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(crate::store::data::hex(&mac.finalize().into_bytes()))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn check(style: Style) -> Check {
        Check {
            style,
            secret: "It's a Secret to Everybody".into(),
            header: None,
            timestamp_header: None,
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
        }
    }

    fn verify(c: &Check, headers: &[(&str, String)], body: &[u8], now: i64) -> Result<(), Refused> {
        c.verify(
            |name| {
                headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            },
            body,
            now,
        )
    }

    #[test]
    fn github_signs_the_body() {
        // GitHub's documented example: this secret and body give this signature.
        let c = check(Style::Github);
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify(
                &c,
                &[("X-Hub-Signature-256", good.into())],
                b"Hello, World!",
                NOW
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &c,
                &[("X-Hub-Signature-256", good.into())],
                b"Hello, World?",
                NOW
            ),
            Err(Refused::Mismatch)
        );
        assert!(matches!(
            verify(&c, &[], b"x", NOW),
            Err(Refused::Missing(_))
        ));
        assert!(matches!(
            verify(&c, &[("X-Hub-Signature-256", "sha1=abc".into())], b"x", NOW),
            Err(Refused::Missing(_))
        ));
    }

    #[test]
    fn stripe_signs_the_timestamp_and_body_within_a_tolerance() {
        let c = check(Style::Stripe);
        let body = br#"{"id":"evt_1"}"#;
        let t = NOW.to_string();
        let sig = sign(&c.secret, &[t.as_bytes(), b".", body]).unwrap();
        let header = format!("t={t},v1=deadbeef,v1={sig}");
        assert_eq!(
            verify(&c, &[("Stripe-Signature", header.clone())], body, NOW + 299),
            Ok(())
        );
        assert_eq!(
            verify(&c, &[("Stripe-Signature", header.clone())], body, NOW + 301),
            Err(Refused::Stale(300))
        );
        assert_eq!(
            verify(&c, &[("Stripe-Signature", header)], b"{}", NOW),
            Err(Refused::Mismatch)
        );
    }

    #[test]
    fn slack_signs_version_timestamp_and_body() {
        let c = check(Style::Slack);
        let body = b"token=x&team_id=T1";
        let ts = NOW.to_string();
        let sig = sign(&c.secret, &[b"v0:", ts.as_bytes(), b":", body]).unwrap();
        let headers = [
            ("X-Slack-Signature", format!("v0={sig}")),
            ("X-Slack-Request-Timestamp", ts),
        ];
        assert_eq!(verify(&c, &headers, body, NOW), Ok(()));
        assert_eq!(
            verify(&c, &headers, body, NOW - 1000),
            Err(Refused::Stale(300))
        );
        assert!(matches!(
            verify(&c, &headers[..1], body, NOW),
            Err(Refused::Missing(_))
        ));
    }

    #[test]
    fn a_plain_sha256_header_takes_a_prefix_or_bare_hex_and_an_optional_timestamp() {
        let mut c = check(Style::Sha256);
        c.header = Some("X-Sig".into());
        let sig = sign(&c.secret, &[b"body"]).unwrap();
        assert_eq!(verify(&c, &[("x-sig", sig.clone())], b"body", NOW), Ok(()));
        assert_eq!(
            verify(&c, &[("x-sig", format!("sha256={sig}"))], b"body", NOW),
            Ok(())
        );
        c.timestamp_header = Some("X-Ts".into());
        assert_eq!(
            verify(&c, &[("x-sig", sig)], b"body", NOW),
            Err(Refused::Missing("X-Ts".into()))
        );
        let ts = NOW.to_string();
        let stamped = sign(&c.secret, &[ts.as_bytes(), b".", b"body"]).unwrap();
        assert_eq!(
            verify(&c, &[("x-sig", stamped), ("x-ts", ts)], b"body", NOW),
            Ok(())
        );
    }
}
