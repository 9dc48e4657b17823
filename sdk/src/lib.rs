//! Write Sandstep Task states in Rust.
//!
//! ```no_run
//! // modules/examples/greet/src/lib.rs — build: modules/build.sh → modules/dist/greet.wasm
//! use sandstep_sdk::{json, kv, log, Context, TaskError, Value};
//!
//! fn greet(input: Value, ctx: &Context) -> Result<Value, TaskError> {
//!     let name = input["name"].as_str().ok_or_else(|| TaskError::new("InvalidInput", "name is required"))?;
//!     log::info(&format!("greeting {name} in {}", ctx.state_name));
//!     kv::put("greetings", name, &json!({ "attempt": ctx.attempt }))?; // HostError → TaskError
//!     Ok(json!({ "greeting": format!("Hello, {name}!") }))
//! }
//!
//! sandstep_sdk::task!(greet);
//! ```
//!
//! A module is a `cdylib` crate with one handler, a
//! `fn(Value, &Context) -> Result<Value, TaskError>`, named in [`task!`]. `modules/build.sh`
//! compiles it for `wasm32-unknown-unknown` and turns it into a component of the `task`
//! world of `host-api/wit/host.wit`, which Sandstep runs for every Task state whose
//! resource names the module:
//!
//! ```toml
//! [package]
//! name = "greet"
//! edition = "2021"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! sandstep-sdk = { path = "../../../sdk" }
//! ```
//!
//! # What the runtime gives a task
//!
//! - The effective input of the Task state, as a [`Value`]; what the handler returns is the
//!   task's result. A [`TaskError`] fails the task with its name, which the state's `Retry`
//!   and `Catch` match, like a Lambda function's error type.
//! - A [`Context`]: the execution's ARN, the state's name, the attempt number, the task
//!   token and the deadline.
//! - Host services, each checked against what the tenant granted the module: [`kv`]
//!   (DynamoDB-like items), [`blob`] (S3-like objects), [`queue`] (SQS-like), [`topic`]
//!   (SNS-like), [`log`], [`heartbeat`] and [`callback`] (answers to other tasks'
//!   tokens). Their failures are [`HostError`] (or [`callback::CallbackError`]) answers,
//!   never traps; `?` turns them into a [`TaskError`] of the same name (`AccessDenied`,
//!   ...).
//!
//! A component imports only the host interfaces it calls (plus `log`, which the panic
//! hook uses): a module that calls no host service needs no grant.
//!
//! # Panics and limits
//!
//! [`task!`] installs a panic hook that writes the panic message to the host log at error
//! level, then the module traps; the runtime fails the task with `States.TaskFailed`.
//! Running out of fuel or time fails it with `States.Timeout`, and a result larger than
//! the payload limit with `States.DataLimitExceeded`.
//!
//! # Testing handlers
//!
//! The crate also builds for the host, so a handler that calls no host service can be unit
//! tested with `cargo test` and a [`Context::default()`]: [`log`] writes to stderr there,
//! and other host calls panic.

use std::fmt;

pub mod blob;
pub mod callback;
pub mod heartbeat;
pub mod http;
pub mod kv;
pub mod log;
pub mod queue;
pub mod topic;

pub use serde_json::{self, json, Value};

/// The WIT bindings, generated from `host-api/wit` like the host's. Not a public API.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // `blob::put` as the WIT has it: generated code
pub mod bindings {
    wit_bindgen::generate!({
        path: "../host-api/wit",
        world: "task",
        pub_export_macro: true,
        export_macro_name: "__sandstep_export",
        default_bindings_module: "sandstep_sdk::bindings",
        runtime_path: "::sandstep_sdk::__private::wit_bindgen::rt",
    });
}

// Lets the generated code name this crate as `::sandstep_sdk` from inside it too.
extern crate self as sandstep_sdk;

/// What the runtime tells a task about the invocation it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The Task state's name.
    pub state_name: String,
    /// 0 for the first attempt, 1, 2, ... for retries by the state's `Retry`.
    pub attempt: u32,
    /// The task token, for `.waitForTaskToken` resources.
    pub task_token: Option<String>,
    /// When the task's deadline passes, in milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

