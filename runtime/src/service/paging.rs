//! Pages of a listing and the tokens that continue them. A token is the hex of a position
//! the listing returned (a name, a `<millis>|<name>` pair, an event id). It is only ever
//! used as a scan start inside the caller's own prefix, so a forged one reveals nothing.

use super::{Error, Result};

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next_token: Option<String>,
}

/// The most items a page holds when the caller asks for none in particular.
pub const DEFAULT_LIMIT: usize = 100;

/// The token for a position.
pub fn encode_token(position: &str) -> String {
    crate::store::data::hex(position.as_bytes())
}

/// The position a token made by [`encode_token`] names.
///
/// # Errors
/// [`Error::InvalidToken`] when it is not such a token.
pub fn decode_token(token: &str) -> Result<String> {
    let invalid = || Error::InvalidToken(token.to_string());
    if !token.len().is_multiple_of(2) || token.len() > 2048 {
        return Err(invalid());
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_junk() {
        assert_eq!(decode_token(&encode_token("run-7")).unwrap(), "run-7");
        assert!(decode_token("zz").is_err());
        assert_eq!(
            decode_token("abc").unwrap_err().to_string(),
            "Invalid Token: 'abc'"
        );
    }
}
