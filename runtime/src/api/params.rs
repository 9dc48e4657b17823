//! Reading request fields the way the AWS API validates them.

use super::error::{Error, Result};
use serde_json::{Map, Value};

/// A request body: a JSON object.
#[derive(Debug)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Parses a body; empty means `{}`.
    ///
    /// # Errors
    /// `ValidationException` when the body is not a JSON object.
    pub fn parse(body: &[u8]) -> Result<Params> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(Map::new()));
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => Ok(Params(m)),
            _ => Err(Error::Validation(
                "The request body is not a JSON object".into(),
            )),
        }
    }

    /// An optional string field.
    ///
    /// # Errors
    /// `ValidationException` when present but not a string.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::Validation(format!("1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must be a string"))),
        }
    }

    /// A required string field.
    ///
    /// # Errors
    /// `ValidationException` (AWS's wording) when missing or not a string.
    pub fn str(&self, name: &str) -> Result<&str> {
        self.opt_str(name)?.ok_or_else(|| {
            Error::Validation(format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// An optional boolean field.
    ///
    /// # Errors
    /// `ValidationException` when present but not a boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::Validation(format!(
                "Value at '{name}' must be a boolean"
            ))),
        }
    }

    /// `maxResults` (1–1000, 0 or absent meaning the default of 100).
    ///
    /// # Errors
    /// `ValidationException` when out of range.
    pub fn max_results(&self) -> Result<usize> {
        match self.0.get("maxResults") {
            None | Some(Value::Null) => Ok(100),
            Some(v) => match v.as_u64() {
                Some(0) => Ok(100),
                Some(n) if n <= 1000 => Ok(n as usize),
                _ => Err(Error::Validation(
                    "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000".into(),
                )),
            },
        }
    }

    /// A field as raw JSON.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }
}

/// AWS's wording for request fields that break the model's constraints: `1 validation error
/// detected: Value '<value>' at '<field>' failed to satisfy constraint: Member must ...`, with
/// the count and `; ` between several. A sensitive field's value (a definition) is not echoed,
/// as AWS does not echo it.
///
/// # Errors
/// `ValidationException` when `failed` is not empty.
pub fn constraints(field: &str, value: &str, sensitive: bool, failed: &[String]) -> Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let subject = if sensitive {
        format!("Value at '{field}'")
    } else {
        format!("Value '{value}' at '{field}'")
    };
    let listed: Vec<String> = failed
        .iter()
        .map(|c| format!("{subject} failed to satisfy constraint: Member must {c}"))
        .collect();
    let count = match failed.len() {
        1 => "1 validation error".to_string(),
        n => format!("{n} validation errors"),
    };
    Err(Error::Validation(format!(
        "{count} detected: {}",
        listed.join("; ")
    )))
}

/// The constraint a string breaks when it is longer than `max` characters, if it does.
pub fn longer_than(value: &str, max: usize) -> Option<String> {
    // Bytes bound characters from above: most values need no count.
    (value.len() > max && value.chars().count() > max)
        .then(|| format!("have length less than or equal to {max}"))
}

/// Pagination tokens: the hex of the last key returned (only ever used as a scan start
/// inside the caller's own prefix, so a forged token reveals nothing).
pub fn encode_token(key: &str) -> String {
    crate::store::data::hex(key.as_bytes())
}

/// Reads a token made by [`encode_token`].
///
/// # Errors
/// `InvalidToken` when it is not one.
pub fn decode_token(token: &str) -> Result<String> {
    let invalid = || Error::InvalidToken(format!("Invalid Token: '{token}'"));
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

/// Epoch seconds as the JSON protocol sends timestamps.
pub fn epoch(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_junk() {
        assert_eq!(decode_token(&encode_token("run-7")).unwrap(), "run-7");
        assert!(decode_token("zz").is_err());
        assert!(decode_token("abc").is_err());
    }

    #[test]
    fn constraint_messages_are_awss() {
        assert!(constraints("f", "v", false, &[]).is_ok());
        let one = constraints(
            "traceHeader",
            "abc",
            false,
            &[longer_than("abc", 2).unwrap()],
        );
        assert_eq!(
            one,
            Err(Error::Validation("1 validation error detected: Value 'abc' at 'traceHeader' failed to satisfy constraint: Member must have length less than or equal to 2".into()))
        );
        let hidden = constraints("definition", "secret", true, &["a".into(), "b".into()]);
        assert_eq!(
            hidden,
            Err(Error::Validation("2 validation errors detected: Value at 'definition' failed to satisfy constraint: Member must a; Value at 'definition' failed to satisfy constraint: Member must b".into()))
        );
        assert_eq!(longer_than("ééé", 3), None, "characters, not bytes");
        assert!(longer_than("éééé", 3).is_some());
    }

    #[test]
    fn params_validate_types() {
        let p = Params::parse(br#"{"name": "x", "maxResults": 5000, "n": 1}"#).unwrap();
        assert_eq!(p.str("name").unwrap(), "x");
        assert!(p.str("missing").is_err());
        assert!(p.opt_str("n").is_err());
        assert!(p.max_results().is_err());
        assert!(Params::parse(b"[]").is_err());
        assert_eq!(Params::parse(b"").unwrap().0.len(), 0);
    }
}
