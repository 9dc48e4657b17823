//! How states and executions fail: Retry and Catch, cancelling what runs under a failed
//! frame, and the execution's end (failed, stopped, finished).

use super::*;

impl Run<'_, '_> {
    pub(super) fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        let mut details = Map::new();
        if let Some(e) = &error {
            details.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &cause {
            details.insert("cause".into(), Value::String(c.clone()));
        }
        self.record(None, "ExecutionAborted", Details::Fields(details));
        self.cancel_everything(true);
        self.finish(Outcome::Aborted { error, cause });
    }

    /// Ends every task, timer and frame. With `keep`, the frames are kept among the
    /// fallen (the execution did not succeed: a redrive runs them again).
    pub(super) fn cancel_everything(&mut self, keep: bool) {
        let tasks: Vec<TaskId> = self.st.tasks.keys().copied().collect();
        for task in tasks {
            self.out.push(Command::CancelTask(task));
        }
        let timers: Vec<TimerId> = self.st.timers.keys().copied().collect();
        for timer in timers {
            self.out.push(Command::CancelTimer(timer));
        }
        self.st.tasks.clear();
        self.st.timers.clear();
        let frames = std::mem::take(&mut self.st.frames);
        if keep {
            for (id, frame) in frames {
                self.fall(id, frame);
            }
        } else {
            self.st.fallen.clear();
        }
        self.st.execution_timer = None;
        self.st.runnable.clear();
        self.queue.clear();
    }

    /// Removes a frame and everything running under it (a failed sibling's branches).
    pub(super) fn cancel_frame(&mut self, frame_id: FrameId) {
        let now = self.now;
        self.visit(frame_id, |v| {
            if v.status == VisitStatus::Running {
                v.status = VisitStatus::Cancelled;
                v.exited_at = Some(now);
            }
        });
        self.stop_task_clock(frame_id);
        let Some(fr) = self.st.frames.remove(&frame_id) else {
            return;
        };
        match &fr.pending {
            Pending::Task { task, .. } => {
                self.st.tasks.remove(task);
                self.out.push(Command::CancelTask(*task));
            }
            Pending::Wait(timer) | Pending::Retry(timer) => {
                self.st.timers.remove(timer);
                self.out.push(Command::CancelTimer(*timer));
            }
            Pending::Fanout(fan) => {
                for child in fan.children.keys() {
                    self.cancel_frame(*child);
                }
            }
            Pending::MapRun { task, .. } => {
                if self.st.tasks.remove(task).is_some() {
                    self.out.push(Command::CancelTask(*task));
                }
            }
            Pending::Idle => {}
        }
        self.fall(frame_id, fr);
    }

    /// AWS names the state and its entry event in every runtime error's cause.
    pub(super) fn located(
        &self,
        frame_id: FrameId,
        mut failure: Failure,
    ) -> Result<Failure, Error> {
        const PREFIX: &str = "An error occurred while executing the state";
        if !matches!(
            failure.error,
            Some(ErrorName::Runtime | ErrorName::QueryEvaluationError)
        ) {
            return Ok(failure);
        }
        let fr = self.frame(frame_id)?;
        let name = &self.def.state(fr.state)?.name;
        let cause = failure.cause.take().unwrap_or_default();
        if cause.starts_with(PREFIX) {
            failure.cause = Some(cause);
        } else {
            failure.cause = Some(format!(
                "{PREFIX} '{name}' (entered at the event id #{}). {cause}",
                fr.entered_event
            ));
        }
        Ok(failure)
    }

