//! The pure, deterministic Amazon States Language (ASL) interpreter at the heart of Sandstep.
//!
//! The engine never reads a clock, draws a random number or does I/O: time, entropy and
//! task results arrive as [`Event`]s, and everything it wants done comes back as
//! [`Command`]s. Replaying the recorded events rebuilds the identical state.
//!
//! ```
//! use sandstep_engine::{step, Command, Definition, Event, EventKind, ExecutionState, Outcome, Start};
//! use serde_json::json;
//!
//! let def = Definition::parse(r#"{"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Result": "hello", "End": true}}}"#)?;
//! let mut state = ExecutionState::new();
//! let start = Start {
//!     input: json!({}),
//!     execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
//!     name: "e".into(),
//!     role_arn: "arn:aws:iam::000000000000:role/r".into(),
//!     state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
//!     state_machine_name: "m".into(),
//!     redrive_count: 0,
//!     timeout_seconds: None,
//!     limits: sandstep_engine::Limits::default(),
//!     token_key: None,
//!     state_machine_version_arn: None,
//!     state_machine_alias_arn: None,
//! };
//! let commands = step(&def, &mut state, &Event { at: 0, entropy: 1, kind: EventKind::Started(start) })?;
//! assert!(commands.contains(&Command::Finish(Outcome::Succeeded(std::sync::Arc::new(json!("hello"))))));
//! # Ok::<(), sandstep_engine::Error>(())
//! ```
#![deny(missing_docs)]

pub mod activity;
pub mod choice;
pub mod command;
pub mod definition;
pub mod error;
pub mod event;
pub mod execution;
#[cfg(test)]
mod fuzz_regressions;
pub mod history;
pub mod intrinsics;
pub mod jsonata;
pub mod jsonpath;
pub mod limits;
pub mod rng;
pub mod scope;
pub mod selector;
pub mod simulate;
pub mod test_state;
pub mod timestamp;
pub mod trace;
pub mod tree;
pub mod validate;

pub use activity::{activity_arn, ActivityArn};
pub use command::{Command, Outcome, TaskRequest};
pub use definition::Definition;
pub use error::{Error, ErrorName, Failure};
pub use event::{Event, EventKind, Millis, Start, TaskId, TaskUsage, TimerId};
pub use execution::{replay, step, ExecutionState};
pub use history::{Details, HistoryEvent};
pub use limits::Limits;
pub use trace::{Stages, Trace, Visit, VisitStatus};
