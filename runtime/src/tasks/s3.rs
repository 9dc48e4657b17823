//! The S3 integrations on the tenant's buckets: `arn:aws:states:::aws-sdk:s3:<action>`
//! (S3 has no optimized integration). Parameters are the S3 request, the output its
//! response (`getObject`'s `Body` as a string, as AWS answers it); errors fail the task as
//! `S3.<Code>Exception`, e.g. `S3.NoSuchKeyException`.

use super::stores::Place;
use crate::s3::{Tenant, DEFAULT_MAX_OBJECT_BYTES};
use crate::store::Store;
use sandstep_engine::TaskRequest;
use serde_json::Value;

const SDK: &str = "arn:aws:states:::aws-sdk:s3:";
/// The SDK integration's actions Sandstep runs.
const SDK_ACTIONS: [&str; 11] = [
    "getObject",
    "putObject",
    "headObject",
    "deleteObject",
    "deleteObjects",
    "copyObject",
    "listObjectsV2",
    "createBucket",
    "deleteBucket",
    "headBucket",
    "listBuckets",
];

/// An S3 call a Task state makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The action (`getObject`, ...).
    pub action: &'static str,
}

/// The call `resource` names, if it is an S3 action Sandstep runs.
pub fn resolve(resource: &str) -> Option<Call> {
    let action = resource.strip_prefix(SDK)?;
    SDK_ACTIONS
        .into_iter()
        .find(|a| *a == action)
        .map(|action| Call { action })
}

/// Runs `call` with the task's input as the request: the response, or the error name and
/// cause the task fails with. Objects are written whole, so a Standard execution's task
/// run again after a crash writes the same object again (idempotent, not stored).
///
/// # Errors
/// `(error, cause)`: `S3.NoSuchBucketException`, ...
pub fn run(
    store: &Store,
    place: &Place<'_>,
    call: &Call,
    request: &TaskRequest,
) -> Result<Value, (String, String)> {
    let buckets = Tenant {
        store,
        tenant: place.tenant,
        account: place.account,
        max_object: DEFAULT_MAX_OBJECT_BYTES,
        now: place.now,
    };
    buckets
        .call(call.action, &request.input)
        .map_err(|e| super::stores::failure("S3", e.code, &e.message, e.internal()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_the_actions_sandstep_runs() {
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:s3:getObject"),
            Some(Call {
                action: "getObject"
            })
        );
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:s3:selectObjectContent"),
            None
        );
        assert_eq!(resolve("arn:aws:states:::s3:getObject"), None);
    }
}
