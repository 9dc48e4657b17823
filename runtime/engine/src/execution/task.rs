//! Task states: scheduling a task with its resolved parameters, the engine's timeout and
//! heartbeat timers, and the events that report on it (started, heartbeat, succeeded,
//! failed, timed out).
//!
//! The timers are the engine's, not the runner's: a task a worker or a callback answers
//! has nothing else to time it out. `TimeoutSeconds` counts from `TaskScheduled` (time
//! spent waiting for a free slot or a worker counts, as on AWS); `HeartbeatSeconds` from
//! `TaskStarted` and each heartbeat. The sandbox keeps its own deadline as a second line.

use super::*;

impl Run<'_, '_> {
    pub(super) fn schedule_task(
        &mut self,
        frame_id: FrameId,
        resource: &str,
        timeout: Option<&Amount>,
        heartbeat: Option<&Amount>,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let task = TaskId(self.id());
        let activity = crate::activity_arn(resource).is_some();
        // A worker answers an activity task with its token, as a callback answers a
        // `.waitForTaskToken` one.
        let token = match activity || resource.ends_with(".waitForTaskToken") {
            true => Some(self.task_token(task)?),
            false => None,
        };
        self.frame_mut(frame_id)?.pending = Pending::Task {
            task,
            resource: resource.to_string(),
            token: token.clone(),
            clock: TaskClock::default(),
        };
        let parameters = match &state.parameters {
            Some(p) => self.eval(frame_id, &effective, None, |s, rng| s.template(p, rng))?,
            None => Ok((*effective).clone()),
        };
        let resolved = parameters.and_then(|p| {
            let t = self.amount(frame_id, &effective, timeout, "TimeoutSecondsPath")?;
            let h = self.amount(frame_id, &effective, heartbeat, "HeartbeatSecondsPath")?;
            Ok((p, t, h))
        });
        let (input, timeout_seconds, heartbeat_seconds) = match resolved {
            Ok(r) => r,
            Err(f) => {
                self.frame_mut(frame_id)?.pending = Pending::Idle;
                return self.state_failed(frame_id, f);
            }
        };
        self.note(frame_id, |s| s.after_parameters = Some(input.clone()));
        if let Some(failure) = self.over_limits(&input, &state.name) {
            self.frame_mut(frame_id)?.pending = Pending::Idle;
            return self.state_failed(frame_id, failure);
        }
        let mut details = Map::new();
        if activity {
            details.insert("resource".into(), Value::String(resource.to_string()));
            details.insert("input".into(), Value::String(compact(&input)));
            details.insert("inputDetails".into(), json!({"truncated": false}));
        } else {
            let (resource_type, resource_name) = split_resource(resource);
            details.insert("resourceType".into(), Value::String(resource_type));
            details.insert("resource".into(), Value::String(resource_name));
            details.insert(
                "region".into(),
                Value::String(region_of(&self.start_facts()?.state_machine_arn)),
            );
            details.insert("parameters".into(), Value::String(compact(&input)));
        }
        if let Some(t) = timeout_seconds {
            details.insert("timeoutInSeconds".into(), Value::from(t));
        }
        if let Some(h) = heartbeat_seconds {
            details.insert("heartbeatInSeconds".into(), Value::from(h));
        }
        let kind = match activity {
            true => "ActivityScheduled",
            false => "TaskScheduled",
        };
        self.record(Some(frame_id), kind, Details::Fields(details));
        self.st.tasks.insert(task, frame_id);
        let timeout = timeout_seconds.map(|t| (t, self.arm(TimerFor::TaskTimeout(task), t)));
        let clock = self.clock_mut(frame_id)?;
        clock.timeout = timeout;
        clock.heartbeat_seconds = heartbeat_seconds;
        let attempt = self.frame(frame_id)?.retry_count;
        self.out.push(Command::RunTask(TaskRequest {
            id: task,
            resource: resource.to_string(),
            input,
            timeout_seconds,
            heartbeat_seconds,
            attempt,
            state_name: state.name.to_string(),
            task_token: token,
        }));
        Ok(())
    }

