//! Choice states: the first rule that holds, else the default.

use super::query_flow::Then;
use super::*;
use crate::definition::{ChoiceRule, Test};
use crate::scope::expected_type;

impl Run<'_, '_> {
    pub(super) fn choose(
        &mut self,
        frame_id: FrameId,
        rules: &[ChoiceRule],
        default: Option<StateId>,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let mut chosen = None;
        for (i, rule) in rules.iter().enumerate() {
            let holds = self.eval(frame_id, &effective, None, |s, rng| match &rule.condition {
                Test::Rule(condition) => condition
                    .evaluate(&ChoiceResolver(s))
                    .map_err(|e| Failure::runtime(e.to_string())),
                Test::Query(query) => {
                    let field = format!("Choices[{i}]/Condition");
                    match s.query(query, &field, rng)? {
                        Value::Bool(b) => Ok(b),
                        other => Err(expected_type(query, &field, "boolean", &other)),
                    }
                }
            })?;
            match holds {
                Ok(true) => {
                    chosen = Some((rule.next, rule.assign.as_ref(), rule.output.as_ref()));
                    break;
                }
                Ok(false) => {}
                Err(f) => return self.state_failed(frame_id, f),
            }
        }
        let (next, assign, output) = match chosen {
            Some(c) => c,
            None => match default {
                Some(d) => (d, state.assign.as_ref(), state.output.as_ref()),
                None => {
                    return self.state_failed(
                        frame_id,
                        Failure::new(ErrorName::NoChoiceMatched, "No Matches!"),
                    )
                }
            },
        };
        if state.language == QueryLanguage::Jsonata {
            let states = StatesView::default();
            return match self.query_output(frame_id, output, assign, states, effective)? {
                Ok((output, assigned)) => self.leave(frame_id, output, assigned, Then::To(next)),
                Err(f) => self.state_failed(frame_id, f),
            };
        }
        let assigned = match assign {
            Some(t) => match self.eval(frame_id, &effective, None, |s, rng| s.template(t, rng))? {
                Ok(v) => Some(v),
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => None,
        };
        let output = match self.select_path(frame_id, &state.output_path, &effective)? {
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
