//! Activity tasks in the scheduler: a step that schedules one puts it in its activity's
//! queue (in the step's own commit) and rings the activity's doorbell; the execution then
//! waits in the store, like one waiting for a callback, until a worker's answer loads it.
//! A task whose activity is missing is rejected instead: the execution fails with
//! `States.Runtime`, as on AWS.

use super::*;
use crate::arn::Arn;

impl Scheduler {
    /// Whether `request`, an activity task of `live`, goes to its activity's queue: it
    /// must belong to a Standard execution and name an existing activity of the same
    /// tenant (the account and region of the execution's ARN). Anything else is rejected
    /// by [`reject`](Self::reject) through the ordinary task path, which also answers it
    /// again after a crash.
    pub(super) fn queueable(&self, live: &Live, request: &TaskRequest) -> bool {
        let Some(activity) = request.activity() else {
            return false;
        };
        if live.record.machine_type != MachineType::Standard {
            return false;
        }
        let ours = matches!(Arn::parse(&live.record.arn),
            Ok(Arn::Execution { region, account, .. })
                if region == activity.region && account == activity.account);
        if !ours {
            return false;
        }
        match self
            .inner
            .store
            .activity_get(&live.key.tenant, activity.name)
        {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::error!(tenant = %live.key.tenant, activity = activity.name, error = %e,
                    "cannot read the activity; its task is rejected");
                false
            }
        }
    }

    /// The answer to an activity task that could not be queued.
    pub(super) fn reject(task: &TaskContext) -> EventKind {
        let arn = &task.request.resource;
        let express = task.execution_arn.contains(":express:");
        EventKind::TaskRejected {
            task: task.request.id,
            cause: match express {
                true => format!("Express executions cannot run activity tasks ({arn})."),
                false => format!("The activity {arn} does not exist."),
            },
        }
    }
}
