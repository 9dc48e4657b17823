//! `sandstep:host/topic`: publishing to the tenant's SNS topics (one a module names first
//! is created), through the same publish as the SNS API and the `sns:` integrations, so
//! subscriptions and their filter policies apply alike.

use super::sandstep::host::topic::Host;
use super::{check_len, now_millis, unavailable, HostError, HostState};
use crate::grants::{Access, Resource};
use serde_json::json;

/// The largest message, in bytes (SNS's limit).
pub const MAX_MESSAGE_BYTES: usize = crate::sns::MAX_MESSAGE_BYTES;
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
            let now = now_millis();
            let tenant = &self.caller.tenant;
            let def = self
                .store
                .topic_for_module(tenant, &topic, now)
                .map_err(unavailable)?;
            let mut request = json!({"TopicArn": def.name, "Message": message, "Subject": subject});
            if let (true, Some(o)) = (def.attributes.fifo, request.as_object_mut()) {
                o.insert("MessageGroupId".into(), json!("module"));
            }
            if let Some(o) = request.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
            // The answer holds only the message id: no ARN is rendered.
            let published = crate::sns::Tenant {
                store: &self.store,
                tenant,
                region: "",
                account: "",
                now,
                effect: None,
            }
            .call("Publish", &request);
            match published {
                Ok(answer) => Ok(answer
                    .get("MessageId")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string()),
                Err(e) if e.internal => Err(HostError::Unavailable(e.message)),
                Err(e) => Err(HostError::InvalidInput(e.message)),
            }
        }))
    }
}
