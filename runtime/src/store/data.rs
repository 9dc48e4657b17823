//! Helpers the tenant data tables share: per-tenant sequences and hex (blobs live in
//! `blobs.rs`, kv items in the DynamoDB tables, `kv.rs`; queues in `queues.rs`; topics in
//! `topics.rs`).

use super::{Error, Result, Store};

impl Store {
    /// The next number of a per-tenant sequence (queue messages).
    pub(super) fn next_sequence(&self, key: &[u8]) -> Result<u64> {
        loop {
            let current = self.backend.get(key)?;
            let n = match &current {
                Some(b) => b
                    .as_slice()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| Error::Corrupt("sequence".into()))?,
                None => 0,
            } + 1;
            if self.backend.compare_and_swap(
                key,
                current.as_deref(),
                Some(n.to_be_bytes().to_vec()),
            )? {
                return Ok(n);
            }
        }
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The text whose UTF-8 bytes [`hex`] wrote as `digits`; `None` for anything else (an odd
/// length, a character that is no hex digit, bytes that are not UTF-8).
pub fn unhex_text(digits: &str) -> Option<String> {
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_text_comes_back_and_nothing_else_does() {
        assert_eq!(
            unhex_text(&hex("tenant é".as_bytes())).as_deref(),
            Some("tenant é")
        );
        assert_eq!(unhex_text(""), Some(String::new()));
        assert_eq!(unhex_text("abc"), None, "odd length");
        assert_eq!(unhex_text("zz"), None, "not hex");
        assert_eq!(unhex_text("ff"), None, "not UTF-8");
    }
}
