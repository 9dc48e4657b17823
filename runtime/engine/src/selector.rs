//! A Distributed Map's `ItemSelector` applied outside a step, to the items an
//! `ItemReader` brings: the runtime reads them, a batch at a time, long after the Map state
//! started. Everything else the selector may read (the Map state's input, the context
//! object, the variables, the time) was fixed when the Map Run started and travels with
//! it (the Map Run task's `selector`), so each item's input is exactly what the engine
//! would have made of it.

use crate::definition::Template;
use crate::error::{Error, Failure};
use crate::event::Millis;
use crate::rng::Rng;
use crate::scope::{ContextView, PathWork, Scope, StatesView, Variables};
use serde_json::{json, Map, Value};
use std::cell::OnceCell;

/// An ItemSelector ready to apply.
#[derive(Debug, Clone)]
pub struct Selector {
    template: Template,
    input: Value,
    context: Map<String, Value>,
    variables: Map<String, Value>,
    now: Millis,
}

impl Selector {
    /// Compiles the selector the Map Run task carries (`{"template", "jsonata", "input",
    /// "context", "variables", "now"}`).
    ///
    /// # Errors
    /// [`Error::Definition`] when the template does not compile (it did when the
    /// definition was created, so only a changed engine makes this happen).
    pub fn from_spec(spec: &Value) -> Result<Selector, Error> {
        let raw = spec.get("template").cloned().unwrap_or(Value::Null);
        let template = match spec.get("jsonata").and_then(Value::as_bool) {
            Some(true) => crate::definition::jsonata_template(&raw, "ItemSelector", "")?,
            _ => crate::definition::template(&raw, "/ItemSelector")?,
        };
        let object = |name: &str| {
            spec.get(name)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Ok(Selector {
            template,
            input: spec.get("input").cloned().unwrap_or(Value::Null),
            context: object("context"),
            variables: object("variables"),
            now: spec.get("now").and_then(Value::as_i64).unwrap_or_default(),
        })
    }

    /// The input of the child for item `index`.
    ///
    /// # Errors
    /// The failure the selector raised (a path that matches nothing, a JSONata error).
    pub fn select(&self, index: usize, item: &Value) -> Result<Value, Failure> {
        let mut context = self.context.clone();
        context.insert(
            "Map".into(),
            json!({"Item": {"Index": index, "Value": item}}),
        );
        let context = OnceCell::from(Value::Object(context));
        let work = PathWork::new(None);
        let start = crate::event::Start::placeholder();
        let scope = Scope {
            input: &self.input,
            vars: &Given(&self.variables),
            // Never read: the context value is given whole.
            context: ContextView {
                start: &start,
                input: &Value::Null,
                started_at: 0,
                redrives: (0, None),
                state_name: "",
                entered_at: 0,
                retry_count: None,
                map_item: None,
                task_token: None,
            },
            context_value: &context,
            work: &work,
            states: StatesView::default(),
            now: self.now,
        };
        let seed = u64::try_from(index).unwrap_or(u64::MAX) ^ self.now as u64;
        scope.template(&self.template, &mut Rng::new(seed))
    }
}

struct Given<'a>(&'a Map<String, Value>);

impl Variables for Given<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}
