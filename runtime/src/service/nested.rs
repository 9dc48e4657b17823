//! The service's side of nested executions: starting the child a parent's
//! `states:startExecution` task asks for, with the checks of StartExecution, and AWS's
//! `StepFunctions.<Exception>` error names for the parent's Retry and Catch.

use super::executions::{Executions, NewExecution};
use super::Error;
use crate::model::Status;
use crate::scheduler::nested::{ChildRefused, ChildStart, ChildStarter, Starting};

impl ChildStarter for Executions {
    fn start_child(&self, child: ChildStart) -> Starting<'_> {
        Box::pin(async move {
            let new = NewExecution {
                state_machine_arn: child.state_machine_arn.clone(),
                name: Some(child.name.clone()),
                input: Some(child.input.clone()),
            };
            let mut request = self
                .prepare_for(&child.tenant, &child.account, new)
                .map_err(refused)?;
            request.parent = Some(child.parent.clone());
            match self.scheduler().start(request, false).await {
                Ok(started) => Ok(started),
                // This parent task started it before (the task ran again after a crash).
                Err(crate::scheduler::Error::AlreadyExists(existing))
                    if existing.parent.as_ref() == Some(&child.parent)
                        && existing.input == child.input =>
                {
                    Ok(*existing)
                }
                Err(crate::scheduler::Error::AlreadyExists(existing))
                    if existing.status == Status::Running && existing.input == child.input =>
                {
                    Ok(*existing)
                }
                Err(e) => Err(refused(e.into())),
            }
        })
    }
}

/// A start refused, as the integration's error for the parent's task.
fn refused(e: Error) -> ChildRefused {
    let error = match &e {
        Error::StateMachineDoesNotExist(_) => "StepFunctions.StateMachineDoesNotExistException",
        Error::ExecutionAlreadyExists(_) => "StepFunctions.ExecutionAlreadyExistsException",
        Error::InvalidName(_) => "StepFunctions.InvalidNameException",
        Error::InvalidArn(_) | Error::WrongResource { .. } => "StepFunctions.InvalidArnException",
        Error::InputTooLarge { .. } | Error::InputNotJson(_) => {
            "StepFunctions.InvalidExecutionInputException"
        }
        Error::ExecutionLimitExceeded(_) => "StepFunctions.ExecutionLimitExceededException",
        _ => "States.TaskFailed",
    };
    ChildRefused {
        error: error.to_string(),
        cause: e.to_string(),
    }
}