    pub(super) fn amount(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        amount: Option<&Amount>,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match amount {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(n.max(0.0) as u64)),
            Some(Amount::Path(r)) => {
                let v = self
                    .eval(frame_id, effective, None, |s, _| {
                        // A path that matches nothing fails as AWS words it.
                        s.resolve(r)?.map(Some).ok_or_else(|| s.invalid_path(r))
                    })
                    .map_err(|e| Failure::runtime(e.to_string()))??;
                match v.as_ref().and_then(Value::as_u64) {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(Failure::runtime(format!(
                        "The {field} field refers to value {} which is not a positive integer: {}",
                        v.map(|v| compact(&v)).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
            Some(Amount::Query(query)) => {
                let field = field.trim_end_matches("Path");
                match self.query_number(frame_id, query, field, true, 1.0) {
                    Ok(n) => n.map(|n| Some(n as u64)),
                    Err(e) => Err(Failure::runtime(e.to_string())),
                }
            }
        }
    }

    pub(super) fn task_frame(&mut self, task: TaskId) -> Result<FrameId, Error> {
        self.st
            .tasks
            .get(&task)
            .copied()
            .ok_or_else(|| Error::UnexpectedEvent(format!("no running task {}", task.0)))
    }

    /// The fields every event of a task carries: its resource, split as AWS does. An
    /// activity's events carry none (`ActivityScheduled` names the ARN).
    pub(super) fn task_details(&self, frame_id: FrameId) -> Result<Map<String, Value>, Error> {
        let resource = match &self.frame(frame_id)?.pending {
            Pending::Task { resource, .. } => resource.clone(),
            _ => String::new(),
        };
        let mut details = Map::new();
        if crate::activity_arn(&resource).is_none() {
            let (resource_type, resource_name) = split_resource(&resource);
            details.insert("resourceType".into(), Value::String(resource_type));
            details.insert("resource".into(), Value::String(resource_name));
        }
        Ok(details)
    }

    /// Whether the task running in `frame_id` is an activity's.
    fn runs_activity(&self, frame_id: FrameId) -> Result<bool, Error> {
        Ok(matches!(
            &self.frame(frame_id)?.pending,
            Pending::Task { resource, .. } if crate::activity_arn(resource).is_some()
        ))
    }

    /// The event type of a task's `Task...` event, or its `Activity...` twin.
    fn task_event(&self, frame_id: FrameId, what: &'static str) -> Result<&'static str, Error> {
        let activity = self.runs_activity(frame_id)?;
        Ok(match (what, activity) {
            ("Started", false) => "TaskStarted",
            ("Started", true) => "ActivityStarted",
            ("Succeeded", false) => "TaskSucceeded",
            ("Succeeded", true) => "ActivitySucceeded",
            ("Failed", false) => "TaskFailed",
            ("Failed", true) => "ActivityFailed",
            ("TimedOut", false) => "TaskTimedOut",
            _ => "ActivityTimedOut",
        })
    }

    /// The task's runner (or an activity worker, `worker` naming it) began it. Recorded
    /// once; a task run again after a restart starts its heartbeat clock again without a
    /// second `TaskStarted`.
    pub(super) fn task_started(&mut self, task: TaskId, worker: Option<&str>) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        if self.map_run_of(task).is_some() {
            return Ok(()); // a Map Run reports only its end
        }
        if !self.clock_mut(frame_id)?.started {
            let mut details = self.task_details(frame_id)?;
            if let Some(worker) = worker {
                details.insert("workerName".into(), Value::String(worker.to_string()));
            }
            let kind = self.task_event(frame_id, "Started")?;
            self.record(Some(frame_id), kind, Details::Fields(details));
            self.clock_mut(frame_id)?.started = true;
        }
        self.rearm_heartbeat(frame_id, task)
    }

    /// The runtime could not hand the task over: the execution fails with
    /// `States.Runtime`, and the task records nothing of its own.
    pub(super) fn task_rejected(&mut self, task: TaskId, cause: &str) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        self.st.tasks.remove(&task);
        self.stop_task_clock(frame_id);
        self.frame_idle(frame_id);
        self.state_failed(frame_id, Failure::runtime(cause))?;
        self.drain()
    }

    /// `$$.Task.Token` of a task: 128 bits of SHA-256 over the execution's token key and
    /// the task's id, so each attempt (a retry is a new task) has its own token, nobody
    /// without the key can guess one, and a replay derives the same.
    fn task_token(&mut self, task: TaskId) -> Result<String, Error> {
        use sha2::{Digest, Sha256};
        let Some(key) = self.start_facts()?.token_key.as_deref() else {
            return Ok(self.rng.uuid());
        };
        let digest = Sha256::digest(format!("{key}:{}", task.0).as_bytes());
        Ok(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
    }

    /// The task's integration handed it over and it now waits for its token: recorded
    /// as `TaskSubmitted`; the task goes on waiting (its timers too).
    pub(super) fn task_submitted(
        &mut self,
        task: TaskId,
        output: &Value,
        usage: Option<&TaskUsage>,
    ) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        if self.map_run_of(task).is_some() {
            return Ok(()); // the Map Run runs on its own; its end answers the task
        }
        let mut details = self.task_details(frame_id)?;
        add_usage(&mut details, usage);
        details.insert("output".into(), Value::String(compact(output)));
        details.insert("outputDetails".into(), json!({"truncated": false}));
        self.record(Some(frame_id), "TaskSubmitted", Details::Fields(details));
        Ok(())
    }

    /// The task said it is alive: its heartbeat clock starts again.
    pub(super) fn task_heartbeat(&mut self, task: TaskId) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        if self.map_run_of(task).is_some() {
            return Ok(());
        }
        self.rearm_heartbeat(frame_id, task)
    }

    fn rearm_heartbeat(&mut self, frame_id: FrameId, task: TaskId) -> Result<(), Error> {
        let clock = self.clock_mut(frame_id)?;
        let Some(seconds) = clock.heartbeat_seconds else {
            return Ok(());
        };
        if let Some(old) = clock.heartbeat.take() {
            self.disarm(old);
        }
        let timer = self.arm(TimerFor::TaskHeartbeat(task), seconds);
        self.clock_mut(frame_id)?.heartbeat = Some(timer);
        Ok(())
    }

    /// A task's timeout or heartbeat timer fired: the task is cancelled and fails with
    /// `States.Timeout` or `States.HeartbeatTimeout`, which Retry and Catch see as any
    /// other error.
    pub(super) fn task_timed_out(&mut self, task: TaskId, heartbeat: bool) -> Result<(), Error> {
        let Some(&frame_id) = self.st.tasks.get(&task) else {
            return Ok(()); // its timers went with it; nothing is left to time out
        };
        let clock = self.clock_mut(frame_id)?;
        let failure = if heartbeat {
            clock.heartbeat = None;
            let seconds = clock.heartbeat_seconds.unwrap_or_default();
            Failure::new(
                ErrorName::HeartbeatTimeout,
                format!("the task sent no heartbeat within its HeartbeatSeconds ({seconds} s)"),
            )
        } else {
            let seconds = clock.timeout.take().map(|(s, _)| s).unwrap_or_default();
            Failure::new(
                ErrorName::Timeout,
                format!("the task did not finish within its TimeoutSeconds ({seconds} s)"),
            )
        };
        self.out.push(Command::CancelTask(task));
        self.task_failed(task, failure, None)
    }

    fn clock_mut(&mut self, frame_id: FrameId) -> Result<&mut TaskClock, Error> {
        match &mut self.frame_mut(frame_id)?.pending {
            Pending::Task { clock, .. } => Ok(clock),
            _ => Err(Error::UnexpectedEvent(format!(
                "frame {frame_id} runs no task"
            ))),
        }
    }

    /// Cancels the timers of a task that has ended, however it ended.
    pub(super) fn stop_task_clock(&mut self, frame_id: FrameId) {
        let Some(Frame {
            pending: Pending::Task { clock, .. },
            ..
        }) = self.st.frames.get_mut(&frame_id)
        else {
            return;
        };
        let timers = [clock.timeout.take().map(|(_, t)| t), clock.heartbeat.take()];
        for timer in timers.into_iter().flatten() {
            self.disarm(timer);
        }
    }

    pub(super) fn task_succeeded(
        &mut self,
        task: TaskId,
        output: Value,
        usage: Option<&TaskUsage>,
    ) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        if self.map_run_of(task).is_some() {
            return self.map_run_succeeded(task, frame_id, output);
        }
        let mut details = self.task_details(frame_id)?;
        add_usage(&mut details, usage);
        details.insert("output".into(), Value::String(compact(&output)));
        details.insert("outputDetails".into(), json!({"truncated": false}));
        let kind = self.task_event(frame_id, "Succeeded")?;
        self.record(Some(frame_id), kind, Details::Fields(details));
        self.st.tasks.remove(&task);
        self.stop_task_clock(frame_id);
        self.complete(frame_id, Arc::new(output))?;
        self.frame_idle(frame_id);
        Ok(())
    }

    pub(super) fn task_failed(
        &mut self,
        task: TaskId,
        failure: Failure,
        usage: Option<&TaskUsage>,
    ) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        if self.map_run_of(task).is_some() {
            return self.map_run_failed(task, frame_id, failure);
        }
        let mut details = self.task_details(frame_id)?;
        add_usage(&mut details, usage);
        let timed_out = matches!(
            failure.error,
            Some(ErrorName::Timeout | ErrorName::HeartbeatTimeout)
        );
        let error = failure.error.as_ref().map(|e| e.to_string());
        let cause = failure.cause.clone();
        if self.runs_activity(frame_id)? {
            // AWS leaves out what the worker did not give.
            let given = |v: Option<String>| v.filter(|v| !v.is_empty());
            if let Some(error) = given(error) {
                details.insert("error".into(), Value::String(error));
            }
            if let Some(cause) = given(cause) {
                details.insert("cause".into(), Value::String(cause));
            }
        } else {
            details.insert("error".into(), Value::String(error.unwrap_or_default()));
            details.insert("cause".into(), Value::String(cause.unwrap_or_default()));
        }
        let kind = self.task_event(frame_id, if timed_out { "TimedOut" } else { "Failed" })?;
        self.record(Some(frame_id), kind, Details::Fields(details));
        self.st.tasks.remove(&task);
        self.stop_task_clock(frame_id);
        self.frame_idle(frame_id);
        self.state_failed(frame_id, failure)?;
        self.drain()
    }

