//! Running a component of the `task` world: `run(input, context)`.

use super::invoke::{self, Guarded};
use super::limiter::Limiter;
use super::outcome::Ending;
use super::watch::Watch;
use super::Ran;
use crate::host::{Caller, Context, HostState, Logs, TaskPre};
use crate::store::modules::ModuleVersion;
use crate::store::Store;
use std::sync::Arc;
use wasmtime::Engine;

impl Guarded for HostState {
    fn watch(&mut self) -> &mut Watch {
        &mut self.watch
    }

    fn limiter(&mut self) -> &mut Limiter {
        &mut self.limiter
    }
}

/// Everything one component invocation needs.
pub(crate) struct Call<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) pre: &'a TaskPre<HostState>,
    pub(crate) caller: Caller,
    /// The module version, with its grants.
    pub(crate) module: Arc<ModuleVersion>,
    pub(crate) store: Store,
    pub(crate) answers: Option<Arc<dyn crate::host::callback::TokenAnswers>>,
    pub(crate) outbound: Option<crate::outbound::Outbound>,
    pub(crate) watch: Watch,
    pub(crate) limiter: Limiter,
    pub(crate) logs: Logs,
    pub(crate) context: Context,
    pub(crate) fuel: u64,
}

pub(crate) fn run(call: Call<'_>, input: &str) -> Ran {
    let state = HostState {
        caller: call.caller,
        module: call.module,
        store: call.store,
        answers: call.answers,
        outbound: call.outbound,
        watch: call.watch,
        limiter: call.limiter,
        logs: call.logs,
    };
    let mut store = wasmtime::Store::new(call.engine, state);
    let result = invoke::arm(&mut store, call.fuel)
        .and_then(|()| call.pre.instantiate(&mut store))
        .and_then(|task| task.call_run(&mut store, input, &call.context));
    let fuel_used = invoke::fuel_used(&mut store, call.fuel);
    let state = store.into_data();
    let ending = match result {
        Ok(Ok(output)) => Ending::Returned(output),
        Ok(Err(e)) => Ending::Raised {
            name: e.name,
            cause: e.cause,
        },
        Err(e) => invoke::failure(&e, &state.watch, state.limiter.refused),
    };
    Ran {
        ending,
        fuel_used,
        logs: state.logs,
        stderr: String::new(),
    }
}
