//! Reading request bodies the way the AWS API validates them: every action's typed input
//! struct says, in [`Input::check`], which fields it reads and of which type, and
//! [`decode`] runs those checks (with AWS's messages, which serde's own would not match)
//! before serde reads the struct. Fields no struct names are ignored, as on AWS.

use super::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A typed AWS request body.
pub trait Input: DeserializeOwned {
    /// Checks the type of every field the struct reads, and the model's constraints on
    /// them (lengths, enum values), in the order AWS reports them: serde can then read
    /// the struct without failing.
    ///
    /// # Errors
    /// `ValidationException` in AWS's words.
    fn check(p: &Params) -> Result<()>;
}

/// Reads a request body into its typed input: [`Input::check`], then serde.
///
/// # Errors
/// What [`Input::check`] finds.
pub fn decode<T: Input>(p: Params) -> Result<T> {
    T::check(&p)?;
    serde_json::from_value(Value::Object(p.0))
        .map_err(|e| Error::Validation(format!("The request does not match its action: {e}")))
}

/// `maxResults` (1–1000, 0 or absent meaning the default of 100), once
/// [`Params::max_results`] has checked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxResults(pub usize);

impl Default for MaxResults {
    fn default() -> MaxResults {
        MaxResults(crate::service::paging::DEFAULT_LIMIT)
    }
}

impl<'de> Deserialize<'de> for MaxResults {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<MaxResults, D::Error> {
        match Option::<u64>::deserialize(d)? {
            None | Some(0) => Ok(MaxResults::default()),
            Some(n) if n <= 1000 => Ok(MaxResults(n as usize)),
            Some(_) => Err(serde::de::Error::custom("maxResults is above 1000")),
        }
    }
}

/// The strings of a JSON array, skipping anything else; not an array reads as none. For
/// lists AWS's clients always send well formed, where Sandstep has always been lenient.
pub fn strings_only<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect())
}

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
            None | Some(Value::Null) => Ok(MaxResults::default().0),
            Some(v) => match v.as_u64() {
                Some(0) => Ok(MaxResults::default().0),
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Example {
        name: String,
        #[serde(default)]
        max_results: MaxResults,
        #[serde(default, deserialize_with = "strings_only")]
        keys: Vec<String>,
    }

    impl Input for Example {
        fn check(p: &Params) -> Result<()> {
            p.str("name")?;
            p.max_results()?;
            Ok(())
        }
    }

    #[test]
    fn decode_checks_first_with_awss_words_then_reads_the_struct() {
        let body = |text: &str| Params::parse(text.as_bytes()).unwrap();
        let read: Example = decode(body(
            r#"{"name": "x", "maxResults": 0, "keys": ["a", 1], "other": true}"#,
        ))
        .unwrap();
        assert_eq!(
            (read.name.as_str(), read.max_results, read.keys),
            ("x", MaxResults(100), vec!["a".to_string()])
        );
        let read: Example =
            decode(body(r#"{"name": "x", "maxResults": null, "keys": "a"}"#)).unwrap();
        assert_eq!((read.max_results, read.keys.len()), (MaxResults(100), 0));
        assert_eq!(
            decode::<Example>(body(r#"{"name": 7}"#)).unwrap_err(),
            Error::Validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must be a string".into())
        );
        assert_eq!(
            decode::<Example>(body(r#"{"maxResults": 5}"#)).unwrap_err(),
            Error::Validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null".into())
        );
        assert!(decode::<Example>(body(r#"{"name": "x", "maxResults": 1001}"#)).is_err());
    }
}
