//! Secrets at rest: a connection's password, API key or client secret is sealed with the
//! server's key before it reaches the store, so a copy of the data dir alone does not
//! reveal it. XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a random 192-bit
//! nonce per seal needs no counter kept anywhere, and the associated data (the tenant and
//! the connection's name) binds a sealed secret to its row, so one copied into another
//! tenant's or connection's row does not open.
//!
//! The key is 32 bytes, given as 64 hex characters in the environment
//! (`SANDSTEP_SECRET_KEY`) or in a file the configuration names (`secret_key_file`), kept
//! apart from the data dir. A server without a key refuses to store secrets.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

/// The environment variable that holds the key.
pub const KEY_ENV: &str = "SANDSTEP_SECRET_KEY";

/// The server's key for secrets at rest.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Why a sealed secret does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not what [`SecretKey::seal`] writes.
    #[error("a sealed secret is malformed")]
    Malformed,
    /// Sealed with another key, for another row, or altered.
    #[error("a sealed secret does not open with this server's key (another key, or altered)")]
    WrongKey,
}

impl SecretKey {
    /// A key from 64 hex characters (surrounding whitespace ignored).
    ///
    /// # Errors
    /// What is wrong with the text (never the text itself).
    pub fn from_hex(text: &str) -> Result<SecretKey, String> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(format!(
                "the secret key must be 64 hex characters (32 bytes), not {}",
                text.len()
            ));
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            let pair = text
                .get(2 * i..2 * i + 2)
                .ok_or("the secret key is not hex")?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| "the secret key is not hex")?;
        }
        Ok(SecretKey(key))
    }

    /// The key the server runs with: `SANDSTEP_SECRET_KEY`, else the file `file`, else
    /// none.
    ///
    /// # Errors
    /// A key that does not parse, or a file that cannot be read.
    pub fn configured(file: Option<&std::path::Path>) -> Result<Option<SecretKey>, String> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return SecretKey::from_hex(&text)
                .map(Some)
                .map_err(|e| format!("{KEY_ENV}: {e}"));
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("secret_key_file {}: {e}", path.display()))?;
        SecretKey::from_hex(&text)
            .map(Some)
            .map_err(|e| format!("secret_key_file {}: {e}", path.display()))
    }

    /// Seals `plain` for the row `aad` names: base64 of nonce and ciphertext.
    ///
    /// # Errors
    /// When the system has no randomness for a nonce.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| format!("no randomness for a nonce: {e}"))?;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| "sealing failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            out,
        ))
    }

    /// Opens what [`seal`](Self::seal) made for the same `aad`.
    ///
    /// # Errors
    /// [`OpenError`].
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < 24 + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, text) = bytes.split_at(24);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: text, aad })
            .map_err(|_| OpenError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_row() {
        let key = SecretKey::from_hex(KEY).unwrap();
        let sealed = key.seal(b"t/stripe", b"sk_live_123").unwrap();
        assert!(!sealed.contains("sk_live_123"));
        assert_ne!(
            sealed,
            key.seal(b"t/stripe", b"sk_live_123").unwrap(),
            "a fresh nonce"
        );
        assert_eq!(key.open(b"t/stripe", &sealed).unwrap(), b"sk_live_123");
        assert_eq!(key.open(b"u/stripe", &sealed), Err(OpenError::WrongKey));
        let other = SecretKey::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(other.open(b"t/stripe", &sealed), Err(OpenError::WrongKey));
        assert_eq!(key.open(b"t/stripe", "!!"), Err(OpenError::Malformed));
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }

    #[test]
    fn keys_are_64_hex_characters() {
        assert!(SecretKey::from_hex(&format!(" {KEY}\n")).is_ok());
        assert!(SecretKey::from_hex("abcd").unwrap_err().contains("64 hex"));
        assert!(SecretKey::from_hex(&"zz".repeat(32))
            .unwrap_err()
            .contains("not hex"));
    }
}
