//! Data-flow tracing: what every state visit did to its data, stage by stage.
//!
//! AWS shows these stages (`inspectionData`) only for one state run through `TestState`.
//! Here any past execution can show them for every state, because the engine is
//! deterministic: replaying the stored events with tracing switched on recomputes each
//! intermediate value exactly, so nothing extra is stored while executions run.

use crate::event::Millis;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The visits of one execution, keyed by the id of the event that entered the state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trace {
    visits: BTreeMap<u64, Visit>,
}

impl Trace {
    /// The visits in the order their states were entered.
    pub fn visits(&self) -> impl Iterator<Item = &Visit> {
        self.visits.values()
    }

    pub(crate) fn open(&mut self, visit: Visit) {
        self.visits.insert(visit.entered_event_id, visit);
    }

    pub(crate) fn get_mut(&mut self, entered_event_id: u64) -> Option<&mut Visit> {
        self.visits.get_mut(&entered_event_id)
    }

    /// Ends every visit still running: the execution finished around them.
    pub(crate) fn close_running(&mut self, at: Millis) {
        for visit in self.visits.values_mut() {
            if visit.status == VisitStatus::Running {
                visit.status = VisitStatus::Cancelled;
                visit.exited_at = Some(at);
            }
        }
    }
}

/// What happened to a state visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum VisitStatus {
    /// Entered, not left yet.
    Running,
    /// Left normally.
    Succeeded,
    /// Raised an error that a Catch handled.
    Caught,
    /// Raised an error that ended its branch or the execution.
    Failed,
    /// Ended from outside: a sibling branch failed, the execution stopped or timed out.
    Cancelled,
}

/// One entry into one state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    /// The state's name.
    pub state: String,
    /// Its type (`Pass`, `Task`, ...).
    pub kind: &'static str,
    /// `JSONPath` or `JSONata`: which stages it has and what they are called.
    pub query_language: &'static str,
    /// Where it ran: `""` at the top level, `P[1]` in branch 1 of Parallel `P`, `M[3]` in
    /// iteration 3 of Map `M`, nested as `P[0]/M[2]`.
    pub scope: String,
    /// The `...StateEntered` event.
    pub entered_event_id: u64,
    /// The `...StateExited` event, once left normally or through a Catch.
    pub exited_event_id: Option<u64>,
    /// When it was entered.
    pub entered_at: Millis,
    /// When it ended, however it ended.
    pub exited_at: Option<Millis>,
    /// What happened.
    pub status: VisitStatus,
    /// How often a Retry ran it again within this visit.
    pub retries: u32,
    /// Its data at each stage.
    pub stages: Stages,
}

/// A state's data at each stage of the input/output pipeline; a stage that does not
/// apply (no Parameters, a Choice has no result) or was not reached is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stages {
    /// The state's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// After `InputPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_input_path: Option<Value>,
    /// After `Parameters`: the task's input or the branches' input (after InputPath when
    /// there are no `Parameters`), a Pass state's `Parameters` result, or a Map's
    /// `ItemSelector` applied to every item (the iterations' inputs, as an array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_parameters: Option<Value>,
    /// The raw result: a task's output, a Pass `Result`, the branches' outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// After `ResultSelector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_selector: Option<Value>,
    /// After `ResultPath` (or a Catch's `ResultPath`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_result_path: Option<Value>,
    /// The state's output, after `OutputPath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The error the state raised (`{"Error": ..., "Cause": ...}`), the last one if retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The variables its `Assign` (or its Catch's) set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Value>,
}
