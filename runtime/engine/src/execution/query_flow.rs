//! The data flow of a JSONata state: its input is `$states.input` as it arrived (no
//! InputPath), `Arguments` shape what its work gets, and on the way out `Assign` and
//! `Output` are evaluated side by side (both see the variables from before the state)
//! with `$states.result` or `$states.errorOutput` where AWS provides them.

use super::*;
use crate::definition::Template;
use crate::jsonata::Query;
use crate::scope::expected_type;

/// Where a state goes once its output is known.
#[derive(Debug, Clone, Copy)]
pub(super) enum Then {
    /// Its own `Next`, or the end of its frame (`End`, Succeed).
    Own,
    /// A Choice rule's or a Catcher's target.
    To(StateId),
}

impl Run<'_, '_> {
    /// Performs a JSONata state's work (Fail states are handled before, as in JSONPath).
    pub(super) fn act_jsonata(&mut self, frame_id: FrameId, input: Data) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        match &state.kind {
            Kind::Pass { .. } | Kind::Succeed | Kind::Fail { .. } => {
                self.leave_jsonata(frame_id, None, input)
            }
            Kind::Choice { rules, default } => self.choose(frame_id, rules, *default, input),
            Kind::Wait(how) => self.wait(frame_id, how, input),
            Kind::Task {
                resource,
                timeout,
                heartbeat,
            } => self.schedule_task(
                frame_id,
                resource,
                timeout.as_ref(),
                heartbeat.as_ref(),
                input,
            ),
            Kind::Parallel { branches } => {
                let arguments = match &state.parameters {
                    Some(t) => {
                        match self.eval(frame_id, &input, None, |s, rng| s.template(t, rng))? {
                            Ok(v) => Arc::new(v),
                            Err(f) => return self.state_failed(frame_id, f),
                        }
                    }
                    None => input,
                };
                self.note(frame_id, |s| {
                    s.after_parameters = Some((*arguments).clone())
                });
                self.fan_out_parallel(frame_id, branches, arguments)
            }
            Kind::Map { .. } => self.fan_out_map(frame_id, input),
        }
    }

    /// The items a JSONata Map iterates over: its `Items`, else its input, which must be
    /// an array.
    pub(super) fn query_items(
        &mut self,
        frame_id: FrameId,
        items: Option<&Template>,
        input: &Data,
    ) -> Result<Result<Data, Failure>, Error> {
        let Some(template) = items else {
            return Ok(match &**input {
                Value::Array(_) => Ok(input.clone()),
                other => Err(Failure::new(
                    ErrorName::QueryEvaluationError,
                    format!(
                        "Map state input must be an array but was: {}",
                        compact(other)
                    ),
                )),
            });
        };
        let value = self.eval(frame_id, input, None, |s, rng| s.template(template, rng))?;
        Ok(value.and_then(|v| match (v, template) {
            (v @ Value::Array(_), _) => Ok(Arc::new(v)),
            (other, Template::Query { field, query }) => {
                Err(expected_type(query, field, "array", &other))
            }
            (other, _) => Err(Failure::new(
                ErrorName::QueryEvaluationError,
                format!(
                    "The field 'Items' must be an array but was: {}",
                    compact(&other)
                ),
            )),
        }))
    }

    /// A JSONata Catcher handles `failure`: its `Output` (default: the error output) and
    /// `Assign` see `$states.errorOutput`; the state's own `Assign` is not applied. An
    /// error in them fails the frame, as nothing is left to catch it.
    pub(super) fn catch_jsonata(
        &mut self,
        frame_id: FrameId,
        catcher: &crate::definition::Catcher,
        failure: Failure,
        error_output: Data,
    ) -> Result<(), Error> {
        let states = StatesView {
            result: None,
            error_output: Some(&error_output),
        };
        let outcome = self.query_output(
            frame_id,
            catcher.output.as_ref(),
            catcher.assign.as_ref(),
            states,
            error_output.clone(),
        )?;
        match outcome {
            Ok((output, assigned)) => {
                self.note_failed(frame_id, &failure, VisitStatus::Caught);
                self.move_on(frame_id, output, assigned, Then::To(catcher.next))
            }
            Err(f) => {
                let f = self.located(frame_id, f)?;
                self.note_failed(frame_id, &f, VisitStatus::Failed);
                self.frame_done(frame_id, Err(f))
            }
        }
    }

    /// Evaluates `Assign` and `Output` of a JSONata state (or of a Choice rule or a
    /// Catcher), against the state's input and `states`; `default` is the output when
    /// there is no `Output`.
    pub(super) fn query_output(
        &mut self,
        frame_id: FrameId,
        output: Option<&Template>,
        assign: Option<&Template>,
        states: StatesView<'_>,
        default: Data,
    ) -> Result<Result<(Data, Option<Value>), Failure>, Error> {
        let raw = self.frame(frame_id)?.input.clone();
        self.eval_states(frame_id, &raw, None, states, |s, rng| {
            let assigned = assign.map(|t| s.template(t, rng)).transpose()?;
            let output = match output {
                Some(t) => Arc::new(s.template(t, rng)?),
                None => default,
            };
            Ok((output, assigned))
        })
    }

    /// Leaves a JSONata state after its work: `result` is `$states.result` (none for
    /// Pass, Wait and Succeed) and `default` the output without an `Output` field.
    pub(super) fn leave_jsonata(
        &mut self,
        frame_id: FrameId,
        result: Option<Data>,
        default: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        if let Some(result) = &result {
            self.note(frame_id, |s| s.result = Some((**result).clone()));
        }
        let states = StatesView {
            result: result.as_deref(),
            error_output: None,
        };
        match self.query_output(
            frame_id,
            state.output.as_ref(),
            state.assign.as_ref(),
            states,
            default,
        )? {
            Ok((output, assigned)) => self.leave(frame_id, output, assigned, Then::Own),
            Err(f) => self.state_failed(frame_id, f),
        }
    }

    /// Records the state's exit with `output` and its `assigned` variables, then moves
    /// on; a value over the data limits fails the state instead.
    pub(super) fn leave(
        &mut self,
        frame_id: FrameId,
        output: Data,
        assigned: Option<Value>,
        then: Then,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let breach = assigned
            .as_ref()
            .and_then(|v| self.over_limits(v, &state.name))
            .or_else(|| self.over_limits(&output, &state.name));
        if let Some(failure) = breach {
            return self.state_failed(frame_id, failure);
        }
        self.move_on(frame_id, output, assigned, then)
    }

    /// Records the state's exit and moves on, with no more checks.
    pub(super) fn move_on(
        &mut self,
        frame_id: FrameId,
        output: Data,
        assigned: Option<Value>,
        then: Then,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        self.note(frame_id, |s| {
            s.variables = assigned.clone();
            s.output = Some((*output).clone());
        });
        self.assign(frame_id, assigned)?;
        self.exited(frame_id, &output)?;
        match then {
            Then::To(next) => self.goto(frame_id, Some(next), output),
            Then::Own if matches!(state.kind, Kind::Succeed) => {
                self.frame_done(frame_id, Ok(output))
            }
            Then::Own => self.goto(frame_id, state.next, output),
        }
    }

    /// Evaluates a JSONata expression that must give a number (`TimeoutSeconds`,
    /// `MaxConcurrency`, `ToleratedFailureCount`, a Wait's `Seconds`): `integer` asks for
    /// a whole number, and `minimum` bounds it from below.
    pub(super) fn query_number(
        &mut self,
        frame_id: FrameId,
        query: &Query,
        field: &str,
        integer: bool,
        minimum: f64,
    ) -> Result<Result<f64, Failure>, Error> {
        let raw = self.frame(frame_id)?.input.clone();
        let value = self.eval(frame_id, &raw, None, |s, rng| s.query(query, field, rng))?;
        Ok(value.and_then(|v| {
            let expected = if integer { "integer" } else { "number" };
            match v.as_f64() {
                Some(n) if n >= minimum && (!integer || n.fract() == 0.0) => Ok(n),
                _ => Err(expected_type(query, field, expected, &v)),
            }
        }))
    }

    /// A JSONata expression that must give a string (a Wait's `Timestamp`, Fail's
    /// `Error` and `Cause`).
    pub(super) fn query_string(
        &mut self,
        frame_id: FrameId,
        query: &Query,
        field: &str,
    ) -> Result<Result<String, Failure>, Error> {
        let raw = self.frame(frame_id)?.input.clone();
        let value = self.eval(frame_id, &raw, None, |s, rng| s.query(query, field, rng))?;
        Ok(value.and_then(|v| match v {
            Value::String(s) => Ok(s),
            other => Err(expected_type(query, field, "string", &other)),
        }))
    }
}
