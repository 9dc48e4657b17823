//! Wait states and timers: when a Wait ends, and what each kind of timer does when it fires.

use super::*;

impl Run<'_, '_> {
    pub(super) fn wait(
        &mut self,
        frame_id: FrameId,
        how: &WaitFor,
        effective: Data,
    ) -> Result<(), Error> {
        let due = match how {
            WaitFor::Seconds(s) => Ok(self.now.saturating_add((*s as i64).saturating_mul(1000))),
            WaitFor::Timestamp(nanos) => Ok(nanos_to_millis(*nanos)),
            WaitFor::SecondsPath(r) => {
                let v = match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                let text = r.path.text();
                match v {
                    None => Err(Failure::runtime(format!(
                        "The SecondsPath parameter does not reference an input value: {}",
                        r.text()
                    ))),
                    Some(v) => match v.as_i64() {
                        Some(n) if n < 0 => Err(Failure::runtime(format!(
                            "The SecondsPath parameter references a negative value: {text} == {}",
                            compact(&v)
                        ))),
                        Some(n) => Ok(self.now.saturating_add(n.saturating_mul(1000))),
                        None => Err(Failure::runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {text} == {}",
                            compact(&v)
                        ))),
                    },
                }
            }
            WaitFor::TimestampPath(r) => {
                let v = match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                let text = r.path.text();
                let parsed = v
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(crate::timestamp::parse_nanos);
                match (parsed, v) {
                    (Some(n), _) => Ok(nanos_to_millis(n)),
                    (None, Some(v)) => Err(Failure::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {text} == {}",
                        v.as_str().map(str::to_string).unwrap_or_else(|| compact(&v))
                    ))),
                    (None, None) => Err(Failure::runtime(format!(
                        "The TimestampPath parameter does not reference an input value: {}",
                        r.text()
                    ))),
                }
            }
            WaitFor::SecondsQuery(query) => self
                .query_number(frame_id, query, "Seconds", true, 0.0)?
                .map(|n| self.now.saturating_add((n as i64).saturating_mul(1000))),
            WaitFor::TimestampQuery(query) => self
                .query_string(frame_id, query, "Timestamp")?
                .and_then(|text| match crate::timestamp::parse_nanos(&text) {
                    Some(n) => Ok(nanos_to_millis(n)),
                    None => Err(Failure::new(
                        ErrorName::QueryEvaluationError,
                        format!("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"),
                    )),
                }),
        };
        match due {
            Err(f) => self.state_failed(frame_id, f),
            Ok(due) if due <= self.now => self.finish_wait(frame_id, effective),
            Ok(due) => {
                let timer = TimerId(self.id());
                self.st.timers.insert(timer, TimerFor::Wait(frame_id));
                self.frame_mut(frame_id)?.pending = Pending::Wait(timer);
                self.out.push(Command::StartTimer { timer, due });
                Ok(())
            }
        }
    }

    /// Starts a timer `seconds` from now.
    pub(super) fn arm(&mut self, purpose: TimerFor, seconds: u64) -> TimerId {
        let timer = TimerId(self.id());
        self.st.timers.insert(timer, purpose);
        let millis = i64::try_from(seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        self.out.push(Command::StartTimer {
            timer,
            due: self.now.saturating_add(millis),
        });
        timer
    }

    /// Cancels a timer that has not fired.
    pub(super) fn disarm(&mut self, timer: TimerId) {
        self.st.timers.remove(&timer);
        self.out.push(Command::CancelTimer(timer));
    }

    pub(super) fn finish_wait(&mut self, frame_id: FrameId, effective: Data) -> Result<(), Error> {
        let state = self.def.state(self.frame(frame_id)?.state)?;
        if state.language == QueryLanguage::Jsonata {
            return self.leave_jsonata(frame_id, None, effective);
        }
        self.exit(frame_id, effective.clone(), effective, None)
    }

    pub(super) fn timer_fired(&mut self, timer: TimerId) -> Result<(), Error> {
        let purpose = self
            .st
            .timers
            .remove(&timer)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no pending timer {}", timer.0)))?;
        match purpose {
            TimerFor::ExecutionTimeout => {
                self.st.execution_timer = None;
                self.record(
                    None,
                    "ExecutionTimedOut",
                    Details::Fields(json_map(&[
                        ("error", json!("States.Timeout")),
                        ("cause", json!("The execution timed out.")),
                    ])),
                );
                self.cancel_everything(true);
                self.finish(Outcome::TimedOut {
                    error: Some("States.Timeout".into()),
                    cause: Some("The execution timed out.".into()),
                });
                Ok(())
            }
            TimerFor::Wait(frame_id) => {
                self.frame_idle(frame_id);
                let def = self.def;
                let fr = self.frame(frame_id)?;
                let state = def.state(fr.state)?;
                let raw = fr.input.clone();
                let effective = match self.select_path(frame_id, &state.input_path, &raw)? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                self.finish_wait(frame_id, effective)
            }
            TimerFor::Retry(frame_id) => {
                self.frame_idle(frame_id);
                self.act(frame_id)
            }
            TimerFor::Resume => {
                self.queue.extend(self.st.runnable.drain(..));
                Ok(())
            }
            TimerFor::TaskTimeout(task) => self.task_timed_out(task, false),
            TimerFor::TaskHeartbeat(task) => self.task_timed_out(task, true),
        }
    }
}

pub(super) fn nanos_to_millis(nanos: i128) -> Millis {
    (nanos / 1_000_000).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}
