//! The HTTP answer of a synchronous route: the execution's output, or its failure.
//!
//! An output shaped like API Gateway's proxy integration answer (`{"statusCode": 201,
//! "headers": {...}, "body": "..."}`, `body` a string sent as it is, or base64 with
//! `isBase64Encoded`) is honoured; any other output is a `200` with the output as JSON. A
//! failed execution answers `500` with `{"error", "cause"}`, unless the route maps its
//! error to another status; a timed-out one `504`.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A route's mapping of an execution's error to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMapping {
    /// The error name (`States.ALL` for any).
    pub error: String,
    /// The status answered (400 to 599).
    pub status_code: u16,
}

/// An answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookResponse {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HookResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> HookResponse {
        HookResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The answer for an execution's output (JSON text).
    pub fn of_output(output: &str) -> HookResponse {
        let value: Value = serde_json::from_str(output).unwrap_or(Value::Null);
        let Some(status) = proxy_status(&value) else {
            return HookResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: output.as_bytes().to_vec(),
            };
        };
        let mut headers: Vec<(String, String)> = value
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .map(|(k, v)| {
                        let text = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = match value.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if value.get("isBase64Encoded") == Some(&json!(true)) => {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .unwrap_or_else(|_| s.as_bytes().to_vec())
            }
            Some(Value::String(s)) => s.as_bytes().to_vec(),
            Some(other) => {
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                other.to_string().into_bytes()
            }
        };
        HookResponse {
            status,
            headers,
            body,
        }
    }

    /// The answer for a failed execution: the route's mapping of `error`, else `500`.
    pub fn of_failure(error: &str, cause: &str, mappings: &[ErrorMapping]) -> HookResponse {
        let mapped = mappings
            .iter()
            .find(|m| m.error == error)
            .or_else(|| mappings.iter().find(|m| m.error == "States.ALL"))
            .map(|m| m.status_code);
        let status = mapped.unwrap_or(match error {
            "States.Timeout" => 504,
            _ => 500,
        });
        HookResponse::json(status, &json!({"error": error, "cause": cause}))
    }
}

/// The status of an output shaped as a proxy integration answer.
fn proxy_status(value: &Value) -> Option<u16> {
    let object = value.as_object()?;
    let status = object.get("statusCode")?.as_u64()?;
    let known = object.keys().all(|k| {
        [
            "statusCode",
            "headers",
            "body",
            "isBase64Encoded",
            "multiValueHeaders",
        ]
        .contains(&k.as_str())
    });
    (known && (100..=599).contains(&status)).then_some(status as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_shaped_outputs_are_honoured() {
        let r = HookResponse::of_output(
            r#"{"statusCode": 201, "headers": {"Location": "/orders/1"}, "body": "created"}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.headers, vec![("Location".into(), "/orders/1".into())]);
        assert_eq!(r.body, b"created");
        let r = HookResponse::of_output(r#"{"statusCode": 200, "body": {"a": 1}}"#);
        assert_eq!(r.body, br#"{"a":1}"#);
        let r = HookResponse::of_output(
            r#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#,
        );
        assert_eq!(r.body, b"hi");
    }

    #[test]
    fn other_outputs_are_a_200_json_body() {
        for output in [
            r#"{"total": 3}"#,
            r#"{"statusCode": 201, "other": 1}"#,
            "[1]",
            r#"{"statusCode": 9000}"#,
        ] {
            let r = HookResponse::of_output(output);
            assert_eq!(
                (r.status, r.body.as_slice()),
                (200, output.as_bytes()),
                "{output}"
            );
        }
    }

    #[test]
    fn failures_map_to_the_routes_status_or_5xx() {
        let maps = vec![ErrorMapping {
            error: "Invalid".into(),
            status_code: 400,
        }];
        assert_eq!(
            HookResponse::of_failure("Invalid", "bad", &maps).status,
            400
        );
        assert_eq!(HookResponse::of_failure("Other", "x", &maps).status, 500);
        assert_eq!(
            HookResponse::of_failure("States.Timeout", "x", &[]).status,
            504
        );
        let all = vec![ErrorMapping {
            error: "States.ALL".into(),
            status_code: 422,
        }];
        let r = HookResponse::of_failure("Other", "why", &all);
        assert_eq!(r.status, 422);
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap(),
            json!({"error": "Other", "cause": "why"})
        );
    }
}
