//! The data-flow pipeline of a state: InputPath and Parameters on the way in;
//! ResultSelector, ResultPath, OutputPath and Assign on the way out; the size and depth
//! limits on every value it produces. The seam a second query language plugs into.

use super::*;

impl Run<'_, '_> {
    /// Checks a state's data against the size and depth limits and meters its size as
    /// work; `Some` is the failure of a breach.
    pub(super) fn over_limits(&mut self, value: &Value, state: &str) -> Option<Failure> {
        match limits::check(value) {
            Ok(bound) => {
                let units = bound / limits::BYTES_PER_UNIT;
                self.work = self
                    .work
                    .saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
                None
            }
            Err(breach) => Some(over_data_limit(state, breach)),
        }
    }

    pub(super) fn text(
        &mut self,
        frame_id: FrameId,
        raw: &Value,
        text: Option<&Text>,
        field: &str,
    ) -> Result<Result<Option<String>, Failure>, Error> {
        Ok(match text {
            None => Ok(None),
            Some(Text::Fixed(s)) => Ok(Some(s.clone())),
            Some(Text::Dynamic(expr)) => {
                match self.eval(frame_id, raw, None, |s, rng| s.expr(expr, field, rng))? {
                    Ok(Value::String(s)) => Ok(Some(s)),
                    Ok(other) => Ok(Some(compact(&other))),
                    Err(mut f) => {
                        if let crate::definition::Expr::Path(r) = expr {
                            f = self.eval(frame_id, raw, None, |s, _| s.missing(r, field))?;
                        }
                        Err(f)
                    }
                }
            }
            Some(Text::Query(query)) => self
                .query_string(frame_id, query, field.trim_end_matches("Path"))?
                .map(Some),
        })
    }

    /// `InputPath` / `OutputPath`: the whole value, `{}` for null, or the selected part; a
    /// path that selects nothing fails the state with AWS's cause.
    pub(super) fn select_path(
        &mut self,
        frame_id: FrameId,
        field: &PathField,
        value: &Data,
    ) -> Result<Result<Data, Failure>, Error> {
        Ok(match field {
            PathField::Whole => Ok(value.clone()),
            PathField::Discard => Ok(Arc::new(Value::Object(Map::new()))),
            PathField::Path(r) => self.eval(frame_id, value, None, |s, _| {
                s.resolve(r)?.map(Arc::new).ok_or_else(|| s.invalid_path(r))
            })?,
        })
    }

    /// The common output pipeline of Pass, Task, Parallel and Map: ResultSelector,
    /// Assign, ResultPath, OutputPath.
    pub(super) fn complete(&mut self, frame_id: FrameId, result: Data) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let raw = fr.input.clone();
        self.note(frame_id, |s| s.result = Some((*result).clone()));
        if let Some(failure) = self.over_limits(&result, &state.name) {
            return self.state_failed(frame_id, failure);
        }
        if state.language == crate::definition::QueryLanguage::Jsonata {
            return self.leave_jsonata(frame_id, Some(result.clone()), result);
        }
        let selected = match &state.result_selector {
            Some(t) => match self.eval(frame_id, &result, None, |s, rng| s.template(t, rng))? {
                Ok(v) => {
                    self.note(frame_id, |s| s.after_result_selector = Some(v.clone()));
                    Arc::new(v)
                }
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => result,
        };
        self.exit(frame_id, raw, selected, Some(()))
    }

    /// Applies Assign, (ResultPath when `with_result_path`), OutputPath, then leaves the state.
    pub(super) fn exit(
        &mut self,
        frame_id: FrameId,
        base: Data,
        result: Data,
        with_result_path: Option<()>,
    ) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let assigned = match &state.assign {
            Some(t) => match self.eval(frame_id, &result, None, |s, rng| s.template(t, rng))? {
                Ok(v) => Some(v),
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => None,
        };
        if let Some(failure) = assigned
            .as_ref()
            .and_then(|v| self.over_limits(v, &state.name))
        {
            return self.state_failed(frame_id, failure);
        }
        let combined = match with_result_path {
            Some(()) => match apply_result_path(&state.result_path, base, result) {
                Ok(v) => {
                    self.note(frame_id, |s| s.after_result_path = Some((*v).clone()));
                    v
                }
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => result,
        };
        let output = match self.select_path(frame_id, &state.output_path, &combined)? {
            Ok(v) => v,
            Err(f) => return self.state_failed(frame_id, f),
        };
        if let Some(failure) = self.over_limits(&output, &state.name) {
            return self.state_failed(frame_id, failure);
        }
        self.note(frame_id, |s| {
            s.variables = assigned.clone();
            s.output = Some((*output).clone());
        });
        self.assign(frame_id, assigned)?;
        self.exited(frame_id, &output)?;
        if matches!(state.kind, Kind::Succeed) {
            return self.frame_done(frame_id, Ok(output));
        }
        self.goto(frame_id, state.next, output)
    }

    pub(super) fn assign(
        &mut self,
        frame_id: FrameId,
        assigned: Option<Value>,
    ) -> Result<(), Error> {
        if let Some(Value::Object(vars)) = assigned {
            let fr = self.frame_mut(frame_id)?;
            for (name, value) in vars {
                fr.vars.insert(name, value);
            }
        }
        Ok(())
    }

    pub(super) fn exited(&mut self, frame_id: FrameId, output: &Data) -> Result<(), Error> {
        let state = self.def.state(self.frame(frame_id)?.state)?;
        let details = Details::StateExited {
            name: state.name.clone(),
            output: output.clone(),
        };
        let id = self.record(Some(frame_id), state.kind.exited_event(), details);
        let now = self.now;
        self.visit(frame_id, |v| {
            v.exited_event_id = Some(id);
            v.exited_at = Some(now);
            if v.status == VisitStatus::Running {
                v.status = VisitStatus::Succeeded;
            }
        });
        Ok(())
    }
}

pub(super) fn apply_result_path(
    path: &ResultPath,
    input: Data,
    result: Data,
) -> Result<Data, Failure> {
    match path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(input),
        ResultPath::Path(p) => {
            if !input.is_object() && !input.is_array() {
                // AWS leaves a scalar input as it is rather than failing.
                return Ok(input);
            }
            let mut input = Arc::unwrap_or_clone(input);
            match p.set(&mut input, Arc::unwrap_or_clone(result)) {
                Ok(()) => Ok(Arc::new(input)),
                Err(e) => Err(Failure::new(
                    ErrorName::ResultPathMatchFailure,
                    format!(
                        "Unable to apply ResultPath '{}' to the input: {e}",
                        p.text()
                    ),
                )),
            }
        }
    }
}

/// The failure of a state whose result or output breaks a data limit, in AWS's words
/// for the size limit.
pub(super) fn over_data_limit(state: &str, breach: Breach) -> Failure {
    let what = match breach {
        Breach::Size => "a size exceeding the maximum number of bytes service limit".to_string(),
        Breach::Depth => format!(
            "JSON nested deeper than the maximum of {} levels",
            limits::MAX_DATA_NESTING
        ),
    };
    Failure::new(
        ErrorName::DataLimitExceeded,
        format!("The state/task '{state}' returned a result with {what}."),
    )
}