    /// A state raised `failure`: retry it, catch it, or fail the frame.
    pub(super) fn state_failed(
        &mut self,
        frame_id: FrameId,
        failure: Failure,
    ) -> Result<(), Error> {
        let failure = self.located(frame_id, failure)?;
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let in_task = matches!(state.kind, Kind::Task { .. });
        if let Some(index) = state
            .retry
            .iter()
            .position(|r| failure.matched_by(&r.error_equals, in_task))
        {
            let attempts = fr.retry_attempts.get(index).copied().unwrap_or(0);
            if let Some(retrier) = state.retry.get(index) {
                if attempts < retrier.max_attempts {
                    let mut delay =
                        retrier.interval_seconds * retrier.backoff_rate.powi(attempts as i32);
                    if let Some(max) = retrier.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if retrier.full_jitter {
                        delay *= self.rng.next_f64();
                    }
                    self.note_failed(frame_id, &failure, VisitStatus::Running);
                    // The whole state runs again: what fell under it is moot.
                    self.forget_fallen_under(frame_id);
                    let timer = TimerId(self.id());
                    let due = self.now + (delay * 1000.0).round() as i64;
                    let fr = self.frame_mut(frame_id)?;
                    if let Some(a) = fr.retry_attempts.get_mut(index) {
                        *a += 1;
                    }
                    fr.retry_count += 1;
                    fr.pending = Pending::Retry(timer);
                    self.st.timers.insert(timer, TimerFor::Retry(frame_id));
                    self.out.push(Command::StartTimer { timer, due });
                    return Ok(());
                }
            }
        }
        if let Some(catcher) = state
            .catch
            .iter()
            .find(|c| failure.matched_by(&c.error_equals, in_task))
        {
            let error_output = Arc::new(failure_object(&failure));
            if state.language == QueryLanguage::Jsonata {
                return self.catch_jsonata(frame_id, catcher, failure, error_output);
            }
            let raw = self.frame(frame_id)?.input.clone();
            let assigned = match &catcher.assign {
                Some(t) => {
                    match self.eval(frame_id, &error_output, None, |s, rng| s.template(t, rng))? {
                        Ok(v) => Some(v),
                        Err(f) => {
                            self.note_failed(frame_id, &f, VisitStatus::Failed);
                            return self.frame_done(frame_id, Err(f));
                        }
                    }
                }
                None => None,
            };
            self.note_failed(frame_id, &failure, VisitStatus::Caught);
            let output = match apply_result_path(&catcher.result_path, raw, error_output) {
                Ok(v) => v,
                Err(f) => {
                    self.note_failed(frame_id, &f, VisitStatus::Failed);
                    return self.frame_done(frame_id, Err(f));
                }
            };
            self.note(frame_id, |s| {
                s.after_result_path = Some((*output).clone());
                s.output = Some((*output).clone());
                s.variables = assigned.clone();
            });
            self.assign(frame_id, assigned)?;
            self.exited(frame_id, &output)?;
            return self.goto(frame_id, Some(catcher.next), output);
        }
        self.note_failed(frame_id, &failure, VisitStatus::Failed);
        self.frame_done(frame_id, Err(failure))
    }

    /// A frame has no more states to run.
    pub(super) fn frame_done(
        &mut self,
        frame_id: FrameId,
        result: Result<Data, Failure>,
    ) -> Result<(), Error> {
        let fr = self
            .st
            .frames
            .remove(&frame_id)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no frame {frame_id}")))?;
        let parent = fr.parent;
        match &result {
            Ok(_) => self.forget_fallen_under(frame_id),
            Err(_) => self.fall(frame_id, fr),
        }
        match parent {
            Some((parent, index)) => {
                if self.st.frames.contains_key(&parent) {
                    self.child_done(parent, frame_id, index, result)?;
                }
                Ok(())
            }
            None => {
                match result {
                    Ok(output) => {
                        let details = Details::ExecutionSucceeded {
                            output: output.clone(),
                        };
                        self.record(None, "ExecutionSucceeded", details);
                        self.cancel_everything(false);
                        self.finish(Outcome::Succeeded(output));
                    }
                    Err(failure) => {
                        let error = failure.error.map(|e| e.to_string());
                        self.finish_failed(error, failure.cause);
                    }
                }
                Ok(())
            }
        }
    }

    pub(super) fn finish_failed(&mut self, error: Option<String>, cause: Option<String>) {
        let mut details = Map::new();
        if let Some(e) = &error {
            details.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &cause {
            details.insert("cause".into(), Value::String(c.clone()));
        }
        self.record(None, "ExecutionFailed", Details::Fields(details));
        self.cancel_everything(true);
        self.finish(Outcome::Failed { error, cause });
    }

    pub(super) fn finish(&mut self, outcome: Outcome) {
        if let Some(trace) = self.st.trace.as_mut() {
            trace.close_running(self.now);
        }
        self.st.outcome = Some(outcome.clone());
        self.out.push(Command::Finish(outcome));
    }
}

/// `{"Error": ..., "Cause": ...}` as Catch passes it on.
pub(super) fn failure_object(failure: &Failure) -> Value {
    let mut out = Map::new();
    if let Some(e) = &failure.error {
        out.insert("Error".into(), Value::String(e.to_string()));
    }
    if let Some(c) = &failure.cause {
        out.insert("Cause".into(), Value::String(c.clone()));
    }
    Value::Object(out)
}
