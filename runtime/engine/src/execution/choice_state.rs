//! Choice states: the first rule that holds, else the default.

use super::*;

impl Run<'_, '_> {
    pub(super) fn choose(
        &mut self,
        frame_id: FrameId,
        rules: &[crate::definition::ChoiceRule],
        default: Option<StateId>,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let mut chosen = None;
        for rule in rules {
            let holds = self.eval(frame_id, &effective, None, |s, _| {
                rule.condition.evaluate(&ChoiceResolver(s))
            })?;
            match holds {
                Ok(true) => {
                    chosen = Some((rule.next, rule.assign.as_ref()));
                    break;
                }
                Ok(false) => {}
                Err(e) => return self.state_failed(frame_id, Failure::runtime(e.to_string())),
            }
        }
        let (next, assign) = match chosen {
            Some(c) => c,
            None => match default {
                Some(d) => (d, state.assign.as_ref()),
                None => {
                    return self.state_failed(
                        frame_id,
                        Failure::new(ErrorName::NoChoiceMatched, "No Matches!"),
                    )
                }
            },
        };
        let assigned = match assign {
            Some(t) => match self.eval(frame_id, &effective, None, |s, rng| s.template(t, rng))? {
                Ok(v) => Some(v),
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => None,
        };
        let output =
            match self.select_path(frame_id, "OutputPath", &state.output_path, &effective)? {
                Ok(v) => v,
                Err(f) => return self.state_failed(frame_id, f),
            };
        self.note(frame_id, |s| {
            s.variables = assigned.clone();
            s.output = Some((*output).clone());
        });
        self.assign(frame_id, assigned)?;
        self.exited(frame_id, &output)?;
        self.goto(frame_id, Some(next), output)
    }
}

struct ChoiceResolver<'a, 'b>(&'a Scope<'b>);

impl choice::Resolve for ChoiceResolver<'_, '_> {
    fn resolve(&self, path: &str) -> Result<Option<Value>, choice::Error> {
        let r = jsonpath::Reference::parse(path).map_err(|e| choice::Error(e.to_string()))?;
        self.0
            .resolve(&r)
            .map_err(|f| choice::Error(f.cause.unwrap_or_default()))
    }
}
