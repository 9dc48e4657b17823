//! The SQS integrations on the tenant's queues: the optimized
//! `arn:aws:states:::sqs:sendMessage` (and `.waitForTaskToken`: the task then waits for its
//! token, which the message usually carries to whoever answers) and the SDK form
//! `arn:aws:states:::aws-sdk:sqs:<action>`. Parameters are the SQS request (the optimized
//! form also takes a JSON `MessageBody`, sent as its text); the output is SQS's response.
//! Errors fail the task as `SQS.<Code>` (optimized) or `Sqs.<Code>` (SDK), e.g.
//! `SQS.QueueDoesNotExistException`. A Standard execution's send happens exactly once.

use super::stores::Place;
use crate::sqs::Tenant;
use crate::store::Store;
use sandstep_engine::TaskRequest;
use serde_json::Value;

const OPTIMIZED: &str = "arn:aws:states:::sqs:";
const SDK: &str = "arn:aws:states:::aws-sdk:sqs:";
/// The SDK integration's actions Sandstep runs.
const SDK_ACTIONS: [&str; 13] = [
    "sendMessage",
    "sendMessageBatch",
    "receiveMessage",
    "deleteMessage",
    "deleteMessageBatch",
    "changeMessageVisibility",
    "getQueueUrl",
    "getQueueAttributes",
    "setQueueAttributes",
    "createQueue",
    "deleteQueue",
    "listQueues",
    "purgeQueue",
];

/// An SQS call a Task state makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The action (`sendMessage`, ...).
    pub action: &'static str,
    /// Whether the resource is the SDK form.
    pub sdk: bool,
    /// Whether the task waits for its token after the send.
    pub waits: bool,
}

/// The call `resource` names, if it is an SQS action Sandstep runs.
pub fn resolve(resource: &str) -> Option<Call> {
    if let Some(rest) = resource.strip_prefix(OPTIMIZED) {
        return match rest {
            "sendMessage" => Some(Call {
                action: "sendMessage",
                sdk: false,
                waits: false,
            }),
            "sendMessage.waitForTaskToken" => Some(Call {
                action: "sendMessage",
                sdk: false,
                waits: true,
            }),
            _ => None,
        };
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
/// `(error, cause)`: `SQS.QueueDoesNotExistException`, ...
pub fn run(
    store: &Store,
    place: &Place<'_>,
    call: &Call,
    request: &TaskRequest,
) -> Result<Value, (String, String)> {
    if let Some(answer) = super::stored_answer(store, place.effect, "SQS.InternalError") {
        return answer;
    }
    let queues = Tenant {
        store,
        tenant: place.tenant,
        region: place.region,
        account: place.account,
        endpoint: place.endpoint,
        now: place.now,
        effect: place.effect,
    };
    queues.call(call.action, &request.input).map_err(|e| {
        let service = if call.sdk { "Sqs" } else { "SQS" };
        super::stores::failure(service, e.code, &e.message, e.internal)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_the_actions_sandstep_runs() {
        assert_eq!(
            resolve("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            Some(Call {
                action: "sendMessage",
                sdk: false,
                waits: true
            })
        );
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:sqs:receiveMessage").map(|c| c.sdk),
            Some(true)
        );
        assert_eq!(resolve("arn:aws:states:::sqs:receiveMessage"), None);
        assert_eq!(resolve("arn:aws:states:::aws-sdk:sqs:addPermission"), None);
    }
}
