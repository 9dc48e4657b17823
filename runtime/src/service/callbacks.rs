//! SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat: answers from outside to tasks that
//! wait for their token (`.waitForTaskToken` and activity tasks), from API clients and
//! from modules (`sandstep:host/callback`). A token is looked up in the caller's tenant
//! only, so another tenant's token answers exactly as one that never existed.

use super::{Error, Result};
use crate::host::callback::{Refused, TokenAnswers};
use crate::model::ExecutionKey;
use crate::scheduler::Scheduler;
use crate::store::tokens::TokenTask;
use crate::store::{Store, TenantId, Tokens as _};
use crate::tenants::Tenant;
use sandstep_engine::execution::PAYLOAD_LIMIT_BYTES;
use sandstep_engine::EventKind;

/// The longest `error` AWS accepts, in characters.
pub const MAX_ERROR_CHARS: usize = 256;
/// The longest `cause` AWS accepts, in characters.
pub const MAX_CAUSE_CHARS: usize = 32_768;

pub use crate::model::Answer;

/// The answers to waiting tasks.
#[derive(Debug, Clone)]
pub struct Callbacks {
    store: Store,
    scheduler: Scheduler,
}

impl Callbacks {
    /// Answers for the tasks of `scheduler`'s executions in `store`.
    pub fn new(store: Store, scheduler: Scheduler) -> Callbacks {
        Callbacks { store, scheduler }
    }

    /// Delivers `answer` to the task `token` names.
    ///
    /// # Errors
    /// [`Error::InvalidTaskToken`] for text that is not a Sandstep token,
    /// [`Error::TaskDoesNotExist`] for a token the tenant never had,
    /// [`Error::TaskTimedOut`] for a task that no longer waits (answered, timed out,
    /// cancelled), [`Error::InvalidOutput`] for an output that is not JSON or too large.
    #[tracing::instrument(level = "debug", name = "service.send_task_answer", skip_all,
        fields(tenant = %tenant.id))]
    pub async fn send(&self, tenant: &Tenant, token: &str, answer: Answer) -> Result<()> {
        self.send_in(&tenant.id, token, answer).await
    }

    /// [`send`](Self::send) within the tenant `tenant`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_in(&self, tenant: &TenantId, token: &str, answer: Answer) -> Result<()> {
        if !well_formed(token) {
            return Err(Error::InvalidTaskToken(token.chars().take(64).collect()));
        }
        let kind_of = |task| -> Result<EventKind> {
            Ok(match &answer {
                Answer::Success(output) => EventKind::TaskSucceeded {
                    task,
                    output: output_of(output)?,
                    usage: None,
                },
                Answer::Failure { error, cause } => EventKind::TaskFailed {
                    task,
                    error: error.clone().unwrap_or_default(),
                    cause: cause.clone().unwrap_or_default(),
                    usage: None,
                },
                Answer::Heartbeat => EventKind::TaskHeartbeat { task },
            })
        };
        let Some(TokenTask { execution, task }) = self.store.token_task(tenant, token)? else {
            return Err(Error::TaskDoesNotExist);
        };
        let kind = kind_of(task)?;
        self.deliver(&execution, kind).await
    }

    /// These answers for module calls, which run on blocking threads: each waits on
    /// `runtime` for its delivery.
    pub fn blocking(&self, runtime: tokio::runtime::Handle) -> BlockingCallbacks {
        BlockingCallbacks {
            callbacks: self.clone(),
            runtime,
        }
    }

    async fn deliver(&self, execution: &ExecutionKey, kind: EventKind) -> Result<()> {
        match self.scheduler.answer(execution, kind).await? {
            true => Ok(()),
            false => Err(Error::TaskTimedOut),
        }
    }
}

/// [`Callbacks`] for modules (`sandstep:host/callback`), called from blocking threads.
#[derive(Debug, Clone)]
pub struct BlockingCallbacks {
    callbacks: Callbacks,
    runtime: tokio::runtime::Handle,
}

impl TokenAnswers for BlockingCallbacks {
    fn answer(
        &self,
        tenant: &TenantId,
        token: &str,
        answer: Answer,
    ) -> std::result::Result<(), Refused> {
        let sent = self
            .runtime
            .block_on(self.callbacks.send_in(tenant, token, answer));
        sent.map_err(refused)
    }
}

/// Why a module's answer was not taken, in the host's terms.
pub fn refused(e: Error) -> Refused {
    let message = e.to_string();
    match e {
        Error::InvalidTaskToken(_) => Refused::InvalidToken(message),
        Error::TaskDoesNotExist => Refused::TaskDoesNotExist(message),
        Error::TaskTimedOut => Refused::TaskTimedOut(message),
        Error::InvalidOutput(_) => Refused::InvalidOutput(message),
        _ => Refused::Unavailable(message),
    }
}

/// Sandstep's tokens are 32 lowercase hex digits (128 bits).
fn well_formed(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An answer's output: JSON within the payload limit.
fn output_of(text: &str) -> Result<serde_json::Value> {
    if text.len() > PAYLOAD_LIMIT_BYTES {
        return Err(Error::InvalidOutput(format!(
            "the output is {} bytes, above the limit of {PAYLOAD_LIMIT_BYTES} bytes",
            text.len()
        )));
    }
    serde_json::from_str(text).map_err(|e| Error::InvalidOutput(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_outputs_are_checked_before_anything_is_looked_up() {
        assert!(well_formed("0123456789abcdef0123456789abcdef"));
        assert!(!well_formed("0123456789ABCDEF0123456789ABCDEF"));
        assert!(!well_formed("short"));
        assert!(output_of("{\"ok\": true}").is_ok());
        assert!(matches!(output_of("{nope"), Err(Error::InvalidOutput(_))));
        let big = format!("\"{}\"", "x".repeat(PAYLOAD_LIMIT_BYTES));
        assert!(matches!(output_of(&big), Err(Error::InvalidOutput(_))));
    }
}
