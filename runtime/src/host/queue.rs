//! `sandstep:host/queue`: messages with visibility timeouts, over [`crate::store::Queues`]:
//! the tenant's SQS queues (one a module names first is created as a standard queue).

use super::sandstep::host::queue::{Host, Message as Received};
use super::{check_len, now_millis, unavailable, HostError, HostState};
use crate::grants::{Access, Resource};
use crate::store::queues::Message;
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
            let now = now_millis();
            let tenant = &self.caller.tenant;
            let def = self
                .store
                .queue_for_module(tenant, &queue, now)
                .map_err(unavailable)?;
            let delay = i64::from(def.attributes.delay_seconds) * 1000;
            let message = Message {
                id: String::new(),
                body,
                visible_at: now + delay,
                receive_count: 0,
                sent: Some(now),
                first_received: None,
                attributes: Default::default(),
                group: def.attributes.fifo.then(|| "module".to_string()),
                dedup: None,
            };
            self.store
                .message_send(tenant, &def, message, now, None)
                .map(|sent| sent.id)
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
    ) -> wasmtime::Result<Result<Vec<Received>, HostError>> {
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
        let now = now_millis();
        let tenant = &self.caller.tenant;
        let taken = self
            .store
            .queue_for_module(tenant, &queue, now)
            .and_then(|def| {
                self.store.message_receive(
                    tenant,
                    &def,
                    max as usize,
                    i64::from(visibility_seconds) * 1000,
                    now,
                )
            });
        Ok(taken
            .map(|taken| {
                taken
                    .into_iter()
                    .map(|t| Received {
                        id: t.message.id,
                        body: t.message.body,
                        receipt: t.receipt,
                        receive_count: t.message.receive_count,
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
                .message_delete(&self.caller.tenant, &queue, &receipt)
                .map_err(unavailable)
        }))
    }
}
