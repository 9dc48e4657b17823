//! The host interfaces of `host-api/wit` (`sandstep:host@0.1.0`), implemented over the
//! store for one invocation of one module version.
//!
//! Every call runs inside the invoking tenant (every store key starts with it) and checks
//! the grants resolved when the task was prepared, on its first line. Host functions
//! answer at two levels: the outer `wasmtime::Result` is a trap (a host fault, never used
//! for anything the guest did), the inner `Result` an answer the guest handles, such as
//! `access-denied("kv:secrets read")`.

mod blob;
pub mod callback;
mod heartbeat;
mod http;
mod kv;
mod log;
mod queue;
mod topic;

use crate::clock::now as now_millis;
use crate::grants::{Access, Resource};
use crate::sandbox::limiter::Limiter;
use crate::sandbox::outcome::LogLine;
use crate::sandbox::watch::Watch;
use crate::store::modules::ModuleVersion;
use crate::store::{self, Store, TenantId};
use std::sync::Arc;

/// The generated bindings of `host-api/wit`, documented there.
#[allow(missing_docs, missing_debug_implementations)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../host-api/wit",
        world: "task",
        imports: { default: trappable },
        additional_derives: [PartialEq],
    });
}

pub(crate) use bindings::sandstep;
pub(crate) use bindings::sandstep::host::types::{Context, HostError};
pub(crate) use bindings::{Task, TaskPre};

/// Which invocation a host call serves: for logs and traces.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant: TenantId,
    pub(crate) execution_arn: String,
    pub(crate) state_name: String,
    pub(crate) module: String,
}

/// The per-invocation state behind the host interfaces.
pub(crate) struct HostState {
    pub(crate) caller: Caller,
    /// The module version running, with the grants resolved when it was prepared.
    pub(crate) module: Arc<ModuleVersion>,
    pub(crate) store: Store,
    pub(crate) watch: Watch,
    pub(crate) limiter: Limiter,
    pub(crate) logs: Logs,
    /// Where answers to task tokens go; `None` where nothing takes them (`sandstep run`).
    pub(crate) answers: Option<Arc<dyn callback::TokenAnswers>>,
    /// The outbound HTTP client; `None` where there is none (`sandstep run`).
    pub(crate) outbound: Option<crate::outbound::Outbound>,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl HostState {
    /// `Some(access-denied)` unless the grants allow `access` to resource `name`.
    fn denied(&self, kind: Resource, name: &str, access: Access) -> Option<HostError> {
        if self.module.grants.allows(kind, name, access) {
            return None;
        }
        let what = match access {
            Access::Read => "read",
            Access::Write => "write",
            Access::ReadWrite => "read and write",
        };
        tracing::debug!(
            tenant = %self.caller.tenant,
            execution = %self.caller.execution_arn,
            module = %self.caller.module,
            "host call refused: {}:{name} {what}",
            kind.as_str()
        );
        Some(HostError::AccessDenied(format!(
            "{}:{name} {what}",
            kind.as_str()
        )))
    }
}

/// A store failure as the guest sees it.
fn unavailable(e: store::Error) -> HostError {
    match e {
        store::Error::ConditionFailed(why) => HostError::ConditionFailed(why),
        store::Error::Backend(why) | store::Error::Unavailable(why) => HostError::Unavailable(why),
        store::Error::Corrupt(why) => {
            HostError::Unavailable(format!("stored data is corrupt: {why}"))
        }
        store::Error::Invalid(why) => HostError::InvalidInput(why),
        e @ (store::Error::TooLarge(_) | store::Error::QuotaExceeded(_)) => {
            HostError::LimitExceeded(e.to_string())
        }
    }
}

/// `Err(invalid-input)` when `text` is longer than `limit` bytes or empty.
fn check_len(what: &str, text: &str, limit: usize) -> Result<(), HostError> {
    if text.is_empty() {
        return Err(HostError::InvalidInput(format!("{what} is empty")));
    }
    if text.len() > limit {
        return Err(HostError::InvalidInput(format!(
            "{what} is {} bytes; the limit is {limit}",
            text.len()
        )));
    }
    Ok(())
}

/// `Err(invalid-input)` when a listing asks for more than [`MAX_LIST`] entries.
fn check_limit(limit: u32) -> Result<usize, HostError> {
    let n = usize::try_from(limit).unwrap_or(usize::MAX);
    if n > MAX_LIST {
        return Err(HostError::InvalidInput(format!(
            "limit {limit} is above the maximum of {MAX_LIST}"
        )));
    }
    Ok(n)
}

/// `Err(invalid-input)` when a key prefix is longer than a key may be.
fn check_prefix(prefix: &str) -> Result<(), HostError> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(HostError::InvalidInput(format!(
            "the prefix is {} bytes; the limit is {MAX_KEY_BYTES}",
            prefix.len()
        )));
    }
    Ok(())
}

/// The most entries a query or listing returns.
pub const MAX_LIST: usize = 1000;
/// The longest key (kv, blob), in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The log lines of one invocation, bounded.
#[derive(Debug, Default)]
pub(crate) struct Logs {
    pub(crate) lines: Vec<LogLine>,
    pub(crate) dropped: u64,
    pub(crate) max_lines: usize,
    pub(crate) max_line_bytes: usize,
}

impl sandstep::host::types::Host for HostState {}

/// Adds every host interface to a linker.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<HostState>,
) -> wasmtime::Result<()> {
    Task::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)
}

/// The interfaces the host provides, as components import them.
pub const INTERFACES: [&str; 9] = [
    "sandstep:host/types@0.1.0",
    "sandstep:host/kv@0.1.0",
    "sandstep:host/blob@0.1.0",
    "sandstep:host/queue@0.1.0",
    "sandstep:host/topic@0.1.0",
    "sandstep:host/log@0.1.0",
    "sandstep:host/heartbeat@0.1.0",
    "sandstep:host/callback@0.1.0",
    "sandstep:host/http@0.1.0",
];

#[cfg(test)]
mod tests;
