//! The SNS integrations on the tenant's topics: the optimized
//! `arn:aws:states:::sns:publish` (and `.waitForTaskToken`: the task then waits for its
//! token, which the message carries to whoever answers) and the SDK form
//! `arn:aws:states:::aws-sdk:sns:<action>`. Parameters are the SNS request (the optimized
//! form also takes a JSON `Message`, published as its text); the output is SNS's response.
//! Errors fail the task as `SNS.<Code>Exception` (optimized) or `Sns.<Code>Exception`
//! (SDK), e.g. `SNS.NotFoundException`. A Standard execution's publish happens once.

use super::stores::Place;
use crate::sns::Tenant;
use crate::store::Store;
use sandstep_engine::TaskRequest;
use serde_json::Value;

const OPTIMIZED: &str = "arn:aws:states:::sns:";
const SDK: &str = "arn:aws:states:::aws-sdk:sns:";
/// The SDK integration's actions Sandstep runs.
const SDK_ACTIONS: [&str; 13] = [
    "publish",
    "publishBatch",
    "createTopic",
    "deleteTopic",
    "listTopics",
    "getTopicAttributes",
    "setTopicAttributes",
    "subscribe",
    "unsubscribe",
    "listSubscriptions",
    "listSubscriptionsByTopic",
    "getSubscriptionAttributes",
    "setSubscriptionAttributes",
];

/// An SNS call a Task state makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The action (`publish`, ...).
    pub action: &'static str,
    /// Whether the resource is the SDK form.
    pub sdk: bool,
    /// Whether the task waits for its token after the publish.
    pub waits: bool,
}

/// The call `resource` names, if it is an SNS action Sandstep runs.
pub fn resolve(resource: &str) -> Option<Call> {
    if let Some(rest) = resource.strip_prefix(OPTIMIZED) {
        let waits = match rest {
            "publish" => false,
            "publish.waitForTaskToken" => true,
            _ => return None,
        };
        return Some(Call {
            action: "publish",
            sdk: false,
            waits,
        });
    }
    let action = resource.strip_prefix(SDK)?;
    let action = SDK_ACTIONS.into_iter().find(|a| *a == action)?;
    Some(Call {
        action,
        sdk: true,
        waits: false,
    })
}

/// Runs `call` with the task's input as the request: the response, or the error name and
/// cause the task fails with.
///
/// # Errors
/// `(error, cause)`: `SNS.NotFoundException`, ...
pub fn run(
    store: &Store,
    place: &Place<'_>,
    call: &Call,
    request: &TaskRequest,
) -> Result<Value, (String, String)> {
    if let Some(answer) = super::stored_answer(store, place.effect, "SNS.InternalErrorException") {
        return answer;
    }
    let topics = Tenant {
        store,
        tenant: place.tenant,
        region: place.region,
        account: place.account,
        now: place.now,
        effect: place.effect,
    };
    topics.call(call.action, &request.input).map_err(|e| {
        let service = if call.sdk { "Sns" } else { "SNS" };
        super::stores::failure(service, e.code, &e.message, e.internal)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExecutionKey;
    use crate::store::tables::EffectOf;
    use crate::store::topics::Topics as _;
    use crate::store::TenantId;
    use sandstep_engine::TaskId;
    use serde_json::json;

    #[test]
    fn a_publish_run_again_after_a_crash_is_made_once() {
        let store = Store::memory();
        let tenant = TenantId("t".into());
        let of = EffectOf {
            execution: ExecutionKey {
                tenant: tenant.clone(),
                machine: "m".into(),
                name: "e".into(),
            },
            task: 3,
        };
        let place = |effect| Place {
            tenant: &tenant,
            region: "us-east-1",
            account: "000000000000",
            endpoint: "http://localhost",
            now: 0,
            effect,
        };
        let task = |resource: &str, input| TaskRequest {
            id: TaskId(3),
            resource: resource.into(),
            input,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "Tell".into(),
            task_token: None,
        };
        let run_task = |t: &TaskRequest, effect| {
            run(&store, &place(effect), &resolve(&t.resource).unwrap(), t)
        };
        let arn = "arn:aws:sns:us-east-1:000000000000:news";
        run_task(
            &task(
                "arn:aws:states:::aws-sdk:sns:createTopic",
                json!({"Name": "news"}),
            ),
            None,
        )
        .unwrap();
        run_task(&task("arn:aws:states:::aws-sdk:sns:subscribe", json!({"TopicArn": arn, "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q"})), None).unwrap();
        let publish = task(
            "arn:aws:states:::sns:publish",
            json!({"TopicArn": arn, "Message": {"a": 1}}),
        );
        let first = run_task(&publish, Some(&of)).unwrap();
        let again = run_task(&publish, Some(&of)).unwrap();
        assert_eq!(first, again, "the stored answer");
        let due = store.deliveries_due(0, 10).unwrap();
        assert_eq!(due.len(), 1, "one delivery, not two");
        assert_eq!(due[0].delivery.notification.message, r#"{"a":1}"#);
        let missing = task(
            "arn:aws:states:::sns:publish",
            json!({"TopicArn": "arn:aws:sns:us-east-1:000000000000:nope", "Message": "x"}),
        );
        assert_eq!(
            run_task(&missing, None).unwrap_err().0,
            "SNS.NotFoundException"
        );
    }

    #[test]
    fn resources_name_the_actions_sandstep_runs() {
        assert_eq!(
            resolve("arn:aws:states:::sns:publish.waitForTaskToken"),
            Some(Call {
                action: "publish",
                sdk: false,
                waits: true
            })
        );
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:sns:publishBatch").map(|c| c.sdk),
            Some(true)
        );
        assert_eq!(resolve("arn:aws:states:::sns:subscribe"), None);
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:sns:createPlatformEndpoint"),
            None
        );
    }
}