impl From<bindings::sandstep::host::types::Context> for Context {
    fn from(c: bindings::sandstep::host::types::Context) -> Self {
        Context {
            execution_arn: c.execution_arn,
            state_name: c.state_name,
            attempt: c.attempt,
            task_token: c.task_token,
            deadline_ms: c.deadline_ms,
        }
    }
}

/// A named failure of the task: `Retry` and `Catch` match `name` as `ErrorEquals`.
///
/// Names starting with `States.` are reserved for the runtime, which refuses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The error name, e.g. `PaymentDeclined`.
    pub name: String,
    /// A human-readable cause.
    pub cause: String,
}

impl TaskError {
    /// A failure named `name` (what `ErrorEquals` matches) with a human-readable `cause`.
    pub fn new(name: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            name: name.into(),
            cause: cause.into(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.cause)
    }
}

impl std::error::Error for TaskError {}

/// Why a host call did not do what was asked. An answer the module may handle; `?` in a
/// handler turns it into a [`TaskError`] named after the variant (`AccessDenied`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The module version was not granted this access; carries what was refused.
    AccessDenied(String),
    /// A conditional write found a different version than expected.
    ConditionFailed(String),
    /// The arguments were refused (bad name, oversized value, ...).
    InvalidInput(String),
    /// A per-tenant or per-call limit was reached.
    LimitExceeded(String),
    /// The host failed; the call may succeed if retried.
    Unavailable(String),
    /// The host returned an item that is not valid JSON.
    InvalidJson(String),
}

