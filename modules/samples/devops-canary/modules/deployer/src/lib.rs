//! `deployer`: the DevOps sample's deployment state and checks.
//!
//! Kv table `fleet` holds each service's `{"stable", "canary"}` versions (what runs);
//! `desired` holds `{"version"}` (what should run: the last release promoted). Input
//! `{"action": ..., ...}`:
//!
//! - `begin {"service", "version"}`: puts the version on the canary; `DeploymentInProgress`
//!   when a canary is already out. Output `{"service", "version", "previous"}`.
//! - `check {"url"}`: GETs the canary's health URL (an outbound HTTP call, granted
//!   `http:*:*` and still held by the server's guards); a 2xx answer whose JSON does not say
//!   `"healthy": false` is healthy, anything else fails `CanaryUnhealthy`.
//! - `promote {"service", "version"}`: the canary becomes stable and desired.
//! - `rollback {"service"}`: the canary is withdrawn; stable stays as it was.
//! - `audit`: every service whose stable version is not its desired one, as
//!   `{"drifts": [{"service", "desired", "actual"}], "checked"}`.
use sandstep_sdk::{http, json, kv, Context, TaskError, Value};

const FLEET: &str = "fleet";
const DESIRED: &str = "desired";

fn text<'a>(input: &'a Value, name: &str) -> Result<&'a str, TaskError> {
    input[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TaskError::new("InvalidInput", format!("{name} is required")))
}

fn fleet(service: &str) -> Result<Value, TaskError> {
    Ok(kv::get(FLEET, service)?
        .map(|item| item.value)
        .unwrap_or_else(|| json!({"stable": null, "canary": null})))
}

/// Whether a health answer says healthy: a 2xx status, and no `"healthy": false`.
fn healthy(status: u16, body: &str) -> bool {
    let said = sandstep_sdk::serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("healthy").and_then(Value::as_bool));
    (200..300).contains(&status) && said != Some(false)
}

fn run(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    match text(&input, "action")? {
        "begin" => {
            let (service, version) = (text(&input, "service")?, text(&input, "version")?);
            let mut state = fleet(service)?;
            if let Some(canary) = state["canary"].as_str() {
                return Err(TaskError::new(
                    "DeploymentInProgress",
                    format!("{service}: version {canary} is already on the canary"),
                ));
            }
            let previous = state["stable"].clone();
            if let Some(fields) = state.as_object_mut() {
                fields.insert("canary".into(), json!(version));
            }
            kv::put(FLEET, service, &state)?;
            Ok(json!({"service": service, "version": version, "previous": previous}))
        }
        "check" => {
            let url = text(&input, "url")?;
            let answer = http::get(url)?;
            let body = answer.text();
            if healthy(answer.status, &body) {
                Ok(json!({"healthy": true, "status": answer.status}))
            } else {
                Err(TaskError::new(
                    "CanaryUnhealthy",
                    format!(
                        "{url} answered {}: {}",
                        answer.status,
                        body.chars().take(200).collect::<String>()
                    ),
                ))
            }
        }
        "promote" => {
            let (service, version) = (text(&input, "service")?, text(&input, "version")?);
            let state = json!({"stable": version, "canary": null});
            kv::put(FLEET, service, &state)?;
            kv::put(DESIRED, service, &json!({"version": version}))?;
            Ok(state)
        }
        "rollback" => {
            let service = text(&input, "service")?;
            let mut state = fleet(service)?;
            if let Some(fields) = state.as_object_mut() {
                fields.insert("canary".into(), Value::Null);
            }
            kv::put(FLEET, service, &state)?;
            Ok(state)
        }
        "audit" => {
            let desired = kv::query(DESIRED, "", 1000)?;
            let mut drifts = Vec::new();
            for (service, item) in &desired {
                let want = &item.value["version"];
                let actual = fleet(service)?["stable"].clone();
                if &actual != want {
                    drifts.push(json!({"service": service, "desired": want, "actual": actual}));
                }
            }
            Ok(json!({"drifts": drifts, "checked": desired.len()}))
        }
        other => Err(TaskError::new(
            "InvalidInput",
            format!("action {other:?}: begin, check, promote, rollback or audit"),
        )),
    }
}

sandstep_sdk::task!(run);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_a_2xx_that_does_not_say_otherwise() {
        assert!(healthy(200, r#"{"healthy": true}"#));
        assert!(healthy(204, ""));
        assert!(!healthy(200, r#"{"healthy": false}"#));
        assert!(!healthy(503, r#"{"healthy": true}"#));
    }
}
