//! `sandstep:host/queue`: messages with visibility timeouts, over [`crate::store::Queues`].

use super::sandstep::host::queue::{Host, Message};
use super::{check_len, now_millis, unavailable, HostError, HostState};
use crate::grants::{Access, Resource};
use crate::store::Queues;

/// The largest message body, in bytes (SQS's limit).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The most messages one receive returns (SQS's limit).
pub const MAX_RECEIVE: u32 = 10;
/// The longest visibility timeout, in seconds (SQS's 12 hours).
pub const MAX_VISIBILITY_SECONDS: u32 = 43_200;

impl Host for HostState {
    #[tracing::instrument(name = "host.queue.send", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn send(&mut self, queue: String, body: String) -> wasmtime::Result<Result<String, HostError>> {
        if let Some(denied) = self.denied(Resource::Queue, &queue, Access::Write) {
            return Ok(Err(denied));
        }
        Ok(check_len("the body", &body, MAX_BODY_BYTES).and_then(|()| {
            self.store
                .queue_send(&self.caller.tenant, &queue, &body, now_millis())
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.queue.receive", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn receive(
        &mut self,
        queue: String,
        max: u32,
        visibility_seconds: u32,
    ) -> wasmtime::Result<Result<Vec<Message>, HostError>> {
        if let Some(denied) = self.denied(Resource::Queue, &queue, Access::Read) {
            return Ok(Err(denied));
        }
        if max == 0 || max > MAX_RECEIVE {
            return Ok(Err(HostError::InvalidInput(format!(
                "max must be 1 to {MAX_RECEIVE}, not {max}"
            ))));
        }
        if visibility_seconds > MAX_VISIBILITY_SECONDS {
            return Ok(Err(HostError::InvalidInput(format!(
                "visibility-seconds must be at most {MAX_VISIBILITY_SECONDS}, not {visibility_seconds}"
            ))));
        }
        Ok(self
            .store
            .queue_receive(
                &self.caller.tenant,
                &queue,
                max as usize,
                i64::from(visibility_seconds) * 1000,
                now_millis(),
            )
            .map(|received| {
                received
                    .into_iter()
                    .map(|r| Message {
                        id: r.id,
                        body: r.body,
                        receipt: r.receipt,
                        receive_count: r.receive_count,
                    })
                    .collect()
            })
            .map_err(unavailable))
    }

    #[tracing::instrument(name = "host.queue.delete", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn delete(
        &mut self,
        queue: String,
        receipt: String,
    ) -> wasmtime::Result<Result<bool, HostError>> {
        // Deleting a received message completes the receive: it needs the right to write.
        if let Some(denied) = self.denied(Resource::Queue, &queue, Access::Write) {
            return Ok(Err(denied));
        }
        Ok(check_len("the receipt", &receipt, 256).and_then(|()| {
            self.store
                .queue_delete(&self.caller.tenant, &queue, &receipt, now_millis())
                .map_err(unavailable)
        }))
    }
}
