//! TestState: the typed input, the use case in [`crate::service::test_state`], AWS's
//! answer (`inspectionData` only at `DEBUG` and `TRACE`).

use super::machines::MAX_DEFINITION_CHARS;
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode, longer_than, Input, Params};
use crate::api::App;
use crate::service::test_state::{Mock, TestRequest};
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockErrorInput {
    error: String,
    #[serde(default)]
    cause: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockInput {
    result: Option<String>,
    error_output: Option<MockErrorInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateConfigurationInput {
    retrier_retry_count: Option<u32>,
    map_iteration_failure_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestStateInput {
    definition: String,
    role_arn: Option<String>,
    input: Option<String>,
    inspection_level: Option<String>,
    reveal_secrets: Option<bool>,
    variables: Option<String>,
    state_name: Option<String>,
    mock: Option<MockInput>,
    context: Option<String>,
    state_configuration: Option<StateConfigurationInput>,
}

fn enum_value(path: &str, value: Option<&str>, allowed: &[&str]) -> Result<()> {
    match value {
        Some(v) if !allowed.contains(&v) => {
            Err(Error::Validation(format!(
                "1 validation error detected: Value '{v}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

impl Input for TestStateInput {
    fn check(p: &Params) -> Result<()> {
        let definition = p.str("definition")?;
        let failed: Vec<String> = longer_than(definition, MAX_DEFINITION_CHARS)
            .into_iter()
            .collect();
        constraints("definition", definition, true, &failed)?;
        p.opt_str("roleArn")?;
        p.opt_str("input")?;
        p.opt_str("variables")?;
        p.opt_str("context")?;
        p.opt_bool("revealSecrets")?;
        if let Some(name) = p.opt_str("stateName")? {
            let failed: Vec<String> = longer_than(name, 80).into_iter().collect();
            constraints("stateName", name, false, &failed)?;
        }
        enum_value(
            "inspectionLevel",
            p.opt_str("inspectionLevel")?,
            &["INFO", "DEBUG", "TRACE"],
        )?;
        if let Some(mock) = p.get("mock") {
            let shape_ok = mock.is_object()
                && mock
                    .get("result")
                    .is_none_or(|r| r.is_string() || r.is_null())
                && mock
                    .get("errorOutput")
                    .is_none_or(|e| e.is_null() || e.get("error").is_some_and(Value::is_string));
            if !shape_ok {
                return Err(Error::Validation(
                    "mock must be {\"result\": string} or {\"errorOutput\": {\"error\": string, \"cause\": string}}".into(),
                ));
            }
            enum_value(
                "mock.fieldValidationMode",
                mock.get("fieldValidationMode").and_then(Value::as_str),
                &["STRICT", "PRESENT", "NONE"],
            )?;
        }
        if let Some(config) = p.get("stateConfiguration") {
            let count = |field: &str| config.get(field).is_none_or(|v| v.is_null() || v.is_u64());
            if !config.is_object()
                || !count("retrierRetryCount")
                || !count("mapIterationFailureCount")
            {
                return Err(Error::Validation(
                    "stateConfiguration's retrierRetryCount and mapIterationFailureCount are counts (integers of 0 or more)".into(),
                ));
            }
        }
        Ok(())
    }
}

pub(super) async fn test_state(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: TestStateInput = decode(p)?;
    let level = input.inspection_level.as_deref().unwrap_or("INFO");
    let config = input.state_configuration.unwrap_or_default();
    let (mock, mock_both) = match input.mock {
        None => (None, false),
        Some(m) => {
            let both = m.result.is_some() && m.error_output.is_some();
            let mock = match (m.result, m.error_output) {
                (_, Some(e)) => Some(Mock::Error {
                    error: e.error,
                    cause: e.cause,
                }),
                (Some(r), None) => Some(Mock::Result(r)),
                (None, None) => None,
            };
            (mock, both)
        }
    };
    let request = TestRequest {
        definition: input.definition,
        state_name: input.state_name,
        role_arn: input.role_arn,
        input: input.input,
        variables: input.variables,
        mock,
        mock_both,
        reveal_secrets: input.reveal_secrets.unwrap_or(false),
        context: input.context,
        retries_before: config.retrier_retry_count.unwrap_or(0),
        map_failures: config.map_iteration_failure_count,
    };
    let verdict = app.services.executions.test_state(tenant, request).await?;
    let mut out = json!({"status": verdict.status.as_str()});
    if let Some(o) = out.as_object_mut() {
        if let Some(output) = &verdict.output {
            o.insert("output".into(), json!(output.to_string()));
        }
        if let Some(error) = &verdict.error {
            o.insert("error".into(), json!(error));
        }
        if let Some(cause) = &verdict.cause {
            o.insert("cause".into(), json!(cause));
        }
        if let Some(next) = &verdict.next_state {
            o.insert("nextState".into(), json!(next));
        }
        if level != "INFO" {
            o.insert(
                "inspectionData".into(),
                Value::Object(verdict.inspection.clone()),
            );
        }
    }
    Ok(out)
}
