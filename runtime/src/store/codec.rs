//! How records are stored: JSON, so that a store can be read with ordinary tools and a
//! record written by an older version still decodes when fields are added.

use super::{Error, Result};
use serde::{Deserialize, Serialize};

/// Decodes a stored record; a record that does not decode is [`Error::Corrupt`].
///
/// # Errors
/// [`Error::Corrupt`] naming what did not fit.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

/// Encodes a record for storing.
///
/// # Errors
/// [`Error::Corrupt`] for values JSON cannot hold (maps with non-string keys).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_corruption() {
        let bytes = encode(&vec![1, 2]).unwrap();
        assert_eq!(decode::<Vec<i32>>(&bytes).unwrap(), [1, 2]);
        assert!(matches!(decode::<Vec<i32>>(b"{"), Err(Error::Corrupt(_))));
    }
}
