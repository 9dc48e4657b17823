//! `sandstep:host/topic`: publishing, over [`crate::store::Topics`].

use super::sandstep::host::topic::Host;
use super::{check_len, now_millis, unavailable, HostError, HostState};
use crate::grants::{Access, Resource};
use crate::store::Topics;

/// The largest message, in bytes (SNS's limit).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The longest subject, in bytes (SNS's limit).
pub const MAX_SUBJECT_BYTES: usize = 100;

impl Host for HostState {
    #[tracing::instrument(name = "host.topic.publish", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn publish(
        &mut self,
        topic: String,
        message: String,
        subject: Option<String>,
    ) -> wasmtime::Result<Result<String, HostError>> {
        if let Some(denied) = self.denied(Resource::Topic, &topic, Access::Write) {
            return Ok(Err(denied));
        }
        let checked =
            check_len("the message", &message, MAX_MESSAGE_BYTES).and_then(|()| match &subject {
                Some(s) => check_len("the subject", s, MAX_SUBJECT_BYTES),
                None => Ok(()),
            });
        Ok(checked.and_then(|()| {
            self.store
                .topic_publish(
                    &self.caller.tenant,
                    &topic,
                    &message,
                    subject.as_deref(),
                    now_millis(),
                )
                .map_err(unavailable)
        }))
    }
}
