//! Turning a step's commands into a store commit and the effects to run once it is
//! durable: history events, tasks, timers, the execution's end, and the counters.

use super::*;
use crate::model::REDRIVE_TOKENS_KEPT;

impl Scheduler {
    /// Turns a step's commands into its commit and the effects to run after it.
    pub(super) fn absorb(
        &self,
        live: &mut Live,
        event: Event,
        commands: Vec<Command>,
    ) -> (Commit, Effects) {
        let c = &self.inner.counters;
        c.steps.fetch_add(1, Ordering::Relaxed);
        let standard = live.record.machine_type == MachineType::Standard;
        let mut history = Vec::new();
        let mut effects = Effects::default();
        let mut tasks_started = Vec::new();
        let mut tasks_ended = Vec::new();
        let mut tasks_queued = Vec::new();
        let mut timers_ended = Vec::new();
        match &event.kind {
            EventKind::TaskSucceeded { task, usage, .. }
            | EventKind::TaskFailed { task, usage, .. } => {
                live.tasks.remove(task);
                tasks_ended.push(task.0);
                let usage = usage.as_ref().map(|u| (u.duration_ms, u.fuel_consumed));
                c.task(&live.key.tenant, usage);
            }
            EventKind::TaskRejected { task, .. } => {
                live.tasks.remove(task);
                tasks_ended.push(task.0);
                c.task(&live.key.tenant, None);
            }
            EventKind::TaskSubmitted { task, usage, .. } => {
                // The runner is done; the task waits for its token, which any later
                // event may bring. Nothing runs it again after a restart, and an
                // execution waiting only for tokens leaves memory. The module's run is
                // metered now; the task is counted when it ends.
                live.tasks.remove(task);
                tasks_ended.push(task.0);
                let usage = usage.as_ref().map(|u| (u.duration_ms, u.fuel_consumed));
                c.usage(&live.key.tenant, usage);
            }
            EventKind::TimerFired { timer } => {
                if let Some(due) = live.timers.remove(timer) {
                    timers_ended.push((*timer, due));
                }
            }
            EventKind::Redriven { client_token } => {
                let r = &mut live.record;
                r.status = Status::Running;
                (r.output, r.error, r.cause, r.stopped) = (None, None, None, None);
                r.redrive_count += 1;
                r.redrive_date = Some(event.at);
                if let Some(token) = client_token {
                    r.redrive_tokens.push((token.clone(), event.at));
                    let over = r.redrive_tokens.len().saturating_sub(REDRIVE_TOKENS_KEPT);
                    r.redrive_tokens.drain(..over);
                }
                effects.reopened = Some(r.clone());
            }
            EventKind::Started(_)
            | EventKind::TaskStarted { .. }
            | EventKind::TaskHeartbeat { .. }
            | EventKind::Stopped { .. }
            | EventKind::Terminated { .. } => {}
        }
        let mut events = 0;
        for command in commands {
            match command {
                Command::Record(e) => {
                    events += 1;
                    if e.kind.ends_with("StateEntered") {
                        c.transitions.fetch_add(1, Ordering::Relaxed);
                    }
                    if standard {
                        history.push(e.to_aws_json());
                    }
                }
                Command::RunTask(request) if self.queueable(live, &request) => {
                    // It waits in its activity's queue, written with this step; nothing
                    // runs it here, and the execution may leave memory meanwhile.
                    if let Some(activity) = request.activity() {
                        effects.queued.push(activity.name.to_string());
                    }
                    tasks_queued.push(request);
                }
                Command::RunTask(request) => {
                    let cancelled = Arc::new(AtomicBool::new(false));
                    live.tasks.insert(request.id, Arc::clone(&cancelled));
                    if standard {
                        tasks_started.push(request.clone());
                    }
                    effects.tasks.push(TaskContext {
                        tenant: live.key.tenant.clone(),
                        execution_arn: live.record.arn.clone(),
                        pins: Arc::clone(&live.pins),
                        progress: Progress::ignored(request.id),
                        request,
                        cancelled,
                    });
                }
                Command::CancelTask(task) => {
                    if let Some(flag) = live.tasks.remove(&task) {
                        flag.store(true, Ordering::SeqCst);
                    }
                    tasks_ended.push(task.0);
                    effects.cancelled.push(task);
                }
                Command::StartTimer { timer, due } => {
                    live.timers.insert(timer, due);
                    effects.timers.push((timer, due));
                }
                Command::CancelTimer(timer) => {
                    if let Some(due) = live.timers.remove(&timer) {
                        timers_ended.push((timer, due));
                        effects.timers_cancelled.push((timer, due));
                    }
                }
                Command::Finish(outcome) => {
                    effects.finished = true;
                    let r = &mut live.record;
                    r.stopped = Some(event.at);
                    let status = match &outcome {
                        Outcome::Succeeded(output) => {
                            r.output = Some(output.to_string());
                            Status::Succeeded
                        }
                        Outcome::Failed { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            Status::Failed
                        }
                        Outcome::TimedOut { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            Status::TimedOut
                        }
                        Outcome::Aborted { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            Status::Aborted
                        }
                    };
                    r.status = status;
                    c.finished(&live.key.tenant, status);
                }
            }
        }
        live.record.steps += 1;
        live.record.events += events;
        if !effects.cancelled.is_empty() {
            effects.arn = live.record.arn.clone();
        }
        // A nested execution that ended owes its waiting parent an answer: stored with
        // this step, delivered after it.
        let notice = match effects.finished {
            true => Scheduler::notice_of(&live.record),
            false => None,
        };
        effects.notice = notice.clone().map(|n| (n, standard));
        effects.ended = (effects.finished && standard).then(|| live.record.clone());
        if effects.finished {
            // Timers an ended execution leaves behind never fire into it: out with them.
            for (timer, due) in std::mem::take(&mut live.timers) {
                if !effects.timers.contains(&(timer, due)) {
                    timers_ended.push((timer, due));
                }
                effects.timers_cancelled.push((timer, due));
            }
        }
        effects.run = live.record.started;
        let timers_started = effects.timers.clone();
        let commit = Commit {
            key: live.key.clone(),
            record: live.record.clone(),
            step: Step { event, history },
            timers_started,
            timers_ended,
            tasks_started,
            tasks_ended,
            tasks_queued,
            notice: notice.filter(|_| standard),
        };
        (commit, effects)
    }

    pub(super) fn run_effects(&self, key: &ExecutionKey, effects: Effects) {
        for (timer, due) in effects.timers {
            self.inner
                .timers
                .add(due, key.clone(), timer, Some(effects.run));
        }
        for (timer, due) in effects.timers_cancelled {
            self.inner
                .timers
                .cancel(due, key.clone(), timer, Some(effects.run));
        }
        if !effects.cancelled.is_empty() {
            self.stop_children(key, effects.cancelled, effects.arn);
        }
        if let Some(reopened) = &effects.reopened {
            self.status_changed(&key.tenant, reopened);
        }
        if let Some(ended) = &effects.ended {
            self.status_changed(&key.tenant, ended);
        }
        if let Some((notice, stored)) = effects.notice {
            self.deliver_notice(notice, stored);
        }
        for activity in &effects.queued {
            self.inner.doorbells.ring(&key.tenant, activity);
        }
        for task in effects.tasks {
            self.spawn_task(key.clone(), task);
        }
    }
}