    pub(super) fn frame_idle(&mut self, frame_id: FrameId) {
        if let Some(fr) = self.st.frames.get_mut(&frame_id) {
            if matches!(
                fr.pending,
                Pending::Task { .. }
                    | Pending::Wait(_)
                    | Pending::Retry(_)
                    | Pending::MapRun { .. }
            ) {
                fr.pending = Pending::Idle;
            }
        }
    }
}

/// Sandstep's own addition to task events: which module version ran and its fuel. Kept
/// under one key so AWS clients, which skip unknown fields, are not confused.
pub(super) fn add_usage(details: &mut Map<String, Value>, usage: Option<&TaskUsage>) {
    if let Some(u) = usage.and_then(|u| serde_json::to_value(u).ok()) {
        details.insert("sandstepUsage".into(), u);
    }
}

/// Splits a Task resource into AWS's `resourceType` and `resource` history fields:
/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`),
/// `arn:aws:lambda:us-east-1:1:function:f` → (`lambda`, `function:f`... as AWS).
pub(super) fn split_resource(resource: &str) -> (String, String) {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "states", "", "", rest] => match rest.split_once(':') {
            Some((service, action)) => (service.to_string(), action.to_string()),
            None => (rest.to_string(), String::new()),
        },
        ["arn", _, service, _, _, rest] => (service.to_string(), rest.to_string()),
        _ => (String::new(), resource.to_string()),
    }
}

pub(super) fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("us-east-1").to_string()
}