impl HostError {
    /// The error's name, as a [`TaskError`] made from it carries: `AccessDenied`, ...
    pub fn name(&self) -> &'static str {
        match self {
            HostError::AccessDenied(_) => "AccessDenied",
            HostError::ConditionFailed(_) => "ConditionFailed",
            HostError::InvalidInput(_) => "InvalidInput",
            HostError::LimitExceeded(_) => "LimitExceeded",
            HostError::Unavailable(_) => "Unavailable",
            HostError::InvalidJson(_) => "InvalidJson",
        }
    }

    /// What the host said.
    pub fn message(&self) -> &str {
        match self {
            HostError::AccessDenied(m)
            | HostError::ConditionFailed(m)
            | HostError::InvalidInput(m)
            | HostError::LimitExceeded(m)
            | HostError::Unavailable(m)
            | HostError::InvalidJson(m) => m,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl std::error::Error for HostError {}

impl From<bindings::sandstep::host::types::HostError> for HostError {
    fn from(e: bindings::sandstep::host::types::HostError) -> Self {
        use bindings::sandstep::host::types::HostError as Wit;
        match e {
            Wit::AccessDenied(m) => HostError::AccessDenied(m),
            Wit::ConditionFailed(m) => HostError::ConditionFailed(m),
            Wit::InvalidInput(m) => HostError::InvalidInput(m),
            Wit::LimitExceeded(m) => HostError::LimitExceeded(m),
            Wit::Unavailable(m) => HostError::Unavailable(m),
        }
    }
}

impl From<HostError> for TaskError {
    fn from(e: HostError) -> Self {
        TaskError::new(e.name(), e.message())
    }
}

/// Parses JSON text the host returned (an item, a message body).
fn parse_json(text: &str) -> Result<Value, HostError> {
    serde_json::from_str(text).map_err(|e| HostError::InvalidJson(e.to_string()))
}

/// Turns `handler` into the component's `run` export.
///
/// `handler` is any expression of a type implementing
/// `Fn(Value, &Context) -> Result<Value, TaskError>`: a function's path or a closure. Use
/// it once, at the top level of the module crate:
///
/// ```no_run
/// fn echo(input: sandstep_sdk::Value, _: &sandstep_sdk::Context)
///     -> Result<sandstep_sdk::Value, sandstep_sdk::TaskError> {
///     Ok(input)
/// }
/// sandstep_sdk::task!(echo);
/// ```
///
/// The generated `run` parses the input JSON (a task whose input is not JSON fails with
/// `InvalidInput`), calls the handler, and serialises its output. Before the first call it
/// installs a panic hook that writes the panic message to the host log at error level.
#[macro_export]
macro_rules! task {
    ($handler:expr) => {
        #[doc(hidden)]
        struct __SandstepTask;

        impl $crate::bindings::Guest for __SandstepTask {
            fn run(
                input: ::std::string::String,
                context: $crate::bindings::sandstep::host::types::Context,
            ) -> ::std::result::Result<
                ::std::string::String,
                $crate::bindings::sandstep::host::types::TaskError,
            > {
                $crate::__private::run(input, context, $handler)
            }
        }

        $crate::bindings::__sandstep_export!(__SandstepTask with_types_in $crate::bindings);
    };
}

/// Support for [`task!`]'s expansion. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    use crate::bindings::sandstep::host::types as wit;
    use crate::{Context, TaskError, Value};

    /// The body of the exported `run`.
    pub fn run<F>(
        input: String,
        context: wit::Context,
        handler: F,
    ) -> Result<String, wit::TaskError>
    where
        F: Fn(Value, &Context) -> Result<Value, TaskError>,
    {
        install_panic_hook();
        let context = Context::from(context);
        let result = serde_json::from_str::<Value>(&input)
            .map_err(|e| TaskError::new("InvalidInput", format!("the task input is not JSON: {e}")))
            .and_then(|input| handler(input, &context));
        match result {
            Ok(output) => Ok(output.to_string()),
            Err(e) => Err(wit::TaskError {
                name: e.name,
                cause: e.cause,
            }),
        }
    }

    /// On `wasm32-unknown-unknown` a panic is a bare `unreachable` trap: say why first.
    /// (Elsewhere, in unit tests, the default hook already says it.)
    fn install_panic_hook() {
        #[cfg(target_arch = "wasm32")]
        {
            static HOOK: std::sync::Once = std::sync::Once::new();
            HOOK.call_once(|| {
                std::panic::set_hook(Box::new(|info| {
                    crate::log::error(&format!("task {info}"));
                }));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bindings::sandstep::host::types as wit;
    use super::*;

    fn context() -> wit::Context {
        wit::Context {
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
            state_name: "Echo".into(),
            attempt: 2,
            task_token: None,
            deadline_ms: 1,
        }
    }

    #[test]
    fn run_parses_input_calls_the_handler_and_serialises_its_output() {
        let out = __private::run(r#"{"a":[1,2]}"#.into(), context(), |input, ctx| {
            assert_eq!(ctx.state_name, "Echo");
            assert_eq!(ctx.attempt, 2);
            Ok(json!({ "got": input }))
        });
        assert_eq!(out.unwrap(), r#"{"got":{"a":[1,2]}}"#);
    }

    #[test]
    fn run_passes_task_errors_through_by_name() {
        let out = __private::run("1".into(), context(), |_, _| {
            Err(TaskError::new("PaymentDeclined", "no"))
        });
        let err = out.unwrap_err();
        assert_eq!(
            (err.name.as_str(), err.cause.as_str()),
            ("PaymentDeclined", "no")
        );
    }

    #[test]
    fn input_that_is_not_json_fails_with_invalid_input() {
        let out = __private::run("{nope".into(), context(), |input, _| Ok(input));
        assert_eq!(out.unwrap_err().name, "InvalidInput");
    }

    #[test]
    fn host_errors_become_task_errors_of_the_same_name() {
        let denied = HostError::from(wit::HostError::AccessDenied("kv table secrets".into()));
        assert_eq!(denied, HostError::AccessDenied("kv table secrets".into()));
        assert_eq!(
            TaskError::from(denied),
            TaskError::new("AccessDenied", "kv table secrets")
        );
        let failed: TaskError = HostError::ConditionFailed("version 3".into()).into();
        assert_eq!(failed.to_string(), "ConditionFailed: version 3");
    }

    #[test]
    fn a_handler_can_use_question_mark_on_host_errors() {
        fn handler(_: Value, _: &Context) -> Result<Value, TaskError> {
            Err(HostError::LimitExceeded("too big".into()))?
        }
        assert_eq!(
            handler(Value::Null, &Context::default()).unwrap_err().name,
            "LimitExceeded"
        );
    }
}
