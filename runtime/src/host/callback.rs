//! `sandstep:host/callback`: a module answers another task's token, as SendTaskSuccess,
//! SendTaskFailure and SendTaskHeartbeat do, within its tenant and only for the state
//! machines its grants name (`callback:<machine>` or `callback:*`).
//!
//! The answers themselves are the service layer's (`service::callbacks`), which sits
//! above the sandbox: the server binds it here as [`TokenAnswers`] once it exists.

use super::sandstep::host::callback::{CallbackError, Host};
use super::HostState;
use crate::grants::{Access, Resource};
use crate::model::Answer;
use crate::store::{TenantId, Tokens as _};
use std::sync::{Arc, OnceLock};

/// Why an answer was not taken, in the words of AWS's errors for the same answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "refused", content = "message")]
pub enum Refused {
    /// Not a token this server makes.
    InvalidToken(String),
    /// No task of the tenant has this token.
    TaskDoesNotExist(String),
    /// The task no longer waits.
    TaskTimedOut(String),
    /// The output is not JSON or too large.
    InvalidOutput(String),
    /// Something failed on our side.
    Unavailable(String),
}

/// Takes answers to task tokens. Blocking: module calls run on blocking threads.
pub trait TokenAnswers: Send + Sync + std::fmt::Debug + 'static {
    /// Delivers `answer` to the task `token` names in `tenant`.
    ///
    /// # Errors
    /// [`Refused`] as the API refuses the same answer.
    fn answer(&self, tenant: &TenantId, token: &str, answer: Answer) -> Result<(), Refused>;
}

/// Where the server binds its [`TokenAnswers`] once they exist (they depend on the
/// scheduler, which depends on the sandbox).
pub type AnswerSlot = Arc<OnceLock<Arc<dyn TokenAnswers>>>;

impl HostState {
    fn answer(&self, token: &str, answer: Answer) -> Result<(), CallbackError> {
        let Some(answers) = &self.answers else {
            return Err(CallbackError::Unavailable(
                "task tokens cannot be answered here".into(),
            ));
        };
        // The grant is per state machine: find the token's task first. A token of
        // another tenant is not found, exactly as one that never existed.
        let task = self
            .store
            .token_task(&self.caller.tenant, token)
            .map_err(|e| CallbackError::Unavailable(e.to_string()))?;
        if let Some(task) = &task {
            let machine = &task.execution.machine;
            if !self
                .module
                .grants
                .allows(Resource::Callback, machine, Access::Write)
            {
                return Err(CallbackError::AccessDenied(format!("callback:{machine}")));
            }
        }
        answers
            .answer(&self.caller.tenant, token, answer)
            .map_err(|refused| match refused {
                Refused::InvalidToken(m) => CallbackError::InvalidToken(m),
                Refused::TaskDoesNotExist(m) => CallbackError::TaskDoesNotExist(m),
                Refused::TaskTimedOut(m) => CallbackError::TaskTimedOut(m),
                Refused::InvalidOutput(m) => CallbackError::InvalidOutput(m),
                Refused::Unavailable(m) => CallbackError::Unavailable(m),
            })
    }
}

impl Host for HostState {
    #[tracing::instrument(name = "host.callback.succeed", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn succeed(
        &mut self,
        token: String,
        output: String,
    ) -> wasmtime::Result<Result<(), CallbackError>> {
        Ok(self.answer(&token, Answer::Success(output)))
    }

    #[tracing::instrument(name = "host.callback.fail", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn fail(
        &mut self,
        token: String,
        error: String,
        cause: String,
    ) -> wasmtime::Result<Result<(), CallbackError>> {
        let answer = Answer::Failure {
            error: Some(error),
            cause: Some(cause),
        };
        Ok(self.answer(&token, answer))
    }

    #[tracing::instrument(name = "host.callback.heartbeat", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn heartbeat(&mut self, token: String) -> wasmtime::Result<Result<(), CallbackError>> {
        Ok(self.answer(&token, Answer::Heartbeat))
    }
}
