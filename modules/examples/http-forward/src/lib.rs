//! `http-forward`: plays a bound resource by forwarding the call to an HTTP service that
//! implements it, through outbound HTTP. Bind it to what Sandstep does not host
//! (`arn:aws:states:::aws-sdk:rekognition:*`), and say where each service lives in the
//! tenant's `forward` table: the item keyed by the service's name (`rekognition`) is
//! `{"url": "https://vision.internal.example.com/v1"}`.
//!
//! A call `{"service", "action", "parameters", "context"}` becomes `POST <url>/<action>`
//! with the parameters as its JSON body and the execution's ARN in
//! `x-sandstep-execution`. A 2xx answer is the task's result (JSON, or `{"Body": text}`);
//! any other fails the task with the error named as AWS's SDK integrations name them,
//! `<Service>.<code>`, the code taken from the answer's `__type` or `code` field (AWS's
//! error shapes) or `HttpStatus<status>`, so that `Retry` and `Catch` written for AWS
//! match: `Rekognition.InvalidS3ObjectException`.
//!
//! Grants: `kv:forward:read` and `http:<host>[:<port>]` of each service's URL.
use sandstep_sdk::{http, json, kv, serde_json, Context, TaskError, Value};

fn error(code: &str, cause: impl Into<String>) -> TaskError {
    TaskError::new(format!("Forward.{code}"), cause)
}

/// `rekognition` → `Rekognition`: the prefix of the service's error names.
fn service_prefix(service: &str) -> String {
    let mut chars = service.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The error a non-2xx answer makes.
fn failure(service: &str, status: u16, body: &[u8]) -> TaskError {
    let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = ["__type", "code", "Code"]
        .iter()
        .find_map(|k| answer.get(*k).and_then(Value::as_str))
        // `__type` may be namespaced: `com.amazonaws.rekognition#InvalidS3ObjectException`.
        .map(|t| t.rsplit(['#', ':']).next().unwrap_or(t).to_string())
        .unwrap_or_else(|| format!("HttpStatus{status}"));
    let cause = ["message", "Message"]
        .iter()
        .find_map(|k| answer.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    TaskError::new(format!("{}.{code}", service_prefix(service)), cause)
}

fn forward(call: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let service = call
        .get("service")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| error("InvalidCall", "this module plays bound resources: bind it with PUT /v1/bindings"))?;
    let action = call
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| error("InvalidCall", format!("the resource names no action of {service}")))?;
    let Some(item) = kv::get("forward", service)? else {
        return Err(error(
            "NotConfigured",
            format!("no item '{service}' in the table 'forward': put {{\"url\": \"https://...\"}} there"),
        ));
    };
    let base = item
        .value
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| error("NotConfigured", format!("forward/{service} has no \"url\"")))?;
    let execution = call
        .pointer("/context/Execution/Id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let body = call.get("parameters").cloned().unwrap_or(json!({}));
    let url = format!("{}/{action}", base.trim_end_matches('/'));
    let answer = http::send(
        "POST",
        &url,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("x-sandstep-execution", execution),
        ],
        body.to_string().as_bytes(),
    )?;
    if !answer.ok() {
        return Err(failure(service, answer.status, &answer.body));
    }
    Ok(answer
        .json()
        .unwrap_or_else(|_| json!({"Body": answer.text()})))
}

sandstep_sdk::task!(forward);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_named_as_the_services() {
        let e = failure(
            "rekognition",
            400,
            br#"{"__type": "com.amazonaws.rekognition#InvalidS3ObjectException", "message": "no such object"}"#,
        );
        assert_eq!(e.name, "Rekognition.InvalidS3ObjectException");
        assert_eq!(e.cause, "no such object");
        let e = failure("glue", 503, b"busy");
        assert_eq!((e.name.as_str(), e.cause.as_str()), ("Glue.HttpStatus503", "busy"));
    }
}
