//! The integrations that run on the tenant's own stores (DynamoDB on its tables, SQS on
//! its queues, SNS on its topics, S3 on its buckets, EventBridge on its buses): one resolver over them, where a call runs, and one
//! runner. They need no sandbox and no task slot: each call is store reads and writes,
//! made on a blocking thread by the scheduler.

use super::{dynamodb, events, s3, sns, sqs};
use crate::store::tables::EffectOf;
use crate::store::{Store, TenantId};
use sandstep_engine::{Millis, TaskRequest};
use serde_json::Value;

/// A store integration's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTask {
    /// On the tenant's tables.
    DynamoDb(dynamodb::Call),
    /// On its queues.
    Sqs(sqs::Call),
    /// On its topics.
    Sns(sns::Call),
    /// On its buckets.
    S3(s3::Call),
    /// On its event buses.
    Events(events::Call),
}

/// Where a call runs: the tenant, and the region and account of its execution's ARN.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// Whose data.
    pub tenant: &'a TenantId,
    /// The region in ARNs.
    pub region: &'a str,
    /// The account in ARNs and queue URLs.
    pub account: &'a str,
    /// The server's URL, which queue URLs start with.
    pub endpoint: &'a str,
    /// Now (epoch ms).
    pub now: Millis,
    /// The task of a Standard execution the call is made for: a write stores its answer
    /// with it, and a task run again answers that.
    pub effect: Option<&'a EffectOf>,
}

impl StoreTask {
    /// The call `resource` names, if a store integration runs it.
    pub fn resolve(resource: &str) -> Option<StoreTask> {
        dynamodb::resolve(resource)
            .map(StoreTask::DynamoDb)
            .or_else(|| sqs::resolve(resource).map(StoreTask::Sqs))
            .or_else(|| sns::resolve(resource).map(StoreTask::Sns))
            .or_else(|| s3::resolve(resource).map(StoreTask::S3))
            .or_else(|| events::resolve(resource).map(StoreTask::Events))
    }

    /// Whether the task waits for its token once the call is made.
    pub fn waits(&self) -> bool {
        match self {
            StoreTask::DynamoDb(_) | StoreTask::S3(_) => false,
            StoreTask::Sqs(c) => c.waits,
            StoreTask::Sns(c) => c.waits,
            StoreTask::Events(c) => c.waits,
        }
    }

    /// Runs the call with the task's input as the request: the response, or the error
    /// name and cause the task fails with. Blocking.
    ///
    /// # Errors
    /// `(error, cause)`, in the integration's names.
    pub fn run(
        &self,
        store: &Store,
        place: &Place<'_>,
        request: &TaskRequest,
    ) -> Result<Value, (String, String)> {
        match self {
            StoreTask::DynamoDb(c) => dynamodb::run(store, place, c, request),
            StoreTask::Sqs(c) => sqs::run(store, place, c, request),
            StoreTask::Sns(c) => sns::run(store, place, c, request),
            StoreTask::S3(c) => s3::run(store, place, c, request),
            StoreTask::Events(c) => events::run(store, place, c, request),
        }
    }
}

/// The task failure a service's error makes: `<service>.<Code>Exception` (`SQS.` and `Sqs.`
/// as AWS names them for the optimized and SDK forms), and the cause, which says so when
/// Sandstep's store, not the request, failed.
pub(super) fn failure(
    service: &str,
    code: &str,
    message: &str,
    internal: bool,
) -> (String, String) {
    let cause = match internal {
        true => format!("Sandstep's store failed: {message}"),
        false => message.to_string(),
    };
    (
        format!("{service}.{}Exception", code.trim_end_matches("Exception")),
        cause,
    )
}
