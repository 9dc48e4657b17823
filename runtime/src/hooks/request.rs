//! What a route's execution receives: the HTTP request as one JSON object, which a route's
//! `input` template may reshape.
//!
//! ```json
//! {"method": "POST", "path": "/orders/42", "pathParameters": {"id": "42"},
//!  "query": {"page": "2"}, "headers": {"content-type": "application/json"},
//!  "body": {"item": "book"}, "isBase64Encoded": false, "sourceIp": "127.0.0.1"}
//! ```
//!
//! The body is parsed by its content type: JSON (`application/json`, `+json`) as JSON, a
//! form (`application/x-www-form-urlencoded`) as an object (a repeated field as an array),
//! any other UTF-8 text as a string, and anything else as base64 with `isBase64Encoded`.
//! Header names are lowercase; a repeated header or query field keeps its last value in
//! `headers`/`query`, and every value in `multiValueHeaders`/`multiValueQuery`, as API
//! Gateway's proxy event does.

use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A request as a route sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRequest {
    /// The method, uppercase.
    pub method: String,
    /// The path after `/hooks/{account}`, percent-encoded as sent.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The caller's address, when known.
    pub source_ip: Option<String>,
}

/// Why a body cannot be read as its content type says (answered `400`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the body is not valid JSON: {0}")]
pub struct BadBody(pub String);

impl HookRequest {
    /// The value of header `name` (any case); the last one when repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as the execution's input object, with `params` the path parameters.
    ///
    /// # Errors
    /// [`BadBody`] for a JSON content type whose body is not JSON.
    pub fn to_input(&self, params: &BTreeMap<String, String>) -> Result<Value, BadBody> {
        let (body, base64) = self.body_value()?;
        let (headers, multi_headers) = grouped(
            self.headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
        );
        let (query, multi_query) = grouped(
            form_urlencoded::parse(self.query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        Ok(json!({
            "method": self.method,
            "path": self.path,
            "pathParameters": params,
            "query": query,
            "multiValueQuery": multi_query,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "body": body,
            "isBase64Encoded": base64,
            "sourceIp": self.source_ip,
        }))
    }

    fn body_value(&self) -> Result<(Value, bool), BadBody> {
        if self.body.is_empty() {
            return Ok((Value::Null, false));
        }
        let content_type = self
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if content_type == "application/json" || content_type.ends_with("+json") {
            return serde_json::from_slice(&self.body)
                .map(|v| (v, false))
                .map_err(|e| BadBody(e.to_string()));
        }
        if content_type == "application/x-www-form-urlencoded" {
            let mut form = Map::new();
            for (k, v) in form_urlencoded::parse(&self.body) {
                match form.get_mut(k.as_ref()) {
                    Some(Value::Array(values)) => values.push(json!(v)),
                    Some(first) => *first = json!([first.take(), v]),
                    None => {
                        form.insert(k.into_owned(), json!(v));
                    }
                }
            }
            return Ok((Value::Object(form), false));
        }
        match std::str::from_utf8(&self.body) {
            Ok(text) => Ok((json!(text), false)),
            Err(_) => Ok((
                json!(base64::engine::general_purpose::STANDARD.encode(&self.body)),
                true,
            )),
        }
    }
}

/// Name → last value, and name → every value, of `pairs`.
fn grouped(
    pairs: impl Iterator<Item = (String, String)>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut last = Map::new();
    let mut all: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        last.insert(name.clone(), json!(value));
        match all.get_mut(&name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            _ => {
                all.insert(name, json!([value]));
            }
        }
    }
    (last, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &str, body: &[u8]) -> HookRequest {
        HookRequest {
            method: "POST".into(),
            path: "/orders/42".into(),
            query: "page=2&tag=a&tag=b".into(),
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("X-Trace".into(), "1".into()),
                ("x-trace".into(), "2".into()),
            ],
            body: body.to_vec(),
            source_ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn the_input_carries_every_part_of_the_request() {
        let params = BTreeMap::from([("id".to_string(), "42".to_string())]);
        let input = request("application/json; charset=utf-8", br#"{"item":"book"}"#)
            .to_input(&params)
            .unwrap();
        assert_eq!(input["body"], json!({"item": "book"}));
        assert_eq!(input["pathParameters"], json!({"id": "42"}));
        assert_eq!(input["query"], json!({"page": "2", "tag": "b"}));
        assert_eq!(input["multiValueQuery"]["tag"], json!(["a", "b"]));
        assert_eq!(input["headers"]["x-trace"], json!("2"));
        assert_eq!(input["multiValueHeaders"]["x-trace"], json!(["1", "2"]));
        assert_eq!(input["isBase64Encoded"], json!(false));
        assert_eq!(input["method"], json!("POST"));
    }

    #[test]
    fn bodies_are_read_by_their_content_type() {
        let none = BTreeMap::new();
        let body = |ct: &str, b: &[u8]| {
            request(ct, b)
                .to_input(&none)
                .map(|i| (i["body"].clone(), i["isBase64Encoded"].clone()))
        };
        assert_eq!(
            body("application/x-www-form-urlencoded", b"a=1&b=x+y&a=2")
                .unwrap()
                .0,
            json!({"a": ["1", "2"], "b": "x y"})
        );
        assert_eq!(body("text/plain", b"hello").unwrap().0, json!("hello"));
        assert_eq!(
            body("application/cloudevents+json", b"[1]").unwrap().0,
            json!([1])
        );
        assert_eq!(
            body("application/octet-stream", &[0xff, 0x00]).unwrap(),
            (json!("/wA="), json!(true))
        );
        assert_eq!(body("application/json", b"").unwrap().0, Value::Null);
        assert!(body("application/json", b"{nope").is_err());
    }
}
